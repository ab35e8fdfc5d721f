"""Raw pickle and joblib files: protocol, opcodes and named globals, without ever unpickling.

The walk reads opcodes with `pickletools`' own opcode table and argument decoders, but reads
each argument itself so that long string/bytes arguments (weight data) are skipped by seeking
and memory stays flat. A small stack model (ints, strings, tuples, globals, memo) lets callers
see the shapes given to torch's tensor rebuild functions; everything else is an opaque value.
Nothing is executed: no object is ever constructed from the stream.
"""

from __future__ import annotations

import bz2
import io
import lzma
import pickletools
import struct
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError
from unified_supply_chain.formats._zip import ZipReader
from unified_supply_chain.records import HeaderInfo

#: Magic number that opens a legacy (pre-zip) torch.save file, pickled as the first object.
TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
#: Calls that rebuild a tensor from (storage, offset, size, stride, ...) in torch pickles.
TENSOR_REBUILDERS = frozenset(
    {
        "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_qtensor",
    }
)
#: Storage classes named in torch persistent ids, mapped to dtype names.
STORAGE_DTYPES = {
    "FloatStorage": "float32",
    "DoubleStorage": "float64",
    "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16",
    "LongStorage": "int64",
    "IntStorage": "int32",
    "ShortStorage": "int16",
    "CharStorage": "int8",
    "ByteStorage": "uint8",
    "BoolStorage": "bool",
    "ComplexFloatStorage": "complex64",
    "ComplexDoubleStorage": "complex128",
    "QInt8Storage": "qint8",
    "QUInt8Storage": "quint8",
    "QInt32Storage": "qint32",
}
#: Globals that are serialization plumbing, never the model's own class.
_PLUMBING_PREFIXES = (
    "builtins.",
    "__builtin__.",
    "copyreg.",
    "copy_reg.",
    "collections.",
    "_codecs.",
    "numpy.",
    "joblib.",
    "torch._utils.",
    "torch.serialization.",
    "_operator.",
    "operator.",
    "functools.",
    "datetime.",
    "decimal.",
    "pathlib.",
)
#: Plumbing class names in any module (torch storages and tensor metadata).
_PLUMBING_NAMES = frozenset({"Size", "device", "dtype", "OrderedDict", "Parameter", "Tensor"})
#: Most globals listed in properties["pickle.globals"].
TOP_GLOBALS = 20
#: Longest text line (protocol 0 arguments) we accept.
_MAX_LINE = 64 * 1024
#: Bytes of a file held in memory at once during a walk.
_WINDOW = 1024 * 1024

_OPS = {op.code.encode("latin-1"): op for op in pickletools.opcodes}
_OPS_BY_BYTE: list[pickletools.OpcodeInfo | None] = [_OPS.get(bytes([i])) for i in range(256)]
_LENGTH_PREFIX = {
    pickletools.TAKEN_FROM_ARGUMENT1: ("<B", 1),
    pickletools.TAKEN_FROM_ARGUMENT4: ("<i", 4),
    pickletools.TAKEN_FROM_ARGUMENT4U: ("<I", 4),
    pickletools.TAKEN_FROM_ARGUMENT8U: ("<Q", 8),
}
_VALUE_OPS = frozenset(
    {
        "INT",
        "BININT",
        "BININT1",
        "BININT2",
        "LONG",
        "LONG1",
        "LONG4",
        "STRING",
        "BINSTRING",
        "SHORT_BINSTRING",
        "UNICODE",
        "SHORT_BINUNICODE",
        "BINUNICODE",
        "BINUNICODE8",
        "FLOAT",
        "BINFLOAT",
    }
)
_COMPRESSION_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"]\x00\x00", "lzma"),
    (b'\x04"M\x18', "lz4"),
    (b"ZF", "zlib-legacy"),
)


class _Opaque:
    """A value the stack model does not follow."""


_OPAQUE = _Opaque()
_MARK = object()


@dataclass(frozen=True)
class _Global:
    name: str


@dataclass(frozen=True)
class _Storage:
    dtype: str | None


