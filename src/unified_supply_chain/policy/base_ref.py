"""The policy that governs a pull request: the base commit's, never the pull request's own.

A pull request could otherwise switch its own gate off: set `fail-on: none`, disable
`unsafe-serialization`, allow-list `os.system`, or delete the policy file. So `usc check
--policy-ref REF` (and `--base-ref`, and `usc sbom --policy-ref`) read the policy file as it is
at REF with git (`git cat-file`, never the working tree), and a base commit without a policy
file means the built-in secure defaults (`Policy()`: fail-on high), not the pull request's file.

A pull request that changes the policy file (adds, modifies, deletes or renames it) is itself a
finding, rule `policy-changed`, with a summary of what changed in fail-on, allow-lists, rules and
thresholds. The change cannot weaken the check it appears in (the base policy decides it), but it
governs every later check once merged, so by default it is HIGH and blocks at the default
fail-on: someone entitled to change the gate has to look at it. An edit that leaves the parsed
policy identical (comments, layout) is INFO; adding, deleting or renaming a file never is, since
it moves where the gate is configured (a renamed `--policy` file breaks it). The base policy, and
only it, may re-grade or turn off `policy-changed` (`rules: {policy-changed: medium}`), as
maintainers who review policy changes by other means (CODEOWNERS) may want.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError, PolicyError, UsageError
from unified_supply_chain.gitrepo import read_at_commit, resolve_commit
from unified_supply_chain.policy.config import (
    DEFAULT_POLICY_PATHS,
    POLICY_CHANGED,
    RULE_DEFAULTS,
    Policy,
    RuleConfig,
    parse_policy,
)
from unified_supply_chain.records import Finding, Severity
from unified_supply_chain.safeparse import decode_text_bounded

#: Changes listed in the finding's message (all of them are in its details).
MESSAGE_CHANGES = 4


@dataclass(frozen=True)
class GoverningPolicy:
    """The policy read from a commit, and how the working tree's policy files differ from it."""

    policy: Policy
    """The policy in force: the file at `commit`, or the built-in defaults when it has none."""
    commit: str
    """The commit it was read from."""
    path: str | None
    """Its path (relative to the repository directory); None for the built-in defaults."""
    change: Finding | None
    """The `policy-changed` finding, when the working tree's policy files differ."""

    @property
    def source(self) -> str:
        """Where the policy came from, for reports."""
        if self.path is None:
            return f"the built-in policy (no policy file at {self.commit[:12]})"
        return f"policy {self.path} at {self.commit[:12]}"


def policy_candidates(policy_path: Path | None, repo: Path) -> tuple[str, ...]:
    """Repository-relative paths the policy is looked for at, first match wins.

    `--policy PATH` names one file (relative to the current directory when it exists there, else
    to `repo`); it must lie inside `repo`, since it is read from a commit of it.
    """
    if policy_path is None:
        return DEFAULT_POLICY_PATHS
    path = policy_path
    if not path.is_absolute():
        path = Path.cwd() / path if path.exists() else repo / path
    try:
        relative = Path(os.path.abspath(path)).relative_to(os.path.abspath(repo))
    except ValueError:
        raise UsageError(
            f"--policy {policy_path}: read from a git commit, the policy file must be inside "
            f"the repository {repo}"
        ) from None
    return (relative.as_posix(),)


def files_at_commit(repo: Path, commit: str, candidates: Sequence[str]) -> dict[str, bytes]:
    """Candidate path -> content, for the candidates that are files at `commit`."""
    out: dict[str, bytes] = {}
    for candidate in candidates:
        data = read_at_commit(repo, commit, candidate, limits.MAX_TEXT_PARSE)
        if data is not None:
            out[candidate] = data
    return out


def files_in_tree(repo: Path, candidates: Sequence[str]) -> dict[str, bytes]:
    """Candidate path -> content (at most one byte over the text cap), for the candidates that
    are files in the working tree."""
    out: dict[str, bytes] = {}
    for candidate in candidates:
        path = repo / candidate
        if path.is_file():
            try:
                with path.open("rb") as fh:
                    out[candidate] = fh.read(limits.MAX_TEXT_PARSE + 1)
            except OSError as exc:
                # Unreadable is a change too (it cannot be shown to equal the base's).
                out[candidate] = f"unreadable: {exc.strerror or exc}".encode()
    return out


def _parse(data: bytes, source: str) -> Policy:
    """A policy from file bytes; PolicyError for every kind of bad content."""
    try:
        text = decode_text_bounded(data, limits.MAX_TEXT_PARSE)
    except FormatError as exc:
        raise PolicyError(f"{source}: {exc}") from exc
    return parse_policy(text, source)


def governing_policy(
    repo: Path, ref: str, policy_path: Path | None = None, *, fetch: bool = True
) -> GoverningPolicy:
    """The policy at `ref` (see the module docstring) and the `policy-changed` finding of the
    working tree of `repo` against it. UsageError when `ref` is not a commit (after one fetch
    with `fetch`), PolicyError when the policy file at `ref` is malformed."""
    commit = resolve_commit(repo, ref, fetch=fetch)
    if commit is None:
        hint = " (a shallow checkout? use actions/checkout with fetch-depth: 0)" if fetch else ""
        raise UsageError(f"policy ref {ref!r} is not a commit of {repo}{hint}")
    candidates = policy_candidates(policy_path, repo)
    base_files = files_at_commit(repo, commit, candidates)
    head_files = files_in_tree(repo, candidates)
    path = next((c for c in candidates if c in base_files), None)
    policy = Policy() if path is None else _parse(base_files[path], f"{path}@{commit[:12]}")
    change = policy_change(base_files, head_files, candidates, policy, commit)
    return GoverningPolicy(policy=policy, commit=commit, path=path, change=change)


