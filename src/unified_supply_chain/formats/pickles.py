"""Raw pickle and joblib files: protocol, opcodes and named globals, without ever unpickling.

The opcode walk is the shared pickle machine (formats._pickle), the same one the safety scan
uses; sniffing and decompression are formats._sniff. Nothing is executed: no object is
ever constructed from the stream.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError
from unified_supply_chain.formats import _pickle
from unified_supply_chain.formats._pickle import STORAGE_DTYPES, TENSOR_REBUILDERS
from unified_supply_chain.formats._pickle_records import PickleWalk
from unified_supply_chain.formats._sniff import (
    TEXT_PICKLE_PROBE,
    TEXT_PICKLE_STARTS,
    compression_of,
    decompress_prefix,
    decompressed_pickle,
    is_pickle_head,
    looks_like_pickle,
)
from unified_supply_chain.formats._zip import ZipReader
from unified_supply_chain.records import HeaderInfo

#: Magic number that opens a legacy (pre-zip) torch.save file, pickled as the first object.
TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
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


def walk_pickle(
    fh: BinaryIO | None,
    size: int,
    start: int = 0,
    *,
    lenient: bool = False,
    max_opcodes: int = limits.MAX_PICKLE_OPCODES,
    data: bytes | None = None,
) -> PickleWalk:
    """Walk the opcodes of the one pickle that starts at `start` in `fh` (`size` bytes long).

    With `data`, the stream is those bytes and `fh` is not used.
    Raises FormatError for a bad opcode, a truncated stream or a bad argument, unless `lenient`,
    in which case the walk stops there and `error` says why. Stopping at `max_opcodes` is not an
    error: `complete` is then False.
    """
    found = _pickle.walk(fh, size, start, data=data, max_opcodes=max_opcodes)
    if found.error is not None and not lenient:
        raise FormatError(found.error)
    return found


def walk_pickle_bytes(data: bytes, *, lenient: bool = False) -> PickleWalk:
    """`walk_pickle` over an in-memory stream (a zip member)."""
    return walk_pickle(None, len(data), lenient=lenient, data=data)


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
            head[:1] in TEXT_PICKLE_STARTS
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
    found = decompress_prefix(fh, kind, limits.MAX_PICKLE_DECOMPRESS)
    architecture = None
    if found is None:
        properties["pickle.walk"] = "skipped"
    else:
        if not found.more and not found.ended:
            raise FormatError(f"{kind} stream is truncated")
        data = found.data
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
from unified_supply_chain.formats._sniff import is_pickle_start  # noqa: E402

_JOBLIB_SIGNATURE = b"joblib.numpy_pickle"


def sniff_pickle(head: bytes, name: str) -> bool:
    """PROTO 2..5 followed by an opcode (protocol 0/1 pickles are recognised by name only)."""
    return is_pickle_start(head)


def sniff_joblib(head: bytes, name: str) -> bool:
    """A pickle named *.joblib, or one that mentions joblib's array wrapper."""
    return sniff_pickle(head, name) and (_suffix(name) == ".joblib" or _JOBLIB_SIGNATURE in head)


def sniff_paddle_pickle(head: bytes, name: str) -> bool:
    """A pickle named *.pdparams/*.pdopt (paddle.save writes pickles: PaddlePaddle/Paddle
    python/paddle/framework/io.py, `_legacy_save` and `save` call pickle.dump, protocol 4)."""
    return sniff_pickle(head, name) and _suffix(name) in (".pdparams", ".pdopt")


SPECS = (
    FormatSpec(
        id="paddle-pickle",
        kind=Kind.MODEL,
        description="pickle as *.pdparams/*.pdopt (paddle.save); by name when protocol 0/1",
        extensions=(".pdparams", ".pdopt"),
        sniffs=(Sniff(86, sniff_paddle_pickle, needs_name=True),),
        reader=read_pickle,
        carries_pickles=True,
        safety="unified_supply_chain.safety.scan:scan_pickle",
    ),
    FormatSpec(
        id="joblib",
        kind=Kind.MODEL,
        description="pickle as *.joblib, or joblib's NumpyArrayWrapper; *.joblib by name",
        extensions=(".joblib",),
        # joblib.dump compresses by the file's extension (joblib/numpy_pickle.py,
        # _COMPRESSOR_EXTENSIONS): a compressed dump keeps its pickle name before it.
        name_patterns=(r".+\.(joblib|pkl|pickle|sav)\.(z|gz|bz2|lzma|xz|lz4)",),
        sniffs=(Sniff(101, sniff_joblib, needs_name=True),),
        reader=read_pickle,
        carries_pickles=True,
        safety="unified_supply_chain.safety.scan:scan_pickle",
    ),
    FormatSpec(
        id="pickle",
        kind=Kind.MODEL,
        description="\\x80 + protocol 2..5; protocol 0/1 only as *.pkl/*.pickle",
        extensions=(".pkl", ".pickle"),
        sniffs=(Sniff(102, sniff_pickle),),
        reader=read_pickle,
        carries_pickles=True,
        safety="unified_supply_chain.safety.scan:scan_pickle",
    ),
)
