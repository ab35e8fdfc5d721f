"""Arrow IPC (file and stream) and Feather v1 datasets: their FlatBuffers metadata, read by the
shared bounded reader (`formats/_flatbuffers.py`), never their record batch bodies.

Field ids (apache/arrow format/File.fbs, Message.fbs, Schema.fbs; cpp/src/arrow/ipc/feather.fbs):
- `Footer`: version 0, schema 1, dictionaries 2, recordBatches 3 (`struct Block`: offset long,
  metaDataLength int, 4 bytes of padding, bodyLength long: 24 bytes);
- `Message`: version 0, header_type 1 and header 2 (the `MessageHeader` union: Schema = 1,
  DictionaryBatch = 2, RecordBatch = 3), bodyLength 3; `RecordBatch`: length 0;
- `Schema`: endianness 0, fields 1; `Field`: name 0;
- Feather v1 `CTable`: description 0, num_rows 1, columns 2; `Column`: name 0.

Each metadata flatbuffer (the file footer, one message's metadata, the Feather v1 table) is read
whole (at most `limits.MAX_ARROW_FOOTER` bytes) and walked in memory with every offset checked
against it. The reader raises only FormatError (or LimitExceeded).
"""

from __future__ import annotations

import io
import struct
from pathlib import Path
from typing import BinaryIO

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError
from unified_supply_chain.formats._dataset_io import column_names, open_binary, read_at, size_of
from unified_supply_chain.formats._flatbuffers import FlatBuffer, Table
from unified_supply_chain.records import HeaderInfo

_ARROW_MAGIC = b"ARROW1"
_FEATHER1_MAGIC = b"FEA1"
_CONTINUATION = b"\xff\xff\xff\xff"
_MSG_SCHEMA = 1
_MSG_RECORD_BATCH = 3
#: Record batches whose headers we read to sum the row count.
_MAX_ARROW_BATCHES = 10_000
#: Fields of a schema and columns of a Feather v1 table whose names are read.
_MAX_COLUMNS = 1_000_000
_BLOCK_BYTES = 24


def _metadata(data: bytes) -> Table:
    """The root table of one metadata flatbuffer held in memory."""
    flat = FlatBuffer(io.BytesIO(data), len(data), what="Arrow metadata")
    return flat.root()


def _name(table: Table) -> str:
    """Field 0 (a name), whole however long (an absent name is empty)."""
    return table.string(0, cap=table.fb.size) or ""


def _batch_length(record_batch: Table) -> int:
    length = record_batch.scalar(0, "<q")
    if length < 0:
        raise FormatError(f"record batch with negative length {length}")
    return length


def _schema_names(schema: Table) -> list[str]:
    return [_name(field) for field in schema.tables(1, _MAX_COLUMNS)]


def _read_message(fh: BinaryIO, offset: int, size: int) -> tuple[Table, int, Table, int] | None:
    """The IPC message at `offset`: (message table, header type, header table, end of metadata).

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
    message = _metadata(read_at(fh, pos, length))
    header_type = message.scalar(1, "<B")
    header = message.table(2)
    if header is None:
        raise FormatError("arrow message without a header")
    return message, header_type, header, pos + length


def _read_feather_v1(fh: BinaryIO, size: int) -> HeaderInfo:
    meta_len = struct.unpack("<I", read_at(fh, size - 8, 4))[0]
    if meta_len > size - 12 or meta_len > limits.MAX_ARROW_FOOTER:
        raise FormatError(f"feather metadata length {meta_len} out of range")
    table = _metadata(read_at(fh, size - 8 - meta_len, meta_len))
    rows = table.scalar(1, "<q")
    if rows < 0:
        raise FormatError(f"negative row count {rows}")
    names = [_name(column) for column in table.tables(2, _MAX_COLUMNS)]
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
    footer = _metadata(read_at(fh, size - 10 - footer_len, footer_len))
    schema = footer.table(1)
    names = _schema_names(schema) if schema is not None else []
    props = {"ipc": "file", "columns": str(len(names)), "column_names": column_names(names)}
    rows: int | None = None
    if footer.has(3):
        start, count = footer.vector(3, _BLOCK_BYTES)
        props["record_batches"] = str(count)
        if count <= _MAX_ARROW_BATCHES:
            rows = 0
            for i in range(count):
                offset = footer.fb.unpack("<q", start + _BLOCK_BYTES * i)  # Block.offset
                message = _read_message(fh, offset, size)
                if message is None or message[1] != _MSG_RECORD_BATCH:
                    raise FormatError("arrow block does not point at a record batch")
                rows += _batch_length(message[2])
    return HeaderInfo(format="arrow", properties=props, rows=rows, columns=len(names))


def _read_arrow_stream(fh: BinaryIO, size: int) -> HeaderInfo:
    first = _read_message(fh, 0, size)
    if first is None or first[1] != _MSG_SCHEMA:
        raise FormatError("arrow stream does not start with a schema message")
    names = _schema_names(first[2])
    props = {"ipc": "stream", "columns": str(len(names)), "column_names": column_names(names)}
    rows: int | None = 0
    batches = 0
    offset = 0
    while offset < size:
        message = _read_message(fh, offset, size)
        if message is None:
            break
        table, header_type, header, meta_end = message
        body = table.scalar(3, "<q")
        if body < 0:
            raise FormatError("arrow message with a negative body length")
        if header_type == _MSG_RECORD_BATCH:
            batches += 1
            if batches > _MAX_ARROW_BATCHES:
                rows = None
                break
            assert rows is not None
            rows += _batch_length(header)
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
