"""MLflow records: MLproject, MLmodel directories and committed mlruns/ trees."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from unified_supply_chain.records import ArtifactKind, Contribution
from unified_supply_chain.sources.lineage.mlflow import read_mlflow

RUN_ID = "5f0e3c1a9b7d4e2f8a6c0b1d3e5f7a9c"
OTHER_RUN = "00000000000000000000000000000001"

MLPROJECT = """\
name: churn
python_env: python_env.yaml
entry_points:
  main:
    parameters:
      data_file: path
      alpha: {type: float, default: 0.5}
      l1_ratio: {type: float, default: 0.1}
    command: "python train.py --alpha {alpha} --l1 {l1_ratio} {data_file}"
  validate:
    parameters:
      threshold: {type: float, default: 0.9}
      verbose: {type: bool, default: true}
    command: "python validate.py"
"""

PYTHON_ENV = """\
python: "3.11"
build_dependencies:
  - pip
  - setuptools==69.0.0
dependencies:
  - -r requirements.txt
  - mlflow==2.9.2
  - scikit_learn>=1.3
"""

SIGNATURE_INPUTS = json.dumps(
    [
        {"type": "double", "name": "tenure", "required": True},
        {"type": "string", "name": "plan", "required": True},
    ]
)
SIGNATURE_OUTPUTS = json.dumps(
    [{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]
)


def _mlmodel(run_id: str) -> str:
    return f"""\
artifact_path: model
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    predict_fn: predict
    python_version: 3.11.5
  sklearn:
    code: null
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 1.3.2
mlflow_version: 2.9.2
model_size_bytes: 2048
model_uuid: 3b1c2d4e5f60718293a4b5c6d7e8f901
run_id: {run_id}
signature:
  inputs: '{SIGNATURE_INPUTS}'
  outputs: '{SIGNATURE_OUTPUTS}'
  params: null
