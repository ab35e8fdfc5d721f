"""Pickle safety at the opcode level: which globals a pickle would import, without unpickling it.

Two independent walks look at every pickle stream and their results are merged:

- picklescan's scanner in strict mode (every global outside its safe list is reported), and
- our own opcode walk, a symbolic stack machine that never imports or calls anything: it resolves
  STACK_GLOBAL operands through the memo (PUT/BINPUT/LONG_BINPUT/MEMOIZE and the GET family),
  sees INST/OBJ/NEWOBJ/REDUCE/BUILD targets, extension codes, and steps over the raw array data
  that joblib writes between opcodes. Long string and bytes arguments (weights) are skipped by
  seeking, so memory stays bounded whatever the pickle size.

Every global that is not on our allow-list of ordinary torch / numpy / scikit-learn / collections
globals is a finding: critical for known code-execution gadgets, high otherwise. A stream that
cannot be parsed to its end cannot be proven safe: medium.
"""

from __future__ import annotations

import io
import pickletools
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from unified_supply_chain import limits
from unified_supply_chain.records import Finding, Severity

RULE = "unsafe-serialization"

# --- The allow-list: globals that ordinary model and data pickles import. ---------------------

_ALLOWED_EXACT: frozenset[str] = frozenset(
    {
        "collections.OrderedDict",
        "collections.defaultdict",
        "collections.Counter",
        "collections.deque",
        "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state",
        "torch._utils._rebuild_qtensor",
        "torch._utils._rebuild_sparse_tensor",
        "torch._utils._rebuild_device_tensor_from_numpy",
        "torch._tensor._rebuild_from_type_v2",
        "torch.nn.parameter.Parameter",
        "torch.Size",
        "torch.device",
        "torch.storage._load_from_bytes",
        "numpy.dtype",
        "numpy.ndarray",
        "numpy.core.multiarray._reconstruct",
        "numpy.core.multiarray.scalar",
        "numpy._core.multiarray._reconstruct",
        "numpy._core.multiarray.scalar",
        "numpy.core.numeric._frombuffer",
        "numpy._core.numeric._frombuffer",
        "numpy.random._pickle.__randomstate_ctor",
        "numpy.random._pickle.__bit_generator_ctor",
        "numpy.random._pickle.__generator_ctor",
        "numpy.random.mtrand._rand",
        "joblib.numpy_pickle.NumpyArrayWrapper",
        "joblib.numpy_pickle_compat.NDArrayWrapper",
        "joblib.numpy_pickle_compat.ZNDArrayWrapper",
        "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper",
        "copyreg._reconstructor",
        "copy_reg._reconstructor",
        "_codecs.encode",
    }
)
_ALLOWED_BUILTINS: frozenset[str] = frozenset(
    {
        "set",
        "frozenset",
        "slice",
        "complex",
        "bytearray",
        "bytes",
        "range",
        "list",
        "dict",
        "tuple",
        "int",
        "float",
        "str",
        "bool",
        "object",
    }
)
_TORCH_STORAGE = re.compile(r"^torch\.(cuda\.)?[A-Za-z0-9]*Storage$")
_TORCH_DTYPE = re.compile(
    r"^torch\.(float|double|half|bfloat16|float16|float32|float64|u?int(8|16|32|64)|bool"
    r"|complex(32|64|128)|cfloat|cdouble|q(u?int8|int32|uint4x2|uint2x4)|long|short|int)$"
)
# scikit-learn estimators and their helper classes (classes only: names starting upper-case).
_SKLEARN_CLASS = re.compile(r"^sklearn(\.[A-Za-z_][A-Za-z0-9_]*)+\.[A-Z][A-Za-z0-9_]*$")
_SKLEARN_FUNCTIONS: frozenset[str] = frozenset(
    {"sklearn.tree._tree.Tree", "sklearn.neighbors._kd_tree.newObj"}
)
_SKLEARN_DENY = ("sklearn.utils._testing", "sklearn.externals", "sklearn.utils._show_versions")
# torch.nn module classes (a whole pickled nn.Module): classes of torch itself, not user code.
_TORCH_NN_CLASS = re.compile(r"^torch\.nn\.modules(\.[a-z_0-9]+)+\.[A-Z][A-Za-z0-9_]*$")

# --- Known code-execution gadgets: critical. ------------------------------------------------

