"""DVC records: `.dvc` files, `dvc.yaml` pipelines and `dvc.lock`, read as lineage contributions.

Nothing is fetched from a DVC remote: what the records state (paths, md5, sizes, stage commands,
params, metrics files, declared artifacts) is what we report. Paths inside a `dvc.yaml` are
relative to its directory (and to a stage's `wdir`); they are normalised to repo-relative paths and
any path leaving the repository is refused with a problem.
"""

from __future__ import annotations

import posixpath
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from unified_supply_chain import limits, records, safeparse
from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.errors import FormatError
from unified_supply_chain.redact import redact_text, redact_url
from unified_supply_chain.sources.lineage.metrics import read_metrics_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

_MD5 = re.compile(r"^[0-9a-fA-F]{32}$")
_INTERP = re.compile(r"\$\{\s*([^${}]+?)\s*\}")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
#: Default params file of a stage (relative to its wdir).
DEFAULT_PARAMS = "params.yaml"


class _PathError(ValueError):
    """A path in a record that cannot be used (escapes the root, absolute, unresolved)."""


def _show(path: str) -> str:
    """A path for a message: quoted, cut to 120 characters, credentials of a URL removed."""
    return repr(redact_text(path))[:120]


def normalise(base_dir: str, path: str) -> str:
    """Join `path` to the repo-relative `base_dir`; refuse absolute or escaping results."""
    if not isinstance(path, str) or not path.strip():
        raise _PathError("empty path")
    if "${" in path:
        raise _PathError(f"unresolved template in path {_show(path)}")
    if _URL.match(path):
        raise _PathError(f"not a repository path: {_show(path)}")
    cleaned = path.replace("\\", "/")
    if cleaned.startswith("/") or re.match(r"^[A-Za-z]:/", cleaned):
        raise _PathError(f"absolute path {_show(path)}")
    joined = posixpath.normpath(posixpath.join(base_dir, cleaned)) if base_dir else cleaned
    joined = posixpath.normpath(joined)
    if joined == ".." or joined.startswith("../") or joined.startswith("/"):
        raise _PathError(f"path {_show(path)} leaves the repository")
    if joined == ".":
        raise _PathError(f"path {_show(path)} is the repository root")
    return joined


@dataclass
class _DeclaredAcc:
    """Mutable accumulator for one declared path, frozen into `records.Declared` at the end."""

    path: str
    source: str
    kind: records.ArtifactKind | None = None
    name: str | None = None
    size: int | None = None
    storage: records.Storage | None = None
    hashes: list[records.Hash] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, object] = field(default_factory=dict)
    weak: bool = False
    """Only a dvc.lock dependency names it: kept only when its content is absent, since a present
    file that no reader took for an artifact (a script, a config) is not one."""

    def add_hash(self, h: records.Hash) -> None:
        if all((x.alg, x.content) != (h.alg, h.content) for x in self.hashes):
            self.hashes.append(h)

    def freeze(self) -> records.Declared:
        return records.Declared(
            path=self.path,
            kind=self.kind,
            hashes=tuple(self.hashes),
            size=self.size,
            storage=self.storage,
            source=self.source,
            name=self.name,
            properties=tuple(sorted(self.properties.items())),
            metadata=dict(self.metadata),
        )


@dataclass
class _Builder:
    """Everything read so far, in discovery order."""

    root: Path
    files: frozenset[str]
    declared: dict[str, _DeclaredAcc] = field(default_factory=dict)
    stages: list[records.Stage] = field(default_factory=list)
    metrics: list[records.MetricsSource] = field(default_factory=list)
    problems: list[records.Problem] = field(default_factory=list)
    _dirs: set[str] = field(default_factory=set)

    def problem(self, path: str, message: str) -> None:
        self.problems.append(records.Problem(path=path, message=message))

    def declare(self, path: str, source: str, weak: bool = False) -> _DeclaredAcc:
        acc = self.declared.get(path)
        if acc is None:
            acc = self.declared[path] = _DeclaredAcc(path=path, source=source, weak=weak)
        elif not weak:
            acc.weak = False
        return acc

    def present(self, path: str) -> bool:
        """Whether the checkout has the file, or files under the directory, at `path`."""
        if not self._dirs and self.files:
            self._dirs = {f[:i] for f in self.files for i in range(len(f)) if f[i] == "/"}
        return path in self.files or path in self._dirs


