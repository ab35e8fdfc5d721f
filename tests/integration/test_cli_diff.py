"""`usc diff` driven in-process: files, git refs through temporary worktrees, exit codes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from unified_supply_chain import cli
from unified_supply_chain.commands import diff as diff_command

SHA_A = "a" * 64
SHA_B = "b" * 64


def doc(*components: dict[str, Any]) -> dict[str, Any]:
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "components": list(components),
    }


def model(sha: str, lr_metric: str = "0.9") -> dict[str, Any]:
    return {
        "type": "machine-learning-model",
        "name": "clf",
        "hashes": [{"alg": "SHA-256", "content": sha}],
        "properties": [
            {"name": "usc:kind", "value": "model"},
            {"name": "usc:path", "value": "models/clf.safetensors"},
        ],
        "modelCard": {
            "quantitativeAnalysis": {
                "performanceMetrics": [{"type": "accuracy", "value": lr_metric}]
            }
        },
    }


def write(path: Path, value: dict[str, Any]) -> Path:
    path.write_text(json.dumps(value))
    return path


def test_identical_files_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = write(tmp_path / "a.json", doc(model(SHA_A)))
    b = write(tmp_path / "b.json", doc(model(SHA_A)))
    assert cli.main(["diff", str(a), str(b)]) == 0
    assert "No changes" in capsys.readouterr().out


def test_changed_files_exit_1_markdown_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = write(tmp_path / "a.json", doc(model(SHA_A, "0.90")))
    b = write(tmp_path / "b.json", doc(model(SHA_B, "0.95")))
    before = (a.read_bytes(), b.read_bytes())
    assert cli.main(["diff", str(a), str(b)]) == 1
    out = capsys.readouterr().out
    assert "### Models" in out and "| accuracy | — | 0.90 | 0.95 | ▲ +0.05 |" in out
    report = tmp_path / "out" / "diff.json"
    report.parent.mkdir()
    assert cli.main(["diff", str(a), str(b), "--format", "json", "-o", str(report)]) == 1
    data = json.loads(report.read_text())
    assert data["changed"] is True
    assert data["models"]["changed"][0]["metrics"][0]["delta"] == pytest.approx(0.05)
    # diff never writes to its inputs.
    assert (a.read_bytes(), b.read_bytes()) == before


def test_not_an_sbom_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    good = write(tmp_path / "good.json", doc())
    with pytest.raises(SystemExit) as exc:
        cli.main(["diff", str(bad), str(good)])
    assert exc.value.code == cli.EXIT_USAGE
    assert "not a CycloneDX JSON document" in capsys.readouterr().err


def test_unknown_ref_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = _git_repo(tmp_path)
    with pytest.raises(SystemExit) as exc:
        cli.main(["diff", "no-such-ref", "HEAD", "--repo", str(repo)])
    assert exc.value.code == cli.EXIT_USAGE
    assert "neither a file, a directory nor a git ref" in capsys.readouterr().err


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def _git_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "t@example.com")
    _git(repo, "config", "user.name", "t")
    (repo / "sbom-source.json").write_text(json.dumps(doc(model(SHA_A))))
    _git(repo, "add", "sbom-source.json")
    _git(repo, "commit", "-q", "-m", "one")
    _git(repo, "tag", "v1")
    (repo / "sbom-source.json").write_text(json.dumps(doc(model(SHA_B))))
    _git(repo, "commit", "-q", "-am", "two")
    return repo


def test_git_refs_through_worktrees(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _git_repo(tmp_path)
    seen: list[Path] = []

    def fake_generate(root: Path) -> dict[str, Any]:
        # Stands in for the scan: the tree's own file is the document, so the test sees
        # exactly which commit each worktree held.
        seen.append(root)
        assert (root / ".git").is_file(), "a linked worktree, not the main checkout"
        return json.loads((root / "sbom-source.json").read_text())

    monkeypatch.setattr(diff_command, "generate_document", fake_generate)
    status_before = _git(repo, "status", "--porcelain")
    assert cli.main(["diff", "v1", "main", "--repo", str(repo), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    (change,) = data["models"]["changed"]
    assert change["fields"][0]["old"] == f"SHA-256:{SHA_A}"
    assert change["fields"][0]["new"] == f"SHA-256:{SHA_B}"
    # Both worktrees are gone and the repository is untouched.
    assert len(seen) == 2 and not any(p.exists() for p in seen)
    assert _git(repo, "worktree", "list").count("\n") == 0
    assert _git(repo, "status", "--porcelain") == status_before


def test_worktree_removed_when_generation_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _git_repo(tmp_path)
    seen: list[Path] = []

    def failing(root: Path) -> dict[str, Any]:
        seen.append(root)
        from unified_supply_chain.errors import UscError

        raise UscError("scan failed on purpose")

    monkeypatch.setattr(diff_command, "generate_document", failing)
    with pytest.raises(SystemExit) as exc:
        cli.main(["diff", "v1", "main", "--repo", str(repo)])
    assert exc.value.code == cli.EXIT_ERROR
    assert "scan failed on purpose" in capsys.readouterr().err
    assert seen and not seen[0].exists()
    assert _git(repo, "worktree", "list").count("\n") == 0


def test_help_documents_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["diff", "--help"])
    out = capsys.readouterr().out
    assert "0 = no differences, 1 = differences found" in out


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "iris-classifier"


def test_real_scan_of_two_commits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The example project, then a commit that retrains: every ML change kind, real pipeline."""
    import shutil

    import numpy as np
    from safetensors.numpy import load_file, save_file

    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "t@example.com")
    _git(repo, "config", "user.name", "t")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")

    params = repo / "params.yaml"
    params.write_text(params.read_text().replace("learning_rate: 0.1", "learning_rate: 0.05"))
    metrics = json.loads((repo / "metrics.json").read_text())
    metrics["accuracy"] = 0.99
    (repo / "metrics.json").write_text(json.dumps(metrics, indent=2))
    reqs = repo / "requirements.txt"
    reqs.write_text(reqs.read_text().replace("numpy==2.4.6", "numpy==2.5.0"))
    weights = {
        k: v + np.float32(0.5) for k, v in load_file(repo / "model/model.safetensors").items()
    }
    save_file(weights, repo / "model/model.safetensors")
    _git(repo, "commit", "-q", "-am", "retrain")

    assert cli.main(["diff", "HEAD~1", "HEAD", "--repo", str(repo), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    (hp,) = data["hyperparameters"]["changed"]
    assert {"key": "train.learning_rate", "old": "0.1", "new": "0.05"} in hp["params"]
    (model,) = data["models"]["changed"]
    assert "hash" in [f["field"] for f in model["fields"]]
    moved = {(m["type"], m["slice"]): m for m in model["metrics"]}
    assert moved[("accuracy", None)]["delta"] == pytest.approx(0.99 - 0.986667)
    (numpy_change,) = data["libraries"]["changed"]
    assert numpy_change["fields"] == [{"field": "version", "old": "2.4.6", "new": "2.5.0"}]
    assert data["datasets"]["changed"] == [] and data["datasets"]["unchanged"] == 2
    assert _git(repo, "worktree", "list").count("\n") == 0

    # A directory on one side and an SBOM file on the other work too.
    head_sbom = tmp_path / "head.json"
    assert cli.main(["diff", str(repo), str(repo), "-o", str(head_sbom)]) == 0
    assert "No changes" in head_sbom.read_text()
