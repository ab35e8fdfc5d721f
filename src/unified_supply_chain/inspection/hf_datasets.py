"""Hugging Face dataset cards and dataset builder scripts become dataset components.

A dataset card (README.md whose front matter is a dataset card's, in a directory without a
model) gives one component per config, named `<dataset>/<config>`, where `<dataset>` is the
card's directory (the repository for a root README). The data files a config's splits cover
(its `data_files` globs, or the `datasets` library's default patterns) are the data files'
own components, enriched with licence, config and split: no second component per file. Declared
paths without wildcards that are absent are listed with `usc:content-present: false`; data files
no config covers stay as they are.

A builder script with literal URLs is one remote component per builder class.
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.errors import FormatError
from unified_supply_chain.inspection.state import ScanState, file_stem
from unified_supply_chain.lineage.resolve import artifact_ref
from unified_supply_chain.records import Artifact, ArtifactKind, Problem, Storage
from unified_supply_chain.redact import redact_url
from unified_supply_chain.sources.datasets import hf_data_files
from unified_supply_chain.sources.datasets.hf_dataset_card import DatasetCard, read_dataset_card

_T = TypeVar("_T")

_URL_LIKE = ("://",)


def _is_url(pattern: str) -> bool:
    return any(m in pattern for m in _URL_LIKE)


def _model_dirs(st: ScanState) -> set[str]:
    return {
        posixpath.dirname(a.path) if not a.files else a.path
        for a in st.artifacts
        if a.kind is ArtifactKind.MODEL and a.path is not None
    }


def apply_hf_dataset_cards(st: ScanState) -> set[str]:
    """Components for every Hugging Face dataset card; returns the cards read as such."""
    done: set[str] = set()
    model_dirs = _model_dirs(st)
    for rel, fmt in list(st.formats.items()):
        directory = posixpath.dirname(rel)
        if fmt != "model-card" or posixpath.basename(rel).lower() != "readme.md":
            continue
        if directory in model_dirs:
            continue
        card = _read_reported(st, rel, "dataset card", read_dataset_card)
        if card is None:
            continue
        _apply_card(st, rel, card)
        done.add(rel)
    return done


def _apply_card(st: ScanState, rel: str, card: DatasetCard) -> None:
    directory = posixpath.dirname(rel)
    prefix = directory + "/" if directory else ""
    dataset = posixpath.basename(directory) if directory else st.root.resolve().name
    dataset = dataset or "dataset"
    present = [p[len(prefix) :] for p in st.by_path if p.startswith(prefix)]
    data_idx = {
        a.path: i
        for i, a in enumerate(st.artifacts)
        if a.kind is ArtifactKind.DATASET
        and a.path is not None
        and a.path.startswith(prefix)
        and a.storage is not Storage.REMOTE
        and not a.files
    }
    shared: list[tuple[str, str]] = [
        (Prop.DESCRIPTOR.value, rel),
        (Prop.DATASET_NAME.value, dataset),
    ]
    if card.pretty_name and card.pretty_name != dataset:
        shared.append((Prop.DATASET_NAME.value, card.pretty_name))
    shared += [(Prop.TASK_CATEGORY.value, t) for t in card.task_categories + card.task_ids]
    shared += [(Prop.LANGUAGE.value, t) for t in card.language]
    shared += [(Prop.SIZE_CATEGORY.value, t) for t in card.size_categories]
    for config in card.configs:
        base = posixpath.normpath(config.data_dir).strip("/") if config.data_dir else ""
        base = "" if base == "." else base
        in_base = [
            p[len(base) + 1 :] if base else p
            for p in present
            if not base or p.startswith(base + "/")
        ]
        patterns = (
            config.data_files
            if config.data_files is not None
            else hf_data_files.default_split_patterns(in_base)
        )
        name = f"{dataset}/{config.name}"
        props: list[tuple[str, str]] = [(Prop.HF_CONFIG.value, config.name)]
        if config.default:
            props.append((Prop.HF_DEFAULT_CONFIG.value, "true"))
        urls: list[str] = []
        complete = bool(patterns)
        info = {s.name: s for s in config.splits}
        for split, pats in patterns.items():
            local = [p for p in pats if not _is_url(p)]
            urls += [redact_url(p) for p in pats if _is_url(p)]
            props += [
                (Prop.SPLIT.key(f"{split}:pattern"), redact_url(p) if _is_url(p) else p)
                for p in pats
            ]
            matched = hf_data_files.resolve(local, in_base)
            full = [posixpath.join(prefix + base, m) if base else prefix + m for m in matched]
            props.append((Prop.SPLIT.key(f"{split}:files"), str(len(full))))
            if split in info:
                if info[split].num_examples is not None:
                    props.append(
                        (Prop.SPLIT.key(f"{split}:num-examples"), str(info[split].num_examples))
                    )
                if info[split].num_bytes is not None:
                    props.append((Prop.SPLIT.key(f"{split}:num-bytes"), str(info[split].num_bytes)))
            if local and not matched:
                complete = False
            for path in full:
                if path in data_idx:
                    _enrich(st, data_idx[path], card, rel, name, split)
            for p in local:
                if hf_data_files.has_wildcards(p):
                    continue
                path = posixpath.normpath(posixpath.join(prefix + base, p.removeprefix("./")))
                if path.startswith(("../", "/")) or path in ("..", ".") or path in st.by_path:
                    continue
                absent = artifact_ref(ArtifactKind.DATASET, path)
                if any(a.ref == absent for a in st.artifacts):
                    continue
                st.artifacts.append(
                    Artifact(
                        kind=ArtifactKind.DATASET,
                        ref=absent,
                        name=file_stem(path),
                        path=path,
                        content_present=False,
                        licenses=card.licenses,
                        extra_properties=(
                            (Prop.DESCRIPTOR.value, rel),
                            (Prop.HF_CONFIG.value, name),
                            (Prop.SPLIT.value, split),
                        ),
                    )
                )
        remote_only = bool(urls) and all(_is_url(p) for pats in patterns.values() for p in pats)
        st.artifacts.append(
            Artifact(
                kind=ArtifactKind.DATASET,
                ref=f"dataset:{rel}#{config.name}",
                name=name,
                path=None,
                format="hf-dataset-card",
                size=config.dataset_size,
                storage=Storage.REMOTE if remote_only else Storage.GIT,
                content_present=complete and not remote_only,
                licenses=card.licenses,
                url=urls[0] if urls else None,
                description=card.description,
                extra_properties=tuple(shared)
                + tuple(props)
                + tuple((Prop.URL.value, u) for u in dict.fromkeys(urls[1:])),
                warnings=tuple(f"dataset card: {w}" for w in card.warnings),
            )
        )


def _enrich(st: ScanState, i: int, card: DatasetCard, rel: str, config: str, split: str) -> None:
    """Lend a data file the card's licence and description, and say which config and split hold
    it (no `usc:dataset-name`: a model card naming the dataset links to the config, not to every
    shard of every split)."""
    a = st.artifacts[i]
    props = a.extra_properties
    additions = [
        (Prop.DESCRIPTOR.value, rel),
        (Prop.HF_CONFIG.value, config),
        (Prop.SPLIT.value, split),
    ]
    st.artifacts[i] = dataclasses.replace(
        a,
        licenses=a.licenses or card.licenses,
        description=a.description or card.description,
        extra_properties=props + tuple(p for p in additions if p not in props),
    )


def apply_builder_script(st: ScanState, rel: str) -> None:
    """One remote dataset component per builder class of a script that declares URLs."""
    from unified_supply_chain.sources.datasets.builder_scripts import read_builder_script

    builders = _read_reported(st, rel, "dataset builder script", read_builder_script)
    if builders is None:
        return
    stem = file_stem(rel).removesuffix("_dataset_builder")
    seen: set[str] = set()
    for b in builders:
        if b.class_name in seen:
            continue  # a class defined twice: the module keeps one of them
        seen.add(b.class_name)
        if not b.urls:
            if b.computed_downloads:
                # Fail visibly: the script downloads data this SBOM cannot name.
                st.problems.append(
                    Problem(
                        rel,
                        f"dataset builder {b.class_name} downloads from URLs computed at run "
                        "time; no dataset component could be listed for it",
                    )
                )
            continue
        name = stem if len(builders) == 1 else f"{stem}/{b.class_name}"
        props: list[tuple[str, str]] = [
            (Prop.DESCRIPTOR.value, rel),
            (Prop.BUILDER.value, b.class_name),
            (Prop.DATASET_NAME.value, stem),
        ]
        props += [(Prop.URL.value, u) for u in b.urls[1:]]
        if b.homepage:
            props.append((Prop.HOMEPAGE.value, redact_url(b.homepage)))
        if b.citation:
            props.append((Prop.CITATION.value, b.citation))
        st.artifacts.append(
            Artifact(
                kind=ArtifactKind.DATASET,
                ref=f"dataset:{rel}#{b.class_name}",
                name=name,
                path=rel,
                format="dataset-builder-script",
                url=b.urls[0],
                storage=Storage.REMOTE,
                content_present=False,
                version=b.version,
                licenses=(b.license,) if b.license else (),
                description=b.description,
                extra_properties=tuple(props),
            )
        )


def _read_reported(st: ScanState, rel: str, what: str, read: Callable[[Path], _T]) -> _T | None:
    """`read(file)`, or None with a problem of the run naming `what` (a bug must not lose the
    SBOM: any exception is reported, a FormatError with its message)."""
    try:
        return read(st.abs(rel))
    except FormatError as exc:
        st.problems.append(Problem(rel, f"unreadable {what}: {exc}"))
    except Exception as exc:  # noqa: BLE001 - a bug here must not lose the SBOM
        st.problems.append(Problem(rel, f"{what} not read ({type(exc).__name__})"))
    return None
