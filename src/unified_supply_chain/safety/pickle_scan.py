"""Pickle safety at the opcode level: which globals a pickle would import, without unpickling it.

Two independent walks look at every pickle stream and their results are merged:

- the shared pickle machine (formats._pickle, the one the format readers use), which reads
  opcodes as CPython's unpickler does and never imports or calls anything: STACK_GLOBAL
  operands resolve through the memo, Python 2 names are mapped as `find_class` maps them, calls
  are recorded, and every stream of the file is walked; and
- picklescan's scanner in strict mode, a second opinion (its failure is not "clean").

A global is allowed only when its exact (module, qualified name) pair is in
`allowed_globals.txt`, one commented entry per line: no name families and no traversal past an
allowed name (protocol 4 resolves `a.b.c` attribute by attribute). Any other global is HIGH,
CRITICAL when it is a known code-execution gadget or reaches one. A stream that cannot be walked
to its end, a cap reached, a call whose effect is not established: "could not be verified
safe", HIGH, because the real loader may run what the walk did not see.
"""

from __future__ import annotations

import _compat_pickle
import io
import re
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import BinaryIO

from unified_supply_chain import limits
from unified_supply_chain.formats._pickle import walk
from unified_supply_chain.formats._pickle_records import PickleWalk
from unified_supply_chain.records import Finding, Severity
from unified_supply_chain.safety.unverified import is_unverified as is_unverified
from unified_supply_chain.safety.unverified import unverified as unverified

RULE = "unsafe-serialization"
_BUILTINS = ("builtins", "__builtin__")

# --- The allow-list: exact pairs from the data file. --------------------------------------------


@cache
def allowed_pairs() -> frozenset[tuple[str, str]]:
    """The (module, qualified name) pairs of `allowed_globals.txt`."""
    text = resources.files(__package__).joinpath("allowed_globals.txt").read_text("utf-8")
    return frozenset(parse_allow_list(text))