# --- What changed. ----------------------------------------------------------------------------


def _severity_text(severity: Severity | None, rule_id: str | None = None) -> str:
    if severity is not None:
        return severity.value
    if rule_id is None:
        return "none (never fails)"
    default = RULE_DEFAULTS.get(rule_id)
    return f"default ({default.value})" if default else "default (each finding's own)"


def _listed(items: Sequence[object]) -> str:
    return ", ".join(str(i) for i in items)


def _tuple_change(name: str, before: Sequence[object], after: Sequence[object]) -> list[str]:
    added = [i for i in after if i not in before]
    removed = [i for i in before if i not in after]
    out = []
    if added:
        out.append(f"{name} added: {_listed(added)}")
    if removed:
        out.append(f"{name} removed: {_listed(removed)}")
    if not out:
        out.append(f"{name} reordered")
    return out


def _rule_changes(rule_id: str, before: RuleConfig, after: RuleConfig) -> list[str]:
    out: list[str] = []
    for field in fields(RuleConfig):
        old, new = getattr(before, field.name), getattr(after, field.name)
        if old == new:
            continue
        name = f"rules.{rule_id}.{field.name.replace('_', '-')}"
        if field.name == "enabled":
            out.append(f"rule {rule_id} {'enabled' if new else 'disabled'}")
        elif field.name == "severity":
            out.append(f"{name}: {_severity_text(old, rule_id)} -> {_severity_text(new, rule_id)}")
        elif isinstance(old, tuple) and isinstance(new, tuple):
            out.extend(_tuple_change(name, old, new))
        else:
            out.append(f"{name}: {old} -> {new}")
    return out


def describe_changes(before: Policy, after: Policy) -> list[str]:
    """One line per difference in fail-on, allow.paths and every rule's settings."""
    out: list[str] = []
    if before.fail_on != after.fail_on:
        out.append(f"fail-on: {_severity_text(before.fail_on)} -> {_severity_text(after.fail_on)}")
    if before.allow_paths != after.allow_paths:
        out.extend(_tuple_change("allow.paths", before.allow_paths, after.allow_paths))
    for rule_id in RULE_DEFAULTS:
        out.extend(_rule_changes(rule_id, before.rule(rule_id), after.rule(rule_id)))
    return out


def _file_changes(
    base: Mapping[str, bytes], head: Mapping[str, bytes], candidates: Sequence[str]
) -> tuple[str, list[str]]:
    """(verb for the message, one line per changed file)."""
    added = [c for c in candidates if c in head and c not in base]
    deleted = [c for c in candidates if c in base and c not in head]
    modified = [c for c in candidates if c in base and c in head and base[c] != head[c]]
    lines = [f"added {c}" for c in added] + [f"deleted {c}" for c in deleted]
    lines += [f"modified {c}" for c in modified]
    if len(added) == 1 and len(deleted) == 1 and not modified:
        return f"renames the policy file {deleted[0]} to {added[0]}", lines
    if lines == [f"added {c}" for c in added] and len(added) == 1:
        return f"adds the policy file {added[0]}", lines
    if lines == [f"deleted {c}" for c in deleted] and len(deleted) == 1:
        return f"deletes the policy file {deleted[0]}", lines
    if lines == [f"modified {c}" for c in modified] and len(modified) == 1:
        return f"modifies the policy file {modified[0]}", lines
    return "changes the policy files", lines


def policy_change(
    base: Mapping[str, bytes],
    head: Mapping[str, bytes],
    candidates: Sequence[str],
    governing: Policy,
    commit: str,
) -> Finding | None:
    """The `policy-changed` finding when the head's policy files differ from the base's.

    `governing` (the base policy, `Policy()` when the base has no file) decides whether the
    rule is on and how severe it is; the head's file is only parsed, to describe the change,
    and a head file that does not parse is described as such (never an error: it is the code
    under review)."""
    if dict(base) == dict(head):
        return None
    config = governing.rule(POLICY_CHANGED)
    if not config.enabled:
        return None
    verb, file_lines = _file_changes(base, head, candidates)
    base_path = next((c for c in candidates if c in base), None)
    head_path = next((c for c in candidates if c in head), None)
    try:
        after = Policy() if head_path is None else _parse(head[head_path], head_path)
    except PolicyError as exc:
        changes = [f"the pull request's policy does not parse: {exc}"]
    else:
        changes = describe_changes(governing, after)
    severity = config.severity or RULE_DEFAULTS[POLICY_CHANGED] or Severity.HIGH
    if changes:
        summary = "; ".join(changes[:MESSAGE_CHANGES])
        if len(changes) > MESSAGE_CHANGES:
            summary += f"; {len(changes) - MESSAGE_CHANGES} more"
    else:
        summary = "no change to fail-on, allow-lists, rules or thresholds"
        changes = [summary]
        if all(line.startswith("modified ") for line in file_lines):
            # Comments or layout only: nothing that could weaken a later check.
            severity = Severity.INFO
    message = (
        f"the pull request {verb}; this check applies the policy of the base commit "
        f"{commit[:12]}, the change governs later checks once merged: {summary}"
    )
    return Finding(
        rule=POLICY_CHANGED,
        severity=severity,
        message=message,
        path=head_path or base_path or candidates[0],
        details=tuple(file_lines + changes),
    )
