"""ONNX metadata reader: real models built with onnx.helper and hostile protobuf bytes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from tests.unit.format_helpers import MUTATION_SETTINGS, assert_each_is_format_error, check_mutation
from tests.unit.format_helpers import len_field as _field
from tests.unit.format_helpers import varint as _varint
from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError, LimitExceeded
from unified_supply_chain.formats.onnx import read_onnx


def _model(weight: np.ndarray | None = None, *, ir_version: int | None = None) -> onnx.ModelProto:
    w = weight if weight is not None else np.ones((4, 3), np.float32)
    inits = [numpy_helper.from_array(w, "W"), numpy_helper.from_array(np.ones(3, np.float16), "b")]
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["y"]),
        helper.make_node("Cast", ["b"], ["b32"], to=TensorProto.FLOAT),
        helper.make_node("Add", ["y", "b32"], ["z"]),
        helper.make_node("Relu", ["z"], ["r"]),
        helper.make_node("Relu", ["r"], ["out"]),
    ]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, w.shape[0]])]
    if ir_version is not None and ir_version < 4:
        inputs += [helper.make_tensor_value_info("W", TensorProto.FLOAT, list(w.shape))]
    graph = helper.make_graph(
        nodes,
        "tiny",
        inputs,
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, w.shape[1]])],
        inits,
    )
    model = helper.make_model(
        graph,
        producer_name="usc-tests",
        producer_version="2.1",
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)],
    )
    if ir_version is not None:
        model.ir_version = ir_version
    helper.set_model_props(model, {"license": "mit", "task": "regression"})
    return model


def _save(tmp_path: Path, model: onnx.ModelProto, name: str = "m.onnx") -> Path:
    path = tmp_path / name
    onnx.save(model, str(path))
    return path


def test_real_model_metadata(tmp_path: Path) -> None:
    model = _model()
    info = read_onnx(_save(tmp_path, model))
    props = info.properties
    assert info.format == "onnx"
    assert props["ir_version"] == str(model.ir_version)
    assert props["producer"] == "usc-tests 2.1"
    assert props["opset"] == "ai.onnx:17,ai.onnx.ml:3"
    assert props["node_count"] == "5"
    assert props["op_types"].startswith("Relu:2,")
    assert set(props["op_types"].split(",")) == {"Relu:2", "MatMul:1", "Cast:1", "Add:1"}
    assert props["initializer_count"] == "2"
    assert props["dtypes"] == "FLOAT,FLOAT16"
    assert props["inputs"] == "x"
    assert props["outputs"] == "out"
    assert props["graph_name"] == "tiny"
    assert props["metadata.license"] == "mit"
    assert info.parameter_count == 12 + 3
    assert "external_data" not in props


def test_old_ir_version_initializers_are_not_inputs(tmp_path: Path) -> None:
    info = read_onnx(_save(tmp_path, _model(ir_version=3)))
    assert info.properties["ir_version"] == "3"
    assert info.properties["inputs"] == "x"


def test_large_raw_data_is_skipped_never_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 16 MiB of raw_data against a 64 KiB budget of bytes read: any read of the weights would
    # cross the budget and raise LimitExceeded.
    weight = np.ones((1024, 4096), np.float32)
    path = _save(tmp_path, _model(weight))
    assert path.stat().st_size > 16 * 1024 * 1024
    monkeypatch.setattr(limits, "MAX_ONNX_META_BYTES", 64 * 1024)
    info = read_onnx(path)
    assert info.parameter_count == 1024 * 4096 + 3
    assert info.properties["initializer_count"] == "2"


def test_external_data_is_recorded(tmp_path: Path) -> None:
    model = _model(np.ones((64, 64), np.float32))
    path = tmp_path / "ext.onnx"
    onnx.save_model(
        model, str(path), save_as_external_data=True, location="weights.bin", size_threshold=0
    )
    info = read_onnx(path)
    assert info.properties["external_data"] == "weights.bin"
    assert info.parameter_count == 64 * 64 + 3


def test_metadata_budget_is_a_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _save(tmp_path, _model())
    monkeypatch.setattr(limits, "MAX_ONNX_META_BYTES", 16)
    with pytest.raises(LimitExceeded):
        read_onnx(path)


def test_field_count_is_a_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _save(tmp_path, _model())
    monkeypatch.setattr(limits, "MAX_ONNX_FIELDS", 10)
    with pytest.raises(LimitExceeded):
        read_onnx(path)


def test_truncations_inside_the_graph_are_format_errors(tmp_path: Path) -> None:
    model = _model()
    data = model.SerializeToString()
    graph = model.graph.SerializeToString()
    graph_end = data.index(graph) + len(graph)
    cuts = {f"cut{end}": data[:end] for end in range(graph_end)}
    assert_each_is_format_error(read_onnx, tmp_path, cuts, ".onnx")


# --- hand-built protobuf --------------------------------------------------------------------


def _tensor(dims: list[int]) -> bytes:
    return b"".join(_varint(1 << 3) + _varint(d & (2**64 - 1)) for d in dims)


IR = b"\x08\x08"
GRAPH = _field(7, _field(2, b"g"))

HOSTILE = {
    "empty": b"",
    "random": bytes(range(256)),
    "ir-version-only": IR,
    "graph-without-ir-version": GRAPH,
    "length-past-eof": IR + _varint(7 << 3 | 2) + _varint(2**63) + b"x",
    "varint-too-long": IR + b"\xff" * 11,
    "varint-truncated": b"\x08\xff",
    "group-wire-type": IR + _varint(7 << 3 | 3) + GRAPH,
    "field-zero": IR + b"\x02\x00" + GRAPH,
    "ir-version-wrong-type": _field(1, b"xx") + GRAPH,
    "non-utf8-producer": IR + _field(2, b"\xff\xfe") + GRAPH,
    "negative-dim": IR + _field(7, _field(5, _tensor([-5, 2]))),
    "too-many-dims": IR + _field(7, _field(5, _tensor([1] * 100))),
    "packed-dims-overrun": IR + _field(7, _field(5, _field(1, b"\xff\xff"))),
    "inner-length-overruns-outer": IR + _field(7, _varint(5 << 3 | 2) + _varint(50) + b"xx"),
    "fixed64-truncated": IR + _varint(9 << 3 | 1) + b"\0\0",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_files_raise_format_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / "bad.onnx"
    path.write_bytes(HOSTILE[name])
    with pytest.raises(FormatError):
        read_onnx(path)


def test_hand_built_minimal_model(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(IR + _field(7, _field(5, _tensor([2, 3]) + _field(9, b"\0" * 24))))
    info = read_onnx(path)
    assert info.properties["ir_version"] == "8"
    assert info.parameter_count == 6
    assert info.properties["dtypes"] == "UNDEFINED"


# --- mutation fuzzing (bounded; a longer run belongs to the fuzz mode) ------------------------


def _seed(tmp_path: Path) -> bytes:
    return _model().SerializeToString()


@MUTATION_SETTINGS
@given(data=st.data())
def test_mutated_files_raise_only_format_error(tmp_path: Path, data: st.DataObject) -> None:
    check_mutation(tmp_path, data, _seed(tmp_path), read_onnx, "onnx")
