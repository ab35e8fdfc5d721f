"""`usc check`: publish the SBOM diff and policy findings as a GitHub Check Run.

The check run is created in progress first, then completed with the diff tables and findings in
its summary, annotations on the changed files, and a conclusion from the policy. When the token
may not create check runs (read-only token, fork pull request) the same report goes to the step
summary and to workflow-command annotations instead. The SBOM files are only ever read.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from unified_supply_chain import console
from unified_supply_chain.errors import UsageError
from unified_supply_chain.records import Finding, Severity, parse_severity
from unified_supply_chain.report.check_run import (
    Annotation,
    Evaluation,
    build_annotations,
    build_report,
    conclusion_of,
)

if TYPE_CHECKING:
    from unified_supply_chain.policy.config import Policy

EPILOG = """\
The GitHub context comes from the standard variables: GITHUB_API_URL (GitHub Enterprise Server
works through it), GITHUB_REPOSITORY, GITHUB_SHA, GITHUB_EVENT_PATH (the PR head and base),
GITHUB_TOKEN (or --token), GITHUB_SERVER_URL and GITHUB_RUN_ID (the details link).

Conclusion: failure when a finding is at or above the policy's fail-on severity (high when
neither the policy file nor --fail-on sets it), neutral when there are findings below it,
success otherwise.

Policy: with --policy-ref REF (or --base-ref) the policy file is read from commit REF, not from
the working tree, so a pull request cannot change the policy that checks it; a commit without a
policy file means the built-in defaults. A pull request whose policy file differs from REF's
(added, modified, deleted, renamed) gets a `policy-changed` finding (high unless REF's policy
says otherwise; info when only comments or layout changed) listing what changed.

Permissions: `checks: write` to create the check run (without it the report goes to the step
summary and workflow annotations, with a warning); `pull-requests: write` for --comment.

Exit status: 0 = success or neutral, 1 = failure conclusion, 2 = usage error, 3 = GitHub's API
failed after its retries (the report is still in the step summary) or an input could not be read.
No token, or a token that may not create check runs, is not an error: the report goes to the
step summary and annotations with a warning, and the status follows the conclusion.
"""

DEFAULT_NAME = "ML supply chain"
#: Workflow-command annotations written in the fallback (GitHub shows 10 per level per step).
MAX_FALLBACK_ANNOTATIONS = 50
_SHA_RE = re.compile(r"^[0-9a-f]{40}$")
_SEVERITIES = [s.value for s in Severity]
#: The value `--base-ref` takes without an argument: the pull request's base commit.
PR_BASE = "@pr-base"


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of `usc check` (argparse only: cheap)."""
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--head", type=Path, required=True, help="SBOM of the PR head (read only)")
    base = parser.add_mutually_exclusive_group()
    base.add_argument("--base", type=Path, help="SBOM of the base to compare against")
    base.add_argument(
        "--base-ref",
        nargs="?",
        const=PR_BASE,
        metavar="REF",
        help="generate the base SBOM from git REF in a temporary worktree "
        "(without REF: the pull request's base commit)",
    )
    parser.add_argument(
        "--repo", type=Path, default=None, help="git repository (default: current directory)"
    )
    parser.add_argument("--token", help="GitHub token (default: $GITHUB_TOKEN)")
    parser.add_argument(
        "--policy",
        type=Path,
        help="policy file (default: .github/unified-supply-chain.yml of the repository); "
        "with --policy-ref, its path inside the repository",
    )
    parser.add_argument(
        "--policy-ref",
        nargs="?",
        const=PR_BASE,
        metavar="REF",
        help="read the policy file from git REF, not from the working tree (without REF: the "
        "pull request's base commit; default: the --base-ref commit, when given)",
    )
    parser.add_argument(
        "--fail-on",
        choices=[*_SEVERITIES, "none"],
        help="lowest severity that fails the check (default: the policy's, else high)",
    )
    parser.add_argument(
        "--comment", action="store_true", help="also keep one sticky PR comment with the diff"
    )
    parser.add_argument("--name", default=DEFAULT_NAME, help=f"check run name ({DEFAULT_NAME!r})")
    parser.add_argument(
        "--timeout", type=int, default=15, help="seconds per GitHub API request (default 15)"
    )


def findings_from_properties(document: Mapping[str, Any]) -> list[Finding]:
    """Findings already recorded in the SBOM as `usc:finding` properties."""
    from unified_supply_chain.bom.view import BomView

    return list(BomView.of(document).findings())


