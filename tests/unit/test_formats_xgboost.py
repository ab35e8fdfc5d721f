"""XGBoost JSON and UBJSON models, built to the published schema (xgboost is not a test extra).

Schema: dmlc/xgboost doc/model.schema and the docs' "Introduction to Model IO" (top-level
`learner` + `version`; `learner.objective.name`, `learner.learner_model_param`,
`learner.gradient_booster.name`, `...model.trees`). UBJSON: ubjson.org draft 12 as XGBoost
writes it (big-endian lengths `L`, typed float arrays `[$d#L<n>`).
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.unit.format_helpers import MUTATION_SETTINGS, assert_each_is_format_error, check_mutation
from unified_supply_chain import limits
from unified_supply_chain.discover.classify import classify
from unified_supply_chain.formats.xgboost import read_xgboost


def _tree(index: int) -> dict[str, Any]:
    return {
        "id": index,
        "left_children": [1, -1, -1],
        "right_children": [2, -1, -1],
        "split_conditions": [0.5, -0.1, 0.2],
        "tree_param": {"num_nodes": "3", "num_feature": "3"},
    }


def model(trees: int = 3, booster: str = "gbtree") -> dict[str, Any]:
    gbtree = {
        "name": "gbtree",
        "model": {
            "gbtree_model_param": {"num_trees": str(trees), "num_parallel_tree": "1"},
            "trees": [_tree(i) for i in range(trees)],
            "tree_info": [0] * trees,
        },
    }
    gradient_booster = gbtree if booster == "gbtree" else {"name": "dart", "gbtree": gbtree}
    return {
        "learner": {
            "attributes": {},
            "feature_names": ["age", "income", "tenure"],
            "feature_types": [],
            "gradient_booster": gradient_booster,
            "learner_model_param": {
                "base_score": "5E-1",
                "num_class": "0",
                "num_feature": "3",
                "num_target": "1",
            },
            "objective": {"name": "binary:logistic", "reg_loss_param": {"scale_pos_weight": "1"}},
        },
        "version": [2, 1, 3],
    }


def ubj(value: Any) -> bytes:
    """UBJSON as XGBoost writes it: int64 lengths, float arrays typed and counted."""

    def key(text: str) -> bytes:
        raw = text.encode()
        return b"L" + struct.pack(">q", len(raw)) + raw

    if isinstance(value, bool):
        return b"T" if value else b"F"
    if isinstance(value, int):
        return b"L" + struct.pack(">q", value)
    if isinstance(value, float):
        return b"d" + struct.pack(">f", value)
    if isinstance(value, str):
        return b"S" + key(value)
    if isinstance(value, list) and value and all(isinstance(v, float) for v in value):
        return b"[$d#L" + struct.pack(">q", len(value)) + struct.pack(f">{len(value)}f", *value)
    if isinstance(value, list):
        return b"[" + b"".join(ubj(v) for v in value) + b"]"
    assert isinstance(value, dict)
    return b"{" + b"".join(key(k) + ubj(v) for k, v in value.items()) + b"}"


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_json_model(tmp_path: Path) -> None:
    info = read_xgboost(_write(tmp_path, "model.json", json.dumps(model()).encode()))
    props = info.properties
    assert info.format == "xgboost" and info.architecture == "xgboost-gbtree"
    assert props["xgboost.version"] == "2.1.3"
    assert props["encoding"] == "json"
    assert props["objective"] == "binary:logistic"
    assert props["num_feature"] == "3" and props["num_class"] == "0"
    assert props["base_score"] == "5E-1"
    assert props["tree_count"] == "3"
    assert props["feature_names"] == "age,income,tenure"


def test_ubj_model_matches_json(tmp_path: Path) -> None:
    for booster in ("gbtree", "dart"):
        doc = model(trees=5, booster=booster)
        from_json = read_xgboost(_write(tmp_path, "m.json", json.dumps(doc).encode()))
        from_ubj = read_xgboost(_write(tmp_path, "m.ubj", ubj(doc)))
        assert from_ubj.properties.pop("encoding") == "ubj"
        assert from_json.properties.pop("encoding") == "json"
        assert from_ubj.properties == from_json.properties
        assert from_ubj.properties["tree_count"] == "5"
        assert from_ubj.architecture == f"xgboost-{booster}"


def test_sniffed_by_content_not_by_json_name(tmp_path: Path) -> None:
    text = json.dumps(model()).encode()
    assert classify(text[: limits.SNIFF_BYTES], "booster.json") == "xgboost"
    pretty = json.dumps(model(), indent=2).encode()
    assert classify(pretty[: limits.SNIFF_BYTES], "model.json") == "xgboost"
    assert classify(ubj(model())[: limits.SNIFF_BYTES], "renamed.bin") == "xgboost"
    # Ordinary JSON stays what it was.
    assert classify(b'{"hidden_size": 8, "learner": 1}', "config.json") == "hf-config"
    assert classify(b'{"learning_rate": 0.1}', "settings.json") != "xgboost"


def test_hostile_files(tmp_path: Path) -> None:
    good = ubj(model())
    cases = {
        "empty": b"",
        "no-learner": json.dumps({"version": [1, 0, 0]}).encode(),
        "bad-version": json.dumps({"learner": {}, "version": "2"}).encode(),
        "ubj-truncated": good[: len(good) // 2],
        "ubj-huge-length": b"{L" + struct.pack(">q", 2**62) + b"learner",
        "ubj-negative-length": b"{L" + struct.pack(">q", -5) + b"learner",
        "ubj-bad-marker": b"{L" + struct.pack(">q", 7) + b"learnerX",
        "ubj-deep": b"{L" + struct.pack(">q", 7) + b"learner" + b"[" * 5000,
    }
    assert_each_is_format_error(read_xgboost, tmp_path, cases, ".ubj")


@MUTATION_SETTINGS
@given(data=st.data())
def test_ubj_mutations(tmp_path: Path, data: st.DataObject) -> None:
    check_mutation(tmp_path, data, ubj(model()), read_xgboost, "xgboost")
