"""The fake GitHub's release routes work with PyGithub, for tests of release-asset upload."""

from __future__ import annotations

from pathlib import Path

from tests.integration.github_fake import REPOSITORY, TOKEN, FakeGitHub
from unified_supply_chain.github.client import make_github


def test_release_lookup_create_and_asset_upload(fake_github: FakeGitHub, tmp_path: Path) -> None:
    from github import GithubException

    gh = make_github(TOKEN, fake_github.base_url, retry=False, timeout=5)
    repo = gh.get_repo(REPOSITORY)
    try:
        repo.get_release("v1.0.0")
        raise AssertionError("the release should not exist yet")
    except GithubException as exc:
        assert exc.status == 404
    release = repo.create_git_release("v1.0.0", "v1.0.0", "notes")
    asset_file = tmp_path / "sbom.cdx.json"
    asset_file.write_bytes(b'{"bomFormat": "CycloneDX"}')
    asset = release.upload_asset(str(asset_file), content_type="application/json")
    assert asset.name == "sbom.cdx.json" and asset.size == asset_file.stat().st_size
    (stored,) = fake_github.assets.values()
    assert stored["data"] == asset_file.read_bytes()
    again = repo.get_release("v1.0.0")
    assert [a.name for a in again.get_assets()] == ["sbom.cdx.json"]
    asset.delete_asset()
    assert fake_github.assets == {}
