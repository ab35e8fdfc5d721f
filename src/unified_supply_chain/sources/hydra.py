"""Hydra config trees: a primary config composed with its Defaults List, as Hydra composes it.

Built from Hydra's own rules (https://hydra.cc/docs/advanced/defaults_list/ and
https://hydra.cc/docs/advanced/overriding_packages/; facebookresearch/hydra
`hydra/_internal/defaults_list.py`, `hydra/core/default_element.py`,
`hydra/_internal/config_repository.py`). About 420 lines: Hydra's composition rules are kept in one
module rather than split between the entry parser and the tree walk, which share the package and
override-key rules.

- Each config's Defaults List is walked in reverse, as `_create_defaults_tree_impl` does, so an
  `override` entry applies to the group defaults before it in depth-first order and the last
  override of a group wins (an `experiment` file selected late can override `/model`).
- `_self_` places the config's own content among its defaults; missing, it is appended (when the
  list holds anything but overrides), so the config's own values win.
- The output (the Final Defaults List) is the depth-first walk of that tree: `sources` is it, one
  file per entry, and the composed values are those files merged in that order.
- Packages: a package in the Defaults List (`db@backup: mysql`, relative to the including config)
  beats a `# @package` header (absolute), which beats the default package (the config's group
  path, relative to the including config). `_global_` resets to the root, `_here_` is "".
- `group: dir/name` (a slash in the option) is normalised to `group/dir: name` (Hydra 1.4).
- `..` in a config path or option is refused, as Hydra refuses it; so is anything that would
  resolve outside the repository root.

What Hydra would refuse (an override before a non-override entry, an override that overrides
nothing, a missing non-optional config) becomes a warning and the rest is still composed.
Interpolated options (`${db}_${server}`) are not resolved (a warning says so), nor are
interpolations in values (`${...}` stays as written). Configs from Python (ConfigStore) and the
`hydra/` plugin configs Hydra ships are not files here: entries naming them are warnings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError
from unified_supply_chain.safeparse import flatten, load_yaml_file, read_text_bounded

#: Top-level keys of a Hydra config that configure Hydra itself, not the job.
META_KEYS = ("defaults", "hydra")
_DEFAULTS_LINE = re.compile(r"^defaults\s*:", re.MULTILINE)
# hydra/plugins/config_source.py `_get_header_dict`: `# @package X` in the opening comment lines.
_PACKAGE_HEADER = re.compile(r"^#\s*@package\s+(\S+)\s*$")
_NAME = re.compile(r"^[A-Za-z0-9_.\-/]+$")


@dataclass(frozen=True)
class ComposedConfig:
    """A Hydra primary config composed with its defaults list."""

    params: tuple[tuple[str, str], ...]
    """Flattened (dotted key, value) pairs of the composed config (`defaults`/`hydra` left out)."""
    members: tuple[str, ...]
    """Repo-relative paths of every config file used, once each, in composition order."""
    warnings: tuple[str, ...] = ()
    """Defaults entries that could not be resolved or read (the rest is still composed)."""
    sources: tuple[str, ...] = ()
    """The Final Defaults List: repo-relative file of each entry, in the order Hydra merges them
    (a file used at two packages appears twice)."""


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


def final_package(parent_package: str, package: str | None, relative_group: str) -> str:
    """`InputDefault._get_final_package`: `package` (or the relative group path) below the
    parent's package; everything up to the last `_global_` is dropped."""
    if package is None:
        package = relative_group.replace("/", ".")
    if package == "_here_":
        package = ""
    if parent_package == "":
        ret = package
    elif package == "":
        ret = parent_package
    else:
        ret = f"{parent_package}.{package}"
    last = ret.rfind("_global_")
    return ret if last == -1 else ret[last + len("_global_") + 1 :]


def _header_package(header: str, group_path: str) -> str:
    """A `# @package` header's package: absolute (`set_package_header` prefixes `_global_`);
    Hydra 1.0's `_group_` and `_name_` are still understood."""
    if "_group_" in header or "_name_" in header:
        parts: list[str] = []
        for part in header.split("."):
            if part == "_group_":
                parts.extend(p for p in group_path.split("/") if p)
            elif part not in ("_name_", "_global_"):
                parts.append(part)
        return ".".join(parts)
    return final_package("", "_global_" if header == "_global_" else f"_global_.{header}", "")


def override_key(group_path: str, package_without_header: str) -> str:
    """`InputDefault.get_override_key`: the group path, `@package` when not the default one."""
    if package_without_header == group_path.replace("/", "."):
        return group_path
    return f"{group_path}@{package_without_header or '_global_'}"


