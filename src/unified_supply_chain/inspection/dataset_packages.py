"""Frictionless Data Packages and Croissant descriptions become dataset components.

A Data Package gives one dataset component per resource, named `<package>/<resource>`: a
resource whose file is here enriches the component that file already is (licence, name, the
descriptor as evidence), one whose file is missing is listed with `usc:content-present: false`,
and one at a URL is a remote component. A Croissant description gives one component for the
dataset, which lists the present files its FileObjects and FileSets cover; those files' own
components get its licence and name the same way, and missing local FileObjects are listed as
absent. Declared digests go through the lineage stage as `Declared` records, so the digest of
the file present is compared with them exactly as a DVC record's MD5 is (`with_declared_md5`
computes the MD5; other algorithms are computed here), and a difference is a warning on the
component.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import posixpath

from unified_supply_chain import limits
from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.errors import FormatError
from unified_supply_chain.inspection.headers import sniff
from unified_supply_chain.inspection.state import ScanState, file_stem
from unified_supply_chain.lineage.resolve import artifact_ref
from unified_supply_chain.records import (
    Artifact,
    ArtifactKind,
    Contribution,
    Declared,
    Hash,
    Problem,
    Storage,
)
from unified_supply_chain.sources.datasets.croissant import (
    CroissantDataset,
    glob_regex,
    read_croissant,
)
from unified_supply_chain.sources.datasets.frictionless import (
    DataPackage,
    PackageResource,
    read_data_package,
)

DATAPACKAGE_FORMAT = "frictionless-datapackage"
CROISSANT_FORMAT = "croissant"
_HASHLIB = {"SHA-1": "sha1", "SHA-384": "sha384", "SHA-512": "sha512"}
_MAX_COVERED = 1000
_JSONLD_MARKERS = (b'"@context"', b'"@type"')


def _index(st: ScanState) -> dict[str, int]:
    return {a.path: i for i, a in enumerate(st.artifacts) if a.path is not None and not a.files}


def _present_artifact(st: ScanState, index: dict[str, int], path: str) -> int:
    """The index of the artifact of a present file, made a dataset component if it is none."""
    if path in index:
        return index[path]
    st.artifacts.append(
        Artifact(
            kind=ArtifactKind.DATASET,
            ref=artifact_ref(ArtifactKind.DATASET, path),
            name=file_stem(path),
            path=path,
            format=st.formats.get(path) or posixpath.splitext(path)[1].lstrip(".") or None,
            size=st.by_path[path].size,
        )
    )
    index[path] = len(st.artifacts) - 1
    return index[path]


def _other_digests(st: ScanState, path: str, hashes: tuple[Hash, ...]) -> tuple[Hash, ...]:
    """Computed digests of the declared algorithms the hashing stage does not compute."""
    out = []
    entry = st.by_path[path]
    for h in hashes:
        name = _HASHLIB.get(h.alg)
        if name is None or entry.size > limits.MAX_MD5_VERIFY_BYTES:
            continue
        digest = hashlib.new(name)
        try:
            with open(st.abs(path), "rb") as fh:
                for chunk in iter(lambda: fh.read(1024 * 1024), b""):
                    digest.update(chunk)
        except OSError:
            continue
        out.append(Hash(h.alg, digest.hexdigest()))
    return tuple(out)


def _enrich(
    st: ScanState,
    index: dict[str, int],
    path: str,
    *,
    name: str | None,
    licenses: tuple[str, ...],
    rel: str,
    dataset_name: str,
    hashes: tuple[Hash, ...],
    size: int | None,
    props: tuple[tuple[str, str], ...],
) -> None:
    """Lend a present file's component what a descriptor declares about it."""
    i = _present_artifact(st, index, path)
    a = st.artifacts[i]
    warnings = a.warnings
    entry = st.by_path[path]
    if size is not None and size != entry.size:
        warnings += (f"size differs from {rel}: {size} bytes declared, {entry.size} found",)
    changes: dict[str, object] = {
        "extra_properties": a.extra_properties
        + ((Prop.DESCRIPTOR.value, rel), (Prop.DATASET_NAME.value, dataset_name))
        + props,
        "hashes": a.hashes + _other_digests(st, path, hashes),
        "warnings": warnings,
    }
    if a.kind is ArtifactKind.DATASET:
        changes["licenses"] = a.licenses or licenses
        if name:
            changes["name"] = name
    st.artifacts[i] = dataclasses.replace(a, **changes)  # type: ignore[arg-type]
    if hashes:
        # Compared with the content's digests by lineage.resolve, as a DVC record's are.
        st.contributions.append(Contribution(declared=(Declared(path, hashes=hashes, source=rel),)))


