"""`dvc.lock`: what a stage used when it last ran, namely the parameter values and the md5 and
size of each dependency and output."""

from __future__ import annotations

from typing import Any

from unified_supply_chain import safeparse
from unified_supply_chain.errors import FormatError
from unified_supply_chain.sources.lineage.dvc.state import (
    REMOTE_URL,
    Builder,
    PathError,
    apply_hash_info,
    normalise,
)


def read_lock(b: Builder, relpath: str) -> dict[str, Any]:
    """Stage name -> its entry; an unreadable lock is a problem and gives no stages."""
    try:
        data = safeparse.load_yaml_file(b.root / relpath)
    except FormatError as exc:
        b.problem(relpath, f"not read: {exc}")
        return {}
    stages = data.get("stages") if isinstance(data, dict) else None
    if not isinstance(stages, dict):
        b.problem(relpath, "no `stages` mapping")
        return {}
    return {str(k): v for k, v in stages.items() if isinstance(v, dict)}


def lock_params(lock: Any, wdir: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """(params file, flattened values) a stage's lock entry says it used, in lock order."""
    used_params = lock.get("params") if isinstance(lock, dict) else None
    out: list[tuple[str, list[tuple[str, str]]]] = []
    if isinstance(used_params, dict):
        for fname, used in used_params.items():
            try:
                prel = normalise(wdir, str(fname))
            except PathError:
                continue
            if isinstance(used, dict):
                out.append((prel, safeparse.flatten(used)))
    return out


def apply_lock_hashes(b: Builder, source: str, name: str, wdir: str, lock: Any) -> None:
    """md5, size and file count of each dependency and output a stage's lock entry records; a
    dependency is declared weakly (see `DeclaredAcc.weak`)."""
    if not isinstance(lock, dict):
        return
    for section in ("deps", "outs"):
        entries = lock.get(section)
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
                continue
            if REMOTE_URL.match(entry["path"]):
                continue
            try:
                path = normalise(wdir, entry["path"])
            except PathError as exc:
                b.problem(source, f"stage {name!r} in dvc.lock: {exc}")
                continue
            acc = b.declare(path, source, weak=section == "deps")
            apply_hash_info(acc, entry, "dvc-lock")
