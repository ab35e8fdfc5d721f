"""What a Python manifest declares (`ManifestResult`), and the PEP 503 names, `pkg:pypi` purls
and PEP 508 requirements every Python manifest and lockfile reader shares.

The readers: `requirements.py` (pip requirements files) and `pyproject.py`; each returns
libraries plus one `Problem` per line or entry that could not be used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from packageurl import PackageURL
from packaging.requirements import InvalidRequirement, Requirement

from unified_supply_chain.errors import FormatError
from unified_supply_chain.records import Hash, Library, Problem
from unified_supply_chain.redact import redact_text, redact_url


@dataclass(frozen=True)
class ManifestResult:
    """What one manifest (with everything it includes) declares."""

    libraries: tuple[Library, ...]
    """Dependencies in source order, de-duplicated by purl (first occurrence wins)."""
    problems: tuple[Problem, ...] = ()
    """Lines or entries that were skipped, each with a one-line reason."""
    name: str | None = None
    """Project name the manifest states (pyproject only)."""
    version: str | None = None
    """Project version the manifest states (pyproject only; None when dynamic)."""


#: Requirement URL schemes of version control systems (a `vcs_url` rather than a download).
VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")


def normalize_name(name: str) -> str:
    """PEP 503 normalised project name: lower-case, runs of `-`, `_`, `.` become one `-`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pypi_purl(name: str, version: str | None, qualifiers: Mapping[str, str] | None = None) -> str:
    """`pkg:pypi/<normalised name>@<version>` with optional qualifiers."""
    return str(
        PackageURL(
            type="pypi",
            name=normalize_name(name),
            version=version,
            qualifiers=dict(qualifiers) if qualifiers else None,
        ).to_string()
    )


def _pinned_version(req: Requirement) -> str | None:
    specs = list(req.specifier)
    if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        return specs[0].version
    return None


def library_from_requirement(
    req: Requirement, source: str, scope: str, hashes: tuple[Hash, ...] = ()
) -> Library:
    """A library for one PEP 508 requirement: a pinned version, or a URL as a purl qualifier."""
    qualifiers: dict[str, str] = {}
    if req.url:
        url = redact_url(req.url)
        key = "vcs_url" if url.startswith(VCS_PREFIXES) else "download_url"
        qualifiers[key] = url
    version = None if req.url else _pinned_version(req)
    return Library(
        name=req.name,
        version=version,
        purl=pypi_purl(req.name, version, qualifiers),
        source=source,
        hashes=hashes,
        scope=scope,
    )


def parse_requirement(text: str) -> Requirement:
    """A PEP 508 requirement; FormatError (credentials removed) when it is not one."""
    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        message = str(exc).splitlines()[0] if str(exc) else "invalid requirement"
        raise FormatError(redact_text(message)) from exc
