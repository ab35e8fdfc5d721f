"""MLflow records: `MLproject` files, `MLmodel` directories and committed `mlruns/` trees.

- An `MLproject` becomes one hyperparameter set (entry-point parameter defaults, keyed
  `<entry point>.<parameter>`); its `python_env` / `conda_env` files give software libraries.
- An `MLmodel` directory is declared as a model, with its flavors, run id and signature.
- A run under `mlruns/<experiment>/<run id>/` becomes a stage (params, start/end times, the models
  it logged) and a metrics source (the latest value of each metric) for those models.
Nothing is imported from MLflow and nothing is fetched; only the files in the checkout are read.
"""

from __future__ import annotations

import datetime as _dt
import posixpath
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from packaging.requirements import InvalidRequirement, Requirement

from unified_supply_chain import limits, records, safeparse
from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.errors import FormatError
from unified_supply_chain.redact import redact_text
from unified_supply_chain.sources.libraries.lockfiles import read_lockfile
from unified_supply_chain.sources.libraries.manifests import pypi_purl

#: Conda environment file names the scanner reads on its own (not read twice here).
_SCANNED_CONDA_NAMES = frozenset({"environment.yml", "environment.yaml", "conda.yaml", "conda.yml"})
#: Largest params/tags/meta file of a run read (MLflow caps param values at 6000 characters).
_SMALL_FILE = 1024 * 1024
_RUN_META = re.compile(r"^(?P<store>(?:.*/)?mlruns)/(?P<exp>[^/]+)/(?P<run>[^/]+)/meta\.yaml$")
_REGISTERED = re.compile(r"^(?:.*/)?mlruns/models/(?P<name>[^/]+)/version-(?P<v>[^/]+)/meta\.yaml$")


def _ref(kind: records.ArtifactKind, path: str) -> str:
    # Same shape as lineage.artifact_ref (not imported: lineage imports the inventory side).
    return f"{kind.value}:{path}"


@dataclass
class _Out:
    root: Path
    files: frozenset[str]
    declared: list[records.Declared] = field(default_factory=list)
    stages: list[records.Stage] = field(default_factory=list)
    metrics: list[records.MetricsSource] = field(default_factory=list)
    artifacts: list[records.Artifact] = field(default_factory=list)
    libraries: list[records.Library] = field(default_factory=list)
    problems: list[records.Problem] = field(default_factory=list)

    def problem(self, path: str, message: str) -> None:
        self.problems.append(records.Problem(path=path, message=message))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def _inside(base_dir: str, rel: str) -> str | None:
    """`rel` joined to `base_dir`, or None when it leaves the repository or is absolute."""
    if not rel or rel.startswith("/") or "://" in rel:
        return None
    joined = posixpath.normpath(posixpath.join(base_dir, rel))
    if joined in (".", "..") or joined.startswith("../"):
        return None
    return joined


# --- MLproject ----------------------------------------------------------------------------------


def _read_mlproject(out: _Out, relpath: str) -> None:
    data = safeparse.load_yaml_file(out.root / relpath)
    if not isinstance(data, dict):
        raise FormatError("not a mapping")
    base = posixpath.dirname(relpath)
    params: list[tuple[str, str]] = []
    props: list[tuple[str, str]] = []
    entry_points = data.get("entry_points")
    for ep_name, ep in entry_points.items() if isinstance(entry_points, dict) else []:
        if not isinstance(ep, dict):
            continue
        if isinstance(ep.get("command"), str):
            props.append((Prop.MLFLOW_ENTRY_POINT.key(ep_name), ep["command"]))
        parameters = ep.get("parameters")
        for p_name, spec in parameters.items() if isinstance(parameters, dict) else []:
            # `name: type` declares a parameter without a default: nothing to record as a value.
            if isinstance(spec, dict) and "default" in spec:
                params.append((f"{ep_name}.{p_name}", _text(spec["default"])))
            if len(params) >= limits.MAX_PARAMS:
                break
    for env_key in ("python_env", "conda_env"):
        env = data.get(env_key)
        if isinstance(env, str):
            props.append((Prop.MLFLOW_ENVIRONMENT.value, f"{env_key}:{env}"))
            env_rel = _inside(base, env)
            if env_rel is None:
                out.problem(
                    relpath, f"{env_key} {redact_text(env)[:120]!r} is not a repository path"
                )
            elif env_key == "conda_env":
                _conda_env(out, env_rel)
            else:
                _python_env(out, env_rel)
    docker = data.get("docker_env")
    if isinstance(docker, dict) and isinstance(docker.get("image"), str):
        props.append((Prop.MLFLOW_ENVIRONMENT.value, f"docker_env:{docker['image']}"))
    name = data.get("name")
    out.artifacts.append(
        records.Artifact(
            kind=records.ArtifactKind.HYPERPARAMETERS,
            ref=_ref(records.ArtifactKind.HYPERPARAMETERS, relpath),
            name=str(name) if isinstance(name, (str, int)) else relpath,
            path=relpath,
            format="mlproject",
            params=tuple(params),
            extra_properties=tuple(props),
        )
    )


