"""Read an ONNX model's metadata with a small protobuf wire-format walker (no `onnx.load`).

The walker (`formats/_protobuf.py`) reads ModelProto, GraphProto, NodeProto and TensorProto field
by field straight from the file and seeks over every length-delimited field it does not need,
above all tensor `raw_data`, so the weights are never read and a 2 GB model costs a few ms. Every
length is checked against the enclosing message, and the bytes kept in memory are capped by
`limits.MAX_ONNX_META_BYTES`.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError
from unified_supply_chain.formats._protobuf import (
    LEN,
    MAX_DIMS,
    VARINT,
    Walker,
    signed,
    sniff_first_varint,
    sniff_varint,
    walk_file,
)
from unified_supply_chain.records import HeaderInfo

#: onnx.TensorProto.DataType numbers -> names.
ONNX_DTYPES: dict[int, str] = {
    0: "UNDEFINED",
    1: "FLOAT",
    2: "UINT8",
    3: "INT8",
    4: "UINT16",
    5: "INT16",
    6: "INT32",
    7: "INT64",
    8: "STRING",
    9: "BOOL",
    10: "FLOAT16",
    11: "DOUBLE",
    12: "UINT32",
    13: "UINT64",
    14: "COMPLEX64",
    15: "COMPLEX128",
    16: "BFLOAT16",
    17: "FLOAT8E4M3FN",
    18: "FLOAT8E4M3FNUZ",
    19: "FLOAT8E5M2",
    20: "FLOAT8E5M2FNUZ",
    21: "UINT4",
    22: "INT4",
    23: "FLOAT4E2M1",
    24: "FLOAT8E8M0",
    25: "UINT2",
    26: "INT2",
    27: "FLOAT6E2M3",
    28: "FLOAT6E3M2",
}

#: Graph inputs/outputs, metadata entries and op types listed in properties.
MAX_LISTED = 64
TOP_OP_TYPES = 10
_EXTERNAL = 1  # TensorProto.DataLocation.EXTERNAL


def metadata_walker(fh: BinaryIO, size: int) -> Walker:
    """A protobuf walker over an ONNX file, under the ONNX metadata byte and field caps."""
    return Walker(
        fh,
        size,
        max_bytes=limits.MAX_ONNX_META_BYTES,
        max_fields=limits.MAX_ONNX_FIELDS,
        what="ONNX metadata outside tensor data",
    )


@dataclass
class _Model:
    """What the walk collects (mutable while walking, turned into a HeaderInfo at the end)."""

    ir_version: int | None = None
    producer: str = ""
    producer_version: str = ""
    domain: str = ""
    model_version: int | None = None
    graph_name: str = ""
    graphs: int = 0
    ops: Counter[str] = field(default_factory=Counter)
    initializers: set[str] = field(default_factory=set)
    initializer_count: int = 0
    dtypes: set[str] = field(default_factory=set)
    parameters: int = 0
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    opsets: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    external: set[str] = field(default_factory=set)
    external_tensors: int = 0


def read_onnx(path: Path) -> HeaderInfo:
    """Read an ONNX model's metadata without reading its weights. Raises FormatError only."""
    model = _Model()
    walk_file(
        path,
        lambda walker, size: _walk_model(walker, model, size),
        max_bytes=limits.MAX_ONNX_META_BYTES,
        max_fields=limits.MAX_ONNX_FIELDS,
        what="ONNX metadata outside tensor data",
    )
    if model.ir_version is None:
        raise FormatError("no ir_version: not an ONNX ModelProto")
    if model.graphs == 0:
        raise FormatError("no graph: not an ONNX ModelProto")
    return _header(model)


def _walk_model(w: Walker, m: _Model, end: int) -> None:
    for number, wire, value in w.fields(end):
        if number == 1 and wire == VARINT:
            m.ir_version = signed(value)
        elif number in (2, 3, 4) and wire == LEN:
            text = w.string(value, "producer/domain") or ""
            if number == 2:
                m.producer = text
            elif number == 3:
                m.producer_version = text
            else:
                m.domain = text
        elif number == 5 and wire == VARINT:
            m.model_version = signed(value)
        elif number == 7 and wire == LEN:
            m.graphs += 1
            _walk_graph(w, m, w.pos + value)
        elif number == 8 and wire == LEN:
            _walk_opset(w, m, w.pos + value)
        elif number == 14 and wire == LEN:
            _walk_entry(w, m, w.pos + value)
        elif number in (1, 5) or (number in (2, 3, 4, 7, 8, 14) and wire != LEN):
            raise FormatError(f"ModelProto field {number} has wire type {wire}")
        # Anything else (doc_string, training_info, functions, ...) is skipped by seeking.


