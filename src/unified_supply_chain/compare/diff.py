"""ML-aware comparison of two CycloneDX SBOMs (parsed JSON), and its renderings.

Components fall into four categories: models, datasets, hyperparameter sets and libraries. Our
own documents say which with the `usc:kind` property; documents from other tools (syft, cdxgen)
are classified by component type and `data[].type`. Components are matched across the two sides
by, in order: repository path (`usc:path`, else the first evidence occurrence), exact purl, purl
without version, then (type, group, name). Matched pairs are compared field by field; everything
here is a pure function of the two documents.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from unified_supply_chain.bom.properties import Prop

#: GitHub's limit on a check run's `output.summary` (and text) in characters.
CHECK_SUMMARY_LIMIT = 65535
#: Shown when a rendering was cut to fit.
TRUNCATION_NOTE = (
    "\n\n> **Note:** this report was truncated to fit GitHub's {limit}-character limit; "
    "{hidden} more characters are in the full report (`usc diff --format json`).\n"
)


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


def _s(value: object) -> str | None:
    """A non-empty string, or None."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _dicts(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def properties(component: Mapping[str, Any]) -> dict[str, list[str]]:
    """A component's properties as name -> values (a name may repeat)."""
    out: dict[str, list[str]] = {}
    for prop in _dicts(component.get("properties")):
        name = _s(prop.get("name"))
        value = prop.get("value")
        if name is not None:
            out.setdefault(name, []).append(value if isinstance(value, str) else "")
    return out


def _first(props: Mapping[str, list[str]], name: Prop) -> str | None:
    values = props.get(name.value)
    return values[0] if values else None


def component_path(component: Mapping[str, Any]) -> str | None:
    """Repo-relative path: `usc:path`, else the first evidence occurrence's location."""
    path = _first(properties(component), Prop.PATH)
    if path:
        return path
    evidence = component.get("evidence")
    if isinstance(evidence, dict):
        for occ in _dicts(evidence.get("occurrences")):
            loc = _s(occ.get("location"))
            if loc:
                return loc
    return None


def _data_type(component: Mapping[str, Any]) -> str | None:
    data = _dicts(component.get("data"))
    return _s(data[0].get("type")) if data else None


def categorize(component: Mapping[str, Any]) -> Category | None:
    """The diff category of a component, or None for what the diff does not report."""
    kind = _first(properties(component), Prop.KIND)
    if kind == "model":
        return Category.MODEL
    if kind == "dataset":
        return Category.DATASET
    if kind == "hyperparameters":
        return Category.HYPERPARAMETERS
    ctype = component.get("type")
    if ctype == "machine-learning-model":
        return Category.MODEL
    if ctype == "data":
        return (
            Category.HYPERPARAMETERS
            if _data_type(component) == "configuration"
            else (Category.DATASET)
        )
    if ctype in ("library", "framework"):
        return Category.LIBRARY
    if ctype not in ("application", "file", "operating-system", "device", "firmware") and (
        _s(component.get("purl")) is not None
    ):
        # Containers, platforms, ... with a purl are still software the app depends on.
        return Category.LIBRARY
    return None


