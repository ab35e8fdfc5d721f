"""MLflow records: `MLproject` files, `MLmodel` directories and committed `mlruns/` trees.

- An `MLproject` becomes one hyperparameter set (entry-point parameter defaults, keyed
  `<entry point>.<parameter>`); its `python_env` / `conda_env` files give software libraries.
- An `MLmodel` directory is declared as a model, with its flavors, run id and signature.
- A run under `mlruns/<experiment>/<run id>/` becomes a stage (params, start/end times, the models
  it logged) and a metrics source (the latest value of each metric) for those models.
- An MLflow 3 logged model, `mlruns/<experiment>/models/<model id>/`, is a declared model at its
  `artifacts/` directory with its logged name, id and status (see `logged_models`).
Nothing is imported from MLflow and nothing is fetched; only the files in the checkout are read.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from pathlib import Path

from unified_supply_chain import limits, records
from unified_supply_chain.errors import FormatError
from unified_supply_chain.sources.lineage.mlflow.logged_models import (
    NOT_EXPERIMENTS,
    collect_logged_models,
    declare_logged_models,
)
from unified_supply_chain.sources.lineage.mlflow.model import MlflowModel, read_mlmodel
from unified_supply_chain.sources.lineage.mlflow.project import read_mlproject
from unified_supply_chain.sources.lineage.mlflow.runs import (
    RUN_META,
    read_run,
    registered_models,
    run_of,
)
from unified_supply_chain.sources.lineage.mlflow.state import Collector

#: Experiment-level folders of the file store that are not runs (FileStore.
#: RESERVED_EXPERIMENT_FOLDERS: tags, datasets, traces, models).
NOT_RUNS = frozenset({"tags", "datasets", "traces", "models"})


def read_mlflow(root: Path, files: Sequence[str]) -> records.Contribution:
    """Read every `MLproject`, `MLmodel` and committed MLflow run among `files`.

    `files` are repo-relative paths. Unreadable records become problems; nothing raises for bad
    input.
    """
    out = Collector(root=root, files=frozenset(files))
    ordered = sorted(files)
    projects = [p for p in ordered if posixpath.basename(p) == "MLproject"]
    for rel in projects:
        try:
            read_mlproject(out, rel)
        except FormatError as exc:
            out.problem(rel, f"MLproject not read: {exc}")

    registered = registered_models(out, ordered)
    models: list[MlflowModel] = []
    for rel in ordered:
        if posixpath.basename(rel) != "MLmodel" or posixpath.dirname(rel) == "":
            continue
        try:
            models.append(read_mlmodel(out, rel, registered))
        except FormatError as exc:
            out.problem(rel, f"MLmodel not read: {exc}")

    logged = collect_logged_models(out, ordered)
    declare_logged_models(out, logged)

    runs: dict[str, list[str]] = {}
    metas: list[str] = []
    for rel in ordered:
        m = RUN_META.match(rel)
        if m and m.group("exp") not in NOT_EXPERIMENTS and m.group("run") not in NOT_RUNS:
            metas.append(rel)
    for meta_rel in metas[: limits.MAX_MLFLOW_RUNS]:
        runs[posixpath.dirname(meta_rel)] = []
    if len(metas) > limits.MAX_MLFLOW_RUNS:
        out.problem(metas[0], f"more than {limits.MAX_MLFLOW_RUNS} MLflow runs; the rest skipped")
    for rel in ordered:
        run_dir = run_of(rel, runs)
        if run_dir is not None:
            runs[run_dir].append(rel)
    claimed: set[str] = set()
    for meta_rel in metas[: limits.MAX_MLFLOW_RUNS]:
        try:
            made = read_run(
                out, meta_rel, runs[posixpath.dirname(meta_rel)], models, projects, logged
            )
        except FormatError as exc:
            out.problem(meta_rel, f"MLflow run not read: {exc}")
            continue
        claimed.update(lm.model_id for lm in made)
    for lm in logged:
        if lm.model_id not in claimed and lm.params and not lm.deleted:
            # No run of the store made it: its own params are its hyperparameters.
            out.stages.append(
                records.Stage(
                    name=lm.name,
                    command=None,
                    inputs=(),
                    outputs=(lm.artifact_dir,),
                    params=lm.params,
                    source=lm.source,
                )
            )

    return records.Contribution(
        declared=tuple(out.declared),
        stages=tuple(out.stages),
        metrics=tuple(out.metrics),
        artifacts=tuple(out.artifacts),
        libraries=tuple(out.libraries),
        problems=tuple(out.problems),
    )
