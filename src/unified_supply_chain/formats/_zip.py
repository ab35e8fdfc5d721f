"""Bounded, read-only access to zip archives (torch, .keras, .npz), for readers and the scanner.

Nothing is ever extracted to disk and member names are only ever treated as strings. Members are
counted from the central directory before `zipfile` builds its index, and every read goes through
a running byte counter, so a zip bomb whose header lies about its size is still caught.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, BinaryIO

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError, LimitExceeded

# Errors the zipfile module and the decompressors it drives raise on hostile input.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    EOFError,
    ValueError,
    KeyError,
    IndexError,
    NotImplementedError,
    RuntimeError,
    struct.error,
    UnicodeDecodeError,
    zlib.error,
    OverflowError,
    MemoryError,
)

_EOCD_SIG = b"PK\x05\x06"
_EOCD64_LOCATOR_SIG = b"PK\x06\x07"
_EOCD64_SIG = b"PK\x06\x06"
_CD_SIG = b"PK\x01\x02"
_EOCD_SIZE = 22
_CD_HEADER_SIZE = 46
_READ_CHUNK = 64 * 1024


@dataclass(frozen=True)
class ZipMember:
    """One entry of an archive's central directory, as declared (not yet verified)."""

    name: str
    """Member name exactly as stored; never used as a path."""
    size: int
    """Declared uncompressed size in bytes."""
    compressed_size: int
    """Declared compressed size in bytes."""
    method: int
    """Compression method id (0 stored, 8 deflate, 12 bzip2, 14 lzma, others unsupported)."""
    encrypted: bool
    """True when the member is encrypted (it cannot be read)."""

    @property
    def ratio(self) -> float:
        """Declared compression ratio (uncompressed / compressed)."""
        return self.size / max(self.compressed_size, 1)

    @property
    def is_dir(self) -> bool:
        """True for a directory entry."""
        return self.name.endswith("/")


@dataclass(frozen=True)
class ZipListing:
    """The members of an archive, in central-directory order."""

    members: tuple[ZipMember, ...]
    """Every entry, directories included."""

    @property
    def names(self) -> tuple[str, ...]:
        """Member names in order."""
        return tuple(m.name for m in self.members)

    @property
    def total_size(self) -> int:
        """Sum of declared uncompressed sizes."""
        return sum(m.size for m in self.members)

    @property
    def total_compressed_size(self) -> int:
        """Sum of declared compressed sizes."""
        return sum(m.compressed_size for m in self.members)

    def get(self, name: str) -> ZipMember | None:
        """The last member called `name` (the one zipfile would read), or None."""
        found = None
        for member in self.members:
            if member.name == name:
                found = member
        return found


def _find_central_directory(fh: BinaryIO, file_size: int) -> tuple[int, int, int]:
    """Return (declared entry count, central directory start, central directory size)."""
    tail_len = min(file_size, _EOCD_SIZE + 0xFFFF)
    fh.seek(file_size - tail_len)
    tail = fh.read(tail_len)
    # The real record is the one whose comment length reaches exactly the end of the file
    # (an archive comment may itself contain the signature).
    pos = tail.rfind(_EOCD_SIG)
    while pos >= 0:
        if len(tail) - pos >= _EOCD_SIZE:
            (comment_len,) = struct.unpack("<H", tail[pos + 20 : pos + 22])
            if pos + _EOCD_SIZE + comment_len == len(tail):
                break
        pos = tail.rfind(_EOCD_SIG, 0, pos)
    if pos < 0 or len(tail) - pos < _EOCD_SIZE:
        raise FormatError("not a zip archive (no end of central directory record)")
    eocd_at = file_size - tail_len + pos
    (_, _, _, _, count, cd_size, cd_offset, _) = struct.unpack(
        "<4sHHHHIIH", tail[pos : pos + _EOCD_SIZE]
    )
    record_at = eocd_at
    if count == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
        loc = tail[pos - 20 : pos] if pos >= 20 else b""
        if len(loc) == 20 and loc[:4] == _EOCD64_LOCATOR_SIG:
            fh.seek(eocd_at - 20 - 56)
            rec = fh.read(56)
            if len(rec) != 56 or rec[:4] != _EOCD64_SIG:
                raise FormatError("corrupt zip64 end of central directory record")
            count, cd_size, cd_offset = struct.unpack("<QQQ", rec[32:56])
            record_at = eocd_at - 20 - 56
    # Measured from the record, like zipfile does, so archives with a prefix still open.
    cd_start = record_at - cd_size
    if cd_start < 0:
        raise FormatError("zip central directory lies outside the file (truncated archive?)")
    return count, cd_start, cd_size