def _absent(
    path: str,
    name: str,
    rel: str,
    licenses: tuple[str, ...],
    hashes: tuple[Hash, ...],
    size: int | None,
    fmt: str | None,
    props: tuple[tuple[str, str], ...],
) -> Artifact:
    return Artifact(
        kind=ArtifactKind.DATASET,
        ref=artifact_ref(ArtifactKind.DATASET, path),
        name=name,
        path=path,
        format=fmt or posixpath.splitext(path)[1].lstrip(".") or None,
        size=size,
        hashes=hashes,
        content_present=False,
        licenses=licenses,
        extra_properties=((Prop.DESCRIPTOR.value, rel), (Prop.DECLARED_BY.value, rel)) + props,
        warnings=(f"content not present in the checkout (declared in {rel})",),
    )


def _resource_props(r: PackageResource) -> tuple[tuple[str, str], ...]:
    props: list[tuple[str, str]] = []
    if r.mediatype:
        props.append((Prop.MEDIA_TYPE.value, r.mediatype))
    if r.field_count is not None:
        props.append((Prop.DATASET_FIELDS.value, str(r.field_count)))
    return tuple(props)


def _apply_package(st: ScanState, rel: str, pkg: DataPackage, index: dict[str, int]) -> None:
    for r in pkg.resources:
        name = f"{pkg.name}/{r.name}"
        licenses = r.licenses or pkg.licenses
        props = _resource_props(r) + tuple((Prop.DATASET_SOURCE.value, s) for s in pkg.sources)
        st.problems.extend(Problem(rel, w) for w in r.warnings)
        # A declared digest and size are of the whole resource: only a one-part one is checked.
        single = len(r.paths) + len(r.urls) == 1
        hashes = r.hashes if single else ()
        size = r.bytes if single else None
        for path in r.paths:
            if path in st.by_path:
                _enrich(
                    st,
                    index,
                    path,
                    name=name,
                    licenses=licenses,
                    rel=rel,
                    dataset_name=name,
                    hashes=hashes,
                    size=size,
                    props=props,
                )
            elif path not in index:
                st.artifacts.append(
                    _absent(path, name, rel, licenses, hashes, size, r.format, props)
                )
                index[path] = len(st.artifacts) - 1
        if r.urls:
            st.artifacts.append(
                Artifact(
                    kind=ArtifactKind.DATASET,
                    ref=f"dataset:{rel}#{r.name}",
                    name=name,
                    path=rel,
                    format=r.format or DATAPACKAGE_FORMAT,
                    url=r.urls[0],
                    size=size,
                    storage=Storage.REMOTE,
                    content_present=False,
                    licenses=licenses,
                    hashes=hashes,
                    extra_properties=((Prop.DESCRIPTOR.value, rel), (Prop.DATASET_NAME.value, name))
                    + tuple((Prop.URL.value, u) for u in r.urls[1:])
                    + props,
                )
            )
        if len(r.paths) + len(r.urls) > 1 and r.hashes:
            st.problems.append(
                Problem(
                    rel, f"resource {r.name}: the digest of a multi-part resource is not verified"
                )
            )


def _covered(
    st: ScanState, base_dir: str, includes: tuple[str, ...], excludes: tuple[str, ...]
) -> list[str]:
    prefix = base_dir + "/" if base_dir else ""
    inc = [glob_regex(g.lstrip("./")) for g in includes]
    exc = [glob_regex(g.lstrip("./")) for g in excludes]
    out = []
    for f in st.files:
        if not f.path.startswith(prefix):
            continue
        tail = f.path[len(prefix) :]
        if any(p.match(tail) for p in inc) and not any(p.match(tail) for p in exc):
            out.append(f.path)
    return out


