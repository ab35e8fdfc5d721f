"""The `mlruns/` file store: a run (`<experiment>/<run id>/meta.yaml` with `params/`, `tags/`,
`metrics/`, `inputs/` and `outputs/`) becomes a stage and a metrics source;
`models/<name>/version-N/` gives registered model versions."""

from __future__ import annotations

import datetime as _dt
import posixpath
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from unified_supply_chain import limits, records, safeparse
from unified_supply_chain.errors import FormatError
from unified_supply_chain.sources.lineage.mlflow.logged_models import LoggedModel, models_of_run
from unified_supply_chain.sources.lineage.mlflow.model import MlflowModel
from unified_supply_chain.sources.lineage.mlflow.state import (
    Collector,
    inside,
    metric_points,
    text_value,
)

#: Largest params/tags/meta file of a run read (MLflow caps param values at 6000 characters).
_SMALL_FILE = 1024 * 1024
#: A run's meta.yaml (`<store>/<experiment>/<run id>/meta.yaml`).
RUN_META = re.compile(r"^(?P<store>(?:.*/)?mlruns)/(?P<exp>[^/]+)/(?P<run>[^/]+)/meta\.yaml$")
_REGISTERED = re.compile(r"^(?:.*/)?mlruns/models/(?P<name>[^/]+)/version-(?P<v>[^/]+)/meta\.yaml$")