@dataclass(frozen=True)
class PickleWalk:
    """What an opcode walk over one pickle stream found."""

    protocol: int
    """PROTO argument, or the highest protocol of the opcodes seen when there is none."""
    opcodes: int
    """Opcodes walked."""
    globals: tuple[tuple[str, int], ...]
    """Referenced globals ("module.name", uses) in order of first appearance."""
    complete: bool
    """True when the STOP opcode was reached."""
    end: int
    """Offset just after the last opcode walked (after STOP when complete)."""
    value: object
    """The pickled top-level value when it is a plain int/str/bool/None, else None."""
    tensor_shapes: tuple[tuple[int, ...] | None, ...] = ()
    """Shape passed to each torch tensor rebuild call (None when not a literal tuple of ints)."""
    dtypes: tuple[str, ...] = ()
    """Tensor dtypes named by torch storage persistent ids, in order of first appearance."""
    storages: int = 0
    """Persistent-id storage references seen (torch)."""
    error: str | None = None
    """Why the walk stopped early (lenient walks only)."""
    truncated: bool = False
    """True when the walk stopped because the bytes ran out (not because of a bad opcode)."""


class _Truncated(FormatError):
    """The stream ended before the pickle did."""


class _Source:
    """Bounded reads through a window over a seekable stream (or over bytes already in memory)."""

    __slots__ = ("base", "buf", "fh", "pos", "size")

    def __init__(self, fh: BinaryIO | None, start: int, size: int, data: bytes = b"") -> None:
        self.fh = fh
        self.pos = start
        self.size = size
        self.buf = data
        self.base = 0

    def _fill(self, n: int) -> None:
        if n < 0 or self.pos + n > self.size or self.fh is None:
            raise _Truncated(f"pickle truncated at byte {self.pos} (needs {n} more bytes)")
        self.fh.seek(self.pos)
        self.buf = self.fh.read(max(n, _WINDOW))
        self.base = self.pos
        if len(self.buf) < max(n, 1):
            raise _Truncated(f"pickle truncated at byte {self.pos}")

    def read(self, n: int) -> bytes:
        off = self.pos - self.base
        if n < 0 or self.pos + n > self.size:
            raise _Truncated(f"pickle truncated at byte {self.pos} (needs {n} more bytes)")
        if off + n > len(self.buf):
            self._fill(n)
            off = 0
        self.pos += n
        return self.buf[off : off + n]

    def skip(self, n: int) -> None:
        if n < 0 or self.pos + n > self.size:
            raise _Truncated(f"pickle truncated at byte {self.pos} (argument of {n} bytes)")
        self.pos += n

    def readline(self) -> bytes | None:
        """The next line with its newline, or None for a line over _MAX_LINE (stepped over)."""
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
            self.pos = self.base + len(self.buf)
            if self.pos >= self.size or self.fh is None:
                raise _Truncated(f"pickle text argument at byte {start} runs past the end")
            if self.pos - start <= _MAX_LINE:
                # Still under the cap: reload from the line's start with room beyond the old end.
                assert self.fh is not None
                old_end = self.pos
                self.fh.seek(start)
                self.buf = self.fh.read(old_end - start + _WINDOW)
                self.base = self.pos = start
                if start + len(self.buf) <= old_end:
                    raise _Truncated(f"pickle text argument at byte {start} runs past the end")
                continue
            self._fill(0)
            # Over the cap: scan on for the end of line without keeping the text.
            while True:
                idx = self.buf.find(b"\n")
                if idx >= 0:
                    self.pos = self.base + idx + 1
                    return None
                self.pos = self.base + len(self.buf)
                if self.pos >= self.size:
                    raise _Truncated(f"pickle text argument at byte {start} runs past the end")
                self._fill(0)


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


