"""poetry.lock (Poetry): packages, file hashes, sources, and the pyproject's direct names."""

from __future__ import annotations

from pathlib import Path

from unified_supply_chain.errors import FormatError
from unified_supply_chain.redact import redact_url
from unified_supply_chain.sources.libraries.lockfiles.common import (
    Lock,
    LockfileResult,
    add_pypi,
    hex_hash,
    load_toml,
    sibling_pyproject_names,
)
from unified_supply_chain.sources.libraries.manifests import normalize_name


def _poetry_source_qualifiers(source: object) -> dict[str, str]:
    if not isinstance(source, dict) or not isinstance(source.get("url"), str):
        return {}
    kind = source.get("type")
    url = redact_url(source["url"])
    if kind == "git":
        ref = source.get("resolved_reference") or source.get("reference")
        return {"vcs_url": f"git+{url}" + (f"@{ref}" if isinstance(ref, str) else "")}
    if kind == "url":
        return {"download_url": url}
    if kind == "legacy":
        return {"repository_url": url}
    return {}


def read_poetry_lock(path: Path, relpath: str) -> LockfileResult:
    data = load_toml(path)
    packages = data.get("package")
    if not isinstance(packages, list):
        raise FormatError("no [[package]] entries")
    lock = Lock(relpath)
    metadata = data.get("metadata")
    legacy_files = metadata.get("files") if isinstance(metadata, dict) else None
    for entry in packages:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            lock.problem("a [[package]] entry has no name")
            continue
        name = entry["name"]
        version = entry.get("version") if isinstance(entry.get("version"), str) else None
        groups = entry.get("groups")
        optional = (
            entry.get("category") == "dev"
            or entry.get("optional") is True
            or (isinstance(groups, list) and bool(groups) and "main" not in groups)
        )
        files = entry.get("files")
        if not isinstance(files, list) and isinstance(legacy_files, dict):
            files = legacy_files.get(name)  # poetry 1.1 kept hashes under [metadata.files]
        hashes = [
            h
            for f in (files if isinstance(files, list) else [])
            if isinstance(f, dict) and (h := hex_hash(f.get("hash"))) is not None
        ]
        deps = entry.get("dependencies")
        dep_keys = [normalize_name(str(d)) for d in deps] if isinstance(deps, dict) else []
        add_pypi(
            lock,
            name,
            version,
            _poetry_source_qualifiers(entry.get("source")),
            hashes=hashes,
            dep_keys=dep_keys,
            optional=optional,
        )
    return lock.result(sibling_pyproject_names(path))
