"""Training logs through `usc sbom` in a git repository that commits its logs (as real repos
commit `lightning_logs/` and `wandb/` despite ignoring them): Lightning, Keras ModelCheckpoint,
W&B and TensorBoard runs become models, hyperparameter sets, metrics and formulation tasks.

The layouts are built in tests/builders/training_logs.py from the loggers' own sources (cited
there): Lightning-AI/pytorch-lightning loggers/csv_logs.py, tensorboard.py, core/saving.py,
callbacks/model_checkpoint.py; keras-team/keras keras/src/callbacks/model_checkpoint.py;
wandb/wandb wandb/sdk/lib/filenames.py, wandb_settings.py, lib/config_util.py,
proto/wandb_internal.proto; tensorflow/tensorboard summary/writer/record_writer.py,
compat/proto/event.proto, summary.proto, plugins/hparams/plugin_data.proto.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.builders.training_logs import (
    COMMIT,
    KERAS_DIR,
    LIGHTNING_DIR,
    TB_RUN,
    WANDB_RUN,
    training_logs_tree,
)
from tests.helpers import (
    commit_all,
    components_by_path,
    git,
    prop,
    sbom_of,
)

TB_LIGHTNING = f"{LIGHTNING_DIR}/events.out.tfevents.1767225600.host.1.0"
TB_TUNING = f"{TB_RUN}/events.out.tfevents.1767225601.host.2.0"
CKPT = f"{LIGHTNING_DIR}/checkpoints/epoch=1-step=20.ckpt"
LAST = f"{LIGHTNING_DIR}/checkpoints/last.ckpt"
KERAS = [
    f"{KERAS_DIR}/weights.0{i}-{loss}.keras" for i, loss in ((1, "0.35"), (2, "0.29"), (3, "0.31"))
]
WANDB_MODEL = f"{WANDB_RUN}/files/model.safetensors"
WANDB_CONFIG = f"{WANDB_RUN}/files/config.yaml"


def _repo(tmp_path: Path, tree: dict[str, bytes]) -> Path:
    root = tmp_path / "repo"
    for rel, data in tree.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    (root / ".gitignore").write_text("lightning_logs/\nwandb/\nlogs/\n")
    git(root, "init", "-q")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "t")
    commit_all(root, "code")
    git(root, "add", "-f", *sorted({rel.split("/")[0] for rel in tree}))  # force-add ignored logs
    git(root, "commit", "-q", "-m", "logs")
    return root


def _sbom(root: Path, tmp_path: Path) -> dict[str, Any]:
    return sbom_of(root, tmp_path / "out.cdx.json")


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("tl")
    return _sbom(_repo(tmp, training_logs_tree()), tmp)


def _kinds(document: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    return {
        path: (c["type"], prop(c, "usc:format")) for path, c in components_by_path(document).items()
    }


def _deps(document: dict[str, Any]) -> dict[str, set[str]]:
    return {d["ref"]: set(d.get("dependsOn", [])) for d in document["dependencies"]}


def _metrics(c: dict[str, Any]) -> dict[str, str]:
    perf = c["modelCard"]["quantitativeAnalysis"]["performanceMetrics"]
    return {m["type"]: m["value"] for m in perf}


def _card_params(c: dict[str, Any]) -> dict[str, str]:
    prefix = "cdx:ai-ml:model:hyperparameter:"
    return {
        p["name"][len(prefix) :]: p["value"]
        for p in c["modelCard"].get("properties", [])
        if p["name"].startswith(prefix)
    }


def _tasks(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for wf in document["formulation"][0]["workflows"] for t in wf["tasks"]}


def test_exact_component_set(document: dict[str, Any]) -> None:
    model, data = "machine-learning-model", "data"
    assert _kinds(document) == {
        CKPT: (model, "pytorch"),
        LAST: (model, "pytorch"),
        f"{LIGHTNING_DIR}/hparams.yaml": (data, "lightning-hparams"),
        TB_LIGHTNING: (data, "tensorboard-hparams"),
        TB_TUNING: (data, "tensorboard-hparams"),
        **{k: (model, "keras") for k in KERAS},
        WANDB_MODEL: (model, "safetensors"),
        WANDB_CONFIG: (data, "wandb-config"),
        # Negative: a metrics.csv outside a logger directory stays a dataset, as before.
        "reports/metrics.csv": (data, "csv"),
    }
    # Negatives: the scalar-only event file, the lone wandb/ debug logs, the logger's
    # metrics.csv and W&B's summary/metadata give no component.
    by_path = components_by_path(document)
    assert "logs/fit/train/events.out.tfevents.1767225602.host.3.0" not in by_path
    assert not [p for p in by_path if p.startswith("other/")]
    for path, c in by_path.items():
        if c["type"] == "data" and path != "reports/metrics.csv":
            assert [d["type"] for d in c["data"]] == ["configuration"]


def test_lightning_run(document: dict[str, Any], tmp_path: Path) -> None:
    by_path = components_by_path(document)
    ckpt, last = by_path[CKPT], by_path[LAST]
    digest = hashlib.sha256(training_logs_tree()[CKPT]).hexdigest()
    assert {"alg": "SHA-256", "content": digest} in ckpt["hashes"]
    assert prop(ckpt, "usc:checkpoint:epoch") == "1"
    assert prop(ckpt, "usc:checkpoint:step") == "20"
    assert prop(last, "usc:checkpoint:last") == "true"
    assert prop(ckpt, "usc:tracker") == "lightning"
    assert prop(ckpt, "usc:training-log") == LIGHTNING_DIR
    hp = by_path[f"{LIGHTNING_DIR}/hparams.yaml"]
    tb = by_path[TB_LIGHTNING]
    deps = _deps(document)
    for c in (ckpt, last):
        assert deps[c["bom-ref"]] == {hp["bom-ref"], tb["bom-ref"]}
        # The latest value of each CSVLogger column (sparse rows; step/epoch are not metrics).
        assert _metrics(c) == {"train_loss": "0.52", "val_loss": "0.43", "val_acc": "0.82"}
        assert _card_params(c) == {
            "lr": "0.001",
            "batch_size": "32",
            "layers.hidden": "64",
            "optimizer": "adam",
        }
    task = _tasks(document)[LIGHTNING_DIR]
    assert sorted(o["resource"]["ref"] for o in task["outputs"]) == sorted(
        [ckpt["bom-ref"], last["bom-ref"]]
    )
    assert {"resource": {"ref": hp["bom-ref"]}} in task["inputs"]


def test_tensorboard_sessions(document: dict[str, Any]) -> None:
    by_path = components_by_path(document)

    def values(c: dict[str, Any]) -> dict[str, str]:
        return {p["name"]: p["value"] for p in c["data"][0]["contents"]["properties"]}

    # Doubles that hold integers were ints (hp.hparams stores every number as a double).
    assert values(by_path[TB_LIGHTNING]) == {"lr": "0.001", "batch_size": "32", "optimizer": "adam"}
    tuning = by_path[TB_TUNING]
    assert values(tuning) == {"dropout": "0.2", "units": "16", "tags": "[a, b]"}
    assert prop(tuning, "usc:tensorboard:group") == "g1"
    assert TB_RUN not in _tasks(document)  # a session with no model beside it is no task


def test_keras_checkpoint_sequence(document: dict[str, Any]) -> None:
    by_path = components_by_path(document)
    sequence = f"{KERAS_DIR}/weights.{{}}-{{}}.keras"
    for position, rel in enumerate(KERAS, start=1):
        c = by_path[rel]
        assert prop(c, "usc:checkpoint:sequence") == sequence
        assert prop(c, "usc:checkpoint:position") == str(position)
        assert prop(c, "usc:checkpoint:last") == ("true" if position == 3 else None)
    task = _tasks(document)[sequence]
    assert [o["resource"]["ref"] for o in task["outputs"]] == [by_path[k]["bom-ref"] for k in KERAS]


def test_wandb_run(document: dict[str, Any]) -> None:
    by_path = components_by_path(document)
    model, config = by_path[WANDB_MODEL], by_path[WANDB_CONFIG]
    assert _deps(document)[model["bom-ref"]] == {config["bom-ref"]}
    # `value:` of each entry; `_wandb` and `wandb_version` are W&B's own.
    assert _card_params(model) == {"epochs": "10", "lr": "0.01", "model.depth": "4"}
    # `_`-keys and media entries of the summary are not metrics.
    assert _metrics(model) == {"accuracy": "0.93", "val/loss": "0.21"}
    task = _tasks(document)["k3x9q2ab"]
    assert task["steps"][0]["commands"][0]["executed"] == "src/train.py --epochs 10"
    text = json.dumps(document)
    assert COMMIT in text
    assert "secret-host" not in text and "someone@example.com" not in text


def test_without_logs_nothing_changes(tmp_path: Path) -> None:
    """A wandb/ directory with only debug logs and a random event file give nothing."""
    tree = {
        "wandb/debug.log": b"x\n",
        "wandb/debug-internal.log": b"x\n",
        "wandb/latest-run/logs/debug.log": b"x\n",
        "runs/events.out.tfevents.1.h.1.0": training_logs_tree()[
            "logs/fit/train/events.out.tfevents.1767225602.host.3.0"
        ],
    }
    document = _sbom(_repo(tmp_path, tree), tmp_path)
    assert components_by_path(document) == {}
    assert "formulation" not in document or not _tasks(document)
