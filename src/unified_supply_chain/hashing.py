"""Streaming, parallel SHA-256 of files, with a consistency check against concurrent change.

hashlib releases the GIL while it digests large buffers, so threads keep every core busy; memory
stays flat (one buffer per worker) whatever the file size.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

#: Read size per call: large enough to amortise syscalls, small enough to stay in L2/L3 cache.
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class HashResult:
    """Digest of one file, or why there is none."""

    path: str
    """Repo-relative path."""
    sha256: str | None
    """Lower-case hex SHA-256 of exactly `size` bytes; None when the file could not be read."""
    size: int
    """Bytes hashed."""
    changed: bool = False
    """True when the file changed while it was being hashed (size or mtime moved)."""
    error: str | None = None
    """Why the file could not be hashed."""
    cached: bool = False
    """True when the digest came from the hash cache."""


class HashCacheProtocol(Protocol):
    """What the hasher needs from a cache (see `hashcache.py`)."""

    def get(self, path: str, size: int, mtime_ns: int, inode: int) -> str | None: ...

    def put(self, path: str, size: int, mtime_ns: int, inode: int, sha256: str) -> None: ...


def sha256_file(path: str | os.PathLike[str]) -> tuple[str, int]:
    """SHA-256 and byte count of one file, streaming (raises OSError)."""
    h = hashlib.sha256()
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    size = 0
    with open(path, "rb", buffering=0) as fh:
        while True:
            n = fh.readinto(buf)
            if not n:
                break
            h.update(view[:n])
            size += n
    return h.hexdigest(), size


def _hash_one(root: Path, rel: str, cache: HashCacheProtocol | None) -> HashResult:
    abs_path = os.path.join(root, rel)
    try:
        fd = os.open(abs_path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        return HashResult(rel, None, 0, error=exc.strerror or str(exc))
    try:
        before = os.fstat(fd)
        if cache is not None:
            hit = cache.get(rel, before.st_size, before.st_mtime_ns, before.st_ino)
            if hit is not None:
                return HashResult(rel, hit, before.st_size, cached=True)
        h = hashlib.sha256()
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        size = 0
        with os.fdopen(fd, "rb", buffering=0, closefd=False) as fh:
            while True:
                n = fh.readinto(buf)
                if not n:
                    break
                h.update(view[:n])
                size += n
        after = os.fstat(fd)
    except OSError as exc:
        return HashResult(rel, None, 0, error=exc.strerror or str(exc))
    finally:
        os.close(fd)
    changed = (
        size != after.st_size
        or after.st_size != before.st_size
        or after.st_mtime_ns != before.st_mtime_ns
    )
    digest = h.hexdigest()
    if cache is not None and not changed:
        cache.put(rel, size, after.st_mtime_ns, after.st_ino, digest)
    return HashResult(rel, digest, size, changed=changed)


def hash_files(
    root: Path,
    paths: Sequence[str],
    *,
    jobs: int = 0,
    cache: HashCacheProtocol | None = None,
    on_done: Callable[[HashResult], None] | None = None,
) -> dict[str, HashResult]:
    """Hash repo-relative `paths` under `root` in parallel; never raises for a bad file."""
    workers = jobs or (os.cpu_count() or 1)
    results: dict[str, HashResult] = {}
    if not paths:
        return results
    # Largest first, so one big file does not start last and leave a core idle.
    sizes = {}
    for p in paths:
        try:
            sizes[p] = os.stat(os.path.join(root, p), follow_symlinks=False).st_size
        except OSError:
            sizes[p] = 0
    ordered = sorted(paths, key=lambda p: -sizes[p])
    if workers == 1 or len(ordered) == 1:
        for p in ordered:
            r = _hash_one(root, p, cache)
            results[p] = r
            if on_done:
                on_done(r)
        return results
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="usc-hash") as pool:
        for r in pool.map(lambda p: _hash_one(root, p, cache), ordered):
            results[r.path] = r
            if on_done:
                on_done(r)
    return results