_DANGEROUS_MODULES: frozenset[str] = frozenset(
    {
        "os",
        "posix",
        "nt",
        "subprocess",
        "importlib",
        "runpy",
        "socket",
        "shutil",
        "sys",
        "pty",
        "webbrowser",
        "pickle",
        "_pickle",
        "marshal",
        "ctypes",
        "code",
        "codeop",
        "pdb",
        "bdb",
        "timeit",
        "cProfile",
        "profile",
        "pydoc",
        "pkgutil",
        "asyncio",
        "multiprocessing",
        "http",
        "urllib",
        "requests",
        "ssl",
        "commands",
        "popen2",
        "signal",
        "_posixsubprocess",
        "cloudpickle",
        "dill",
        "platform",
        "tempfile",
        "venv",
        "ensurepip",
        "pip",
        "shlex",
        "telnetlib",
        "ftplib",
        "smtplib",
        "imaplib",
        "zipimport",
        "_io",
        "io",
    }
)
_DANGEROUS_BUILTINS: frozenset[str] = frozenset(
    {
        "eval",
        "exec",
        "compile",
        "__import__",
        "getattr",
        "setattr",
        "delattr",
        "open",
        "breakpoint",
        "input",
        "apply",
        "globals",
        "locals",
        "vars",
        "execfile",
        "file",
        "reload",
        "memoryview",
        "help",
        "exit",
        "quit",
    }
)
_DANGEROUS_EXACT: frozenset[str] = frozenset(
    {
        "types.CodeType",
        "types.FunctionType",
        "types.MethodType",
        "operator.attrgetter",
        "operator.itemgetter",
        "operator.methodcaller",
        "_operator.attrgetter",
        "_operator.itemgetter",
        "_operator.methodcaller",
        "functools.partial",
        "functools.reduce",
        "torch.load",
        "torch.serialization.load",
        "numpy.load",
        "numpy.loadtxt",
        "numpy.fromfile",
        "numpy.testing._private.utils.runstring",
        "joblib.load",
        "logging.FileHandler",
        "codecs.open",
        "pandas.read_pickle",
        "torch.hub.load",
        "torch.jit.load",
        "copyreg._reconstructor.__globals__",
    }
)
#: Opcode by its one-character code.
OPCODES: dict[str, pickletools.OpcodeInfo] = {op.code: op for op in pickletools.opcodes}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def global_name(module: str, name: str) -> str:
    """The dotted name we report for a global (`module.name`)."""
    return f"{module}.{name}"


def is_allowed_global(module: str, name: str) -> bool:
    """True when `module.name` is an ordinary global of torch, numpy, scikit-learn, collections."""
    full = global_name(module, name)
    if full in _ALLOWED_EXACT:
        return True
    if module in ("builtins", "__builtin__") and name in _ALLOWED_BUILTINS:
        return True
    if module == "torch" and (_TORCH_STORAGE.match(full) or _TORCH_DTYPE.match(full)):
        return True
    if _TORCH_NN_CLASS.match(full):
        return True
    if full in _SKLEARN_FUNCTIONS:
        return True
    return bool(_SKLEARN_CLASS.match(full) and not module.startswith(_SKLEARN_DENY))


def _picklescan_unsafe(module: str, name: str) -> bool:
    try:
        from picklescan.scanner import _unsafe_globals
    except Exception:  # noqa: BLE001 - a picklescan without the table: our own list decides
        return False
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        entry = _unsafe_globals.get(".".join(parts[:i]))
        if entry is None:
            continue
        if entry == "*":
            return True
        if i == len(parts) and (name in entry if not isinstance(entry, str) else name == entry):
            return True
    return False


def is_dangerous_global(module: str, name: str) -> bool:
    """True for globals known to execute code, touch files or the network (severity critical)."""
    full = global_name(module, name)
    if module in ("builtins", "__builtin__") and name in _DANGEROUS_BUILTINS:
        return True
    if full in _DANGEROUS_EXACT:
        return True
    top = module.split(".", 1)[0]
    if top in _DANGEROUS_MODULES or module in _DANGEROUS_MODULES:
        return True
    return _picklescan_unsafe(module, name)


# --- Our opcode walk. -------------------------------------------------------------------------


#: joblib object arrays are nested pickles; deeper nesting than this is refused.
_MAX_NESTED_PICKLES = 16


class _ParseError(Exception):
    """The stream is not a well-formed pickle from this point on."""


class _Truncated(_ParseError):
    """The stream ended in the middle of an opcode or before STOP."""


class _Mark:
    """The MARK sentinel on the metastack."""


@dataclass
class _Global:
    module: str
    name: str


