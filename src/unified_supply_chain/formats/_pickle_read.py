"""Bounded reading of pickle opcodes and their arguments from a file or from bytes.

The opcode table is `pickletools`', but every argument is read here, so that long string/bytes
arguments (weight data) are stepped over by seeking (memory stays flat whatever the size of the
stream) and so that text arguments are decoded as CPython's unpickler decodes them
(`Lib/pickle.py`, `_Unpickler.load_int` etc.), not as `pickletools` does: `I0x1` is 1 there,
`I010` is an error, GLOBAL names are UTF-8 and a module name may hold a space.
"""

from __future__ import annotations

import codecs
import io
import pickletools
import struct
from dataclasses import dataclass
from typing import BinaryIO

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError

#: Bytes of a file held in memory at once during a walk.
_WINDOW = 1024 * 1024
#: Longest text line (protocol 0 argument) that is kept; longer lines are stepped over.
_MAX_LINE = limits.MAX_PICKLE_ARG_READ

OPS_BY_BYTE: list[pickletools.OpcodeInfo | None] = [None] * 256
for _op in pickletools.opcodes:
    OPS_BY_BYTE[ord(_op.code)] = _op

_LENGTH_PREFIX = {
    pickletools.TAKEN_FROM_ARGUMENT1: struct.Struct("<B"),
    pickletools.TAKEN_FROM_ARGUMENT4: struct.Struct("<i"),
    pickletools.TAKEN_FROM_ARGUMENT4U: struct.Struct("<I"),
    pickletools.TAKEN_FROM_ARGUMENT8U: struct.Struct("<Q"),
}
_FIXED = {
    "uint1": struct.Struct("<B"),
    "uint2": struct.Struct("<H"),
    "int4": struct.Struct("<i"),
    "uint4": struct.Struct("<I"),
    "uint8": struct.Struct("<Q"),
    "float8": struct.Struct(">d"),
}
_TEXT_ARGS = frozenset({"unicodestring1", "unicodestring4", "unicodestring8"})
_LATIN1_ARGS = frozenset({"string1", "string4"})
_LONG_ARGS = frozenset({"long1", "long4"})


class Opaque:
    """A value the machine does not follow (a skipped argument, bytes, an object)."""

    def __repr__(self) -> str:
        return "<opaque>"


OPAQUE = Opaque()


@dataclass(frozen=True)
class ByteRange:
    """A bytes argument that was stepped over: where its bytes lie in the stream."""

    offset: int
    """Offset of the first byte in the stream."""
    length: int
    """Number of bytes."""


_BYTES_OPS = frozenset({"BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8"})


class Truncated(FormatError):
    """The stream ended before the pickle did."""


class Source:
    """Bounded reads through a window over a seekable file, or over bytes already in memory.

    `size` is the stream's real length; in memory, `data` may hold only a prefix of it. Running
    out of bytes is `Truncated`; an argument longer than the whole stream is a malformed length
    when only a prefix is held (the real stream cannot contain it) and truncation otherwise.
    """

    __slots__ = ("available", "base", "buf", "fh", "pos", "size")

    def __init__(self, fh: BinaryIO | None, start: int, size: int, data: bytes = b"") -> None:
        self.fh = fh
        self.pos = start
        self.size = size
        self.available = size if fh is not None else len(data)
        self.buf = data
        self.base = 0

    def _fill(self, n: int) -> None:
        if n < 0 or self.pos + n > self.available or self.fh is None:
            raise Truncated(f"pickle truncated at byte {self.pos} (needs {n} more bytes)")
        self.fh.seek(self.pos)
        self.buf = self.fh.read(max(n, _WINDOW))
        self.base = self.pos
        if len(self.buf) < max(n, 1):
            raise Truncated(f"pickle truncated at byte {self.pos}")

    def byte(self) -> int:
        off = self.pos - self.base
        if 0 <= off < len(self.buf):
            self.pos += 1
            return self.buf[off]
        return self.read(1)[0]

    def read(self, n: int) -> bytes:
        off = self.pos - self.base
        if n < 0 or self.pos + n > self.available:
            raise Truncated(f"pickle truncated at byte {self.pos} (needs {n} more bytes)")
        if off < 0 or off + n > len(self.buf):
            self._fill(n)
            off = 0
        self.pos += n
        return self.buf[off : off + n]

    def skip(self, n: int) -> None:
        if n < 0 or self.pos + n > self.size:
            if self.size > self.available:
                raise FormatError(f"an argument at byte {self.pos} runs past the end of the data")
            raise Truncated(f"pickle truncated at byte {self.pos} (argument of {n} bytes)")
        self.pos += n

    def readline(self) -> bytes | None:
        """The next line with its newline, or None for a line over the cap (stepped over)."""
        start = self.pos
        while True:
            off = self.pos - self.base
            idx = self.buf.find(b"\n", off) if 0 <= off < len(self.buf) else -1
            if idx >= 0:
                self.pos = self.base + idx + 1
                if self.pos - start > _MAX_LINE:
                    return None
                return self.buf[start - self.base : idx + 1] if start >= self.base else None
            # No newline in the window: move on (the text is not kept once it is over the cap).
            self.pos = max(self.pos, self.base + len(self.buf))
            if self.pos >= self.available or self.fh is None:
                raise Truncated(f"pickle text argument at byte {start} runs past the end")
            if self.pos - start <= _MAX_LINE:
                # Still under the cap: reload from the line's start with room beyond the old end.
                old_end = self.pos
                self.fh.seek(start)
                self.buf = self.fh.read(old_end - start + _WINDOW)
                self.base = self.pos = start
                if start + len(self.buf) <= old_end:
                    raise Truncated(f"pickle text argument at byte {start} runs past the end")
                continue
            self._fill(0)
            # Over the cap: scan on for the end of line without keeping the text.
            while True:
                idx = self.buf.find(b"\n")
                if idx >= 0:
                    self.pos = self.base + idx + 1
                    return None
                self.pos = self.base + len(self.buf)
                if self.pos >= self.available:
                    raise Truncated(f"pickle text argument at byte {start} runs past the end")
                self._fill(0)


