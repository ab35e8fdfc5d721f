"""Hyperparameter sets: params.yaml, hyp*.yaml, Hugging Face config.json, Hydra config trees.

Every set becomes flattened (dotted key, text value) pairs in source order. Hydra primary configs
are composed with their defaults list from the group files beside them, without evaluating
interpolations (`${...}` stays as written) and without reading outside the repository root.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError
from unified_supply_chain.safeparse import (
    flatten,
    load_json_file,
    load_yaml_file,
    read_text_bounded,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

#: Top-level keys of a Hydra config that configure Hydra itself, not the model.
_HYDRA_META_KEYS = ("defaults", "hydra")
_DEFAULTS_LINE = re.compile(r"^defaults\s*:", re.MULTILINE)
_PACKAGE_HEADER = re.compile(r"^#\s*@package\s+(\S+)\s*$")
_OPTION_NAME = re.compile(r"^[A-Za-z0-9_.\-/]+$")


@dataclass(frozen=True)
class ComposedConfig:
    """A Hydra primary config composed with its defaults list."""

    params: tuple[tuple[str, str], ...]
    """Flattened (dotted key, value) pairs of the composed config (`defaults`/`hydra` left out)."""
    members: tuple[str, ...]
    """Repo-relative paths of every config file used, the primary first."""
    warnings: tuple[str, ...] = ()
    """Defaults entries that could not be resolved or read (the rest is still composed)."""


def _load_toml(path: Path) -> Any:
    try:
        return tomllib.loads(read_text_bounded(path))
    except tomllib.TOMLDecodeError as exc:
        raise FormatError(f"invalid TOML: {exc}") from exc
    except RecursionError as exc:
        raise FormatError("TOML nesting too deep") from exc


def _load_any(path: Path, fmt: str) -> Any:
    suffix = path.suffix.lower()
    if fmt == "hf-config" or suffix == ".json":
        return load_json_file(path)
    if suffix == ".toml":
        return _load_toml(path)
    return load_yaml_file(path)


def read_params_file(path: Path, fmt: str) -> tuple[tuple[str, str], ...]:
    """Flattened parameters of one file.

    `fmt` is the classifier's format id: "params-yaml", "hyp-yaml", "hydra-config" (YAML; the
    `defaults` and `hydra` keys are left out) or "hf-config" (JSON; keys starting with `_`, such
    as `_name_or_path`, are left out), "wandb-config" (each key's `value:`, without `_wandb`) or
    "lightning-hparams". A `.json` or `.toml` file is parsed as such whatever `fmt`.
    An empty document has no parameters; any other non-mapping top level is a FormatError.
    """
    data = _load_any(path, fmt)
    if data is None:
        return ()
    if not isinstance(data, dict):
        raise FormatError(f"top level is a {type(data).__name__}, not a mapping")
    if fmt == "hf-config":
        data = {k: v for k, v in data.items() if not str(k).startswith("_")}
    elif fmt == "hydra-config":
        data = {k: v for k, v in data.items() if k not in _HYDRA_META_KEYS}
    elif fmt == "wandb-config":
        from unified_supply_chain.sources.lineage.training_logs.wandb import config_values

        data = config_values(data)
    return tuple(flatten(data)) if data else ()


def is_hydra_primary(path: Path) -> bool:
    """True for a YAML file whose top level holds a `defaults:` list (never raises)."""
    try:
        text = read_text_bounded(path)
        if not _DEFAULTS_LINE.search(text):
            return False
        data = load_yaml_file(path)
    except FormatError:
        return False
    return isinstance(data, dict) and isinstance(data.get("defaults"), list)


def _package_header(text: str) -> str | None:
    """The `# @package X` directive from the comment lines that open a config file."""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("#"):
            return None
        match = _PACKAGE_HEADER.match(stripped)
        if match:
            return match.group(1)
    return None


def _deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Later values win; mappings merge key by key; lists and scalars are replaced."""
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _place(content: dict[str, Any], package: str) -> dict[str, Any]:
    """Nest `content` under a dotted package path ("" = the root)."""
    placed: dict[str, Any] = content
    for part in reversed([p for p in package.split(".") if p]):
        placed = {part: placed}
    return placed


class _Rejected(Exception):
    """A config name was refused; the warning is already recorded."""


class _Composer:
    """State of one composition: config directory, files used, warnings, overrides."""

    def __init__(self, root: Path, config_dir: Path) -> None:
        self.root = root.resolve()
        self.config_dir = config_dir
        self.members: list[str] = []
        self.warnings: list[str] = []
        self.overrides: dict[str, Any] = {}

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def find(self, group_path: str, option: str) -> Path | None:
        """The config file for `group_path/option` inside the config directory, if any.

        Raises _Rejected (after recording a warning) for names that could leave the tree.
        """
        stem = f"{group_path}/{option}" if group_path else option
        if ".." in stem.split("/") or not _OPTION_NAME.match(stem):
            self.warnings.append(f"config name {stem!r} is not a plain relative name; skipped")
            raise _Rejected
        for suffix in (".yaml", ".yml"):
            candidate = self.config_dir / f"{stem}{suffix}"
            try:
                resolved = candidate.resolve()
            except (OSError, RuntimeError):
                continue
            if not resolved.is_relative_to(self.root):
                self.warnings.append(f"config {stem!r} points outside the repository; skipped")
                raise _Rejected
            try:
                if resolved.is_file():
                    return resolved
            except OSError:
                continue  # a name the file system refuses (ENAMETOOLONG): no such config
        return None

    def load(self, path: Path) -> tuple[dict[str, Any], str | None] | None:
        if len(self.members) >= limits.MAX_HYDRA_FILES:
            self.warnings.append(f"more than {limits.MAX_HYDRA_FILES} config files; rest skipped")
            return None
        rel = self.rel(path)
        try:
            text = read_text_bounded(path)
            data = load_yaml_file(path)
        except FormatError as exc:
            self.warnings.append(f"{rel}: {exc}")
            return None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            self.warnings.append(f"{rel}: top level is not a mapping; skipped")
            return None
        if rel not in self.members:
            self.members.append(rel)
        return data, _package_header(text)

    def compose(self, path: Path, group: str, package: str, depth: int) -> dict[str, Any]:
        """The merged content of one config file and its own defaults, placed at the root."""
        loaded = self.load(path)
        if loaded is None:
            return {}
        data, header = loaded
        if header is not None:
            package = _resolve_package(header, group, package)
        defaults = data.get("defaults")
        own = {k: v for k, v in data.items() if k not in _HYDRA_META_KEYS}
        if defaults is None:
            return _place(own, package)
        if not isinstance(defaults, list):
            self.warnings.append(f"{self.rel(path)}: defaults is not a list; ignored")
            return _place(own, package)
        if depth >= limits.MAX_HYDRA_DEPTH:
            self.warnings.append(
                f"{self.rel(path)}: defaults nested deeper than {limits.MAX_HYDRA_DEPTH}; ignored"
            )
            return _place(own, package)

        merged: dict[str, Any] = {}
        self_seen = False
        for entry in defaults:
            if entry == "_self_":
                merged = _deep_merge(merged, _place(own, package))
                self_seen = True
                continue
            merged = _deep_merge(merged, self.entry(path, entry, group, package, depth))
        if not self_seen:
            # Hydra >= 1.1 puts a missing _self_ last: the file's own values win.
            merged = _deep_merge(merged, _place(own, package))
        return merged

    def entry(self, path: Path, entry: object, group: str, package: str, depth: int) -> Any:
        where = self.rel(path)
        if isinstance(entry, str):
            # A config of the same group (or an absolute one), merged into this package.
            name = entry.lstrip("/")
            base = "" if entry.startswith("/") else group
            try:
                found = self.find(base, name)
            except _Rejected:
                return {}
            if found is None:
                self.warnings.append(f"{where}: defaults entry {entry!r} not found")
                return {}
            return self.compose(found, base, package, depth + 1)
        if not isinstance(entry, dict) or len(entry) != 1:
            self.warnings.append(f"{where}: defaults entry {str(entry)[:80]!r} not understood")
            return {}
        ((raw_key, option),) = entry.items()
        key = str(raw_key).strip()
        optional = False
        words = key.split()
        if len(words) == 2 and words[0] in ("optional", "override"):
            if words[0] == "override":
                return {}  # applied where the group itself is selected (see `overrides`)
            optional = True
            key = words[1]
        group_key, _, pkg_key = key.partition("@")
        absolute = group_key.startswith("/")
        group_key = group_key.strip("/")
        full_group = group_key if absolute or not group else f"{group}/{group_key}"
        option = self.overrides.get(full_group, option)
        if option is None:
            return {}
        options = option if isinstance(option, list) else [option]
        default_package = full_group.replace("/", ".")
        if pkg_key:
            target = _resolve_package(pkg_key, default_package, package)
        elif absolute or not group:
            target = default_package
        else:
            target = f"{package}.{group_key.replace('/', '.')}" if package else default_package
        merged: dict[str, Any] = {}
        for opt in options:
            if not isinstance(opt, (str, int, float)) or isinstance(opt, bool):
                self.warnings.append(f"{where}: option {str(opt)[:80]!r} for {key!r} not a name")
                continue
            try:
                found = self.find(full_group, str(opt))
            except _Rejected:
                continue
            if found is None:
                if not optional:
                    self.warnings.append(
                        f"{where}: config {full_group}/{opt} not found "
                        f"in {self.rel(self.config_dir) or '.'}"
                    )
                continue
            merged = _deep_merge(merged, self.compose(found, full_group, target, depth + 1))
        return merged


def _resolve_package(header: str, group_package: str, here: str) -> str:
    """Package path for a `# @package` header or an `@pkg` key."""
    parts: list[str] = []
    for part in header.split("."):
        if part == "_global_":
            parts = []
        elif part == "_group_":
            parts.extend(p for p in group_package.replace("/", ".").split(".") if p)
        elif part == "_here_":
            parts.extend(p for p in here.split(".") if p)
        elif part == "_name_":
            continue
        else:
            parts.append(part)
    return ".".join(parts)


def _collect_overrides(defaults: object) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if not isinstance(defaults, list):
        return out
    for entry in defaults:
        if isinstance(entry, dict) and len(entry) == 1:
            ((raw_key, option),) = entry.items()
            words = str(raw_key).split()
            if len(words) == 2 and words[0] == "override":
                out[words[1].partition("@")[0].strip("/")] = option
    return out


def compose_hydra(root: Path, primary_rel: str) -> ComposedConfig:
    """Compose the Hydra primary config at `root/primary_rel` with its defaults list.

    Group files are looked up relative to the primary's directory (`model: resnet` reads
    `model/resnet.yaml` and places it under `model.` unless it says `# @package _global_`).
    `override` entries replace the option a nested defaults list selects; `optional` entries
    may be missing. Raises FormatError only when the primary itself is unreadable.
    """
    root = root.resolve()
    primary = (root / primary_rel).resolve()
    if not primary.is_relative_to(root):
        raise FormatError("primary config lies outside the repository")
    data = load_yaml_file(primary)
    if not isinstance(data, dict):
        raise FormatError("top level is not a mapping")
    composer = _Composer(root, primary.parent)
    composer.overrides = _collect_overrides(data.get("defaults"))
    composed = composer.compose(primary, "", "", 1)
    return ComposedConfig(
        params=tuple(flatten(composed)) if composed else (),
        members=tuple(composer.members),
        warnings=tuple(composer.warnings),
    )
