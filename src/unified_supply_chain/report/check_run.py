"""The check run's output (title, summary, annotations) as GitHub's Checks API takes it.

`usc check` builds a `CheckRunOutput` from the SBOM diff and the policy's verdict;
`github/checks.py` sends it (in batches of annotations) and knows nothing about its content.
The schema of the `output` object is GitHub's "Update a check run" request body.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

from unified_supply_chain.compare.categories import Category
from unified_supply_chain.compare.diff import SbomDiff
from unified_supply_chain.records import Finding, Severity, reaches
from unified_supply_chain.report.diff_markdown import (
    CHECK_SUMMARY_LIMIT,
    changed_paths,
    render_markdown,
)
from unified_supply_chain.report.interface import Report
from unified_supply_chain.report.markdown import md_cell, md_code

#: GitHub's limits on output fields, in characters.
MAX_SUMMARY_CHARS = CHECK_SUMMARY_LIMIT
MAX_TITLE_CHARS = 255
MAX_MESSAGE_CHARS = 65535
#: Findings listed in the summary table at most.
MAX_FINDINGS_ROWS = 200
#: Cells of the findings table are cut at this many characters.
_CELL_LIMIT = 300
_ICON = {"success": "✅", "neutral": "⚪", "failure": "❌"}


class AnnotationLevel(str, enum.Enum):
    """Level of a check-run annotation."""

    NOTICE = "notice"
    WARNING = "warning"
    FAILURE = "failure"


@dataclass(frozen=True)
class Annotation:
    """One annotation on a file of the pull request."""

    path: str
    """Repo-relative path."""
    message: str
    """What to say about it."""
    level: AnnotationLevel = AnnotationLevel.NOTICE
    """notice, warning or failure."""
    title: str | None = None
    """Short title shown above the message."""
    start_line: int = 1
    """First line (1 for whole-file remarks: model and data files have no useful lines)."""
    end_line: int = 1
    """Last line."""

    def to_api(self) -> dict[str, Any]:
        """The REST API shape, within GitHub's field limits."""
        body: dict[str, Any] = {
            "path": self.path,
            "start_line": max(1, self.start_line),
            "end_line": max(1, self.end_line, self.start_line),
            "annotation_level": self.level.value,
            "message": self.message[:MAX_MESSAGE_CHARS] or "(no message)",
        }
        if self.title:
            body["title"] = self.title[:MAX_TITLE_CHARS]
        return body


@dataclass(frozen=True)
class Evaluation:
    """Findings and the threshold they are judged against."""

    findings: tuple[Finding, ...]
    """Policy and safety findings about the head SBOM."""
    fail_on: Severity | None
    """Lowest severity that fails the check; None = never fail."""
    source: str
    """Where the findings came from, for the summary."""


def conclusion_of(evaluation: Evaluation) -> str:
    """failure / neutral / success from the findings and the threshold."""
    fail_on = evaluation.fail_on
    if any(reaches(f, fail_on) for f in evaluation.findings):
        return "failure"
    return "neutral" if evaluation.findings else "success"


@dataclass(frozen=True)
class CheckRunResult:
    """What a check run reports on: the diff and the policy's verdict."""

    diff: SbomDiff
    """The SBOM diff of the pull request."""
    evaluation: Evaluation
    """Findings and threshold."""
    conclusion: str
    """success, neutral or failure (`conclusion_of`)."""
    name: str
    """The check run's name."""
    details: str | None = None
    """Link to the workflow run, when known."""


@dataclass(frozen=True)
class CheckRunOutput:
    """The check run's `output` object."""

    title: str
    """One line: what changed, how many findings."""
    summary: str
    """Markdown, within GitHub's summary limit."""
    annotations: tuple[Annotation, ...]
    """Findings first (most severe first), then one notice per added or changed file."""
    text: str | None = None
    """Markdown below the summary (unused: everything fits the summary)."""

    def to_api(self) -> dict[str, Any]:
        """The `output` object of a check-run update (every annotation, unbatched)."""
        out: dict[str, Any] = {
            "title": self.title[:MAX_TITLE_CHARS] or "unified-supply-chain",
            "summary": self.summary[:MAX_SUMMARY_CHARS] or "(no summary)",
        }
        if self.text:
            out["text"] = self.text[:MAX_SUMMARY_CHARS]
        if self.annotations:
            out["annotations"] = [a.to_api() for a in self.annotations]
        return out


