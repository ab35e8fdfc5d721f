"""Keras 3 `.keras` zips built by hand and legacy Keras HDF5 files written by h5py."""

from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path
from typing import Any

import h5py
import pytest

from tests.fuzz.targets import keras_h5
from unified_supply_chain.errors import FormatError, LimitExceeded
from unified_supply_chain.formats.keras import (
    HDF5_SIGNATURE,
    find_hdf5_superblock,
    read_hdf5,
    read_keras_zip,
)


def _layer(cls: str, name: str, **config: Any) -> dict[str, Any]:
    return {"module": "keras.layers", "class_name": cls, "config": {"name": name, **config}}


def _model_config() -> dict[str, Any]:
    inner = {
        "module": "keras",
        "class_name": "Sequential",
        "config": {
            "name": "encoder",
            "layers": [_layer("Dense", "enc_dense"), _layer("Lambda", "enc_lambda")],
        },
    }
    wrapped = _layer("TimeDistributed", "td", layer=_layer("Lambda", "wrapped_lambda"))
    return {
        "module": "keras",
        "class_name": "Sequential",
        "config": {
            "name": "classifier",
            "layers": [
                _layer("InputLayer", "input", batch_shape=[None, 4]),
                _layer("Dense", "dense_1", units=8),
                _layer("Lambda", "scale", function={"class_name": "__lambda__", "config": {}}),
                _layer("Dense", "dense_2", units=2),
                inner,
                wrapped,
            ],
        },
        "compile_config": {"optimizer": {"class_name": "Adam"}, "loss": "mse"},
    }


def _hdf5_weights() -> bytes:
    return HDF5_SIGNATURE + b"\x00" * 56


def _keras_zip(path: Path, members: dict[str, bytes] | None = None) -> Path:
    default = {
        "metadata.json": json.dumps(
            {"keras_version": "3.6.0", "date_saved": "2026-11-26@20:00:00"}
        ).encode(),
        "config.json": json.dumps(_model_config()).encode(),
        "model.weights.h5": _hdf5_weights(),
    }
    default.update(members or {})
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in default.items():
            zf.writestr(name, data)
    return path


def test_keras_zip_config_metadata_and_lambdas(tmp_path: Path) -> None:
    info = read_keras_zip(_keras_zip(tmp_path / "model.keras"))
    p = info.properties
    assert info.format == "keras"
    assert info.architecture == "Sequential"
    assert p["class_name"] == "Sequential"
    assert p["keras_version"] == "3.6.0"
    assert p["layer_count"] == "8"  # 6 top-level + 2 inside the nested Sequential
    assert p["layer_classes"].startswith("InputLayer:1,Dense:3,Lambda:2")
    assert p["keras.lambda_layers"] == "3"
    assert p["keras.lambda_names"].split(",") == ["scale", "enc_lambda", "wrapped_lambda"]
    assert p["weights_member"] == "model.weights.h5"
    assert p["weights_hdf5"] == "true"
    assert info.pickle_members == ()


def test_keras_zip_without_lambda_and_with_hidden_pickle(tmp_path: Path) -> None:
    config = {"class_name": "Functional", "config": {"layers": [_layer("Dense", "d")]}}
    path = _keras_zip(
        tmp_path / "m.keras",
        {
            "config.json": json.dumps(config).encode(),
            "assets/tokenizer": pickle.dumps({"vocab": ["a"]}, protocol=4),
            "model.weights.h5": b"not hdf5",
        },
    )
    info = read_keras_zip(path)
    assert info.properties["keras.lambda_layers"] == "0"
    assert "keras.lambda_names" not in info.properties
    assert info.properties["weights_hdf5"] == "false"
    assert info.pickle_members == ("assets/tokenizer",)


