"""Training records: what a training job consumed and produced, written by `usc record`.

Format (JSON, paths repo-relative POSIX):
    {"schema": "unified-supply-chain/training-record@1", "name": "train", "command": "...",
     "time_start": "2026-01-01T00:00:00Z", "time_end": "...",
     "run": {"repository", "commit", "ref", "run_id", "run_attempt", "workflow_ref", "event",
             "server_url", "runner_os", "runner_arch", "python_version"},
     "inputs": [{"path", "sha256", "size"}], "params_files": [{"path", "sha256"}],
     "parameters": [{"name", "value"}], "outputs": [{"path", "sha256", "size"}],
     "metrics_files": ["metrics.json"]}
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.errors import FormatError
from unified_supply_chain.records import (
    ArtifactKind,
    Contribution,
    Declared,
    Hash,
    RunContext,
    Stage,
)
from unified_supply_chain.safeparse import load_json_file

SCHEMA = "unified-supply-chain/training-record@1"


@dataclass(frozen=True)
class RecordedFile:
    """A file a training job read or wrote."""

    path: str
    """Repo-relative path."""
    sha256: str | None
    """SHA-256 at record time."""
    size: int | None = None
    """Size at record time."""


@dataclass(frozen=True)
class TrainingRecord:
    """One training job's record."""

    name: str
    """Job or stage name."""
    command: str | None
    """Command line run."""
    time_start: str | None
    """ISO-8601 UTC."""
    time_end: str | None
    """ISO-8601 UTC."""
    run: RunContext
    """CI run that executed it."""
    inputs: tuple[RecordedFile, ...]
    """Datasets read."""
    params_files: tuple[RecordedFile, ...]
    """Hyperparameter files read."""
    parameters: tuple[tuple[str, str], ...]
    """Hyperparameter values (dotted key, value)."""
    outputs: tuple[RecordedFile, ...]
    """Model files written."""
    metrics_files: tuple[str, ...] = ()
    """Metrics files written for the outputs."""
    status: str | None = None
    """"succeeded" or "failed" (the command's outcome), when recorded."""
    exit_code: int | None = None
    """The command's exit code, when recorded."""

    def to_json(self) -> dict[str, Any]:
        """The record as a JSON object."""

        def files(items: tuple[RecordedFile, ...]) -> list[dict[str, Any]]:
            return [
                {k: v for k, v in dataclasses.asdict(f).items() if v is not None} for f in items
            ]

        return {
            "schema": SCHEMA,
            "name": self.name,
            "command": self.command,
            "time_start": self.time_start,
            "time_end": self.time_end,
            "run": {k: v for k, v in dataclasses.asdict(self.run).items() if v is not None},
            "inputs": files(self.inputs),
            "params_files": files(self.params_files),
            "parameters": [{"name": k, "value": v} for k, v in self.parameters],
            "outputs": files(self.outputs),
            "metrics_files": list(self.metrics_files),
            **({"status": self.status} if self.status else {}),
            **({"exit_code": self.exit_code} if self.exit_code is not None else {}),
        }


def _norm(path: Any, where: str) -> str:
    if not isinstance(path, str) or not path:
        raise FormatError(f"{where}: path must be a non-empty string")
    p = PurePosixPath(path.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts:
        raise FormatError(f"{where}: path {path!r} leaves the repository")
    return str(p)


def _files(items: Any, where: str) -> tuple[RecordedFile, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        raise FormatError(f"{where} must be a list")
    out = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            item = {"path": item}
        if not isinstance(item, dict):
            raise FormatError(f"{where}[{i}] must be an object")
        sha = item.get("sha256")
        if sha is not None and (not isinstance(sha, str) or len(sha) != 64):
            raise FormatError(f"{where}[{i}].sha256 is not a SHA-256 hex digest")
        size = item.get("size")
        out.append(
            RecordedFile(
                _norm(item.get("path"), f"{where}[{i}]"),
                sha.lower() if sha else None,
                size if isinstance(size, int) and size >= 0 else None,
            )
        )
    return tuple(out)


def parse_training_record(data: Any) -> TrainingRecord:
    """Validate and convert a parsed JSON record (FormatError on anything malformed)."""
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise FormatError(f"not a training record (schema must be {SCHEMA!r})")
    run_raw = data.get("run") or {}
    if not isinstance(run_raw, dict):
        raise FormatError("run must be an object")
    run_fields = {f.name for f in dataclasses.fields(RunContext)}
    run = RunContext(**{k: str(v) for k, v in run_raw.items() if k in run_fields and v is not None})
    params_raw = data.get("parameters") or []
    if not isinstance(params_raw, list):
        raise FormatError("parameters must be a list")
    params = []
    for i, p in enumerate(params_raw):
        if not isinstance(p, dict) or not isinstance(p.get("name"), str):
            raise FormatError(f"parameters[{i}] must be an object with a name")
        params.append((p["name"], str(p.get("value"))))
    metrics = data.get("metrics_files") or []
    if not isinstance(metrics, list):
        raise FormatError("metrics_files must be a list")

    def text(key: str) -> str | None:
        v = data.get(key)
        return str(v) if v is not None else None

    return TrainingRecord(
        name=str(data.get("name") or "train"),
        command=text("command"),
        time_start=text("time_start"),
        time_end=text("time_end"),
        run=run,
        inputs=_files(data.get("inputs"), "inputs"),
        params_files=_files(data.get("params_files"), "params_files"),
        parameters=tuple(params),
        outputs=_files(data.get("outputs"), "outputs"),
        metrics_files=tuple(_norm(m, "metrics_files") for m in metrics),
        status=text("status"),
        exit_code=data["exit_code"] if isinstance(data.get("exit_code"), int) else None,
    )


def read_training_record(path: Path, relpath: str) -> Contribution:
    """A training record as lineage: one Stage with its run, and the outputs it declares."""
    record = parse_training_record(load_json_file(path))
    declared = tuple(
        Declared(
            path=f.path,
            kind=ArtifactKind.MODEL,
            hashes=(Hash("SHA-256", f.sha256, "training-record"),) if f.sha256 else (),
            size=f.size,
            source=relpath,
        )
        for f in record.outputs
    ) + tuple(
        # Inputs as recorded: a dataset that changed since training gets a warning, and one that
        # is not in the checkout still appears (with the recorded digest).
        Declared(
            path=f.path,
            kind=None,  # a base model is an input too: keep what the scan found
            hashes=(Hash("SHA-256", f.sha256, "training-record"),) if f.sha256 else (),
            size=f.size,
            source=relpath,
        )
        for f in record.inputs
    )
    stage = Stage(
        name=record.name,
        command=record.command,
        inputs=tuple(f.path for f in record.inputs),
        outputs=tuple(f.path for f in record.outputs),
        params=record.parameters,
        params_files=tuple(f.path for f in record.params_files),
        metrics_files=record.metrics_files,
        source=relpath,
        time_start=record.time_start,
        time_end=record.time_end,
        run=record.run,
        properties=tuple(
            (name, str(value))
            for name, value in (
                (Prop.TRAINING_STATUS.value, record.status),
                (Prop.EXIT_CODE.value, record.exit_code),
            )
            if value is not None
        ),
    )
    return Contribution(declared=declared, stages=(stage,))
