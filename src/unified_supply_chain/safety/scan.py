"""Safety scan of one artifact file: dispatch on what its bytes are, by the format registry.

`scan_file(path, relpath, fmt)` sniffs the file's first bytes with the registry's content rules
(`discover.classify.sniff_format`) and runs the safety hook of the format found, whatever the
file's name or the format id it was given: a renamed zip is scanned as a zip. A file no sniff
recognises is inflated when it is compressed (joblib), walked as a pickle when its name says it
holds pickles, and otherwise walked heuristically when its start walks like a pickle.

Archive members are scanned by the same dispatch (`scan_source`), depth-limited. Nothing is ever
unpickled, and what cannot be read or fully analysed is a HIGH "could not be verified safe"
finding (it fails the gate), never an exception and never a milder verdict.
"""

from __future__ import annotations

import io
import lzma
import posixpath
import re
import shutil
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

from unified_supply_chain import limits
from unified_supply_chain.errors import UscError
from unified_supply_chain.formats import FormatSpec, registry, resolve
from unified_supply_chain.formats._pickle import walk
from unified_supply_chain.formats._pickle_read import ByteRange
from unified_supply_chain.formats._pickle_records import PickleWalk
from unified_supply_chain.formats._sniff import compression_of, could_hold_pickle, decompress_prefix
from unified_supply_chain.records import Finding, Severity
from unified_supply_chain.safety.gguf import CHAT_TEMPLATE_RULE, chat_template_findings
from unified_supply_chain.safety.keras import (
    hdf5_findings,
    keras_config_findings,
    zip_config_findings,
)
from unified_supply_chain.safety.pickle_scan import (
    judge_bytes,
    judge_walks,
    plain_view,
    unverified,
)

__all__ = [
    "CHAT_TEMPLATE_RULE",
    "Scanner",
    "Source",
    "chat_template_findings",
    "keras_config_findings",
    "scan_file",
    "scan_source",
]

_PICKLE_NAMES = (".pkl", ".pickle", ".joblib", "data.pkl")
_PREFIX = 4096
# Errors the standard library raises on hostile containers (each: "could not be verified safe").
INPUT_ERRORS = (
    OSError,
    EOFError,
    ValueError,
    KeyError,
    IndexError,
    NotImplementedError,
    RuntimeError,
    struct.error,
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    UnicodeDecodeError,
    OverflowError,
    RecursionError,
    MemoryError,
    UscError,
)


@dataclass(frozen=True)
class Source:
    """Content to scan: a file, or a member of an archive being scanned."""

    fh: BinaryIO
    """Seekable stream of the content (a file, a zip member, a window on a tar member)."""
    size: int
    """Its length in bytes."""
    location: str
    """How findings name it: the repo-relative path, `archive!member` for members."""
    name: str
    """Lower-case file or member name, for the sniffs that look at names."""
    fmt: str = ""
    """Format id its name gave it (a hint; content wins)."""
    depth: int = 0
    """Archives around it."""
    path: Path | None = None
    """The file on disk, for a top-level file."""


StreamScan = Callable[[Source], "list[Finding]"]


@dataclass(frozen=True)
class Scanner:
    """A format's safety hook: called on a file by the registry, on a Source for members."""

    stream: StreamScan
    pickle_stream: bool = False
    """The content is a pickle stream (members that only look like one are walked leniently)."""
    reads_compressed: bool = False
    """The scanner reads its format compressed too (a gzipped tar)."""

    def __call__(self, path: Path, relpath: str, fmt: str) -> list[Finding]:
        """(file, repo-relative path, format id) -> findings; never raises on bad input."""
        try:
            with path.open("rb") as fh:
                size = fh.seek(0, 2)
                fh.seek(0)
                src = Source(fh, size, relpath, _basename(relpath), fmt, 0, path)
                return self.scan(src)
        except INPUT_ERRORS as exc:
            return [unverified(relpath, f"{type(exc).__name__}: {exc}")]

    def scan(self, src: Source) -> list[Finding]:
        """Findings of `src`; what cannot be read is one "could not be verified" finding."""
        try:
            src.fh.seek(0)
            return self.stream(src)
        except INPUT_ERRORS as exc:
            return [unverified(src.location, f"{type(exc).__name__}: {exc}")]


def _basename(relpath: str) -> str:
    return posixpath.basename(relpath.rstrip("/")).lower()


