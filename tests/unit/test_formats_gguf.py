"""GGUF header reader: real files from the gguf writer and hostile bytes built by hand."""

from __future__ import annotations

import struct
import time
from pathlib import Path

import gguf
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.format_helpers import MUTATION_SETTINGS, assert_each_is_format_error, check_mutation
from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError, LimitExceeded
from unified_supply_chain.formats.gguf import read_gguf

TEMPLATE = "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}"


def _write_real(
    path: Path,
    vocab: int = 1000,
    endianess: gguf.GGUFEndian = gguf.GGUFEndian.LITTLE,
) -> Path:
    writer = gguf.GGUFWriter(str(path), "llama", endianess=endianess)
    writer.add_name("tiny-llama")
    writer.add_file_type(15)
    writer.add_quantization_version(2)
    writer.add_context_length(2048)
    writer.add_license("apache-2.0")
    writer.add_token_list([f"tok{i}" for i in range(vocab)])
    writer.add_token_scores([float(i) for i in range(vocab)])
    writer.add_chat_template(TEMPLATE)
    writer.add_tensor("tok_embd.weight", np.ones((8, 64), dtype=np.float32))
    writer.add_tensor("norm.weight", np.ones((64,), dtype=np.float16))
    q8 = gguf.quants.quantize(np.ones((4, 64), dtype=np.float32), gguf.GGMLQuantizationType.Q8_0)
    writer.add_tensor("out.weight", q8, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_real_file_metadata(tmp_path: Path) -> None:
    info = read_gguf(_write_real(tmp_path / "m.gguf"))
    props = info.properties
    assert info.format == "gguf"
    assert info.architecture == "llama"
    assert info.license == "apache-2.0"
    assert info.parameter_count == 8 * 64 + 64 + 4 * 64
    assert props["general.name"] == "tiny-llama"
    assert props["quantization"] == "Q4_K_M"
    assert props["general.quantization_version"] == "2"
    assert props["context_length"] == "2048"
    assert props["tensor_count"] == "3"
    assert props["dtypes"] == "F16,F32,Q8_0"
    assert props["tokenizer.ggml.tokens.length"] == "1000"
    assert props["tokenizer.ggml.scores.length"] == "1000"
    assert props["tokenizer.chat_template"] == TEMPLATE
    assert props["gguf_version"] == "3"
    assert "tokenizer.ggml.tokens" not in props


def test_big_endian_file(tmp_path: Path) -> None:
    info = read_gguf(_write_real(tmp_path / "be.gguf", endianess=gguf.GGUFEndian.BIG))
    assert info.architecture == "llama"
    assert info.properties["quantization"] == "Q4_K_M"
    assert info.properties["tokenizer.ggml.tokens.length"] == "1000"


def test_large_vocabulary_is_skipped_fast(tmp_path: Path) -> None:
    path = _write_real(tmp_path / "big.gguf", vocab=150_000)
    start = time.perf_counter()
    info = read_gguf(path)
    elapsed = time.perf_counter() - start
    assert info.properties["tokenizer.ggml.tokens.length"] == "150000"
    assert elapsed < 1.0, f"reading the header took {elapsed:.3f}s"


def test_long_strings_are_skipped_and_template_is_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_description("d" * 5000)
    writer.add_chat_template(TEMPLATE)
    writer.add_string("tokenizer.chat_template.tool_use", "{{ t }}")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    monkeypatch.setattr(limits, "MAX_GGUF_STRING", 4096)
    monkeypatch.setattr(limits, "MAX_GGUF_CHAT_TEMPLATE", 10)
    info = read_gguf(path)
    assert info.properties["general.description.skipped"] == "true"
    assert "general.description" not in info.properties
    assert info.properties["tokenizer.chat_template"] == TEMPLATE[:10]
    assert info.properties["tokenizer.chat_template.length"] == str(len(TEMPLATE))
    assert info.properties["tokenizer.chat_template.tool_use"] == "{{ t }}"
    assert info.parameter_count == 0


def test_every_truncation_of_a_real_file_is_a_format_error(tmp_path: Path) -> None:
    data = _write_real(tmp_path / "m.gguf", vocab=20).read_bytes()
    # The writer pads the last tensor to the 32-byte alignment: cutting that padding is harmless.
    cuts = {f"cut{end}": data[:end] for end in range(0, len(data) - 32, 7)}
    assert_each_is_format_error(read_gguf, tmp_path, cuts, ".gguf")


# --- hand-built files ------------------------------------------------------------------------


def _s(text: bytes) -> bytes:
    return struct.pack("<Q", len(text)) + text


def _kv(key: bytes, vtype: int, payload: bytes) -> bytes:
    return _s(key) + struct.pack("<I", vtype) + payload


def _gguf(
    kvs: list[bytes], tensors: tuple[bytes, ...] = (), *, version: int = 3, data: bytes = b""
) -> bytes:
    head = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    body = head + b"".join(kvs) + b"".join(tensors)
    pad = -len(body) % 32
    return body + b"\0" * pad + data


def _tensor(name: bytes, dims: list[int], ttype: int = 0, offset: int = 0) -> bytes:
    return (
        _s(name)
        + struct.pack("<I", len(dims))
        + b"".join(struct.pack("<Q", d) for d in dims)
        + struct.pack("<IQ", ttype, offset)
    )


ARCH = _kv(b"general.architecture", 8, _s(b"llama"))


def test_hand_built_minimal_file(tmp_path: Path) -> None:
    path = tmp_path / "m.gguf"
    path.write_bytes(_gguf([ARCH], (_tensor(b"w", [2, 3]),), data=b"\0" * 24))
    info = read_gguf(path)
    assert info.architecture == "llama"
    assert info.parameter_count == 6
    assert info.properties["dtypes"] == "F32"


def _nested(depth: int) -> bytes:
    inner = struct.pack("<IQ", 4, 0)
    for _ in range(depth):
        inner = struct.pack("<IQ", 9, 1) + inner
    return inner


HOSTILE = {
    "empty": b"",
    "magic-only": b"GGUF",
    "bad-magic": b"GGML" + b"\0" * 40,
    "version-1": _gguf([ARCH], version=1),
    "version-99": _gguf([ARCH], version=99),
    "absurd-tensor-count": b"GGUF" + struct.pack("<IQQ", 3, 2**63, 0),
    "absurd-kv-count": b"GGUF" + struct.pack("<IQQ", 3, 0, 2**63),
    "counts-larger-than-file": b"GGUF" + struct.pack("<IQQ", 3, 1000, 1000),
    "string-length-past-eof": _gguf([_kv(b"k", 8, struct.pack("<Q", 2**63) + b"x")]),
    "key-length-past-eof": b"GGUF" + struct.pack("<IQQQ", 3, 0, 1, 2**62) + b"\0" * 20,
    "non-utf8-key": _gguf([_kv(b"\xff\xfe", 4, struct.pack("<I", 1))]),
    "non-utf8-value": _gguf([_kv(b"general.name", 8, _s(b"\xc3\x28"))]),
    "unknown-value-type": _gguf([_kv(b"k", 99, b"\0" * 8)]),
    "array-count-past-eof": _gguf([_kv(b"k", 9, struct.pack("<IQ", 4, 2**62))]),
    "string-array-count-past-eof": _gguf([_kv(b"k", 9, struct.pack("<IQ", 8, 2**40))]),
    "string-array-element-past-eof": _gguf(
        [_kv(b"k", 9, struct.pack("<IQ", 8, 2) + _s(b"a") + struct.pack("<Q", 2**50))]
    ),
    "unknown-array-type": _gguf([_kv(b"k", 9, struct.pack("<IQ", 77, 1) + b"\0" * 8)]),
    "arrays-nested-too-deep": _gguf([_kv(b"k", 9, _nested(6))]),
    "bad-alignment": _gguf([_kv(b"general.alignment", 4, struct.pack("<I", 3))]),
    "zero-alignment": _gguf([_kv(b"general.alignment", 4, struct.pack("<I", 0))]),
    "file-type-not-int": _gguf([_kv(b"general.file_type", 8, _s(b"Q4"))]),
    "too-many-dims": _gguf([ARCH], (_tensor(b"w", [1] * 100),)),
    "tensor-data-past-eof": _gguf([ARCH], (_tensor(b"w", [1024, 1024]),), data=b"\0" * 64),
    "tensor-offset-absurd": _gguf([ARCH], (_tensor(b"w", [2], offset=2**63),), data=b"\0" * 64),
    "tensor-offset-unaligned": _gguf([ARCH], (_tensor(b"w", [2], offset=3),), data=b"\0" * 64),
    "block-size-mismatch": _gguf([ARCH], (_tensor(b"w", [33], ttype=8),), data=b"\0" * 64),
    "non-utf8-tensor-name": _gguf([ARCH], (_tensor(b"\xff", [2]),), data=b"\0" * 64),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_files_raise_format_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / "bad.gguf"
    path.write_bytes(HOSTILE[name])
    with pytest.raises(FormatError):
        read_gguf(path)


def test_absurd_counts_are_limits(tmp_path: Path) -> None:
    path = tmp_path / "bad.gguf"
    path.write_bytes(HOSTILE["absurd-kv-count"])
    with pytest.raises(LimitExceeded):
        read_gguf(path)


def test_nested_arrays_within_depth_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "m.gguf"
    path.write_bytes(_gguf([_kv(b"k", 9, _nested(2)), ARCH]))
    info = read_gguf(path)
    assert info.properties["k.length"] == "1"
    assert info.architecture == "llama"


# --- mutation fuzzing (bounded; a longer run belongs to the fuzz mode) ------------------------


def _seed(tmp_path: Path) -> bytes:
    return _write_real(tmp_path / "seed.gguf", vocab=8).read_bytes()


@MUTATION_SETTINGS
@given(data=st.data())
def test_mutated_files_raise_only_format_error(tmp_path: Path, data: st.DataObject) -> None:
    check_mutation(tmp_path, data, _seed(tmp_path), read_gguf, "gguf")