def test_keras_zip_hostile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cases = {
        "noconfig": {"config.json": b""},
        "badjson": {"config.json": b"{not json"},
        "notobject": {"config.json": b"[1, 2]"},
        "notutf8": {"config.json": b"\xff\xfe{}"},
        "deep": {"config.json": b"[" * 5000 + b"]" * 5000},
    }
    for name, members in cases.items():
        path = _keras_zip(tmp_path / f"{name}.keras", members)
        if name == "noconfig":
            with zipfile.ZipFile(tmp_path / "n.keras", "w") as zf:
                zf.writestr("metadata.json", b"{}")
            path = tmp_path / "n.keras"
        with pytest.raises(FormatError):
            read_keras_zip(path)
    # A config.json bomb: tiny when compressed, huge when inflated.
    bomb = _keras_zip(tmp_path / "bomb.keras", {"config.json": b" " * (40 * 1024 * 1024)})
    with pytest.raises(LimitExceeded):
        read_keras_zip(bomb)
    data = _keras_zip(tmp_path / "ok.keras").read_bytes()
    (tmp_path / "cut.keras").write_bytes(data[:-40])
    with pytest.raises(FormatError):
        read_keras_zip(tmp_path / "cut.keras")


def _hdf5_file(path: Path, body: bytes, userblock: int = 0, version: int = 0) -> Path:
    head = b"\0" * userblock + HDF5_SIGNATURE + bytes([version]) + b"\0" * 64
    path.write_bytes(head + body)
    return path


def test_hdf5_with_keras_attributes(tmp_path: Path) -> None:
    path = tmp_path / "model.h5"
    path.write_bytes(keras_h5(_model_config()))
    info = read_hdf5(path)
    assert info.format == "hdf5"
    p = info.properties
    assert p["superblock_version"] == "0"
    assert p["keras"] == "true"
    assert p["keras.attributes"] == "keras_version,model_config,backend"
    assert p["keras_version"] == "2.15.0"
    assert info.architecture == "Sequential"
    assert p["keras.lambda_layers"] == "3"
    assert "hdf5.unread" not in p


def test_hdf5_userblock_offsets_and_plain_hdf5(tmp_path: Path) -> None:
    path = tmp_path / "ub.h5"
    path.write_bytes(keras_h5(_model_config(), userblock=2048, libver="latest"))
    assert find_hdf5_superblock(path) == (2048, 3)
    info = read_hdf5(path)
    assert info.properties["userblock_bytes"] == "2048"
    assert info.properties["keras.lambda_layers"] == "3"
    with h5py.File(tmp_path / "plain.h5", "w") as f:
        f.attrs["units"] = "m"
        f.create_dataset("x", data=[1, 2, 3])
    plain = read_hdf5(tmp_path / "plain.h5")
    assert "keras" not in plain.properties
    assert plain.architecture is None


def test_hdf5_config_that_is_not_json(tmp_path: Path) -> None:
    # Keras attributes but a config that does not parse: still keras, no class name, no crash.
    with h5py.File(tmp_path / "cut.h5", "w") as f:
        f.attrs["keras_version"] = "2.4.0"
        f.attrs["model_config"] = '{"class_name": "Seq'
    info = read_hdf5(tmp_path / "cut.h5")
    assert info.properties["keras"] == "true"
    assert info.architecture is None
    assert "layer_count" not in info.properties


def test_hdf5_structure_we_cannot_read_is_recorded(tmp_path: Path) -> None:
    # A signature and a version but no root group: the reader says what it could not read.
    info = read_hdf5(_hdf5_file(tmp_path / "bare.h5", b"data", userblock=2048, version=2))
    assert "keras" not in info.properties
    assert info.properties["hdf5.unread"]


def test_hdf5_hostile(tmp_path: Path) -> None:
    (tmp_path / "empty.h5").write_bytes(b"")
    (tmp_path / "short.h5").write_bytes(HDF5_SIGNATURE[:5])
    (tmp_path / "text.h5").write_bytes(b"hello world" * 100)
    _hdf5_file(tmp_path / "v9.h5", b"", version=9)
    for name in ("empty.h5", "short.h5", "text.h5", "v9.h5"):
        with pytest.raises(FormatError):
            read_hdf5(tmp_path / name)
