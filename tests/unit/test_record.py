"""`usc record`: running and timing the command, hashes, params, run context, paths, failures."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from unified_supply_chain import cli
from unified_supply_chain.commands import record, training_run
from unified_supply_chain.errors import UsageError
from unified_supply_chain.sources.lineage.training_record import SCHEMA, parse_training_record

GITHUB_ENV = {
    "GITHUB_REPOSITORY": "octo/iris",
    "GITHUB_SHA": "a" * 40,
    "GITHUB_REF": "refs/heads/main",
    "GITHUB_RUN_ID": "1234",
    "GITHUB_RUN_ATTEMPT": "2",
    "GITHUB_WORKFLOW_REF": "octo/iris/.github/workflows/ml.yml@refs/heads/main",
    "GITHUB_EVENT_NAME": "push",
    "GITHUB_SERVER_URL": "https://github.com",
    "RUNNER_OS": "Linux",
    "RUNNER_ARCH": "X64",
}

#: A "training" script: reads the data, writes a model and metrics.
TRAIN = """
import pathlib, sys
data = pathlib.Path("data/train.csv").read_bytes()
out = pathlib.Path("model")
out.mkdir(exist_ok=True)
(out / "model.bin").write_bytes(b"weights:" + data)
pathlib.Path("metrics.json").write_text('{"accuracy": 0.9}')
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    (root / "data").mkdir(parents=True)
    (root / "data" / "train.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (root / "params.yaml").write_text(
        "train:\n  lr: 0.1\n  epochs: 3\nmodel:\n  layers: [4, 2]\n", encoding="utf-8"
    )
    (root / "train.py").write_text(TRAIN, encoding="utf-8")
    for var in ("GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", *GITHUB_ENV):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(root)
    return root


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def usc_record(*args: str) -> int:
    return cli.main(["record", *args])


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


BASE_ARGS = (
    "--input",
    "data/train.csv",
    "--params",
    "params.yaml",
    "--output-model",
    "model/model.bin",
    "--metrics",
    "metrics.json",
)


def test_runs_the_command_and_records_everything(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in GITHUB_ENV.items():
        monkeypatch.setenv(key, value)
    outputs = repo / "gh-output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    code = usc_record(
        "--name",
        "fit",
        *BASE_ARGS,
        "--param",
        "train.lr=0.2",
        "--param",
        "extra=x",
        "--python-version",
        "3.12.1",
        "--",
        sys.executable,
        "train.py",
    )
    assert code == 0
    data = load(repo / "training-record.json")
    assert data["schema"] == SCHEMA
    assert data["name"] == "fit"
    assert data["status"] == "succeeded" and data["exit_code"] == 0
    assert data["command"].endswith(" train.py") and sys.executable in data["command"]
    assert data["time_start"] <= data["time_end"]
    assert data["time_start"].endswith("Z")
    assert data["run"] == {
        "repository": "octo/iris",
        "commit": "a" * 40,
        "ref": "refs/heads/main",
        "run_id": "1234",
        "run_attempt": "2",
        "workflow_ref": "octo/iris/.github/workflows/ml.yml@refs/heads/main",
        "event": "push",
        "server_url": "https://github.com",
        "runner_os": "Linux",
        "runner_arch": "X64",
        "python_version": "3.12.1",
    }
    assert data["inputs"] == [
        {"path": "data/train.csv", "sha256": sha(repo / "data/train.csv"), "size": 8}
    ]
    assert data["params_files"] == [
        {
            "path": "params.yaml",
            "sha256": sha(repo / "params.yaml"),
            "size": (repo / "params.yaml").stat().st_size,
        }
    ]
    assert data["parameters"] == [
        {"name": "train.lr", "value": "0.2"},
        {"name": "train.epochs", "value": "3"},
        {"name": "model.layers", "value": "[4, 2]"},
        {"name": "extra", "value": "x"},
    ]
    model = repo / "model" / "model.bin"
    assert data["outputs"] == [
        {"path": "model/model.bin", "sha256": sha(model), "size": model.stat().st_size}
    ]
    assert data["metrics_files"] == ["metrics.json"]
    # The record reads back through the SBOM's own parser.
    parsed = parse_training_record(data)
    assert parsed.outputs[0].sha256 == sha(model)
    assert parsed.run.run_attempt == "2"
    written = outputs.read_text(encoding="utf-8")
    assert "record-sha256<<" in written
    assert sha(repo / "training-record.json") in written


