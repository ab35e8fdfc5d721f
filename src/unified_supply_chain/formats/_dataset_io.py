"""File access and column-name bounds shared by the dataset readers (tabular, parquet, arrow)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from unified_supply_chain.errors import FormatError

#: Column names kept in the `column_names` property, and the bounds on its text.
_MAX_NAMES = 50
_MAX_NAME_CHARS = 100
_MAX_NAMES_TEXT = 2000
CHUNK = 1024 * 1024


def column_names(names: Iterable[str]) -> str:
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


def size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise FormatError(f"cannot stat: {exc.strerror or exc}") from exc


def open_binary(path: Path) -> BinaryIO:
    try:
        return path.open("rb")
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}") from exc


def read_at(fh: BinaryIO, offset: int, length: int) -> bytes:
    fh.seek(offset)
    data = fh.read(length)
    if len(data) != length:
        raise FormatError(f"truncated: wanted {length} bytes at offset {offset}")
    return data


def count_newlines(fh: BinaryIO) -> tuple[int, bool]:
    """Number of b"\\n" in the rest of the file, and whether the last byte was one."""
    count = 0
    last = b"\n"
    while chunk := fh.read(CHUNK):
        count += chunk.count(b"\n")
        last = chunk[-1:]
    return count, last == b"\n"
