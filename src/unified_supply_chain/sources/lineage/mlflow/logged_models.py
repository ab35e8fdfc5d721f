"""MLflow 3 logged models: `mlruns/<experiment>/models/<model id>/` in the file store.

MLflow 3 made the model a first-class entity with its own id (`m-<32 hex>`), stored beside the
runs of its experiment rather than inside a run's artifacts. The layout, as
`mlflow/store/tracking/file_store.py` (MLflow 3.18, `FileStore.create_logged_model`,
`_get_model_dir`, `_get_model_artifact_dir`, `_log_model_metric`) writes it:

    mlruns/<experiment id>/models/<model id>/
        meta.yaml     LoggedModel.to_dictionary() without tags/params/metrics: model_id, name,
                      experiment_id, source_run_id, status (0 unspecified, 1 pending, 2 ready,
                      3 failed), model_type, artifact_location, creation_timestamp,
                      last_updated_timestamp, lifecycle_stage ("deleted" when deleted)
        params/<key>  one value per file
        tags/<key>
        metrics/<key> lines "<timestamp ms> <value> <step> <run id>[ <dataset name> <digest>]"
        artifacts/    the model itself (an MLmodel directory) when the artifact store is local
    mlruns/<experiment id>/<run id>/outputs/<model id>/meta.yaml   the run logged that model

A logged model becomes a declared model at its `artifacts/` directory, named by its logged name
(never the directory's basename, `artifacts`), with its id, status and source run as properties;
a deleted one stays a model (its files are still in the checkout) but no run's output;
its params are the hyperparameters of the run that made it (or of a stage of its own when no run
of the store made it); its metrics (the latest point of each key and dataset, as MLflow's
`_get_model_metrics_from_file` picks it) are a metrics source for it alone. A model whose upload
failed or never finished is reported: its artifacts cannot be taken as the model.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from unified_supply_chain import limits, records, safeparse
from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.errors import FormatError
from unified_supply_chain.redact import redact_url
from unified_supply_chain.sources.lineage.mlflow.state import Collector, metric_points, text_value

#: Largest meta/params/tags file of a logged model read (MLflow caps param values at 6000).
_SMALL_FILE = 1024 * 1024
#: `<store>/<experiment>/models/<model id>/meta.yaml` (the registry's `mlruns/models/` excluded
#: by the caller's check of the experiment directory).
LOGGED_META = re.compile(
    r"^(?P<store>(?:.*/)?mlruns)/(?P<exp>[^/]+)/models/(?P<id>[^/]+)/meta\.yaml$"
)
#: Experiment-level folders of the file store that are not experiments (FileStore.
#: RESERVED_EXPERIMENT_FOLDERS plus the registry and the trash).
NOT_EXPERIMENTS = frozenset({"models", ".trash"})
#: LoggedModelStatus.to_int() values.
_STATUS = {0: "UNSPECIFIED", 1: "PENDING", 2: "READY", 3: "FAILED"}


@dataclass(frozen=True)
class LoggedModel:
    """One logged model of the store, as its files say."""

    model_id: str
    name: str
    experiment_id: str
    #: Repository path of `<store>/<experiment>/models/<model id>`.
    directory: str
    #: Repository path of its `artifacts/` directory (where MLflow puts the model files).
    artifact_dir: str
    source_run_id: str | None
    status: str
    model_type: str | None
    #: Whether any file of the checkout lies under `artifact_dir`.
    present: bool
    #: `artifact_location` when it is not on this machine's disk (`s3://...`), redacted.
    remote_location: str | None = None
    #: Deleted in the tracking store (its files stay until `mlflow gc`): still content of the
    #: checkout, so still a model, but no longer an output of its run.
    deleted: bool = False
    params: tuple[tuple[str, str], ...] = ()
    metrics: tuple[records.Metric, ...] = ()
    source: str = ""


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _latest_points(out: Collector, rel: str, key: str) -> list[records.Metric]:
    """The latest point of one metric file per dataset (highest step, then time, then value)."""
    best: dict[str | None, tuple[tuple[int, int, float], str]] = {}
    try:
        for stamp, number, step, parts in metric_points(out.root / rel):
            if len(parts) not in (4, 6):
                continue  # MLflow itself rejects other shapes as malformed
            dataset = parts[4] if len(parts) == 6 else None
            rank = (step, stamp, number)
            if dataset not in best or rank > best[dataset][0]:
                best[dataset] = (rank, parts[1])
    except FormatError as exc:
        # A history cut short has no known latest point: no value is given.
        out.problem(rel, f"metric not read: {exc}")
        return []
    return [
        records.Metric(type=key, value=value, slice=dataset, source=rel)
        for dataset, (_, value) in sorted(best.items(), key=lambda kv: kv[0] or "")
    ]


def _entries(members: Sequence[str], directory: str, section: str) -> list[tuple[str, str]]:
    """`(key, repository path)` of the files under `<directory>/<section>/` (keys may hold "/")."""
    prefix = f"{directory}/{section}/"
    return sorted((f[len(prefix) :], f) for f in members if f.startswith(prefix))


def _read_one(
    out: Collector, meta_rel: str, model_dir: str, exp_dir: str, members: Sequence[str]
) -> LoggedModel:
    """One logged model; `members` are the files under its directory."""
    meta = safeparse.load_yaml_file(out.root / meta_rel, _SMALL_FILE)
    if not isinstance(meta, dict):
        raise FormatError("logged model meta.yaml is not a mapping")
    model_id = _text(meta.get("model_id"))
    if model_id != posixpath.basename(model_dir):
        # MLflow finds a model by its directory name and checks the id it holds.
        raise FormatError(f"meta.yaml names model {model_id!r}, not its directory's")
    status = meta.get("status")
    status_name = (
        _STATUS.get(status, "UNKNOWN")
        if isinstance(status, int) and not isinstance(status, bool)
        else str(status or "UNSPECIFIED").upper()
    )
    params: list[tuple[str, str]] = []
    for key, rel in _entries(members, model_dir, "params")[: limits.MAX_PARAMS]:
        try:
            params.append((key, safeparse.read_text_bounded(out.root / rel, _SMALL_FILE)))
        except FormatError as exc:
            out.problem(rel, f"not read: {exc}")
    metrics: list[records.Metric] = []
    for key, rel in _entries(members, model_dir, "metrics"):
        metrics.extend(_latest_points(out, rel, key))
    artifact_dir = f"{model_dir}/artifacts"
    location = _text(meta.get("artifact_location"))
    remote = None
    if location and "://" in location and not location.startswith("file:"):
        remote = redact_url(location)  # an absolute local path is never recorded
    return LoggedModel(
        model_id=model_id,
        name=_text(meta.get("name")) or model_id,
        experiment_id=text_value(meta.get("experiment_id", posixpath.basename(exp_dir))),
        directory=model_dir,
        artifact_dir=artifact_dir,
        source_run_id=_text(meta.get("source_run_id")),
        status=status_name,
        model_type=_text(meta.get("model_type")),
        present=any(f.startswith(artifact_dir + "/") for f in members),
        remote_location=remote,
        deleted=meta.get("lifecycle_stage") == "deleted",
        params=tuple(params),
        metrics=tuple(metrics[: limits.MAX_METRICS]),
        source=meta_rel,
    )


def collect_logged_models(out: Collector, ordered: Sequence[str]) -> list[LoggedModel]:
    """Every logged model among `ordered`; unreadable ones become problems."""
    # Each file under a model directory, found in one pass (not one pass per model); a file of
    # a store nested inside another's artifacts belongs to both model directories.
    model_dirs = {
        posixpath.dirname(rel)
        for rel in ordered
        if (m := LOGGED_META.match(rel)) is not None and m.group("exp") not in NOT_EXPERIMENTS
    }
    members: dict[str, list[str]] = {}
    for rel in ordered:
        at = rel.find("/models/")
        while at != -1:
            end = rel.find("/", at + len("/models/"))
            if end != -1 and rel[:end] in model_dirs:
                members.setdefault(rel[:end], []).append(rel)
            at = rel.find("/models/", at + 1)
    found: list[LoggedModel] = []
    for rel in ordered:
        m = LOGGED_META.match(rel)
        if m is None or m.group("exp") in NOT_EXPERIMENTS:
            continue
        if len(found) >= limits.MAX_MLFLOW_RUNS:
            out.problem(rel, f"more than {limits.MAX_MLFLOW_RUNS} logged models; the rest skipped")
            break
        model_dir = posixpath.dirname(rel)
        try:
            exp_dir = posixpath.dirname(posixpath.dirname(model_dir))
            model = _read_one(out, rel, model_dir, exp_dir, members.get(model_dir, []))
        except FormatError as exc:
            out.problem(rel, f"MLflow logged model not read: {exc}")
            continue
        found.append(model)
    return found


def declare_logged_models(out: Collector, models: Sequence[LoggedModel]) -> None:
    """Each logged model as a declared model, and its metrics as a metrics source for it."""
    for lm in models:
        props = [
            (Prop.MLFLOW_MODEL_ID.value, lm.model_id),
            (Prop.MLFLOW_MODEL_STATUS.value, lm.status),
        ]
        if lm.source_run_id:
            props.append((Prop.MLFLOW_RUN_ID.value, lm.source_run_id))
        if lm.model_type:
            props.append((Prop.MLFLOW_MODEL_TYPE.value, lm.model_type))
        if lm.deleted:
            props.append((Prop.MLFLOW_LIFECYCLE_STAGE.value, "deleted"))
        if lm.remote_location:
            props.append((Prop.MLFLOW_ARTIFACT_LOCATION.value, lm.remote_location))
        out.declared.append(
            records.Declared(
                path=lm.artifact_dir,
                kind=records.ArtifactKind.MODEL,
                # Artifacts not in the checkout live in the experiment's artifact store.
                storage=None if lm.present else records.Storage.REMOTE,
                source=lm.source,
                name=lm.name,
                properties=tuple(props),
            )
        )
        if lm.status in ("FAILED", "PENDING") and not lm.deleted:
            what = "its upload failed" if lm.status == "FAILED" else "it was never finalized"
            out.problem(
                lm.source,
                f"MLflow logged model {lm.name} ({lm.model_id}) has status {lm.status}: {what}, "
                "so its artifacts may be incomplete",
            )
        if lm.metrics:
            out.metrics.append(
                records.MetricsSource(
                    path=f"{lm.directory}/metrics", metrics=lm.metrics, for_paths=(lm.artifact_dir,)
                )
            )


def models_of_run(
    models: Sequence[LoggedModel], run_id: str, run_files: Sequence[str], run_dir: str
) -> list[LoggedModel]:
    """The logged models a run made: by their `source_run_id`, or named in its `outputs/`."""
    prefix = f"{run_dir}/outputs/"
    output_ids = {f[len(prefix) :].split("/", 1)[0] for f in run_files if f.startswith(prefix)}
    return [
        m
        for m in models
        if not m.deleted and (m.source_run_id == run_id or m.model_id in output_ids)
    ]


def read_logged_models(root: Path, files: Sequence[str]) -> list[LoggedModel]:
    """The logged models of every MLflow file store among `files` (repository-relative paths
    under `root`), for callers outside a scan (e.g. finding what a training command logged)."""
    out = Collector(root=root, files=frozenset(files))
    return collect_logged_models(out, sorted(files))
