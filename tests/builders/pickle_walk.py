"""Which globals a pickle imports, by walking its opcodes with `pickletools.genops` (never
unpickling): GLOBAL and INST by their argument, STACK_GLOBAL by the two strings pushed before it
(through the memo, which is tracked), and the raw array data joblib writes after a
`NumpyArrayWrapper`'s BUILD stepped over as joblib reads it (joblib/numpy_pickle.py
`NumpyArrayWrapper.read_array`: one padding-length byte and the padding when the state has
`numpy_array_alignment_bytes`, then `prod(shape) * itemsize` bytes; an object array is a nested
pickle stream, walked too).

This is the tests' own reference walk, independent of the scanner under test; the benign corpus
test and scripts/allowlist.py use it.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import pickletools
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

Pair = tuple[str, str]


@dataclass
class _Global:
    module: str
    name: str


@dataclass
class _Object:
    """The result of calling a global (REDUCE, NEWOBJ, NEWOBJ_EX, OBJ, INST)."""

    callable: Any
    args: Any
    state: Any = None


_JOBLIB_WRAPPER = ("joblib.numpy_pickle", "NumpyArrayWrapper")
_PUSH_ARG_NAMES = """
INT BININT BININT1 BININT2 LONG LONG1 LONG4 STRING BINSTRING SHORT_BINSTRING BINBYTES SHORT_BINBYTES
BINBYTES8 BYTEARRAY8 UNICODE SHORT_BINUNICODE BINUNICODE BINUNICODE8 FLOAT BINFLOAT
"""
_PUSH_ARG = frozenset(_PUSH_ARG_NAMES.split())
_PUSH_CONST: dict[str, Callable[[], Any]] = {
    "NONE": lambda: None,
    "NEWTRUE": lambda: True,
    "NEWFALSE": lambda: False,
    "EMPTY_TUPLE": tuple,
    "EMPTY_LIST": list,
    "EMPTY_DICT": dict,
    "EMPTY_SET": list,
    "NEXT_BUFFER": object,
}
_IGNORED = frozenset({"PROTO", "FRAME", "READONLY_BUFFER", "STOP"})


class _Walk:
    """A symbolic run of one pickle stream: values only as far as globals and joblib need."""

    def __init__(self, fh: BinaryIO, found: set[Pair]) -> None:
        self.fh, self.found = fh, found
        self.stack: list[Any] = []
        self.marks: list[list[Any]] = []
        self.memo: dict[int, Any] = {}

    def pop_mark(self) -> list[Any]:
        items, self.stack = self.stack, self.marks.pop()
        return items

    def run(self) -> None:
        for op, arg, _pos in pickletools.genops(self.fh):
            self.step(op.name, arg)

    def step(self, name: str, arg: Any) -> None:
        st = self.stack
        if name in _PUSH_ARG:
            st.append(arg)
        elif name in _PUSH_CONST:
            st.append(_PUSH_CONST[name]())
        elif name in _IGNORED:
            pass
        elif name == "MARK":
            self.marks.append(st)
            self.stack = []
        elif name in ("TUPLE", "LIST", "FROZENSET"):
            items = self.pop_mark()
            self.stack.append(tuple(items) if name == "TUPLE" else items)
        elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
            n = int(name[-1])
            items = st[-n:]
            del st[-n:]
            st.append(tuple(items))
        elif name == "DICT":
            items = self.pop_mark()
            self.stack.append(_pairs({}, items))
        elif name == "APPEND":
            value = st.pop()
            if isinstance(st[-1], list):
                st[-1].append(value)
        elif name in ("APPENDS", "ADDITEMS"):
            items = self.pop_mark()
            if isinstance(self.stack[-1], list):
                self.stack[-1].extend(items)
        elif name == "SETITEM":
            value, key = st.pop(), st.pop()
            _pairs(st[-1], [key, value])
        elif name == "SETITEMS":
            items = self.pop_mark()
            _pairs(self.stack[-1], items)
        elif name == "POP":
            st.pop()
        elif name == "POP_MARK":
            self.pop_mark()
        elif name == "DUP":
            st.append(st[-1])
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            self.memo[int(arg)] = st[-1]
        elif name == "MEMOIZE":
            self.memo[len(self.memo)] = st[-1]
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            st.append(self.memo[int(arg)])
        elif name in ("GLOBAL", "INST"):
            module, qualname = str(arg).split(" ", 1)
            self.found.add((module, qualname))
            if name == "GLOBAL":
                st.append(_Global(module, qualname))
            else:
                self.stack.append(_Object(_Global(module, qualname), tuple(self.pop_mark())))
        elif name == "STACK_GLOBAL":
            qualname, module = st.pop(), st.pop()
            if not (isinstance(module, str) and isinstance(qualname, str)):
                raise ValueError(f"STACK_GLOBAL on non-strings {module!r} {qualname!r}")
            self.found.add((module, qualname))
            st.append(_Global(module, qualname))
        elif name == "REDUCE" or name == "NEWOBJ":
            args = st.pop()
            st.append(_Object(st.pop(), args))
        elif name == "NEWOBJ_EX":
            _kwargs, args = st.pop(), st.pop()
            st.append(_Object(st.pop(), args))
        elif name == "OBJ":
            items = self.pop_mark()
            self.stack.append(_Object(items[0], tuple(items[1:])))
        elif name == "BUILD":
            state = st.pop()
            target = st[-1]
            if isinstance(target, _Object):
                target.state = state
                if _is(target.callable, _JOBLIB_WRAPPER):
                    self.skip_joblib_array(state)
        elif name == "PERSID":
            st.append(("persistent", arg))
        elif name == "BINPERSID":
            st.append(("persistent", st.pop()))
        else:  # EXT1/2/4 and anything new: benign files never use them, so stop loudly
            raise ValueError(f"opcode {name} is not expected in a benign pickle")

    def skip_joblib_array(self, state: Any) -> None:
        """Step over the array data joblib wrote after the wrapper (walking object arrays)."""
        if not isinstance(state, dict):
            raise ValueError("NumpyArrayWrapper state is not a dict")
        dtype = _dtype_of(state["dtype"])
        if dtype.hasobject:
            _Walk(self.fh, self.found).run()
            return
        if "numpy_array_alignment_bytes" in state:
            pad = self.fh.read(1)
            self.fh.read(int.from_bytes(pad, "little"))
        count = int(np.prod([int(n) for n in state["shape"]], dtype=np.int64))
        data = self.fh.read(count * dtype.itemsize)
        if len(data) != count * dtype.itemsize:
            raise ValueError("joblib array data cut short")


def _is(value: Any, pair: Pair) -> bool:
    return isinstance(value, _Global) and (value.module, value.name) == pair


def _pairs(target: Any, items: list[Any]) -> dict[Any, Any]:
    if isinstance(target, dict):
        for key, value in zip(items[::2], items[1::2], strict=True):
            with contextlib.suppress(TypeError):  # an unhashable symbolic key: not needed
                target[key] = value
    return target if isinstance(target, dict) else {}


def _dtype_of(value: Any) -> np.dtype[Any]:
    """The numpy dtype a pickled `numpy.dtype(...)` call builds, from its string arguments only.

    numpy's dtype.__reduce__ gives `(dtype, (kind_and_size, False, True), state)`; for flexible
    and structured types the state holds the item size (index 5) and the fields (index 3).
    """
    if not (isinstance(value, _Object) and isinstance(value.callable, _Global)):
        raise ValueError("joblib array dtype is not a numpy.dtype call")
    if (value.callable.module, value.callable.name) != ("numpy", "dtype"):
        raise ValueError(f"joblib array dtype built by {value.callable}")
    spec = value.args[0]
    state = value.state if isinstance(value.state, tuple) else ()
    if isinstance(spec, bytes):
        spec = spec.decode("ascii")
    if not isinstance(spec, str):
        raise ValueError("joblib array dtype spec is not a string")
    fields = state[3] if len(state) > 3 else None
    if isinstance(fields, dict) and fields:
        sub = [_dtype_of(f[0]) for f in fields.values() if isinstance(f, tuple)]
        hasobject = any(d.hasobject for d in sub)
        itemsize = int(state[5])
        return np.dtype("O") if hasobject else np.dtype((np.void, itemsize))
    base = np.dtype(spec)
    if len(state) > 5 and int(state[5]) > 0 and base.itemsize != int(state[5]):
        return np.dtype((np.void, int(state[5])))
    return base


def walk_pickle_stream(fh: BinaryIO, found: set[Pair]) -> None:
    """Add the globals of the one pickle stream at `fh`'s position to `found` (fh ends after it)."""
    _Walk(fh, found).run()


