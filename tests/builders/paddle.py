"""PaddlePaddle inference programs (`.pdmodel`) serialized by the `protobuf` runtime, from message
types declared here with the field numbers of the real schema, PaddlePaddle/Paddle
paddle/fluid/framework/framework.proto (paddle/phi/core/framework/framework.proto in Paddle 3):

- `ProgramDesc`: blocks = 1, version = 4 (`Version`: version = 1); 2 and 3 are reserved;
- `BlockDesc`: idx = 1, parent_idx = 2, vars = 3, ops = 4, forward_block_idx = 5;
- `VarDesc`: name = 1, type = 2, persistable = 3; `VarType`: type = 1, dense_tensor = 3
  (`DenseTensorDesc`: tensor = 1), `TensorDesc`: data_type = 1, dims = 2 (repeated int64);
- `OpDesc`: inputs = 1, outputs = 2 (`Var`: parameter = 1, arguments = 2), type = 3, attrs = 4
  (`Attr`: name = 1, type = 2 (AttrType INT = 0), i = 3).

The design documents of the `doc/` tree number some of these differently; only the .proto is used.
A program is laid out as `paddle.static.save_inference_model` leaves it (python/paddle/static/io.py
`prepend_feed_ops`/`append_fetch_ops`): the persistable `feed`/`fetch` holder variables of type
FEED_MINIBATCH (9) / FETCH_LIST (10), a `feed` op per input with attribute `col`, prepended (so the
last input comes first), and a `fetch` op per output.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_F = descriptor_pb2.FieldDescriptorProto
#: message -> [(name, number, label, type, message type name)]
_MESSAGES: dict[str, list[tuple[str, int, int, int, str]]] = {
    "Version": [("version", 1, _F.LABEL_OPTIONAL, _F.TYPE_INT64, "")],
    "TensorDesc": [
        ("data_type", 1, _F.LABEL_REQUIRED, _F.TYPE_INT32, ""),
        ("dims", 2, _F.LABEL_REPEATED, _F.TYPE_INT64, ""),
    ],
    "DenseTensorDesc": [("tensor", 1, _F.LABEL_REQUIRED, _F.TYPE_MESSAGE, "TensorDesc")],
    "VarType": [
        ("type", 1, _F.LABEL_REQUIRED, _F.TYPE_INT32, ""),
        ("dense_tensor", 3, _F.LABEL_OPTIONAL, _F.TYPE_MESSAGE, "DenseTensorDesc"),
    ],
    "VarDesc": [
        ("name", 1, _F.LABEL_REQUIRED, _F.TYPE_STRING, ""),
        ("type", 2, _F.LABEL_REQUIRED, _F.TYPE_MESSAGE, "VarType"),
        ("persistable", 3, _F.LABEL_OPTIONAL, _F.TYPE_BOOL, ""),
    ],
    "OpVar": [
        ("parameter", 1, _F.LABEL_REQUIRED, _F.TYPE_STRING, ""),
        ("arguments", 2, _F.LABEL_REPEATED, _F.TYPE_STRING, ""),
    ],
    "OpAttr": [
        ("name", 1, _F.LABEL_REQUIRED, _F.TYPE_STRING, ""),
        ("type", 2, _F.LABEL_REQUIRED, _F.TYPE_INT32, ""),
        ("i", 3, _F.LABEL_OPTIONAL, _F.TYPE_INT32, ""),
    ],
    "OpDesc": [
        ("inputs", 1, _F.LABEL_REPEATED, _F.TYPE_MESSAGE, "OpVar"),
        ("outputs", 2, _F.LABEL_REPEATED, _F.TYPE_MESSAGE, "OpVar"),
        ("type", 3, _F.LABEL_REQUIRED, _F.TYPE_STRING, ""),
        ("attrs", 4, _F.LABEL_REPEATED, _F.TYPE_MESSAGE, "OpAttr"),
    ],
    "BlockDesc": [
        ("idx", 1, _F.LABEL_REQUIRED, _F.TYPE_INT32, ""),
        ("parent_idx", 2, _F.LABEL_REQUIRED, _F.TYPE_INT32, ""),
        ("vars", 3, _F.LABEL_REPEATED, _F.TYPE_MESSAGE, "VarDesc"),
        ("ops", 4, _F.LABEL_REPEATED, _F.TYPE_MESSAGE, "OpDesc"),
    ],
    "ProgramDesc": [
        ("blocks", 1, _F.LABEL_REPEATED, _F.TYPE_MESSAGE, "BlockDesc"),
        ("version", 4, _F.LABEL_OPTIONAL, _F.TYPE_MESSAGE, "Version"),
    ],
}
_PACKAGE = "usc_tests.paddle"
FP32, INT64, FEED_MINIBATCH, FETCH_LIST, DENSE_TENSOR = 5, 3, 9, 10, 7


@functools.cache
def message_classes() -> dict[str, Any]:
    """The message classes of the schema above (proto2), by name."""
    file = descriptor_pb2.FileDescriptorProto(
        name="usc_tests/paddle_framework.proto", package=_PACKAGE, syntax="proto2"
    )
    for message, fields in _MESSAGES.items():
        desc = file.message_type.add(name=message)
        for name, number, label, kind, type_name in fields:
            item = desc.field.add(name=name, number=number, label=label, type=kind)
            if type_name:
                item.type_name = f".{_PACKAGE}.{type_name}"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return {
        m: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.{m}"))
        for m in _MESSAGES
    }


@dataclass
class PaddleProgram:
    """What a built program holds (the tests read their expectations from the same object)."""

    inputs: list[str] = field(default_factory=lambda: ["image", "mask"])
    outputs: list[str] = field(default_factory=lambda: ["probs"])
    #: name -> shape of the persistable FP32 parameters.
    parameters: dict[str, list[int]] = field(
        default_factory=lambda: {"fc_0.w_0": [4, 3], "fc_0.b_0": [3]}
    )
    #: Operator types between the feeds and the fetches, in order.
    ops: list[str] = field(default_factory=lambda: ["matmul_v2", "elementwise_add", "softmax"])
    version: int | None = 2006000
    sub_blocks: int = 0


def _var(classes: dict[str, Any], name: str, kind: int, **tensor: Any) -> Any:
    var = classes["VarDesc"](name=name)
    var.type.type = kind
    if tensor:
        var.type.dense_tensor.tensor.data_type = tensor["dtype"]
        var.type.dense_tensor.tensor.dims.extend(tensor["dims"])
    var.persistable = bool(tensor.get("persistable", kind in (FEED_MINIBATCH, FETCH_LIST)))
    return var


def _op(
    classes: dict[str, Any],
    kind: str,
    inputs: dict[str, list[str]],
    outputs: dict[str, list[str]],
    col: int | None = None,
) -> Any:
    op = classes["OpDesc"](type=kind)
    for target, args in ((op.inputs, inputs), (op.outputs, outputs)):
        for parameter, names in args.items():
            target.add(parameter=parameter, arguments=names)
    if col is not None:
        op.attrs.add(name="col", type=0, i=col)
    return op


def build(m: PaddleProgram) -> bytes:
    """The bytes of a `.pdmodel` holding `m`."""
    classes = message_classes()
    program = classes["ProgramDesc"]()
    if m.version is not None:
        program.version.version = m.version
    block = program.blocks.add(idx=0, parent_idx=-1)
    block.vars.append(_var(classes, "feed", FEED_MINIBATCH))
    block.vars.append(_var(classes, "fetch", FETCH_LIST))
    for name in m.inputs:
        block.vars.append(_var(classes, name, DENSE_TENSOR, dtype=FP32, dims=[-1, 4]))
    for name, dims in m.parameters.items():
        block.vars.append(
            _var(classes, name, DENSE_TENSOR, dtype=FP32, dims=dims, persistable=True)
        )
    for col, name in reversed(list(enumerate(m.inputs))):
        block.ops.append(_op(classes, "feed", {"X": ["feed"]}, {"Out": [name]}, col))
    previous = m.inputs[0] if m.inputs else "x"
    for i, kind in enumerate(m.ops):
        out = m.outputs[0] if i == len(m.ops) - 1 and m.outputs else f"tmp_{i}"
        block.ops.append(_op(classes, kind, {"X": [previous]}, {"Out": [out]}))
        previous = out
    for col, name in enumerate(m.outputs):
        block.ops.append(_op(classes, "fetch", {"X": [name]}, {"Out": ["fetch"]}, col))
    for idx in range(1, m.sub_blocks + 1):
        sub = program.blocks.add(idx=idx, parent_idx=0)
        sub.ops.append(_op(classes, "relu", {"X": ["a"]}, {"Out": ["b"]}))
    data: bytes = program.SerializeToString()
    return data
