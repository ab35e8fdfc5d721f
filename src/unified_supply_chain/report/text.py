"""The human summary `usc sbom` prints on stderr: counts and a table of ML components."""

from __future__ import annotations

from typing import Any

from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.bom.view import BomView
from unified_supply_chain.console import escape_controls
from unified_supply_chain.report.interface import Report
from unified_supply_chain.report.step_summary import count_kinds, human_size


def _cell(text: str, last: bool) -> str:
    """A table cell: the last column (the path) is shown whole, others cut at 40 with a mark."""
    if last or len(text) <= 40:
        return text
    return text[:39] + "…"


def render_text_summary(
    document: dict[str, Any], *, output: str | None = None, sha256: str | None = None
) -> str:
    """A few lines for a terminal: where the SBOM went, counts, then one row per ML component."""
    view = BomView.of(document)
    kinds = count_kinds(view)
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
    for c in view.listed:
        if not c.kind.is_ml:
            continue
        size = c.prop(Prop.SIZE)
        rows.append(
            (
                c.kind.value,
                c.name,
                c.prop(Prop.FORMAT) or "-",
                human_size(size) if size and size.isdigit() else "-",
                (c.sha256 or "")[:12] or "-",
                c.path or "-",
            )
        )
    # One row per line whatever a name holds (the console escapes again, as a last guard).
    shown: list[tuple[str, ...]] = [tuple(escape_controls(str(v)) for v in r) for r in rows]
    if shown:
        headers = ("KIND", "NAME", "FORMAT", "SIZE", "SHA-256", "PATH")
        widths = [min(40, max(len(str(r[i])) for r in [headers, *shown])) for i in range(6)]
        for r in [headers, *shown]:
            lines.append(
                "  ".join(_cell(str(v), i == 5).ljust(widths[i]) for i, v in enumerate(r)).rstrip()
            )
    return "\n".join(lines)


class TextSummary(Report[dict[str, Any]]):
    """The lines `usc sbom` prints on stderr after writing `output`."""

    def __init__(self, *, output: str | None = None, sha256: str | None = None):
        self.output = output
        self.sha256 = sha256

    def format(self, result: dict[str, Any]) -> str:
        """`render_text_summary` of the document."""
        return render_text_summary(result, output=self.output, sha256=self.sha256)
