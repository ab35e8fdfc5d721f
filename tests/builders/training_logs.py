"""Training-log trees as the loggers write them, for the training-log tests and fuzz seeds.

Sources, read at these commits:
- Lightning-AI/pytorch-lightning 7f0c3436: src/lightning/pytorch/loggers/csv_logs.py
  (`NAME_HPARAMS_FILE`, `log_dir` = `<save_dir>/<name>/version_<n>`), src/lightning/fabric/
  loggers/csv_logs.py (`NAME_METRICS_FILE`, rows with a `step` column, sparse), core/saving.py
  `save_hparams_to_yaml`, callbacks/model_checkpoint.py (`<log_dir>/checkpoints`,
  `{epoch}-{step}` names with `=`, `last.ckpt`);
- keras-team/keras 3422977a: keras/src/callbacks/model_checkpoint.py (`filepath.format(epoch=
  epoch + 1, **logs)`, `.keras`/`.h5`/`.weights.h5`);
- wandb/wandb b6e29505: wandb/sdk/lib/filenames.py, wandb/sdk/wandb_settings.py (`sync_dir`
  `run-<YYYYmmdd_HHMMSS>-<id>`), wandb/sdk/lib/config_util.py (`wandb_version: 1`, `{desc,
  value}` entries), wandb/proto/wandb_internal.proto `EnvironmentRecord`, `GitRepoRecord`;
- tensorflow/tensorboard 70b76c92: tensorboard/summary/writer/record_writer.py (TFRecord
  framing), compat/proto/event.proto, summary.proto, plugins/hparams/plugin_data.proto,
  plugins/hparams/metadata.py (`PLUGIN_NAME`, `SESSION_START_INFO_TAG`).
"""

from __future__ import annotations

import functools
import json
import struct

from tests.fuzz.targets import _pytorch_seeds, _safetensors_seeds
from unified_supply_chain.sources.lineage.training_logs.tfevents import masked_crc32c


def varint(n: int) -> bytes:
    """A protobuf varint."""
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def double(number: int, value: float) -> bytes:
    """A fixed64 (double) protobuf field."""
    return varint(number << 3 | 1) + struct.pack("<d", value)


def pb_value(value: object) -> bytes:
    """A google.protobuf.Value (struct.proto: number 2, string 3, bool 4, list 6)."""
    if isinstance(value, bool):
        return varint(4 << 3) + varint(int(value))
    if isinstance(value, (int, float)):
        return double(2, float(value))
    if isinstance(value, list):
        return field(6, b"".join(field(1, pb_value(v)) for v in value))
    return field(3, str(value).encode())


def session_start_event(hparams: dict[str, object], group: str = "") -> bytes:
    """An Event whose summary carries the hparams plugin's SessionStartInfo."""
    ssi = b"".join(
        field(1, field(1, k.encode()) + field(2, pb_value(v))) for k, v in hparams.items()
    )
    if group:
        ssi += field(4, group.encode())
    ssi += double(5, 1767225600.0)
    content = varint(1 << 3) + varint(0) + field(3, ssi)  # HParamsPluginData version 0
    metadata = field(1, field(1, b"hparams") + field(2, content))
    value = field(1, b"_hparams_/session_start_info") + field(9, metadata)
    return double(1, 1767225600.0) + field(5, field(1, value))


def scalar_event(tag: str, number: float, step: int) -> bytes:
    """An Event with one scalar summary value (`simple_value = 2`, a float)."""
    value = field(1, tag.encode()) + varint(2 << 3 | 5) + struct.pack("<f", number)
    return double(1, 1767225600.0) + varint(2 << 3) + varint(step) + field(5, field(1, value))


def file_version_event() -> bytes:
    """The first Event of every file: `file_version = 3` "brain.Event:2"."""
    return double(1, 1767225600.0) + field(3, b"brain.Event:2")


def tfrecord(*payloads: bytes) -> bytes:
    """TFRecord framing of each payload (length, masked CRCs), as record_writer.py writes it."""
    out = b""
    for data in payloads:
        header = struct.pack("<Q", len(data))
        out += header + struct.pack("<I", masked_crc32c(header))
        out += data + struct.pack("<I", masked_crc32c(data))
    return out


def torch_checkpoint() -> bytes:
    """A small torch zip checkpoint."""
    return _pytorch_seeds()[0].tree["m.pt"]


