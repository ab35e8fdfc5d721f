"""PyTorch Lightning log directories: `<save_dir>/<name>/version_<n>/` as the CSVLogger and the
TensorBoardLogger write them (lightning/pytorch/loggers/csv_logs.py, tensorboard.py).

- `hparams.yaml` (`save_hparams_to_yaml`, lightning/pytorch/core/saving.py) is the run's
  hyperparameter set (the scan makes it a component; the run links its models to it);
- `metrics.csv` (CSVLogger's `ExperimentWriter`, one row per `log_metrics` call with a `step`
  column, sparse: a column is empty in rows that did not log it) gives each column's latest value;
- `checkpoints/*.ckpt` (ModelCheckpoint's default `dirpath` is `<log_dir>/checkpoints`,
  lightning/pytorch/callbacks/model_checkpoint.py `__resolve_ckpt_dir`) are the run's models, with
  `epoch=`/`step=` read from the default `{epoch}-{step}` file names and `last.ckpt` marked.
"""

from __future__ import annotations

import csv
import math
import posixpath
import re
from collections.abc import Sequence

from unified_supply_chain import limits, records
from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.errors import FormatError
from unified_supply_chain.formats.configs import in_lightning_log_dir
from unified_supply_chain.sources.lineage.training_logs.state import Collector, is_model_path

TRACKER = "lightning"
#: `epoch=3`, `step=400` in ModelCheckpoint's file names (`CHECKPOINT_EQUALS_CHAR = "="`).
_FIELD = re.compile(r"(?:^|-)(epoch|step)=(\d+)")
#: `last.ckpt`, `last-v1.ckpt` (`CHECKPOINT_NAME_LAST`, with the version suffix of a clash).
_LAST = re.compile(r"last(-v\d+)?\.ckpt")
#: Columns of metrics.csv that index rows rather than measure anything.
_INDEX_COLUMNS = frozenset({"step", "epoch"})


def log_dirs(files: Sequence[str]) -> list[str]:
    """Lightning log directories among `files`: a `version_<n>` directory (or any directory in
    `lightning_logs/`) holding hparams.yaml, metrics.csv, an event file or checkpoints/*.ckpt."""
    found: set[str] = set()
    for rel in files:
        parts = rel.split("/")
        name = parts[-1]
        if name in ("hparams.yaml", "metrics.csv") or name.startswith("events.out.tfevents."):
            directory = parts[:-1]
        elif len(parts) >= 3 and parts[-2] == "checkpoints" and name.endswith(".ckpt"):
            directory = parts[:-2]
        else:
            continue
        if in_lightning_log_dir([p.lower() for p in directory]):
            found.add("/".join(directory))
    return sorted(found)


def _number(text: str) -> str | None:
    text = text.strip()
    try:
        value = float(text)
    except ValueError:
        return None
    return text if math.isfinite(value) else None


def read_metrics_csv(out: Collector, rel: str) -> tuple[records.Metric, ...]:
    """The latest value of every metric column (streamed; rows capped)."""
    latest: dict[str, str] = {}
    try:
        with (out.root / rel).open("r", encoding="utf-8", errors="replace", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                return ()
            columns = [c.strip() for c in header][: limits.MAX_METRICS]
            for index, row in enumerate(reader):
                if index >= limits.MAX_LOG_METRIC_ROWS:
                    out.problem(
                        rel,
                        f"more than {limits.MAX_LOG_METRIC_ROWS} rows: metrics are the latest "
                        "values of the rows read",
                    )
                    break
                for column, cell in zip(columns, row, strict=False):  # rows may be short
                    value = _number(cell) if cell else None
                    if value is not None and column and column not in _INDEX_COLUMNS:
                        latest[column] = value
    except (OSError, csv.Error, UnicodeError) as exc:
        raise FormatError(f"metrics.csv not read: {exc}") from exc
    return tuple(records.Metric(type=k, value=v, source=rel) for k, v in latest.items())


def _checkpoint_properties(rel: str, directory: str) -> tuple[tuple[str, str], ...]:
    name = posixpath.basename(rel)
    props = [(Prop.TRACKER.value, TRACKER), (Prop.TRAINING_LOG.value, directory)]
    props += [(Prop.CHECKPOINT.key(k), v) for k, v in _FIELD.findall(name)]
    if _LAST.fullmatch(name):
        props.append((Prop.CHECKPOINT.key("last"), "true"))
    return tuple(props)


def read_lightning(
    out: Collector, directory: str, dir_files: Sequence[str], with_session: dict[str, bool]
) -> None:
    """One log directory as a run: its checkpoints (models), hparams.yaml, metrics.csv and the
    hparams sessions of its event files (`with_session`: event file -> whether it has one)."""
    hparams = f"{directory}/hparams.yaml"
    metrics_rel = f"{directory}/metrics.csv"
    ckpt_dir = f"{directory}/checkpoints/"
    checkpoints = sorted(
        f
        for f in dir_files
        if f.startswith(ckpt_dir) and is_model_path(f) and "/" not in f[len(ckpt_dir) :]
    )
    for rel in checkpoints:
        out.declared.append(
            records.Declared(
                path=rel,
                kind=records.ArtifactKind.MODEL,
                source=directory,
                properties=_checkpoint_properties(rel, directory),
            )
        )
        out.claimed.add(rel)
    events = sorted(
        f
        for f in dir_files
        if posixpath.dirname(f) == directory
        and posixpath.basename(f).startswith("events.out.tfevents.")
        and with_session.get(f)
    )
    if hparams in out.files:
        out.declared.append(
            records.Declared(
                path=hparams,
                source=directory,
                properties=((Prop.TRACKER.value, TRACKER), (Prop.TRAINING_LOG.value, directory)),
            )
        )
    params_files = tuple(p for p in (hparams,) if p in out.files) + tuple(events)
    metrics_files: tuple[str, ...] = ()
    if metrics_rel in out.files:
        try:
            metrics = read_metrics_csv(out, metrics_rel)
        except FormatError as exc:
            out.problem(metrics_rel, str(exc))
            metrics = ()
        if metrics:
            metrics_files = (metrics_rel,)
            out.metrics.append(
                records.MetricsSource(
                    path=metrics_rel, metrics=metrics, for_paths=tuple(checkpoints)
                )
            )
    out.stages.append(
        records.Stage(
            name=directory,
            command=None,
            inputs=(),
            outputs=tuple(checkpoints),
            params_files=params_files,
            metrics_files=metrics_files,
            source=directory,
            properties=((Prop.TRACKER.value, TRACKER),),
        )
    )
