"""Arrow IPC (file and stream) and Feather v1 datasets: flatbuffer metadata, read by hand.

The reader reads a bounded amount of the file and raises only FormatError (or LimitExceeded).
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError
from unified_supply_chain.formats._dataset_io import column_names, open_binary, read_at, size_of
from unified_supply_chain.records import HeaderInfo

_ARROW_MAGIC = b"ARROW1"
_FEATHER1_MAGIC = b"FEA1"
_CONTINUATION = b"\xff\xff\xff\xff"
_MSG_SCHEMA = 1
_MSG_RECORD_BATCH = 3
#: Record batches whose headers we read to sum the row count.
_MAX_ARROW_BATCHES = 10_000


class _Flat:
    """Minimal flatbuffer table reader over one buffer; every read is bounds-checked."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def _unpack(self, fmt: str, pos: int) -> int:
        size = struct.calcsize(fmt)
        if pos < 0 or pos + size > len(self.data):
            raise FormatError("arrow metadata: offset out of range")
        value: int = struct.unpack_from(fmt, self.data, pos)[0]
        return value

    def root(self) -> int:
        return self._unpack("<I", 0)

    def field_pos(self, table: int, index: int) -> int | None:
        vtable = table - self._unpack("<i", table)
        vsize = self._unpack("<H", vtable)
        slot = 4 + 2 * index
        if slot + 2 > vsize:
            return None
        off = self._unpack("<H", vtable + slot)
        return table + off if off else None

    def scalar(self, table: int, index: int, fmt: str, default: int = 0) -> int:
        pos = self.field_pos(table, index)
        return default if pos is None else self._unpack(fmt, pos)

    def ref(self, table: int, index: int) -> int | None:
        pos = self.field_pos(table, index)
        return None if pos is None else pos + self._unpack("<I", pos)

    def vector(self, table: int, index: int) -> tuple[int, int] | None:
        """(start of elements, element count) of a vector field."""
        start = self.ref(table, index)
        if start is None:
            return None
        count = self._unpack("<I", start)
        if count > len(self.data):
            raise FormatError("arrow metadata: vector longer than the buffer")
        return start + 4, count

    def string(self, table: int, index: int) -> str:
        start = self.ref(table, index)
        if start is None:
            return ""
        length = self._unpack("<I", start)
        if start + 4 + length > len(self.data):
            raise FormatError("arrow metadata: string out of range")
        return self.data[start + 4 : start + 4 + length].decode("utf-8", errors="replace")

    def tables(self, table: int, index: int) -> list[int]:
        vec = self.vector(table, index)
        if vec is None:
            return []
        start, count = vec
        return [start + 4 * i + self._unpack("<I", start + 4 * i) for i in range(count)]


def _batch_length(flat: _Flat, record_batch: int) -> int:
    length = flat.scalar(record_batch, 0, "<q")
    if length < 0:
        raise FormatError(f"record batch with negative length {length}")
    return length


def _schema_names(flat: _Flat, schema: int) -> list[str]:
    return [flat.string(field, 0) for field in flat.tables(schema, 1)]


def _read_message(fh: BinaryIO, offset: int, size: int) -> tuple[_Flat, int, int, int] | None:
    """The IPC message at `offset`: (metadata, header type, header table, end of metadata).

    None at the end-of-stream marker or the end of the file.
    """
    if offset + 4 > size:
        return None
    prefix = read_at(fh, offset, 4)
    pos = offset + 4
    if prefix == _CONTINUATION:
        prefix = read_at(fh, pos, 4)
        pos += 4
    length = struct.unpack("<i", prefix)[0]
    if length == 0:
        return None
    if length < 0 or length > limits.MAX_ARROW_FOOTER or pos + length > size:
        raise FormatError(f"arrow message length {length} out of range")
    flat = _Flat(read_at(fh, pos, length))
    message = flat.root()
    header_type = flat.scalar(message, 1, "<B")
    header = flat.ref(message, 2)
    if header is None:
        raise FormatError("arrow message without a header")
    return flat, header_type, header, pos + length


def _read_feather_v1(fh: BinaryIO, size: int) -> HeaderInfo:
    meta_len = struct.unpack("<I", read_at(fh, size - 8, 4))[0]
    if meta_len > size - 12 or meta_len > limits.MAX_ARROW_FOOTER:
        raise FormatError(f"feather metadata length {meta_len} out of range")
    flat = _Flat(read_at(fh, size - 8 - meta_len, meta_len))
    table = flat.root()
    rows = flat.scalar(table, 1, "<q")
    if rows < 0:
        raise FormatError(f"negative row count {rows}")
    names = [flat.string(col, 0) for col in flat.tables(table, 2)]
    props = {
        "feather_version": "1",
        "columns": str(len(names)),
        "column_names": column_names(names),
    }
    return HeaderInfo(format="feather", properties=props, rows=rows, columns=len(names))


