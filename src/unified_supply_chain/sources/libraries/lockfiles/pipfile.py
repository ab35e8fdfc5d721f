"""Pipfile.lock (Pipenv): the default and develop sections, and the Pipfile's direct names."""

from __future__ import annotations

from pathlib import Path

from unified_supply_chain import safeparse
from unified_supply_chain.errors import FormatError
from unified_supply_chain.redact import redact_url
from unified_supply_chain.sources.libraries.lockfiles.common import (
    Lock,
    LockfileResult,
    add_pypi,
    hex_hash,
    load_toml,
)
from unified_supply_chain.sources.libraries.manifests import normalize_name


def read_pipfile_lock(path: Path, relpath: str) -> LockfileResult:
    data = safeparse.load_json_file(path)
    if not isinstance(data, dict) or not any(k in data for k in ("default", "develop")):
        raise FormatError("not a Pipfile.lock (no `default` or `develop`)")
    lock = Lock(relpath)
    direct = _pipfile_names(path.with_name("Pipfile"))
    for section, optional in (("default", False), ("develop", True)):
        entries = data.get(section)
        if entries is None:
            continue
        if not isinstance(entries, dict):
            lock.problem(f"`{section}` is not a mapping")
            continue
        for name, spec in entries.items():
            if not isinstance(spec, dict):
                lock.problem(f"{name!r}: not a mapping")
                continue
            version = spec.get("version")
            pinned = version[2:] if isinstance(version, str) and version.startswith("==") else None
            qualifiers: dict[str, str] = {}
            if isinstance(spec.get("git"), str):
                ref = spec.get("ref")
                qualifiers["vcs_url"] = (
                    "git+" + redact_url(spec["git"]) + (f"@{ref}" if isinstance(ref, str) else "")
                )
            elif isinstance(spec.get("file"), str):
                qualifiers["download_url"] = redact_url(spec["file"])
            elif "path" in spec:
                lock.problem(f"{name!r} is a local path dependency; skipped")
                continue
            raw_hashes = spec.get("hashes")
            hashes = [
                h
                for x in (raw_hashes if isinstance(raw_hashes, list) else [])
                if (h := hex_hash(x)) is not None
            ]
            add_pypi(
                lock,
                name,
                pinned,
                qualifiers,
                hashes=hashes,
                optional=optional,
                # Pipfile.lock has no graph: without a Pipfile every entry counts as direct.
                direct=True if direct is None else normalize_name(name) in direct,
            )
    return lock.result(None)


def _pipfile_names(pipfile: Path) -> set[str] | None:
    if pipfile.is_symlink() or not pipfile.is_file():
        return None
    try:
        data = load_toml(pipfile)
    except FormatError:
        return None
    names: set[str] = set()
    for table in ("packages", "dev-packages"):
        section = data.get(table)
        if isinstance(section, dict):
            names.update(normalize_name(str(n)) for n in section)
    return names
