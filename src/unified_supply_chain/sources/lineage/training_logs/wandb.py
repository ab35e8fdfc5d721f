"""Weights & Biases run directories: `wandb/run-<YYYYmmdd_HHMMSS>-<id>/files/` (offline runs
`offline-run-...`), as wandb/sdk/wandb_settings.py (`sync_dir`, `files_dir`) names them, with the
file names of wandb/sdk/lib/filenames.py:

- `config.yaml` (`CONFIG_FNAME`): `wandb_version: 1`, then one key per config entry holding
  `{desc, value}` (wandb/sdk/lib/config_util.py `save_config_file_from_dict`,
  `dict_from_config_file` reads `v["value"]`); the `_wandb` entry is W&B's own telemetry;
- `wandb-summary.json` (`SUMMARY_FNAME`): the run's final values; keys starting with `_`
  (`_step`, `_runtime`, `_wandb`) and media entries (`{"_type": ...}`) are not metrics;
- `wandb-metadata.json` (`METADATA_FNAME`): the writer's environment (wandb_internal.proto
  `EnvironmentRecord`: `program`, `codePath`, `args`, `startedAt`, `git: {remote, commit}`);
  host, user and e-mail fields are never read.
Models saved into the run (`wandb.save`) are the files under `files/` the registry calls models.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from typing import Any

from unified_supply_chain import limits, records, safeparse
from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.errors import FormatError
from unified_supply_chain.sources.lineage.metrics import parse_metrics
from unified_supply_chain.sources.lineage.training_logs.state import Collector, is_model_path

TRACKER = "wandb"
_RUN_DIR = re.compile(r"(?:offline-)?run-(?P<date>\d{8})_(?P<time>\d{6})-(?P<id>[^/]+)")
_SMALL = 16 * 1024 * 1024


def config_values(data: dict[Any, Any]) -> dict[Any, Any]:
    """A W&B config.yaml's entries as plain values (each entry's `value`; `wandb_version` and
    `_wandb` left out; an entry without `value` is not a config value)."""
    return {
        k: v["value"]
        for k, v in data.items()
        if k not in ("wandb_version", "_wandb") and isinstance(v, dict) and "value" in v
    }


def run_dirs(files: Sequence[str]) -> list[str]:
    """W&B run directories among `files` (those with a config, summary or metadata file)."""
    from unified_supply_chain.formats.configs import in_wandb_run_files

    found = set()
    for rel in files:
        parts = rel.split("/")
        if parts[-1] not in ("config.yaml", "wandb-summary.json", "wandb-metadata.json"):
            continue
        if in_wandb_run_files([p.lower() for p in parts[:-1]]):
            found.add("/".join(parts[:-2]))
    return sorted(found)


def _summary_metrics(data: Any) -> Any:
    """The summary without W&B's own `_` keys, media entries (`{"_type": ...}`) and lists."""
    if isinstance(data, list):
        return None
    if not isinstance(data, dict):
        return data
    if "_type" in data:
        return None
    kept = {}
    for key, value in data.items():
        if str(key).startswith("_"):
            continue
        value = _summary_metrics(value)
        if value is not None:
            kept[key] = value
    return kept


def _iso(started: Any) -> str | None:
    if isinstance(started, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT[0-9:.]+Z?", started):
        return started[:19] + "Z"
    return None


def read_wandb_run(out: Collector, run_dir: str, dir_files: Sequence[str]) -> None:
    """One run directory as a stage: config.yaml its hyperparameters, the summary its metrics,
    the metadata its program and commit, models under files/ its outputs."""
    files_dir = f"{run_dir}/files"
    match = _RUN_DIR.fullmatch(posixpath.basename(run_dir))
    run_id = match.group("id") if match else posixpath.basename(run_dir)
    config = f"{files_dir}/config.yaml"
    summary = f"{files_dir}/wandb-summary.json"
    metadata = f"{files_dir}/wandb-metadata.json"
    outputs = sorted(f for f in dir_files if f.startswith(files_dir + "/") and is_model_path(f))
    props = ((Prop.TRACKER.value, TRACKER), (Prop.TRAINING_LOG.value, run_dir))
    for rel in outputs:
        out.declared.append(
            records.Declared(
                path=rel, kind=records.ArtifactKind.MODEL, source=run_dir, properties=props
            )
        )
        out.claimed.add(rel)
    if config in out.files:
        out.declared.append(records.Declared(path=config, source=run_dir, properties=props))
    command: str | None = None
    commit: str | None = None
    time_start: str | None = None
    if metadata in out.files:
        try:
            meta = safeparse.load_json_file(out.root / metadata, _SMALL)
        except FormatError as exc:
            out.problem(metadata, f"W&B metadata not read: {exc}")
            meta = None
        if isinstance(meta, dict):
            program = meta.get("codePath") or meta.get("program")
            args = meta.get("args")
            if isinstance(program, str) and program:
                words = [program]
                if isinstance(args, list):
                    words += [a for a in args if isinstance(a, str)][:100]
                command = " ".join(words)[:4096]
            git = meta.get("git")
            if isinstance(git, dict) and isinstance(git.get("commit"), str):
                commit = git["commit"]
            time_start = _iso(meta.get("startedAt"))
    metrics_files: tuple[str, ...] = ()
    if summary in out.files:
        try:
            data = safeparse.load_json_file(out.root / summary, limits.MAX_METRICS_FILE)
            metrics = parse_metrics(_summary_metrics(data) or {}, summary)
        except FormatError as exc:
            out.problem(summary, f"W&B summary not read: {exc}")
            metrics = ()
        if metrics:
            metrics_files = (summary,)
            out.metrics.append(
                records.MetricsSource(path=summary, metrics=metrics, for_paths=tuple(outputs))
            )
    out.stages.append(
        records.Stage(
            name=run_id,
            command=command,
            inputs=(),
            outputs=tuple(outputs),
            params_files=(config,) if config in out.files else (),
            metrics_files=metrics_files,
            source=run_dir,
            time_start=time_start,
            run=records.RunContext(commit=commit) if commit else None,
            properties=((Prop.TRACKER.value, TRACKER), (Prop.WANDB_RUN_ID.value, run_id)),
        )
    )
