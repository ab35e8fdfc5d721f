"""`usc record`: run a training command and write its training record.

    usc record --name train --output training-record.json \\
        --input data/train.csv --params params.yaml --output-model model/model.safetensors \\
        [--metrics metrics.json] [--param key=value ...] -- python train.py ...

or `--shell --command "python train.py | tee log"` (run with bash, recorded as written), or,
when the command ran elsewhere, `--command "python train.py" [--start T --end T]`.

The record (schema `unified-supply-chain/training-record@1`, see
`sources/lineage/training_record.py`) names the run that trained the model (from the GitHub Actions
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
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from unified_supply_chain.commands.training_run import (
    CommandResult,
    check_metrics,
    expand_paths,
    format_time,
    git_commit,
    git_dirty,
    hash_recorded,
    job_python_version,
    merge_params,
    parse_param,
    parse_time,
    read_params,
    repo_relative,
    run_command,
    run_context,
)
from unified_supply_chain.errors import UsageError


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
    from unified_supply_chain.actions_io import log
    from unified_supply_chain.bom.build import clean_strings
    from unified_supply_chain.redact import redact_param
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
    input_files = hash_recorded(real_root, expand_paths(real_root, inputs), True, "--input", cache)
    params_recorded = hash_recorded(real_root, params_files, True, "--params", cache)
    parameters = merge_params(read_params(real_root, params_files), overrides)

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
    output_files = hash_recorded(
        real_root, expand_paths(real_root, outputs), ok, "--output-model", cache
    )
    if cache is not None:
        cache.save()
    if ok:
        check_metrics(real_root, metrics)

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
    # The record is uploaded as an artifact and read into SBOMs: no credentials in it. Secrets
    # by key name first, then every string (command, values, paths) as in an SBOM.
    data["parameters"] = [
        {"name": p["name"], "value": redact_param(p["name"], p["value"])}
        for p in data["parameters"]
    ]
    redacted: list[tuple[str, tuple[str, ...]]] = []
    data = clean_strings(data, redacted)
    for where, kinds in redacted:
        log(f"warning: redacted a credential ({', '.join(kinds)}) at {where}")
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