def scan_file(path: Path, relpath: str, fmt: str) -> list[Finding]:
    """Safety findings for one file (`relpath` is how findings name it; `fmt` is a hint).

    Never raises on bad input: what cannot be read is reported as a finding.
    """
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, 2)
            fh.seek(0)
            return scan_source(Source(fh, size, relpath, _basename(relpath), fmt, 0, path))
    except INPUT_ERRORS as exc:
        return [unverified(relpath, f"{type(exc).__name__}: {exc}")]


def _read_at_start(src: Source, n: int) -> bytes:
    src.fh.seek(0)
    data = src.fh.read(n)
    src.fh.seek(0)
    return data


def _sniffed(head: bytes, name: str) -> FormatSpec | None:
    from unified_supply_chain.discover.classify import sniff_format

    return sniff_format(head[: limits.SNIFF_BYTES], name)


def run_hook(spec: FormatSpec, src: Source) -> list[Finding]:
    """The safety hook of `spec` on `src` (a hook that only reads files gets a bounded copy)."""
    if spec.safety is None:
        return []
    hook = resolve(spec.safety)
    if isinstance(hook, Scanner):
        return hook.scan(src)
    if src.path is not None:
        return hook(src.path, src.location, spec.id)
    with tempfile.TemporaryDirectory(prefix="usc-member-") as tmp:
        copy = Path(tmp) / "member"
        with copy.open("wb") as out:
            src.fh.seek(0)
            shutil.copyfileobj(_Capped(src.fh, limits.MAX_ZIP_MEMBER_READ), out)
        return hook(copy, src.location, spec.id)


class _Capped(io.RawIOBase):
    """Reads through to `fh`, refusing to produce more than `cap` bytes."""

    def __init__(self, fh: BinaryIO, cap: int) -> None:
        self._fh, self._left = fh, cap

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._fh.read(len(buffer))
        if len(data) > self._left:
            raise UscError(f"member larger than {limits.MAX_ZIP_MEMBER_READ} bytes")
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)


def scan_source(src: Source) -> list[Finding]:
    """Findings for content of any kind: the registry's sniff picks the scanner."""
    head = _read_at_start(src, _PREFIX)
    spec = _sniffed(head, src.name)
    named = registry().get(src.fmt)
    if spec is not None:
        findings = run_hook(spec, src)
        if not spec.carries_pickles and (
            (named is not None and named.carries_pickles) or could_hold_pickle(head, src.size)
        ):
            # pickle.load reads any bytes as opcodes: a polyglot (a GGUF header that is also
            # BINFLOAT's argument) must not hide a pickle behind the format its magic names.
            findings += _heuristic_findings(_pickle_findings(src))
        return findings
    if named is not None and named.safety is not None and not named.carries_pickles:
        # Recognised by name only (a TensorRT engine): its own hook, and a pickle walk when the
        # bytes could be one.
        findings = run_hook(named, src)
        if could_hold_pickle(head, src.size):
            findings += _heuristic_findings(_pickle_findings(src))
        return findings
    compression = compression_of(head)
    if compression is not None:
        return _scan_compressed(src, compression)
    if named is not None and named.carries_pickles:
        legacy = named.id == "pytorch-legacy"
        return _pickle_findings(src, max_pickles=5 if legacy else None, raw_tail=legacy)
    # Any other file is scanned only when its start walks like a pickle (a renamed payload).
    if could_hold_pickle(head, src.size):
        return _heuristic_findings(_pickle_findings(src))
    return []


def scan_member(src: Source) -> list[Finding]:
    """Findings for one archive member: containers by the registry, pickles by name or shape."""
    if src.depth > limits.MAX_ARCHIVE_DEPTH:
        return [unverified(src.location, f"nested more than {limits.MAX_ARCHIVE_DEPTH} deep")]
    prefix = _read_at_start(src, _PREFIX)
    spec = _sniffed(prefix, src.name)
    hook = resolve(spec.safety) if spec is not None and spec.safety is not None else None
    if spec is not None and not (isinstance(hook, Scanner) and hook.pickle_stream):
        return run_hook(spec, src)
    if src.name.endswith(_PICKLE_NAMES):
        return _pickle_findings(src)
    if not could_hold_pickle(prefix, src.size):
        return []
    return _heuristic_findings(_pickle_findings(src))


