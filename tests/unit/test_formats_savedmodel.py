"""TensorFlow SavedModel reader on hand-built saved_model.pb files (no TensorFlow, no protobuf)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.unit.format_helpers import assert_each_is_format_error
from tests.unit.format_helpers import len_field as _len_field
from tests.unit.format_helpers import varint as _varint
from unified_supply_chain.errors import FormatError, LimitExceeded
from unified_supply_chain.formats import savedmodel
from unified_supply_chain.formats.savedmodel import read_saved_model, savedmodel_members


def _int_field(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _meta_graph(tags: list[str], signatures: list[str], tf: str = "2.16.1") -> bytes:
    info = _len_field(1, b"v2") + b"".join(_len_field(4, t.encode()) for t in tags)
    info += _len_field(5, tf.encode()) + _len_field(6, b"v2.16.1-0-gabc")
    graph = _len_field(1, b"\x0a\x05const" * 2000)  # graph_def: skipped, never parsed
    sigs = b"".join(
        _len_field(5, _len_field(1, s.encode()) + _len_field(2, _len_field(3, b"predict")))
        for s in signatures
    )
    return _len_field(1, info) + _len_field(2, graph) + sigs + _len_field(7, b"\x0a\x00")


def _saved_model(*graphs: bytes, schema: int = 1) -> bytes:
    return _int_field(1, schema) + b"".join(_len_field(2, g) for g in graphs)


def test_saved_model_envelope(tmp_path: Path) -> None:
    path = tmp_path / "saved_model.pb"
    path.write_bytes(
        _saved_model(
            _meta_graph(["serve"], ["serving_default", "__saved_model_init_op"]),
            _meta_graph(["serve", "gpu"], ["serving_default"]),
        )
    )
    info = read_saved_model(path)
    assert info.format == "tf-savedmodel"
    p = info.properties
    assert p["schema_version"] == "1"
    assert p["meta_graph_count"] == "2"
    assert p["tags"] == "serve,gpu"
    assert p["signatures"] == "serving_default,__saved_model_init_op"
    assert p["signature_count"] == "2"
    assert p["tensorflow_version"] == "2.16.1"


def test_long_strings_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "saved_model.pb"
    path.write_bytes(_saved_model(_meta_graph(["x" * 10_000, "serve"], [])))
    info = read_saved_model(path)
    assert info.properties["tags"] == "serve"
    assert info.properties["signature_count"] == "0"


def test_hostile_protobufs(tmp_path: Path) -> None:
    good = _saved_model(_meta_graph(["serve"], ["s"]))
    cases = {
        "empty": b"",
        "no_graph": _int_field(1, 1),
        "truncated": good[: len(good) // 2],
        "overrun": _int_field(1, 1) + _varint(2 << 3 | 2) + _varint(10**9) + b"abc",
        "endless_varint": b"\x08" + b"\xff" * 20,
        "group": _int_field(1, 1) + _varint(2 << 3 | 3),
        "field0": b"\x00\x01",
        "text": b"This is not a protobuf at all, just prose.\n",
        "bad_inner": _int_field(1, 1) + _len_field(2, _len_field(1, b"\xff\xff")),
    }
    assert_each_is_format_error(read_saved_model, tmp_path, cases, ".pb")


def test_size_and_field_caps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain import limits

    path = tmp_path / "saved_model.pb"
    path.write_bytes(_saved_model(_meta_graph(["serve"], ["s"])))
    monkeypatch.setattr(limits, "MAX_SAVED_MODEL_PB", 10)
    with pytest.raises(LimitExceeded):
        read_saved_model(path)
    monkeypatch.undo()
    many = tmp_path / "many.pb"
    many.write_bytes(_int_field(3, 1) * 2000 + _saved_model(_meta_graph(["serve"], [])))
    monkeypatch.setattr(savedmodel, "MAX_FIELDS", 1000)
    with pytest.raises(LimitExceeded):
        read_saved_model(many)


def test_savedmodel_members(tmp_path: Path) -> None:
    d = tmp_path / "export"
    (d / "variables").mkdir(parents=True)
    (d / "assets" / "vocab").mkdir(parents=True)
    (d / "saved_model.pb").write_bytes(b"x")
    (d / "fingerprint.pb").write_bytes(b"x")
    (d / "variables" / "variables.index").write_bytes(b"x")
    (d / "variables" / "variables.data-00000-of-00001").write_bytes(b"x")
    (d / "assets" / "vocab" / "words.txt").write_text("a\n")
    (d / "unrelated.txt").write_text("not part of the model")
    outside = tmp_path / "secret.txt"
    outside.write_text("s")
    os.symlink(outside, d / "assets" / "link.txt")
    os.symlink(tmp_path, d / "assets" / "loop")
    assert savedmodel_members(d) == [
        "assets/vocab/words.txt",
        "fingerprint.pb",
        "saved_model.pb",
        "variables/variables.data-00000-of-00001",
        "variables/variables.index",
    ]


def test_saved_model_pbtxt(tmp_path: Path) -> None:
    path = tmp_path / "saved_model.pbtxt"
    path.write_text(
        "saved_model_schema_version: 1\n"
        "meta_graphs {\n"
        "  meta_info_def {\n"
        '    tags: "serve"\n'
        '    tensorflow_version: "2.15.0"\n'
        "  }\n"
        "  signature_def {\n"
        '    key: "serving_default"\n'
        '    value { method_name: "tensorflow/serving/predict" }\n'
        "  }\n"
        "}\n"
    )
    info = read_saved_model(path)
    assert info.properties["meta_graph_count"] == "1"
    assert info.properties["schema_version"] == "1"
    assert info.properties["tags"] == "serve"
    assert info.properties["signatures"] == "serving_default"
    assert info.properties["tensorflow_version"] == "2.15.0"
    path.write_text("just some text\n")
    with pytest.raises(FormatError):
        read_saved_model(path)
    path.write_bytes(b"\xff\xfe\x00 binary")
    with pytest.raises(FormatError):
        read_saved_model(path)
