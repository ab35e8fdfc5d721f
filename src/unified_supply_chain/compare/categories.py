"""The four categories the diff and the dependency snapshot report, read from a `BomView`.

A component's category is its `Kind` (decided once, in `bom/view.py`): models, datasets,
hyperparameter sets and libraries are reported; files and anything else are not. The parts of a
model, dataset or hyperparameter set (a directory model's files) belong to it and are never
reported on their own.
"""

from __future__ import annotations

import enum

from unified_supply_chain.bom.view import BomView, ComponentView, Kind


class Category(str, enum.Enum):
    """What a component is, for the purposes of the diff."""

    MODEL = "models"
    DATASET = "datasets"
    HYPERPARAMETERS = "hyperparameters"
    LIBRARY = "libraries"

    @property
    def singular(self) -> str:
        """One item's noun, e.g. "model"."""
        return {
            Category.MODEL: "model",
            Category.DATASET: "dataset",
            Category.HYPERPARAMETERS: "hyperparameter set",
            Category.LIBRARY: "library",
        }[self]


_OF_KIND = {
    Kind.MODEL: Category.MODEL,
    Kind.DATASET: Category.DATASET,
    Kind.HYPERPARAMETERS: Category.HYPERPARAMETERS,
    Kind.LIBRARY: Category.LIBRARY,
}


def category_of(component: ComponentView) -> Category | None:
    """The category of a component, or None for what is not reported (files, applications)."""
    return _OF_KIND.get(component.kind)


def by_category(view: BomView) -> dict[Category, list[ComponentView]]:
    """The listed components of each category, in document order."""
    out: dict[Category, list[ComponentView]] = {c: [] for c in Category}
    for component in view.listed:
        category = category_of(component)
        if category is not None:
            out[category].append(component)
    return out
