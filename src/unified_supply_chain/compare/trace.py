"""`usc trace`: which SBOM component a deployed model file (or digest) is, and where it came from.

Given a SHA-256 digest and SBOM documents, find every component whose hashes match (nested file
components of multi-file models included) and gather, from the same document: the release (the
SBOM's application component), the commit and workflow run, the datasets and hyperparameter sets
the model depends on, its metrics, and the formulation task that produced it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from unified_supply_chain import limits
from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.bom.view import BomView, ComponentView, Kind, property_list
from unified_supply_chain.errors import FormatError, UsageError

_DIGEST = re.compile(r"^(sha256:)?([0-9a-fA-F]{64})$")
_READ_CHUNK = 1 << 20
_RUN_PREFIX = Prop.RUN.key("")


@dataclass(frozen=True)
class SbomFile:
    """One CycloneDX document read for tracing."""

    path: str
    """Where it was read from (as given, or found under a given directory)."""
    document: dict[str, Any]
    """The parsed JSON."""


@dataclass(frozen=True)
class TraceMatch:
    """One component whose hash matches, with what its SBOM says about its origin."""

    sbom: dict[str, Any]
    """file, release name/version, serialNumber, timestamp, specVersion."""
    component: dict[str, Any]
    """name, version, bom-ref, kind, type, path, format, storage, hashes (and the matched file)."""
    commit: str | None
    """Commit the model was trained at (training run), else the SBOM's commit."""
    run: dict[str, str]
    """The workflow run: repository, commit, run-id, run-attempt, workflow-ref, event, url..."""
    sbom_run: dict[str, str]
    """The run that generated the SBOM (metadata properties)."""
    datasets: list[dict[str, Any]] = field(default_factory=list)
    """Datasets the model depends on: name, version, path, hashes, storage, licences."""
    hyperparameters: list[dict[str, Any]] = field(default_factory=list)
    """Hyperparameter sets: name, path, values {key: value}."""
    metrics: list[dict[str, str]] = field(default_factory=list)
    """Model-card performance metrics: type, value, slice."""
    training: list[dict[str, Any]] = field(default_factory=list)
    """Formulation tasks that output the model: workflow, task, command, times, parameters."""

    def to_json(self) -> dict[str, Any]:
        """The match as a JSON-ready dict."""
        return {
            "component": self.component,
            "sbom": self.sbom,
            "commit": self.commit,
            "run": self.run,
            "sbom_run": self.sbom_run,
            "datasets": self.datasets,
            "hyperparameters": self.hyperparameters,
            "metrics": self.metrics,
            "training": self.training,
        }


def parse_digest(text: str) -> str | None:
    """The lower-case hex digest of "sha256:HEX" or a bare 64-hex string; None otherwise."""
    match = _DIGEST.match(text.strip())
    return match.group(2).lower() if match else None


