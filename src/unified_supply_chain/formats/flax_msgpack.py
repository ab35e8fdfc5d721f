"""Flax weights (`flax_model.msgpack`, `*.msgpack` of `flax.serialization.to_bytes`).

The file is one msgpack map (the state dict) whose array leaves are msgpack extension objects
(google/flax flax/serialization.py `_MsgpackExtType`): code 1 an ndarray, code 2 a native complex,
code 3 a NumPy scalar. An ndarray's payload is itself msgpack, `(shape, dtype name, buffer)`;
arrays over 2**30 bytes are split into a map marked `__msgpack_chunked_array__`. The walker
below reads keys, shapes and dtype names and seeks over every buffer, so weights are never read;
bytes, objects and depth are capped. No msgpack library (format: msgpack/msgpack spec.md).
"""

from __future__ import annotations

import math
import struct
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError, LimitExceeded
from unified_supply_chain.records import ArtifactKind, HeaderInfo

_NDARRAY, _COMPLEX, _SCALAR = 1, 2, 3
_CHUNKED = "__msgpack_chunked_array__"
#: Longest key or dtype name kept; longer strings are seeked over.
MAX_STRING = 4096
MAX_LISTED = 64
#: Bytes per element of NumPy/JAX dtype names, to check a buffer against its shape.
ITEMSIZE = {
    "bool": 1,
    "int8": 1,
    "uint8": 1,
    "int16": 2,
    "uint16": 2,
    "float16": 2,
    "bfloat16": 2,
    "int32": 4,
    "uint32": 4,
    "float32": 4,
    "int64": 8,
    "uint64": 8,
    "float64": 8,
    "complex64": 8,
    "complex128": 16,
}
# Fixed-width headers: first byte -> (struct format of the length or value, kind).
_SIZED = {
    0xC4: (">B", "bin"),
    0xC5: (">H", "bin"),
    0xC6: (">I", "bin"),
    0xC7: (">B", "ext"),
    0xC8: (">H", "ext"),
    0xC9: (">I", "ext"),
    0xD9: (">B", "str"),
    0xDA: (">H", "str"),
    0xDB: (">I", "str"),
    0xDC: (">H", "array"),
    0xDD: (">I", "array"),
    0xDE: (">H", "map"),
    0xDF: (">I", "map"),
}
_SCALARS = {
    0xCA: ">f",
    0xCB: ">d",
    0xCC: ">B",
    0xCD: ">H",
    0xCE: ">I",
    0xCF: ">Q",
    0xD0: ">b",
    0xD1: ">h",
    0xD2: ">i",
    0xD3: ">q",
}
_FIXEXT = {0xD4: 1, 0xD5: 2, 0xD6: 4, 0xD7: 8, 0xD8: 16}


@dataclass
class _Tree:
    tensors: int = 0
    tensor_bytes: int = 0
    parameters: int = 0
    scalars: int = 0
    chunked: int = 0
    dtypes: Counter[str] = field(default_factory=Counter)
    top_keys: list[str] = field(default_factory=list)


class _Walker:
    def __init__(self, fh: BinaryIO, size: int) -> None:
        self.fh = fh
        self.size = size
        self.pos = 0
        self.budget = limits.MAX_MSGPACK_META_BYTES
        self.objects = limits.MAX_MSGPACK_OBJECTS

    def read(self, n: int, end: int) -> bytes:
        if n > end - self.pos:
            raise FormatError(f"msgpack value of {n} bytes at byte {self.pos} overruns")
        self.budget -= n
        if self.budget < 0:
            raise LimitExceeded(
                f"more than {limits.MAX_MSGPACK_META_BYTES} bytes of msgpack outside arrays"
            )
        data = self.fh.read(n)
        if len(data) != n:
            raise FormatError(f"truncated at byte {self.pos}")
        self.pos += n
        return data

    def skip(self, n: int, end: int) -> None:
        if n > end - self.pos:
            raise FormatError(f"msgpack value of {n} bytes at byte {self.pos} overruns")
        self.pos += n
        self.fh.seek(self.pos)

    def header(self, end: int) -> tuple[str, int]:
        """(kind, length or value) of the next object; for ext the length excludes the code."""
        self.objects -= 1
        if self.objects < 0:
            raise LimitExceeded(f"more than {limits.MAX_MSGPACK_OBJECTS} msgpack objects")
        first = self.read(1, end)[0]
        if first <= 0x7F or first >= 0xE0:
            return "int", first if first <= 0x7F else first - 0x100
        if first <= 0x8F:
            return "map", first & 0x0F
        if first <= 0x9F:
            return "array", first & 0x0F
        if first <= 0xBF:
            return "str", first & 0x1F
        if first in (0xC0, 0xC2, 0xC3):
            return "atom", first
        if first in _SIZED:
            fmt, kind = _SIZED[first]
            (length,) = struct.unpack(fmt, self.read(struct.calcsize(fmt), end))
            return kind, length
        if first in _SCALARS:
            fmt = _SCALARS[first]
            (value,) = struct.unpack(fmt, self.read(struct.calcsize(fmt), end))
            return ("float" if first in (0xCA, 0xCB) else "int"), int(value) if first > 0xCB else 0
        if first in _FIXEXT:
            return "ext", _FIXEXT[first]
        raise FormatError(f"byte 0x{first:02x} at {self.pos - 1} is not a msgpack type")

    def text(self, length: int, end: int) -> str | None:
        if length > MAX_STRING:
            self.skip(length, end)
            return None
        return self.read(length, end).decode("utf-8", "replace")


