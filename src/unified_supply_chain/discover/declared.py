"""Files a record declares, admitted to the scan even when discovery left them out.

A training run writes its model to an ignored path (`models/`, `outputs/`, `lightning_logs/`):
that is the normal habit, and DVC itself adds every stage output to `.gitignore`. Discovery
follows git's ignore rules (`gittree.py`), so without this step the one file the pipeline exists
to describe would be missing from its SBOM, or listed as absent. Here every path a lineage record
declares (a training record's outputs and inputs, DVC outputs and `.dvc` data, MLflow model
directories: `Contribution.declared`, plus every `Stage.outputs`) that discovery did not return
is looked up on disk:

- a regular file is admitted as it is;
- a directory is walked without ignore rules (the record declares the whole directory; the
  walker's default exclusions and virtual-environment check still apply);
- an absent path stays absent (the record's own digest and size describe it);
- a path that leaves the root (absolute, `..`, a symlink on the way) is never opened, and a
  symlink is reported as the walker reports it.

`--include`/`--exclude` narrow the admitted files as they narrow discovery (`filtered`).
`--include` patterns themselves also reach ignored files: `included_ignored` walks without
ignore rules and keeps what the patterns match.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

from unified_supply_chain.discover.walk import (
    DEFAULT_EXCLUDED_DIRS,
    WalkResult,
    glob_spec,
    symlink_problem,
    walk,
)
from unified_supply_chain.records import Contribution, FileEntry, Problem


def declared_paths(contributions: Iterable[Contribution]) -> list[str]:
    """Repo-relative paths the contributions declare (artifacts and stage outputs), in order."""
    paths: dict[str, None] = {}
    for c in contributions:
        for d in c.declared:
            paths.setdefault(d.path, None)
        for s in c.stages:
            for out in s.outputs:
                paths.setdefault(out, None)
    return list(paths)


def _inside(rel: str) -> str | None:
    """`rel` normalised, or None when it is empty, absolute or climbs out of the root."""
    if not rel or rel.startswith("/") or "\0" in rel:
        return None
    norm = posixpath.normpath(rel)
    if norm in (".", "") or norm == ".." or norm.startswith("../"):
        return None
    return norm


def admit_declared(
    root: Path,
    paths: Iterable[str],
    known: Collection[str],
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> WalkResult:
    """Files below the declared `paths` that are on disk but not in `known` (discovery's set)."""
    root_str = os.path.abspath(root)
    root_real = os.path.realpath(root_str)
    files: dict[str, FileEntry] = {}
    problems: list[Problem] = []
    for raw in paths:
        rel = _inside(raw)
        if rel is None or rel in known or rel in files:
            continue
        parent = posixpath.dirname(rel)
        if any(part in DEFAULT_EXCLUDED_DIRS for part in rel.split("/")):
            continue  # `.git/`, a venv's `site-packages/`: never a declared output of ours
        abs_path = os.path.join(root_str, rel)
        # Every directory on the way must be a real directory inside the root: a symlinked
        # parent would let a record point the scan anywhere.
        parent_real = os.path.realpath(os.path.join(root_str, parent)) if parent else root_real
        if parent_real != os.path.join(root_real, parent).rstrip(os.sep):
            continue
        try:
            st = os.lstat(abs_path)
        except OSError:
            continue  # absent: the record's own digest and size describe it
        if stat.S_ISLNK(st.st_mode):
            problem = symlink_problem(abs_path, rel, root_real)
            if problem is not None:
                problems.append(problem)
            continue
        if stat.S_ISREG(st.st_mode):
            files[rel] = FileEntry(rel, st.st_size, st.st_mtime_ns, st.st_ino)
        elif stat.S_ISDIR(st.st_mode):
            inner = walk(Path(abs_path), use_gitignore=False)
            for f in inner.files:
                path = f"{rel}/{f.path}"
                if path not in known:
                    files.setdefault(path, FileEntry(path, f.size, f.mtime_ns, f.inode))
            problems.extend(
                Problem(rel if p.path == "." else f"{rel}/{p.path}", p.message)
                for p in inner.problems
            )
    found = WalkResult(tuple(sorted(files.values(), key=lambda f: f.path)), tuple(problems))
    return filtered(found, include, exclude)


def included_ignored(
    root: Path, known: Collection[str], *, include: Sequence[str], exclude: Sequence[str] = ()
) -> WalkResult:
    """Files `--include` names that discovery left out because git (or .gitignore) ignores them."""
    if not include:
        return WalkResult((), ())
    walked = walk(root, include=include, exclude=exclude, use_gitignore=False)
    return WalkResult(
        tuple(f for f in walked.files if f.path not in known),
        tuple(p for p in walked.problems if p.path not in known),
    )


def filtered(found: WalkResult, include: Sequence[str], exclude: Sequence[str]) -> WalkResult:
    """`found` narrowed by `--include`/`--exclude`, with the walker's semantics."""
    if not include and not exclude:
        return found
    from unified_supply_chain.discover.gittree import filter_result

    return filter_result(
        found, glob_spec(include) if include else None, glob_spec(exclude) if exclude else None
    )