def _read_arrow_file(fh: BinaryIO, size: int) -> HeaderInfo:
    footer_len = struct.unpack("<i", read_at(fh, size - 10, 4))[0]
    if footer_len <= 0 or footer_len > size - 18 or footer_len > limits.MAX_ARROW_FOOTER:
        raise FormatError(f"arrow footer length {footer_len} out of range")
    flat = _Flat(read_at(fh, size - 10 - footer_len, footer_len))
    footer = flat.root()
    schema = flat.ref(footer, 1)
    names = _schema_names(flat, schema) if schema is not None else []
    props = {"ipc": "file", "columns": str(len(names)), "column_names": column_names(names)}
    rows: int | None = None
    batches = flat.vector(footer, 3)
    if batches is not None:
        start, count = batches
        props["record_batches"] = str(count)
        if count <= _MAX_ARROW_BATCHES:
            rows = 0
            for i in range(count):
                # Block struct: offset i64, metaDataLength i32, (pad), bodyLength i64.
                offset = flat._unpack("<q", start + 24 * i)
                message = _read_message(fh, offset, size)
                if message is None or message[1] != _MSG_RECORD_BATCH:
                    raise FormatError("arrow block does not point at a record batch")
                rows += _batch_length(message[0], message[2])
    return HeaderInfo(format="arrow", properties=props, rows=rows, columns=len(names))


def _read_arrow_stream(fh: BinaryIO, size: int) -> HeaderInfo:
    first = _read_message(fh, 0, size)
    if first is None or first[1] != _MSG_SCHEMA:
        raise FormatError("arrow stream does not start with a schema message")
    names = _schema_names(first[0], first[2])
    props = {"ipc": "stream", "columns": str(len(names)), "column_names": column_names(names)}
    rows: int | None = 0
    batches = 0
    offset = 0
    while offset < size:
        message = _read_message(fh, offset, size)
        if message is None:
            break
        flat, header_type, header, meta_end = message
        body = flat.scalar(flat.root(), 3, "<q")
        if body < 0:
            raise FormatError("arrow message with a negative body length")
        if header_type == _MSG_RECORD_BATCH:
            batches += 1
            if batches > _MAX_ARROW_BATCHES:
                rows = None
                break
            assert rows is not None
            rows += _batch_length(flat, header)
        offset = meta_end + body
    if rows is not None:
        props["record_batches"] = str(batches)
    return HeaderInfo(format="arrow", properties=props, rows=rows, columns=len(names))


def read_arrow(path: Path) -> HeaderInfo:
    """Arrow IPC file (`ARROW1` at both ends), Arrow IPC stream, or Feather v1 (`FEA1`).

    Columns and names come from the schema; rows are summed from the record-batch headers
    (bodies are never read). Feather v2 files are Arrow IPC files.
    """
    size = size_of(path)
    with open_binary(path) as fh:
        try:
            head = fh.read(8)
            if head[:6] == _ARROW_MAGIC:
                if size < 18 or read_at(fh, size - 6, 6) != _ARROW_MAGIC:
                    raise FormatError("ARROW1 magic at the start but not at the end")
                return _read_arrow_file(fh, size)
            if head[:4] == _FEATHER1_MAGIC:
                if size < 12 or read_at(fh, size - 4, 4) != _FEATHER1_MAGIC:
                    raise FormatError("FEA1 magic at the start but not at the end")
                return _read_feather_v1(fh, size)
            if head[:4] == _CONTINUATION:
                return _read_arrow_stream(fh, size)
            raise FormatError("no Arrow IPC or Feather magic")
        except OSError as exc:
            raise FormatError(f"cannot read: {exc.strerror or exc}") from exc
        except (struct.error, RecursionError, IndexError) as exc:
            raise FormatError(f"arrow metadata unreadable: {exc}") from exc


# --- Registry entries. -------------------------------------------------------------------------

from unified_supply_chain.formats import FormatSpec, Kind, Sniff  # noqa: E402


def sniff_feather_v2(head: bytes, name: str) -> bool:
    """Arrow IPC file magic in a file named *.feather (Feather v2 is Arrow IPC)."""
    return head.startswith(b"ARROW1") and name.endswith(".feather")


def sniff_arrow(head: bytes, name: str) -> bool:
    """Arrow IPC file magic."""
    return head.startswith(b"ARROW1")


def sniff_feather_v1(head: bytes, name: str) -> bool:
    """Feather v1 magic."""
    return head.startswith(b"FEA1")


SPECS = (
    FormatSpec(
        id="feather",
        kind=Kind.DATASET,
        description="*.feather (Arrow IPC or b'FEA1' v1)",
        extensions=(".feather",),
        sniffs=(Sniff(60, sniff_feather_v2, needs_name=True), Sniff(62, sniff_feather_v1)),
        reader=read_arrow,
    ),
    FormatSpec(
        id="arrow",
        kind=Kind.DATASET,
        description="b'ARROW1' at 0; or *.arrow",
        extensions=(".arrow",),
        sniffs=(Sniff(61, sniff_arrow),),
        reader=read_arrow,
    ),
)
