"""Dataset declarations in YAML that name files of the repository: Ultralytics/YOLO dataset YAML
and Kedro data catalogs (readers: `sources/datasets/yolo.py`, `sources/datasets/kedro.py`).

Each declaration becomes one dataset component per dataset it names, with the declaring file as
`usc:descriptor`. Declared files that are present and already components of their own (a
Parquet table, a pickled model) are enriched, not duplicated: they get the declaration's name,
split, layer or version. Present files that are no component yet (images, `.xlsx` sheets) become
the declared dataset's content: its member files, hashed like a directory's. A declaration whose
files are all absent is listed with `usc:content-present: false`; remote URLs are redacted.

YOLO YAML is recognised by content, wherever it lies: `claim_yolo_datasets` runs before the
scan turns classified files into components, so a `coco.yaml` under `configs/` is a dataset, not
a Hydra group file, and a YAML under `data/` that is not a dataset YAML is nothing.
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Iterable

from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.errors import FormatError
from unified_supply_chain.inspection.state import ScanState
from unified_supply_chain.lineage.resolve import artifact_ref
from unified_supply_chain.records import Artifact, ArtifactKind, Problem, Storage
from unified_supply_chain.sources.datasets import kedro, yolo

#: Formats a YAML file may have been given by name that its content can override.
_RECLAIMABLE = (None, "dataset-descriptor", "hydra-config", "yolo-dataset")
#: Files one declaration may take as its content before the rest is left out (with a warning).
MAX_MEMBER_FILES = 100_000


def claim_yolo_datasets(st: ScanState) -> dict[str, yolo.YoloDataset]:
    """Every YOLO dataset YAML of the scan by path; `st.formats` relabelled to match (a file
    classified `yolo-dataset` by its directory alone that is not one loses the label)."""
    found: dict[str, yolo.YoloDataset] = {}
    for f in st.files:
        rel = f.path
        if not rel.lower().endswith((".yaml", ".yml")) or st.formats.get(rel) not in _RECLAIMABLE:
            continue
        if f.size > yolo.MAX_YAML_BYTES:
            if st.formats.get(rel) == "yolo-dataset":
                del st.formats[rel]
            continue
        try:
            ds = yolo.read_yolo_dataset(st.abs(rel))
        except FormatError as exc:
            ds = None
            if st.formats.get(rel) in ("yolo-dataset", None):
                st.problems.append(Problem(rel, f"unreadable YOLO dataset YAML: {exc}"))
        if ds is None:
            if st.formats.get(rel) == "yolo-dataset":
                del st.formats[rel]
            continue
        st.formats[rel] = "yolo-dataset"
        found[rel] = ds
    return found


def _under(st: ScanState, location: str) -> list[str]:
    """Present files at `location`: the file itself, or every file below the directory."""
    if location in st.by_path:
        return [location]
    prefix = location + "/" if location else ""
    return sorted(p for p in st.by_path if p.startswith(prefix))


def _enrich(a: Artifact, rel: str, name: str, props: Iterable[tuple[str, str]]) -> Artifact:
    extra = [(Prop.DESCRIPTOR.value, rel), (Prop.DATASET_NAME.value, name), *props]
    return dataclasses.replace(
        a,
        name=name if a.kind is ArtifactKind.DATASET and a.path and not a.files else a.name,
        extra_properties=a.extra_properties
        + tuple(p for p in dict.fromkeys(extra) if p not in a.extra_properties),
    )


def _members(st: ScanState, paths: Iterable[str]) -> tuple[tuple[str, int, str | None], ...]:
    return tuple((p, st.by_path[p].size, None) for p in dict.fromkeys(paths) if p in st.by_path)


def _take(
    st: ScanState, rel: str, name: str, files: list[str], props: list[tuple[str, str]]
) -> list[str]:
    """Enrich components among `files`; the rest, not yet any component's, are returned."""
    by_path = {a.path: i for i, a in enumerate(st.artifacts) if a.path is not None}
    in_dirs = {m[0]: i for i, a in enumerate(st.artifacts) for m in a.files if a.path is not None}
    rest = []
    for p in files:
        i = by_path.get(p, in_dirs.get(p))
        if i is None:
            rest.append(p)
        else:
            st.artifacts[i] = _enrich(st.artifacts[i], rel, name, props)
    return rest