def build_report(
    diff: SbomDiff, evaluation: Evaluation, conclusion: str, *, name: str, details: str | None
) -> tuple[str, str]:
    """(title, summary markdown) of the check, under GitHub's summary limit."""
    fail_on = evaluation.fail_on
    blocking = [f for f in evaluation.findings if reaches(f, fail_on)]
    counts = []
    for cat in Category:
        cd = diff.category(cat)
        n = len(cd.added) + len(cd.removed) + len(cd.changed)
        if n:
            counts.append(f"{n} {cat.value}")
    title_parts = [("changes: " + ", ".join(counts)) if counts else "no ML supply chain changes"]
    if evaluation.findings:
        title_parts.append(f"{len(evaluation.findings)} finding(s), {len(blocking)} blocking")
    title = "; ".join(title_parts)
    head = [
        f"## {_ICON[conclusion]} {md_cell(name, _CELL_LIMIT)}: {conclusion}",
        "",
        f"Fail-on: **{fail_on.value if fail_on else 'never'}** · findings from {evaluation.source}"
        + (f" · [workflow run]({details})" if details else ""),
        "",
    ]
    if evaluation.findings:
        head += [
            "### Policy findings",
            "",
            "| | severity | rule | path | message |",
            "|---|---|---|---|---|",
        ]
        for f in evaluation.findings[:MAX_FINDINGS_ROWS]:
            mark = "🚫" if f in blocking else ""
            head.append(
                f"| {mark} | {f.severity.value} | {md_cell(f.rule, _CELL_LIMIT)} | "
                f"{md_code(f.path, limit=_CELL_LIMIT)} | {md_cell(f.message, _CELL_LIMIT)} |"
            )
        hidden = len(evaluation.findings) - MAX_FINDINGS_ROWS
        if hidden > 0:
            head.append(f"\n_{hidden} more findings are not listed here._")
        head.append("")
    top = "\n".join(head) + "\n"
    budget = CHECK_SUMMARY_LIMIT - len(top)
    body = render_markdown(diff, max_chars=max(budget, 200), title="ML supply chain changes")
    summary = (top + body)[:CHECK_SUMMARY_LIMIT]
    return title, summary


def build_annotations(diff: SbomDiff, evaluation: Evaluation) -> list[Annotation]:
    """Findings first (most severe first), then one notice per added or changed file."""
    fail_on = evaluation.fail_on
    out: list[Annotation] = []
    for f in evaluation.findings:
        path = f.path.split("!", 1)[0]
        if not path:
            continue
        if reaches(f, fail_on):
            level = AnnotationLevel.FAILURE
        elif f.severity.rank >= Severity.MEDIUM.rank:
            level = AnnotationLevel.WARNING
        else:
            level = AnnotationLevel.NOTICE
        message = f.message + (("\n" + "\n".join(f.details)) if f.details else "")
        out.append(Annotation(path, message, level, title=f"{f.rule} ({f.severity.value})"))
    for path, message in changed_paths(diff):
        out.append(Annotation(path, message, AnnotationLevel.NOTICE, title="ML supply chain"))
    return out


def build_check_run(result: CheckRunResult) -> CheckRunOutput:
    """The check run's output for a diff and a verdict."""
    title, summary = build_report(
        result.diff,
        result.evaluation,
        result.conclusion,
        name=result.name,
        details=result.details,
    )
    return CheckRunOutput(title, summary, tuple(build_annotations(result.diff, result.evaluation)))


class CheckRunPayload(Report[CheckRunResult]):
    """The check run's `output` object as JSON (what the last update would send unbatched)."""

    def format(self, result: CheckRunResult) -> str:
        """`build_check_run(result).to_api()` as JSON text."""
        return json.dumps(build_check_run(result).to_api(), ensure_ascii=False) + "\n"
