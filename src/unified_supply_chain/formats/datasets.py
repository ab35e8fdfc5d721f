"""Dataset readers: cheap headers of csv/tsv, parquet, jsonl and arrow files, and descriptor files.

Every reader reads a bounded amount of the file and raises only FormatError (or LimitExceeded).
URLs taken from descriptors pass through `redact_url`, so no credential reaches the SBOM.
"""

from __future__ import annotations

import csv
import io
import re
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote, urlsplit, urlunsplit

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError, LimitExceeded
from unified_supply_chain.records import HeaderInfo
from unified_supply_chain.safeparse import load_json_file, load_yaml_file, loads_json


@dataclass(frozen=True)
class DatasetDescriptor:
    """A dataset that a descriptor file points at (its content is elsewhere)."""

    name: str
    """Name the descriptor gives (or the descriptor file's stem)."""
    urls: tuple[str, ...]
    """Where the data lives, credentials redacted, in source order without duplicates."""
    license: str | None = None
    """Licence id or name as written."""
    description: str | None = None
    """Free text, bounded."""
    sha256: str | None = None
    """Lower-case hex SHA-256 the descriptor states for the data."""
    classification: str | None = None
    """Data classification the descriptor states (e.g. "public", "confidential")."""


#: Query/fragment parameter names whose values are secrets (compared lower-case).
_SECRET_PARAMS = frozenset(
    {
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "auth",
        "sig",
        "signature",
        "key",
        "apikey",
        "api_key",
        "password",
        "passwd",
        "secret",
        "client_secret",
        "credential",
        "credentials",
    }
)
_SECRET_PREFIXES = ("x-amz-", "x-goog-")
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#@]*@")


def _is_secret_param(name: str) -> bool:
    lowered = unquote(name).strip().lower()
    return lowered in _SECRET_PARAMS or lowered.startswith(_SECRET_PREFIXES)


def _redact_pairs(text: str) -> str:
    parts = []
    for part in text.split("&"):
        name, sep, _value = part.partition("=")
        parts.append(f"{name}=REDACTED" if sep and _is_secret_param(name) else part)
    return "&".join(parts)


def redact_url(url: str) -> str:
    """The URL without credentials: user-info removed and secret query values replaced.

    `https://user:token@host/p?sig=abc&x=1` becomes `https://host/p?sig=REDACTED&x=1`. A URL
    that cannot be split keeps neither its user-info nor its query and fragment.
    """
    try:
        parts = urlsplit(url)
        netloc = parts.netloc.rpartition("@")[2]
        query = _redact_pairs(parts.query) if parts.query else ""
        fragment = _redact_pairs(parts.fragment) if "=" in parts.fragment else parts.fragment
        return urlunsplit((parts.scheme, netloc, parts.path, query, fragment))
    except ValueError:
        stripped = _USERINFO.sub(r"\1", url)
        return re.split(r"[?#]", stripped, maxsplit=1)[0]


# --- shared helpers ---

#: Column names kept in the `column_names` property, and the bounds on its text.
_MAX_NAMES = 50
_MAX_NAME_CHARS = 100
_MAX_NAMES_TEXT = 2000
_CHUNK = 1024 * 1024


def _column_names(names: Iterable[str]) -> str:
    """First names, comma-joined, each and all bounded."""
    out: list[str] = []
    total = 0
    for i, name in enumerate(names):
        if i >= _MAX_NAMES:
            break
        text = name[:_MAX_NAME_CHARS]
        total += len(text) + 1
        if total > _MAX_NAMES_TEXT:
            break
        out.append(text)
    return ",".join(out)


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise FormatError(f"cannot stat: {exc.strerror or exc}") from exc


def _open(path: Path) -> BinaryIO:
    try:
        return path.open("rb")
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}") from exc


def _read_at(fh: BinaryIO, offset: int, length: int) -> bytes:
    fh.seek(offset)
    data = fh.read(length)
    if len(data) != length:
        raise FormatError(f"truncated: wanted {length} bytes at offset {offset}")
    return data


def _count_newlines(fh: BinaryIO) -> tuple[int, bool]:
    """Number of b"\\n" in the rest of the file, and whether the last byte was one."""
    count = 0
    last = b"\n"
    while chunk := fh.read(_CHUNK):
        count += chunk.count(b"\n")
        last = chunk[-1:]
    return count, last == b"\n"


# --- CSV / TSV ---


