"""Policy rules on crafted SBOM dicts (each with a passing and a failing case) and bad files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from unified_supply_chain.errors import PolicyError
from unified_supply_chain.policy import Policy, evaluate, exceeds, load_policy, parse_policy
from unified_supply_chain.policy.config import parse_size
from unified_supply_chain.records import Finding, Severity


def props(**values: str) -> list[dict[str, str]]:
    return [{"name": f"usc:{k.replace('_', '-')}", "value": v} for k, v in values.items()]


def model(
    ref: str = "model-a",
    *,
    path: str = "models/a.pt",
    licence: str | None = "MIT",
    storage: str = "git",
    size: int = 1000,
    present: bool = True,
    metrics: dict[str, str] | None = None,
    findings: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    comp: dict[str, Any] = {
        "type": "machine-learning-model",
        "bom-ref": ref,
        "name": ref,
        "properties": props(kind="model", path=path, storage=storage, size=str(size))
        + ([] if present else props(content_present="false"))
        + [{"name": "usc:finding", "value": json.dumps(f)} for f in findings or []],
    }
    if licence:
        comp["licenses"] = [{"license": {"id": licence}}]
    if metrics is not None:
        comp["modelCard"] = {
            "quantitativeAnalysis": {
                "performanceMetrics": [{"type": k, "value": v} for k, v in metrics.items()]
            }
        }
    return comp


def dataset(ref: str = "data-a", *, licence: str | None = "CC-BY-4.0", **kw: Any) -> dict[str, Any]:
    comp: dict[str, Any] = {
        "type": "data",
        "bom-ref": ref,
        "name": ref,
        "data": [{"type": "dataset", "name": ref}],
        "properties": props(
            kind="dataset",
            path=kw.get("path", "data/a.csv"),
            storage=kw.get("storage", "git"),
            size=str(kw.get("size", 10)),
        )
        + ([] if kw.get("present", True) else props(content_present="false")),
    }
    if licence:
        comp["licenses"] = [{"license": {"id": licence}}]
    return comp


def sbom(*components: dict[str, Any], edges: dict[str, list[str]] | None = None) -> dict[str, Any]:
    if edges is None:
        edges = {"model-a": ["data-a"]}
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "components": list(components),
        "dependencies": [{"ref": k, "dependsOn": v} for k, v in edges.items()],
    }


def rules_of(findings: list[Finding]) -> list[str]:
    return [f.rule for f in findings]


def policy(text: str) -> Policy:
    return parse_policy(text, "policy.yml")


GOOD = sbom(model(), dataset())


def test_clean_sbom_passes_default_policy() -> None:
    assert evaluate(GOOD, Policy()) == []


PICKLE_FINDING = {
    "rule": "unsafe-serialization",
    "severity": "critical",
    "message": "pickle imports dangerous globals: posix.system",
    "path": "models/a.pt!archive/data.pkl",
    "details": ["posix.system"],
}
CUSTOM_FINDING = {
    "rule": "unsafe-serialization",
    "severity": "high",
    "message": "pickle imports non-allow-listed globals: mypkg.Net",
    "path": "models/a.pt!archive/data.pkl",
    "details": ["mypkg.Net"],
}


def test_unsafe_serialization() -> None:
    failing = evaluate(sbom(model(findings=[PICKLE_FINDING]), dataset()), Policy())
    assert rules_of(failing) == ["unsafe-serialization"]
    assert failing[0].severity is Severity.CRITICAL
    assert failing[0].path == "models/a.pt!archive/data.pkl"
    # Allow-listed globals pass; other globals still fail.
    allow = policy("rules:\n  unsafe-serialization:\n    allow-globals: ['mypkg.*']\n")
    assert evaluate(sbom(model(findings=[CUSTOM_FINDING]), dataset()), allow) == []
    assert rules_of(evaluate(sbom(model(findings=[PICKLE_FINDING]), dataset()), allow)) == [
        "unsafe-serialization"
    ]
    # A pattern never lifts a critical finding, even one it matches (a dotted path to a gadget).
    dotted = {
        **PICKLE_FINDING,
        "message": "pickle imports dangerous globals: mypkg.x.os.system",
        "details": ["mypkg.x.os.system"],
    }
    assert rules_of(evaluate(sbom(model(findings=[dotted]), dataset()), allow)) == [
        "unsafe-serialization"
    ]
    # Allow-listed paths pass, globally or per rule.
    for text in (
        "allow:\n  paths: ['models/**']\n",
        "rules:\n  unsafe-serialization:\n    paths: ['models/*.pt']\n",
    ):
        assert evaluate(sbom(model(findings=[PICKLE_FINDING]), dataset()), policy(text)) == []
    # A severity override applies.
    low = policy("rules:\n  unsafe-serialization:\n    severity: low\n")
    assert evaluate(sbom(model(findings=[PICKLE_FINDING]), dataset()), low)[0].severity is (
        Severity.LOW
    )


def test_recorded_severity_is_read_in_any_case() -> None:
    # Read through the one severity parser: "Low" is low (it used to read as high), and an
    # unreadable severity still reads as high.
    low = {**PICKLE_FINDING, "severity": "Low"}
    (found,) = evaluate(sbom(model(findings=[low]), dataset()), Policy())
    assert found.severity is Severity.LOW
    odd = {**PICKLE_FINDING, "severity": "severe"}
    (found,) = evaluate(sbom(model(findings=[odd]), dataset()), Policy())
    assert found.severity is Severity.HIGH


def test_string_details_are_not_split_into_characters() -> None:
    # `details` is a list; a string there used to be read one character per detail.
    odd = {**PICKLE_FINDING, "details": "posix.system"}
    (found,) = evaluate(sbom(model(findings=[odd]), dataset()), Policy())
    assert found.details == ()


def test_model_without_licence() -> None:
    failing = evaluate(sbom(model(licence=None), dataset()), Policy())
    assert rules_of(failing) == ["model-without-licence"]
    assert failing[0].severity is Severity.MEDIUM
    allowed = policy("rules:\n  model-without-licence:\n    allowed-licences: [Apache-2.0]\n")
    assert rules_of(evaluate(GOOD, allowed)) == ["model-without-licence"]
    assert evaluate(sbom(model(licence="Apache-2.0"), dataset()), allowed) == []
    off = policy("rules:\n  model-without-licence: false\n")
    assert evaluate(sbom(model(licence=None), dataset()), off) == []


def test_dataset_without_licence() -> None:
    failing = evaluate(sbom(model(), dataset(licence=None)), Policy())
    assert rules_of(failing) == ["dataset-without-licence"]
    assert failing[0].path == "data/a.csv"
    assert evaluate(GOOD, Policy()) == []


def test_model_without_lineage() -> None:
    failing = evaluate(sbom(model(), dataset(), edges={}), Policy())
    assert rules_of(failing) == ["model-without-lineage"]
    # An edge to a hyperparameter set alone is not lineage to data.
    params = {
        "type": "data",
        "bom-ref": "params",
        "name": "params.yaml",
        "properties": props(kind="hyperparameters", path="params.yaml"),
    }
    only_params = sbom(model(), dataset(), params, edges={"model-a": ["params"]})
    assert rules_of(evaluate(only_params, Policy())) == ["model-without-lineage"]
    # The modelCard dataset reference counts as lineage too.
    with_card = model()
    with_card["modelCard"] = {"modelParameters": {"datasets": [{"ref": "data-a"}]}}
    assert evaluate(sbom(with_card, dataset(), edges={}), Policy()) == []


def test_artifact_without_content() -> None:
    pointer = sbom(model(present=False, storage="git-lfs-pointer"), dataset())
    assert evaluate(pointer, Policy()) == []  # not required by default
    required = policy("rules:\n  artifact-without-content:\n    required: true\n")
    failing = evaluate(pointer, required)
    assert rules_of(failing) == ["artifact-without-content"]
    assert failing[0].severity is Severity.HIGH
    assert "git-lfs-pointer" in failing[0].message
    assert evaluate(GOOD, required) == []


def test_large_binary_not_in_lfs() -> None:
    big = 60 * 1000**2
    failing = evaluate(sbom(model(size=big), dataset()), Policy())
    assert rules_of(failing) == ["large-binary-not-in-lfs"]
    assert evaluate(sbom(model(size=big, storage="git-lfs-pointer"), dataset()), Policy()) == []
    raised = policy("rules:\n  large-binary-not-in-lfs:\n    threshold: 100MB\n")
    assert evaluate(sbom(model(size=big), dataset()), raised) == []
    lowered = policy("rules:\n  large-binary-not-in-lfs:\n    threshold: 5000\n")
    assert rules_of(evaluate(sbom(dataset(size=6000), model()), lowered)) == [
        "large-binary-not-in-lfs"
    ]


def test_metric_thresholds() -> None:
    gate = policy("rules:\n  metric-threshold:\n    metrics: {accuracy: '>=0.9', loss: '<0.2'}\n")
    good = sbom(model(metrics={"accuracy": "0.93", "loss": "0.1"}), dataset())
    assert evaluate(good, gate) == []
    low = evaluate(sbom(model(metrics={"accuracy": "0.85", "loss": "0.1"}), dataset()), gate)
    assert rules_of(low) == ["metric-threshold"]
    assert "0.85" in low[0].message
    missing = evaluate(sbom(model(metrics={"accuracy": "0.95"}), dataset()), gate)
    assert rules_of(missing) == ["metric-threshold"]
    assert "no 'loss' metric" in missing[0].message
    scoped = policy(
        "rules:\n  metric-threshold:\n    models: ['other/*']\n    metrics: {accuracy: 0.99}\n"
    )
    assert evaluate(good, scoped) == []


def test_nested_components_are_evaluated() -> None:
    outer = model()
    outer["components"] = [
        {
            "type": "file",
            "name": "w.bin",
            "properties": [{"name": "usc:finding", "value": json.dumps(PICKLE_FINDING)}],
        }
    ]
    assert rules_of(evaluate(sbom(outer, dataset()), Policy())) == ["unsafe-serialization"]


def test_fail_on_and_exceeds() -> None:
    findings = evaluate(sbom(model(licence=None), dataset()), Policy())  # medium
    assert exceeds(findings, Severity.MEDIUM)
    assert exceeds(findings, Severity.LOW)
    assert not exceeds(findings, Severity.HIGH)
    assert not exceeds(findings, None)
    assert policy("fail-on: high\n").fail_on is Severity.HIGH
    assert policy("fail-on: none\n").fail_on is None


def test_load_policy_default_location_and_missing(tmp_path: Path) -> None:
    assert load_policy(None, tmp_path) == Policy()
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github/unified-supply-chain.yml").write_text("fail-on: critical\n")
    loaded = load_policy(None, tmp_path)
    assert loaded.fail_on is Severity.CRITICAL
    assert loaded.source is not None and loaded.source.endswith("unified-supply-chain.yml")
    with pytest.raises(PolicyError, match="not found"):
        load_policy(tmp_path / "nope.yml", tmp_path)


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("fail-on: high\nrules:\n  no-such-rule: {}\n", 3, "unknown rule 'no-such-rule'"),
        ("fail-on: catastrophic\n", 1, "unknown severity"),
        ("rules:\n  model-without-licence:\n    enabled: maybe\n", 3, "true or false"),
        ("rules:\n  model-without-licence:\n\n    severity: 7\n", 4, "severity name"),
        ("rules:\n  large-binary-not-in-lfs:\n    threshold: huge\n", 3, "bad size"),
        ("rules:\n  metric-threshold:\n    metrics:\n      acc: 'about 0.9'\n", 4, "threshold"),
        ("rules:\n  unsafe-serialization:\n    allow-globals: 3\n", 3, "list of text"),
        ("rules:\n  unsafe-serialization:\n    required: true\n", 3, "unknown setting"),
        ("version: 1\nbogus: 1\n", 2, "unknown key 'bogus'"),
        ("rules: [a, b]\n", 1, "must be a mapping"),
        ("rules:\n  model-without-licence: {\n", 3, "invalid YAML"),
        ("fail-on: high\nfail-on: low\n", 2, "duplicate key"),
        ("version: 2\n", 1, "unsupported policy version"),
    ],
)
def test_malformed_policy_names_file_and_line(
    tmp_path: Path, text: str, line: int, fragment: str
) -> None:
    path = tmp_path / "policy.yml"
    path.write_text(text)
    with pytest.raises(PolicyError) as info:
        load_policy(path, tmp_path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert fragment in message


def test_parse_size() -> None:
    assert parse_size("50MB") == 50_000_000
    assert parse_size("1GiB") == 1024**3
    assert parse_size(12) == 12
    with pytest.raises(ValueError):
        parse_size(True)


def test_example_policy_template_is_valid() -> None:
    root = Path(__file__).resolve().parents[2]
    loaded = load_policy(root / "templates/policy.example.yml", root)
    assert loaded.fail_on is Severity.HIGH
    assert loaded.rule("metric-threshold").metrics
