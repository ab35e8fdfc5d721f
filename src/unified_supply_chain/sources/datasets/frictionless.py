"""Frictionless Data Packages: `datapackage.json` (or `.yaml`) and the resources it declares.

Built from the Data Package standard (https://datapackage.org/standard/data-package/) and the
Data Resource standard (https://datapackage.org/standard/data-resource/): a package has `name`,
`title`, `licenses` and `sources`; each resource has a `name` and either `path` (one
"url-or-path" or a list of them, the parts of one resource) or inline `data`, and may state
`format`, `mediatype`, `bytes`, `hash` (MD5 unless prefixed `{algorithm}:`), `licenses` and a
`schema` (a Table Schema with `fields`, inline or referenced). Paths are POSIX paths relative to
the descriptor; an absolute path or one with `..` is refused (the standard forbids both), never
followed. URLs pass through `redact_url`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unified_supply_chain.errors import FormatError
from unified_supply_chain.records import Hash
from unified_supply_chain.safeparse import load_json_file, load_yaml_file
from unified_supply_chain.sources.datasets._common import (
    declared_hash,
    is_url,
    local_path,
    redacted,
    text,
)

HASH_SOURCE = "datapackage"
"""`Hash.source` of digests a Data Package declares."""
_MAX_RESOURCES = 1000
_MAX_PATHS = 1000


@dataclass(frozen=True)
class PackageResource:
    """One resource of a Data Package."""

    name: str
    """The resource's `name` (or `resource[<index>]` when it has none)."""
    paths: tuple[str, ...] = ()
    """Repo-relative local paths of its parts, in order."""
    urls: tuple[str, ...] = ()
    """Remote parts, credentials redacted."""
    inline: bool = False
    """The data is inline in the descriptor (`data`), not in files."""
    format: str | None = None
    """`format` as declared (csv, parquet, ...)."""
    mediatype: str | None = None
    """`mediatype` as declared."""
    bytes: int | None = None
    """`bytes` as declared."""
    hashes: tuple[Hash, ...] = ()
    """The declared `hash`, source "datapackage"."""
    licenses: tuple[str, ...] = ()
    """The resource's own `licenses` (name, else title, else path)."""
    field_count: int | None = None
    """Number of fields of an inline Table Schema."""
    warnings: tuple[str, ...] = ()
    """What could not be taken as declared (a refused path, a malformed hash)."""


@dataclass(frozen=True)
class DataPackage:
    """A Data Package descriptor."""

    name: str
    """The package's `name` (or the name of the directory holding the descriptor)."""
    title: str | None
    """`title`."""
    licenses: tuple[str, ...]
    """The package's `licenses`, which apply to resources that declare none."""
    sources: tuple[str, ...]
    """`sources`: titles or paths (URLs redacted)."""
    resources: tuple[PackageResource, ...]
    """The declared resources."""


def _licenses(value: object) -> tuple[str, ...]:
    out: list[str] = []
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                name = text(item.get("name")) or text(item.get("title")) or text(item.get("path"))
                if name:
                    out.append(redacted(name) if is_url(name) else name)
            elif isinstance(item, str) and item.strip():  # lenient: a bare licence id
                out.append(item.strip()[:200])
    return tuple(dict.fromkeys(out))


def _sources(value: object) -> tuple[str, ...]:
    out: list[str] = []
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                label = text(item.get("title")) or text(item.get("path"))
                if label:
                    out.append(redacted(label) if is_url(label) else label)
    return tuple(out)


def _hash(value: object) -> tuple[tuple[Hash, ...], str | None]:
    if value is None:
        return (), None
    if not isinstance(value, str):
        return (), "hash is not a string"
    algorithm, sep, digest = value.strip().partition(":")
    h = (
        declared_hash(algorithm, digest, HASH_SOURCE)
        if sep
        else declared_hash("md5", value, HASH_SOURCE)
    )
    if h is None:
        return (), f"hash {value[:80]!r} is not an MD5 or an {{algorithm}}:{{hash}} digest"
    return (h,), None


def _field_count(schema: object) -> int | None:
    if isinstance(schema, dict) and isinstance(schema.get("fields"), list):
        return len(schema["fields"])
    return None


def _resource(entry: dict[str, Any], index: int, base_dir: str) -> PackageResource:
    name = text(entry.get("name")) or f"resource[{index}]"
    raw = entry.get("path")
    locations = raw if isinstance(raw, list) else [raw] if raw is not None else []
    paths: list[str] = []
    urls: list[str] = []
    warnings: list[str] = []
    for loc in locations[:_MAX_PATHS]:
        if not isinstance(loc, str) or not loc.strip():
            warnings.append(f"resource {name}: a path is not a string")
        elif is_url(loc.strip()):
            urls.append(redacted(loc))
        else:
            rel = local_path(base_dir, loc)
            if rel is None:
                warnings.append(
                    f"resource {name}: path {loc[:80]!r} is absolute or has '..'; not followed"
                )
            else:
                paths.append(rel)
    hashes, problem = _hash(entry.get("hash"))
    if problem:
        warnings.append(f"resource {name}: {problem}")
    size = entry.get("bytes")
    return PackageResource(
        name=name,
        paths=tuple(dict.fromkeys(paths)),
        urls=tuple(dict.fromkeys(urls)),
        inline="data" in entry and raw is None,
        format=text(entry.get("format")),
        mediatype=text(entry.get("mediatype")),
        bytes=size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None,
        hashes=hashes,
        licenses=_licenses(entry.get("licenses")),
        field_count=_field_count(entry.get("schema")),
        warnings=tuple(warnings),
    )


def is_data_package(data: object) -> bool:
    """Whether parsed JSON/YAML is a Data Package: a mapping whose `resources` is a list of
    mappings each with a `path` or `data` (the standard's one required property pair)."""
    if not isinstance(data, dict):
        return False
    resources = data.get("resources")
    return (
        isinstance(resources, list)
        and bool(resources)
        and all(isinstance(r, dict) and ("path" in r or "data" in r) for r in resources)
    )


def read_data_package(path: Path, rel: str) -> DataPackage:
    """The Data Package declared by `path` (repo-relative `rel`).

    Raises FormatError when the file is not parseable or is not a Data Package.
    """
    data = load_json_file(path) if path.suffix.lower() == ".json" else load_yaml_file(path)
    if not is_data_package(data):
        raise FormatError(
            "not a Data Package (no `resources` list of resources with a path or data)"
        )
    base_dir = rel.rpartition("/")[0]
    fallback = base_dir.rpartition("/")[2] or path.stem
    resources = data["resources"][:_MAX_RESOURCES]
    return DataPackage(
        name=text(data.get("name")) or fallback,
        title=text(data.get("title")),
        licenses=_licenses(data.get("licenses")),
        sources=_sources(data.get("sources")),
        resources=tuple(_resource(r, i, base_dir) for i, r in enumerate(resources)),
    )
