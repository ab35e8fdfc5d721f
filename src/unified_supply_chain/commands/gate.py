"""`usc gate METRICS --threshold "accuracy>=0.9, loss<=0.3"`: pass or fail a model on its metrics.

Thresholds are `NAME OP NUMBER` with OP one of `>=`, `<=`, `>`, `<`, `==`, separated by commas or
new lines. NAME is a metric as `usc` reads it from the file (`inventory/metrics.py`): a top-level
metric by its name (`accuracy`), a metric of a data slice as `SLICE/NAME` (`test/loss`,
`species=setosa/accuracy`). A metric named in a threshold but missing from the file fails.

With `--baseline BASE --max-regression accuracy=0.01` a metric may also not move in the wrong
direction by more than the given amount from the baseline (absolute, or relative with `%`:
`accuracy=1%`). The right direction is taken from a threshold on the same metric (`>`/`>=`:
higher is better; `<`/`<=`: lower is better), else from the name (loss, error, mse, mae, rmse,
perplexity, latency, wer, cer: lower is better; anything else: higher is better).

Exit codes: 0 every check passed, 1 a check failed, 2 a bad threshold, 3 an unreadable file.
"""

from __future__ import annotations

import argparse
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from unified_supply_chain import console
from unified_supply_chain.errors import FormatError, UsageError, UscError

#: Comparison operators, longest first so `>=` is never read as `>`.
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    ">": operator.gt,
    "<": operator.lt,
}
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_THRESHOLD = re.compile(rf"^(?P<name>[^<>]+?)\s*(?P<op>>=|<=|==|>|<)\s*(?P<value>{_NUMBER})$")
#: A metric key: no `<`/`>`, and no `=` at either end (so `accuracy=>0.9` is an error, not a
#: threshold on a metric called `accuracy=`).
_NAME = re.compile(r"^[^\s<>=](?:[^<>]*[^\s<>=])?$")
_REGRESSION = re.compile(rf"^(?P<name>[^<>]+)=\s*(?P<value>{_NUMBER})(?P<pct>%?)$")
#: Name fragments of metrics where lower is better (used when no threshold says otherwise).
LOWER_IS_BETTER = (
    "loss",
    "error",
    "err",
    "mse",
    "mae",
    "rmse",
    "perplexity",
    "latency",
    "wer",
    "cer",
)


@dataclass(frozen=True)
class Threshold:
    """One `NAME OP VALUE` condition."""

    metric: str
    """Metric key (`name` or `slice/name`)."""
    op: str
    """One of OPERATORS."""
    value: float
    """Bound."""
    text: str
    """The bound as written (for messages)."""


@dataclass(frozen=True)
class MaxRegression:
    """How far a metric may move in the wrong direction from its baseline."""

    metric: str
    """Metric key."""
    amount: float
    """Allowed movement: absolute, or a fraction of the baseline when `relative`."""
    relative: bool
    """True when given as a percentage."""
    text: str
    """The allowance as written."""


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one threshold or regression check."""

    metric: str
    """Metric key."""
    kind: str
    """"threshold" or "regression"."""
    passed: bool
    """True when the check holds."""
    value: str | None
    """The metric's value as read; None when the file lacks it."""
    expected: str
    """The condition, e.g. `>= 0.9` or `>= 0.94 (baseline 0.95 - 0.01)`."""
    message: str
    """One line for people."""


