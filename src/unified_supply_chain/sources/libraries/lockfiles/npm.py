"""npm package-lock.json, lockfileVersion 1 to 3: packages, SRI hashes, install-path resolution."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from packageurl import PackageURL

from unified_supply_chain import limits, safeparse
from unified_supply_chain.errors import FormatError
from unified_supply_chain.sources.libraries.lockfiles.common import (
    Lock,
    LockedPackage,
    LockfileResult,
    sri_hashes,
)


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


def read_npm_lock(path: Path, relpath: str) -> LockfileResult:
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
    lock = Lock(relpath)
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
            LockedPackage(
                key=install_path,
                name=name,
                version=version,
                purl=purl,
                ecosystem="npm",
                hashes=sri_hashes(entry.get("integrity")),
                dep_keys=dep_keys,
                optional=entry.get("dev") is True or entry.get("devOptional") is True,
                direct=top_level and derived in direct_names if root is not None else None,
            )
        )
    return lock.result(None if root is None else (), resolve)