def pickle_globals(data: bytes) -> set[Pair]:
    """Globals of the pickle (or joblib) stream that is all of `data`; raises if bytes remain."""
    found: set[Pair] = set()
    fh = io.BytesIO(data)
    walk_pickle_stream(fh, found)
    if fh.read(1):
        raise ValueError("bytes after the pickle stream")
    return found


_MAGICS: list[tuple[bytes, Callable[[bytes], bytes]]] = [
    (b"\x78", zlib.decompress),
    (b"\x1f\x8b", gzip.decompress),
    (b"\xfd7zXZ\x00", lzma.decompress),
    (b"\x5d\x00\x00", lzma.decompress),
    (b"BZh", bz2.decompress),
]


def inflate(data: bytes) -> bytes:
    """joblib's compressed files: the whole pickle under one compressor, known by its magic."""
    for magic, decompress in _MAGICS:
        if data.startswith(magic):
            return decompress(data)
    return data


def file_globals(path: Path) -> set[Pair]:
    """Globals every pickle in a corpus file imports (zip members named *.pkl, or the file)."""
    data = path.read_bytes()
    if zipfile.is_zipfile(path):
        found: set[Pair] = set()
        with zipfile.ZipFile(path) as zf:
            for member in zf.namelist():
                if member.endswith(".pkl"):
                    found |= pickle_globals(zf.read(member))
        return found
    if path.suffix in (".npy", ".safetensors"):
        return set()
    return pickle_globals(inflate(data))


def corpus_globals(files: list[Path]) -> Iterator[tuple[Path, Pair]]:
    """(file, global) for every global of every corpus file."""
    for path in files:
        for pair in sorted(file_globals(path)):
            yield path, pair
