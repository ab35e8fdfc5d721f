"""`usc gate`: threshold parsing, checks, regressions, messages, annotations and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from unified_supply_chain import cli
from unified_supply_chain.commands import gate
from unified_supply_chain.errors import UsageError, UscError

METRICS = {
    "accuracy": 0.95,
    "loss": 0.2,
    "samples": 150,
    "slices": {"species=setosa": {"accuracy": 1.0}},
    "test": {"f1": 0.9},
}


def write(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def no_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(var, raising=False)


# ------------------------------------------------------------------------------------ parsing


def test_parse_thresholds_all_operators_commas_and_lines() -> None:
    got = gate.parse_thresholds(["accuracy>=0.9, loss<=0.3\nf1>0.5", "a<1e-3,b == -2"])
    assert [(t.metric, t.op, t.value) for t in got] == [
        ("accuracy", ">=", 0.9),
        ("loss", "<=", 0.3),
        ("f1", ">", 0.5),
        ("a", "<", 0.001),
        ("b", "==", -2.0),
    ]


def test_parse_thresholds_slice_names_with_equals() -> None:
    (t,) = gate.parse_thresholds(["species=setosa/accuracy>=1"])
    assert (t.metric, t.op, t.text) == ("species=setosa/accuracy", ">=", "1")


@pytest.mark.parametrize(
    "bad",
    [
        "accuracy",
        "accuracy>=",
        ">=0.9",
        "accuracy=>0.9",
        "accuracy => 0.9",
        "accuracy=0.9",
        "accuracy>=0.9x",
        "accuracy>=nan",
        "accuracy>=inf",
        "accuracy!=0.9",
        "accuracy>>0.9",
        "=a>1",
        "accuracy>=1e999",
    ],
)
def test_parse_thresholds_rejects_bad_syntax(bad: str) -> None:
    with pytest.raises(UsageError, match="threshold"):
        gate.parse_thresholds([bad])


def test_parse_max_regressions_absolute_and_percent() -> None:
    got = gate.parse_max_regressions(["accuracy=0.01, loss = 5%", "species=setosa/accuracy=0"])
    assert [(a.metric, a.amount, a.relative) for a in got] == [
        ("accuracy", 0.01, False),
        ("loss", 0.05, True),
        ("species=setosa/accuracy", 0.0, False),
    ]


@pytest.mark.parametrize("bad", ["accuracy", "accuracy=-0.1", "=0.1", "accuracy=x", "a=1%%"])
def test_parse_max_regressions_rejects_bad_syntax(bad: str) -> None:
    with pytest.raises(UsageError, match="max regression"):
        gate.parse_max_regressions([bad])


# ------------------------------------------------------------------------------------- checks


def test_thresholds_pass_fail_and_missing(tmp_path: Path) -> None:
    path = write(tmp_path, "metrics.json", METRICS)
    results = gate.evaluate_gate(
        path,
        gate.parse_thresholds(
            ["accuracy>=0.9, loss<=0.1, species=setosa/accuracy==1, test/f1>0.95, recall>0.5"]
        ),
    )
    assert [(r.metric, r.passed, r.value) for r in results] == [
        ("accuracy", True, "0.95"),
        ("loss", False, "0.2"),
        ("species=setosa/accuracy", True, "1.0"),
        ("test/f1", False, "0.9"),
        ("recall", False, None),
    ]
    assert results[1].message == "loss = 0.2 fails the threshold loss <= 0.1"
    assert "recall is missing from the metrics file" in results[4].message


def test_strict_operators_at_the_boundary(tmp_path: Path) -> None:
    path = write(tmp_path, "m.json", {"a": 0.9})
    results = gate.evaluate_gate(path, gate.parse_thresholds(["a>=0.9, a>0.9, a<=0.9, a<0.9"]))
    assert [r.passed for r in results] == [True, False, True, False]


def test_regression_direction_from_threshold_and_name(tmp_path: Path) -> None:
    current = write(tmp_path, "cur.json", {"accuracy": 0.93, "loss": 0.26, "score": 10})
    base = write(tmp_path, "base.json", {"accuracy": 0.95, "loss": 0.2, "score": 12})
    results = gate.evaluate_gate(
        current,
        (),
        baseline_path=base,
        allowances=gate.parse_max_regressions(["accuracy=0.03, loss=0.05, score=10%"]),
    )
    assert [(r.metric, r.passed) for r in results] == [
        ("accuracy", True),  # 0.93 >= 0.95 - 0.03
        ("loss", False),  # lower is better by name: 0.26 > 0.2 + 0.05
        ("score", False),  # 10 < 12 - 1.2
    ]
    assert "lower is better" in results[1].message
    assert "baseline 0.2 + 0.05" in results[1].expected
    # A threshold with `<=` makes a metric with a neutral name lower-is-better.
    assert gate.higher_is_better("score", gate.parse_thresholds(["score<=20"])) is False
    assert gate.higher_is_better("val/error_rate", ()) is False
    assert gate.higher_is_better("f1", ()) is True


def test_regression_without_baseline_value_passes_missing_current_fails(tmp_path: Path) -> None:
    current = write(tmp_path, "cur.json", {"new_metric": 1})
    base = write(tmp_path, "base.json", {"accuracy": 0.9})
    results = gate.evaluate_gate(
        current,
        (),
        baseline_path=base,
        allowances=gate.parse_max_regressions(["new_metric=0, accuracy=0"]),
    )
    assert [(r.metric, r.passed) for r in results] == [("new_metric", True), ("accuracy", False)]


def test_evaluate_needs_something_and_a_baseline(tmp_path: Path) -> None:
    path = write(tmp_path, "m.json", METRICS)
    with pytest.raises(UsageError, match="nothing to gate"):
        gate.evaluate_gate(path, ())
    with pytest.raises(UsageError, match="needs --baseline"):
        gate.evaluate_gate(path, (), allowances=gate.parse_max_regressions(["a=1"]))


def test_unreadable_metrics_are_runtime_errors(tmp_path: Path) -> None:
    with pytest.raises(UscError, match="does not exist"):
        gate.evaluate_gate(tmp_path / "nope.json", gate.parse_thresholds(["a>1"]))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(UscError, match=r"bad\.json"):
        gate.evaluate_gate(bad, gate.parse_thresholds(["a>1"]))


def test_yaml_metrics_are_read(tmp_path: Path) -> None:
    path = tmp_path / "metrics.yaml"
    path.write_text("accuracy: 0.91\n", encoding="utf-8")
    (r,) = gate.evaluate_gate(path, gate.parse_thresholds(["accuracy>=0.9"]))
    assert r.passed and r.value == "0.91"


# --------------------------------------------------------------------------------- CLI + runner


def test_cli_exit_codes_and_messages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "metrics.json", METRICS)
    assert cli.main(["gate", str(path), "--threshold", "accuracy>=0.9, loss<=0.3"]) == 0
    out = capsys.readouterr().out
    assert "PASS accuracy = 0.95 meets the threshold accuracy >= 0.9" in out

    assert cli.main(["gate", str(path), "-t", "accuracy>=0.999", "-t", "loss<=0.3"]) == 1
    captured = capsys.readouterr()
    assert "FAIL accuracy = 0.95 fails the threshold accuracy >= 0.999" in captured.out
    assert "gate failed: 1 of 2 checks" in captured.err
    assert "::error" not in captured.out  # not on a runner

    with pytest.raises(SystemExit) as exc:
        cli.main(["gate", str(path), "-t", "accuracy=>0.9"])
    assert exc.value.code == cli.EXIT_USAGE
    with pytest.raises(SystemExit) as exc:
        cli.main(["gate", str(tmp_path / "missing.json"), "-t", "accuracy>=0.9"])
    assert exc.value.code == cli.EXIT_ERROR


def test_runner_annotations_summary_and_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "metrics.json", METRICS)
    summary = tmp_path / "summary.md"
    outputs = tmp_path / "outputs"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    code = cli.main(["gate", str(path), "-t", "accuracy>=0.999, loss<=0.3, recall>0.1"])
    assert code == 1
    out = capsys.readouterr().out
    errors = [line for line in out.splitlines() if line.startswith("::error ")]
    assert len(errors) == 2
    # Messages are escaped: the `=` stays, `,` and `:` in properties are escaped.
    assert "accuracy = 0.95 fails the threshold accuracy >= 0.999" in errors[0]
    assert "title=usc gate%3A metric below the bar" in errors[0]
    assert "recall is missing" in errors[1]
    text = summary.read_text(encoding="utf-8")
    assert "failed (2 of 3 checks)" in text
    assert "| `accuracy` | threshold | 0.95 | >= 0.999 | **FAIL** |" in text
    assert "| `loss` | threshold | 0.2 | <= 0.3 | pass |" in text
    assert "| `recall` | threshold | missing | > 0.1 | **FAIL** |" in text
    written = outputs.read_text(encoding="utf-8")
    assert "passed<<" in written and "\nfalse\n" in written
    assert "failed-count<<" in written and "\n2\n" in written


def test_summary_escapes_pipes() -> None:
    from unified_supply_chain.report.gate_summary import summary_markdown

    result = gate.CheckResult("a|b", "threshold", True, "1|2", ">= 0", "ok")
    row = summary_markdown("m.json", [result]).splitlines()[-1]
    assert row == "| a\\|b | threshold | 1\\|2 | >= 0 | pass |"


def test_summary_metric_name_cannot_leave_its_code_span() -> None:
    # The old summary wrapped the name in backticks as it was: a backtick in the name closed
    # the code span and the rest (here an HTML tag) became markup.
    from unified_supply_chain.report.gate_summary import summary_markdown

    result = gate.CheckResult("x` <img src=x> `y", "threshold", True, "1", ">= 0", "ok")
    row = summary_markdown("m.json", [result]).splitlines()[-1]
    assert "<img" not in row and row.startswith("| x\\` &lt;img src=x&gt; \\`y |")
