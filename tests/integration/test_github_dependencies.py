"""Dependency submission: snapshot shape, event-derived sha/ref, faults, SBOM integrity."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.integration.github_fake import HEAD_SHA, SCHEMAS, TOKEN, FakeGitHub, Fault
from unified_supply_chain import cli
from unified_supply_chain.github import client
from unified_supply_chain.github.dependencies import DETECTOR_NAME, build_snapshot, correlator


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client, "RETRY_BACKOFF", 0.01)


def lib(name: str, version: str, source: str | None, **extra: Any) -> dict[str, Any]:
    comp: dict[str, Any] = {
        "type": "library",
        "bom-ref": f"pkg:pypi/{name}@{version}",
        "name": name,
        "version": version,
        "purl": f"pkg:pypi/{name}@{version}",
    }
    if source:
        comp["properties"] = [{"name": "usc:source", "value": source}]
    comp.update(extra)
    return comp


def sbom() -> dict[str, Any]:
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {"component": {"type": "application", "bom-ref": "app", "name": "ml-app"}},
        "components": [
            lib("numpy", "2.0.0", "requirements.txt"),
            lib("scipy", "1.14.0", "requirements.txt"),
            lib("pytest", "8.3.0", "requirements-dev.txt", scope="optional"),
            lib("leftpad", "1.0", None),
            {"type": "library", "bom-ref": "nopurl", "name": "vendored-thing"},
            {
                "type": "machine-learning-model",
                "bom-ref": "model:hf",
                "name": "bert-tiny",
                "purl": "pkg:huggingface/prajjwal1/bert-tiny@6f75de8b",
                "properties": [{"name": "usc:kind", "value": "model"}],
            },
            {
                "type": "machine-learning-model",
                "bom-ref": "model:local",
                "name": "clf",
                "properties": [{"name": "usc:kind", "value": "model"}],
            },
            {"type": "data", "bom-ref": "dataset:x", "name": "x", "data": [{"type": "dataset"}]},
        ],
        "dependencies": [
            {"ref": "app", "dependsOn": ["pkg:pypi/numpy@2.0.0", "model:hf", "model:local"]},
            {"ref": "pkg:pypi/numpy@2.0.0", "dependsOn": ["pkg:pypi/scipy@1.14.0"]},
        ],
    }


def test_build_snapshot_shape() -> None:
    snap = build_snapshot(
        sbom(),
        sha=HEAD_SHA,
        ref="refs/heads/main",
        job_correlator=correlator("wf", "job", "py3.11"),
        job_id="42",
        job_html_url="https://github.example.com/o/r/actions/runs/42",
        default_manifest="sbom.cdx.json",
        scanned=datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
    )
    body = snap.body
    assert not list(SCHEMAS["dependency-snapshot"].iter_errors(body))
    assert body["job"] == {
        "id": "42",
        "correlator": "wf_job_py3.11",
        "html_url": "https://github.example.com/o/r/actions/runs/42",
    }
    assert body["detector"]["name"] == DETECTOR_NAME
    assert body["scanned"] == "2026-01-02T03:04:05Z"
    manifests = body["manifests"]
    assert set(manifests) == {"requirements.txt", "requirements-dev.txt", "sbom.cdx.json"}
    req = manifests["requirements.txt"]["resolved"]
    assert req["pkg:pypi/numpy@2.0.0"] == {
        "package_url": "pkg:pypi/numpy@2.0.0",
        "scope": "runtime",
        "relationship": "direct",
        "dependencies": ["pkg:pypi/scipy@1.14.0"],
    }
    assert req["pkg:pypi/scipy@1.14.0"]["relationship"] == "indirect"
    dev = manifests["requirements-dev.txt"]["resolved"]["pkg:pypi/pytest@8.3.0"]
    assert dev["scope"] == "development"
    rest = manifests["sbom.cdx.json"]["resolved"]
    hf = rest["pkg:huggingface/prajjwal1/bert-tiny@6f75de8b"]
    assert hf["relationship"] == "direct" and hf["metadata"] == {"usc:kind": "model"}
    assert "pkg:pypi/leftpad@1.0" in rest
    # 5 packages; the library without a purl is named as skipped; purl-less ML items are not.
    assert snap.packages == 5
    assert snap.skipped == ("vendored-thing",)


def write_sbom(tmp_path: Path) -> Path:
    path = tmp_path / "sbom.cdx.json"
    path.write_text(json.dumps(sbom(), indent=2))
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_submit_on_pull_request_uses_the_head(
    fake_github: FakeGitHub, github_environ: dict[str, str], tmp_path: Path
) -> None:
    path = write_sbom(tmp_path)
    before = digest(path)
    args = ["submit-dependencies", str(path), "--correlator-hint", "py 3.11/linux"]
    assert cli.main(args) == 0
    (snap,) = fake_github.snapshots
    assert snap["sha"] == HEAD_SHA
    assert snap["ref"] == "refs/heads/feature/new-model"
    assert snap["job"]["correlator"] == "ml-pipeline_sbom_py-3.11-linux"
    assert snap["job"]["id"] == "4242"
    assert snap["job"]["html_url"] == "https://github.example.com/octo/ml-app/actions/runs/4242"
    (req,) = fake_github.requests_to("snapshots.create")
    assert req.path == "/api/v3/repos/octo/ml-app/dependency-graph/snapshots"
    assert digest(path) == before


def test_submit_on_push_uses_github_sha_and_ref(
    fake_github: FakeGitHub,
    github_environ: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITHUB_EVENT_NAME", "push")
    event = tmp_path / "push.json"
    event.write_text(json.dumps({"ref": "refs/heads/main", "after": "e" * 40}))
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    monkeypatch.setenv("GITHUB_SHA", "e" * 40)
    monkeypatch.setenv("GITHUB_REF", "refs/heads/main")
    assert cli.main(["submit-dependencies", str(write_sbom(tmp_path))]) == 0
    (snap,) = fake_github.snapshots
    assert (snap["sha"], snap["ref"]) == ("e" * 40, "refs/heads/main")
    assert snap["job"]["correlator"] == "ml-pipeline_sbom"


@pytest.mark.parametrize(
    "faults",
    [
        [Fault("status", 500)],
        [Fault("rate-limit", seconds=1)],
        [Fault("reset")],
        [Fault("slow", seconds=1.5)],
    ],
    ids=["500-then-ok", "secondary-rate-limit", "connection-reset", "timeout"],
)
def test_submit_survives_transient_faults(
    fake_github: FakeGitHub, github_environ: dict[str, str], tmp_path: Path, faults: list[Fault]
) -> None:
    path = write_sbom(tmp_path)
    before = digest(path)
    fake_github.inject("POST", "snapshots.create", *faults)
    assert cli.main(["submit-dependencies", str(path), "--timeout", "1"]) == 0
    # A request that timed out on our side may still have been stored by the server: the
    # repeat is harmless, as GitHub keeps the latest snapshot per correlator.
    slow = any(f.kind == "slow" for f in faults)
    assert len(fake_github.snapshots) == (2 if slow else 1)
    assert fake_github.snapshots[-1]["sha"] == HEAD_SHA
    assert len(fake_github.requests_to("snapshots.create")) == 1 + len(faults)
    assert digest(path) == before


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (Fault("forbidden"), "contents: write"),
        (Fault("unprocessable"), "GitHub answered 422: Validation Failed"),
    ],
    ids=["read-only-token", "422"],
)
def test_submit_failures_are_clear_and_leave_the_sbom(
    fake_github: FakeGitHub,
    github_environ: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fault: Fault,
    expected: str,
) -> None:
    path = write_sbom(tmp_path)
    before = digest(path)
    fake_github.inject("POST", "snapshots.create", fault)
    with pytest.raises(SystemExit) as exc:
        cli.main(["submit-dependencies", str(path)])
    assert exc.value.code == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert expected in err and "submitting the dependency snapshot" in err
    assert TOKEN not in err
    assert len(fake_github.requests_to("snapshots.create")) == 1  # neither is retried
    assert digest(path) == before


def test_persistent_reset_gives_up_with_a_clear_message(
    fake_github: FakeGitHub,
    github_environ: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write_sbom(tmp_path)
    fake_github.inject("POST", "snapshots.create", *[Fault("reset")] * 10)
    with pytest.raises(SystemExit) as exc:
        cli.main(["submit-dependencies", str(path)])
    assert exc.value.code == cli.EXIT_ERROR
    assert "no answer from GitHub after retries" in capsys.readouterr().err
    assert len(fake_github.requests_to("snapshots.create")) == 1 + client.MAX_RETRIES


def test_dry_run_prints_the_snapshot_without_a_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GITHUB_EVENT_PATH", raising=False)
    path = write_sbom(tmp_path)
    args = [
        "submit-dependencies",
        str(path),
        "--dry-run",
        "--sha",
        "d" * 40,
        "--ref",
        "refs/tags/v1",
    ]
    assert cli.main(args) == 0
    body = json.loads(capsys.readouterr().out)
    assert not list(SCHEMAS["dependency-snapshot"].iter_errors(body))
    assert body["ref"] == "refs/tags/v1"
