"""Lineage through the whole `usc sbom` pipeline: a DVC project (with an absent model declared as
an artifact), an MLflow project, and lockfile pins winning over manifest ranges."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from tests.helpers import components_by_path, prop, props, sbom_of

MODEL_MD5 = "0123456789abcdef0123456789abcdef"


def _sbom(root: Path, tmp_path: Path) -> dict[str, Any]:
    return sbom_of(root, tmp_path / "out.cdx.json")


def _deps(document: dict[str, Any]) -> dict[str, set[str]]:
    return {d["ref"]: set(d.get("dependsOn", [])) for d in document["dependencies"]}


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def test_dvc_project_with_absent_model(tmp_path: Path) -> None:
    root = tmp_path / "dvc-project"
    _write(
        root,
        {
            "params.yaml": "train:\n  lr: 0.01\n  epochs: 5\nunused: 1\n",
            "data/train.csv": "x,y\n1,0\n2,1\n",
            "train.py": "print('train')\n",
            "dvc.yaml": (
                "stages:\n  train:\n    cmd: python train.py\n    deps:\n      - train.py\n"
                "      - data/train.csv\n    params:\n      - train\n    outs:\n"
                "      - models/model.pkl\n    metrics:\n      - metrics.json:\n"
                "          cache: false\n"
                "artifacts:\n  churn-model:\n    path: models/model.pkl\n    type: model\n"
            ),
            "dvc.lock": (
                "schema: '2.0'\nstages:\n  train:\n    cmd: python train.py\n    deps:\n"
                "    - path: data/train.csv\n      md5: 11111111111111111111111111111111\n"
                "      size: 12\n    params:\n      params.yaml:\n        train.lr: 0.01\n"
                "        train.epochs: 5\n    outs:\n    - path: models/model.pkl\n"
                f"      md5: {MODEL_MD5}\n      size: 2048\n"
            ),
            "metrics.json": '{"accuracy": 0.91, "test": {"auc": 0.95}}\n',
        },
    )
    document = _sbom(root, tmp_path)
    by_path = components_by_path(document)
    model = by_path["models/model.pkl"]
    assert model["type"] == "machine-learning-model"
    assert model["name"] == "churn-model"
    assert {"alg": "MD5", "content": MODEL_MD5} in model["hashes"]
    assert prop(model, "usc:content-present") == "false"
    assert prop(model, "usc:storage") == "dvc"
    deps = _deps(document)
    assert {"dataset:data/train.csv", "hyperparameters:params.yaml"} <= deps[model["bom-ref"]]
    metrics = {
        (m["type"], m.get("slice")): m["value"]
        for m in model["modelCard"]["quantitativeAnalysis"]["performanceMetrics"]
    }
    assert metrics[("accuracy", None)] == "0.91"
    assert metrics[("auc", "test")] == "0.95"
    # The script a stage depends on is not mistaken for an absent dataset.
    assert "train.py" not in by_path
    tasks = [t for wf in document["formulation"][0]["workflows"] for t in wf["tasks"]]
    train = next(t for t in tasks if t["name"] == "train")
    assert train["steps"][0]["commands"][0]["executed"] == "python train.py"
    assert {"resource": {"ref": "dataset:data/train.csv"}} in train["inputs"]
    params = next(i["parameters"] for i in train["inputs"] if "parameters" in i)
    assert {"name": "train.lr", "value": "0.01"} in params
    assert train["outputs"] == [{"type": "artifact", "resource": {"ref": model["bom-ref"]}}]
    card = {p["name"]: p["value"] for p in model["modelCard"]["properties"]}
    assert card["cdx:ai-ml:model:hyperparameter:train.epochs"] == "5"
    assert "cdx:ai-ml:model:hyperparameter:unused" not in card


def test_declared_model_with_unknown_extension_is_hashed(tmp_path: Path) -> None:
    root = tmp_path / "p"
    _write(
        root,
        {
            "dvc.yaml": "artifacts:\n  ranker:\n    path: out/ranker.weights\n    type: model\n",
            "out/ranker.weights": "opaque bytes of an in-house format",
        },
    )
    document = _sbom(root, tmp_path)
    model = components_by_path(document)["out/ranker.weights"]
    assert model["type"] == "machine-learning-model"
    digest = hashlib.sha256((root / "out/ranker.weights").read_bytes()).hexdigest()
    assert {"alg": "SHA-256", "content": digest} in model["hashes"]
    assert prop(model, "usc:content-present") is None


def test_mlflow_project(tmp_path: Path) -> None:
    root = tmp_path / "mlflow-project"
    run_id = "a" * 32
    _write(
        root,
        {
            "MLproject": (
                "name: demo\nentry_points:\n  main:\n    parameters:\n"
                "      alpha: {type: float, default: 0.5}\n    command: python train.py {alpha}\n"
            ),
            "model/MLmodel": (
                f"artifact_path: model\nrun_id: {run_id}\nflavors:\n  python_function:\n"
                "    loader_module: mlflow.sklearn\n  sklearn:\n    sklearn_version: 1.4.0\n"
                'signature:\n  inputs: \'[{"name": "x", "type": "double"}]\'\n'
                '  outputs: \'[{"type": "long"}]\'\n'
            ),
            "model/model.pkl": "",
            f"mlruns/0/{run_id}/meta.yaml": (
                f"run_id: {run_id}\nrun_name: nightly\nexperiment_id: '0'\nstatus: 3\n"
                "start_time: 1767225600000\nend_time: 1767229200000\n"
            ),
            f"mlruns/0/{run_id}/params/alpha": "0.7",
            f"mlruns/0/{run_id}/metrics/rmse": "1767229000000 0.42 1\n",
        },
    )
    (root / "model/model.pkl").write_bytes(b"\x80\x04K\x01.")
    document = _sbom(root, tmp_path)
    by_path = components_by_path(document)
    model = by_path["model"]
    assert model["type"] == "machine-learning-model"
    metrics = model["modelCard"]["quantitativeAnalysis"]["performanceMetrics"]
    assert {"type": "rmse", "value": "0.42"} in [
        {k: m[k] for k in ("type", "value")} for m in metrics
    ]
    assert "inputs" in model["modelCard"]["modelParameters"]
    hp = by_path["MLproject"]
    values = {p["name"]: p["value"] for p in hp["data"][0]["contents"]["properties"]}
    assert values["main.alpha"] == "0.5"
    tasks = [t for wf in document["formulation"][0]["workflows"] for t in wf["tasks"]]
    run = next(t for t in tasks if t["name"] == "nightly")
    params = next(i["parameters"] for i in run["inputs"] if "parameters" in i)
    assert {"name": "alpha", "value": "0.7"} in params
    assert run["outputs"] == [{"type": "artifact", "resource": {"ref": model["bom-ref"]}}]


def test_lockfile_pin_replaces_manifest_range(tmp_path: Path) -> None:
    root = tmp_path / "app"
    _write(
        root,
        {
            "pyproject.toml": (
                '[project]\nname = "app"\nversion = "0.1"\ndependencies = ["requests>=2"]\n'
            ),
            "poetry.lock": (
                '[[package]]\nname = "requests"\nversion = "2.31.0"\ndescription = ""\n'
                'optional = false\npython-versions = ">=3.7"\nfiles = []\n\n'
                '[metadata]\nlock-version = "2.0"\npython-versions = "^3.10"\ncontent-hash = "x"\n'
            ),
        },
    )
    document = _sbom(root, tmp_path)
    libs = [c for c in document["components"] if c["type"] == "library"]
    assert [c["purl"] for c in libs] == ["pkg:pypi/requests@2.31.0"]
    app = document["metadata"]["component"]["bom-ref"]
    assert "pkg:pypi/requests@2.31.0" in _deps(document)[app]


def test_training_record_becomes_formulation_with_run_and_status(tmp_path: Path) -> None:
    root = tmp_path / "rec"
    _write(root, {"data/train.csv": "x\n1\n", "params.yaml": "lr: 0.1\n"})
    import numpy as np
    from safetensors.numpy import save_file

    (root / "model").mkdir()
    save_file({"w": np.zeros(2, dtype=np.float32)}, str(root / "model/m.safetensors"))
    model_sha = hashlib.sha256((root / "model/m.safetensors").read_bytes()).hexdigest()
    record = {
        "schema": "unified-supply-chain/training-record@1",
        "name": "train",
        "command": "python train.py",
        "time_start": "2026-01-01T00:00:00Z",
        "time_end": "2026-01-01T00:05:00Z",
        "run": {
            "repository": "octo/app",
            "commit": "c" * 40,
            "run_id": "77",
            "run_attempt": "2",
            "event": "push",
        },
        "inputs": [{"path": "data/train.csv", "sha256": "0" * 64}],
        "params_files": [{"path": "params.yaml"}],
        "parameters": [{"name": "lr", "value": "0.1"}],
        "outputs": [{"path": "model/m.safetensors", "sha256": model_sha}],
        "status": "failed",
        "exit_code": 3,
    }
    (root / "train.training-record.json").write_text(json.dumps(record))
    document = _sbom(root, tmp_path)
    model = components_by_path(document)["model/m.safetensors"]
    assert {"dataset:data/train.csv", "hyperparameters:params.yaml"} <= _deps(document)[
        model["bom-ref"]
    ]
    (workflow,) = document["formulation"][0]["workflows"]
    assert workflow["uid"] == "octo/app/actions/runs/77/attempts/2"
    (task,) = workflow["tasks"]
    # The dataset changed since the record was written: said on the dataset component.
    dataset = components_by_path(document)["data/train.csv"]
    assert any("content differs" in w for w in props(dataset, "usc:warning"))
    task_props = {p["name"]: p["value"] for p in task["properties"]}
    assert task_props["usc:training-status"] == "failed"
    assert task_props["usc:exit-code"] == "3"
    run_props = {p["name"]: p["value"] for p in workflow["properties"]}
    assert run_props["usc:run:commit"] == "c" * 40


def test_thousands_of_libraries_all_serialised_with_their_edges(tmp_path: Path) -> None:
    """The BOM's dependency registry is indexed (the library's own is quadratic): every library
    of a large lockfile-sized manifest is written, with the application's edge to it."""
    root = tmp_path / "big"
    _write(root, {"requirements.txt": "\n".join(f"pkg{i}==1.0.{i}" for i in range(3000))})
    document = _sbom(root, tmp_path)
    purls = {c["purl"] for c in document["components"] if c["type"] == "library"}
    assert len(purls) == 3000
    app = document["metadata"]["component"]["bom-ref"]
    assert _deps(document)[app] == purls
    assert len(document["dependencies"]) == 3001
