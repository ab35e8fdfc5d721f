"""CatBoost `.cbm` models: `CBM1`, the core's byte size (ui32), then a flatbuffers TModelCore.

Schema: catboost/catboost catboost/libs/model/flatbuffers/model.fbs (TModelCore: FormatVersion,
ObliviousTrees, InfoMap of TKeyValue, ModelPartIds; TObliviousTrees: ApproxDimension,
TreeSplits, TreeSizes, ...), written after the magic and size by TFullModel::Save in
catboost/libs/model/model.cpp. Every offset is checked against the core before it is followed.
"""

from __future__ import annotations

import io
import re
import struct
from pathlib import Path

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError
from unified_supply_chain.formats._flatbuffers import FlatBuffer
from unified_supply_chain.records import HeaderInfo

MAGIC = b"CBM1"
#: InfoMap entries copied into properties (the `params` JSON is large and left out).
KEPT_INFO = ("model_guid", "train_finish_time")
_RELEASE = re.compile(r"tags/v(\d+(?:\.\d+)+)")


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
            core = fh.read(core_size)
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}") from exc
    flat = FlatBuffer(io.BytesIO(core), len(core), what="CatBoost model core")
    root = flat.root()
    version = root.string(0, 200)
    if version is not None:
        properties["catboost.format_version"] = version
    trees = root.table(1)
    if trees is not None:
        if trees.has(2):
            properties["tree_count"] = str(trees.vector(2, 4)[1])
        if trees.has(0):
            properties["approx_dimension"] = str(trees.scalar(0, "<I"))
    for entry in root.tables(2, 1000):
        if not (entry.has(0) and entry.has(1)):
            raise FormatError("InfoMap entry without its required key or value")
        key = entry.string(0, 200)
        if key == "catboost_version_info":
            release = _RELEASE.search(entry.string(1, 4096) or "")
            if release is not None:
                properties["catboost.version"] = release.group(1)
        elif key in KEPT_INFO:
            properties[f"catboost.{key}"] = entry.string(1, 200) or ""
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
