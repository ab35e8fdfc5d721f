"""MLCommons Croissant JSON-LD dataset descriptions: the dataset, its files, its record sets.

Built from the Croissant 1.0 specification (https://docs.mlcommons.org/croissant/docs/
croissant-spec.html) and the published examples in mlcommons/croissant `datasets/1.0/*/
metadata.json`: a document is a schema.org `Dataset` (`"@type": "sc:Dataset"`, with the
`http://mlcommons.org/croissant/` vocabulary in its `@context` and `conformsTo`
`http://mlcommons.org/croissant/1.0`) with `name`, `license`, `url`, a `distribution` of
`cr:FileObject`s (`contentUrl`, `sha256` or `md5`, `encodingFormat`, `containedIn`) and
`cr:FileSet`s (`includes`/`excludes` glob patterns, `containedIn`), and `recordSet`s of fields.
A `contentUrl` is a URL, or a path relative to the document; `..` and absolute paths are
refused, never followed. URLs pass through `redact_url`. Plain schema.org `Dataset` markup
(https://schema.org/Dataset, with `DataDownload`s) is read the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unified_supply_chain.errors import FormatError
from unified_supply_chain.records import Hash
from unified_supply_chain.safeparse import load_json_file
from unified_supply_chain.sources.datasets._common import (
    declared_hash,
    is_url,
    local_path,
    redacted,
    text,
)

HASH_SOURCE = "croissant"
"""`Hash.source` of digests a Croissant document declares."""
CROISSANT_NS = "mlcommons.org/croissant"
_DATASET_TYPES = frozenset({"sc:dataset", "schema:dataset", "dataset"})
_DATASET_IRIS = ("schema.org/dataset",)
_MAX_ITEMS = 1000


@dataclass(frozen=True)
class CroissantFile:
    """A `cr:FileObject` or `cr:FileSet` of a dataset's distribution."""

    name: str
    """`name` (or `@id`)."""
    is_set: bool
    """A FileSet (globs) rather than a FileObject (one file)."""
    url: str | None = None
    """A FileObject's `contentUrl` when it is a URL, credentials redacted."""
    path: str | None = None
    """A FileObject's `contentUrl` as a repo-relative path."""
    includes: tuple[str, ...] = ()
    """A FileSet's `includes` globs."""
    excludes: tuple[str, ...] = ()
    """A FileSet's `excludes` globs."""
    contained_in: tuple[str, ...] = ()
    """Names (or `@id`s) of the FileObjects/FileSets it lies inside."""
    encoding_format: str | None = None
    """`encodingFormat` (a MIME type)."""
    hashes: tuple[Hash, ...] = ()
    """`sha256` / `md5` as declared, source "croissant"."""


@dataclass(frozen=True)
class CroissantDataset:
    """One Croissant dataset description."""

    name: str
    """`name`."""
    licenses: tuple[str, ...]
    """`license` (one or a list; strings or CreativeWork objects)."""
    url: str | None
    """`url`, credentials redacted."""
    conforms_to: str | None
    """`conformsTo` (e.g. http://mlcommons.org/croissant/1.0)."""
    files: tuple[CroissantFile, ...]
    """FileObjects and FileSets of `distribution`, in order."""
    record_sets: tuple[tuple[str, int], ...]
    """(name, number of fields) of each `recordSet`."""
    warnings: tuple[str, ...] = ()
    """What could not be taken as declared."""


def _list(value: object) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _types(node: dict[str, Any]) -> list[str]:
    return [t.strip().lower() for t in _list(node.get("@type")) if isinstance(t, str)]


def _mentions(value: object, needle: str, depth: int = 0) -> bool:
    if depth > 4:
        return False
    if isinstance(value, str):
        return needle in value
    if isinstance(value, list):
        return any(_mentions(v, needle, depth + 1) for v in value)
    if isinstance(value, dict):
        return any(_mentions(v, needle, depth + 1) for v in value.values())
    return False


def is_croissant(data: object) -> bool:
    """Whether parsed JSON is a Croissant (or plain schema.org) dataset description: its
    `@type` is a schema.org `Dataset`, and its `@context` or `conformsTo` names the Croissant or
    schema.org vocabulary, so other JSON-LD (and JSON that merely has a `@type`) is not taken."""
    if not isinstance(data, dict):
        return False
    types = _types(data)
    is_dataset = any(t in _DATASET_TYPES or t.endswith(_DATASET_IRIS) for t in types)
    vocabulary = (data.get("@context"), data.get("conformsTo"), data.get("dct:conformsTo"))
    return is_dataset and any(
        _mentions(v, CROISSANT_NS) or _mentions(v, "schema.org") for v in vocabulary
    )


