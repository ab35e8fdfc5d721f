"""Policy rules, evaluated on the final SBOM document (a CycloneDX JSON dict).

Working on the document, not on internal records, means the gate judges exactly what is shipped,
and `usc check` can evaluate an SBOM produced elsewhere by this tool.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from unified_supply_chain.bom.properties import Prop, kind_from_type, property_pairs
from unified_supply_chain.policy.config import RULE_DEFAULTS, Policy, RuleConfig
from unified_supply_chain.records import Finding, Severity, reaches

_SCAN_RULES = ("unsafe-serialization", "suspicious-chat-template")


@dataclass(frozen=True)
class _Component:
    """The facts rules need about one SBOM component."""

    ref: str
    """bom-ref ("" when absent)."""
    name: str
    """Component name."""
    kind: str | None
    """usc:kind (model, dataset, hyperparameters), or inferred from the CycloneDX type."""
    path: str
    """usc:path, or the name for components without a path."""
    props: tuple[tuple[str, str], ...]
    """All properties as (name, value)."""
    raw: dict[str, Any]
    """The component dict itself."""

    def prop(self, name: str) -> str | None:
        """First value of property `name`."""
        for key, value in self.props:
            if key == name:
                return value
        return None

    def props_named(self, name: str) -> list[str]:
        """Every value of property `name`."""
        return [value for key, value in self.props if key == name]


def iter_components(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every component dict of the document, nested ones included (depth-first)."""
    stack: list[Any] = list(reversed(document.get("components") or []))
    while stack:
        comp = stack.pop()
        if not isinstance(comp, dict):
            continue
        yield comp
        stack.extend(reversed(comp.get("components") or []))


def _component(raw: dict[str, Any]) -> _Component:
    props = property_pairs(raw)
    kind = next((v for k, v in props if k == Prop.KIND.value), None)
    if kind is None:
        kind = kind_from_type(raw)
    name = str(raw.get("name") or "")
    path = next((v for k, v in props if k == Prop.PATH.value), None) or name
    return _Component(str(raw.get("bom-ref") or ""), name, kind, path, tuple(props), raw)


def _matches(path: str, globs: tuple[str, ...]) -> bool:
    for glob in globs:
        if fnmatch.fnmatchcase(path, glob):
            return True
        # "dir/**" also matches "dir" itself and everything below it.
        if glob.endswith("/**") and (path == glob[:-3] or path.startswith(glob[:-2])):
            return True
    return False


def _base_path(location: str) -> str:
    """The file part of a finding location ("model.pt!archive/data.pkl" -> "model.pt")."""
    return location.split("!", 1)[0]


