"""The step summary: markdown tables and a Mermaid lineage diagram, from the SBOM JSON alone.

Working from the final document (not the inventory) means the summary shows exactly what was
written, and that it can be rendered again later from any SBOM file we produced.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from unified_supply_chain.actions_io import (
    SUMMARY_LIMIT_BYTES,
    SUMMARY_TRUNCATED_NOTE,
)
from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.records import Finding

#: Room left under GitHub's 1 MiB for what other steps of the job write to the same summary.
SUMMARY_MARGIN_BYTES = 16 * 1024
#: Nodes drawn in the lineage diagram at most (Mermaid becomes unreadable, then slow, beyond).
MAX_DIAGRAM_NODES = 100
#: Rows shown per table.
MAX_TABLE_ROWS = 500
#: Hyperparameter values shown per set in the table.
PARAMS_SHOWN = 4

_KINDS = ("model", "dataset", "hyperparameters", "library")


@dataclass(frozen=True)
class _Component:
    """One component of the document, as the summary needs it."""

    ref: str
    """bom-ref ("" when absent)."""
    kind: str
    """model, dataset, hyperparameters, library or other."""
    raw: Mapping[str, Any]
    """The component's JSON object."""
    props: Mapping[str, list[str]]
    """Property values by name (a name may repeat, e.g. usc:warning)."""

    def prop(self, name: Prop | str) -> str | None:
        """The first value of property `name`, if any."""
        key = name.value if isinstance(name, Prop) else name
        values = self.props.get(key)
        return values[0] if values else None

    @property
    def name(self) -> str:
        """Component name."""
        return str(self.raw.get("name") or self.ref or "?")