def _read_arg(src: _Source, op: pickletools.OpcodeInfo) -> object:
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
            count = 2 if arg.name == "stringnl_noescape_pair" else 1
            lines = [src.readline() for _ in range(count)]
            if any(line is None for line in lines):
                return _OPAQUE
            return arg.reader(io.BytesIO(b"".join(line for line in lines if line is not None)))
        fmt, width = _LENGTH_PREFIX[n]
        (length,) = struct.unpack(fmt, src.read(width))
        if length < 0:
            raise FormatError(f"negative argument length at byte {src.pos - width}")
        name = arg.name
        if length > limits.MAX_PICKLE_ARG_READ or not (
            name in _TEXT_ARGS or name in _LATIN1_ARGS or name in _LONG_ARGS
        ):
            src.skip(length)  # bytes (weight data) are never needed, only stepped over
            return _OPAQUE
        data = src.read(length)
        if name in _TEXT_ARGS:
            return data.decode("utf-8", "surrogatepass")
        if name in _LATIN1_ARGS:
            return data.decode("latin-1")
        return int.from_bytes(data, "little", signed=True)
    except (ValueError, TypeError, UnicodeDecodeError, struct.error, OverflowError) as exc:
        raise FormatError(f"bad {op.name} argument: {exc}") from exc


class _Model:
    """Just enough of the unpickler's stack to read literal tuples handed to known calls."""

    def __init__(self) -> None:
        self.stack: list[object] = []
        self.memo: dict[int, object] = {}
        self.broken = False
        self.shapes: list[tuple[int, ...] | None] = []
        self.dtypes: dict[str, None] = {}
        self.storages = 0

    def pop(self) -> object:
        if not self.stack:
            raise IndexError("stack underflow")
        return self.stack.pop()

    def pop_mark(self) -> list[object]:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i] is _MARK:
                items = self.stack[i + 1 :]
                del self.stack[i:]
                return items
        raise IndexError("no mark")

    def step(self, op: pickletools.OpcodeInfo, arg: object) -> str | None:
        """Apply one opcode; return the global it names, if any."""
        handler = _HANDLERS.get(op.name)
        if handler is None:
            self._generic(op)
            return None
        return handler(self, arg)

    def _value(self, arg: object) -> None:
        self.stack.append(arg if isinstance(arg, (int, str, float)) else _OPAQUE)

    def _push_none(self, arg: object) -> None:
        self.stack.append(None)

    def _push_true(self, arg: object) -> None:
        self.stack.append(True)

    def _push_false(self, arg: object) -> None:
        self.stack.append(False)

    def _mark(self, arg: object) -> None:
        self.stack.append(_MARK)

    def _empty_tuple(self, arg: object) -> None:
        self.stack.append(())

    def _tuple_n(self, count: int) -> None:
        if len(self.stack) < count:
            raise IndexError("stack underflow")
        items = tuple(self.stack[-count:])
        del self.stack[-count:]
        if _MARK in items:
            raise IndexError("mark inside a tuple")
        self.stack.append(items)

    def _tuple1(self, arg: object) -> None:
        self._tuple_n(1)

    def _tuple2(self, arg: object) -> None:
        self._tuple_n(2)

    def _tuple3(self, arg: object) -> None:
        self._tuple_n(3)

    def _tuple(self, arg: object) -> None:
        self.stack.append(tuple(self.pop_mark()))

    def _global(self, arg: object) -> str:
        named = arg.replace(" ", ".", 1) if isinstance(arg, str) else "?"
        self.stack.append(_Global(named))
        return named

    def _stack_global(self, arg: object) -> str:
        attr, module = self.pop(), self.pop()
        named = f"{module}.{attr}" if isinstance(module, str) and isinstance(attr, str) else "?"
        self.stack.append(_Global(named))
        return named

    def _inst(self, arg: object) -> str:
        self.pop_mark()
        self.stack.append(_OPAQUE)
        return arg.replace(" ", ".", 1) if isinstance(arg, str) else "?"

    def _put(self, arg: object) -> None:
        if not self.stack or not isinstance(arg, int):
            raise IndexError("bad memo put")
        self.memo[arg] = self.stack[-1]

    def _memoize(self, arg: object) -> None:
        if not self.stack:
            raise IndexError("memo put on empty stack")
        self.memo[len(self.memo)] = self.stack[-1]

    def _get(self, arg: object) -> None:
        self.stack.append(self.memo.get(arg, _OPAQUE) if isinstance(arg, int) else _OPAQUE)

    def _dup(self, arg: object) -> None:
        if not self.stack:
            raise IndexError("dup on empty stack")
        self.stack.append(self.stack[-1])

    def _binpersid(self, arg: object) -> None:
        self.stack.append(self._storage(self.pop()))

    def _reduce(self, arg: object) -> None:
        args, func = self.pop(), self.pop()
        if isinstance(func, _Global) and func.name in TENSOR_REBUILDERS:
            self.shapes.append(_shape(args))
        self.stack.append(_OPAQUE)

    def _storage(self, pid: object) -> _Storage:
        if not (isinstance(pid, tuple) and len(pid) >= 2 and pid[0] == "storage"):
            return _Storage(None)
        self.storages += 1
        dtype = None
        if isinstance(pid[1], _Global):
            dtype = STORAGE_DTYPES.get(pid[1].name.rsplit(".", 1)[-1])
            if dtype is not None:
                self.dtypes[dtype] = None
        return _Storage(dtype)

    def _generic(self, op: pickletools.OpcodeInfo) -> None:
        before = op.stack_before
        if pickletools.markobject in before:
            self.pop_mark()
            for _ in range(before.index(pickletools.markobject)):
                self.pop()
        else:
            for _ in before:
                self.pop()
        self.stack.extend(_OPAQUE for _ in op.stack_after)


