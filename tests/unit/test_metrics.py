"""Metrics files in their common layouts."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError, LimitExceeded
from unified_supply_chain.records import Metric
from unified_supply_chain.sources.lineage.metrics import read_metrics_file


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _triples(metrics: tuple[Metric, ...]) -> list[tuple[str, str, str | None]]:
    return [(m.type, m.value, m.slice) for m in metrics]


def test_flat_json(tmp_path: Path) -> None:
    path = _write(tmp_path, "metrics.json", json.dumps({"accuracy": 0.93, "loss": 1, "ok": True}))
    found = read_metrics_file(path, "eval/metrics.json")
    assert _triples(found) == [("accuracy", "0.93", None), ("loss", "1", None)]
    assert {m.source for m in found} == {"eval/metrics.json"}


def test_nested_dvc_style_yaml_uses_outer_key_as_slice(tmp_path: Path) -> None:
    text = "train:\n  loss: 0.3\n  detail:\n    top5: '0.99'\ntest:\n  acc: 0.9\n  note: good\n"
    found = read_metrics_file(_write(tmp_path, "scores.yaml", text), "scores.yaml")
    assert _triples(found) == [
        ("loss", "0.3", "train"),
        ("detail.top5", "0.99", "train"),
        ("acc", "0.9", "test"),
    ]


def test_explicit_slices_and_top_level_values(tmp_path: Path) -> None:
    data = {
        "accuracy": 0.98,
        "slices": {"class=0": {"accuracy": 1.0, "support": 43}, "class=1": {"accuracy": "0.96"}},
    }
    found = read_metrics_file(_write(tmp_path, "m.json", json.dumps(data)), "m.json")
    assert _triples(found) == [
        ("accuracy", "0.98", None),
        ("accuracy", "1.0", "class=0"),
        ("support", "43", "class=0"),
        ("accuracy", "0.96", "class=1"),
    ]


def test_list_of_records_and_wrapped_list(tmp_path: Path) -> None:
    data = [
        {"name": "accuracy", "value": 0.9},
        {"metric": "f1", "value": "0.8", "slice": "test"},
        {"type": "auc", "value": "n/a"},
        {"value": 1},
        "junk",
    ]
    found = read_metrics_file(_write(tmp_path, "a.json", json.dumps(data)), "a.json")
    assert _triples(found) == [("accuracy", "0.9", None), ("f1", "0.8", "test")]
    wrapped = {"model": "x", "metrics": [{"name": "acc", "value": 0.5, "slice": "val"}]}
    found = read_metrics_file(_write(tmp_path, "b.json", json.dumps(wrapped)), "b.json")
    assert _triples(found) == [("acc", "0.5", "val")]


def test_wrapper_mapping_is_not_a_slice(tmp_path: Path) -> None:
    data = {"metrics": {"accuracy": 0.7}}
    found = read_metrics_file(_write(tmp_path, "w.json", json.dumps(data)), "w.json")
    assert _triples(found) == [("accuracy", "0.7", None)]


def test_non_finite_and_non_numeric_values_are_ignored(tmp_path: Path) -> None:
    text = '{"a": NaN, "b": Infinity, "c": "12abc", "d": null, "e": "-1.5e-3", "f": [1, 2]}'
    found = read_metrics_file(_write(tmp_path, "n.json", text), "n.json")
    assert _triples(found) == [("e", "-1.5e-3", None)]


def test_unknown_extension_tries_json_then_yaml(tmp_path: Path) -> None:
    assert _triples(read_metrics_file(_write(tmp_path, "m.txt", '{"x": 1}'), "m.txt")) == [
        ("x", "1", None)
    ]
    assert _triples(read_metrics_file(_write(tmp_path, "m2.txt", "x: 2\n"), "m2.txt")) == [
        ("x", "2", None)
    ]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("bad.json", "{not json"),
        ("bad.yaml", "a: [1,\n"),
        ("scalar.json", "3"),
        ("bin.json", "\xff\xfe"),
    ],
)
def test_bad_input_raises_format_error(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(FormatError):
        read_metrics_file(path, name)


def test_too_many_metrics_is_a_limit(tmp_path: Path) -> None:
    data = {f"m{i}": i for i in range(limits.MAX_METRICS + 1)}
    with pytest.raises(LimitExceeded):
        read_metrics_file(_write(tmp_path, "big.json", json.dumps(data)), "big.json")


def test_oversized_file_is_a_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_METRICS_FILE", 10)
    with pytest.raises(LimitExceeded):
        read_metrics_file(_write(tmp_path, "m.json", '{"accuracy": 0.5}'), "m.json")


def test_missing_file_is_a_format_error(tmp_path: Path) -> None:
    with pytest.raises(FormatError):
        read_metrics_file(tmp_path / "absent.json", "absent.json")


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=12)
    | st.sampled_from(["slices", "metrics", "value", "name", "0.5", "1e3"]),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(["slices", "metrics", "name", "value", "slice", "a", "b"])
            | st.text(max_size=5),
            children,
            max_size=5,
        )
    ),
    max_leaves=40,
)


@settings(max_examples=150, deadline=None)
@given(value=_json_values)
def test_any_json_value_gives_metrics_or_a_format_error(value: object) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.json"
        path.write_text(json.dumps(value), encoding="utf-8")
        try:
            found = read_metrics_file(path, "m.json")
        except FormatError:
            return
        for m in found:
            float(m.value)  # every value is numeric text
            assert m.type and m.source == "m.json"