def _heuristic_findings(findings: list[Finding]) -> list[Finding]:
    """Findings for a stream found by content only (nothing says it is a pickle).

    Data that merely starts like a pickle is common (text, raw arrays). It is reported when it
    names a dangerous global (whatever else happens, the loader reaches it), or when it walks
    to its end as a clean pickle and names a global off the allow-list. A walk that fails
    without naming a dangerous global is data the unpickler fails on too: not reported.
    """
    from unified_supply_chain.safety.pickle_scan import is_unverified

    if any(f.severity is Severity.CRITICAL for f in findings):
        return findings
    if any(is_unverified(f) for f in findings):
        return []
    return findings


# --- Pickle streams. ---------------------------------------------------------------------------


def _pickle_findings(
    src: Source, *, max_pickles: int | None = None, raw_tail: bool = False
) -> list[Finding]:
    """Every pickle stream of `src`, as joblib and as a plain pickle.load would read them.

    `raw_tail`: raw bytes follow the last pickle (legacy torch storages after five pickles).
    """
    src.fh.seek(0)
    if src.size <= limits.MAX_PICKLE_DECOMPRESS:
        data = src.fh.read(src.size)
        return pickle_data_findings(data, src, max_pickles=max_pickles, raw_tail=raw_tail)
    # Too large to hold in memory for picklescan: our own walk streams and seeks over weights.
    found = walk(src.fh, src.size, max_streams=max_pickles)
    plain = plain_view(src.fh, src.size, found, max_pickles=max_pickles)
    findings = judge_walks(src.location, found, plain, later_streams=not raw_tail)
    return findings + _nested_findings(src, found, lambda r: _window(src.fh, r))


def pickle_data_findings(
    data: bytes, src: Source, *, max_pickles: int | None = None, raw_tail: bool = False
) -> list[Finding]:
    """Findings for pickle stream(s) held in memory (`src` names them and gives the depth)."""
    findings, found = judge_bytes(data, src.location, max_pickles=max_pickles, raw_tail=raw_tail)
    return findings + _nested_findings(
        src, found, lambda r: io.BytesIO(data[r.offset : r.offset + r.length])
    )


def _window(fh: BinaryIO, r: ByteRange) -> BinaryIO:
    fh.seek(r.offset)
    return io.BytesIO(fh.read(min(r.length, limits.MAX_PICKLE_DECOMPRESS)))


def _nested_findings(
    src: Source, found: PickleWalk, nested_bytes: Callable[[ByteRange], BinaryIO]
) -> list[Finding]:
    """Findings of the bytes the walked stream torch.loads (`_load_from_bytes`), as files."""
    findings: list[Finding] = []
    for r in found.nested:
        location = f"{src.location}!<bytes at {r.offset}>"
        if r.length > limits.MAX_PICKLE_DECOMPRESS:
            findings.append(unverified(location, f"nested file of {r.length} bytes"))
            continue
        if src.depth >= limits.MAX_ARCHIVE_DEPTH:
            findings.append(unverified(location, "nested files too deep"))
            continue
        sub = Source(nested_bytes(r), r.length, location, "", "pytorch", src.depth + 1)
        findings.extend(scan_source(sub))
    return findings


def _scan_pickle(src: Source) -> list[Finding]:
    compression = compression_of(_read_at_start(src, 16))
    if compression is not None:
        return _scan_compressed(src, compression)
    return _pickle_findings(src)


scan_pickle = Scanner(_scan_pickle, pickle_stream=True)
"""A pickle or joblib file (compressed joblib is inflated under a cap first)."""
scan_torch_legacy = Scanner(
    lambda src: _pickle_findings(src, max_pickles=5, raw_tail=True), pickle_stream=True
)
"""torch.save's legacy format: magic, protocol, system info, the object, storage keys."""


# --- Compressed joblib (and compressed archives). ------------------------------------------------


def _scan_compressed(src: Source, kind: str) -> list[Finding]:
    cap = limits.MAX_PICKLE_DECOMPRESS
    src.fh.seek(0)
    found = decompress_prefix(src.fh, kind, cap)
    if found is None:
        return [unverified(src.location, f"{kind} compression is not supported by the scanner")]
    inner = _sniffed(found.data, src.name)
    hook = resolve(inner.safety) if inner is not None and inner.safety is not None else None
    if isinstance(hook, Scanner) and hook.reads_compressed:
        return hook.scan(src)  # a gzipped tar is a tar of members, not a pickle
    if found.more:
        return [unverified(src.location, f"{kind} stream inflates past {cap} bytes")]
    if not found.data:
        return [unverified(src.location, f"empty or corrupt {kind} stream")]
    # A stream cut short is walked as far as it goes (the walk then reports it truncated).
    return pickle_data_findings(found.data, src)


