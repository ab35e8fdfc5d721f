"""PaddlePaddle inference models: the `.pdmodel` program, read by the bounded protobuf walker, and
the `.pdiparams` weights beside it, recognised by name.

`paddle.static.save_inference_model(path_prefix, ...)` (python/paddle/static/io.py) writes
`<prefix>.pdmodel`, one serialized `ProgramDesc`, and `<prefix>.pdiparams`, every persistable
tensor back to back (the `save_combine` operator). Field numbers are those of the real schema,
paddle/fluid/framework/framework.proto (moved to paddle/phi/core/framework/framework.proto in
Paddle 3; the numbers are the same), not those of the older design documents:

- ProgramDesc: blocks = 1, version = 4 (Version.version = 1), op_version_map = 5;
- BlockDesc: idx = 1, parent_idx = 2, vars = 3, ops = 4;
- VarDesc: name = 1, type = 2 (VarType), persistable = 3;
- VarType: type = 1, selected_rows = 2 (TensorDesc), dense_tensor = 3 (DenseTensorDesc,
  tensor = 1); TensorDesc: data_type = 1, dims = 2;
- OpDesc: inputs = 1, outputs = 2 (Var: parameter = 1, arguments = 2), type = 3, attrs = 4
  (Attr: name = 1, type = 2, i = 3).

A program holds no weights, only names, types and shapes, so every field it has is walked, capped
by `limits.MAX_PADDLE_PROGRAM_BYTES` and `limits.MAX_PADDLE_FIELDS`. The model's inputs and
outputs are the variables the `feed` operators write and the `fetch` operators read, in the order
of their `col` attribute. Parameters are the persistable variables other than the feed/fetch
holders and readers (`is_persistable` in python/paddle/static/io.py). The `.pdiparams` is not read
(its tensors are raw bytes: no code); its name and size are recorded on the program, as OpenVINO's
`.xml` records its `.bin`. No paddle package and no protobuf runtime are needed.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError
from unified_supply_chain.formats._protobuf import (
    LEN,
    MAX_DIMS,
    VARINT,
    Walker,
    signed,
    walk_file,
)
from unified_supply_chain.records import HeaderInfo

#: framework.proto `VarType.Type`: the data types of tensors.
DTYPES: dict[int, str] = {
    0: "BOOL",
    1: "INT16",
    2: "INT32",
    3: "INT64",
    4: "FP16",
    5: "FP32",
    6: "FP64",
    19: "SIZE_T",
    20: "UINT8",
    21: "INT8",
    22: "BF16",
    23: "COMPLEX64",
    24: "COMPLEX128",
    32: "FP8_E4M3FN",
    33: "FP8_E5M2",
    37: "UINT32",
    38: "UINT64",
}
#: `VarType.Type` of variables that are persistable but not parameters: FEED_MINIBATCH,
#: FETCH_LIST, READER (python/paddle/static/io.py `is_persistable`).
_NOT_PARAMETERS = frozenset({9, 10, 15})
#: Feed/fetch names listed, distinct op types counted and op types shown.
MAX_LISTED = 64
MAX_OP_TYPES = 4096
TOP_OP_TYPES = 10
#: Input/output argument lists of one op remembered until its type says whether it is feed/fetch.
_MAX_OP_ARGS = 8
PARAMS_SUFFIX = ".pdiparams"


@dataclass
class _Program:
    """What the walk collects (mutable while walking)."""

    version: int | None = None
    blocks: int = 0
    ops: Counter[str] = field(default_factory=Counter)
    feeds: list[tuple[int, str]] = field(default_factory=list)
    fetches: list[tuple[int, str]] = field(default_factory=list)
    persistable: set[str] = field(default_factory=set)
    dtypes: set[str] = field(default_factory=set)
    parameters: int | None = 0


@dataclass
class _Var:
    """One VarDesc: its name, VarType.type, persistable flag and tensor dtype and shape."""

    name: str | None = None
    kind: int | None = None
    persistable: bool = False
    dtype: int | None = None
    dims: list[int] = field(default_factory=list)


def read_paddle_program(path: Path) -> HeaderInfo:
    """Read a `.pdmodel` program's blocks, operators and variables. Raises FormatError only."""
    program = _Program()
    walk_file(
        path,
        lambda walker, size: _walk_program(walker, program, size),
        max_bytes=limits.MAX_PADDLE_PROGRAM_BYTES,
        max_fields=limits.MAX_PADDLE_FIELDS,
        what="PaddlePaddle program",
    )
    if program.blocks == 0:
        raise FormatError("no block: not a PaddlePaddle ProgramDesc")
    info = _header(program)
    params = path.with_suffix(PARAMS_SUFFIX)
    try:
        if params.is_file() and not params.is_symlink():
            info.properties["params_file"] = params.name
            info.properties["params_bytes"] = str(params.stat().st_size)
    except OSError as exc:
        raise FormatError(f"cannot read {params.name}: {exc.strerror or exc}") from exc
    return info


