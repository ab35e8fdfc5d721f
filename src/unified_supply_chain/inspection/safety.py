"""The safety dispatch: each artifact file whose format has a safety hook is scanned by it.

Files nothing classified are swept by content too (`content_pickles`): a pickle is a pickle to
`pickle.load` whatever its name, so a protocol 0/1 stream called `model.sav` or a header-less
`weights.bin` that would import something becomes a model component carrying its findings.
"""

from __future__ import annotations

import dataclasses

from unified_supply_chain.formats import registry
from unified_supply_chain.inspection.state import ScanState, model_name
from unified_supply_chain.records import Artifact, ArtifactKind, Problem
from unified_supply_chain.safety.scan import scan_file


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
    scanned = 0
    for rel, fmt in targets:
        spec = registry().get(fmt)
        if rel is None or fmt is None or spec is None or spec.safety is None:
            continue
        if rel not in st.by_path:
            continue
        scanned += 1
        try:
            # By content first (scan_file's dispatch), the format id as a hint: a renamed
            # file is scanned as what its bytes are, as the loader reads it.
            findings.extend(scan_file(st.abs(rel), rel, fmt))
        except Exception as exc:  # noqa: BLE001 - a bug here must not lose the SBOM
            from unified_supply_chain.safety.pickle_scan import unverified

            reason = f"safety scan failed ({type(exc).__name__})"
            st.problems.append(Problem(rel, reason))
            findings.append(unverified(rel, reason))  # fail closed: never a clean file
    if not scanned:
        return a
    return with_completeness(dataclasses.replace(a, findings=tuple(findings)))


def with_completeness(a: Artifact) -> Artifact:
    """The scanned artifact with `usc:scan:complete` (and a `usc:scan:reason` per gap)."""
    from unified_supply_chain.bom.properties import Prop
    from unified_supply_chain.safety.pickle_scan import is_unverified

    reasons = [f"{f.path}: {f.message}" for f in a.findings if is_unverified(f)]
    props = [(Prop.SCAN_COMPLETE.value, "false" if reasons else "true")]
    props.extend((Prop.SCAN_REASON.value, r[:1024]) for r in reasons)
    return dataclasses.replace(a, extra_properties=(*a.extra_properties, *props))


def content_pickles(st: ScanState, heads: dict[str, bytes]) -> list[Artifact]:
    """Model components for unclassified files whose content is a pickle that imports globals.

    `heads` maps each unclassified file to its first bytes; only those that could open a
    pickle are walked, and only those whose walk names a global are reported.
    """
    from unified_supply_chain.formats._sniff import could_hold_pickle
    from unified_supply_chain.lineage.resolve import artifact_ref

    found: list[Artifact] = []
    for rel, head in heads.items():
        entry = st.by_path.get(rel)
        if entry is None or not could_hold_pickle(head, entry.size):
            continue
        findings = scan_file(st.abs(rel), rel, "")
        if not findings:
            continue
        found.append(
            Artifact(
                kind=ArtifactKind.MODEL,
                ref=artifact_ref(ArtifactKind.MODEL, rel),
                name=model_name(rel),
                path=rel,
                format="pickle",
                size=entry.size,
                findings=tuple(findings),
                warnings=("the content is a pickle stream although its name does not say so",),
            )
        )
    return [with_completeness(a) for a in found]
