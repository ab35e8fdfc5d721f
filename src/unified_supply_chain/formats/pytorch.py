"""PyTorch checkpoints: the zip layout of torch.save and the legacy (pre-1.6) pickle stream.

Tensor counts, dtypes and parameter counts come from an opcode walk of the pickle (the shapes
handed to torch's tensor rebuild calls); nothing is unpickled and no storage is read.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError
from unified_supply_chain.formats import pickles
from unified_supply_chain.formats._zip import ZipReader
from unified_supply_chain.records import HeaderInfo

_DATA_PKL = re.compile(r"^([^/]+)/data\.pkl$")
#: Largest small text member (version, byteorder) we read.
_SMALL_MEMBER = 64


def _tensor_properties(walk: pickles.PickleWalk, properties: dict[str, str]) -> int | None:
    """Fill tensor_count/dtypes from a walk; return the parameter count if every shape is known."""
    properties["tensor_count"] = str(len(walk.tensor_shapes))
    if walk.dtypes:
        properties["dtypes"] = ",".join(walk.dtypes)
    if not walk.complete or any(shape is None for shape in walk.tensor_shapes):
        properties["parameter_count"] = "unknown"
        return None
    return sum(math.prod(shape) for shape in walk.tensor_shapes if shape is not None)


def _header(
    fmt: str, walk: pickles.PickleWalk, properties: dict[str, str], pickle_members: tuple[str, ...]
) -> HeaderInfo:
    """A checkpoint's header from the walk of its object pickle: tensors, globals, architecture."""
    parameters = _tensor_properties(walk, properties)
    names_seen = [name for name, _ in walk.globals]
    if names_seen:
        properties["pickle.globals"] = ",".join(names_seen[: pickles.TOP_GLOBALS])
    return HeaderInfo(
        format=fmt,
        properties=properties,
        architecture=pickles.architecture_from_globals(names_seen),
        parameter_count=parameters,
        pickle_members=pickle_members,
    )


def _small_text(reader: ZipReader, name: str) -> str | None:
    if reader.listing.get(name) is None:
        return None
    raw = reader.read(name, _SMALL_MEMBER, prefix=True)
    text = raw.decode("ascii", "replace").strip()
    return text[:_SMALL_MEMBER] or None


def read_pytorch_zip(path: Path) -> HeaderInfo:
    """Read a torch.save zip archive's layout and tensor metadata. Raises FormatError only."""
    properties: dict[str, str] = {}
    with ZipReader(path) as reader:
        names = reader.listing.names
        archive = next((m.group(1) for n in names if (m := _DATA_PKL.match(n))), None)
        if archive is None:
            raise FormatError("zip archive has no <archive>/data.pkl: not a torch checkpoint")
        properties["archive"] = archive
        storage_prefix = f"{archive}/data/"
        storages = [
            m for m in reader.listing.members if m.name.startswith(storage_prefix) and not m.is_dir
        ]
        properties["storage_count"] = str(len(storages))
        properties["storage_bytes"] = str(sum(m.size for m in storages))
        for key in ("version", "byteorder"):
            text = _small_text(reader, f"{archive}/{key}") or _small_text(
                reader, f"{archive}/.data/{key}"
            )
            if text is not None:
                properties[key] = text
        data_pkl = reader.read(f"{archive}/data.pkl", limits.MAX_ZIP_MEMBER_READ)
        walk = pickles.walk_pickle_bytes(data_pkl)
        pickle_members = pickles.zip_pickle_members(reader)
    properties["protocol"] = str(walk.protocol)
    return _header("pytorch", walk, properties, tuple(pickle_members))


def read_pytorch_legacy(path: Path) -> HeaderInfo:
    """Read a legacy torch.save file: magic, protocol, sys_info, then the object pickle.

    Raises FormatError only (also when the first pickle is not torch's magic number).
    """
    properties: dict[str, str] = {"legacy": "true"}
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, 2)
            magic = pickles.walk_pickle(fh, size, 0)
            if magic.value != pickles.TORCH_LEGACY_MAGIC:
                raise FormatError("first pickle is not torch's legacy magic number")
            version = pickles.walk_pickle(fh, size, magic.end)
            sys_info = pickles.walk_pickle(fh, size, version.end)
            main = pickles.walk_pickle(fh, size, sys_info.end)
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}") from exc
    properties["protocol"] = str(magic.protocol)
    if isinstance(version.value, int):
        properties["protocol_version"] = str(version.value)
    properties["storage_refs"] = str(main.storages)
    return _header("pytorch-legacy", main, properties, ("",))


# --- Registry entries. -------------------------------------------------------------------------

from unified_supply_chain.formats import FormatSpec, Kind, Sniff  # noqa: E402
from unified_supply_chain.formats._names import suffix  # noqa: E402
from unified_supply_chain.formats._zip import first_member, is_zip  # noqa: E402

#: torch.save's legacy (non-zip) format: protocol 2, then LONG1 of 10 bytes = the magic number.
TORCH_LEGACY_HEAD = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19."
_ZIP_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt")


def sniff_torch_zip_members(head: bytes, name: str) -> bool:
    """A zip whose first member is torch.save's (`archive/data.pkl`, `*/version`, ...)."""
    member = first_member(head)
    return member is not None and (
        member == "data.pkl"
        or member.endswith(("/data.pkl", "/version", "/.format_version", "/constants.pkl"))
        or member == "version"
        or member.startswith("archive/")
    )


def sniff_torch_zip_name(head: bytes, name: str) -> bool:
    """Any other zip named like a checkpoint."""
    return is_zip(head) and suffix(name) in _ZIP_SUFFIXES


def sniff_torch_legacy(head: bytes, name: str) -> bool:
    """Protocol 2 pickle opening with torch's legacy magic number."""
    return head.startswith(TORCH_LEGACY_HEAD)


SPECS = (
    FormatSpec(
        id="pytorch",
        kind=Kind.MODEL,
        description="zip with */data.pkl or */version first; a zip as *.pt/.pth/.bin/.ckpt",
        name_patterns=(r"pytorch_model.*\.bin",),
        extensions=(".pt", ".pth", ".ckpt"),
        sniffs=(
            Sniff(82, sniff_torch_zip_members),
            Sniff(85, sniff_torch_zip_name, needs_name=True),
        ),
        reader=read_pytorch_zip,
        carries_pickles=True,
        safety="unified_supply_chain.safety.scan:scan_zip",
        pointer_extensions=(".bin",),
    ),
    FormatSpec(
        id="pytorch-legacy",
        kind=Kind.MODEL,
        description="pickle protocol 2 opening with torch's legacy magic number",
        sniffs=(Sniff(100, sniff_torch_legacy),),
        reader=read_pytorch_legacy,
        carries_pickles=True,
        safety="unified_supply_chain.safety.scan:scan_torch_legacy",
    ),
)
