"""GitHub client set-up (GitHub.com or GHES through `GITHUB_API_URL`) and the run's environment.

`make_github` builds a PyGithub client with bounded retries; `github_env` reads the standard
variables of a GitHub Actions job (and the event payload) once into a typed record. PyGithub is
imported inside the functions so `usc --help` stays fast.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from unified_supply_chain.errors import FormatError, UsageError, UscError

if TYPE_CHECKING:
    import github

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_SERVER_URL = "https://github.com"

#: Total retries of one request (5xx, rate limits, connection resets, read timeouts).
MAX_RETRIES = 3
#: Exponential backoff factor between retries, in seconds (0.5, 1, 2, ...).
RETRY_BACKOFF = 0.5
#: Longest wait we accept for a rate limit to lift before giving up on a request, in seconds.
MAX_RATE_LIMIT_WAIT = 120.0
#: Wait before retrying a secondary rate limit that came without a Retry-After header.
SECONDARY_RATE_WAIT = 60.0
#: Largest event payload we read (GitHub caps webhook payloads at 25 MB).
MAX_EVENT_BYTES = 32 * 1024 * 1024


class GitHubApiError(UscError):
    """A GitHub API request failed after its bounded retries (the message says what and why)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        """HTTP status of the last answer, or None when no answer came (reset, timeout)."""


class GitHubPermissionError(GitHubApiError):
    """GitHub answered 403 (or 404 on a write): the token lacks a permission; callers degrade."""


@dataclass(frozen=True)
class PullRequestInfo:
    """The pull request of a `pull_request` / `pull_request_target` event."""

    number: int
    """Pull request number."""
    head_sha: str
    """Commit at the head of the PR branch (what the check run and snapshot describe)."""
    head_ref: str
    """Branch name of the head, without `refs/heads/`."""
    base_sha: str
    """Commit at the base of the PR (what the diff compares against)."""
    base_ref: str
    """Branch name of the base, without `refs/heads/`."""
    head_repo: str | None
    """owner/name of the head repository (differs from the base repository for fork PRs)."""


@dataclass(frozen=True)
class GitHubEnv:
    """The standard environment of a GitHub Actions job, parsed once."""

    api_url: str
    """REST API base URL (`GITHUB_API_URL`; GHES: https://HOST/api/v3)."""
    server_url: str
    """Web base URL (`GITHUB_SERVER_URL`)."""
    repository: str | None
    """owner/name (`GITHUB_REPOSITORY`)."""
    sha: str | None
    """Commit that triggered the run (`GITHUB_SHA`; the merge commit on pull_request)."""
    ref: str | None
    """Ref that triggered the run (`GITHUB_REF`)."""
    event_name: str | None
    """Event name (`GITHUB_EVENT_NAME`)."""
    event_path: str | None
    """Path of the event payload (`GITHUB_EVENT_PATH`)."""
    pull_request: PullRequestInfo | None
    """The pull request when the event is about one."""
    run_id: str | None
    """Workflow run id (`GITHUB_RUN_ID`)."""
    run_attempt: str | None
    """Attempt number of the run (`GITHUB_RUN_ATTEMPT`)."""
    workflow: str | None
    """Workflow name (`GITHUB_WORKFLOW`)."""
    job: str | None
    """Job id (`GITHUB_JOB`)."""
    token: str | None
    """`GITHUB_TOKEN` when set; never printed (see `__repr__`)."""

    def __repr__(self) -> str:
        shown = {k: v for k, v in self.__dict__.items() if k != "token"}
        shown["token"] = "***" if self.token else None
        inner = ", ".join(f"{k}={v!r}" for k, v in shown.items())
        return f"GitHubEnv({inner})"

    @property
    def head_sha(self) -> str | None:
        """The commit a report is about: the PR head on pull requests, else `GITHUB_SHA`."""
        if self.pull_request is not None:
            return self.pull_request.head_sha
        return self.sha

    @property
    def head_ref(self) -> str | None:
        """Full ref a report is about: `refs/heads/<PR head>` on pull requests, else GITHUB_REF."""
        if self.pull_request is not None and self.pull_request.head_ref:
            return f"refs/heads/{self.pull_request.head_ref}"
        return self.ref

    @property
    def run_url(self) -> str | None:
        """Link to the workflow run, when server, repository and run id are known."""
        if not (self.repository and self.run_id):
            return None
        return f"{self.server_url.rstrip('/')}/{self.repository}/actions/runs/{self.run_id}"

    @property
    def is_fork_pr(self) -> bool:
        """True when the PR comes from another repository (its token is read-only)."""
        pr = self.pull_request
        return bool(pr and pr.head_repo and self.repository and pr.head_repo != self.repository)


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _pull_request_from_event(event: object) -> PullRequestInfo | None:
    if not isinstance(event, dict):
        return None
    pr = event.get("pull_request")
    if not isinstance(pr, dict):
        return None
    head = pr.get("head") if isinstance(pr.get("head"), dict) else {}
    base = pr.get("base") if isinstance(pr.get("base"), dict) else {}
    assert isinstance(head, dict) and isinstance(base, dict)
    number = pr.get("number", event.get("number"))
    head_sha = _str_or_none(head.get("sha"))
    if not isinstance(number, int) or head_sha is None:
        return None
    head_repo_obj = head.get("repo")
    head_repo = (
        _str_or_none(head_repo_obj.get("full_name")) if isinstance(head_repo_obj, dict) else None
    )
    return PullRequestInfo(
        number=number,
        head_sha=head_sha,
        head_ref=_str_or_none(head.get("ref")) or "",
        base_sha=_str_or_none(base.get("sha")) or "",
        base_ref=_str_or_none(base.get("ref")) or "",
        head_repo=head_repo,
    )


