"""BomView: the one reader of finished SBOMs, and the finding <-> JSON codec."""

from __future__ import annotations

import json
from typing import Any

import pytest

from unified_supply_chain.bom.view import BomView, Kind, kind_of, licences_of
from unified_supply_chain.records import (
    Finding,
    Severity,
    finding_from_json,
    finding_to_json,
    parse_severity,
)


def test_nested_files_of_a_directory_model_belong_to_it() -> None:
    doc = {
        "components": [
            {
                "type": "machine-learning-model",
                "name": "bert",
                "bom-ref": "model:bert",
                "properties": [{"name": "usc:path", "value": "models/bert"}],
                "components": [
                    {"type": "file", "name": "models/bert/a.safetensors", "bom-ref": "f1"},
                    {"type": "file", "name": "models/bert/config.json", "bom-ref": "f2"},
                ],
            },
            {
                "type": "application",
                "name": "app",
                "components": [{"type": "library", "name": "numpy", "bom-ref": "lib"}],
            },
        ]
    }
    view = BomView.of(doc)
    assert [c.ref for c in view.components] == ["model:bert", "f1", "f2", "", "lib"]
    model = view.components[0]
    assert [c.kind for c in view.components] == [
        Kind.MODEL,
        Kind.FILE,
        Kind.FILE,
        Kind.OTHER,
        Kind.LIBRARY,
    ]
    assert view.components[1].owner is model and view.components[2].owner is model
    # A library nested under an application is listed on its own; a model's files are not.
    assert [c.ref for c in view.listed] == ["model:bert", "", "lib"]
    assert set(view.by_ref()) == {"model:bert", "f1", "f2", "lib"}


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ({"type": "data", "properties": [{"name": "usc:kind", "value": "model"}]}, Kind.MODEL),
        ({"type": "machine-learning-model"}, Kind.MODEL),
        ({"type": "data", "data": [{"type": "dataset"}]}, Kind.DATASET),
        ({"type": "data"}, Kind.DATASET),
        ({"type": "data", "data": [{"type": "configuration"}]}, Kind.HYPERPARAMETERS),
        # Any configuration entry makes a hyperparameter set, not only the first.
        (
            {"type": "data", "data": [{"type": "dataset"}, {"type": "configuration"}]},
            Kind.HYPERPARAMETERS,
        ),
        ({"type": "framework"}, Kind.LIBRARY),
        ({"type": "container", "purl": "pkg:docker/python@3.11"}, Kind.LIBRARY),
        ({"type": "container"}, Kind.OTHER),
        ({"type": "application", "purl": "pkg:github/o/r"}, Kind.OTHER),
        ({"type": "file"}, Kind.FILE),
        # An unknown usc:kind falls back to the type.
        (
            {"type": "library", "properties": [{"name": "usc:kind", "value": "weird"}]},
            Kind.LIBRARY,
        ),
        ({}, Kind.OTHER),
    ],
)
def test_kind_rules(raw: dict[str, Any], kind: Kind) -> None:
    assert kind_of(raw) is kind


def test_licences_in_every_form() -> None:
    raw = {
        "licenses": [
            {"license": {"id": "Apache-2.0"}},
            {"license": {"name": "Custom Licence"}},
            {"license": {"id": "MIT", "name": "ignored"}},
            {"expression": "MIT OR GPL-2.0-only"},
            {"license": {"id": 7}},
            "junk",
        ]
    }
    assert licences_of(raw) == ("Apache-2.0", "Custom Licence", "MIT", "MIT OR GPL-2.0-only")


def test_hyperparameters_from_configuration_data_and_model_card() -> None:
    hp = {
        "type": "data",
        "data": [
            {
                "type": "configuration",
                "contents": {
                    "properties": [
                        {"name": "optimizer.lr", "value": "0.001"},
                        {"name": "epochs", "value": 3},
                        {"name": "flag", "value": True},
                        {"value": "nameless"},
                    ]
                },
            }
        ],
    }
    model = {
        "type": "machine-learning-model",
        "modelCard": {
            "properties": [
                {"name": "cdx:ai-ml:model:hyperparameter:optimizer.lr", "value": "0.001"},
                {"name": "other", "value": "x"},
            ],
            "modelParameters": {"datasets": [{"ref": "ds"}, {"ref": 3}]},
            "quantitativeAnalysis": {
                "performanceMetrics": [
                    {"type": "accuracy", "value": "0.9", "slice": "test"},
                    {"value": "1"},
                ]
            },
        },
    }
    view = BomView.of({"components": [hp, model]})
    assert view.components[0].hyperparameters == (
        ("optimizer.lr", "0.001"),
        ("epochs", "3"),
        ("flag", "true"),
    )
    m = view.components[1]
    assert m.card_hyperparameters == (("optimizer.lr", "0.001"),)
    assert m.dataset_refs == ("ds",)
    assert [(x.type, x.value, x.slice) for x in m.metrics] == [("accuracy", "0.9", "test")]


