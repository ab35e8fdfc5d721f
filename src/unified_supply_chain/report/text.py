"""The human summary `usc sbom` prints on stderr: counts and a table of ML components."""

from __future__ import annotations

from typing import Any

from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.report.step_summary import count_kinds, human_size


def _prop(component: dict[str, Any], name: str) -> str | None:
    for p in component.get("properties", []):
        if p.get("name") == name:
            return str(p.get("value"))
    return None


def _cell(text: str, last: bool) -> str:
    """A table cell: the last column (the path) is shown whole, others cut at 40 with a mark."""
    if last or len(text) <= 40:
        return text
    return text[:39] + "…"


def render_text_summary(
    document: dict[str, Any], *, output: str | None = None, sha256: str | None = None
) -> str:
    """A few lines for a terminal: where the SBOM went, counts, then one row per ML component."""
    kinds = count_kinds(document)
    n = {
        "models": kinds["model"],
        "datasets": kinds["dataset"],
        "hyperparameters": kinds["hyperparameters"],
        "libraries": kinds["library"],
    }
    lines = []
    if output:
        lines.append(
            f"wrote {output} (CycloneDX {document.get('specVersion')}"
            + (f", sha256 {sha256[:12]}" if sha256 else "")
            + ")"
        )
    nouns = (
        ("models", "model", "models"),
        ("datasets", "dataset", "datasets"),
        ("hyperparameters", "hyperparameter set", "hyperparameter sets"),
        ("libraries", "library", "libraries"),
    )
    lines.append(", ".join(f"{n[k]} {one if n[k] == 1 else many}" for k, one, many in nouns))
    rows = []
    for c in document.get("components", []):
        kind = _prop(c, Prop.KIND.value)
        if kind not in ("model", "dataset", "hyperparameters"):
            continue
        sha = next((h["content"] for h in c.get("hashes", []) if h.get("alg") == "SHA-256"), "")
        size = _prop(c, Prop.SIZE.value)
        rows.append(
            (
                kind,
                c.get("name", ""),
                _prop(c, Prop.FORMAT.value) or "-",
                human_size(size) if size and size.isdigit() else "-",
                sha[:12] or "-",
                _prop(c, Prop.PATH.value) or "-",
            )
        )
    if rows:
        headers = ("KIND", "NAME", "FORMAT", "SIZE", "SHA-256", "PATH")
        widths = [min(40, max(len(str(r[i])) for r in [headers, *rows])) for i in range(6)]
        for r in [headers, *rows]:
            lines.append(
                "  ".join(_cell(str(v), i == 5).ljust(widths[i]) for i, v in enumerate(r)).rstrip()
            )
    return "\n".join(lines)
