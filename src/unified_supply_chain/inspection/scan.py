"""One pass over a repository: discover, classify, inspect, hash, resolve lineage -> Inventory.

Only this module decides what a classified file becomes (model, dataset, hyperparameter set,
library, lineage record); the readers it calls only describe files.
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
from collections.abc import Callable, Sequence

from unified_supply_chain import limits
from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.discover.classify import is_test_fixture
from unified_supply_chain.discover.gittree import discover
from unified_supply_chain.errors import UsageError
from unified_supply_chain.formats import Role, registry
from unified_supply_chain.formats._gitattributes import LfsRule
from unified_supply_chain.hashing.digests import HashCacheProtocol, HashResult, hash_files
from unified_supply_chain.inspection.cards import (
    apply_dataset_cards,
    apply_dataset_descriptor,
    apply_model_cards,
)
from unified_supply_chain.inspection.dataset_packages import apply_dataset_packages
from unified_supply_chain.inspection.dataset_yaml import (
    apply_kedro_catalog,
    apply_yolo_datasets,
    claim_yolo_datasets,
)
from unified_supply_chain.inspection.directories import (
    android_binding,
    companion_artifact,
    companion_files,
    group_artifact,
    group_directories,
)
from unified_supply_chain.inspection.hashes import with_declared_md5, with_hashes
from unified_supply_chain.inspection.headers import kind_of, read_header, sniff
from unified_supply_chain.inspection.hf_datasets import (
    apply_builder_script,
    apply_hf_dataset_cards,
)
from unified_supply_chain.inspection.lfs_context import attribute_rules, pointer_kind
from unified_supply_chain.inspection.safety import content_pickles, with_findings
from unified_supply_chain.inspection.sources import (
    add_declared_present,
    dedupe_libraries,
    hyperparameter_artifact,
    read_library_sources,
    read_lineage_sources,
)
from unified_supply_chain.inspection.state import ScanState, file_stem, model_name
from unified_supply_chain.lineage.resolve import Resolved, artifact_ref, resolve
from unified_supply_chain.options import ScanOptions
from unified_supply_chain.records import (
    Artifact,
    ArtifactKind,
    FileEntry,
    Hash,
    Inventory,
    Problem,
    Storage,
)


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
    walked = discover(root, include=options.include, exclude=options.exclude)
    st = ScanState(
        root, walked.files, {f.path: f for f in walked.files}, {}, list(walked.problems), [], [], []
    )
    unreadable: dict[str, str] = {}
    unclassified: dict[str, bytes] = {}
    _classify(st, walked.files, unreadable, unclassified)
    _admit(st, options, unreadable, unclassified)

    # YOLO dataset YAML is known by content, before names decide what a YAML file becomes.
    yolo_datasets = claim_yolo_datasets(st)
    groups = group_directories(st)
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
        hp = hyperparameter_artifact(st, rel, "hydra-config")
        if hp is not None:
            st.artifacts.append(hp)
            hydra_done.update(f[0] for f in hp.files)
        hydra_done.add(rel)

    # Single-file artifacts (with the companions a format names: `model.xml` + `model.bin`).
    lfs_rules = attribute_rules(st)
    companions = companion_files(st, groups)
    claimed = {c for cs in companions.values() for c in cs}
    for rel, fmt in st.formats.items():
        if rel in groups or rel in hydra_done or rel in claimed:
            continue
        entry = st.by_path[rel]
        if rel in unreadable:
            kind = kind_of(fmt, rel, None)
            if kind is not None:
                st.artifacts.append(
                    Artifact(
                        kind=kind,
                        ref=artifact_ref(kind, rel),
                        name=file_stem(rel),
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
            st.artifacts.append(_lfs_artifact(st, rel, lfs_rules))
            continue
        spec = registry()[fmt]
        if spec.role is Role.HYPERPARAMETERS:
            if fmt == "hf-config":
                continue  # only inside a Hugging Face model directory (handled with the group)
            hp = hyperparameter_artifact(st, rel, fmt)
            if hp is not None:
                st.artifacts.append(hp)
            continue
        if spec.role is Role.LIBRARIES:
            read_library_sources(st, rel, fmt)
            continue
        header, warning = read_header(st.abs(rel), fmt) if spec.reader else (None, None)
        kind = kind_of(fmt, rel, header)
        if kind is None:
            continue
        if rel in companions:
            st.artifacts.append(companion_artifact(st, rel, fmt, header, companions[rel]))
            continue
        st.artifacts.append(
            Artifact(
                kind=kind,
                ref=artifact_ref(kind, rel),
                name=model_name(rel) if kind is ArtifactKind.MODEL else file_stem(rel),
                path=rel,
                format=fmt,
                size=entry.size,
                header=header,
                licenses=(header.license,) if header and header.license else (),
                warnings=(warning,) if warning else (),
                extra_properties=android_binding(rel) if kind is ArtifactKind.MODEL else (),
            )
        )

    # Multi-file models.
    for d, members in sorted(grouped.items()):
        st.artifacts.append(group_artifact(st, d, groups[members[0]][1], sorted(members)))

    for rel, fmt in st.formats.items():
        if fmt == "dataset-descriptor" and rel not in groups:
            apply_dataset_descriptor(st, rel)
        elif fmt == "dataset-builder-script" and rel not in groups:
            apply_builder_script(st, rel)
        elif fmt == "kedro-catalog":
            apply_kedro_catalog(st, rel)
    apply_dataset_packages(st)
    apply_yolo_datasets(st, yolo_datasets)
    apply_model_cards(st)
    apply_dataset_cards(st, apply_hf_dataset_cards(st))
    add_declared_present(st)
    swept = content_pickles(st, unclassified)
    st.artifacts.extend(swept)

    # Hash every artifact file whose content is here.
    to_hash: list[str] = []
    for a in st.artifacts:
        if (not a.content_present and not a.pointer_files) or a.storage is Storage.REMOTE:
            continue
        if a.files:
            to_hash.extend(
                f[0] for f in a.files if f[0] in st.by_path and f[0] not in a.pointer_files
            )
        elif a.path in st.by_path and a.path not in unreadable:
            to_hash.append(a.path)
    to_hash = list(dict.fromkeys(to_hash))
    hashed = hash_files(root, to_hash, jobs=options.jobs, cache=cache, on_done=on_hashed)
    bytes_hashed = sum(r.size for r in hashed.values() if not r.cached)
    st.artifacts = [with_hashes(a, hashed) for a in st.artifacts]
    scanned = {a.ref for a in swept}
    st.artifacts = [a if a.ref in scanned else with_findings(st, a) for a in st.artifacts]
    # Test fixtures are not the project's artifacts; one the safety scan flags stays (fail closed).
    st.artifacts = [
        a for a in st.artifacts if a.findings or a.path is None or not is_test_fixture(a.path)
    ]

    st.artifacts = with_declared_md5(st)
    resolved = resolve(st.artifacts, st.contributions, frozenset(st.by_path))
    libraries = dedupe_libraries(st.libraries)
    root_name = options.app_name or st.app_name or root.resolve().name or "application"
    inventory = Inventory(
        root_name=root_name,
        root_version=options.app_version or st.app_version,
        artifacts=resolved.artifacts,
        libraries=libraries,
        edges=resolved.edges,
        tasks=resolved.tasks,
        problems=_capped(st.problems),
        files_seen=len(st.files),
        bytes_hashed=bytes_hashed,
    )
    return ScanResult(inventory, resolved)


def _classify(
    st: ScanState,
    files: Sequence[FileEntry],
    unreadable: dict[str, str],
    unclassified: dict[str, bytes],
) -> None:
    """Sniff and classify `files` into `st.formats`; note unreadable and unclassified heads."""
    from unified_supply_chain.discover.classify import classify

    for f in files:
        head, err = sniff(os.path.join(st.root, f.path))
        fmt = classify(head or b"", f.path)
        if head and (fmt is None or registry()[fmt].safety is None):
            # Files no safety hook covers (unclassified, configs, scripts) are swept by
            # content: a pickle is a pickle to pickle.load whatever its name.
            unclassified[f.path] = head
        if err is not None:
            if fmt is not None:
                unreadable[f.path] = err
            else:
                st.problems.append(Problem(f.path, err))
        if fmt is not None:
            st.formats[f.path] = fmt
        try:
            f.path.encode("utf-8")
        except UnicodeEncodeError:
            st.problems.append(
                Problem(f.path, "file name is not valid UTF-8; shown with replacement characters")
            )


def _admit(
    st: ScanState,
    options: ScanOptions,
    unreadable: dict[str, str],
    unclassified: dict[str, bytes],
) -> None:
    """Read the lineage records, then admit the files they declare (and `--include` names) that
    discovery left out as ignored (`discover/declared.py`); re-read the records if any came in,
    so what they say about presence matches the files the scan now has."""
    from unified_supply_chain.discover.declared import (
        admit_declared,
        declared_paths,
        included_ignored,
    )

    problems_before, libraries_before = len(st.problems), len(st.libraries)
    read_lineage_sources(st)
    include, exclude = options.include, options.exclude
    extra = admit_declared(
        st.root, declared_paths(st.contributions), st.by_path, include=include, exclude=exclude
    )
    known = set(st.by_path) | {f.path for f in extra.files}
    more = included_ignored(st.root, known, include=include, exclude=exclude)
    admitted = {f.path: f for f in (*extra.files, *more.files)}
    seen = {(p.path, p.message) for p in st.problems}
    new_problems = [p for p in (*extra.problems, *more.problems) if (p.path, p.message) not in seen]
    if not admitted and not new_problems:
        return
    del st.problems[problems_before:], st.libraries[libraries_before:]
    st.contributions.clear()
    st.problems.extend(dict.fromkeys(new_problems))
    st.files = tuple(sorted((*st.files, *admitted.values()), key=lambda f: f.path))
    st.by_path.update(admitted)
    _classify(st, list(admitted.values()), unreadable, unclassified)
    read_lineage_sources(st)


def _lfs_artifact(st: ScanState, rel: str, rules: dict[str, list[LfsRule]]) -> Artifact:
    header, warning = read_header(st.abs(rel), "git-lfs-pointer")
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
    kind, evidence, rule, unknown = pointer_kind(st, rel, size, rules)
    extra = [(Prop.KIND_EVIDENCE.value, evidence)]
    if rule is not None:
        extra.append((Prop.LFS_RULE.value, rule.describe()))
    warnings = tuple(w for w in (warning, unknown) if w)
    return Artifact(
        kind=kind,
        ref=artifact_ref(kind, rel),
        name=model_name(rel) if kind is ArtifactKind.MODEL else file_stem(rel),
        path=rel,
        format=posixpath.splitext(rel)[1].lstrip(".").lower() or None,
        size=size,
        hashes=hashes,
        storage=Storage.GIT_LFS_POINTER,
        content_present=False,
        header=header,
        extra_properties=tuple(extra),
        # A pointer is not a fault of the file: `usc:content-present: false` says it, and one
        # line for the whole run (commands/sbom.py) says how to fetch the content. A pointer
        # of unknown kind is a warning: nothing says what it is.
        warnings=warnings,
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
