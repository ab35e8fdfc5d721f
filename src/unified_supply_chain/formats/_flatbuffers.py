"""A bounded reader of FlatBuffers binaries (TFLite models and the files of other formats
that use FlatBuffers), without the `flatbuffers` library and without reading the whole file.

The wire format (https://flatbuffers.dev/internals/): the file starts with a uoffset (u32) to the
root table; an optional 4-byte file identifier follows. A table starts with a soffset (i32) back
to its vtable; the vtable is a u16 size of itself, a u16 size of the table, then one u16 offset
per field (0 = absent, default value). Offsets to sub-tables, vectors and strings are uoffsets
relative to where they are stored; vectors and strings start with a u32 element count.

Every read is bounds-checked against the file, pages are read on demand, and the number of bytes
read and of tables visited are capped, so a hostile file costs little: anything out of range is
a FormatError, a cap reached is LimitExceeded.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

from unified_supply_chain.errors import FormatError, LimitExceeded

_PAGE = 64 * 1024
#: Bytes a single reader may read in pages (the tables of a model, never its weights).
MAX_READ = 64 * 1024 * 1024
#: Tables a single reader may visit.
MAX_TABLES = 1_000_000


class FlatBuffer:
    """Random access to a FlatBuffers file through a small page cache."""

    def __init__(
        self, fh: BinaryIO, size: int, *, max_read: int | None = None, what: str = "FlatBuffers"
    ) -> None:
        """`size` bounds every offset (the end of the flatbuffer, which may end before the
        file); `max_read` caps the bytes read (default MAX_READ); `what` names it in errors."""
        self._fh = fh
        self.size = size
        self._pages: dict[int, bytes] = {}
        self._bytes_read = 0
        self._max_read = MAX_READ if max_read is None else max_read
        self._what = what
        self.tables = 0

    def read(self, pos: int, n: int) -> bytes:
        """`n` bytes at `pos`; FormatError when they are not all in the file."""
        if pos < 0 or n < 0 or pos + n > self.size:
            raise FormatError(f"offset {pos}+{n} is outside the {self.size}-byte file")
        out = bytearray()
        while n > 0:
            page, start = divmod(pos, _PAGE)
            data = self._page(page)
            chunk = data[start : start + n]
            if not chunk:
                raise FormatError(f"file ends before offset {pos}")
            out += chunk
            pos += len(chunk)
            n -= len(chunk)
        return bytes(out)

    def _page(self, page: int) -> bytes:
        data = self._pages.get(page)
        if data is None:
            if len(self._pages) >= 256:
                self._pages.clear()
            self._fh.seek(page * _PAGE)
            data = self._fh.read(min(_PAGE, self.size - page * _PAGE))
            self._bytes_read += len(data)
            if self._bytes_read > self._max_read:
                raise LimitExceeded(f"more than {self._max_read} bytes of {self._what} read")
            self._pages[page] = data
        return data

    def unpack(self, fmt: str, pos: int) -> int:
        """One little-endian integer of struct format `fmt` (e.g. "<I") at `pos`."""
        value: int = struct.unpack(fmt, self.read(pos, struct.calcsize(fmt)))[0]
        return value

    def identifier(self) -> bytes:
        """The 4-byte file identifier (bytes 4-8)."""
        return self.read(4, 4)

    def root(self, at: int = 0) -> Table:
        """The root table of the buffer that starts at `at`."""
        return Table(self, at + self.unpack("<I", at))


class Table:
    """One table: fields by index, as the schema numbers them from 0."""

    def __init__(self, fb: FlatBuffer, pos: int) -> None:
        fb.tables += 1
        if fb.tables > MAX_TABLES:
            raise LimitExceeded(f"more than {MAX_TABLES} FlatBuffers tables")
        self.fb = fb
        self.pos = pos
        self._vtable = pos - fb.unpack("<i", pos)
        self._vt_size = fb.unpack("<H", self._vtable)
        self._size = fb.unpack("<H", self._vtable + 2)
        if self._vt_size < 4 or self._vt_size % 2 or self._size < 4:
            raise FormatError(f"vtable of the table at {pos} has a bad size {self._vt_size}")
        if pos + self._size > fb.size:
            raise FormatError(f"table at {pos} of {self._size} bytes overruns the buffer")

    def _field(self, index: int) -> int | None:
        slot = 4 + 2 * index
        if slot + 2 > self._vt_size:
            return None
        offset = self.fb.unpack("<H", self._vtable + slot)
        if offset >= self._size:
            raise FormatError(f"field {index} of the table at {self.pos} lies outside it")
        return self.pos + offset if offset else None

    def has(self, index: int) -> bool:
        """Whether field `index` is present."""
        return self._field(index) is not None

    def scalar(self, index: int, fmt: str, default: int = 0) -> int:
        """A scalar field (struct format `fmt`, e.g. "<I", "<b"), or its default."""
        pos = self._field(index)
        return default if pos is None else self.fb.unpack(fmt, pos)

    def _target(self, index: int) -> int | None:
        pos = self._field(index)
        return None if pos is None else pos + self.fb.unpack("<I", pos)

    def string(self, index: int, cap: int = 4096) -> str | None:
        """A string field, cut to `cap` bytes, or None when absent."""
        pos = self._target(index)
        if pos is None:
            return None
        length = self.fb.unpack("<I", pos)
        raw = self.fb.read(pos + 4, min(length, cap))
        return raw.decode("utf-8", "replace")

    def table(self, index: int) -> Table | None:
        """A sub-table field, or None when absent."""
        pos = self._target(index)
        return None if pos is None else Table(self.fb, pos)

    def vector_length(self, index: int) -> int:
        """The element count of a vector field (0 when absent)."""
        pos = self._target(index)
        return 0 if pos is None else self.fb.unpack("<I", pos)

    def vector(self, index: int, item: int = 1) -> tuple[int, int]:
        """(position of the first element, element count) of a vector field of `item`-byte
        elements; (0, 0) if absent."""
        pos = self._target(index)
        if pos is None:
            return 0, 0
        count = self.fb.unpack("<I", pos)
        if pos + 4 + count * item > self.fb.size:
            raise FormatError(f"vector of {count} elements at {pos} runs past the file")
        return pos + 4, count

    def tables(self, index: int, cap: int) -> list[Table]:
        """The first `cap` tables of a vector-of-tables field."""
        start, count = self.vector(index, 4)
        return [self._element(start + 4 * i) for i in range(min(count, cap))]

    def element(self, index: int, i: int) -> Table | None:
        """Table `i` of a vector-of-tables field (None when out of range), without visiting the
        ones before it."""
        start, count = self.vector(index, 4)
        return self._element(start + 4 * i) if 0 <= i < count else None

    def _element(self, at: int) -> Table:
        return Table(self.fb, at + self.fb.unpack("<I", at))

    def scalars(self, index: int, fmt: str, cap: int) -> list[int]:
        """The first `cap` elements of a vector-of-scalars field."""
        width = struct.calcsize(fmt)
        start, count = self.vector(index, width)
        return [self.fb.unpack(fmt, start + width * i) for i in range(min(count, cap))]

    def blob(self, index: int, cap: int) -> bytes | None:
        """A `[ubyte]` field's bytes, or None when absent or longer than `cap`."""
        if not self.has(index):
            return None
        start, count = self.vector(index)
        return None if count > cap else self.fb.read(start, count)
