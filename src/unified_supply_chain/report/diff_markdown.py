"""The SBOM diff as Markdown tables for reviewers (check runs, PR comments, `usc diff`).

Every text from the documents goes through `report/markdown.py`. Renderings that must fit
GitHub's check-run limit are cut at a line with a note saying how much was left out.
"""

from __future__ import annotations

from unified_supply_chain.compare.categories import Category
from unified_supply_chain.compare.diff import ComponentChange, FieldChange, SbomDiff, number
from unified_supply_chain.report.interface import Report
from unified_supply_chain.report.markdown import md_cell, md_code

#: GitHub's limit on a check run's `output.summary` (and text) in characters.
CHECK_SUMMARY_LIMIT = 65535
#: Shown when a rendering was cut to fit.
TRUNCATION_NOTE = (
    "\n\n> **Note:** this report was truncated to fit GitHub's {limit}-character limit; "
    "{hidden} more characters are in the full report (`usc diff --format json`).\n"
)


def _short(value: str | None, field_name: str = "") -> str:
    if value is None:
        return "—"
    if field_name == "hash" and ":" in value:
        alg, digest = value.split(":", 1)
        return f"{alg}:{digest[:12]}…" if len(digest) > 12 else value
    return value


def _cell(text: str, limit: int = 200) -> str:
    return md_cell(text, limit)


def _code(text: str | None) -> str:
    return md_code(text, empty="—", limit=200)


def _size(text: str | None) -> str:
    n = number(text)
    if text is None or n is None:
        return _short(text)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return text


def _field_text(change: FieldChange) -> str:
    if change.field == "size":
        return f"size {_size(change.old)} → {_size(change.new)}"
    return f"{change.field} {_short(change.old, change.field)} → {_short(change.new, change.field)}"


def _delta_text(delta: float | None) -> str:
    if delta is None:
        return "—"
    arrow = "▲" if delta > 0 else "▼"
    return f"{arrow} {delta:+.4g}"


def change_message(change: ComponentChange) -> str:
    """One line describing what changed in a component."""
    parts = [_field_text(f) for f in change.fields]
    if change.params:
        parts.append(f"{len(change.params)} hyperparameter(s) changed")
    if change.metrics:
        parts.append(
            "metrics: "
            + ", ".join(
                f"{m.type}{f' [{m.slice}]' if m.slice else ''} {_short(m.old)} → {_short(m.new)}"
                for m in change.metrics
            )
        )
    return "; ".join(parts) or "changed"


def render_markdown(
    diff: SbomDiff, max_chars: int = CHECK_SUMMARY_LIMIT, *, title: str | None = None
) -> str:
    """Markdown tables for reviewers; cut with a note when longer than `max_chars`."""
    lines: list[str] = []
    if title:
        lines += [f"## {title}", ""]
    if not diff.has_changes:
        lines.append("No changes to models, datasets, hyperparameters or libraries.")
        return _fit("\n".join(lines) + "\n", max_chars)
    lines += ["| | added | removed | changed | unchanged |", "|---|---:|---:|---:|---:|"]
    for cat in Category:
        cd = diff.category(cat)
        lines.append(
            f"| {cat.value.capitalize()} | {len(cd.added)} | {len(cd.removed)} | "
            f"{len(cd.changed)} | {cd.unchanged} |"
        )
    lines.append("")
    for cat in Category:
        cd = diff.category(cat)
        if not cd.has_changes:
            continue
        lines += [f"### {cat.value.capitalize()}", ""]
        lines += ["| | name | path / purl | details |", "|---|---|---|---|"]
        for c in cd.added:
            lines.append(f"| ➕ added | {_cell(c.label)} | {_code(c.path or c.purl)} | |")
        for c in cd.removed:
            lines.append(f"| ➖ removed | {_cell(c.label)} | {_code(c.path or c.purl)} | |")
        for ch in cd.changed:
            c = ch.head
            lines.append(
                f"| ✏️ changed | {_cell(c.label)} | {_code(c.path or c.purl)} | "
                f"{_cell(change_message(ch), 400)} |"
            )
        lines.append("")
        for ch in cd.changed:
            if ch.params:
                lines += [
                    "<details open><summary>Hyperparameters of "
                    f"<code>{_cell(ch.head.path or ch.head.name)}</code></summary>",
                    "",
                    "| key | old | new |",
                    "|---|---|---|",
                ]
                for p in ch.params:
                    lines.append(f"| {_code(p.key)} | {_code(p.old)} | {_code(p.new)} |")
                lines += ["", "</details>", ""]
            if ch.metrics:
                lines += [
                    f"**Metrics of {_cell(ch.head.label)}**",
                    "",
                    "| metric | slice | old | new | Δ |",
                    "|---|---|---:|---:|---:|",
                ]
                for m in ch.metrics:
                    lines.append(
                        f"| {_cell(m.type)} | {_cell(m.slice or '—')} | {_cell(_short(m.old))} | "
                        f"{_cell(_short(m.new))} | {_delta_text(m.delta)} |"
                    )
                lines.append("")
    if diff.base_tools != diff.head_tools and (diff.base_tools or diff.head_tools):
        lines.append(
            f"_Base made by {_cell(', '.join(diff.base_tools) or 'an unknown tool')}; head made by "
            f"{_cell(', '.join(diff.head_tools) or 'an unknown tool')}: only facts both state "
            "are compared._"
        )
    return _fit("\n".join(lines).rstrip("\n") + "\n", max_chars)


class DiffMarkdown(Report[SbomDiff]):
    """The diff as Markdown, optionally under a title and within a character limit."""

    def __init__(self, *, max_chars: int = CHECK_SUMMARY_LIMIT, title: str | None = None):
        self.max_chars = max_chars
        self.title = title

    def format(self, result: SbomDiff) -> str:
        """`render_markdown` with this report's limit and title."""
        return render_markdown(result, self.max_chars, title=self.title)


def _fit(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    note = TRUNCATION_NOTE.format(limit=max_chars, hidden=len(text))
    # Two passes: the hidden count depends on where the cut falls.
    for _ in range(2):
        budget = max(0, max_chars - len(note))
        head = text[:budget]
        cut = head.rfind("\n")
        if cut > budget // 2:
            head = head[:cut]
        note = TRUNCATION_NOTE.format(limit=max_chars, hidden=len(text) - len(head))
    out = head + note
    return out if len(out) <= max_chars else out[:max_chars]


def changed_paths(diff: SbomDiff) -> list[tuple[str, str]]:
    """(repo path, message) for added and changed components that have a path in the head.

    Libraries are pointed at the manifest they were read from (usc:source). Removed components
    have no file left to point at and are reported in the summary only.
    """
    out: list[tuple[str, str]] = []
    for cat in Category:
        cd = diff.category(cat)
        for c in cd.added:
            path = c.path or (c.source if cat is Category.LIBRARY else None)
            if path:
                out.append((path, f"{cat.singular.capitalize()} added: {c.label}"))
        for ch in cd.changed:
            c = ch.head
            path = c.path or (c.source if cat is Category.LIBRARY else None)
            if path:
                out.append(
                    (path, f"{cat.singular.capitalize()} changed: {c.label}: {change_message(ch)}")
                )
    return out
