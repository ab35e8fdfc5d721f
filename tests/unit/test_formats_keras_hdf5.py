"""Keras 3 `.keras` zips and HDF5 files built by hand (no Keras, no h5py)."""

from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path
from typing import Any

import pytest

from unified_supply_chain import limits
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
    config = json.dumps(_model_config()).encode()
    body = (
        b"\x01\x00OHDR\x00\x00keras_version\x00\x00\x13\x00\x00\x002.15.0\x00"
        b"backend\x00tensorflow\x00model_config\x00\x00GCOL\x01\x00\x00" + config + b"\x00\x07\xff"
    )
    info = read_hdf5(_hdf5_file(tmp_path / "model.h5", body))
    assert info.format == "hdf5"
    p = info.properties
    assert p["superblock_version"] == "0"
    assert p["keras"] == "true"
    assert p["keras.attributes"] == "keras_version,model_config,backend"
    assert p["keras_version"] == "2.15.0"
    assert info.architecture == "Sequential"
    assert p["keras.lambda_layers"] == "3"


def test_hdf5_userblock_offsets_and_plain_hdf5(tmp_path: Path) -> None:
    path = _hdf5_file(tmp_path / "ub.h5", b"data", userblock=2048, version=2)
    assert find_hdf5_superblock(path) == (2048, 2)
    info = read_hdf5(path)
    assert info.properties["userblock_bytes"] == "2048"
    assert "keras" not in info.properties
    assert info.architecture is None


def test_hdf5_best_effort_config(tmp_path: Path) -> None:
    # Keras markers but a config cut by binary data: still keras, no class name, no crash.
    body = b"keras_version\x002.4.0\x00model_config\x00" + b'{"class_name": "Seq\x00\x01\x02'
    info = read_hdf5(_hdf5_file(tmp_path / "cut.h5", body))
    assert info.properties["keras"] == "true"
    assert info.architecture is None
    assert "layer_count" not in info.properties


def test_hdf5_sniff_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_HDF5_SNIFF", 4096)
    path = _hdf5_file(tmp_path / "far.h5", b"\0" * 8192 + b"keras_version")
    assert "keras" not in read_hdf5(path).properties


def test_hdf5_hostile(tmp_path: Path) -> None:
    (tmp_path / "empty.h5").write_bytes(b"")
    (tmp_path / "short.h5").write_bytes(HDF5_SIGNATURE[:5])
    (tmp_path / "text.h5").write_bytes(b"hello world" * 100)
    _hdf5_file(tmp_path / "v9.h5", b"", version=9)
    for name in ("empty.h5", "short.h5", "text.h5", "v9.h5"):
        with pytest.raises(FormatError):
            read_hdf5(tmp_path / name)
