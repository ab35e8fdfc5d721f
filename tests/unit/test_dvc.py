"""DVC records read as lineage contributions: `.dvc` files, `dvc.yaml`, `dvc.lock`."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from unified_supply_chain.records import ArtifactKind, Contribution, Declared, Hash, Stage, Storage
from unified_supply_chain.sources.lineage.dvc import read_dvc, select_files
from unified_supply_chain.sources.lineage.dvc.state import normalise

MODEL_MD5 = "0123456789abcdef0123456789abcdef"
TRAIN_MD5 = "11111111111111111111111111111111"
RAW_DIR_MD5 = "22222222222222222222222222222222"
SCRIPT_MD5 = "33333333333333333333333333333333"

DVC_YAML = """\
stages:
  train:
    cmd:
      - python src/train.py --out model/model.pkl
      - echo done
    deps:
      - src/train.py
      - data/train.csv
    params:
      - train
      - model.type
      - extra/hp.json:
          - optimizer
    outs:
      - model/model.pkl
    metrics:
      - reports/metrics.json:
          cache: false
    plots:
      - reports/curve.csv
  featurize:
    foreach:
      - en
      - de
    do:
      cmd: python featurize.py ${item} --seed ${train.seed}
      deps:
        - data/${item}.txt
      outs:
        - features/${item}.npy
  sub:
    wdir: nested
    cmd: python run.py
    deps:
      - ../data/train.csv
      - s3://bucket/remote.csv
    params:
      - local.yaml:
    outs:
      - out.bin
  escape:
    cmd: cat /etc/passwd
    deps:
      - ../../outside.txt
    outs:
      - /abs/out.txt
artifacts:
  churn-model:
    path: model/model.pkl
    type: model
    desc: Churn classifier
    labels: [tabular, sklearn]
  training-set:
    path: data/train.csv
    type: dataset
"""

DVC_LOCK = f"""\
schema: '2.0'
stages:
  train:
    cmd: python src/train.py --out model/model.pkl && echo done
    deps:
    - path: data/train.csv
      hash: md5
      md5: {TRAIN_MD5}
      size: 1234
    - path: src/train.py
      md5: {SCRIPT_MD5}
      size: 99
    - path: data/absent.parquet
      md5: {SCRIPT_MD5}
      size: 77
    params:
      params.yaml:
        train.lr: 0.05
        model.type: forest
        train.epochs: 10
      extra/hp.json:
        optimizer:
          name: adam
    outs:
    - path: model/model.pkl
      hash: md5
      md5: {MODEL_MD5.upper()}
      size: 5678
"""

PARAMS_YAML = """\
train:
  lr: 0.1
  epochs: 10
  seed: 7
model:
  type: forest
  depth: 4
unrelated:
  x: 1
