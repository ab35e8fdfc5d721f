"""The ML parts of a CycloneDX document that cyclonedx-python-lib has no classes for:
component `modelCard`, component `data` and top-level `formulation`, added as JSON.

Everything here works on the plain dict produced by `build.build_core`; the caller validates
the final document against the official schema.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from unified_supply_chain.bom.build import clean_text
from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.records import (
    Artifact,
    ArtifactKind,
    Inventory,
    RunContext,
    TrainingTask,
)
from unified_supply_chain.redact import redact_param

_TASK_TYPES = ("build",)


def _prop(name: str, value: str) -> dict[str, str]:
    return {"name": clean_text(name), "value": clean_text(value)}


def model_card(
    model: Artifact, datasets: Sequence[str], hyperparameters: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    """The `modelCard` object of one model component."""
    params: dict[str, Any] = {}
    if model.task:
        params["task"] = model.task
    if model.architecture_family:
        params["architectureFamily"] = model.architecture_family
    arch = model.model_architecture or (model.header.architecture if model.header else None)
    if arch:
        params["modelArchitecture"] = arch
    if datasets:
        params["datasets"] = [{"ref": ref} for ref in datasets]
    for key, formats in (("inputs", model.model_inputs), ("outputs", model.model_outputs)):
        if formats:
            params[key] = [{"format": clean_text(x)[:200]} for x in formats]
    card: dict[str, Any] = {"bom-ref": f"{model.ref}#model-card"}
    if params:
        card["modelParameters"] = params
    if model.metrics:
        metrics = []
        for m in model.metrics:
            entry = {"type": clean_text(m.type), "value": clean_text(m.value)}
            if m.slice:
                entry["slice"] = clean_text(m.slice)
            metrics.append(entry)
        card["quantitativeAnalysis"] = {"performanceMetrics": metrics}
    considerations: dict[str, Any] = {
        k: [clean_text(v) for v in vals]
        for k, vals in (model.considerations or {}).items()
        if vals and k in ("users", "useCases", "technicalLimitations", "performanceTradeoffs")
    }
    ethical = (model.considerations or {}).get("ethicalConsiderations")
    if ethical:
        considerations["ethicalConsiderations"] = [{"name": clean_text(v)} for v in ethical]
    if considerations:
        card["considerations"] = considerations
    props = [_prop(Prop.HYPERPARAMETER.key(k), redact_param(k, v)) for k, v in hyperparameters]
    metrics_source = next((m.source for m in model.metrics if m.source), None)
    if metrics_source:
        props.append(_prop(Prop.METRICS_SOURCE.value, metrics_source))
    if props:
        card["properties"] = props
    return card


def data_entry(artifact: Artifact) -> dict[str, Any]:
    """The `data` array entry of a dataset or hyperparameter-set component."""
    if artifact.kind is ArtifactKind.HYPERPARAMETERS:
        entry: dict[str, Any] = {"type": "configuration", "name": clean_text(artifact.name)}
        if artifact.params:
            entry["contents"] = {
                "properties": [_prop(k, redact_param(k, v)) for k, v in artifact.params]
            }
        if artifact.description:
            entry["description"] = clean_text(artifact.description)
        return entry
    if artifact.kind is ArtifactKind.OTHER:
        return {"type": "other", "name": clean_text(artifact.name)}
    entry = {"type": "dataset", "name": clean_text(artifact.name)}
    if artifact.url:
        entry["contents"] = {"url": artifact.url}
    if artifact.description:
        entry["description"] = clean_text(artifact.description)
    classification = dict(artifact.extra_properties).get(Prop.CLASSIFICATION.value)
    if classification:
        entry["classification"] = classification
    return entry


def _composition_order(comp: dict[str, Any], artifact: Artifact) -> None:
    """Put `usc:config:source` properties and evidence occurrences back in composition order.

    cyclonedx-python-lib keeps properties and occurrences in sorted sets; for a composed config
    (Hydra) the order of its files is the merge order, so it is restored here, in place.
    """
    order = [clean_text(v) for k, v in artifact.extra_properties if k == Prop.CONFIG_SOURCE.value]
    if len(order) < 2:
        return
    props = comp.get("properties") or []
    slots = [i for i, p in enumerate(props) if p.get("name") == Prop.CONFIG_SOURCE.value]
    if len(slots) == len(order):
        for i, value in zip(slots, order, strict=True):
            props[i] = {"name": Prop.CONFIG_SOURCE.value, "value": value}
    occurrences = (comp.get("evidence") or {}).get("occurrences")
    if isinstance(occurrences, list):
        rank = {loc: n for n, loc in reversed(list(enumerate(order)))}
        occurrences.sort(key=lambda o: rank.get(o.get("location"), len(rank)))


def _run_properties(run: RunContext | None) -> list[dict[str, str]]:
    if run is None:
        return []
    out = []
    for field in (
        "repository",
        "commit",
        "ref",
        "run_id",
        "run_attempt",
        "workflow_ref",
        "event",
        "server_url",
        "runner_os",
        "runner_arch",
        "python_version",
        "dirty",
    ):
        value = getattr(run, field)
        if value:
            out.append(_prop(Prop.RUN.key(field.replace("_", "-")), str(value)))
    return out


def _task_json(task: TrainingTask, known: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "bom-ref": task.ref,
        "uid": task.ref,
        "name": clean_text(task.name),
        "taskTypes": list(_TASK_TYPES),
    }
    if task.command:
        out["steps"] = [
            {"name": clean_text(task.name), "commands": [{"executed": clean_text(task.command)}]}
        ]
    inputs: list[dict[str, Any]] = [{"resource": {"ref": r}} for r in task.inputs if r in known]
    if task.parameters:
        # `parameters` must hold unique items: keep the first value of each name.
        seen: dict[str, str] = {}
        for k, v in task.parameters:
            seen.setdefault(k, v)
        inputs.append(
            {
                "parameters": [
                    {"name": clean_text(k), "value": clean_text(redact_param(k, v))}
                    for k, v in seen.items()
                ]
            }
        )
    if inputs:
        out["inputs"] = inputs
    outputs = [{"type": "artifact", "resource": {"ref": r}} for r in task.outputs if r in known]
    if outputs:
        out["outputs"] = outputs
    if task.time_start:
        out["timeStart"] = task.time_start
    if task.time_end:
        out["timeEnd"] = task.time_end
    props = [_prop(Prop.SOURCE.value, task.source)] if task.source else []
    props += [_prop(k, v) for k, v in task.properties]
    if props:
        out["properties"] = props
    return out


def formulation(
    tasks: Sequence[TrainingTask], runs: dict[str, RunContext | None], known: set[str]
) -> list[dict[str, Any]]:
    """`formulation`: one workflow per source of tasks (a dvc.yaml, a training record's run)."""
    groups: dict[str, list[TrainingTask]] = {}
    for t in tasks:
        groups.setdefault(t.source or "unknown", []).append(t)
    workflows = []
    for source, group in sorted(groups.items()):
        run = runs.get(source)
        uid = source
        if run is not None and run.repository and run.run_id:
            uid = f"{run.repository}/actions/runs/{run.run_id}/attempts/{run.run_attempt or '1'}"
        wf: dict[str, Any] = {
            "bom-ref": f"workflow:{source}",
            "uid": uid,
            "name": clean_text(source),
            "taskTypes": list(_TASK_TYPES),
            "tasks": [_task_json(t, known) for t in group],
        }
        if run is not None and run.event:
            wf["trigger"] = {
                "bom-ref": f"trigger:{source}",
                "uid": f"{run.event}:{run.commit or ''}",
                "type": "webhook" if run.event != "schedule" else "scheduled",
            }
        starts = [t.time_start for t in group if t.time_start]
        ends = [t.time_end for t in group if t.time_end]
        if starts:
            wf["timeStart"] = min(starts)
        if ends:
            wf["timeEnd"] = max(ends)
        props = _run_properties(run) + [_prop(Prop.SOURCE.value, source)]
        wf["properties"] = props
        workflows.append(wf)
    if not workflows:
        return []
    return [{"bom-ref": "formulation", "workflows": workflows}]


def _walk_components(components: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for c in components:
        yield c
        yield from _walk_components(c.get("components", ()))


def add_ml_fields(
    document: dict[str, Any],
    inventory: Inventory,
    *,
    hyperparameters_for: dict[str, list[tuple[str, str]]],
    datasets_for: dict[str, list[str]],
    runs: dict[str, RunContext | None],
) -> dict[str, Any]:
    """Add modelCard, data and formulation to `document` (returns the same dict)."""
    by_ref = {c.get("bom-ref"): c for c in _walk_components(document.get("components", []))}
    for a in inventory.artifacts:
        comp = by_ref.get(clean_text(a.ref))
        if comp is None:
            continue
        if a.kind is ArtifactKind.MODEL:
            if a.path is not None and a.files:
                # Every file of a multi-file model is an occurrence, so a reader finds the model
                # by any of them; written here because the library orders occurrences by a
                # random identity.
                locations = dict.fromkeys([a.path, *(f[0] for f in a.files)])
                comp.setdefault("evidence", {})["occurrences"] = [
                    {"location": clean_text(loc)} for loc in locations
                ]
            comp["modelCard"] = model_card(
                a, datasets_for.get(a.ref, []), hyperparameters_for.get(a.ref, [])
            )
        else:
            comp["data"] = [data_entry(a)]
            _composition_order(comp, a)
    known = {str(ref) for ref in by_ref if ref}
    form = formulation(inventory.tasks, runs, known)
    if form:
        document["formulation"] = form
    return document