def registered_models(out: Collector, paths: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Run id -> (registered model name, version) from `mlruns/models/<name>/version-N/`."""
    found: dict[str, tuple[str, str]] = {}
    for rel in paths:
        m = _REGISTERED.match(rel)
        if m is None:
            continue
        try:
            data = safeparse.load_yaml_file(out.root / rel, _SMALL_FILE)
        except FormatError as exc:
            out.problem(rel, f"registered model version not read: {exc}")
            continue
        if isinstance(data, dict) and isinstance(data.get("run_id"), str):
            name = data.get("name") if isinstance(data.get("name"), str) else m.group("name")
            version = text_value(data.get("version", m.group("v")))
            found.setdefault(data["run_id"], (str(name), version))
    return found


def _iso_ms(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        moment = _dt.datetime.fromtimestamp(value / 1000, tz=_dt.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _latest_metric(path: Path) -> str | None:
    """Value of the latest point (highest step, then time, then the later line)."""
    best: tuple[int, int, int] | None = None
    value: str | None = None
    for index, (stamp, _, step, parts) in enumerate(metric_points(path)):
        key = (step, stamp, index)
        if best is None or key > best:
            best, value = key, parts[1]
    return value


def _small_text(path: Path) -> str:
    return safeparse.read_text_bounded(path, _SMALL_FILE).strip()


def read_run(
    out: Collector,
    meta_rel: str,
    run_files: Sequence[str],
    models: list[MlflowModel],
    projects: Sequence[str],
    logged: Sequence[LoggedModel] = (),
) -> list[LoggedModel]:
    """One run (skipped when deleted) as a stage, and its latest metrics as a metrics source for
    the models it logged (MLmodel directories and MLflow 3 logged models); returns the logged
    models it made."""
    run_dir = posixpath.dirname(meta_rel)
    meta = safeparse.load_yaml_file(out.root / meta_rel, _SMALL_FILE)
    if not isinstance(meta, dict):
        raise FormatError("run meta.yaml is not a mapping")
    if meta.get("lifecycle_stage") == "deleted":
        return []
    run_id = str(meta.get("run_id") or meta.get("run_uuid") or posixpath.basename(run_dir))

    params: list[tuple[str, str]] = []
    tags: dict[str, str] = {}
    metric_paths: list[tuple[str, str]] = []
    for rel in run_files:
        sub = rel[len(run_dir) + 1 :]
        section, _, key = sub.partition("/")
        if not key:
            continue
        if section in ("params", "tags"):
            try:
                value = _small_text(out.root / rel)
            except FormatError as exc:
                out.problem(rel, f"not read: {exc}")
                continue
            if section == "tags":
                tags[key] = value
            elif len(params) < limits.MAX_PARAMS:
                params.append((key, value))
        elif section == "metrics":
            metric_paths.append((key, rel))

    metrics: list[records.Metric] = []
    for key, rel in metric_paths:
        try:
            latest = _latest_metric(out.root / rel)
        except FormatError as exc:
            out.problem(rel, f"metric not read: {exc}")
            continue
        if latest is not None and len(metrics) < limits.MAX_METRICS:
            metrics.append(records.Metric(type=key, value=latest, source=rel))

    # Models the run made: MLmodel directories with its run id, here or anywhere in the repository.
    outputs = [m.directory for m in models if m.run_id == run_id]
    outputs += [
        m.directory
        for m in models
        if m.directory.startswith(run_dir + "/artifacts/") and m.directory not in outputs
    ]
    made = models_of_run(logged, run_id, run_files, run_dir)
    outputs += [lm.artifact_dir for lm in made if lm.artifact_dir not in outputs]
    deleted = {lm.artifact_dir for lm in logged if lm.deleted}
    outputs = [o for o in outputs if o not in deleted]
    # A logged model's params are the run's too (MLflow 3 logs them on the model); the run's own
    # value of a key wins.
    keys = {k for k, _ in params}
    for lm in made:
        for key, value in lm.params:
            if key not in keys and len(params) < limits.MAX_PARAMS:
                params.append((key, value))
                keys.add(key)
    inputs = _dataset_inputs(out, run_dir, run_files)

    name = tags.get("mlflow.runName") or meta.get("run_name") or run_id
    commit = tags.get("mlflow.source.git.commit")
    params_files: tuple[str, ...] = ()
    if "mlflow.project.entryPoint" in tags and projects:
        # A project run: its parameters come from the MLproject (the one at the top if several).
        params_files = (min(projects, key=lambda p: (p.count("/"), p)),)
    out.stages.append(
        records.Stage(
            name=str(name),
            command=tags.get("mlflow.project.entryPoint"),
            inputs=tuple(inputs),
            outputs=tuple(outputs),
            params=tuple(params),
            params_files=params_files,
            source=meta_rel,
            time_start=_iso_ms(meta.get("start_time")),
            time_end=_iso_ms(meta.get("end_time")),
            run=records.RunContext(commit=commit) if commit else None,
        )
    )
    # A logged model with metrics of its own has exactly those (MLflow 3 links each point to
    # the model it was logged for); the run's metrics go to its other models.
    own = {lm.artifact_dir for lm in made if lm.metrics}
    targets = tuple(o for o in outputs if o not in own)
    if metrics and (targets or not outputs):
        out.metrics.append(
            records.MetricsSource(
                path=f"{run_dir}/metrics", metrics=tuple(metrics), for_paths=targets
            )
        )
    return made


def _dataset_inputs(out: Collector, run_dir: str, run_files: Sequence[str]) -> list[str]:
    """Repository paths of the datasets a run logged as inputs (`inputs/` + experiment datasets)."""
    exp_dir = posixpath.dirname(run_dir)
    found: list[str] = []
    prefix = f"{run_dir}/inputs/"
    metas = [f for f in run_files if f.startswith(prefix) and f.count("/", len(prefix)) == 1]
    for meta_rel in [m for m in metas if m.endswith("/meta.yaml")][: limits.MAX_MLFLOW_RUNS]:
        try:
            meta = safeparse.load_yaml_file(out.root / meta_rel, _SMALL_FILE)
        except FormatError:
            continue
        if not isinstance(meta, dict) or meta.get("source_type") != "DATASET":
            continue
        dataset_id = meta.get("source_id")
        if not isinstance(dataset_id, str) or "/" in dataset_id or dataset_id in ("", ".", ".."):
            continue
        ds_rel = f"{exp_dir}/datasets/{dataset_id}/meta.yaml"
        if ds_rel not in out.files:
            continue
        try:
            ds = safeparse.load_yaml_file(out.root / ds_rel, _SMALL_FILE)
        except FormatError:
            continue
        source = ds.get("source") if isinstance(ds, dict) else None
        if isinstance(source, str):
            try:
                source = safeparse.loads_json(source)
            except FormatError:
                source = None
        uri = source.get("uri") or source.get("path") if isinstance(source, dict) else None
        path = _repo_path_of_uri(out, uri)
        if path is not None and path not in found:
            found.append(path)
    return found


def _repo_path_of_uri(out: Collector, uri: Any) -> str | None:
    """A dataset URI as a repository path: relative paths as they are; absolute ones (often from
    the machine that trained) by the longest repository file or directory they end with."""
    if not isinstance(uri, str) or not uri or len(uri) > 4096:
        return None
    if uri.startswith("file://"):
        uri = uri[len("file://") :]
    if "://" in uri:
        return None
    if not uri.startswith("/"):
        return inside("", uri)
    uri = posixpath.normpath(uri)
    best: str | None = None
    for f in out.files:
        for candidate in (f, posixpath.dirname(f)):
            longer = best is None or len(candidate) > len(best)
            if candidate and longer and uri.endswith("/" + candidate):
                best = candidate
    return best


def run_of(rel: str, runs: dict[str, list[str]]) -> str | None:
    """The run directory `rel` is a params/tags/metrics/inputs/outputs file of (keys may
    contain "/")."""
    for marker in ("/params/", "/tags/", "/metrics/", "/inputs/", "/outputs/"):
        idx = rel.find(marker)
        while idx > 0:
            if rel[:idx] in runs:
                return rel[:idx]
            idx = rel.find(marker, idx + 1)
    return None
