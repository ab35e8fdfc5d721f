"""ML-aware comparison of two CycloneDX SBOMs (parsed JSON), read through `BomView`.

Components fall into four categories (`compare/categories.py`): models, datasets, hyperparameter
sets and libraries. Components are matched across the two sides by, in order: repository path
(`usc:path`, else the first evidence occurrence), exact purl, purl without version, then (type,
group, name). Matched pairs are compared field by field; everything here is a pure function of
the two documents. The renderings are `report/diff_markdown.py` and `report/diff_json.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.bom.view import BomView, ComponentView
from unified_supply_chain.compare.categories import Category, by_category


@dataclass(frozen=True)
class ComponentSummary:
    """The identifying facts of one component on one side of the diff."""

    name: str
    """Component name."""
    type: str
    """CycloneDX component type."""
    version: str | None = None
    """Component version."""
    purl: str | None = None
    """Package URL."""
    path: str | None = None
    """Repo-relative path (usc:path or the first evidence occurrence)."""
    bom_ref: str | None = None
    """bom-ref in its document."""
    group: str | None = None
    """Component group (namespace)."""
    source: str | None = None
    """Manifest it was read from (usc:source), for libraries."""

    @property
    def label(self) -> str:
        """Name with group and version, for tables."""
        name = f"{self.group}/{self.name}" if self.group else self.name
        return f"{name}@{self.version}" if self.version else name


@dataclass(frozen=True)
class FieldChange:
    """One scalar field that differs between the matched components."""

    field: str
    """What changed: "hash", "version", "licence", "format", "parameter count", "size", ..."""
    old: str | None
    """Base value (None = absent)."""
    new: str | None
    """Head value (None = absent)."""


@dataclass(frozen=True)
class ParamChange:
    """One hyperparameter that was added, removed or changed."""

    key: str
    """Dotted key, e.g. "optimizer.lr"."""
    old: str | None
    """Base value (None = added in head)."""
    new: str | None
    """Head value (None = removed in head)."""


@dataclass(frozen=True)
class MetricDelta:
    """How one performance metric moved."""

    type: str
    """Metric name, e.g. "accuracy"."""
    slice: str | None
    """Data slice, when the metric has one."""
    old: str | None
    """Base value as written (None = new metric)."""
    new: str | None
    """Head value as written (None = metric dropped)."""
    delta: float | None
    """new - old when both are numbers, else None."""


@dataclass(frozen=True)
class ComponentChange:
    """A component present on both sides with differences."""

    base: ComponentSummary
    """The component in the base document."""
    head: ComponentSummary
    """The component in the head document."""
    fields: tuple[FieldChange, ...] = ()
    """Scalar field changes."""
    params: tuple[ParamChange, ...] = ()
    """Hyperparameter changes (hyperparameter sets)."""
    metrics: tuple[MetricDelta, ...] = ()
    """Metric changes (models)."""


@dataclass(frozen=True)
class CategoryDiff:
    """Added, removed and changed components of one category."""

    added: tuple[ComponentSummary, ...] = ()
    """Only in head."""
    removed: tuple[ComponentSummary, ...] = ()
    """Only in base."""
    changed: tuple[ComponentChange, ...] = ()
    """In both, with differences."""
    unchanged: int = 0
    """Matched pairs without differences."""

    @property
    def has_changes(self) -> bool:
        """True when anything was added, removed or changed."""
        return bool(self.added or self.removed or self.changed)


@dataclass(frozen=True)
class SbomDiff:
    """The ML-aware difference between a base and a head SBOM."""

    models: CategoryDiff = field(default_factory=CategoryDiff)
    """Machine-learning models."""
    datasets: CategoryDiff = field(default_factory=CategoryDiff)
    """Datasets."""
    hyperparameters: CategoryDiff = field(default_factory=CategoryDiff)
    """Hyperparameter sets."""
    libraries: CategoryDiff = field(default_factory=CategoryDiff)
    """Software libraries."""
    base_tools: tuple[str, ...] = ()
    """Tools named in the base document's metadata (to tell readers where it came from)."""
    head_tools: tuple[str, ...] = ()
    """Tools named in the head document's metadata."""

    def category(self, category: Category) -> CategoryDiff:
        """The diff of one category."""
        return {
            Category.MODEL: self.models,
            Category.DATASET: self.datasets,
            Category.HYPERPARAMETERS: self.hyperparameters,
            Category.LIBRARY: self.libraries,
        }[category]

    @property
    def has_changes(self) -> bool:
        """True when any category has changes."""
        return any(self.category(c).has_changes for c in Category)


