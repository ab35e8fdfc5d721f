"""`usc record`: run a training command and write its training record.

    usc record --name train --output training-record.json \\
        --input data/train.csv --params params.yaml --output-model model/model.safetensors \\
        [--metrics metrics.json] [--param key=value ...] -- python train.py ...

or `--shell --command "python train.py | tee log"` (run with bash, recorded as written), or,
when the command ran elsewhere, `--command "python train.py" [--start T --end T]`.

The record (schema `unified-supply-chain/training-record@1`, see
`inventory/training_record.py`) names the run that trained the model (from the GitHub Actions
environment), the command and its times, the input datasets and output model files with their
SHA-256, and the hyperparameters read from the params files. `usc sbom` turns it into the
SBOM's `formulation` and the model's lineage.

Relative paths are taken from `--root` (default: the current directory), where the command also
runs; every path must stay inside the root. Inputs and params files are hashed before the
command runs (what it read), outputs after. When the command fails the record is still written,
with `"status": "failed"` and its `"exit_code"`, and `usc record` exits with the command's code.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from unified_supply_chain.errors import FormatError, UsageError, UscError
from unified_supply_chain.records import RUN_ENV, RunContext

#: Exit code reported when the command cannot be started (the shell's "command not found").
EXIT_NOT_FOUND = 127
#: Most files recorded for one directory given as --input or --output-model.
MAX_FILES_PER_DIRECTORY = 100_000
#: Seconds allowed for each short helper command (the job's Python version, git HEAD).
PYTHON_VERSION_TIMEOUT = 10.0

#: GitHub Actions variables read into the record's `run` object.


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Run a training command (after --) timing it, then write a training record: the run, "
        "the command, input datasets and output models with SHA-256, and hyperparameters. "
        "On failure the record is still written (status failed) and the command's exit code "
        "is returned."
    )
    parser.add_argument("--name", default="train", help="job or stage name (default: train)")
    parser.add_argument(
        "--output",
        "-o",
        default="training-record.json",
        help="record file to write (default: training-record.json; name it "
        "training-record.json or *.training-record.json so `usc sbom` finds it)",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        help="repository root: relative paths start here, the command runs here, and every "
        "recorded path must be inside it (default: the current directory)",
    )
    parser.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="PATH",
        help="dataset file or directory the command reads (repeatable)",
    )
    parser.add_argument(
        "--params",
        action="append",
        default=[],
        metavar="FILE",
        help="hyperparameter file (YAML, JSON or TOML) read and flattened (repeatable)",
    )
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a hyperparameter value given on the command line; overrides the files (repeatable)",
    )
    parser.add_argument(
        "--output-model",
        action="append",
        default=[],
        metavar="PATH",
        help="model file or directory the command writes (repeatable)",
    )
    parser.add_argument(
        "--metrics",
        action="append",
        default=[],
        metavar="FILE",
        help="metrics file describing the outputs (repeatable)",
    )
    parser.add_argument(
        "--command",
        dest="command_text",
        default=None,
        help="the command as text, when it ran elsewhere (nothing is run)",
    )
    parser.add_argument(
        "--shell",
        action="store_true",
        help="run the --command text with bash (sh when bash is missing), timing it; the "
        "record keeps the text as written",
    )
    parser.add_argument("--start", default=None, help="with --command: ISO-8601 start time")
    parser.add_argument("--end", default=None, help="with --command: ISO-8601 end time")
    parser.add_argument(
        "--python-version",
        default=None,
        help="Python version of the training job (default: that of python3 on PATH)",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="hash cache directory shared with `usc sbom` (default: $USC_CACHE_DIR when set, "
        "else no cache)",
    )
    parser.add_argument(
        "argv", nargs=argparse.REMAINDER, metavar="-- COMMAND", help="training command to run"
    )


# ------------------------------------------------------------------------------------- helpers


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
        print(f"usc: error: command not found: {argv[0]}", file=sys.stderr)
        code = EXIT_NOT_FOUND
    except PermissionError:
        print(f"usc: error: command not executable: {argv[0]}", file=sys.stderr)
        code = EXIT_NOT_FOUND - 1
    return CommandResult(shlex.join(argv), start, utc_now(), code)


def _hash_recorded(
    root: Path, rels: Sequence[str], required: bool, what: str, cache: Any = None
) -> list[Any]:
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


def _read_params(root: Path, rels: Sequence[str]) -> list[tuple[str, str]]:
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


def _check_metrics(root: Path, rels: Sequence[str]) -> None:
    from unified_supply_chain.sources.lineage.metrics import read_metrics_file

    for rel in rels:
        try:
            read_metrics_file(root / rel, rel)
        except FormatError as exc:
            raise UscError(f"metrics file {rel}: {exc}") from exc
        except OSError as exc:
            raise UscError(f"metrics file {rel}: {exc.strerror or exc}") from exc


# ----------------------------------------------------------------------------------------- run


def _command_argv(args: argparse.Namespace) -> list[str]:
    argv = list(args.argv or [])
    if argv and argv[0] == "--":
        argv = argv[1:]
    return argv


def build_record(
    args: argparse.Namespace,
    *,
    environ: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], Path, int]:
    """Validate `args`, run the command (when given after --), and build the record's JSON.

    Returns (record JSON, output path, exit code of the command).
    """
    from unified_supply_chain.redact import redact_param, redact_text
    from unified_supply_chain.sources.lineage.training_record import TrainingRecord

    env = os.environ if environ is None else environ
    root = Path(args.root) if args.root is not None else Path.cwd()
    if not root.is_dir():
        raise UsageError(f"--root {str(root)!r} is not a directory")
    argv = _command_argv(args)
    if argv and args.command_text is not None:
        raise UsageError("give the command either after -- or with --command, not both")
    if args.shell and args.command_text is None:
        raise UsageError("--shell runs the --command text: give --command")
    if not argv and args.command_text is None:
        raise UsageError("no command: give it after -- (to run it) or with --command")
    if (argv or args.shell) and (args.start or args.end):
        raise UsageError("--start/--end describe a command that ran elsewhere (--command)")
    if args.command_text is not None and not args.command_text.strip():
        raise UsageError("--command is empty")
    name = args.name.strip()
    if not name:
        raise UsageError("--name is empty")

    inputs = [repo_relative(root, p, "--input") for p in args.input]
    params_files = [repo_relative(root, p, "--params") for p in args.params]
    outputs = [repo_relative(root, p, "--output-model") for p in args.output_model]
    metrics = [repo_relative(root, p, "--metrics") for p in args.metrics]
    overrides = [parse_param(p) for p in args.param]
    if not outputs:
        raise UsageError("no --output-model: a training record names the model files it made")
    output = Path(args.output)
    output = output if output.is_absolute() else root / output

    real_root = Path(os.path.realpath(root))
    cache_dir = args.cache_dir or (Path(env["USC_CACHE_DIR"]) if env.get("USC_CACHE_DIR") else None)
    cache = None
    if cache_dir is not None:
        from unified_supply_chain.hashing.cache import HashCache

        cache = HashCache.open(cache_dir, real_root)
    # Inputs are hashed before the command runs: what it read, and a missing dataset fails
    # before hours of training rather than after.
    input_files = _hash_recorded(real_root, expand_paths(real_root, inputs), True, "--input", cache)
    params_recorded = _hash_recorded(real_root, params_files, True, "--params", cache)
    parameters = merge_params(_read_params(real_root, params_files), overrides)

    if argv:
        result = run_command(argv, root)
    elif args.shell:
        shell = shutil.which("bash", path=env.get("PATH"))
        shell_argv = [shell, "-eo", "pipefail", "-c"] if shell else ["sh", "-ec"]
        ran = run_command([*shell_argv, args.command_text], root)
        result = CommandResult(
            args.command_text.strip(), ran.time_start, ran.time_end, ran.exit_code
        )
    else:
        start = parse_time(args.start, "--start") if args.start else None
        end = parse_time(args.end, "--end") if args.end else None
        if start is not None and end is not None and end < start:
            raise UsageError(f"--end {args.end!r} is before --start {args.start!r}")
        result = CommandResult(
            args.command_text.strip(),
            format_time(start) if start else None,
            format_time(end) if end else None,
            0,
        )
    ok = result.exit_code == 0
    # After a failure, outputs may be missing: recorded without a hash, not an error.
    output_files = _hash_recorded(
        real_root, expand_paths(real_root, outputs), ok, "--output-model", cache
    )
    if cache is not None:
        cache.save()
    if ok:
        _check_metrics(real_root, metrics)

    python_version = args.python_version or job_python_version(env)
    in_actions = bool(env.get("GITHUB_SHA"))
    record = TrainingRecord(
        name=name,
        command=result.command,
        time_start=result.time_start,
        time_end=result.time_end,
        run=dataclasses.replace(
            run_context(env, python_version, None if in_actions else git_commit(real_root)),
            dirty=git_dirty(real_root),
        ),
        inputs=tuple(input_files),
        params_files=tuple(params_recorded),
        parameters=parameters,
        outputs=tuple(output_files),
        metrics_files=tuple(metrics),
    )
    data = record.to_json()
    # The record is uploaded as an artifact and read into SBOMs: no credentials in it.
    data["command"] = redact_text(data["command"]) if data.get("command") else data.get("command")
    data["parameters"] = [
        {"name": p["name"], "value": redact_param(p["name"], p["value"])}
        for p in data["parameters"]
    ]
    data["status"] = "succeeded" if ok else "failed"
    data["exit_code"] = result.exit_code
    return data, output, result.exit_code


def run(args: argparse.Namespace) -> int:
    import hashlib

    from unified_supply_chain import actions_io
    from unified_supply_chain.bom.write import serialise, write_atomic

    data, output, code = build_record(args)
    blob = serialise(data)
    write_atomic(blob, output)
    digest = hashlib.sha256(blob).hexdigest()
    actions_io.set_output("record-path", str(output))
    actions_io.set_output("record-sha256", digest)
    actions_io.set_output("exit-code", str(code))
    models = len(data["outputs"])
    datasets = len(data["inputs"])
    params = len(data["parameters"])
    actions_io.log(
        f"training record {output}: {models} model file(s), {datasets} input file(s), "
        f"{params} parameter(s), status {data['status']}"
    )
    if code != 0:
        message = f"training command failed with exit code {code}: {data['command']}"
        if actions_io.in_actions():
            actions_io.error(message, title="usc record")
        else:
            actions_io.log(message)
    return code
