"""One pass over a repository: discover, classify, inspect, hash, resolve lineage -> Inventory.

Only this module decides what a classified file becomes (model, dataset, hyperparameter set,
library, lineage record); the readers it calls only describe files.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import posixpath
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from unified_supply_chain import limits
from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.discover.walk import walk
from unified_supply_chain.errors import FormatError, LimitExceeded, UsageError
from unified_supply_chain.formats import Kind, Role, registry
from unified_supply_chain.formats import resolve as resolve_hook
from unified_supply_chain.hashing.digests import HashCacheProtocol, HashResult, hash_files
from unified_supply_chain.lineage.resolve import Resolved, artifact_ref, resolve
from unified_supply_chain.options import ScanOptions
from unified_supply_chain.records import (
    Artifact,
    ArtifactKind,
    Contribution,
    FileEntry,
    Hash,
    HeaderInfo,
    Inventory,
    Library,
    MetricsSource,
    Problem,
    Storage,
)

_MODEL_CARD_NAMES = ("README.md", "MODEL_CARD.md", "model_card.md", "MODEL_CARD.MD", "readme.md")


@contextlib.contextmanager
def time_limit(seconds: float, what: str) -> Iterator[None]:
    """Raise LimitExceeded in the main thread when a reader runs longer than `seconds`."""
    usable = (
        seconds > 0
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise LimitExceeded(f"{what} took longer than {seconds:g} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def read_header(path: Path, fmt: str) -> tuple[HeaderInfo | None, str | None]:
    """Run the format's reader; a bad file gives (None, warning), never an exception."""
    spec = registry().get(fmt)
    if spec is None or spec.reader is None:
        return HeaderInfo(format=fmt), None
    try:
        with time_limit(limits.PER_FILE_SECONDS, f"reading the {fmt} header"):
            return spec.read(path), None
    except FormatError as exc:
        return None, f"unreadable {fmt} file: {exc}"
    except (OSError, MemoryError, RecursionError) as exc:  # filesystem faults, defensive caps
        return None, f"unreadable {fmt} file: {type(exc).__name__}: {exc}"
    except Exception as exc:  # noqa: BLE001 - a bug here must not lose the SBOM
        return None, f"unreadable {fmt} file (reader error {type(exc).__name__}: {exc})"


def _sniff(path: str) -> tuple[bytes | None, str | None]:
    try:
        fd = os.open(
            path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        )
    except OSError as exc:
        return None, f"cannot open: {exc.strerror or exc}"
    try:
        return os.read(fd, limits.SNIFF_BYTES), None
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or exc}"
    finally:
        os.close(fd)


def _kind_of(fmt: str, relpath: str, header: HeaderInfo | None) -> ArtifactKind | None:
    spec = registry().get(fmt)
    return spec.kind_for(relpath, header) if spec is not None else None


def _stem(relpath: str) -> str:
    base = posixpath.basename(relpath)
    return base.split(".")[0] if not base.startswith(".") else base


def _model_name(path: str) -> str:
    """A model file named like `model.safetensors` is better named after its directory."""
    stem = _stem(path)
    generic = {"model", "weights", "pytorch_model", "tf_model", "saved_model", "checkpoint"}
    parent = posixpath.basename(posixpath.dirname(path))
    if stem.lower() in generic and parent:
        return (
            parent
            if parent.lower() not in {"model", "models"}
            else (posixpath.basename(posixpath.dirname(posixpath.dirname(path))) or stem)
        )
    return stem


@dataclasses.dataclass
class _State:
    root: Path
    files: tuple[FileEntry, ...]
    by_path: dict[str, FileEntry]
    formats: dict[str, str]
    problems: list[Problem]
    artifacts: list[Artifact]
    libraries: list[Library]
    contributions: list[Contribution]
    app_name: str | None = None
    app_version: str | None = None

    def abs(self, rel: str) -> Path:
        return self.root / rel


