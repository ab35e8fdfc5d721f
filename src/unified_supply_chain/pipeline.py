"""Generate one validated CycloneDX document for a repository: the whole data flow in one call.

repo tree -> scan (discover, inspect, hash, lineage) -> build -> ML fields -> merge -> validate
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import Any

from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.hashing.digests import HashResult
from unified_supply_chain.inspection.scan import ScanResult, scan
from unified_supply_chain.lineage.resolve import Resolved
from unified_supply_chain.options import ScanOptions
from unified_supply_chain.records import RUN_ENV, Inventory, Problem

#: The variables naming the CI run that generates a document (ids, names, refs; never secrets),
#: as `usc:run:*` metadata properties; the runner's OS and architecture describe no input.
_RUN_ENV = tuple(
    (var, Prop.RUN.key(field.replace("_", "-")))
    for field, var in RUN_ENV
    if not field.startswith("runner_")
)


@dataclasses.dataclass(frozen=True)
class Generated:
    """A validated document and what it was built from."""

    document: dict[str, Any]
    """The final CycloneDX JSON object (schema-valid)."""
    inventory: Inventory
    """What the scan found."""
    lineage: Resolved
    """How lineage was resolved."""


def run_properties() -> list[tuple[str, str]]:
    """Metadata properties naming the CI run that generates the document, when there is one."""
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return []
    out = []
    for var, name in _RUN_ENV:
        value = os.environ.get(var, "").strip()
        if value:
            out.append((name, value))  # URL credentials: removed with every other string
    return out


def generate(
    options: ScanOptions,
    *,
    on_hashed: Callable[[HashResult], None] | None = None,
) -> Generated:
    """Scan `options.root` and build, merge and validate its SBOM. Nothing is written."""
    from unified_supply_chain.bom.build import build_core, clean_strings
    from unified_supply_chain.bom.mlbom import add_ml_fields
    from unified_supply_chain.bom.validate import validate_document

    cache = None
    if options.cache_dir is not None:
        from unified_supply_chain.hashing.cache import HashCache

        cache = HashCache.open(options.cache_dir, options.root)
    try:
        result: ScanResult = scan(options, cache=cache, on_hashed=on_hashed)
    finally:
        if cache is not None:
            cache.save()
    inventory = result.inventory
    if cache is not None and cache.warning:
        # A cache file that was ignored costs only speed, but the user should know why.
        inventory = dataclasses.replace(
            inventory, problems=(*inventory.problems, Problem(".", cache.warning))
        )
    document = build_core(
        inventory,
        spec_version=options.spec_version,
        reproducible=options.reproducible,
        metadata_properties=run_properties(),
    )
    add_ml_fields(
        document,
        inventory,
        hyperparameters_for=result.lineage.hyperparameters_for,
        datasets_for=result.lineage.datasets_for,
        runs=result.lineage.runs,
    )
    if options.merge:
        from unified_supply_chain.bom.merge import merge_sboms

        document = merge_sboms(document, list(options.merge))
    # Non-UTF-8 file names and credentials reach messages and properties in many places: one
    # pass makes every string of the document valid Unicode (replacement characters) and
    # redacts every credential, before it is validated.
    redacted: list[tuple[str, tuple[str, ...]]] = []
    document = clean_strings(document, redacted)
    validate_document(document, options.spec_version)
    if redacted:
        inventory = dataclasses.replace(
            inventory,
            problems=(
                *inventory.problems,
                *(
                    Problem(".", f"redacted a credential ({', '.join(kinds)}) at {where}")
                    for where, kinds in redacted
                ),
            ),
        )
    return Generated(document, inventory, result.lineage)