def _entry_path_and_opts(entry: Any) -> tuple[str, dict[str, Any]] | None:
    """`- path` or `- path: {opts}` list entries of deps/outs/metrics/plots."""
    if isinstance(entry, str):
        return entry, {}
    if isinstance(entry, dict) and len(entry) == 1:
        key, opts = next(iter(entry.items()))
        if isinstance(key, str):
            return key, opts if isinstance(opts, dict) else {}
    return None


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _apply_hash_info(acc: _DeclaredAcc, info: Mapping[str, Any], hash_source: str) -> None:
    """md5/size/nfiles of an out or dep entry (`.dvc` file or `dvc.lock`)."""
    md5 = info.get("md5")
    if isinstance(md5, int) and not isinstance(md5, bool):
        md5 = str(md5)  # an unquoted all-digit digest parses as a YAML integer
    if isinstance(md5, str):
        is_dir = md5.endswith(".dir")
        digest = md5[: -len(".dir")] if is_dir else md5
        if _MD5.match(digest):
            acc.add_hash(records.Hash("MD5", digest.lower(), hash_source))
        if is_dir:
            acc.properties[Prop.DVC_DIRECTORY.value] = "true"
    size = _int_or_none(info.get("size"))
    if size is not None:
        acc.size = size
    nfiles = _int_or_none(info.get("nfiles"))
    if nfiles is not None:
        acc.properties[Prop.DVC_NFILES.value] = str(nfiles)


# --- `.dvc` files ------------------------------------------------------------------------------


def _read_dvc_file(b: _Builder, relpath: str) -> None:
    data = safeparse.load_yaml_file(b.root / relpath)
    if not isinstance(data, dict):
        raise FormatError("not a mapping")
    base = posixpath.dirname(relpath)
    base = posixpath.join(base, data["wdir"]) if isinstance(data.get("wdir"), str) else base
    import_url = None
    is_stage = isinstance(data.get("cmd"), str)  # a DVC 0.x stage file: `cmd` + deps + outs
    inputs: list[str] = []
    raw_deps = data.get("deps")
    for dep in raw_deps if isinstance(raw_deps, list) else []:
        if isinstance(dep, dict):
            repo = dep.get("repo")
            # Recorded in the SBOM: never with the credentials a URL may carry.
            if isinstance(repo, dict) and isinstance(repo.get("url"), str):
                import_url = redact_url(repo["url"])
            elif isinstance(dep.get("path"), str) and _URL.match(dep["path"]):
                import_url = redact_url(dep["path"])
            elif is_stage and isinstance(dep.get("path"), str):
                try:
                    dep_path = normalise(base, dep["path"])
                except _PathError as exc:
                    b.problem(relpath, str(exc))
                    continue
                inputs.append(dep_path)
                _apply_hash_info(b.declare(dep_path, relpath, weak=True), dep, "dvc-file")
    outs = data.get("outs")
    if not isinstance(outs, list):
        raise FormatError("no `outs` list")
    outputs: list[str] = []
    metrics: list[str] = []
    for out in outs:
        if not isinstance(out, dict) or not isinstance(out.get("path"), str):
            b.problem(relpath, "an `outs` entry has no path")
            continue
        try:
            path = normalise(base, out["path"])
        except _PathError as exc:
            b.problem(relpath, str(exc))
            continue
        if out.get("metric") is True or isinstance(out.get("metric"), dict):
            metrics.append(path)  # DVC 0.x metrics were outputs flagged `metric`
            continue
        outputs.append(path)
        acc = b.declare(path, relpath)
        acc.storage = records.Storage.DVC
        _apply_hash_info(acc, out, "dvc-file")
        if import_url is not None:
            acc.properties[Prop.DVC_IMPORT_URL.value] = import_url
        if out.get("cache") is False:
            acc.properties[Prop.DVC_CACHE.value] = "false"
    if is_stage:
        b.stages.append(
            records.Stage(
                name=posixpath.basename(relpath)[: -len(".dvc")] or relpath,
                command=redact_text(data["cmd"]),
                inputs=tuple(inputs),
                outputs=tuple(outputs),
                metrics_files=tuple(metrics),
                source=relpath,
            )
        )
        for mpath in metrics:
            _add_metrics(b, mpath, tuple(outputs))


# --- templating ---------------------------------------------------------------------------------


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


def _interpolate(value: Any, context: Mapping[str, Any]) -> Any:
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
        return [_interpolate(v, context) for v in value]
    if isinstance(value, dict):
        # Keys are substituted as text only, so a mapping never becomes a key.
        return {
            (_INTERP.sub(lambda m: _text(context, m), k) if isinstance(k, str) else k): (
                _interpolate(v, context)
            )
            for k, v in value.items()
        }
    return value


