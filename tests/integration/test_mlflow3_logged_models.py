"""MLflow 3 logged models (`mlruns/<experiment>/models/m-<id>/`) as models of the SBOM: named by
their logged name, identified by model id, linked to the run that made them, with their own
params and metrics. The store is written as mlflow-skinny 3.18's FileStore writes it
(tests/builders/mlflow3.py names the source functions)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.builders.mlflow3 import EXPERIMENT, Logged, write_store
from tests.helpers import prop, sbom_of
from unified_supply_chain.sources.lineage.mlflow import read_mlflow
from unified_supply_chain.sources.lineage.mlflow.logged_models import read_logged_models

RUN = "fd3bf9800c7a4ffd9a26c66bc9c90ba9"
M1 = "m-4e2799ca3b374957b4822aed318d5ca3"
M2 = "m-0b1c2d3e4f5a46b7889900aabbccddee"


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _sbom(root: Path, tmp_path: Path) -> dict[str, Any]:
    return sbom_of(root, tmp_path / "out.cdx.json")


def _models(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in document["components"] if c["type"] == "machine-learning-model"}


def _metrics(component: dict[str, Any]) -> dict[str, str]:
    qa = component.get("modelCard", {}).get("quantitativeAnalysis", {})
    found: dict[str, str] = {}
    for m in qa.get("performanceMetrics", []):
        assert m["type"] not in found, f"metric {m['type']} listed twice: {qa}"
        found[m["type"]] = m["value"]
    return found


def _two_models_one_run(root: Path) -> None:
    write_store(
        root,
        [
            Logged(
                M1,
                "churn-model",
                RUN,
                params={"C": "0.5", "solver": "lbfgs"},
                metrics={"accuracy": ["1796675893947 0.91 0", "1796675893948 0.93 1"]},
            ),
            Logged(
                M2,
                "churn-baseline",
                RUN,
                metrics={"accuracy": ["1796675893950 0.71 0"]},
            ),
        ],
        runs={RUN: {"C": "0.25", "max_iter": "100"}},
        run_metrics={RUN: {"loss": ["1796675893949 0.2 0"]}},
    )


def test_logged_models_are_named_models_with_their_own_metrics(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    _two_models_one_run(root)
    document = _sbom(root, tmp_path)
    models = _models(document)
    # Named by the logged name, never `artifacts` (the directory's basename).
    assert set(models) == {"churn-model", "churn-baseline"}
    model, baseline = models["churn-model"], models["churn-baseline"]
    base = f"mlruns/{EXPERIMENT}/models"
    assert model["bom-ref"] == f"model:{base}/{M1}/artifacts"
    assert prop(model, "usc:mlflow:model-id") == M1
    assert prop(model, "usc:mlflow:model-status") == "READY"
    assert prop(model, "usc:mlflow:run-id") == RUN
    # Each model has the metrics logged for it: the latest step wins, as in MLflow's own
    # `_get_model_metrics_from_file`; the run's metrics do not repeat on models that have theirs.
    assert _metrics(model) == {"accuracy": "0.93"}
    assert _metrics(baseline) == {"accuracy": "0.71"}
    # The run that made both is the training task with both as outputs; the run's own value of
    # a key wins over the model's, and the model's other params are added.
    tasks = [t for w in document["formulation"][0]["workflows"] for t in w["tasks"]]
    (task,) = tasks
    outputs = {o["resource"]["ref"] for o in task["outputs"]}
    assert outputs == {model["bom-ref"], baseline["bom-ref"]}
    params = {p["name"]: p["value"] for p in task["inputs"][0]["parameters"]}
    assert params == {"C": "0.25", "max_iter": "100", "solver": "lbfgs"}


def test_run_metrics_reach_a_logged_model_without_its_own(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write_store(
        root,
        [Logged(M1, "churn-model", RUN)],
        runs={RUN: {"C": "1"}},
        run_metrics={RUN: {"loss": ["1 0.4 0", "2 0.3 1"]}},
    )
    assert _metrics(_models(_sbom(root, tmp_path))["churn-model"]) == {"loss": "0.3"}


def test_dataset_metrics_are_sliced_by_dataset(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write_store(
        root,
        [
            Logged(
                M1,
                "m",
                None,
                metrics={"f1": ["1 0.5 0", "2 0.6 0"]},
                dataset=("eval_set", "d41d8cd9"),
            )
        ],
    )
    contribution = read_mlflow(root, _files(root))
    (source,) = contribution.metrics
    assert source.for_paths == (f"mlruns/{EXPERIMENT}/models/{M1}/artifacts",)
    assert [(m.type, m.value, m.slice) for m in source.metrics] == [("f1", "0.6", "eval_set")]


def test_model_without_a_run_keeps_its_params_as_a_stage(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write_store(root, [Logged(M1, "standalone", None, params={"alpha": "0.1"})])
    contribution = read_mlflow(root, _files(root))
    (stage,) = contribution.stages
    assert stage.outputs == (f"mlruns/{EXPERIMENT}/models/{M1}/artifacts",)
    assert stage.params == (("alpha", "0.1"),)
    assert stage.name == "standalone"


def test_artifacts_elsewhere_are_absent_and_remote_never_a_local_path(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write_store(
        root,
        [
            Logged(M1, "in-s3", RUN, artifacts=False, artifact_root="s3://team-bucket/mlruns"),
            Logged(M2, "on-a-laptop", RUN, artifacts=False),
        ],
        runs={RUN: {}},
    )
    models = _models(_sbom(root, tmp_path))
    s3, laptop = models["in-s3"], models["on-a-laptop"]
    assert prop(s3, "usc:content-present") == "false"
    assert prop(s3, "usc:storage") == "remote"
    assert prop(s3, "usc:mlflow:artifact-location") == (
        f"s3://team-bucket/mlruns/{EXPERIMENT}/models/{M1}/artifacts"
    )
    assert prop(laptop, "usc:content-present") == "false"
    assert prop(laptop, "usc:mlflow:artifact-location") is None
    text = json.dumps(models)
    assert "/home/runner" not in text


def test_failed_deleted_and_broken_models(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write_store(
        root,
        [
            Logged(M1, "half-uploaded", RUN, status=3),
            Logged(M2, "gone", RUN, lifecycle="deleted"),
        ],
        runs={RUN: {}},
    )
    other = root / f"mlruns/{EXPERIMENT}/models/m-ffffffffffffffffffffffffffffffff/meta.yaml"
    other.parent.mkdir(parents=True)
    other.write_text(f"model_id: {M1}\nname: impostor\n")  # names another model's id
    garbage = root / f"mlruns/{EXPERIMENT}/models/m-eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee/meta.yaml"
    garbage.parent.mkdir(parents=True)
    garbage.write_bytes(b"{{{ \x00\xff")
    contribution = read_mlflow(root, _files(root))
    names = {d.name for d in contribution.declared if d.source.endswith("/meta.yaml")}
    assert names == {"half-uploaded", "gone"}
    # A deleted model is no output of the run; the failed one still is.
    (stage,) = contribution.stages
    assert stage.outputs == (f"mlruns/{EXPERIMENT}/models/{M1}/artifacts",)
    messages = {p.path: p.message for p in contribution.problems}
    assert "status FAILED" in messages[f"mlruns/{EXPERIMENT}/models/{M1}/meta.yaml"]
    assert "not its directory's" in messages[other.relative_to(root).as_posix()]
    assert "not read" in messages[garbage.relative_to(root).as_posix()]
    # The whole pipeline still writes a valid SBOM, the failed upload reported.
    document = _sbom(root, tmp_path)
    models = _models(document)
    assert set(models) == {"half-uploaded", "gone"}
    assert prop(models["gone"], "usc:mlflow:lifecycle-stage") == "deleted"
    assert prop(models["half-uploaded"], "usc:mlflow:lifecycle-stage") is None


def test_registry_and_reserved_folders_are_not_logged_models(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write_store(root, [Logged(M1, "real", None)])
    # The model registry (`mlruns/models/<name>/version-N/`) with a model named "models".
    reg = root / "mlruns/models/models/version-1/meta.yaml"
    reg.parent.mkdir(parents=True)
    reg.write_text(f"name: models\nrun_id: {RUN}\nversion: 1\n")
    found = read_logged_models(root, _files(root))
    assert [(m.model_id, m.name, m.present) for m in found] == [(M1, "real", True)]
    contribution = read_mlflow(root, _files(root))
    assert not contribution.stages  # the registry entry is not read as a run either