def apply_yolo_datasets(st: ScanState, found: dict[str, yolo.YoloDataset]) -> None:
    """One dataset component per YOLO dataset YAML (see the module docstring)."""
    for rel, ds in found.items():
        root = yolo.resolve_root(rel, ds.root)
        props: list[tuple[str, str]] = [(Prop.DESCRIPTOR.value, rel)]
        warnings: list[str] = []
        content: list[str] = []
        absent = 0
        for split in ds.splits:
            for location in split.locations:
                cands = yolo.location_candidates(root, location) if root is not None else ()
                where = next((c for c in cands if _under(st, c)), None)
                if where is None:
                    props.append(
                        (
                            Prop.DATASET_ABSENT.key(split.name),
                            cands[0] if cands else _as_written(ds.root, location),
                        )
                    )
                    absent += 1
                    continue
                props.append((Prop.DATASET_SPLIT.key(split.name), where))
                files = _under(st, where)
                if where.lower().endswith(".txt") and where in st.by_path:
                    try:
                        listed = yolo.read_image_list(st.abs(where), where)
                    except (FormatError, OSError) as exc:
                        warnings.append(f"image list {where} unreadable: {exc}")
                        listed = ()
                    files = [where, *(p for p in listed if p in st.by_path)]
                    missing = sum(1 for p in listed if p not in st.by_path)
                    if missing:
                        warnings.append(f"{missing} images {where} lists are not in the checkout")
                labels = [lab for p in files if (lab := yolo.label_for(p)) and lab in st.by_path]
                split_props = [(Prop.DATASET_SPLIT.key(split.name), where)]
                content.extend(_take(st, rel, ds.name, files + labels, split_props))
        if ds.class_count is not None:
            props.append((Prop.DATASET_CLASSES.value, str(ds.class_count)))
        if ds.download_script:
            props.append((Prop.DOWNLOAD_SCRIPT.value, ds.download_script))
        content = list(dict.fromkeys(content))
        if len(content) > MAX_MEMBER_FILES:
            warnings.append(f"more than {MAX_MEMBER_FILES} files; the rest are not listed")
            content = content[:MAX_MEMBER_FILES]
        present = bool(content)
        st.artifacts.append(
            Artifact(
                kind=ArtifactKind.DATASET,
                ref=f"dataset:{rel}#{ds.name}",
                name=ds.name,
                path=rel,
                format="yolo-dataset",
                size=sum(st.by_path[p].size for p in content) if present else None,
                files=_members(st, content),
                storage=Storage.GIT if present or not ds.download_url else Storage.REMOTE,
                content_present=present,
                url=ds.download_url,
                extra_properties=tuple(props),
                warnings=tuple(warnings)
                + (
                    (f"{absent} declared locations are not in the checkout",)
                    if absent and present
                    else ()
                ),
            )
        )


def _as_written(root: str | None, location: str) -> str:
    """A location outside the repository, joined to its dataset root as the YAML writes it."""
    if root is None or location.startswith("/"):
        return location
    return posixpath.join(root, location)


def _project_root(catalog_rel: str) -> str:
    """The Kedro project directory: the one holding `conf/`."""
    parts = catalog_rel.split("/")[:-1]
    idx = len(parts) - 1 - [p.lower() for p in parts][::-1].index("conf")
    return "/".join(parts[:idx])


def _local(project: str, filepath: str) -> str | None:
    if filepath.startswith("/"):
        return None
    norm = posixpath.normpath(posixpath.join(project, filepath) if project else filepath)
    if norm == "." or norm == ".." or norm.startswith("../"):
        return None
    return norm


def apply_kedro_catalog(st: ScanState, rel: str) -> None:
    """Dataset components of one Kedro catalog file (see the module docstring)."""
    try:
        entries = kedro.read_kedro_catalog(st.abs(rel))
    except FormatError as exc:
        st.problems.append(Problem(rel, f"unreadable Kedro catalog: {exc}"))
        return
    project = _project_root(rel)
    for e in entries:
        props: list[tuple[str, str]] = [(Prop.DESCRIPTOR.value, rel)]
        if e.type:
            props.append((Prop.KEDRO_TYPE.value, e.type))
        if e.layer:
            props.append((Prop.KEDRO_LAYER.value, e.layer))
        if e.versioned:
            props.append((Prop.KEDRO_VERSIONED.value, "true"))
        if e.pattern:
            props.append((Prop.KEDRO_FACTORY.value, e.key))
        ref = f"dataset:{rel}#{e.key}"
        if e.filepath is None or e.remote:
            st.artifacts.append(
                Artifact(
                    kind=ArtifactKind.DATASET,
                    ref=ref,
                    name=e.name,
                    path=rel,
                    format="kedro-catalog",
                    storage=Storage.REMOTE,
                    content_present=False,
                    url=e.filepath,
                    extra_properties=tuple(props),
                )
            )
            continue
        local = _local(project, e.filepath)
        files: list[str] = []
        if local is not None and e.pattern:
            regex = kedro.factory_regex(local)
            files = sorted(p for p in st.by_path if regex.fullmatch(p))
        elif local is not None and e.versioned:
            base = posixpath.basename(local)
            files = [
                p
                for p in _under(st, local)
                if p.count("/") == local.count("/") + 2 and posixpath.basename(p) == base
            ]
        elif local is not None:
            files = _under(st, local)
        if e.versioned:
            rest = []
            for p in files:
                version = [(Prop.KEDRO_VERSION.value, posixpath.basename(posixpath.dirname(p)))]
                rest.extend(_take(st, rel, e.name, [p], [*props, *version]))
        else:
            rest = _take(st, rel, e.name, files, props)
        if files and not rest:
            continue  # every file is a component of its own, now carrying the entry
        where = local if local is not None else e.filepath
        single = len(rest) == 1 and rest[0] == where
        st.artifacts.append(
            Artifact(
                kind=ArtifactKind.DATASET,
                ref=artifact_ref(ArtifactKind.DATASET, where) if single else ref,
                name=e.name,
                path=where if single else rel,
                format=st.formats.get(where) if single else "kedro-catalog",
                size=sum(st.by_path[p].size for p in rest) if rest else None,
                files=() if single else _members(st, rest),
                content_present=bool(rest),
                extra_properties=tuple(props)
                + (((Prop.DATASET_ABSENT.key("filepath"), where),) if not rest else ()),
            )
        )
