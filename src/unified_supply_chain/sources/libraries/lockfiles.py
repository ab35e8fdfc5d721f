"""Software dependencies from lockfiles: poetry.lock, uv.lock, Pipfile.lock, conda environment.yml
and npm package-lock.json (lockfileVersion 1 to 3).

Each reader returns a `LockfileResult`: one `Library` per purl (PEP 503-normalised `pkg:pypi`,
`pkg:npm` with the scope as a percent-encoded namespace, `pkg:conda` with channel and build
qualifiers), with the hashes the lockfile pins, its own dependencies as purls, the scope
("required" or "optional" for dev/test-only packages) and whether the application depends on it
directly. Direct dependencies come from what the lockfile (or the manifest beside it) says; when
nothing says, the packages no other locked package depends on are taken as the direct ones.
Nothing is fetched. A file that cannot be read at all raises FormatError; bad entries become
problems.
"""

from __future__ import annotations

import base64
import binascii
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from packageurl import PackageURL
from packaging.requirements import InvalidRequirement, Requirement

from unified_supply_chain import limits, safeparse
from unified_supply_chain.errors import FormatError
from unified_supply_chain.records import Hash, Library, Problem
from unified_supply_chain.redact import redact_text, redact_url
from unified_supply_chain.sources.libraries.manifests import (
    normalize_name,
    pypi_purl,
    read_pyproject,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

#: Format ids this module reads (as the classifier names them).
FORMATS = ("lockfile-poetry", "lockfile-uv", "lockfile-pipfile", "conda-env", "lockfile-npm")
#: `Hash.source` of digests pinned by a lockfile.
HASH_SOURCE = "lockfile"

_HASH_ALGS = {
    "md5": ("MD5", 32),
    "sha1": ("SHA-1", 40),
    "sha256": ("SHA-256", 64),
    "sha384": ("SHA-384", 96),
    "sha512": ("SHA-512", 128),
}
_HEX = re.compile(r"^[0-9a-fA-F]+$")


@dataclass(frozen=True)
class LockfileResult:
    """What one lockfile pins."""

    libraries: tuple[Library, ...]
    """Locked packages, one per purl, in lockfile order."""
    problems: tuple[Problem, ...] = ()
    """Entries that were skipped, each with a one-line reason."""


def _hex_hash(text: object) -> Hash | None:
    """`sha256:<hex>` (pip, poetry, uv) as a Hash, or None."""
    if not isinstance(text, str):
        return None
    alg, _, digest = text.partition(":")
    spec = _HASH_ALGS.get(alg.strip().lower())
    if spec is None or len(digest) != spec[1] or not _HEX.match(digest):
        return None
    return Hash(spec[0], digest.lower(), HASH_SOURCE)


def _sri_hashes(integrity: object) -> list[Hash]:
    """Subresource Integrity strings (`sha512-<base64>`, space-separated) as hex Hashes."""
    out: list[Hash] = []
    if not isinstance(integrity, str):
        return out
    for token in integrity.split():
        alg, _, b64 = token.partition("-")
        spec = _HASH_ALGS.get(alg.lower())
        if spec is None:
            continue
        try:
            raw = base64.b64decode(b64.split("?")[0], validate=True)
        except (binascii.Error, ValueError):
            continue
        if len(raw) * 2 == spec[1]:
            out.append(Hash(spec[0], raw.hex(), HASH_SOURCE))
    return out


@dataclass
class _Pkg:
    """A locked package while the file is being read."""

    key: str
    """Identity inside the lockfile (normalised name, or npm install path)."""
    name: str
    version: str | None
    purl: str
    ecosystem: str
    hashes: list[Hash] = field(default_factory=list)
    dep_keys: list[str] = field(default_factory=list)
    """Keys of the packages this one depends on (resolved to purls at the end)."""
    optional: bool = False
    direct: bool | None = None


class _Lock:
    def __init__(self, relpath: str) -> None:
        self.relpath = relpath
        self.pkgs: list[_Pkg] = []
        self.problems: list[Problem] = []

    def problem(self, message: str) -> None:
        self.problems.append(Problem(self.relpath, message))

    def add(self, pkg: _Pkg) -> None:
        if len(self.pkgs) >= limits.MAX_LOCK_PACKAGES:
            raise FormatError(f"more than {limits.MAX_LOCK_PACKAGES} packages")
        self.pkgs.append(pkg)

    def result(
        self,
        direct_keys: Iterable[str] | None,
        resolve: Mapping[str, list[str]] | None = None,
    ) -> LockfileResult:
        """Freeze into Libraries: depends_on resolved via `resolve` (key -> purls)."""
        by_key: dict[str, list[str]] = {}
        for p in self.pkgs:
            by_key.setdefault(p.key, []).append(p.purl)
        table = resolve if resolve is not None else by_key
        wanted = set(direct_keys) if direct_keys is not None else None
        if wanted is None:
            # Nothing says which are direct: the packages nobody else depends on are.
            needed = {k for p in self.pkgs for k in p.dep_keys}
            wanted = {p.key for p in self.pkgs if p.key not in needed}
        merged: dict[str, Library] = {}
        for p in self.pkgs:
            deps: list[str] = []
            for k in p.dep_keys:
                for purl in table.get(k, []):
                    if purl != p.purl and purl not in deps:
                        deps.append(purl)
            direct = p.direct if p.direct is not None else p.key in wanted
            lib = Library(
                name=p.name,
                version=p.version,
                purl=p.purl,
                source=self.relpath,
                ecosystem=p.ecosystem,
                direct=direct,
                hashes=tuple(dict.fromkeys(p.hashes)),
                depends_on=tuple(deps),
                scope="optional" if p.optional else "required",
            )
            old = merged.get(p.purl)
            if old is not None:
                lib = replace(
                    old,
                    direct=old.direct or lib.direct,
                    hashes=tuple(dict.fromkeys(old.hashes + lib.hashes)),
                    depends_on=tuple(dict.fromkeys(old.depends_on + lib.depends_on)),
                    scope="required" if "required" in (old.scope, lib.scope) else "optional",
                )
            merged[p.purl] = lib
        return LockfileResult(libraries=tuple(merged.values()), problems=tuple(self.problems))


def _load_toml(path: Path) -> dict[str, Any]:
    text = safeparse.read_text_bounded(path)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FormatError(f"invalid TOML: {exc}") from exc
    except RecursionError as exc:
        raise FormatError("TOML nesting too deep") from exc


def _sibling_pyproject_names(path: Path) -> set[str] | None:
    """Normalised names the pyproject.toml beside a lockfile declares, or None when absent."""
    pyproject = path.with_name("pyproject.toml")
    if pyproject.is_symlink() or not pyproject.is_file():
        return None
    try:
        declared = read_pyproject(pyproject, "pyproject.toml")
    except FormatError:
        return None
    return {normalize_name(lib.name) for lib in declared.libraries}


def _add_pypi(
    lock: _Lock,
    name: str,
    version: str | None,
    qualifiers: dict[str, str],
    *,
    hashes: Sequence[Hash] = (),
    dep_keys: Sequence[str] = (),
    optional: bool = False,
    direct: bool | None = None,
) -> None:
    """Add a PyPI package keyed by its normalised name (one without a valid purl is a problem)."""
    try:
        purl = pypi_purl(name, version, qualifiers)
    except ValueError as exc:
        lock.problem(f"{name!r}: {exc}")
        return
    lock.add(
        _Pkg(
            key=normalize_name(name),
            name=name,
            version=version,
            purl=purl,
            ecosystem="pypi",
            hashes=list(hashes),
            dep_keys=list(dep_keys),
            optional=optional,
            direct=direct,
        )
    )


# --- poetry.lock --------------------------------------------------------------------------------


def _poetry_source_qualifiers(source: object) -> dict[str, str]:
    if not isinstance(source, dict) or not isinstance(source.get("url"), str):
        return {}
    kind = source.get("type")
    url = redact_url(source["url"])
    if kind == "git":
        ref = source.get("resolved_reference") or source.get("reference")
        return {"vcs_url": f"git+{url}" + (f"@{ref}" if isinstance(ref, str) else "")}
    if kind == "url":
        return {"download_url": url}
    if kind == "legacy":
        return {"repository_url": url}
    return {}


def _read_poetry(path: Path, relpath: str) -> LockfileResult:
    data = _load_toml(path)
    packages = data.get("package")
    if not isinstance(packages, list):
        raise FormatError("no [[package]] entries")
    lock = _Lock(relpath)
    metadata = data.get("metadata")
    legacy_files = metadata.get("files") if isinstance(metadata, dict) else None
    for entry in packages:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            lock.problem("a [[package]] entry has no name")
            continue
        name = entry["name"]
        version = entry.get("version") if isinstance(entry.get("version"), str) else None
        groups = entry.get("groups")
        optional = (
            entry.get("category") == "dev"
            or entry.get("optional") is True
            or (isinstance(groups, list) and bool(groups) and "main" not in groups)
        )
        files = entry.get("files")
        if not isinstance(files, list) and isinstance(legacy_files, dict):
            files = legacy_files.get(name)  # poetry 1.1 kept hashes under [metadata.files]
        hashes = [
            h
            for f in (files if isinstance(files, list) else [])
            if isinstance(f, dict) and (h := _hex_hash(f.get("hash"))) is not None
        ]
        deps = entry.get("dependencies")
        dep_keys = [normalize_name(str(d)) for d in deps] if isinstance(deps, dict) else []
        _add_pypi(
            lock,
            name,
            version,
            _poetry_source_qualifiers(entry.get("source")),
            hashes=hashes,
            dep_keys=dep_keys,
            optional=optional,
        )
    return lock.result(_sibling_pyproject_names(path))


# --- uv.lock ------------------------------------------------------------------------------------


def _uv_source(source: object) -> tuple[bool, dict[str, str]]:
    """(is a local project of the workspace, purl qualifiers) of a uv `source` table."""
    if not isinstance(source, dict):
        return False, {}
    if any(k in source for k in ("editable", "virtual")):
        return True, {}
    if isinstance(source.get("git"), str):
        url, _, commit = source["git"].partition("#")
        return False, {
            "vcs_url": "git+" + redact_url(url.split("?")[0]) + (f"@{commit}" * bool(commit))
        }
    if isinstance(source.get("url"), str):
        return False, {"download_url": redact_url(source["url"])}
    registry = source.get("registry")
    if isinstance(registry, str) and "pypi.org" not in registry and registry.startswith("http"):
        return False, {"repository_url": redact_url(registry)}
    return False, {}


def _uv_dep_names(entries: object) -> list[str]:
    return [
        normalize_name(d["name"])
        for d in (entries if isinstance(entries, list) else [])
        if isinstance(d, dict) and isinstance(d.get("name"), str)
    ]


def _read_uv(path: Path, relpath: str) -> LockfileResult:
    data = _load_toml(path)
    packages = data.get("package")
    if not isinstance(packages, list):
        raise FormatError("no [[package]] entries")
    lock = _Lock(relpath)
    roots_required: list[str] = []
    roots_optional: list[str] = []
    graph: dict[str, list[str]] = {}
    for entry in packages:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            lock.problem("a [[package]] entry has no name")
            continue
        name = entry["name"]
        key = normalize_name(name)
        deps = _uv_dep_names(entry.get("dependencies"))
        extra_deps: list[str] = []
        for table in ("optional-dependencies", "dev-dependencies"):
            groups = entry.get(table)
            for group in groups.values() if isinstance(groups, dict) else []:
                extra_deps.extend(_uv_dep_names(group))
        graph.setdefault(key, []).extend(deps + extra_deps)
        is_local, qualifiers = _uv_source(entry.get("source"))
        if is_local:
            # The project itself (or a workspace member): its dependencies are the direct ones.
            source = entry["source"]
            if "." in (source.get("editable"), source.get("virtual")):
                roots_required.extend(deps)
                roots_optional.extend(extra_deps)
            continue
        version = entry.get("version") if isinstance(entry.get("version"), str) else None
        hashes: list[Hash] = []
        sdist = entry.get("sdist")
        wheels = entry.get("wheels")
        for art in [sdist, *(wheels if isinstance(wheels, list) else [])]:
            if isinstance(art, dict) and (h := _hex_hash(art.get("hash"))) is not None:
                hashes.append(h)
        _add_pypi(lock, name, version, qualifiers, hashes=hashes, dep_keys=deps)
    if roots_required or roots_optional:
        required = _closure(graph, roots_required)
        for p in lock.pkgs:
            p.optional = p.key not in required
        direct: Iterable[str] | None = set(roots_required) | set(roots_optional)
    else:
        direct = None
    return lock.result(direct)


def _closure(graph: Mapping[str, list[str]], start: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    stack = list(start)
    while stack:
        key = stack.pop()
        if key not in seen:
            seen.add(key)
            stack.extend(graph.get(key, []))
    return seen


# --- Pipfile.lock -------------------------------------------------------------------------------


def _read_pipfile_lock(path: Path, relpath: str) -> LockfileResult:
    data = safeparse.load_json_file(path)
    if not isinstance(data, dict) or not any(k in data for k in ("default", "develop")):
        raise FormatError("not a Pipfile.lock (no `default` or `develop`)")
    lock = _Lock(relpath)
    direct = _pipfile_names(path.with_name("Pipfile"))
    for section, optional in (("default", False), ("develop", True)):
        entries = data.get(section)
        if entries is None:
            continue
        if not isinstance(entries, dict):
            lock.problem(f"`{section}` is not a mapping")
            continue
        for name, spec in entries.items():
            if not isinstance(spec, dict):
                lock.problem(f"{name!r}: not a mapping")
                continue
            version = spec.get("version")
            pinned = version[2:] if isinstance(version, str) and version.startswith("==") else None
            qualifiers: dict[str, str] = {}
            if isinstance(spec.get("git"), str):
                ref = spec.get("ref")
                qualifiers["vcs_url"] = (
                    "git+" + redact_url(spec["git"]) + (f"@{ref}" if isinstance(ref, str) else "")
                )
            elif isinstance(spec.get("file"), str):
                qualifiers["download_url"] = redact_url(spec["file"])
            elif "path" in spec:
                lock.problem(f"{name!r} is a local path dependency; skipped")
                continue
            raw_hashes = spec.get("hashes")
            hashes = [
                h
                for x in (raw_hashes if isinstance(raw_hashes, list) else [])
                if (h := _hex_hash(x)) is not None
            ]
            _add_pypi(
                lock,
                name,
                pinned,
                qualifiers,
                hashes=hashes,
                optional=optional,
                # Pipfile.lock has no graph: without a Pipfile every entry counts as direct.
                direct=True if direct is None else normalize_name(name) in direct,
            )
    return lock.result(None)


def _pipfile_names(pipfile: Path) -> set[str] | None:
    if pipfile.is_symlink() or not pipfile.is_file():
        return None
    try:
        data = _load_toml(pipfile)
    except FormatError:
        return None
    names: set[str] = set()
    for table in ("packages", "dev-packages"):
        section = data.get(table)
        if isinstance(section, dict):
            names.update(normalize_name(str(n)) for n in section)
    return names


# --- conda environment.yml ----------------------------------------------------------------------

_CONDA_SPEC = re.compile(
    r"^(?:(?P<channel>[^:\s]+)::)?(?P<name>[A-Za-z0-9_][A-Za-z0-9_.\-]*)\s*(?P<rest>.*)$"
)
_PLAIN_VERSION = re.compile(r"^[A-Za-z0-9_.+!]+$")


def _conda_version(rest: str) -> tuple[str | None, str | None]:
    """(version, build) of the part after the name: `=1.2`, `==1.2`, `=1.2=py_0`, ` 1.2 py_0`."""
    rest = rest.strip()
    if not rest or rest.startswith("["):
        return None, None
    if rest.startswith("=="):
        parts = rest[2:].split("=")
    elif rest.startswith("="):
        parts = rest[1:].split("=")
    elif rest[0].isalnum():
        parts = rest.split()
    else:
        return None, None  # a range (>=, <, ...)
    version = parts[0].strip() if parts else ""
    build = parts[1].strip() if len(parts) > 1 else None
    if not _PLAIN_VERSION.match(version):
        return None, None
    return version, build if build and _PLAIN_VERSION.match(build) else None


def _read_conda_env(path: Path, relpath: str) -> LockfileResult:
    data = safeparse.load_yaml_file(path)
    if not isinstance(data, dict) or not isinstance(data.get("dependencies"), list):
        raise FormatError("not a conda environment file (no `dependencies` list)")
    lock = _Lock(relpath)
    channels = data.get("channels")
    only_channel = (
        channels[0]
        if isinstance(channels, list) and len(channels) == 1 and isinstance(channels[0], str)
        else None
    )
    for entry in data["dependencies"]:
        if isinstance(entry, dict) and "pip" in entry:
            _conda_pip_section(lock, entry["pip"])
            continue
        if not isinstance(entry, str):
            lock.problem(f"entry {redact_text(str(entry))[:80]!r} is not a string")
            continue
        m = _CONDA_SPEC.match(entry.strip())
        if m is None:
            lock.problem(f"skipped {redact_text(entry)[:80]!r}: not a package spec")
            continue
        version, build = _conda_version(m.group("rest"))
        channel = m.group("channel") or only_channel
        qualifiers: dict[str, str] = {}
        if build:
            qualifiers["build"] = build
        if channel:
            qualifiers["channel"] = redact_url(channel) if "://" in channel else channel
        name = m.group("name")
        try:
            purl = PackageURL(
                type="conda", name=name.lower(), version=version, qualifiers=qualifiers or None
            ).to_string()
        except ValueError as exc:
            lock.problem(f"{name!r}: {exc}")
            continue
        lock.add(
            _Pkg(
                key=f"conda:{name.lower()}",
                name=name,
                version=version,
                purl=str(purl),
                ecosystem="conda",
                direct=True,
            )
        )
    return lock.result(None)


def _conda_pip_section(lock: _Lock, entries: object) -> None:
    if not isinstance(entries, list):
        lock.problem("`pip:` is not a list")
        return
    for line in entries:
        if not isinstance(line, str) or line.strip().startswith("-"):
            lock.problem(
                f"pip entry {redact_text(str(line))[:80]!r} not read (options and includes)"
            )
            continue
        try:
            req = Requirement(line.strip())
        except InvalidRequirement as exc:
            lock.problem(f"pip entry {redact_text(line)[:80]!r}: {redact_text(str(exc))}")
            continue
        specs = list(req.specifier)
        version = (
            specs[0].version
            if len(specs) == 1
            and specs[0].operator in ("==", "===")
            and "*" not in specs[0].version
            else None
        )
        qualifiers = {"download_url": redact_url(req.url)} if req.url else {}
        _add_pypi(lock, req.name, version, qualifiers, direct=True)


# --- package-lock.json --------------------------------------------------------------------------


def _npm_purl(name: str, version: str | None) -> str:
    namespace, _, short = name.rpartition("/")
    return str(
        PackageURL(type="npm", namespace=namespace or None, name=short, version=version).to_string()
    )


def _npm_resolve(packages: Mapping[str, Any], at: str, dep: str) -> str | None:
    """Install path Node's resolution finds for `dep` required from the package at `at`."""
    base = at
    while True:
        candidate = f"{base}/node_modules/{dep}" if base else f"node_modules/{dep}"
        if candidate in packages:
            return candidate
        if not base:
            return None
        idx = base.rfind("/node_modules/")
        if idx >= 0:
            base = base[:idx]
        elif base.startswith("node_modules/"):
            base = ""
        else:
            base = ""  # a workspace folder: only the root's node_modules is left
    return None


def _npm_v1_packages(dependencies: dict[str, Any]) -> dict[str, Any]:
    """A lockfileVersion 1 `dependencies` tree as a v2-style `packages` map (by install path)."""
    packages: dict[str, Any] = {}
    stack: list[tuple[str, dict[str, Any]]] = [("", dependencies)]
    while stack:
        base, table = stack.pop()
        for name, entry in table.items():
            if not isinstance(entry, dict):
                continue
            install_path = f"{base}node_modules/{name}"
            converted: dict[str, Any] = {}
            version = entry.get("version")
            if isinstance(version, str):
                if version.startswith("npm:"):  # an alias: npm:<real name>@<version>
                    real, _, real_version = version[4:].rpartition("@")
                    if real:
                        converted["name"] = real
                    converted["version"] = real_version
                elif ":" not in version and "/" not in version:
                    converted["version"] = version  # git/file/tarball sources have no version
            for key in ("integrity", "dev", "optional"):
                if key in entry:
                    converted[key] = entry[key]
            if isinstance(entry.get("requires"), dict):
                converted["dependencies"] = entry["requires"]
            packages[install_path] = converted
            if len(packages) > limits.MAX_LOCK_PACKAGES:
                raise FormatError(f"more than {limits.MAX_LOCK_PACKAGES} packages")
            nested = entry.get("dependencies")
            if isinstance(nested, dict):
                stack.append((install_path + "/", nested))
    return packages


def _package_json(path: Path) -> dict[str, Any] | None:
    """The dependency tables of the package.json beside a v1 lockfile, or None when absent."""
    if path.is_symlink() or not path.is_file():
        return None
    try:
        data = safeparse.load_json_file(path)
    except FormatError:
        return None
    return data if isinstance(data, dict) else None


def _read_npm(path: Path, relpath: str) -> LockfileResult:
    data = safeparse.load_json_file(path)
    if not isinstance(data, dict):
        raise FormatError("not a JSON object")
    packages = data.get("packages")
    if not isinstance(packages, dict):
        if not isinstance(data.get("dependencies"), dict):
            version = data.get("lockfileVersion")
            raise FormatError(
                f"lockfileVersion {version} with neither `packages` nor `dependencies`"
            )
        packages = _npm_v1_packages(data["dependencies"])
        root_manifest = _package_json(path.with_name("package.json"))
        if root_manifest is not None:
            packages[""] = root_manifest
    lock = _Lock(relpath)
    root = packages.get("")
    direct_names: set[str] = set()
    if isinstance(root, dict):
        for table in (
            "dependencies",
            "devDependencies",
            "optionalDependencies",
            "peerDependencies",
        ):
            deps = root.get(table)
            if isinstance(deps, dict):
                direct_names.update(str(n) for n in deps)
    resolve: dict[str, list[str]] = {}
    for install_path, entry in packages.items():
        if not isinstance(install_path, str) or "node_modules/" not in install_path:
            continue  # the root project and workspace folders are the application itself
        if not isinstance(entry, dict) or entry.get("link") is True:
            continue
        derived = install_path.rsplit("node_modules/", 1)[1]
        raw_name = entry.get("name")
        name = raw_name if isinstance(raw_name, str) else derived
        version = entry.get("version") if isinstance(entry.get("version"), str) else None
        try:
            purl = _npm_purl(name, version)
        except ValueError as exc:
            lock.problem(f"{install_path!r}: {exc}")
            continue
        dep_keys: list[str] = []
        for table in ("dependencies", "optionalDependencies", "peerDependencies"):
            deps = entry.get(table)
            for dep in deps if isinstance(deps, dict) else []:
                target = _npm_resolve(packages, install_path, str(dep))
                if target is not None:
                    dep_keys.append(target)
        resolve[install_path] = [purl]
        top_level = install_path == f"node_modules/{derived}"
        lock.add(
            _Pkg(
                key=install_path,
                name=name,
                version=version,
                purl=purl,
                ecosystem="npm",
                hashes=_sri_hashes(entry.get("integrity")),
                dep_keys=dep_keys,
                optional=entry.get("dev") is True or entry.get("devOptional") is True,
                direct=top_level and derived in direct_names if root is not None else None,
            )
        )
    return lock.result(None if root is None else (), resolve)


_READERS = {
    "lockfile-poetry": _read_poetry,
    "lockfile-uv": _read_uv,
    "lockfile-pipfile": _read_pipfile_lock,
    "conda-env": _read_conda_env,
    "lockfile-npm": _read_npm,
}


def read_lockfile(path: Path, relpath: str, fmt: str) -> LockfileResult:
    """Read the lockfile at `path` as format `fmt` (one of `FORMATS`).

    Raises FormatError when the file cannot be read as that format (or fmt is unknown).
    """
    reader = _READERS.get(fmt)
    if reader is None:
        raise FormatError(f"unknown lockfile format {fmt!r}")
    try:
        return reader(path, relpath)
    except (AttributeError, KeyError, TypeError, ValueError, RecursionError) as exc:
        # Shapes no reader expected (e.g. a table where a list belongs) are bad input, not bugs.
        raise FormatError(f"unexpected structure: {redact_text(str(exc))}") from exc
