"""ExecuTorch programs (`.pte`) built with the `flatbuffers` library to pytorch/executorch
schema/program.fbs, field by field: `table Program` (version 0, execution_plan 1,
constant_buffer 2, backend_delegate_data 3, segments 4), `ExecutionPlan` (name 0,
container_meta_type 1, values 2, inputs 3, outputs 4, chains 5, operators 6, delegates 7),
`Operator` (name 0, overload 1), `EValue` (val_type 0, val 1), `BackendDelegate` (id 0),
`DataSegment` (offset 0, size 1: uint64, relative to the segment base); file identifier `ET12`.

The extended header is inserted as exir/_serialize/_program.py `serialize_pte_binary` does it:
`eh00`, its length (24), the program size and the segment base offset, padded to the schema's
largest `force_align` (16, so 32 bytes), placed right after the file identifier, with the root
offset moved by the inserted length (`_insert_flatbuffer_header`); segments follow the program,
each aligned to 128 bytes (`segment_alignment`). Without segments no header is inserted.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import flatbuffers

from tests.builders.flat import table_vector

_HEADER_LENGTH = 24
_PADDED_HEADER = 32
SEGMENT_ALIGNMENT = 128


@dataclass
class ExecutionPlan:
    """One method of a program."""

    name: str = "forward"
    values: int = 3
    operators: list[tuple[str, str | None]] = field(
        default_factory=lambda: [("aten::add", "out"), ("aten::mm", None)]
    )
    delegates: list[str] = field(default_factory=lambda: ["XnnpackBackend"])


@dataclass
class PteProgram:
    """What a built program holds (the tests read their expectations from the same object)."""

    plans: list[ExecutionPlan] = field(default_factory=lambda: [ExecutionPlan()])
    segments: list[bytes] = field(default_factory=lambda: [b"\x01" * 64])
    version: int = 0
    identifier: bytes = b"ET12"


def _align(n: int, alignment: int) -> int:
    return n + (-n % alignment)


def _plan(b: flatbuffers.Builder, plan: ExecutionPlan) -> int:
    operators = []
    for op_name, overload in plan.operators:
        name = b.CreateString(op_name)
        over = b.CreateString(overload) if overload is not None else None
        b.StartObject(2)
        b.PrependUOffsetTRelativeSlot(0, name, 0)
        if over is not None:
            b.PrependUOffsetTRelativeSlot(1, over, 0)
        operators.append(b.EndObject())
    values = []
    for _ in range(plan.values):
        b.StartObject(2)
        b.PrependUint8Slot(0, 0, 1)  # val_type Null, written (not the schema default here)
        values.append(b.EndObject())
    delegates = []
    for backend in plan.delegates:
        backend_id = b.CreateString(backend)
        b.StartObject(3)
        b.PrependUOffsetTRelativeSlot(0, backend_id, 0)
        delegates.append(b.EndObject())
    operators_vec = table_vector(b, operators)
    values_vec = table_vector(b, values)
    delegates_vec = table_vector(b, delegates)
    name = b.CreateString(plan.name)
    b.StartObject(9)
    b.PrependUOffsetTRelativeSlot(0, name, 0)
    b.PrependUOffsetTRelativeSlot(2, values_vec, 0)
    b.PrependUOffsetTRelativeSlot(6, operators_vec, 0)
    b.PrependUOffsetTRelativeSlot(7, delegates_vec, 0)
    return int(b.EndObject())


def segment_offsets(segments: list[bytes]) -> list[int]:
    """Each segment's offset from the segment base (each aligned to SEGMENT_ALIGNMENT)."""
    offsets, end = [], 0
    for data in segments:
        start = _align(end, SEGMENT_ALIGNMENT)
        offsets.append(start)
        end = start + len(data)
    return offsets


def flatbuffer(m: PteProgram) -> bytes:
    """The Program flatbuffer alone, as flatc writes it (before any header is inserted)."""
    b = flatbuffers.Builder(1024)
    plans = table_vector(b, [_plan(b, plan) for plan in m.plans])
    segments = []
    for offset, data in zip(segment_offsets(m.segments), m.segments, strict=True):
        b.StartObject(2)
        b.PrependUint64Slot(0, offset, 0)
        b.PrependUint64Slot(1, len(data), 0)
        segments.append(b.EndObject())
    segments_vec = table_vector(b, segments) if segments else None
    b.StartObject(7)
    b.PrependUint32Slot(0, m.version, 0)
    b.PrependUOffsetTRelativeSlot(1, plans, 0)
    if segments_vec is not None:
        b.PrependUOffsetTRelativeSlot(4, segments_vec, 0)
    b.Finish(b.EndObject(), file_identifier=m.identifier)
    return bytes(b.Output())


def build(m: PteProgram) -> bytes:
    """The bytes of a `.pte` file holding `m`: program, extended header and segments."""
    data = flatbuffer(m)
    if not m.segments:
        return data
    program_size = _PADDED_HEADER + len(data)
    base = _align(program_size, SEGMENT_ALIGNMENT)
    header = b"eh00" + struct.pack("<IQQ", _HEADER_LENGTH, program_size, base)
    header += b"\0" * (_PADDED_HEADER - len(header))
    root = struct.unpack("<I", data[:4])[0] + _PADDED_HEADER
    out = bytearray(struct.pack("<I", root) + data[4:8] + header + data[8:])
    for offset, segment in zip(segment_offsets(m.segments), m.segments, strict=True):
        out += b"\0" * (base + offset - len(out))
        out += segment
    return bytes(out)
