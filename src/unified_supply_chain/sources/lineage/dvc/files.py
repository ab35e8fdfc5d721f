"""`.dvc` files: tracked outputs with md5 and size, imports (`deps` with a `repo`), and DVC 0.x
stage files (`cmd`, `deps`, `outs`, outputs flagged `metric`)."""

from __future__ import annotations

import posixpath

from unified_supply_chain import records, safeparse
from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.errors import FormatError
from unified_supply_chain.redact import redact_text, redact_url
from unified_supply_chain.sources.lineage.dvc.state import (
    REMOTE_URL,
    Builder,
    PathError,
    add_metrics,
    apply_hash_info,
    normalise,
)


def read_dvc_file(b: Builder, relpath: str) -> None:
    """Declare the outputs (and, for a stage file, the stage) of one `.dvc` file."""
    data = safeparse.load_yaml_file(b.root / relpath)
    if not isinstance(data, dict):
        raise FormatError("not a mapping")
    base = posixpath.dirname(relpath)
    base = posixpath.join(base, data["wdir"]) if isinstance(data.get("wdir"), str) else base
    import_url = None
    is_stage = isinstance(data.get("cmd"), str)  # a DVC 0.x stage file: `cmd` + deps + outs
    inputs: list[str] = []
    raw_deps = data.get("deps")
    for dep in raw_deps if isinstance(raw_deps, list) else []:
        if isinstance(dep, dict):
            repo = dep.get("repo")
            # Recorded in the SBOM: never with the credentials a URL may carry.
            if isinstance(repo, dict) and isinstance(repo.get("url"), str):
                import_url = redact_url(repo["url"])
            elif isinstance(dep.get("path"), str) and REMOTE_URL.match(dep["path"]):
                import_url = redact_url(dep["path"])
            elif is_stage and isinstance(dep.get("path"), str):
                try:
                    dep_path = normalise(base, dep["path"])
                except PathError as exc:
                    b.problem(relpath, str(exc))
                    continue
                inputs.append(dep_path)
                apply_hash_info(b.declare(dep_path, relpath, weak=True), dep, "dvc-file")
    outs = data.get("outs")
    if not isinstance(outs, list):
        raise FormatError("no `outs` list")
    outputs: list[str] = []
    metrics: list[str] = []
    for out in outs:
        if not isinstance(out, dict) or not isinstance(out.get("path"), str):
            b.problem(relpath, "an `outs` entry has no path")
            continue
        try:
            path = normalise(base, out["path"])
        except PathError as exc:
            b.problem(relpath, str(exc))
            continue
        if out.get("metric") is True or isinstance(out.get("metric"), dict):
            metrics.append(path)  # DVC 0.x metrics were outputs flagged `metric`
            continue
        outputs.append(path)
        acc = b.declare(path, relpath)
        acc.storage = records.Storage.DVC
        apply_hash_info(acc, out, "dvc-file")
        if import_url is not None:
            acc.properties[Prop.DVC_IMPORT_URL.value] = import_url
        if out.get("cache") is False:
            acc.properties[Prop.DVC_CACHE.value] = "false"
    if is_stage:
        b.stages.append(
            records.Stage(
                name=posixpath.basename(relpath)[: -len(".dvc")] or relpath,
                command=redact_text(data["cmd"]),
                inputs=tuple(inputs),
                outputs=tuple(outputs),
                metrics_files=tuple(metrics),
                source=relpath,
            )
        )
        for mpath in metrics:
            add_metrics(b, mpath, tuple(outputs))
