"""`usc gate`'s step summary: one table row per threshold or regression check."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from unified_supply_chain.report.interface import Report
from unified_supply_chain.report.markdown import md_cell, md_code

if TYPE_CHECKING:
    from unified_supply_chain.commands.gate import CheckResult


def summary_markdown(metrics_label: str, results: Sequence[CheckResult]) -> str:
    """The step summary: one table row per check.

    Metric names and values come from the metrics file and are escaped; the condition is our
    own operator and numbers that parsed as floats, so it holds nothing to escape.
    """
    failed = sum(1 for r in results if not r.passed)
    head = "passed" if not failed else f"failed ({failed} of {len(results)} checks)"
    lines = [
        f"### Metrics gate on {md_code(metrics_label)}: {head}",
        "",
        "| Metric | Check | Value | Condition | Result |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        value = md_cell(r.value) if r.value is not None else "missing"
        mark = "pass" if r.passed else "**FAIL**"
        lines.append(f"| {md_code(r.metric)} | {r.kind} | {value} | {r.expected} | {mark} |")
    return "\n".join(lines) + "\n"


class GateSummary(Report[Sequence["CheckResult"]]):
    """The gate's results as the step summary's table."""

    def __init__(self, metrics_label: str):
        self.metrics_label = metrics_label

    def format(self, result: Sequence[CheckResult]) -> str:
        """`summary_markdown` of the results."""
        return summary_markdown(self.metrics_label, result)
