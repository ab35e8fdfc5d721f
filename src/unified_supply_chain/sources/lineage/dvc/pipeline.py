"""`dvc.yaml` pipelines: declared artifacts, stages (command, inputs, outputs, params, metrics) and
top-level metrics, with what `dvc.lock` says each stage used."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

from unified_supply_chain import limits, records, safeparse
from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.errors import FormatError
from unified_supply_chain.redact import redact_text
from unified_supply_chain.sources.lineage.dvc.lock import apply_lock_hashes, lock_params, read_lock
from unified_supply_chain.sources.lineage.dvc.params import (
    DEFAULT_PARAMS,
    load_params_file,
    params_spec,
    select_params,
)
from unified_supply_chain.sources.lineage.dvc.state import (
    REMOTE_URL,
    Builder,
    PathError,
    add_metrics,
    normalise,
)
from unified_supply_chain.sources.lineage.dvc.templating import expand_stages, interpolate


def _entry_path_and_opts(entry: Any) -> tuple[str, dict[str, Any]] | None:
    """`- path` or `- path: {opts}` list entries of deps/outs/metrics/plots."""
    if isinstance(entry, str):
        return entry, {}
    if isinstance(entry, dict) and len(entry) == 1:
        key, opts = next(iter(entry.items()))
        if isinstance(key, str):
            return key, opts if isinstance(opts, dict) else {}
    return None


@dataclass
class _StageDraft:
    name: str
    command: str | None
    wdir: str
    inputs: list[str]
    outputs: list[str]
    cached_outputs: set[str]
    params_files: list[str]
    params: list[tuple[str, str]]
    metrics_files: list[str]


def _paths(b: Builder, source: str, wdir: str, entries: Any) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    for entry in entries if isinstance(entries, list) else []:
        parsed = _entry_path_and_opts(entry)
        if parsed is None:
            b.problem(source, "an entry is neither a path nor a one-key mapping; skipped")
            continue
        raw, opts = parsed
        if REMOTE_URL.match(raw):
            continue  # an external dependency (s3://, https://): not a repository path
        try:
            out.append((normalise(wdir, raw), opts))
        except PathError as exc:
            b.problem(source, str(exc))
    return out


def read_dvc_yaml(b: Builder, relpath: str, lock_relpath: str | None) -> None:
    """Declare the artifacts, stages and metrics of one `dvc.yaml` (with its `dvc.lock`, if any)."""
    data = safeparse.load_yaml_file(b.root / relpath)
    if data is None:
        return
    if not isinstance(data, dict):
        raise FormatError("not a mapping")
    base = posixpath.dirname(relpath)
    params_cache: dict[str, Any] = {}

    # Templating context: `vars:` entries (mappings or params files) and the default params file.
    context: dict[str, Any] = {}
    default_params = load_params_file(b, posixpath.join(base, DEFAULT_PARAMS), params_cache)
    if isinstance(default_params, dict):
        context.update(default_params)
    raw_vars = data.get("vars")
    for var in raw_vars if isinstance(raw_vars, list) else []:
        if isinstance(var, dict):
            context.update(var)
        elif isinstance(var, str):
            fname, _, keys = var.partition(":")
            try:
                loaded = load_params_file(b, normalise(base, fname), params_cache)
            except PathError as exc:
                b.problem(relpath, str(exc))
                continue
            if isinstance(loaded, dict):
                wanted = [k.strip() for k in keys.split(",") if k.strip()]
                context.update({k: v for k, v in loaded.items() if not wanted or k in wanted})

    # Declared artifacts first, so stage outputs can be matched to models.
    artifacts = data.get("artifacts")
    model_paths: set[str] = set()
    for art_name, art in artifacts.items() if isinstance(artifacts, dict) else []:
        if not isinstance(art, dict) or not isinstance(art.get("path"), str):
            b.problem(relpath, f"artifact {art_name!r} has no path")
            continue
        try:
            path = normalise(base, art["path"])
        except PathError as exc:
            b.problem(relpath, f"artifact {art_name!r}: {exc}")
            continue
        acc = b.declare(path, relpath)
        acc.name = str(art_name)
        acc.properties[Prop.DVC_ARTIFACT.value] = str(art_name)
        kind = art.get("type")
        if kind == "model":
            acc.kind = records.ArtifactKind.MODEL
            model_paths.add(path)
        elif kind == "dataset":
            acc.kind = records.ArtifactKind.DATASET
        if isinstance(art.get("desc"), str):
            acc.metadata["description"] = art["desc"]
        labels = art.get("labels")
        if isinstance(labels, list) and labels:
            acc.properties[Prop.DVC_LABELS.value] = ",".join(str(x) for x in labels)
            acc.metadata["labels"] = [str(x) for x in labels]
        if isinstance(art.get("meta"), dict):
            acc.metadata["meta"] = art["meta"]

    lock = read_lock(b, lock_relpath) if lock_relpath else {}

    drafts: list[_StageDraft] = []
    stages = data.get("stages")
    for stage_name, raw_body in stages.items() if isinstance(stages, dict) else []:
        try:
            expanded = list(expand_stages(str(stage_name), raw_body))
        except FormatError as exc:
            b.problem(relpath, str(exc))
            continue
        for name, body, extra in expanded:
            if len(drafts) >= limits.MAX_DVC_STAGES:
                raise FormatError(f"more than {limits.MAX_DVC_STAGES} stages")
            stage = interpolate(body, {**context, **extra})
            if not isinstance(stage, dict):
                continue
            drafts.append(_draft_stage(b, relpath, base, name, stage, lock.get(name), params_cache))

    produced = {p for d in drafts for p in d.outputs}
    for d in drafts:
        b.stages.append(
            records.Stage(
                name=d.name,
                command=d.command,
                inputs=tuple(d.inputs),
                outputs=tuple(d.outputs),
                params=tuple(d.params),
                params_files=tuple(d.params_files),
                metrics_files=tuple(d.metrics_files),
                source=relpath,
            )
        )
        if not d.metrics_files:
            continue
        # An evaluation stage writes metrics about what it reads: the models other stages made.
        candidates = d.outputs or [p for p in d.inputs if p in produced]
        models = [p for p in candidates if p in model_paths]
        for_paths = tuple(models or candidates)
        for mpath in d.metrics_files:
            add_metrics(b, mpath, for_paths)

    for mpath, _ in _paths(b, relpath, base, data.get("metrics")):
        if all(m.path != mpath for m in b.metrics):
            add_metrics(b, mpath, ())


def _draft_stage(
    b: Builder,
    source: str,
    base: str,
    name: str,
    stage: dict[str, Any],
    lock: Any,
    params_cache: dict[str, Any],
) -> _StageDraft:
    wdir = base
    if isinstance(stage.get("wdir"), str) and stage["wdir"] not in ("", "."):
        try:
            wdir = normalise(base, stage["wdir"])
        except PathError as exc:
            b.problem(source, f"stage {name!r}: {exc}")
    cmd = stage.get("cmd")
    if isinstance(cmd, list):
        command: str | None = " && ".join(str(c) for c in cmd)
    elif isinstance(cmd, str):
        command = cmd
    else:
        command = None
    if command is not None:
        command = redact_text(command)  # the command goes into the SBOM: no URL credentials

    deps = _paths(b, source, wdir, stage.get("deps"))
    outs = _paths(b, source, wdir, stage.get("outs"))
    metrics = _paths(b, source, wdir, stage.get("metrics"))
    draft = _StageDraft(
        name=name,
        command=command,
        wdir=wdir,
        inputs=[p for p, _ in deps],
        outputs=[p for p, _ in outs],
        cached_outputs={p for p, o in outs if o.get("cache", True) is not False},
        params_files=[],
        params=[],
        metrics_files=[p for p, _ in metrics],
    )

    # Params: values from the files as they are now, overridden by what dvc.lock says was used.
    values: dict[str, list[tuple[str, str]]] = {}
    for fname, keys in params_spec(stage.get("params")):
        try:
            prel = normalise(wdir, fname)
        except PathError as exc:
            b.problem(source, f"stage {name!r}: {exc}")
            continue
        draft.params_files.append(prel)
        values[prel] = select_params(load_params_file(b, prel, params_cache), keys)
    for prel, used in lock_params(lock, wdir):
        values[prel] = used
        if prel not in draft.params_files:
            draft.params_files.append(prel)
    seen: set[str] = set()
    for prel in draft.params_files:
        for key, value in values.get(prel, []):
            if key not in seen:
                seen.add(key)
                draft.params.append((key, value))

    for path in draft.outputs:
        acc = b.declare(path, source)
        if path in draft.cached_outputs:
            acc.storage = records.Storage.DVC
        else:
            acc.properties[Prop.DVC_CACHE.value] = "false"
    apply_lock_hashes(b, source, name, wdir, lock)
    return draft
