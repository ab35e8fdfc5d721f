"""Contracts of the reusable workflows, the set-up action and the caller templates.

The linters (tests/integration/test_workflow_static.py) check each file alone; these tests check
what holds between files and what the project promises: typed, documented inputs; explicit
secrets; least privilege; outputs promoted from step to job to workflow; every `with:` a called
workflow receives is an input it declares; every template has its organization-template metadata;
docs/workflows.md documents every input.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
REUSABLE = ["train", "evaluate", "release", "pipeline", "pr-check"]
TEMPLATES = sorted(
    p for p in (ROOT / "templates").glob("*.yml") if "jobs" in (yaml.safe_load(p.read_text()) or {})
)
SELF = re.compile(r"^org/unified-supply-chain/\.github/workflows/([\w-]+)\.yml@v1$")
BIN = Path(sys.executable).parent


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as True.
    return {("on" if k is True else k): v for k, v in data.items()}


def reusable(name: str) -> dict[str, Any]:
    return load(WORKFLOWS / f"{name}.yml")


def call_spec(name: str) -> dict[str, Any]:
    spec: dict[str, Any] = reusable(name)["on"]["workflow_call"]
    return spec


def steps_of(job: dict[str, Any]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = job.get("steps", [])
    return steps


@pytest.mark.parametrize("name", REUSABLE)
def test_only_workflow_call_with_documented_typed_inputs(name: str) -> None:
    workflow = reusable(name)
    assert list(workflow["on"]) == ["workflow_call"]
    spec = call_spec(name)
    for key, item in spec.get("inputs", {}).items():
        assert item.get("description", "").strip(), f"{name}: input {key} has no description"
        assert item.get("type") in ("string", "boolean", "number"), f"{name}: {key} type"
        assert item.get("required") or "default" in item, f"{name}: {key} needs a default"
    for key, item in (spec.get("secrets") or {}).items():
        assert item.get("description", "").strip(), f"{name}: secret {key} has no description"
    for key, item in (spec.get("outputs") or {}).items():
        assert item.get("description", "").strip(), f"{name}: output {key} has no description"


@pytest.mark.parametrize("name", REUSABLE)
def test_least_privilege(name: str) -> None:
    workflow = reusable(name)
    assert workflow["permissions"] == {}, "permissions: {} at the top"
    for job_id, job in workflow["jobs"].items():
        if name == "pr-check":
            # Documented exception: the job takes exactly what the calling job grants.
            assert "permissions" not in job
            continue
        perms = job.get("permissions")
        assert isinstance(perms, dict) and perms, f"{name}/{job_id}: explicit permissions"
        assert all(v in ("read", "write", "none") for v in perms.values())
        writes = {k for k, v in perms.items() if v == "write"}
        allowed = {
            "release": {"contents", "id-token", "attestations"},
            "pr-check": {"checks"},
        }.get(job_id, set())
        assert writes <= allowed, f"{name}/{job_id}: unexpected write permissions {writes}"


@pytest.mark.parametrize("path", [WORKFLOWS / f"{n}.yml" for n in REUSABLE] + TEMPLATES)
def test_no_inherited_secrets(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"secrets:\s*inherit", text)


@pytest.mark.parametrize("name", REUSABLE)
def test_steps_keep_expressions_out_of_shell_and_credentials_out_of_checkouts(name: str) -> None:
    for job_id, job in reusable(name)["jobs"].items():
        if "uses" in job:
            continue
        assert str(job["runs-on"]).startswith("${{ fromJSON(inputs."), f"{name}/{job_id}"
        for step in steps_of(job):
            if "run" in step:
                assert "${{" not in step["run"], f"{name}/{job_id}: {step.get('name')}"
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


@pytest.mark.parametrize("name", REUSABLE)
def test_outputs_promoted_step_job_workflow(name: str) -> None:
    workflow = reusable(name)
    jobs = workflow["jobs"]
    for key, item in (call_spec(name).get("outputs") or {}).items():
        refs = re.findall(r"jobs\.([\w-]+)\.outputs\.([\w-]+)", item["value"])
        assert refs, f"{name}: output {key} reads no job output"
        for job_id, output in refs:
            assert job_id in jobs, f"{name}: output {key} reads unknown job {job_id}"
            job = jobs[job_id]
            if "uses" in job:  # a called workflow: its declared outputs
                called = SELF.match(job["uses"].split("#")[0].strip())
                assert called, job["uses"]
                assert output in (call_spec(called.group(1)).get("outputs") or {})
                continue
            assert output in job.get("outputs", {}), f"{name}: {job_id} has no output {output}"
    for job_id, job in jobs.items():
        ids = {s.get("id") for s in steps_of(job)}
        for output, value in (job.get("outputs") or {}).items():
            for step_id in re.findall(r"steps\.([\w-]+)\.outputs", str(value)):
                assert step_id in ids, f"{name}/{job_id}: output {output} reads step {step_id}"


def called_jobs() -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for path in [WORKFLOWS / f"{n}.yml" for n in REUSABLE] + TEMPLATES:
        for job_id, job in load(path)["jobs"].items():
            if "uses" in job:
                out.append((path.name, job_id, job))
    return out


@pytest.mark.parametrize(
    "where, job_id, job", called_jobs(), ids=[f"{w}:{j}" for w, j, _ in called_jobs()]
)
def test_calls_pass_declared_inputs_and_every_required_one(
    where: str, job_id: str, job: dict[str, Any]
) -> None:
    match = SELF.match(job["uses"].split("#")[0].strip())
    assert match, f"{where}/{job_id}: our workflows are called as org/unified-supply-chain/...@v1"
    spec = call_spec(match.group(1))
    given = set((job.get("with") or {}).keys())
    declared = set(spec.get("inputs", {}))
    assert given <= declared, f"{where}/{job_id}: unknown inputs {given - declared}"
    required = {k for k, v in spec.get("inputs", {}).items() if v.get("required")}
    assert required <= given, f"{where}/{job_id}: missing required inputs {required - given}"
    secrets = job.get("secrets") or {}
    assert isinstance(secrets, dict)
    assert set(secrets) <= set(spec.get("secrets") or {})
    # The calling job grants at least what the called workflow's jobs ask for.
    granted = job.get("permissions", {})
    for called_id, called in reusable(match.group(1))["jobs"].items():
        for scope, level in (called.get("permissions") or {}).items():
            if level == "write":
                assert granted.get(scope) == "write", f"{where}/{job_id} -> {called_id}: {scope}"


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_templates_have_org_template_metadata(template: Path) -> None:
    properties = template.with_suffix(".properties.json")
    meta = json.loads(properties.read_text(encoding="utf-8"))
    for key in ("name", "description", "iconName", "categories", "filePatterns"):
        assert meta.get(key), f"{properties.name}: {key}"
    assert (template.parent / f"{meta['iconName']}.svg").exists()
    for pattern in meta["filePatterns"]:
        re.compile(pattern)
    lines = [line for line in template.read_text().splitlines() if line.strip()]
    assert len(lines) <= 30, "a caller workflow stays short"


def test_docs_describe_every_input_and_output() -> None:
    docs = (ROOT / "docs" / "workflows.md").read_text(encoding="utf-8")
    for name in REUSABLE:
        assert f"{name}.yml" in docs
        spec = call_spec(name)
        for key in [*spec.get("inputs", {}), *(spec.get("outputs") or {})]:
            assert f"`{key}`" in docs, f"docs/workflows.md does not mention {name}.yml's {key}"
    assert "Adopt in five minutes" in docs


SETUP = ROOT / "setup" / "action.yml"


def test_setup_action_static_checks() -> None:
    zizmor = subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--format", "json", str(SETUP)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert json.loads(zizmor.stdout or "[]") == [], zizmor.stdout + zizmor.stderr
    schema = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-actions", str(SETUP)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert schema.returncode == 0, schema.stdout + schema.stderr
    action = yaml.safe_load(SETUP.read_text(encoding="utf-8"))
    for step in action["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"] and step.get("shell")
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"])
    # The same hash-pinned requirements as the top-level action.
    assert "requirements/action.txt" in SETUP.read_text(encoding="utf-8")
    assert "--require-hashes" in SETUP.read_text(encoding="utf-8")
