"""`usc diff --format json`: the SBOM diff as a JSON document with counts and a changed flag."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from unified_supply_chain.compare.categories import Category
from unified_supply_chain.compare.diff import SbomDiff
from unified_supply_chain.report.interface import Report


def to_json(diff: SbomDiff) -> dict[str, Any]:
    """A JSON-ready dict of the diff, with counts and a `changed` flag."""
    out: dict[str, Any] = {"changed": diff.has_changes, "summary": {}}
    for cat in Category:
        cd = diff.category(cat)
        body = asdict(cd)
        out[cat.value] = body
        out["summary"][cat.value] = {
            "added": len(cd.added),
            "removed": len(cd.removed),
            "changed": len(cd.changed),
            "unchanged": cd.unchanged,
        }
    out["base_tools"] = list(diff.base_tools)
    out["head_tools"] = list(diff.head_tools)
    return out


class DiffJson(Report[SbomDiff]):
    """The diff as indented JSON text, one trailing newline."""

    def format(self, result: SbomDiff) -> str:
        """`to_json` of the diff, indented by two."""
        return json.dumps(to_json(result), indent=2, sort_keys=False) + "\n"
