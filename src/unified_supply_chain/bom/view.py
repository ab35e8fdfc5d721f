"""The one reader of a finished CycloneDX document (ours or another tool's).

Policy, diff, trace, the reports and the GitHub commands all read SBOMs through `BomView`, so a
component's kind, licences, hyperparameters, findings, paths and hashes are decided in one
place. Reading never raises on a malformed document: a field of the wrong type reads as absent.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.records import Finding, finding_from_json


class Kind(str, enum.Enum):
    """What a component is, for every reader of the document."""

    MODEL = "model"
    DATASET = "dataset"
    HYPERPARAMETERS = "hyperparameters"
    LIBRARY = "library"
    FILE = "file"
    OTHER = "other"

    @property
    def is_ml(self) -> bool:
        """True for models, datasets and hyperparameter sets."""
        return self in (Kind.MODEL, Kind.DATASET, Kind.HYPERPARAMETERS)


#: Component types that are never software dependencies, even with a purl.
_NOT_SOFTWARE = frozenset({"application", "file", "operating-system", "device", "firmware"})
_HYPERPARAMETER_PREFIX = Prop.HYPERPARAMETER.value + ":"


def text(value: object) -> str | None:
    """A non-empty string, a number as text, or None (booleans and containers are not text)."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def dicts(value: object) -> list[Mapping[str, Any]]:
    """The JSON objects in `value` when it is a list; [] otherwise."""
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def mapping(value: object) -> Mapping[str, Any]:
    """`value` when it is a JSON object; {} otherwise."""
    return value if isinstance(value, Mapping) else {}