def evaluate_findings(
    document: Mapping[str, Any],
    policy: Policy,
    source: str,
    fail_on: str | None,
    extra: Sequence[Finding] = (),
) -> Evaluation:
    """Policy findings (the policy reads the findings recorded in the SBOM itself, and may
    re-grade or allow them), plus `extra` findings about the check itself (`policy-changed`)."""
    from unified_supply_chain.policy import evaluate

    found = [*evaluate(dict(document), policy), *extra]
    threshold = policy.fail_on
    if fail_on is not None:
        threshold = parse_severity(fail_on)
    seen: set[tuple[str, str, str, str]] = set()
    merged: list[Finding] = []
    for f in found:
        key = (f.rule, f.severity.value, f.path, f.message)
        if key not in seen:
            seen.add(key)
            merged.append(f)
    merged.sort(key=lambda f: (-f.severity.rank, f.path, f.rule))
    return Evaluation(tuple(merged), threshold, source)


def _ref(value: str, env: Any, option: str) -> str:
    """A ref option's value, with PR_BASE read as the pull request's base commit."""
    if value != PR_BASE:
        return value
    if env.pull_request is None or not env.pull_request.base_sha:
        raise UsageError(f"{option} without REF needs a pull_request event")
    return str(env.pull_request.base_sha)


def load_check_policy(
    args: argparse.Namespace, env: Any, repo_dir: Path, base_ref: str | None
) -> tuple[Policy, str, Finding | None]:
    """(policy, where it came from, the `policy-changed` finding): from --policy-ref, else from
    the --base-ref commit, else from the working tree."""
    from unified_supply_chain import actions_io
    from unified_supply_chain.policy import load_policy
    from unified_supply_chain.policy.base_ref import governing_policy

    ref = _ref(args.policy_ref, env, "--policy-ref") if args.policy_ref else base_ref
    if ref is None:
        if env.pull_request is not None:
            actions_io.log(
                "the policy is read from the working tree, which the pull request can change; "
                "pass --policy-ref (or --base-ref) to read it from the base commit"
            )
        policy = load_policy(args.policy, repo_dir)
        return policy, f"policy {policy.source}" if policy.source else "the built-in policy", None
    governing = governing_policy(repo_dir, ref, args.policy)
    actions_io.log(f"policy: {governing.source}")
    return governing.policy, governing.source, governing.change


def _fallback_annotations(annotations: Sequence[Annotation]) -> None:
    from unified_supply_chain import actions_io
    from unified_supply_chain.report.annotations import WorkflowAnnotations

    actions_io.issue_commands(WorkflowAnnotations(MAX_FALLBACK_ANNOTATIONS).format(annotations))
    if len(annotations) > MAX_FALLBACK_ANNOTATIONS:
        actions_io.log(
            f"{len(annotations) - MAX_FALLBACK_ANNOTATIONS} more annotations are in the summary"
        )


def _prepare(
    args: argparse.Namespace,
    env: Any,
    repo_dir: Path,
    head_doc: Mapping[str, Any],
    link: str | None,
) -> tuple[Any, Evaluation, str, str, str, list[Any]]:
    """Base document, diff, findings, conclusion, report and annotations."""
    from unified_supply_chain import actions_io
    from unified_supply_chain.commands.diff import load_sbom_file, sbom_from_git_ref
    from unified_supply_chain.compare.diff import EMPTY_SBOM, diff_sboms

    base_ref = _ref(args.base_ref, env, "--base-ref") if args.base_ref is not None else None
    # The policy first: a malformed one stops the check before the base SBOM is generated.
    policy, source, change = load_check_policy(args, env, repo_dir, base_ref)
    if args.base is not None:
        base_doc: Mapping[str, Any] = load_sbom_file(args.base)
    elif base_ref is not None:
        base_doc = sbom_from_git_ref(repo_dir, base_ref, fetch=True)
    else:
        base_doc = EMPTY_SBOM
        actions_io.log("no --base or --base-ref: every component is reported as added")

    diff = diff_sboms(base_doc, head_doc)
    extra = (change,) if change is not None else ()
    evaluation = evaluate_findings(head_doc, policy, source, args.fail_on, extra)
    conclusion = conclusion_of(evaluation)
    title, summary = build_report(diff, evaluation, conclusion, name=args.name, details=link)
    annotations = build_annotations(diff, evaluation)

    return diff, evaluation, conclusion, title, summary, annotations