_HANDLERS: dict[str, Callable[[_Model, object], str | None]] = {
    **{name: _Model._value for name in _VALUE_OPS},
    "NONE": _Model._push_none,
    "NEWTRUE": _Model._push_true,
    "NEWFALSE": _Model._push_false,
    "MARK": _Model._mark,
    "EMPTY_TUPLE": _Model._empty_tuple,
    "TUPLE1": _Model._tuple1,
    "TUPLE2": _Model._tuple2,
    "TUPLE3": _Model._tuple3,
    "TUPLE": _Model._tuple,
    "GLOBAL": _Model._global,
    "STACK_GLOBAL": _Model._stack_global,
    "INST": _Model._inst,
    "PUT": _Model._put,
    "BINPUT": _Model._put,
    "LONG_BINPUT": _Model._put,
    "MEMOIZE": _Model._memoize,
    "GET": _Model._get,
    "BINGET": _Model._get,
    "LONG_BINGET": _Model._get,
    "DUP": _Model._dup,
    "BINPERSID": _Model._binpersid,
    "REDUCE": _Model._reduce,
}


def _shape(args: object) -> tuple[int, ...] | None:
    if not (isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], tuple)):
        return None
    size = args[2]
    # A dimension past 2**48 is no real tensor: treat the shape as unknown rather than trust it.
    if all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d < 2**48 for d in size):
        return tuple(int(d) for d in size)
    return None


def _name_when_broken(name: str, arg: object, model: _Model, recent: list[str]) -> str | None:
    """Globals named once the stack model has given up: the last two strings pushed
    (through the memo too) stand for STACK_GLOBAL's module and name, as scanners assume."""
    if name in ("GLOBAL", "INST"):
        return arg.replace(" ", ".", 1) if isinstance(arg, str) else "?"
    if name in _VALUE_OPS and isinstance(arg, str):
        recent.append(arg)
    elif name in ("BINGET", "GET", "LONG_BINGET") and isinstance(arg, int):
        memo_value = model.memo.get(arg)
        if isinstance(memo_value, str):
            recent.append(memo_value)
    elif name == "MEMOIZE" and recent:
        model.memo[len(model.memo)] = recent[-1]
    elif name == "STACK_GLOBAL":
        return f"{recent[-2]}.{recent[-1]}" if len(recent) >= 2 else "?"
    del recent[:-2]
    return None


