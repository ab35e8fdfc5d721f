"""Findings: the record, its severity scale, the one severity parser and the one JSON codec.

A finding travels through the SBOM as a `usc:finding` property; `finding_to_json` writes it
(bom/build.py, the policy) and `finding_from_json` reads it back (bom/view.py). Re-exported by
`records`, where the other stage records live.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass


class Severity(str, enum.Enum):
    """Severity of a finding, ordered from least to most severe."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Position in the order INFO < LOW < MEDIUM < HIGH < CRITICAL."""
        return list(Severity).index(self)


@dataclass(frozen=True)
class Finding:
    """A security or policy observation about one artifact or file."""

    rule: str
    """Rule id, e.g. "unsafe-serialization"."""
    severity: Severity
    """How bad it is."""
    message: str
    """One line for a human."""
    path: str
    """Repo-relative path of the file (or the member inside it, as "file.zip!member")."""
    details: tuple[str, ...] = ()
    """Extra facts, e.g. the dangerous globals named by a pickle."""


def parse_severity(text: str) -> Severity | None:
    """A severity name (any case), or None for "none"/"never"/"off"; raises ValueError otherwise.

    The one reader of severities typed by people (policy files, --fail-on, action inputs) and
    written in SBOMs (`usc:finding`).
    """
    lowered = text.strip().lower()
    if lowered in ("none", "never", "off"):
        return None
    for severity in Severity:
        if severity.value == lowered:
            return severity
    names = ", ".join(s.value for s in Severity)
    raise ValueError(f"unknown severity {text!r} (use one of {names})")


def finding_to_json(finding: Finding) -> str:
    """A finding as the JSON text of a `usc:finding` property (keys sorted, so stable)."""
    return json.dumps(
        {
            "rule": finding.rule,
            "severity": finding.severity.value,
            "message": finding.message,
            "path": finding.path,
            "details": list(finding.details),
        },
        sort_keys=True,
    )


def finding_from_json(text: str, *, default_path: str = "") -> Finding | None:
    """The finding in a `usc:finding` property value; None when it is not a JSON object.

    Lenient about content, since the SBOM may have been edited: a missing or unknown severity
    reads as HIGH (an unreadable finding must not pass as harmless), a missing rule as
    "unsafe-serialization" (the scanner is what records findings), a missing path as
    `default_path`, and `details` only when it is a list.
    """
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    try:
        severity = parse_severity(str(data.get("severity", ""))) or Severity.HIGH
    except ValueError:
        severity = Severity.HIGH
    rule = str(data.get("rule") or "unsafe-serialization")
    details = data.get("details")
    return Finding(
        rule=rule,
        severity=severity,
        message=str(data.get("message") or rule),
        path=str(data.get("path") or default_path),
        details=tuple(str(d) for d in details) if isinstance(details, list) else (),
    )


def reaches(finding: Finding, fail_on: Severity | None) -> bool:
    """True when `finding` is at least as severe as `fail_on` (never when it is None): the one
    test of whether a finding fails a run, a check or a step."""
    return fail_on is not None and finding.severity.rank >= fail_on.rank