def parse_allow_list(text: str) -> list[tuple[str, str]]:
    """Entries of an allow-list file: `module qualname  # comment` lines; `#` lines are comments.

    A line that is not exactly two names and a comment is an error: the list is a reviewed
    security decision, so a malformed entry must not be dropped silently.
    """
    out: list[tuple[str, str]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        entry, sep, comment = line.partition("#")
        parts = entry.split()
        if len(parts) != 2 or not sep or not comment.strip():
            raise ValueError(f"allowed_globals.txt line {number}: expected 'module name  # why'")
        if not (_IDENT.match(parts[0]) and _IDENT.match(parts[1])):
            raise ValueError(f"allowed_globals.txt line {number}: not a dotted identifier")
        out.append((parts[0], parts[1]))
    return out


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
#: Final attributes that run code, load files or touch the file system, in any module.
_DANGEROUS_ATTRS: frozenset[str] = frozenset(
    {
        "system",
        "popen",
        "Popen",
        "spawnl",
        "spawnv",
        "execv",
        "execve",
        "execl",
        "exec",
        "eval",
        "execfile",
        "compile",
        "import_module",
        "run_path",
        "run_module",
        "getoutput",
        "getstatusoutput",
        "check_output",
        "check_call",
        "load",
        "loads",
        "read_pickle",
        "urlopen",
        "rmtree",
        "unlink",
        "remove",
    }
)
#: Modules whose globals unpickle what they are given (a nested load of unscanned bytes).
LOADS_OTHER_FILES: dict[str, str] = {
    "joblib.numpy_pickle_compat.NDArrayWrapper": (
        "legacy joblib: loads the file it names with numpy.load(allow_pickle=True)"
    ),
    "joblib.numpy_pickle_compat.ZNDArrayWrapper": "legacy joblib: loads the file it names",
}


def global_name(module: str, name: str) -> str:
    """The dotted name we report for a global (`module.name`)."""
    return f"{module}.{name}"


def is_allowed_global(module: str, name: str) -> bool:
    """True when (module, name) is exactly a pair of the allow-list."""
    if module == "__builtin__":
        module = "builtins"
    return (module, name) in allowed_pairs()


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
    """True for globals known to execute code, touch files or the network (severity critical).

    A dotted name is judged on the whole attribute path the unpickler walks: a dangerous module
    anywhere on it (`sklearn.utils.fixes` + `np.f2py.subprocess.Popen`), a dunder step
    (`OrderedDict.__init__.__globals__`) or a dangerous final attribute.
    """
    full = global_name(module, name)
    steps = name.split(".")
    if module in _BUILTINS and steps[0] in _DANGEROUS_BUILTINS:
        return True
    if full in _DANGEROUS_EXACT or full in LOADS_OTHER_FILES:
        return True
    # The module's own dotted path names submodules of its top package (numpy.random._pickle is
    # not the _pickle module); attributes along the name are objects, modules included.
    if module.split(".", 1)[0] in _DANGEROUS_MODULES or module in _DANGEROUS_MODULES:
        return True
    if any(part in _DANGEROUS_MODULES for part in steps[:-1]):
        return True
    if any(s.startswith("__") and s.endswith("__") and len(s) > 4 for s in steps):
        return True
    if len(steps) > 1 and steps[-1] in _DANGEROUS_ATTRS:
        return True
    for i in range(1, len(steps)):
        # The attribute path may pass through a module object (`numpy` + `f2py.os.system`).
        if is_dangerous_global(".".join([module, *steps[:i]]), ".".join(steps[i:])):
            return True
    return _picklescan_unsafe(module, name)


# --- Findings. --------------------------------------------------------------------------------


def _plausible(module: str, name: str) -> bool:
    return bool(_IDENT.match(module)) and bool(_IDENT.match(name))


def _picklescan_globals(
    data: bytes, location: str, multiple: bool
) -> tuple[set[tuple[str, str]], str | None]:
    """Globals picklescan (strict mode) reports as not innocuous, and its error if it failed."""
    try:
        import logging

        from picklescan.scanner import SafetyLevel
        from picklescan.scanner import scan_pickle_bytes as ps_scan

        logging.getLogger("picklescan").setLevel(logging.CRITICAL)
        result = ps_scan(io.BytesIO(data), location, multiple_pickles=multiple, strict=True)
    except Exception as exc:  # noqa: BLE001 - any failure of the second opinion is reported
        return set(), f"picklescan failed: {type(exc).__name__}: {exc}"
    found = {(g.module, g.name) for g in result.globals if g.safety is not SafetyLevel.Innocuous}
    return found, ("picklescan could not parse the stream" if result.scan_err else None)


def walk_reasons(found: PickleWalk, *, later_streams: bool = True) -> list[str]:
    """Why a walk does not prove the stream(s) safe (empty when it does)."""
    reasons: list[str] = []
    if found.capped:
        reasons.append(f"more than {limits.MAX_PICKLE_OPCODES} opcodes")
    if found.error is not None:
        reasons.append(f"the pickle could not be parsed fully ({found.error})")
    if later_streams and found.later_error is not None:
        reasons.append(f"data after the pickle could not be parsed ({found.later_error})")
    reasons.extend(found.unverified)
    return reasons


def findings_for(
    location: str,
    found: PickleWalk,
    extra_globals: Iterable[tuple[str, str]] = (),
    *,
    reasons: Iterable[str] = (),
    later_streams: bool = True,
) -> list[Finding]:
    """Turn a walk (plus other views' globals and reasons) into findings for one location."""
    names = {(ref.module, ref.name) for ref in found.references if ref.resolved}
    unknown = found.unresolved
    for module, name in extra_globals:
        if "unknown" in (module, name) or "None" in (module, name):
            # picklescan could not resolve a STACK_GLOBAL operand ("unknown"), or resolved it
            # through a memo entry of another stream (str(None): an object array's nested
            # pickle has its own memo); our walk resolves operands as the unpickler does.
            continue
        names.add((module, name))

    flagged: list[str] = []
    critical = False
    for module, name in sorted(names):
        if not _plausible(module, name):
            continue  # not importable: the unpickler fails on it before calling anything
        if is_allowed_global(module, name):
            continue
        flagged.append(global_name(module, name))
        critical = critical or is_dangerous_global(module, name)
    if unknown:
        flagged.append("<unresolved STACK_GLOBAL>")
    flagged.extend(f"<extension code {code}>" for code in found.extensions)

    out: list[Finding] = []
    if flagged:
        severity = Severity.CRITICAL if critical else Severity.HIGH
        what = "dangerous" if critical else "non-allow-listed"
        notes = [LOADS_OTHER_FILES[n] for n in flagged if n in LOADS_OTHER_FILES]
        out.append(
            Finding(
                rule=RULE,
                severity=severity,
                message=f"pickle imports {what} globals: {', '.join(flagged)}"
                + "".join(f" ({n})" for n in notes),
                path=location,
                details=tuple(flagged),
            )
        )
    why = [*walk_reasons(found, later_streams=later_streams), *reasons]
    if why:
        out.append(unverified(location, "; ".join(dict.fromkeys(why))))
    return out


def second_opinion(
    data: bytes, location: str, found: PickleWalk, *, multiple: bool, raw_tail: bool = False
) -> tuple[set[tuple[str, str]], list[str]]:
    """picklescan's globals for `data` and why its verdict is missing (never "clean" by error).

    picklescan walks joblib files linearly, reading the raw array bytes as opcodes: its parse
    error there is expected once our walk stepped over array data, and is not a reason; so is
    its error on the raw bytes after a legacy torch file's pickles (`raw_tail`). Its names are
    mapped as find_class maps Python 2 names (it reports them as written).
    """
    extra, error = _picklescan_globals(data, location, multiple=multiple)
    extra = {_py3_name(module, name) for module, name in extra}
    if error is None or found.wrappers or raw_tail:
        return extra, []
    return extra, [error]


def _py3_name(module: str, name: str) -> tuple[str, str]:
    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(module, name)]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