def walk_pickle(
    fh: BinaryIO | None,
    size: int,
    start: int = 0,
    *,
    lenient: bool = False,
    max_opcodes: int = limits.MAX_PICKLE_OPCODES,
    data: bytes | None = None,
) -> PickleWalk:
    """Walk the opcodes of the pickle that starts at `start` in `fh` (`size` bytes long).

    With `data`, the stream is those bytes and `fh` is not used.
    Raises FormatError for a bad opcode, a truncated stream or a bad argument, unless `lenient`,
    in which case the walk stops there and `error` says why. Stopping at `max_opcodes` is not an
    error: `complete` is then False.
    """
    src = _Source(fh, start, size) if data is None else _Source(None, start, size, data)
    model = _Model()
    seen: Counter[str] = Counter()
    protocol: int | None = None
    highest = 0
    count = 0
    complete = False
    error: str | None = None
    truncated = False
    value: object = None
    recent: list[str] = []
    try:
        while count < max_opcodes:
            if src.pos >= size:
                raise _Truncated(f"pickle ends at byte {src.pos} without STOP")
            off = src.pos - src.base
            if off < len(src.buf):
                code = src.buf[off]
                src.pos += 1
            else:
                code = src.read(1)[0]
            op = _OPS_BY_BYTE[code]
            if op is None:
                raise FormatError(f"unknown pickle opcode {code:#04x} at byte {src.pos - 1}")
            arg = _read_arg(src, op)
            count += 1
            if op.proto > highest:
                highest = op.proto
            if op.name == "PROTO" and protocol is None and isinstance(arg, int):
                protocol = arg
            if op.name == "STOP":
                complete = True
                if not model.broken and len(model.stack) == 1:
                    top = model.stack[0]
                    if top is None or isinstance(top, (int, str)):
                        value = top
                break
            named = None
            if not model.broken:
                try:
                    named = model.step(op, arg)
                except (IndexError, ValueError, TypeError):
                    # A stream the real unpickler would reject; keep walking for globals only.
                    model.broken = True
            if model.broken:
                named = _name_when_broken(op.name, arg, model, recent)
            elif isinstance(arg, str) and op.name in _VALUE_OPS:
                recent.append(arg)
                del recent[:-2]
            if named is not None:
                seen[named] += 1
    except FormatError as exc:
        if not lenient:
            raise
        error = str(exc)
        truncated = isinstance(exc, _Truncated)
    except (OSError, MemoryError, RecursionError) as exc:
        if not lenient:
            raise FormatError(f"cannot walk pickle: {exc}") from exc
        error = str(exc)
    return PickleWalk(
        protocol=protocol if protocol is not None else highest,
        opcodes=count,
        globals=tuple(seen.items()),
        complete=complete,
        end=src.pos,
        value=value,
        tensor_shapes=tuple(model.shapes),
        dtypes=tuple(model.dtypes),
        storages=model.storages,
        error=error,
        truncated=truncated,
    )


def walk_pickle_bytes(data: bytes, *, lenient: bool = False) -> PickleWalk:
    """`walk_pickle` over an in-memory stream (a zip member)."""
    return walk_pickle(None, len(data), lenient=lenient, data=data)


def is_pickle_head(head: bytes) -> bool:
    """True when bytes start like a protocol 2-5 pickle (PROTO opcode then a valid protocol)."""
    return len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5


#: Opcodes that can open a protocol 0/1 pickle (no PROTO header to recognise it by).
_TEXT_PICKLE_STARTS = frozenset(
    code for code, op in _OPS.items() if op.proto < 2 and op.name not in ("STOP", "POP")
)
#: Bytes of a member walked to decide whether a header-less stream is a protocol 0/1 pickle.
TEXT_PICKLE_PROBE = 64 * 1024


def looks_like_pickle(head: bytes) -> bool:
    """True for a protocol 2-5 pickle head, or bytes that walk cleanly to STOP as protocol 0/1.

    `head` should hold up to TEXT_PICKLE_PROBE bytes; pickles hide under any member name.
    """
    if is_pickle_head(head):
        return True
    if head[:1] not in _TEXT_PICKLE_STARTS:
        return False
    walk = walk_pickle_bytes(head, lenient=True)
    if walk.complete:
        return True
    # A long text pickle cut off by the probe: many clean opcodes, then the bytes ran out.
    return walk.truncated and walk.opcodes >= 100 and len(head) >= TEXT_PICKLE_PROBE