def _line(src: Source) -> bytes | None:
    """A text argument without its newline (None when over the cap)."""
    line = src.readline()
    return None if line is None else line[:-1]


def _int_literal(text: bytes, base: int) -> int:
    # int() of bytes, exactly as the unpickler calls it (whitespace and underscores allowed).
    return int(text, base)


def _text_arg(src: Source, name: str) -> object:
    """The argument of a protocol 0 opcode `name`, decoded as `pickle._Unpickler` does."""
    if name in ("GLOBAL", "INST"):
        module, attr = _line(src), _line(src)
        if module is None or attr is None:
            return OPAQUE
        return (module.decode("utf-8"), attr.decode("utf-8"))
    line = _line(src)
    if line is None:
        return OPAQUE
    if name == "INT":  # load_int: b"00"/b"01" are the booleans, then int(data, 0)
        if line == b"00":
            return False
        if line == b"01":
            return True
        return _int_literal(line + b"\n", 0)
    if name == "LONG":  # load_long: one trailing "L" is dropped, then int(val, 0)
        if line.endswith(b"L"):
            line = line[:-1]
        return _int_literal(line, 0)
    if name in ("GET", "PUT"):  # load_get / load_put: int(line) in base 10
        index = _int_literal(line, 10)
        if index < 0:
            raise FormatError(f"negative {name} argument")
        return index
    if name == "FLOAT":
        return float(line)
    if name == "STRING":  # load_string: quoted, then codecs.escape_decode
        if len(line) >= 2 and line[0] == line[-1] and line[:1] in (b'"', b"'"):
            return codecs.escape_decode(line[1:-1])[0].decode("latin-1")
        raise FormatError("the STRING opcode argument must be quoted")
    if name == "UNICODE":
        return str(line, "raw-unicode-escape")
    if name == "PERSID":
        return line.decode("ascii")
    raise FormatError(f"opcode {name} has no text argument")  # pragma: no cover


def read_arg(src: Source, op: pickletools.OpcodeInfo) -> object:
    """The argument of `op` (OPAQUE for what is longer than the read cap, ByteRange for bytes).

    GLOBAL and INST give a (module, name) pair.
    """
    arg = op.arg
    if arg is None:
        return None
    n = arg.n
    try:
        if n >= 0:
            fixed = _FIXED.get(arg.name)
            if fixed is not None:
                return fixed.unpack(src.read(n))[0]
            return arg.reader(io.BytesIO(src.read(n)))
        if n == pickletools.UP_TO_NEWLINE:
            return _text_arg(src, op.name)
        prefix = _LENGTH_PREFIX[n]
        (length,) = prefix.unpack(src.read(prefix.size))
        if length < 0:
            raise FormatError(f"negative argument length at byte {src.pos - prefix.size}")
        name = arg.name
        if op.name in _BYTES_OPS:
            found = ByteRange(src.pos, length)
            src.skip(length)  # bytes (weight data) are never needed, only located
            return found
        if length > limits.MAX_PICKLE_ARG_READ or not (
            name in _TEXT_ARGS or name in _LATIN1_ARGS or name in _LONG_ARGS
        ):
            src.skip(length)
            return OPAQUE
        data = src.read(length)
        if name in _TEXT_ARGS:
            return data.decode("utf-8", "surrogatepass")
        if name in _LATIN1_ARGS:
            return data.decode("latin-1")
        return int.from_bytes(data, "little", signed=True)
    except (ValueError, TypeError, UnicodeDecodeError, struct.error, OverflowError) as exc:
        raise FormatError(f"bad {op.name} argument: {exc}") from exc
