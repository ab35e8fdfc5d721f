"""Annotations as workflow commands (`::error file=...::message`), for runs without a check run.

The escaping of a workflow command (percent-encoding of `%`, CR, LF and, in properties, `:` and
`,`) is not Markdown: it stays in the one place it lives, `actions_io.format_command`.
"""

from __future__ import annotations

from collections.abc import Sequence

from unified_supply_chain.actions_io import format_command
from unified_supply_chain.report.check_run import Annotation, AnnotationLevel
from unified_supply_chain.report.interface import Report

#: The workflow command of each annotation level.
COMMAND = {
    AnnotationLevel.FAILURE: "error",
    AnnotationLevel.WARNING: "warning",
    AnnotationLevel.NOTICE: "notice",
}


def workflow_command(annotation: Annotation) -> str:
    """One annotation as one workflow command line (no newline)."""
    return format_command(
        COMMAND[annotation.level],
        annotation.message,
        {"title": annotation.title, "file": annotation.path, "line": annotation.start_line},
    )


class WorkflowAnnotations(Report[Sequence[Annotation]]):
    """At most `limit` annotations as workflow command lines, one per line."""

    def __init__(self, limit: int | None = None):
        self.limit = limit

    def format(self, result: Sequence[Annotation]) -> str:
        """The lines, each ending in a newline ("" when there are none)."""
        shown = result if self.limit is None else result[: self.limit]
        return "".join(workflow_command(a) + "\n" for a in shown)
