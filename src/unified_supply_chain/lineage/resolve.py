"""Resolve lineage sources (DVC, MLflow, training records, metrics files) against the artifacts
found on disk: enrich or create components, and derive edges, formulation tasks and metrics.

Rules, in the order applied:
1. A declared path that matches an artifact enriches it (declared hashes, storage, name, kind);
   one that matches nothing becomes a new component whose content is absent.
2. A stage's outputs depend on its inputs (datasets, or models for fine-tuning) and on the
   hyperparameter sets of its parameter files; a stage that outputs artifacts is a task.
3. A metrics file belongs to the models its source names; else to the models its stage outputs,
   else to the models its stage reads (an evaluation stage); else to the one model in its directory.
4. Datasets named by a model card link to a local dataset of that name, else to a remote one.
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Iterable, Sequence

from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.records import (
    Artifact,
    ArtifactKind,
    Contribution,
    Declared,
    Edge,
    Metric,
    RunContext,
    Stage,
    Storage,
    TrainingTask,
)


def artifact_ref(kind: ArtifactKind, path: str) -> str:
    """Deterministic bom-ref of an artifact: kind and repo-relative path."""
    return f"{kind.value}:{path}"


def norm(path: str) -> str:
    """Normalise a repo-relative path (POSIX, no ./, no trailing slash)."""
    p = posixpath.normpath(path.replace("\\", "/")).lstrip("/")
    return "" if p == "." else p


@dataclasses.dataclass(frozen=True)
class Resolved:
    """Lineage applied to the artifacts."""

    artifacts: tuple[Artifact, ...]
    edges: tuple[Edge, ...]
    tasks: tuple[TrainingTask, ...]
    runs: dict[str, RunContext | None]
    """Task source -> the run that executed it."""
    hyperparameters_for: dict[str, list[tuple[str, str]]]
    """Model ref -> hyperparameters to mirror on its model card."""
    datasets_for: dict[str, list[str]]
    """Model ref -> dataset refs for its model card."""


class _Index:
    def __init__(self, artifacts: Iterable[Artifact]) -> None:
        self.items: dict[str, Artifact] = {}
        self.by_path: dict[str, str] = {}
        self.member: dict[str, str] = {}
        for a in artifacts:
            self.add(a)

    def add(self, a: Artifact) -> None:
        self.items[a.ref] = a
        if a.path is not None and a.path not in self.by_path:
            self.by_path[a.path] = a.ref
        for f in a.files:
            self.member.setdefault(f[0], a.ref)

    def replace(self, a: Artifact) -> None:
        self.items[a.ref] = a

    def at(self, path: str) -> list[Artifact]:
        """Artifacts at `path`: exactly, as a member file of a multi-file artifact, or under it."""
        path = norm(path)
        ref = self.by_path.get(path) or self.member.get(path)
        if ref is not None:
            return [self.items[ref]]
        prefix = path + "/" if path else ""
        refs = sorted({r for p, r in self.by_path.items() if p.startswith(prefix)})
        return [self.items[r] for r in refs]


def _guess_kind(path: str) -> ArtifactKind:
    from unified_supply_chain.discover.classify import guess_kind_from_name

    guess = guess_kind_from_name(path)
    return ArtifactKind.MODEL if guess == "model" else ArtifactKind.DATASET


def _enrich(a: Artifact, d: Declared) -> Artifact:
    # A digest computed from the content wins: a record's different digest of the same algorithm
    # is stale (reported below), never a second hash of the component.
    computed = {x.alg for x in a.hashes if x.source == "computed"}
    hashes = list(a.hashes)
    for h in d.hashes:
        if h.alg not in computed and all((x.alg, x.content) != (h.alg, h.content) for x in hashes):
            hashes.append(h)
    warnings = list(a.warnings)
    for h in d.hashes:
        mine = next((x for x in a.hashes if x.alg == h.alg and x.source == "computed"), None)
        if mine is not None and mine.content != h.content:
            warnings.append(
                f"content differs from {d.source}: {h.alg} {h.content[:12]} recorded, "
                f"{mine.content[:12]} found"
            )
    props = dict(a.extra_properties)
    props.update(d.properties)
    kind = d.kind or a.kind
    changes: dict[str, object] = {
        "hashes": tuple(hashes),
        "warnings": tuple(warnings),
        "extra_properties": tuple(props.items()),
    }
    if d.storage is not None and a.storage is Storage.GIT:
        changes["storage"] = d.storage
    if d.name and a.name == posixpath.basename(a.path or ""):
        changes["name"] = d.name
    if kind is not a.kind:
        changes["kind"] = kind
        changes["ref"] = artifact_ref(kind, a.path or a.name)
    meta = d.metadata
    for key, field_name in (("inputs", "model_inputs"), ("outputs", "model_outputs")):
        values = meta.get(key)
        if isinstance(values, (list, tuple)) and values and not getattr(a, field_name):
            changes[field_name] = tuple(str(x) for x in values)
    if meta.get("task") and not a.task:
        changes["task"] = str(meta["task"])
    return dataclasses.replace(a, **changes)  # type: ignore[arg-type]


def _absent(d: Declared) -> Artifact:
    kind = d.kind or _guess_kind(d.path)
    return Artifact(
        kind=kind,
        ref=artifact_ref(kind, d.path),
        name=d.name or posixpath.basename(d.path) or d.path,
        path=d.path,
        size=d.size,
        hashes=d.hashes,
        storage=d.storage or Storage.DVC,
        content_present=False,
        extra_properties=tuple(d.properties) + ((Prop.DECLARED_BY.value, d.source),),
        warnings=(f"content not present in the checkout (declared in {d.source})",),
    )


def resolve(
    artifacts: Sequence[Artifact],
    contributions: Sequence[Contribution],
    present: frozenset[str] = frozenset(),
) -> Resolved:
    """Apply every contribution to the artifacts.

    `present` holds the repo-relative paths of every file in the checkout: a declared path that is
    present but is no artifact (a script a DVC stage depends on) is not an absent artifact.
    """
    index = _Index(artifacts)
    present_dirs = {posixpath.dirname(p) for p in present}
    present_dirs |= {d for p in present_dirs for d in _parents(p)}
    # 1. Declared artifacts.
    for c in contributions:
        for d in c.declared:
            path = norm(d.path)
            found = index.at(path)
            exact = [a for a in found if a.path == path]
            if exact:
                old = exact[0]
                new = _enrich(old, d)
                if new.ref != old.ref:
                    del index.items[old.ref]
                    index.by_path[path] = new.ref
                    index.items[new.ref] = new
                else:
                    index.replace(new)
            elif not found and path not in present and path not in present_dirs:
                index.add(_absent(dataclasses.replace(d, path=path)))
        for a in c.artifacts:
            if a.ref not in index.items:
                index.add(a)

    edges: list[Edge] = []
    tasks: list[TrainingTask] = []
    runs: dict[str, RunContext | None] = {}
    hyper_for: dict[str, list[tuple[str, str]]] = {}
    stage_of_metrics: dict[str, Stage] = {}

    def hp_sets(stage: Stage) -> list[Artifact]:
        out = []
        for pf in stage.params_files:
            out += [a for a in index.at(pf) if a.kind is ArtifactKind.HYPERPARAMETERS]
        return out

    # 2. Stages.
    for c in contributions:
        for st in c.stages:
            outs = [a for p in st.outputs for a in index.at(p)]
            ins = [a for p in st.inputs for a in index.at(p) if a not in outs]
            params = hp_sets(st)
            for m in st.metrics_files:
                stage_of_metrics[norm(m)] = st
            if not outs:
                continue
            why = f"{st.source} {st.name}".strip()
            for o in outs:
                for i in ins:
                    if i.kind in (ArtifactKind.DATASET, ArtifactKind.MODEL):
                        edges.append(Edge(o.ref, i.ref, why))
                for p in params:
                    edges.append(Edge(o.ref, p.ref, why))
                if o.kind is ArtifactKind.MODEL:
                    if st.params:
                        hyper_for.setdefault(o.ref, []).extend(st.params)
                    else:
                        for p in params:
                            hyper_for.setdefault(o.ref, []).extend(p.params)
            task_ref = f"task:{st.source}#{st.name}"
            tasks.append(
                TrainingTask(
                    ref=task_ref,
                    name=st.name,
                    command=st.command,
                    inputs=tuple(dict.fromkeys([i.ref for i in ins] + [p.ref for p in params])),
                    parameters=st.params,
                    outputs=tuple(dict.fromkeys(o.ref for o in outs)),
                    time_start=st.time_start,
                    time_end=st.time_end,
                    source=st.source,
                    properties=st.properties,
                )
            )
            runs.setdefault(st.source, st.run)

    # 3. Metrics.
    metrics_for: dict[str, list[Metric]] = {}
    for c in contributions:
        for ms in c.metrics:
            path = norm(ms.path)
            targets: list[Artifact] = []
            if ms.for_paths:
                targets = [a for p in ms.for_paths for a in index.at(p)]
            if not targets and path in stage_of_metrics:
                st = stage_of_metrics[path]
                targets = [a for p in st.outputs for a in index.at(p)]
                if not any(t.kind is ArtifactKind.MODEL for t in targets):
                    targets = [a for p in st.inputs for a in index.at(p)]
            if not targets:
                directory = posixpath.dirname(path)
                targets = [
                    a
                    for a in index.items.values()
                    if a.kind is ArtifactKind.MODEL
                    and a.path is not None
                    and posixpath.dirname(a.path) == directory
                ]
                if len(targets) != 1:
                    targets = []
            for t in targets:
                if t.kind is ArtifactKind.MODEL:
                    metrics_for.setdefault(t.ref, []).extend(
                        dataclasses.replace(m, source=m.source or path) for m in ms.metrics
                    )
    for ref, metrics in metrics_for.items():
        a = index.items[ref]
        merged = list(dict.fromkeys(list(a.metrics) + metrics))
        index.replace(dataclasses.replace(a, metrics=tuple(merged)))

    # 4. Datasets named by model cards (matched by name, file stem or descriptor name).
    by_name: dict[str, list[Artifact]] = {}
    for a in index.items.values():
        if a.kind is not ArtifactKind.DATASET:
            continue
        names = {a.name.lower()}
        if a.path:
            names.add(posixpath.splitext(posixpath.basename(a.path))[0].lower())
        names.update(v.lower() for k, v in a.extra_properties if k == Prop.DATASET_NAME.value)
        for n in names:
            by_name.setdefault(n, []).append(a)
    for a in list(index.items.values()):
        if a.kind is not ArtifactKind.MODEL:
            continue
        for name in a.dataset_names:
            targets = by_name.get(name.lower()) or by_name.get(name.split("/")[-1].lower()) or []
            if not targets:
                ref = f"dataset:remote:{name}"
                remote = index.items.get(ref) or Artifact(
                    kind=ArtifactKind.DATASET,
                    ref=ref,
                    name=name,
                    path=None,
                    url=f"https://huggingface.co/datasets/{name}" if _hf_like(name) else None,
                    storage=Storage.REMOTE,
                    content_present=False,
                    extra_properties=((Prop.NAMED_BY.value, a.path or a.ref),),
                )
                index.add(remote)
                targets = [remote]
                by_name[name.lower()] = targets
            # A card names a dataset, not a split: when a stage or record already says which
            # files of it the model was trained on, those stand (no edge to the test split).
            linked = {e.depends_on for e in edges if e.ref == a.ref}
            if any(t.ref in linked for t in targets):
                continue
            for t in targets:
                edges.append(Edge(a.ref, t.ref, f"model card of {a.path}"))

    # Hyperparameter sets inside a model directory (Hugging Face config.json) configure it.
    for a in list(index.items.values()):
        if a.kind is not ArtifactKind.MODEL or a.path is None or not a.files:
            continue
        members = {f[0] for f in a.files}
        for h in index.items.values():
            if h.kind is ArtifactKind.HYPERPARAMETERS and h.path in members:
                edges.append(Edge(a.ref, h.ref, "configuration in the model directory"))
                hyper_for.setdefault(a.ref, []).extend(h.params)

    # Model-card datasets: every dataset edge of a model.
    unique_edges = list(dict.fromkeys(edges))
    datasets_for: dict[str, list[str]] = {}
    for e in unique_edges:
        target = index.items.get(e.depends_on)
        if target is not None and target.kind is ArtifactKind.DATASET:
            lst = datasets_for.setdefault(e.ref, [])
            if e.depends_on not in lst:
                lst.append(e.depends_on)
    hyper_dedup = {ref: list(dict.fromkeys(pairs)) for ref, pairs in hyper_for.items()}
    return Resolved(
        artifacts=tuple(sorted(index.items.values(), key=lambda a: a.ref)),
        edges=tuple(unique_edges),
        tasks=tuple(tasks),
        runs=runs,
        hyperparameters_for=hyper_dedup,
        datasets_for=datasets_for,
    )


def _parents(path: str) -> list[str]:
    out = []
    while path:
        path = posixpath.dirname(path)
        out.append(path)
    return out


def _hf_like(name: str) -> bool:
    """An `org/name` id: only then is a Hugging Face URL a fact rather than a guess."""
    from unified_supply_chain.sources.cards.huggingface import is_hf_repo_id

    return name.count("/") == 1 and is_hf_repo_id(name)
