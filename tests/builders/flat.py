"""Vectors for builders that write FlatBuffers with the `flatbuffers` library (a vector is built
back to front, before the table that points to it)."""

from __future__ import annotations

from collections.abc import Sequence

import flatbuffers


def table_vector(b: flatbuffers.Builder, offsets: Sequence[int]) -> int:
    """A vector of the tables (or strings) at `offsets`."""
    b.StartVector(4, len(offsets), 4)
    for off in reversed(offsets):
        b.PrependUOffsetTRelative(off)
    return int(b.EndVector())


def int32_vector(b: flatbuffers.Builder, values: Sequence[int]) -> int:
    """A `[int]` vector."""
    b.StartVector(4, len(values), 4)
    for v in reversed(values):
        b.PrependInt32(v)
    return int(b.EndVector())


def uint32_vector(b: flatbuffers.Builder, values: Sequence[int]) -> int:
    """A `[uint]` vector."""
    b.StartVector(4, len(values), 4)
    for v in reversed(values):
        b.PrependUint32(v)
    return int(b.EndVector())
