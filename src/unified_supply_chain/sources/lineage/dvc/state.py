"""What one read of DVC records has found so far, and the path rule every record follows: paths
are joined to their directory and refused when absolute, templated, remote or leaving the root."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from unified_supply_chain import records
from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.errors import FormatError
from unified_supply_chain.redact import redact_text
from unified_supply_chain.sources.lineage.metrics import read_metrics_file

_MD5 = re.compile(r"^[0-9a-fA-F]{32}$")
#: A URL scheme: an external dependency, never a repository path.
REMOTE_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class PathError(ValueError):
    """A path in a record that cannot be used (escapes the root, absolute, unresolved)."""


def _show(path: str) -> str:
    """A path for a message: quoted, cut to 120 characters, credentials of a URL removed."""
    return repr(redact_text(path))[:120]


def normalise(base_dir: str, path: str) -> str:
    """Join `path` to the repo-relative `base_dir`; refuse absolute or escaping results."""
    if not isinstance(path, str) or not path.strip():
        raise PathError("empty path")
    if "${" in path:
        raise PathError(f"unresolved template in path {_show(path)}")
    if REMOTE_URL.match(path):
        raise PathError(f"not a repository path: {_show(path)}")
    cleaned = path.replace("\\", "/")
    if cleaned.startswith("/") or re.match(r"^[A-Za-z]:/", cleaned):
        raise PathError(f"absolute path {_show(path)}")
    joined = posixpath.normpath(posixpath.join(base_dir, cleaned)) if base_dir else cleaned
    joined = posixpath.normpath(joined)
    if joined == ".." or joined.startswith("../") or joined.startswith("/"):
        raise PathError(f"path {_show(path)} leaves the repository")
    if joined == ".":
        raise PathError(f"path {_show(path)} is the repository root")
    return joined


@dataclass
class DeclaredAcc:
    """Mutable accumulator for one declared path, frozen into `records.Declared` at the end."""

    path: str
    source: str
    kind: records.ArtifactKind | None = None
    name: str | None = None
    size: int | None = None
    storage: records.Storage | None = None
    hashes: list[records.Hash] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, object] = field(default_factory=dict)
    weak: bool = False
    """Only a dvc.lock dependency names it: kept only when its content is absent, since a present
    file that no reader took for an artifact (a script, a config) is not one."""

    def add_hash(self, h: records.Hash) -> None:
        if all((x.alg, x.content) != (h.alg, h.content) for x in self.hashes):
            self.hashes.append(h)

    def freeze(self) -> records.Declared:
        return records.Declared(
            path=self.path,
            kind=self.kind,
            hashes=tuple(self.hashes),
            size=self.size,
            storage=self.storage,
            source=self.source,
            name=self.name,
            properties=tuple(sorted(self.properties.items())),
            metadata=dict(self.metadata),
        )


@dataclass
class Builder:
    """Everything read so far, in discovery order."""

    root: Path
    files: frozenset[str]
    declared: dict[str, DeclaredAcc] = field(default_factory=dict)
    stages: list[records.Stage] = field(default_factory=list)
    metrics: list[records.MetricsSource] = field(default_factory=list)
    problems: list[records.Problem] = field(default_factory=list)
    _dirs: set[str] = field(default_factory=set)

    def problem(self, path: str, message: str) -> None:
        self.problems.append(records.Problem(path=path, message=message))

    def declare(self, path: str, source: str, weak: bool = False) -> DeclaredAcc:
        acc = self.declared.get(path)
        if acc is None:
            acc = self.declared[path] = DeclaredAcc(path=path, source=source, weak=weak)
        elif not weak:
            acc.weak = False
        return acc

    def present(self, path: str) -> bool:
        """Whether the checkout has the file, or files under the directory, at `path`."""
        if not self._dirs and self.files:
            self._dirs = {f[:i] for f in self.files for i in range(len(f)) if f[i] == "/"}
        return path in self.files or path in self._dirs


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def apply_hash_info(acc: DeclaredAcc, info: Mapping[str, Any], hash_source: str) -> None:
    """md5/size/nfiles of an out or dep entry (`.dvc` file or `dvc.lock`)."""
    md5 = info.get("md5")
    if isinstance(md5, int) and not isinstance(md5, bool):
        md5 = str(md5)  # an unquoted all-digit digest parses as a YAML integer
    if isinstance(md5, str):
        is_dir = md5.endswith(".dir")
        digest = md5[: -len(".dir")] if is_dir else md5
        if _MD5.match(digest):
            acc.add_hash(records.Hash("MD5", digest.lower(), hash_source))
        if is_dir:
            acc.properties[Prop.DVC_DIRECTORY.value] = "true"
    size = _int_or_none(info.get("size"))
    if size is not None:
        acc.size = size
    nfiles = _int_or_none(info.get("nfiles"))
    if nfiles is not None:
        acc.properties[Prop.DVC_NFILES.value] = str(nfiles)


def add_metrics(b: Builder, mpath: str, for_paths: tuple[str, ...]) -> None:
    """Metrics of a file the walk found, about `for_paths`; a bad file is a problem."""
    full = b.root / mpath
    if mpath not in b.files:
        return  # not produced yet in this checkout (or not a file the walk found)
    try:
        found = read_metrics_file(full, mpath)
    except FormatError as exc:
        b.problem(mpath, f"metrics not read: {exc}")
        return
    b.metrics.append(records.MetricsSource(path=mpath, metrics=found, for_paths=for_paths))
