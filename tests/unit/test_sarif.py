"""SARIF output: valid against the official SARIF 2.1.0 schema, shaped for GitHub code scanning."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from unified_supply_chain.records import Finding, Severity
from unified_supply_chain.report.sarif import sarif_level, to_sarif

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schemas" / "sarif-2.1.0.json"

FINDINGS = [
    Finding(
        rule="unsafe-serialization",
        severity=Severity.CRITICAL,
        message="pickle imports dangerous globals: posix.system",
        path="models/my model.pt!archive/data.pkl",
        details=("posix.system",),
    ),
    Finding(
        rule="unsafe-serialization",
        severity=Severity.MEDIUM,
        message="unscannable: truncated",
        path="models/b.pkl",
        details=("error: truncated",),
    ),
    Finding(
        rule="model-without-licence",
        severity=Severity.LOW,
        message="model 'a' has no licence",
        path="models/a.onnx",
    ),
]


def validate(log: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_sarif_is_schema_valid() -> None:
    log = to_sarif(FINDINGS, "0.1.0")
    validate(json.loads(json.dumps(log)))
    validate(to_sarif([], "0.1.0"))


def test_schema_rejects_a_broken_log() -> None:
    log = to_sarif(FINDINGS, "0.1.0")
    log["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(AssertionError):
        validate(log)


def test_rules_results_and_locations() -> None:
    log = to_sarif(FINDINGS, "1.2.3")
    run = log["runs"][0]
    assert run["tool"]["driver"]["version"] == "1.2.3"
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["model-without-licence", "unsafe-serialization"]
    unsafe = rules[1]
    assert unsafe["properties"]["security-severity"] == "9.5"
    assert unsafe["help"]["text"]
    first, second, third = run["results"]
    assert first["ruleId"] == "unsafe-serialization"
    assert rules[first["ruleIndex"]]["id"] == "unsafe-serialization"
    assert first["level"] == "error"
    assert second["level"] == "warning"
    assert third["level"] == "note"
    location = first["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uri"] == "models/my%20model.pt"
    assert first["properties"]["member"] == "archive/data.pkl"
    assert "archive/data.pkl" in first["message"]["text"]
    assert first["properties"]["details"] == ["posix.system"]
    fp = first["partialFingerprints"]["uscFinding/v1"]
    assert (
        fp
        == to_sarif(FINDINGS, "9")["runs"][0]["results"][0]["partialFingerprints"]["uscFinding/v1"]
    )
    assert fp != second["partialFingerprints"]["uscFinding/v1"]


def test_levels() -> None:
    assert [sarif_level(s) for s in Severity] == ["note", "note", "warning", "error", "error"]
