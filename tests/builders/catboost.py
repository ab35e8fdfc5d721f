"""CatBoost `.cbm` models built with the `flatbuffers` library to catboost/catboost
catboost/libs/model/flatbuffers/model.fbs: `table TModelCore` (FormatVersion 0, ObliviousTrees 1,
InfoMap 2, ModelPartIds 3), `TObliviousTrees` (ApproxDimension 0, TreeSplits 1, TreeSizes 2,
TreeStartOffsets 3, ...), `TKeyValue` (Key 0, required and the vector's key, so InfoMap is
sorted by it; Value 1, required). TFullModel::Save (catboost/libs/model/model.cpp) writes `CBM1`,
the core's byte size as a ui32, then the core flatbuffer.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import flatbuffers

from tests.builders.flat import int32_vector, table_vector

MAGIC = b"CBM1"


@dataclass
class CatBoostModel:
    """What a built model holds (the tests read their expectations from the same object)."""

    trees: int = 4
    dimension: int = 1
    format_version: str = "FlabuffersModel_v1"
    info: dict[str, str] = field(
        default_factory=lambda: {
            "catboost_version_info": "Git info:\n    Branch: tags/v1.2.7\n",
            "model_guid": "8fd813c2-4cf97b67",
            "params": '{"loss_function": "Logloss"}',
        }
    )


def core(m: CatBoostModel) -> bytes:
    """The TModelCore flatbuffer alone."""
    b = flatbuffers.Builder(1024)
    entries = []
    for key, value in sorted(m.info.items()):
        key_at, value_at = b.CreateString(key), b.CreateString(value)
        b.StartObject(2)
        b.PrependUOffsetTRelativeSlot(0, key_at, 0)
        b.PrependUOffsetTRelativeSlot(1, value_at, 0)
        entries.append(b.EndObject())
    info = table_vector(b, entries)
    splits = int32_vector(b, [0] * m.trees)
    sizes = int32_vector(b, [2] * m.trees)
    starts = int32_vector(b, list(range(0, 2 * m.trees, 2)))
    b.StartObject(14)
    b.PrependInt32Slot(0, m.dimension, 0)
    b.PrependUOffsetTRelativeSlot(1, splits, 0)
    b.PrependUOffsetTRelativeSlot(2, sizes, 0)
    b.PrependUOffsetTRelativeSlot(3, starts, 0)
    trees = b.EndObject()
    version = b.CreateString(m.format_version)
    b.StartObject(4)
    b.PrependUOffsetTRelativeSlot(0, version, 0)
    b.PrependUOffsetTRelativeSlot(1, trees, 0)
    b.PrependUOffsetTRelativeSlot(2, info, 0)
    b.Finish(b.EndObject())
    return bytes(b.Output())


def build(m: CatBoostModel) -> bytes:
    """The bytes of a `.cbm` file holding `m`."""
    data = core(m)
    return MAGIC + struct.pack("<I", len(data)) + data
