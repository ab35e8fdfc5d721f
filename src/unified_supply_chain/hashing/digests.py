"""Streaming, parallel SHA-256 of files, with a consistency check against concurrent change.

hashlib releases the GIL while it digests large buffers, so threads keep every core busy; memory
stays flat (one buffer per worker) whatever the file size. Each file is read exactly once, with
`readinto` into a reused buffer (no allocation per chunk), and the kernel is told the access is
sequential so its read-ahead stays ahead of the digest.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from concurrent.futures import Future
    from pathlib import Path

#: Read size per call. Measured on files in the page cache: 1 MiB amortises the syscall and the
#: copy out of the page cache while staying in L2/L3 cache; 4 MiB and more are slower, not faster.
CHUNK = 1024 * 1024
#: Bytes between two partial-progress reports of one file (see `PartialProgress`).
PROGRESS_STEP = 32 * CHUNK
#: A file modified less than this long before it was hashed is not put into the cache: a write
#: within the file system's timestamp granularity could leave size and mtime unchanged ("racy
#: clean", as Git calls it). 2 s covers the coarsest common granularity (FAT).
RACY_WINDOW_NS = 2_000_000_000


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
    """True when the file changed while it was being hashed (size, mtime, ctime or identity)."""
    error: str | None = None
    """Why the file could not be hashed."""
    cached: bool = False
    """True when the digest came from the hash cache."""


class HashCacheProtocol(Protocol):
    """What the hasher needs from a cache (see `hashcache.py`)."""

    def get(self, path: str, size: int, mtime_ns: int, inode: int) -> str | None: ...

    def put(self, path: str, size: int, mtime_ns: int, inode: int, sha256: str) -> None: ...


class PartialProgress(Protocol):
    """An `on_done` callback may also expose `partial(nbytes)`: called from hashing threads
    every `PROGRESS_STEP` bytes (and at the end of a file with the rest), so a live display can
    move during one multi-gigabyte file. `progress.Progress.file_done` is such a callback."""

    def __call__(self, result: HashResult, /) -> None: ...

    def partial(self, nbytes: int, /) -> None: ...


def _digest_fd(fd: int, buf: bytearray, partial: Callable[[int], None] | None) -> tuple[str, int]:
    """SHA-256 and byte count of what remains readable from `fd`."""
    h = hashlib.sha256()
    view = memoryview(buf)
    size = 0
    pending = 0
    readinto = os.readv
    bufs = [buf]
    while True:
        n = readinto(fd, bufs)
        if not n:
            break
        h.update(view[:n] if n < len(buf) else buf)
        size += n
        if partial is not None:
            pending += n
            if pending >= PROGRESS_STEP:
                partial(pending)
                pending = 0
    if partial is not None and pending:
        partial(pending)
    return h.hexdigest(), size


def _advise_sequential(fd: int) -> None:
    advise = getattr(os, "posix_fadvise", None)
    if advise is not None:
        with contextlib.suppress(OSError):  # only a hint
            advise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)


def sha256_file(path: str | os.PathLike[str]) -> tuple[str, int]:
    """SHA-256 and byte count of one file, streaming (raises OSError)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        _advise_sequential(fd)
        return _digest_fd(fd, bytearray(CHUNK), None)
    finally:
        os.close(fd)


_local = threading.local()


def _buffer() -> bytearray:
    """One read buffer per hashing thread, reused across files."""
    buf: bytearray | None = getattr(_local, "buf", None)
    if buf is None:
        buf = _local.buf = bytearray(CHUNK)
    return buf


def _error(rel: str, exc: OSError) -> HashResult:
    return HashResult(rel, None, 0, error=exc.strerror or str(exc))


def _hash_one(
    root: Path | str,
    rel: str,
    cache: HashCacheProtocol | None,
    partial: Callable[[int], None] | None = None,
) -> HashResult:
    abs_path = os.path.join(root, rel)
    try:
        # O_NONBLOCK: a FIFO swapped in after the walk must not block the run.
        fd = os.open(
            abs_path,
            os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0),
        )
    except OSError as exc:
        return _error(rel, exc)
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            return HashResult(rel, None, 0, error="not a regular file")
        if cache is not None:
            hit = cache.get(rel, before.st_size, before.st_mtime_ns, before.st_ino)
            if hit is not None:
                return HashResult(rel, hit, before.st_size, cached=True)
        _advise_sequential(fd)
        started_ns = time.time_ns()
        digest, size = _digest_fd(fd, _buffer(), partial)
        after = os.fstat(fd)
    except OSError as exc:
        return _error(rel, exc)
    finally:
        os.close(fd)
    changed = (
        size != after.st_size
        or after.st_size != before.st_size
        or after.st_mtime_ns != before.st_mtime_ns
        or after.st_ctime_ns != before.st_ctime_ns
    )
    if not changed:
        # The path may have been replaced (renamed over) while we read the old file.
        try:
            now = os.stat(abs_path, follow_symlinks=False)
            changed = now.st_ino != before.st_ino or now.st_dev != before.st_dev
        except OSError:
            changed = True
    if cache is not None and not changed and after.st_mtime_ns < started_ns - RACY_WINDOW_NS:
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
    """Hash repo-relative `paths` under `root` in parallel; never raises for a bad file.

    `jobs` threads (0: one per core). `on_done` is called once per file, from this thread, as
    files finish; when it also has a `partial(nbytes)` attribute (see `PartialProgress`), that is
    called from the hashing threads while large files are read.
    """
    workers = jobs or (os.cpu_count() or 1)
    results: dict[str, HashResult] = {}
    if not paths:
        return results
    partial: Callable[[int], None] | None = getattr(on_done, "partial", None)
    root_str = os.fspath(root)
    # Largest first, so one big file does not start last and leave a core idle.
    sizes: dict[str, int] = {}
    for p in paths:
        try:
            sizes[p] = os.stat(os.path.join(root_str, p), follow_symlinks=False).st_size
        except OSError:
            sizes[p] = 0
    ordered = sorted(dict.fromkeys(paths), key=lambda p: -sizes[p])
    workers = max(1, min(workers, len(ordered)))
    if workers == 1:
        for p in ordered:
            r = _hash_one(root_str, p, cache, partial)
            results[p] = r
            if on_done:
                on_done(r)
        return results
    # Imported here: a single file (the common `usc record` case) needs no thread pool.
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="usc-hash") as pool:
        # Keep a bounded window of submitted work so that results (and progress) arrive as files
        # finish, not in submission order, without queueing a future per file up front.
        pending: set[Future[HashResult]] = set()
        window = workers * 4
        for p in ordered:
            pending.add(pool.submit(_hash_one, root_str, p, cache, partial))
            if len(pending) >= window:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    _collect(fut.result(), results, on_done)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                _collect(fut.result(), results, on_done)
    return results


def _collect(
    r: HashResult, results: dict[str, HashResult], on_done: Callable[[HashResult], None] | None
) -> None:
    results[r.path] = r
    if on_done:
        on_done(r)
