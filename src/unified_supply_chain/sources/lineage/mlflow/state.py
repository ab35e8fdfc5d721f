"""What one read of MLflow records has found so far, and the helpers every record shares."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from unified_supply_chain import limits, records
from unified_supply_chain.errors import FormatError


def artifact_ref(kind: records.ArtifactKind, path: str) -> str:
    """The bom-ref of an artifact at `path`."""
    # Same shape as lineage.artifact_ref (not imported: lineage imports the inventory side).
    return f"{kind.value}:{path}"


@dataclass
class Collector:
    """Everything read so far, in discovery order; `read_mlflow` freezes it into a Contribution."""

    root: Path
    files: frozenset[str]
    declared: list[records.Declared] = field(default_factory=list)
    stages: list[records.Stage] = field(default_factory=list)
    metrics: list[records.MetricsSource] = field(default_factory=list)
    artifacts: list[records.Artifact] = field(default_factory=list)
    libraries: list[records.Library] = field(default_factory=list)
    problems: list[records.Problem] = field(default_factory=list)

    def problem(self, path: str, message: str) -> None:
        """Record a problem with one file."""
        self.problems.append(records.Problem(path=path, message=message))


def text_value(value: Any) -> str:
    """A YAML scalar as MLflow writes it (`true`, `null`, numbers as text)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def inside(base_dir: str, rel: str) -> str | None:
    """`rel` joined to `base_dir`, or None when it leaves the repository or is absolute."""
    if not rel or rel.startswith("/") or "://" in rel:
        return None
    joined = posixpath.normpath(posixpath.join(base_dir, rel))
    if joined in (".", "..") or joined.startswith("../"):
        return None
    return joined


def _metric_lines(fh: TextIO) -> Iterator[str]:
    """Lines of a metric history, each cut to 512 characters (a huge line is never held whole)."""
    while True:
        line = fh.readline(512)
        if not line:
            return
        if not line.endswith("\n"):
            while True:  # skip the rest of an over-long line
                rest = fh.readline(65536)
                if not rest or rest.endswith("\n"):
                    break
        yield line


def metric_points(path: Path) -> Iterator[tuple[int, float, int, list[str]]]:
    """`(timestamp, value, step, fields)` of each finite point of a metric history, in file
    order. Runs write "<ts> <value> <step>" (older stores omit the step: 0); MLflow 3 logged
    models append the run id and, for dataset metrics, the dataset name and digest. Lines that
    do not parse are skipped; NaN/inf points are not a result. Raises FormatError for a history
    over `limits.MAX_MLFLOW_METRIC_LINES` lines (its latest point is unknown) or an unreadable
    file."""
    try:
        with path.open("r", encoding="utf-8", errors="replace") as fh:
            for index, line in enumerate(_metric_lines(fh)):
                if index >= limits.MAX_MLFLOW_METRIC_LINES:
                    raise FormatError(f"more than {limits.MAX_MLFLOW_METRIC_LINES} points")
                parts = line.split()
                if len(parts) < 2:
                    continue
                try:
                    stamp = int(parts[0])
                    step = int(parts[2]) if len(parts) > 2 else 0
                    number = float(parts[1])
                except ValueError:
                    continue
                if number != number or number in (float("inf"), float("-inf")):
                    continue
                yield stamp, number, step, parts
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}") from exc