@dataclass
class _Call:
    func: Any
    args: Any
    state: Any = None


class _Opaque:
    """A value the walk does not model (an object built by a call, a skipped long argument)."""


_OPAQUE = _Opaque()
_SKIPPED = _Opaque()


@dataclass
class _WalkResult:
    globals: dict[tuple[str, str], bool] = field(default_factory=dict)
    """(module, name) -> invoked (called via REDUCE/NEWOBJ/INST/OBJ or built via BUILD)."""
    unresolved: int = 0
    """STACK_GLOBAL operands that were not plain strings (unknown imports)."""
    extensions: list[int] = field(default_factory=list)
    """copyreg extension codes used (EXT1/2/4): imports we cannot name."""
    pickles: int = 0
    """Complete pickles (reaching STOP) walked."""
    error: str | None = None
    """Why the walk stopped early, when it did."""
    truncated: bool = False
    """The walk stopped because the data ended (a prefix of a larger stream, or a cut file)."""
    opcodes: int = 0


class _Walker:
    """A symbolic pickle machine: it tracks literals and names, and never imports or calls."""

    def __init__(self, fh: IO[bytes], size: int | None, result: _WalkResult) -> None:
        self.fh = fh
        self.size = size
        self.result = result
        self.depth = 0

    # Reading ----------------------------------------------------------------------------------

    def _read(self, n: int) -> bytes:
        data = self.fh.read(n)
        if len(data) < n:
            raise _Truncated("pickle data was truncated")
        return data

    def _readline(self) -> bytes | None:
        """One newline-terminated line; None when it is longer than the cap (skipped)."""
        cap = limits.MAX_PICKLE_ARG_READ
        line = self.fh.readline(cap + 1)
        if line.endswith(b"\n"):
            return line
        if len(line) <= cap:
            raise _Truncated("pickle data was truncated")
        while True:  # a long protocol-0 text argument: step over it in bounded pieces
            piece = self.fh.readline(1 << 20)
            if not piece:
                raise _Truncated("pickle data was truncated")
            if piece.endswith(b"\n"):
                return None

    def _skip(self, n: int) -> None:
        if self.size is not None:
            pos = self.fh.tell()
            if pos + n > self.size:
                raise _ParseError("an argument runs past the end of the data")
            # Seeking past the end of a prefix is fine: the next read comes up short.
            self.fh.seek(n, io.SEEK_CUR)
            return
        while n > 0:
            chunk = self.fh.read(min(n, 1 << 20))
            if not chunk:
                raise _Truncated("pickle data was truncated")
            n -= len(chunk)

    def _read_arg(self, desc: pickletools.ArgumentDescriptor) -> Any:
        n = desc.n
        try:
            if n >= 0:
                return desc.reader(io.BytesIO(self._read(n)))
            if n == pickletools.UP_TO_NEWLINE:
                first = self._readline()
                second = self._readline() if desc.name == "stringnl_noescape_pair" else b""
                if first is None or second is None:
                    return _SKIPPED
                return desc.reader(io.BytesIO(first + second))
            if n == pickletools.TAKEN_FROM_ARGUMENT1:
                head = self._read(1)
                length = head[0]
            elif n == pickletools.TAKEN_FROM_ARGUMENT4:
                head = self._read(4)
                length = struct.unpack("<i", head)[0]
            elif n == pickletools.TAKEN_FROM_ARGUMENT4U:
                head = self._read(4)
                length = struct.unpack("<I", head)[0]
            elif n == pickletools.TAKEN_FROM_ARGUMENT8U:
                head = self._read(8)
                length = struct.unpack("<Q", head)[0]
            else:  # pragma: no cover - pickletools has no other kinds
                raise _ParseError(f"unknown argument kind {n}")
            if length < 0:
                raise _ParseError("negative length")
            if length > limits.MAX_PICKLE_ARG_READ:
                self._skip(length)
                return _SKIPPED
            return desc.reader(io.BytesIO(head + self._read(length)))
        except _ParseError:
            raise
        except (ValueError, UnicodeDecodeError, struct.error, OverflowError) as exc:
            raise _ParseError(f"bad {desc.name} argument: {exc}") from exc

    # Walking ----------------------------------------------------------------------------------

    def _note(self, value: Any, invoked: bool) -> None:
        if isinstance(value, _Global):
            key = (value.module, value.name)
            self.result.globals[key] = self.result.globals.get(key, False) or invoked

    def walk_one(self) -> None:
        """Walk one pickle up to and including STOP (raises _ParseError otherwise)."""
        stack: list[Any] = []
        metastack: list[list[Any]] = []
        memo: dict[int, Any] = {}

        def pop() -> Any:
            if not stack:
                raise _ParseError("stack underflow")
            return stack.pop()

        def pop_mark() -> list[Any]:
            nonlocal stack
            if not metastack:
                raise _ParseError("MARK missing")
            items = stack
            stack = metastack.pop()
            return items

        def top() -> Any:
            if not stack:
                raise _ParseError("stack underflow")
            return stack[-1]

        first = True
        while True:
            self.result.opcodes += 1
            if self.result.opcodes > limits.MAX_PICKLE_OPCODES:
                raise _ParseError(f"more than {limits.MAX_PICKLE_OPCODES} opcodes")
            pos = self.fh.tell()
            code = self.fh.read(1)
            if not code:
                raise _Truncated("pickle ended before STOP")
            op = OPCODES.get(code.decode("latin-1"))
            if op is None:
                raise _ParseError(f"unknown opcode {code!r} at byte {pos}")
            if first and op.name == "STOP":
                raise _ParseError("empty pickle")
            first = False
            arg: Any = self._read_arg(op.arg) if op.arg is not None else None
            name = op.name

            if name in ("PROTO", "FRAME"):
                continue
            if name == "STOP":
                pop()
                return
            if name == "MARK":
                metastack.append(stack)
                stack = []
            elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[_memo_index(arg)] = top()
            elif name == "MEMOIZE":
                memo[len(memo)] = top()
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                stack.append(memo.get(_memo_index(arg), _OPAQUE))
            elif name in ("GLOBAL", "INST"):
                if isinstance(arg, str):
                    module, _, gname = arg.partition(" ")
                    value = _Global(module, gname)
                else:  # a name longer than any real module path
                    self.result.unresolved += 1
                    value = _Global("?", "?")
                self._note(value, name == "INST")
                if name == "INST":
                    args = pop_mark()
                    stack.append(_Call(value, tuple(args)))
                else:
                    stack.append(value)
            elif name == "STACK_GLOBAL":
                gname_v = pop()
                module_v = pop()
                if isinstance(module_v, str) and isinstance(gname_v, str):
                    value = _Global(module_v, gname_v)
                    self._note(value, False)
                    stack.append(value)
                else:
                    self.result.unresolved += 1
                    stack.append(_Global("?", "?"))
            elif name in ("EXT1", "EXT2", "EXT4"):
                self.result.extensions.append(_memo_index(arg))
                stack.append(_OPAQUE)
            elif name == "REDUCE":
                args = pop()
                func = pop()
                self._note(func, True)
                stack.append(_Call(func, args))
            elif name == "NEWOBJ":
                args = pop()
                cls = pop()
                self._note(cls, True)
                stack.append(_Call(cls, args))
            elif name == "NEWOBJ_EX":
                pop()
                args = pop()
                cls = pop()
                self._note(cls, True)
                stack.append(_Call(cls, args))
            elif name == "OBJ":
                items = pop_mark()
                if not items:
                    raise _ParseError("OBJ without a class")
                self._note(items[0], True)
                stack.append(_Call(items[0], tuple(items[1:])))
            elif name == "BUILD":
                state = pop()
                target = top()
                self._note(target, True)
                if isinstance(target, _Call):
                    target.state = state
                    if _is_global(target.func, "joblib.numpy_pickle", "NumpyArrayWrapper"):
                        self._skip_joblib_array(state)
                        stack[-1] = _OPAQUE
                elif isinstance(target, _Global):
                    self._note(target, True)
            elif name in ("EMPTY_LIST",):
                stack.append([])
            elif name == "EMPTY_DICT":
                stack.append({})
            elif name == "EMPTY_TUPLE":
                stack.append(())
            elif name in ("EMPTY_SET",):
                stack.append(_OPAQUE)
            elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
                k = {"TUPLE1": 1, "TUPLE2": 2, "TUPLE3": 3}[name]
                items = [pop() for _ in range(k)][::-1]
                stack.append(tuple(items))
            elif name == "TUPLE":
                items = pop_mark()  # rebinds `stack`: take the items before appending
                stack.append(tuple(items))
            elif name == "LIST":
                items = pop_mark()
                stack.append(list(items))
            elif name == "DICT":
                items = pop_mark()
                stack.append(_make_dict(items))
            elif name == "APPEND":
                item = pop()
                target = top()
                if isinstance(target, list):
                    target.append(item)
            elif name == "APPENDS":
                items = pop_mark()
                target = top()
                if isinstance(target, list):
                    target.extend(items)
            elif name == "SETITEM":
                v = pop()
                k = pop()
                target = top()
                if isinstance(target, dict):
                    _set_item(target, k, v)
            elif name == "SETITEMS":
                items = pop_mark()
                target = top()
                if isinstance(target, dict):
                    for k, v in _make_dict(items).items():
                        target[k] = v
            elif name == "ADDITEMS":
                pop_mark()
                top()
            elif name == "FROZENSET":
                pop_mark()
                stack.append(_OPAQUE)
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
                stack.append(_OPAQUE)
            elif name == "BINPERSID":
                pop()
                stack.append(_OPAQUE)
            elif name == "NEXT_BUFFER":
                stack.append(_OPAQUE)
            elif name == "READONLY_BUFFER":
                top()
            elif name in ("NONE", "NEWTRUE", "NEWFALSE"):
                stack.append({"NONE": None, "NEWTRUE": True, "NEWFALSE": False}[name])
            else:
                # A literal: ints, floats, strings, bytes (skipped long ones stay opaque).
                if len(op.stack_before) != 0 or len(op.stack_after) != 1:  # pragma: no cover
                    raise _ParseError(f"opcode {name} not modelled")
                stack.append(arg)

    def _skip_joblib_array(self, state: Any) -> None:
        # joblib writes the array buffer right after the wrapper's BUILD (see joblib.numpy_pickle).
        if not isinstance(state, dict):
            raise _ParseError("joblib array wrapper with an unreadable state")
        dtype = state.get("dtype")
        shape = state.get("shape")
        if not (isinstance(dtype, _Call) and _is_global(dtype.func, "numpy", "dtype")):
            raise _ParseError("joblib array wrapper without a numpy dtype")
        if not (isinstance(dtype.args, tuple) and dtype.args and isinstance(dtype.args[0], str)):
            raise _ParseError("joblib array wrapper with an unreadable dtype")
        if not isinstance(shape, tuple) or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise _ParseError("joblib array wrapper with an unreadable shape")
        code = dtype.args[0]
        if code.startswith("O"):
            # Object arrays are a nested pickle (protocol 2) in the same stream.
            if self.depth >= _MAX_NESTED_PICKLES:
                raise _ParseError("joblib object arrays nested too deeply")
            self.depth += 1
            try:
                self.walk_one()
            finally:
                self.depth -= 1
            return
        if state.get("numpy_array_alignment_bytes") is not None:
            pad = self._read(1)[0]
            self._skip(pad)
        itemsize = _itemsize(code)
        count = 1
        for d in shape:
            count *= d
        self._skip(count * itemsize)