def _walk_graph(w: Walker, m: _Model, end: int) -> None:
    for number, wire, value in w.fields(end):
        if wire != LEN:
            continue
        if number == 1:
            _walk_node(w, m, w.pos + value)
        elif number == 2:
            m.graph_name = w.string(value, "graph name") or ""
        elif number == 5:
            _walk_tensor(w, m, w.pos + value)
        elif number in (11, 12):
            name = _value_info_name(w, w.pos + value)
            target = m.inputs if number == 11 else m.outputs
            if name is not None:
                target.append(name)


def _walk_node(w: Walker, m: _Model, end: int) -> None:
    op_type, domain = "", ""
    for number, wire, value in w.fields(end):
        if number == 4 and wire == LEN:
            op_type = w.string(value, "op_type") or "?"
        elif number == 7 and wire == LEN:
            domain = w.string(value, "node domain") or ""
        # inputs, outputs, attributes (Constant tensors, subgraphs) are skipped by seeking.
    key = f"{domain}.{op_type}" if domain and domain != "ai.onnx" else op_type
    m.ops[key or "?"] += 1


def _walk_tensor(w: Walker, m: _Model, end: int) -> None:
    dims: list[int] = []
    data_type = 0
    name = ""
    for number, wire, value in w.fields(end):
        if number == 1 and wire == VARINT:
            dims.append(signed(value))
            if len(dims) > MAX_DIMS:
                raise FormatError(f"tensor with more than {MAX_DIMS} dimensions")
        elif number == 1 and wire == LEN:
            dims.extend(w.packed_int64(value))
            if len(dims) > MAX_DIMS:
                raise FormatError(f"tensor with more than {MAX_DIMS} dimensions")
        elif number == 2 and wire == VARINT:
            data_type = value
        elif number == 8 and wire == LEN:
            name = w.string(value, "tensor name") or ""
        elif number == 13 and wire == LEN:
            location = _external_location(w, w.pos + value)
            if location is not None and len(m.external) < MAX_LISTED:
                m.external.add(location)
        elif number == 14 and wire == VARINT and value == _EXTERNAL:
            m.external_tensors += 1
        # raw_data (9) and the typed *_data fields are skipped by seeking: never read.
    if any(d < 0 for d in dims):
        raise FormatError(f"initializer {name!r} has a negative dimension")
    m.initializer_count += 1
    m.initializers.add(name)
    m.dtypes.add(ONNX_DTYPES.get(data_type, f"type{data_type}"))
    m.parameters += math.prod(dims)


def _external_location(w: Walker, end: int) -> str | None:
    key, val = None, None
    for number, wire, value in w.fields(end):
        if number == 1 and wire == LEN:
            key = w.string(value, "external_data key")
        elif number == 2 and wire == LEN:
            val = w.string(value, "external_data value")
    return val if key == "location" else None


def _value_info_name(w: Walker, end: int) -> str | None:
    name = None
    for number, wire, value in w.fields(end):
        if number == 1 and wire == LEN:
            name = w.string(value, "value name")
    return name


def _walk_opset(w: Walker, m: _Model, end: int) -> None:
    domain, version = "", None
    for number, wire, value in w.fields(end):
        if number == 1 and wire == LEN:
            domain = w.string(value, "opset domain") or ""
        elif number == 2 and wire == VARINT:
            version = signed(value)
    if len(m.opsets) < MAX_LISTED:
        m.opsets.append(f"{domain or 'ai.onnx'}:{version if version is not None else '?'}")


def _walk_entry(w: Walker, m: _Model, end: int) -> None:
    key, val = None, None
    for number, wire, value in w.fields(end):
        if number == 1 and wire == LEN:
            key = w.string(value, "metadata key")
        elif number == 2 and wire == LEN:
            val = w.string(value, "metadata value")
    if key is not None and val is not None and len(m.metadata) < MAX_LISTED:
        m.metadata[key] = val