@dataclass(frozen=True)
class _Entry:
    """One Defaults List entry, parsed as `ConfigRepository._create_defaults_list` does."""

    group: str | None
    """GROUP_DEFAULT: the config group as written (leading `/` = absolute); None for CONFIG."""
    value: object
    """The option (name, list of names, None) or, for CONFIG, the config path as written."""
    package: str | None
    """`@PACKAGE` as written."""
    optional: bool = False
    override: bool = False


def _split_package(text: str) -> tuple[str, str | None]:
    name, at, package = text.partition("@")
    return name, (package.partition(":")[0] if at else None)


def _parse_entry(entry: object) -> _Entry | str:
    """The entry, `"_self_"`, or a message saying why it is not understood."""
    if isinstance(entry, str):
        if entry == "_self_":
            return "_self_"
        path, package = _split_package(entry)
        return _Entry(None, path, package)
    if not isinstance(entry, dict) or len(entry) != 1:
        return f"defaults entry {str(entry)[:80]!r} not understood"
    ((raw_key, value),) = entry.items()
    words = str(raw_key).split()
    if not words or any(w not in ("optional", "override") for w in words[:-1]):
        return f"defaults entry {str(raw_key)[:80]!r} not understood"
    group, package = _split_package(words[-1])
    if value == "_self_":
        return "_self_"
    plain = isinstance(value, str) and "${" not in value and value != "???"
    if plain and "/" in str(value) and ".." not in str(value).split("/"):
        # Hydra 1.4: `foo: bar/baz` is `foo/bar: baz` (group foo/bar, package foo.bar).
        prefix, value = str(value).rsplit("/", 1)
        group = f"{group}/{prefix}"
    return _Entry(group, value, package, "optional" in words[:-1], "override" in words[:-1])


def _group_path(written: str, parent_base_dir: str) -> str:
    """`GroupDefault.get_group_path` / `ConfigDefault.get_group_path`."""
    if written.startswith("/"):
        return written[1:]
    if parent_base_dir and written:
        return f"{parent_base_dir}/{written}"
    return parent_base_dir or written


class _Rejected(Exception):
    """A config name was refused; the warning is already recorded."""