def _header_chunk(fh: BinaryIO) -> bytes:
    chunk = fh.read(limits.MAX_DATASET_HEADER_BYTES)
    if b"\x00" in chunk:
        raise FormatError("binary data (NUL bytes), not delimited text")
    return chunk


def _count_csv_records(path: Path, delimiter: str) -> int | None:
    """Exact record count with the csv module (quoted newlines stay inside a record)."""
    try:
        with path.open("r", encoding="utf-8", errors="replace", newline="") as text:
            return sum(1 for record in csv.reader(text, delimiter=delimiter) if record)
    except (OSError, csv.Error):
        return None


def read_csv(path: Path, delimiter: str = ",") -> HeaderInfo:
    """Columns from the header line, rows counted cheaply (data rows, header excluded).

    Rows are physical lines minus the header, counted in chunks, for files up to
    `limits.MAX_ROWCOUNT_BYTES`. When the first chunk holds a quote character, files up to
    `limits.MAX_CSV_RECORD_COUNT_BYTES` are counted record by record instead, so quoted newlines
    do not inflate the count; larger quoted files keep the line count and say so
    (`rows_counted: physical-lines`).
    """
    fmt = "tsv" if delimiter == "\t" else "csv"
    size = _size_of(path)
    with _open(path) as fh:
        try:
            chunk = _header_chunk(fh)
            text = chunk.decode("utf-8-sig", errors="replace")
            if not text.strip():
                return HeaderInfo(format=fmt, properties={"delimiter": delimiter}, rows=0)
            if "\n" not in text and "\r" not in text and size > len(chunk):
                raise LimitExceeded(
                    f"header line longer than {limits.MAX_DATASET_HEADER_BYTES} bytes"
                )
            try:
                header = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
            except csv.Error as exc:
                raise FormatError(f"unreadable header line: {exc}") from exc
            props = {
                "delimiter": delimiter,
                "columns": str(len(header)),
                "column_names": _column_names(h.strip() for h in header),
            }
            rows: int | None = None
            if size <= limits.MAX_ROWCOUNT_BYTES:
                quoted = '"' in text
                if quoted and size <= limits.MAX_CSV_RECORD_COUNT_BYTES:
                    records = _count_csv_records(path, delimiter)
                    if records is not None:
                        rows = max(records - 1, 0)
                if rows is None:
                    fh.seek(0)
                    newlines, ends_with_newline = _count_newlines(fh)
                    lines = newlines + (0 if ends_with_newline or size == 0 else 1)
                    rows = max(lines - 1, 0)
                    if quoted:
                        props["rows_counted"] = "physical-lines"
        except OSError as exc:
            raise FormatError(f"cannot read: {exc.strerror or exc}") from exc
    return HeaderInfo(format=fmt, properties=props, rows=rows, columns=len(header))


# --- JSON Lines ---


def read_jsonl(path: Path) -> HeaderInfo:
    """Rows = non-empty lines (up to `limits.MAX_ROWCOUNT_BYTES`); columns = first object's keys."""
    size = _size_of(path)
    with _open(path) as fh:
        try:
            chunk = _header_chunk(fh)
            first: bytes | None = None
            for line in chunk.split(b"\n"):
                if line.strip():
                    first = line
                    break
            if first is None:
                if size > len(chunk):
                    raise LimitExceeded(
                        f"no record in the first {limits.MAX_DATASET_HEADER_BYTES} bytes"
                    )
                return HeaderInfo(format="jsonl", rows=0)
            if len(chunk) == limits.MAX_DATASET_HEADER_BYTES and b"\n" not in chunk:
                raise LimitExceeded(
                    f"first record longer than {limits.MAX_DATASET_HEADER_BYTES} bytes"
                )
            try:
                record = loads_json(first.decode("utf-8-sig"))
            except UnicodeDecodeError as exc:
                raise FormatError("first record is not UTF-8") from exc
            except LimitExceeded:
                raise
            except FormatError as exc:
                raise FormatError(f"first line is not JSON: {exc}") from exc
            props: dict[str, str] = {}
            columns: int | None = None
            if isinstance(record, dict):
                columns = len(record)
                props["columns"] = str(columns)
                props["column_names"] = _column_names(str(k) for k in record)
            rows: int | None = None
            if size <= limits.MAX_ROWCOUNT_BYTES:
                fh.seek(0)
                rows = 0
                pending = False
                while block := fh.read(_CHUNK):
                    parts = block.split(b"\n")
                    for part in parts[:-1]:
                        if pending or part.strip():
                            rows += 1
                        pending = False
                    pending = pending or bool(parts[-1].strip())
                if pending:
                    rows += 1
        except OSError as exc:
            raise FormatError(f"cannot read: {exc.strerror or exc}") from exc
    return HeaderInfo(format="jsonl", properties=props, rows=rows, columns=columns)