def _expect(number: int, wire: int, want: int, message: str) -> None:
    """A known field of `message` with another wire type than the schema's is malformed."""
    if wire != want:
        raise FormatError(f"{message} field {number} has wire type {wire}")


def _walk_program(w: Walker, p: _Program, end: int) -> None:
    for number, wire, value in w.fields(end):
        if number == 1:
            _expect(number, wire, LEN, "ProgramDesc")
            p.blocks += 1
            _walk_block(w, p, w.pos + value)
        elif number == 4:
            _expect(number, wire, LEN, "ProgramDesc")
            for sub, sub_wire, sub_value in w.fields(w.pos + value):
                if sub == 1 and sub_wire == VARINT:
                    p.version = signed(sub_value)
        # op_version_map (5) and unknown fields are skipped by seeking.


def _walk_block(w: Walker, p: _Program, end: int) -> None:
    for number, wire, value in w.fields(end):
        if number in (1, 2, 5):  # idx, parent_idx, forward_block_idx
            _expect(number, wire, VARINT, "BlockDesc")
        elif number == 3:
            _expect(number, wire, LEN, "BlockDesc")
            _add_var(p, _walk_var(w, w.pos + value))
        elif number == 4:
            _expect(number, wire, LEN, "BlockDesc")
            _walk_op(w, p, w.pos + value)


def _walk_var(w: Walker, end: int) -> _Var:
    var = _Var()
    for number, wire, value in w.fields(end):
        if number == 1:
            _expect(number, wire, LEN, "VarDesc")
            var.name = w.string(value, "variable name") or "?"
        elif number == 2:
            _expect(number, wire, LEN, "VarDesc")
            _walk_var_type(w, var, w.pos + value)
        elif number == 3:
            _expect(number, wire, VARINT, "VarDesc")
            var.persistable = bool(value)
    if var.name is None or var.kind is None:
        raise FormatError("variable without its required name or type")
    return var


def _walk_var_type(w: Walker, var: _Var, end: int) -> None:
    for number, wire, value in w.fields(end):
        if number == 1 and wire == VARINT:
            var.kind = value
        elif number == 2 and wire == LEN:  # selected_rows: a TensorDesc
            _walk_tensor_desc(w, var, w.pos + value)
        elif number == 3 and wire == LEN:  # dense_tensor (lod_tensor before Paddle 3)
            for sub, sub_wire, sub_value in w.fields(w.pos + value):
                if sub == 1 and sub_wire == LEN:
                    _walk_tensor_desc(w, var, w.pos + sub_value)


def _walk_tensor_desc(w: Walker, var: _Var, end: int) -> None:
    for number, wire, value in w.fields(end):
        if number == 1 and wire == VARINT:
            var.dtype = value
        elif number == 2 and wire == VARINT:
            var.dims.append(signed(value))
        elif number == 2 and wire == LEN:
            var.dims.extend(w.packed_int64(value))
        if len(var.dims) > MAX_DIMS:
            raise FormatError(f"tensor with more than {MAX_DIMS} dimensions")


def _add_var(p: _Program, var: _Var) -> None:
    if not var.persistable or var.kind in _NOT_PARAMETERS or var.name in p.persistable:
        return
    assert var.name is not None
    p.persistable.add(var.name)
    if var.dtype is not None:
        p.dtypes.add(DTYPES.get(var.dtype, f"type{var.dtype}"))
    # A dimension of -1 (unknown) or a variable without a tensor leaves the total unknown;
    # no dimensions at all is a 0-D tensor (one element).
    if p.parameters is not None and var.dtype is not None and all(d >= 0 for d in var.dims):
        p.parameters += math.prod(var.dims)
    else:
        p.parameters = None


def _walk_op(w: Walker, p: _Program, end: int) -> None:
    op_type: str | None = None
    args: list[tuple[int, int, int]] = []  # (1 inputs | 2 outputs, start, length)
    col: int | None = None
    for number, wire, value in w.fields(end):
        if number in (1, 2):
            _expect(number, wire, LEN, "OpDesc")
            if len(args) < _MAX_OP_ARGS:
                args.append((number, w.pos, value))
        elif number == 3:
            _expect(number, wire, LEN, "OpDesc")
            op_type = w.string(value, "op type") or "?"
        elif number == 4 and wire == LEN and op_type in ("feed", "fetch"):
            col = _col_attr(w, w.pos + value, col)
    if op_type is None:
        raise FormatError("operator without its required type")
    if op_type in p.ops or len(p.ops) < MAX_OP_TYPES:
        p.ops[op_type] += 1
    else:
        p.ops["(other)"] += 1
    if op_type in ("feed", "fetch"):
        # Protobuf writes fields in number order: inputs and outputs come before the type.
        wanted = (2, "Out") if op_type == "feed" else (1, "X")
        names = _op_arguments(w, args, wanted, end)
        target = p.feeds if op_type == "feed" else p.fetches
        for name in names:
            if len(target) < MAX_LISTED:
                target.append((col if col is not None else 1 << 31, name))