def zip_pickle_members(reader: ZipReader) -> list[str]:
    """Members of an open archive that hold a pickle, by name (*.pkl) or by content."""
    found: list[str] = []
    for member in reader.listing.members:
        if member.is_dir:
            continue
        if member.name.endswith((".pkl", ".pickle")):
            found.append(member.name)
            continue
        head = reader.read(member.name, 2, prefix=True)
        if is_pickle_head(head) or (
            head[:1] in _TEXT_PICKLE_STARTS
            and looks_like_pickle(reader.read(member.name, TEXT_PICKLE_PROBE, prefix=True))
        ):
            found.append(member.name)
    return found


def architecture_from_globals(names: list[str] | tuple[str, ...]) -> str | None:
    """First class-like global that is not serialization plumbing (the outermost object's class)."""
    for name in names:
        if name.startswith(_PLUMBING_PREFIXES) or "." not in name:
            continue
        last = name.rsplit(".", 1)[-1]
        if last in _PLUMBING_NAMES or last.endswith("Storage"):
            continue
        if last[:1].isupper():
            return last
    return None


def compression_of(head: bytes) -> str | None:
    """Compression named by a file's first bytes (joblib's compressors), or None."""
    for magic, name in _COMPRESSION_MAGIC:
        if head.startswith(magic):
            return name
    if len(head) >= 2 and head[0] == 0x78 and ((head[0] << 8) | head[1]) % 31 == 0:
        return "zlib"
    return None


def _decompress_prefix(fh: BinaryIO, kind: str, cap: int) -> bytes | None:
    """Up to `cap` decompressed bytes, or None for codecs the standard library lacks."""
    fh.seek(0)
    if kind == "zlib-legacy":
        # joblib < 0.10: b"ZF" + hex length padded to 19 bytes, then a zlib stream.
        fh.seek(19)
        kind = "zlib"
    decoder: Any
    if kind in ("zlib", "gzip"):
        decoder = zlib.decompressobj(zlib.MAX_WBITS | (16 if kind == "gzip" else 0))
    elif kind == "bz2":
        decoder = bz2.BZ2Decompressor()
    elif kind in ("xz", "lzma"):
        decoder = lzma.LZMADecompressor()
    else:
        return None
    out = bytearray()
    try:
        while len(out) < cap and not decoder.eof:
            room = cap - len(out)
            if isinstance(decoder, (bz2.BZ2Decompressor, lzma.LZMADecompressor)):
                chunk = fh.read(64 * 1024) if decoder.needs_input else b""
                if not chunk and decoder.needs_input:
                    break
                out += decoder.decompress(chunk, max_length=room)
            else:
                chunk = decoder.unconsumed_tail or fh.read(64 * 1024)
                if not chunk:
                    break
                out += decoder.decompress(chunk, room)
    except (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError) as exc:
        raise FormatError(f"corrupt {kind} stream: {exc}") from exc
    if len(out) < cap and not decoder.eof:
        raise FormatError(f"{kind} stream is truncated")
    return bytes(out[:cap])


def decompressed_pickle(path: Path, cap: int = limits.MAX_PICKLE_DECOMPRESS) -> bytes | None:
    """The first `cap` bytes of a compressed joblib file's pickle stream, for the safety scanner.

    None when the file is not compressed or uses a codec the standard library lacks (lz4).
    Raises FormatError for a corrupt or truncated stream; never produces more than `cap` bytes.
    """
    try:
        with path.open("rb") as fh:
            kind = compression_of(fh.read(16))
            return None if kind is None else _decompress_prefix(fh, kind, cap)
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}") from exc


def _summarise(walk: PickleWalk, properties: dict[str, str]) -> str | None:
    names = [name for name, _ in walk.globals]
    properties["protocol"] = str(walk.protocol)
    properties["opcode_count"] = str(walk.opcodes)
    properties["pickle.global_count"] = str(len(names))
    if names:
        properties["pickle.globals"] = ",".join(names[:TOP_GLOBALS])
    if not walk.complete:
        properties["pickle.walk"] = "partial"
    if walk.value == TORCH_LEGACY_MAGIC:
        properties["pytorch.legacy_magic"] = "true"
    return architecture_from_globals(names)