def github_env(environ: Mapping[str, str] | None = None) -> GitHubEnv:
    """Read the GitHub Actions environment (and the event payload) into a `GitHubEnv`.

    Missing variables become None, so the same code runs locally. An event file that exists but is
    not JSON raises UsageError (a broken runner set-up, worth saying loudly).
    """
    from unified_supply_chain.safeparse import load_json_file

    env = os.environ if environ is None else environ

    def get(name: str) -> str | None:
        return _str_or_none(env.get(name))

    event_path = get("GITHUB_EVENT_PATH")
    pull_request = None
    if event_path and Path(event_path).is_file():
        try:
            event = load_json_file(Path(event_path), cap=MAX_EVENT_BYTES)
        except FormatError as exc:
            raise UsageError(f"GITHUB_EVENT_PATH {event_path}: {exc}") from exc
        pull_request = _pull_request_from_event(event)
    return GitHubEnv(
        api_url=(get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/"),
        server_url=(get("GITHUB_SERVER_URL") or DEFAULT_SERVER_URL).rstrip("/"),
        repository=get("GITHUB_REPOSITORY"),
        sha=get("GITHUB_SHA"),
        ref=get("GITHUB_REF"),
        event_name=get("GITHUB_EVENT_NAME"),
        event_path=event_path,
        pull_request=pull_request,
        run_id=get("GITHUB_RUN_ID"),
        run_attempt=get("GITHUB_RUN_ATTEMPT"),
        workflow=get("GITHUB_WORKFLOW"),
        job=get("GITHUB_JOB"),
        token=get("GITHUB_TOKEN"),
    )


def _mask(token: str) -> None:
    # Only through actions_io (which writes ::add-mask::); never print the token ourselves.
    import importlib

    try:
        actions_io = importlib.import_module("unified_supply_chain.actions_io")
    except ImportError:
        return
    in_actions = getattr(actions_io, "in_actions", None)
    if callable(in_actions) and not in_actions():
        return
    for name in ("add_mask", "mask"):
        fn = getattr(actions_io, name, None)
        if callable(fn):
            fn(token)
            return


def make_retry(
    total: int = MAX_RETRIES,
    backoff_factor: float = RETRY_BACKOFF,
    max_rate_limit_wait: float = MAX_RATE_LIMIT_WAIT,
) -> Any:
    """PyGithub's `GithubRetry`, bounded: 5xx, rate limits (Retry-After honoured), resets, timeouts.

    PATCH is added to the retried methods, since check-run and comment updates are idempotent.
    """
    from github.GithubRetry import GithubRetry
    from urllib3.util.retry import Retry

    return GithubRetry(
        total=total,
        connect=total,
        read=total,
        status=total,
        backoff_factor=backoff_factor,
        backoff_max=30,
        secondary_rate_wait=min(SECONDARY_RATE_WAIT, max_rate_limit_wait),
        max_rate_limit_wait=max_rate_limit_wait,
        allowed_methods=Retry.DEFAULT_ALLOWED_METHODS.union({"GET", "POST", "PATCH"}),
        raise_on_status=False,
    )


def make_github(
    token: str,
    api_url: str | None = None,
    *,
    retry: bool = True,
    timeout: int = 15,
    pace: bool = False,
    retry_total: int = MAX_RETRIES,
    backoff_factor: float = RETRY_BACKOFF,
) -> github.Github:
    """A PyGithub client for `api_url` (default `GITHUB_API_URL`, else api.github.com).

    `retry=False` disables retries (fast tests); `pace=True` keeps PyGithub's pacing between
    writes (off by default: one job sends a handful of requests). The token is masked in the
    Actions log when `actions_io` is available and is never printed by this module.
    """
    import github as gh
    from github import Auth

    if not token:
        raise UsageError("a GitHub token is needed: set GITHUB_TOKEN or pass --token")
    _mask(token)
    base_url = (api_url or os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")
    kwargs: dict[str, Any] = {}
    if not pace:
        kwargs["seconds_between_requests"] = None
        kwargs["seconds_between_writes"] = None
    return gh.Github(
        auth=Auth.Token(token),
        base_url=base_url,
        timeout=timeout,
        retry=make_retry(retry_total, backoff_factor) if retry else None,
        # Lazy objects: `get_repo(...)` costs no request, so one report is only the writes it needs.
        lazy=True,
        **kwargs,
    )


def describe_exception(exc: BaseException, what: str) -> GitHubApiError:
    """Turn a PyGithub / requests exception into a typed error with one clear line.

    403 (and 404, which GitHub answers for writes a token may not make) become
    GitHubPermissionError so callers can degrade instead of failing.
    """
    from github import GithubException

    if isinstance(exc, GithubException):
        status = exc.status
        data = exc.data if isinstance(exc.data, dict) else {}
        message = str(data.get("message") or exc.message or "").strip() or "no message"
        errors = data.get("errors")
        if isinstance(errors, list) and errors:
            details = "; ".join(
                str(e.get("message") or e.get("code") or e) if isinstance(e, dict) else str(e)
                for e in errors[:5]
            )
            message = f"{message} ({details})"
        text = f"{what}: GitHub answered {status}: {message}"
        if status in (401, 403, 404):
            return GitHubPermissionError(text, status)
        return GitHubApiError(text, status)
    reason = _root_cause(exc)
    return GitHubApiError(f"{what}: no answer from GitHub after retries: {reason}", None)


def _root_cause(exc: BaseException) -> str:
    seen: set[int] = set()
    cur: BaseException | None = exc
    last = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        last = cur
        inner = getattr(cur, "reason", None)
        cur = inner if isinstance(inner, BaseException) else (cur.__cause__ or cur.__context__)
    name = type(last).__name__
    text = str(last).strip()
    top = type(exc).__name__
    return f"{top} ({name}: {text})" if text and last is not exc else f"{top}: {exc}"


def api_call(what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call `fn(*args, **kwargs)`, turning any request failure into a typed GitHubApiError."""
    import requests
    from github import GithubException

    try:
        return fn(*args, **kwargs)
    except (GithubException, requests.RequestException) as exc:
        raise describe_exception(exc, what) from exc
