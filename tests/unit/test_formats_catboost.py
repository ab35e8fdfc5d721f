"""CatBoost .cbm models built with the `flatbuffers` library to catboost/catboost
catboost/libs/model/flatbuffers/model.fbs (TModelCore, TObliviousTrees, TKeyValue) behind `CBM1` +
ui32 core size (TFullModel::Save in catboost/libs/model/model.cpp); catboost is not a test extra,
so tests/builders/catboost.py writes the flatbuffer."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.builders.catboost import CatBoostModel, build
from tests.unit.format_helpers import MUTATION_SETTINGS, assert_each_is_format_error, check_mutation
from unified_supply_chain import limits
from unified_supply_chain.discover.classify import classify
from unified_supply_chain.formats.catboost import read_catboost


def _cbm(trees: int = 4, dimension: int = 1) -> bytes:
    return build(CatBoostModel(trees=trees, dimension=dimension))


def test_cbm_core(tmp_path: Path) -> None:
    path = tmp_path / "model.cbm"
    path.write_bytes(_cbm(trees=7, dimension=3))
    info = read_catboost(path)
    props = info.properties
    assert info.format == "catboost"
    assert props["catboost.format_version"] == "FlabuffersModel_v1"
    assert props["tree_count"] == "7"
    assert props["approx_dimension"] == "3"
    assert props["catboost.version"] == "1.2.7"
    assert props["catboost.model_guid"] == "8fd813c2-4cf97b67"
    assert "catboost.params" not in props
    assert props["core_bytes"] == str(len(_cbm(trees=7, dimension=3)) - 8)


def test_cbm_sniff_and_large_core(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _cbm()
    assert classify(data[: limits.SNIFF_BYTES], "renamed.bin") == "catboost"
    assert classify(b"CBM0" + data[4:], "x.dat") is None
    path = tmp_path / "m.cbm"
    path.write_bytes(data)
    monkeypatch.setattr(limits, "MAX_CATBOOST_CORE", 16)
    props = read_catboost(path).properties
    assert props["core_parsed"] == "false" and "tree_count" not in props


def test_cbm_hostile(tmp_path: Path) -> None:
    good = _cbm()
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
    check_mutation(tmp_path, data, _cbm(), read_catboost, "catboost")
