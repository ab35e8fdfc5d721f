"""NumPy .npy/.npz header readers on files written by numpy (never loaded) and hostile bytes."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tests.unit.format_helpers import assert_each_is_format_error
from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError, LimitExceeded
from unified_supply_chain.formats.numpy_files import npz_role, read_npy, read_npz


def _npy_bytes(header: str, version: tuple[int, int] = (1, 0), data: bytes = b"") -> bytes:
    raw = header.encode("latin-1")
    pre = b"\x93NUMPY" + bytes(version)
    length = struct.pack("<H", len(raw)) if version[0] == 1 else struct.pack("<I", len(raw))
    return pre + length + raw + data


def test_npy_float_array(tmp_path: Path) -> None:
    path = tmp_path / "w.npy"
    np.save(path, np.zeros((3, 4, 5), dtype=np.float32))
    info = read_npy(path)
    assert info.format == "npy"
    assert info.parameter_count == 60
    assert info.properties["dtype"] == "<f4"
    assert info.properties["shape"] == "3x4x5"
    assert info.properties["fortran_order"] == "false"
    assert info.pickle_members == ()


def test_npy_fortran_scalar_and_structured(tmp_path: Path) -> None:
    np.save(tmp_path / "f.npy", np.asfortranarray(np.ones((2, 3))))
    assert read_npy(tmp_path / "f.npy").properties["fortran_order"] == "true"
    np.save(tmp_path / "s.npy", np.float64(3.0))
    scalar = read_npy(tmp_path / "s.npy")
    assert scalar.properties["shape"] == "scalar" and scalar.parameter_count == 1
    rec = np.zeros(4, dtype=[("a", "<i4"), ("b", "<f8")])
    np.save(tmp_path / "r.npy", rec)
    info = read_npy(tmp_path / "r.npy")
    assert info.properties["dtype"] == "[a:<i4,b:<f8]" and info.parameter_count == 4


def test_npy_versions_2_and_3(tmp_path: Path) -> None:
    header = "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }"
    for version in ((2, 0), (3, 0)):
        path = tmp_path / f"v{version[0]}.npy"
        path.write_bytes(_npy_bytes(header, version, b"\0" * 16))
        info = read_npy(path)
        assert info.parameter_count == 2 and info.properties["dtype"] == "<i8"


def test_npy_object_array_is_a_pickle(tmp_path: Path) -> None:
    path = tmp_path / "o.npy"
    np.save(path, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    info = read_npy(path)
    assert info.properties["object_array"] == "true"
    assert info.properties["dtype"] == "|O"
    assert info.pickle_members == ("",)
    assert info.parameter_count is None


def test_npy_hostile_headers(tmp_path: Path) -> None:
    cases = {
        "code": "{'descr': __import__('os').system('echo hi'), 'fortran_order': False, "
        "'shape': (1,)}",
        "call": "{'descr': '<f8', 'fortran_order': False, 'shape': (len('ab'),)}",
        "notdict": "['<f8', False, (1,)]",
        "missing": "{'descr': '<f8', 'shape': (1,)}",
        "negshape": "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}",
        "floatshape": "{'descr': '<f8', 'fortran_order': False, 'shape': (1.5,)}",
        "badorder": "{'descr': '<f8', 'fortran_order': 'yes', 'shape': (1,)}",
        "unhashable": "{[1]: 2}",
        "nested": "(" * 500 + ")" * 500,
        "bigint": "{'descr': '<f8', 'fortran_order': False, 'shape': (" + "9" * 5000 + ",)}",
        "syntax": "{'descr': '<f8',",
        "lies": "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000,)}",
        "absurd": "{'descr': '|V0', 'fortran_order': False, 'shape': (2**62,)}",
        "huge": "{'descr': '[(\"a\",\"<f8\")]', 'fortran_order': False, "
        "'shape': (4294967296, 4294967296, 4294967296)}",
    }
    files = {name: _npy_bytes(header, data=b"\0" * 8) for name, header in cases.items()}
    assert_each_is_format_error(read_npy, tmp_path, files, ".npy")


def test_npy_absurd_header_length_and_bad_magic(tmp_path: Path) -> None:
    path = tmp_path / "long.npy"
    path.write_bytes(b"\x93NUMPY\x02\x00" + struct.pack("<I", 0xFFFFFFF0) + b"{}")
    with pytest.raises(LimitExceeded):
        read_npy(path)
    path.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", 500) + b"{'descr'")
    with pytest.raises(FormatError, match="truncated"):
        read_npy(path)
    path.write_bytes(b"\x93NUMPY\x09\x00" + b"\0" * 10)
    with pytest.raises(FormatError, match="version"):
        read_npy(path)
    path.write_bytes(b"PK\x03\x04 not npy")
    with pytest.raises(FormatError, match="magic"):
        read_npy(path)


def test_npy_header_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_NPY_HEADER", 64)
    path = tmp_path / "w.npy"
    np.save(path, np.zeros((2,), dtype=np.float32))  # header is padded to 118 bytes
    with pytest.raises(LimitExceeded):
        read_npy(path)


def test_npz_model_weights(tmp_path: Path) -> None:
    path = tmp_path / "weights.npz"
    np.savez(path, W1=np.zeros((4, 3)), b1=np.zeros(3), W2=np.zeros((3, 2), dtype=np.float32))
    info = read_npz(path)
    assert info.format == "npz"
    p = info.properties
    assert p["array_count"] == "3"
    assert p["arrays"] == "W1:4x3,b1:3,W2:3x2"
    assert p["dtypes"] == "<f8,<f4"
    assert p["npz.role"] == "model"
    assert info.parameter_count == 12 + 3 + 6
    assert info.pickle_members == ()


def test_npz_dataset_compressed(tmp_path: Path) -> None:
    path = tmp_path / "data.npz"
    np.savez_compressed(path, x_train=np.zeros((100, 8)), y_train=np.zeros(100, dtype=np.int64))
    info = read_npz(path)
    assert info.properties["npz.role"] == "dataset"
    assert info.parameter_count == 900


def test_npz_object_arrays_and_hidden_pickles(tmp_path: Path) -> None:
    import pickle

    path = tmp_path / "mixed.npz"
    np.savez(path, weight=np.zeros(2), meta=np.array([{"k": "v"}], dtype=object))
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("extra", pickle.dumps({"a": 1}, protocol=4))
    info = read_npz(path)
    assert set(info.pickle_members) == {"meta.npy", "extra"}
    assert info.properties["object_arrays"] == "2"
    assert info.parameter_count == 2


def test_npz_role_heuristic() -> None:
    assert npz_role(["X.npy", "y.npy"]) == "dataset"
    assert npz_role(["features.npy", "labels.npy", "weights.npy"]) == "dataset"
    assert npz_role(["dense/kernel.npy", "dense/bias.npy"]) == "model"
    assert npz_role(["arr_0.npy"]) is None


def test_npz_hostile(tmp_path: Path) -> None:
    bad_header = tmp_path / "bad.npz"
    with zipfile.ZipFile(bad_header, "w") as zf:
        zf.writestr("a.npy", _npy_bytes("{'descr': __import__('os'), 'shape': ()}"))
    no_arrays = tmp_path / "empty.npz"
    with zipfile.ZipFile(no_arrays, "w") as zf:
        zf.writestr("readme.txt", b"hello")
    lies = tmp_path / "lies.npz"
    with zipfile.ZipFile(lies, "w") as zf:
        zf.writestr("a.npy", _npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (99,)}"))
    truncated = tmp_path / "cut.npz"
    np.savez(truncated, a=np.zeros(1000))
    truncated.write_bytes(truncated.read_bytes()[:-100])
    for path in (bad_header, no_arrays, lies, truncated):
        with pytest.raises(FormatError):
            read_npz(path)


def test_npz_zip_bomb_member_reads_header_only(tmp_path: Path) -> None:
    path = tmp_path / "bomb.npz"
    header = _npy_bytes("{'descr': '|u1', 'fortran_order': False, 'shape': (209715200,)}")
    block = b"\0" * (1024 * 1024)
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf,
        zf.open("zeros.npy", "w", force_zip64=True) as member,
    ):
        member.write(header)
        for _ in range(200):
            member.write(block)
    info = read_npz(path)  # only the header is inflated
    assert info.parameter_count == 209715200
