"""`usc trace FILE|sha256:DIGEST --sbom PATH ...`: which component a file is, and its lineage."""

from __future__ import annotations

import argparse
from pathlib import Path

from unified_supply_chain import console

EPILOG = """\
TARGET is a file (hashed with SHA-256) or a digest written sha256:HEX. Each --sbom is a CycloneDX
JSON file or a directory searched recursively for *.json SBOMs (such as downloaded release
assets). Every matching component is reported, newest SBOM first, with its release, commit,
workflow run, training datasets (with hashes), hyperparameters and metrics.

Exit status: 0 = found, 1 = not found, 2 = usage error (bad target, unreadable SBOM).
"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of `usc trace` (argparse only: cheap)."""
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("target", metavar="FILE|sha256:DIGEST", help="model file or its digest")
    parser.add_argument(
        "--sbom",
        action="append",
        type=Path,
        required=True,
        metavar="PATH",
        help="SBOM file or directory of SBOMs (repeatable)",
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )


def run(args: argparse.Namespace) -> int:
    """Trace the target through the SBOMs; 0 when found, 1 when not."""
    from unified_supply_chain.compare.trace import (
        load_sboms,
        parse_digest,
        sha256_of,
        trace,
    )
    from unified_supply_chain.errors import UsageError
    from unified_supply_chain.report.interface import Report
    from unified_supply_chain.report.trace import TraceAnswer, TraceJson, TraceText

    target: str = args.target
    path = Path(target)
    digest = None if path.is_file() else parse_digest(target)
    if digest is None:
        if not path.is_file():
            raise UsageError(f"{target}: no such file, and not a sha256:DIGEST")
        digest = sha256_of(path)
    sboms, skipped = load_sboms(args.sbom)
    for name in skipped:
        console.say(f"usc: skipped {name}: not a CycloneDX JSON document")
    if not sboms:
        raise UsageError("no CycloneDX SBOM found in the given --sbom paths")
    matches = trace(digest, sboms)
    answer = TraceAnswer(target, digest, tuple(s.path for s in sboms), tuple(matches))
    report: Report[TraceAnswer] = TraceJson() if args.format == "json" else TraceText()
    text = report.format(answer)
    if args.format == "json":
        console.write_json(text)
    else:
        console.write(text)
    if not matches:
        console.say(f"usc: sha256:{digest} was not found in {len(sboms)} SBOM(s)")
        return 1
    return 0
