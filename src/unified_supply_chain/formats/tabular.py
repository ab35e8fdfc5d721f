"""Delimited text and JSON Lines datasets: columns from the first line, rows counted cheaply.

Every reader reads a bounded amount of the file and raises only FormatError (or LimitExceeded).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import BinaryIO

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError, LimitExceeded
from unified_supply_chain.formats._dataset_io import (
    CHUNK,
    column_names,
    count_newlines,
    open_binary,
    size_of,
)
from unified_supply_chain.records import HeaderInfo
from unified_supply_chain.safeparse import loads_json

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
    size = size_of(path)
    with open_binary(path) as fh:
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
                "column_names": column_names(h.strip() for h in header),
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
                    newlines, ends_with_newline = count_newlines(fh)
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
    size = size_of(path)
    with open_binary(path) as fh:
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
                props["column_names"] = column_names(str(k) for k in record)
            rows: int | None = None
            if size <= limits.MAX_ROWCOUNT_BYTES:
                fh.seek(0)
                rows = 0
                pending = False
                while block := fh.read(CHUNK):
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


# --- Registry entries. -------------------------------------------------------------------------

from unified_supply_chain.formats import FormatSpec, Kind  # noqa: E402


def read_tsv(path: Path) -> HeaderInfo:
    """A tab-separated file: `read_csv` with a tab delimiter."""
    return read_csv(path, delimiter="\t")


SPECS = (
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
