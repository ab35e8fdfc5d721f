"""Keras Lambda layers in legacy `.h5` models written by h5py, and `.keras` configs over the cap.

The `.h5` files are written by h5py as Keras 2's `save_model_to_hdf5` writes them (keras repo,
keras/src/legacy/saving/legacy_h5_format.py: `f.attrs["model_config"] = json.dumps(...)`, bytes
in Keras 2, which h5py stores as a fixed-length string; a `str` is stored variable-length in the
global heap). The reader follows the HDF5 File Format Specification 3.0
(https://docs.hdfgroup.org/hdf5/develop/_f_m_t3.html): II.A superblocks, IV.A.1.a/b object
headers, IV.A.2.m attribute messages, IV.A.2.q continuations, IV.A.2.v attribute info, III.E
global heap.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from unified_supply_chain import limits
from unified_supply_chain.formats._hdf5 import read_root_attributes
from unified_supply_chain.records import Severity
from unified_supply_chain.safety.scan import scan_file


def _layer(cls: str, name: str) -> dict[str, Any]:
    return {"class_name": cls, "config": {"name": name, "trainable": True}}


def _config(*layers: dict[str, Any], padding: int = 0) -> dict[str, Any]:
    body = [_layer("InputLayer", "in"), *layers]
    body += [_layer("Dense", f"pad_{i}") for i in range(padding)]
    return {"class_name": "Sequential", "config": {"name": "seq", "layers": body}}


def _lambda() -> dict[str, Any]:
    # Keras 2 serializes the function as marshalled bytecode in base64.
    layer = _layer("Lambda", "sneaky")
    layer["config"]["function"] = [
        "4wEAAAAAAAAAAAAAAAEAAAACAAAAQwAAAHMIAAAAfABkARQAUwApAk7pAgAAAKkA",
        None,
        None,
    ]
    return layer


def _h5(
    path: Path,
    config: dict[str, Any] | str,
    *,
    as_bytes: bool = True,
    libver: str = "earliest",
    userblock: int = 0,
    weights_first: int = 0,
) -> Path:
    text = config if isinstance(config, str) else json.dumps(config)
    with h5py.File(path, "w", libver=libver, userblock_size=userblock) as f:
        if weights_first:
            # Weights written first push the root attributes into a continuation block far in.
            f.create_dataset("model_weights/w", data=np.zeros((weights_first,), np.float32))
            f.flush()
        f.attrs["keras_version"] = "2.15.0"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = text.encode() if as_bytes else text
    return path


def _lambdas(path: Path) -> list[tuple[Severity, tuple[str, ...]]]:
    return [(f.severity, f.details) for f in scan_file(path, "models/m.h5", "hdf5")]


LAMBDA = [(Severity.HIGH, ("keras-lambda-layer: sneaky",))]


@pytest.mark.parametrize("as_bytes", [True, False], ids=["fixed-length", "variable-length"])
@pytest.mark.parametrize("libver", ["earliest", "latest"])
def test_lambda_in_model_config(tmp_path: Path, as_bytes: bool, libver: str) -> None:
    path = _h5(tmp_path / "m.h5", _config(_lambda()), as_bytes=as_bytes, libver=libver)
    assert _lambdas(path) == LAMBDA
    # The file is what h5py reads back: the same config text.
    with h5py.File(path) as f:
        value = f.attrs["model_config"]
        assert "Lambda" in (value.decode() if isinstance(value, bytes) else value)


def test_lambda_spelled_with_json_escapes(tmp_path: Path) -> None:
    text = json.dumps(_config(_lambda())).replace('"Lambda"', '"\\u004c\\u0061mbda"')
    assert '"Lambda"' not in text
    assert _lambdas(_h5(tmp_path / "m.h5", text)) == LAMBDA
    # ensure_ascii off: non-ASCII names in UTF-8 around the layer.
    text = json.dumps(_config(_layer("Dense", "dénse"), _lambda()), ensure_ascii=False)
    assert _lambdas(_h5(tmp_path / "u.h5", text, as_bytes=False)) == LAMBDA


def test_large_config_far_into_the_file(tmp_path: Path) -> None:
    # 60 kB of config after 8 MB of weights: far past any "first bytes" window.
    path = _h5(
        tmp_path / "m.h5", _config(_lambda(), padding=700), weights_first=2_000_000, as_bytes=False
    )
    data = path.read_bytes()
    assert data.find(b"sneaky") > 4 * 1024 * 1024
    assert _lambdas(path) == LAMBDA


def test_userblock_shifts_every_address(tmp_path: Path) -> None:
    path = _h5(tmp_path / "m.h5", _config(_lambda()), userblock=4096, libver="latest")
    assert _lambdas(path) == LAMBDA


@pytest.mark.parametrize("libver", ["earliest", "latest"])
@pytest.mark.parametrize("as_bytes", [True, False])
def test_benign_models_have_no_finding(tmp_path: Path, libver: str, as_bytes: bool) -> None:
    path = _h5(
        tmp_path / "m.h5",
        _config(_layer("Dense", "d1"), _layer("Dropout", "drop"), padding=50),
        libver=libver,
        as_bytes=as_bytes,
        weights_first=1000,
    )
    assert scan_file(path, "models/m.h5", "hdf5") == []
    # A text mentioning Lambda outside a class_name is not a Lambda layer.
    doc = _config(_layer("Dense", "Lambda"))
    assert scan_file(_h5(tmp_path / "n.h5", doc), "models/n.h5", "hdf5") == []


def test_plain_hdf5_data_has_no_finding(tmp_path: Path) -> None:
    with h5py.File(tmp_path / "d.h5", "w") as f:
        f.attrs["description"] = "measurements"
        f.attrs["count"] = 3
        f.create_dataset("x", data=np.arange(10))
    assert scan_file(tmp_path / "d.h5", "data/d.h5", "hdf5") == []


def test_dense_attribute_storage_could_not_be_verified(tmp_path: Path) -> None:
    # More than 8 attributes with the latest format: h5py moves them to dense storage.
    path = tmp_path / "m.h5"
    with h5py.File(path, "w", libver="latest") as f:
        for i in range(12):
            f.attrs[f"a{i}"] = i
        f.attrs["model_config"] = json.dumps(_config(_lambda()))
    with path.open("rb") as fh:
        assert read_root_attributes(fh, path.stat().st_size, 0).unsupported
    findings = scan_file(path, "models/m.h5", "hdf5")
    assert [f.severity for f in findings] == [Severity.HIGH]
    assert "could not be verified safe" in findings[0].message
    assert "dense storage" in findings[0].message
    # In a data directory the same file is reported, at medium.
    assert [f.severity for f in scan_file(path, "data/m.h5", "hdf5")] == [Severity.MEDIUM]


def test_unparseable_or_odd_configs_could_not_be_verified(tmp_path: Path) -> None:
    path = _h5(tmp_path / "bad.h5", '{"class_name": "Sequential", "config": ')
    assert [f.severity for f in scan_file(path, "m.h5", "hdf5")] == [Severity.HIGH]
    deep = '{"class_name": "Sequential", "config": ' + "[" * 400 + "]" * 400 + "}"
    assert [f.severity for f in scan_file(_h5(tmp_path / "d.h5", deep), "m.h5", "hdf5")] == [
        Severity.HIGH
    ]
    with h5py.File(tmp_path / "n.h5", "w") as f:
        f.attrs["model_config"] = np.frombuffer(json.dumps(_config(_lambda())).encode(), np.uint8)
    findings = scan_file(tmp_path / "n.h5", "m.h5", "hdf5")
    assert [f.severity for f in findings] == [Severity.HIGH]


def test_truncated_file_could_not_be_verified(tmp_path: Path) -> None:
    path = _h5(tmp_path / "m.h5", _config(_lambda()), as_bytes=False)
    data = path.read_bytes()
    (tmp_path / "cut.h5").write_bytes(data[:1200])
    findings = scan_file(tmp_path / "cut.h5", "models/cut.h5", "hdf5")
    assert findings and all(f.severity is Severity.HIGH for f in findings)


# --- .keras zips: config.json over the size cap. ------------------------------------------------


def _keras_zip(path: Path, config: bytes) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("config.json", config)
        zf.writestr("metadata.json", json.dumps({"keras_version": "3.3.3"}))
    path.write_bytes(buf.getvalue())
    return path


def test_keras_config_over_the_cap_is_high(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = json.dumps(_config(_lambda(), padding=200)).encode()
    path = _keras_zip(tmp_path / "m.keras", config)
    assert [f.details for f in scan_file(path, "m.keras", "keras")] == [LAMBDA[0][1]]
    monkeypatch.setattr(limits, "MAX_TEXT_PARSE", len(config) // 2)
    findings = scan_file(path, "m.keras", "keras")
    assert [(f.rule, f.severity) for f in findings] == [("unsafe-serialization", Severity.HIGH)]
    assert "could not be verified safe" in findings[0].message
    assert findings[0].path == "m.keras!config.json"


def test_keras_config_in_utf16_is_read_as_keras_reads_it(tmp_path: Path) -> None:
    # json.loads (what Keras calls) detects UTF-16; so do we.
    config = json.dumps(_config(_lambda())).encode("utf-16")
    assert json.loads(config)["class_name"] == "Sequential"
    path = _keras_zip(tmp_path / "m.keras", config)
    assert [f.details for f in scan_file(path, "m.keras", "keras")] == [LAMBDA[0][1]]
    broken = _keras_zip(tmp_path / "b.keras", b"{not json")
    assert [f.severity for f in scan_file(broken, "b.keras", "keras")] == [Severity.HIGH]
