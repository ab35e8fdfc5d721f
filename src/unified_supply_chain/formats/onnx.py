"""Read an ONNX model's metadata with a small protobuf wire-format walker (no `onnx.load`).

Kept as one module over 400 lines: one walker whose message readers share its bounded state.

The walker reads ModelProto, GraphProto, NodeProto and TensorProto field by field straight from the
file and seeks over every length-delimited field it does not need, above all tensor `raw_data`, so
the weights are never read and a 2 GB model costs a few ms. Every length is checked against the
enclosing message, and the bytes kept in memory are capped by `limits.MAX_ONNX_META_BYTES`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError, LimitExceeded
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

#: Longest string field we keep (names, producer, metadata values); longer ones are skipped.
MAX_STRING = 4096
#: Graph inputs/outputs, metadata entries and op types listed in properties.
MAX_LISTED = 64
TOP_OP_TYPES = 10
#: Dimensions of one tensor.
MAX_DIMS = 64
_VARINT, _FIXED64, _LEN, _FIXED32 = 0, 1, 2, 5
_EXTERNAL = 1  # TensorProto.DataLocation.EXTERNAL


class _Walker:
    """Protobuf fields read from a file region; skipped fields are seeked over, never read."""

    def __init__(self, fh: BinaryIO, size: int) -> None:
        self.fh = fh
        self.size = size
        self.pos = 0
        self.budget = limits.MAX_ONNX_META_BYTES
        self.fields_left = limits.MAX_ONNX_FIELDS

    def _read(self, n: int) -> bytes:
        self.budget -= n
        if self.budget < 0:
            raise LimitExceeded(
                f"more than {limits.MAX_ONNX_META_BYTES} bytes of ONNX metadata outside tensor data"
            )
        data = self.fh.read(n)
        if len(data) != n:
            raise FormatError(f"truncated at byte {self.pos} (file shrank while reading)")
        self.pos += n
        return data

    def seek(self, pos: int) -> None:
        self.fh.seek(pos)
        self.pos = pos

    def varint(self, end: int) -> int:
        value = 0
        for shift in range(0, 70, 7):
            if self.pos >= end:
                raise FormatError(f"truncated varint at byte {self.pos}")
            byte = self._read(1)[0]
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                if value >= 1 << 64:
                    raise FormatError(f"varint over 64 bits at byte {self.pos}")
                return value
        raise FormatError(f"varint longer than 10 bytes at byte {self.pos}")

    def fields(self, end: int) -> Iterator[tuple[int, int, int]]:
        """Yield (field number, wire type, value) up to `end`.

        For length-delimited fields the value is the length and the walker stands at the start of
        the payload; if the consumer does not move, the payload is skipped when iteration resumes.
        """
        while self.pos < end:
            self.fields_left -= 1
            if self.fields_left < 0:
                raise LimitExceeded(f"more than {limits.MAX_ONNX_FIELDS} protobuf fields")
            tag = self.varint(end)
            number, wire = tag >> 3, tag & 7
            if number == 0:
                raise FormatError(f"invalid protobuf field number 0 at byte {self.pos}")
            if wire == _VARINT:
                yield number, wire, self.varint(end)
            elif wire in (_FIXED64, _FIXED32):
                width = 8 if wire == _FIXED64 else 4
                if width > end - self.pos:
                    raise FormatError(f"truncated fixed field at byte {self.pos}")
                self.seek(self.pos + width)
                yield number, wire, 0
            elif wire == _LEN:
                length = self.varint(end)
                start = self.pos
                if length > end - start:
                    raise FormatError(
                        f"field {number} at byte {start}: length {length} overruns its message"
                    )
                yield number, wire, length
                if self.pos != start + length:
                    self.seek(start + length)
            else:
                raise FormatError(f"unsupported protobuf wire type {wire} at byte {self.pos}")

    def string(self, length: int, what: str) -> str | None:
        """Read a UTF-8 string payload; None (skipped) when longer than MAX_STRING."""
        if length > MAX_STRING:
            return None
        try:
            return self._read(length).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FormatError(f"{what}: not UTF-8") from exc

    def packed_int64(self, length: int) -> list[int]:
        end = self.pos + length
        out = []
        while self.pos < end:
            out.append(_signed(self.varint(end)))
            if len(out) > MAX_DIMS:
                raise FormatError(f"more than {MAX_DIMS} dimensions")
        return out


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


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
    try:
        with path.open("rb", buffering=1 << 16) as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(0)
            walker = _Walker(fh, size)
            model = _Model()
            _walk_model(walker, model, size)
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}") from exc
    if model.ir_version is None:
        raise FormatError("no ir_version: not an ONNX ModelProto")
    if model.graphs == 0:
        raise FormatError("no graph: not an ONNX ModelProto")
    return _header(model)


def _walk_model(w: _Walker, m: _Model, end: int) -> None:
    for number, wire, value in w.fields(end):
        if number == 1 and wire == _VARINT:
            m.ir_version = _signed(value)
        elif number in (2, 3, 4) and wire == _LEN:
            text = w.string(value, "producer/domain") or ""
            if number == 2:
                m.producer = text
            elif number == 3:
                m.producer_version = text
            else:
                m.domain = text
        elif number == 5 and wire == _VARINT:
            m.model_version = _signed(value)
        elif number == 7 and wire == _LEN:
            m.graphs += 1
            _walk_graph(w, m, w.pos + value)
        elif number == 8 and wire == _LEN:
            _walk_opset(w, m, w.pos + value)
        elif number == 14 and wire == _LEN:
            _walk_entry(w, m, w.pos + value)
        elif number in (1, 5) or (number in (2, 3, 4, 7, 8, 14) and wire != _LEN):
            raise FormatError(f"ModelProto field {number} has wire type {wire}")
        # Anything else (doc_string, training_info, functions, ...) is skipped by seeking.


def _walk_graph(w: _Walker, m: _Model, end: int) -> None:
    for number, wire, value in w.fields(end):
        if wire != _LEN:
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


def _walk_node(w: _Walker, m: _Model, end: int) -> None:
    op_type, domain = "", ""
    for number, wire, value in w.fields(end):
        if number == 4 and wire == _LEN:
            op_type = w.string(value, "op_type") or "?"
        elif number == 7 and wire == _LEN:
            domain = w.string(value, "node domain") or ""
        # inputs, outputs, attributes (Constant tensors, subgraphs) are skipped by seeking.
    key = f"{domain}.{op_type}" if domain and domain != "ai.onnx" else op_type
    m.ops[key or "?"] += 1


def _walk_tensor(w: _Walker, m: _Model, end: int) -> None:
    dims: list[int] = []
    data_type = 0
    name = ""
    for number, wire, value in w.fields(end):
        if number == 1 and wire == _VARINT:
            dims.append(_signed(value))
            if len(dims) > MAX_DIMS:
                raise FormatError(f"tensor with more than {MAX_DIMS} dimensions")
        elif number == 1 and wire == _LEN:
            dims.extend(w.packed_int64(value))
            if len(dims) > MAX_DIMS:
                raise FormatError(f"tensor with more than {MAX_DIMS} dimensions")
        elif number == 2 and wire == _VARINT:
            data_type = value
        elif number == 8 and wire == _LEN:
            name = w.string(value, "tensor name") or ""
        elif number == 13 and wire == _LEN:
            location = _external_location(w, w.pos + value)
            if location is not None and len(m.external) < MAX_LISTED:
                m.external.add(location)
        elif number == 14 and wire == _VARINT and value == _EXTERNAL:
            m.external_tensors += 1
        # raw_data (9) and the typed *_data fields are skipped by seeking: never read.
    if any(d < 0 for d in dims):
        raise FormatError(f"initializer {name!r} has a negative dimension")
    m.initializer_count += 1
    m.initializers.add(name)
    m.dtypes.add(ONNX_DTYPES.get(data_type, f"type{data_type}"))
    m.parameters += math.prod(dims)


def _external_location(w: _Walker, end: int) -> str | None:
    key, val = None, None
    for number, wire, value in w.fields(end):
        if number == 1 and wire == _LEN:
            key = w.string(value, "external_data key")
        elif number == 2 and wire == _LEN:
            val = w.string(value, "external_data value")
    return val if key == "location" else None


def _value_info_name(w: _Walker, end: int) -> str | None:
    name = None
    for number, wire, value in w.fields(end):
        if number == 1 and wire == _LEN:
            name = w.string(value, "value name")
    return name


def _walk_opset(w: _Walker, m: _Model, end: int) -> None:
    domain, version = "", None
    for number, wire, value in w.fields(end):
        if number == 1 and wire == _LEN:
            domain = w.string(value, "opset domain") or ""
        elif number == 2 and wire == _VARINT:
            version = _signed(value)
    if len(m.opsets) < MAX_LISTED:
        m.opsets.append(f"{domain or 'ai.onnx'}:{version if version is not None else '?'}")


def _walk_entry(w: _Walker, m: _Model, end: int) -> None:
    key, val = None, None
    for number, wire, value in w.fields(end):
        if number == 1 and wire == _LEN:
            key = w.string(value, "metadata key")
        elif number == 2 and wire == _LEN:
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

#: ModelProto field numbers and wire types that can follow ir_version in a real file.
_NEXT_FIELDS = {2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2, 26: 2}


def _sniff_varint(data: bytes, pos: int) -> tuple[int, int] | None:
    value = 0
    for shift in range(0, 70, 7):
        if pos >= len(data):
            return None
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
    return None


def sniff_onnx(head: bytes, name: str) -> bool:
    """A ModelProto as onnx.save writes it: ir_version first, then a known field."""
    if not head.startswith(b"\x08"):
        return False
    got = _sniff_varint(head, 1)
    if got is None:
        return False
    ir_version, pos = got
    if not 1 <= ir_version <= 64:
        return False
    got = _sniff_varint(head, pos)
    if got is None:
        return False
    tag, pos = got
    number, wire = tag >> 3, tag & 7
    if _NEXT_FIELDS.get(number) != wire:
        return False
    if wire != 2:
        return True
    got = _sniff_varint(head, pos)
    if got is None:
        return False
    length, pos = got
    if number in (2, 3, 4):
        # producer_name / producer_version / domain are short text; protobufs of other
        # schemas (a TF SavedModel's meta graphs) fail here.
        if length > 1024:
            return False
        text = head[pos : pos + length]
        try:
            decoded = text.decode("utf-8")
        except UnicodeDecodeError:
            # The head may cut a multi-byte character; judge the part that is complete.
            decoded = text[:-3].decode("utf-8", "ignore")
        return decoded.isprintable()
    return True


SPECS = (
    FormatSpec(
        id="onnx",
        kind=Kind.MODEL,
        description="protobuf ModelProto starting with ir_version (tag 0x08); or *.onnx",
        extensions=(".onnx",),
        sniffs=(Sniff(120, sniff_onnx),),
        reader=read_onnx,
        shards=True,
    ),
)
