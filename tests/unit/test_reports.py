"""The reports behind `report.interface.Report`: check-run payload, workflow annotations, diff."""

from __future__ import annotations

import json
from pathlib import Path

from jsonschema import Draft202012Validator

from unified_supply_chain.compare.diff import EMPTY_SBOM, SbomDiff, diff_sboms
from unified_supply_chain.records import Finding, Severity
from unified_supply_chain.report.annotations import WorkflowAnnotations
from unified_supply_chain.report.check_run import (
    Annotation,
    AnnotationLevel,
    CheckRunPayload,
    CheckRunResult,
    Evaluation,
    build_report,
    conclusion_of,
)
from unified_supply_chain.report.diff_json import DiffJson
from unified_supply_chain.report.diff_markdown import DiffMarkdown
from unified_supply_chain.report.interface import Report

#: GitHub's "Update a check run" request body, as kept in tests/schemas/github-api/.
SCHEMA = (
    Path(__file__).resolve().parents[1] / "schemas" / "github-api" / "check-run-update.schema.json"
)

MODEL = {
    "type": "machine-learning-model",
    "name": "clf",
    "bom-ref": "model:clf",
    "hashes": [{"alg": "SHA-256", "content": "a" * 64}],
    "properties": [{"name": "usc:kind", "value": "model"}, {"name": "usc:path", "value": "m.onnx"}],
}
DOC = {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [MODEL]}


def _evaluation(*findings: Finding) -> Evaluation:
    return Evaluation(tuple(findings), Severity.HIGH, "the built-in policy")


def test_check_run_payload_is_a_valid_update_output() -> None:
    finding = Finding("unsafe-serialization", Severity.HIGH, "pickle opcodes", "m.onnx")
    evaluation = _evaluation(finding)
    result = CheckRunResult(
        diff_sboms(EMPTY_SBOM, DOC), evaluation, conclusion_of(evaluation), "ML"
    )
    output = json.loads(CheckRunPayload().format(result))
    errors = list(
        Draft202012Validator(json.loads(SCHEMA.read_text())).iter_errors({"output": output})
    )
    assert errors == []
    assert result.conclusion == "failure"
    assert output["title"] == "changes: 1 models; 1 finding(s), 1 blocking"
    assert [a["annotation_level"] for a in output["annotations"]] == ["failure", "notice"]


def test_findings_table_keeps_a_backslash_before_a_pipe_inside_its_cell() -> None:
    # The old check escaper turned `\|` into `\\|`: an escaped backslash, then a cell break.
    finding = Finding("r", Severity.LOW, "a\\|b", "p")
    _, summary = build_report(
        diff_sboms(EMPTY_SBOM, EMPTY_SBOM), _evaluation(finding), "neutral", name="n", details=None
    )
    row = next(line for line in summary.splitlines() if line.startswith("|  | low |"))
    assert row.endswith("| a\\\\\\|b |")
    # Six unescaped pipes: five cells.
    unescaped = row.replace("\\\\", "").replace("\\|", "")
    assert unescaped.count("|") == 6


def test_workflow_annotations_escape_as_workflow_commands() -> None:
    notes = [
        Annotation("a,b.py", "line1\nline2 100%", AnnotationLevel.FAILURE, title="t:x"),
        Annotation("c.py", "m", AnnotationLevel.NOTICE),
    ]
    text = WorkflowAnnotations(limit=1).format(notes)
    assert text == "::error title=t%3Ax,file=a%2Cb.py,line=1::line1%0Aline2 100%25\n"


def test_every_output_is_a_report() -> None:
    diff = diff_sboms(EMPTY_SBOM, DOC)
    reports: list[Report[SbomDiff]] = [DiffJson(), DiffMarkdown(title="T")]
    texts = [r.format(diff) for r in reports]
    assert json.loads(texts[0])["summary"]["models"]["added"] == 1
    assert texts[1].startswith("## T\n") and "`m.onnx`" in texts[1]


def test_sarif_step_and_text_summaries_are_reports() -> None:
    from unified_supply_chain.report.sarif import Sarif, to_sarif
    from unified_supply_chain.report.step_summary import StepSummary, render_summary
    from unified_supply_chain.report.text import TextSummary, render_text_summary

    finding = Finding("r", Severity.LOW, "m", "m.onnx")
    assert json.loads(Sarif("1.0").format([finding])) == to_sarif([finding], "1.0")
    assert StepSummary(findings=[finding]).format(DOC) == render_summary(DOC, findings=[finding])
    text = TextSummary(output="o.json").format(dict(DOC))
    assert text == render_text_summary(dict(DOC), output="o.json") and "1 model" in text
