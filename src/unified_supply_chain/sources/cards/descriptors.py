"""Dataset descriptors: YAML/JSON files that point at remote data (or describe local data).

URLs taken from descriptors pass through `redact_url`, so no credential reaches the SBOM.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError
from unified_supply_chain.redact import redact_url
from unified_supply_chain.safeparse import load_json_file, load_yaml_file


@dataclass(frozen=True)
class DatasetDescriptor:
    """A dataset that a descriptor file points at (its content is elsewhere)."""

    name: str
    """Name the descriptor gives (or the descriptor file's stem)."""
    urls: tuple[str, ...]
    """Where the data lives, credentials redacted, in source order without duplicates."""
    license: str | None = None
    """Licence id or name as written."""
    description: str | None = None
    """Free text, bounded."""
    sha256: str | None = None
    """Lower-case hex SHA-256 the descriptor states for the data."""
    classification: str | None = None
    """Data classification the descriptor states (e.g. "public", "confidential")."""


_URL_KEYS = ("url", "urls", "download_url", "download_urls", "source", "sources", "uri", "path")
_NAME_KEYS = ("name", "id", "title", "dataset")
_URL_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$")
_SHA256 = re.compile(r"^(?:sha256[:-])?([0-9a-fA-F]{64})$")
_MAX_DESCRIPTION = 2000
_MAX_DESCRIPTORS = 1000


def _strings(value: object, depth: int = 0) -> Iterator[str]:
    """Every string inside a value (lists and mapping values), bounded in depth."""
    if depth > 8:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, depth + 1)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item, depth + 1)


def _urls_of(entry: dict[str, Any]) -> tuple[str, ...]:
    found: list[str] = []
    candidates: list[object] = [entry.get(key) for key in _URL_KEYS]
    splits = entry.get("splits")
    if isinstance(splits, dict):
        candidates.extend(
            {k: v for k, v in split.items() if k in _URL_KEYS} if isinstance(split, dict) else split
            for split in splits.values()
        )
    elif isinstance(splits, list):
        candidates.extend(
            {k: v for k, v in split.items() if k in _URL_KEYS}
            for split in splits
            if isinstance(split, dict)
        )
    for candidate in candidates:
        for text in _strings(candidate):
            url = text.strip()
            if _URL_LIKE.match(url):
                redacted = redact_url(url)
                if redacted not in found:
                    found.append(redacted)
                if len(found) >= limits.MAX_DESCRIPTOR_URLS:
                    return tuple(found)
    return tuple(found)


def _text_of(value: object, cap: int = 200) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()[:cap]
    if isinstance(value, list):
        parts = [v.strip() for v in value if isinstance(v, str) and v.strip()]
        return ", ".join(parts)[:cap] if parts else None
    if isinstance(value, dict):
        for key in ("id", "spdx", "name"):
            if isinstance(value.get(key), str):
                return _text_of(value[key], cap)
    return None


def _sha256_of(entry: dict[str, Any]) -> str | None:
    for key in ("sha256", "checksum", "hash", "digest"):
        value = entry.get(key)
        if isinstance(value, str):
            match = _SHA256.match(value.strip())
            if match:
                return match.group(1).lower()
    return None


def _descriptor(entry: dict[str, Any], fallback_name: str) -> DatasetDescriptor:
    name = next(
        (n for n in (_text_of(entry.get(k)) for k in _NAME_KEYS) if n is not None),
        fallback_name,
    )
    return DatasetDescriptor(
        name=name,
        urls=_urls_of(entry),
        license=_text_of(entry.get("license") or entry.get("licence")),
        description=_text_of(entry.get("description"), _MAX_DESCRIPTION),
        sha256=_sha256_of(entry),
        classification=_text_of(entry.get("classification")),
    )


def read_dataset_descriptor(path: Path) -> list[DatasetDescriptor]:
    """Datasets a descriptor file points at.

    The file (YAML, or JSON by extension) is either one mapping with a URL key (`url`, `urls`,
    `download_url`, `source`, per-split URLs under `splits`), or holds a `datasets:` list (or is
    a list) of such mappings. A descriptor without URLs describes local data (its licence and
    description still count); a lone mapping with neither URLs nor a name, licence or
    description gives an empty result. Every URL passes through `redact_url`.
    """
    data = load_json_file(path) if path.suffix.lower() == ".json" else load_yaml_file(path)
    stem = path.name.split(".")[0] or path.name
    entries: object
    if isinstance(data, dict) and "datasets" in data:
        entries = data["datasets"]
        if isinstance(entries, dict):
            entries = [
                {"name": key, **value} if isinstance(value, dict) else {"name": key, "url": value}
                for key, value in entries.items()
            ]
    elif isinstance(data, list):
        entries = data
    elif isinstance(data, dict):
        single = _descriptor(data, stem)
        described = any(k in data for k in (*_NAME_KEYS, "license", "licence", "description"))
        return [single] if single.urls or described else []
    elif data is None:
        return []
    else:
        raise FormatError(f"top level is a {type(data).__name__}, not a mapping or list")
    if not isinstance(entries, list):
        raise FormatError("`datasets` is not a list")
    out: list[DatasetDescriptor] = []
    for index, entry in enumerate(entries[:_MAX_DESCRIPTORS]):
        if isinstance(entry, dict):
            out.append(_descriptor(entry, f"{stem}[{index}]"))
        elif isinstance(entry, str) and _URL_LIKE.match(entry.strip()):
            out.append(DatasetDescriptor(f"{stem}[{index}]", (redact_url(entry.strip()),)))
    return out
