"""Parquet datasets: columns and rows from the file footer (Thrift compact protocol, read by hand).

The reader reads a bounded amount of the file and raises only FormatError (or LimitExceeded).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError, LimitExceeded
from unified_supply_chain.formats._dataset_io import column_names, open_binary, read_at, size_of
from unified_supply_chain.records import HeaderInfo

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
    size = size_of(path)
    if size < 12:
        raise FormatError("too small for parquet")
    with open_binary(path) as fh:
        try:
            head = read_at(fh, 0, 4)
            tail = read_at(fh, size - 8, 8)
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
            footer = read_at(fh, size - 8 - footer_len, footer_len)
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
    props = {"columns": str(len(leaves)), "column_names": column_names(leaves)}
    if version is not None:
        props["parquet_version"] = str(version)
    if created_by:
        props["created_by"] = created_by
    if row_groups is not None:
        props["row_groups"] = str(row_groups)
    if partial:
        props["footer_read"] = "partial"
    return HeaderInfo(format="parquet", properties=props, rows=num_rows, columns=len(leaves))


# --- Registry entries. -------------------------------------------------------------------------

from unified_supply_chain.formats import FormatSpec, Kind, Sniff  # noqa: E402


def sniff_parquet(head: bytes, name: str) -> bool:
    """b'PAR1' at offset 0."""
    return head.startswith(b"PAR1")


SPECS = (
    FormatSpec(
        id="parquet",
        kind=Kind.DATASET,
        description="b'PAR1' at 0; or *.parquet",
        extensions=(".parquet",),
        sniffs=(Sniff(50, sniff_parquet),),
        reader=read_parquet,
    ),
)
