"""Training-log readers on their own: the TFRecord/hparams reader against corrupt, capped and
foreign event files, Lightning's metrics.csv, W&B config entries and Keras checkpoint sequences.

TFRecord framing: tensorflow/tensorboard tensorboard/summary/writer/record_writer.py (uint64
length, masked crc32c of it, data, masked crc32c of data); masked CRC from
tensorboard/compat/tensorflow_stub/pywrap_tensorflow.py. Other layouts: the sources cited in
tests/builders/training_logs.py.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from tests.builders.training_logs import (
    file_version_event,
    scalar_event,
    session_start_event,
    tfrecord,
)
from unified_supply_chain.errors import FormatError
from unified_supply_chain.sources.lineage.training_logs import keras, read_training_logs
from unified_supply_chain.sources.lineage.training_logs.state import Collector
from unified_supply_chain.sources.lineage.training_logs.tfevents import (
    crc32c,
    masked_crc32c,
    read_hparams_session,
)
from unified_supply_chain.sources.lineage.training_logs.wandb import config_values

SESSION = session_start_event({"lr": 0.5, "n": 3, "name": "x", "on": True}, group="grp")


def _write(tmp_path: Path, data: bytes, name: str = "events.out.tfevents.1.h.1.0") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_crc32c_known_answer() -> None:
    # RFC 3720 B.4: CRC-32C of 32 zero bytes is 0x8A9136AA; of "123456789" 0xE3069283.
    assert crc32c(b"\0" * 32) == 0x8A9136AA
    assert crc32c(b"123456789") == 0xE3069283
    assert masked_crc32c(b"") != crc32c(b"")


def test_session_read(tmp_path: Path) -> None:
    path = _write(tmp_path, tfrecord(file_version_event(), scalar_event("a", 1.0, 1), SESSION))
    session = read_hparams_session(path)
    assert session is not None
    assert session.hparams == (("lr", "0.5"), ("n", "3"), ("name", "x"), ("on", "true"))
    assert session.group_name == "grp"
    assert session.start_time_secs == 1767225600.0


def test_foreign_event_file_has_no_session(tmp_path: Path) -> None:
    path = _write(tmp_path, tfrecord(file_version_event(), scalar_event("hparams", 0.1, 1)))
    assert read_hparams_session(path) is None  # the name "hparams" in a tag is no plugin


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[:-3],  # truncated footer of the last record
        lambda b: b[:10],  # truncated header
        lambda b: b[:12] + bytes([b[12] ^ 0xFF]) + b[13:],  # length checksum broken
        lambda b: struct.pack("<Q", 2**40) + b[8:],  # huge length
    ],
)
def test_corrupt_files_are_format_errors(tmp_path: Path, damage: object) -> None:
    data = tfrecord(SESSION)
    path = _write(tmp_path, damage(data))  # type: ignore[operator]
    with pytest.raises(FormatError):
        read_hparams_session(path)


def test_data_checksum_checked_for_hparams_records(tmp_path: Path) -> None:
    data = bytearray(tfrecord(SESSION))
    data[-1] ^= 0xFF
    with pytest.raises(FormatError, match="data checksum"):
        read_hparams_session(_write(tmp_path, bytes(data)))


def test_corrupt_event_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    rel = "lightning_logs/version_0/events.out.tfevents.1.h.1.0"
    (tmp_path / rel).parent.mkdir(parents=True)
    (tmp_path / rel).write_bytes(tfrecord(SESSION)[:-2])
    contribution = read_training_logs(tmp_path, [rel])
    assert [p.path for p in contribution.problems] == [rel]
    assert contribution.artifacts == ()


def test_wandb_config_values() -> None:
    data = {
        "wandb_version": 1,
        "_wandb": {"desc": None, "value": {"t": 1}},
        "lr": {"desc": None, "value": 0.1},
        "odd": 3,  # not an entry W&B writes: no value
    }
    assert config_values(data) == {"lr": 0.1}


def test_keras_sequences_need_two_files_of_one_template(tmp_path: Path) -> None:
    files = [
        "a/weights.01-0.35.keras",  # alone in its directory: no sequence
        "b/model.keras",  # no number
        "c/epoch_01.weights.h5",
        "c/epoch_02.weights.h5",
        "c/other.keras",
        "d/run1.keras",
        "d/run2.h5",  # another suffix: another template
    ]
    out = Collector(root=tmp_path, files=frozenset(files))
    keras.read_keras_sequences(out, files)
    assert [s.name for s in out.stages] == ["c/epoch_{}.weights.h5"]
    assert out.stages[0].outputs == ("c/epoch_01.weights.h5", "c/epoch_02.weights.h5")
    epochs = [dict(d.properties)["usc:checkpoint:epoch"] for d in out.declared]
    assert epochs == ["1", "2"]
