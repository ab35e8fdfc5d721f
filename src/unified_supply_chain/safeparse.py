"""Bounded parsers for untrusted JSON and YAML text (size, depth and alias caps)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError, LimitExceeded


def read_text_bounded(path: Path, cap: int = limits.MAX_TEXT_PARSE) -> str:
    """Read a UTF-8 text file, refusing files over `cap` bytes (never a whole huge file)."""
    try:
        with path.open("rb") as fh:
            data = fh.read(cap + 1)
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}") from exc
    return decode_text_bounded(data, cap)


def decode_text_bounded(data: bytes, cap: int = limits.MAX_TEXT_PARSE) -> str:
    """Bytes read from a text file as UTF-8 (a BOM dropped); FormatError over `cap` bytes or
    when not UTF-8."""
    if len(data) > cap:
        raise LimitExceeded(f"text file larger than {cap} bytes")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(f"not UTF-8 text (byte {exc.start})") from exc


def _check_depth(value: Any, max_depth: int, max_nodes: int = limits.MAX_PARSED_NODES) -> None:
    # Counts nodes as expanded, so shared YAML aliases (a "billion laughs" tree) hit the cap fast.
    stack: list[tuple[Any, int]] = [(value, 1)]
    seen = 0
    while stack:
        item, depth = stack.pop()
        seen += 1
        if seen > max_nodes:
            raise LimitExceeded(f"more than {max_nodes} values once aliases are expanded")
        if depth > max_depth:
            raise LimitExceeded(f"nesting deeper than {max_depth}")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def loads_json(text: str, max_depth: int = limits.MAX_JSON_DEPTH) -> Any:
    """Parse JSON with a nesting cap. Raises FormatError, never anything else."""
    try:
        value = json.loads(text)
    except RecursionError as exc:
        raise LimitExceeded(f"JSON nesting deeper than {max_depth}") from exc
    except ValueError as exc:
        raise FormatError(f"invalid JSON: {exc}") from exc
    _check_depth(value, max_depth)
    return value


def load_json_file(path: Path, cap: int = limits.MAX_TEXT_PARSE) -> Any:
    """Read and parse a JSON file under the size and depth caps."""
    return loads_json(read_text_bounded(path, cap))


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that counts alias uses, so a 'billion laughs' document is refused early."""

    alias_budget = limits.MAX_YAML_ALIASES

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases = getattr(self, "_aliases", 0) + 1
            if self._aliases > self.alias_budget:
                raise LimitExceeded(f"more than {self.alias_budget} YAML aliases")
        return super().compose_node(parent, index)


def loads_yaml(text: str, max_depth: int = limits.MAX_JSON_DEPTH) -> Any:
    """Parse one YAML document safely (no tags that build objects, alias and depth caps)."""
    try:
        value = yaml.load(text, Loader=_BoundedLoader)
    except LimitExceeded:
        raise
    except RecursionError as exc:
        raise LimitExceeded(f"YAML nesting deeper than {max_depth}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise FormatError(f"invalid YAML{where}: {problem}") from exc
    except (ValueError, TypeError) as exc:
        raise FormatError(f"invalid YAML: {exc}") from exc
    _check_depth(value, max_depth)
    return value


def load_yaml_file(path: Path, cap: int = limits.MAX_TEXT_PARSE) -> Any:
    """Read and parse a YAML file under the size, alias and depth caps."""
    return loads_yaml(read_text_bounded(path, cap))


def flatten(value: Any, prefix: str = "", limit: int = limits.MAX_PARAMS) -> list[tuple[str, str]]:
    """Flatten nested mappings/lists into (dotted key, text value) pairs, in source order.

    Lists of scalars become one value (JSON text); lists of mappings are indexed (`layers.0.units`).
    """
    out: list[tuple[str, str]] = []

    def scalar(v: Any) -> str:
        if v is None:
            return "null"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float, str)):
            return str(v)
        return json.dumps(v, sort_keys=True, default=str)

    def walk(v: Any, key: str) -> None:
        if len(out) >= limit:
            return
        if isinstance(v, dict) and v:
            for k, sub in v.items():
                walk(sub, f"{key}.{k}" if key else str(k))
        elif isinstance(v, list) and any(isinstance(x, (dict, list)) for x in v):
            for i, sub in enumerate(v):
                walk(sub, f"{key}.{i}" if key else str(i))
        elif isinstance(v, list):
            out.append((key, json.dumps(v, default=str)))
        else:
            out.append((key, scalar(v)))

    walk(value, prefix)
    return out
