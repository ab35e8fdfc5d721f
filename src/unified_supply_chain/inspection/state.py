"""The mutable state of one scan, and how artifacts are named after their paths."""

from __future__ import annotations

import dataclasses
import posixpath
from pathlib import Path

from unified_supply_chain.records import Artifact, Contribution, FileEntry, Library, Problem


@dataclasses.dataclass
class ScanState:
    """What the scan has found so far; the stages below append to its lists."""

    root: Path
    files: tuple[FileEntry, ...]
    by_path: dict[str, FileEntry]
    formats: dict[str, str]
    problems: list[Problem]
    artifacts: list[Artifact]
    libraries: list[Library]
    contributions: list[Contribution]
    app_name: str | None = None
    app_version: str | None = None

    def abs(self, rel: str) -> Path:
        """The file system path of a repo-relative path."""
        return self.root / rel


def file_stem(relpath: str) -> str:
    """The name before its first dot (`train.csv.gz` -> `train`); dot files keep their name."""
    base = posixpath.basename(relpath)
    return base.split(".")[0] if not base.startswith(".") else base


def model_name(path: str) -> str:
    """A model file named like `model.safetensors` is better named after its directory."""
    stem = file_stem(path)
    generic = {"model", "weights", "pytorch_model", "tf_model", "saved_model", "checkpoint"}
    parent = posixpath.basename(posixpath.dirname(path))
    if stem.lower() in generic and parent:
        return (
            parent
            if parent.lower() not in {"model", "models"}
            else (posixpath.basename(posixpath.dirname(posixpath.dirname(path))) or stem)
        )
    return stem
