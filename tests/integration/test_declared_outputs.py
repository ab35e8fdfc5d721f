"""Files a record declares are in the SBOM even when git ignores them.

A training run writes its model to an ignored directory, and DVC writes every stage output into a
`.gitignore` beside it ("DVC ... adds the output to .gitignore": https://dvc.org/doc/command-reference/add
and https://dvc.org/doc/user-guide/project-structure/dvcyaml-files#output-subfields, `cache: true`
outputs are git-ignored). Each repository here is generated with the real `git`; that the files are
ignored is asked of `git check-ignore` in the test itself, so the premise cannot silently rot.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import save_file

from tests.helpers import (
    assert_valid_cyclonedx,
    commit_all,
    components_by_path,
    git,
    init_repo,
    prop,
    props,
    run_usc,
    write_file,
)
from unified_supply_chain.discover.declared import admit_declared


def _sbom(root: Path, tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "out.cdx.json"
    result = run_usc("sbom", str(root), "-o", str(out), "-q", "--no-cache", *args)
    assert result.returncode in (0, 1), result.stderr
    document: dict[str, Any] = json.loads(out.read_text())
    assert_valid_cyclonedx(document)
    return document


def _ignored(repo: Path, *paths: str) -> set[str]:
    """The paths `git check-ignore` says git ignores."""
    done = subprocess.run(
        ["git", "-C", str(repo), "check-ignore", "--no-index", *paths],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr  # 1: none of them is ignored
    return set(done.stdout.splitlines())


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _record(outputs: list[dict[str, Any]], inputs: list[dict[str, Any]] | None = None) -> str:
    return json.dumps(
        {
            "schema": "unified-supply-chain/training-record@1",
            "name": "train",
            "command": "python train.py",
            "inputs": inputs or [],
            "outputs": outputs,
            "status": "succeeded",
            "exit_code": 0,
        }
    )


def _trained_repo(tmp_path: Path) -> Path:
    """A repository whose training writes into ignored `models/` and `outputs/`."""
    repo = init_repo(tmp_path / "repo")
    write_file(repo / ".gitignore", "models/\noutputs/\n*.log\n")
    write_file(repo / "train.py", "print('train')\n")
    commit_all(repo, "code")
    # The training run's outputs: a pickle, and a Hugging Face style directory.
    write_file(repo / "models/clf.pkl", pickle.dumps({"coef": [0.5, 1.5]}, protocol=4))
    (repo / "outputs/hf").mkdir(parents=True)
    write_file(repo / "outputs/hf/config.json", '{"model_type": "bert", "architectures": ["B"]}')
    save_file({"w": np.zeros(4, dtype=np.float32)}, str(repo / "outputs/hf/model.safetensors"))
    write_file(repo / "outputs/unrelated.bin", b"\x00" * 32)
    write_file(repo / "train.log", "epoch 1\n")
    return repo


def test_a_trained_model_in_an_ignored_directory_is_in_the_sbom(tmp_path: Path) -> None:
    repo = _trained_repo(tmp_path)
    clf_sha = _sha(repo / "models/clf.pkl")
    write_file(
        repo / "train.training-record.json",
        _record(
            [
                {"path": "models/clf.pkl", "sha256": clf_sha},
                {"path": "outputs/hf"},
            ]
        ),
    )
    ignored = _ignored(repo, "models/clf.pkl", "outputs/hf/model.safetensors", "train.log")
    assert ignored == {"models/clf.pkl", "outputs/hf/model.safetensors", "train.log"}

    document = _sbom(repo, tmp_path)
    by_path = components_by_path(document)
    clf = by_path["models/clf.pkl"]
    assert clf["type"] == "machine-learning-model"
    assert {"alg": "SHA-256", "content": clf_sha} in clf["hashes"]
    assert prop(clf, "usc:content-present") is None  # present, not "declared but absent"
    assert not [w for w in props(clf, "usc:warning") if "differs" in w]
    hf = by_path["outputs/hf"]
    assert hf["type"] == "machine-learning-model"
    nested = {c["name"] for c in hf.get("components", [])}
    assert {"outputs/hf/model.safetensors", "outputs/hf/config.json"} <= nested | {
        occ["location"] for occ in hf.get("evidence", {}).get("occurrences", [])
    }
    # Only what the record declares comes in: other ignored files stay out.
    assert "outputs/unrelated.bin" not in by_path
    assert "train.log" not in by_path
    task = document["formulation"][0]["workflows"][0]["tasks"][0]
    out_refs = {o["resource"]["ref"] for o in task["outputs"]}
    assert {clf["bom-ref"], hf["bom-ref"]} <= out_refs


def test_before_admission_the_model_was_missing(tmp_path: Path) -> None:
    """The same tree without a record: git's view alone leaves the ignored model out."""
    repo = _trained_repo(tmp_path)
    by_path = components_by_path(_sbom(repo, tmp_path))
    assert "models/clf.pkl" not in by_path
    assert "outputs/hf" not in by_path


def test_a_hostile_pickle_declared_in_an_ignored_path_fails_the_gate(tmp_path: Path) -> None:
    """Admitted files are safety-scanned like any other: a trained output cannot hide a payload
    by being ignored."""
    repo = init_repo(tmp_path / "repo")
    write_file(repo / ".gitignore", "models/\n")
    commit_all(repo, "code")
    # GLOBAL posix system + REDUCE, built by hand: never produced by pickling anything.
    payload = b"\x80\x02cposix\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03."
    write_file(repo / "models/model.pkl", payload)
    write_file(repo / "train.training-record.json", _record([{"path": "models/model.pkl"}]))
    out = tmp_path / "out.cdx.json"
    result = run_usc("sbom", str(repo), "-o", str(out), "-q", "--no-cache", "--fail-on", "high")
    assert result.returncode == 1, result.stderr
    model = components_by_path(json.loads(out.read_text()))["models/model.pkl"]
    assert any("posix.system" in f for f in props(model, "usc:finding"))


