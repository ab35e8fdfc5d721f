"""SARIF 2.1.0 for GitHub code scanning, from policy and safety findings."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from unified_supply_chain.policy.config import RULE_HELP
from unified_supply_chain.records import Finding, Severity
from unified_supply_chain.report.interface import Report

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_NAME = "unified-supply-chain"

_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub ranks security alerts by this number (critical >= 9.0, high >= 7.0, medium >= 4.0).
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}


def sarif_level(severity: Severity) -> str:
    """SARIF result level for a severity: error, warning or note."""
    return _LEVEL[severity]


def _uri(path: str) -> str:
    return quote(path.lstrip("/"), safe="/-._~")


def _fingerprint(finding: Finding) -> str:
    key = "\x1f".join((finding.rule, finding.path, *finding.details))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _rule(rule_id: str, worst: Severity) -> dict[str, Any]:
    text = RULE_HELP.get(rule_id, rule_id)
    return {
        "id": rule_id,
        "name": "".join(part.capitalize() for part in rule_id.split("-")),
        "shortDescription": {"text": text.split(". ")[0].rstrip(".")},
        "fullDescription": {"text": text},
        "help": {"text": text, "markdown": f"**{rule_id}**: {text}"},
        "defaultConfiguration": {"level": sarif_level(worst)},
        "properties": {
            "tags": ["security", "supply-chain", "machine-learning"],
            "security-severity": _SECURITY_SEVERITY[worst],
        },
    }


def to_sarif(findings: Iterable[Finding], tool_version: str) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run: one rule per rule id met, one result per finding.

    Locations are repo-relative file URIs; a member inside an archive ("model.pt!data.pkl") is
    reported on the archive, with the member named in the message and the properties.
    """
    items = list(findings)
    worst: dict[str, Severity] = {}
    for f in items:
        if f.rule not in worst or f.severity.rank > worst[f.rule].rank:
            worst[f.rule] = f.severity
    rule_ids = sorted(worst)
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    results: list[dict[str, Any]] = []
    for f in items:
        file_path, _, member = f.path.partition("!")
        properties: dict[str, Any] = {"severity": f.severity.value}
        if member:
            properties["member"] = member
        if f.details:
            properties["details"] = list(f.details)
        text = f.message if not member or member in f.message else f"{f.message} (in {member})"
        results.append(
            {
                "ruleId": f.rule,
                "ruleIndex": index[f.rule],
                "level": sarif_level(f.severity),
                "message": {"text": text},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {
                                "uri": _uri(file_path or "."),
                                "uriBaseId": "%SRCROOT%",
                            },
                            "region": {"startLine": 1},
                        }
                    }
                ],
                "partialFingerprints": {"uscFinding/v1": _fingerprint(f)},
                "properties": properties,
            }
        )
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": tool_version,
                        "semanticVersion": tool_version,
                        "rules": [_rule(r, worst[r]) for r in rule_ids],
                    }
                },
                "automationDetails": {"id": f"{TOOL_NAME}/"},
                "results": results,
            }
        ],
    }


class Sarif(Report[Iterable[Finding]]):
    """Findings as an indented SARIF 2.1.0 log (for code scanning)."""

    def __init__(self, tool_version: str):
        self.tool_version = tool_version

    def format(self, result: Iterable[Finding]) -> str:
        """`to_sarif` as JSON text with a trailing newline."""
        return json.dumps(to_sarif(result, self.tool_version), indent=2) + "\n"
