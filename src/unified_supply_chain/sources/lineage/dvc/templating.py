"""`dvc.yaml` templating: `${name}` substitution (best effort) and the expansion of `foreach`/`do`
and `matrix` stages into one stage per item."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError

_INTERP = re.compile(r"\$\{\s*([^${}]+?)\s*\}")


def _lookup(context: Mapping[str, Any], dotted: str) -> Any:
    value: Any = context
    for part in re.split(r"\.|\[(\d+)\]", dotted):
        if part is None or part == "":
            continue
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise KeyError(dotted)
    return value


def _text(context: Mapping[str, Any], m: re.Match[str]) -> str:
    try:
        found = _lookup(context, m.group(1))
    except KeyError:
        return m.group(0)
    if isinstance(found, bool):
        return "true" if found else "false"
    return str(found)


def interpolate(value: Any, context: Mapping[str, Any]) -> Any:
    """Substitute `${name}` references (best effort: unknown names are left as they are)."""
    if isinstance(value, str):
        whole = _INTERP.fullmatch(value.strip())
        if whole:
            try:
                return _lookup(context, whole.group(1))
            except KeyError:
                return value

        return _INTERP.sub(lambda m: _text(context, m), value)
    if isinstance(value, list):
        return [interpolate(v, context) for v in value]
    if isinstance(value, dict):
        # Keys are substituted as text only, so a mapping never becomes a key.
        return {
            (_INTERP.sub(lambda m: _text(context, m), k) if isinstance(k, str) else k): (
                interpolate(v, context)
            )
            for k, v in value.items()
        }
    return value


def _scalar_key(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def expand_stages(name: str, body: Any) -> Iterator[tuple[str, Any, dict[str, Any]]]:
    """(stage name, body, extra context) for a plain, `foreach`/`do` or `matrix` stage."""
    if not isinstance(body, dict):
        return
    if "foreach" in body and isinstance(body.get("do"), dict):
        items = body["foreach"]
        if isinstance(items, dict):
            for key, item in items.items():
                yield f"{name}@{key}", body["do"], {"item": item, "key": key}
        elif isinstance(items, list):
            composite = any(isinstance(x, (dict, list)) for x in items)
            for idx, item in enumerate(items):
                key = str(idx) if composite else _scalar_key(item)
                yield f"{name}@{key}", body["do"], {"item": item, "key": key}
        return
    if isinstance(body.get("matrix"), dict):
        dims: list[tuple[str, list[Any]]] = [
            (str(k), v if isinstance(v, list) else [v]) for k, v in body["matrix"].items()
        ]
        combos: list[tuple[list[str], dict[str, Any]]] = [([], {})]
        for dim, values in dims:
            combos = [
                (
                    [*keys, _scalar_key(v) if not isinstance(v, (dict, list)) else f"{dim}{i}"],
                    {**item, dim: v},
                )
                for keys, item in combos
                for i, v in enumerate(values)
            ]
            if len(combos) > limits.MAX_DVC_STAGES:
                raise FormatError(f"stage {name!r}: matrix larger than {limits.MAX_DVC_STAGES}")
        stage_body = {k: v for k, v in body.items() if k != "matrix"}
        for keys, item in combos:
            yield f"{name}@{'-'.join(keys)}", stage_body, {"item": item}
        return
    yield name, body, {}
