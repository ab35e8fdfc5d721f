"""Metrics files (DVC metrics, evaluation JSON/YAML) read into model-card performance metrics.

Layouts understood, also mixed within one file:
- flat: ``{"accuracy": 0.93, "loss": 0.2}``;
- nested DVC style: ``{"train": {"loss": 0.3}, "test": {"acc": 0.9}}`` (slice = the outer key);
- explicit slices: ``{"accuracy": 0.9, "slices": {"class=0": {"accuracy": 0.8}}}``;
- lists of records: ``[{"name": "accuracy", "value": 0.9, "slice": "test"}]``, also under a key
  such as ``{"metrics": [...]}``.
Only numbers and numeric strings become metrics; anything else is ignored.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from unified_supply_chain import limits, records, safeparse
from unified_supply_chain.errors import FormatError, LimitExceeded

#: Keys whose mapping value lists metrics per named data slice.
_SLICE_KEYS = frozenset({"slices", "per_slice", "by_slice"})
#: Keys that wrap a file's metrics without naming a slice.
_WRAPPER_KEYS = frozenset({"metrics", "results", "scores"})
#: Keys naming the metric in a list-of-records layout, in order of preference.
_NAME_KEYS = ("name", "metric", "type")
_NUMERIC = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def _as_number_text(value: Any) -> str | None:
    """Text of a finite number or numeric string, else None (booleans are not numbers)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    if isinstance(value, str):
        text = value.strip()
        if len(text) <= 64 and _NUMERIC.match(text):
            return text
    return None


def _is_record(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and "value" in item
        and any(isinstance(item.get(k), str) for k in _NAME_KEYS)
    )


def _join_slice(outer: str | None, inner: str) -> str:
    return inner if outer is None else f"{outer}/{inner}"


class _Collector:
    def __init__(self, relpath: str) -> None:
        self.relpath = relpath
        self.out: list[records.Metric] = []

    def add(self, name: str, value: str, slice_: str | None) -> None:
        if len(self.out) >= limits.MAX_METRICS:
            raise LimitExceeded(f"more than {limits.MAX_METRICS} metrics in one file")
        self.out.append(records.Metric(type=name, value=value, slice=slice_, source=self.relpath))

    def records(self, items: list[Any], slice_: str | None) -> None:
        for item in items:
            if not _is_record(item):
                continue
            name = next(item[k] for k in _NAME_KEYS if isinstance(item.get(k), str))
            value = _as_number_text(item["value"])
            if value is None or not name.strip():
                continue
            own = item.get("slice")
            sl = _join_slice(slice_, str(own)) if isinstance(own, (str, int)) else slice_
            self.add(name.strip(), value, sl)

    def mapping(self, data: dict[Any, Any], prefix: str, slice_: str | None, top: bool) -> None:
        for raw_key, value in data.items():
            key = str(raw_key).strip()
            if not key:
                continue  # a metric needs a name
            number = _as_number_text(value)
            if number is not None:
                self.add(f"{prefix}{key}", number, slice_)
            elif isinstance(value, list):
                self.records(value, slice_)
            elif not isinstance(value, dict):
                continue
            elif key in _SLICE_KEYS and all(isinstance(v, dict) for v in value.values()):
                for slice_name, sub in value.items():
                    self.mapping(sub, prefix, _join_slice(slice_, str(slice_name)), top=False)
            elif top and key in _WRAPPER_KEYS:
                self.mapping(value, prefix, slice_, top=True)
            elif top:
                # Nested DVC style: the outer key names the data split the metrics were taken on.
                self.mapping(value, "", _join_slice(slice_, key), top=False)
            else:
                self.mapping(value, f"{prefix}{key}.", slice_, top=False)


def parse_metrics(data: Any, relpath: str) -> tuple[records.Metric, ...]:
    """Metrics from an already parsed JSON/YAML value (see the module docstring for layouts)."""
    collector = _Collector(relpath)
    if isinstance(data, dict):
        collector.mapping(data, "", None, top=True)
    elif isinstance(data, list):
        collector.records(data, None)
    else:
        raise FormatError("metrics file is neither a mapping nor a list")
    return tuple(collector.out)


def read_metrics_file(path: Path, relpath: str) -> tuple[records.Metric, ...]:
    """Read metrics from a JSON or YAML file. Raises FormatError (or LimitExceeded) on bad input."""
    text = safeparse.read_text_bounded(path, limits.MAX_METRICS_FILE)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        data = safeparse.loads_yaml(text)
    elif suffix == ".json":
        data = safeparse.loads_json(text)
    else:
        # DVC lets metrics files have any name; YAML parses JSON too, but JSON errors read better.
        try:
            data = safeparse.loads_json(text)
        except LimitExceeded:
            raise
        except FormatError:
            data = safeparse.loads_yaml(text)
    return parse_metrics(data, relpath)
