"""uv.lock: packages, artifact hashes and sources; the project's own dependencies are direct."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from unified_supply_chain.errors import FormatError
from unified_supply_chain.records import Hash
from unified_supply_chain.redact import redact_url
from unified_supply_chain.sources.libraries.lockfiles.common import (
    Lock,
    LockfileResult,
    add_pypi,
    hex_hash,
    load_toml,
)
from unified_supply_chain.sources.libraries.manifests import normalize_name


def _uv_source(source: object) -> tuple[bool, dict[str, str]]:
    """(is a local project of the workspace, purl qualifiers) of a uv `source` table."""
    if not isinstance(source, dict):
        return False, {}
    if any(k in source for k in ("editable", "virtual")):
        return True, {}
    if isinstance(source.get("git"), str):
        url, _, commit = source["git"].partition("#")
        return False, {
            "vcs_url": "git+" + redact_url(url.split("?")[0]) + (f"@{commit}" * bool(commit))
        }
    if isinstance(source.get("url"), str):
        return False, {"download_url": redact_url(source["url"])}
    registry = source.get("registry")
    if isinstance(registry, str) and "pypi.org" not in registry and registry.startswith("http"):
        return False, {"repository_url": redact_url(registry)}
    return False, {}


def _uv_dep_names(entries: object) -> list[str]:
    return [
        normalize_name(d["name"])
        for d in (entries if isinstance(entries, list) else [])
        if isinstance(d, dict) and isinstance(d.get("name"), str)
    ]


def read_uv_lock(path: Path, relpath: str) -> LockfileResult:
    data = load_toml(path)
    packages = data.get("package")
    if not isinstance(packages, list):
        raise FormatError("no [[package]] entries")
    lock = Lock(relpath)
    roots_required: list[str] = []
    roots_optional: list[str] = []
    graph: dict[str, list[str]] = {}
    for entry in packages:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            lock.problem("a [[package]] entry has no name")
            continue
        name = entry["name"]
        key = normalize_name(name)
        deps = _uv_dep_names(entry.get("dependencies"))
        extra_deps: list[str] = []
        for table in ("optional-dependencies", "dev-dependencies"):
            groups = entry.get(table)
            for group in groups.values() if isinstance(groups, dict) else []:
                extra_deps.extend(_uv_dep_names(group))
        graph.setdefault(key, []).extend(deps + extra_deps)
        is_local, qualifiers = _uv_source(entry.get("source"))
        if is_local:
            # The project itself (or a workspace member): its dependencies are the direct ones.
            source = entry["source"]
            if "." in (source.get("editable"), source.get("virtual")):
                roots_required.extend(deps)
                roots_optional.extend(extra_deps)
            continue
        version = entry.get("version") if isinstance(entry.get("version"), str) else None
        hashes: list[Hash] = []
        sdist = entry.get("sdist")
        wheels = entry.get("wheels")
        for art in [sdist, *(wheels if isinstance(wheels, list) else [])]:
            if isinstance(art, dict) and (h := hex_hash(art.get("hash"))) is not None:
                hashes.append(h)
        add_pypi(lock, name, version, qualifiers, hashes=hashes, dep_keys=deps)
    if roots_required or roots_optional:
        required = _closure(graph, roots_required)
        for p in lock.pkgs:
            p.optional = p.key not in required
        direct: Iterable[str] | None = set(roots_required) | set(roots_optional)
    else:
        direct = None
    return lock.result(direct)


def _closure(graph: Mapping[str, list[str]], start: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    stack = list(start)
    while stack:
        key = stack.pop()
        if key not in seen:
            seen.add(key)
            stack.extend(graph.get(key, []))
    return seen