def sha256_of(path: Path) -> str:
    """Streaming SHA-256 of a file; UsageError when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_READ_CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return digest.hexdigest()


def _is_cyclonedx(doc: Any) -> bool:
    return isinstance(doc, dict) and doc.get("bomFormat") == "CycloneDX"


def load_sboms(paths: Iterable[Path]) -> tuple[list[SbomFile], list[str]]:
    """CycloneDX documents from files and directories (searched recursively for *.json).

    A file given by name must be a CycloneDX JSON document (UsageError otherwise); files found in
    directories that are not are skipped and named in the second list.
    """
    from unified_supply_chain.safeparse import load_json_file

    found: list[SbomFile] = []
    skipped: list[str] = []
    for given in paths:
        if given.is_dir():
            for candidate in sorted(given.rglob("*.json")):
                if not candidate.is_file():
                    continue
                try:
                    doc = load_json_file(candidate, limits.MAX_TEXT_PARSE)
                except FormatError:
                    skipped.append(str(candidate))
                    continue
                if _is_cyclonedx(doc):
                    found.append(SbomFile(str(candidate), doc))
                else:
                    skipped.append(str(candidate))
        elif given.is_file():
            try:
                doc = load_json_file(given, limits.MAX_TEXT_PARSE)
            except FormatError as exc:
                raise UsageError(f"{given}: not a readable SBOM: {exc}") from exc
            if not _is_cyclonedx(doc):
                raise UsageError(f"{given}: not a CycloneDX JSON document")
            found.append(SbomFile(str(given), doc))
        else:
            raise UsageError(f"{given}: no such file or directory")
    return found, skipped


def _run_props(obj: Mapping[str, Any]) -> dict[str, str]:
    return {k[len(_RUN_PREFIX) :]: v for k, v in property_list(obj) if k.startswith(_RUN_PREFIX)}


def _run_url(run: dict[str, str]) -> str | None:
    if not (run.get("repository") and run.get("run-id")):
        return None
    server = (run.get("server-url") or "https://github.com").rstrip("/")
    url = f"{server}/{run['repository']}/actions/runs/{run['run-id']}"
    if run.get("run-attempt"):
        url += f"/attempts/{run['run-attempt']}"
    return url


def _kind(comp: ComponentView) -> str | None:
    return None if comp.kind is Kind.OTHER else comp.kind.value


def _describe(comp: ComponentView) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": comp.name or None,
        "version": comp.version,
        "bom-ref": comp.ref or None,
        "type": comp.type or None,
        "kind": _kind(comp),
        "path": comp.path,
        "format": comp.prop(Prop.FORMAT),
        "storage": comp.prop(Prop.STORAGE),
        "hashes": [{"alg": alg, "content": content} for alg, content in comp.hashes],
    }
    if comp.licences:
        out["licenses"] = list(comp.licences)
    return out


def _config_values(comp: ComponentView) -> dict[str, str]:
    values: dict[str, str] = {}
    for key, value in comp.hyperparameters:
        values.setdefault(key, value)
    return values


def _tasks_producing(doc: dict[str, Any], ref: str) -> Iterator[tuple[dict[str, Any], Any]]:
    for formula in doc.get("formulation") or []:
        if not isinstance(formula, dict):
            continue
        for wf in formula.get("workflows") or []:
            if not isinstance(wf, dict):
                continue
            for task in wf.get("tasks") or []:
                if not isinstance(task, dict):
                    continue
                outputs = [
                    o.get("resource", {}).get("ref")
                    for o in task.get("outputs") or []
                    if isinstance(o, dict) and isinstance(o.get("resource"), dict)
                ]
                if ref in outputs:
                    yield wf, task


def _task_json(wf: dict[str, Any], task: dict[str, Any]) -> dict[str, Any]:
    commands = [
        c.get("executed")
        for step in task.get("steps") or []
        if isinstance(step, dict)
        for c in step.get("commands") or []
        if isinstance(c, dict) and c.get("executed")
    ]
    parameters: dict[str, str] = {}
    inputs: list[str] = []
    for entry in task.get("inputs") or []:
        if not isinstance(entry, dict):
            continue
        if isinstance(entry.get("resource"), dict) and entry["resource"].get("ref"):
            inputs.append(str(entry["resource"]["ref"]))
        for p in entry.get("parameters") or []:
            if isinstance(p, dict) and isinstance(p.get("name"), str):
                parameters[p["name"]] = str(p.get("value", ""))
    run = _run_props(wf)
    url = _run_url(run)
    out: dict[str, Any] = {
        "workflow": wf.get("name"),
        "workflow_uid": wf.get("uid"),
        "task": task.get("name"),
        "commands": commands,
        "inputs": inputs,
        "parameters": parameters,
        "time_start": task.get("timeStart") or wf.get("timeStart"),
        "time_end": task.get("timeEnd") or wf.get("timeEnd"),
        "run": run,
    }
    if url:
        out["run_url"] = url
    trigger = wf.get("trigger")
    if isinstance(trigger, dict):
        out["trigger"] = {k: trigger.get(k) for k in ("uid", "type") if trigger.get(k)}
    return out


def _match(
    sbom: SbomFile, view: BomView, comp: ComponentView, matched: ComponentView | None
) -> TraceMatch:
    doc = sbom.document
    metadata = view.metadata
    app = view.application
    sbom_info = {
        "file": sbom.path,
        "release": {
            "name": (app.name or None) if app else None,
            "version": app.version if app else None,
        },
        "serialNumber": doc.get("serialNumber"),
        "version": doc.get("version"),
        "timestamp": metadata.get("timestamp"),
        "specVersion": doc.get("specVersion"),
    }
    component = _describe(comp)
    if matched is not None:
        component["matched_file"] = _describe(matched)

    everything = view.by_ref()
    depends = [*view.dependencies().get(comp.ref, ()), *comp.dataset_refs]
    training = [_task_json(wf, task) for wf, task in _tasks_producing(doc, comp.ref)]
    for t in training:
        depends.extend(t["inputs"])

    datasets: list[dict[str, Any]] = []
    hyper: list[dict[str, Any]] = []
    seen: set[str] = set()
    for target in depends:
        if target in seen or target not in everything:
            continue
        seen.add(target)
        dep_comp = everything[target]
        if dep_comp.kind is Kind.DATASET:
            datasets.append(_describe(dep_comp))
        elif dep_comp.kind is Kind.HYPERPARAMETERS:
            entry = _describe(dep_comp)
            entry["values"] = _config_values(dep_comp)
            hyper.append(entry)
    card_params = dict(comp.card_hyperparameters)
    if card_params:
        hyper.append({"name": "model card", "kind": "hyperparameters", "values": card_params})

    metrics: list[dict[str, str]] = []
    for m in comp.metrics:
        entry_m = {"type": m.type, "value": m.value or ""}
        if m.slice:
            entry_m["slice"] = m.slice
        metrics.append(entry_m)

    sbom_run = _run_props(metadata)
    url = _run_url(sbom_run)
    if url:
        sbom_run["url"] = url
    # Several tasks may describe the model (a DVC stage and a training record): the run is the
    # one a task recorded, whichever task that is.
    recorded = next((t for t in training if t["run"]), None)
    run = dict(recorded["run"]) if recorded is not None else dict(sbom_run)
    if recorded is not None and recorded.get("run_url"):
        run["url"] = recorded["run_url"]
    commit = run.get("commit") or sbom_run.get("commit")
    return TraceMatch(
        sbom=sbom_info,
        component=component,
        commit=commit,
        run=run,
        sbom_run=sbom_run,
        datasets=datasets,
        hyperparameters=hyper,
        metrics=metrics,
        training=training,
    )


def trace(digest: str, sboms: Iterable[SbomFile]) -> list[TraceMatch]:
    """Every component in `sboms` whose SHA-256 is `digest`, newest SBOM first.

    A match on a nested file component is reported on its top-level component (the multi-file
    model), with the file named in `component["matched_file"]`.
    """
    digest = digest.lower()
    matches: list[TraceMatch] = []
    for sbom in sboms:
        view = BomView.of(sbom.document)
        reported: set[int] = set()
        for comp in view.components:
            if comp.sha256 != digest:
                continue
            owner = comp.owner or comp
            if id(owner) in reported:
                continue
            reported.add(id(owner))
            matches.append(_match(sbom, view, owner, comp if comp.owner is not None else None))
    matches.sort(key=lambda m: str(m.sbom.get("timestamp") or ""), reverse=True)
    return matches
