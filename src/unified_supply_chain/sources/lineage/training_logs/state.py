"""What one read of training logs has found so far, and the helpers every logger's reader shares."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path

from unified_supply_chain import records


@dataclass
class Collector:
    """Everything read so far, in discovery order; `read_training_logs` freezes it."""

    root: Path
    files: frozenset[str]
    declared: list[records.Declared] = field(default_factory=list)
    stages: list[records.Stage] = field(default_factory=list)
    metrics: list[records.MetricsSource] = field(default_factory=list)
    artifacts: list[records.Artifact] = field(default_factory=list)
    problems: list[records.Problem] = field(default_factory=list)
    claimed: set[str] = field(default_factory=set)
    """Model files already made part of a run (a Keras sequence is not looked for among them)."""

    def problem(self, path: str, message: str) -> None:
        """Record a problem with one file."""
        self.problems.append(records.Problem(path=path, message=message))


def is_model_path(rel: str) -> bool:
    """Whether the registry makes a model of a file at `rel` by its name alone (a `.ckpt`, a
    `.keras`, a `.safetensors`); the scan itself decides by content later."""
    from unified_supply_chain.discover.classify import guess_kind_from_name

    return guess_kind_from_name(rel) == "model"


def under(directory: str, rel: str) -> bool:
    """Whether `rel` lies inside `directory` (any depth)."""
    return rel.startswith(directory + "/") if directory else True


def parent(rel: str) -> str:
    """The directory of `rel` ("" at the top)."""
    return posixpath.dirname(rel)