def judge_walks(
    location: str,
    found: PickleWalk,
    plain: PickleWalk | None,
    extra: Iterable[tuple[str, str]] = (),
    reasons: Iterable[str] = (),
    *,
    later_streams: bool = True,
) -> list[Finding]:
    """Findings of the joblib-aware walk, merged with the plain-loader view when there is one.

    A plain `pickle.load` reads joblib's array bytes as opcodes: what it would import there
    counts. Its parse error is expected (array data is not a pickle); its cap is not.
    """
    names = set(extra)
    why = list(reasons)
    if plain is not None:
        names |= {(r.module, r.name) for r in plain.references if r.resolved}
        if plain.capped:
            why.append("read as a plain pickle, the array data runs past the opcode cap")
    return findings_for(location, found, names, reasons=why, later_streams=later_streams)


def plain_view(
    fh: BinaryIO | None,
    size: int,
    found: PickleWalk,
    *,
    data: bytes | None = None,
    max_pickles: int | None = None,
) -> PickleWalk | None:
    """The walk a plain pickle.load makes of a file with joblib arrays (None without arrays)."""
    if not found.wrappers:
        return None
    return walk(fh, size, data=data, max_streams=max_pickles, joblib=False)


def judge_bytes(
    data: bytes, location: str, *, max_pickles: int | None = None, raw_tail: bool = False
) -> tuple[list[Finding], PickleWalk]:
    """Findings for the pickle stream(s) in `data`, and the walk they come from.

    Both views (joblib's and a plain pickle.load's) and picklescan's second opinion; `raw_tail`:
    raw bytes follow the last pickle (legacy torch storages after five pickles).
    """
    found = walk(None, len(data), data=data, max_streams=max_pickles)
    plain = plain_view(None, len(data), found, data=data, max_pickles=max_pickles)
    extra, why = second_opinion(data, location, found, multiple=max_pickles != 1, raw_tail=raw_tail)
    findings = judge_walks(location, found, plain, extra, why, later_streams=not raw_tail)
    return findings, found


def scan_pickle_bytes(
    data: bytes, location: str, *, max_pickles: int | None = None
) -> list[Finding]:
    """Findings for the pickle stream(s) in `data`; never unpickles, never raises on bad input."""
    return judge_bytes(data, location, max_pickles=max_pickles)[0]
