"""The human summary `usc sbom` prints on stderr: counts and a table of ML components."""

from __future__ import annotations

from typing import Any

from unified_supply_chain.bom.properties import Prop


def _prop(component: dict[str, Any], name: str) -> str | None:
    for p in component.get("properties", []):
        if p.get("name") == name:
            return str(p.get("value"))
    return None


def human_size(n: int | None) -> str:
    """1536 -> '1.5 KiB'."""
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def counts(document: dict[str, Any]) -> dict[str, int]:
    """Number of models, datasets, hyperparameter sets and libraries in a document."""
    out = {"models": 0, "datasets": 0, "hyperparameters": 0, "libraries": 0}
    for c in document.get("components", []):
        kind = _prop(c, Prop.KIND.value)
        if c.get("type") == "machine-learning-model":
            out["models"] += 1
        elif kind == "hyperparameters" or (
            c.get("type") == "data"
            and any(d.get("type") == "configuration" for d in c.get("data", []))
        ):
            out["hyperparameters"] += 1
        elif c.get("type") == "data":
            out["datasets"] += 1
        elif c.get("type") in ("library", "framework"):
            out["libraries"] += 1
    return out


def _cell(text: str, last: bool) -> str:
    """A table cell: the last column (the path) is shown whole, others cut at 40 with a mark."""
    if last or len(text) <= 40:
        return text
    return text[:39] + "…"


def render_text_summary(
    document: dict[str, Any], *, output: str | None = None, sha256: str | None = None
) -> str:
    """A few lines for a terminal: where the SBOM went, counts, then one row per ML component."""
    n = counts(document)
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
                human_size(int(size)) if size and size.isdigit() else "-",
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
