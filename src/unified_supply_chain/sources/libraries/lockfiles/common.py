"""What every lockfile reader shares: the result type, the package list being built, hashes."""

from __future__ import annotations

import base64
import binascii
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from unified_supply_chain import limits, safeparse
from unified_supply_chain.errors import FormatError
from unified_supply_chain.records import Hash, Library, Problem
from unified_supply_chain.sources.libraries.manifests import normalize_name, pypi_purl
from unified_supply_chain.sources.libraries.pyproject import read_pyproject

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib


#: `Hash.source` of digests pinned by a lockfile.
HASH_SOURCE = "lockfile"

_HASH_ALGS = {
    "md5": ("MD5", 32),
    "sha1": ("SHA-1", 40),
    "sha256": ("SHA-256", 64),
    "sha384": ("SHA-384", 96),
    "sha512": ("SHA-512", 128),
}
_HEX = re.compile(r"^[0-9a-fA-F]+$")


@dataclass(frozen=True)
class LockfileResult:
    """What one lockfile pins."""

    libraries: tuple[Library, ...]
    """Locked packages, one per purl, in lockfile order."""
    problems: tuple[Problem, ...] = ()
    """Entries that were skipped, each with a one-line reason."""


def hex_hash(text: object) -> Hash | None:
    """`sha256:<hex>` (pip, poetry, uv) as a Hash, or None."""
    if not isinstance(text, str):
        return None
    alg, _, digest = text.partition(":")
    spec = _HASH_ALGS.get(alg.strip().lower())
    if spec is None or len(digest) != spec[1] or not _HEX.match(digest):
        return None
    return Hash(spec[0], digest.lower(), HASH_SOURCE)


def sri_hashes(integrity: object) -> list[Hash]:
    """Subresource Integrity strings (`sha512-<base64>`, space-separated) as hex Hashes."""
    out: list[Hash] = []
    if not isinstance(integrity, str):
        return out
    for token in integrity.split():
        alg, _, b64 = token.partition("-")
        spec = _HASH_ALGS.get(alg.lower())
        if spec is None:
            continue
        try:
            raw = base64.b64decode(b64.split("?")[0], validate=True)
        except (binascii.Error, ValueError):
            continue
        if len(raw) * 2 == spec[1]:
            out.append(Hash(spec[0], raw.hex(), HASH_SOURCE))
    return out


@dataclass
class LockedPackage:
    """A locked package while the file is being read."""

    key: str
    """Identity inside the lockfile (normalised name, or npm install path)."""
    name: str
    version: str | None
    purl: str
    ecosystem: str
    hashes: list[Hash] = field(default_factory=list)
    dep_keys: list[str] = field(default_factory=list)
    """Keys of the packages this one depends on (resolved to purls at the end)."""
    optional: bool = False
    direct: bool | None = None


class Lock:
    def __init__(self, relpath: str) -> None:
        self.relpath = relpath
        self.pkgs: list[LockedPackage] = []
        self.problems: list[Problem] = []

    def problem(self, message: str) -> None:
        self.problems.append(Problem(self.relpath, message))

    def add(self, pkg: LockedPackage) -> None:
        if len(self.pkgs) >= limits.MAX_LOCK_PACKAGES:
            raise FormatError(f"more than {limits.MAX_LOCK_PACKAGES} packages")
        self.pkgs.append(pkg)

    def result(
        self,
        direct_keys: Iterable[str] | None,
        resolve: Mapping[str, list[str]] | None = None,
    ) -> LockfileResult:
        """Freeze into Libraries: depends_on resolved via `resolve` (key -> purls)."""
        by_key: dict[str, list[str]] = {}
        for p in self.pkgs:
            by_key.setdefault(p.key, []).append(p.purl)
        table = resolve if resolve is not None else by_key
        wanted = set(direct_keys) if direct_keys is not None else None
        if wanted is None:
            # Nothing says which are direct: the packages nobody else depends on are.
            needed = {k for p in self.pkgs for k in p.dep_keys}
            wanted = {p.key for p in self.pkgs if p.key not in needed}
        merged: dict[str, Library] = {}
        for p in self.pkgs:
            deps: list[str] = []
            for k in p.dep_keys:
                for purl in table.get(k, []):
                    if purl != p.purl and purl not in deps:
                        deps.append(purl)
            direct = p.direct if p.direct is not None else p.key in wanted
            lib = Library(
                name=p.name,
                version=p.version,
                purl=p.purl,
                source=self.relpath,
                ecosystem=p.ecosystem,
                direct=direct,
                hashes=tuple(dict.fromkeys(p.hashes)),
                depends_on=tuple(deps),
                scope="optional" if p.optional else "required",
            )
            old = merged.get(p.purl)
            if old is not None:
                lib = replace(
                    old,
                    direct=old.direct or lib.direct,
                    hashes=tuple(dict.fromkeys(old.hashes + lib.hashes)),
                    depends_on=tuple(dict.fromkeys(old.depends_on + lib.depends_on)),
                    scope="required" if "required" in (old.scope, lib.scope) else "optional",
                )
            merged[p.purl] = lib
        return LockfileResult(libraries=tuple(merged.values()), problems=tuple(self.problems))


def load_toml(path: Path) -> dict[str, Any]:
    text = safeparse.read_text_bounded(path)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FormatError(f"invalid TOML: {exc}") from exc
    except RecursionError as exc:
        raise FormatError("TOML nesting too deep") from exc


def sibling_pyproject_names(path: Path) -> set[str] | None:
    """Normalised names the pyproject.toml beside a lockfile declares, or None when absent."""
    pyproject = path.with_name("pyproject.toml")
    if pyproject.is_symlink() or not pyproject.is_file():
        return None
    try:
        declared = read_pyproject(pyproject, "pyproject.toml")
    except FormatError:
        return None
    return {normalize_name(lib.name) for lib in declared.libraries}


def add_pypi(
    lock: Lock,
    name: str,
    version: str | None,
    qualifiers: dict[str, str],
    *,
    hashes: Sequence[Hash] = (),
    dep_keys: Sequence[str] = (),
    optional: bool = False,
    direct: bool | None = None,
) -> None:
    """Add a PyPI package keyed by its normalised name (one without a valid purl is a problem)."""
    try:
        purl = pypi_purl(name, version, qualifiers)
    except ValueError as exc:
        lock.problem(f"{name!r}: {exc}")
        return
    lock.add(
        LockedPackage(
            key=normalize_name(name),
            name=name,
            version=version,
            purl=purl,
            ecosystem="pypi",
            hashes=list(hashes),
            dep_keys=list(dep_keys),
            optional=optional,
            direct=direct,
        )
    )
