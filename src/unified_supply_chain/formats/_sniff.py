"""What a file's first bytes hold, before any walk: a pickle, or a compressed joblib stream.

One sniff layer for discover.classify, the pickle reader and the safety scan: `is_pickle_start`
(classify's protocol 2-5 test), `looks_like_pickle` (strict, for listing archive members) and
`could_hold_pickle` (wide, for the safety scan) share one walk; one bounded decoder serves the
reader (which walks the first bytes) and the scan (which refuses a stream that inflates past
its cap). Standard-library codecs only: lz4 is named, not read.
"""

from __future__ import annotations

import bz2
import importlib
import lzma
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError
from unified_supply_chain.formats._pickle import walk, walk_bytes
from unified_supply_chain.formats._pickle_read import OPS_BY_BYTE

_COMPRESSION_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    # joblib's own test (joblib/compressor.py, _LZMA_PREFIX): b"]\x00", not a longer header.
    (b"]\x00", "lzma"),
    (b'\x04"M\x18', "lz4"),
    (b"ZF", "zlib-legacy"),
)
#: joblib < 0.9.3 "ZF" files: b"ZF", the length as hex_str(n) = "0x..." left-justified to
#: len(hex_str(2**64)) = 19 characters, maybe one space (joblib <= 0.8.4), then zlib data
#: (joblib/numpy_pickle_compat.py, read_zfile: header_length = len(_ZFILE_PREFIX) + _MAX_LEN).
ZFILE_HEADER = 2 + len(f"{2**64:#x}")
_CHUNK = 64 * 1024
#: Bytes that are a pickle opcode (the third byte of a protocol 2-5 stream, after PROTO n).
_OPCODE_BYTES = frozenset(code for code, op in enumerate(OPS_BY_BYTE) if op is not None)


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
    if kind == "lz4":
        try:  # optional, as in joblib; without it the stream stays unverified (never clean)
            frame = importlib.import_module("lz4.frame")
        except ImportError:
            return None
        return frame.LZ4FrameDecompressor()
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
            if not isinstance(decoder, type(zlib.decompressobj())):  # bz2, lzma, lz4 frames
                chunk = fh.read(_CHUNK) if decoder.needs_input else b""
                if not chunk and decoder.needs_input:
                    break
                out += decoder.decompress(chunk, max_length=limit - len(out))
            else:
                chunk = decoder.unconsumed_tail or fh.read(_CHUNK)
                if not chunk:
                    break
                out += decoder.decompress(chunk, limit - len(out))
    except (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError, RuntimeError) as exc:
        # lz4.frame raises RuntimeError on a corrupt frame.
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


# --- Pickle sniffing. -------------------------------------------------------------------------


def is_pickle_start(head: bytes) -> bool:
    """True when bytes open a protocol 2-5 pickle: PROTO 2..5, then a pickle opcode.

    The content sniff of discover.classify, in one place.
    """
    return len(head) >= 3 and head[0] == 0x80 and 2 <= head[1] <= 5 and head[2] in _OPCODE_BYTES


def is_pickle_head(head: bytes) -> bool:
    """True when bytes start with a PROTO opcode of protocol 2 to 5."""
    return len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5


#: Opcodes that can open a protocol 0/1 pickle (no PROTO header to recognise it by).
TEXT_PICKLE_STARTS = frozenset(
    bytes([code])
    for code, op in enumerate(OPS_BY_BYTE)
    if op is not None and op.proto < 2 and op.name not in ("STOP", "POP")
)
#: Bytes of a member walked to decide whether a header-less stream is a protocol 0/1 pickle.
TEXT_PICKLE_PROBE = 64 * 1024


def looks_like_pickle(head: bytes) -> bool:
    """True for a protocol 2-5 pickle head, or bytes that walk cleanly to STOP as protocol 0/1.

    `head` should hold up to TEXT_PICKLE_PROBE bytes; pickles hide under any member name.
    """
    if is_pickle_head(head):
        return True
    if head[:1] not in TEXT_PICKLE_STARTS:
        return False
    found = walk_bytes(head)
    if found.complete:
        return True
    # A long text pickle cut off by the probe: many clean opcodes, then the bytes ran out.
    return found.truncated and found.opcodes >= 100 and len(head) >= TEXT_PICKLE_PROBE


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def could_hold_pickle(prefix: bytes, total_size: int) -> bool:
    """True when bytes of unknown content are (the start of) a pickle, for the safety scan.

    Wider than `looks_like_pickle`: protocol 0/1 pickles have no header and raw data may start
    with a PROTO-like byte pair, so the prefix is walked (lengths checked against the real size):
    a complete pickle, an importable-looking global, or clean opcodes up to the end of the
    prefix make it one.
    """
    if not prefix or OPS_BY_BYTE[prefix[0]] is None:
        return False
    found = walk(None, total_size, data=prefix, max_streams=None)
    if found.streams:
        return True
    if any(_IDENT.match(ref.module) and _IDENT.match(ref.name) for ref in found.references):
        return True
    # Cut by the end of the prefix: two clean opcodes, or one whose argument (checked against
    # the real size) runs past the prefix (a pickle opening with a long bytes argument).
    return (
        found.truncated
        and len(prefix) < total_size
        and (found.opcodes >= 2 or found.end > len(prefix))
    )
