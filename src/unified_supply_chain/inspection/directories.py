"""Directory models (SavedModel, MLflow, Hugging Face, ...): which files belong to one, and the one
model component it becomes, with header counts summed over its shards."""

from __future__ import annotations

import dataclasses
import posixpath

from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.errors import FormatError
from unified_supply_chain.formats import Kind, registry
from unified_supply_chain.formats import resolve as resolve_hook
from unified_supply_chain.inspection.headers import read_header
from unified_supply_chain.inspection.state import ScanState
from unified_supply_chain.lineage.resolve import artifact_ref
from unified_supply_chain.records import Artifact, ArtifactKind, HeaderInfo


def group_directories(st: ScanState) -> dict[str, tuple[str, str]]:
    """Multi-file models: member path -> (model directory, format), by the registry's
    directory models (SavedModel, MLflow, Hugging Face, ...); the first that claims a directory
    wins, and the shallowest directory claims a file first."""
    groups: dict[str, tuple[str, str]] = {}
    dirs: dict[str, set[str]] = {}
    for f in st.files:
        d = posixpath.dirname(f.path)
        dirs.setdefault(d, set()).add(posixpath.basename(f.path))
    roots: list[tuple[str, str]] = []
    kinds = registry().directory_models
    for d, names in dirs.items():
        for spec in kinds:
            by_suffix = spec.dir_suffix is not None and d.lower().endswith(spec.dir_suffix)
            if not by_suffix and not names.intersection(spec.markers):
                continue
            if spec.accept is not None and not resolve_hook(spec.accept)(names):
                continue
            roots.append((d, spec.id))
            break
    recursive = {spec.id: spec.recursive for spec in kinds}
    for d, fmt in sorted(roots, key=lambda r: len(r[0])):
        prefix = d + "/" if d else ""
        for f in st.files:
            inside = f.path.startswith(prefix)
            direct = posixpath.dirname(f.path) == d
            if (inside if recursive[fmt] else direct) and f.path not in groups:
                groups[f.path] = (d, fmt)
    return groups


def group_artifact(st: ScanState, d: str, fmt: str, members: list[str]) -> Artifact:
    """One model component for a directory model (SavedModel, MLflow model, Hugging Face)."""
    warnings: list[str] = []
    header: HeaderInfo | None = None
    props: dict[str, str] = {}
    arch = family = task = None
    licenses: tuple[str, ...] = ()
    weights = [m for m in members if _is_weight_file(st, m)]
    main = None
    if fmt == "tf-savedmodel":
        main = next((m for m in members if posixpath.basename(m) == "saved_model.pb"), None)
    else:
        main = next((m for m in weights if st.formats.get(m) == "safetensors"), None) or (
            weights[0] if weights else None
        )
    if main is not None and main not in ("",):
        header, warning = read_header(st.abs(main), st.formats.get(main, fmt))
        if warning:
            warnings.append(f"{main}: {warning}")
    # Shards of one model: counts are summed and dtypes joined over every shard of the main
    # file's format, so the header describes the whole model, like the parameter count.
    param_total = 0
    sums = {"tensor_count": 0, "tensor_bytes": 0}
    dtypes: set[str] = set()
    main_fmt = st.formats.get(main or "")
    for m in weights:
        if m == main:
            h: HeaderInfo | None = header
        elif _is_shard_format(st.formats.get(m)):
            h, w = read_header(st.abs(m), st.formats[m])
            if w:
                warnings.append(f"{m}: {w}")
        else:
            continue
        if h is None:
            continue
        param_total += h.parameter_count or 0
        if st.formats.get(m) == main_fmt:
            for key in sums:
                value = h.properties.get(key, "")
                sums[key] += int(value) if value.isdigit() else 0
            dtypes.update(x for x in h.properties.get("dtypes", "").split(",") if x)
    if header is not None and _is_shard_format(main_fmt):
        merged = dict(header.properties)
        for key, total in sums.items():
            if key in merged:
                merged[key] = str(total)
        if dtypes and "dtypes" in merged:
            merged["dtypes"] = ",".join(sorted(dtypes))
        header = dataclasses.replace(header, properties=merged)
    if fmt == "huggingface":
        cfg_rel = f"{d}/config.json" if d else "config.json"
        from unified_supply_chain.sources.cards.hf_config import read_hf_config

        try:
            cfg = read_hf_config(st.abs(cfg_rel))
            arch = cfg.architectures[0] if cfg.architectures else cfg.model_type
            family, task = cfg.architecture_family, cfg.task
            if cfg.model_type:
                props[Prop.HF_MODEL_TYPE.value] = cfg.model_type
            if cfg.torch_dtype:
                props[Prop.HF_TORCH_DTYPE.value] = cfg.torch_dtype
            st.artifacts.append(
                Artifact(
                    kind=ArtifactKind.HYPERPARAMETERS,
                    ref=artifact_ref(ArtifactKind.HYPERPARAMETERS, cfg_rel),
                    name=cfg_rel,
                    path=cfg_rel,
                    format="hf-config",
                    params=cfg.params,
                    size=st.by_path[cfg_rel].size,
                )
            )
        except FormatError as exc:
            warnings.append(f"{cfg_rel}: unreadable config: {exc}")
    if header is not None and header.license:
        licenses = (header.license,)
    size = sum(st.by_path[m].size for m in members)
    if header is not None and param_total:
        header = dataclasses.replace(header, parameter_count=param_total)
    return Artifact(
        kind=ArtifactKind.MODEL,
        ref=artifact_ref(ArtifactKind.MODEL, d),
        name=posixpath.basename(d) or st.root.resolve().name,
        path=d,
        format=fmt,
        size=size,
        files=tuple((m, st.by_path[m].size, None) for m in members),
        header=header,
        licenses=licenses,
        model_architecture=arch,
        architecture_family=family,
        task=task,
        extra_properties=tuple(props.items()) + (((Prop.MAIN_FILE.value, main),) if main else ()),
        warnings=tuple(warnings),
    )


def _is_weight_file(st: ScanState, rel: str) -> bool:
    """A readable model (or pointer) file: a candidate main file of a directory model."""
    spec = registry().get(st.formats.get(rel))
    return spec is not None and spec.reader is not None and spec.kind in (Kind.MODEL, Kind.POINTER)


def _is_shard_format(fmt: str | None) -> bool:
    spec = registry().get(fmt)
    return spec is not None and spec.shards
