"""Shared pieces of the format reader tests: mutated seeds, hostile inputs, protobuf fields."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from unified_supply_chain.errors import FormatError

#: 8-byte little-endian words a mutation writes over a seed: zero, one and the integer edges.
WORDS = [v.to_bytes(8, "little") for v in (0, 1, 2**31, 2**32, 2**63, 2**64 - 1)]


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """`seed` with up to six bytes or 8-byte words overwritten, sometimes cut short."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        if draw(st.booleans()):
            data[pos] = draw(st.integers(0, 255))
        else:
            data[pos : pos + 8] = draw(st.sampled_from(WORDS))
    if draw(st.booleans()):
        del data[draw(st.integers(0, len(data))) :]
    return bytes(data)


#: Settings of the bounded mutation tests (a longer run belongs to the fuzz mode).
MUTATION_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def check_mutation(
    tmp_path: Path, data: st.DataObject, seed: bytes, read: Callable[[Path], Any], fmt: str
) -> None:
    """Write one mutation of `seed` and read it: FormatError or a result of format `fmt`."""
    path = tmp_path / "fuzzed"
    path.write_bytes(data.draw(mutated(seed)))
    assert_read_or_format_error(read, path, fmt)


def assert_read_or_format_error(read: Callable[[Path], Any], path: Path, fmt: str) -> None:
    """`read(path)` raises FormatError or returns a result of format `fmt`; nothing else."""
    try:
        info = read(path)
    except FormatError:
        return
    assert info.format == fmt


def assert_each_is_format_error(
    read: Callable[[Path], Any], directory: Path, cases: Mapping[str, bytes], suffix: str
) -> None:
    """Each case written to `<directory>/<name><suffix>` makes `read` raise FormatError."""
    for name, data in cases.items():
        path = directory / f"{name}{suffix}"
        path.write_bytes(data)
        try:
            read(path)
        except FormatError:
            continue
        pytest.fail(f"{name}: {getattr(read, '__name__', read)} did not raise FormatError")


def varint(value: int) -> bytes:
    """A non-negative integer as a protobuf base-128 varint."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def len_field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (wire type 2)."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload
