"""`usc action` with bad inputs: an `::error` annotation naming the input and its accepted values,
exit code 2, and nothing written. Also the parsing of good inputs into ActionInputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from unified_supply_chain import actions_io as io
from unified_supply_chain.commands import action
from unified_supply_chain.records import Severity

SRC = Path(__file__).resolve().parents[2] / "src"


def run_action(workspace: Path, inputs: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("INPUT_", "GITHUB_", "RUNNER_", "USC_"))
    }
    output = workspace.parent / "github_output"
    env.update(
        {
            "PYTHONPATH": str(SRC),
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(workspace.parent / "summary.md"),
        }
    )
    env.update(inputs)
    return subprocess.run(
        [sys.executable, "-m", "unified_supply_chain", "action"],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "project").mkdir(parents=True)
    return ws


def error_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("::error")]


@pytest.mark.parametrize(
    ("inputs", "name", "accepted"),
    [
        ({"INPUT_SPEC_VERSION": "1.5"}, "spec-version", "1.6 or 1.7"),
        ({"INPUT_SPEC-VERSION": "2.0"}, "spec-version", "1.6 or 1.7"),
        (
            {"INPUT_REPRODUCIBLE": "maybe"},
            "reproducible",
            "true, True, TRUE, false, False, FALSE",
        ),
        ({"INPUT_PATH": "does/not/exist"}, "path", "an existing directory inside the workspace"),
        ({"INPUT_PATH": ".."}, "path", "inside the workspace"),
        ({"INPUT_PATH": "--help"}, "path", "does not start with '-'"),
        ({"INPUT_OUTPUT_FILE": "-o"}, "output-file", "does not start with '-'"),
        ({"INPUT_FAIL_ON": "severe"}, "fail-on", "none, info, low, medium, high, critical"),
        ({"INPUT_RETENTION_DAYS": "91"}, "retention-days", "an integer from 1 to 90"),
        ({"INPUT_RETENTION_DAYS": "1e2"}, "retention-days", "an integer from 1 to 90"),
        ({"INPUT_UPLOAD_ARTIFACT": "yes"}, "upload-artifact", "true, True, TRUE"),
        ({"INPUT_UPLOAD_RELEASE_ASSETS": "1"}, "upload-release-assets", "false, False, FALSE"),
        ({"INPUT_MERGE": "missing.json"}, "merge", "existing CycloneDX JSON files"),
        ({"INPUT_POLICY": "nope.yml"}, "policy", "an existing policy file"),
        ({"INPUT_ARTIFACT_NAME": "a/b"}, "artifact-name", "without"),
    ],
)
def test_bad_input_is_an_error_annotation_and_exit_2(
    workspace: Path, inputs: dict[str, str], name: str, accepted: str
) -> None:
    proc = run_action(workspace, inputs)
    assert proc.returncode == 2, proc.stderr
    errors = error_lines(proc.stdout)
    assert len(errors) == 1, proc.stdout
    line = errors[0]
    assert line.startswith(f"::error title=usc%3A invalid input '{name}'::"), line
    assert f"input '{name}'" in line
    assert accepted in line.split("::", 2)[2]
    assert not (workspace / "sbom.cdx.json").exists()
    assert not (workspace.parent / "github_output").exists(), "no outputs on bad input"
    assert "Traceback" not in proc.stderr


def test_parse_inputs_defaults(workspace: Path) -> None:
    inputs = action.parse_inputs({"GITHUB_WORKSPACE": str(workspace), "GITHUB_JOB": "sbom"})
    assert inputs.path == workspace.resolve()
    assert inputs.output_file == workspace.resolve() / "sbom.cdx.json"
    assert inputs.spec_version == "1.6"
    assert inputs.upload_artifact is True
    assert inputs.upload_release_assets is False
    assert inputs.reproducible is False
    assert inputs.fail_on is None and inputs.fail_on_given is False
    assert inputs.retention_days is None
    assert inputs.artifact_name == "sbom-sbom"


def test_parse_inputs_all_given(workspace: Path) -> None:
    (workspace / "other.cdx.json").write_text("{}", encoding="utf-8")
    (workspace / "policy.yml").write_text("fail-on: high\n", encoding="utf-8")
    env = {
        "GITHUB_WORKSPACE": str(workspace),
        "INPUT_PATH": "project",
        "INPUT_OUTPUT_FILE": "out/bom.json",
        "INPUT_SPEC_VERSION": "1.7",
        "INPUT_INCLUDE": "models/**\n\n data/** \n",
        "INPUT_EXCLUDE": "*.tmp",
        "INPUT_MERGE": "other.cdx.json\n",
        "INPUT_REPRODUCIBLE": "TRUE",
        "INPUT_FAIL_ON": "High",
        "INPUT_POLICY": "policy.yml",
        "INPUT_UPLOAD_ARTIFACT": "False",
        "INPUT_ARTIFACT_NAME": "my-sbom",
        "INPUT_RETENTION_DAYS": "7",
        "INPUT_UPLOAD_RELEASE_ASSETS": "true",
        "INPUT_GITHUB_TOKEN": "ghs_secret",
    }
    inputs = action.parse_inputs(env)
    ws = workspace.resolve()
    assert inputs.path == ws / "project"
    assert inputs.output_file == ws / "out" / "bom.json"
    assert inputs.spec_version == "1.7"
    assert inputs.include == ("models/**", "data/**")
    assert inputs.exclude == ("*.tmp",)
    assert inputs.merge == (ws / "other.cdx.json",)
    assert inputs.reproducible is True
    assert inputs.fail_on is Severity.HIGH and inputs.fail_on_given
    assert inputs.policy == ws / "policy.yml"
    assert inputs.upload_artifact is False
    assert inputs.artifact_name == "my-sbom"
    assert inputs.retention_days == 7
    assert inputs.upload_release_assets is True
    assert "ghs_secret" not in repr(inputs)


def test_fail_on_none_never_fails(workspace: Path) -> None:
    env = {"GITHUB_WORKSPACE": str(workspace), "INPUT_FAIL_ON": "none"}
    inputs = action.parse_inputs(env)
    assert inputs.fail_on is None and inputs.fail_on_given


def test_symlink_out_of_workspace_rejected(workspace: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (workspace / "link").symlink_to(outside)
    with pytest.raises(io.InputError) as info:
        action.parse_inputs({"GITHUB_WORKSPACE": str(workspace), "INPUT_PATH": "link"})
    assert info.value.input_name == "path"


@pytest.mark.parametrize(
    ("job", "matrix", "expected"),
    [
        ("sbom", "null", "sbom-sbom"),
        ("sbom", "", "sbom-sbom"),
        (None, None, "sbom"),
        (
            "build",
            json.dumps({"os": "ubuntu-latest", "python": "3.12"}),
            "sbom-build-ubuntu-latest-3.12",
        ),
        ("b", json.dumps({"cfg": {"name": "a/b: c", "gpu": True}}), "sbom-b-a-b-c-true"),
        ("b", "{not json", "sbom-b"),
        ("job with spaces", json.dumps({"x": 'q"<>|*?'}), "sbom-job-with-spaces-q"),
    ],
)
def test_default_artifact_name(job: str | None, matrix: str | None, expected: str) -> None:
    assert action.default_artifact_name(job, matrix) == expected


def test_artifact_names_unique_across_matrix() -> None:
    names = {
        action.default_artifact_name("sbom", json.dumps({"os": os_, "py": py}))
        for os_ in ("ubuntu-latest", "windows-latest")
        for py in ("3.10", "3.11")
    }
    assert len(names) == 4


def test_sanitise_artifact_name_bounded() -> None:
    name = action.sanitise_artifact_name("x" * 500)
    assert len(name) == action.MAX_ARTIFACT_NAME
    assert action.sanitise_artifact_name("///") == "sbom"


def test_action_yml_passes_every_input_under_its_github_name() -> None:
    """Each input of action.yml reaches `usc action` as INPUT_<NAME> (upper case, hyphens kept),
    the name `actions_io.get_input` reads first; `python` is for the set-up step only."""
    import yaml

    root = Path(__file__).resolve().parents[2]
    action_yml = yaml.safe_load((root / "action.yml").read_text(encoding="utf-8"))
    (step,) = [s for s in action_yml["runs"]["steps"] if s.get("id") == "usc"]
    expected = {io.input_env_names(name)[0] for name in action_yml["inputs"] if name != "python"}
    passed = {key for key in step["env"] if key.startswith("INPUT_")}
    assert passed == expected
    for name in action_yml["inputs"]:
        if name != "python":
            value = step["env"][io.input_env_names(name)[0]]
            assert f"inputs.{name}" in value, name