def _memo_index(arg: Any) -> int:
    if isinstance(arg, int) and not isinstance(arg, bool):
        return arg
    raise _ParseError("bad memo index")


def _is_global(value: Any, module: str, name: str) -> bool:
    return isinstance(value, _Global) and value.module == module and value.name == name


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _set_item(target: dict[Any, Any], key: Any, value: Any) -> None:
    if _hashable(key) and not isinstance(key, (_Opaque, _Global, _Call)):
        target[key] = value


def _make_dict(items: list[Any]) -> dict[Any, Any]:
    if len(items) % 2:
        raise _ParseError("odd number of items for a dict")
    out: dict[Any, Any] = {}
    for i in range(0, len(items), 2):
        _set_item(out, items[i], items[i + 1])
    return out


_DTYPE_CODE = re.compile(r"^([biufcmMOSUV])(\d*)")


def _itemsize(code: str) -> int:
    match = _DTYPE_CODE.match(code)
    if match is None:
        raise _ParseError(f"unknown dtype {code!r} in a joblib array wrapper")
    kind, digits = match.group(1), match.group(2)
    if not digits:
        return {"b": 1, "m": 8, "M": 8}.get(kind, 0) or _bad_dtype(code)
    size = int(digits)
    return size * 4 if kind == "U" else size


