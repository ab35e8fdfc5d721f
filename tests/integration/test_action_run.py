"""`usc action` end to end in-process: outputs, summary, annotations pointing at files (bounded
to GitHub's 10 per step), and a policy failure that comes only after everything was written."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
from pathlib import Path

import pytest

from unified_supply_chain import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "iris-classifier"
BROKEN_SAFETENSORS = (1 << 40).to_bytes(8, "little") + b"{"


class _Hostile:
    """Pickles to a call of os.system (created here, never loaded)."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo owned",))


def outputs_of(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").split("\n")
    out: dict[str, str] = {}
    i = 0
    while i < len(lines):
        if "<<" in lines[i]:
            name, delimiter = lines[i].split("<<", 1)
            end = lines.index(delimiter, i + 1)
            out[name] = "\n".join(lines[i + 1 : end])
            i = end
        i += 1
    return out


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(EXAMPLE, ws / "project", ignore=shutil.ignore_patterns("__pycache__"))
    for key in list(os.environ):
        if key.startswith(("INPUT_", "GITHUB_", "RUNNER_", "USC_")):
            monkeypatch.delenv(key)
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(ws),
        "GITHUB_JOB": "sbom",
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_OUTPUT": str(tmp_path / "output.txt"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "USC_MATRIX_JSON": json.dumps({"os": "ubuntu-latest", "python": "3.12"}),
        "INPUT_PATH": "project",
        "INPUT_OUTPUT_FILE": "out/sbom.cdx.json",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return ws


def run_action() -> int:
    try:
        return cli.main(["action"])
    except SystemExit as exc:
        return int(exc.code or 0)


def test_outputs_summary_and_artifact_name(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_action() == 0
    sbom = workspace / "out" / "sbom.cdx.json"
    outputs = outputs_of(workspace.parent / "output.txt")
    assert outputs == {
        "sbom-path": str(sbom.resolve()),
        "sbom-sha256": hashlib.sha256(sbom.read_bytes()).hexdigest(),
        "artifact-name": "sbom-sbom-ubuntu-latest-3.12",
        "model-count": "1",
        "dataset-count": "2",
        "hyperparameter-count": "1",
        "library-count": "3",
        "findings-count": "0",
        "upload-artifact": "true",
        "retention-days": "",
    }
    summary = (workspace.parent / "summary.md").read_text(encoding="utf-8")
    assert "```mermaid" in summary and "### Models" in summary
    out = capsys.readouterr().out
    assert "::group::usc: scan" in out and "::endgroup::" in out
    assert "::error" not in out and "::warning" not in out


def test_warning_annotations_bounded_with_notice(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for i in range(12):
        (workspace / "project" / "model" / f"broken-{i:02}.safetensors").write_bytes(
            BROKEN_SAFETENSORS
        )
    assert run_action() == 0
    out = capsys.readouterr().out.splitlines()
    warnings = [line for line in out if line.startswith("::warning ")]
    assert len(warnings) == 10
    assert all("file=project/model/broken-" in w for w in warnings), warnings[0]
    notices = [line for line in out if line.startswith("::notice ")]
    assert len(notices) == 1
    assert "2 more warnings not annotated" in notices[0]
    summary = (workspace.parent / "summary.md").read_text(encoding="utf-8")
    assert summary.count("broken-") >= 12, "every warning is in the summary"


def test_policy_failure_after_outputs(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (workspace / "project" / "model" / "extra.pkl").write_bytes(pickle.dumps(_Hostile()))
    monkeypatch.setenv("INPUT_FAIL_ON", "high")
    assert run_action() == cli.EXIT_FINDINGS
    outputs = outputs_of(workspace.parent / "output.txt")
    assert int(outputs["findings-count"]) >= 1
    assert Path(outputs["sbom-path"]).is_file(), "the SBOM is written before the step fails"
    out = capsys.readouterr().out.splitlines()
    errors = [line for line in out if line.startswith("::error ")]
    assert any("file=project/model/extra.pkl" in e for e in errors), errors
    assert errors[-1].startswith("::error title=usc%3A policy failed::")
    summary = (workspace.parent / "summary.md").read_text(encoding="utf-8")
    assert "### Findings" in summary and "extra.pkl" in summary


def test_without_fail_on_input_or_policy_high_fails(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Secure default (policy.config.DEFAULT_FAIL_ON): an empty `fail-on` and no policy file.
    (workspace / "project" / "model" / "extra.pkl").write_bytes(pickle.dumps(_Hostile()))
    assert run_action() == cli.EXIT_FINDINGS
    out = capsys.readouterr().out.splitlines()
    assert any(line.startswith("::error title=usc%3A policy failed::") for line in out), out
    assert any("at or above 'high'" in line for line in out)


def test_fail_on_none_reports_without_failing(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (workspace / "project" / "model" / "extra.pkl").write_bytes(pickle.dumps(_Hostile()))
    monkeypatch.setenv("INPUT_FAIL_ON", "none")
    assert run_action() == 0
    out = capsys.readouterr().out
    assert "::warning title=usc%3A unsafe-serialization" in out
    assert "policy failed" not in out


def test_runtime_error_is_annotated(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (workspace / "bad.cdx.json").write_text("not json", encoding="utf-8")
    monkeypatch.setenv("INPUT_MERGE", "bad.cdx.json")
    assert run_action() == cli.EXIT_ERROR
    out = capsys.readouterr().out
    assert out.count("::error ") == 1
    assert not (workspace / "out" / "sbom.cdx.json").exists()


def test_error_annotations_keep_room_for_the_verdict(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(12):
        (workspace / "project" / "model" / f"hostile-{i:02}.pkl").write_bytes(
            pickle.dumps(_Hostile())
        )
    monkeypatch.setenv("INPUT_FAIL_ON", "high")
    assert run_action() == cli.EXIT_FINDINGS
    out = capsys.readouterr().out.splitlines()
    errors = [line for line in out if line.startswith("::error ")]
    assert len(errors) == 10, "GitHub shows 10 errors per step: 9 findings and the verdict"
    assert errors[-1].startswith("::error title=usc%3A policy failed::12 policy findings")
    notices = [line for line in out if line.startswith("::notice ")]
    assert any("3 more errors not annotated" in n for n in notices), notices


def test_release_upload_without_token_is_a_usage_error(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    event = workspace.parent / "event.json"
    event.write_text(json.dumps({"release": {"id": 7}}), encoding="utf-8")
    monkeypatch.setenv("GITHUB_EVENT_NAME", "release")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    monkeypatch.setenv("GITHUB_REPOSITORY", "octo/app")
    monkeypatch.setenv("INPUT_UPLOAD_RELEASE_ASSETS", "true")
    assert run_action() == cli.EXIT_USAGE
    out = capsys.readouterr().out
    assert "::error title=usc%3A usage error::upload-release-assets needs a token" in out
    assert (workspace / "out" / "sbom.cdx.json").is_file()


def test_hash_cache_used_when_usc_cache_dir_is_set(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = workspace.parent / "usc-cache"
    assert run_action() == 0
    assert not cache.exists()  # no directory named: no cache written
    monkeypatch.setenv("USC_CACHE_DIR", str(cache))
    assert run_action() == 0
    (cache_file,) = cache.glob("hashes-*.json")
    entries = json.loads(cache_file.read_text())["entries"]
    assert "model/model.safetensors" in entries
