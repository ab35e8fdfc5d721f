"""Attach a file to a GitHub release, replacing an asset of the same name.

Used by the action on `release` events when `upload-release-assets` is true. A token without
`contents: write` gets 403 ("Resource not accessible by integration"); we say which permission
is missing instead of passing GitHub's words on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unified_supply_chain.errors import UsageError
from unified_supply_chain.github.client import (
    GitHubApiError,
    GitHubPermissionError,
    api_call,
)

#: Media type of CycloneDX JSON (registered with IANA).
CYCLONEDX_JSON_MEDIA_TYPE = "application/vnd.cyclonedx+json"

PERMISSION_HINT = (
    "the token needs the `contents: write` permission to upload release assets: add "
    "`permissions: { contents: write }` to the job (or pass a `github-token` that has it)"
)


@dataclass(frozen=True)
class UploadedAsset:
    """A release asset we uploaded."""

    name: str
    """Asset name as GitHub stored it."""
    url: str
    """Download URL (`browser_download_url`)."""
    replaced: bool
    """True when an asset of the same name existed and was deleted first."""


def release_id_from_event(event: object) -> int:
    """The release id of a `release` event payload; UsageError when it has none."""
    release = event.get("release") if isinstance(event, Mapping) else None
    release_id = release.get("id") if isinstance(release, Mapping) else None
    if not isinstance(release_id, int) or isinstance(release_id, bool):
        raise UsageError("the event payload has no release id: is this a `release` event?")
    return release_id


def _permission(exc: GitHubPermissionError) -> GitHubPermissionError:
    return GitHubPermissionError(f"{exc}; {PERMISSION_HINT}", exc.status)


def upload_release_asset(
    gh: Any,
    repository: str,
    release_id: int,
    path: Path,
    *,
    name: str | None = None,
    content_type: str = CYCLONEDX_JSON_MEDIA_TYPE,
) -> UploadedAsset:
    """Upload `path` to release `release_id` of `repository` ("owner/name") as `name`.

    An existing asset with that name is deleted first (GitHub refuses duplicates with 422).
    Raises GitHubPermissionError (naming `contents: write`) on 401/403/404 answers, and
    GitHubApiError on other failures.
    """
    asset_name = name or path.name
    try:
        repo = api_call(f"get repository {repository}", gh.get_repo, repository)
        release = api_call(f"get release {release_id}", repo.get_release, release_id)
        replaced = False
        for asset in api_call("list release assets", lambda: list(release.get_assets())):
            if asset.name == asset_name:
                api_call(f"delete release asset {asset_name}", asset.delete_asset)
                replaced = True
        uploaded = api_call(
            f"upload release asset {asset_name}",
            release.upload_asset,
            str(path),
            content_type=content_type,
            name=asset_name,
        )
    except GitHubPermissionError as exc:
        raise _permission(exc) from exc
    return UploadedAsset(
        name=str(uploaded.name),
        url=str(uploaded.browser_download_url),
        replaced=replaced,
    )


__all__ = [
    "CYCLONEDX_JSON_MEDIA_TYPE",
    "GitHubApiError",
    "GitHubPermissionError",
    "UploadedAsset",
    "release_id_from_event",
    "upload_release_asset",
]
