"""Shared test helpers: schema validation with the official CycloneDX schema, CLI runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "iris-classifier"


def official_schema_errors(document: dict[str, Any], spec_version: str | None = None) -> list[str]:
    """Errors from cyclonedx-python-lib's strict validator (the official JSON schema)."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    version = spec_version or document["specVersion"]
    errors = JsonStrictValidator(SchemaVersion.from_version(version)).validate_str(
        json.dumps(document), all_errors=True
    )
    return [str(e) for e in errors] if errors else []


def assert_valid_cyclonedx(document: dict[str, Any], spec_version: str | None = None) -> None:
    """Fail with the schema errors when `document` is not valid CycloneDX."""
    errors = official_schema_errors(document, spec_version)
    assert not errors, "\n".join(errors[:10])


def run_usc(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run `python -m unified_supply_chain ARGS` in a subprocess (the real CLI and exit codes)."""
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + full_env.get("PYTHONPATH", "")
    full_env.pop("GITHUB_ACTIONS", None)
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "unified_supply_chain", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def components_by_path(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Top-level components keyed by their `usc:path` property."""
    out = {}
    for c in document.get("components", []):
        for p in c.get("properties", []):
            if p["name"] == "usc:path":
                out[p["value"]] = c
    return out


def prop(component: dict[str, Any], name: str) -> str | None:
    """Value of a component property, or None."""
    for p in component.get("properties", []):
        if p["name"] == name:
            return str(p["value"])
    return None


def props(component: dict[str, Any], name: str) -> list[str]:
    """All values of a (repeated) component property."""
    return [str(p["value"]) for p in component.get("properties", []) if p["name"] == name]


def write_file(path: Path, data: str | bytes) -> Path:
    """Write `data` (text as UTF-8) to `path`, creating its parent directories; returns `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path
