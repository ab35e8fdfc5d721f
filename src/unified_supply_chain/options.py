"""Options of one SBOM generation, parsed once from the CLI or the action's inputs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ScanOptions:
    """How to scan a repository and what document to produce."""

    root: Path
    """Repository directory to scan."""
    spec_version: str = "1.6"
    """CycloneDX spec version: "1.6" or "1.7"."""
    include: tuple[str, ...] = ()
    """Gitignore-style globs; when given, only matching files are considered."""
    exclude: tuple[str, ...] = ()
    """Gitignore-style globs excluded in addition to .gitignore and the defaults."""
    merge: tuple[Path, ...] = ()
    """CycloneDX JSON SBOMs from other tools to merge in."""
    reproducible: bool = False
    """Fixed timestamp (SOURCE_DATE_EPOCH or 0) and serial number derived from content."""
    cache_dir: Path | None = None
    """Hash cache directory; None disables the cache."""
    jobs: int = 0
    """Hashing threads; 0 = one per core."""
    app_name: str | None = None
    """Name of the application component; default: project name or directory name."""
    app_version: str | None = None
    """Version of the application component."""
    progress: bool = False
    """Show progress on stderr."""
