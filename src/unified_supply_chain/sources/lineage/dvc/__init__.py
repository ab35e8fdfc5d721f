"""DVC records: `.dvc` files, `dvc.yaml` pipelines and `dvc.lock`, read as lineage contributions.

Nothing is fetched from a DVC remote: what the records state (paths, md5, sizes, stage commands,
params, metrics files, declared artifacts) is what we report. Paths inside a `dvc.yaml` are
relative to its directory (and to a stage's `wdir`); they are normalised to repo-relative paths and
any path leaving the repository is refused with a problem.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence
from pathlib import Path

from unified_supply_chain import records
from unified_supply_chain.errors import FormatError
from unified_supply_chain.sources.lineage.dvc.files import read_dvc_file
from unified_supply_chain.sources.lineage.dvc.pipeline import read_dvc_yaml
from unified_supply_chain.sources.lineage.dvc.state import Builder


def _is_dvc_internal(path: str) -> bool:
    return ".dvc" in path.split("/")[:-1]


def select_files(files: Iterable[str]) -> tuple[list[str], list[str], set[str]]:
    """(`.dvc` files, `dvc.yaml` files, `dvc.lock` files) among repo-relative paths, sorted."""
    dvc_files: list[str] = []
    pipelines: list[str] = []
    locks: set[str] = set()
    for path in files:
        if _is_dvc_internal(path):
            continue
        base = posixpath.basename(path)
        if base == "dvc.yaml":
            pipelines.append(path)
        elif base == "dvc.lock":
            locks.add(path)
        elif base.endswith(".dvc") and base != ".dvc":
            dvc_files.append(path)
    return sorted(dvc_files), sorted(pipelines), locks


def read_dvc(root: Path, files: Sequence[str]) -> records.Contribution:
    """Read every `.dvc`, `dvc.yaml` and `dvc.lock` among `files` (repo-relative paths).

    Unreadable records become problems; nothing raises for bad input.
    """
    b = Builder(root=root, files=frozenset(files))
    dvc_files, pipelines, locks = select_files(files)
    for relpath in dvc_files:
        try:
            read_dvc_file(b, relpath)
        except FormatError as exc:
            b.problem(relpath, f"not read: {exc}")
    for relpath in pipelines:
        lock = posixpath.join(posixpath.dirname(relpath), "dvc.lock")
        try:
            read_dvc_yaml(b, relpath, lock if lock in locks else None)
        except FormatError as exc:
            b.problem(relpath, f"not read: {exc}")
    return records.Contribution(
        declared=tuple(
            acc.freeze() for acc in b.declared.values() if not (acc.weak and b.present(acc.path))
        ),
        stages=tuple(b.stages),
        metrics=tuple(b.metrics),
        problems=tuple(b.problems),
    )
