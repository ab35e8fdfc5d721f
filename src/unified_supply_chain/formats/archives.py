"""Generic archives (zip, tar, 7z) that may carry models or pickles.

An archive is a component only when it carries something the registry calls a model or a
pickle (a `.pkl` in a release zip, a checkpoint in a tarball): the reader probes the members'
names and first bytes with the registry's own rules, and the kind rule reads its verdict, so an
ordinary source tarball stays out of the SBOM. An archive that cannot be read is a component only
under a model or data directory, where the safety scan then reports it as not verifiable.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import importlib
import io
import lzma
import posixpath
import tarfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError, LimitExceeded
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
    if header is None or "archive.model_members" not in header.properties:
        # Unread or unlisted (a 7z without py7zr): judged by where it lies.
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


class CountingReader(io.RawIOBase):
    """A seekable stream that refuses to go past `cap` bytes (a decompression bomb)."""

    def __init__(self, fh: IO[bytes], cap: int) -> None:
        self._fh, self._cap = fh, cap

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._fh.tell()

    def seek(self, offset: int, whence: int = 0) -> int:
        pos = self._fh.seek(offset, whence)
        if pos > self._cap:
            raise LimitExceeded(f"archive inflates past {self._cap} bytes")
        return pos

    def readinto(self, buffer: Any) -> int:
        data = self._fh.read(len(buffer))
        if self._fh.tell() > self._cap:
            raise LimitExceeded(f"archive inflates past {self._cap} bytes")
        buffer[: len(data)] = data
        return len(data)


def _decompressed(fh: IO[bytes]) -> IO[bytes]:
    head = fh.read(6)
    fh.seek(0)
    if head.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=fh)  # type: ignore[return-value]
    if head.startswith(b"BZh"):
        return bz2.BZ2File(fh)
    if head.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMAFile(fh)
    return fh


@contextlib.contextmanager
def open_tar(fh: IO[bytes]) -> Iterator[tarfile.TarFile]:
    """A tar (plain, gzip, bzip2 or xz) read through a byte cap; errors are FormatError."""
    inner = _decompressed(fh)
    try:
        stream = io.BufferedReader(CountingReader(inner, limits.MAX_ARCHIVE_INFLATE))
        with tarfile.open(fileobj=stream, mode="r:") as tf:
            yield tf
    except (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError, ValueError) as exc:
        raise FormatError(f"unreadable tar archive: {exc}") from exc


def tar_members(tf: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    """Regular file members, at most MAX_ZIP_MEMBERS of them."""
    for count, member in enumerate(tf):
        if count >= limits.MAX_ZIP_MEMBERS:
            raise LimitExceeded(f"tar holds more than {limits.MAX_ZIP_MEMBERS} members")
        if member.isreg():
            yield member


def read_tar_archive(path: Path) -> HeaderInfo:
    """Member count and what the members are (by the registry), probing their first bytes."""
    properties: dict[str, str] = {"archive.type": "tar"}
    probes: list[tuple[str, bytes]] = []
    total = 0
    with path.open("rb") as raw, open_tar(raw) as tf:
        for member in tar_members(tf):
            total += member.size
            head = b""
            if len(probes) < limits.MAX_ARCHIVE_PROBES:
                extracted = tf.extractfile(member)
                head = extracted.read(limits.SNIFF_BYTES) if extracted is not None else b""
            probes.append((posixpath.basename(member.name), head))
    properties["archive.members"] = str(len(probes))
    properties["archive.size"] = str(total)
    member_verdict(probes, properties)
    return HeaderInfo(format="tar", properties=properties)


SEVEN_ZIP_MAGIC = b"7z\xbc\xaf\x27\x1c"


def read_7z_archive(path: Path) -> HeaderInfo:
    """Recognised by its signature; members listed when py7zr is installed (by name only)."""
    properties: dict[str, str] = {"archive.type": "7z"}
    with path.open("rb") as fh:
        if fh.read(6) != SEVEN_ZIP_MAGIC:
            raise FormatError("not a 7z archive")
    try:
        # Optional, not a runtime dependency: imported by name so the action's pinned
        # requirements need not carry it; its absence is a reported outcome, never silent.
        py7zr = importlib.import_module("py7zr")
    except ImportError:
        properties["archive.listing"] = "skipped (py7zr not installed)"
        return HeaderInfo(format="7z", properties=properties)
    try:
        with py7zr.SevenZipFile(path, "r") as archive:
            if archive.needs_password():
                properties["archive.encrypted"] = "true"
            names = [f.filename for f in archive.list() if not f.is_directory]
    except Exception as exc:
        raise FormatError(f"unreadable 7z archive: {type(exc).__name__}: {exc}") from exc
    properties["archive.members"] = str(len(names))
    member_verdict(((posixpath.basename(n), b"") for n in names), properties)
    return HeaderInfo(format="7z", properties=properties)


# --- Registry entries. -------------------------------------------------------------------------

from unified_supply_chain.formats import FormatSpec, Kind, Sniff  # noqa: E402
from unified_supply_chain.formats._zip import is_zip  # noqa: E402


def sniff_zip(head: bytes, name: str) -> bool:
    """Any zip archive (after every zip-based format's own rules)."""
    return is_zip(head)


def is_tar(head: bytes) -> bool:
    """POSIX ustar or GNU tar: the magic at offset 257 of the first header."""
    return head[257:262] == b"ustar"


def sniff_tar(head: bytes, name: str) -> bool:
    """An uncompressed tar."""
    return is_tar(head)


def sniff_gzip_tar(head: bytes, name: str) -> bool:
    """A gzip stream whose first inflated block is a tar header (a .tar.gz by content)."""
    if not head.startswith(b"\x1f\x8b"):
        return False
    try:
        return is_tar(zlib.decompressobj(31).decompress(head, 512))
    except zlib.error:
        return False


def sniff_7z(head: bytes, name: str) -> bool:
    """The 7z signature header."""
    return head.startswith(SEVEN_ZIP_MAGIC)


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
    FormatSpec(
        id="tar",
        kind=Kind.MODEL,
        description="ustar at 257 (plain or gzip by content; *.tar, *.tgz, *.tar.gz/bz2/xz)",
        name_patterns=(r".+\.tar\.(gz|bz2|xz)",),
        extensions=(".tar", ".tgz"),
        sniffs=(Sniff(187, sniff_gzip_tar), Sniff(188, sniff_tar)),
        reader=read_tar_archive,
        kind_rule=archive_kind,
        carries_pickles=True,
        safety="unified_supply_chain.safety.archives:scan_tar",
    ),
    FormatSpec(
        id="7z",
        kind=Kind.MODEL,
        description="7z signature; a component only when a member is a model or pickle",
        extensions=(".7z",),
        sniffs=(Sniff(186, sniff_7z),),
        reader=read_7z_archive,
        kind_rule=archive_kind,
        carries_pickles=True,
        safety="unified_supply_chain.safety.archives:scan_7z",
    ),
)