def read_pickle(path: Path) -> HeaderInfo:
    """Read a pickle or joblib file's metadata from its opcodes. Raises FormatError only."""
    properties: dict[str, str] = {}
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, 2)
            fh.seek(0)
            head = fh.read(16)
            if not head:
                raise FormatError("empty file")
            kind = compression_of(head)
            if kind is not None:
                return _read_compressed(fh, kind, properties)
            walk = walk_pickle(fh, size, lenient=True)
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}") from exc
    names = [name for name, _ in walk.globals]
    joblib_inline = any(name.startswith("joblib.numpy_pickle.") for name in names)
    if walk.error is not None:
        if not joblib_inline:
            raise FormatError(walk.error)
        # joblib writes array bytes inline between opcodes; a walk cannot step over them.
        properties["pickle.walk_stopped"] = walk.error
    architecture = _summarise(walk, properties)
    fmt = "joblib" if joblib_inline else "pickle"
    return HeaderInfo(
        format=fmt, properties=properties, architecture=architecture, pickle_members=("",)
    )


def _read_compressed(fh: BinaryIO, kind: str, properties: dict[str, str]) -> HeaderInfo:
    properties["compression"] = kind
    # The safety scanner must decompress (bounded) before it can look inside.
    properties["pickle.compressed"] = "true"
    data = _decompress_prefix(fh, kind, limits.MAX_PICKLE_DECOMPRESS)
    architecture = None
    if data is None:
        properties["pickle.walk"] = "skipped"
    else:
        walk = walk_pickle_bytes(data, lenient=True)
        if walk.error is not None and not is_pickle_head(data[:2]):
            raise FormatError(f"{kind} stream does not hold a pickle: {walk.error}")
        if walk.error is not None:
            properties["pickle.walk_stopped"] = walk.error
        architecture = _summarise(walk, properties)
    return HeaderInfo(
        format="joblib", properties=properties, architecture=architecture, pickle_members=("",)
    )


__all__ = [
    "STORAGE_DTYPES",
    "TENSOR_REBUILDERS",
    "TORCH_LEGACY_MAGIC",
    "PickleWalk",
    "architecture_from_globals",
    "compression_of",
    "decompressed_pickle",
    "is_pickle_head",
    "looks_like_pickle",
    "read_pickle",
    "walk_pickle",
    "walk_pickle_bytes",
    "zip_pickle_members",
]


# --- Registry entries. -------------------------------------------------------------------------

from unified_supply_chain.formats import FormatSpec, Kind, Sniff  # noqa: E402
from unified_supply_chain.formats._names import suffix as _suffix  # noqa: E402

#: Every pickle opcode byte (from pickletools); the byte after PROTO must be one of them.
_OPCODE_BYTES = frozenset(b"().012BCFGIJKLMNPQRSTUVX]abcdeghijlopqrstu}") | frozenset(
    range(0x80, 0x99)
)
_JOBLIB_SIGNATURE = b"joblib.numpy_pickle"


def sniff_pickle(head: bytes, name: str) -> bool:
    """PROTO 2..5 followed by an opcode (protocol 0/1 pickles are recognised by name only)."""
    return len(head) >= 3 and head[0] == 0x80 and 2 <= head[1] <= 5 and head[2] in _OPCODE_BYTES


def sniff_joblib(head: bytes, name: str) -> bool:
    """A pickle named *.joblib, or one that mentions joblib's array wrapper."""
    return sniff_pickle(head, name) and (_suffix(name) == ".joblib" or _JOBLIB_SIGNATURE in head)


SPECS = (
    FormatSpec(
        id="joblib",
        kind=Kind.MODEL,
        description="pickle as *.joblib, or joblib's NumpyArrayWrapper; *.joblib by name",
        extensions=(".joblib",),
        sniffs=(Sniff(101, sniff_joblib, needs_name=True),),
        reader=read_pickle,
        carries_pickles=True,
        safety="unified_supply_chain.safety.scan:scan_file",
    ),
    FormatSpec(
        id="pickle",
        kind=Kind.MODEL,
        description="\\x80 + protocol 2..5; protocol 0/1 only as *.pkl/*.pickle",
        extensions=(".pkl", ".pickle"),
        sniffs=(Sniff(102, sniff_pickle),),
        reader=read_pickle,
        carries_pickles=True,
        safety="unified_supply_chain.safety.scan:scan_file",
    ),
)
