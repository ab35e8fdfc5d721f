"""Directory models (SavedModel, MLflow, Hugging Face, ...): which files belong to one, and the one
model component it becomes, with header counts summed over its shards."""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Mapping

from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.errors import FormatError
from unified_supply_chain.formats import Kind, registry
from unified_supply_chain.formats import resolve as resolve_hook
from unified_supply_chain.inspection.headers import read_header
from unified_supply_chain.inspection.state import ScanState, model_name
from unified_supply_chain.lineage.resolve import artifact_ref
from unified_supply_chain.records import Artifact, ArtifactKind, HeaderInfo, Storage


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
        else:
            if "config.json" in names and _hf_dir_by_content(st, d, names):
                roots.append((d, "huggingface"))
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
        main = (
            next((m for m in weights if st.formats.get(m) == "safetensors"), None)
            or next((m for m in weights if m.lower().endswith(".safetensors")), None)
            or (weights[0] if weights else None)
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
    # Pointer members stand for their content: declared size, and the oid as the file's
    # SHA-256 (the digest of the bytes `git lfs pull` brings), so the model is found by any of
    # its files' digests and the directory manifest equals the checked-out directory's.
    pointers = {m: p for m in members if (p := _pointer(st, m)) is not None}
    files = tuple(
        (m, pointers[m][0], pointers[m][1]) if m in pointers else (m, st.by_path[m].size, None)
        for m in members
    )
    size = sum(f[1] for f in files)
    if pointers:
        props[Prop.LFS_POINTERS.value] = str(len(pointers))
    if header is not None and param_total:
        header = dataclasses.replace(header, parameter_count=param_total)
    return Artifact(
        kind=ArtifactKind.MODEL,
        ref=artifact_ref(ArtifactKind.MODEL, d),
        name=posixpath.basename(d) or st.root.resolve().name,
        path=d,
        format=fmt,
        size=size,
        files=files,
        pointer_files=frozenset(pointers),
        # Weights only as pointers: the model's content is not in the checkout (fail closed:
        # `artifact-without-content`); any weight in LFS makes its storage git-lfs-pointer.
        storage=Storage.GIT_LFS_POINTER if pointers.keys() & set(weights) else Storage.GIT,
        content_present=not weights or bool(set(weights) - pointers.keys()),
        header=header,
        licenses=licenses,
        model_architecture=arch,
        architecture_family=family,
        task=task,
        extra_properties=tuple(props.items()) + (((Prop.MAIN_FILE.value, main),) if main else ()),
        warnings=tuple(warnings),
    )


def _hf_dir_by_content(st: ScanState, d: str, names: set[str]) -> bool:
    """A Hugging Face model directory whose weights have names the hub's conventions do not
    list (`ggml-model-q4_0.bin`, `pytorch_model_bin`): its `config.json` names `architectures`
    or a `model_type`, and a file beside it is a model or a Git LFS pointer."""
    from unified_supply_chain.sources.cards.hf_config import read_hf_config

    prefix = d + "/" if d else ""
    if not any(_is_weight_file(st, prefix + n) for n in names):
        return False
    try:
        cfg = read_hf_config(st.abs(prefix + "config.json"))
    except FormatError:
        return False
    return bool(cfg.architectures or cfg.model_type)


def _pointer(st: ScanState, rel: str) -> tuple[int, str] | None:
    """(declared size, oid) of a Git LFS pointer member, or None for any other file."""
    if st.formats.get(rel) != "git-lfs-pointer":
        return None
    header, _ = read_header(st.abs(rel), "git-lfs-pointer")
    if header is None:
        return None  # a malformed pointer is hashed as the file it is
    size = header.properties.get("lfs.size", "")
    return (int(size), header.properties["lfs.oid"]) if size.isdigit() else None


def _is_weight_file(st: ScanState, rel: str) -> bool:
    """A readable model (or pointer) file: a candidate main file of a directory model."""
    spec = registry().get(st.formats.get(rel))
    return spec is not None and spec.reader is not None and spec.kind in (Kind.MODEL, Kind.POINTER)


def _is_shard_format(fmt: str | None) -> bool:
    spec = registry().get(fmt)
    return spec is not None and spec.shards


def companion_files(st: ScanState, groups: Mapping[str, object]) -> dict[str, tuple[str, ...]]:
    """Model files whose format names companion files (`FormatSpec.extra["companions"]`: an
    OpenVINO `model.xml` and its `model.bin`, a Paddle `.pdmodel` and its `.pdiparams`): main
    file -> the companions present beside it (a pointer counts), outside directory models."""
    out: dict[str, tuple[str, ...]] = {}
    for rel, fmt in st.formats.items():
        spec = registry().get(fmt)
        suffixes = spec.extra.get("companions", ()) if spec is not None else ()
        if not suffixes or rel in groups:
            continue
        stem = posixpath.splitext(rel)[0]
        found = tuple(
            stem + s for s in suffixes if stem + s in st.by_path and stem + s not in groups
        )
        if found:
            out[rel] = found
    return out


def companion_artifact(
    st: ScanState, rel: str, fmt: str, header: HeaderInfo | None, companions: tuple[str, ...]
) -> Artifact:
    """One model component for a main file and its companions (every file nested)."""
    members = (rel, *companions)
    pointers = {m: p for m in members if (p := _pointer(st, m)) is not None}
    files = tuple(
        (m, pointers[m][0], pointers[m][1]) if m in pointers else (m, st.by_path[m].size, None)
        for m in members
    )
    return Artifact(
        kind=ArtifactKind.MODEL,
        ref=artifact_ref(ArtifactKind.MODEL, rel),
        name=model_name(rel),
        path=rel,
        format=fmt,
        size=sum(f[1] for f in files),
        files=files,
        pointer_files=frozenset(pointers),
        header=header,
        licenses=(header.license,) if header and header.license else (),
        extra_properties=((Prop.MAIN_FILE.value, rel),)
        + (((Prop.LFS_POINTERS.value, str(len(pointers))),) if pointers else ()),
    )


def android_binding(rel: str) -> tuple[tuple[str, str], ...]:
    """Properties of a model under an Android module's `src/<sourceSet>/ml/` directory, where
    Android Studio's ML model binding generates a class for it
    (https://developer.android.com/studio/write/tflite-ml-model-binding and
    https://www.tensorflow.org/lite/inference_with_metadata/codegen: File > New > Other >
    TensorFlow Lite Model imports the model into the module's `ml` directory, `app/src/main/ml`
    for the `app` module, and generates a wrapper class for it)."""
    parts = rel.split("/")
    if not rel.lower().endswith(".tflite"):
        return ()
    for i in range(len(parts) - 3):
        if parts[i + 1] == "src" and parts[i + 3] == "ml" and i + 4 < len(parts):
            return (
                (Prop.ANDROID_ML_BINDING.value, "true"),
                (Prop.ANDROID_MODULE.value, "/".join(parts[: i + 1])),
            )
    return ()