# ----------------------------------------------------------------------------------- reading


def summarize(component: ComponentView) -> ComponentSummary:
    """The identifying facts of a component."""
    return ComponentSummary(
        name=component.name or "(unnamed)",
        type=component.type,
        version=component.version,
        purl=component.purl,
        path=component.location,
        bom_ref=component.ref or None,
        group=component.group,
        source=component.prop(Prop.SOURCE),
    )


# --------------------------------------------------------------------------------- matching


def _purl_without_version(purl: str | None) -> str | None:
    if not purl:
        return None
    core = purl.split("#", 1)[0].split("?", 1)[0]
    at = core.rfind("@")
    if at > core.find("/"):
        core = core[:at]
    return core.lower()


def _purl_exact(purl: str | None) -> str | None:
    if not purl:
        return None
    return purl.split("#", 1)[0].split("?", 1)[0].lower()


_KeyFn = Callable[[ComponentSummary], "str | tuple[str, ...] | None"]
_ML_KEYS: tuple[_KeyFn, ...] = (
    lambda c: c.path,
    lambda c: _purl_exact(c.purl),
    lambda c: _purl_without_version(c.purl),
    lambda c: (c.type, c.group or "", c.name),
)
_LIBRARY_KEYS: tuple[_KeyFn, ...] = (
    lambda c: _purl_exact(c.purl),
    lambda c: _purl_without_version(c.purl),
    lambda c: (c.type, c.group or "", c.name.lower()),
    lambda c: (c.group or "", c.name.lower()),
)


