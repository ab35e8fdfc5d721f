"""PaddlePaddle inference model reader on programs serialized by the protobuf runtime
(tests/builders/paddle.py), plus hostile protobufs.

Field numbers: PaddlePaddle/Paddle paddle/fluid/framework/framework.proto (ProgramDesc, BlockDesc,
VarDesc, VarType, OpDesc; paddle/phi/core/framework/framework.proto in Paddle 3), not the design
documents. Feed/fetch layout and `is_persistable`: python/paddle/static/io.py.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tests.builders.paddle import (
    DENSE_TENSOR,
    FP32,
    PaddleProgram,
    build,
    message_classes,
)
from tests.unit.format_helpers import (
    MUTATION_SETTINGS,
    assert_each_is_format_error,
    check_mutation,
    len_field,
    varint,
)
from unified_supply_chain.discover.classify import classify
from unified_supply_chain.formats.paddle import read_paddle_program


def _write(tmp_path: Path, program: PaddleProgram, params: bytes | None = None) -> Path:
    path = tmp_path / "inference.pdmodel"
    path.write_bytes(build(program))
    if params is not None:
        (tmp_path / "inference.pdiparams").write_bytes(params)
    return path


def test_inference_program(tmp_path: Path) -> None:
    program = PaddleProgram(inputs=["image", "mask", "scale"], outputs=["probs", "boxes"])
    info = read_paddle_program(_write(tmp_path, program, params=b"\0" * 60))
    p = info.properties
    assert info.format == "paddle-inference"
    assert p["framework"] == "paddle"
    assert p["program_version"] == "2006000"
    assert p["block_count"] == "1"
    # Feeds are prepended last input first; the `col` attribute restores the order.
    assert (p["inputs"], p["outputs"]) == ("image,mask,scale", "probs,boxes")
    assert p["op_count"] == str(3 + 3 + 2)
    assert set(p["op_types"].split(",")) == {
        "feed:3",
        "fetch:2",
        "matmul_v2:1",
        "elementwise_add:1",
        "softmax:1",
    }
    # The feed/fetch holders are persistable but are not parameters.
    assert p["persistable_vars"] == "2"
    assert p["dtypes"] == "FP32"
    assert info.parameter_count == 4 * 3 + 3
    assert (p["params_file"], p["params_bytes"]) == ("inference.pdiparams", "60")


def test_sub_blocks_and_no_version(tmp_path: Path) -> None:
    info = read_paddle_program(_write(tmp_path, PaddleProgram(version=None, sub_blocks=2)))
    p = info.properties
    assert p["block_count"] == "3"
    assert "relu:2" in p["op_types"].split(",")
    assert "program_version" not in p and "params_bytes" not in p


def test_op_types_are_bounded(tmp_path: Path) -> None:
    ops = [f"custom_{i % 30}" for i in range(300)]
    p = read_paddle_program(_write(tmp_path, PaddleProgram(ops=ops))).properties
    assert p["op_count"] == str(300 + 2 + 1)
    listed = p["op_types"].split(",")
    assert len(listed) == 10 and all(item.startswith("custom_") for item in listed)


def test_unknown_dimension_leaves_parameter_count_unknown(tmp_path: Path) -> None:
    program = PaddleProgram(parameters={"emb": [-1, 8], "w": [8]})
    info = read_paddle_program(_write(tmp_path, program))
    assert info.properties["persistable_vars"] == "2"
    assert info.parameter_count is None


def test_program_without_parameters(tmp_path: Path) -> None:
    info = read_paddle_program(_write(tmp_path, PaddleProgram(parameters={})))
    assert info.properties["persistable_vars"] == "0" and info.parameter_count is None


def test_recognised_by_content_and_name(tmp_path: Path) -> None:
    data = build(PaddleProgram())
    assert classify(data[:512], "models/inference.pdmodel") == "paddle-inference"
    assert classify(data[:512], "legacy/__model__") == "paddle-inference"
    assert classify(b"\0" * 64, "models/inference.pdiparams") == "paddle-params"
    # A pickle named .pdiparams is classified (and scanned) as the pickle it is.
    assert classify(b"\x80\x04\x95\x10\x00", "models/inference.pdiparams") == "pickle"
    # Other protobufs that open with field 1 are not programs.
    assert classify(len_field(1, len_field(1, b"node")), "graph.pb") is None


def test_scan_records_program_and_weights(tmp_path: Path) -> None:
    from unified_supply_chain.inspection.scan import scan
    from unified_supply_chain.options import ScanOptions

    (tmp_path / "models").mkdir()
    _write(tmp_path / "models", PaddleProgram(), params=b"\0" * 40)
    result = scan(ScanOptions(root=tmp_path, jobs=1))
    formats = {a.path: a.format for a in result.inventory.artifacts}
    # The program and its weights are one model of two files (paddle.jit.save writes both).
    assert formats == {"models/inference.pdmodel": "paddle-inference"}
    (program,) = result.inventory.artifacts
    assert [f[0] for f in program.files] == [
        "models/inference.pdmodel",
        "models/inference.pdiparams",
    ]
    assert program.header is not None
    assert program.header.properties["params_bytes"] == "40"


def _program_with_op(op: bytes) -> bytes:
    block = varint(1 << 3) + varint(0) + varint(2 << 3) + b"\xff" * 9 + b"\x01"
    return len_field(1, block + len_field(4, op))


def test_hostile_programs(tmp_path: Path) -> None:
    good = build(PaddleProgram())
    classes = message_classes()
    nameless = classes["VarDesc"]()
    nameless.type.type = DENSE_TENSOR
    nameless.type.dense_tensor.tensor.data_type = FP32
    dims = b"".join(varint(2 << 3) + varint(1) for _ in range(70))
    var_type = varint(1 << 3) + varint(DENSE_TENSOR) + len_field(3, len_field(1, dims))
    cases = {
        "empty": b"",
        "no_blocks": len_field(4, varint(1 << 3) + varint(1)),
        "truncated": good[: len(good) // 2],
        "block_as_varint": varint(1 << 3) + varint(5),
        "op_without_type": _program_with_op(len_field(1, len_field(1, b"X"))),
        "op_type_as_varint": _program_with_op(varint(3 << 3) + varint(1)),
        "var_without_name": len_field(1, len_field(3, nameless.SerializePartialToString())),
        "length_overrun": b"\x0a" + varint(1 << 40) + good[3:],
        "too_many_dims": len_field(1, len_field(3, len_field(1, b"w") + len_field(2, var_type))),
        "bad_utf8_name": _program_with_op(len_field(3, b"\xff\xfe")),
        "wire_type_7": b"\x0f",
    }
    assert_each_is_format_error(read_paddle_program, tmp_path, cases, ".pdmodel")


@MUTATION_SETTINGS
@given(data=st.data())
def test_mutations_never_crash(tmp_path: Path, data: st.DataObject) -> None:
    seed = build(PaddleProgram(sub_blocks=1))
    check_mutation(tmp_path, data, seed, read_paddle_program, "paddle-inference")