def test_failed_command_still_writes_a_marked_record(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = usc_record(
        *BASE_ARGS, "--output", "r.training-record.json", "--", sys.executable, "train.py", "7"
    )
    assert code == 7
    data = load(repo / "r.training-record.json")
    assert data["status"] == "failed" and data["exit_code"] == 7
    assert "exit code 7" in capsys.readouterr().err


def test_failed_command_with_missing_output_records_no_hash(repo: Path) -> None:
    code = usc_record(
        "--output-model", "never/written.bin", "--", sys.executable, "-c", "import sys; sys.exit(3)"
    )
    assert code == 3
    data = load(repo / "training-record.json")
    assert data["outputs"] == [{"path": "never/written.bin"}]
    assert data["status"] == "failed"


def test_command_not_found_is_127(repo: Path) -> None:
    code = usc_record("--output-model", "m.bin", "--", "no-such-command-usc-test")
    assert code == training_run.EXIT_NOT_FOUND
    assert load(repo / "training-record.json")["exit_code"] == 127


def test_missing_output_after_success_is_an_error_and_writes_nothing(repo: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        usc_record("--output-model", "missing.bin", "--", sys.executable, "-c", "pass")
    assert exc.value.code == cli.EXIT_ERROR
    assert not (repo / "training-record.json").exists()


def test_missing_input_fails_before_the_command_runs(repo: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        usc_record(
            "--input",
            "data/nope.csv",
            "--output-model",
            "model/model.bin",
            "--",
            sys.executable,
            "train.py",
        )
    assert exc.value.code == cli.EXIT_ERROR
    assert not (repo / "model").exists(), "the training command must not have run"
    assert not (repo / "training-record.json").exists()


def test_inputs_are_hashed_as_the_command_found_them(repo: Path) -> None:
    before = sha(repo / "data" / "train.csv")
    code = usc_record(
        "--input",
        "data/train.csv",
        "--output-model",
        "model/model.bin",
        "--shell",
        "--command",
        f"'{sys.executable}' train.py && echo changed >> data/train.csv",
    )
    assert code == 0
    data = load(repo / "training-record.json")
    assert data["inputs"][0]["sha256"] == before != sha(repo / "data" / "train.csv")


def test_command_that_ran_elsewhere(repo: Path) -> None:
    (repo / "model").mkdir()
    (repo / "model" / "a.bin").write_bytes(b"a")
    (repo / "model" / "sub").mkdir()
    (repo / "model" / "sub" / "b.bin").write_bytes(b"b")
    code = usc_record(
        "--command",
        "python train.py --gpu",
        "--start",
        "2026-01-02T03:04:05+02:00",
        "--end",
        "2026-01-02T01:10:00Z",
        "--output-model",
        "model",
        "--input",
        "data",
    )
    assert code == 0
    data = load(repo / "training-record.json")
    assert data["command"] == "python train.py --gpu"
    assert data["time_start"] == "2026-01-02T01:04:05Z"
    assert data["time_end"] == "2026-01-02T01:10:00Z"
    # Directories stand for every file below them, sorted.
    assert [f["path"] for f in data["outputs"]] == ["model/a.bin", "model/sub/b.bin"]
    assert [f["path"] for f in data["inputs"]] == ["data/train.csv"]


def test_root_option_sets_paths_and_command_directory(tmp_path: Path, repo: Path) -> None:
    os.chdir(tmp_path)
    code = usc_record("--root", "repo", *BASE_ARGS, "--", sys.executable, "train.py")
    assert code == 0
    data = load(repo / "training-record.json")
    assert data["outputs"][0]["path"] == "model/model.bin"
    # An absolute path inside the root is recorded relative to it.
    code = usc_record(
        "--root", str(repo), "--output-model", str(repo / "model" / "model.bin"), "--command", "x"
    )
    assert code == 0
    assert load(repo / "training-record.json")["outputs"][0]["path"] == "model/model.bin"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--output-model", "../outside.bin", "--command", "x"], "outside the repository"),
        (["--output-model", "/etc/passwd", "--command", "x"], "outside the repository"),
        (["--input", "..", "--output-model", "m", "--command", "x"], "outside the repository"),
        (["--input", ".", "--output-model", "m", "--command", "x"], "root itself"),
        (["--output-model", "m"], "no command"),
        (["--output-model", "m", "--command", "x", "--", "y"], "not both"),
        (["--output-model", "m", "--start", "2026-01-01T00:00:00Z", "--", "y"], "ran elsewhere"),
        (["--command", "x"], "no --output-model"),
        (["--output-model", "m", "--command", " "], "--command is empty"),
        (["--output-model", "m", "--command", "x", "--start", "yesterday"], "not an ISO-8601"),
        (["--output-model", "m", "--command", "x", "--start", "2026-01-01T00:00:00"], "zone"),
        (
            [
                "--output-model",
                "m",
                "--command",
                "x",
                "--start",
                "2026-01-02T00:00:00Z",
                "--end",
                "2026-01-01T00:00:00Z",
            ],
            "before --start",
        ),
        (["--output-model", "m", "--command", "x", "--param", "novalue"], "KEY=VALUE"),
        (["--output-model", "m", "--command", "x", "--param", "=v"], "KEY=VALUE"),
    ],
)
def test_usage_errors(repo: Path, args: list[str], message: str) -> None:
    parser = cli.build_parser()
    ns = parser.parse_args(["record", *args])
    with pytest.raises(UsageError, match=message):
        record.build_record(ns, environ={})
    assert not (repo / "training-record.json").exists()


def test_symlink_out_of_the_root_is_refused(repo: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.bin"
    secret.write_bytes(b"x")
    (repo / "link.bin").symlink_to(secret)
    with pytest.raises(UsageError, match="outside the repository"):
        training_run.repo_relative(repo, "link.bin", "--output-model")


def test_bad_params_file_is_a_runtime_error(repo: Path) -> None:
    (repo / "params.yaml").write_text("- a list\n- not a mapping\n", encoding="utf-8")
    (repo / "m.bin").write_bytes(b"m")
    with pytest.raises(SystemExit) as exc:
        usc_record("--params", "params.yaml", "--output-model", "m.bin", "--command", "x")
    assert exc.value.code == cli.EXIT_ERROR


def test_run_context_outside_actions_uses_git_head(repo: Path) -> None:
    assert training_run.run_context({}, None, "b" * 40).commit == "b" * 40
    ctx = training_run.run_context(GITHUB_ENV, "3.11.0", "b" * 40)
    assert ctx.commit == "a" * 40 and ctx.runner_arch == "X64" and ctx.python_version == "3.11.0"
    empty = training_run.run_context({"GITHUB_SHA": ""}, None)
    assert empty.commit is None and empty.repository is None


def test_job_python_version_reads_the_python_on_path() -> None:
    version = training_run.job_python_version({"PATH": str(Path(sys.executable).parent)})
    assert version == ".".join(str(v) for v in sys.version_info[:3])
    assert training_run.job_python_version({"PATH": ""}) is None


def test_merge_params_overrides_in_place_and_appends() -> None:
    assert training_run.merge_params([("a", "1"), ("b", "2")], [("b", "3"), ("c", "4")]) == (
        ("a", "1"),
        ("b", "3"),
        ("c", "4"),
    )


def test_sbom_reads_the_record_as_formulation(repo: Path, valid_cyclonedx: Any) -> None:
    """The record `usc record` writes is what `usc sbom` turns into formulation and lineage."""
    from unified_supply_chain.options import ScanOptions
    from unified_supply_chain.pipeline import generate

    code = usc_record(*BASE_ARGS, "--", sys.executable, "train.py")
    assert code == 0
    document = generate(ScanOptions(root=repo, cache_dir=None)).document
    valid_cyclonedx(document)
    text = json.dumps(document.get("formulation", []))
    assert "model/model.bin" in text or "model.bin" in text
    assert sha(repo / "model" / "model.bin") in json.dumps(document)


def test_hash_cache_is_used_and_saved(repo: Path) -> None:
    from unified_supply_chain.hashing.cache import HashCache

    cache_dir = repo.parent / "cache"
    assert usc_record(*BASE_ARGS, "--", sys.executable, "train.py") == 0
    first = load(repo / "training-record.json")
    # Files written a moment ago are never cached (their mtime could still move): age them.
    for rel in ("data/train.csv", "params.yaml", "model/model.bin"):
        os.utime(repo / rel, (1_700_000_000, 1_700_000_000))
    args = ("--cache-dir", str(cache_dir), *BASE_ARGS[:6], "--command", "x")
    assert usc_record(*args) == 0
    assert len(HashCache.open(cache_dir, repo)) == 3  # dataset, params file, model
    assert usc_record(*args) == 0
    cache = HashCache.open(cache_dir, repo)
    assert len(cache) == 3
    second = load(repo / "training-record.json")
    assert second["inputs"] == first["inputs"] and second["outputs"] == first["outputs"]


def test_shell_runs_the_command_text_and_records_it_as_written(repo: Path) -> None:
    text = f"'{sys.executable}' train.py | cat && test -f model/model.bin"
    code = usc_record("--output-model", "model/model.bin", "--shell", "--command", text)
    assert code == 0
    data = load(repo / "training-record.json")
    assert data["command"] == text
    assert data["time_start"] and data["time_end"]
    assert data["outputs"][0]["sha256"] == sha(repo / "model" / "model.bin")
    # pipefail: a failure on the left of a pipe is the command's failure.
    code = usc_record("--output-model", "model/model.bin", "--shell", "--command", "exit 5 | cat")
    assert code == 5
    assert load(repo / "training-record.json")["status"] == "failed"


def test_shell_needs_command_and_no_times(repo: Path) -> None:
    parser = cli.build_parser()
    with pytest.raises(UsageError, match="give --command"):
        record.build_record(
            parser.parse_args(["record", "--output-model", "m", "--shell"]), environ={}
        )
    ns = parser.parse_args(
        [
            "record",
            "--output-model",
            "m",
            "--shell",
            "--command",
            "x",
            "--end",
            "2026-01-01T00:00:00Z",
        ]
    )
    with pytest.raises(UsageError, match="ran elsewhere"):
        record.build_record(ns, environ={})
