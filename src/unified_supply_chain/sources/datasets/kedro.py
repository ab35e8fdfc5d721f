"""Kedro data catalog (`conf/<env>/catalog*.yml`, `conf/<env>/catalog/*.yml`).

Built from Kedro's own source and its starters: `kedro/config/omegaconf_config.py` (the config
patterns `catalog*`, `catalog*/**`, `**/catalog*`, and top-level keys starting `_` being left
out of the merged catalog), `kedro/io/catalog_config_resolver.py` (a key holding `{` is a dataset
factory pattern), `kedro/io/core.py` (a versioned dataset is stored at
`<filepath>/<version>/<basename of filepath>`), and kedro-starters'
`spaceflights-pandas/.../conf/base/catalog.yml`.

Only a dataset's name, `type`, `filepath` (or `path`, for partitioned datasets), `versioned` and
layer (`layer:` or `metadata.kedro-viz.layer`) are read: `credentials:` and every argument
(`load_args`, `fs_args`, ...) stay where they are. Remote `filepath`s pass through `redact_url`.
Simple `${_name}` interpolations of the file's own top-level `_` keys are resolved (Kedro's
"templating" for a common base location); any other `${...}` stays as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unified_supply_chain.errors import FormatError
from unified_supply_chain.redact import redact_url
from unified_supply_chain.safeparse import load_yaml_file

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_VARIABLE = re.compile(r"\$\{\s*(_[A-Za-z0-9_]*)\s*\}")
_MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class CatalogEntry:
    """One dataset (or dataset factory) of a Kedro catalog."""

    name: str
    """Catalog key; a transcoded key (`companies@spark`) keeps only the part before `@`."""
    key: str
    """The key as written."""
    type: str | None
    """Dataset class (`pandas.CSVDataset`), as written."""
    filepath: str | None
    """Local path as written (relative to the project root) or a redacted remote URL."""
    remote: bool = False
    """`filepath` has a scheme other than `file://` (s3://, gs://, abfs://, https://, ...)."""
    versioned: bool = False
    """`versioned: true`: files live at `<filepath>/<version>/<basename>`."""
    layer: str | None = None
    """Data layer (`layer:` or `metadata.kedro-viz.layer`)."""
    pattern: bool = False
    """The key is a dataset factory pattern (`{name}_csv`); `filepath` may hold `{name}`."""


def _resolve(text: str, variables: dict[str, str]) -> str:
    return _VARIABLE.sub(lambda m: variables.get(m.group(1), m.group(0)), text)


def _layer(entry: dict[str, Any]) -> str | None:
    layer = entry.get("layer")
    if isinstance(layer, str) and layer.strip():
        return layer.strip()
    metadata = entry.get("metadata")
    viz = metadata.get("kedro-viz") if isinstance(metadata, dict) else None
    layer = viz.get("layer") if isinstance(viz, dict) else None
    return layer.strip() if isinstance(layer, str) and layer.strip() else None


def _entry(key: str, entry: dict[str, Any], variables: dict[str, str]) -> CatalogEntry:
    raw = entry.get("filepath", entry.get("path"))
    filepath: str | None = None
    remote = False
    if isinstance(raw, str) and raw.strip():
        filepath = _resolve(raw.strip(), variables)
        scheme = _SCHEME.match(filepath)
        if scheme and scheme.group(1).lower() == "file":
            filepath = filepath[len(scheme.group(0)) :]
        elif scheme:
            filepath, remote = redact_url(filepath), True
    kind = entry.get("type")
    return CatalogEntry(
        name=key.split("@", 1)[0] or key,
        key=key,
        type=kind.strip() if isinstance(kind, str) and kind.strip() else None,
        filepath=filepath,
        remote=remote,
        versioned=entry.get("versioned") is True,
        layer=_layer(entry),
        pattern="{" in key,
    )


def read_kedro_catalog(path: Path) -> list[CatalogEntry]:
    """Datasets of one catalog file, in file order.

    A top-level key starting `_` is a template or variable, not a dataset; an entry counts when
    it is a mapping with `type` or `filepath`. An empty file has none; a top level that is not
    a mapping is a FormatError.
    """
    data = load_yaml_file(path)
    if data is None:
        return []
    if not isinstance(data, dict):
        raise FormatError(f"top level is a {type(data).__name__}, not a mapping")
    variables = {
        str(k): str(v)
        for k, v in data.items()
        if str(k).startswith("_") and isinstance(v, (str, int, float)) and not isinstance(v, bool)
    }
    out: list[CatalogEntry] = []
    for key, entry in list(data.items())[:_MAX_ENTRIES]:
        name = str(key)
        if name.startswith("_") or not isinstance(entry, dict):
            continue
        if "type" not in entry and "filepath" not in entry:
            continue
        out.append(_entry(name, entry, variables))
    return out


def factory_regex(filepath: str) -> re.Pattern[str]:
    """A regular expression for the paths a factory's `filepath` (`data/{name}.csv`) matches:
    each `{placeholder}` stands for one path component's worth of text."""
    parts = re.split(r"\{[^{}]*\}", filepath)
    return re.compile("[^/]+".join(re.escape(p) for p in parts))
