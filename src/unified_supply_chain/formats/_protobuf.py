"""A bounded protobuf wire-format walker over a seekable file (ONNX, Core ML, PaddlePaddle).

Fields are read one by one straight from the file; every length-delimited field the consumer does
not read is seeked over, so tensor data and weights are never read. Every length is checked
against the enclosing message, and both the bytes kept in memory and the fields visited are
capped by the caller's limits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from unified_supply_chain.errors import FormatError, LimitExceeded

#: Longest string field kept (names, producer, metadata values); longer ones are skipped.
MAX_STRING = 4096
#: Dimensions of one packed shape.
MAX_DIMS = 64
VARINT, FIXED64, LEN, FIXED32 = 0, 1, 2, 5


class Walker:
    """Protobuf fields read from a file region; skipped fields are seeked over, never read."""

    def __init__(
        self,
        fh: BinaryIO,
        size: int,
        *,
        max_bytes: int,
        max_fields: int,
        what: str,
        read_fixed: bool = False,
    ) -> None:
        self.fh = fh
        self.size = size
        self.pos = 0
        self.max_bytes = max_bytes
        self.budget = max_bytes
        self.max_fields = max_fields
        self.fields_left = max_fields
        self.what = what
        """What the bytes read are, for the LimitExceeded message."""
        self.read_fixed = read_fixed
        """Yield fixed32/fixed64 fields' little-endian value (a double's bits) instead of 0."""

    def _read(self, n: int) -> bytes:
        self.budget -= n
        if self.budget < 0:
            raise LimitExceeded(f"more than {self.max_bytes} bytes of {self.what}")
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
                raise LimitExceeded(f"more than {self.max_fields} protobuf fields")
            tag = self.varint(end)
            number, wire = tag >> 3, tag & 7
            if number == 0:
                raise FormatError(f"invalid protobuf field number 0 at byte {self.pos}")
            if wire == VARINT:
                yield number, wire, self.varint(end)
            elif wire in (FIXED64, FIXED32):
                width = 8 if wire == FIXED64 else 4
                if width > end - self.pos:
                    raise FormatError(f"truncated fixed field at byte {self.pos}")
                if self.read_fixed:
                    yield number, wire, int.from_bytes(self._read(width), "little")
                else:
                    self.seek(self.pos + width)
                    yield number, wire, 0
            elif wire == LEN:
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
            out.append(signed(self.varint(end)))
            if len(out) > MAX_DIMS:
                raise FormatError(f"more than {MAX_DIMS} dimensions")
        return out


def walk_file(
    path: Path,
    walk: Callable[[Walker, int], None],
    *,
    max_bytes: int,
    max_fields: int,
    what: str,
) -> None:
    """Run `walk(walker, size)` over the whole file at `path` (one protobuf message); a file that
    cannot be read is a FormatError."""
    try:
        with path.open("rb", buffering=1 << 16) as fh:
            size = fh.seek(0, 2)
            fh.seek(0)
            walk(Walker(fh, size, max_bytes=max_bytes, max_fields=max_fields, what=what), size)
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}") from exc


def signed(value: int) -> int:
    """A varint's two's-complement int64 value."""
    return value - (1 << 64) if value >= 1 << 63 else value


def sniff_first_varint(head: bytes, tag: int) -> tuple[int, int] | None:
    """For a sniffed head that opens with the one-byte field `tag`, the varint after it (the
    value, or the length of a length-delimited field) and where it ends; None otherwise."""
    if not head or head[0] != tag:
        return None
    return sniff_varint(head, 1)


def sniff_varint(data: bytes, pos: int) -> tuple[int, int] | None:
    """(value, next position) of the varint at `pos` of a sniffed head, or None when cut."""
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
