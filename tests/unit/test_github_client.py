"""The GitHub run environment, client set-up and error translation (no network)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from unified_supply_chain.errors import UsageError
from unified_supply_chain.github.client import (
    DEFAULT_API_URL,
    GitHubApiError,
    GitHubPermissionError,
    describe_exception,
    github_env,
    make_github,
    make_retry,
)

HEAD = "1" * 40
BASE = "2" * 40


def pr_event(tmp_path: Path, head_repo: str = "octo/app") -> Path:
    path = tmp_path / "event.json"
    path.write_text(
        json.dumps(
            {
                "number": 12,
                "pull_request": {
                    "number": 12,
                    "head": {"sha": HEAD, "ref": "feat", "repo": {"full_name": head_repo}},
                    "base": {"sha": BASE, "ref": "main", "repo": {"full_name": "octo/app"}},
                },
            }
        )
    )
    return path


def test_pull_request_event(tmp_path: Path) -> None:
    env = github_env(
        {
            "GITHUB_API_URL": "https://ghe.example.com/api/v3/",
            "GITHUB_SERVER_URL": "https://ghe.example.com",
            "GITHUB_REPOSITORY": "octo/app",
            "GITHUB_SHA": "f" * 40,
            "GITHUB_REF": "refs/pull/12/merge",
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(pr_event(tmp_path)),
            "GITHUB_RUN_ID": "99",
            "GITHUB_RUN_ATTEMPT": "2",
            "GITHUB_WORKFLOW": "ci",
            "GITHUB_JOB": "sbom",
            "GITHUB_TOKEN": "secret-token",
        }
    )
    assert env.api_url == "https://ghe.example.com/api/v3"
    assert env.pull_request is not None and env.pull_request.number == 12
    assert (env.head_sha, env.head_ref) == (HEAD, "refs/heads/feat")
    assert env.pull_request.base_sha == BASE
    assert env.run_url == "https://ghe.example.com/octo/app/actions/runs/99"
    assert not env.is_fork_pr
    assert "secret-token" not in repr(env) and "token='***'" in repr(env)


def test_fork_pull_request_is_detected(tmp_path: Path) -> None:
    env = github_env(
        {"GITHUB_REPOSITORY": "octo/app", "GITHUB_EVENT_PATH": str(pr_event(tmp_path, "fork/app"))}
    )
    assert env.is_fork_pr


def test_push_event_and_defaults(tmp_path: Path) -> None:
    event = tmp_path / "push.json"
    event.write_text(json.dumps({"ref": "refs/heads/main"}))
    env = github_env(
        {"GITHUB_SHA": "a" * 40, "GITHUB_REF": "refs/heads/main", "GITHUB_EVENT_PATH": str(event)}
    )
    assert env.pull_request is None
    assert (env.head_sha, env.head_ref) == ("a" * 40, "refs/heads/main")
    assert env.api_url == DEFAULT_API_URL and env.server_url == "https://github.com"
    assert env.token is None and env.run_url is None


def test_broken_event_file_is_a_usage_error(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text("{not json")
    with pytest.raises(UsageError, match="GITHUB_EVENT_PATH"):
        github_env({"GITHUB_EVENT_PATH": str(event)})


def test_missing_event_file_is_ignored(tmp_path: Path) -> None:
    env = github_env({"GITHUB_EVENT_PATH": str(tmp_path / "absent.json")})
    assert env.pull_request is None


def test_make_github_uses_the_enterprise_base_url() -> None:
    gh = make_github("t", "https://ghe.example.com/api/v3/", retry=False)
    assert gh.requester.base_url == "https://ghe.example.com/api/v3"


def test_make_github_needs_a_token() -> None:
    with pytest.raises(UsageError, match="GITHUB_TOKEN"):
        make_github("")


def test_token_is_masked_only_on_a_runner(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    make_github("tok-local", "http://127.0.0.1:9", retry=False)
    assert "tok-local" not in capsys.readouterr().out
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    make_github("tok-runner", "http://127.0.0.1:9", retry=False)
    assert capsys.readouterr().out == "::add-mask::tok-runner\n"


def test_retry_is_bounded_and_covers_patch() -> None:
    retry = make_retry()
    assert retry.total == 3
    assert {"GET", "POST", "PATCH"} <= set(retry.allowed_methods)
    assert 403 in retry.status_forcelist and 502 in retry.status_forcelist


def test_describe_exception_classifies() -> None:
    from github import GithubException

    forbidden = describe_exception(
        GithubException(403, {"message": "Resource not accessible by integration"}, None), "x"
    )
    assert isinstance(forbidden, GitHubPermissionError) and forbidden.status == 403
    invalid = describe_exception(
        GithubException(
            422,
            {"message": "Validation Failed", "errors": [{"code": "custom", "message": "bad sha"}]},
            None,
        ),
        "creating",
    )
    assert type(invalid) is GitHubApiError
    assert str(invalid) == "creating: GitHub answered 422: Validation Failed (bad sha)"
    import requests

    reset = describe_exception(requests.ConnectionError("Connection reset by peer"), "posting")
    assert reset.status is None and "no answer from GitHub after retries" in str(reset)
