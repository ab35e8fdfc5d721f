"""The parts of a training record that `usc record` gathers: ISO-8601 times, paths inside the
root, hyperparameters, the run (GitHub Actions variables, git HEAD and state), the command run
and timed, and the recorded files hashed."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from unified_supply_chain import console
from unified_supply_chain.errors import FormatError, UsageError, UscError
from unified_supply_chain.records import RUN_ENV, RunContext

#: Exit code reported when the command cannot be started (the shell's "command not found").
EXIT_NOT_FOUND = 127
#: Most files recorded for one directory given as --input or --output-model.
MAX_FILES_PER_DIRECTORY = 100_000
#: Seconds allowed for each short helper command (the job's Python version, git HEAD).
PYTHON_VERSION_TIMEOUT = 10.0


def utc_now() -> str:
    """The current UTC time as ISO-8601 with a `Z`, to the second."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str, option: str) -> datetime:
    """An ISO-8601 time with a zone (`Z` or an offset), as an aware UTC datetime."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} {text!r} is not an ISO-8601 time") from None
    if parsed.tzinfo is None:
        raise UsageError(f"{option} {text!r} has no time zone (add Z or an offset like +00:00)")
    return parsed.astimezone(timezone.utc)


def format_time(moment: datetime) -> str:
    """ISO-8601 UTC with a `Z`, to the second."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def repo_relative(root: Path, given: str, option: str) -> str:
    """`given` (relative to `root`, or absolute) as a POSIX path relative to `root`.

    Symbolic links are resolved first, so a link cannot smuggle a path out of the root.
    Raises UsageError for an empty path or one that leaves the root.
    """
    if not given or not given.strip():
        raise UsageError(f"{option}: empty path")
    real_root = Path(os.path.realpath(root))
    candidate = Path(given)
    full = candidate if candidate.is_absolute() else real_root / candidate
    real = Path(os.path.realpath(full))
    try:
        rel = real.relative_to(real_root)
    except ValueError:
        raise UsageError(
            f"{option} {given!r} is outside the repository root {str(root)!r}"
        ) from None
    if not rel.parts:
        raise UsageError(f"{option} {given!r} is the repository root itself, not a file in it")
    return rel.as_posix()


def expand_paths(root: Path, rels: Iterable[str]) -> list[str]:
    """Files under `rels` (a directory stands for every file below it, sorted; order kept).

    Paths that do not exist are kept as they are, so the caller can report them.
    """
    out: list[str] = []
    seen: set[str] = set()
    for rel in rels:
        full = root / rel
        if full.is_dir():
            found: list[str] = []
            for dirpath, dirnames, filenames in os.walk(full):
                dirnames.sort()
                for name in sorted(filenames):
                    found.append(Path(dirpath, name).relative_to(root).as_posix())
                    if len(found) > MAX_FILES_PER_DIRECTORY:
                        raise UsageError(
                            f"{rel}: more than {MAX_FILES_PER_DIRECTORY} files in one directory"
                        )
            items = found
        else:
            items = [rel]
        for item in items:
            if item not in seen:
                seen.add(item)
                out.append(item)
    return out


def parse_param(text: str) -> tuple[str, str]:
    """`key=value` from `--param` (the key is trimmed and must be non-empty)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"--param {text!r}: expected KEY=VALUE")
    return key.strip(), value


def merge_params(
    base: Sequence[tuple[str, str]], overrides: Sequence[tuple[str, str]]
) -> tuple[tuple[str, str], ...]:
    """`base` in order with `overrides` replacing equal keys (new keys appended)."""
    merged: dict[str, str] = {}
    for key, value in [*base, *overrides]:
        merged[key] = value
    return tuple(merged.items())


def run_context(
    environ: Mapping[str, str], python_version: str | None, commit: str | None = None
) -> RunContext:
    """The run that executed the command, from the GitHub Actions variables in `environ`."""
    values: dict[str, str | None] = {field: (environ.get(var) or None) for field, var in RUN_ENV}
    if values["commit"] is None:
        values["commit"] = commit
    return RunContext(python_version=python_version, **values)


def _output_of(argv: list[str]) -> str | None:
    """Stripped stdout of a short command that succeeded; None when it failed or could not run."""
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=PYTHON_VERSION_TIMEOUT, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def job_python_version(environ: Mapping[str, str]) -> str | None:
    """Version of `python3` (or `python`) on the job's PATH; None when there is none."""
    path = environ.get("PATH")
    exe = shutil.which("python3", path=path) or shutil.which("python", path=path)
    if exe is None:
        return None
    return _output_of([exe, "-c", "import platform; print(platform.python_version())"]) or None


