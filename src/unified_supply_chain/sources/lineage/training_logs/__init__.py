"""Training logs and experiment trackers as lineage: the run directories that PyTorch Lightning,
Keras `ModelCheckpoint`, Weights & Biases and TensorBoard leave in a repository.

Each run becomes a stage (a formulation task once it has models): its checkpoints or saved
models are the outputs, its hyperparameter file (Lightning `hparams.yaml`, W&B `config.yaml`,
a TensorBoard hparams session) the parameters the models depend on, its metrics file the model
cards' metrics. Readers per logger live in this package; nothing is imported from the trackers and
nothing is fetched. Bad files become problems; nothing raises for bad input.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from pathlib import Path

from unified_supply_chain import limits, records
from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.errors import FormatError
from unified_supply_chain.lineage.resolve import artifact_ref
from unified_supply_chain.sources.lineage.training_logs import keras, lightning, tfevents, wandb
from unified_supply_chain.sources.lineage.training_logs.state import Collector, is_model_path

EVENTS_PREFIX = "events.out.tfevents."


def is_training_log(rel: str) -> bool:
    """Whether `rel` may belong to a training log this package reads (a cheap pre-filter)."""
    name = posixpath.basename(rel).lower()
    return (
        name.startswith(EVENTS_PREFIX)
        or name in ("hparams.yaml", "metrics.csv", "wandb-summary.json", "config.yaml")
        or name.endswith(keras.SUFFIXES)
        or "/checkpoints/" in rel
    )


def _events_sets(out: Collector, events: Sequence[str]) -> dict[str, bool]:
    """Each event file's hparams session as a hyperparameter set; path -> whether it had one."""
    found: dict[str, bool] = {}
    for rel in events:
        try:
            session = tfevents.read_hparams_session(out.root / rel)
        except FormatError as exc:
            out.problem(rel, f"TensorBoard event file not read: {exc}")
            found[rel] = False
            continue
        found[rel] = session is not None
        if session is None:
            continue
        props = [
            (Prop.TRACKER.value, "tensorboard"),
            (Prop.TRAINING_LOG.value, posixpath.dirname(rel)),
        ]
        if session.group_name:
            props.append((Prop.TENSORBOARD_GROUP.value, session.group_name))
        kind = records.ArtifactKind.HYPERPARAMETERS
        out.artifacts.append(
            records.Artifact(
                kind=kind,
                ref=artifact_ref(kind, rel),
                name=rel,
                path=rel,
                format="tensorboard-hparams",
                params=session.hparams,
                extra_properties=tuple(props),
            )
        )
    return found


def read_training_logs(root: Path, files: Sequence[str]) -> records.Contribution:
    """Read every Lightning, Keras, W&B and TensorBoard run among `files` (repo-relative)."""
    out = Collector(root=root, files=frozenset(files))
    ordered = sorted(files)
    events = [f for f in ordered if posixpath.basename(f).startswith(EVENTS_PREFIX)]
    with_session = _events_sets(out, events[: limits.MAX_TRAINING_LOG_RUNS])
    if len(events) > limits.MAX_TRAINING_LOG_RUNS:
        out.problem(
            events[0], f"more than {limits.MAX_TRAINING_LOG_RUNS} event files; the rest skipped"
        )

    lightning_dirs = lightning.log_dirs(ordered)[: limits.MAX_TRAINING_LOG_RUNS]
    for directory in lightning_dirs:
        members = [f for f in ordered if f.startswith(directory + "/")]
        lightning.read_lightning(out, directory, members, with_session)
    for run_dir in wandb.run_dirs(ordered)[: limits.MAX_TRAINING_LOG_RUNS]:
        members = [f for f in ordered if f.startswith(run_dir + "/")]
        wandb.read_wandb_run(out, run_dir, members)
    # TensorBoard runs outside a Lightning directory: the session's models are those beside it.
    in_lightning = {posixpath.dirname(e) for e in events} & set(lightning_dirs)
    for rel in events:
        directory = posixpath.dirname(rel)
        if not with_session.get(rel) or directory in in_lightning:
            continue
        outputs = tuple(
            f
            for f in ordered
            if posixpath.dirname(f) == directory and is_model_path(f) and f not in out.claimed
        )
        out.claimed.update(outputs)
        out.stages.append(
            records.Stage(
                name=directory or rel,
                command=None,
                inputs=(),
                outputs=outputs,
                params_files=(rel,),
                source=rel,
                properties=((Prop.TRACKER.value, "tensorboard"),),
            )
        )
    keras.read_keras_sequences(out, ordered)
    return records.Contribution(
        declared=tuple(out.declared),
        stages=tuple(out.stages),
        metrics=tuple(out.metrics),
        artifacts=tuple(out.artifacts),
        problems=tuple(out.problems),
    )
