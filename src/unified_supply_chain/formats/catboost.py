"""CatBoost `.cbm` models: `CBM1`, the core's byte size (ui32), then a flatbuffers TModelCore.

Schema: catboost/catboost catboost/libs/model/flatbuffers/model.fbs (TModelCore: FormatVersion,
ObliviousTrees, InfoMap of TKeyValue, ModelPartIds; TObliviousTrees: ApproxDimension,
TreeSplits, TreeSizes, ...), written after the magic and size by TFullModel::Save in
catboost/libs/model/model.cpp. Every offset is checked against the core before it is followed.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError
from unified_supply_chain.records import HeaderInfo

MAGIC = b"CBM1"
#: InfoMap entries copied into properties (the `params` JSON is large and left out).
KEPT_INFO = ("model_guid", "train_finish_time")
_RELEASE = re.compile(r"tags/v(\d+(?:\.\d+)+)")


class _Flat:
    """Bounds-checked reads of a flatbuffer."""

    def __init__(self, buf: bytes) -> None:
        self.buf = buf

    def u32(self, pos: int) -> int:
        if pos < 0 or pos + 4 > len(self.buf):
            raise FormatError(f"flatbuffer offset {pos} is outside the model core")
        value: int = struct.unpack_from("<I", self.buf, pos)[0]
        return value

    def field(self, table: int, index: int) -> int | None:
        """Absolute position of a table's field, or None when it is absent."""
        vtable = table - struct.unpack("<i", struct.pack("<I", self.u32(table)))[0]
        if vtable < 0 or vtable + 4 > len(self.buf):
            raise FormatError("flatbuffer vtable is outside the model core")
        size = struct.unpack_from("<H", self.buf, vtable)[0]
        slot = 4 + 2 * index
        if slot + 2 > size or vtable + slot + 2 > len(self.buf):
            return None
        offset = struct.unpack_from("<H", self.buf, vtable + slot)[0]
        return table + offset if offset else None

    def ref(self, pos: int) -> int:
        return pos + self.u32(pos)

    def vector(self, pos: int, width: int) -> tuple[int, int]:
        """(start, length) of the vector referenced at `pos`."""
        start = self.ref(pos)
        length = self.u32(start)
        if start + 4 + length * width > len(self.buf):
            raise FormatError("flatbuffer vector runs past the model core")
        return start + 4, length

    def string(self, pos: int, cap: int = 200) -> str:
        start, length = self.vector(pos, 1)
        return self.buf[start : start + min(length, cap)].decode("utf-8", "replace")


def read_catboost(path: Path) -> HeaderInfo:
    """Read a CatBoost model's format version, tree count and info map. Raises FormatError."""
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, 2)
            fh.seek(0)
            head = fh.read(8)
            if len(head) < 8 or head[:4] != MAGIC:
                raise FormatError("no CBM1 magic: not a CatBoost model")
            core_size = struct.unpack("<I", head[4:])[0]
            if core_size < 8 or 8 + core_size > size:
                raise FormatError(f"model core of {core_size} bytes does not fit the file")
            properties = {"core_bytes": str(core_size)}
            if core_size > limits.MAX_CATBOOST_CORE:
                properties["core_parsed"] = "false"
                return HeaderInfo(format="catboost", properties=properties)
            flat = _Flat(fh.read(core_size))
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}") from exc
    root = flat.ref(0)
    version = flat.field(root, 0)
    if version is not None:
        properties["catboost.format_version"] = flat.string(version)
    trees = flat.field(root, 1)
    if trees is not None:
        table = flat.ref(trees)
        sizes = flat.field(table, 2)
        if sizes is not None:
            properties["tree_count"] = str(flat.vector(sizes, 4)[1])
        approx = flat.field(table, 0)
        if approx is not None:
            properties["approx_dimension"] = str(flat.u32(approx))
    info = flat.field(root, 2)
    if info is not None:
        start, count = flat.vector(info, 4)
        for i in range(min(count, 1000)):
            entry = flat.ref(start + 4 * i)
            key_pos, value_pos = flat.field(entry, 0), flat.field(entry, 1)
            if key_pos is None or value_pos is None:
                raise FormatError("InfoMap entry without its required key or value")
            key = flat.string(key_pos)
            if key == "catboost_version_info":
                release = _RELEASE.search(flat.string(value_pos, 4096))
                if release is not None:
                    properties["catboost.version"] = release.group(1)
            elif key in KEPT_INFO:
                properties[f"catboost.{key}"] = flat.string(value_pos)
    return HeaderInfo(format="catboost", properties=properties, architecture="catboost-oblivious")


# --- Registry entry. ---------------------------------------------------------------------------

from unified_supply_chain.formats import FormatSpec, Kind, Sniff  # noqa: E402


def sniff_catboost(head: bytes, name: str) -> bool:
    """`CBM1` at offset 0."""
    return head.startswith(MAGIC)


SPECS = (
    FormatSpec(
        id="catboost",
        kind=Kind.MODEL,
        description="b'CBM1' at 0; or *.cbm",
        extensions=(".cbm",),
        sniffs=(Sniff(133, sniff_catboost),),
        reader=read_catboost,
    ),
)
