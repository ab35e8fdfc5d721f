"""Compressed joblib files: which compressor wrote one, and its first bytes decompressed (bounded).

One decoder for the reader (which walks the first bytes) and the safety scan (which refuses a
stream that inflates past its cap); the standard library's codecs only (lz4 is named, not read).
"""

from __future__ import annotations

import bz2
import lzma
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError

_COMPRESSION_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"]\x00\x00", "lzma"),
    (b'\x04"M\x18', "lz4"),
    (b"ZF", "zlib-legacy"),
)
#: joblib < 0.9.3 "ZF" files: b"ZF", the length as hex_str(n) = "0x..." left-justified to
#: len(hex_str(2**64)) = 19 characters, maybe one space (joblib <= 0.8.4), then zlib data
#: (joblib/numpy_pickle_compat.py, read_zfile: header_length = len(_ZFILE_PREFIX) + _MAX_LEN).
ZFILE_HEADER = 2 + len(f"{2**64:#x}")
_CHUNK = 64 * 1024


def compression_of(head: bytes) -> str | None:
    """Compression named by a file's first bytes (joblib's compressors), or None."""
    for magic, name in _COMPRESSION_MAGIC:
        if head.startswith(magic):
            return name
    if len(head) >= 2 and head[0] == 0x78 and ((head[0] << 8) | head[1]) % 31 == 0:
        return "zlib"
    return None


@dataclass(frozen=True)
class Decompressed:
    """The first bytes of a compressed stream."""

    data: bytes
    """Up to `cap` decompressed bytes."""
    more: bool
    """True when the stream holds more than `cap` bytes (the output was cut there)."""
    ended: bool
    """True when the compressed stream reached its end marker."""


def _decoder(kind: str) -> Any:
    if kind in ("zlib", "gzip"):
        return zlib.decompressobj(zlib.MAX_WBITS | (16 if kind == "gzip" else 0))
    if kind == "bz2":
        return bz2.BZ2Decompressor()
    if kind in ("xz", "lzma"):
        return lzma.LZMADecompressor()
    return None


def decompress_prefix(fh: BinaryIO, kind: str, cap: int) -> Decompressed | None:
    """The first `cap` decompressed bytes of the `kind` stream in `fh` (read from its start).

    None for codecs the standard library lacks (lz4). Raises FormatError for corrupt data; a
    stream that simply stops is not an error here (`ended` is False).
    """
    fh.seek(0)
    if kind == "zlib-legacy":
        fh.seek(ZFILE_HEADER)
        if fh.read(1) != b" ":  # a zlib stream never starts with a space (RFC 6713)
            fh.seek(ZFILE_HEADER)
        kind = "zlib"
    decoder = _decoder(kind)
    if decoder is None:
        return None
    limit = cap + 1  # one byte more than the cap tells "exactly cap" from "more"
    out = bytearray()
    try:
        while len(out) < limit and not decoder.eof:
            if isinstance(decoder, (bz2.BZ2Decompressor, lzma.LZMADecompressor)):
                chunk = fh.read(_CHUNK) if decoder.needs_input else b""
                if not chunk and decoder.needs_input:
                    break
                out += decoder.decompress(chunk, max_length=limit - len(out))
            else:
                chunk = decoder.unconsumed_tail or fh.read(_CHUNK)
                if not chunk:
                    break
                out += decoder.decompress(chunk, limit - len(out))
    except (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError) as exc:
        raise FormatError(f"corrupt {kind} stream: {exc}") from exc
    return Decompressed(data=bytes(out[:cap]), more=len(out) > cap, ended=bool(decoder.eof))


def decompressed_pickle(path: Path, cap: int = limits.MAX_PICKLE_DECOMPRESS) -> bytes | None:
    """The first `cap` bytes of a compressed joblib file's pickle stream.

    None when the file is not compressed or uses a codec the standard library lacks (lz4).
    Raises FormatError for a corrupt or truncated stream; never produces more than `cap` bytes.
    """
    try:
        with path.open("rb") as fh:
            kind = compression_of(fh.read(16))
            found = None if kind is None else decompress_prefix(fh, kind, cap)
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}") from exc
    if found is None:
        return None
    if not found.more and not found.ended:
        raise FormatError(f"{kind} stream is truncated")
    return found.data
