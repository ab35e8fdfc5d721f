"""Small helpers the dataset-descriptor readers share: declared digests, licences, locations."""

from __future__ import annotations

import posixpath
import re

from unified_supply_chain.records import Hash
from unified_supply_chain.redact import redact_url

#: Declared algorithm names (as descriptors spell them) -> (CycloneDX name, hex length).
_ALGORITHMS = {
    "md5": ("MD5", 32),
    "sha1": ("SHA-1", 40),
    "sha-1": ("SHA-1", 40),
    "sha256": ("SHA-256", 64),
    "sha-256": ("SHA-256", 64),
    "sha384": ("SHA-384", 96),
    "sha-384": ("SHA-384", 96),
    "sha512": ("SHA-512", 128),
    "sha-512": ("SHA-512", 128),
}
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
MAX_TEXT = 200
"""Names, titles and licence strings are cut to this many characters."""


def declared_hash(algorithm: str, value: object, source: str) -> Hash | None:
    """A digest as declared (`algorithm` as the descriptor names it), or None when malformed."""
    known = _ALGORITHMS.get(algorithm.strip().lower())
    if known is None or not isinstance(value, str):
        return None
    digest = value.strip()
    if len(digest) != known[1] or not _HEX.match(digest):
        return None
    return Hash(known[0], digest.lower(), source)


def text(value: object, cap: int = MAX_TEXT) -> str | None:
    """A stripped, bounded string, or None."""
    if isinstance(value, str) and value.strip():
        return value.strip()[:cap]
    return None


def is_url(value: str) -> bool:
    """Whether a location is a URL (has a scheme) rather than a path."""
    return bool(_SCHEME.match(value))


def local_path(base_dir: str, location: str) -> str | None:
    """The repo-relative path of a location relative to the descriptor's directory, or None when
    it is absolute or climbs out of the repository (never followed)."""
    loc = location.strip().replace("\\", "/")
    if not loc or loc.startswith("/") or re.match(r"^[A-Za-z]:", loc):
        return None
    if loc.startswith("file://"):
        return None
    joined = (
        posixpath.normpath(posixpath.join(base_dir, loc)) if base_dir else posixpath.normpath(loc)
    )
    if joined == ".." or joined.startswith("../") or ".." in loc.split("/"):
        return None
    return "" if joined == "." else joined


def redacted(url: str) -> str:
    """A URL with credentials removed."""
    return redact_url(url.strip())
