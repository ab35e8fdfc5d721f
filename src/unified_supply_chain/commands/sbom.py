"""`usc sbom PATH -o FILE`: write a validated CycloneDX ML-BOM of a repository."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from unified_supply_chain import console

DEFAULT_OUTPUT = "sbom.cdx.json"
SEVERITIES = ("none", "info", "low", "medium", "high", "critical")


EPILOG = """\
severities of unsafe-serialization (models that can act when loaded):
  critical  a known code-execution gadget is imported or reached (os.system, builtins.exec,
            subprocess.Popen, a dotted path through one, torch.load of nested bytes...)
  high      a global outside the exact allow-list, or "could not be verified safe": the file
            could not be analysed to its end (unparseable or truncated stream, a cap reached, a
            container layout read differently by the loaders, an unreadable member), so the
            loader may run what the scan did not see; usc:scan:complete is "false" on it
  medium    and below: findings of other rules (licences, lineage, hygiene), not safety
  A clean scan is usc:scan:complete "true" and no unsafe-serialization finding.

exit status:
  0  the SBOM was written (findings below --fail-on do not fail the run)
  1  the SBOM was written, and a finding is at or above --fail-on (or the policy's fail-on;
     high when neither sets it)
  2  usage error: a bad option, or PATH missing or unreadable
  3  the output could not be written, a --merge input is not CycloneDX, or the policy is malformed
  4  internal error (a bug): for example a document that fails schema validation
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("path", nargs="?", default=".", help="repository directory (default: .)")
    parser.add_argument(
        "-o",
        "--output",
        default=DEFAULT_OUTPUT,
        help=f"SBOM file to write atomically, '-' for stdout (default: {DEFAULT_OUTPUT})",
    )
    parser.add_argument(
        "--spec-version",
        default="1.6",
        choices=("1.6", "1.7"),
        help="CycloneDX specification version (default: 1.6)",
    )
    parser.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="GLOB",
        help="only consider files matching this gitignore-style glob (repeatable)",
    )
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="also exclude files matching this gitignore-style glob (repeatable)",
    )
    parser.add_argument(
        "--merge",
        action="append",
        default=[],
        metavar="SBOM",
        type=Path,
        help="merge a CycloneDX JSON SBOM from another tool (repeatable)",
    )
    parser.add_argument(
        "--reproducible",
        action="store_true",
        help="byte-identical output for identical input (SOURCE_DATE_EPOCH or 0 "
        "as timestamp, serial number derived from content)",
    )
    parser.add_argument("--name", help="application name (default: project name or directory)")
    parser.add_argument("--app-version", help="application version")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="hash cache directory (default: $USC_CACHE_DIR or ~/.cache/unified-supply-chain)",
    )
    parser.add_argument("--no-cache", action="store_true", help="hash every file, use no cache")
    parser.add_argument(
        "--jobs", type=_positive_int, default=None, help="hashing threads (default: one per core)"
    )
    parser.add_argument(
        "--policy",
        type=Path,
        default=None,
        help="policy file (default: .github/unified-supply-chain.yml when present); with "
        "--policy-ref, its path inside the repository",
    )
    parser.add_argument(
        "--policy-ref",
        metavar="REF",
        default=None,
        help="read the policy file from git REF of the scanned repository, not from its "
        "working tree (none at REF: the built-in defaults); a working tree whose policy "
        "differs is a policy-changed finding",
    )
    parser.add_argument(
        "--fail-on",
        choices=SEVERITIES,
        default=None,
        help="exit 1 when a finding has this severity or higher (default: the "
        "policy's fail-on, else high)",
    )
    parser.add_argument(
        "--sarif", type=Path, default=None, help="also write findings as SARIF 2.1.0"
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no summary, no progress")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def default_cache_dir() -> Path:
    import os

    env = os.environ.get("USC_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "unified-supply-chain"


def options_from_args(args: argparse.Namespace) -> Any:
    from unified_supply_chain.options import ScanOptions

    cache_dir = None if args.no_cache else (args.cache_dir or default_cache_dir())
    return ScanOptions(
        root=Path(args.path),
        spec_version=args.spec_version,
        include=tuple(args.include),
        exclude=tuple(args.exclude),
        merge=tuple(args.merge),
        reproducible=args.reproducible,
        cache_dir=cache_dir,
        jobs=args.jobs or 0,
        app_name=args.name,
        app_version=args.app_version,
        progress=not args.quiet,
    )


def run(args: argparse.Namespace) -> int:
    from unified_supply_chain.bom.build import clean_text
    from unified_supply_chain.bom.write import serialise, write_document
    from unified_supply_chain.pipeline import generate
    from unified_supply_chain.report.text import TextSummary

    if not args.output:
        from unified_supply_chain.errors import UsageError

        raise UsageError("--output is empty: give a file name, or '-' for stdout")
    options = options_from_args(args)
    # A malformed policy is reported before any work is done.
    policy = _load_policy(args, options.root)
    progress = None
    if options.progress:
        from unified_supply_chain.progress import Progress

        progress = Progress(console.stream("err"))
    try:
        generated = generate(options, on_hashed=progress.file_done if progress else None)
    finally:
        if progress is not None:
            progress.close()
    document = generated.document
    findings = _policy_findings(policy, document, args._policy_change)
    if args.output == "-":
        console.write_json_bytes(serialise(document))
        digest = None
    else:
        digest = write_document(document, Path(args.output))
    if args.sarif is not None:
        _write_sarif(args.sarif, findings)
    for p in generated.inventory.problems:
        console.say(f"usc: warning: {clean_text(p.path)}: {clean_text(p.message)}")
    pointers = sum(
        len(a.pointer_files) or 1
        for a in generated.inventory.artifacts
        if a.storage.value == "git-lfs-pointer"
    )
    if pointers:
        console.say(
            f"usc: note: {pointers} Git LFS pointer(s) without their content; listed with the "
            "pointer's oid and size (fetch the content with `git lfs pull` to inspect it)"
        )
    for a in generated.inventory.artifacts:
        for w in a.warnings:
            console.say(f"usc: warning: {clean_text(a.path or a.name)}: {clean_text(w)}")
    threshold = _threshold(args)
    if not args.quiet:
        console.write(
            TextSummary(output=None if args.output == "-" else args.output, sha256=digest).format(
                document
            )
            + "\n",
            "err",
        )
    from unified_supply_chain.records import reaches

    failing = [f for f in findings if reaches(f, threshold)]
    # --quiet silences the report, not the reason for a failing exit status.
    for f in findings if not args.quiet else failing:
        console.say(f"usc: finding: [{f.severity.value}] {f.rule}: {f.path}: {f.message}")
    return 1 if failing else 0


def _load_policy(args: argparse.Namespace, root: Path) -> Any:
    """The policy (from --policy-ref's commit, else the tree), kept on `args` with the
    policy-changed finding of --policy-ref."""
    from unified_supply_chain.policy import load_policy

    args._policy_change = None
    if not root.is_dir():
        policy = None
    elif args.policy_ref:
        from unified_supply_chain.policy.base_ref import governing_policy

        governing = governing_policy(root, args.policy_ref, args.policy)
        policy = governing.policy
        args._policy_change = governing.change
    else:
        policy = load_policy(args.policy, root)
    args._policy = policy
    return policy


def _policy_findings(policy: Any, document: dict[str, Any], change: Any = None) -> list[Any]:
    if policy is None:
        return []
    from unified_supply_chain.policy import evaluate

    found = list(evaluate(document, policy))
    if change is not None:
        found.insert(0, change)
    return found


def _threshold(args: argparse.Namespace) -> Any:
    """The least severity that fails the run: --fail-on, else the policy's (which defaults to
    policy.config.DEFAULT_FAIL_ON)."""
    from unified_supply_chain.policy.config import DEFAULT_FAIL_ON
    from unified_supply_chain.records import parse_severity

    if args.fail_on is not None:
        return parse_severity(args.fail_on)
    policy = getattr(args, "_policy", None)
    return DEFAULT_FAIL_ON if policy is None else policy.fail_on


def _write_sarif(path: Path, findings: list[Any]) -> None:
    from unified_supply_chain import __version__
    from unified_supply_chain.bom.write import write_atomic
    from unified_supply_chain.report.sarif import Sarif

    data = Sarif(__version__).format(findings).encode("utf-8")
    write_atomic(data, path)
