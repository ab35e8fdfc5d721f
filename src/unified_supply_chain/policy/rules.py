"""Policy rules, evaluated on the final SBOM document (a CycloneDX JSON dict).

Working on the document, not on internal records, means the gate judges exactly what is shipped,
and `usc check` can evaluate an SBOM produced elsewhere by this tool.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from typing import Any

from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.bom.view import BomView, ComponentView, Kind
from unified_supply_chain.policy.config import RULE_DEFAULTS, Policy, RuleConfig
from unified_supply_chain.records import Finding, Severity, finding_to_json, reaches

_SCAN_RULES = ("unsafe-serialization", "suspicious-chat-template")


def _path(comp: ComponentView) -> str:
    """usc:path, or the name for components without a path."""
    return comp.path or comp.name


def _kind(comp: ComponentView) -> str:
    return comp.kind.value


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


def _severity(config: RuleConfig, rule_id: str, own: Severity | None = None) -> Severity:
    return config.severity or own or RULE_DEFAULTS.get(rule_id) or Severity.MEDIUM


def _is_global_detail(detail: str) -> bool:
    return not detail.startswith(("error:", "<", "keras-", "onnx-", "pattern:")) and "." in detail


def _scan_findings(comp: ComponentView, policy: Policy) -> Iterator[Finding]:
    for recorded in comp.findings:
        rule_id = recorded.rule if recorded.rule in _SCAN_RULES else "unsafe-serialization"
        config = policy.rule(rule_id)
        if not config.enabled:
            continue
        location = recorded.path
        if _matches(_base_path(location), config.paths):
            continue
        details = recorded.details
        globals_named = [d for d in details if _is_global_detail(d)]
        # allow-globals never lifts a critical finding: a pattern such as `pkg.*` must not
        # reach a code-execution gadget through a dotted path (`pkg.x.os.system`).
        critical = recorded.severity is Severity.CRITICAL
        if globals_named and len(globals_named) == len(details) and not critical:
            remaining = [
                g
                for g in globals_named
                if not any(fnmatch.fnmatchcase(g, pat) for pat in config.allow_globals)
            ]
            if not remaining:
                continue
            details = tuple(remaining)
        yield Finding(
            rule=rule_id,
            severity=_severity(config, rule_id, recorded.severity),
            message=recorded.message,
            path=location,
            details=details,
        )


def _licence_finding(comp: ComponentView, rule_id: str, config: RuleConfig) -> Finding | None:
    licences = comp.licences
    what = "model" if comp.kind is Kind.MODEL else "dataset"
    if not licences:
        return Finding(
            rule=rule_id,
            severity=_severity(config, rule_id),
            message=f"{what} {comp.name!r} has no licence",
            path=_path(comp),
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
                path=_path(comp),
                details=tuple(outside),
            )
    return None


def _metric_findings(comp: ComponentView, config: RuleConfig) -> Iterator[Finding]:
    rule_id = "metric-threshold"
    if config.models and not (
        _matches(_path(comp), config.models) or _matches(comp.name, config.models)
    ):
        return
    values: dict[str, list[str]] = {}
    for m in comp.metrics:
        values.setdefault(m.type.lower(), []).append(m.value or "")
    for threshold in config.metrics:
        found = values.get(threshold.metric.lower())
        if not found:
            yield Finding(
                rule=rule_id,
                severity=_severity(config, rule_id),
                message=f"model {comp.name!r} has no {threshold.metric!r} metric "
                f"(required: {threshold})",
                path=_path(comp),
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
                    path=_path(comp),
                    details=(str(threshold), f"actual: {text}"),
                )


def evaluate(document: dict[str, Any], policy: Policy) -> list[Finding]:
    """Every policy finding about `document`, most severe first (stable otherwise)."""
    view = BomView.of(document)
    components = view.components
    by_ref = view.by_ref()
    edges = {ref: set(targets) for ref, targets in view.dependencies().items()}

    findings: list[Finding] = []
    for comp in components:
        if _matches(_path(comp), policy.allow_paths):
            continue
        for f in _scan_findings(comp, policy):
            if not _matches(_base_path(f.path), policy.allow_paths):
                findings.append(f)
        if comp.kind not in (Kind.MODEL, Kind.DATASET):
            continue
        if comp.kind is Kind.MODEL:
            checks = _model_checks(comp, policy, edges, by_ref)
        else:
            checks = _dataset_checks(comp, policy)
        checks.extend(_storage_checks(comp, policy))
        findings.extend(f for f in checks if not _matches(f.path, policy.rule(f.rule).paths))
    findings.sort(key=lambda f: -f.severity.rank)
    return findings


def _model_checks(
    comp: ComponentView,
    policy: Policy,
    edges: dict[str, set[str]],
    by_ref: dict[str, ComponentView],
) -> list[Finding]:
    out: list[Finding] = []
    config = policy.rule("model-without-licence")
    if config.enabled:
        found = _licence_finding(comp, "model-without-licence", config)
        if found:
            out.append(found)
    config = policy.rule("model-without-lineage")
    if config.enabled:
        targets = set(edges.get(comp.ref, set())) | set(comp.dataset_refs)
        if not any(t in by_ref and by_ref[t].kind is Kind.DATASET for t in targets):
            out.append(
                Finding(
                    rule="model-without-lineage",
                    severity=_severity(config, "model-without-lineage"),
                    message=f"model {comp.name!r} has no recorded training dataset",
                    path=_path(comp),
                )
            )
    config = policy.rule("metric-threshold")
    if config.enabled and config.metrics:
        out.extend(_metric_findings(comp, config))
    return out


def _dataset_checks(comp: ComponentView, policy: Policy) -> list[Finding]:
    config = policy.rule("dataset-without-licence")
    if not config.enabled:
        return []
    found = _licence_finding(comp, "dataset-without-licence", config)
    return [found] if found else []


def _storage_checks(comp: ComponentView, policy: Policy) -> list[Finding]:
    out: list[Finding] = []
    config = policy.rule("artifact-without-content")
    if config.enabled and config.required and comp.prop(Prop.CONTENT_PRESENT.value) == "false":
        storage = comp.prop(Prop.STORAGE.value) or "unknown storage"
        out.append(
            Finding(
                rule="artifact-without-content",
                severity=_severity(config, "artifact-without-content"),
                message=f"{_kind(comp)} {comp.name!r} ({storage}) has no content in the checkout",
                path=_path(comp),
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
                    message=f"{_kind(comp)} {comp.name!r} is {size} bytes in git "
                    f"(over {config.threshold}); track it with Git LFS or DVC",
                    path=_path(comp),
                    details=(f"size: {size}",),
                )
            )
    return out


def exceeds(findings: list[Finding], fail_on: Severity | None) -> bool:
    """True when some finding is at least as severe as `fail_on` (never when it is None)."""
    return any(reaches(f, fail_on) for f in findings)


def finding_property(finding: Finding) -> str:
    """The `usc:finding` property value for a finding (JSON, keys sorted)."""
    return finding_to_json(finding)
