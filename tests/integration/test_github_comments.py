"""The sticky PR comment against the fake GitHub: created once, then updated in place."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.github_fake import REPOSITORY, TOKEN, FakeGitHub, Fault
from unified_supply_chain.github.client import GitHubApiError, GitHubPermissionError, make_github
from unified_supply_chain.github.comments import (
    MAX_COMMENT_CHARS,
    comment_body,
    marker,
    upsert_sticky_comment,
)


def gh_for(fake: FakeGitHub, *, retry: bool = False) -> Any:
    return make_github(TOKEN, fake.base_url, retry=retry, timeout=5, backoff_factor=0.01)


def test_creates_then_updates_in_place(fake_github: FakeGitHub) -> None:
    gh = gh_for(fake_github)
    first = upsert_sticky_comment(gh, REPOSITORY, 7, "first report")
    assert first.created
    second = upsert_sticky_comment(gh, REPOSITORY, 7, "second report")
    assert not second.created and second.comment_id == first.comment_id
    (comment,) = fake_github.comments.values()
    assert comment["body"] == f"{marker()}\nsecond report"
    assert len(fake_github.requests_to("comments.create")) == 1
    assert len(fake_github.requests_to("comments.update")) == 1


def test_finds_its_comment_among_many_on_a_later_page(fake_github: FakeGitHub) -> None:
    for i in range(45):
        fake_github.add_comment(7, f"human comment {i}")
    mine = fake_github.add_comment(7, f"{marker()}\nold report")
    fake_github.add_comment(7, "a later human comment")
    fake_github.add_comment(8, f"{marker()}\nanother PR's report")
    result = upsert_sticky_comment(gh_for(fake_github), REPOSITORY, 7, "new report")
    assert result.comment_id == mine and not result.created
    assert fake_github.comments[mine]["body"].endswith("new report")
    # Pages were followed (30 per page), other comments are untouched.
    assert len(fake_github.requests_to("comments.list")) == 2
    assert fake_github.comments[mine + 1]["body"] == "a later human comment"
    others = [c for c in fake_github.comments.values() if c["_issue"] == 8]
    assert others[0]["body"].endswith("another PR's report")


def test_separate_keys_make_separate_comments(fake_github: FakeGitHub) -> None:
    gh = gh_for(fake_github)
    upsert_sticky_comment(gh, REPOSITORY, 7, "diff", key="sbom-diff")
    upsert_sticky_comment(gh, REPOSITORY, 7, "release", key="release notes")
    bodies = sorted(c["body"].splitlines()[0] for c in fake_github.comments.values())
    assert bodies == [
        "<!-- unified-supply-chain:release-notes -->",
        "<!-- unified-supply-chain:sbom-diff -->",
    ]


def test_long_body_is_cut_to_githubs_limit(fake_github: FakeGitHub) -> None:
    text = "| row |\n" * 20000
    body = comment_body(text)
    assert len(body) <= MAX_COMMENT_CHARS and "truncated" in body
    upsert_sticky_comment(gh_for(fake_github), REPOSITORY, 7, text)
    (comment,) = fake_github.comments.values()
    assert len(comment["body"]) <= MAX_COMMENT_CHARS  # and the schema check passed


def test_forbidden_comment_is_a_permission_error(fake_github: FakeGitHub) -> None:
    fake_github.inject("POST", "comments.create", Fault("forbidden"))
    with pytest.raises(GitHubPermissionError) as exc:
        upsert_sticky_comment(gh_for(fake_github, retry=True), REPOSITORY, 7, "x")
    assert "creating the PR comment" in str(exc.value) and exc.value.status == 403


def test_listing_survives_a_500_and_a_reset(fake_github: FakeGitHub) -> None:
    fake_github.inject("GET", "comments.list", Fault("status", 500), Fault("reset"))
    result = upsert_sticky_comment(gh_for(fake_github, retry=True), REPOSITORY, 7, "x")
    assert result.created
    assert len(fake_github.requests_to("comments.list")) == 3


def test_update_422_is_a_clear_error(fake_github: FakeGitHub) -> None:
    fake_github.add_comment(7, f"{marker()}\nold")
    fake_github.inject("PATCH", "comments.update", Fault("unprocessable"))
    with pytest.raises(GitHubApiError) as exc:
        upsert_sticky_comment(gh_for(fake_github, retry=True), REPOSITORY, 7, "x")
    assert "updating the PR comment: GitHub answered 422" in str(exc.value)