def _apply_croissant(st: ScanState, rel: str, ds: CroissantDataset, index: dict[str, int]) -> None:
    base_dir = posixpath.dirname(rel)
    st.problems.extend(Problem(rel, w) for w in ds.warnings)
    remote = {f.name for f in ds.files if f.url is not None}
    covered: list[str] = []
    urls: list[str] = []
    absent = False
    for f in ds.files:
        if f.url is not None:
            urls.append(f.url)
        elif f.path is not None:
            if f.path in st.by_path:
                covered.append(f.path)
                _enrich(
                    st,
                    index,
                    f.path,
                    name=None,
                    licenses=ds.licenses,
                    rel=rel,
                    dataset_name=ds.name,
                    hashes=f.hashes,
                    size=None,
                    props=((Prop.MEDIA_TYPE.value, f.encoding_format),)
                    if f.encoding_format
                    else (),
                )
            elif f.path not in index:
                absent = True
                st.artifacts.append(
                    _absent(
                        f.path, f"{ds.name}/{f.name}", rel, ds.licenses, f.hashes, None, None, ()
                    )
                )
                index[f.path] = len(st.artifacts) - 1
        elif f.is_set and f.includes and not any(c in remote for c in f.contained_in):
            for path in _covered(st, base_dir, f.includes, f.excludes):
                if path != rel and path not in covered:
                    covered.append(path)
                    _enrich(
                        st,
                        index,
                        path,
                        name=None,
                        licenses=ds.licenses,
                        rel=rel,
                        dataset_name=ds.name,
                        hashes=(),
                        size=None,
                        props=(),
                    )
    lone = [f for f in ds.files if not f.is_set]
    props = (
        ((Prop.DESCRIPTOR.value, rel), (Prop.DATASET_NAME.value, ds.name))
        + tuple((Prop.URL.value, u) for u in dict.fromkeys(urls) if u != ds.url)
        + tuple((Prop.COVERS.value, p) for p in covered[:_MAX_COVERED])
        + tuple((Prop.RECORD_SET.value, f"{n}: {c}") for n, c in ds.record_sets)
    )
    warnings = (
        (f"{len(covered) - _MAX_COVERED} more covered files not listed",)
        if len(covered) > _MAX_COVERED
        else ()
    )
    st.artifacts.append(
        Artifact(
            kind=ArtifactKind.DATASET,
            ref=f"dataset:{rel}#{ds.name}",
            name=ds.name,
            path=None,
            format=CROISSANT_FORMAT,
            url=ds.url or (urls[0] if urls else None),
            storage=Storage.GIT if covered else Storage.REMOTE,
            content_present=bool(covered) and not absent,
            licenses=ds.licenses,
            # A lone remote FileObject is the dataset's content: its digest is the dataset's.
            hashes=lone[0].hashes if len(ds.files) == 1 and lone and lone[0].url else (),
            extra_properties=props,
            warnings=warnings,
        )
    )


def _looks_like_jsonld(st: ScanState, rel: str) -> bool:
    if not rel.lower().endswith((".json", ".jsonld")) or rel in st.formats:
        return False
    if st.by_path[rel].size > limits.MAX_TEXT_PARSE:
        return False
    head, _ = sniff(os.path.join(st.root, rel))
    return (
        head is not None and head.lstrip()[:1] == b"{" and any(m in head for m in _JSONLD_MARKERS)
    )


def apply_dataset_packages(st: ScanState) -> None:
    """Data Packages (by name) and Croissant descriptions (by name, or any JSON-LD `*.json` that
    is one by content) become dataset components; unreadable ones are problems of the run."""
    index = _index(st)
    for rel, fmt in list(st.formats.items()):
        if fmt != DATAPACKAGE_FORMAT:
            continue
        try:
            pkg = read_data_package(st.abs(rel), rel)
        except FormatError as exc:
            st.problems.append(Problem(rel, f"unreadable Data Package: {exc}"))
            continue
        _apply_package(st, rel, pkg, index)
    named = [rel for rel, fmt in st.formats.items() if fmt == CROISSANT_FORMAT]
    sniffed = [f.path for f in st.files if _looks_like_jsonld(st, f.path)]
    for rel in named + sniffed:
        try:
            ds = read_croissant(st.abs(rel), rel)
        except FormatError as exc:
            if rel in named:
                st.problems.append(Problem(rel, f"unreadable Croissant description: {exc}"))
            continue
        _apply_croissant(st, rel, ds, index)
