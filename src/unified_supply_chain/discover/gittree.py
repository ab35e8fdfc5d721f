"""Discover files as git sees them: tracked files always, untracked ones unless git ignores them.

In a git work tree (every CI checkout) the file set is the answer of one command,
`git ls-files -z -t --cached --others --exclude-standard -s` run in the scanned directory
(https://git-scm.com/docs/git-ls-files: `--cached` lists the index, `--others` the untracked
files, `--exclude-standard` filters only the untracked ones with `.gitignore`, `.git/info/exclude`
and `core.excludesFile`; `-s` prints `<mode> <object> <stage>\\t<file>`, `-t` a status tag before
it, `S` for skip-worktree; `-z` ends records with NUL and never quotes names). Run in a
subdirectory, git lists only that directory, with paths relative to it, so a sub-directory scan
root needs no mapping. What follows from this:

- **Tracked files are always in scope**, even when `.gitignore` lists them (a committed
  `lightning_logs/`, a force-added model) and even inside directories the walker skips (`venv`,
  `site-packages`, `node_modules`, a directory holding `pyvenv.cfg`): they are in the repository,
  so they become ordinary components, safety-scanned like any other file. A hostile pickle
  committed inside `venv/` therefore fails the gate.
- **Untracked files follow git's own ignore rules** (negations, `**`, directory rules exactly as
  `git check-ignore` decides), then the walker's default exclusions (an untracked, unignored
  `venv/` stays out, as it does without git).
- `--include`/`--exclude` apply on top, with the walker's semantics (an excluded directory
  excludes what lies below it; `--include` filters files).
- Entries that are not regular files behave as in the walker: a symlink is never followed (one
  pointing outside the root, or broken, is reported), FIFOs and devices are skipped, a submodule
  (mode 160000) or an untracked nested repository is discovered in its own right when checked
  out. A tracked file missing from disk is skipped with a warning, unless git marks it
  skip-worktree (a sparse checkout). Names are bytes decoded like `os.scandir` decodes them
  (surrogate escapes), so odd names reach the same code as the walker's.
- The index's object id of each tracked file is kept on its `FileEntry.blob`.
- A scan root that git itself ignores (`usc sbom outputs/`) was asked for explicitly: its
  tracked files come from git and its untracked ones from the walker (one `git check-ignore`).

Outside a work tree the walker (`walk.py`) runs unchanged. Inside one, when git is missing or
fails (a `safe.directory` refusal, a broken index), the walker runs too and a problem says why,
so the SBOM's reader knows ignored tracked files were not seen. The repository's configuration
cannot make this command run code: `core.fsmonitor` (a hook git would otherwise execute) is
forced off.
"""

from __future__ import annotations

import dataclasses
import os
import stat
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from unified_supply_chain.discover.walk import (
    DEFAULT_EXCLUDED_DIRS,
    DEFAULT_EXCLUDED_PATHS,
    GlobSpec,
    WalkResult,
    glob_spec,
    is_venv,
    symlink_problem,
    walk,
)
from unified_supply_chain.records import FileEntry, Problem

#: Seconds allowed for `git ls-files` (a 50k-file index lists in well under a second).
GIT_LS_FILES_TIMEOUT = 300
#: Nested repositories and submodules deeper than this are walked, not listed by git.
MAX_NESTING = 8
#: Git mode of a submodule entry (a "gitlink"): a commit, not a file.
_GITLINK = b"160000"
#: Environment variables that would make git read another repository or index than the root's.
_REDIRECTING_ENV = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_NAMESPACE",
        "GIT_PREFIX",
    }
)


class GitListingError(Exception):
    """`git ls-files` could not list the work tree (the message says why)."""


class GitEntry(NamedTuple):
    """One record of `git ls-files` (a named tuple: 50k of them are built per run)."""

    path: str
    """Path relative to the directory git ran in (surrogate-escaped when not UTF-8); a trailing
    "/" marks an untracked nested repository."""
    tracked: bool
    """In the index (False: an untracked file git does not ignore)."""
    mode: bytes = b""
    """Index mode ("100644", "120000" symlink, "160000" submodule); empty when untracked."""
    blob: str | None = None
    """Index object id (stage 0 only; None for untracked or unmerged entries)."""
    skip_worktree: bool = False
    """Git keeps this path out of the work tree on purpose (sparse checkout)."""


def in_work_tree(root: Path) -> bool:
    """Whether `root` or one of its parents holds a `.git` entry (directory or gitfile)."""
    here = os.path.abspath(root)
    while True:
        if os.path.lexists(os.path.join(here, ".git")):
            return True
        parent = os.path.dirname(here)
        if parent == here:
            return False
        here = parent


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _REDIRECTING_ENV}
    env["GIT_OPTIONAL_LOCKS"] = "0"  # a read-only listing must not take the index lock
    return env


