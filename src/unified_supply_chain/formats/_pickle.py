"""The one pickle machine: a symbolic walk over pickle opcodes for the readers and the safety scan.

Over 400 lines because it is one stack machine: its opcode branches mirror pickle._Unpickler.
It follows CPython's `pickle._Unpickler` opcode by opcode (stack, MARK metastack, memo), but
values are only literals, tuples, lists, dicts, globals and calls: nothing is imported, called or
constructed. STACK_GLOBAL operands resolve through the memo; INST/OBJ/NEWOBJ/REDUCE/BUILD record
call sites; the raw array bytes joblib writes after a NumpyArrayWrapper are stepped over, and its
object arrays (nested pickles) walked. One walk can cover several streams after STOP. The result,
`PickleWalk` (formats._pickle_records), holds what both consumers need: globals with their
positions, call sites, torch tensor shapes and storages, and how (or why not) the walk ended.
"""

from __future__ import annotations

import _compat_pickle
import contextlib
import pickletools
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, BinaryIO

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError
from unified_supply_chain.formats._pickle_read import (
    OPAQUE,
    OPS_BY_BYTE,
    ByteRange,
    Source,
    Truncated,
    read_arg,
)
from unified_supply_chain.formats._pickle_records import CallSite, GlobalRef, PickleWalk

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
#: Calls that unpickle bytes given as their argument (torch.load of an in-memory file).
LOADS_BYTES = frozenset({"torch.storage._load_from_bytes"})
#: Calls that call the callable given as their first argument.
REBUILDS_FROM_TYPE = frozenset(
    {"torch._tensor._rebuild_from_type_v2", "torch._utils._rebuild_from_type_v2"}
)
#: The classes joblib's NumpyUnpickler replaces by the array that follows them.
ARRAY_WRAPPERS = frozenset(
    {
        ("joblib.numpy_pickle", "NumpyArrayWrapper"),
        ("sklearn.externals.joblib.numpy_pickle", "NumpyArrayWrapper"),
    }
)
#: numpy's NPY_ITEM_HASOBJECT bit of a dtype's flags (numpy/_core/include/numpy/ndarraytypes.h).
_HASOBJECT = 0x01
#: joblib object arrays are nested pickles; deeper nesting than this is refused.
MAX_NESTED_PICKLES = 16
#: pickletools stack objects of the opcodes that push one literal (bytes become opaque).
_LITERAL_KINDS = frozenset(
    {"int", "int_or_bool", "float", "bytes_or_str", "bytes", "bytearray", "str"}
)
_LITERALS = frozenset(
    op.name
    for op in pickletools.opcodes
    if not op.stack_before and len(op.stack_after) == 1 and op.stack_after[0].name in _LITERAL_KINDS
)
_CONSTANTS = {"NONE": None, "NEWTRUE": True, "NEWFALSE": False}
#: A dtype code as numpy's dtype.__reduce__ writes it ('f8', 'V56', 'U5', 'M8', 'O8');
#: anything else cannot be sized with certainty.
_DTYPE_CODE = re.compile(r"^[<>|=]?([biufcmMOSUV])(\d*)$")