def _bad_dtype(code: str) -> int:
    raise _ParseError(f"dtype {code!r} without a size in a joblib array wrapper")


def walk_pickles(fh: IO[bytes], size: int | None, *, max_pickles: int | None = None) -> _WalkResult:
    """Walk one or more concatenated pickles from `fh` (bounded, never unpickling).

    Walking stops at end of data, after `max_pickles` pickles, or at the first parse error; data
    after at least one complete pickle that does not parse is not an error (legacy PyTorch files
    carry raw storage bytes after their pickles).
    """
    result = _WalkResult()
    walker = _Walker(fh, size, result)
    while max_pickles is None or result.pickles < max_pickles:
        start = fh.tell()
        if not fh.read(1):
            break
        fh.seek(start)
        try:
            walker.walk_one()
        except (_ParseError, RecursionError, MemoryError, TypeError, KeyError, IndexError) as exc:
            # Anything but _ParseError would be a gap in the walk: still never an escape.
            if not isinstance(exc, _ParseError):
                exc = _ParseError(f"{type(exc).__name__}: {exc}")
            if result.pickles == 0:
                result.error = str(exc)
                result.truncated = isinstance(exc, _Truncated)
            break
        result.pickles += 1
    return result


# --- Findings. --------------------------------------------------------------------------------


