"""Files that describe other things: hyperparameter files, library manifests and lockfiles, lineage
records (DVC, MLflow, training records, metrics) and the artifacts those records declare."""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.errors import FormatError
from unified_supply_chain.inspection.state import ScanState, file_stem
from unified_supply_chain.lineage.resolve import artifact_ref
from unified_supply_chain.records import (
    Artifact,
    ArtifactKind,
    Contribution,
    Library,
    MetricsSource,
    Problem,
)


def hyperparameter_artifact(st: ScanState, rel: str, fmt: str) -> Artifact | None:
    """A hyperparameter set from a params file or a composed Hydra primary (None: a Hydra file
    that is not a primary)."""
    from unified_supply_chain.sources import params as params_mod

    path = st.abs(rel)
    warnings: list[str] = []
    members: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    values: tuple[tuple[str, str], ...] = ()
    try:
        if fmt == "hydra-config":
            if not params_mod.is_hydra_primary(path):
                # Not a primary, or not YAML at all. A file directly in the config directory
                # would be a primary: if it does not parse, say so (group files, one level
                # down, are reported by the composition of the primary that uses them).
                parent = posixpath.basename(posixpath.dirname(rel)).lower()
                if parent in ("conf", "config", "configs"):
                    from unified_supply_chain.safeparse import load_yaml_file

                    try:
                        load_yaml_file(path)
                    except FormatError as exc:
                        st.problems.append(Problem(rel, f"unreadable hydra-config file: {exc}"))
                return None
            composed = params_mod.compose_hydra(st.root, rel)
            values, members, warnings = composed.params, composed.members, list(composed.warnings)
            sources = tuple(dict.fromkeys(composed.sources))
        else:
            values = params_mod.read_params_file(path, fmt)
    except FormatError as exc:
        warnings.append(f"unreadable {fmt} file: {exc}")
    except Exception as exc:  # noqa: BLE001 - a bug here must not lose the SBOM
        warnings.append(f"unreadable {fmt} file ({type(exc).__name__}: {exc})")
    entry = st.by_path.get(rel)
    return Artifact(
        kind=ArtifactKind.HYPERPARAMETERS,
        ref=artifact_ref(ArtifactKind.HYPERPARAMETERS, rel),
        name=rel,
        path=rel,
        format=fmt,
        size=entry.size if entry else None,
        params=values,
        files=tuple((m, st.by_path[m].size if m in st.by_path else 0, None) for m in members)
        if len(members) > 1
        else (),
        warnings=tuple(warnings),
        extra_properties=tuple((Prop.CONFIG_SOURCE.value, s) for s in sources),
    )


def read_library_sources(st: ScanState, rel: str, fmt: str) -> None:
    """Libraries of a manifest or lockfile; a root `pyproject.toml` also names the application."""
    path = st.abs(rel)
    try:
        if fmt == "requirements":
            from unified_supply_chain.sources.libraries.requirements import read_requirements

            res: Any = read_requirements(path, rel, st.root)
        elif fmt == "pyproject":
            from unified_supply_chain.sources.libraries.pyproject import read_pyproject

            res = read_pyproject(path, rel)
            if posixpath.dirname(rel) == "" and res.name:
                st.app_name, st.app_version = res.name, res.version
        else:
            from unified_supply_chain.sources.libraries.lockfiles import read_lockfile

            res = read_lockfile(path, rel, fmt)
    except FormatError as exc:
        st.problems.append(Problem(rel, f"unreadable {fmt}: {exc}"))
        return
    except ImportError:
        return
    except Exception as exc:  # noqa: BLE001 - a bug here must not lose the SBOM
        st.problems.append(Problem(rel, f"unreadable {fmt} ({type(exc).__name__}: {exc})"))
        return
    st.libraries.extend(res.libraries)
    st.problems.extend(res.problems)