def test_paths_hashes_and_properties() -> None:
    raw = {
        "type": "data",
        "name": "train",
        "purl": "pkg:generic/train",
        "hashes": [{"alg": "SHA-256", "content": "ABC"}, {"alg": "MD5"}],
        "evidence": {"occurrences": [{"location": "data/train.csv"}, {"location": ["x"]}]},
        "properties": [
            {"name": "usc:warning", "value": "one"},
            {"name": "usc:warning", "value": "two"},
            {"name": "usc:size", "value": 12},
        ],
    }
    (c,) = BomView.of({"components": [raw]}).components
    assert c.path is None and c.location == "data/train.csv"
    assert c.evidence_paths == ("data/train.csv",)
    assert c.hashes == (("SHA-256", "abc"),) and c.sha256 == "abc"
    assert c.props_named("usc:warning") == ("one", "two")
    assert c.prop("usc:size") == "12" and c.prop("usc:none") is None
    assert c.purl == "pkg:generic/train" and c.name == "train"


@pytest.mark.parametrize(
    "doc",
    [
        {"components": "nope"},
        {"components": [1, None, "x"]},
        {
            "components": [
                {
                    "name": 5,
                    "bom-ref": ["x"],
                    "type": {"a": 1},
                    "properties": {"name": "usc:kind"},
                    "licenses": {"license": {"id": "MIT"}},
                    "hashes": "SHA-256",
                    "evidence": [],
                    "data": {"type": "configuration"},
                    "modelCard": [],
                    "components": {"type": "file"},
                }
            ],
            "dependencies": {"ref": "a"},
            "metadata": [],
        },
        [],
    ],
)
def test_wrong_typed_fields_read_as_empty(doc: Any) -> None:
    view = BomView.of(doc)
    for c in view.components:
        assert c.kind is Kind.OTHER
        assert c.name == "5" and c.ref == ""
        assert c.licences == () and c.hashes == () and c.properties == ()
        assert c.hyperparameters == () and c.metrics == () and c.findings == ()
        assert c.evidence_paths == () and c.card_hyperparameters == ()
    assert view.dependencies() == {} and view.tools() == () and view.application is None
    assert list(view.findings()) == []


def test_findings_on_components_and_application() -> None:
    f = Finding("unsafe-serialization", Severity.CRITICAL, "os.system", "m.pkl", ("os.system",))
    doc = {
        "metadata": {
            "component": {"name": "app", "properties": [{"name": "usc:finding", "value": "{}"}]}
        },
        "components": [
            {
                "name": "m",
                "properties": [
                    {"name": "usc:path", "value": "m.pkl"},
                    {"name": "usc:finding", "value": finding_to_json(f)},
                    {"name": "usc:finding", "value": "not json"},
                    {"name": "usc:finding", "value": "[1]"},
                ],
            }
        ],
    }
    view = BomView.of(doc)
    assert view.components[0].findings == (f,)
    app_finding = Finding("unsafe-serialization", Severity.HIGH, "unsafe-serialization", "app")
    assert list(view.findings()) == [f, app_finding]


def test_finding_codec_round_trip_and_stable_text() -> None:
    f = Finding("suspicious-chat-template", Severity.LOW, "m | `x`", "a.gguf!t", ("a", "b"))
    text = finding_to_json(f)
    assert finding_from_json(text) == f
    assert list(json.loads(text)) == ["details", "message", "path", "rule", "severity"]


@pytest.mark.parametrize(
    ("data", "severity"),
    [
        ({"severity": "CRITICAL"}, Severity.CRITICAL),
        ({"severity": "bogus"}, Severity.HIGH),
        ({}, Severity.HIGH),
        ({"severity": "none"}, Severity.HIGH),
    ],
)
def test_finding_from_json_reads_odd_severities_safely(
    data: dict[str, Any], severity: Severity
) -> None:
    finding = finding_from_json(json.dumps(data), default_path="p")
    assert finding is not None
    assert finding.severity is severity
    assert finding.path == "p" and finding.rule == "unsafe-serialization"


def test_finding_details_only_from_a_list() -> None:
    finding = finding_from_json(json.dumps({"severity": "low", "details": "abc"}))
    assert finding is not None and finding.details == ()


def test_parse_severity() -> None:
    assert parse_severity(" High ") is Severity.HIGH
    assert parse_severity("never") is None and parse_severity("none") is None
    with pytest.raises(ValueError, match="unknown severity"):
        parse_severity("severe")