def _split(items: Sequence[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        for line in item.splitlines():
            out.extend(part.strip() for part in line.split(",") if part.strip())
    return out


def _finite(text: str, where: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise UsageError(f"{where}: {text!r} is not a finite number")
    return value


def parse_thresholds(items: Sequence[str]) -> tuple[Threshold, ...]:
    """Thresholds from `--threshold` values (each holding one or more, comma/line separated)."""
    out = []
    for part in _split(items):
        match = _THRESHOLD.match(part)
        if not match or not _NAME.match(match["name"].strip()):
            raise UsageError(
                f"threshold {part!r} is not NAME OP NUMBER "
                f"(OP one of {', '.join(OPERATORS)}; e.g. accuracy>=0.9)"
            )
        value = _finite(match["value"], f"threshold {part!r}")
        out.append(Threshold(match["name"].strip(), match["op"], value, match["value"]))
    return tuple(out)


def parse_max_regressions(items: Sequence[str]) -> tuple[MaxRegression, ...]:
    """Allowances from `--max-regression` values (`NAME=AMOUNT` or `NAME=PCT%`)."""
    out = []
    for part in _split(items):
        match = _REGRESSION.match(part)
        if not match or not _NAME.match(match["name"].strip()):
            raise UsageError(
                f"max regression {part!r} is not NAME=AMOUNT or NAME=PERCENT% "
                "(e.g. accuracy=0.01 or accuracy=1%)"
            )
        amount = _finite(match["value"], f"max regression {part!r}")
        if amount < 0:
            raise UsageError(f"max regression {part!r}: the amount must not be negative")
        relative = bool(match["pct"])
        out.append(
            MaxRegression(
                match["name"].strip(),
                amount / 100 if relative else amount,
                relative,
                match["value"] + match["pct"],
            )
        )
    return tuple(out)


def metric_values(path: Path, label: str) -> dict[str, str]:
    """Metric key -> value text from a metrics file (UscError when unreadable)."""
    from unified_supply_chain.sources.lineage.metrics import read_metrics_file

    if not path.is_file():
        raise UscError(f"metrics file {label} does not exist")
    try:
        metrics = read_metrics_file(path, label)
    except FormatError as exc:
        raise UscError(f"metrics file {label}: {exc}") from exc
    except OSError as exc:
        raise UscError(f"metrics file {label}: {exc.strerror or exc}") from exc
    return {(f"{m.slice}/{m.type}" if m.slice else m.type): m.value for m in metrics}


def higher_is_better(metric: str, thresholds: Sequence[Threshold]) -> bool:
    """Direction of improvement: from a threshold on `metric`, else from its name."""
    for t in thresholds:
        if t.metric == metric and t.op != "==":
            return t.op in (">", ">=")
    leaf = re.split(r"[/.]", metric.lower())[-1]
    words = re.split(r"[^a-z0-9]+", leaf)
    return not any(w in LOWER_IS_BETTER for w in words)


def check_thresholds(
    values: Mapping[str, str], thresholds: Sequence[Threshold]
) -> list[CheckResult]:
    """One result per threshold."""
    out = []
    for t in thresholds:
        expected = f"{t.op} {t.text}"
        raw = values.get(t.metric)
        if raw is None:
            out.append(
                CheckResult(
                    t.metric,
                    "threshold",
                    False,
                    None,
                    expected,
                    f"{t.metric} is missing from the metrics file (threshold {expected})",
                )
            )
            continue
        passed = OPERATORS[t.op](float(raw), t.value)
        verdict = "meets" if passed else "fails"
        out.append(
            CheckResult(
                t.metric,
                "threshold",
                passed,
                raw,
                expected,
                f"{t.metric} = {raw} {verdict} the threshold {t.metric} {expected}",
            )
        )
    return out


def check_regressions(
    values: Mapping[str, str],
    baseline: Mapping[str, str],
    allowances: Sequence[MaxRegression],
    thresholds: Sequence[Threshold],
) -> list[CheckResult]:
    """One result per allowance; a metric absent from the baseline passes (nothing to regress)."""
    out = []
    for a in allowances:
        raw = values.get(a.metric)
        base_raw = baseline.get(a.metric)
        higher = higher_is_better(a.metric, thresholds)
        if raw is None:
            out.append(
                CheckResult(
                    a.metric,
                    "regression",
                    False,
                    None,
                    f"max regression {a.text}",
                    f"{a.metric} is missing from the metrics file (max regression {a.text})",
                )
            )
            continue
        if base_raw is None:
            out.append(
                CheckResult(
                    a.metric,
                    "regression",
                    True,
                    raw,
                    f"max regression {a.text}",
                    f"{a.metric} = {raw}: no baseline value, nothing to compare",
                )
            )
            continue
        base = float(base_raw)
        allowed = abs(base) * a.amount if a.relative else a.amount
        bound = base - allowed if higher else base + allowed
        value = float(raw)
        passed = value >= bound if higher else value <= bound
        sign = "-" if higher else "+"
        op = ">=" if higher else "<="
        expected = f"{op} {bound:.6g} (baseline {base_raw} {sign} {a.text})"
        direction = "higher" if higher else "lower"
        verdict = "within" if passed else "regressed beyond"
        out.append(
            CheckResult(
                a.metric,
                "regression",
                passed,
                raw,
                expected,
                f"{a.metric} = {raw} {verdict} the allowed regression: {expected}, "
                f"{direction} is better",
            )
        )
    return out


def evaluate_gate(
    metrics_path: Path,
    thresholds: Sequence[Threshold],
    *,
    baseline_path: Path | None = None,
    allowances: Sequence[MaxRegression] = (),
    metrics_label: str | None = None,
    baseline_label: str | None = None,
) -> list[CheckResult]:
    """Every check on the metrics file (and baseline). Raises UsageError / UscError."""
    if not thresholds and not allowances:
        raise UsageError("nothing to gate: give --threshold and/or --max-regression")
    if allowances and baseline_path is None:
        raise UsageError("--max-regression needs --baseline (the metrics to compare with)")
    values = metric_values(metrics_path, metrics_label or str(metrics_path))
    results = check_thresholds(values, thresholds)
    if allowances and baseline_path is not None:
        baseline = metric_values(baseline_path, baseline_label or str(baseline_path))
        results.extend(check_regressions(values, baseline, allowances, thresholds))
    return results


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Gate a metrics file: exit 0 when every threshold (and regression allowance) holds, "
        "1 when one fails, listing each failed metric with its value and condition."
    )
    parser.add_argument("metrics", type=Path, help="metrics file (JSON or YAML)")
    parser.add_argument(
        "--threshold",
        "-t",
        action="append",
        default=[],
        metavar="'NAME OP NUMBER, ...'",
        help="conditions such as 'accuracy>=0.9, loss<=0.3' (OP: >= <= > < ==; repeatable)",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="metrics file to compare with (e.g. the base branch's)",
    )
    parser.add_argument(
        "--max-regression",
        action="append",
        default=[],
        metavar="NAME=AMOUNT[%]",
        help="how far a metric may move in the wrong direction from the baseline "
        "(e.g. accuracy=0.01 or accuracy=1%%; repeatable, comma-separated)",
    )


def run(args: argparse.Namespace) -> int:
    from unified_supply_chain import actions_io
    from unified_supply_chain.report.gate_summary import GateSummary

    thresholds = parse_thresholds(args.threshold)
    allowances = parse_max_regressions(args.max_regression)
    label = str(args.metrics)
    results = evaluate_gate(
        args.metrics,
        thresholds,
        baseline_path=args.baseline,
        allowances=allowances,
        metrics_label=label,
        baseline_label=str(args.baseline) if args.baseline is not None else None,
    )
    failed = [r for r in results if not r.passed]
    for r in results:
        console.say(("PASS " if r.passed else "FAIL ") + r.message, "out")
    if failed:
        lines = "\n".join(f"  - {r.message}" for r in failed)
        actions_io.log(f"gate failed: {len(failed)} of {len(results)} checks\n{lines}")
        if actions_io.in_actions():
            for r in failed:
                actions_io.error(r.message, title="usc gate: metric below the bar", file=label)
    else:
        actions_io.log(f"gate passed: {len(results)} check(s)")
    actions_io.append_summary(GateSummary(label).format(results))
    actions_io.set_output("passed", "false" if failed else "true")
    actions_io.set_output("failed-count", str(len(failed)))
    return 1 if failed else 0
