"""Flax msgpack reader on state dicts encoded as flax.serialization.to_bytes writes them.

The msgpack library is not a dependency, so `tests.fuzz.targets.msgpack_pack` encodes to the
msgpack spec (github.com/msgpack/msgpack/blob/master/spec.md) with flax's extension types
(google/flax flax/serialization.py: `_MsgpackExtType`, `_ndarray_to_bytes`, `_chunk`).
"""

from __future__ import annotations

import math
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.targets import msgpack_pack
from tests.unit.format_helpers import (
    MUTATION_SETTINGS,
    assert_each_is_format_error,
    check_mutation,
)
from unified_supply_chain import limits
from unified_supply_chain.discover.classify import classify
from unified_supply_chain.errors import LimitExceeded
from unified_supply_chain.formats import registry
from unified_supply_chain.formats.flax_msgpack import read_flax_msgpack
from unified_supply_chain.records import ArtifactKind


def _arrays(tree: Any) -> list[np.ndarray]:
    if isinstance(tree, dict):
        return [a for v in tree.values() for a in _arrays(v)]
    return [tree] if isinstance(tree, np.ndarray) else []


def _write(tmp_path: Path, tree: Any, name: str = "flax_model.msgpack") -> Path:
    path = tmp_path / name
    path.write_bytes(msgpack_pack(tree))
    return path


def test_state_dict_counts(tmp_path: Path) -> None:
    # 20 layers (a map16), a key over 31 bytes (str8), buffers over 255 and 65535 bytes.
    layers = {f"layer_{i}": {"kernel": np.ones((i + 1, 3), np.float32)} for i in range(20)}
    tree = {
        "params": {
            **layers,
            "Embed_0": {"embedding": np.ones((300, 300), np.float16)},
            "a_rather_long_module_name_over_31_bytes": {"bias": np.arange(70, dtype=np.int64)},
        },
        "opt_state": {"count": np.int32(3), "lr": 1e-3, "phase": complex(1, 2), "tag": None},
    }
    info = read_flax_msgpack(_write(tmp_path, tree))
    arrays = _arrays(tree)
    p = info.properties
    assert info.format == "flax-msgpack"
    assert p["tensor_count"] == str(len(arrays))
    assert p["tensor_bytes"] == str(sum(a.nbytes for a in arrays))
    assert info.parameter_count == sum(a.size for a in arrays)
    assert p["dtypes"] == ",".join(sorted({a.dtype.name for a in arrays}))
    assert p["top_level_keys"] == "params,opt_state"
    assert p["scalar_count"] == "2"  # the NumPy scalar and the complex


def test_chunked_array_is_one_tensor(tmp_path: Path) -> None:
    # flax's _chunk: {"__msgpack_chunked_array__": True, "shape": {...}, "chunks": {...}}.
    chunks = {"0": np.ones(4, np.float32), "1": np.ones(2, np.float32)}
    big = {"__msgpack_chunked_array__": True, "shape": {"0": 6}, "chunks": chunks}
    tree = {"params": {"big": big, "small": np.ones(3, np.float32)}}
    info = read_flax_msgpack(_write(tmp_path, tree))
    assert info.properties["tensor_count"] == "2"
    assert info.properties["chunked_arrays"] == "1"
    assert info.parameter_count == 9


def test_bfloat16_by_name(tmp_path: Path) -> None:
    # jax's bfloat16 is written under the dtype name "bfloat16" (flax _dtype_from_name).
    inner = msgpack_pack(([2, 2], "bfloat16", b"\0" * 8))
    leaf = b"\xc7" + bytes([len(inner)]) + b"\x01" + inner
    path = tmp_path / "w.msgpack"
    path.write_bytes(b"\x81" + msgpack_pack("w") + leaf)
    info = read_flax_msgpack(path)
    assert info.properties["dtypes"] == "bfloat16"
    assert info.parameter_count == 4


def test_weights_are_seeked_over(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, {"params": {"w": np.zeros((1024, 2048), np.float32)}})
    monkeypatch.setattr(limits, "MAX_MSGPACK_META_BYTES", 64 * 1024)
    assert read_flax_msgpack(path).properties["tensor_bytes"] == str(1024 * 2048 * 4)


def test_names_and_kinds(tmp_path: Path) -> None:
    assert classify(b"\x81", "flax_model.msgpack") == "flax-msgpack"
    assert classify(b"\x81", "m/flax_model-00001-of-00002.msgpack") == "flax-msgpack"
    spec = registry()["flax-msgpack"]
    plain = _write(tmp_path, {"cache": [1, 2, 3], "name": "x"}, "cache.msgpack")
    header = read_flax_msgpack(plain)
    assert header.properties["tensor_count"] == "0"
    assert spec.kind_for("cache.msgpack", header) is None  # plain data: no component
    assert spec.kind_for("flax_model.msgpack", header) is ArtifactKind.MODEL
    assert spec.kind_for("weird.msgpack", None) is ArtifactKind.MODEL  # unreadable: reported


def test_hostile_files(tmp_path: Path) -> None:
    good = msgpack_pack({"w": np.ones(2, np.float32)})
    inner = msgpack_pack(([2], "float32", b"\0" * 4))  # 2 floats in 4 bytes
    cases = {
        "empty": b"",
        "array_at_top": msgpack_pack([1, 2]),
        "trailing": good + b"\xc0",
        "truncated": good[:-3],
        "never_used_byte": b"\x81\xa1w\xc1",
        "short_buffer": b"\x81\xa1w\xc7" + bytes([len(inner)]) + b"\x01" + inner,
        "negative_dim": b"\x81\xa1w"
        + msgpack_pack(np.ones(1, np.float32)).replace(b"\x91\x01", b"\x91\xff"),
        "bad_ext_shape": b"\x81\xa1w\xd4\x01\xc0",
        "ext_overrun": b"\x81\xa1w\xc9" + struct.pack(">I", 10**9) + b"\x01",
        "str_overrun": b"\x81\xdb" + struct.pack(">I", 10**9) + b"ab",
        "map_overrun": b"\xdf" + struct.pack(">I", 2**32 - 1),
    }
    assert_each_is_format_error(read_flax_msgpack, tmp_path, cases, ".msgpack")


def test_depth_is_capped(tmp_path: Path) -> None:
    path = tmp_path / "deep.msgpack"
    path.write_bytes(b"\x81\xa1k" * 10_000 + b"\xc0")
    with pytest.raises(LimitExceeded):
        read_flax_msgpack(path)


@MUTATION_SETTINGS
@given(data=st.data())
def test_mutations_never_crash(tmp_path: Path, data: st.DataObject) -> None:
    seed = msgpack_pack({"params": {"k": np.ones((2, 3), np.float32), "s": np.float32(1)}})
    check_mutation(tmp_path, data, seed, read_flax_msgpack, "flax-msgpack")


def test_element_count_overflow_is_refused(tmp_path: Path) -> None:
    # A shape whose product is astronomically large against a 4-byte buffer.
    shape = [2**62, 2**62]
    inner = msgpack_pack((shape, "float32", b"\0" * 4))
    path = tmp_path / "x.msgpack"
    path.write_bytes(b"\x81\xa1w\xc7" + bytes([len(inner)]) + b"\x01" + inner)
    assert math.prod(shape) * 4 != 4
    assert_each_is_format_error(read_flax_msgpack, tmp_path, {"huge": path.read_bytes()}, ".mp")