def _conda_env(out: _Out, env_rel: str) -> None:
    if posixpath.basename(env_rel) in _SCANNED_CONDA_NAMES:
        return  # the scanner reads files with these names as conda environments already
    path = out.root / env_rel
    if env_rel not in out.files:
        out.problem(env_rel, "conda environment named by an MLproject is missing")
        return
    try:
        result = read_lockfile(path, env_rel, "conda-env")
    except FormatError as exc:
        out.problem(env_rel, f"conda environment not read: {exc}")
        return
    out.libraries.extend(result.libraries)
    out.problems.extend(result.problems)


def _python_env(out: _Out, env_rel: str) -> None:
    """`python_env.yaml`: `build_dependencies` and `dependencies` (pip requirement lines)."""
    path = out.root / env_rel
    if env_rel not in out.files:
        out.problem(env_rel, "python environment named by an MLproject is missing")
        return
    try:
        data = safeparse.load_yaml_file(path)
    except FormatError as exc:
        out.problem(env_rel, f"python environment not read: {exc}")
        return
    if not isinstance(data, dict):
        out.problem(env_rel, "python environment is not a mapping")
        return
    seen: set[str] = set()
    for key, scope in (("dependencies", "required"), ("build_dependencies", "optional")):
        lines = data.get(key)
        for line in lines if isinstance(lines, list) else []:
            if not isinstance(line, str) or line.strip().startswith("-"):
                continue  # `-r requirements.txt`: the requirements file is read on its own
            try:
                req = Requirement(line.strip())
            except InvalidRequirement:
                out.problem(env_rel, f"{redact_text(line)[:80]!r}: not a requirement")
                continue
            specs = list(req.specifier)
            version = (
                specs[0].version if len(specs) == 1 and specs[0].operator in ("==", "===") else None
            )
            try:
                purl = pypi_purl(req.name, version)
            except ValueError as exc:
                out.problem(env_rel, f"{req.name!r}: {exc}")
                continue
            if purl in seen:
                continue
            seen.add(purl)
            out.libraries.append(
                records.Library(
                    name=req.name, version=version, purl=purl, source=env_rel, scope=scope
                )
            )


# --- MLmodel ------------------------------------------------------------------------------------


def _signature_items(raw: Any) -> list[str]:
    """MLflow signature inputs/outputs (a JSON string inside YAML) as short text descriptions."""
    if isinstance(raw, str):
        try:
            raw = safeparse.loads_json(raw)
        except FormatError:
            return []
    items: list[str] = []
    for col in raw if isinstance(raw, list) else []:
        if not isinstance(col, dict):
            continue
        kind = col.get("type")
        spec = col.get("tensor-spec")
        if kind == "tensor" and isinstance(spec, dict):
            desc = f"tensor {spec.get('dtype', '?')} {list(spec.get('shape') or [])}"
        else:
            desc = str(kind) if kind is not None else "unknown"
        name = col.get("name")
        items.append(f"{name}: {desc}" if isinstance(name, str) else desc)
    return items


@dataclass(frozen=True)
class _Model:
    directory: str
    run_id: str | None