"""


def _project(tmp_path: Path) -> tuple[Path, list[str]]:
    files = {
        "dvc.yaml": DVC_YAML,
        "dvc.lock": DVC_LOCK,
        "params.yaml": PARAMS_YAML,
        "extra/hp.json": json.dumps({"optimizer": {"name": "sgd", "momentum": 0.9}, "x": 1}),
        "nested/local.yaml": "a: 1\nb:\n  c: two\n",
        "src/train.py": "print('train')\n",
        "data/train.csv": "a,b\n1,2\n",
        "reports/metrics.json": json.dumps({"accuracy": 0.91, "test": {"auc": 0.88}}),
        "data/raw.dvc": (
            f"outs:\n- md5: {RAW_DIR_MD5}.dir\n  size: 4096\n  nfiles: 3\n  hash: md5\n"
            "  path: raw\n"
        ),
        "data/imported.csv.dvc": (
            "deps:\n- path: data/imported.csv\n  repo:\n    url: https://example.com/repo.git\n"
            "outs:\n- md5: 44444444444444444444444444444444\n  size: 10\n  path: imported.csv\n"
        ),
        ".dvc/config": "[core]\n",
        "broken/thing.dvc": "outs: [\n",
    }
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path, sorted(files)


def _declared(contribution: Contribution) -> dict[str, Declared]:
    return {d.path: d for d in contribution.declared}


def _stages(contribution: Contribution) -> dict[str, Stage]:
    return {s.name: s for s in contribution.stages}


def test_select_files_skips_dvc_internals() -> None:
    dvc_files, pipelines, locks = select_files(
        [".dvc/config", ".dvc/tmp/x.dvc", "a/b.dvc", "dvc.yaml", "sub/dvc.yaml", "dvc.lock", ".dvc"]
    )
    assert dvc_files == ["a/b.dvc"]
    assert pipelines == ["dvc.yaml", "sub/dvc.yaml"]
    assert locks == {"dvc.lock"}


def test_absent_model_declared_with_lock_md5_and_artifact_kind(tmp_path: Path) -> None:
    root, files = _project(tmp_path)
    declared = _declared(read_dvc(root, files))
    model = declared["model/model.pkl"]
    assert not (root / "model/model.pkl").exists()
    assert model.kind is ArtifactKind.MODEL
    assert model.name == "churn-model"
    assert model.storage is Storage.DVC
    assert model.hashes == (Hash("MD5", MODEL_MD5, "dvc-lock"),)
    assert model.size == 5678
    assert model.metadata["description"] == "Churn classifier"
    assert ("usc:dvc:labels", "tabular,sklearn") in model.properties
    dataset = declared["data/train.csv"]
    assert dataset.kind is ArtifactKind.DATASET
    assert dataset.hashes == (Hash("MD5", TRAIN_MD5, "dvc-lock"),)
    # A dependency only dvc.lock names is declared when absent, not when present (a script).
    assert "src/train.py" not in declared
    absent = declared["data/absent.parquet"]
    assert absent.hashes == (Hash("MD5", SCRIPT_MD5, "dvc-lock"),) and absent.size == 77


def test_dvc_file_outs_directory_and_import(tmp_path: Path) -> None:
    root, files = _project(tmp_path)
    contribution = read_dvc(root, files)
    declared = _declared(contribution)
    raw = declared["data/raw"]
    assert raw.hashes == (Hash("MD5", RAW_DIR_MD5, "dvc-file"),)
    assert raw.storage is Storage.DVC and raw.size == 4096
    assert ("usc:dvc:directory", "true") in raw.properties
    assert ("usc:dvc:nfiles", "3") in raw.properties
    imported = declared["data/imported.csv"]
    assert ("usc:dvc:import-url", "https://example.com/repo.git") in imported.properties
    assert imported.hashes == (Hash("MD5", "4" * 32, "dvc-file"),)
    assert [p.path for p in contribution.problems if p.path == "broken/thing.dvc"]


def test_stage_command_inputs_outputs_params(tmp_path: Path) -> None:
    root, files = _project(tmp_path)
    train = _stages(read_dvc(root, files))["train"]
    assert train.command == "python src/train.py --out model/model.pkl && echo done"
    assert train.inputs == ("src/train.py", "data/train.csv")
    assert train.outputs == ("model/model.pkl",)
    assert train.metrics_files == ("reports/metrics.json",)
    assert train.params_files == ("params.yaml", "extra/hp.json")
    assert train.source == "dvc.yaml"
    # dvc.lock's values (what was used) win over the files' current values.
    assert dict(train.params) == {
        "train.lr": "0.05",
        "model.type": "forest",
        "train.epochs": "10",
        "optimizer.name": "adam",
    }


def test_params_without_lock_come_from_files_restricted_to_keys(tmp_path: Path) -> None:
    root, files = _project(tmp_path)
    (root / "dvc.lock").unlink()
    files.remove("dvc.lock")
    contribution = read_dvc(root, files)
    train = _stages(contribution)["train"]
    assert train.params == (
        ("train.lr", "0.1"),
        ("train.epochs", "10"),
        ("train.seed", "7"),
        ("model.type", "forest"),
        ("optimizer.name", "sgd"),
        ("optimizer.momentum", "0.9"),
    )
    model = _declared(contribution)["model/model.pkl"]
    assert model.hashes == ()
    assert model.storage is Storage.DVC


def test_foreach_stages_are_expanded_with_templating(tmp_path: Path) -> None:
    root, files = _project(tmp_path)
    stages = _stages(read_dvc(root, files))
    assert stages["featurize@en"].command == "python featurize.py en --seed 7"
    assert stages["featurize@en"].inputs == ("data/en.txt",)
    assert stages["featurize@de"].outputs == ("features/de.npy",)


def test_wdir_remote_deps_and_whole_params_file(tmp_path: Path) -> None:
    root, files = _project(tmp_path)
    sub = _stages(read_dvc(root, files))["sub"]
    assert sub.inputs == ("data/train.csv",)
    assert sub.outputs == ("nested/out.bin",)
    assert sub.params_files == ("nested/local.yaml",)
    assert sub.params == (("a", "1"), ("b.c", "two"))


def test_paths_leaving_the_root_are_refused(tmp_path: Path) -> None:
    root, files = _project(tmp_path)
    contribution = read_dvc(root, files)
    escape = _stages(contribution)["escape"]
    assert escape.inputs == () and escape.outputs == ()
    messages = [p.message for p in contribution.problems if p.path == "dvc.yaml"]
    assert any("leaves the repository" in m for m in messages)
    assert any("absolute path" in m for m in messages)
    assert all(not d.path.startswith(("/", "..")) for d in contribution.declared)


def test_metrics_attached_to_stage_outputs(tmp_path: Path) -> None:
    root, files = _project(tmp_path)
    (source,) = read_dvc(root, files).metrics
    assert source.path == "reports/metrics.json"
    assert source.for_paths == ("model/model.pkl",)
    assert [(m.type, m.value, m.slice) for m in source.metrics] == [
        ("accuracy", "0.91", None),
        ("auc", "0.88", "test"),
    ]


def test_evaluation_stage_metrics_point_at_the_model_it_reads(tmp_path: Path) -> None:
    (tmp_path / "dvc.yaml").write_text(
        "stages:\n"
        "  train:\n    cmd: t\n    deps: [d.csv]\n    outs: [m.bin, side.csv]\n"
        "  evaluate:\n    cmd: e\n    deps: [m.bin, side.csv, e.py]\n    metrics: [eval.json]\n"
        "artifacts:\n  m:\n    path: m.bin\n    type: model\n"
        "metrics:\n  - eval.json\n  - other.json\n",
        encoding="utf-8",
    )
    (tmp_path / "eval.json").write_text('{"acc": 1}', encoding="utf-8")
    (tmp_path / "other.json").write_text('{"f1": 0.5}', encoding="utf-8")
    contribution = read_dvc(tmp_path, ["dvc.yaml", "eval.json", "other.json"])
    by_path = {m.path: m for m in contribution.metrics}
    assert by_path["eval.json"].for_paths == ("m.bin",)
    assert by_path["other.json"].for_paths == ()
    assert len(contribution.metrics) == 2


def test_matrix_stages_and_vars(tmp_path: Path) -> None:
    (tmp_path / "dvc.yaml").write_text(
        "vars:\n  - base: data\nstages:\n  fit:\n    matrix:\n      model: [a, b]\n      k: [1]\n"
        "    cmd: fit ${item.model} ${item.k}\n"
        "    outs:\n      - ${base}/${item.model}-${item.k}.bin\n",
        encoding="utf-8",
    )
    stages = _stages(read_dvc(tmp_path, ["dvc.yaml"]))
    assert set(stages) == {"fit@a-1", "fit@b-1"}
    assert stages["fit@b-1"].command == "fit b 1"
    assert stages["fit@b-1"].outputs == ("data/b-1.bin",)


def test_nested_dvc_yaml_paths_are_repo_relative(tmp_path: Path) -> None:
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj/dvc.yaml").write_text(
        "stages:\n  s:\n    cmd: x\n    deps: [in.csv, ../shared.csv]\n    outs: [out/m.onnx]\n",
        encoding="utf-8",
    )
    (tmp_path / "proj/dvc.lock").write_text(
        "schema: '2.0'\nstages:\n  s:\n    outs:\n"
        f"    - path: out/m.onnx\n      md5: {MODEL_MD5}\n",
        encoding="utf-8",
    )
    contribution = read_dvc(tmp_path, ["proj/dvc.yaml", "proj/dvc.lock"])
    (stage,) = contribution.stages
    assert stage.inputs == ("proj/in.csv", "shared.csv")
    assert stage.source == "proj/dvc.yaml"
    assert _declared(contribution)["proj/out/m.onnx"].hashes == (
        Hash("MD5", MODEL_MD5, "dvc-lock"),
    )


@pytest.mark.parametrize(
    "text",
    ["stages: [\n", "- a\n- b\n", "stages:\n  s: 3\n", "artifacts:\n  a: {path: ../x}\n"],
)
def test_bad_dvc_yaml_becomes_a_problem(tmp_path: Path, text: str) -> None:
    (tmp_path / "dvc.yaml").write_text(text, encoding="utf-8")
    contribution = read_dvc(tmp_path, ["dvc.yaml"])
    assert contribution.declared == ()
    if text.startswith(("stages: [", "- a")):
        assert [p.path for p in contribution.problems] == ["dvc.yaml"]


def test_bad_metrics_file_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "dvc.yaml").write_text(
        "stages:\n  s:\n    cmd: x\n    outs: [m.bin]\n    metrics: [m.json]\n", encoding="utf-8"
    )
    (tmp_path / "m.json").write_text("{oops", encoding="utf-8")
    contribution = read_dvc(tmp_path, ["dvc.yaml", "m.json"])
    assert contribution.metrics == ()
    assert [p.path for p in contribution.problems] == ["m.json"]


def test_normalise() -> None:
    assert normalise("a/b", "../c/./d") == "a/c/d"
    assert normalise("", "x") == "x"
    for bad in ("../x", "/etc/passwd", "C:/x", "${item}", "s3://b/k", "", "."):
        with pytest.raises(ValueError):
            normalise("", bad)


def test_alias_bomb_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 12):
        lines.append(f"{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 10) + "]")
    (tmp_path / "dvc.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    contribution = read_dvc(tmp_path, ["dvc.yaml"])
    assert len(contribution.problems) == 1


def test_legacy_stage_file(tmp_path: Path) -> None:
    (tmp_path / "train.dvc").write_text(
        "cmd: python train.py\nwdir: .\n"
        f"deps:\n- md5: {MODEL_MD5}\n  path: absent.csv\n- md5: {MODEL_MD5}\n  path: train.py\n"
        f"outs:\n- md5: {RAW_DIR_MD5}\n  path: model.bin\n  cache: true\n"
        "- path: scores.json\n  metric: {type: json}\n  cache: false\n",
        encoding="utf-8",
    )
    (tmp_path / "train.py").write_text("pass\n", encoding="utf-8")
    (tmp_path / "scores.json").write_text('{"acc": 0.5}', encoding="utf-8")
    contribution = read_dvc(tmp_path, ["scores.json", "train.dvc", "train.py"])
    (stage,) = contribution.stages
    assert (stage.name, stage.command) == ("train", "python train.py")
    assert stage.inputs == ("absent.csv", "train.py")
    assert stage.outputs == ("model.bin",)
    assert stage.metrics_files == ("scores.json",)
    assert set(_declared(contribution)) == {"absent.csv", "model.bin"}
    (source,) = contribution.metrics
    assert source.for_paths == ("model.bin",)
    assert [(m.type, m.value) for m in source.metrics] == [("acc", "0.5")]


_yaml_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from(["x", "../up", "/abs", "${item}", "${a.b}", "a" * 32, "d.dir", "s3://b/k"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "stages",
                    "cmd",
                    "deps",
                    "outs",
                    "params",
                    "metrics",
                    "plots",
                    "artifacts",
                    "path",
                    "type",
                    "md5",
                    "size",
                    "nfiles",
                    "foreach",
                    "do",
                    "matrix",
                    "wdir",
                    "vars",
                    "cache",
                    "metric",
                    "model",
                    "params.yaml",
                    "schema",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=40,
)


@settings(max_examples=80, deadline=None)
@given(pipeline=_yaml_values, lock=_yaml_values, dvc_file=_yaml_values, params=_yaml_values)
def test_any_records_give_a_contribution(
    pipeline: object, lock: object, dvc_file: object, params: object
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        texts = {"dvc.yaml": pipeline, "dvc.lock": lock, "a.dvc": dvc_file, "params.yaml": params}
        for name, value in texts.items():
            (root / name).write_text(yaml.safe_dump(value), encoding="utf-8")
        contribution = read_dvc(root, sorted(texts))
        for d in contribution.declared:
            assert d.path and not d.path.startswith(("/", "../")) and d.path != ".."
            assert all(len(h.content) == 32 for h in d.hashes)
        for s in contribution.stages:
            assert all(not p.startswith(("/", "../")) for p in s.inputs + s.outputs)


def test_records_never_read_files_the_walk_did_not_list(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text("token: hunter2\n", encoding="utf-8")
    (outside / "m.json").write_text('{"leak": 1}', encoding="utf-8")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "params.yaml").symlink_to(outside / "secret.yaml")
    (repo / "m.json").symlink_to(outside / "m.json")
    (repo / "dvc.yaml").write_text(
        "stages:\n  s:\n    cmd: x\n    params: [token]\n"
        "    outs: [o.bin]\n    metrics: [m.json]\n",
        encoding="utf-8",
    )
    # The walk does not list symlinks that leave the root.
    contribution = read_dvc(repo, ["dvc.yaml"])
    (stage,) = contribution.stages
    assert stage.params == ()
    assert contribution.metrics == ()


def test_credentials_in_refused_paths_stay_out_of_messages(tmp_path: Path) -> None:
    (tmp_path / "dvc.yaml").write_text(
        "artifacts:\n  m:\n    path: https://user:s3cr3t@host/m.bin\n    type: model\n"
        "stages:\n  s:\n    cmd: curl -o d.csv https://user:s3cr3t@host/d.csv\n"
        "    outs:\n      - a: 1\n        b: 2\n",
        encoding="utf-8",
    )
    contribution = read_dvc(tmp_path, ["dvc.yaml"])
    assert len(contribution.problems) == 2
    assert all("s3cr3t" not in p.message for p in contribution.problems)
    (stage,) = contribution.stages
    assert stage.command == "curl -o d.csv https://host/d.csv"