def read_lineage_sources(st: ScanState) -> None:
    """Contributions of lineage records: DVC, MLflow, training logs (Lightning, Keras, W&B,
    TensorBoard), training records, lone metrics files."""
    all_paths = [f.path for f in st.files]
    fmts = set(st.formats.values())
    from unified_supply_chain.sources.lineage import dvc, mlflow, training_logs

    readers: tuple[
        tuple[frozenset[str], str, Callable[[Path, Sequence[str]], Contribution]], ...
    ] = (
        (frozenset({"dvc-file", "dvc-yaml", "dvc-lock"}), "dvc", dvc.read_dvc),
        (frozenset({"mlproject", "mlmodel"}), "mlflow", mlflow.read_mlflow),
        (frozenset(), "training logs", training_logs.read_training_logs),
    )
    for fmt_set, source_name, read in readers:
        if source_name == "training logs":
            if not any(training_logs.is_training_log(p) for p in all_paths):
                continue
        elif not fmts & fmt_set and not (
            source_name == "mlflow" and any("mlruns/" in p for p in all_paths)
        ):
            continue
        try:
            contribution = read(st.root, all_paths)
        except Exception as exc:  # noqa: BLE001 - a bug here must not lose the SBOM
            st.problems.append(
                Problem(
                    source_name, f"{source_name} records not read ({type(exc).__name__}: {exc})"
                )
            )
            continue
        st.contributions.append(contribution)
        st.problems.extend(contribution.problems)
        st.libraries.extend(contribution.libraries)
    from unified_supply_chain.sources.lineage.training_record import read_training_record

    # Metrics files a lineage record already names are read there, with their context.
    named_metrics = {m.path for c in st.contributions for m in c.metrics} | {
        p for c in st.contributions for s in c.stages for p in s.metrics_files
    }
    for rel, fmt in st.formats.items():
        if fmt == "training-record":
            try:
                st.contributions.append(read_training_record(st.abs(rel), rel))
            except FormatError as exc:
                st.problems.append(Problem(rel, f"unreadable training record: {exc}"))
        elif fmt == "metrics-json" and rel not in named_metrics:
            from unified_supply_chain.sources.lineage.metrics import read_metrics_file

            try:
                metrics = read_metrics_file(st.abs(rel), rel)
            except FormatError as exc:
                st.problems.append(Problem(rel, f"unreadable metrics file: {exc}"))
                continue
            if metrics:
                st.contributions.append(Contribution(metrics=(MetricsSource(rel, metrics),)))


def add_declared_present(st: ScanState) -> None:
    """Files a record declares as a model or dataset (DVC `artifacts:`, MLflow, training records)
    that the scan did not recognise by content still become artifacts, so they get hashed."""
    known = {a.path for a in st.artifacts if a.path is not None}
    known |= {f[0] for a in st.artifacts for f in a.files}
    for c in st.contributions:
        for d in c.declared:
            path = d.path
            if d.kind is None or path in known or path not in st.by_path:
                continue
            st.artifacts.append(
                Artifact(
                    kind=d.kind,
                    ref=artifact_ref(d.kind, path),
                    name=d.name or file_stem(path),
                    path=path,
                    format=st.formats.get(path) or posixpath.splitext(path)[1].lstrip(".") or None,
                    size=st.by_path[path].size,
                )
            )
            known.add(path)


def _unpinned_shadowed(libs: Sequence[Library]) -> set[str]:
    """purls of version-less entries (a manifest range) whose package a lockfile pins."""
    pinned = {(lib.ecosystem, lib.name.lower()) for lib in libs if lib.version}
    return {
        lib.purl for lib in libs if not lib.version and (lib.ecosystem, lib.name.lower()) in pinned
    }


def dedupe_libraries(libs: Sequence[Library]) -> tuple[Library, ...]:
    """One library per purl, sorted: hashes and edges joined, a lockfile pin replacing a range."""
    shadowed = _unpinned_shadowed(libs)
    direct_names = {(lib.ecosystem, lib.name.lower()) for lib in libs if lib.direct}
    out: dict[str, Library] = {}
    for lib in libs:
        if lib.purl in shadowed:
            continue
        if (lib.ecosystem, lib.name.lower()) in direct_names and not lib.direct:
            lib = dataclasses.replace(lib, direct=True)
        old = out.get(lib.purl)
        if old is None:
            out[lib.purl] = lib
            continue
        hashes = old.hashes + tuple(h for h in lib.hashes if h not in old.hashes)
        out[lib.purl] = dataclasses.replace(
            old,
            hashes=hashes,
            direct=old.direct or lib.direct,
            depends_on=tuple(dict.fromkeys(old.depends_on + lib.depends_on)),
            licenses=old.licenses or lib.licenses,
            scope="required"
            if "required" in (old.scope, lib.scope) or None in (old.scope, lib.scope)
            else old.scope,
        )
    return tuple(sorted(out.values(), key=lambda x: x.purl))
