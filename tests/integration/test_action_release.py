"""`usc action` on a `release` event with upload-release-assets: the SBOM is attached to the
release through the fake GitHub API, an asset of the same name is replaced, and a 403 says which
permission is missing, after the SBOM and the outputs were written."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.integration.github_fake import API_PREFIX, REPOSITORY, TOKEN, FakeGitHub, Fault
from unified_supply_chain import cli
from unified_supply_chain.errors import UsageError
from unified_supply_chain.github.releases import PERMISSION_HINT, release_id_from_event

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "iris-classifier"


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
def release_run(
    fake_github: FakeGitHub,
    httpserver: HTTPServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, object]:
    rid = fake_github.new_id()
    fake_github.releases[rid] = {"id": rid, "tag_name": "v1.0.0", "name": "v1.0.0"}
    release_json = {
        "id": rid,
        "url": fake_github.url(f"/repos/{REPOSITORY}/releases/{rid}"),
        "assets_url": fake_github.url(f"/repos/{REPOSITORY}/releases/{rid}/assets"),
        "upload_url": fake_github.url(f"/repos/{REPOSITORY}/releases/{rid}/assets{{?name,label}}"),
        "tag_name": "v1.0.0",
        "name": "v1.0.0",
    }

    # The shared fake has no GET-release-by-id route; one-shot handlers are matched before its
    # catch-all, so this answers that one request per run.
    def get_release(request: Request) -> Response:
        return Response(json.dumps(release_json), content_type="application/json")

    def expect_get_release() -> None:
        httpserver.expect_oneshot_request(
            f"{API_PREFIX}/repos/{REPOSITORY}/releases/{rid}", method="GET"
        ).respond_with_handler(get_release)

    workspace = tmp_path / "ws"
    shutil.copytree(EXAMPLE, workspace, ignore=shutil.ignore_patterns("__pycache__"))
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"action": "published", "release": release_json}))
    output = tmp_path / "output.txt"
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_API_URL": fake_github.base_url,
        "GITHUB_REPOSITORY": REPOSITORY,
        "GITHUB_EVENT_NAME": "release",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_JOB": "sbom",
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "INPUT_UPLOAD_RELEASE_ASSETS": "true",
        "INPUT_GITHUB_TOKEN": TOKEN,
    }
    for key in list(os.environ):
        if key.startswith(("INPUT_", "GITHUB_", "RUNNER_", "USC_")):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return {"rid": rid, "workspace": workspace, "output": output, "expect": expect_get_release}


def run_action() -> int:
    try:
        return cli.main(["action"])
    except SystemExit as exc:
        return int(exc.code or 0)


def test_upload_then_replace(
    release_run: dict[str, object],
    fake_github: FakeGitHub,
    capsys: pytest.CaptureFixture[str],
) -> None:
    release_run["expect"]()  # type: ignore[operator]
    assert run_action() == 0
    out = capsys.readouterr().out
    assert f"::add-mask::{TOKEN}" in out
    sbom = Path(str(release_run["workspace"])) / "sbom.cdx.json"
    (asset,) = fake_github.assets.values()
    assert asset["name"] == "sbom-sbom.cdx.json"
    assert asset["release"] == release_run["rid"]
    assert asset["content_type"] == "application/vnd.cyclonedx+json"
    assert asset["data"] == sbom.read_bytes()
    first_id = asset["id"]

    release_run["expect"]()  # type: ignore[operator]
    assert run_action() == 0
    (again,) = fake_github.assets.values()
    assert again["id"] != first_id, "the old asset was deleted and a new one uploaded"
    assert again["data"] == sbom.read_bytes()
    assert len(fake_github.requests_to("releases.delete-asset")) == 1
    assert all(
        r.authorization == f"token {TOKEN}" or r.authorization == f"Bearer {TOKEN}"
        for r in fake_github.received
    )


def test_forbidden_names_contents_write_after_outputs(
    release_run: dict[str, object],
    fake_github: FakeGitHub,
    capsys: pytest.CaptureFixture[str],
) -> None:
    release_run["expect"]()  # type: ignore[operator]
    fake_github.inject("POST", "releases.upload", Fault("forbidden"))
    assert run_action() == cli.EXIT_ERROR
    captured = capsys.readouterr()
    errors = [line for line in captured.out.splitlines() if line.startswith("::error")]
    assert len(errors) == 1
    assert "contents: write" in errors[0]
    assert "403" in errors[0]
    assert "contents: write" in captured.err
    outputs = outputs_of(Path(str(release_run["output"])))
    assert Path(outputs["sbom-path"]).is_file(), "the SBOM and outputs come before the upload"
    assert fake_github.assets == {}


def test_not_a_release_event_skips_upload(
    release_run: dict[str, object],
    fake_github: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GITHUB_EVENT_NAME", "push")
    assert run_action() == 0
    assert fake_github.received == []
    assert "not a release event (push), skipped" in capsys.readouterr().err


def test_release_id_from_event() -> None:
    assert release_id_from_event({"release": {"id": 42}}) == 42
    for event in ({}, {"release": {}}, {"release": {"id": "42"}}, {"release": {"id": True}}, []):
        with pytest.raises(UsageError, match="release id"):
            release_id_from_event(event)
    assert "contents: write" in PERMISSION_HINT
