"""Check runs: create one in progress, then complete it with a summary and batched annotations.

GitHub accepts at most 50 annotations per request and appends those of later updates, so the
annotations are sent in batches: all but the last on in-progress updates, the last on the update
that completes the run (so the conclusion appears only once every annotation is there).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from unified_supply_chain.github.client import (
    GitHubApiError,
    GitHubPermissionError,
    api_call,
)
from unified_supply_chain.report.check_run import (
    MAX_SUMMARY_CHARS,
    Annotation,
    CheckRunOutput,
)
from unified_supply_chain.report.check_run import (
    AnnotationLevel as AnnotationLevel,  # re-exported: callers build annotations from here
)

if TYPE_CHECKING:
    import github

#: GitHub's limit of annotations per create/update request.
ANNOTATIONS_PER_REQUEST = 50
#: Annotations we send for one check run at most (the rest are counted in the summary).
MAX_ANNOTATIONS = 1000
#: The permission a workflow needs to create check runs.
CHECKS_PERMISSION = "checks: write"


class Conclusion(str, enum.Enum):
    """How a completed check run ends."""

    SUCCESS = "success"
    NEUTRAL = "neutral"
    FAILURE = "failure"


class ChecksPermissionError(GitHubPermissionError):
    """The token may not create check runs (read-only token, fork PR): degrade to the summary."""


@dataclass(frozen=True)
class CheckRunResult:
    """What was published."""

    check_run_id: int
    """Id of the check run."""
    html_url: str | None
    """Link to the check run on GitHub."""
    annotations_sent: int
    """Annotations sent (at most MAX_ANNOTATIONS)."""
    requests: int
    """Create and update requests made (each retried by the client as needed)."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def batches(
    annotations: Sequence[Annotation], size: int = ANNOTATIONS_PER_REQUEST
) -> list[list[Annotation]]:
    """Annotations in batches of `size` (at most MAX_ANNOTATIONS in all)."""
    kept = list(annotations[:MAX_ANNOTATIONS])
    return [kept[i : i + size] for i in range(0, len(kept), size)]


def _repo(gh: github.Github, repository: str) -> Any:
    return gh.get_repo(repository)


def start_check_run(
    gh: github.Github,
    repository: str,
    *,
    name: str,
    head_sha: str,
    details_url: str | None = None,
    external_id: str | None = None,
) -> Any:
    """Create a check run in progress; returns PyGithub's CheckRun.

    A 403/404 raises ChecksPermissionError (the caller degrades); other failures raise
    GitHubApiError after the client's bounded retries.
    """
    kwargs: dict[str, Any] = {
        "name": name,
        "head_sha": head_sha,
        "status": "in_progress",
        "started_at": _now(),
    }
    if details_url:
        kwargs["details_url"] = details_url
    if external_id:
        kwargs["external_id"] = external_id
    repo = _repo(gh, repository)
    try:
        return api_call("creating the check run", repo.create_check_run, **kwargs)
    except GitHubPermissionError as exc:
        raise ChecksPermissionError(
            f"{exc}; the workflow token needs `{CHECKS_PERMISSION}` (fork pull requests get a "
            "read-only token)",
            exc.status,
        ) from exc


def complete_check_run(
    check_run: Any,
    *,
    conclusion: Conclusion,
    title: str,
    summary: str,
    annotations: Sequence[Annotation] = (),
    text: str | None = None,
) -> tuple[int, int]:
    """Send the annotations in batches and complete the run; returns (requests, annotations sent).

    Every batch but the last goes on an in-progress update; the last goes with the conclusion.
    """
    parts = batches(annotations)
    requests = 0
    sent = 0

    def output(batch: list[Annotation] | None) -> dict[str, Any]:
        return CheckRunOutput(title, summary, tuple(batch or ()), text).to_api()

    for i, batch in enumerate(parts[:-1]):
        api_call(
            f"sending annotations (batch {i + 1} of {len(parts)})",
            check_run.edit,
            status="in_progress",
            output=output(batch),
        )
        requests += 1
        sent += len(batch)
    last = parts[-1] if parts else None
    api_call(
        "completing the check run",
        check_run.edit,
        status="completed",
        conclusion=conclusion.value,
        completed_at=_now(),
        output=output(last),
    )
    requests += 1
    sent += len(last or [])
    return requests, sent


def publish_check_run(
    gh: github.Github,
    repository: str,
    *,
    name: str,
    head_sha: str,
    conclusion: Conclusion,
    title: str,
    summary: str,
    annotations: Sequence[Annotation] = (),
    details_url: str | None = None,
    check_run: Any = None,
) -> CheckRunResult:
    """Create (unless `check_run` was started already) and complete a check run.

    If completing fails after the run was created, one last update marks it completed with a
    short note, so no run is left spinning in the pull request; the original error is raised.
    """
    requests = 0
    if check_run is None:
        check_run = start_check_run(
            gh, repository, name=name, head_sha=head_sha, details_url=details_url
        )
        requests += 1
    try:
        more, sent = complete_check_run(
            check_run, conclusion=conclusion, title=title, summary=summary, annotations=annotations
        )
    except GitHubApiError as exc:
        abandon_check_run(check_run, f"The report could not be published in full: {exc}")
        raise
    return CheckRunResult(
        check_run_id=int(check_run.id),
        html_url=getattr(check_run, "html_url", None),
        annotations_sent=sent,
        requests=requests + more,
    )


def abandon_check_run(check_run: Any, message: str) -> bool:
    """Best effort: complete a started run as neutral with `message`; True when it worked."""
    try:
        api_call(
            "closing the check run",
            check_run.edit,
            status="completed",
            conclusion=Conclusion.NEUTRAL.value,
            completed_at=_now(),
            output={"title": "Report incomplete", "summary": message[:MAX_SUMMARY_CHARS]},
        )
    except GitHubApiError:
        return False
    return True


def details_url(server_url: str, repository: str | None, run_id: str | None) -> str | None:
    """The workflow run's page, linked from the check run."""
    if not (repository and run_id):
        return None
    return f"{server_url.rstrip('/')}/{repository}/actions/runs/{run_id}"
