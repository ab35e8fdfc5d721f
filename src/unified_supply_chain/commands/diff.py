"""`usc diff BASE HEAD`: compare two SBOMs, ML-aware.

Each side is an SBOM file, a directory (an SBOM is generated from it) or a git ref of the
repository given by `--repo` (checked out into a temporary worktree, generated, removed).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from unified_supply_chain.errors import FormatError, OutputError, UsageError, UscError
from unified_supply_chain.gitrepo import git, resolve_commit

EPILOG = """\
Each of BASE and HEAD is, tried in this order: a CycloneDX JSON file, a directory to scan, or a
git ref (branch, tag, commit) of the repository given by --repo, checked out into a temporary
worktree and scanned.

Exit status: 0 = no differences, 1 = differences found, 2 = usage error (including a file that is
not CycloneDX JSON), 3 = a directory or git ref could not be scanned.
"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of `usc diff` (argparse only: cheap)."""
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("base", metavar="BASE", help="SBOM file, directory or git ref (before)")
    parser.add_argument("head", metavar="HEAD", help="SBOM file, directory or git ref (after)")
    parser.add_argument(
        "--format",
        choices=("markdown", "json"),
        default="markdown",
        help="output format (default: markdown)",
    )
    parser.add_argument(
        "--output", "-o", type=Path, help="write the report to FILE (default: stdout)"
    )
    parser.add_argument(
        "--repo",
        type=Path,
        default=None,
        help="git repository for refs (default: the current directory)",
    )


def load_sbom_file(path: Path) -> dict[str, Any]:
    """Read a CycloneDX JSON SBOM (read-only, bounded); UsageError when it is not one."""
    from unified_supply_chain.safeparse import load_json_file

    try:
        doc = load_json_file(path)
    except FormatError as exc:
        raise UsageError(f"{path}: not a readable JSON SBOM: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("bomFormat") != "CycloneDX":
        raise UsageError(f"{path}: not a CycloneDX JSON document (no bomFormat: CycloneDX)")
    return doc


def generate_document(root: Path) -> dict[str, Any]:
    """Generate an SBOM of the directory `root` with the pipeline (in memory, nothing written)."""
    # Imported here: the scan pipeline is the heaviest import of the package.
    from unified_supply_chain import pipeline
    from unified_supply_chain.options import ScanOptions

    generated = pipeline.generate(ScanOptions(root=root, reproducible=True))
    document: dict[str, Any] = generated.document
    return document


def sbom_from_git_ref(repo: Path, ref: str, *, fetch: bool = False) -> dict[str, Any]:
    """Check `ref` out into a temporary detached worktree, generate its SBOM, remove the tree."""
    commit = resolve_commit(repo, ref, fetch=fetch)
    if commit is None:
        hint = " (a shallow checkout? use actions/checkout with fetch-depth: 0)" if fetch else ""
        raise UsageError(f"{ref!r} is neither a file, a directory nor a git ref of {repo}{hint}")
    with tempfile.TemporaryDirectory(prefix="usc-worktree-") as tmp:
        tree = Path(tmp) / "tree"
        added = git(repo, "worktree", "add", "--detach", str(tree), commit)
        if added.returncode != 0:
            raise UscError(f"git worktree add {ref} failed: {added.stderr.strip()}")
        try:
            return generate_document(tree)
        finally:
            git(repo, "worktree", "remove", "--force", str(tree))
            git(repo, "worktree", "prune")


def load_side(spec: str, repo: Path, *, fetch: bool = False) -> dict[str, Any]:
    """One side of a diff: an SBOM file, a directory to scan, or a git ref of `repo`."""
    path = Path(spec)
    if path.is_file():
        return load_sbom_file(path)
    if path.is_dir():
        return generate_document(path)
    return sbom_from_git_ref(repo, spec, fetch=fetch)


def write_text(text: str, output: Path | None, *, json: bool = False) -> None:
    """Write `text` to `output` (atomically: temp file + rename) or to stdout, where it is
    made safe line by line (`console`; JSON the JSON way)."""
    if output is None:
        from unified_supply_chain import console

        if json:
            console.write_json(text)
        else:
            console.write(text)
        return
    tmp = output.with_name(f".{output.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(output)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {output}: {exc.strerror or exc}") from exc


def run(args: argparse.Namespace) -> int:
    """Compare BASE and HEAD; exit 1 when they differ."""
    from unified_supply_chain.compare.diff import SbomDiff, diff_sboms
    from unified_supply_chain.report.diff_json import DiffJson
    from unified_supply_chain.report.diff_markdown import DiffMarkdown
    from unified_supply_chain.report.interface import Report

    repo = args.repo if args.repo is not None else Path.cwd()
    base = load_side(args.base, repo)
    head = load_side(args.head, repo)
    diff = diff_sboms(base, head)
    report: Report[SbomDiff]
    if args.format == "json":
        report = DiffJson()
    else:
        # No GitHub limit on a file or a terminal: render everything.
        report = DiffMarkdown(max_chars=sys.maxsize, title="ML supply chain changes")
    write_text(report.format(diff), args.output, json=args.format == "json")
    return 1 if diff.has_changes else 0