def iter_components(document: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """All components, nested ones included, except the files inside an ML component."""
    stack = list(reversed(_dicts(document.get("components"))))
    while stack:
        comp = stack.pop()
        yield comp
        if comp.get("type") in ("machine-learning-model", "data"):
            continue
        stack.extend(reversed(_dicts(comp.get("components"))))


def summarize(component: Mapping[str, Any]) -> ComponentSummary:
    """The identifying facts of a component."""
    props = properties(component)
    return ComponentSummary(
        name=_s(component.get("name")) or "(unnamed)",
        type=_s(component.get("type")) or "",
        version=_s(component.get("version")),
        purl=_s(component.get("purl")),
        path=component_path(component),
        bom_ref=_s(component.get("bom-ref")),
        group=_s(component.get("group")),
        source=_first(props, Prop.SOURCE),
    )


def _tools(document: Mapping[str, Any]) -> tuple[str, ...]:
    metadata = document.get("metadata")
    if not isinstance(metadata, dict):
        return ()
    tools = metadata.get("tools")
    items: list[dict[str, Any]] = []
    if isinstance(tools, dict):  # CycloneDX 1.5+: {components: [...], services: [...]}
        items = _dicts(tools.get("components")) + _dicts(tools.get("services"))
    elif isinstance(tools, list):  # legacy array of {vendor, name, version}
        items = _dicts(tools)
    out = []
    for tool in items:
        name = _s(tool.get("name"))
        if name:
            version = _s(tool.get("version"))
            out.append(f"{name} {version}" if version else name)
    return tuple(out)


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


def _hashes(component: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for h in _dicts(component.get("hashes")):
        alg, content = _s(h.get("alg")), _s(h.get("content"))
        if alg and content:
            out.setdefault(alg.upper(), content.lower())
    return out


def _licences(component: Mapping[str, Any]) -> str | None:
    names: list[str] = []
    for entry in _dicts(component.get("licenses")):
        expr = _s(entry.get("expression"))
        if expr:
            names.append(expr)
            continue
        lic = entry.get("license")
        if isinstance(lic, dict):
            name = _s(lic.get("id")) or _s(lic.get("name"))
            if name:
                names.append(name)
    return ", ".join(sorted(set(names))) if names else None


def _hash_change(base: Mapping[str, Any], head: Mapping[str, Any]) -> FieldChange | None:
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


def _field_changes(
    base: Mapping[str, Any], head: Mapping[str, Any], category: Category, same_tool: bool
) -> list[FieldChange]:
    out: list[FieldChange] = []
    hash_change = _hash_change(base, head)
    if hash_change:
        out.append(hash_change)
    bp, hp = properties(base), properties(head)
    pairs: list[tuple[str, str | None, str | None]] = [
        ("version", _s(base.get("version")), _s(head.get("version"))),
        ("licence", _licences(base), _licences(head)),
    ]
    if category is not Category.LIBRARY:
        pairs += [
            ("format", _first(bp, Prop.FORMAT), _first(hp, Prop.FORMAT)),
            ("parameter count", _first(bp, Prop.PARAMETER_COUNT), _first(hp, Prop.PARAMETER_COUNT)),
            ("size", _first(bp, Prop.SIZE), _first(hp, Prop.SIZE)),
            ("storage", _first(bp, Prop.STORAGE), _first(hp, Prop.STORAGE)),
            ("purl", _s(base.get("purl")), _s(head.get("purl"))),
        ]
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


def hyperparameters(component: Mapping[str, Any]) -> dict[str, str]:
    """A hyperparameter set's (dotted key -> value), from `data[].contents.properties`."""
    out: dict[str, str] = {}
    for data in _dicts(component.get("data")):
        contents = data.get("contents")
        if not isinstance(contents, dict):
            continue
        for prop in _dicts(contents.get("properties")):
            name = _s(prop.get("name"))
            if name is not None:
                value = prop.get("value")
                out[name] = value if isinstance(value, str) else json.dumps(value)
    return out


def _param_changes(base: Mapping[str, Any], head: Mapping[str, Any]) -> list[ParamChange]:
    old, new = hyperparameters(base), hyperparameters(head)
    out: list[ParamChange] = []
    for key in list(old) + [k for k in new if k not in old]:
        o, n = old.get(key), new.get(key)
        if o != n:
            out.append(ParamChange(key, o, n))
    return out


def metrics(component: Mapping[str, Any]) -> dict[tuple[str, str | None], str]:
    """A model's performance metrics as (type, slice) -> value."""
    card = component.get("modelCard")
    if not isinstance(card, dict):
        return {}
    qa = card.get("quantitativeAnalysis")
    if not isinstance(qa, dict):
        return {}
    out: dict[tuple[str, str | None], str] = {}
    for m in _dicts(qa.get("performanceMetrics")):
        mtype, value = _s(m.get("type")), _s(m.get("value"))
        if mtype and value is not None:
            out[(mtype, _s(m.get("slice")))] = value
    return out


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text.strip().rstrip("%"))
    except ValueError:
        return None
    return value if value == value and value not in (float("inf"), float("-inf")) else None


def _metric_deltas(base: Mapping[str, Any], head: Mapping[str, Any]) -> list[MetricDelta]:
    old, new = metrics(base), metrics(head)
    out: list[MetricDelta] = []
    for key in list(old) + [k for k in new if k not in old]:
        o, n = old.get(key), new.get(key)
        if o == n:
            continue
        on, nn = _number(o), _number(n)
        delta = nn - on if on is not None and nn is not None else None
        if delta is not None and delta == 0.0:
            continue  # "0.90" vs "0.9": the same number written differently
        out.append(MetricDelta(key[0], key[1], o, n, delta))
    return out


def _sort_key(c: ComponentSummary) -> tuple[str, str, str]:
    return (c.path or "", c.purl or "", c.label)


def _diff_category(
    base: list[dict[str, Any]],
    head: list[dict[str, Any]],
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


def _by_category(document: Mapping[str, Any]) -> dict[Category, list[dict[str, Any]]]:
    out: dict[Category, list[dict[str, Any]]] = {c: [] for c in Category}
    for comp in iter_components(document):
        cat = categorize(comp)
        if cat is not None:
            out[cat].append(comp)
    return out


def diff_sboms(base: Mapping[str, Any], head: Mapping[str, Any]) -> SbomDiff:
    """Compare two parsed CycloneDX documents (either may come from another generator)."""
    b, h = _by_category(base), _by_category(head)
    base_tools, head_tools = _tools(base), _tools(head)
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


# ----------------------------------------------------------------------------------- outputs


def to_json(diff: SbomDiff) -> dict[str, Any]:
    """A JSON-ready dict of the diff, with counts and a `changed` flag."""
    out: dict[str, Any] = {"changed": diff.has_changes, "summary": {}}
    for cat in Category:
        cd = diff.category(cat)
        body = asdict(cd)
        out[cat.value] = body
        out["summary"][cat.value] = {
            "added": len(cd.added),
            "removed": len(cd.removed),
            "changed": len(cd.changed),
            "unchanged": cd.unchanged,
        }
    out["base_tools"] = list(diff.base_tools)
    out["head_tools"] = list(diff.head_tools)
    return out


def _short(value: str | None, field_name: str = "") -> str:
    if value is None:
        return "—"
    if field_name == "hash" and ":" in value:
        alg, digest = value.split(":", 1)
        return f"{alg}:{digest[:12]}…" if len(digest) > 12 else value
    return value


def _cell(text: str, limit: int = 200) -> str:
    """A markdown table cell: pipes and newlines escaped, long text cut."""
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")
    text = text.replace("<", "&lt;").replace(">", "&gt;")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _code(text: str | None) -> str:
    if not text:
        return "—"
    return "`" + _cell(text).replace("`", "'") + "`"


def _size(text: str | None) -> str:
    n = _number(text)
    if text is None or n is None:
        return _short(text)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return text


def _field_text(change: FieldChange) -> str:
    if change.field == "size":
        return f"size {_size(change.old)} → {_size(change.new)}"
    return f"{change.field} {_short(change.old, change.field)} → {_short(change.new, change.field)}"


def _delta_text(delta: float | None) -> str:
    if delta is None:
        return "—"
    arrow = "▲" if delta > 0 else "▼"
    return f"{arrow} {delta:+.4g}"


def change_message(change: ComponentChange) -> str:
    """One line describing what changed in a component."""
    parts = [_field_text(f) for f in change.fields]
    if change.params:
        parts.append(f"{len(change.params)} hyperparameter(s) changed")
    if change.metrics:
        parts.append(
            "metrics: "
            + ", ".join(
                f"{m.type}{f' [{m.slice}]' if m.slice else ''} {_short(m.old)} → {_short(m.new)}"
                for m in change.metrics
            )
        )
    return "; ".join(parts) or "changed"


def render_markdown(
    diff: SbomDiff, max_chars: int = CHECK_SUMMARY_LIMIT, *, title: str | None = None
) -> str:
    """Markdown tables for reviewers; cut with a note when longer than `max_chars`."""
    lines: list[str] = []
    if title:
        lines += [f"## {title}", ""]
    if not diff.has_changes:
        lines.append("No changes to models, datasets, hyperparameters or libraries.")
        return _fit("\n".join(lines) + "\n", max_chars)
    lines += ["| | added | removed | changed | unchanged |", "|---|---:|---:|---:|---:|"]
    for cat in Category:
        cd = diff.category(cat)
        lines.append(
            f"| {cat.value.capitalize()} | {len(cd.added)} | {len(cd.removed)} | "
            f"{len(cd.changed)} | {cd.unchanged} |"
        )
    lines.append("")
    for cat in Category:
        cd = diff.category(cat)
        if not cd.has_changes:
            continue
        lines += [f"### {cat.value.capitalize()}", ""]
        lines += ["| | name | path / purl | details |", "|---|---|---|---|"]
        for c in cd.added:
            lines.append(f"| ➕ added | {_cell(c.label)} | {_code(c.path or c.purl)} | |")
        for c in cd.removed:
            lines.append(f"| ➖ removed | {_cell(c.label)} | {_code(c.path or c.purl)} | |")
        for ch in cd.changed:
            c = ch.head
            lines.append(
                f"| ✏️ changed | {_cell(c.label)} | {_code(c.path or c.purl)} | "
                f"{_cell(change_message(ch), 400)} |"
            )
        lines.append("")
        for ch in cd.changed:
            if ch.params:
                lines += [
                    "<details open><summary>Hyperparameters of "
                    f"<code>{_cell(ch.head.path or ch.head.name)}</code></summary>",
                    "",
                    "| key | old | new |",
                    "|---|---|---|",
                ]
                for p in ch.params:
                    lines.append(f"| {_code(p.key)} | {_code(p.old)} | {_code(p.new)} |")
                lines += ["", "</details>", ""]
            if ch.metrics:
                lines += [
                    f"**Metrics of {_cell(ch.head.label)}**",
                    "",
                    "| metric | slice | old | new | Δ |",
                    "|---|---|---:|---:|---:|",
                ]
                for m in ch.metrics:
                    lines.append(
                        f"| {_cell(m.type)} | {_cell(m.slice or '—')} | {_cell(_short(m.old))} | "
                        f"{_cell(_short(m.new))} | {_delta_text(m.delta)} |"
                    )
                lines.append("")
    if diff.base_tools != diff.head_tools and (diff.base_tools or diff.head_tools):
        lines.append(
            f"_Base made by {_cell(', '.join(diff.base_tools) or 'an unknown tool')}; head made by "
            f"{_cell(', '.join(diff.head_tools) or 'an unknown tool')}: only facts both state "
            "are compared._"
        )
    return _fit("\n".join(lines).rstrip("\n") + "\n", max_chars)


def _fit(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    note = TRUNCATION_NOTE.format(limit=max_chars, hidden=len(text))
    # Two passes: the hidden count depends on where the cut falls.
    for _ in range(2):
        budget = max(0, max_chars - len(note))
        head = text[:budget]
        cut = head.rfind("\n")
        if cut > budget // 2:
            head = head[:cut]
        note = TRUNCATION_NOTE.format(limit=max_chars, hidden=len(text) - len(head))
    out = head + note
    return out if len(out) <= max_chars else out[:max_chars]


def changed_paths(diff: SbomDiff) -> list[tuple[str, str]]:
    """(repo path, message) for added and changed components that have a path in the head.

    Libraries are pointed at the manifest they were read from (usc:source). Removed components
    have no file left to point at and are reported in the summary only.
    """
    out: list[tuple[str, str]] = []
    for cat in Category:
        cd = diff.category(cat)
        for c in cd.added:
            path = c.path or (c.source if cat is Category.LIBRARY else None)
            if path:
                out.append((path, f"{cat.singular.capitalize()} added: {c.label}"))
        for ch in cd.changed:
            c = ch.head
            path = c.path or (c.source if cat is Category.LIBRARY else None)
            if path:
                out.append(
                    (path, f"{cat.singular.capitalize()} changed: {c.label}: {change_message(ch)}")
                )
    return out
