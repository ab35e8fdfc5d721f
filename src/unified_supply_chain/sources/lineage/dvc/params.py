"""Stage parameters: the `params:` list of a stage, its params files (YAML, JSON, TOML; Python is
not evaluated) and the values they hold, restricted to the listed keys."""

from __future__ import annotations

import posixpath
import sys
from collections.abc import Sequence
from typing import Any

from unified_supply_chain import safeparse
from unified_supply_chain.errors import FormatError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib
from unified_supply_chain.sources.lineage.dvc.state import Builder

#: Default params file of a stage (relative to its wdir).
DEFAULT_PARAMS = "params.yaml"


def load_params_file(b: Builder, relpath: str, cache: dict[str, Any]) -> Any:
    """Parsed params file (YAML, JSON, TOML, Python is not evaluated), or None when unreadable."""
    if relpath in cache:
        return cache[relpath]
    result: Any = None
    path = b.root / relpath
    # Only files the walk found: a name in a record never leads outside the walked tree.
    if relpath in b.files:
        try:
            suffix = posixpath.splitext(relpath)[1].lower()
            if suffix == ".json":
                result = safeparse.load_json_file(path)
            elif suffix == ".toml":
                try:
                    result = tomllib.loads(safeparse.read_text_bounded(path))
                except tomllib.TOMLDecodeError as exc:
                    raise FormatError(f"invalid TOML: {exc}") from exc
            elif suffix in (".yaml", ".yml"):
                result = safeparse.load_yaml_file(path)
            else:
                b.problem(relpath, "params file format not read (only YAML, JSON and TOML)")
        except FormatError as exc:
            b.problem(relpath, f"params file not read: {exc}")
            result = None
    cache[relpath] = result
    return result


def select_params(data: Any, keys: Sequence[str] | None) -> list[tuple[str, str]]:
    """Flattened params, restricted to the listed keys/sections (None = the whole file)."""
    flat = safeparse.flatten(data) if isinstance(data, dict) else []
    if keys is None:
        return flat
    out: list[tuple[str, str]] = []
    for key in keys:
        out.extend((k, v) for k, v in flat if k == key or k.startswith(key + "."))
    return out


def params_spec(entries: Any) -> list[tuple[str, list[str] | None]]:
    """(params file relative to wdir, keys or None for all) from a stage's `params:` list."""
    spec: dict[str, list[str] | None] = {}
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, (str, int, float)) and not isinstance(entry, bool):
            keys = spec.setdefault(DEFAULT_PARAMS, [])
            if keys is not None:
                keys.append(str(entry))
        elif isinstance(entry, dict):
            for fname, keys_ in entry.items():
                if not isinstance(fname, str):
                    continue
                if keys_ is None or keys_ == []:
                    spec[fname] = None
                elif isinstance(keys_, list):
                    existing = spec.setdefault(fname, [])
                    if existing is not None:
                        existing.extend(str(k) for k in keys_ if isinstance(k, (str, int)))
    return list(spec.items())