def run(args: argparse.Namespace) -> int:
    """Diff, evaluate, publish (or degrade); exit 1 on a failure conclusion."""
    from unified_supply_chain import actions_io
    from unified_supply_chain.commands.diff import load_sbom_file
    from unified_supply_chain.github import client
    from unified_supply_chain.github.checks import (
        CHECKS_PERMISSION,
        ChecksPermissionError,
        Conclusion,
        abandon_check_run,
        details_url,
        publish_check_run,
        start_check_run,
    )
    from unified_supply_chain.github.client import GitHubApiError, GitHubPermissionError
    from unified_supply_chain.report.diff_markdown import render_markdown

    env = client.github_env()
    repo_dir = args.repo if args.repo is not None else Path.cwd()
    head_doc = load_sbom_file(args.head)
    token = args.token or env.token
    head_sha = env.head_sha
    link = details_url(env.server_url, env.repository, env.run_id)

    # Why the check run cannot be published, if it cannot (the report still goes out).
    unpublishable: str | None = None
    if not token:
        unpublishable = "no GitHub token (set GITHUB_TOKEN or pass --token)"
    elif not env.repository:
        unpublishable = "GITHUB_REPOSITORY is not set"
    elif not head_sha or not _SHA_RE.match(head_sha):
        unpublishable = "no commit to attach the check run to (GITHUB_SHA / the PR head)"

    gh = None
    check_run = None
    permission_error: GitHubPermissionError | None = None
    api_error: GitHubApiError | None = None
    if unpublishable is None:
        assert token is not None and env.repository is not None and head_sha is not None
        gh = client.make_github(
            token, env.api_url, timeout=args.timeout, backoff_factor=client.RETRY_BACKOFF
        )
        try:
            check_run = start_check_run(
                gh, env.repository, name=args.name, head_sha=head_sha, details_url=link
            )
        except ChecksPermissionError as exc:
            permission_error = exc
        except GitHubApiError as exc:
            api_error = exc

    try:
        diff, _evaluation, conclusion, title, summary, annotations = _prepare(
            args, env, repo_dir, head_doc, link
        )
    except BaseException as exc:
        # Never leave a run spinning on the pull request.
        if check_run is not None:
            abandon_check_run(check_run, f"usc check stopped before its report was ready: {exc}")
        raise

    published = False
    if check_run is not None and gh is not None and env.repository and head_sha:
        try:
            result = publish_check_run(
                gh,
                env.repository,
                name=args.name,
                head_sha=head_sha,
                conclusion=Conclusion(conclusion),
                title=title,
                summary=summary,
                annotations=annotations,
                details_url=link,
                check_run=check_run,
            )
            published = True
            actions_io.log(
                f"check run {result.check_run_id} completed: {conclusion} "
                f"({result.annotations_sent} annotations in {result.requests} requests)"
            )
            actions_io.set_output("check-run-url", result.html_url or "")
        except GitHubPermissionError as exc:
            permission_error = exc
        except GitHubApiError as exc:
            api_error = exc

    # The step summary always gets the report; without a check run it carries it alone.
    actions_io.append_summary(summary)
    if not published:
        _fallback_annotations(annotations)
        if permission_error is not None:
            actions_io.warning(
                f"Could not create the check run ({permission_error}). The report is in the step "
                f"summary instead. Grant `permissions: {CHECKS_PERMISSION}` to the job to get a "
                "check run (pull requests from forks always get a read-only token).",
                title="Check run not created",
            )
        elif unpublishable is not None:
            actions_io.log(f"check run not published: {unpublishable}")
            if not actions_io.in_actions():
                console.write(summary)

    if args.comment:
        if env.pull_request is None:
            actions_io.log("--comment: not a pull request event, no comment written")
        elif gh is not None and env.repository:
            from unified_supply_chain.github.comments import upsert_sticky_comment

            body = render_markdown(diff, title=f"{args.name}: {conclusion}")
            try:
                upsert_sticky_comment(gh, env.repository, env.pull_request.number, body)
            except GitHubPermissionError as exc:
                actions_io.warning(
                    f"Could not write the PR comment ({exc}); it needs `pull-requests: write`.",
                    title="PR comment not written",
                )
            except GitHubApiError as exc:
                actions_io.warning(f"Could not write the PR comment: {exc}")

    actions_io.set_output("conclusion", conclusion)
    actions_io.set_output("changed", "true" if diff.has_changes else "false")
    if api_error is not None and permission_error is None:
        # Reported in the summary and annotations already; the exit status says it failed.
        raise api_error
    return 1 if conclusion == "failure" else 0