class _Composer:
    """State of one composition: the config directory, files read, overrides, warnings."""

    def __init__(self, root: Path, config_dir: Path) -> None:
        self.root = root.resolve()
        self.config_dir = config_dir
        self.loaded: set[str] = set()
        self.warnings: list[str] = []
        self.overrides: dict[str, object] = {}
        self.used: set[str] = set()
        self.override_where: dict[str, str] = {}

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def find(self, config_path: str, where: str) -> Path | None:
        """The file of a config path (`model/resnet`) in the config directory, if any.

        Raises _Rejected (after a warning) for names that are not plain relative names or that
        resolve outside the repository.
        """
        if ".." in config_path.split("/") or not _NAME.match(config_path):
            self.warnings.append(
                f"{where}: config name {config_path!r} is not a plain relative name; skipped"
            )
            raise _Rejected
        for suffix in (".yaml", ".yml"):
            candidate = self.config_dir / f"{config_path}{suffix}"
            try:
                resolved = candidate.resolve()
            except (OSError, RuntimeError):
                continue
            if not resolved.is_relative_to(self.root):
                self.warnings.append(
                    f"{where}: config {config_path!r} points outside the repository; skipped"
                )
                raise _Rejected
            try:
                if resolved.is_file():
                    return resolved
            except OSError:
                continue  # a name the file system refuses (ENAMETOOLONG): no such config
        return None

    def load(self, path: Path) -> tuple[dict[str, Any], str | None] | None:
        if len(self.loaded) >= limits.MAX_HYDRA_FILES:
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
        self.loaded.add(rel)
        return data, _package_header(text)

    def expand(
        self,
        path: Path,
        group_path: str,
        package: tuple[str, str | None, str],
        depth: int,
    ) -> list[tuple[str, dict[str, Any]]]:
        """The Final Defaults List below one config file: (file, content at its package).

        `package` is (parent package, package from the Defaults List, relative group path).
        """
        loaded = self.load(path)
        if loaded is None:
            return []
        data, header = loaded
        rel = self.rel(path)
        parent_pkg, listed_pkg, relative_group = package
        if listed_pkg is None and header is not None:
            here = _header_package(header, group_path)
        else:
            here = final_package(parent_pkg, listed_pkg, relative_group)
        own = _place({k: v for k, v in data.items() if k not in META_KEYS}, here)
        defaults = data.get("defaults")
        if defaults is None or defaults == []:
            return [(rel, own)]
        if not isinstance(defaults, list):
            self.warnings.append(f"{rel}: defaults is not a list; ignored")
            return [(rel, own)]
        if depth >= limits.MAX_HYDRA_DEPTH:
            self.warnings.append(
                f"{rel}: defaults nested deeper than {limits.MAX_HYDRA_DEPTH}; ignored"
            )
            return [(rel, own)]
        entries: list[_Entry | str] = []
        for raw in defaults:
            parsed = _parse_entry(raw)
            if parsed != "_self_" and isinstance(parsed, str):
                self.warnings.append(f"{rel}: {parsed}")
                continue
            entries.append(parsed)
        if "_self_" not in entries:
            entries.append("_self_")  # `_validate_self`: appended, so the file's values win
        self._check_override_order(rel, entries)
        chunks: list[list[tuple[str, dict[str, Any]]]] = []
        for entry in reversed(entries):
            if isinstance(entry, str):
                chunks.append([(rel, own)])
            else:
                chunks.append(self.entry(rel, entry, group_path, here, depth))
        return [item for chunk in reversed(chunks) for item in chunk]

    def _check_override_order(self, rel: str, entries: list[_Entry | str]) -> None:
        seen = False
        for entry in entries:
            if isinstance(entry, str):
                continue
            if entry.override:
                seen = True
            elif seen:
                self.warnings.append(
                    f"{rel}: an override comes before {entry.group or entry.value!s}; Hydra "
                    "requires overrides at the end of the defaults list"
                )
                return

    def entry(
        self, where: str, entry: _Entry, base_dir: str, parent_pkg: str, depth: int
    ) -> list[tuple[str, dict[str, Any]]]:
        """The Final Defaults List of one entry of `where` (empty for an override)."""
        if entry.group is None:
            # CONFIG: a config path, its group relative to the including config's group.
            written = str(entry.value)
            directory, _, name = written.lstrip("/").rpartition("/")
            group_path = directory if written.startswith("/") else _group_path(directory, base_dir)
            config_path = f"{group_path}/{name}" if group_path else name
            try:
                found = self.find(config_path, where)
            except _Rejected:
                return []
            if found is None:
                self.warnings.append(f"{where}: defaults entry {written!r} not found")
                return []
            return self.expand(found, group_path, (parent_pkg, entry.package, directory), depth + 1)
        group_path = _group_path(entry.group, base_dir)
        relative_group = entry.group.lstrip("/")
        key = override_key(group_path, final_package(parent_pkg, entry.package, relative_group))
        if entry.override:
            # Reverse traversal: the first registered is the last in depth-first order.
            if key not in self.overrides:
                self.overrides[key] = entry.value
                self.override_where[key] = where
            return []
        option = entry.value
        if key in self.overrides:
            option = self.overrides[key]
            self.used.add(key)
        if option is None:
            return []  # `null`: a place-holder that nothing selected
        options = option if isinstance(option, list) else [option]
        out: list[tuple[str, dict[str, Any]]] = []
        for opt in options:
            if not isinstance(opt, str):
                self.warnings.append(f"{where}: option {str(opt)[:80]!r} for {key!r} not a name")
                continue
            if opt == "???":
                self.warnings.append(f"{where}: no option selected for {key!r} (???)")
                continue
            if "${" in opt:
                self.warnings.append(
                    f"{where}: interpolated option {opt[:80]!r} for {key!r} not resolved"
                )
                continue
            try:
                found = self.find(f"{group_path}/{opt}", where)
            except _Rejected:
                continue
            if found is None:
                if not entry.optional:
                    self.warnings.append(
                        f"{where}: config {group_path}/{opt} not found "
                        f"in {self.rel(self.config_dir) or '.'}"
                    )
                continue
            out.extend(
                self.expand(
                    found, group_path, (parent_pkg, entry.package, relative_group), depth + 1
                )
            )
        return out


def compose_hydra(root: Path, primary_rel: str) -> ComposedConfig:
    """Compose the Hydra primary config at `root/primary_rel` with its defaults list.

    Group files are looked up relative to the primary's directory (the config directory:
    `model: resnet` reads `model/resnet.yaml` and places it under `model`). Raises FormatError
    only when the primary itself is unreadable.
    """
    root = root.resolve()
    primary = (root / primary_rel).resolve()
    if not primary.is_relative_to(root):
        raise FormatError("primary config lies outside the repository")
    data = load_yaml_file(primary)
    if not isinstance(data, dict):
        raise FormatError("top level is not a mapping")
    composer = _Composer(root, primary.parent)
    items = composer.expand(primary, "", ("", "", ""), 1)
    for key, where in composer.override_where.items():
        if key not in composer.used:
            composer.warnings.append(f"{where}: override of {key!r} matches no earlier default")
    merged: dict[str, Any] = {}
    for _, content in items:
        merged = _deep_merge(merged, content)
    merged.pop("hydra", None)  # Hydra's own settings (a `hydra: default` group), not the job's
    sources = tuple(rel for rel, _ in items)
    return ComposedConfig(
        params=tuple(flatten(merged)) if merged else (),
        members=tuple(dict.fromkeys(sources)),
        warnings=tuple(composer.warnings),
        sources=sources,
    )