def _count_members(source: Path | BinaryIO) -> None:
    """Refuse archives with too many members before zipfile indexes every one of them."""
    try:
        if isinstance(source, Path):
            with source.open("rb") as fh:
                cd = _central_directory(fh)
        else:
            cd = _central_directory(source)
    except OSError as exc:
        raise FormatError(f"cannot read zip: {exc.strerror or exc}") from exc
    # The declared count may lie; hop over the real headers and count them.
    _count_headers(cd)


def _central_directory(fh: BinaryIO) -> bytes:
    file_size = fh.seek(0, 2)
    count, cd_start, cd_size = _find_central_directory(fh, file_size)
    if count > limits.MAX_ZIP_MEMBERS:
        raise LimitExceeded(f"zip declares {count} members (limit {limits.MAX_ZIP_MEMBERS})")
    if cd_size > limits.MAX_ZIP_CENTRAL_DIRECTORY:
        raise LimitExceeded(
            f"zip central directory of {cd_size} bytes (limit {limits.MAX_ZIP_CENTRAL_DIRECTORY})"
        )
    fh.seek(cd_start)
    return fh.read(cd_size)


def _count_headers(cd: bytes) -> None:
    pos = 0
    seen = 0
    while pos + _CD_HEADER_SIZE <= len(cd) and cd[pos : pos + 4] == _CD_SIG:
        name_len, extra_len, comment_len = struct.unpack("<HHH", cd[pos + 28 : pos + 34])
        pos += _CD_HEADER_SIZE + name_len + extra_len + comment_len
        seen += 1
        if seen > limits.MAX_ZIP_MEMBERS:
            raise LimitExceeded(f"zip holds more than {limits.MAX_ZIP_MEMBERS} members")


