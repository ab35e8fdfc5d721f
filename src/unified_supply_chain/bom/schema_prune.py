"""Fitting other tools' components to the target spec version: what the official schema of that
version does not allow is removed, field by field, as its validation errors say."""

from __future__ import annotations

import functools
import importlib
import json
import re
from typing import Any

from unified_supply_chain.errors import MergeError

#: Rounds of schema-driven pruning before a still-invalid field is dropped outright.
_PRUNE_ROUNDS = 4
#: Component keys without which a component cannot stand: it is dropped rather than pruned.
_ESSENTIAL = frozenset({"type", "name"})


@functools.lru_cache(maxsize=4)
def _component_validator(spec_version: str) -> Any:
    """Draft-7 validator of one component against the official schema of `spec_version`.

    No format checks (fast; the whole document is validated later). Components are checked one
    at a time: validating the whole list would also run its `uniqueItems`, which is quadratic.
    """
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.schema._res import BOM_JSON_STRICT, CRYPTOGRAPHY_DEFS, JSF, SPDX_JSON
    from referencing import Registry
    from referencing.jsonschema import DRAFT7

    prefix = "http://cyclonedx.org/schema/"
    resources = []
    for name, res_path in (
        ("spdx.SNAPSHOT.schema.json", SPDX_JSON),
        ("cryptography-defs.SNAPSHOT.schema.json", CRYPTOGRAPHY_DEFS),
        ("jsf-0.82.SNAPSHOT.schema.json", JSF),
    ):
        if res_path is None:
            continue
        with open(res_path, encoding="utf-8") as fh:
            resources.append((prefix + name, DRAFT7.create_resource(json.load(fh))))
    schema_path = BOM_JSON_STRICT.get(SchemaVersion.from_version(spec_version))
    if schema_path is None:
        raise MergeError(f"no schema for CycloneDX {spec_version}")
    with open(schema_path, encoding="utf-8") as fh:
        schema = json.load(fh)
    bom_id = str(schema.get("$id") or f"{prefix}bom-{spec_version}.schema.json")
    resources.append((bom_id, DRAFT7.create_resource(schema)))
    # Imported by name: jsonschema ships no type information.
    validators = importlib.import_module("jsonschema.validators")
    return validators.Draft7Validator(
        {"$ref": f"{bom_id}#/definitions/component"},
        registry=Registry().with_resources(resources),
    )


def _unexpected_keys(error: Any) -> list[str]:
    instance = error.instance
    if not isinstance(instance, dict):
        return []
    allowed = set(error.schema.get("properties", {}))
    patterns = list(error.schema.get("patternProperties", {}))
    return [k for k in instance if k not in allowed and not any(re.search(p, k) for p in patterns)]


def _fixes(error: Any) -> list[tuple[tuple[Any, ...], str]] | None:
    """(path of an object, key to delete) pairs that fix `error`, or None when none is known."""
    if error.validator == "additionalProperties":
        keys = _unexpected_keys(error)
        return [(tuple(error.absolute_path), k) for k in keys] if keys else None
    if error.validator in ("oneOf", "anyOf") and error.context:
        branches: dict[Any, list[Any]] = {}
        for sub in error.context:
            branches.setdefault(sub.schema_path[0] if sub.schema_path else None, []).append(sub)
        best: list[tuple[tuple[Any, ...], str]] | None = None
        for subs in branches.values():
            fixes: list[tuple[tuple[Any, ...], str]] = []
            for sub in subs:
                found = _fixes(sub)
                if found is None:
                    break
                fixes.extend(found)
            else:
                if fixes and (best is None or len(fixes) < len(best)):
                    best = fixes
        return best
    return None


def _delete(root: Any, path: tuple[Any, ...], key: str) -> None:
    node = root
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return
    if isinstance(node, dict):
        node.pop(key, None)


def prune_to_schema(components: list[dict[str, Any]], spec_version: str) -> set[int]:
    """Remove from `components` (in place) what `spec_version` does not allow.

    Returns the indexes of components that cannot be made valid without losing a type or name.
    """
    validator = _component_validator(spec_version)
    hopeless: set[int] = set()
    for index, component in enumerate(components):
        for _ in range(_PRUNE_ROUNDS):
            errors = list(validator.iter_errors(component))
            if not errors:
                break
            changed = False
            for error in errors:
                fixes = _fixes(error)
                if fixes:
                    for path, key in fixes:
                        _delete(component, path, key)
                    changed = True
                elif len(error.absolute_path) >= 1:
                    # No key to remove inside: drop the component's offending top-level field.
                    field = str(error.absolute_path[0])
                    if field in _ESSENTIAL:
                        hopeless.add(index)
                    else:
                        component.pop(field, None)
                        changed = True
                else:
                    hopeless.add(index)
            if not changed or index in hopeless:
                break
        else:
            if validator.is_valid(component) is False:
                hopeless.add(index)
    return hopeless