def _match(
    base: list[ComponentSummary], head: list[ComponentSummary], keys: Iterable[_KeyFn]
) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Pair base and head items key by key; returns (pairs, unmatched base, unmatched head)."""
    base_left = set(range(len(base)))
    head_left = set(range(len(head)))
    pairs: list[tuple[int, int]] = []
    for key in keys:
        index: dict[object, list[int]] = {}
        for j in sorted(head_left):
            k = key(head[j])
            if k is not None:
                index.setdefault(k, []).append(j)
        for i in sorted(base_left):
            k = key(base[i])
            if k is None:
                continue
            candidates = index.get(k)
            if candidates:
                j = candidates.pop(0)
                pairs.append((i, j))
                base_left.discard(i)
                head_left.discard(j)
    return pairs, sorted(base_left), sorted(head_left)


# ------------------------------------------------------------------------------- comparing


def _hashes(component: ComponentView) -> dict[str, str]:
    out: dict[str, str] = {}
    for alg, content in component.hashes:
        out.setdefault(alg.upper(), content)
    return out


def _licences(component: ComponentView) -> str | None:
    return ", ".join(sorted(set(component.licences))) or None


def _hash_change(base: ComponentView, head: ComponentView) -> FieldChange | None:
    old, new = _hashes(base), _hashes(head)
    for alg in ("SHA-256", "SHA-512", "SHA-384", "SHA3-256", "SHA-1", "MD5"):
        if alg in old and alg in new:
            if old[alg] != new[alg]:
                return FieldChange("hash", f"{alg}:{old[alg]}", f"{alg}:{new[alg]}")
            return None
    common = sorted(set(old) & set(new))
    for alg in common:
        if old[alg] != new[alg]:
            return FieldChange("hash", f"{alg}:{old[alg]}", f"{alg}:{new[alg]}")
    # No common algorithm: nothing can be said about the content.
    return None


#: Facts compared on models, datasets and hyperparameter sets besides version and licence.
_ML_FACTS = (
    ("format", Prop.FORMAT),
    ("parameter count", Prop.PARAMETER_COUNT),
    ("size", Prop.SIZE),
    ("storage", Prop.STORAGE),
)


def _field_changes(
    base: ComponentView, head: ComponentView, category: Category, same_tool: bool
) -> list[FieldChange]:
    out: list[FieldChange] = []
    hash_change = _hash_change(base, head)
    if hash_change:
        out.append(hash_change)
    pairs: list[tuple[str, str | None, str | None]] = [
        ("version", base.version, head.version),
        ("licence", _licences(base), _licences(head)),
    ]
    if category is not Category.LIBRARY:
        pairs += [(name, base.prop(prop), head.prop(prop)) for name, prop in _ML_FACTS]
        pairs.append(("purl", base.purl, head.purl))
    for name, old, new in pairs:
        # A side that does not state a fact (another tool's SBOM) is not a change of that fact.
        if (old is not None and new is not None and old != new) or (
            (old is None) != (new is None) and same_tool
        ):
            out.append(FieldChange(name, old, new))
    return out


def _same_tool(base_tools: tuple[str, ...], head_tools: tuple[str, ...]) -> bool:
    # A fact appearing or vanishing is a change only when one tool wrote both sides; another
    # generator simply may not record it. Documents naming no tool are taken at their word.
    names_b = {t.split(" ", 1)[0].lower() for t in base_tools}
    names_h = {t.split(" ", 1)[0].lower() for t in head_tools}
    if not names_b and not names_h:
        return True
    return bool(names_b & names_h)


def _param_changes(base: ComponentView, head: ComponentView) -> list[ParamChange]:
    old, new = dict(base.hyperparameters), dict(head.hyperparameters)
    out: list[ParamChange] = []
    for key in list(old) + [k for k in new if k not in old]:
        o, n = old.get(key), new.get(key)
        if o != n:
            out.append(ParamChange(key, o, n))
    return out


def _metrics(component: ComponentView) -> dict[tuple[str, str | None], str]:
    return {(m.type, m.slice): m.value for m in component.metrics if m.value is not None}


def number(text: str | None) -> float | None:
    """A finite number written as text ("0.9", "90%"), else None."""
    if text is None:
        return None
    try:
        value = float(text.strip().rstrip("%"))
    except ValueError:
        return None
    return value if value == value and value not in (float("inf"), float("-inf")) else None


def _metric_deltas(base: ComponentView, head: ComponentView) -> list[MetricDelta]:
    old, new = _metrics(base), _metrics(head)
    out: list[MetricDelta] = []
    for key in list(old) + [k for k in new if k not in old]:
        o, n = old.get(key), new.get(key)
        if o == n:
            continue
        on, nn = number(o), number(n)
        delta = nn - on if on is not None and nn is not None else None
        if delta is not None and delta == 0.0:
            continue  # "0.90" vs "0.9": the same number written differently
        out.append(MetricDelta(key[0], key[1], o, n, delta))
    return out


def _sort_key(c: ComponentSummary) -> tuple[str, str, str]:
    return (c.path or "", c.purl or "", c.label)


def _diff_category(
    base: list[ComponentView],
    head: list[ComponentView],
    category: Category,
    same_tool: bool = True,
) -> CategoryDiff:
    bs, hs = [summarize(c) for c in base], [summarize(c) for c in head]
    keys = _LIBRARY_KEYS if category is Category.LIBRARY else _ML_KEYS
    pairs, removed, added = _match(bs, hs, keys)
    changed: list[ComponentChange] = []
    unchanged = 0
    for i, j in pairs:
        fields = _field_changes(base[i], head[j], category, same_tool)
        params = _param_changes(base[i], head[j]) if category is Category.HYPERPARAMETERS else []
        deltas = _metric_deltas(base[i], head[j]) if category is Category.MODEL else []
        if fields or params or deltas:
            changed.append(
                ComponentChange(bs[i], hs[j], tuple(fields), tuple(params), tuple(deltas))
            )
        else:
            unchanged += 1
    return CategoryDiff(
        added=tuple(sorted((hs[j] for j in added), key=_sort_key)),
        removed=tuple(sorted((bs[i] for i in removed), key=_sort_key)),
        changed=tuple(sorted(changed, key=lambda c: _sort_key(c.head))),
        unchanged=unchanged,
    )


def diff_sboms(base: Mapping[str, Any], head: Mapping[str, Any]) -> SbomDiff:
    """Compare two parsed CycloneDX documents (either may come from another generator)."""
    base_view, head_view = BomView.of(base), BomView.of(head)
    b, h = by_category(base_view), by_category(head_view)
    base_tools, head_tools = base_view.tools(), head_view.tools()
    same = _same_tool(base_tools, head_tools)
    parts = {cat: _diff_category(b[cat], h[cat], cat, same) for cat in Category}
    return SbomDiff(
        models=parts[Category.MODEL],
        datasets=parts[Category.DATASET],
        hyperparameters=parts[Category.HYPERPARAMETERS],
        libraries=parts[Category.LIBRARY],
        base_tools=base_tools,
        head_tools=head_tools,
    )


EMPTY_SBOM: Mapping[str, Any] = {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []}
"""A document with no components: the base when there is nothing to compare against."""