def _col_attr(w: Walker, end: int, found: int | None) -> int | None:
    name, value_i = None, None
    for number, wire, value in w.fields(end):
        if number == 1 and wire == LEN:
            name = w.string(value, "attribute name")
        elif number == 3 and wire == VARINT:
            value_i = signed(value)
    return value_i if name == "col" and value_i is not None else found


def _op_arguments(
    w: Walker, args: list[tuple[int, int, int]], wanted: tuple[int, str], end: int
) -> list[str]:
    """The arguments of the op's `wanted` (inputs|outputs, parameter) Var, read from the spans
    remembered; the walker is left at `end`."""
    names: list[str] = []
    for number, start, length in args:
        if number != wanted[0]:
            continue
        w.seek(start)
        parameter: str | None = None
        arguments: list[str] = []
        for sub, sub_wire, sub_value in w.fields(start + length):
            if sub == 1 and sub_wire == LEN:
                parameter = w.string(sub_value, "op parameter")
            elif sub == 2 and sub_wire == LEN and len(arguments) < MAX_LISTED:
                arguments.append(w.string(sub_value, "op argument") or "?")
        if parameter == wanted[1]:
            names.extend(arguments)
    w.seek(end)
    return names


def _header(p: _Program) -> HeaderInfo:
    properties = {
        "framework": "paddle",
        "block_count": str(p.blocks),
        "op_count": str(sum(p.ops.values())),
        "op_types": ",".join(f"{op}:{n}" for op, n in p.ops.most_common(TOP_OP_TYPES)),
        "inputs": ",".join(name for _, name in sorted(p.feeds, key=lambda c: c[0])),
        "outputs": ",".join(name for _, name in sorted(p.fetches, key=lambda c: c[0])),
        "persistable_vars": str(len(p.persistable)),
    }
    if p.version is not None:
        properties["program_version"] = str(p.version)
    if p.dtypes:
        properties["dtypes"] = ",".join(sorted(p.dtypes))
    return HeaderInfo(
        format="paddle-inference",
        properties=properties,
        parameter_count=p.parameters if p.persistable else None,
    )


# --- Registry entries. -------------------------------------------------------------------------

from unified_supply_chain.formats import FormatSpec, Kind, Sniff  # noqa: E402
from unified_supply_chain.formats._protobuf import sniff_first_varint  # noqa: E402

#: The start of block 0 as protobuf writes it: idx = 0 (08 00), then parent_idx = -1 (int32 -1
#: as a ten-byte varint), the root block's kNoneBlockIndex.
_ROOT_BLOCK = b"\x08\x00\x10" + b"\xff" * 9 + b"\x01"


def sniff_paddle_program(head: bytes, name: str) -> bool:
    """A ProgramDesc: field 1 (blocks) first, holding the root block (idx 0, parent -1)."""
    got = sniff_first_varint(head, 0x0A)
    if got is None:
        return False
    length, pos = got
    return length >= len(_ROOT_BLOCK) and head[pos : pos + len(_ROOT_BLOCK)] == _ROOT_BLOCK


SPECS = (
    FormatSpec(
        id="paddle-inference",
        kind=Kind.MODEL,
        description=(
            "protobuf ProgramDesc starting with its root block (idx 0, parent -1); or *.pdmodel"
            " (PaddlePaddle inference program; weights in the <stem>.pdiparams)"
        ),
        extensions=(".pdmodel",),
        sniffs=(Sniff(190, sniff_paddle_program),),
        reader=read_paddle_program,
        # paddle.jit.save writes <stem>.pdmodel, <stem>.pdiparams and <stem>.pdiparams.info:
        # one inference model of several files.
        extra={"companions": (".pdiparams", ".pdiparams.info")},
    ),
    FormatSpec(
        id="paddle-params",
        kind=Kind.MODEL,
        description=(
            "*.pdiparams (PaddlePaddle inference weights: raw tensors, recognised by name; its"
            " size is recorded on the <stem>.pdmodel)"
        ),
        extensions=(".pdiparams",),
        fuzz=False,  # no reader: the tensors are not parsed, so there is nothing to fuzz
    ),
)