def _header(m: _Model) -> HeaderInfo:
    producer = " ".join(p for p in (m.producer, m.producer_version) if p)
    # Before IR version 4 every initializer is also listed as a graph input: not a real input.
    inputs = [n for n in m.inputs if n not in m.initializers]
    properties = {
        "ir_version": str(m.ir_version),
        "opset": ",".join(m.opsets),
        "node_count": str(sum(m.ops.values())),
        "op_types": ",".join(f"{op}:{n}" for op, n in m.ops.most_common(TOP_OP_TYPES)),
        "initializer_count": str(m.initializer_count),
        "dtypes": ",".join(sorted(m.dtypes)),
        "inputs": ",".join(inputs[:MAX_LISTED]),
        "outputs": ",".join(m.outputs[:MAX_LISTED]),
    }
    if producer:
        properties["producer"] = producer
    if m.domain:
        properties["domain"] = m.domain
    if m.model_version is not None:
        properties["model_version"] = str(m.model_version)
    if m.graph_name:
        properties["graph_name"] = m.graph_name
    if m.external or m.external_tensors:
        properties["external_data"] = ",".join(sorted(m.external)) or "true"
    for key, val in m.metadata.items():
        properties[f"metadata.{key}"] = val
    licence = next(
        (v.strip() for k, v in m.metadata.items() if k.lower() in ("license", "licence") and v),
        None,
    )
    return HeaderInfo(
        format="onnx",
        properties=properties,
        parameter_count=m.parameters,
        license=licence,
    )


# --- Registry entry. ---------------------------------------------------------------------------

from unified_supply_chain.formats import FormatSpec, Kind, Sniff  # noqa: E402

#: ModelProto field numbers and wire types that can follow ir_version in a real file
#: (onnx/onnx.proto `message ModelProto`).
_NEXT_FIELDS = {2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2, 26: 2}
#: Repeated ModelProto fields (opset_import, metadata_props, training_info, functions,
#: configuration): the only ones that may appear twice in a row.
_REPEATED = frozenset({8, 14, 20, 25, 26})
#: Text fields: producer_name, producer_version, domain, doc_string.
_TEXT = frozenset({2, 3, 4, 6})
#: The fields that can open each sub-message the sniff looks into (onnx.proto): GraphProto
#: (node, name, initializer, doc_string, input, output, value_info, quantization_annotation,
#: sparse_initializer, metadata_props), OperatorSetIdProto (domain, version) and
#: StringStringEntryProto (key, value).
_FIRST_INNER = {
    7: {1: 2, 2: 2, 5: 2, 10: 2, 11: 2, 12: 2, 13: 2, 14: 2, 15: 2, 16: 2},
    8: {1: 2, 2: 0},
    14: {1: 2, 2: 2},
}


def _text_ok(data: bytes, cut: bool) -> bool:
    """Printable UTF-8 (a doc string may hold newlines and tabs); a cut tail may split a
    multi-byte character, so the complete part is judged."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        if not cut:
            return False
        text = data[:-3].decode("utf-8", "ignore")
    return all(c.isprintable() or c in "\n\r\t" for c in text)


def _inner_ok(number: int, payload: bytes) -> bool:
    """The first field of a sub-message is one its schema has, with the right wire type."""
    allowed = _FIRST_INNER.get(number)
    if allowed is None or not payload:
        return True
    got = sniff_varint(payload, 0)
    if got is None:
        return True  # cut by the head: nothing more to judge
    tag = got[0]
    return allowed.get(tag >> 3) == tag & 7


def sniff_onnx(head: bytes, name: str) -> bool:
    """A ModelProto as onnx.save writes it: ir_version first, then every field of the head a
    ModelProto field of the right wire type, in field order (repeated fields may repeat), text
    fields printable, sub-messages opening with one of their own fields. Random bytes and other
    protobufs (a SavedModel, a Paddle program) fail one of these within the first fields."""
    got = sniff_first_varint(head, 0x08)
    if got is None:
        return False
    ir_version, pos = got
    if not 1 <= ir_version <= 64:
        return False
    last, fields = 1, 0
    while pos < len(head):
        got = sniff_varint(head, pos)
        if got is None:
            break
        tag, pos = got
        number, wire = tag >> 3, tag & 7
        if _NEXT_FIELDS.get(number) != wire:
            return False
        if number < last or (number == last and number not in _REPEATED):
            return False
        last = number
        got = sniff_varint(head, pos)
        if got is None:
            break
        value, pos = got
        fields += 1
        if wire == 0:
            continue
        payload = head[pos : pos + value]
        cut = pos + value > len(head)
        if number in _TEXT:
            if number != 6 and value > 1024:
                return False
            if not _text_ok(payload, cut):
                return False
        elif not _inner_ok(number, payload):
            return False
        if cut:
            break
        pos += value
    return fields >= 1


SPECS = (
    FormatSpec(
        id="onnx",
        kind=Kind.MODEL,
        description="protobuf ModelProto starting with ir_version (tag 0x08); or *.onnx",
        extensions=(".onnx",),
        sniffs=(Sniff(120, sniff_onnx),),
        reader=read_onnx,
        shards=True,
        # External-data locations that leave the model's directory (path traversal on load).
        safety="unified_supply_chain.safety.onnx:scan_onnx",
    ),
)