utc_time_created: '2026-11-20 10:00:00.123456'
"""


def _project(tmp_path: Path) -> tuple[Path, list[str]]:
    run = f"mlruns/1/{RUN_ID}"
    files = {
        "MLproject": MLPROJECT,
        "python_env.yaml": PYTHON_ENV,
        "models/churn/MLmodel": _mlmodel(RUN_ID),
        "models/churn/model.pkl": "not a real pickle",
        "models/other/MLmodel": _mlmodel(OTHER_RUN),
        "mlruns/1/meta.yaml": "experiment_id: '1'\nname: churn\n",
        f"{run}/meta.yaml": (
            f"artifact_uri: file:///tmp/mlruns/1/{RUN_ID}/artifacts\nend_time: 1763632860000\n"
            f"experiment_id: '1'\nlifecycle_stage: active\nrun_id: {RUN_ID}\n"
            f"run_name: bold-cat-42\nrun_uuid: {RUN_ID}\nstart_time: 1763632800000\nstatus: 3\n"
        ),
        f"{run}/params/alpha": "0.5",
        f"{run}/params/l1_ratio": "0.1",
        f"{run}/params/optimizer/lr": "0.01",
        f"{run}/metrics/rmse": "1763632801000 0.9 0\n1763632802000 0.7 1\n1763632803000 0.8 2\n",
        f"{run}/metrics/r2": "1763632801000 0.5 0\ngarbage line\n",
        f"{run}/tags/mlflow.runName": "bold-cat-42",
        f"{run}/tags/mlflow.source.git.commit": "a" * 40,
        f"{run}/tags/mlflow.project.entryPoint": "main",
        f"{run}/artifacts/model/MLmodel": _mlmodel(RUN_ID),
        f"{run}/inputs/in1/meta.yaml": (
            "destination_id: x\ndestination_type: RUN\nsource_id: ds1\nsource_type: DATASET\n"
        ),
        "mlruns/1/datasets/ds1/meta.yaml": (
            'digest: abc\nname: churn-train\nsource: \'{"uri": "data/train.csv"}\'\n'
            "source_type: local\n"
        ),
        f"{run}/inputs/in2/meta.yaml": "source_id: ds2\nsource_type: DATASET\n",
        "mlruns/1/datasets/ds2/meta.yaml": (
            'name: valid\nsource: \'{"uri": "file:///home/ci/work/repo/data/valid.csv"}\'\n'
        ),
        f"{run}/inputs/in3/meta.yaml": "source_id: ds3\nsource_type: DATASET\n",
        "mlruns/1/datasets/ds3/meta.yaml": 'source: \'{"uri": "s3://bucket/x.csv"}\'\n',
        "data/train.csv": "tenure,plan\n1,a\n",
        "data/valid.csv": "tenure,plan\n2,b\n",
        "mlruns/1/deadbeef/meta.yaml": (
            "run_id: deadbeef\nlifecycle_stage: deleted\nstart_time: 1\n"
        ),
        "mlruns/models/churn-model/meta.yaml": "name: churn-model\n",
        "mlruns/models/churn-model/version-3/meta.yaml": (
            f"name: churn-model\nversion: 3\nrun_id: {RUN_ID}\nsource: models:/x\n"
        ),
    }
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path, sorted(files)


def _read(tmp_path: Path) -> Contribution:
    root, files = _project(tmp_path)
    return read_mlflow(root, files)


def test_mlproject_is_a_hyperparameter_set(tmp_path: Path) -> None:
    contribution = _read(tmp_path)
    (hp,) = contribution.artifacts
    assert hp.kind is ArtifactKind.HYPERPARAMETERS
    assert hp.ref == "hyperparameters:MLproject"
    assert hp.path == "MLproject" and hp.name == "churn" and hp.format == "mlproject"
    assert hp.params == (
        ("main.alpha", "0.5"),
        ("main.l1_ratio", "0.1"),
        ("validate.threshold", "0.9"),
        ("validate.verbose", "true"),
    )
    props = dict(hp.extra_properties)
    assert props["usc:mlflow:entry-point:validate"] == "python validate.py"
    assert props["usc:mlflow:environment"] == "python_env:python_env.yaml"


def test_python_env_libraries(tmp_path: Path) -> None:
    contribution = _read(tmp_path)
    purls = {lib.purl: lib for lib in contribution.libraries}
    assert set(purls) == {
        "pkg:pypi/mlflow@2.9.2",
        "pkg:pypi/scikit-learn",
        "pkg:pypi/pip",
        "pkg:pypi/setuptools@69.0.0",
    }
    assert purls["pkg:pypi/pip"].scope == "optional"
    assert purls["pkg:pypi/mlflow@2.9.2"].source == "python_env.yaml"


def test_mlmodel_directories_are_declared_models(tmp_path: Path) -> None:
    contribution = _read(tmp_path)
    declared = {d.path: d for d in contribution.declared}
    assert set(declared) == {"models/churn", "models/other", f"mlruns/1/{RUN_ID}/artifacts/model"}
    churn = declared["models/churn"]
    assert churn.kind is ArtifactKind.MODEL
    assert churn.source == "models/churn/MLmodel"
    assert churn.name == "churn-model"  # from the model registry entry for the run
    assert churn.size == 2048
    props = dict(churn.properties)
    assert props["usc:mlflow:flavors"] == "python_function,sklearn"
    assert props["usc:mlflow:loader-module"] == "mlflow.sklearn"
    assert props["usc:mlflow:python-version"] == "3.11.5"
    assert props["usc:mlflow:flavor:sklearn:serialization_format"] == "cloudpickle"
    assert props["usc:mlflow:run-id"] == RUN_ID
    assert props["usc:mlflow:registered-version"] == "3"
    assert churn.metadata == {
        "inputs": ["tenure: double", "plan: string"],
        "outputs": ["tensor int64 [-1]"],
    }
    assert declared["models/other"].name is None


def test_run_is_a_stage_with_params_times_outputs_and_inputs(tmp_path: Path) -> None:
    contribution = _read(tmp_path)
    (stage,) = contribution.stages  # the deleted run is skipped
    assert stage.name == "bold-cat-42"
    assert stage.source == f"mlruns/1/{RUN_ID}/meta.yaml"
    assert dict(stage.params) == {"alpha": "0.5", "l1_ratio": "0.1", "optimizer/lr": "0.01"}
    assert stage.outputs == (f"mlruns/1/{RUN_ID}/artifacts/model", "models/churn")
    # A relative dataset path as it is; an absolute one from the training machine by its tail.
    assert stage.inputs == ("data/train.csv", "data/valid.csv")
    assert stage.params_files == ("MLproject",)
    assert stage.time_start == "2025-11-20T10:00:00Z"
    assert stage.time_end == "2025-11-20T10:01:00Z"
    assert stage.run is not None and stage.run.commit == "a" * 40


def test_run_metrics_latest_value_for_the_run_models(tmp_path: Path) -> None:
    contribution = _read(tmp_path)
    (source,) = contribution.metrics
    assert source.for_paths == (f"mlruns/1/{RUN_ID}/artifacts/model", "models/churn")
    assert sorted((m.type, m.value) for m in source.metrics) == [("r2", "0.5"), ("rmse", "0.8")]
    assert {m.source for m in source.metrics} == {
        f"mlruns/1/{RUN_ID}/metrics/rmse",
        f"mlruns/1/{RUN_ID}/metrics/r2",
    }
    assert contribution.problems == ()


def test_bad_records_become_problems(tmp_path: Path) -> None:
    files = {
        "MLproject": "entry_points: [\n",
        "m/MLmodel": "- not a mapping\n",
        "mlruns/0/r1/meta.yaml": "{{{",
        "mlruns/0/r2/meta.yaml": "run_id: r2\n",
        "mlruns/0/r2/metrics/loss": "\x00\x01 not numbers\n",
        "p/MLproject": "name: x\nconda_env: ../../outside.yaml\n",
    }
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    contribution = read_mlflow(tmp_path, sorted(files))
    assert {p.path for p in contribution.problems} == {
        "MLproject",
        "m/MLmodel",
        "mlruns/0/r1/meta.yaml",
        "p/MLproject",
    }
    (stage,) = contribution.stages
    assert stage.name == "r2" and stage.outputs == ()
    assert contribution.metrics == ()
    assert [a.path for a in contribution.artifacts] == ["p/MLproject"]


def test_conda_env_named_by_mlproject_is_read(tmp_path: Path) -> None:
    (tmp_path / "MLproject").write_text("name: x\nconda_env: envs/train-env.yaml\n", "utf-8")
    (tmp_path / "envs").mkdir()
    (tmp_path / "envs/train-env.yaml").write_text(
        "channels: [conda-forge]\ndependencies:\n  - numpy=1.26.4\n  - pip:\n    - torch==2.2.0\n",
        "utf-8",
    )
    contribution = read_mlflow(tmp_path, ["MLproject", "envs/train-env.yaml"])
    assert {lib.purl for lib in contribution.libraries} == {
        "pkg:conda/numpy@1.26.4?channel=conda-forge",
        "pkg:pypi/torch@2.2.0",
    }


def test_metric_history_with_huge_line_and_nan(tmp_path: Path) -> None:
    run = tmp_path / "mlruns/0/r9"
    (run / "metrics").mkdir(parents=True)
    (run / "meta.yaml").write_text("run_id: r9\n", "utf-8")
    (run / "metrics/loss").write_text(
        "1 0.5 0\n" + "9" * 5_000_000 + " 0.1 5\n2 nan 9\n3 0.25 1\n", "utf-8"
    )
    contribution = read_mlflow(tmp_path, ["mlruns/0/r9/meta.yaml", "mlruns/0/r9/metrics/loss"])
    (source,) = contribution.metrics
    assert [(m.type, m.value) for m in source.metrics] == [("loss", "0.25")]


_yaml_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from(["x", "../up", "/abs", "python_env.yaml", "run1", "tensor", "[1, 2]"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "name",
                    "entry_points",
                    "parameters",
                    "default",
                    "command",
                    "python_env",
                    "conda_env",
                    "flavors",
                    "run_id",
                    "signature",
                    "inputs",
                    "outputs",
                    "type",
                    "tensor-spec",
                    "start_time",
                    "end_time",
                    "lifecycle_stage",
                    "model_size_bytes",
                    "dependencies",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=40,
)


@settings(max_examples=80, deadline=None)
@given(project=_yaml_values, model=_yaml_values, meta=_yaml_values, env=_yaml_values)
def test_any_records_give_a_contribution(
    project: object, model: object, meta: object, env: object
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        texts = {
            "MLproject": project,
            "m/MLmodel": model,
            "mlruns/0/run1/meta.yaml": meta,
            "python_env.yaml": env,
            "mlruns/0/run1/metrics/loss": "1 2 3",
            "mlruns/0/run1/params/p": "v",
        }
        for name, value in texts.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(value if isinstance(value, str) else yaml.safe_dump(value), "utf-8")
        contribution = read_mlflow(root, sorted(texts))
        assert all(d.path == "m" for d in contribution.declared)
        assert len(contribution.stages) <= 1


def test_credentials_stay_out_of_messages(tmp_path: Path) -> None:
    (tmp_path / "MLproject").write_text(
        "name: x\nconda_env: https://user:s3cr3t@host/env.yaml\npython_env: env.yaml\n", "utf-8"
    )
    (tmp_path / "env.yaml").write_text(
        "dependencies:\n  - 'pkg @@ https://user:s3cr3t@host/p.whl'\n", "utf-8"
    )
    contribution = read_mlflow(tmp_path, ["MLproject", "env.yaml"])
    assert len(contribution.problems) == 2
    assert all("s3cr3t" not in p.message for p in contribution.problems)
