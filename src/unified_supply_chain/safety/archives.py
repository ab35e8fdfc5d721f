"""Tar and 7z archives: every member is scanned by the registry's dispatch (`scan_member`).

Fail closed at high: a member that cannot be read, an encrypted 7z, a cap reached, or a layout
not understood is "could not be verified safe". Tars are read through a byte cap whether plain
or compressed (gzip, bzip2, xz). 7z needs py7zr, which is not a runtime dependency (it pulls in
several compiled codecs): without it a 7z is recognised but reported as not verifiable.
"""

from __future__ import annotations

import importlib
import io
import posixpath
from typing import Any

from unified_supply_chain import limits
from unified_supply_chain.records import Finding
from unified_supply_chain.safety.scan import (
    Scanner,
    Source,
    scan_member,
)
from unified_supply_chain.safety.unverified import unverified


def _scan_tar(src: Source) -> list[Finding]:
    from unified_supply_chain.formats.archives import open_tar, tar_members

    findings: list[Finding] = []
    with open_tar(src.fh) as tf:
        for member in tar_members(tf):
            location = f"{src.location}!{member.name}"
            fh = tf.extractfile(member)
            if fh is None:
                findings.append(unverified(location, "member cannot be read"))
                continue
            name = posixpath.basename(member.name).lower()
            sub = Source(fh, member.size, location, name, "", src.depth + 1)  # type: ignore[arg-type]
            findings.extend(Scanner(scan_member).scan(sub))
        # tarfile takes a cut-off header for the end: the two zero blocks must be there.
        tf.fileobj.seek(tf.offset)
        if tf.fileobj.read(1024) != bytes(1024):
            reason = "tar ends without its end-of-archive blocks (truncated)"
            findings.append(unverified(src.location, reason))
    return findings


scan_tar = Scanner(_scan_tar, reads_compressed=True)
"""Every member of a tar (plain, .tar.gz, .tar.bz2, .tar.xz), each by content."""


class _CappedFactory:
    """py7zr writer factory keeping each member in memory up to a cap (over it: refused)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.products: dict[str, Any] = {}

    def create(self, filename: str) -> Any:

        cap = self.cap

        base: Any = importlib.import_module("py7zr.io").Py7zIO

        class _Capped(base):  # type: ignore[misc]
            def __init__(self) -> None:
                self.buffer = io.BytesIO()
                self.over = False

            def write(self, s: bytes | bytearray) -> int:
                if self.buffer.tell() + len(s) > cap:
                    self.over = True
                    return len(s)
                return self.buffer.write(s)

            def read(self, size: int | None = None) -> bytes:
                return self.buffer.read(size)

            def seek(self, offset: int, whence: int = 0) -> int:
                return self.buffer.seek(offset, whence)

            def flush(self) -> None:
                return None

            def size(self) -> int:
                return len(self.buffer.getbuffer())

        product = _Capped()
        self.products[filename] = product
        return product


def _scan_7z(src: Source) -> list[Finding]:
    try:
        # Optional, not a runtime dependency: imported by name so the action's pinned
        # requirements need not carry it; its absence is a reported outcome, never silent.
        py7zr = importlib.import_module("py7zr")
    except ImportError:
        return [unverified(src.location, "7z needs py7zr, which is not installed")]
    cap = limits.MAX_ZIP_MEMBER_READ
    findings: list[Finding] = []
    try:
        with py7zr.SevenZipFile(src.fh, "r") as archive:
            if archive.needs_password():
                return [unverified(src.location, "7z archive is encrypted")]
            files = [f for f in archive.list() if not f.is_directory]
            total = sum(f.uncompressed for f in files)
            if total > limits.MAX_ARCHIVE_INFLATE:
                return [
                    unverified(
                        src.location,
                        f"7z declares {total} bytes (limit {limits.MAX_ARCHIVE_INFLATE})",
                    )
                ]
            factory = _CappedFactory(cap)
            archive.extractall(factory=factory)
    except Exception as exc:  # noqa: BLE001 - py7zr raises many types on hostile input
        return [unverified(src.location, f"{type(exc).__name__}: {exc}")]
    for f in files:
        location = f"{src.location}!{f.filename}"
        product = factory.products.get(f.filename)
        if product is None or product.over:
            why = "member was not extracted" if product is None else f"member over {cap} bytes"
            findings.append(unverified(location, why))
            continue
        data = product.buffer.getvalue()
        name = posixpath.basename(f.filename).lower()
        sub = Source(io.BytesIO(data), len(data), location, name, "", src.depth + 1)
        findings.extend(Scanner(scan_member).scan(sub))
    return findings


scan_7z = Scanner(_scan_7z)
"""Every member of a 7z, each by content (py7zr required; without it: high)."""
