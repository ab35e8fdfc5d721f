"""`usc submit-dependencies SBOM`: post the SBOM's packages to GitHub's dependency graph."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from unified_supply_chain import console
from unified_supply_chain.errors import UsageError

EPILOG = """\
Submits libraries with a package URL, and models or datasets that have one (for example
pkg:huggingface/org/model), as a dependency snapshot. The snapshot's correlator is
"<workflow>_<job>[_<hint>]" (pass --correlator-hint with the matrix values when a job runs as a
matrix); the commit and ref are the PR head on pull_request events, else GITHUB_SHA and
GITHUB_REF. Needs `contents: write` on the token.

Exit status: 0 = submitted, 2 = usage error, 3 = the submission failed after retries.
"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of `usc submit-dependencies` (argparse only: cheap)."""
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("sbom", type=Path, metavar="SBOM", help="CycloneDX JSON SBOM (read only)")
    parser.add_argument("--token", help="GitHub token (default: $GITHUB_TOKEN)")
    parser.add_argument(
        "--correlator-hint", default=None, help="extra correlator part, e.g. matrix values"
    )
    parser.add_argument("--sha", help="commit to submit for (default: from the event)")
    parser.add_argument("--ref", help="full ref to submit for (default: from the event)")
    parser.add_argument(
        "--dry-run", action="store_true", help="print the snapshot instead of submitting it"
    )
    parser.add_argument(
        "--timeout", type=int, default=15, help="seconds per GitHub API request (default 15)"
    )


def run(args: argparse.Namespace) -> int:
    """Build the snapshot from the SBOM and submit it."""
    from unified_supply_chain import actions_io
    from unified_supply_chain.commands.diff import load_sbom_file
    from unified_supply_chain.github import client
    from unified_supply_chain.github.dependencies import (
        build_snapshot,
        correlator,
        submit_snapshot,
    )

    env = client.github_env()
    document = load_sbom_file(args.sbom)
    sha = args.sha or env.head_sha
    ref = args.ref or env.head_ref
    if not sha or not re.fullmatch(r"[0-9a-f]{40}", sha):
        raise UsageError("a 40-character commit sha is needed (GITHUB_SHA or --sha)")
    if not ref or not ref.startswith("refs/"):
        raise UsageError("a full ref such as refs/heads/main is needed (GITHUB_REF or --ref)")
    hint = args.correlator_hint
    if hint is not None:
        hint = re.sub(r"[^A-Za-z0-9_.-]+", "-", hint).strip("-") or None
    snapshot = build_snapshot(
        document,
        sha=sha,
        ref=ref,
        job_correlator=correlator(env.workflow, env.job, hint),
        job_id=env.run_id or "local",
        job_html_url=env.run_url,
        default_manifest=args.sbom.name,
    )
    if snapshot.skipped:
        actions_io.log(
            f"{len(snapshot.skipped)} component(s) without a usable package URL were not "
            f"submitted: {', '.join(snapshot.skipped[:10])}"
            + (" ..." if len(snapshot.skipped) > 10 else "")
        )
    if args.dry_run:
        console.write_json(json.dumps(snapshot.body, indent=2) + "\n")
        return 0
    token = args.token or env.token
    if not token:
        raise UsageError("a GitHub token is needed: set GITHUB_TOKEN or pass --token")
    if not env.repository:
        raise UsageError("GITHUB_REPOSITORY (owner/name) is not set")
    gh = client.make_github(
        token, env.api_url, timeout=args.timeout, backoff_factor=client.RETRY_BACKOFF
    )
    try:
        result = submit_snapshot(gh, env.repository, snapshot.body)
    except client.GitHubPermissionError as exc:
        raise client.GitHubPermissionError(
            f"{exc}; the job needs `permissions: contents: write` to submit dependencies",
            exc.status,
        ) from exc
    actions_io.log(
        f"dependency snapshot {result.snapshot_id}: {result.result or 'submitted'} "
        f"({snapshot.packages} packages){': ' + result.message if result.message else ''}"
    )
    actions_io.set_output("snapshot-id", str(result.snapshot_id or ""))
    return 0
