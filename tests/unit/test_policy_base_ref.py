"""The policy that governs a pull request comes from the base commit (policy/base_ref.py).

Every test builds a real git repository: a base commit with (or without) a policy file, then the
pull request's change in the working tree and committed on top, as actions/checkout leaves it.
Git's `<rev>:./<path>` (a path relative to the current directory) is documented in
gitrevisions(7), https://git-scm.com/docs/gitrevisions ("<rev>:<path>").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import commit_all, git, init_repo, system_payload
from unified_supply_chain.errors import PolicyError, UsageError
from unified_supply_chain.policy import evaluate, exceeds
from unified_supply_chain.policy.base_ref import (
    describe_changes,
    governing_policy,
    policy_candidates,
)
from unified_supply_chain.policy.config import (
    DEFAULT_FAIL_ON,
    DEFAULT_POLICY_PATHS,
    Policy,
    parse_policy,
)
from unified_supply_chain.records import Severity

POLICY = ".github/unified-supply-chain.yml"
STRICT = """\
version: 1
fail-on: high
rules:
  unsafe-serialization:
    allow-globals: ["my_project.*"]
"""
WEAK = """\
version: 1
fail-on: none
allow:
  paths: ["**"]
rules:
  unsafe-serialization: false
  policy-changed: false
"""


def repo_with(tmp_path: Path, files: dict[str, str]) -> tuple[Path, str]:
    """A repository whose first commit (the base) holds `files`; (repo, base sha)."""
    repo = init_repo(tmp_path / "repo")
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    (repo / "README.md").write_text("an ML project\n")
    return repo, commit_all(repo, "base")


def pr_writes(repo: Path, name: str, text: str | None) -> str:
    """The pull request writes (or, with None, deletes) `name` and commits; its sha."""
    path = repo / name
    if text is None:
        path.unlink()
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return commit_all(repo, f"pull request: {name}")


def test_secure_defaults_without_a_policy_file() -> None:
    assert DEFAULT_FAIL_ON is Severity.HIGH
    assert Policy().fail_on is Severity.HIGH
    assert parse_policy("version: 1\n", "p").fail_on is Severity.HIGH
    assert parse_policy("fail-on:\n", "p").fail_on is Severity.HIGH  # empty keeps the default
    assert parse_policy("fail-on: none\n", "p").fail_on is None  # only an explicit none


def test_weakening_pr_still_fails_on_a_hostile_pickle(tmp_path: Path) -> None:
    from unified_supply_chain.commands.diff import generate_document

    repo, base = repo_with(tmp_path, {POLICY: STRICT})
    (repo / "models").mkdir()
    (repo / "models" / "evil.pkl").write_bytes(system_payload("touch CANARY", 4))
    pr_writes(repo, POLICY, WEAK)

    governing = governing_policy(repo, base, fetch=False)
    # The base commit's policy is in force, not the weakened one in the working tree.
    assert governing.path == POLICY and governing.commit == base
    assert governing.policy.fail_on is Severity.HIGH
    assert governing.policy.rule("unsafe-serialization").enabled
    assert governing.source == f"policy {POLICY} at {base[:12]}"
    findings = evaluate(generate_document(repo), governing.policy)
    assert any(
        f.rule == "unsafe-serialization" and f.path == "models/evil.pkl" for f in findings
    ), findings
    assert exceeds(findings, governing.policy.fail_on)
    # The same scan under the pull request's own policy would pass: that is what is prevented.
    weak = parse_policy(WEAK, "pr")
    assert not exceeds(evaluate(generate_document(repo), weak), weak.fail_on)

    change = governing.change
    assert change is not None
    assert change.rule == "policy-changed" and change.severity is Severity.HIGH
    assert change.path == POLICY
    assert "modifies the policy file" in change.message and base[:12] in change.message
    assert "modified " + POLICY in change.details
    assert "fail-on: high -> none (never fails)" in change.details
    assert "rule unsafe-serialization disabled" in change.details
    assert "allow.paths added: **" in change.details
    # Described, but the PR's own `policy-changed: false` does not switch the finding off.
    assert "rule policy-changed disabled" in change.details
    assert "fail-on: high -> none" in change.message


def test_pr_deleting_the_policy_file(tmp_path: Path) -> None:
    repo, base = repo_with(tmp_path, {POLICY: "version: 1\nfail-on: medium\n"})
    pr_writes(repo, POLICY, None)
    governing = governing_policy(repo, base, fetch=False)
    assert governing.policy.fail_on is Severity.MEDIUM  # still the base's
    change = governing.change
    assert change is not None and change.severity is Severity.HIGH
    assert f"deletes the policy file {POLICY}" in change.message
    assert change.path == POLICY
    # After the merge the built-in defaults would apply: the summary says what that changes.
    assert "fail-on: medium -> high" in change.details


def test_pr_renaming_the_policy_file(tmp_path: Path) -> None:
    repo, base = repo_with(tmp_path, {POLICY: STRICT})
    git(repo, "mv", POLICY, DEFAULT_POLICY_PATHS[1])
    (repo / DEFAULT_POLICY_PATHS[1]).write_text(STRICT.replace("fail-on: high", "fail-on: low"))
    commit_all(repo, "rename the policy")
    change = governing_policy(repo, base, fetch=False).change
    assert change is not None and change.severity is Severity.HIGH
    assert f"renames the policy file {POLICY} to {DEFAULT_POLICY_PATHS[1]}" in change.message
    assert change.path == DEFAULT_POLICY_PATHS[1]
    assert "fail-on: high -> low" in change.details


def test_pure_rename_is_still_a_blocking_finding(tmp_path: Path) -> None:
    # Same content under the other default name: no rule changes, but the file moved.
    repo, base = repo_with(tmp_path, {POLICY: STRICT})
    git(repo, "mv", POLICY, DEFAULT_POLICY_PATHS[1])
    commit_all(repo, "rename the policy")
    change = governing_policy(repo, base, fetch=False).change
    assert change is not None and change.severity is Severity.HIGH
    assert "renames the policy file" in change.message
    assert "no change to fail-on, allow-lists, rules or thresholds" in change.message


def test_deleting_a_policy_equal_to_the_defaults_is_still_blocking(tmp_path: Path) -> None:
    repo, base = repo_with(tmp_path, {POLICY: "version: 1\nfail-on: high\n"})
    pr_writes(repo, POLICY, None)
    change = governing_policy(repo, base, fetch=False).change
    assert change is not None and change.severity is Severity.HIGH
    assert change.details == (
        f"deleted {POLICY}",
        "no change to fail-on, allow-lists, rules or thresholds",
    )


def test_base_without_policy_means_builtin_defaults_not_the_prs_file(tmp_path: Path) -> None:
    repo, base = repo_with(tmp_path, {})
    pr_writes(repo, POLICY, WEAK)
    governing = governing_policy(repo, base, fetch=False)
    assert governing.path is None
    assert governing.policy == Policy()
    assert governing.policy.fail_on is Severity.HIGH
    assert governing.source == f"the built-in policy (no policy file at {base[:12]})"
    change = governing.change
    assert change is not None and change.severity is Severity.HIGH
    assert f"adds the policy file {POLICY}" in change.message
    assert "fail-on: high -> none (never fails)" in change.details


def test_comment_only_change_is_info(tmp_path: Path) -> None:
    repo, base = repo_with(tmp_path, {POLICY: STRICT})
    pr_writes(repo, POLICY, "# reviewed by the security team\n" + STRICT)
    change = governing_policy(repo, base, fetch=False).change
    assert change is not None and change.severity is Severity.INFO
    assert "no change to fail-on, allow-lists, rules or thresholds" in change.message


def test_unchanged_policy_is_no_finding(tmp_path: Path) -> None:
    repo, base = repo_with(tmp_path, {POLICY: STRICT})
    pr_writes(repo, "train.py", "print('more epochs')\n")
    governing = governing_policy(repo, base, fetch=False)
    assert governing.change is None
    assert governing.policy.rule("unsafe-serialization").allow_globals == ("my_project.*",)


def test_malformed_pr_policy_is_described_not_raised(tmp_path: Path) -> None:
    repo, base = repo_with(tmp_path, {POLICY: STRICT})
    pr_writes(repo, POLICY, "fail-on: [unclosed\n")
    change = governing_policy(repo, base, fetch=False).change
    assert change is not None and change.severity is Severity.HIGH
    assert any("does not parse" in d and "invalid YAML" in d for d in change.details)


def test_non_utf8_pr_policy_is_described_not_raised(tmp_path: Path) -> None:
    repo, base = repo_with(tmp_path, {POLICY: STRICT})
    (repo / POLICY).write_bytes(b"fail-on: \xff\xfe\n")
    change = governing_policy(repo, base, fetch=False).change
    assert change is not None and change.severity is Severity.HIGH
    assert any("not UTF-8" in d for d in change.details)


def test_malformed_base_policy_is_an_error_naming_the_commit(tmp_path: Path) -> None:
    repo, base = repo_with(tmp_path, {POLICY: "rules:\n  no-such-rule: true\n"})
    with pytest.raises(PolicyError, match=rf"{POLICY}@{base[:12]}:2: unknown rule"):
        governing_policy(repo, base, fetch=False)


def test_base_policy_grades_or_disables_policy_changed(tmp_path: Path) -> None:
    repo, base = repo_with(tmp_path, {POLICY: STRICT + "  policy-changed: medium\n"})
    pr_writes(repo, POLICY, WEAK)
    change = governing_policy(repo, base, fetch=False).change
    assert change is not None and change.severity is Severity.MEDIUM

    repo2, base2 = repo_with(tmp_path / "two", {POLICY: STRICT + "  policy-changed: false\n"})
    pr_writes(repo2, POLICY, WEAK)
    assert governing_policy(repo2, base2, fetch=False).change is None


def test_explicit_policy_path_is_read_at_the_ref(tmp_path: Path) -> None:
    repo, base = repo_with(tmp_path, {"ci/policy.yml": STRICT})
    pr_writes(repo, "ci/policy.yml", WEAK)
    governing = governing_policy(repo, base, repo / "ci/policy.yml", fetch=False)
    assert governing.path == "ci/policy.yml"
    assert governing.policy.fail_on is Severity.HIGH
    assert governing.change is not None and governing.change.path == "ci/policy.yml"
    # A path outside the repository cannot be read from one of its commits.
    with pytest.raises(UsageError, match="inside the repository"):
        policy_candidates(tmp_path / "elsewhere.yml", repo)


def test_policy_in_a_subdirectory_project(tmp_path: Path) -> None:
    # The working-directory of the workflow: paths are relative to it, as `./path` in git.
    repo, base = repo_with(tmp_path, {"project/" + POLICY: STRICT})
    pr_writes(repo, "project/" + POLICY, WEAK)
    governing = governing_policy(repo / "project", base, fetch=False)
    assert governing.path == POLICY and governing.policy.fail_on is Severity.HIGH
    assert governing.change is not None


def test_directory_in_place_of_the_policy_file_is_no_policy(tmp_path: Path) -> None:
    repo, base = repo_with(tmp_path, {POLICY + "/nested.txt": "not a policy\n"})
    governing = governing_policy(repo, base, fetch=False)
    assert governing.path is None and governing.policy == Policy()


def test_unknown_ref_is_a_usage_error(tmp_path: Path) -> None:
    repo, _base = repo_with(tmp_path, {POLICY: STRICT})
    with pytest.raises(UsageError, match="not a commit"):
        governing_policy(repo, "0" * 40, fetch=False)
    with pytest.raises(UsageError, match="not a git ref"):
        governing_policy(repo, "--output=x", fetch=False)


def test_describe_changes_covers_rules_and_thresholds() -> None:
    before = parse_policy(
        "rules:\n"
        "  metric-threshold:\n    metrics: {accuracy: '>=0.9'}\n"
        "  large-binary-not-in-lfs: {threshold: 50MB}\n"
        "  model-without-licence: {allowed-licences: [MIT]}\n",
        "base",
    )
    after = parse_policy(
        "rules:\n"
        "  metric-threshold:\n    metrics: {accuracy: '>=0.5'}\n"
        "  large-binary-not-in-lfs: {threshold: 1GB}\n"
        "  model-without-licence: {severity: info, allowed-licences: [MIT, Proprietary]}\n"
        "  artifact-without-content: {required: true}\n",
        "head",
    )
    assert describe_changes(before, after) == [
        "rules.model-without-licence.severity: default (medium) -> info",
        "rules.model-without-licence.allowed-licences added: Proprietary",
        "rules.artifact-without-content.required: False -> True",
        "rules.large-binary-not-in-lfs.threshold: 50000000 -> 1000000000",
        "rules.metric-threshold.metrics added: accuracy >= 0.5",
        "rules.metric-threshold.metrics removed: accuracy >= 0.9",
    ]
    assert describe_changes(before, before) == []