class ZipReader:
    """An open archive: its listing plus bounded reads. Use as a context manager."""

    def __init__(self, path: Path | BinaryIO) -> None:
        """Open `path` (or a seekable file), counting members first; raises FormatError or
        LimitExceeded."""
        self.path = path
        _count_members(path)
        try:
            self._zf = zipfile.ZipFile(path, "r")
        except _ZIP_ERRORS as exc:
            raise FormatError(f"unreadable zip archive: {exc}") from exc
        try:
            infos = self._zf.infolist()
            if len(infos) > limits.MAX_ZIP_MEMBERS:
                raise LimitExceeded(f"zip holds more than {limits.MAX_ZIP_MEMBERS} members")
            self._infos = {info.filename: info for info in infos}
            self.listing = ZipListing(
                tuple(
                    ZipMember(
                        name=info.filename,
                        size=info.file_size,
                        compressed_size=info.compress_size,
                        method=info.compress_type,
                        encrypted=bool(info.flag_bits & 0x1),
                    )
                    for info in infos
                )
            )
        except BaseException:
            self._zf.close()
            raise

    def close(self) -> None:
        """Close the archive."""
        self._zf.close()

    def __enter__(self) -> ZipReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def open_member(self, name: str) -> IO[bytes]:
        """A stream of member `name` (seekable when the archive is), after the ratio check.

        zipfile stops at the declared size and checks the CRC there, so a header that lies
        cannot make the stream longer than declared; the caller bounds what it reads.
        """
        info = self._infos.get(name)
        if info is None:
            raise FormatError(f"zip member {name!r} not found")
        if info.flag_bits & 0x1:
            raise FormatError(f"zip member {name!r} is encrypted")
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > limits.MAX_ZIP_RATIO:
            raise LimitExceeded(
                f"zip member {name!r} compression ratio {ratio:.0f} (limit {limits.MAX_ZIP_RATIO})"
            )
        try:
            return self._zf.open(info, "r")
        except _ZIP_ERRORS as exc:
            raise FormatError(f"cannot read zip member {name!r}: {exc}") from exc

    def read(self, name: str, cap: int, *, prefix: bool = False) -> bytes:
        """Read member `name`, never producing more than `cap` bytes (capped further by limits).

        With `prefix=False` the whole member is wanted: a declared size or ratio over the limits,
        or more real bytes than `cap` (a header that lies), raise LimitExceeded, and the CRC is
        checked. With `prefix=True` the first `cap` bytes are returned (a header, a magic number).
        """
        info = self._infos.get(name)
        if info is None:
            raise FormatError(f"zip member {name!r} not found")
        if info.flag_bits & 0x1:
            raise FormatError(f"zip member {name!r} is encrypted")
        cap = max(0, min(cap, limits.MAX_ZIP_MEMBER_READ))
        if not prefix:
            if info.file_size > cap:
                raise LimitExceeded(
                    f"zip member {name!r} declares {info.file_size} bytes (limit {cap})"
                )
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.MAX_ZIP_RATIO:
                raise LimitExceeded(
                    f"zip member {name!r} compression ratio {ratio:.0f} "
                    f"(limit {limits.MAX_ZIP_RATIO})"
                )
        chunks: list[bytes] = []
        got = 0
        try:
            with self._zf.open(info, "r") as member:
                while got < cap + (0 if prefix else 1):
                    want = min(_READ_CHUNK, cap + 1 - got)
                    chunk = member.read(want)
                    if not chunk:
                        break
                    chunks.append(chunk)
                    got += len(chunk)
        except _ZIP_ERRORS as exc:
            raise FormatError(f"cannot read zip member {name!r}: {exc}") from exc
        data = b"".join(chunks)
        if len(data) > cap:
            if prefix:
                return data[:cap]
            raise LimitExceeded(f"zip member {name!r} inflates past {cap} bytes")
        return data


def open_zip(path: Path) -> ZipListing:
    """List an archive's members without reading any of them."""
    with ZipReader(path) as reader:
        return reader.listing


def read_member(path: Path, name: str, cap: int, *, prefix: bool = False) -> bytes:
    """Read at most `cap` bytes of one member (see `ZipReader.read`)."""
    with ZipReader(path) as reader:
        return reader.read(name, cap, prefix=prefix)


def iter_members(
    path: Path,
    names: Iterable[str] | None = None,
    cap: int = limits.MAX_ZIP_MEMBER_READ,
    *,
    prefix: bool = False,
) -> Iterator[tuple[ZipMember, bytes]]:
    """Yield (member, bytes) for `names` (default: every file member), opening the archive once.

    Each read is bounded as in `ZipReader.read`; the first refusal raises and ends the iteration.
    """
    with ZipReader(path) as reader:
        wanted = set(names) if names is not None else None
        for member in reader.listing.members:
            if member.is_dir or (wanted is not None and member.name not in wanted):
                continue
            yield member, reader.read(member.name, cap, prefix=prefix)


# --- Content sniffing of zip-based formats (the registry's zip rules). -------------------------

ZIP_LOCAL = b"PK\x03\x04"
ZIP_EMPTY = b"PK\x05\x06"


def is_zip(head: bytes) -> bool:
    """A zip archive starts with a local file header (or is an empty archive)."""
    return head.startswith((ZIP_LOCAL, ZIP_EMPTY))


def first_member(head: bytes) -> str | None:
    """Name of the first member of a zip from its local header, or None."""
    if not head.startswith(ZIP_LOCAL) or len(head) < 30:
        return None
    (name_len,) = struct.unpack_from("<H", head, 26)
    return head[30 : 30 + name_len].decode("utf-8", "replace")