def keras_file() -> bytes:
    """A small benign `.keras` zip (keras/src/saving/saving_lib.py: metadata.json, config.json,
    model.weights.h5), one Dense layer and an HDF5 weights file written by h5py."""
    import io
    import zipfile

    import h5py

    weights = io.BytesIO()
    with h5py.File(weights, "w") as h5:
        h5.create_group("layers")
    config = {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": "seq", "layers": [{"class_name": "Dense", "config": {"units": 1}}]},
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("metadata.json", json.dumps({"keras_version": "3.6.0"}))
        zf.writestr("config.json", json.dumps(config))
        zf.writestr("model.weights.h5", weights.getvalue())
    return buf.getvalue()


def safetensors_file() -> bytes:
    """A small safetensors file."""
    return _safetensors_seeds()[0].tree["m.safetensors"]


LIGHTNING_DIR = "lightning_logs/version_0"
WANDB_RUN = "wandb/run-20260101_120000-k3x9q2ab"
KERAS_DIR = "keras_ckpt"
TB_RUN = "logs/hparam_tuning/run-0"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def training_logs_tree() -> dict[str, bytes]:
    """A repository with one run of every logger, and the negatives beside them (built once: the
    zip members carry the build time, and tests compare digests)."""
    return dict(_training_logs_tree())


@functools.cache
def _training_logs_tree() -> dict[str, bytes]:
    hparams_event = session_start_event({"lr": 0.001, "batch_size": 32, "optimizer": "adam"})
    return {
        # Lightning: CSVLogger + TensorBoardLogger in one version dir; save_hparams_to_yaml writes
        # plain YAML via OmegaConf.save or yaml.dump.
        f"{LIGHTNING_DIR}/hparams.yaml": b"lr: 0.001\nbatch_size: 32\nlayers:\n  hidden: 64\n",
        f"{LIGHTNING_DIR}/metrics.csv": (
            b"epoch,step,train_loss,val_loss,val_acc\n0,9,0.91,,\n0,9,,0.80,0.61\n"
            b"1,19,0.52,,\n1,19,,0.43,0.82\n"
        ),
        f"{LIGHTNING_DIR}/events.out.tfevents.1767225600.host.1.0": tfrecord(
            file_version_event(), hparams_event, scalar_event("train_loss", 0.5, 9)
        ),
        f"{LIGHTNING_DIR}/checkpoints/epoch=1-step=20.ckpt": torch_checkpoint(),
        f"{LIGHTNING_DIR}/checkpoints/last.ckpt": torch_checkpoint(),
        # Keras ModelCheckpoint("keras_ckpt/weights.{epoch:02d}-{val_loss:.2f}.keras")
        f"{KERAS_DIR}/weights.01-0.35.keras": keras_file(),
        f"{KERAS_DIR}/weights.02-0.29.keras": keras_file(),
        f"{KERAS_DIR}/weights.03-0.31.keras": keras_file(),
        # W&B run with a model saved into it (wandb.save)
        f"{WANDB_RUN}/files/config.yaml": (
            b"wandb_version: 1\n\n_wandb:\n  desc: null\n  value:\n    python_version: 3.11.7\n"
            b"    cli_version: 0.19.1\nepochs:\n  desc: null\n  value: 10\nlr:\n  desc: null\n"
            b"  value: 0.01\nmodel:\n  desc: null\n  value:\n    depth: 4\n"
        ),
        f"{WANDB_RUN}/files/wandb-summary.json": json.dumps(
            {
                "accuracy": 0.93,
                "val/loss": 0.21,
                "_step": 99,
                "_runtime": 12.5,
                "_wandb": {"runtime": 12},
                "examples": {"_type": "table-file", "path": "t.json", "size": 10},
            }
        ).encode(),
        f"{WANDB_RUN}/files/wandb-metadata.json": json.dumps(
            {
                "program": "train.py",
                "codePath": "src/train.py",
                "args": ["--epochs", "10"],
                "startedAt": "2026-01-01T12:00:00.123456Z",
                "git": {"remote": "https://github.com/o/r.git", "commit": COMMIT},
                "host": "secret-host",
                "email": "someone@example.com",
            }
        ).encode(),
        f"{WANDB_RUN}/files/model.safetensors": safetensors_file(),
        f"{WANDB_RUN}/logs/debug.log": b"2026-01-01 12:00:00 INFO wandb started\n",
        # TensorBoard hparams tuning run (hp.hparams) with no model beside it
        f"{TB_RUN}/events.out.tfevents.1767225601.host.2.0": tfrecord(
            file_version_event(),
            session_start_event({"dropout": 0.2, "units": 16, "tags": ["a", "b"]}, group="g1"),
        ),
        # Negatives: an events file of scalars only, a wandb dir with only debug logs, a
        # metrics.csv outside a logger directory.
        "logs/fit/train/events.out.tfevents.1767225602.host.3.0": tfrecord(
            file_version_event(), scalar_event("loss", 0.3, 1)
        ),
        "other/wandb/debug.log": b"log\n",
        "other/wandb/debug-internal.log": b"log\n",
        "reports/metrics.csv": b"name,value\naccuracy,0.9\n",
    }
