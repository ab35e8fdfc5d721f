"""Parse Git LFS pointer files (spec v1): the oid and size of content that is not in the checkout.

A pointer is a short text of `key value` lines, each ending in LF: `version` first, then the
other keys in ascending order (`ext-N-name`, `oid`, `size`, and any future keys), no duplicates.
Validation is strict: anything else is a FormatError, so a file that only looks like a pointer is
never mistaken for one.
"""

from __future__ import annotations

import re
from pathlib import Path

from unified_supply_chain.errors import FormatError
from unified_supply_chain.records import HeaderInfo

#: git-lfs treats only blobs smaller than this as possible pointers.
MAX_POINTER_BYTES = 1024
#: Version URLs git-lfs accepts (the second is the pre-release name it still reads).
VERSIONS = ("https://git-lfs.github.com/spec/v1", "https://hawser.github.com/spec/v1")

_KEY = re.compile(r"[a-z0-9.-]+")
_OID = re.compile(r"sha256:([0-9a-f]{64})")
_EXT_KEY = re.compile(r"ext-[0-9]-[a-z0-9]+")
_SIZE = re.compile(r"[0-9]{1,19}")


def parse_lfs_pointer(data: bytes) -> tuple[str, int]:
    """(sha256 hex, size) of a pointer's content. Raises FormatError on anything malformed."""
    if len(data) >= MAX_POINTER_BYTES:
        raise FormatError(f"{len(data)} bytes: too large to be a Git LFS pointer")
    if not data.endswith(b"\n"):
        raise FormatError("pointer does not end with a newline")
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as exc:
        raise FormatError(f"pointer is not ASCII (byte {exc.start})") from exc
    lines = text[:-1].split("\n")
    pairs: list[tuple[str, str]] = []
    for number, line in enumerate(lines, 1):
        key, sep, value = line.partition(" ")
        if not sep or not _KEY.fullmatch(key) or not value or "\r" in value:
            raise FormatError(f"pointer line {number} is not `key value`")
        pairs.append((key, value))
    if pairs[0][0] != "version":
        raise FormatError("pointer does not start with a version line")
    if pairs[0][1] not in VERSIONS:
        raise FormatError(f"unsupported pointer version {pairs[0][1][:80]!r}")
    keys = [k for k, _ in pairs[1:]]
    if keys != sorted(keys) or len(set(keys)) != len(keys) or "version" in keys:
        raise FormatError("pointer keys are not sorted and unique")
    values = dict(pairs[1:])
    oid = _OID.fullmatch(values.get("oid", ""))
    if oid is None:
        raise FormatError("pointer has no valid `oid sha256:<64 hex>` line")
    size_text = values.get("size", "")
    if not _SIZE.fullmatch(size_text) or int(size_text) >= 1 << 63:
        raise FormatError("pointer has no valid `size <bytes>` line")
    for key, value in pairs[1:]:
        if key.startswith("ext-") and (
            not _EXT_KEY.fullmatch(key) or _OID.fullmatch(value) is None
        ):
            raise FormatError(f"pointer extension line {key!r} is malformed")
    return oid.group(1), int(size_text)


def read_lfs_pointer(path: Path) -> HeaderInfo:
    """Read a Git LFS pointer file. Raises FormatError on a malformed or oversized pointer."""
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_POINTER_BYTES)
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}") from exc
    oid, size = parse_lfs_pointer(data)
    return HeaderInfo(
        format="git-lfs-pointer",
        properties={"lfs.oid": oid, "lfs.size": str(size)},
    )


# --- Registry entry. ---------------------------------------------------------------------------

from unified_supply_chain.formats import FormatSpec, Kind, Sniff  # noqa: E402

_LFS_PREFIXES = (
    b"version https://git-lfs.github.com/spec/v1",
    b"version https://hawser.github.com/spec/v1",  # pre-release spelling git-lfs still accepts
)


def sniff_lfs_pointer(head: bytes, name: str) -> bool:
    """A Git LFS pointer is a pointer whatever it is called."""
    return any(head.startswith(p + b"\n") for p in _LFS_PREFIXES)


SPECS = (
    FormatSpec(
        id="git-lfs-pointer",
        kind=Kind.POINTER,
        description="text starting 'version https://git-lfs.github.com/spec/v1'",
        sniffs=(Sniff(10, sniff_lfs_pointer),),
        reader=read_lfs_pointer,
    ),
)
