"""Pickle safety at the opcode level: which globals a pickle would import, without unpickling it.

Two independent walks look at every pickle stream and their results are merged:

- picklescan's scanner in strict mode (every global outside its safe list is reported), and
- the shared pickle machine (formats._pickle, the one the format readers use), which never
  imports or calls anything: it resolves STACK_GLOBAL operands through the memo, sees
  INST/OBJ/NEWOBJ/REDUCE/BUILD targets and extension codes, steps over the raw array data joblib
  writes between opcodes, and seeks over long arguments so memory stays bounded.

Every global that is not on our allow-list of ordinary torch / numpy / scikit-learn / collections
globals is a finding: critical for known code-execution gadgets, high otherwise. A stream that
cannot be parsed to its end cannot be proven safe: medium.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from typing import BinaryIO

from unified_supply_chain import limits
from unified_supply_chain.formats._pickle import walk
from unified_supply_chain.formats._pickle_records import PickleWalk
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


def walk_pickles(fh: BinaryIO, size: int, *, max_pickles: int | None = None) -> PickleWalk:
    """Walk one or more concatenated pickles from `fh` (`size` bytes), never unpickling.

    Walking stops at end of data, after `max_pickles` pickles, or at the first parse error; data
    after at least one complete pickle that does not parse is not an error (legacy PyTorch files
    carry raw storage bytes after their pickles).
    """
    return walk(fh, size, max_streams=max_pickles)


def _walk_error(found: PickleWalk) -> str | None:
    if found.capped:
        return f"more than {limits.MAX_PICKLE_OPCODES} opcodes"
    return found.error


def findings_for(
    location: str,
    found: PickleWalk,
    extra_globals: Iterable[tuple[str, str]] = (),
) -> list[Finding]:
    """Turn a walk (plus picklescan's globals) into findings for one pickle stream."""
    error = _walk_error(found)
    names = {ref.dotted for ref in found.references if ref.resolved}
    unknown = found.unresolved
    for module, name in extra_globals:
        if "unknown" in (module, name):
            # picklescan could not resolve a STACK_GLOBAL operand; our walk resolves the memo,
            # so only count it when our walk did not finish.
            if error is not None:
                unknown += 1
            continue
        if _plausible(module, name):
            names.add(global_name(module, name))

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
    flagged.extend(f"<extension code {code}>" for code in found.extensions)

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
    if error is not None:
        out.append(
            Finding(
                rule=RULE,
                severity=Severity.MEDIUM,
                message=f"unscannable: pickle could not be parsed fully ({error}); "
                "it cannot be proven safe",
                path=location,
                details=(f"error: {error}",),
            )
        )
    return out


def scan_pickle_bytes(
    data: bytes, location: str, *, max_pickles: int | None = None
) -> list[Finding]:
    """Findings for the pickle stream(s) in `data`; never unpickles, never raises on bad input."""
    found = walk(None, len(data), data=data, max_streams=max_pickles)
    extra = _picklescan_globals(data, location, multiple=max_pickles != 1)
    return findings_for(location, found, extra)
