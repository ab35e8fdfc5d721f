"""MLflow 3 file stores as MLflow writes them, for the logged-model tests.

The shapes are those of `mlflow/store/tracking/file_store.py` in the mlflow-skinny 3.18.0 wheel
(PyPI): `create_logged_model` (meta.yaml = `LoggedModel.to_dictionary()` without tags/params/
metrics, `model_id = "m-" + uuid4().hex`), `log_logged_model_params` (one file per key, no
trailing newline), `_log_model_metric` (`"<ts> <value> <step> <run id>[ <dataset name>
<digest>]\\n"`), `log_outputs` (`<run>/outputs/<model id>/meta.yaml`), `_get_model_artifact_dir`
(`<experiment artifact location>/models/<model id>/artifacts`). They were checked against a store
written by `mlflow.sklearn.log_model(..., name="churn-model", params=...)` with that wheel
(MLFLOW_ALLOW_FILE_STORE=true), whose files and texts these reproduce.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers import write_file

EXPERIMENT = "641980634489467346"


@dataclass
class Logged:
    """One logged model to write."""

    model_id: str
    name: str
    run_id: str | None
    params: dict[str, str] = field(default_factory=dict)
    #: metric key -> lines "<ts> <value> <step>" (the run id and dataset are appended).
    metrics: dict[str, list[str]] = field(default_factory=dict)
    status: int = 2
    lifecycle: str | None = None
    #: Write the artifacts (an MLmodel directory) into the checkout.
    artifacts: bool = True
    artifact_root: str = "file:///home/runner/work/app/app/mlruns"
    dataset: tuple[str, str] | None = None


def model_meta(lm: Logged, experiment: str = EXPERIMENT) -> str:
    """meta.yaml of a logged model, keys sorted as `yaml.safe_dump` writes them."""
    lines = [
        f"artifact_location: {lm.artifact_root}/{experiment}/models/{lm.model_id}/artifacts",
        "creation_timestamp: 1796675877389",
        f"experiment_id: '{experiment}'",
    ]
    if lm.lifecycle:
        lines.append(f"lifecycle_stage: {lm.lifecycle}")
    lines += [
        "last_updated_timestamp: 1796675893940",
        f"model_id: {lm.model_id}",
        "model_type: null",
        f"name: {lm.name}",
        f"source_run_id: {lm.run_id or 'null'}",
        f"status: {lm.status}",
        "status_message: null",
    ]
    return "\n".join(lines) + "\n"


def mlmodel(lm: Logged, experiment: str = EXPERIMENT) -> str:
    """The MLmodel file `mlflow.sklearn.log_model` writes into the artifacts directory."""
    return (
        f"artifact_path: {lm.artifact_root}/{experiment}/models/{lm.model_id}/artifacts\n"
        "flavors:\n  python_function:\n    env:\n      conda: conda.yaml\n"
        "      virtualenv: python_env.yaml\n    loader_module: mlflow.sklearn\n"
        "    model_path: model.pkl\n    predict_fn: predict\n    python_version: 3.11.7\n"
        "  sklearn:\n    code: null\n    pickled_model: model.pkl\n"
        "    serialization_format: cloudpickle\n    sklearn_version: 1.9.1\n"
        f"mlflow_version: 3.18.0\nmodel_id: {lm.model_id}\nmodel_size_bytes: 9159\n"
        f"model_uuid: {lm.model_id}\nprompts: null\n"
        + (f"run_id: {lm.run_id}\n" if lm.run_id else "")
        + "utc_time_created: '2026-12-07 20:37:57.402516'\n"
    )


def write_store(
    root: Path,
    models: list[Logged],
    runs: dict[str, dict[str, str]] | None = None,
    run_metrics: dict[str, dict[str, list[str]]] | None = None,
    experiment: str = EXPERIMENT,
    store: str = "mlruns",
) -> None:
    """An MLflow 3 file store under `root/store`: the experiment, its runs (run id -> params),
    their metrics, and the logged models (with `outputs/` entries in the runs that made them)."""
    base = root / store
    write_file(base / "0/meta.yaml", "artifact_location: file:///x/mlruns/0\nexperiment_id: '0'\n")
    write_file(
        base / experiment / "meta.yaml",
        f"artifact_location: file:///x/mlruns/{experiment}\ncreation_time: 1796675877000\n"
        f"experiment_id: '{experiment}'\nlast_update_time: 1796675877000\n"
        "lifecycle_stage: active\nname: churn\n",
    )
    for run_id, params in (runs or {}).items():
        run = base / experiment / run_id
        write_file(
            run / "meta.yaml",
            f"artifact_uri: file:///x/mlruns/{experiment}/{run_id}/artifacts\n"
            "end_time: 1796675893950\nentry_point_name: ''\n"
            f"experiment_id: '{experiment}'\nlifecycle_stage: active\n"
            f"run_id: {run_id}\nrun_name: lr-run\nrun_uuid: {run_id}\n"
            "source_name: ''\nsource_type: 4\nsource_version: ''\n"
            "start_time: 1796675877000\nstatus: 3\ntags: []\nuser_id: runner\n",
        )
        write_file(run / "tags/mlflow.runName", "lr-run")
        for key, value in params.items():
            write_file(run / "params" / key, value)
        for key, points in (run_metrics or {}).get(run_id, {}).items():
            write_file(run / "metrics" / key, "".join(f"{p} {run_id}\n" for p in points))
    for lm in models:
        mdir = base / experiment / "models" / lm.model_id
        write_file(mdir / "meta.yaml", model_meta(lm, experiment))
        (mdir / "metrics").mkdir(parents=True, exist_ok=True)
        for key, value in lm.params.items():
            write_file(mdir / "params" / key, value)
        write_file(mdir / "tags/mlflow.source.type", "LOCAL")
        for key, points in lm.metrics.items():
            tail = f" {lm.dataset[0]} {lm.dataset[1]}" if lm.dataset else ""
            write_file(mdir / "metrics" / key, "".join(f"{p} {lm.run_id}{tail}\n" for p in points))
        if lm.artifacts:
            art = mdir / "artifacts"
            write_file(art / "MLmodel", mlmodel(lm, experiment))
            write_file(art / "model.pkl", pickle.dumps({"coef": [0.5, 1.5]}, protocol=4))
            write_file(art / "requirements.txt", "mlflow==3.18.0\nscikit-learn==1.9.1\n")
        if lm.run_id is not None and lm.run_id in (runs or {}):
            write_file(
                base / experiment / lm.run_id / "outputs" / lm.model_id / "meta.yaml",
                f"destination_id: {lm.model_id}\ndestination_type: MODEL_OUTPUT\n"
                f"source_id: {lm.model_id}\nsource_type: RUN_OUTPUT\nstep: 0\ntags: {{}}\n",
            )