def _read_mlmodel(out: _Out, relpath: str, registered: dict[str, tuple[str, str]]) -> _Model:
    data = safeparse.load_yaml_file(out.root / relpath)
    if not isinstance(data, dict):
        raise FormatError("not a mapping")
    directory = posixpath.dirname(relpath)
    props: list[tuple[str, str]] = []
    flavors = data.get("flavors")
    if isinstance(flavors, dict):
        props.append((Prop.MLFLOW_FLAVORS.value, ",".join(str(f) for f in flavors)))
        for flavor, settings in flavors.items():
            if not isinstance(settings, dict):
                continue
            for key, value in settings.items():
                if key == "loader_module" and isinstance(value, str):
                    props.append((Prop.MLFLOW_LOADER_MODULE.value, value))
                elif key == "python_version" and isinstance(value, (str, float, int)):
                    props.append((Prop.MLFLOW_PYTHON_VERSION.value, str(value)))
                elif isinstance(value, (str, int, float, bool)):
                    props.append((Prop.MLFLOW_FLAVOR.key(f"{flavor}:{key}"), _text(value)))
    run_id = data.get("run_id") if isinstance(data.get("run_id"), str) else None
    for key, prop in (
        ("run_id", Prop.MLFLOW_RUN_ID.value),
        ("model_uuid", Prop.MLFLOW_MODEL_UUID.value),
        ("mlflow_version", Prop.MLFLOW_VERSION.value),
        ("utc_time_created", Prop.MLFLOW_CREATED.value),
        ("artifact_path", Prop.MLFLOW_ARTIFACT_PATH.value),
    ):
        if isinstance(data.get(key), (str, int, float)) and not isinstance(data.get(key), bool):
            props.append((prop, str(data[key])))
    metadata: dict[str, object] = {}
    signature = data.get("signature")
    if isinstance(signature, dict):
        for side in ("inputs", "outputs"):
            items = _signature_items(signature.get(side))
            if items:
                metadata[side] = items
    name: str | None = None
    if run_id is not None and run_id in registered:
        name, version = registered[run_id]
        props.append((Prop.MLFLOW_REGISTERED_VERSION.value, version))
    size = data.get("model_size_bytes")
    out.declared.append(
        records.Declared(
            path=directory,
            kind=records.ArtifactKind.MODEL,
            size=size if isinstance(size, int) and not isinstance(size, bool) else None,
            source=relpath,
            name=name,
            properties=tuple(props),
            metadata=metadata,
        )
    )
    return _Model(directory=directory, run_id=run_id)