def read_flax_msgpack(path: Path) -> HeaderInfo:
    """Read a Flax msgpack state dict's tensor counts without its weights. Raises FormatError."""
    tree = _Tree()
    try:
        with path.open("rb", buffering=1 << 16) as fh:
            size = fh.seek(0, 2)
            fh.seek(0)
            w = _Walker(fh, size)
            kind, length = w.header(size)
            if kind != "map":
                raise FormatError("not a msgpack map: not a Flax state dict")
            _map(w, tree, length, size, 1, top=True)
            if w.pos != size:
                raise FormatError(f"{size - w.pos} bytes after the state dict")
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}") from exc
    properties = {
        "tensor_count": str(tree.tensors),
        "tensor_bytes": str(tree.tensor_bytes),
        "dtypes": ",".join(sorted(tree.dtypes)),
        "top_level_keys": ",".join(tree.top_keys),
    }
    if tree.scalars:
        properties["scalar_count"] = str(tree.scalars)
    if tree.chunked:
        properties["chunked_arrays"] = str(tree.chunked)
    return HeaderInfo(format="flax-msgpack", properties=properties, parameter_count=tree.parameters)


def _value(w: _Walker, t: _Tree, end: int, depth: int) -> tuple[int, str | None]:
    """Walk one object: (tensors in it, its text when it is a short string)."""
    if depth > limits.MAX_MSGPACK_DEPTH:
        raise LimitExceeded(f"msgpack nested deeper than {limits.MAX_MSGPACK_DEPTH}")
    kind, length = w.header(end)
    if kind == "map":
        return _map(w, t, length, end, depth + 1), None
    if kind == "array":
        return sum(_value(w, t, end, depth + 1)[0] for _ in range(length)), None
    if kind == "str":
        return 0, w.text(length, end)
    if kind == "bin":
        w.skip(length, end)
    elif kind == "ext":
        return _ext(w, t, length, end), None
    return 0, None


def _map(w: _Walker, t: _Tree, count: int, end: int, depth: int, top: bool = False) -> int:
    tensors = 0
    chunked = False
    for _ in range(count):
        _, key = _value(w, t, end, depth)
        if key == _CHUNKED:
            chunked = True
        if top and key is not None and len(t.top_keys) < MAX_LISTED:
            t.top_keys.append(key)
        tensors += _value(w, t, end, depth)[0]
    if chunked and tensors:
        # One array split in chunks: one tensor, whatever the number of chunks.
        t.tensors -= tensors - 1
        t.chunked += 1
        return 1
    return tensors


def _ext(w: _Walker, t: _Tree, length: int, end: int) -> int:
    code = struct.unpack(">b", w.read(1, end))[0]
    stop = w.pos + length
    if stop > end:
        raise FormatError(f"msgpack extension of {length} bytes overruns")
    if code == _COMPLEX:
        t.scalars += 1
        w.skip(length, stop)
        return 0
    if code not in (_NDARRAY, _SCALAR):
        w.skip(length, stop)  # another library's extension: data, skipped
        return 0
    kind, items = w.header(stop)
    if kind != "array" or items != 3:
        raise FormatError("flax ndarray extension is not (shape, dtype, buffer)")
    kind, dims = w.header(stop)
    if kind != "array" or dims > 64:
        raise FormatError("flax ndarray shape is not a short array")
    shape = []
    for _ in range(dims):
        kind, value = w.header(stop)
        if kind != "int" or value < 0:
            raise FormatError("flax ndarray shape holds a non-integer or negative dimension")
        shape.append(value)
    kind, name_len = w.header(stop)
    if kind not in ("str", "bin") or name_len > 64:
        raise FormatError("flax ndarray dtype is not a short name")
    dtype = w.read(name_len, stop).decode("ascii", "replace")
    kind, nbytes = w.header(stop)
    if kind != "bin":
        raise FormatError("flax ndarray buffer is not msgpack bin")
    w.skip(nbytes, stop)
    if w.pos != stop:
        raise FormatError("flax ndarray extension has bytes after its buffer")
    elements = math.prod(shape)
    if dtype in ITEMSIZE and elements * ITEMSIZE[dtype] != nbytes:
        raise FormatError(f"flax ndarray {shape} {dtype} with a buffer of {nbytes} bytes")
    if code == _SCALAR:
        t.scalars += 1
        return 0
    t.tensors += 1
    t.tensor_bytes += nbytes
    t.parameters += elements
    t.dtypes[dtype] += 1
    return 1


# --- Registry entry. ---------------------------------------------------------------------------

from unified_supply_chain.formats import FormatSpec, Kind  # noqa: E402


def flax_kind(relpath: str, header: HeaderInfo | None) -> ArtifactKind | None:
    """A model; a `*.msgpack` of plain data (a map without arrays) is nothing of ours."""
    if header is not None and header.properties.get("tensor_count") == "0":
        name = relpath.rsplit("/", 1)[-1].lower()
        return ArtifactKind.MODEL if name.startswith("flax_model") else None
    return ArtifactKind.MODEL


SPECS = (
    FormatSpec(
        id="flax-msgpack",
        kind=Kind.MODEL,
        description="flax_model.msgpack or *.msgpack (msgpack state dict, flax ndarray extensions)",
        names=("flax_model.msgpack",),
        extensions=(".msgpack",),
        reader=read_flax_msgpack,
        kind_rule=flax_kind,
        shards=True,
    ),
)
