"""LightGBM text models: real files from the lightgbm library and hostile ones built from them.

Layout: GBDT::SaveModelToString in microsoft/LightGBM src/boosting/gbdt_model_text.cpp (`tree`,
`version=`, header keys, `tree_sizes=`, `Tree=i` blocks, `end of trees`, `parameters:`).
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.format_helpers import MUTATION_SETTINGS, assert_each_is_format_error, check_mutation
from unified_supply_chain import limits
from unified_supply_chain.discover.classify import classify
from unified_supply_chain.errors import FormatError
from unified_supply_chain.formats.lightgbm import read_lightgbm


def _lightgbm(path: Path, *, num_class: int = 1, rounds: int = 3) -> Path:
    rng = np.random.default_rng(1)
    features = rng.random((90, 4))
    params: dict[str, object] = {"num_leaves": 4, "verbose": -1, "learning_rate": 0.25}
    if num_class > 1:
        labels = np.arange(90) % num_class
        params |= {"objective": "multiclass", "num_class": num_class}
    else:
        labels = (features[:, 0] > 0.5).astype(int)
        params |= {"objective": "binary"}
    names = ["age", "income", "tenure", "score"]
    data = lgb.Dataset(features, labels, feature_name=names)
    lgb.train(params, data, num_boost_round=rounds).save_model(str(path))
    return path


@functools.cache
def _lightgbm_seed() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        return _lightgbm(Path(tmp) / "seed.txt", rounds=2).read_bytes()


def test_lightgbm_binary_model(tmp_path: Path) -> None:
    info = read_lightgbm(_lightgbm(tmp_path / "model.txt"))
    props = info.properties
    assert info.format == "lightgbm"
    assert info.architecture == "lightgbm-gbdt"
    assert props["lightgbm.version"] == "v4"
    assert props["num_class"] == "1"
    assert props["objective"].startswith("binary")
    assert props["feature_count"] == "4"
    assert props["feature_names"] == "age,income,tenure,score"
    assert props["tree_count"] == "3"
    assert props["lightgbm.param.learning_rate"] == "0.25"
    assert props["lightgbm.param.num_leaves"] == "4"


def test_lightgbm_multiclass_tree_count(tmp_path: Path) -> None:
    info = read_lightgbm(_lightgbm(tmp_path / "m.txt", num_class=3, rounds=2))
    assert info.properties["num_class"] == "3"
    assert info.properties["num_tree_per_iteration"] == "3"
    assert info.properties["tree_count"] == "6"  # one tree per class and round


def test_lightgbm_without_tree_sizes_counts_blocks(tmp_path: Path) -> None:
    # Models written before tree_sizes existed are counted by their Tree= blocks.
    path = _lightgbm(tmp_path / "m.txt", rounds=4)
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join(line for line in lines if not line.startswith(b"tree_sizes=")))
    assert read_lightgbm(path).properties["tree_count"] == "4"


def test_lightgbm_is_sniffed_by_content_only(tmp_path: Path) -> None:
    data = _lightgbm(tmp_path / "m.txt").read_bytes()[: limits.SNIFF_BYTES]
    assert classify(data, "model.txt") == "lightgbm"
    assert classify(data, "weights/booster") == "lightgbm"
    assert classify(b"tree\nthis is a note about trees\n", "notes.txt") != "lightgbm"
    assert classify(b"some notes\n", "notes.txt") is None
    assert classify(b"numpy==1.26\n", "requirements.txt") == "requirements"


def test_lightgbm_hostile_files(tmp_path: Path) -> None:
    good = _lightgbm(tmp_path / "m.txt").read_bytes()
    head, _, _ = good.partition(b"\n\n")
    cases = {
        "empty": b"",
        "not-tree": b"forest\nversion=v4\n\n",
        "bad-version": good.replace(b"version=v4", b"version=v99", 1),
        "no-blank-line": head,
        "sizes-past-end": good.replace(b"tree_sizes=", b"tree_sizes=999999999 ", 1),
        "sizes-mismatch": good.replace(b"tree_sizes=", b"tree_sizes=1", 1),
        "sizes-not-int": good.replace(b"tree_sizes=", b"tree_sizes=x ", 1),
        "bad-int": good.replace(b"num_class=1", b"num_class=one", 1),
        "not-utf8": b"tree\nversion=v4\nobjective=\xff\n\n",
    }
    assert_each_is_format_error(read_lightgbm, tmp_path, cases, ".txt")


@MUTATION_SETTINGS
@given(data=st.data())
def test_lightgbm_mutations(tmp_path: Path, data: st.DataObject) -> None:
    check_mutation(tmp_path, data, _lightgbm_seed(), read_lightgbm, "lightgbm")


def test_format_error_is_the_only_error(tmp_path: Path) -> None:
    path = tmp_path / "dir.txt"
    path.mkdir()
    with pytest.raises(FormatError):
        read_lightgbm(path)
