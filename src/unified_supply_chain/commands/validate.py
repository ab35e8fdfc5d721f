"""`usc validate SBOM`: validate a CycloneDX JSON document against the official schema."""

from __future__ import annotations

import argparse
from pathlib import Path

from unified_supply_chain import console


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sbom", type=Path, help="CycloneDX JSON file")
    parser.add_argument(
        "--spec-version",
        default=None,
        help="schema version to validate against (default: the document's)",
    )
    parser.add_argument(
        "--reference",
        action="store_true",
        help="use cyclonedx-python-lib's validator (slower) instead of the fast one",
    )


def run(args: argparse.Namespace) -> int:
    from unified_supply_chain.bom.validate import SUPPORTED, validation_errors
    from unified_supply_chain.errors import UsageError
    from unified_supply_chain.safeparse import load_json_file

    try:
        document = load_json_file(args.sbom)
    except Exception as exc:
        raise UsageError(f"{args.sbom}: not readable as JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get("bomFormat") != "CycloneDX":
        raise UsageError(f"{args.sbom}: not a CycloneDX JSON document")
    version = args.spec_version or str(document.get("specVersion", ""))
    if version not in SUPPORTED:
        raise UsageError(
            f"{args.sbom}: unsupported specVersion {version!r} (supported: {', '.join(SUPPORTED)})"
        )
    errors = validation_errors(document, version, reference=args.reference)
    if errors:
        for e in errors[:50]:
            console.say(f"{args.sbom}: {e}")
        console.say(f"{args.sbom}: INVALID against CycloneDX {version} ({len(errors)} errors)")
        return 1
    console.say(f"{args.sbom}: valid CycloneDX {version}")
    return 0
