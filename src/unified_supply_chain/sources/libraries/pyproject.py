"""`pyproject.toml` dependencies: PEP 621 (`[project]`), PEP 735 dependency groups and Poetry
tables."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError
from unified_supply_chain.records import Library, Problem
from unified_supply_chain.redact import redact_text, redact_url
from unified_supply_chain.safeparse import read_text_bounded

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib
from unified_supply_chain.sources.libraries.manifests import (
    ManifestResult,
    library_from_requirement,
    parse_requirement,
    pypi_purl,
)


def _load_toml(path: Path) -> dict[str, Any]:
    text = read_text_bounded(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FormatError(f"invalid TOML: {exc}") from exc
    except RecursionError as exc:
        raise FormatError("TOML nesting too deep") from exc
    return data


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


class _Collector:
    def __init__(self, relpath: str) -> None:
        self.relpath = relpath
        self.libraries: list[Library] = []
        self.purls: set[str] = set()
        self.problems: list[Problem] = []

    def add(self, lib: Library) -> None:
        if lib.purl in self.purls or len(self.libraries) >= limits.MAX_MANIFEST_ENTRIES:
            return
        self.purls.add(lib.purl)
        self.libraries.append(lib)

    def problem(self, where: str, message: str) -> None:
        self.problems.append(Problem(self.relpath, f"{where}: {message}"))

    def pep508_list(self, where: str, entries: object, scope: str) -> None:
        if not isinstance(entries, list):
            self.problem(where, "not a list of requirements")
            return
        for entry in entries:
            if isinstance(entry, dict) and "include-group" in entry:
                continue  # PEP 735 include: the included group is read on its own
            if not isinstance(entry, str):
                self.problem(where, f"entry {str(entry)[:80]!r} is not a string")
                continue
            try:
                req = parse_requirement(entry)
            except FormatError as exc:
                self.problem(where, f"skipped {redact_text(entry)[:80]!r}: {exc}")
                continue
            self.add(library_from_requirement(req, self.relpath, scope))

    def poetry_table(self, where: str, deps: object, scope: str) -> None:
        if not isinstance(deps, dict):
            self.problem(where, "not a table")
            return
        for name, spec in deps.items():
            if name.lower() == "python":
                continue
            entry_scope = scope
            qualifiers: dict[str, str] = {}
            constraint: object = spec
            if isinstance(spec, list):
                constraint = None  # multiple-constraint dependency: no single version
            elif isinstance(spec, dict):
                if spec.get("optional") is True:
                    entry_scope = "optional"
                if isinstance(spec.get("git"), str):
                    qualifiers["vcs_url"] = "git+" + redact_url(spec["git"])
                elif isinstance(spec.get("url"), str):
                    qualifiers["download_url"] = redact_url(spec["url"])
                elif "path" in spec:
                    self.problem(where, f"{name!r} is a local path dependency; skipped")
                    continue
                constraint = spec.get("version")
            version = _poetry_pin(constraint) if not qualifiers else None
            try:
                purl = pypi_purl(name, version, qualifiers)
            except ValueError as exc:
                self.problem(where, f"{name!r}: {exc}")
                continue
            self.add(
                Library(
                    name=name,
                    version=version,
                    purl=purl,
                    source=self.relpath,
                    scope=entry_scope,
                )
            )


def _poetry_pin(constraint: object) -> str | None:
    """Exact Poetry constraints (`1.2.3`, `==1.2.3`) give a version; ranges give None."""
    if not isinstance(constraint, str):
        return None
    text = constraint.strip()
    if text.startswith("=="):
        text = text[2:].strip()
    elif text.startswith("="):
        text = text[1:].strip()
    if re.fullmatch(r"[0-9]+(?:\.[0-9]+)*(?:[a-zA-Z0-9.+-]*)", text) and "*" not in text:
        return text
    return None


def read_pyproject(path: Path, relpath: str) -> ManifestResult:
    """Dependencies of a `pyproject.toml`: PEP 621, PEP 735 groups and Poetry tables.

    `[project].dependencies` are "required"; optional-dependencies, dependency groups and Poetry
    groups / dev-dependencies are "optional". Raises FormatError when the file is not TOML.
    """
    data = _load_toml(path)
    out = _Collector(relpath)
    name: str | None = None
    version: str | None = None

    project = data.get("project")
    if isinstance(project, dict):
        name = _str_or_none(project.get("name"))
        version = _str_or_none(project.get("version"))
        if "dependencies" in project:
            out.pep508_list("project.dependencies", project["dependencies"], "required")
        optional = project.get("optional-dependencies")
        if isinstance(optional, dict):
            for extra, entries in optional.items():
                out.pep508_list(f"project.optional-dependencies.{extra}", entries, "optional")

    groups = data.get("dependency-groups")
    if isinstance(groups, dict):
        for group, entries in groups.items():
            out.pep508_list(f"dependency-groups.{group}", entries, "optional")

    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    if isinstance(poetry, dict):
        name = name or _str_or_none(poetry.get("name"))
        version = version or _str_or_none(poetry.get("version"))
        if "dependencies" in poetry:
            out.poetry_table("tool.poetry.dependencies", poetry["dependencies"], "required")
        if "dev-dependencies" in poetry:
            out.poetry_table("tool.poetry.dev-dependencies", poetry["dev-dependencies"], "optional")
        poetry_groups = poetry.get("group")
        if isinstance(poetry_groups, dict):
            for group, table in poetry_groups.items():
                if isinstance(table, dict) and "dependencies" in table:
                    out.poetry_table(
                        f"tool.poetry.group.{group}.dependencies", table["dependencies"], "optional"
                    )

    return ManifestResult(tuple(out.libraries), tuple(out.problems), name, version)