def test_dvc_outputs_that_dvc_ignores_are_hashed_and_checked(tmp_path: Path) -> None:
    """`dvc repro` writes `models/.gitignore` with `/clf.pkl`; dvc.lock records its md5."""
    repo = init_repo(tmp_path / "repo")
    write_file(repo / "train.py", "print('train')\n")
    write_file(
        repo / "dvc.yaml",
        "stages:\n  train:\n    cmd: python train.py\n    deps:\n      - train.py\n"
        "    outs:\n      - models/clf.pkl\n      - models/wrong.pkl\n",
    )
    write_file(repo / "models/.gitignore", "/clf.pkl\n/wrong.pkl\n")
    clf = pickle.dumps([1, 2, 3], protocol=4)
    write_file(repo / "models/clf.pkl", clf)
    write_file(repo / "models/wrong.pkl", pickle.dumps([4], protocol=4))
    md5 = hashlib.md5(clf).hexdigest()
    write_file(
        repo / "dvc.lock",
        "schema: '2.0'\nstages:\n  train:\n    cmd: python train.py\n    outs:\n"
        f"    - path: models/clf.pkl\n      md5: {md5}\n      size: {len(clf)}\n"
        f"    - path: models/wrong.pkl\n      md5: {'deadbeef' * 4}\n      size: 3\n",
    )
    commit_all(repo, "pipeline")
    assert _ignored(repo, "models/clf.pkl", "models/wrong.pkl") == {
        "models/clf.pkl",
        "models/wrong.pkl",
    }
    assert git(repo, "ls-files", "models").split() == ["models/.gitignore"]

    by_path = components_by_path(_sbom(repo, tmp_path))
    model = by_path["models/clf.pkl"]
    assert prop(model, "usc:content-present") is None
    assert {"alg": "SHA-256", "content": hashlib.sha256(clf).hexdigest()} in model["hashes"]
    assert {"alg": "MD5", "content": md5} in model["hashes"]
    assert not [w for w in props(model, "usc:warning") if "MD5" in w or "differs" in w]
    wrong = by_path["models/wrong.pkl"]
    assert any("MD5" in w or "differs" in w for w in props(wrong, "usc:warning"))


def test_include_reaches_an_ignored_file(tmp_path: Path) -> None:
    repo = _trained_repo(tmp_path)
    assert _ignored(repo, "outputs/hf/model.safetensors")
    by_path = components_by_path(_sbom(repo, tmp_path, "--include", "**/*.safetensors"))
    model = by_path["outputs/hf/model.safetensors"]
    assert {"alg": "SHA-256", "content": _sha(repo / "outputs/hf/model.safetensors")} in model[
        "hashes"
    ]
    assert "models/clf.pkl" not in by_path  # include still narrows: not a safetensors file


def test_exclude_wins_over_a_declaration(tmp_path: Path) -> None:
    repo = _trained_repo(tmp_path)
    write_file(repo / "train.training-record.json", _record([{"path": "models/clf.pkl"}]))
    by_path = components_by_path(_sbom(repo, tmp_path, "--exclude", "models/"))
    # Declared, so listed; excluded, so its content is not read.
    assert prop(by_path["models/clf.pkl"], "usc:content-present") == "false"


def test_outside_git_the_walker_is_completed_the_same_way(tmp_path: Path) -> None:
    repo = tmp_path / "plain"
    write_file(repo / ".gitignore", "models/\n")
    write_file(repo / "models/clf.pkl", pickle.dumps({"a": 1}, protocol=4))
    write_file(repo / "train.training-record.json", _record([{"path": "models/clf.pkl"}]))
    assert not (repo / ".git").exists()
    model = components_by_path(_sbom(repo, tmp_path))["models/clf.pkl"]
    assert {"alg": "SHA-256", "content": _sha(repo / "models/clf.pkl")} in model["hashes"]


def test_declarations_never_lead_outside_the_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write_file(outside / "secret.pkl", pickle.dumps("x", protocol=4))
    repo = tmp_path / "repo"
    write_file(repo / "inside.txt", "x\n")
    os.symlink(outside, repo / "linked")  # a directory symlink on the way
    os.symlink(outside / "secret.pkl", repo / "direct.pkl")  # a file symlink leaving the root
    paths = [
        "../outside/secret.pkl",
        str(outside / "secret.pkl"),
        "linked/secret.pkl",
        "linked",
        "direct.pkl",
        "a/../../outside/secret.pkl",
        "",
        ".git/config",
        "missing/model.pkl",
    ]
    found = admit_declared(repo, paths, {"inside.txt"})
    assert found.files == ()
    leaves = "symlink points outside the repository; not followed"
    assert sorted((p.path, p.message) for p in found.problems) == [
        ("direct.pkl", leaves),
        ("linked", leaves),
    ]


def test_admitted_directory_ignores_its_own_gitignore_but_not_default_exclusions(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "repo"
    write_file(repo / "out/run1/.gitignore", "*\n")
    write_file(repo / "out/run1/model.onnx", b"\x08\x07")
    write_file(repo / "out/run1/__pycache__/x.pyc", b"\x00")
    found = admit_declared(repo, ["out/run1", "out/run1/model.onnx"], set())
    assert [f.path for f in found.files] == ["out/run1/.gitignore", "out/run1/model.onnx"]