def _scalar_key(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _expand_stages(name: str, body: Any) -> Iterator[tuple[str, Any, dict[str, Any]]]:
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


# --- params -------------------------------------------------------------------------------------


def _load_params_file(b: _Builder, relpath: str, cache: dict[str, Any]) -> Any:
    """Parsed params file (YAML, JSON, TOML, Python is not evaluated), or None when unreadable."""
    if relpath in cache:
        return cache[relpath]
    result: Any = None
    path = b.root / relpath
    # Only files the walk found: a name in a record never leads outside the walked tree.
    if relpath in b.files:
        try:
            suffix = posixpath.splitext(relpath)[1].lower()
            if suffix == ".json":
                result = safeparse.load_json_file(path)
            elif suffix == ".toml":
                try:
                    result = tomllib.loads(safeparse.read_text_bounded(path))
                except tomllib.TOMLDecodeError as exc:
                    raise FormatError(f"invalid TOML: {exc}") from exc
            elif suffix in (".yaml", ".yml"):
                result = safeparse.load_yaml_file(path)
            else:
                b.problem(relpath, "params file format not read (only YAML, JSON and TOML)")
        except FormatError as exc:
            b.problem(relpath, f"params file not read: {exc}")
            result = None
    cache[relpath] = result
    return result


def _select_params(data: Any, keys: Sequence[str] | None) -> list[tuple[str, str]]:
    """Flattened params, restricted to the listed keys/sections (None = the whole file)."""
    flat = safeparse.flatten(data) if isinstance(data, dict) else []
    if keys is None:
        return flat
    out: list[tuple[str, str]] = []
    for key in keys:
        out.extend((k, v) for k, v in flat if k == key or k.startswith(key + "."))
    return out


def _params_spec(entries: Any) -> list[tuple[str, list[str] | None]]:
    """(params file relative to wdir, keys or None for all) from a stage's `params:` list."""
    spec: dict[str, list[str] | None] = {}
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, (str, int, float)) and not isinstance(entry, bool):
            keys = spec.setdefault(DEFAULT_PARAMS, [])
            if keys is not None:
                keys.append(str(entry))
        elif isinstance(entry, dict):
            for fname, keys_ in entry.items():
                if not isinstance(fname, str):
                    continue
                if keys_ is None or keys_ == []:
                    spec[fname] = None
                elif isinstance(keys_, list):
                    existing = spec.setdefault(fname, [])
                    if existing is not None:
                        existing.extend(str(k) for k in keys_ if isinstance(k, (str, int)))
    return list(spec.items())


# --- dvc.yaml + dvc.lock ------------------------------------------------------------------------


@dataclass
class _StageDraft:
    name: str
    command: str | None
    wdir: str
    inputs: list[str]
    outputs: list[str]
    cached_outputs: set[str]
    params_files: list[str]
    params: list[tuple[str, str]]
    metrics_files: list[str]


def _paths(b: _Builder, source: str, wdir: str, entries: Any) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    for entry in entries if isinstance(entries, list) else []:
        parsed = _entry_path_and_opts(entry)
        if parsed is None:
            b.problem(source, "an entry is neither a path nor a one-key mapping; skipped")
            continue
        raw, opts = parsed
        if _URL.match(raw):
            continue  # an external dependency (s3://, https://): not a repository path
        try:
            out.append((normalise(wdir, raw), opts))
        except _PathError as exc:
            b.problem(source, str(exc))
    return out


def _read_lock(b: _Builder, relpath: str) -> dict[str, Any]:
    try:
        data = safeparse.load_yaml_file(b.root / relpath)
    except FormatError as exc:
        b.problem(relpath, f"not read: {exc}")
        return {}
    stages = data.get("stages") if isinstance(data, dict) else None
    if not isinstance(stages, dict):
        b.problem(relpath, "no `stages` mapping")
        return {}
    return {str(k): v for k, v in stages.items() if isinstance(v, dict)}


