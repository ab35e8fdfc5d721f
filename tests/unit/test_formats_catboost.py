"""CatBoost .cbm models built to catboost/catboost catboost/libs/model/flatbuffers/model.fbs
(TModelCore, TObliviousTrees, TKeyValue) behind `CBM1` + ui32 core size (TFullModel::Save in
catboost/libs/model/model.cpp); catboost is not a test extra, so the flatbuffer is built here."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.format_helpers import MUTATION_SETTINGS, assert_each_is_format_error, check_mutation
from unified_supply_chain import limits
from unified_supply_chain.discover.classify import classify
from unified_supply_chain.formats.catboost import read_catboost


class Table:
    """A flatbuffers table: fields in schema order, each an int (i32), str, Table, list or None."""

    def __init__(self, *fields: Any) -> None:
        self.fields = fields


def _flatbuffer(root: Table) -> bytes:
    buf = bytearray(4)
    patches: list[tuple[int, Any]] = []

    def align() -> None:
        buf.extend(b"\0" * (-len(buf) % 4))

    def write(obj: Any) -> int:
        align()
        if isinstance(obj, str):
            pos = len(buf)
            raw = obj.encode()
            buf.extend(struct.pack("<I", len(raw)) + raw + b"\0")
            return pos
        if isinstance(obj, list) and all(isinstance(v, int) for v in obj):
            pos = len(buf)
            buf.extend(struct.pack(f"<I{len(obj)}i", len(obj), *obj))
            return pos
        if isinstance(obj, list):  # a vector of tables
            pos = len(buf)
            buf.extend(struct.pack("<I", len(obj)) + b"\0" * 4 * len(obj))
            children = [write(child) for child in obj]
            for i, child in enumerate(children):
                slot = pos + 4 + 4 * i
                struct.pack_into("<I", buf, slot, child - slot)
            return pos
        assert isinstance(obj, Table)
        vtable = len(buf)
        offsets = [0 if f is None else 4 + 4 * i for i, f in enumerate(obj.fields)]
        table_size = 4 + 4 * len(obj.fields)
        buf.extend(struct.pack(f"<HH{len(offsets)}H", 4 + 2 * len(offsets), table_size, *offsets))
        align()
        table = len(buf)
        buf.extend(struct.pack("<i", table - vtable) + b"\0" * 4 * len(obj.fields))
        for i, field in enumerate(obj.fields):
            slot = table + 4 + 4 * i
            if isinstance(field, int):
                struct.pack_into("<i", buf, slot, field)
            elif field is not None:
                patches.append((slot, field))
        while patches:
            slot, child = patches.pop(0)
            struct.pack_into("<I", buf, slot, write(child) - slot)
        return table

    struct.pack_into("<I", buf, 0, write(root))
    return bytes(buf)


def cbm(trees: int = 4, dimension: int = 1) -> bytes:
    oblivious = Table(dimension, [0] * trees, [2] * trees, list(range(0, 2 * trees, 2)))
    info = [
        Table("catboost_version_info", "Git info:\n    Branch: tags/v1.2.7\n"),
        Table("model_guid", "8fd813c2-4cf97b67"),
        Table("params", '{"loss_function": "Logloss"}'),
    ]
    core = _flatbuffer(Table("FlabuffersModel_v1", oblivious, info))
    return b"CBM1" + struct.pack("<I", len(core)) + core


def test_cbm_core(tmp_path: Path) -> None:
    path = tmp_path / "model.cbm"
    path.write_bytes(cbm(trees=7, dimension=3))
    info = read_catboost(path)
    props = info.properties
    assert info.format == "catboost"
    assert props["catboost.format_version"] == "FlabuffersModel_v1"
    assert props["tree_count"] == "7"
    assert props["approx_dimension"] == "3"
    assert props["catboost.version"] == "1.2.7"
    assert props["catboost.model_guid"] == "8fd813c2-4cf97b67"
    assert "catboost.params" not in props
    assert props["core_bytes"] == str(len(cbm(trees=7, dimension=3)) - 8)


def test_cbm_sniff_and_large_core(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = cbm()
    assert classify(data[: limits.SNIFF_BYTES], "renamed.bin") == "catboost"
    assert classify(b"CBM0" + data[4:], "x.dat") is None
    path = tmp_path / "m.cbm"
    path.write_bytes(data)
    monkeypatch.setattr(limits, "MAX_CATBOOST_CORE", 16)
    props = read_catboost(path).properties
    assert props["core_parsed"] == "false" and "tree_count" not in props


def test_cbm_hostile(tmp_path: Path) -> None:
    good = cbm()
    core = bytearray(good)
    struct.pack_into("<I", core, 8, 0x7FFFFFF0)  # root offset far outside the core
    cases = {
        "empty": b"",
        "magic-only": b"CBM1",
        "size-past-end": b"CBM1" + struct.pack("<I", 2**31) + good[8:],
        "tiny-size": b"CBM1" + struct.pack("<I", 2) + good[8:],
        "root-outside": bytes(core),
        "truncated": good[: len(good) // 2],
    }
    assert_each_is_format_error(read_catboost, tmp_path, cases, ".cbm")


@MUTATION_SETTINGS
@given(data=st.data())
def test_cbm_mutations(tmp_path: Path, data: st.DataObject) -> None:
    check_mutation(tmp_path, data, cbm(), read_catboost, "catboost")
