"""conda environment.yml: conda specs with channel and build, and its pip section."""

from __future__ import annotations

import re
from pathlib import Path

from packageurl import PackageURL
from packaging.requirements import InvalidRequirement, Requirement

from unified_supply_chain import safeparse
from unified_supply_chain.errors import FormatError
from unified_supply_chain.redact import redact_text, redact_url
from unified_supply_chain.sources.libraries.lockfiles.common import (
    Lock,
    LockedPackage,
    LockfileResult,
    add_pypi,
)

_CONDA_SPEC = re.compile(
    r"^(?:(?P<channel>[^:\s]+)::)?(?P<name>[A-Za-z0-9_][A-Za-z0-9_.\-]*)\s*(?P<rest>.*)$"
)
_PLAIN_VERSION = re.compile(r"^[A-Za-z0-9_.+!]+$")


def _conda_version(rest: str) -> tuple[str | None, str | None]:
    """(version, build) of the part after the name: `=1.2`, `==1.2`, `=1.2=py_0`, ` 1.2 py_0`."""
    rest = rest.strip()
    if not rest or rest.startswith("["):
        return None, None
    if rest.startswith("=="):
        parts = rest[2:].split("=")
    elif rest.startswith("="):
        parts = rest[1:].split("=")
    elif rest[0].isalnum():
        parts = rest.split()
    else:
        return None, None  # a range (>=, <, ...)
    version = parts[0].strip() if parts else ""
    build = parts[1].strip() if len(parts) > 1 else None
    if not _PLAIN_VERSION.match(version):
        return None, None
    return version, build if build and _PLAIN_VERSION.match(build) else None


def read_conda_env(path: Path, relpath: str) -> LockfileResult:
    data = safeparse.load_yaml_file(path)
    if not isinstance(data, dict) or not isinstance(data.get("dependencies"), list):
        raise FormatError("not a conda environment file (no `dependencies` list)")
    lock = Lock(relpath)
    channels = data.get("channels")
    only_channel = (
        channels[0]
        if isinstance(channels, list) and len(channels) == 1 and isinstance(channels[0], str)
        else None
    )
    for entry in data["dependencies"]:
        if isinstance(entry, dict) and "pip" in entry:
            _conda_pip_section(lock, entry["pip"])
            continue
        if not isinstance(entry, str):
            lock.problem(f"entry {redact_text(str(entry))[:80]!r} is not a string")
            continue
        m = _CONDA_SPEC.match(entry.strip())
        if m is None:
            lock.problem(f"skipped {redact_text(entry)[:80]!r}: not a package spec")
            continue
        version, build = _conda_version(m.group("rest"))
        channel = m.group("channel") or only_channel
        qualifiers: dict[str, str] = {}
        if build:
            qualifiers["build"] = build
        if channel:
            qualifiers["channel"] = redact_url(channel) if "://" in channel else channel
        name = m.group("name")
        try:
            purl = PackageURL(
                type="conda", name=name.lower(), version=version, qualifiers=qualifiers or None
            ).to_string()
        except ValueError as exc:
            lock.problem(f"{name!r}: {exc}")
            continue
        lock.add(
            LockedPackage(
                key=f"conda:{name.lower()}",
                name=name,
                version=version,
                purl=str(purl),
                ecosystem="conda",
                direct=True,
            )
        )
    return lock.result(None)


def _conda_pip_section(lock: Lock, entries: object) -> None:
    if not isinstance(entries, list):
        lock.problem("`pip:` is not a list")
        return
    for line in entries:
        if not isinstance(line, str) or line.strip().startswith("-"):
            lock.problem(
                f"pip entry {redact_text(str(line))[:80]!r} not read (options and includes)"
            )
            continue
        try:
            req = Requirement(line.strip())
        except InvalidRequirement as exc:
            lock.problem(f"pip entry {redact_text(line)[:80]!r}: {redact_text(str(exc))}")
            continue
        specs = list(req.specifier)
        version = (
            specs[0].version
            if len(specs) == 1
            and specs[0].operator in ("==", "===")
            and "*" not in specs[0].version
            else None
        )
        qualifiers = {"download_url": redact_url(req.url)} if req.url else {}
        add_pypi(lock, req.name, version, qualifiers, direct=True)