def _plausible(module: str, name: str) -> bool:
    return bool(_IDENT.match(module)) and bool(_IDENT.match(name))


def _picklescan_globals(data: bytes, location: str, multiple: bool) -> set[tuple[str, str]]:
    """Globals picklescan (strict mode) reports as not innocuous; never raises."""
    try:
        import logging

        from picklescan.scanner import SafetyLevel
        from picklescan.scanner import scan_pickle_bytes as ps_scan

        logging.getLogger("picklescan").setLevel(logging.CRITICAL)
        result = ps_scan(io.BytesIO(data), location, multiple_pickles=multiple, strict=True)
    except Exception:  # noqa: BLE001 - picklescan failing is covered by our own walk
        return set()
    return {(g.module, g.name) for g in result.globals if g.safety is not SafetyLevel.Innocuous}


def findings_for(
    location: str,
    walk: _WalkResult,
    extra_globals: Iterable[tuple[str, str]] = (),
) -> list[Finding]:
    """Turn a walk (plus picklescan's globals) into findings for one pickle stream."""
    names: dict[str, bool] = {}
    for (module, name), invoked in walk.globals.items():
        names[global_name(module, name)] = names.get(global_name(module, name), False) or invoked
    unknown = walk.unresolved
    for module, name in extra_globals:
        if "unknown" in (module, name):
            # picklescan could not resolve a STACK_GLOBAL operand; our walk resolves the memo,
            # so only count it when our walk did not finish.
            if walk.error is not None:
                unknown += 1
            continue
        if _plausible(module, name):
            names.setdefault(global_name(module, name), False)

    flagged: list[str] = []
    critical = False
    for full in sorted(names):
        module, _, name = full.rpartition(".")
        if not _plausible(module, name):
            continue  # not importable: the unpickler would fail on it before calling anything
        if is_allowed_global(module, name):
            continue
        flagged.append(full)
        critical = critical or is_dangerous_global(module, name)
    if unknown:
        flagged.append("<unresolved STACK_GLOBAL>")
    flagged.extend(f"<extension code {code}>" for code in walk.extensions)

    out: list[Finding] = []
    if flagged:
        severity = Severity.CRITICAL if critical else Severity.HIGH
        what = "dangerous" if critical else "non-allow-listed"
        out.append(
            Finding(
                rule=RULE,
                severity=severity,
                message=f"pickle imports {what} globals: {', '.join(flagged)}",
                path=location,
                details=tuple(flagged),
            )
        )
    if walk.error is not None:
        out.append(
            Finding(
                rule=RULE,
                severity=Severity.MEDIUM,
                message=f"unscannable: pickle could not be parsed fully ({walk.error}); "
                "it cannot be proven safe",
                path=location,
                details=(f"error: {walk.error}",),
            )
        )
    return out


def scan_pickle_bytes(
    data: bytes, location: str, *, max_pickles: int | None = None
) -> list[Finding]:
    """Findings for the pickle stream(s) in `data`; never unpickles, never raises on bad input."""
    walk = walk_pickles(io.BytesIO(data), len(data), max_pickles=max_pickles)
    extra = _picklescan_globals(data, location, multiple=max_pickles != 1)
    return findings_for(location, walk, extra)


def looks_like_pickle(data: bytes) -> bool:
    """True when `data` starts like a pickle: a PROTO opcode of protocol 2 to 5.

    Protocol 0/1 pickles have no header; callers decide those by walking them.
    """
    return len(data) >= 2 and data[0] == 0x80 and 2 <= data[1] <= 5
