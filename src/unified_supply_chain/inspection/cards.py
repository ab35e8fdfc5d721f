"""Cards and descriptors lend metadata to the artifacts beside them: model cards to models, dataset
cards and descriptors to data files; remote datasets a descriptor names become artifacts."""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Collection

from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.errors import FormatError
from unified_supply_chain.inspection.state import ScanState
from unified_supply_chain.records import Artifact, ArtifactKind, Hash, Problem, Storage

_MODEL_CARD_NAMES = ("README.md", "MODEL_CARD.md", "model_card.md", "MODEL_CARD.MD", "readme.md")


def apply_dataset_descriptor(st: ScanState, rel: str) -> None:
    """Dataset descriptors: remote datasets, or metadata (licence, description) of local files."""
    try:
        from unified_supply_chain.sources.cards.descriptors import read_dataset_descriptor
    except ImportError:
        return
    try:
        descriptors = read_dataset_descriptor(st.abs(rel))
    except FormatError as exc:
        st.problems.append(Problem(rel, f"unreadable dataset descriptor: {exc}"))
        return
    directory = posixpath.dirname(rel)
    prefix = directory + "/" if directory else ""
    for d in descriptors:
        urls = tuple(d.urls)
        if not urls:
            # Describes the data files beside it: lend them its licence and description.
            for i, a in enumerate(st.artifacts):
                if (
                    a.kind is ArtifactKind.DATASET
                    and a.path
                    and a.path.startswith(prefix)
                    and a.storage is not Storage.REMOTE
                ):
                    st.artifacts[i] = dataclasses.replace(
                        a,
                        licenses=a.licenses or ((d.license,) if d.license else ()),
                        description=a.description or d.description,
                        extra_properties=a.extra_properties
                        + ((Prop.DESCRIPTOR.value, rel),)
                        + (((Prop.DATASET_NAME.value, d.name),) if d.name else ()),
                    )
            continue
        ref = f"dataset:{rel}#{d.name}"
        st.artifacts.append(
            Artifact(
                kind=ArtifactKind.DATASET,
                ref=ref,
                name=d.name,
                path=rel,
                format="dataset-descriptor",
                url=urls[0],
                storage=Storage.REMOTE,
                content_present=False,
                licenses=(d.license,) if d.license else (),
                description=d.description,
                hashes=(Hash("SHA-256", d.sha256.lower(), "descriptor"),) if d.sha256 else (),
                extra_properties=tuple((Prop.URL.value, u) for u in urls[1:])
                + (((Prop.CLASSIFICATION.value, d.classification),) if d.classification else ()),
            )
        )


def apply_model_cards(st: ScanState) -> None:
    """A model card beside a model (or in a directory model) lends it licence, datasets, task,
    metrics and considerations the model itself does not state."""
    from unified_supply_chain.sources.cards.hf_card import read_model_card

    models_by_dir: dict[str, list[int]] = {}
    for i, a in enumerate(st.artifacts):
        if a.kind is ArtifactKind.MODEL and a.path is not None and a.content_present is not None:
            d = a.path if a.files else posixpath.dirname(a.path)
            models_by_dir.setdefault(d, []).append(i)
    for d, idxs in models_by_dir.items():
        card_rel = next(
            (
                f"{d}/{n}" if d else n
                for n in _MODEL_CARD_NAMES
                if (f"{d}/{n}" if d else n) in st.by_path
            ),
            None,
        )
        if card_rel is None:
            continue
        try:
            card = read_model_card(st.abs(card_rel), card_rel)
        except FormatError as exc:
            for i in idxs:
                a = st.artifacts[i]
                st.artifacts[i] = dataclasses.replace(
                    a, warnings=a.warnings + (f"model card {card_rel} unreadable: {exc}",)
                )
            continue
        except Exception as exc:  # noqa: BLE001 - a bug here must not lose the SBOM
            st.problems.append(Problem(card_rel, f"model card not read ({type(exc).__name__})"))
            continue
        if not card.has_front_matter and not card.considerations:
            continue
        for i in idxs:
            a = st.artifacts[i]
            st.artifacts[i] = dataclasses.replace(
                a,
                licenses=a.licenses or card.licenses or ((card.license,) if card.license else ()),
                dataset_names=tuple(dict.fromkeys(a.dataset_names + card.datasets)),
                task=a.task or card.task,
                metrics=a.metrics
                + tuple(dataclasses.replace(m, source=m.source or card_rel) for m in card.metrics),
                considerations={**card.considerations, **a.considerations},
                description=a.description or card.description,
                name=card.model_name or a.name if not a.files else a.name,
                extra_properties=a.extra_properties
                + ((Prop.MODEL_CARD.value, card_rel),)
                + tuple((Prop.BASE_MODEL.value, b) for b in card.base_model),
                warnings=a.warnings + tuple(f"model card: {w}" for w in card.warnings),
            )


def apply_dataset_cards(st: ScanState, done: Collection[str] = ()) -> None:
    """A card (README.md with front matter) in a directory that holds datasets and no model is a
    dataset card: its licence and description reach the data files under it that have none.
    Cards in `done` were already read as Hugging Face dataset cards (inspection/hf_datasets.py)."""
    from unified_supply_chain.sources.cards.hf_card import read_model_card

    model_dirs = {
        posixpath.dirname(a.path) if not a.files else a.path
        for a in st.artifacts
        if a.kind is ArtifactKind.MODEL and a.path is not None
    }
    for rel, fmt in st.formats.items():
        directory = posixpath.dirname(rel)
        if fmt != "model-card" or directory in model_dirs or rel in done:
            continue
        prefix = directory + "/" if directory else ""
        idxs = [
            i
            for i, a in enumerate(st.artifacts)
            if a.kind is ArtifactKind.DATASET
            and a.path is not None
            and a.path.startswith(prefix)
            and a.storage is not Storage.REMOTE
            and not a.licenses
        ]
        if not idxs or not directory:
            continue  # a repository's own README is not a dataset card
        try:
            card = read_model_card(st.abs(rel), rel)
        except FormatError:
            continue
        licenses = card.licenses or ((card.license,) if card.license else ())
        if not card.has_front_matter or not licenses:
            continue
        for i in idxs:
            a = st.artifacts[i]
            st.artifacts[i] = dataclasses.replace(
                a,
                licenses=licenses,
                description=a.description or card.description,
                extra_properties=a.extra_properties + ((Prop.DESCRIPTOR.value, rel),),
            )