def git_dirty(root: Path) -> str | None:
    """ "true" when tracked files differ from HEAD (the commit alone does not describe the code
    that ran), "false" when they do not, None outside a git work tree."""
    git = shutil.which("git")
    if git is None:
        return None
    status = _output_of([git, "-C", str(root), "status", "--porcelain", "--untracked-files=no"])
    if status is None:
        return None
    return "true" if status else "false"


def git_commit(root: Path) -> str | None:
    """HEAD of the git repository at `root`, for runs outside GitHub Actions; None otherwise."""
    git = shutil.which("git")
    if git is None:
        return None
    commit = _output_of([git, "-C", str(root), "rev-parse", "--verify", "-q", "HEAD"])
    return commit if commit is not None and len(commit) in (40, 64) else None


@dataclass(frozen=True)
class CommandResult:
    """How the training command ended."""

    command: str | None
    """The command line as text."""
    time_start: str | None
    """ISO-8601 UTC start."""
    time_end: str | None
    """ISO-8601 UTC end."""
    exit_code: int
    """0 on success; the command's exit code (128 + signal when killed) otherwise."""


def run_command(argv: Sequence[str], root: Path) -> CommandResult:
    """Run `argv` in `root` with the caller's stdio, timing it."""
    start = utc_now()
    try:
        done = subprocess.run(list(argv), cwd=root, check=False)
        code = done.returncode if done.returncode >= 0 else 128 - done.returncode
    except FileNotFoundError:
        console.say(f"usc: error: command not found: {argv[0]}")
        code = EXIT_NOT_FOUND
    except PermissionError:
        console.say(f"usc: error: command not executable: {argv[0]}")
        code = EXIT_NOT_FOUND - 1
    return CommandResult(shlex.join(argv), start, utc_now(), code)


def hash_recorded(
    root: Path, rels: Sequence[str], required: bool, what: str, cache: Any = None
) -> list[Any]:
    """`rels` hashed as RecordedFiles; when `required`, an unreadable file is an error."""
    from unified_supply_chain.hashing.digests import hash_files
    from unified_supply_chain.sources.lineage.training_record import RecordedFile

    results = hash_files(root, rels, cache=cache)
    missing = [r for r in rels if results[r].sha256 is None]
    if missing and required:
        details = "; ".join(f"{r}: {results[r].error or 'unreadable'}" for r in missing)
        raise UscError(f"{what} cannot be hashed: {details}")
    return [
        RecordedFile(r, results[r].sha256, results[r].size if results[r].sha256 else None)
        for r in rels
    ]


def read_params(root: Path, rels: Sequence[str]) -> list[tuple[str, str]]:
    """The flattened values of the params files, in order; a bad file is an error."""
    from unified_supply_chain.sources.params import read_params_file

    out: list[tuple[str, str]] = []
    for rel in rels:
        try:
            out.extend(read_params_file(root / rel, "params-yaml"))
        except FormatError as exc:
            raise UscError(f"params file {rel}: {exc}") from exc
        except OSError as exc:
            raise UscError(f"params file {rel}: {exc.strerror or exc}") from exc
    return out


def check_metrics(root: Path, rels: Sequence[str]) -> None:
    """Fail when a metrics file the record will name cannot be read."""
    from unified_supply_chain.sources.lineage.metrics import read_metrics_file

    for rel in rels:
        try:
            read_metrics_file(root / rel, rel)
        except FormatError as exc:
            raise UscError(f"metrics file {rel}: {exc}") from exc
        except OSError as exc:
            raise UscError(f"metrics file {rel}: {exc.strerror or exc}") from exc
