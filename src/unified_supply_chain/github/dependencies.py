"""Dependency submission: an SBOM's packages as a snapshot for GitHub's dependency graph.

Libraries with a purl are submitted, and so are models and datasets that have one (for example
`pkg:huggingface/org/model`), so Dependabot and the dependency graph see them too. Packages are
grouped into manifests by the file they were read from (`usc:source`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from unified_supply_chain import __version__
from unified_supply_chain.bom.build import TOOL_URL
from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.bom.view import BomView, ComponentView
from unified_supply_chain.compare.categories import Category, category_of
from unified_supply_chain.github.client import api_call

if TYPE_CHECKING:
    import github

DETECTOR_NAME = "unified-supply-chain"
DETECTOR_URL = TOOL_URL
#: What the API accepts as a package URL.
PURL_RE = re.compile(r"^pkg:[a-z0-9.+-]+/")
#: Snapshot format version.
SNAPSHOT_VERSION = 0


@dataclass(frozen=True)
class Snapshot:
    """A snapshot body and what went into it."""

    body: dict[str, Any]
    """The request body (dependency-snapshot schema)."""
    packages: int
    """Packages submitted."""
    skipped: tuple[str, ...]
    """Components left out (no purl, or a purl the API would refuse), by name."""


def correlator(workflow: str | None, job: str | None, hint: str | None = None) -> str:
    """Groups snapshots of one job over time: workflow, job and an optional matrix hint."""
    parts = [p for p in (workflow or "workflow", job or "job", hint) if p]
    return "_".join(parts)


def _scope(component: ComponentView) -> str:
    return "development" if component.raw.get("scope") == "optional" else "runtime"


def build_snapshot(
    document: Mapping[str, Any],
    *,
    sha: str,
    ref: str,
    job_correlator: str,
    job_id: str,
    job_html_url: str | None = None,
    default_manifest: str = "sbom.cdx.json",
    scanned: datetime | None = None,
) -> Snapshot:
    """Build the snapshot body from a parsed CycloneDX document."""
    view = BomView.of(document)
    comps = view.listed
    ref_to_purl = {c.ref: c.purl for c in comps if c.ref and c.purl}
    graph = view.dependencies()
    root = view.application.ref if view.application is not None else ""
    direct = set(graph[root]) if root and root in graph else None

    manifests: dict[str, dict[str, Any]] = {}
    skipped: list[str] = []
    count = 0
    for comp in comps:
        cat = category_of(comp)
        purl = comp.purl
        name = comp.name or "(unnamed)"
        if cat is None:
            continue
        if purl is None or not PURL_RE.match(purl):
            if cat is Category.LIBRARY or purl:
                skipped.append(name)
            continue
        source = comp.prop(Prop.SOURCE) or default_manifest
        manifest = manifests.setdefault(
            source,
            {"name": source, "file": {"source_location": source}, "resolved": {}},
        )
        entry: dict[str, Any] = {"package_url": purl, "scope": _scope(comp)}
        bom_ref = comp.ref
        if direct is not None and bom_ref:
            entry["relationship"] = "direct" if bom_ref in direct else "indirect"
        if bom_ref and graph.get(bom_ref):
            deps = [ref_to_purl[d] for d in graph[bom_ref] if d in ref_to_purl]
            deps = [d for d in deps if PURL_RE.match(d)]
            if deps:
                entry["dependencies"] = sorted(set(deps))
        if cat in (Category.MODEL, Category.DATASET):
            entry["metadata"] = {Prop.KIND.value: cat.singular}
        key = purl
        if key in manifest["resolved"]:
            continue  # the same package listed twice (merged SBOMs): once is enough
        manifest["resolved"][key] = entry
        count += 1

    job: dict[str, Any] = {"id": job_id, "correlator": job_correlator}
    if job_html_url:
        job["html_url"] = job_html_url
    when = (scanned or datetime.now(timezone.utc)).astimezone(timezone.utc)
    body: dict[str, Any] = {
        "version": SNAPSHOT_VERSION,
        "job": job,
        "sha": sha,
        "ref": ref,
        "detector": {"name": DETECTOR_NAME, "version": __version__, "url": DETECTOR_URL},
        "manifests": manifests,
        "scanned": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return Snapshot(body=body, packages=count, skipped=tuple(skipped))


@dataclass(frozen=True)
class SubmissionResult:
    """GitHub's answer to a snapshot."""

    snapshot_id: int | None
    """Id of the stored snapshot."""
    result: str | None
    """"SUCCESS", "ACCEPTED" or "INVALID"."""
    message: str | None
    """GitHub's message."""


def submit_snapshot(
    gh: github.Github, repository: str, body: Mapping[str, Any]
) -> SubmissionResult:
    """POST the snapshot through PyGithub's requester (its retries and GHES base URL apply)."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repository):
        from unified_supply_chain.errors import UsageError

        raise UsageError(f"not an owner/name repository: {repository!r}")
    _, data = api_call(
        "submitting the dependency snapshot",
        gh.requester.requestJsonAndCheck,
        "POST",
        f"/repos/{repository}/dependency-graph/snapshots",
        input=dict(body),
    )
    data = data if isinstance(data, dict) else {}
    sid = data.get("id")
    return SubmissionResult(
        snapshot_id=sid if isinstance(sid, int) else None,
        result=data.get("result") if isinstance(data.get("result"), str) else None,
        message=data.get("message") if isinstance(data.get("message"), str) else None,
    )