# --- .npy object arrays. -----------------------------------------------------------------------


#: The descr strings numpy itself writes for a dtype without objects (`dtype.descr` typestrs:
#: numpy/lib/format.py `dtype_to_descr`). A header may spell a dtype any way `numpy.dtype`
#: accepts ('object', 'O', [('a', 'O')], ('O', (2,)), nested fields); every spelling outside
#: this plain form is treated as holding objects, so the data is walked as the pickle it is.
_PLAIN_DESCR = re.compile(r"^[<>|=]?(?:[biufcSUVa?]\d*|[mM]8(?:\[\w+\])?)$")


def descr_may_hold_objects(descr: Any, depth: int = 0) -> bool:
    """True unless the .npy descr is, everywhere, one of numpy's plain non-object typestrs."""
    if depth > 32:
        return True
    if isinstance(descr, str):
        return not _PLAIN_DESCR.match(descr)
    if isinstance(descr, tuple):  # (base, shape): a subarray
        return len(descr) != 2 or descr_may_hold_objects(descr[0], depth + 1)
    if isinstance(descr, list):  # [(name, descr[, shape]), ...]; name may be (title, name)
        return not descr or any(
            not (isinstance(f, tuple) and len(f) in (2, 3))
            or descr_may_hold_objects(f[1], depth + 1)
            for f in descr
        )
    return True


def _scan_npy(src: Source) -> list[Finding]:
    from unified_supply_chain.formats.numpy_files import parse_npy_header

    head = src.fh.read(12 + limits.MAX_NPY_HEADER)
    header, offset = parse_npy_header(head)
    if not descr_may_hold_objects(header["descr"]):
        return []
    # numpy.lib.format.read_array: an object array's data is one pickle.load after the header.
    size = src.size - offset
    if size > limits.MAX_PICKLE_DECOMPRESS:
        src.fh.seek(offset)
        window = cast(BinaryIO, _Window(src.fh, offset, size))
        return _pickle_findings(Source(window, size, src.location, src.name, "", src.depth))
    src.fh.seek(offset)
    return pickle_data_findings(src.fh.read(size), src, max_pickles=1)


class _Window(io.RawIOBase):
    """A read-only view of `size` bytes of `fh` from `start` (seekable)."""

    def __init__(self, fh: BinaryIO, start: int, size: int) -> None:
        self._fh, self._start, self._size, self._pos = fh, start, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, buffer: Any) -> int:
        n = max(0, min(len(buffer), self._size - self._pos))
        self._fh.seek(self._start + self._pos)
        data = self._fh.read(n)
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)


scan_npy = Scanner(_scan_npy)
""".npy files: an object array's data is a pickle."""


# --- Zip containers (PyTorch, .npz, .keras, any zip). --------------------------------------


def zip_members(src: Source, reader: Any) -> list[Finding]:
    """Findings of every file member of an open ZipReader, each by `scan_member`."""
    findings: list[Finding] = []
    for member in reader.listing.members:
        if member.is_dir:
            continue
        location = f"{src.location}!{member.name}"
        try:
            with reader.open_member(member.name) as fh:
                sub = Source(
                    cast(BinaryIO, fh),
                    member.size,
                    location,
                    _basename(member.name),
                    "",
                    src.depth + 1,
                )
                findings.extend(scan_member(sub))
        except INPUT_ERRORS as exc:
            findings.append(unverified(location, f"{type(exc).__name__}: {exc}"))
    return findings


def _scan_zip(src: Source) -> list[Finding]:
    from unified_supply_chain.formats._zip import ZipReader

    with ZipReader(src.path if src.path is not None else src.fh) as reader:
        findings = zip_members(src, reader)
        names = set(reader.listing.names)
        keras = src.fmt == "keras" or src.name.endswith(".keras") or "metadata.json" in names
        if "config.json" in names and keras:
            findings.extend(zip_config_findings(reader, src.location))
    return findings


scan_zip = Scanner(_scan_zip)
"""Any zip: every member by content; a Keras model's config.json for Lambda layers."""


# --- HDF5 (legacy Keras). ------------------------------------------------------------------------

scan_hdf5 = Scanner(lambda src: hdf5_findings(src.fh, src.size, src.location))
"""Legacy Keras `.h5` models keep Lambda layers (marshalled code) in their config attribute."""
