"""A sticky pull-request comment: one comment, found by a hidden marker, updated in place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from unified_supply_chain.github.client import api_call

if TYPE_CHECKING:
    import github

#: GitHub's limit on a comment body, in characters.
MAX_COMMENT_CHARS = 65536
#: Comments looked at when searching for ours (busy PRs have hundreds; we stop there).
MAX_COMMENTS_SCANNED = 3000
_TRUNCATED = "\n\n> **Note:** truncated to fit GitHub's comment size limit.\n"


def marker(key: str = "sbom-diff") -> str:
    """The hidden HTML comment that identifies our comment for `key`."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in key)
    return f"<!-- unified-supply-chain:{safe} -->"


@dataclass(frozen=True)
class StickyComment:
    """The comment written."""

    comment_id: int
    """Id of the issue comment."""
    created: bool
    """True when created, False when an existing one was updated."""
    html_url: str | None
    """Link to the comment."""


def comment_body(markdown: str, key: str = "sbom-diff") -> str:
    """`markdown` with our marker on the first line, cut to GitHub's limit."""
    head = marker(key) + "\n"
    body = head + markdown
    if len(body) <= MAX_COMMENT_CHARS:
        return body
    room = MAX_COMMENT_CHARS - len(head) - len(_TRUNCATED)
    cut = markdown[:room]
    nl = cut.rfind("\n")
    if nl > room // 2:
        cut = cut[:nl]
    return head + cut + _TRUNCATED


def upsert_sticky_comment(
    gh: github.Github,
    repository: str,
    number: int,
    markdown: str,
    *,
    key: str = "sbom-diff",
) -> StickyComment:
    """Update our comment on PR `number` (found by its marker) or create it.

    Raises GitHubPermissionError when the token may not comment (fork PRs), GitHubApiError for
    other failures after retries.
    """
    body = comment_body(markdown, key)
    tag = marker(key)
    issue = gh.get_repo(repository).get_issue(number)

    def find() -> Any:
        for comment in _scan(issue.get_comments()):
            if tag in (comment.body or ""):
                return comment
        return None

    mine = api_call("listing PR comments", find)
    if mine is not None:
        api_call("updating the PR comment", mine.edit, body)
        return StickyComment(int(mine.id), False, getattr(mine, "html_url", None))
    created = api_call("creating the PR comment", issue.create_comment, body)
    return StickyComment(int(created.id), True, getattr(created, "html_url", None))


def _scan(paginated: Any) -> Any:
    for i, comment in enumerate(paginated):
        if i >= MAX_COMMENTS_SCANNED:
            return
        yield comment
