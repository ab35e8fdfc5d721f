"""Generic archives (zip, tar, 7z) that may carry models or pickles.

An archive is a component only when it carries something the registry calls a model or a
pickle (a `.pkl` in a release zip, a checkpoint in a tarball): the reader probes the members'
names and first bytes with the registry's own rules, and the kind rule reads its verdict, so an
ordinary source tarball stays out of the SBOM. An archive that cannot be read is a component only
under a model or data directory, where the safety scan then reports it as not verifiable.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from pathlib import Path

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError
from unified_supply_chain.formats._names import in_data_dir
from unified_supply_chain.records import ArtifactKind, HeaderInfo

#: Parent directories whose archives are components even when unreadable.
MODEL_DIRS = frozenset({"model", "models", "checkpoint", "checkpoints", "weights", "artifacts"})


def member_verdict(members: Iterable[tuple[str, bytes]], properties: dict[str, str]) -> None:
    """Classify members (name, first bytes) by the registry; record counts and formats found."""
    from unified_supply_chain.discover.classify import classify
    from unified_supply_chain.formats import Kind, registry

    reg = registry()
    models: set[str] = set()
    datasets: set[str] = set()
    model_count = dataset_count = 0
    for name, head in members:
        spec = reg.get(classify(head[: limits.SNIFF_BYTES], name))
        if spec is None or spec.kind_rule is archive_kind:
            continue  # an archive inside says nothing until it is opened (the scan does)
        if spec.kind is Kind.MODEL or spec.carries_pickles:
            models.add(spec.id)
            model_count += 1
        elif spec.kind is Kind.DATASET:
            datasets.add(spec.id)
            dataset_count += 1
    properties["archive.model_members"] = str(model_count)
    properties["archive.dataset_members"] = str(dataset_count)
    if models:
        properties["archive.model_formats"] = ",".join(sorted(models))
    if datasets:
        properties["archive.dataset_formats"] = ",".join(sorted(datasets))


def archive_kind(relpath: str, header: HeaderInfo | None) -> ArtifactKind | None:
    """A model when a member is a model or pickle format; data under data directories."""
    parents = {p.lower() for p in relpath.split("/")[:-1]}
    if header is None:
        if in_data_dir(relpath):
            return ArtifactKind.DATASET
        return ArtifactKind.MODEL if parents & MODEL_DIRS else None
    if header.properties.get("archive.model_members", "0") != "0":
        return ArtifactKind.MODEL
    if header.properties.get("archive.dataset_members", "0") != "0" and in_data_dir(relpath):
        return ArtifactKind.DATASET
    return None


def read_zip_archive(path: Path) -> HeaderInfo:
    """Member count and what the members are (by the registry), from the central directory."""
    from unified_supply_chain.formats._zip import ZipReader

    properties: dict[str, str] = {"archive.type": "zip"}
    with ZipReader(path) as reader:
        files = [m for m in reader.listing.members if not m.is_dir]
        properties["archive.members"] = str(len(files))
        properties["archive.size"] = str(sum(m.size for m in files))
        probes: list[tuple[str, bytes]] = []
        for i, member in enumerate(files):
            head = b""
            if i < limits.MAX_ARCHIVE_PROBES and not member.encrypted:
                try:
                    head = reader.read(member.name, limits.SNIFF_BYTES, prefix=True)
                except FormatError:
                    head = b""  # an unreadable member is judged by its name
            probes.append((posixpath.basename(member.name), head))
        member_verdict(probes, properties)
    return HeaderInfo(format="zip", properties=properties)


# --- Registry entries. -------------------------------------------------------------------------

from unified_supply_chain.formats import FormatSpec, Kind, Sniff  # noqa: E402
from unified_supply_chain.formats._zip import is_zip  # noqa: E402


def sniff_zip(head: bytes, name: str) -> bool:
    """Any zip archive (after every zip-based format's own rules)."""
    return is_zip(head)


SPECS = (
    FormatSpec(
        id="zip",
        kind=Kind.MODEL,
        description="any other zip; a component only when a member is a model or pickle",
        extensions=(".zip",),
        # After every zip-based format's sniff, whatever its priority.
        sniffs=(Sniff(189, sniff_zip),),
        reader=read_zip_archive,
        kind_rule=archive_kind,
        carries_pickles=True,
        safety="unified_supply_chain.safety.scan:scan_zip",
    ),
)