def _read_dvc_yaml(b: _Builder, relpath: str, lock_relpath: str | None) -> None:
    data = safeparse.load_yaml_file(b.root / relpath)
    if data is None:
        return
    if not isinstance(data, dict):
        raise FormatError("not a mapping")
    base = posixpath.dirname(relpath)
    params_cache: dict[str, Any] = {}

    # Templating context: `vars:` entries (mappings or params files) and the default params file.
    context: dict[str, Any] = {}
    default_params = _load_params_file(b, posixpath.join(base, DEFAULT_PARAMS), params_cache)
    if isinstance(default_params, dict):
        context.update(default_params)
    raw_vars = data.get("vars")
    for var in raw_vars if isinstance(raw_vars, list) else []:
        if isinstance(var, dict):
            context.update(var)
        elif isinstance(var, str):
            fname, _, keys = var.partition(":")
            try:
                loaded = _load_params_file(b, normalise(base, fname), params_cache)
            except _PathError as exc:
                b.problem(relpath, str(exc))
                continue
            if isinstance(loaded, dict):
                wanted = [k.strip() for k in keys.split(",") if k.strip()]
                context.update({k: v for k, v in loaded.items() if not wanted or k in wanted})

    # Declared artifacts first, so stage outputs can be matched to models.
    artifacts = data.get("artifacts")
    model_paths: set[str] = set()
    for art_name, art in artifacts.items() if isinstance(artifacts, dict) else []:
        if not isinstance(art, dict) or not isinstance(art.get("path"), str):
            b.problem(relpath, f"artifact {art_name!r} has no path")
            continue
        try:
            path = normalise(base, art["path"])
        except _PathError as exc:
            b.problem(relpath, f"artifact {art_name!r}: {exc}")
            continue
        acc = b.declare(path, relpath)
        acc.name = str(art_name)
        acc.properties[Prop.DVC_ARTIFACT.value] = str(art_name)
        kind = art.get("type")
        if kind == "model":
            acc.kind = records.ArtifactKind.MODEL
            model_paths.add(path)
        elif kind == "dataset":
            acc.kind = records.ArtifactKind.DATASET
        if isinstance(art.get("desc"), str):
            acc.metadata["description"] = art["desc"]
        labels = art.get("labels")
        if isinstance(labels, list) and labels:
            acc.properties[Prop.DVC_LABELS.value] = ",".join(str(x) for x in labels)
            acc.metadata["labels"] = [str(x) for x in labels]
        if isinstance(art.get("meta"), dict):
            acc.metadata["meta"] = art["meta"]

    lock = _read_lock(b, lock_relpath) if lock_relpath else {}

    drafts: list[_StageDraft] = []
    stages = data.get("stages")
    for stage_name, raw_body in stages.items() if isinstance(stages, dict) else []:
        try:
            expanded = list(_expand_stages(str(stage_name), raw_body))
        except FormatError as exc:
            b.problem(relpath, str(exc))
            continue
        for name, body, extra in expanded:
            if len(drafts) >= limits.MAX_DVC_STAGES:
                raise FormatError(f"more than {limits.MAX_DVC_STAGES} stages")
            stage = _interpolate(body, {**context, **extra})
            if not isinstance(stage, dict):
                continue
            drafts.append(_draft_stage(b, relpath, base, name, stage, lock.get(name), params_cache))

    produced = {p for d in drafts for p in d.outputs}
    for d in drafts:
        b.stages.append(
            records.Stage(
                name=d.name,
                command=d.command,
                inputs=tuple(d.inputs),
                outputs=tuple(d.outputs),
                params=tuple(d.params),
                params_files=tuple(d.params_files),
                metrics_files=tuple(d.metrics_files),
                source=relpath,
            )
        )
        if not d.metrics_files:
            continue
        # An evaluation stage writes metrics about what it reads: the models other stages made.
        candidates = d.outputs or [p for p in d.inputs if p in produced]
        models = [p for p in candidates if p in model_paths]
        for_paths = tuple(models or candidates)
        for mpath in d.metrics_files:
            _add_metrics(b, mpath, for_paths)

    for mpath, _ in _paths(b, relpath, base, data.get("metrics")):
        if all(m.path != mpath for m in b.metrics):
            _add_metrics(b, mpath, ())


