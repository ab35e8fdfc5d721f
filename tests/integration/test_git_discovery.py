"""Discovery in a git work tree is git's view: tracked files always, untracked ones per git's rules.

Each repository is generated here with the real `git`, and the expected file set is asked of git
itself: `git ls-files --cached` for tracked files and `git check-ignore` for untracked ones
(https://git-scm.com/docs/git-ls-files, https://git-scm.com/docs/git-check-ignore,
https://git-scm.com/docs/gitignore for the pattern rules, including "It is not possible to
re-include a file if a parent directory of that file is excluded").
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import (
    assert_valid_cyclonedx,
    commit_all,
    components_by_path,
    git,
    init_repo,
    run_usc,
    system_payload,
    write_file,
)
from unified_supply_chain.discover.gittree import discover, parse_ls_files
from unified_supply_chain.discover.walk import walk

#: The ignore rules of the issue's Kedro-style layout plus training outputs and models.
GITIGNORE = """\
lightning_logs/
*.pt
venv/
data/**
!data/**/
!data/01_raw/*
"""


def _all_files(root: Path) -> list[str]:
    """Every regular file under `root` outside `.git`, as POSIX paths relative to it."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in filenames:
            full = Path(dirpath, name)
            if full.is_file() and not full.is_symlink():
                found.append(full.relative_to(root).as_posix())
    return sorted(found)


def _git_expected(repo: Path) -> set[str]:
    """Tracked files plus the untracked files `git check-ignore` does not ignore."""
    tracked = set(git(repo, "ls-files", "--cached").splitlines())
    untracked = [p for p in _all_files(repo) if p not in tracked]
    done = subprocess.run(
        ["git", "-C", str(repo), "check-ignore", "--stdin"],
        input="\n".join(untracked) + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr  # 1: none of them is ignored
    ignored = set(done.stdout.splitlines())
    return tracked | {p for p in untracked if p not in ignored}


@pytest.fixture
def ml_repo(tmp_path: Path) -> Path:
    """A repository with committed-then-ignored outputs, a force-added model and negations."""
    repo = init_repo(tmp_path / "repo")
    write_file(repo / ".gitignore", GITIGNORE)
    write_file(repo / "train.py", "print('train')\n")
    write_file(repo / "lightning_logs/version_0/hparams.yaml", "lr: 0.1\n")
    write_file(repo / "lightning_logs/version_0/metrics.csv", "epoch,loss\n0,1.0\n")
    write_file(repo / "models/forced.pt", pickle.dumps({"w": [1.0, 2.0]}, protocol=2))
    commit_all(repo, "code")
    # Committed although ignored: `git add -f` (https://git-scm.com/docs/git-add, --force).
    git(repo, "add", "-f", "lightning_logs", "models/forced.pt")
    git(repo, "commit", "-q", "-m", "outputs")
    # Untracked files, kept or dropped by the negations alone.
    write_file(repo / "data/01_raw/iris.csv", "a,b\n1,2\n")
    write_file(repo / "data/01_raw/deeper/rows.csv", "a,b\n1,2\n")
    write_file(repo / "data/02_intermediate/clean.csv", "a,b\n1,2\n")
    write_file(repo / "data/notes.csv", "a\n1\n")
    write_file(repo / "scratch.pt", pickle.dumps([1], protocol=2))
    write_file(repo / "eval.py", "print('eval')\n")
    return repo


def test_file_set_is_gits_own(ml_repo: Path) -> None:
    found = discover(ml_repo)
    paths = {f.path for f in found.files}
    assert paths == _git_expected(ml_repo)
    # What that means here, spelled out so a change in git's answer would show.
    assert {
        "lightning_logs/version_0/hparams.yaml",
        "lightning_logs/version_0/metrics.csv",
        "models/forced.pt",
        "data/01_raw/iris.csv",
        "eval.py",
    } <= paths
    assert "scratch.pt" not in paths  # untracked and ignored
    assert "data/02_intermediate/clean.csv" not in paths
    assert "data/notes.csv" not in paths
    assert not found.problems


def test_walker_without_git_misses_what_git_keeps(ml_repo: Path) -> None:
    """The walker (no git) is what ran before: it drops the committed-then-ignored files."""
    walked = {f.path for f in walk(ml_repo).files}
    assert "models/forced.pt" not in walked
    assert "lightning_logs/version_0/hparams.yaml" not in walked


def test_blob_ids_are_the_index_object_ids(ml_repo: Path) -> None:
    by_path = {f.path: f for f in discover(ml_repo).files}
    for rel in ("models/forced.pt", "train.py", "lightning_logs/version_0/metrics.csv"):
        assert by_path[rel].blob == git(ml_repo, "hash-object", rel)
    assert by_path["eval.py"].blob is None  # untracked


def test_subdirectory_as_root(ml_repo: Path) -> None:
    data = {f.path for f in discover(ml_repo / "data").files}
    # The repository root's .gitignore applies to the subdirectory's untracked files.
    expected = {p.removeprefix("data/") for p in _git_expected(ml_repo) if p.startswith("data/")}
    assert data == expected
    assert "02_intermediate/clean.csv" not in data


def test_an_ignored_directory_named_as_root_is_scanned(ml_repo: Path) -> None:
    """`usc sbom outputs/` of a directory git ignores: the user asked for it, so it is walked."""
    write_file(ml_repo / "lightning_logs/version_1/hparams.yaml", "lr: 0.2\n")
    write_file(ml_repo / "lightning_logs/version_1/.gitignore", "*.tmp\n")
    write_file(ml_repo / "lightning_logs/version_1/scratch.tmp", "x\n")
    sub = ml_repo / "lightning_logs"
    assert git(sub, "check-ignore", "--no-index", ".") == "."
    # Git alone lists only the tracked files there.
    assert set(git(sub, "ls-files", "--cached", "--others", "--exclude-standard").split()) == {
        "version_0/hparams.yaml",
        "version_0/metrics.csv",
    }
    found = {f.path: f for f in discover(sub).files}
    assert set(found) == {
        "version_0/hparams.yaml",
        "version_0/metrics.csv",
        "version_1/hparams.yaml",
        "version_1/.gitignore",
    }
    assert found["version_0/metrics.csv"].blob == git(sub, "hash-object", "version_0/metrics.csv")
    assert found["version_1/hparams.yaml"].blob is None


def test_include_and_exclude_apply_on_top(ml_repo: Path) -> None:
    excluded = {f.path for f in discover(ml_repo, exclude=["lightning_logs/"]).files}
    assert not any(p.startswith("lightning_logs/") for p in excluded)
    assert "models/forced.pt" in excluded
    included = {f.path for f in discover(ml_repo, include=["*.pt", "*.csv"]).files}
    assert included == {p for p in _git_expected(ml_repo) if p.endswith((".pt", ".csv"))}


def test_tracked_venv_with_hostile_pickle_fails_the_gate(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    write_file(repo / ".gitignore", GITIGNORE)
    write_file(repo / "venv/pyvenv.cfg", "home = /usr/bin\n")
    evil = "venv/lib/python3.11/site-packages/pkg/model.pkl"
    write_file(repo / evil, system_payload("touch /tmp/usc-canary-never", 2))
    write_file(repo / "node_modules/dep/weights.pkl", system_payload("true", 2))
    write_file(repo / "README.md", "# r\n")
    commit_all(repo, "code")
    git(repo, "add", "-f", "venv")
    git(repo, "commit", "-q", "-m", "vendored environment")
    # Untracked and not ignored, but a virtual environment: kept out as without git.
    write_file(repo / "env2/pyvenv.cfg", "home = /usr/bin\n")
    write_file(repo / "env2/lib/loose.pkl", system_payload("true", 2))
    paths = {f.path for f in discover(repo).files}
    assert evil in paths
    assert "node_modules/dep/weights.pkl" in paths
    assert "env2/lib/loose.pkl" not in paths

    out = tmp_path / "sbom.cdx.json"
    done = run_usc("sbom", str(repo), "-o", str(out), "--no-cache", "--fail-on", "high")
    assert done.returncode == 1, done.stderr
    assert f"{evil}: " in done.stderr and "unsafe-serialization" in done.stderr
    document = json.loads(out.read_text())
    assert_valid_cyclonedx(document)
    assert evil in components_by_path(document)


def test_git_missing_falls_back_to_the_walker(ml_repo: Path, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin-without-git"
    bin_dir.mkdir()
    assert shutil.which("git", path=str(bin_dir)) is None
    out = tmp_path / "sbom.cdx.json"
    done = run_usc("sbom", str(ml_repo), "-o", str(out), "--no-cache", env={"PATH": str(bin_dir)})
    assert done.returncode == 0, done.stderr
    assert "git is not installed; files found by walking the directory instead" in done.stderr
    found = components_by_path(json.loads(out.read_text()))
    assert "models/forced.pt" not in found  # the walker's view: ignored, so not seen


def test_git_failing_in_a_work_tree_is_a_note(ml_repo: Path) -> None:
    (ml_repo / ".git" / "index").write_bytes(b"not an index")
    found = discover(ml_repo)
    notes = [p for p in found.problems if p.path == "."]
    assert len(notes) == 1 and "git ls-files failed" in notes[0].message
    assert {f.path for f in found.files} == {f.path for f in walk(ml_repo).files}


def test_outside_a_work_tree_the_walker_runs_silently(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    write_file(root / ".gitignore", "*.pt\n")
    write_file(root / "a.pt", b"x")
    write_file(root / "b.csv", "a\n1\n")
    found = discover(root)
    assert found == walk(root)
    assert [f.path for f in found.files] == [".gitignore", "b.csv"]


def test_oddities_behave_as_in_the_walker(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    write_file(repo / "keep.csv", "a\n1\n")
    write_file(repo / "gone.csv", "a\n1\n")
    odd = os.fsencode(str(repo)) + b"/caf\xe9 \n.csv"
    with open(odd, "wb") as fh:
        fh.write(b"a\n1\n")
    (repo / "outside.csv").symlink_to("/etc/hostname")
    (repo / "inside.csv").symlink_to("keep.csv")
    (repo / "broken.csv").symlink_to("nowhere")
    commit_all(repo, "files")
    write_file(repo / "untracked.csv", "a\n1\n")
    (repo / "untracked-out.csv").symlink_to("/etc/hostname")
    os.mkfifo(repo / "pipe.csv")
    found = discover(repo)
    walked = walk(repo)
    assert [f.path for f in found.files] == [f.path for f in walked.files]
    assert os.fsdecode(b"caf\xe9 \n.csv") in {f.path for f in found.files}
    assert {(p.path, p.message) for p in found.problems} == {
        (p.path, p.message) for p in walked.problems
    }
    # Deleted but still in the index: skipped with a warning, git's view only.
    (repo / "gone.csv").unlink()
    after = discover(repo)
    assert "gone.csv" not in {f.path for f in after.files}
    assert ("gone.csv", "tracked by git but missing from the work tree; skipped") in {
        (p.path, p.message) for p in after.problems
    }
    # Skipped on purpose by a sparse checkout: no warning.
    git(repo, "update-index", "--skip-worktree", "gone.csv")
    assert not [p for p in discover(repo).problems if p.path == "gone.csv"]


def test_submodule_and_nested_repository_files_are_listed(tmp_path: Path) -> None:
    lib = init_repo(tmp_path / "lib")
    write_file(lib / "weights.safetensors", b"\x02\x00\x00\x00\x00\x00\x00\x00{}")
    commit_all(lib, "lib")
    repo = init_repo(tmp_path / "repo")
    write_file(repo / "main.py", "x = 1\n")
    commit_all(repo, "main")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib), "vendor/lib")
    git(repo, "commit", "-q", "-m", "submodule")
    nested = init_repo(repo / "experiments")
    write_file(nested / "run.csv", "a\n1\n")
    stage = parse_ls_files(
        subprocess.run(
            ["git", "-C", str(repo), "ls-files", "-z", "-t", "--stage"],
            capture_output=True,
            check=True,
        ).stdout
    )
    assert [e.mode for e in stage if e.path == "vendor/lib"] == [b"160000"]
    paths = {f.path for f in discover(repo).files}
    assert "vendor/lib" not in paths  # the gitlink is a commit, not a file
    assert {"vendor/lib/weights.safetensors", "experiments/run.csv", "main.py"} <= paths
    # The walker also lists the submodule's `.git` gitfile, which is git metadata, not content.
    assert paths == {f.path for f in walk(repo).files} - {"vendor/lib/.git"}


def test_parse_rejects_a_record_it_cannot_read() -> None:
    from unified_supply_chain.discover.gittree import GitListingError

    assert parse_ls_files(b"? new file\0H 100644 " + b"a" * 40 + b" 0\tx y\0") == [
        parse_ls_files(b"? new file\0")[0],
        parse_ls_files(b"H 100644 " + b"a" * 40 + b" 0\tx y\0")[0],
    ]
    with pytest.raises(GitListingError):
        parse_ls_files(b"H garbage\0")


def test_many_files_one_git_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """However many files, discovery runs git once (no per-file git calls)."""
    repo = init_repo(tmp_path / "repo")
    for i in range(300):
        write_file(repo / f"d{i % 7}/f{i}.csv", "a\n1\n")
    commit_all(repo, "many")
    calls: list[list[str]] = []
    real_run = subprocess.run

    def counting_run(argv: list[str], *args: object, **kwargs: object) -> object:
        calls.append(list(argv))
        return real_run(argv, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(subprocess, "run", counting_run)
    found = discover(repo)
    assert len(found.files) == 300
    assert len([c for c in calls if c and c[0] == "git"]) == 1