# --- Parquet (Thrift compact protocol, read by hand) ---

_T_STOP, _T_TRUE, _T_FALSE, _T_BYTE, _T_I16, _T_I32, _T_I64, _T_DOUBLE = range(8)
_T_BINARY, _T_LIST, _T_SET, _T_MAP, _T_STRUCT, _T_UUID = range(8, 14)
_MAX_THRIFT_DEPTH = 64


class _Thrift:
    """A cursor over Thrift compact-protocol bytes; every read is bounds-checked."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise FormatError("parquet footer truncated")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def varint(self) -> int:
        shift = 0
        result = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7
            if shift > 63:
                raise FormatError("parquet footer: varint too long")

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def binary(self) -> bytes:
        length = self.varint()
        if length > len(self.data) - self.pos:
            raise FormatError("parquet footer: string longer than the footer")
        value = self.data[self.pos : self.pos + length]
        self.pos += length
        return value

    def list_header(self) -> tuple[int, int]:
        head = self.byte()
        size = head >> 4
        if size == 15:
            size = self.varint()
        if size > len(self.data) - self.pos:
            raise FormatError("parquet footer: list longer than the footer")
        return size, head & 0x0F

    def fields(self) -> Iterator[tuple[int, int]]:
        """(field id, type) of each field of a struct, up to its STOP."""
        last = 0
        while True:
            head = self.byte()
            ftype = head & 0x0F
            if ftype == _T_STOP:
                return
            delta = head >> 4
            fid = last + delta if delta else self.zigzag()
            last = fid
            yield fid, ftype

    def skip(self, ftype: int, depth: int = 0) -> None:
        if depth > _MAX_THRIFT_DEPTH:
            raise LimitExceeded("parquet footer nested too deeply")
        if ftype in (_T_TRUE, _T_FALSE):
            return
        if ftype == _T_BYTE:
            self.byte()
        elif ftype in (_T_I16, _T_I32, _T_I64):
            self.varint()
        elif ftype == _T_DOUBLE:
            self.advance(8)
        elif ftype == _T_UUID:
            self.advance(16)
        elif ftype == _T_BINARY:
            self.binary()
        elif ftype in (_T_LIST, _T_SET):
            size, etype = self.list_header()
            for _ in range(size):
                if etype in (_T_TRUE, _T_FALSE):
                    self.byte()  # list booleans take one byte each
                else:
                    self.skip(etype, depth + 1)
        elif ftype == _T_MAP:
            size = self.varint()
            if size > len(self.data) - self.pos:
                raise FormatError("parquet footer: map longer than the footer")
            if size:
                kinds = self.byte()
                for _ in range(size):
                    self.skip(kinds >> 4, depth + 1)
                    self.skip(kinds & 0x0F, depth + 1)
        elif ftype == _T_STRUCT:
            for _, sub in self.fields():
                self.skip(sub, depth + 1)
        else:
            raise FormatError(f"parquet footer: unknown Thrift type {ftype}")

    def advance(self, n: int) -> None:
        if n > len(self.data) - self.pos:
            raise FormatError("parquet footer truncated")
        self.pos += n


def _schema_element(t: _Thrift) -> tuple[str, int | None]:
    name = ""
    children: int | None = None
    for fid, ftype in t.fields():
        if fid == 4 and ftype == _T_BINARY:
            name = t.binary().decode("utf-8", errors="replace")
        elif fid == 5 and ftype == _T_I32:
            children = t.zigzag()
        else:
            t.skip(ftype)
    return name, children


def _leaf_paths(elements: list[tuple[str, int | None]]) -> list[str]:
    """Dotted paths of leaf columns from the depth-first schema list (root first)."""
    leaves: list[str] = []
    # Stack of (path prefix, children still expected); the root's name is not part of paths.
    stack: list[tuple[str, int]] = []
    for index, (name, children) in enumerate(elements):
        while stack and stack[-1][1] == 0:
            stack.pop()
        prefix = stack[-1][0] if stack else ""
        if stack:
            stack[-1] = (stack[-1][0], stack[-1][1] - 1)
        path = name if index == 0 else (f"{prefix}.{name}" if prefix else name)
        if index == 0:
            stack.append(("", children or 0))
        elif children:
            if children < 0 or children > len(elements):
                raise FormatError("parquet schema: bad child count")
            stack.append((path, children))
        else:
            leaves.append(path)
    return leaves


def read_parquet(path: Path) -> HeaderInfo:
    """Rows, columns (leaf count), column names, format version and writer from the footer."""
    size = _size_of(path)
    if size < 12:
        raise FormatError("too small for parquet")
    with _open(path) as fh:
        try:
            head = _read_at(fh, 0, 4)
            tail = _read_at(fh, size - 8, 8)
            if head != b"PAR1":
                raise FormatError("no PAR1 magic at the start")
            if tail[4:] == b"PARE":
                return HeaderInfo(format="parquet", properties={"encrypted_footer": "true"})
            if tail[4:] != b"PAR1":
                raise FormatError("no PAR1 magic at the end")
            footer_len = struct.unpack("<I", tail[:4])[0]
            if footer_len > size - 12:
                raise FormatError(f"footer length {footer_len} larger than the file")
            if footer_len > limits.MAX_PARQUET_FOOTER:
                raise LimitExceeded(f"parquet footer larger than {limits.MAX_PARQUET_FOOTER}")
            footer = _read_at(fh, size - 8 - footer_len, footer_len)
        except OSError as exc:
            raise FormatError(f"cannot read: {exc.strerror or exc}") from exc

    t = _Thrift(footer)
    version: int | None = None
    num_rows: int | None = None
    created_by: str | None = None
    row_groups: int | None = None
    elements: list[tuple[str, int | None]] = []
    partial = False
    try:
        for fid, ftype in t.fields():
            if fid == 1 and ftype == _T_I32:
                version = t.zigzag()
            elif fid == 2 and ftype == _T_LIST:
                count, etype = t.list_header()
                if etype != _T_STRUCT:
                    raise FormatError("parquet schema is not a list of structs")
                if count > limits.MAX_PARQUET_SCHEMA:
                    raise LimitExceeded(f"more than {limits.MAX_PARQUET_SCHEMA} schema elements")
                elements = [_schema_element(t) for _ in range(count)]
            elif fid == 3 and ftype == _T_I64:
                num_rows = t.zigzag()
            elif fid == 4 and ftype == _T_LIST:
                count, etype = t.list_header()
                row_groups = count
                if len(footer) - t.pos > limits.MAX_PARQUET_FULL_PARSE:
                    # Walking every row group's column chunks costs seconds on wide files;
                    # the fields after them (writer name, key/value metadata) are not worth it.
                    partial = True
                    break
                for _ in range(count):
                    t.skip(etype)
            elif fid == 6 and ftype == _T_BINARY:
                created_by = t.binary().decode("utf-8", errors="replace")[:200]
            else:
                t.skip(ftype)
    except RecursionError as exc:
        raise LimitExceeded("parquet footer nested too deeply") from exc
    if not elements or num_rows is None:
        raise FormatError("parquet footer lacks a schema or a row count")
    if num_rows < 0:
        raise FormatError(f"negative row count {num_rows}")
    leaves = _leaf_paths(elements)
    props = {"columns": str(len(leaves)), "column_names": _column_names(leaves)}
    if version is not None:
        props["parquet_version"] = str(version)
    if created_by:
        props["created_by"] = created_by
    if row_groups is not None:
        props["row_groups"] = str(row_groups)
    if partial:
        props["footer_read"] = "partial"
    return HeaderInfo(format="parquet", properties=props, rows=num_rows, columns=len(leaves))


# --- Arrow IPC (file and stream) and Feather v1: flatbuffer metadata, read by hand ---

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
    prefix = _read_at(fh, offset, 4)
    pos = offset + 4
    if prefix == _CONTINUATION:
        prefix = _read_at(fh, pos, 4)
        pos += 4
    length = struct.unpack("<i", prefix)[0]
    if length == 0:
        return None
    if length < 0 or length > limits.MAX_ARROW_FOOTER or pos + length > size:
        raise FormatError(f"arrow message length {length} out of range")
    flat = _Flat(_read_at(fh, pos, length))
    message = flat.root()
    header_type = flat.scalar(message, 1, "<B")
    header = flat.ref(message, 2)
    if header is None:
        raise FormatError("arrow message without a header")
    return flat, header_type, header, pos + length


def _read_feather_v1(fh: BinaryIO, size: int) -> HeaderInfo:
    meta_len = struct.unpack("<I", _read_at(fh, size - 8, 4))[0]
    if meta_len > size - 12 or meta_len > limits.MAX_ARROW_FOOTER:
        raise FormatError(f"feather metadata length {meta_len} out of range")
    flat = _Flat(_read_at(fh, size - 8 - meta_len, meta_len))
    table = flat.root()
    rows = flat.scalar(table, 1, "<q")
    if rows < 0:
        raise FormatError(f"negative row count {rows}")
    names = [flat.string(col, 0) for col in flat.tables(table, 2)]
    props = {
        "feather_version": "1",
        "columns": str(len(names)),
        "column_names": _column_names(names),
    }
    return HeaderInfo(format="feather", properties=props, rows=rows, columns=len(names))


def _read_arrow_file(fh: BinaryIO, size: int) -> HeaderInfo:
    footer_len = struct.unpack("<i", _read_at(fh, size - 10, 4))[0]
    if footer_len <= 0 or footer_len > size - 18 or footer_len > limits.MAX_ARROW_FOOTER:
        raise FormatError(f"arrow footer length {footer_len} out of range")
    flat = _Flat(_read_at(fh, size - 10 - footer_len, footer_len))
    footer = flat.root()
    schema = flat.ref(footer, 1)
    names = _schema_names(flat, schema) if schema is not None else []
    props = {"ipc": "file", "columns": str(len(names)), "column_names": _column_names(names)}
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
    props = {"ipc": "stream", "columns": str(len(names)), "column_names": _column_names(names)}
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
    size = _size_of(path)
    with _open(path) as fh:
        try:
            head = fh.read(8)
            if head[:6] == _ARROW_MAGIC:
                if size < 18 or _read_at(fh, size - 6, 6) != _ARROW_MAGIC:
                    raise FormatError("ARROW1 magic at the start but not at the end")
                return _read_arrow_file(fh, size)
            if head[:4] == _FEATHER1_MAGIC:
                if size < 12 or _read_at(fh, size - 4, 4) != _FEATHER1_MAGIC:
                    raise FormatError("FEA1 magic at the start but not at the end")
                return _read_feather_v1(fh, size)
            if head[:4] == _CONTINUATION:
                return _read_arrow_stream(fh, size)
            raise FormatError("no Arrow IPC or Feather magic")
        except OSError as exc:
            raise FormatError(f"cannot read: {exc.strerror or exc}") from exc
        except (struct.error, RecursionError, IndexError) as exc:
            raise FormatError(f"arrow metadata unreadable: {exc}") from exc


# --- Dataset descriptors (YAML/JSON files that point at remote data) ---

_URL_KEYS = ("url", "urls", "download_url", "download_urls", "source", "sources", "uri", "path")
_NAME_KEYS = ("name", "id", "title", "dataset")
_URL_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$")
_SHA256 = re.compile(r"^(?:sha256[:-])?([0-9a-fA-F]{64})$")
_MAX_DESCRIPTION = 2000
_MAX_DESCRIPTORS = 1000


def _strings(value: object, depth: int = 0) -> Iterator[str]:
    """Every string inside a value (lists and mapping values), bounded in depth."""
    if depth > 8:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, depth + 1)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item, depth + 1)


def _urls_of(entry: dict[str, Any]) -> tuple[str, ...]:
    found: list[str] = []
    candidates: list[object] = [entry.get(key) for key in _URL_KEYS]
    splits = entry.get("splits")
    if isinstance(splits, dict):
        candidates.extend(
            {k: v for k, v in split.items() if k in _URL_KEYS} if isinstance(split, dict) else split
            for split in splits.values()
        )
    elif isinstance(splits, list):
        candidates.extend(
            {k: v for k, v in split.items() if k in _URL_KEYS}
            for split in splits
            if isinstance(split, dict)
        )
    for candidate in candidates:
        for text in _strings(candidate):
            url = text.strip()
            if _URL_LIKE.match(url):
                redacted = redact_url(url)
                if redacted not in found:
                    found.append(redacted)
                if len(found) >= limits.MAX_DESCRIPTOR_URLS:
                    return tuple(found)
    return tuple(found)


def _text_of(value: object, cap: int = 200) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()[:cap]
    if isinstance(value, list):
        parts = [v.strip() for v in value if isinstance(v, str) and v.strip()]
        return ", ".join(parts)[:cap] if parts else None
    if isinstance(value, dict):
        for key in ("id", "spdx", "name"):
            if isinstance(value.get(key), str):
                return _text_of(value[key], cap)
    return None


def _sha256_of(entry: dict[str, Any]) -> str | None:
    for key in ("sha256", "checksum", "hash", "digest"):
        value = entry.get(key)
        if isinstance(value, str):
            match = _SHA256.match(value.strip())
            if match:
                return match.group(1).lower()
    return None


def _descriptor(entry: dict[str, Any], fallback_name: str) -> DatasetDescriptor:
    name = next(
        (n for n in (_text_of(entry.get(k)) for k in _NAME_KEYS) if n is not None),
        fallback_name,
    )
    return DatasetDescriptor(
        name=name,
        urls=_urls_of(entry),
        license=_text_of(entry.get("license") or entry.get("licence")),
        description=_text_of(entry.get("description"), _MAX_DESCRIPTION),
        sha256=_sha256_of(entry),
        classification=_text_of(entry.get("classification")),
    )


def read_dataset_descriptor(path: Path) -> list[DatasetDescriptor]:
    """Datasets a descriptor file points at.

    The file (YAML, or JSON by extension) is either one mapping with a URL key (`url`, `urls`,
    `download_url`, `source`, per-split URLs under `splits`), or holds a `datasets:` list (or is
    a list) of such mappings. A descriptor without URLs describes local data (its licence and
    description still count); a lone mapping with neither URLs nor a name, licence or
    description gives an empty result. Every URL passes through `redact_url`.
    """
    data = load_json_file(path) if path.suffix.lower() == ".json" else load_yaml_file(path)
    stem = path.name.split(".")[0] or path.name
    entries: object
    if isinstance(data, dict) and "datasets" in data:
        entries = data["datasets"]
        if isinstance(entries, dict):
            entries = [
                {"name": key, **value} if isinstance(value, dict) else {"name": key, "url": value}
                for key, value in entries.items()
            ]
    elif isinstance(data, list):
        entries = data
    elif isinstance(data, dict):
        single = _descriptor(data, stem)
        described = any(k in data for k in (*_NAME_KEYS, "license", "licence", "description"))
        return [single] if single.urls or described else []
    elif data is None:
        return []
    else:
        raise FormatError(f"top level is a {type(data).__name__}, not a mapping or list")
    if not isinstance(entries, list):
        raise FormatError("`datasets` is not a list")
    out: list[DatasetDescriptor] = []
    for index, entry in enumerate(entries[:_MAX_DESCRIPTORS]):
        if isinstance(entry, dict):
            out.append(_descriptor(entry, f"{stem}[{index}]"))
        elif isinstance(entry, str) and _URL_LIKE.match(entry.strip()):
            out.append(DatasetDescriptor(f"{stem}[{index}]", (redact_url(entry.strip()),)))
    return out


# --- Registry entries. -------------------------------------------------------------------------

from unified_supply_chain.formats import FormatSpec, Kind, Sniff  # noqa: E402


def read_tsv(path: Path) -> HeaderInfo:
    """A tab-separated file: `read_csv` with a tab delimiter."""
    return read_csv(path, delimiter="\t")


def sniff_parquet(head: bytes, name: str) -> bool:
    """b'PAR1' at offset 0."""
    return head.startswith(b"PAR1")


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
        id="parquet",
        kind=Kind.DATASET,
        description="b'PAR1' at 0; or *.parquet",
        extensions=(".parquet",),
        sniffs=(Sniff(50, sniff_parquet),),
        reader=read_parquet,
    ),
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
    FormatSpec(
        id="csv",
        kind=Kind.DATASET,
        description="*.csv",
        extensions=(".csv",),
        reader=read_csv,
    ),
    FormatSpec(
        id="tsv",
        kind=Kind.DATASET,
        description="*.tsv",
        extensions=(".tsv",),
        reader=read_tsv,
    ),
    FormatSpec(
        id="jsonl",
        kind=Kind.DATASET,
        description="*.jsonl / *.ndjson",
        extensions=(".jsonl", ".ndjson"),
        reader=read_jsonl,
    ),
)
