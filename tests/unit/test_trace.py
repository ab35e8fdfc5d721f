"""`usc trace`: file and digest lookups in crafted SBOMs (with a formulation), directories of
SBOMs, nested file components, and "not found" with exit status 1."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from unified_supply_chain.cli import main
from unified_supply_chain.compare.trace import load_sboms, parse_digest, sha256_of, trace
from unified_supply_chain.errors import UsageError

MODEL_BYTES = b"model weights v1"
MODEL_SHA = hashlib.sha256(MODEL_BYTES).hexdigest()
SHARD_BYTES = b"shard 2 of a multi-file model"
SHARD_SHA = hashlib.sha256(SHARD_BYTES).hexdigest()
DATA_SHA = "d" * 64
DATA_MD5 = "e" * 32


def prop(name: str, value: str) -> dict[str, str]:
    return {"name": name, "value": value}


def crafted_sbom(version: str = "1.2.0", timestamp: str = "2026-11-01T10:00:00Z") -> dict[str, Any]:
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": f"urn:uuid:00000000-0000-4000-8000-00000000000{version[-1]}",
        "version": 1,
        "metadata": {
            "timestamp": timestamp,
            "component": {
                "type": "application",
                "bom-ref": "app",
                "name": "iris-service",
                "version": version,
            },
            "properties": [
                prop("usc:run:repository", "acme/iris"),
                prop("usc:run:commit", "c0ffee" * 6 + "abcd"),
                prop("usc:run:run-id", "999"),
                prop("usc:run:event", "release"),
            ],
        },
        "components": [
            {
                "type": "machine-learning-model",
                "bom-ref": "model:models/iris.joblib",
                "name": "iris",
                "version": version,
                "hashes": [{"alg": "SHA-256", "content": MODEL_SHA}],
                "properties": [
                    prop("usc:kind", "model"),
                    prop("usc:path", "models/iris.joblib"),
                    prop("usc:format", "joblib"),
                    prop("usc:storage", "git"),
                ],
                "modelCard": {
                    "modelParameters": {"datasets": [{"ref": "dataset:data/iris.csv"}]},
                    "quantitativeAnalysis": {
                        "performanceMetrics": [
                            {"type": "accuracy", "value": "0.967", "slice": "test"}
                        ]
                    },
                    "properties": [prop("cdx:ai-ml:model:hyperparameter:max_iter", "200")],
                },
            },
            {
                "type": "machine-learning-model",
                "bom-ref": "model:models/llm",
                "name": "llm",
                "properties": [prop("usc:kind", "model"), prop("usc:path", "models/llm")],
                "components": [
                    {
                        "type": "file",
                        "name": "models/llm/shard-2.safetensors",
                        "hashes": [{"alg": "SHA-256", "content": SHARD_SHA}],
                        "properties": [prop("usc:path", "models/llm/shard-2.safetensors")],
                    }
                ],
            },
            {
                "type": "data",
                "bom-ref": "dataset:data/iris.csv",
                "name": "iris.csv",
                "hashes": [
                    {"alg": "SHA-256", "content": DATA_SHA},
                    {"alg": "MD5", "content": DATA_MD5},
                ],
                "data": [{"type": "dataset", "name": "iris.csv"}],
                "properties": [
                    prop("usc:kind", "dataset"),
                    prop("usc:path", "data/iris.csv"),
                    prop("usc:storage", "dvc"),
                ],
            },
            {
                "type": "data",
                "bom-ref": "hyperparameters:params.yaml",
                "name": "params.yaml",
                "data": [
                    {
                        "type": "configuration",
                        "name": "params.yaml",
                        "contents": {
                            "properties": [prop("train.C", "1.0"), prop("train.max_iter", "200")]
                        },
                    }
                ],
                "properties": [
                    prop("usc:kind", "hyperparameters"),
                    prop("usc:path", "params.yaml"),
                ],
            },
        ],
        "dependencies": [
            {"ref": "app", "dependsOn": ["model:models/iris.joblib", "model:models/llm"]},
            {
                "ref": "model:models/iris.joblib",
                "dependsOn": ["dataset:data/iris.csv", "hyperparameters:params.yaml"],
            },
        ],
        "formulation": [
            {
                "bom-ref": "formulation",
                "workflows": [
                    {
                        "bom-ref": "workflow:training-record.json",
                        "uid": "acme/iris/actions/runs/4242/attempts/2",
                        "name": "training-record.json",
                        "taskTypes": ["build"],
                        "trigger": {"bom-ref": "t", "uid": "push:abc", "type": "webhook"},
                        "tasks": [
                            {
                                "bom-ref": "task:train",
                                "uid": "task:train",
                                "name": "train",
                                "taskTypes": ["build"],
                                "steps": [
                                    {"name": "train", "commands": [{"executed": "python train.py"}]}
                                ],
                                "inputs": [
                                    {"resource": {"ref": "dataset:data/iris.csv"}},
                                    {"parameters": [{"name": "train.C", "value": "1.0"}]},
                                ],
                                "outputs": [
                                    {
                                        "type": "artifact",
                                        "resource": {"ref": "model:models/iris.joblib"},
                                    }
                                ],
                                "timeStart": "2026-11-01T09:00:00Z",
                                "timeEnd": "2026-11-01T09:05:00Z",
                            }
                        ],
                        "properties": [
                            prop("usc:run:repository", "acme/iris"),
                            prop("usc:run:commit", "abc1234"),
                            prop("usc:run:run-id", "4242"),
                            prop("usc:run:run-attempt", "2"),
                            prop("usc:run:event", "push"),
                            prop("usc:run:server-url", "https://github.example"),
                        ],
                    }
                ],
            }
        ],
    }


@pytest.fixture
def sbom_file(tmp_path: Path) -> Path:
    path = tmp_path / "sbom.cdx.json"
    path.write_text(json.dumps(crafted_sbom()))
    return path


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["trace", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_trace_file_json(tmp_path: Path, sbom_file: Path, capsys: Any) -> None:
    deployed = tmp_path / "deployed.bin"
    deployed.write_bytes(MODEL_BYTES)
    code, out, _ = run_cli(capsys, str(deployed), "--sbom", str(sbom_file), "--format", "json")
    assert code == 0
    answer = json.loads(out)
    assert answer["found"] is True and answer["sha256"] == MODEL_SHA
    (match,) = answer["matches"]
    assert match["component"]["name"] == "iris"
    assert match["component"]["path"] == "models/iris.joblib"
    assert match["component"]["format"] == "joblib"
    assert match["sbom"]["release"] == {"name": "iris-service", "version": "1.2.0"}
    assert match["sbom"]["serialNumber"].startswith("urn:uuid:")
    assert match["commit"] == "abc1234"
    assert match["run"]["url"] == "https://github.example/acme/iris/actions/runs/4242/attempts/2"
    assert match["sbom_run"]["run-id"] == "999"
    (dataset,) = match["datasets"]
    assert dataset["path"] == "data/iris.csv"
    assert {"alg": "SHA-256", "content": DATA_SHA} in dataset["hashes"]
    assert {"alg": "MD5", "content": DATA_MD5} in dataset["hashes"]
    sets = {h["name"]: h["values"] for h in match["hyperparameters"]}
    assert sets["params.yaml"] == {"train.C": "1.0", "train.max_iter": "200"}
    assert sets["model card"] == {"max_iter": "200"}
    assert match["metrics"] == [{"type": "accuracy", "value": "0.967", "slice": "test"}]
    (task,) = match["training"]
    assert task["commands"] == ["python train.py"]
    assert task["parameters"] == {"train.C": "1.0"}
    assert task["trigger"] == {"uid": "push:abc", "type": "webhook"}


def test_trace_digest_text(sbom_file: Path, capsys: Any) -> None:
    code, out, _ = run_cli(capsys, f"sha256:{MODEL_SHA}", "--sbom", str(sbom_file))
    assert code == 0
    assert "iris 1.2.0 (model)" in out
    assert "release          iris-service 1.2.0" in out
    assert "commit           abc1234" in out
    assert f"sha256:{DATA_SHA}" in out
    assert "train.max_iter = 200" in out
    assert "accuracy = 0.967 [test]" in out
    assert "python train.py" in out
    assert "actions/runs/4242/attempts/2 (push)" in out


def test_not_found_exits_1(tmp_path: Path, sbom_file: Path, capsys: Any) -> None:
    other = tmp_path / "other.bin"
    other.write_bytes(b"something else")
    code, out, err = run_cli(capsys, str(other), "--sbom", str(sbom_file))
    assert code == 1
    assert out == ""
    assert "was not found in 1 SBOM(s)" in err
    code, out, _ = run_cli(
        capsys, "sha256:" + "0" * 64, "--sbom", str(sbom_file), "--format", "json"
    )
    assert code == 1
    assert json.loads(out)["found"] is False


def test_directory_of_sboms_and_nested_files(tmp_path: Path, capsys: Any) -> None:
    assets = tmp_path / "assets"
    (assets / "v1").mkdir(parents=True)
    (assets / "v2").mkdir()
    (assets / "v1" / "sbom.cdx.json").write_text(
        json.dumps(crafted_sbom("1.0.0", "2026-01-01T00:00:00Z"))
    )
    (assets / "v2" / "bom.json").write_text(
        json.dumps(crafted_sbom("2.0.0", "2026-06-01T00:00:00Z"))
    )
    (assets / "notes.json").write_text('{"not": "an sbom"}')
    (assets / "broken.json").write_text("{")
    code, out, err = run_cli(capsys, MODEL_SHA, "--sbom", str(assets), "--format", "json")
    assert code == 0
    matches = json.loads(out)["matches"]
    assert [m["sbom"]["release"]["version"] for m in matches] == ["2.0.0", "1.0.0"]
    assert "notes.json" in err and "broken.json" in err
    # A shard of a multi-file model is reported on the model, naming the file.
    shard = tmp_path / "shard.safetensors"
    shard.write_bytes(SHARD_BYTES)
    code, out, _ = run_cli(capsys, str(shard), "--sbom", str(assets / "v1"), "--format", "json")
    (match,) = json.loads(out)["matches"]
    assert match["component"]["name"] == "llm"
    assert match["component"]["matched_file"]["path"] == "models/llm/shard-2.safetensors"
    assert match["datasets"] == [] and match["training"] == []


def test_usage_errors(tmp_path: Path, sbom_file: Path, capsys: Any) -> None:
    with pytest.raises(SystemExit) as info:
        main(["trace", "nope-not-a-file", "--sbom", str(sbom_file)])
    assert info.value.code == 2
    not_sbom = tmp_path / "x.json"
    not_sbom.write_text("[]")
    with pytest.raises(UsageError, match="not a CycloneDX"):
        load_sboms([not_sbom])
    with pytest.raises(UsageError, match="no such file"):
        load_sboms([tmp_path / "missing"])


def test_library_helpers(tmp_path: Path) -> None:
    assert parse_digest("sha256:" + "A" * 64) == "a" * 64
    assert parse_digest("md5:abc") is None
    f = tmp_path / "f"
    f.write_bytes(MODEL_BYTES)
    assert sha256_of(f) == MODEL_SHA
    sboms, skipped = load_sboms([tmp_path])
    assert sboms == [] and skipped == []
    assert trace(MODEL_SHA, []) == []


def test_trace_on_a_pipeline_generated_sbom(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The example project through `usc sbom` (as in CI), then `usc trace` on its model file."""
    import shutil

    example = Path(__file__).resolve().parents[2] / "examples" / "iris-classifier"
    repo = tmp_path / "iris"
    shutil.copytree(example, repo)
    for name, value in {
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": "acme/iris",
        "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
        "GITHUB_RUN_ID": "31337",
        "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_EVENT_NAME": "release",
        "GITHUB_SERVER_URL": "https://github.com",
    }.items():
        monkeypatch.setenv(name, value)
    out_dir = tmp_path / "release-assets"
    out_dir.mkdir()
    sbom_path = out_dir / "iris.cdx.json"
    assert main(["sbom", str(repo), "-o", str(sbom_path), "--app-version", "3.1.0"]) == 0
    capsys.readouterr()

    model = repo / "model" / "model.safetensors"
    code, out, _ = run_cli(capsys, str(model), "--sbom", str(out_dir), "--format", "json")
    assert code == 0
    (match,) = json.loads(out)["matches"]
    assert match["component"]["path"] == "model/model.safetensors"
    assert match["sbom"]["release"]["version"] == "3.1.0"
    assert match["commit"] == "0123456789abcdef0123456789abcdef01234567"
    assert match["run"]["url"] == "https://github.com/acme/iris/actions/runs/31337/attempts/1"
    train_sha = sha256_of(repo / "data" / "train.csv")
    hashes = {h["content"] for d in match["datasets"] for h in d["hashes"]}
    assert train_sha in hashes
    values = {k: v for h in match["hyperparameters"] for k, v in h["values"].items()}
    assert values["train.learning_rate"] == "0.1"
    assert any(m["type"] == "accuracy" for m in match["metrics"])
    assert match["training"] and match["training"][0]["commands"]

    code, text, _ = run_cli(capsys, str(model), "--sbom", str(sbom_path))
    assert code == 0
    assert f"sha256:{train_sha}" in text
    assert "train.learning_rate = 0.1" in text
