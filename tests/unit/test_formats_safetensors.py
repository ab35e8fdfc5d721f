"""safetensors header reader: real files from the safetensors library and hostile bytes."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from safetensors.numpy import save_file

from tests.unit.format_helpers import MUTATION_SETTINGS, check_mutation
from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError, LimitExceeded
from unified_supply_chain.formats.safetensors import read_safetensors


def _build(header: object, data: bytes = b"", raw_header: bytes | None = None) -> bytes:
    body = raw_header if raw_header is not None else json.dumps(header).encode()
    return struct.pack("<Q", len(body)) + body + data


def _write(tmp_path: Path, content: bytes, name: str = "m.safetensors") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_real_file_counts_dtypes_parameters_and_metadata(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    tensors = {
        "embed.weight": np.zeros((10, 4), dtype=np.float32),
        "head.weight": np.zeros((4, 3), dtype=np.float16),
        "head.bias": np.zeros((3,), dtype=np.int64),
    }
    save_file(tensors, str(path), metadata={"format": "pt", "architecture": "TinyNet"})
    info = read_safetensors(path)
    assert info.format == "safetensors"
    assert info.properties["tensor_count"] == "3"
    assert info.properties["dtypes"] == "F16,F32,I64"
    assert info.parameter_count == 40 + 12 + 3
    assert info.properties["tensor_bytes"] == str(40 * 4 + 12 * 2 + 3 * 8)
    assert info.properties["metadata.format"] == "pt"
    assert info.architecture == "TinyNet"


def test_reads_only_the_header_of_a_large_file(tmp_path: Path) -> None:
    # 64 MiB of declared tensor data as a sparse file: the reader must not care about its size.
    header = {"w": {"dtype": "F32", "shape": [4096, 4096], "data_offsets": [0, 4096 * 4096 * 4]}}
    path = _write(tmp_path, _build(header))
    with path.open("r+b") as fh:
        fh.truncate(path.stat().st_size + 4096 * 4096 * 4)
    info = read_safetensors(path)
    assert info.parameter_count == 4096 * 4096
    assert "architecture" not in info.properties


def test_zero_sized_and_scalar_tensors(tmp_path: Path) -> None:
    header = {
        "empty": {"dtype": "F32", "shape": [0, 5], "data_offsets": [0, 0]},
        "scalar": {"dtype": "F64", "shape": [], "data_offsets": [0, 8]},
    }
    info = read_safetensors(_write(tmp_path, _build(header, b"\0" * 8)))
    assert info.parameter_count == 1
    assert info.properties["tensor_count"] == "2"


def test_metadata_non_string_values_are_not_copied(tmp_path: Path) -> None:
    header = {"__metadata__": {"license": "mit", "n": 3}}
    info = read_safetensors(_write(tmp_path, _build(header)))
    assert info.license == "mit"
    assert "metadata.n" not in info.properties
    assert info.properties["tensor_count"] == "0"


W = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\x05\0\0\0", id="short-length"),
        pytest.param(struct.pack("<Q", 100) + b"{}", id="header-longer-than-file"),
        pytest.param(_build(None, raw_header=b"{not json"), id="invalid-json"),
        pytest.param(_build(None, raw_header=b'{"\xff\xfe": 1}'), id="non-utf8"),
        pytest.param(_build([1, 2]), id="not-an-object"),
        pytest.param(_build({"w": [1]}), id="entry-not-object"),
        pytest.param(
            _build({"w": {"shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8), id="no-dtype"
        ),
        pytest.param(_build({"w": {**W, "shape": [-2]}}, b"\0" * 8), id="negative-dim"),
        pytest.param(_build({"w": {**W, "shape": [True]}}, b"\0" * 8), id="bool-dim"),
        pytest.param(_build({"w": {**W, "shape": "2"}}, b"\0" * 8), id="shape-not-list"),
        pytest.param(
            _build({"w": {**W, "data_offsets": [-8, 0]}}, b"\0" * 8), id="negative-offset"
        ),
        pytest.param(
            _build({"w": {**W, "data_offsets": [8, 0]}}, b"\0" * 8), id="reversed-offsets"
        ),
        pytest.param(_build({"w": W}, b"\0" * 4), id="offsets-past-data"),
        pytest.param(
            _build({"w": {**W, "data_offsets": [0, 2**63]}}, b"\0" * 8), id="absurd-offset"
        ),
        pytest.param(_build({"w": {**W, "data_offsets": [0]}}, b"\0" * 8), id="one-offset"),
        pytest.param(_build({"w": {**W, "data_offsets": [0, 12]}}, b"\0" * 12), id="size-mismatch"),
        pytest.param(
            _build({"a": W, "b": {**W, "data_offsets": [4, 12]}}, b"\0" * 12), id="overlap"
        ),
        pytest.param(
            _build(
                {
                    "a": {**W, "shape": [4], "data_offsets": [0, 16]},
                    "e": {**W, "shape": [0], "data_offsets": [2, 2]},
                    "b": {**W, "data_offsets": [8, 16]},
                },
                b"\0" * 16,
            ),
            id="overlap-behind-empty-tensor",
        ),
        pytest.param(_build({"__metadata__": ["x"]}), id="metadata-not-object"),
        pytest.param(_build(None, raw_header=b"[" * 5000 + b"]" * 5000), id="deep-json"),
    ],
)
def test_hostile_headers_raise_format_error(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(FormatError):
        read_safetensors(_write(tmp_path, content))


def test_absurd_header_length_is_a_limit(tmp_path: Path) -> None:
    path = _write(tmp_path, struct.pack("<Q", 2**63) + b"{}")
    with pytest.raises(LimitExceeded):
        read_safetensors(path)


def test_header_over_the_cap_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_SAFETENSORS_HEADER", 16)
    path = _write(tmp_path, _build({"__metadata__": {"k": "a long enough value"}}))
    with pytest.raises(LimitExceeded, match="cap"):
        read_safetensors(path)


def test_missing_file_is_a_format_error(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="cannot read"):
        read_safetensors(tmp_path / "absent.safetensors")


# --- mutation fuzzing (bounded; a longer run belongs to the fuzz mode) ------------------------


def _seed(tmp_path: Path) -> bytes:
    path = tmp_path / "seed.safetensors"
    tensors = {"a": np.zeros((3, 4), np.float32), "b": np.zeros(2, np.int8)}
    save_file(tensors, str(path), metadata={"architecture": "x"})
    return path.read_bytes()


@MUTATION_SETTINGS
@given(data=st.data())
def test_mutated_files_raise_only_format_error(tmp_path: Path, data: st.DataObject) -> None:
    check_mutation(tmp_path, data, _seed(tmp_path), read_safetensors, "safetensors")
