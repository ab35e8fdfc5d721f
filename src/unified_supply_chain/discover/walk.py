"""Discover files: an iterative walk that honours .gitignore and never follows symlinks out.

Symlinked directories are never entered (this also makes symlink loops harmless); a symlink whose
target lies outside the root, or cannot be resolved, is reported. Non-UTF-8 names are kept as
surrogate-escaped `str` so the file can still be opened; the builder turns them into readable text.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from unified_supply_chain.records import FileEntry, Problem

if TYPE_CHECKING:
    import pathspec

#: Directories never descended into, by name (VCS metadata, environments, caches, dependencies).
DEFAULT_EXCLUDED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".hypothesis",
        ".ipynb_checkpoints",
        ".eggs",
        ".usc-cache",
        "site-packages",
    }
)
#: Relative directory paths never descended into.
DEFAULT_EXCLUDED_PATHS = frozenset({".dvc/cache", ".dvc/tmp", ".git/lfs"})


@dataclass(frozen=True)
class WalkResult:
    """Files found and what could not be walked."""

    files: tuple[FileEntry, ...]
    """Regular files, in sorted path order."""
    problems: tuple[Problem, ...]
    """Symlinks not followed because they leave the root, unreadable directories, ..."""


class GlobSpec:
    """A gitignore-style spec with a one-regex pre-check.

    Most paths match no pattern at all, and then the answer ("not matched") needs no loop over
    the patterns: one search with all patterns joined tells. Only paths that some pattern
    matches go through pathspec, for its exact rules (last match wins, negations, directories).
    """

    __slots__ = ("_any", "spec")

    def __init__(self, lines: Sequence[str]) -> None:
        import pathspec

        self.spec = pathspec.GitIgnoreSpec.from_lines(lines)
        self._any = _any_pattern(self.spec)

    def match_file(self, path: str) -> bool:
        if (
            self._any is not None
            and not path.startswith(("/", "./"))
            and self._any.search(path) is None
        ):
            return False
        return bool(self.spec.match_file(path))


def _any_pattern(spec: pathspec.PathSpec[Any]) -> re.Pattern[str] | None:
    """One regex matching where any active pattern matches, or None when that cannot be built."""
    parts: list[str] = []
    flags: int | None = None
    for p in spec.patterns:
        if getattr(p, "include", None) is None:
            continue
        regex = getattr(p, "regex", None)
        if not isinstance(regex, re.Pattern) or not isinstance(regex.pattern, str):
            return None
        if "(?P=" in regex.pattern or (flags is not None and regex.flags != flags):
            return None
        flags = regex.flags
        parts.append(re.sub(r"\(\?P<\w+>", "(?:", regex.pattern))
    if not parts:
        return re.compile(r"(?!)")
    try:
        return re.compile("|".join(f"(?:{x})" for x in parts), flags or 0)
    except re.error:
        return None


def glob_spec(lines: Sequence[str]) -> GlobSpec:
    """A gitignore-style spec of `lines` (with the one-regex pre-check)."""
    return GlobSpec(lines)


def _read_gitignore(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read(1024 * 1024).splitlines()
    except OSError:
        return []


def is_venv(path: str) -> bool:
    """Whether the directory `path` is a Python virtual environment (holds `pyvenv.cfg`)."""
    return os.path.isfile(os.path.join(path, "pyvenv.cfg"))


def walk(
    root: Path,
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    use_gitignore: bool = True,
) -> WalkResult:
    """Walk `root` and return its regular files (repo-relative POSIX paths), sorted."""
    root_str = os.path.abspath(root)
    root_real = os.path.realpath(root_str)
    include_spec = glob_spec(include) if include else None
    exclude_spec = glob_spec(exclude) if exclude else None
    files: list[FileEntry] = []
    problems: list[Problem] = []

    # Each stack item: (absolute dir, relative dir, [(base relative dir, gitignore spec), ...]).
    # Git applies .git/info/exclude like a root .gitignore: so do we.
    root_ignores: tuple[tuple[str, GlobSpec], ...] = ()
    exclude_file = os.path.join(root_str, ".git", "info", "exclude")
    if use_gitignore and os.path.isfile(exclude_file):
        lines = _read_gitignore(exclude_file)
        if any(line.strip() and not line.startswith("#") for line in lines):
            root_ignores = (("", glob_spec(lines)),)
    stack: list[tuple[str, str, tuple[tuple[str, GlobSpec], ...]]] = [(root_str, "", root_ignores)]
    while stack:
        abs_dir, rel_dir, ignores = stack.pop()
        if use_gitignore:
            gi = os.path.join(abs_dir, ".gitignore")
            lines = _read_gitignore(gi) if os.path.isfile(gi) else []
            if lines:
                ignores = (*ignores, (rel_dir, glob_spec(lines)))
        try:
            with os.scandir(abs_dir) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            problems.append(Problem(rel_dir or ".", f"directory not readable: {exc.strerror}"))
            continue
        subdirs: list[tuple[str, str]] = []
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                is_link = entry.is_symlink()
                is_dir = not is_link and entry.is_dir(follow_symlinks=False)
            except OSError as exc:
                problems.append(Problem(rel, f"cannot stat: {exc.strerror}"))
                continue
            if is_dir:
                if entry.name in DEFAULT_EXCLUDED_DIRS or rel in DEFAULT_EXCLUDED_PATHS:
                    continue
                if _ignored(rel + "/", ignores, exclude_spec):
                    continue
                if is_venv(entry.path):
                    continue
                subdirs.append((entry.path, rel))
                continue
            if _ignored(rel, ignores, exclude_spec):
                continue
            if include_spec is not None and not include_spec.match_file(rel):
                continue
            if is_link:
                problem = symlink_problem(entry.path, rel, root_real)
                if problem is not None:
                    problems.append(problem)
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError as exc:
                problems.append(Problem(rel, f"cannot stat: {exc.strerror}"))
                continue
            if not stat.S_ISREG(st.st_mode):
                continue  # sockets, FIFOs, devices: never opened (a FIFO would block a read)
            files.append(FileEntry(rel, st.st_size, st.st_mtime_ns, st.st_ino))
        # Reverse so that popping keeps sorted order.
        for abs_sub, rel_sub in reversed(subdirs):
            stack.append((abs_sub, rel_sub, ignores))
    files.sort(key=lambda f: f.path)
    return WalkResult(tuple(files), tuple(problems))


def _ignored(
    rel: str,
    ignores: tuple[tuple[str, GlobSpec], ...],
    exclude_spec: GlobSpec | None,
) -> bool:
    if exclude_spec is not None and exclude_spec.match_file(rel):
        return True
    for base, spec in ignores:
        sub = rel[len(base) + 1 :] if base else rel
        if spec.match_file(sub):
            return True
    return False


def symlink_problem(abs_path: str, rel: str, root_real: str) -> Problem | None:
    """Why the symlink at `abs_path` is not followed; None when its target is inside the root."""
    try:
        target = os.path.realpath(abs_path, strict=True)
    except (OSError, RuntimeError):
        return Problem(rel, "symlink is broken or loops; not followed")
    if target != root_real and not target.startswith(root_real + os.sep):
        return Problem(rel, "symlink points outside the repository; not followed")
    # Inside the root: the target is listed under its own path (or deliberately excluded).
    return None
