"""The safety dispatch: each artifact file whose format has a safety hook is scanned by it."""

from __future__ import annotations

import dataclasses

from unified_supply_chain.formats import registry
from unified_supply_chain.formats import resolve as resolve_hook
from unified_supply_chain.inspection.state import ScanState
from unified_supply_chain.records import Artifact, Problem


def _has_safety_hook(fmt: str | None) -> bool:
    spec = registry().get(fmt)
    return spec is not None and spec.safety is not None


def with_findings(st: ScanState, a: Artifact) -> Artifact:
    """The artifact with the findings of its (or its files') safety hooks; a hook that fails is a
    problem of the run, not a clean file."""
    if not _has_safety_hook(a.format) and not a.files:
        return a
    findings = list(a.findings)
    targets = (
        [(a.path, a.format)]
        if not a.files
        else [
            (f[0], st.formats.get(f[0])) for f in a.files if _has_safety_hook(st.formats.get(f[0]))
        ]
    )
    for rel, fmt in targets:
        spec = registry().get(fmt)
        if rel is None or fmt is None or spec is None or spec.safety is None:
            continue
        if rel not in st.by_path:
            continue
        try:
            findings.extend(resolve_hook(spec.safety)(st.abs(rel), rel, fmt))
        except Exception as exc:  # noqa: BLE001 - a bug here must not lose the SBOM
            st.problems.append(Problem(rel, f"safety scan failed ({type(exc).__name__})"))
    return dataclasses.replace(a, findings=tuple(findings)) if findings else a
