"""`usc sbom` on the bundled example: model with metrics, dataset, every hyperparameter, libraries,
lineage edges and formulation; reproducible output; errors and exit codes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import EXAMPLE, assert_valid_cyclonedx, components_by_path, prop, run_usc


@pytest.fixture(scope="module")
def example_sbom(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("sbom") / "example.cdx.json"
    result = run_usc("sbom", str(EXAMPLE), "-o", str(out), "--no-cache")
    assert result.returncode == 0, result.stderr
    # The human summary goes to stderr, nothing to stdout.
    assert result.stdout == ""
    assert "1 model, 2 datasets, 1 hyperparameter set, 3 libraries" in result.stderr
    document: dict[str, Any] = json.loads(out.read_text())
    assert_valid_cyclonedx(document)
    return document


def _flatten(value: Any, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(value, bool):
        out[prefix] = "true" if value else "false"
    else:
        out[prefix] = str(value)
    return out


def test_example_model(example_sbom: dict[str, Any]) -> None:
    by_path = components_by_path(example_sbom)
    model = by_path["model/model.safetensors"]
    assert model["type"] == "machine-learning-model"
    digest = hashlib.sha256((EXAMPLE / "model/model.safetensors").read_bytes()).hexdigest()
    assert {"alg": "SHA-256", "content": digest} in model["hashes"]
    assert model["licenses"] == [{"license": {"id": "Apache-2.0"}}]
    metrics = json.loads((EXAMPLE / "metrics.json").read_text())
    card_metrics = {
        (m["type"], m.get("slice")): m["value"]
        for m in model["modelCard"]["quantitativeAnalysis"]["performanceMetrics"]
    }
    assert float(card_metrics[("accuracy", None)]) == pytest.approx(metrics["accuracy"])
    assert ("accuracy", "species=virginica") in card_metrics
    params = model["modelCard"]["modelParameters"]
    assert params["task"] == "tabular-classification"
    assert {"ref": "dataset:data/train.csv"} in params["datasets"]


def test_example_hyperparameters_hold_every_value(example_sbom: dict[str, Any]) -> None:
    by_path = components_by_path(example_sbom)
    hp = by_path["params.yaml"]
    entry = hp["data"][0]
    assert entry["type"] == "configuration"
    got = {p["name"]: p["value"] for p in entry["contents"]["properties"]}
    expected = _flatten(yaml.safe_load((EXAMPLE / "params.yaml").read_text()))
    assert got == expected
    # The training stage's parameters are mirrored on the model card.
    model = by_path["model/model.safetensors"]
    card = {p["name"]: p["value"] for p in model["modelCard"]["properties"]}
    for key, value in expected.items():
        if key.startswith(("train.", "model.")):
            assert card[f"cdx:ai-ml:model:hyperparameter:{key}"] == value


def test_example_dataset_and_libraries(example_sbom: dict[str, Any]) -> None:
    by_path = components_by_path(example_sbom)
    train = by_path["data/train.csv"]
    assert train["type"] == "data" and train["data"][0]["type"] == "dataset"
    assert prop(train, "usc:rows") == "450"
    assert train["licenses"] == [{"license": {"id": "CC0-1.0"}}]
    purls = {c["purl"] for c in example_sbom["components"] if c["type"] == "library"}
    for line in (EXAMPLE / "requirements.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            assert f"pkg:pypi/{name.strip().lower()}@{version.strip()}" in purls


def test_example_lineage_edges(example_sbom: dict[str, Any]) -> None:
    deps = {d["ref"]: set(d.get("dependsOn", [])) for d in example_sbom["dependencies"]}
    app = example_sbom["metadata"]["component"]["bom-ref"]
    model = "model:model/model.safetensors"
    assert model in deps[app]
    assert {"dataset:data/train.csv", "hyperparameters:params.yaml"} <= deps[model]
    assert "pkg:pypi/numpy@2.4.6" in deps[app]
    tasks = {
        t["name"]: t for wf in example_sbom["formulation"][0]["workflows"] for t in wf["tasks"]
    }
    train = tasks["train"]
    assert "train.py" in train["steps"][0]["commands"][0]["executed"]
    assert {"resource": {"ref": "dataset:data/train.csv"}} in train["inputs"]
    assert train["outputs"] == [{"type": "artifact", "resource": {"ref": model}}]


def test_reproducible_runs_are_byte_identical(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    env = {"SOURCE_DATE_EPOCH": "1767225600"}
    for out in (a, b):
        result = run_usc(
            "sbom", str(EXAMPLE), "-o", str(out), "--reproducible", "-q", "--no-cache", env=env
        )
        assert result.returncode == 0, result.stderr
    assert a.read_bytes() == b.read_bytes()
    document = json.loads(a.read_text())
    assert document["metadata"]["timestamp"].startswith("2026-01-01T00:00:00")
    # A different input gives a different serial number.
    copy = tmp_path / "copy"
    shutil.copytree(EXAMPLE, copy)
    (copy / "params.yaml").write_text((copy / "params.yaml").read_text() + "extra: 1\n")
    c = tmp_path / "c.json"
    assert (
        run_usc(
            "sbom",
            str(copy),
            "-o",
            str(c),
            "--reproducible",
            "-q",
            "--no-cache",
            "--name",
            "iris-classifier",
            env=env,
        ).returncode
        == 0
    )
    assert json.loads(c.read_text())["serialNumber"] != document["serialNumber"]


def test_stdout_output(tmp_path: Path) -> None:
    result = run_usc("sbom", str(EXAMPLE), "-o", "-", "-q", "--no-cache")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["bomFormat"] == "CycloneDX"


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    out = tmp_path / "x.json"
    result = run_usc("sbom", str(tmp_path / "nope"), "-o", str(out))
    assert result.returncode == 2
    assert "does not exist" in result.stderr
    assert not out.exists()


def test_unwritable_output_is_an_error_and_keeps_the_old_file(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        # root ignores permission bits: make the output's directory a file instead.
        blocker = tmp_path / "blocker"
        blocker.write_text("x")
        result = run_usc("sbom", str(EXAMPLE), "-o", str(blocker / "out.json"), "-q", "--no-cache")
        assert result.returncode == 3
        assert "cannot write" in result.stderr
        assert blocker.read_text() == "x"
    # An existing SBOM is not clobbered when the run fails before writing.
    old = tmp_path / "old.json"
    old.write_text("previous sbom")
    result = run_usc("sbom", str(tmp_path / "missing"), "-o", str(old))
    assert result.returncode == 2
    assert old.read_text() == "previous sbom"