@dataclass(frozen=True)
class _Global:
    module: str
    name: str

    @property
    def dotted(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass
class _Call:
    func: object
    args: object
    state: object = None
    """What BUILD gave the result (a numpy dtype's __setstate__ tuple)."""


@dataclass(frozen=True)
class _Storage:
    dtype: str | None


class _Capped(Exception):
    """The opcode cap was reached."""


class _Machine:
    def __init__(self, src: Source, max_opcodes: int, *, joblib: bool = True) -> None:
        self.src = src
        self.joblib = joblib
        self.proto = 0
        self.nested: list[ByteRange] = []
        self.unverified: list[str] = []
        self.max_opcodes = max_opcodes
        self.opcodes = 0
        self.protocol: int | None = None
        self.highest = 0
        self.refs: list[GlobalRef] = []
        self.calls: list[CallSite] = []
        self.extensions: list[int] = []
        self.shapes: list[tuple[int, ...] | None] = []
        self.dtypes: dict[str, None] = {}
        self.storages = 0
        self.depth = 0
        self.wrappers = 0

    def _ref(self, module: object, name: object, offset: int, opcode: str) -> _Global:
        if not (isinstance(module, str) and isinstance(name, str)):
            module = name = "?"
        elif self.proto < 3:
            # find_class maps Python 2 names first (fix_imports, on in every loader).
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
        self.refs.append(GlobalRef(module, name, offset, opcode))
        return _Global(module, name)

    def _call(self, func: object, offset: int, opcode: str) -> None:
        if isinstance(func, _Global) and func.module != "?":
            self.calls.append(CallSite(func.module, func.name, offset, opcode))

    def _reduce(self, func: object, args: object, offset: int) -> None:
        """What calls that load or call other code would do with their arguments."""
        if not isinstance(func, _Global):
            return
        if func.dotted in LOADS_BYTES:
            # torch.storage._load_from_bytes(b) is torch.load(io.BytesIO(b)): scan b as a file.
            if isinstance(args, tuple) and len(args) == 1 and isinstance(args[0], ByteRange):
                self.nested.append(args[0])
            else:
                self.unverified.append(
                    f"{func.dotted} at byte {offset} loads bytes that are not a literal"
                )
        elif func.dotted in REBUILDS_FROM_TYPE:
            # _rebuild_from_type_v2(func, new_type, args, state) calls func(*args): the callable
            # must be a global of the stream (judged like every global), never a computed value.
            target = args[0] if isinstance(args, tuple) and args else None
            if not isinstance(target, _Global):
                self.unverified.append(
                    f"{func.dotted} at byte {offset} calls a value that is not a named global"
                )
            elif isinstance(args, tuple) and len(args) >= 3:
                self._reduce(target, args[2], offset)  # what func(*args) itself does

    def stream(self) -> object:
        """Walk one stream up to and including STOP; return the value STOP pops."""
        src = self.src
        stack: list[Any] = []
        metastack: list[list[Any]] = []
        memo: dict[int, Any] = {}
        self.proto = 0  # every load() starts a new Unpickler

        def pop() -> Any:
            if not stack:
                raise FormatError(f"stack underflow at byte {offset}")
            return stack.pop()

        def top() -> Any:
            if not stack:
                raise FormatError(f"stack underflow at byte {offset}")
            return stack[-1]

        def pop_mark() -> list[Any]:
            nonlocal stack
            if not metastack:
                raise FormatError(f"MARK missing at byte {offset}")
            items = stack
            stack = metastack.pop()
            return items

        while True:
            if self.opcodes >= self.max_opcodes:
                raise _Capped
            offset = src.pos
            if offset >= src.available:
                raise Truncated(f"pickle ends at byte {offset} without STOP")
            code = src.byte()
            op = OPS_BY_BYTE[code]
            if op is None:
                raise FormatError(f"unknown pickle opcode {code:#04x} at byte {offset}")
            arg = read_arg(src, op)
            self.opcodes += 1
            self.highest = max(self.highest, op.proto)
            name = op.name
            if name in _LITERALS:
                stack.append(arg if isinstance(arg, (int, str, float, ByteRange)) else OPAQUE)
            elif name in _CONSTANTS:
                stack.append(_CONSTANTS[name])
            elif name == "PROTO":
                if not isinstance(arg, int) or not 0 <= arg <= 5:
                    raise FormatError(f"unsupported pickle protocol {arg!r} at byte {offset}")
                self.proto = arg
                if self.protocol is None:
                    self.protocol = arg
            elif name == "FRAME":
                pass
            elif name == "STOP":
                return pop()
            elif name == "MARK":
                metastack.append(stack)
                stack = []
            elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[_index(arg)] = top()
            elif name == "MEMOIZE":
                memo[len(memo)] = top()
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                index = _index(arg)
                if index not in memo:
                    raise FormatError(f"memo value {index} not found at byte {offset}")
                stack.append(memo[index])
            elif name in ("GLOBAL", "INST"):
                module, attr = arg if isinstance(arg, tuple) else (None, None)
                found = self._ref(module, attr, offset, name)
                if name == "INST":
                    args = pop_mark()
                    self._call(found, offset, name)
                    self._reduce(found, tuple(args), offset)  # INST calls klass(*args)
                    stack.append(_Call(found, tuple(args)))
                else:
                    stack.append(found)
            elif name == "STACK_GLOBAL":
                attr = pop()
                stack.append(self._ref(pop(), attr, offset, name))
            elif name in ("EXT1", "EXT2", "EXT4"):
                self.extensions.append(_index(arg))
                stack.append(OPAQUE)
            elif name in ("REDUCE", "NEWOBJ", "NEWOBJ_EX"):
                if name == "NEWOBJ_EX":
                    pop()
                args = pop()
                func = pop()
                self._call(func, offset, name)
                if name == "REDUCE":
                    self._reduce(func, args, offset)
                if isinstance(func, _Global) and func.dotted in TENSOR_REBUILDERS:
                    self.shapes.append(_shape(args))
                stack.append(_Call(func, args))
            elif name == "OBJ":
                items = pop_mark()
                if not items:
                    raise FormatError(f"OBJ without a class at byte {offset}")
                self._call(items[0], offset, name)
                self._reduce(items[0], tuple(items[1:]), offset)  # OBJ calls cls(*args) too
                stack.append(_Call(items[0], tuple(items[1:])))
            elif name == "BUILD":
                state = pop()
                target = top()
                if isinstance(target, _Global):
                    self._call(target, offset, name)
                elif isinstance(target, _Call):
                    if self.joblib and self.depth == 0 and _is_array_wrapper(target.func):
                        # joblib's NumpyUnpickler.load_build reads the array that follows; the
                        # nested unpicklers of object arrays are plain ones and do not.
                        self.wrappers += 1
                        self._skip_joblib_array(state)
                        stack[-1] = OPAQUE
                    else:
                        target.state = state
            elif name == "EMPTY_LIST":
                stack.append([])
            elif name == "EMPTY_DICT":
                stack.append({})
            elif name == "EMPTY_TUPLE":
                stack.append(())
            elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
                count = int(name[-1])
                if len(stack) < count:
                    raise FormatError(f"stack underflow at byte {offset}")
                items = stack[-count:]
                del stack[-count:]
                stack.append(tuple(items))
            elif name == "TUPLE":
                items = pop_mark()  # rebinds `stack`: take the items before appending
                stack.append(tuple(items))
            elif name == "LIST":
                items = pop_mark()
                stack.append(items)
            elif name == "DICT":
                items = pop_mark()
                stack.append(_make_dict(items, offset))
            elif name == "APPEND":
                item = pop()
                if isinstance(top(), list):
                    top().append(item)
            elif name == "APPENDS":
                items = pop_mark()
                if isinstance(top(), list):
                    top().extend(items)
            elif name == "SETITEM":
                value = pop()
                key = pop()
                if isinstance(top(), dict):
                    _set_item(top(), key, value)
            elif name == "SETITEMS":
                items = pop_mark()
                if isinstance(top(), dict):
                    top().update(_make_dict(items, offset))
            elif name == "ADDITEMS":
                pop_mark()
                top()
            elif name in ("EMPTY_SET", "NEXT_BUFFER"):
                stack.append(OPAQUE)
            elif name == "FROZENSET":
                pop_mark()
                stack.append(OPAQUE)
            elif name == "POP":
                if stack:
                    stack.pop()
                else:
                    pop_mark()
            elif name == "POP_MARK":
                pop_mark()
            elif name == "DUP":
                stack.append(top())
            elif name == "PERSID":
                stack.append(OPAQUE)
            elif name == "BINPERSID":
                stack.append(self._storage(pop()))
            elif name == "READONLY_BUFFER":
                top()
            else:  # pragma: no cover - every pickletools opcode is handled above
                raise FormatError(f"opcode {name} not modelled")

    def _storage(self, pid: object) -> _Storage:
        if not (isinstance(pid, tuple) and len(pid) >= 2 and pid[0] == "storage"):
            return _Storage(None)
        self.storages += 1
        dtype = None
        if isinstance(pid[1], _Global):
            dtype = STORAGE_DTYPES.get(pid[1].name)
            if dtype is not None:
                self.dtypes[dtype] = None
        return _Storage(dtype)

    def _skip_joblib_array(self, state: object) -> None:
        # joblib writes the array buffer right after the wrapper's BUILD; NumpyArrayWrapper
        # .read_array reads it: a nested pickle when dtype.hasobject, else optional alignment
        # padding (one length byte, then that many bytes) and count * itemsize bytes.
        if not isinstance(state, dict):
            raise FormatError("joblib array wrapper with an unreadable state")
        dtype, shape = state.get("dtype"), state.get("shape")
        if not isinstance(shape, tuple) or not all(_count(d) for d in shape):
            raise FormatError("joblib array wrapper with an unreadable shape")
        itemsize, hasobject = _dtype_layout(dtype, 0)
        if hasobject:
            # Object arrays are a nested pickle read by a fresh (plain) unpickler.
            if self.depth >= MAX_NESTED_PICKLES:
                raise FormatError("joblib object arrays nested too deeply")
            self.depth += 1
            saved = self.proto
            try:
                self.stream()
            finally:
                self.depth -= 1
                self.proto = saved
            return
        if state.get("numpy_array_alignment_bytes") is not None:
            self.src.skip(self.src.read(1)[0])
        count = 1
        for d in shape:
            count *= d
        self.src.skip(count * itemsize)


def _is_array_wrapper(func: object) -> bool:
    return isinstance(func, _Global) and (func.module, func.name) in ARRAY_WRAPPERS


def _dtype_layout(dtype: object, depth: int) -> tuple[int, bool]:
    """(itemsize, hasobject) of a numpy.dtype(...) call with its BUILD state, as numpy sets them.

    The state is dtype.__setstate__'s (version, byteorder, subarray, names, fields, elsize,
    alignment, flags[, metadata]); flexible kinds (S, U, V) take their size from it. Whatever is
    not plainly one of these shapes is an error: the skip must be exact or not happen.
    """
    if depth > 32:
        raise FormatError("numpy dtype nested too deeply")
    if not (isinstance(dtype, _Call) and _is(dtype.func, "numpy", "dtype")):
        raise FormatError("joblib array wrapper without a numpy dtype")
    if not (isinstance(dtype.args, tuple) and dtype.args and isinstance(dtype.args[0], str)):
        raise FormatError("joblib array wrapper with an unreadable dtype")
    match = _DTYPE_CODE.match(dtype.args[0])
    if match is None:
        raise FormatError(f"dtype {dtype.args[0]!r} in a joblib array wrapper is not understood")
    kind, digits = match.group(1), match.group(2)
    size = int(digits) if digits else None
    hasobject = kind == "O"
    state = dtype.state
    if state is not None:
        if not (isinstance(state, tuple) and len(state) >= 8):
            raise FormatError("joblib array dtype with an unreadable state")
        subarray, names, fields, elsize, flags = state[2], state[3], state[4], state[5], state[7]
        if not (_int(elsize) and _int(flags)):
            raise FormatError("joblib array dtype with an unreadable state")
        hasobject = hasobject or bool(flags & _HASOBJECT)
        if subarray is not None:
            if not (isinstance(subarray, tuple) and len(subarray) == 2):
                raise FormatError("joblib array dtype with an unreadable subarray")
            hasobject = hasobject or _dtype_layout(subarray[0], depth + 1)[1]
        if fields is not None:
            if not (isinstance(fields, dict) and isinstance(names, tuple)):
                raise FormatError("joblib array dtype with unreadable fields")
            for field in fields.values():
                if not (isinstance(field, tuple) and len(field) >= 2):
                    raise FormatError("joblib array dtype with unreadable fields")
                hasobject = hasobject or _dtype_layout(field[0], depth + 1)[1]
        if kind in ("S", "U", "V") and elsize >= 0:
            size = elsize
    if hasobject:
        return 0, True
    if size is None:
        if kind in ("b", "m", "M"):
            return (1 if kind == "b" else 8), False
        raise FormatError(f"dtype {dtype.args[0]!r} without a size in a joblib array wrapper")
    return size * (4 if kind == "U" and state is None else 1), False


def _int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _index(arg: object) -> int:
    if isinstance(arg, int) and not isinstance(arg, bool):
        return arg
    raise FormatError("bad memo index")


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is(value: object, module: str, name: str) -> bool:
    return isinstance(value, _Global) and value.module == module and value.name == name


def _set_item(target: dict[Any, Any], key: object, value: object) -> None:
    if key is None or isinstance(key, (int, str, float, tuple)):
        with contextlib.suppress(TypeError):  # a tuple holding a list or dict
            target[key] = value


def _make_dict(items: list[Any], offset: int) -> dict[Any, Any]:
    if len(items) % 2:
        raise FormatError(f"odd number of items for a dict at byte {offset}")
    out: dict[Any, Any] = {}
    for i in range(0, len(items), 2):
        _set_item(out, items[i], items[i + 1])
    return out


def _shape(args: object) -> tuple[int, ...] | None:
    if not (isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], tuple)):
        return None
    size = args[2]
    # A dimension past 2**48 is no real tensor: treat the shape as unknown rather than trust it.
    if all(_count(d) and d < 2**48 for d in size):
        return tuple(int(d) for d in size)
    return None