def _licences(raw: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for entry in raw.get("licenses") or []:
        if not isinstance(entry, dict):
            continue
        if isinstance(entry.get("expression"), str):
            out.append(entry["expression"])
        lic = entry.get("license")
        if isinstance(lic, dict):
            value = lic.get("id") or lic.get("name")
            if isinstance(value, str):
                out.append(value)
    return out


def _severity(config: RuleConfig, rule_id: str, own: Severity | None = None) -> Severity:
    return config.severity or own or RULE_DEFAULTS.get(rule_id) or Severity.MEDIUM


def _is_global_detail(detail: str) -> bool:
    return not detail.startswith(("error:", "<", "keras-", "pattern:")) and "." in detail


def _scan_findings(comp: _Component, policy: Policy) -> Iterator[Finding]:
    for value in comp.props_named(Prop.FINDING.value):
        try:
            data = json.loads(value)
        except ValueError:
            continue
        if not isinstance(data, dict):
            continue
        rule_id = str(data.get("rule") or "unsafe-serialization")
        if rule_id not in _SCAN_RULES:
            rule_id = "unsafe-serialization"
        config = policy.rule(rule_id)
        if not config.enabled:
            continue
        location = str(data.get("path") or comp.path)
        if _matches(_base_path(location), config.paths):
            continue
        details = tuple(str(d) for d in data.get("details") or ())
        globals_named = [d for d in details if _is_global_detail(d)]
        if globals_named and len(globals_named) == len(details):
            remaining = [
                g
                for g in globals_named
                if not any(fnmatch.fnmatchcase(g, pat) for pat in config.allow_globals)
            ]
            if not remaining:
                continue
            details = tuple(remaining)
        try:
            own = Severity(str(data.get("severity")))
        except ValueError:
            own = Severity.HIGH
        yield Finding(
            rule=rule_id,
            severity=_severity(config, rule_id, own),
            message=str(data.get("message") or rule_id),
            path=location,
            details=details,
        )


def _licence_finding(comp: _Component, rule_id: str, config: RuleConfig) -> Finding | None:
    licences = _licences(comp.raw)
    what = "model" if comp.kind == "model" else "dataset"
    if not licences:
        return Finding(
            rule=rule_id,
            severity=_severity(config, rule_id),
            message=f"{what} {comp.name!r} has no licence",
            path=comp.path,
        )
    if config.allowed_licences:
        allowed = {a.lower() for a in config.allowed_licences}
        outside = [lic for lic in licences if lic.lower() not in allowed]
        if outside:
            return Finding(
                rule=rule_id,
                severity=_severity(config, rule_id),
                message=f"{what} {comp.name!r} has a licence outside the allowed list: "
                + ", ".join(outside),
                path=comp.path,
                details=tuple(outside),
            )
    return None


def _metric_findings(comp: _Component, config: RuleConfig) -> Iterator[Finding]:
    rule_id = "metric-threshold"
    if config.models and not (
        _matches(comp.path, config.models) or _matches(comp.name, config.models)
    ):
        return
    card = comp.raw.get("modelCard") or {}
    analysis = card.get("quantitativeAnalysis") if isinstance(card, dict) else None
    metrics = analysis.get("performanceMetrics") if isinstance(analysis, dict) else None
    values: dict[str, list[str]] = {}
    for m in metrics or []:
        if isinstance(m, dict) and isinstance(m.get("type"), str):
            values.setdefault(m["type"].lower(), []).append(str(m.get("value", "")))
    for threshold in config.metrics:
        found = values.get(threshold.metric.lower())
        if not found:
            yield Finding(
                rule=rule_id,
                severity=_severity(config, rule_id),
                message=f"model {comp.name!r} has no {threshold.metric!r} metric "
                f"(required: {threshold})",
                path=comp.path,
                details=(str(threshold),),
            )
            continue
        for text in found:
            try:
                actual = float(text)
            except ValueError:
                ok = False
            else:
                ok = threshold.holds(actual)
            if not ok:
                yield Finding(
                    rule=rule_id,
                    severity=_severity(config, rule_id),
                    message=f"model {comp.name!r}: {threshold.metric} = {text} fails {threshold}",
                    path=comp.path,
                    details=(str(threshold), f"actual: {text}"),
                )


def evaluate(document: dict[str, Any], policy: Policy) -> list[Finding]:
    """Every policy finding about `document`, most severe first (stable otherwise)."""
    components = [_component(raw) for raw in iter_components(document)]
    by_ref = {c.ref: c for c in components if c.ref}
    edges: dict[str, set[str]] = {}
    for dep in document.get("dependencies") or []:
        if isinstance(dep, dict) and isinstance(dep.get("ref"), str):
            edges.setdefault(dep["ref"], set()).update(
                d for d in dep.get("dependsOn") or [] if isinstance(d, str)
            )

    findings: list[Finding] = []
    for comp in components:
        if _matches(comp.path, policy.allow_paths):
            continue
        for f in _scan_findings(comp, policy):
            if not _matches(_base_path(f.path), policy.allow_paths):
                findings.append(f)
        if comp.kind not in ("model", "dataset"):
            continue
        if comp.kind == "model":
            checks = _model_checks(comp, policy, edges, by_ref)
        else:
            checks = _dataset_checks(comp, policy)
        checks.extend(_storage_checks(comp, policy))
        findings.extend(f for f in checks if not _matches(f.path, policy.rule(f.rule).paths))
    findings.sort(key=lambda f: -f.severity.rank)
    return findings


def _model_checks(
    comp: _Component,
    policy: Policy,
    edges: dict[str, set[str]],
    by_ref: dict[str, _Component],
) -> list[Finding]:
    out: list[Finding] = []
    config = policy.rule("model-without-licence")
    if config.enabled:
        found = _licence_finding(comp, "model-without-licence", config)
        if found:
            out.append(found)
    config = policy.rule("model-without-lineage")
    if config.enabled:
        targets = set(edges.get(comp.ref, set()))
        card = comp.raw.get("modelCard")
        params = card.get("modelParameters") if isinstance(card, dict) else None
        for ds in (params.get("datasets") if isinstance(params, dict) else None) or []:
            if isinstance(ds, dict) and isinstance(ds.get("ref"), str):
                targets.add(ds["ref"])
        if not any(by_ref.get(t) is not None and by_ref[t].kind == "dataset" for t in targets):
            out.append(
                Finding(
                    rule="model-without-lineage",
                    severity=_severity(config, "model-without-lineage"),
                    message=f"model {comp.name!r} has no recorded training dataset",
                    path=comp.path,
                )
            )
    config = policy.rule("metric-threshold")
    if config.enabled and config.metrics:
        out.extend(_metric_findings(comp, config))
    return out


def _dataset_checks(comp: _Component, policy: Policy) -> list[Finding]:
    config = policy.rule("dataset-without-licence")
    if not config.enabled:
        return []
    found = _licence_finding(comp, "dataset-without-licence", config)
    return [found] if found else []


def _storage_checks(comp: _Component, policy: Policy) -> list[Finding]:
    out: list[Finding] = []
    config = policy.rule("artifact-without-content")
    if config.enabled and config.required and comp.prop(Prop.CONTENT_PRESENT.value) == "false":
        storage = comp.prop(Prop.STORAGE.value) or "unknown storage"
        out.append(
            Finding(
                rule="artifact-without-content",
                severity=_severity(config, "artifact-without-content"),
                message=f"{comp.kind} {comp.name!r} ({storage}) has no content in the checkout",
                path=comp.path,
                details=(f"storage: {storage}",),
            )
        )
    config = policy.rule("large-binary-not-in-lfs")
    if config.enabled and comp.prop(Prop.STORAGE.value) == "git":
        try:
            size = int(comp.prop(Prop.SIZE.value) or "0")
        except ValueError:
            size = 0
        if size > config.threshold:
            out.append(
                Finding(
                    rule="large-binary-not-in-lfs",
                    severity=_severity(config, "large-binary-not-in-lfs"),
                    message=f"{comp.kind} {comp.name!r} is {size} bytes in git "
                    f"(over {config.threshold}); track it with Git LFS or DVC",
                    path=comp.path,
                    details=(f"size: {size}",),
                )
            )
    return out


def exceeds(findings: list[Finding], fail_on: Severity | None) -> bool:
    """True when some finding is at least as severe as `fail_on` (never when it is None)."""
    return any(reaches(f, fail_on) for f in findings)


def finding_property(finding: Finding) -> str:
    """The `usc:finding` property value for a finding (JSON, keys sorted)."""
    return json.dumps(
        {
            "rule": finding.rule,
            "severity": finding.severity.value,
            "message": finding.message,
            "path": finding.path,
            "details": list(finding.details),
        },
        sort_keys=True,
    )