def ls_files(root: Path) -> list[GitEntry]:
    """All entries git lists for `root` (tracked, plus untracked not ignored), in git's order."""
    # Skip untracked files in the default-excluded directories already in git's own walk (a
    # 50k-file untracked venv then costs nothing); `-x` never hides tracked files.
    excludes = [f"--exclude={name}/" for name in sorted(DEFAULT_EXCLUDED_DIRS)]
    argv = [
        "git",
        "-c",
        "core.fsmonitor=false",
        "-C",
        os.path.abspath(root),
        "ls-files",
        "-z",
        "-t",
        "--cached",
        "--others",
        "--exclude-standard",
        "--stage",
        *excludes,
    ]
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=GIT_LS_FILES_TIMEOUT,
            env=_git_env(),
            check=False,
        )
    except FileNotFoundError as exc:
        raise GitListingError("git is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise GitListingError(f"git ls-files took longer than {GIT_LS_FILES_TIMEOUT} s") from exc
    except OSError as exc:
        raise GitListingError(f"git could not be run: {exc.strerror}") from exc
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise GitListingError(
            f"git ls-files failed (exit {done.returncode}): {detail[0] if detail else 'no message'}"
        )
    return parse_ls_files(done.stdout)


def parse_ls_files(output: bytes) -> list[GitEntry]:
    """Parse `git ls-files -z -t --stage` output (GitListingError on a record it cannot read)."""
    entries: list[GitEntry] = []
    # os.fsdecode's own encoding and error handler, bound once (surrogate escapes on POSIX).
    encoding, errors = sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()
    for record in output.split(b"\0"):
        if not record:
            continue
        if record.startswith(b"? "):
            entries.append(GitEntry(record[2:].decode(encoding, errors), False))
            continue
        # "<tag> <mode> <object> <stage>\t<path>"
        meta, tab, raw_path = record.partition(b"\t")
        fields = meta.split(b" ")
        if not tab or len(fields) != 4 or not raw_path:
            raise GitListingError(f"unexpected git ls-files record: {record[:80]!r}")
        tag, mode, obj, stage = fields
        entries.append(
            GitEntry(
                raw_path.decode(encoding, errors),
                True,
                mode,
                obj.decode("ascii", errors="replace") if stage == b"0" else None,
                tag == b"S",
            )
        )
    return entries


def discover(
    root: Path,
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> WalkResult:
    """The files of `root`: git's view in a work tree, else the walker's."""
    if not in_work_tree(root):
        return walk(root, include=include, exclude=exclude)
    try:
        entries = ls_files(root)
    except GitListingError as exc:
        walked = walk(root, include=include, exclude=exclude)
        return WalkResult(walked.files, (_fallback_note(exc), *walked.problems))
    if _root_ignored(root):
        found = _with_walked_untracked(root, entries)
    else:
        found = _from_entries(root, entries, 0)
    if not include and not exclude:
        return found
    return filter_result(
        found, glob_spec(include) if include else None, glob_spec(exclude) if exclude else None
    )


def _root_ignored(root: Path) -> bool:
    """Whether git ignores the scanned directory itself (`usc sbom outputs/` of an ignored dir).

    Asked only of a subdirectory (a repository's top level is never ignored): one more git call.
    """
    if os.path.lexists(os.path.join(root, ".git")):
        return False
    try:
        done = subprocess.run(
            ["git", "-c", "core.fsmonitor=false", "-C", os.path.abspath(root)]
            + ["check-ignore", "-q", "--no-index", "."],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=GIT_LS_FILES_TIMEOUT,
            env=_git_env(),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _with_walked_untracked(root: Path, entries: Sequence[GitEntry]) -> WalkResult:
    """An ignored directory named as the root: its tracked files, plus what the walker finds.

    Git lists no untracked file below an ignored directory, yet the user asked for this one;
    its untracked files are taken as the walker sees them (its own `.gitignore` files apply).
    """
    tracked = _from_entries(root, [e for e in entries if e.tracked], 0)
    walked = walk(root)
    files = {f.path: f for f in walked.files}
    files.update((f.path, f) for f in tracked.files)
    problems = {(p.path, p.message): p for p in (*walked.problems, *tracked.problems)}
    return WalkResult(
        tuple(sorted(files.values(), key=lambda f: f.path)),
        tuple(sorted(problems.values(), key=lambda p: p.path)),
    )


def _fallback_note(exc: GitListingError) -> Problem:
    return Problem(
        ".",
        f"{exc}; files found by walking the directory instead, so ignore rules are "
        "approximated and tracked files that .gitignore lists are not scanned",
    )


def _discover_nested(root: Path, depth: int) -> WalkResult:
    """Unfiltered discovery of a submodule or nested repository."""
    if depth > MAX_NESTING or not in_work_tree(root):
        return walk(root)
    try:
        entries = ls_files(root)
    except GitListingError as exc:
        walked = walk(root)
        return WalkResult(walked.files, (_fallback_note(exc), *walked.problems))
    return _from_entries(root, entries, depth)


def _from_entries(root: Path, entries: Sequence[GitEntry], depth: int) -> WalkResult:
    root_str = os.path.abspath(root)
    root_real = os.path.realpath(root_str)
    files: dict[str, FileEntry] = {}
    problems: list[Problem] = []
    dir_ok: dict[str, bool] = {}  # untracked files allowed below this directory
    linked: dict[str, bool] = {}  # this directory is (below) a symlink on disk
    nested: list[str] = []
    for e in entries:
        rel = e.path.rstrip("/")
        if not rel or rel in files or e.skip_worktree:
            continue  # unmerged paths come once per stage
        parent = rel.rpartition("/")[0]
        if not e.tracked and not _untracked_allowed(root_str, parent, dir_ok):
            continue
        if parent and _under_symlink(root_str, parent, linked):
            continue  # git never lists through a symlinked directory; the link itself is listed
        if e.mode == _GITLINK or e.path.endswith("/"):
            if e.tracked or _untracked_allowed(root_str, rel, dir_ok):
                nested.append(rel)
            continue
        abs_path = f"{root_str}/{rel}"
        try:
            st = os.lstat(abs_path)
        except (FileNotFoundError, NotADirectoryError):
            if e.tracked:
                problems.append(
                    Problem(rel, "tracked by git but missing from the work tree; skipped")
                )
            continue
        except OSError as exc:
            problems.append(Problem(rel, f"cannot stat: {exc.strerror}"))
            continue
        if stat.S_ISLNK(st.st_mode):
            problem = symlink_problem(abs_path, rel, root_real)
            if problem is not None:
                problems.append(problem)
            continue
        if not stat.S_ISREG(st.st_mode):
            continue  # sockets, FIFOs, devices, a directory where the index has a file
        files[rel] = FileEntry(rel, st.st_size, st.st_mtime_ns, st.st_ino, e.blob)
    for rel in nested:
        sub = os.path.join(root_str, rel)
        if os.path.islink(sub) or not os.path.isdir(sub):
            continue  # a submodule not checked out holds no files
        inner = _discover_nested(Path(sub), depth + 1)
        for f in inner.files:
            path = f"{rel}/{f.path}"
            files.setdefault(path, dataclasses.replace(f, path=path))
        problems.extend(
            Problem(rel if p.path == "." else f"{rel}/{p.path}", p.message) for p in inner.problems
        )
    ordered = sorted(files.values(), key=lambda f: f.path)
    problems.sort(key=lambda p: p.path)
    return WalkResult(tuple(ordered), tuple(problems))


def _untracked_allowed(root: str, rel_dir: str, cache: dict[str, bool]) -> bool:
    """Whether the walker would descend to `rel_dir` (default exclusions, virtual environments)."""
    if not rel_dir:
        return True
    known = cache.get(rel_dir)
    if known is not None:
        return known
    parent, _, name = rel_dir.rpartition("/")
    ok = (
        _untracked_allowed(root, parent, cache)
        and name not in DEFAULT_EXCLUDED_DIRS
        and rel_dir not in DEFAULT_EXCLUDED_PATHS
        and not is_venv(os.path.join(root, rel_dir))
    )
    cache[rel_dir] = ok
    return ok


def _under_symlink(root: str, rel_dir: str, cache: dict[str, bool]) -> bool:
    """Whether `rel_dir` or a directory above it is a symlink on disk (so never entered)."""
    if not rel_dir:
        return False
    known = cache.get(rel_dir)
    if known is not None:
        return known
    parent = rel_dir.rpartition("/")[0]
    linked = _under_symlink(root, parent, cache) or os.path.islink(os.path.join(root, rel_dir))
    cache[rel_dir] = linked
    return linked


def filter_result(
    found: WalkResult, include: GlobSpec | None, exclude: GlobSpec | None
) -> WalkResult:
    """`found` narrowed by `--include`/`--exclude`, as the walker applies them."""
    excluded_dir: dict[str, bool] = {}

    def dir_excluded(rel_dir: str) -> bool:
        if not rel_dir or exclude is None:
            return False
        known = excluded_dir.get(rel_dir)
        if known is None:
            parent = rel_dir.rpartition("/")[0]
            known = dir_excluded(parent) or exclude.match_file(rel_dir + "/")
            excluded_dir[rel_dir] = known
        return known

    def kept(rel: str) -> bool:
        if dir_excluded(rel.rpartition("/")[0]):
            return False
        if exclude is not None and exclude.match_file(rel):
            return False
        return include is None or include.match_file(rel)

    files = tuple(f for f in found.files if kept(f.path))
    problems = tuple(p for p in found.problems if p.path == "." or kept(p.path))
    return WalkResult(files, problems)