def walk(
    fh: BinaryIO | None,
    size: int,
    start: int = 0,
    *,
    data: bytes | None = None,
    max_streams: int | None = 1,
    max_opcodes: int | None = None,
    joblib: bool = True,
) -> PickleWalk:
    """Walk the pickle stream(s) starting at `start`, never unpickling; never raises FormatError.

    The stream is `fh` (`size` bytes), or `data` (a prefix of a stream of `size` bytes). Walking
    stops at the end of the data, after `max_streams` streams, at the opcode cap (default
    limits.MAX_PICKLE_OPCODES) or at the first error; an error after at least one complete stream
    is reported as `later_error` (legacy torch files carry raw storage bytes after their
    pickles). A walk for one stream needs it; a walk for several finds none in empty data.
    With `joblib` false the raw array bytes joblib writes are read as opcodes, as a plain
    `pickle.load` of the same file reads them.
    """
    src = Source(fh, start, size) if data is None else Source(None, start, size, data)
    machine = _Machine(
        src, limits.MAX_PICKLE_OPCODES if max_opcodes is None else max_opcodes, joblib=joblib
    )
    streams = 0
    end = src.pos
    value: object = None
    error: str | None = None
    later_error: str | None = None
    truncated = capped = False
    while max_streams is None or streams < max_streams:
        if (streams or max_streams != 1) and src.pos >= src.available:
            break  # data ending between streams is their end, even before the first of several
        try:
            top = machine.stream()
        except _Capped:
            capped = True
            break
        except (FormatError, RecursionError, MemoryError, OSError) as exc:
            why = str(exc) if isinstance(exc, FormatError) else f"cannot walk pickle: {exc}"
            if streams == 0:
                error = why
                truncated = isinstance(exc, Truncated)
            else:
                later_error = f"stream {streams + 1}: {why}"
            break
        except (TypeError, KeyError, IndexError, ValueError) as exc:  # pragma: no cover
            # A gap in the machine: still an unparsed stream, never an escape.
            why = f"{type(exc).__name__}: {exc}"
            if streams == 0:
                error = why
            else:
                later_error = f"stream {streams + 1}: {why}"
            break
        streams += 1
        end = src.pos
        value = top if top is None or isinstance(top, (int, str)) else None
    if streams == 0:
        end = src.pos
    names: Counter[str] = Counter(ref.dotted for ref in machine.refs)
    return PickleWalk(
        protocol=machine.protocol if machine.protocol is not None else machine.highest,
        opcodes=machine.opcodes,
        globals=tuple(names.items()),
        complete=streams > 0 and not capped,
        end=end,
        value=value,
        tensor_shapes=tuple(machine.shapes),
        dtypes=tuple(machine.dtypes),
        storages=machine.storages,
        error=error,
        truncated=truncated,
        capped=capped,
        references=tuple(machine.refs),
        calls=tuple(machine.calls),
        extensions=tuple(machine.extensions),
        streams=streams,
        later_error=later_error,
        nested=tuple(machine.nested),
        unverified=tuple(machine.unverified),
        wrappers=machine.wrappers,
    )


def walk_bytes(data: bytes, *, max_streams: int | None = 1) -> PickleWalk:
    """`walk` over a whole stream held in memory (a zip member, a decompressed prefix)."""
    return walk(None, len(data), data=data, max_streams=max_streams)