def _draft_stage(
    b: _Builder,
    source: str,
    base: str,
    name: str,
    stage: dict[str, Any],
    lock: Any,
    params_cache: dict[str, Any],
) -> _StageDraft:
    wdir = base
    if isinstance(stage.get("wdir"), str) and stage["wdir"] not in ("", "."):
        try:
            wdir = normalise(base, stage["wdir"])
        except _PathError as exc:
            b.problem(source, f"stage {name!r}: {exc}")
    cmd = stage.get("cmd")
    if isinstance(cmd, list):
        command: str | None = " && ".join(str(c) for c in cmd)
    elif isinstance(cmd, str):
        command = cmd
    else:
        command = None
    if command is not None:
        command = redact_text(command)  # the command goes into the SBOM: no URL credentials

    deps = _paths(b, source, wdir, stage.get("deps"))
    outs = _paths(b, source, wdir, stage.get("outs"))
    metrics = _paths(b, source, wdir, stage.get("metrics"))
    draft = _StageDraft(
        name=name,
        command=command,
        wdir=wdir,
        inputs=[p for p, _ in deps],
        outputs=[p for p, _ in outs],
        cached_outputs={p for p, o in outs if o.get("cache", True) is not False},
        params_files=[],
        params=[],
        metrics_files=[p for p, _ in metrics],
    )

    # Params: values from the files as they are now, overridden by what dvc.lock says was used.
    values: dict[str, list[tuple[str, str]]] = {}
    for fname, keys in _params_spec(stage.get("params")):
        try:
            prel = normalise(wdir, fname)
        except _PathError as exc:
            b.problem(source, f"stage {name!r}: {exc}")
            continue
        draft.params_files.append(prel)
        values[prel] = _select_params(_load_params_file(b, prel, params_cache), keys)
    lock_params = lock.get("params") if isinstance(lock, dict) else None
    if isinstance(lock_params, dict):
        for fname, used in lock_params.items():
            try:
                prel = normalise(wdir, str(fname))
            except _PathError:
                continue
            if isinstance(used, dict):
                values[prel] = safeparse.flatten(used)
                if prel not in draft.params_files:
                    draft.params_files.append(prel)
    seen: set[str] = set()
    for prel in draft.params_files:
        for key, value in values.get(prel, []):
            if key not in seen:
                seen.add(key)
                draft.params.append((key, value))

    for path in draft.outputs:
        acc = b.declare(path, source)
        if path in draft.cached_outputs:
            acc.storage = records.Storage.DVC
        else:
            acc.properties[Prop.DVC_CACHE.value] = "false"
    if isinstance(lock, dict):
        for section in ("deps", "outs"):
            entries = lock.get(section)
            for entry in entries if isinstance(entries, list) else []:
                if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
                    continue
                if _URL.match(entry["path"]):
                    continue
                try:
                    path = normalise(wdir, entry["path"])
                except _PathError as exc:
                    b.problem(source, f"stage {name!r} in dvc.lock: {exc}")
                    continue
                acc = b.declare(path, source, weak=section == "deps")
                _apply_hash_info(acc, entry, "dvc-lock")
    return draft


def _add_metrics(b: _Builder, mpath: str, for_paths: tuple[str, ...]) -> None:
    full = b.root / mpath
    if mpath not in b.files:
        return  # not produced yet in this checkout (or not a file the walk found)
    try:
        found = read_metrics_file(full, mpath)
    except FormatError as exc:
        b.problem(mpath, f"metrics not read: {exc}")
        return
    b.metrics.append(records.MetricsSource(path=mpath, metrics=found, for_paths=for_paths))


# --- entry point --------------------------------------------------------------------------------


def _is_dvc_internal(path: str) -> bool:
    return ".dvc" in path.split("/")[:-1]


def select_files(files: Iterable[str]) -> tuple[list[str], list[str], set[str]]:
    """(`.dvc` files, `dvc.yaml` files, `dvc.lock` files) among repo-relative paths, sorted."""
    dvc_files: list[str] = []
    pipelines: list[str] = []
    locks: set[str] = set()
    for path in files:
        if _is_dvc_internal(path):
            continue
        base = posixpath.basename(path)
        if base == "dvc.yaml":
            pipelines.append(path)
        elif base == "dvc.lock":
            locks.add(path)
        elif base.endswith(".dvc") and base != ".dvc":
            dvc_files.append(path)
    return sorted(dvc_files), sorted(pipelines), locks


def read_dvc(root: Path, files: Sequence[str]) -> records.Contribution:
    """Read every `.dvc`, `dvc.yaml` and `dvc.lock` among `files` (repo-relative paths).

    Unreadable records become problems; nothing raises for bad input.
    """
    b = _Builder(root=root, files=frozenset(files))
    dvc_files, pipelines, locks = select_files(files)
    for relpath in dvc_files:
        try:
            _read_dvc_file(b, relpath)
        except FormatError as exc:
            b.problem(relpath, f"not read: {exc}")
    for relpath in pipelines:
        lock = posixpath.join(posixpath.dirname(relpath), "dvc.lock")
        try:
            _read_dvc_yaml(b, relpath, lock if lock in locks else None)
        except FormatError as exc:
            b.problem(relpath, f"not read: {exc}")
    return records.Contribution(
        declared=tuple(
            acc.freeze() for acc in b.declared.values() if not (acc.weak and b.present(acc.path))
        ),
        stages=tuple(b.stages),
        metrics=tuple(b.metrics),
        problems=tuple(b.problems),
    )
