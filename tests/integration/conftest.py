"""Fixtures of the integration tests: a fake GitHub API and a pull_request run's environment.

The fake itself lives in github_fake.py so tests can import its names (Fault, constants).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.integration.github_fake import (
    API_PREFIX,
    BASE_SHA,
    HEAD_SHA,
    REPOSITORY,
    TOKEN,
    FakeGitHub,
    handle,
)


@pytest.fixture
def fake_github(httpserver: HTTPServer) -> Iterator[FakeGitHub]:
    """A fake GitHub API at `fake.base_url` (GHES-style `/api/v3` prefix)."""
    fake = FakeGitHub(server=httpserver, base_url=httpserver.url_for(API_PREFIX).rstrip("/"))
    for method in ("GET", "POST", "PATCH", "PUT", "DELETE"):
        httpserver.expect_request(re.compile(r"^/.*"), method=method).respond_with_handler(
            lambda request: handle(fake, request)
        )
    yield fake
    httpserver.clear()
    # A body GitHub would refuse is a failure of the test that sent it, whatever it asserted.
    assert not fake.schema_errors, fake.schema_errors


@pytest.fixture
def github_environ(
    fake_github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """A pull_request run's environment pointing at the fake API (set in os.environ too)."""
    event = {
        "number": 7,
        "pull_request": {
            "number": 7,
            "head": {
                "sha": HEAD_SHA,
                "ref": "feature/new-model",
                "repo": {"full_name": REPOSITORY},
            },
            "base": {"sha": BASE_SHA, "ref": "main", "repo": {"full_name": REPOSITORY}},
        },
    }
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps(event))
    summary = tmp_path / "step-summary.md"
    output = tmp_path / "github-output.txt"
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_API_URL": fake_github.base_url,
        "GITHUB_SERVER_URL": "https://github.example.com",
        "GITHUB_REPOSITORY": REPOSITORY,
        "GITHUB_SHA": "f" * 40,
        "GITHUB_REF": "refs/pull/7/merge",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_RUN_ID": "4242",
        "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_WORKFLOW": "ml-pipeline",
        "GITHUB_JOB": "sbom",
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(output),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("RUNNER_DEBUG", raising=False)
    return env
