"""The bundled example project really trains, evaluates and reproduces its committed outputs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import yaml

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "iris-classifier"
GENERATED = ("data/train.csv", "data/test.csv", "model/model.safetensors", "metrics.json")


def run(script: str, cwd: Path, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, script, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def rerun(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the example with every generated file deleted and rebuilt by its own scripts."""
    copy = tmp_path_factory.mktemp("example") / "iris-classifier"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    for rel in GENERATED:
        (copy / rel).unlink()
    run("data/generate.py", copy)
    run("train.py", copy)
    run("evaluate.py", copy)
    return copy


@pytest.mark.parametrize("rel", GENERATED)
def test_pipeline_reproduces_committed_outputs_byte_for_byte(rerun: Path, rel: str) -> None:
    assert (rerun / rel).read_bytes() == (EXAMPLE / rel).read_bytes()


def test_training_is_deterministic_and_uses_its_params(rerun: Path) -> None:
    run("train.py", rerun, "--out", "a.safetensors")
    run("train.py", rerun, "--out", "b.safetensors")
    assert (rerun / "a.safetensors").read_bytes() == (rerun / "b.safetensors").read_bytes()

    params = yaml.safe_load((rerun / "params.yaml").read_text())
    params["train"]["seed"] = 8
    (rerun / "other.yaml").write_text(yaml.safe_dump(params))
    run("train.py", rerun, "--params", "other.yaml", "--out", "c.safetensors")
    assert (rerun / "c.safetensors").read_bytes() != (rerun / "a.safetensors").read_bytes()


def test_options_redirect_inputs_and_outputs(rerun: Path) -> None:
    run("train.py", rerun, "--data", "data/test.csv", "--out", "on-test/model.safetensors")
    run(
        "evaluate.py",
        rerun,
        "--model",
        "on-test/model.safetensors",
        "--data",
        "data/train.csv",
        "--out",
        "swapped.json",
    )
    swapped = json.loads((rerun / "swapped.json").read_text())
    assert swapped["samples"] == 450
    assert swapped != json.loads((EXAMPLE / "metrics.json").read_text())


def test_committed_metrics_pass_a_090_gate_and_fail_a_099_gate() -> None:
    metrics = json.loads((EXAMPLE / "metrics.json").read_text())
    assert 0.9 <= metrics["accuracy"] < 0.99
    assert metrics["f1_macro"] >= 0.9
    assert 0 < metrics["loss"] < 0.5
    assert metrics["samples"] == 150
    assert set(metrics["slices"]) == {
        "species=setosa",
        "species=versicolor",
        "species=virginica",
    }
    assert sum(s["support"] for s in metrics["slices"].values()) == 150
    assert all(0.9 <= s["accuracy"] <= 1.0 for s in metrics["slices"].values())


def test_model_file_is_safetensors_with_descriptive_metadata() -> None:
    from safetensors import safe_open
    from safetensors.numpy import load_file

    path = EXAMPLE / "model" / "model.safetensors"
    assert path.stat().st_size < 1024 * 1024
    tensors = load_file(str(path))
    assert {k: v.shape for k, v in tensors.items()} == {
        "weight": (4, 3),
        "bias": (3,),
        "feature_mean": (4,),
        "feature_std": (4,),
    }
    with safe_open(str(path), framework="np") as fh:
        meta = fh.metadata()
    assert meta["architecture"] == "softmax-regression"
    assert meta["framework"] == "numpy"
    assert json.loads(meta["classes"]) == ["setosa", "versicolor", "virginica"]
    assert json.loads(meta["features"]) == [
        "sepal_length",
        "sepal_width",
        "petal_length",
        "petal_width",
    ]
    # Canonical header: metadata keys sorted, so the bytes do not depend on hash-map order.
    header = json.loads(path.read_bytes()[8 : 8 + int.from_bytes(path.read_bytes()[:8], "little")])
    assert list(header["__metadata__"]) == sorted(header["__metadata__"])


def test_model_card_front_matter_agrees_with_metrics_json() -> None:
    text = (EXAMPLE / "model" / "README.md").read_text()
    assert text.startswith("---\n")
    front = yaml.safe_load(text.split("---\n", 2)[1])
    assert front["license"] == "apache-2.0"
    assert front["pipeline_tag"] == "tabular-classification"
    assert front["datasets"] == ["synthetic-iris"]
    card = {m["type"]: m["value"] for m in front["model-index"][0]["results"][0]["metrics"]}
    metrics = json.loads((EXAMPLE / "metrics.json").read_text())
    assert card == {
        "accuracy": metrics["accuracy"],
        "f1": metrics["f1_macro"],
        "loss": metrics["loss"],
    }


def test_dvc_pipeline_names_real_files_and_param_sections() -> None:
    dvc = yaml.safe_load((EXAMPLE / "dvc.yaml").read_text())
    params = yaml.safe_load((EXAMPLE / "params.yaml").read_text())
    assert list(dvc["stages"]) == ["prepare", "train", "evaluate"]
    for stage in dvc["stages"].values():
        for dep in stage.get("deps", []):
            assert (EXAMPLE / dep).is_file(), dep
        for section in stage.get("params", []):
            assert section in params, section
        for out in stage.get("outs", []) + stage.get("metrics", []):
            (name,) = out if isinstance(out, dict) else [out]
            assert (EXAMPLE / name).is_file(), name
    assert dvc["stages"]["train"]["params"] == ["train", "model"]
    assert dvc["artifacts"]["iris-classifier"] == {
        **dvc["artifacts"]["iris-classifier"],
        "path": "model/model.safetensors",
        "type": "model",
    }


def test_dataset_descriptor_and_sizes() -> None:
    desc = yaml.safe_load((EXAMPLE / "data" / "dataset.yaml").read_text())
    assert desc["license"] == "CC0-1.0"
    assert desc["name"] == "synthetic-iris"
    for entry in desc["files"]:
        lines = (EXAMPLE / "data" / entry["path"]).read_text().splitlines()
        assert len(lines) - 1 == entry["rows"]
        assert lines[0] == "sepal_length,sepal_width,petal_length,petal_width,species"
    total = sum((EXAMPLE / "data" / f).stat().st_size for f in ("train.csv", "test.csv"))
    assert total < 100 * 1024


def test_requirements_are_pinned_to_the_installed_versions() -> None:
    pins = dict(
        line.split("==")
        for line in (EXAMPLE / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert set(pins) == {"numpy", "safetensors", "PyYAML"}
    for name, version in pins.items():
        assert metadata.version(name) == version, name