def property_list(obj: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """(name, value) of every named entry of `obj["properties"]`, in document order.

    A value that is not text (a malformed document) reads as "".
    """
    out: list[tuple[str, str]] = []
    for prop in dicts(obj.get("properties")):
        name = prop.get("name")
        if isinstance(name, str):
            out.append((name, text(prop.get("value")) or ""))
    return tuple(out)


def kind_of(raw: Mapping[str, Any]) -> Kind:
    """The kind of a component: its `usc:kind`, else what its CycloneDX type says.

    A `data` component holding a `configuration` entry is a hyperparameter set, any other
    `data` component a dataset. Containers, platforms and the like with a purl are software the
    application depends on, so they count as libraries.
    """
    declared = next((v for k, v in property_list(raw) if k == Prop.KIND.value), None)
    if declared in (Kind.MODEL, Kind.DATASET, Kind.HYPERPARAMETERS, Kind.LIBRARY, Kind.OTHER):
        return Kind(declared)
    ctype = raw.get("type")
    if ctype == "machine-learning-model":
        return Kind.MODEL
    if ctype == "data":
        types = {d.get("type") for d in dicts(raw.get("data"))}
        if "configuration" in types:
            return Kind.HYPERPARAMETERS
        # `other` alone: content of unknown kind (usc:kind other), not a dataset.
        return Kind.OTHER if types == {"other"} else Kind.DATASET
    if ctype in ("library", "framework"):
        return Kind.LIBRARY
    if ctype == "file":
        return Kind.FILE
    if isinstance(ctype, str) and ctype not in _NOT_SOFTWARE and text(raw.get("purl")):
        return Kind.LIBRARY
    return Kind.OTHER


def licences_of(raw: Mapping[str, Any]) -> tuple[str, ...]:
    """Licence ids, names and expressions of a component, in document order.

    An entry is either `{"expression": ...}` or `{"license": {"id" | "name": ...}}`.
    """
    out: list[str] = []
    for entry in dicts(raw.get("licenses")):
        expression = entry.get("expression")
        if isinstance(expression, str) and expression:
            out.append(expression)
            continue
        lic = mapping(entry.get("license"))
        for key in ("id", "name"):
            value = lic.get(key)
            if isinstance(value, str) and value:
                out.append(value)
                break
    return tuple(out)


def _param_value(value: object) -> str:
    if isinstance(value, str):
        return value
    return "" if value is None else json.dumps(value)


@dataclass(frozen=True)
class Metric:
    """One model-card performance metric."""

    type: str
    """Metric name, e.g. "accuracy"."""
    value: str | None
    """The value as written (None when absent or not a scalar)."""
    slice: str | None
    """The data slice, when the metric has one."""


@dataclass(frozen=True, eq=False)
class ComponentView:
    """One component of a document, read once."""

    raw: Mapping[str, Any]
    """The component's JSON object."""
    kind: Kind
    """What it is (see `kind_of`)."""
    owner: ComponentView | None
    """The model, dataset or hyperparameter set this component is part of (a directory model's
    files), else None."""
    properties: tuple[tuple[str, str], ...]
    """Every property as (name, value), in document order."""
    licences: tuple[str, ...]
    """Licence ids, names and expressions."""

    @property
    def ref(self) -> str:
        """bom-ref ("" when absent)."""
        return text(self.raw.get("bom-ref")) or ""

    @property
    def name(self) -> str:
        """Component name ("" when absent)."""
        return text(self.raw.get("name")) or ""

    @property
    def type(self) -> str:
        """CycloneDX component type ("" when absent)."""
        return text(self.raw.get("type")) or ""

    @property
    def version(self) -> str | None:
        """Component version."""
        return text(self.raw.get("version"))

    @property
    def group(self) -> str | None:
        """Component group (namespace)."""
        return text(self.raw.get("group"))

    @property
    def purl(self) -> str | None:
        """Package URL."""
        return text(self.raw.get("purl"))

    def prop(self, name: Prop | str) -> str | None:
        """The first value of property `name`, if any."""
        key = name.value if isinstance(name, Prop) else name
        return next((v for k, v in self.properties if k == key), None)

    def props_named(self, name: Prop | str) -> tuple[str, ...]:
        """Every value of property `name` (a name may repeat, e.g. usc:warning)."""
        key = name.value if isinstance(name, Prop) else name
        return tuple(v for k, v in self.properties if k == key)

    @property
    def path(self) -> str | None:
        """The repo-relative path we recorded (`usc:path`)."""
        return self.prop(Prop.PATH) or None

    @property
    def evidence_paths(self) -> tuple[str, ...]:
        """Locations of the evidence occurrences, in document order."""
        evidence = mapping(self.raw.get("evidence"))
        found = (text(o.get("location")) for o in dicts(evidence.get("occurrences")))
        return tuple(loc for loc in found if loc)

    @property
    def location(self) -> str | None:
        """Where the component is in the repository: `usc:path`, else the first evidence path."""
        return self.path or next(iter(self.evidence_paths), None)

    @property
    def hashes(self) -> tuple[tuple[str, str], ...]:
        """(algorithm as written, lower-case digest) of every hash with both."""
        out = []
        for h in dicts(self.raw.get("hashes")):
            alg, content = h.get("alg"), text(h.get("content"))
            if isinstance(alg, str) and alg and content:
                out.append((alg, content.lower()))
        return tuple(out)

    @property
    def sha256(self) -> str | None:
        """The SHA-256 digest, if the component has one."""
        return next((c for a, c in self.hashes if a.upper() == "SHA-256"), None)

    @property
    def hyperparameters(self) -> tuple[tuple[str, str], ...]:
        """(dotted key, value) from the `contents.properties` of the component's data entries."""
        out: list[tuple[str, str]] = []
        for data in dicts(self.raw.get("data")):
            for prop in dicts(mapping(data.get("contents")).get("properties")):
                name = prop.get("name")
                if isinstance(name, str):
                    out.append((name, _param_value(prop.get("value"))))
        return tuple(out)

    @property
    def model_card(self) -> Mapping[str, Any]:
        """The `modelCard` object ({} when absent)."""
        return mapping(self.raw.get("modelCard"))

    @property
    def card_hyperparameters(self) -> tuple[tuple[str, str], ...]:
        """(dotted key, value) mirrored on the model card as `cdx:ai-ml:model:hyperparameter:*`."""
        return tuple(
            (k[len(_HYPERPARAMETER_PREFIX) :], v)
            for k, v in property_list(self.model_card)
            if k.startswith(_HYPERPARAMETER_PREFIX)
        )

    @property
    def dataset_refs(self) -> tuple[str, ...]:
        """bom-refs named by the model card's `modelParameters.datasets`."""
        params = mapping(self.model_card.get("modelParameters"))
        refs = (d.get("ref") for d in dicts(params.get("datasets")))
        return tuple(r for r in refs if isinstance(r, str))

    @property
    def metrics(self) -> tuple[Metric, ...]:
        """The model card's `quantitativeAnalysis.performanceMetrics` that name a type."""
        analysis = mapping(self.model_card.get("quantitativeAnalysis"))
        out = []
        for m in dicts(analysis.get("performanceMetrics")):
            mtype = m.get("type")
            if isinstance(mtype, str) and mtype:
                out.append(Metric(mtype, text(m.get("value")), text(m.get("slice"))))
        return tuple(out)

    @property
    def findings(self) -> tuple[Finding, ...]:
        """The findings recorded as `usc:finding` properties (unreadable ones skipped)."""
        out = []
        for value in self.props_named(Prop.FINDING):
            finding = finding_from_json(value, default_path=self.path or self.name)
            if finding is not None:
                out.append(finding)
        return tuple(out)


def _view(raw: Mapping[str, Any], owner: ComponentView | None) -> ComponentView:
    return ComponentView(raw, kind_of(raw), owner, property_list(raw), licences_of(raw))


@dataclass(frozen=True, eq=False)
class BomView:
    """A parsed CycloneDX document, its components walked once."""

    document: Mapping[str, Any]
    """The JSON document."""
    components: tuple[ComponentView, ...]
    """Every component, nested ones included, depth-first in document order."""
    application: ComponentView | None
    """`metadata.component`, the application the document describes."""

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> BomView:
        """Read `document` (anything that is not a JSON object reads as an empty document)."""
        document = mapping(document)
        found: list[ComponentView] = []

        def walk(items: object, owner: ComponentView | None) -> None:
            for raw in dicts(items):
                view = _view(raw, owner)
                found.append(view)
                walk(raw.get("components"), owner or (view if view.kind.is_ml else None))

        walk(document.get("components"), None)
        app = document.get("metadata")
        app_raw = mapping(app).get("component")
        application = _view(app_raw, None) if isinstance(app_raw, Mapping) else None
        return cls(document, tuple(found), application)

    @property
    def listed(self) -> tuple[ComponentView, ...]:
        """Components on their own: all but the parts of a model, dataset or hyperparameter set."""
        return tuple(c for c in self.components if c.owner is None)

    def of_kind(self, kind: Kind) -> tuple[ComponentView, ...]:
        """Listed components of one kind."""
        return tuple(c for c in self.listed if c.kind is kind)

    def by_ref(self) -> dict[str, ComponentView]:
        """Components by bom-ref (the first one when a ref repeats)."""
        out: dict[str, ComponentView] = {}
        for c in self.components:
            if c.ref:
                out.setdefault(c.ref, c)
        return out

    def dependencies(self) -> dict[str, tuple[str, ...]]:
        """bom-ref -> the refs it depends on, from `dependencies` (entries for a ref merged)."""
        out: dict[str, list[str]] = {}
        for dep in dicts(self.document.get("dependencies")):
            ref = dep.get("ref")
            if isinstance(ref, str):
                deps = dep.get("dependsOn")
                targets = [d for d in deps if isinstance(d, str)] if isinstance(deps, list) else []
                out.setdefault(ref, []).extend(targets)
        return {k: tuple(v) for k, v in out.items()}

    @property
    def spec_version(self) -> str | None:
        """`specVersion` as written."""
        return text(self.document.get("specVersion"))

    @property
    def metadata(self) -> Mapping[str, Any]:
        """`metadata` ({} when absent)."""
        return mapping(self.document.get("metadata"))

    def tools(self) -> tuple[str, ...]:
        """Tools named in `metadata.tools` ("name version"), both the 1.5+ and legacy forms."""
        tools = self.metadata.get("tools")
        if isinstance(tools, Mapping):
            items = dicts(tools.get("components")) + dicts(tools.get("services"))
        else:
            items = dicts(tools)
        out = []
        for tool in items:
            name = text(tool.get("name"))
            if name:
                version = text(tool.get("version"))
                out.append(f"{name} {version}" if version else name)
        return tuple(out)

    def findings(self) -> Iterator[Finding]:
        """Every `usc:finding` recorded on a component or on the application."""
        for c in (*self.components, *((self.application,) if self.application else ())):
            yield from c.findings