def _group_directories(st: _State) -> dict[str, tuple[str, str]]:
    """Multi-file models: member path -> (model directory, format), by the registry's
    directory models (SavedModel, MLflow, Hugging Face, ...); the first that claims a directory
    wins, and the shallowest directory claims a file first."""
    groups: dict[str, tuple[str, str]] = {}
    dirs: dict[str, set[str]] = {}
    for f in st.files:
        d = posixpath.dirname(f.path)
        dirs.setdefault(d, set()).add(posixpath.basename(f.path))
    roots: list[tuple[str, str]] = []
    kinds = registry().directory_models
    for d, names in dirs.items():
        for spec in kinds:
            by_suffix = spec.dir_suffix is not None and d.lower().endswith(spec.dir_suffix)
            if not by_suffix and not names.intersection(spec.markers):
                continue
            if spec.accept is not None and not resolve_hook(spec.accept)(names):
                continue
            roots.append((d, spec.id))
            break
    recursive = {spec.id: spec.recursive for spec in kinds}
    for d, fmt in sorted(roots, key=lambda r: len(r[0])):
        prefix = d + "/" if d else ""
        for f in st.files:
            inside = f.path.startswith(prefix)
            direct = posixpath.dirname(f.path) == d
            if (inside if recursive[fmt] else direct) and f.path not in groups:
                groups[f.path] = (d, fmt)
    return groups


def _hyperparameter_artifact(st: _State, rel: str, fmt: str) -> Artifact | None:
    from unified_supply_chain.sources import params as params_mod

    path = st.abs(rel)
    warnings: list[str] = []
    members: tuple[str, ...] = ()
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
    )


def _library_sources(st: _State, rel: str, fmt: str) -> None:
    path = st.abs(rel)
    try:
        if fmt == "requirements":
            from unified_supply_chain.sources.libraries.manifests import read_requirements

            res: Any = read_requirements(path, rel, st.root)
        elif fmt == "pyproject":
            from unified_supply_chain.sources.libraries.manifests import read_pyproject

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


