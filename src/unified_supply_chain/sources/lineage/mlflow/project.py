"""`MLproject` files: entry-point parameter defaults as a hyperparameter set, and the libraries of
the `python_env` / `conda_env` files they name."""

from __future__ import annotations

import posixpath

from packaging.requirements import InvalidRequirement, Requirement

from unified_supply_chain import limits, records, safeparse
from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.errors import FormatError
from unified_supply_chain.redact import redact_text
from unified_supply_chain.sources.libraries.lockfiles import read_lockfile
from unified_supply_chain.sources.libraries.manifests import pypi_purl
from unified_supply_chain.sources.lineage.mlflow.state import (
    Collector,
    artifact_ref,
    inside,
    text_value,
)

#: Conda environment file names the scanner reads on its own (not read twice here).
_SCANNED_CONDA_NAMES = frozenset({"environment.yml", "environment.yaml", "conda.yaml", "conda.yml"})


def read_mlproject(out: Collector, relpath: str) -> None:
    """One `MLproject` as a hyperparameter set; the environments it names give libraries."""
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
                params.append((f"{ep_name}.{p_name}", text_value(spec["default"])))
            if len(params) >= limits.MAX_PARAMS:
                break
    for env_key in ("python_env", "conda_env"):
        env = data.get(env_key)
        if isinstance(env, str):
            props.append((Prop.MLFLOW_ENVIRONMENT.value, f"{env_key}:{env}"))
            env_rel = inside(base, env)
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
            ref=artifact_ref(records.ArtifactKind.HYPERPARAMETERS, relpath),
            name=str(name) if isinstance(name, (str, int)) else relpath,
            path=relpath,
            format="mlproject",
            params=tuple(params),
            extra_properties=tuple(props),
        )
    )


def _conda_env(out: Collector, env_rel: str) -> None:
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


def _python_env(out: Collector, env_rel: str) -> None:
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
