"""The step summary: markdown tables and a Mermaid lineage diagram, from the SBOM JSON alone.

Working from the final document (not the inventory) means the summary shows exactly what was
written, and that it can be rendered again later from any SBOM file we produced.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from unified_supply_chain.actions_io import (
    SUMMARY_LIMIT_BYTES,
    SUMMARY_TRUNCATED_NOTE,
)
from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.bom.view import BomView, ComponentView, Kind
from unified_supply_chain.records import Finding
from unified_supply_chain.report.interface import Report
from unified_supply_chain.report.markdown import md_cell, md_code, mermaid_label

#: Room left under GitHub's 1 MiB for what other steps of the job write to the same summary.
SUMMARY_MARGIN_BYTES = 16 * 1024
#: Nodes drawn in the lineage diagram at most (Mermaid becomes unreadable, then slow, beyond).
MAX_DIAGRAM_NODES = 100
#: Rows shown per table.
MAX_TABLE_ROWS = 500
#: Hyperparameter values shown per set in the table.
PARAMS_SHOWN = 4

__all__ = ["count_kinds", "human_size", "lineage_diagram", "md_cell", "mermaid_label"]


def _label(c: ComponentView) -> str:
    return c.name or c.ref or "?"


def count_kinds(document: Mapping[str, Any] | BomView) -> dict[str, int]:
    """Listed components by kind: model, dataset, hyperparameters, library, other.

    A directory model's files are part of the model, not counted on their own; files listed on
    their own count as "other".
    """
    view = document if isinstance(document, BomView) else BomView.of(document)
    counts = dict.fromkeys(("model", "dataset", "hyperparameters", "library", "other"), 0)
    for component in view.listed:
        key = component.kind.value if component.kind is not Kind.FILE else "other"
        counts[key] += 1
    return counts


# ----------------------------------------------------------------------------------- formatting


def human_size(size: str | int | None) -> str:
    """Bytes in binary units, e.g. "1.5 MiB"; "" when unknown."""
    if size is None or size == "":
        return ""
    try:
        value = float(int(size))
    except (TypeError, ValueError):
        return str(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _licences(component: ComponentView) -> str:
    return ", ".join(component.licences)


def _code(value: str) -> str:
    return md_code(value)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], total: int) -> list[str]:
    """Table lines, one chunk per row; a note when rows were left out."""
    lines = [
        "| " + " | ".join(header) + " |\n" + "|" + "|".join("---" for _ in header) + "|\n",
    ]
    lines.extend("| " + " | ".join(row) + " |\n" for row in rows[:MAX_TABLE_ROWS])
    if total > MAX_TABLE_ROWS:
        lines.append(f"\n_{total - MAX_TABLE_ROWS} more not shown._\n")
    return lines


# -------------------------------------------------------------------------------------- diagram


def lineage_diagram(document: Mapping[str, Any] | BomView) -> str:
    """A Mermaid flowchart: datasets and hyperparameter sets pointing at the models they made.

    Empty string when no model has lineage. Node ids are generated (n0, n1, ...), so nothing
    from the document ever lands in Mermaid syntax outside an escaped, quoted label.
    """
    view = document if isinstance(document, BomView) else BomView.of(document)
    comps = view.listed
    by_ref: dict[str, ComponentView] = {}
    for c in comps:
        if c.ref:
            by_ref.setdefault(c.ref, c)
    deps = view.dependencies()
    edges: list[tuple[ComponentView, ComponentView]] = []
    for model in comps:
        if model.kind is not Kind.MODEL or not model.ref:
            continue
        for ref in deps.get(model.ref, ()):
            source = by_ref.get(ref)
            if source is not None and source.kind.is_ml:
                edges.append((source, model))
    if not edges:
        return ""
    ids: dict[str, str] = {}
    node_lines: list[str] = []
    edge_lines: list[str] = []
    dropped = 0

    def node(c: ComponentView) -> str | None:
        if c.ref in ids:
            return ids[c.ref]
        if len(ids) >= MAX_DIAGRAM_NODES:
            return None
        nid = f"n{len(ids)}"
        ids[c.ref] = nid
        label = mermaid_label(_label(c))
        shape = {
            Kind.MODEL: f'{nid}["{label}"]:::model',
            Kind.DATASET: f'{nid}[("{label}")]:::dataset',
            Kind.HYPERPARAMETERS: f'{nid}{{{{"{label}"}}}}:::params',
        }[c.kind]
        node_lines.append(f"  {shape}")
        return nid

    for source, model in edges:
        target_id = node(model)
        source_id = node(source) if target_id is not None else None
        if target_id is None or source_id is None:
            dropped += 1
            continue
        edge_lines.append(f"  {source_id} --> {target_id}")
    lines = [
        "```mermaid\n",
        "flowchart LR\n",
        *(line + "\n" for line in node_lines),
        *(line + "\n" for line in edge_lines),
        "  classDef model fill:#dbeafe,stroke:#1d4ed8\n",
        "  classDef dataset fill:#dcfce7,stroke:#15803d\n",
        "  classDef params fill:#fef9c3,stroke:#a16207\n",
        "```\n",
    ]
    if dropped:
        lines.append(
            f"\n_Diagram limited to {MAX_DIAGRAM_NODES} nodes: {dropped} edges not drawn._\n"
        )
    return "".join(lines)


# --------------------------------------------------------------------------------------- render


def _chunks(view: BomView, findings: Sequence[Finding]) -> list[str]:
    comps = view.listed
    models = view.of_kind(Kind.MODEL)
    datasets = view.of_kind(Kind.DATASET)
    params = view.of_kind(Kind.HYPERPARAMETERS)
    libraries = view.of_kind(Kind.LIBRARY)
    warnings = [
        (c, w) for c in comps for w in c.props_named(Prop.WARNING) if c.kind is not Kind.LIBRARY
    ]
    spec = md_cell(view.document.get("specVersion", "?"))
    title = md_cell(view.application.name) if view.application is not None else ""
    chunks: list[str] = [
        f"## ML-BOM{': ' + title if title else ''}\n\n",
        f"CycloneDX {spec} · **{len(models)}** models · **{len(datasets)}** datasets · "
        f"**{len(params)}** hyperparameter sets · **{len(libraries)}** libraries · "
        f"**{len(warnings)}** warnings · **{len(findings)}** findings\n\n",
    ]
    diagram = lineage_diagram(view)
    if diagram:
        chunks.append("### Lineage\n\n")
        chunks.append(diagram + "\n")
    if models:
        chunks.append("### Models\n\n")
        rows = [
            [
                md_cell(_label(m)),
                md_cell(m.prop(Prop.FORMAT) or ""),
                md_cell(human_size(m.prop(Prop.SIZE))),
                _code((m.sha256 or "")[:12]),
                md_cell(_licences(m)),
                _code(m.prop(Prop.PATH) or ""),
            ]
            for m in models
        ]
        chunks.extend(
            _table(["Model", "Format", "Size", "SHA-256", "Licence", "Path"], rows, len(models))
        )
        chunks.append("\n")
    if datasets:
        chunks.append("### Datasets\n\n")
        rows = [
            [
                md_cell(_label(d)),
                md_cell(d.prop(Prop.FORMAT) or ""),
                md_cell(human_size(d.prop(Prop.SIZE))),
                md_cell(d.prop(Prop.ROWS) or ""),
                md_cell(d.prop(Prop.COLUMNS) or ""),
                _code((d.sha256 or "")[:12]),
                _code(d.prop(Prop.PATH) or ""),
            ]
            for d in datasets
        ]
        header = ["Dataset", "Format", "Size", "Rows", "Columns", "SHA-256", "Path"]
        chunks.extend(_table(header, rows, len(datasets)))
        chunks.append("\n")
    if params:
        chunks.append("### Hyperparameter sets\n\n")
        rows = []
        for p in params:
            values = p.hyperparameters
            shown = ", ".join(f"{k}={v}" for k, v in values[:PARAMS_SHOWN])
            if len(values) > PARAMS_SHOWN:
                shown += ", …"
            rows.append(
                [
                    md_cell(_label(p)),
                    str(len(values)),
                    md_cell(shown),
                    _code(p.prop(Prop.PATH) or ""),
                ]
            )
        chunks.extend(_table(["Set", "Values", "First values", "Path"], rows, len(params)))
        chunks.append("\n")
    if findings:
        chunks.append("### Findings\n\n")
        rows = [
            [md_cell(f.severity.value), md_cell(f.rule), md_cell(f.message), _code(f.path)]
            for f in findings
        ]
        chunks.extend(_table(["Severity", "Rule", "Message", "Path"], rows, len(findings)))
        chunks.append("\n")
    if warnings:
        chunks.append("### Warnings\n\n")
        rows = [
            [_code(c.prop(Prop.PATH) or "") or md_cell(_label(c)), md_cell(w)] for c, w in warnings
        ]
        chunks.extend(_table(["File", "Warning"], rows, len(warnings)))
        chunks.append("\n")
    return chunks


def render_summary(
    document: Mapping[str, Any],
    *,
    findings: Sequence[Finding] = (),
    max_bytes: int = SUMMARY_LIMIT_BYTES - SUMMARY_MARGIN_BYTES,
) -> str:
    """The markdown step summary of an SBOM document, at most `max_bytes` in UTF-8.

    Models, datasets, hyperparameter sets, counts, policy `findings` and warnings as tables, and
    the lineage as a Mermaid flowchart. What does not fit is left out at a row boundary (never
    inside the diagram) and a note says so.
    """
    chunks = _chunks(BomView.of(document), findings)
    note = SUMMARY_TRUNCATED_NOTE
    total = sum(len(c.encode("utf-8")) for c in chunks)
    if total <= max_bytes:
        return "".join(chunks)
    budget = max_bytes - len(note.encode("utf-8"))
    kept: list[str] = []
    used = 0
    for chunk in chunks:
        size = len(chunk.encode("utf-8"))
        if used + size > budget:
            break
        kept.append(chunk)
        used += size
    return "".join(kept).rstrip("\n") + "\n" + note if kept else note.lstrip("\n")


class StepSummary(Report[Mapping[str, Any]]):
    """The step summary of an SBOM document, with the policy's findings."""

    def __init__(
        self,
        *,
        findings: Sequence[Finding] = (),
        max_bytes: int = SUMMARY_LIMIT_BYTES - SUMMARY_MARGIN_BYTES,
    ):
        self.findings = findings
        self.max_bytes = max_bytes

    def format(self, result: Mapping[str, Any]) -> str:
        """`render_summary` of the document."""
        return render_summary(result, findings=self.findings, max_bytes=self.max_bytes)