def _lineage_sources(st: _State) -> None:
    all_paths = [f.path for f in st.files]
    fmts = set(st.formats.values())
    from unified_supply_chain.sources.lineage import dvc, mlflow

    readers: tuple[
        tuple[frozenset[str], str, Callable[[Path, Sequence[str]], Contribution]], ...
    ] = (
        (frozenset({"dvc-file", "dvc-yaml", "dvc-lock"}), "dvc", dvc.read_dvc),
        (frozenset({"mlproject", "mlmodel"}), "mlflow", mlflow.read_mlflow),
    )
    for fmt_set, source_name, read in readers:
        if not fmts & fmt_set and not (
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


def _descriptor_datasets(st: _State, rel: str) -> None:
    """Dataset descriptors: remote datasets, or metadata (licence, description) of local files."""
    try:
        from unified_supply_chain.sources.cards.descriptors import read_dataset_descriptor
    except ImportError:
        return
    try:
        descriptors = read_dataset_descriptor(st.abs(rel))
    except FormatError as exc:
        st.problems.append(Problem(rel, f"unreadable dataset descriptor: {exc}"))
        return
    directory = posixpath.dirname(rel)
    prefix = directory + "/" if directory else ""
    for d in descriptors:
        urls = tuple(d.urls)
        if not urls:
            # Describes the data files beside it: lend them its licence and description.
            for i, a in enumerate(st.artifacts):
                if (
                    a.kind is ArtifactKind.DATASET
                    and a.path
                    and a.path.startswith(prefix)
                    and a.storage is not Storage.REMOTE
                ):
                    st.artifacts[i] = dataclasses.replace(
                        a,
                        licenses=a.licenses or ((d.license,) if d.license else ()),
                        description=a.description or d.description,
                        extra_properties=a.extra_properties
                        + ((Prop.DESCRIPTOR.value, rel),)
                        + (((Prop.DATASET_NAME.value, d.name),) if d.name else ()),
                    )
            continue
        ref = f"dataset:{rel}#{d.name}"
        st.artifacts.append(
            Artifact(
                kind=ArtifactKind.DATASET,
                ref=ref,
                name=d.name,
                path=rel,
                format="dataset-descriptor",
                url=urls[0],
                storage=Storage.REMOTE,
                content_present=False,
                licenses=(d.license,) if d.license else (),
                description=d.description,
                hashes=(Hash("SHA-256", d.sha256.lower(), "descriptor"),) if d.sha256 else (),
                extra_properties=tuple((Prop.URL.value, u) for u in urls[1:])
                + (((Prop.CLASSIFICATION.value, d.classification),) if d.classification else ()),
            )
        )


def _apply_model_cards(st: _State) -> None:
    from unified_supply_chain.sources.cards.huggingface import read_model_card

    models_by_dir: dict[str, list[int]] = {}
    for i, a in enumerate(st.artifacts):
        if a.kind is ArtifactKind.MODEL and a.path is not None and a.content_present is not None:
            d = a.path if a.files else posixpath.dirname(a.path)
            models_by_dir.setdefault(d, []).append(i)
    for d, idxs in models_by_dir.items():
        card_rel = next(
            (
                f"{d}/{n}" if d else n
                for n in _MODEL_CARD_NAMES
                if (f"{d}/{n}" if d else n) in st.by_path
            ),
            None,
        )
        if card_rel is None:
            continue
        try:
            card = read_model_card(st.abs(card_rel), card_rel)
        except FormatError as exc:
            for i in idxs:
                a = st.artifacts[i]
                st.artifacts[i] = dataclasses.replace(
                    a, warnings=a.warnings + (f"model card {card_rel} unreadable: {exc}",)
                )
            continue
        except Exception as exc:  # noqa: BLE001 - a bug here must not lose the SBOM
            st.problems.append(Problem(card_rel, f"model card not read ({type(exc).__name__})"))
            continue
        if not card.has_front_matter and not card.considerations:
            continue
        for i in idxs:
            a = st.artifacts[i]
            st.artifacts[i] = dataclasses.replace(
                a,
                licenses=a.licenses or card.licenses or ((card.license,) if card.license else ()),
                dataset_names=tuple(dict.fromkeys(a.dataset_names + card.datasets)),
                task=a.task or card.task,
                metrics=a.metrics
                + tuple(dataclasses.replace(m, source=m.source or card_rel) for m in card.metrics),
                considerations={**card.considerations, **a.considerations},
                description=a.description or card.description,
                name=card.model_name or a.name if not a.files else a.name,
                extra_properties=a.extra_properties
                + ((Prop.MODEL_CARD.value, card_rel),)
                + tuple((Prop.BASE_MODEL.value, b) for b in card.base_model),
                warnings=a.warnings + tuple(f"model card: {w}" for w in card.warnings),
            )


def _apply_dataset_cards(st: _State) -> None:
    """A card (README.md with front matter) in a directory that holds datasets and no model is a
    dataset card: its licence and description reach the data files under it that have none."""
    from unified_supply_chain.sources.cards.huggingface import read_model_card

    model_dirs = {
        posixpath.dirname(a.path) if not a.files else a.path
        for a in st.artifacts
        if a.kind is ArtifactKind.MODEL and a.path is not None
    }
    for rel, fmt in st.formats.items():
        directory = posixpath.dirname(rel)
        if fmt != "model-card" or directory in model_dirs:
            continue
        prefix = directory + "/" if directory else ""
        idxs = [
            i
            for i, a in enumerate(st.artifacts)
            if a.kind is ArtifactKind.DATASET
            and a.path is not None
            and a.path.startswith(prefix)
            and a.storage is not Storage.REMOTE
            and not a.licenses
        ]
        if not idxs or not directory:
            continue  # a repository's own README is not a dataset card
        try:
            card = read_model_card(st.abs(rel), rel)
        except FormatError:
            continue
        licenses = card.licenses or ((card.license,) if card.license else ())
        if not card.has_front_matter or not licenses:
            continue
        for i in idxs:
            a = st.artifacts[i]
            st.artifacts[i] = dataclasses.replace(
                a,
                licenses=licenses,
                description=a.description or card.description,
                extra_properties=a.extra_properties + ((Prop.DESCRIPTOR.value, rel),),
            )


def _is_weight_file(st: _State, rel: str) -> bool:
    """A readable model (or pointer) file: a candidate main file of a directory model."""
    spec = registry().get(st.formats.get(rel))
    return spec is not None and spec.reader is not None and spec.kind in (Kind.MODEL, Kind.POINTER)


def _is_shard_format(fmt: str | None) -> bool:
    spec = registry().get(fmt)
    return spec is not None and spec.shards


def _has_safety_hook(fmt: str | None) -> bool:
    spec = registry().get(fmt)
    return spec is not None and spec.safety is not None


def _security(st: _State, a: Artifact) -> Artifact:
    if not _has_safety_hook(a.format) and not a.files:
        return a
    findings = list(a.findings)
    targets = (
        [(a.path, a.format)]
        if not a.files
        else [
            (f[0], st.formats.get(f[0])) for f in a.files if _has_safety_hook(st.formats.get(f[0]))
        ]
    )
    for rel, fmt in targets:
        spec = registry().get(fmt)
        if rel is None or fmt is None or spec is None or spec.safety is None:
            continue
        if rel not in st.by_path:
            continue
        try:
            findings.extend(resolve_hook(spec.safety)(st.abs(rel), rel, fmt))
        except Exception as exc:  # noqa: BLE001 - a bug here must not lose the SBOM
            st.problems.append(Problem(rel, f"safety scan failed ({type(exc).__name__})"))
    return dataclasses.replace(a, findings=tuple(findings)) if findings else a


@dataclasses.dataclass(frozen=True)
class ScanResult:
    """What one scan found: the inventory and how lineage was resolved."""

    inventory: Inventory
    """Artifacts, libraries, edges, tasks, problems."""
    lineage: Resolved
    """Per-model hyperparameters and datasets for model cards, and the runs of tasks."""


def scan(
    options: ScanOptions,
    *,
    cache: HashCacheProtocol | None = None,
    on_hashed: Callable[[HashResult], None] | None = None,
) -> ScanResult:
    """Inventory of one repository."""
    root = options.root
    if not root.exists():
        raise UsageError(f"path does not exist: {root}")
    if not root.is_dir():
        raise UsageError(f"path is not a directory: {root}")
    if not os.access(root, os.R_OK | os.X_OK):
        raise UsageError(f"path is not readable: {root}")
    walked = walk(root, include=options.include, exclude=options.exclude)
    st = _State(
        root, walked.files, {f.path: f for f in walked.files}, {}, list(walked.problems), [], [], []
    )
    from unified_supply_chain.discover.classify import classify

    unreadable: dict[str, str] = {}
    for f in walked.files:
        head, err = _sniff(os.path.join(root, f.path))
        fmt = classify(head or b"", f.path)
        if err is not None:
            if fmt is not None:
                unreadable[f.path] = err
            else:
                st.problems.append(Problem(f.path, err))
        if fmt is not None:
            st.formats[f.path] = fmt
    for f in walked.files:
        try:
            f.path.encode("utf-8")
        except UnicodeEncodeError:
            st.problems.append(
                Problem(f.path, "file name is not valid UTF-8; shown with replacement characters")
            )

    groups = _group_directories(st)
    grouped: dict[str, list[str]] = {}
    for member, (d, _) in groups.items():
        grouped.setdefault(d, []).append(member)

    # Hydra: compose primaries shallowest first; files they pull in are not sets of their own.
    hydra_done: set[str] = set()
    hydra = sorted(
        (r for r, f in st.formats.items() if f == "hydra-config" and r not in groups),
        key=lambda r: (r.count("/"), r),
    )
    for rel in hydra:
        if rel in hydra_done:
            continue
        hp = _hyperparameter_artifact(st, rel, "hydra-config")
        if hp is not None:
            st.artifacts.append(hp)
            hydra_done.update(f[0] for f in hp.files)
        hydra_done.add(rel)

    # Single-file artifacts.
    for rel, fmt in st.formats.items():
        if rel in groups or rel in hydra_done:
            continue
        entry = st.by_path[rel]
        if rel in unreadable:
            kind = _kind_of(fmt, rel, None)
            if kind is not None:
                st.artifacts.append(
                    Artifact(
                        kind=kind,
                        ref=artifact_ref(kind, rel),
                        name=_stem(rel),
                        path=rel,
                        format=fmt,
                        size=entry.size,
                        warnings=(unreadable[rel],),
                    )
                )
            else:
                st.problems.append(Problem(rel, unreadable[rel]))
            continue
        if fmt == "git-lfs-pointer":
            st.artifacts.append(_lfs_artifact(st, rel))
            continue
        spec = registry()[fmt]
        if spec.role is Role.HYPERPARAMETERS:
            if fmt == "hf-config":
                continue  # only inside a Hugging Face model directory (handled with the group)
            hp = _hyperparameter_artifact(st, rel, fmt)
            if hp is not None:
                st.artifacts.append(hp)
            continue
        if spec.role is Role.LIBRARIES:
            _library_sources(st, rel, fmt)
            continue
        header, warning = read_header(st.abs(rel), fmt) if spec.reader else (None, None)
        kind = _kind_of(fmt, rel, header)
        if kind is None:
            continue
        st.artifacts.append(
            Artifact(
                kind=kind,
                ref=artifact_ref(kind, rel),
                name=_model_name(rel) if kind is ArtifactKind.MODEL else _stem(rel),
                path=rel,
                format=fmt,
                size=entry.size,
                header=header,
                licenses=(header.license,) if header and header.license else (),
                warnings=(warning,) if warning else (),
            )
        )

    # Multi-file models.
    for d, members in sorted(grouped.items()):
        st.artifacts.append(_group_artifact(st, d, groups[members[0]][1], sorted(members)))

    for rel, fmt in st.formats.items():
        if fmt == "dataset-descriptor" and rel not in groups:
            _descriptor_datasets(st, rel)
    _apply_model_cards(st)
    _apply_dataset_cards(st)
    _lineage_sources(st)
    _declared_present(st)

    # Hash every artifact file whose content is here.
    to_hash: list[str] = []
    for a in st.artifacts:
        if not a.content_present or a.storage is Storage.REMOTE:
            continue
        if a.files:
            to_hash.extend(f[0] for f in a.files if f[0] in st.by_path)
        elif a.path in st.by_path and a.path not in unreadable:
            to_hash.append(a.path)
    to_hash = list(dict.fromkeys(to_hash))
    hashed = hash_files(root, to_hash, jobs=options.jobs, cache=cache, on_done=on_hashed)
    bytes_hashed = sum(r.size for r in hashed.values() if not r.cached)
    st.artifacts = [_with_hashes(a, hashed) for a in st.artifacts]
    st.artifacts = [_security(st, a) for a in st.artifacts]

    st.artifacts = _verify_declared_md5(st)
    resolved = resolve(st.artifacts, st.contributions, frozenset(st.by_path))
    libraries = _dedupe_libraries(st.libraries)
    root_name = options.app_name or st.app_name or root.resolve().name or "application"
    inventory = Inventory(
        root_name=root_name,
        root_version=options.app_version or st.app_version,
        artifacts=resolved.artifacts,
        libraries=libraries,
        edges=resolved.edges,
        tasks=resolved.tasks,
        problems=_capped(st.problems),
        files_seen=len(walked.files),
        bytes_hashed=bytes_hashed,
    )
    return ScanResult(inventory, resolved)


def _lfs_artifact(st: _State, rel: str) -> Artifact:
    from unified_supply_chain.discover.classify import guess_kind_from_name

    header, warning = read_header(st.abs(rel), "git-lfs-pointer")
    guess = guess_kind_from_name(rel)
    kind = ArtifactKind.MODEL if guess == "model" else ArtifactKind.DATASET
    hashes: tuple[Hash, ...] = ()
    size = None
    if header is not None:
        oid = header.properties.get("lfs.oid")
        if oid:
            hashes = (Hash("SHA-256", oid, "git-lfs-pointer"),)
        try:
            size = int(header.properties.get("lfs.size", ""))
        except ValueError:
            size = None
    return Artifact(
        kind=kind,
        ref=artifact_ref(kind, rel),
        name=_model_name(rel) if kind is ArtifactKind.MODEL else _stem(rel),
        path=rel,
        format=posixpath.splitext(rel)[1].lstrip(".").lower() or None,
        size=size,
        hashes=hashes,
        storage=Storage.GIT_LFS_POINTER,
        content_present=False,
        header=header,
        # A pointer is not a fault of the file: `usc:content-present: false` says it, and one
        # line for the whole run (commands/sbom.py) says how to fetch the content.
        warnings=(warning,) if warning else (),
    )


def _group_artifact(st: _State, d: str, fmt: str, members: list[str]) -> Artifact:
    """One model component for a directory model (SavedModel, MLflow model, Hugging Face)."""
    warnings: list[str] = []
    header: HeaderInfo | None = None
    props: dict[str, str] = {}
    arch = family = task = None
    licenses: tuple[str, ...] = ()
    weights = [m for m in members if _is_weight_file(st, m)]
    main = None
    if fmt == "tf-savedmodel":
        main = next((m for m in members if posixpath.basename(m) == "saved_model.pb"), None)
    else:
        main = next((m for m in weights if st.formats.get(m) == "safetensors"), None) or (
            weights[0] if weights else None
        )
    if main is not None and main not in ("",):
        header, warning = read_header(st.abs(main), st.formats.get(main, fmt))
        if warning:
            warnings.append(f"{main}: {warning}")
    # Shards of one model: counts are summed and dtypes joined over every shard of the main
    # file's format, so the header describes the whole model, like the parameter count.
    param_total = 0
    sums = {"tensor_count": 0, "tensor_bytes": 0}
    dtypes: set[str] = set()
    main_fmt = st.formats.get(main or "")
    for m in weights:
        if m == main:
            h: HeaderInfo | None = header
        elif _is_shard_format(st.formats.get(m)):
            h, w = read_header(st.abs(m), st.formats[m])
            if w:
                warnings.append(f"{m}: {w}")
        else:
            continue
        if h is None:
            continue
        param_total += h.parameter_count or 0
        if st.formats.get(m) == main_fmt:
            for key in sums:
                value = h.properties.get(key, "")
                sums[key] += int(value) if value.isdigit() else 0
            dtypes.update(x for x in h.properties.get("dtypes", "").split(",") if x)
    if header is not None and _is_shard_format(main_fmt):
        merged = dict(header.properties)
        for key, total in sums.items():
            if key in merged:
                merged[key] = str(total)
        if dtypes and "dtypes" in merged:
            merged["dtypes"] = ",".join(sorted(dtypes))
        header = dataclasses.replace(header, properties=merged)
    if fmt == "huggingface":
        cfg_rel = f"{d}/config.json" if d else "config.json"
        from unified_supply_chain.sources.cards.huggingface import read_hf_config

        try:
            cfg = read_hf_config(st.abs(cfg_rel))
            arch = cfg.architectures[0] if cfg.architectures else cfg.model_type
            family, task = cfg.architecture_family, cfg.task
            if cfg.model_type:
                props[Prop.HF_MODEL_TYPE.value] = cfg.model_type
            if cfg.torch_dtype:
                props[Prop.HF_TORCH_DTYPE.value] = cfg.torch_dtype
            st.artifacts.append(
                Artifact(
                    kind=ArtifactKind.HYPERPARAMETERS,
                    ref=artifact_ref(ArtifactKind.HYPERPARAMETERS, cfg_rel),
                    name=cfg_rel,
                    path=cfg_rel,
                    format="hf-config",
                    params=cfg.params,
                    size=st.by_path[cfg_rel].size,
                )
            )
        except FormatError as exc:
            warnings.append(f"{cfg_rel}: unreadable config: {exc}")
    if header is not None and header.license:
        licenses = (header.license,)
    size = sum(st.by_path[m].size for m in members)
    if header is not None and param_total:
        header = dataclasses.replace(header, parameter_count=param_total)
    return Artifact(
        kind=ArtifactKind.MODEL,
        ref=artifact_ref(ArtifactKind.MODEL, d),
        name=posixpath.basename(d) or st.root.resolve().name,
        path=d,
        format=fmt,
        size=size,
        files=tuple((m, st.by_path[m].size, None) for m in members),
        header=header,
        licenses=licenses,
        model_architecture=arch,
        architecture_family=family,
        task=task,
        extra_properties=tuple(props.items()) + (((Prop.MAIN_FILE.value, main),) if main else ()),
        warnings=tuple(warnings),
    )


def _with_hashes(a: Artifact, hashed: dict[str, HashResult]) -> Artifact:
    if not a.content_present:
        return a
    if a.files:
        files: list[tuple[str, int, str | None]] = []
        warnings = list(a.warnings)
        import hashlib

        combined = hashlib.sha256()
        complete = True
        for path, size, _ in a.files:
            r = hashed.get(path)
            if r is None or r.sha256 is None:
                complete = False
                files.append((path, size, None))
                if r is not None and r.error:
                    warnings.append(f"{path}: cannot read: {r.error}")
                continue
            if r.changed:
                warnings.append(f"{path}: changed while it was being hashed")
            files.append((path, r.size, r.sha256))
            combined.update(
                f"{r.sha256}  {path[len(a.path or '') :].lstrip('/')}\n".encode(
                    "utf-8", "surrogateescape"
                )
            )
        # A directory's digest: SHA-256 over the sorted "sha256  relative-path" lines (like a
        # sha256sum manifest), so the same tree always gives the same digest.
        hashes = a.hashes + (
            (Hash("SHA-256", combined.hexdigest(), "directory-manifest"),)
            if complete and files
            else ()
        )
        return dataclasses.replace(
            a,
            files=tuple(files),
            hashes=hashes,
            size=sum(f[1] for f in files),
            warnings=tuple(warnings),
        )
    r = hashed.get(a.path or "")
    if r is None:
        return a
    if r.sha256 is None:
        return dataclasses.replace(a, warnings=a.warnings + (f"cannot read: {r.error}",))
    changed = ("changed while it was being hashed; digest and size are of the bytes read",)
    return dataclasses.replace(
        a,
        hashes=(Hash("SHA-256", r.sha256),) + a.hashes,
        size=r.size,
        warnings=a.warnings + (changed if r.changed else ()),
    )


def _capped(problems: Sequence[Problem]) -> tuple[Problem, ...]:
    """At most `limits.MAX_PROBLEMS_PER_FILE` problems per file, then one line with the count."""
    per_file: dict[str, int] = {}
    out: list[Problem] = []
    for p in problems:
        n = per_file[p.path] = per_file.get(p.path, 0) + 1
        if n <= limits.MAX_PROBLEMS_PER_FILE:
            out.append(p)
    for path, n in per_file.items():
        if n > limits.MAX_PROBLEMS_PER_FILE:
            out.append(Problem(path, f"{n - limits.MAX_PROBLEMS_PER_FILE} more problems not shown"))
    return tuple(out)


def _verify_declared_md5(st: _State) -> list[Artifact]:
    """Files whose MD5 a DVC record declares get their own MD5 computed (up to a size cap), so a
    stale record is reported by lineage instead of passing off an old digest as the content's."""
    import hashlib

    declared = {
        d.path for c in st.contributions for d in c.declared for h in d.hashes if h.alg == "MD5"
    }
    out = []
    for a in st.artifacts:
        entry = st.by_path.get(a.path or "")
        if (
            a.path in declared
            and entry is not None
            and a.content_present
            and entry.size <= limits.MAX_MD5_VERIFY_BYTES
        ):
            md5 = hashlib.md5(usedforsecurity=False)
            try:
                with open(st.abs(a.path), "rb") as fh:
                    for chunk in iter(lambda: fh.read(1024 * 1024), b""):
                        md5.update(chunk)
            except OSError:
                out.append(a)
                continue
            a = dataclasses.replace(a, hashes=a.hashes + (Hash("MD5", md5.hexdigest()),))
        out.append(a)
    return out


def _declared_present(st: _State) -> None:
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
                    name=d.name or _stem(path),
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


def _dedupe_libraries(libs: Sequence[Library]) -> tuple[Library, ...]:
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