def _registered_models(out: _Out, paths: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Run id -> (registered model name, version) from `mlruns/models/<name>/version-N/`."""
    found: dict[str, tuple[str, str]] = {}
    for rel in paths:
        m = _REGISTERED.match(rel)
        if m is None:
            continue
        try:
            data = safeparse.load_yaml_file(out.root / rel, _SMALL_FILE)
        except FormatError as exc:
            out.problem(rel, f"registered model version not read: {exc}")
            continue
        if isinstance(data, dict) and isinstance(data.get("run_id"), str):
            name = data.get("name") if isinstance(data.get("name"), str) else m.group("name")
            version = _text(data.get("version", m.group("v")))
            found.setdefault(data["run_id"], (str(name), version))
    return found


# --- mlruns -------------------------------------------------------------------------------------


def _iso_ms(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        moment = _dt.datetime.fromtimestamp(value / 1000, tz=_dt.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _metric_lines(fh: TextIO) -> Iterator[str]:
    """Lines of a metric history, each cut to 512 characters (a huge line is never held whole)."""
    while True:
        line = fh.readline(512)
        if not line:
            return
        if not line.endswith("\n"):
            while True:  # skip the rest of an over-long line
                rest = fh.readline(65536)
                if not rest or rest.endswith("\n"):
                    break
        yield line


def _latest_metric(path: Path) -> str | None:
    """Value of the latest point ("timestamp value step" lines; highest step, then time)."""
    best: tuple[int, int, int] | None = None
    value: str | None = None
    try:
        with path.open("r", encoding="utf-8", errors="replace") as fh:
            for index, line in enumerate(_metric_lines(fh)):
                if index >= limits.MAX_MLFLOW_METRIC_LINES:
                    raise FormatError(f"more than {limits.MAX_MLFLOW_METRIC_LINES} points")
                parts = line.split()
                if len(parts) < 2:
                    continue
                try:
                    stamp = int(parts[0])
                    step = int(parts[2]) if len(parts) > 2 else 0
                    number = float(parts[1])
                except ValueError:
                    continue
                if number != number or number in (float("inf"), float("-inf")):
                    continue  # NaN/inf points are not a result
                key = (step, stamp, index)
                if best is None or key > best:
                    best, value = key, parts[1]
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}") from exc
    return value


def _small_text(path: Path) -> str:
    return safeparse.read_text_bounded(path, _SMALL_FILE).strip()


def _read_run(
    out: _Out,
    meta_rel: str,
    run_files: Sequence[str],
    models: list[_Model],
    projects: Sequence[str],
) -> None:
    run_dir = posixpath.dirname(meta_rel)
    meta = safeparse.load_yaml_file(out.root / meta_rel, _SMALL_FILE)
    if not isinstance(meta, dict):
        raise FormatError("run meta.yaml is not a mapping")
    if meta.get("lifecycle_stage") == "deleted":
        return
    run_id = str(meta.get("run_id") or meta.get("run_uuid") or posixpath.basename(run_dir))

    params: list[tuple[str, str]] = []
    tags: dict[str, str] = {}
    metric_paths: list[tuple[str, str]] = []
    for rel in run_files:
        sub = rel[len(run_dir) + 1 :]
        section, _, key = sub.partition("/")
        if not key:
            continue
        if section in ("params", "tags"):
            try:
                value = _small_text(out.root / rel)
            except FormatError as exc:
                out.problem(rel, f"not read: {exc}")
                continue
            if section == "tags":
                tags[key] = value
            elif len(params) < limits.MAX_PARAMS:
                params.append((key, value))
        elif section == "metrics":
            metric_paths.append((key, rel))

    metrics: list[records.Metric] = []
    for key, rel in metric_paths:
        try:
            latest = _latest_metric(out.root / rel)
        except FormatError as exc:
            out.problem(rel, f"metric not read: {exc}")
            continue
        if latest is not None and len(metrics) < limits.MAX_METRICS:
            metrics.append(records.Metric(type=key, value=latest, source=rel))

    # Models the run made: MLmodel directories with its run id, here or anywhere in the repository.
    outputs = [m.directory for m in models if m.run_id == run_id]
    outputs += [
        m.directory
        for m in models
        if m.directory.startswith(run_dir + "/artifacts/") and m.directory not in outputs
    ]
    inputs = _dataset_inputs(out, run_dir, run_files)

    name = tags.get("mlflow.runName") or meta.get("run_name") or run_id
    commit = tags.get("mlflow.source.git.commit")
    params_files: tuple[str, ...] = ()
    if "mlflow.project.entryPoint" in tags and projects:
        # A project run: its parameters come from the MLproject (the one at the top if several).
        params_files = (min(projects, key=lambda p: (p.count("/"), p)),)
    out.stages.append(
        records.Stage(
            name=str(name),
            command=tags.get("mlflow.project.entryPoint"),
            inputs=tuple(inputs),
            outputs=tuple(outputs),
            params=tuple(params),
            params_files=params_files,
            source=meta_rel,
            time_start=_iso_ms(meta.get("start_time")),
            time_end=_iso_ms(meta.get("end_time")),
            run=records.RunContext(commit=commit) if commit else None,
        )
    )
    if metrics:
        out.metrics.append(
            records.MetricsSource(
                path=f"{run_dir}/metrics", metrics=tuple(metrics), for_paths=tuple(outputs)
            )
        )


def _dataset_inputs(out: _Out, run_dir: str, run_files: Sequence[str]) -> list[str]:
    """Repository paths of the datasets a run logged as inputs (`inputs/` + experiment datasets)."""
    exp_dir = posixpath.dirname(run_dir)
    found: list[str] = []
    prefix = f"{run_dir}/inputs/"
    metas = [f for f in run_files if f.startswith(prefix) and f.count("/", len(prefix)) == 1]
    for meta_rel in [m for m in metas if m.endswith("/meta.yaml")][: limits.MAX_MLFLOW_RUNS]:
        try:
            meta = safeparse.load_yaml_file(out.root / meta_rel, _SMALL_FILE)
        except FormatError:
            continue
        if not isinstance(meta, dict) or meta.get("source_type") != "DATASET":
            continue
        dataset_id = meta.get("source_id")
        if not isinstance(dataset_id, str) or "/" in dataset_id or dataset_id in ("", ".", ".."):
            continue
        ds_rel = f"{exp_dir}/datasets/{dataset_id}/meta.yaml"
        if ds_rel not in out.files:
            continue
        try:
            ds = safeparse.load_yaml_file(out.root / ds_rel, _SMALL_FILE)
        except FormatError:
            continue
        source = ds.get("source") if isinstance(ds, dict) else None
        if isinstance(source, str):
            try:
                source = safeparse.loads_json(source)
            except FormatError:
                source = None
        uri = source.get("uri") or source.get("path") if isinstance(source, dict) else None
        path = _repo_path_of_uri(out, uri)
        if path is not None and path not in found:
            found.append(path)
    return found


def _repo_path_of_uri(out: _Out, uri: Any) -> str | None:
    """A dataset URI as a repository path: relative paths as they are; absolute ones (often from
    the machine that trained) by the longest repository file or directory they end with."""
    if not isinstance(uri, str) or not uri or len(uri) > 4096:
        return None
    if uri.startswith("file://"):
        uri = uri[len("file://") :]
    if "://" in uri:
        return None
    if not uri.startswith("/"):
        return _inside("", uri)
    uri = posixpath.normpath(uri)
    best: str | None = None
    for f in out.files:
        for candidate in (f, posixpath.dirname(f)):
            longer = best is None or len(candidate) > len(best)
            if candidate and longer and uri.endswith("/" + candidate):
                best = candidate
    return best


def _run_of(rel: str, runs: dict[str, list[str]]) -> str | None:
    """The run directory `rel` is a params/tags/metrics/inputs file of (keys may contain "/")."""
    for marker in ("/params/", "/tags/", "/metrics/", "/inputs/"):
        idx = rel.find(marker)
        while idx > 0:
            if rel[:idx] in runs:
                return rel[:idx]
            idx = rel.find(marker, idx + 1)
    return None


# --- entry point --------------------------------------------------------------------------------


def read_mlflow(root: Path, files: Sequence[str]) -> records.Contribution:
    """Read every `MLproject`, `MLmodel` and committed MLflow run among `files`.

    `files` are repo-relative paths. Unreadable records become problems; nothing raises for bad
    input.
    """
    out = _Out(root=root, files=frozenset(files))
    ordered = sorted(files)
    projects = [p for p in ordered if posixpath.basename(p) == "MLproject"]
    for rel in projects:
        try:
            _read_mlproject(out, rel)
        except FormatError as exc:
            out.problem(rel, f"MLproject not read: {exc}")

    registered = _registered_models(out, ordered)
    models: list[_Model] = []
    for rel in ordered:
        if posixpath.basename(rel) != "MLmodel" or posixpath.dirname(rel) == "":
            continue
        try:
            models.append(_read_mlmodel(out, rel, registered))
        except FormatError as exc:
            out.problem(rel, f"MLmodel not read: {exc}")

    runs: dict[str, list[str]] = {}
    metas: list[str] = []
    for rel in ordered:
        m = _RUN_META.match(rel)
        if m and m.group("exp") not in ("models", ".trash") and m.group("run") != "datasets":
            metas.append(rel)
    for meta_rel in metas[: limits.MAX_MLFLOW_RUNS]:
        runs[posixpath.dirname(meta_rel)] = []
    if len(metas) > limits.MAX_MLFLOW_RUNS:
        out.problem(metas[0], f"more than {limits.MAX_MLFLOW_RUNS} MLflow runs; the rest skipped")
    for rel in ordered:
        run_dir = _run_of(rel, runs)
        if run_dir is not None:
            runs[run_dir].append(rel)
    for meta_rel in metas[: limits.MAX_MLFLOW_RUNS]:
        try:
            _read_run(out, meta_rel, runs[posixpath.dirname(meta_rel)], models, projects)
        except FormatError as exc:
            out.problem(meta_rel, f"MLflow run not read: {exc}")

    return records.Contribution(
        declared=tuple(out.declared),
        stages=tuple(out.stages),
        metrics=tuple(out.metrics),
        artifacts=tuple(out.artifacts),
        libraries=tuple(out.libraries),
        problems=tuple(out.problems),
    )