def _name(node: dict[str, Any], fallback: str) -> str:
    return text(node.get("name")) or text(node.get("@id")) or fallback


def _refs(value: object) -> tuple[str, ...]:
    out = []
    for item in _list(value)[:_MAX_ITEMS]:
        if isinstance(item, str) and item.strip():
            out.append(item.strip())
        elif isinstance(item, dict):
            ref = text(item.get("@id")) or text(item.get("name"))
            if ref:
                out.append(ref)
    return tuple(out)


def _globs(value: object) -> tuple[str, ...]:
    return tuple(g.strip() for g in _list(value)[:_MAX_ITEMS] if isinstance(g, str) and g.strip())


def _licenses(value: object) -> tuple[str, ...]:
    out = []
    for item in _list(value)[:_MAX_ITEMS]:
        name = text(item) if isinstance(item, str) else None
        if isinstance(item, dict):
            name = text(item.get("name")) or text(item.get("@id")) or text(item.get("url"))
        if name:
            out.append(redacted(name) if is_url(name) else name)
    return tuple(dict.fromkeys(out))


def _file(
    node: dict[str, Any], index: int, base_dir: str, warnings: list[str]
) -> CroissantFile | None:
    types = _types(node)
    is_set = any(t.endswith("fileset") for t in types)
    # schema.org's own DataDownload is a single file, as a FileObject is.
    if not is_set and not any(t.endswith(("fileobject", "datadownload")) for t in types):
        return None
    name = _name(node, f"distribution[{index}]")
    hashes = tuple(
        h
        for alg, key in (
            ("sha256", "sha256"),
            ("md5", "md5"),
            ("md5", "cr:md5"),
            ("sha256", "sc:sha256"),
        )
        if (h := declared_hash(alg, node.get(key), HASH_SOURCE)) is not None
    )
    for key in ("sha256", "md5"):
        if node.get(key) is not None and not any(
            h.alg == ("SHA-256" if key == "sha256" else "MD5") for h in hashes
        ):
            warnings.append(f"{name}: {key} is not a hex digest of that algorithm")
    url = path = None
    content = text(node.get("contentUrl"), 4000)
    contained = _refs(node.get("containedIn"))
    if content and not is_set:
        if is_url(content):
            url = redacted(content)
        elif not contained:  # inside a container the path is relative to it, not to us
            path = local_path(base_dir, content)
            if path is None:
                warnings.append(
                    f"{name}: contentUrl {content[:80]!r} is absolute or has '..'; not followed"
                )
    return CroissantFile(
        name=name,
        is_set=is_set,
        url=url,
        path=path,
        includes=_globs(node.get("includes") or node.get("cr:includes")),
        excludes=_globs(node.get("excludes") or node.get("cr:excludes")),
        contained_in=contained,
        encoding_format=text(node.get("encodingFormat")),
        hashes=tuple(dict.fromkeys(hashes)),
    )


def read_croissant(path: Path, rel: str) -> CroissantDataset:
    """The Croissant dataset described by `path` (repo-relative `rel`).

    Raises FormatError when the file is not parseable JSON or is not a Croissant dataset.
    """
    data = load_json_file(path)
    if not is_croissant(data):
        raise FormatError(
            "not a Croissant dataset (no sc:Dataset tied to the Croissant vocabulary)"
        )
    base_dir = rel.rpartition("/")[0]
    warnings: list[str] = []
    files = []
    for i, node in enumerate(_list(data.get("distribution"))[:_MAX_ITEMS]):
        if isinstance(node, dict):
            f = _file(node, i, base_dir, warnings)
            if f is not None:
                files.append(f)
    record_sets = []
    for i, node in enumerate(_list(data.get("recordSet"))[:_MAX_ITEMS]):
        if isinstance(node, dict):
            record_sets.append((_name(node, f"recordSet[{i}]"), len(_list(node.get("field")))))
    url = text(data.get("url"), 4000)
    return CroissantDataset(
        name=_name(data, path.stem),
        licenses=_licenses(data.get("license")),
        url=redacted(url) if url and is_url(url) else None,
        conforms_to=text(data.get("conformsTo")),
        files=tuple(files),
        record_sets=tuple(record_sets),
        warnings=tuple(warnings),
    )


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A FileSet glob as a regular expression over POSIX paths: `**` spans directories, `*` and
    `?` stay within one, `[...]` is a character class."""
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:[^/]*/)*")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : end]
                negate = body.startswith("!")
                # Ranges keep their '-'; every other character is literal in the class.
                inner = "".join(ch if ch == "-" else re.escape(ch) for ch in body[negate:])
                out.append("[" + ("^" if negate else "") + inner + "]")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")