def _properties(obj: Mapping[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for prop in obj.get("properties") or []:
        if isinstance(prop, Mapping) and isinstance(prop.get("name"), str):
            out.setdefault(prop["name"], []).append(str(prop.get("value", "")))
    return out


def _kind(component: Mapping[str, Any], props: Mapping[str, list[str]]) -> str:
    declared = props.get(Prop.KIND.value)
    if declared and declared[0] in _KINDS:
        return declared[0]
    ctype = component.get("type")
    if ctype == "machine-learning-model":
        return "model"
    if ctype == "data":
        data = component.get("data") or []
        first = data[0] if data and isinstance(data[0], Mapping) else {}
        return "hyperparameters" if first.get("type") == "configuration" else "dataset"
    if ctype in ("library", "framework"):
        return "library"
    return "other"


def _walk(components: Iterable[Any]) -> Iterable[_Component]:
    for component in components:
        if not isinstance(component, Mapping):
            continue
        props = _properties(component)
        yield _Component(
            str(component.get("bom-ref") or ""), _kind(component, props), component, props
        )
        # Nested components of a multi-file model are its files: not listed on their own.
        if component.get("type") != "machine-learning-model":
            yield from _walk(component.get("components") or [])


def count_kinds(document: Mapping[str, Any]) -> dict[str, int]:
    """Components of the document by kind: model, dataset, hyperparameters, library, other."""
    counts = dict.fromkeys((*_KINDS, "other"), 0)
    for component in _walk(document.get("components") or []):
        counts[component.kind] += 1
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


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")


def md_cell(value: object) -> str:
    """Text made safe for a markdown table cell: one line, HTML and markdown syntax escaped."""
    text = " ".join(str(value).split())
    text = html.escape(text, quote=False)
    return _MD_SPECIAL.sub(r"\\\1", text)


def mermaid_label(value: object, max_len: int = 60) -> str:
    """Text made safe inside a quoted Mermaid label (entity codes for quotes, brackets, ticks)."""
    text = " ".join(str(value).split())
    if len(text) > max_len:
        text = text[: max_len - 1] + "…"
    # Mermaid's decimal entity codes; `#` itself is escaped so no text forms an entity.
    replacements = {"&": "#38;", '"': "#34;", "<": "#60;", ">": "#62;", "`": "#96;", "#": "#35;"}
    return "".join(replacements.get(char, char) for char in text)


def _short_sha256(component: _Component) -> str:
    for digest in component.raw.get("hashes") or []:
        if isinstance(digest, Mapping) and digest.get("alg") == "SHA-256":
            return str(digest.get("content", ""))[:12]
    return ""


def _licences(component: _Component) -> str:
    names: list[str] = []
    for entry in component.raw.get("licenses") or []:
        if not isinstance(entry, Mapping):
            continue
        if "expression" in entry:
            names.append(str(entry["expression"]))
            continue
        lic = entry.get("license")
        if isinstance(lic, Mapping):
            names.append(str(lic.get("id") or lic.get("name") or ""))
    return ", ".join(n for n in names if n)


def _hyperparameters(component: _Component) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for data in component.raw.get("data") or []:
        if not isinstance(data, Mapping):
            continue
        contents = data.get("contents")
        if isinstance(contents, Mapping):
            for prop in contents.get("properties") or []:
                if isinstance(prop, Mapping):
                    pairs.append((str(prop.get("name", "")), str(prop.get("value", ""))))
    return pairs


def _code(value: str) -> str:
    """A path or digest shown as code, unless it holds a backtick (then escaped plain text)."""
    if not value:
        return ""
    if "`" in value or "|" in value:
        return md_cell(value)
    return f"`{html.escape(' '.join(value.split()), quote=False)}`"


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


def _dependency_map(document: Mapping[str, Any]) -> dict[str, list[str]]:
    deps: dict[str, list[str]] = {}
    for dep in document.get("dependencies") or []:
        if isinstance(dep, Mapping) and isinstance(dep.get("ref"), str):
            deps.setdefault(dep["ref"], []).extend(
                str(d) for d in dep.get("dependsOn") or [] if isinstance(d, str)
            )
    return deps


def lineage_diagram(
    document: Mapping[str, Any], components: Sequence[_Component] | None = None
) -> str:
    """A Mermaid flowchart: datasets and hyperparameter sets pointing at the models they made.

    Empty string when no model has lineage. Node ids are generated (n0, n1, ...), so nothing
    from the document ever lands in Mermaid syntax outside an escaped, quoted label.
    """
    comps = list(components if components is not None else _walk(document.get("components") or []))
    by_ref = {c.ref: c for c in comps if c.ref}
    deps = _dependency_map(document)
    edges: list[tuple[_Component, _Component]] = []
    for model in comps:
        if model.kind != "model" or not model.ref:
            continue
        for ref in deps.get(model.ref, []):
            source = by_ref.get(ref)
            if source is not None and source.kind in ("dataset", "hyperparameters", "model"):
                edges.append((source, model))
    if not edges:
        return ""
    ids: dict[str, str] = {}
    node_lines: list[str] = []
    edge_lines: list[str] = []
    dropped = 0

    def node(c: _Component) -> str | None:
        if c.ref in ids:
            return ids[c.ref]
        if len(ids) >= MAX_DIAGRAM_NODES:
            return None
        nid = f"n{len(ids)}"
        ids[c.ref] = nid
        label = mermaid_label(c.name)
        shape = {
            "model": f'{nid}["{label}"]:::model',
            "dataset": f'{nid}[("{label}")]:::dataset',
            "hyperparameters": f'{nid}{{{{"{label}"}}}}:::params',
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


def _chunks(document: Mapping[str, Any], findings: Sequence[Finding]) -> list[str]:
    comps = list(_walk(document.get("components") or []))
    by_kind: dict[str, list[_Component]] = {k: [] for k in (*_KINDS, "other")}
    for c in comps:
        by_kind[c.kind].append(c)
    models = by_kind["model"]
    datasets = by_kind["dataset"]
    params = by_kind["hyperparameters"]
    warnings = [
        (c, w) for c in comps for w in c.props.get(Prop.WARNING.value, []) if c.kind != "library"
    ]
    spec = md_cell(document.get("specVersion", "?"))
    app = (document.get("metadata") or {}).get("component") or {}
    title = md_cell(app.get("name", "")) if isinstance(app, Mapping) else ""
    chunks: list[str] = [
        f"## ML-BOM{': ' + title if title else ''}\n\n",
        f"CycloneDX {spec} · **{len(models)}** models · **{len(datasets)}** datasets · "
        f"**{len(params)}** hyperparameter sets · **{len(by_kind['library'])}** libraries · "
        f"**{len(warnings)}** warnings · **{len(findings)}** findings\n\n",
    ]
    diagram = lineage_diagram(document, comps)
    if diagram:
        chunks.append("### Lineage\n\n")
        chunks.append(diagram + "\n")
    if models:
        chunks.append("### Models\n\n")
        rows = [
            [
                md_cell(m.name),
                md_cell(m.prop(Prop.FORMAT) or ""),
                md_cell(human_size(m.prop(Prop.SIZE))),
                _code(_short_sha256(m)),
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
                md_cell(d.name),
                md_cell(d.prop(Prop.FORMAT) or ""),
                md_cell(human_size(d.prop(Prop.SIZE))),
                md_cell(d.prop(Prop.ROWS) or ""),
                md_cell(d.prop(Prop.COLUMNS) or ""),
                _code(_short_sha256(d)),
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
            values = _hyperparameters(p)
            shown = ", ".join(f"{k}={v}" for k, v in values[:PARAMS_SHOWN])
            if len(values) > PARAMS_SHOWN:
                shown += ", …"
            rows.append(
                [md_cell(p.name), str(len(values)), md_cell(shown), _code(p.prop(Prop.PATH) or "")]
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
            [_code(c.prop(Prop.PATH) or "") or md_cell(c.name), md_cell(w)] for c, w in warnings
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
    chunks = _chunks(document, findings)
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
