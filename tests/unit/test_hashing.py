"""Streaming parallel SHA-256: correctness at chunk edges, errors as results, concurrent change."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

from unified_supply_chain.hashing import digests as hashing
from unified_supply_chain.hashing.digests import CHUNK, HashResult, hash_files, sha256_file

EDGE_SIZES = (0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 5 * CHUNK + 12345)


def _write(path: Path, size: int, seed: int = 0) -> bytes:
    # Not all zero: a digest over zeros would hide a buffer reused without its length.
    block = hashlib.sha256(str(seed).encode()).digest() * 2048
    data = (block * (size // len(block) + 1))[:size]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def _old(path: Path) -> None:
    """Move a file's mtime out of the racy window so it may be cached."""
    os.utime(path, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))


@pytest.mark.parametrize("size", EDGE_SIZES)
def test_digest_matches_hashlib_at_chunk_edges(tmp_path: Path, size: int) -> None:
    data = _write(tmp_path / "f.bin", size, seed=size)
    expected = hashlib.sha256(data).hexdigest()
    assert sha256_file(tmp_path / "f.bin") == (expected, size)
    res = hash_files(tmp_path, ["f.bin"])["f.bin"]
    assert (res.sha256, res.size, res.changed, res.error, res.cached) == (
        expected,
        size,
        False,
        None,
        False,
    )


@pytest.mark.parametrize("jobs", [1, 2, 4])
def test_many_files_in_parallel_match_hashlib(tmp_path: Path, jobs: int) -> None:
    expected = {}
    for i, size in enumerate((*EDGE_SIZES, 3 * CHUNK, 17, 4096)):
        rel = f"d{i % 3}/f{i}.bin"
        expected[rel] = hashlib.sha256(_write(tmp_path / rel, size, seed=i)).hexdigest()
    done: list[HashResult] = []
    results = hash_files(tmp_path, list(expected), jobs=jobs, on_done=done.append)
    assert {k: r.sha256 for k, r in results.items()} == expected
    assert sorted(r.path for r in done) == sorted(expected)  # once per file


def test_duplicate_paths_hashed_once(tmp_path: Path) -> None:
    _write(tmp_path / "a", 10)
    done: list[HashResult] = []
    results = hash_files(tmp_path, ["a", "a"], jobs=2, on_done=done.append)
    assert list(results) == ["a"] and len(done) == 1


def test_empty_list() -> None:
    assert hash_files(Path("/nonexistent"), []) == {}


def test_missing_file_is_an_error_result(tmp_path: Path) -> None:
    res = hash_files(tmp_path, ["absent.bin"])["absent.bin"]
    assert res.sha256 is None and res.error and "No such file" in res.error


def test_directory_is_an_error_result(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    res = hash_files(tmp_path, ["dir"])["dir"]
    assert res.sha256 is None and res.error


def test_symlink_is_not_followed(tmp_path: Path) -> None:
    _write(tmp_path / "real", 10)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    res = hash_files(tmp_path, ["link"])["link"]
    assert res.sha256 is None and res.error


def test_fifo_is_not_read_and_does_not_block(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    res = hash_files(tmp_path, ["fifo"])["fifo"]
    assert res.sha256 is None and res.error == "not a regular file"


def test_unreadable_file_is_an_error_not_an_exception(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path / "f", 100)
    _write(tmp_path / "g", 100)

    real_readv = os.readv

    def failing_readv(fd: int, buffers: list[bytearray]) -> int:
        if os.readlink(f"/proc/self/fd/{fd}").endswith("/f"):
            raise OSError(5, "Input/output error")
        return real_readv(fd, buffers)

    monkeypatch.setattr(hashing.os, "readv", failing_readv)
    results = hash_files(tmp_path, ["f", "g"], jobs=2)
    assert results["f"].sha256 is None and results["f"].error == "Input/output error"
    assert results["g"].sha256 == hashlib.sha256((tmp_path / "g").read_bytes()).hexdigest()


class _Appender:
    """An on_done callback whose partial hook appends to the file being hashed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fired = False
        self.partials: list[int] = []

    def __call__(self, result: HashResult) -> None:
        pass

    def partial(self, nbytes: int) -> None:
        self.partials.append(nbytes)
        if not self.fired:
            self.fired = True
            with open(self.path, "ab") as fh:
                fh.write(b"grown while hashed")


def test_file_growing_during_hashing_is_reported_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hashing, "PROGRESS_STEP", 1)
    _write(tmp_path / "f", 3 * CHUNK)
    hook = _Appender(tmp_path / "f")
    res = hash_files(tmp_path, ["f"], on_done=hook)["f"]
    assert hook.fired and res.changed


def test_file_replaced_during_hashing_is_reported_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hashing, "PROGRESS_STEP", 1)
    _write(tmp_path / "f", 3 * CHUNK)

    class Replacer(_Appender):
        def partial(self, nbytes: int) -> None:
            if not self.fired:
                self.fired = True
                _write(tmp_path / "new", 3 * CHUNK, seed=9)
                os.replace(tmp_path / "new", tmp_path / "f")

    hook = Replacer(tmp_path / "f")
    res = hash_files(tmp_path, ["f"], on_done=hook)["f"]
    assert hook.fired and res.changed


def test_partial_reports_add_up_to_the_bytes_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hashing, "PROGRESS_STEP", CHUNK)
    sizes = {"a": 3 * CHUNK + 5, "b": 7, "c": 0}
    for name, size in sizes.items():
        _write(tmp_path / name, size)
    lock = threading.Lock()
    seen: list[int] = []

    class Hook:
        def __call__(self, result: HashResult) -> None:
            pass

        def partial(self, nbytes: int) -> None:
            with lock:
                seen.append(nbytes)

    hash_files(tmp_path, list(sizes), jobs=2, on_done=Hook())
    assert sum(seen) == sum(sizes.values())
    assert len(seen) >= 4  # the large file reported while it was read, not only at its end


class _DictCache:
    def __init__(self) -> None:
        self.data: dict[str, tuple[int, int, int, str]] = {}
        self.gets = 0

    def get(self, path: str, size: int, mtime_ns: int, inode: int) -> str | None:
        self.gets += 1
        v = self.data.get(path)
        return v[3] if v is not None and v[:3] == (size, mtime_ns, inode) else None

    def put(self, path: str, size: int, mtime_ns: int, inode: int, sha256: str) -> None:
        self.data[path] = (size, mtime_ns, inode, sha256)


def test_cache_hit_skips_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _write(tmp_path / "f", 1000)
    _old(tmp_path / "f")
    cache = _DictCache()
    first = hash_files(tmp_path, ["f"], cache=cache)["f"]
    assert not first.cached and "f" in cache.data

    def no_read(*args: object) -> tuple[str, int]:
        raise AssertionError("a cached file was read")

    monkeypatch.setattr(hashing, "_digest_fd", no_read)
    second = hash_files(tmp_path, ["f"], cache=cache)["f"]
    assert second.cached and second.sha256 == hashlib.sha256(data).hexdigest()


def test_recently_modified_file_is_not_cached(tmp_path: Path) -> None:
    # Within the timestamp granularity a same-size rewrite could keep size and mtime: racy.
    _write(tmp_path / "f", 1000)
    cache = _DictCache()
    res = hash_files(tmp_path, ["f"], cache=cache)["f"]
    assert res.sha256 is not None and cache.data == {}


def test_changed_file_is_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hashing, "PROGRESS_STEP", 1)
    monkeypatch.setattr(hashing, "RACY_WINDOW_NS", -(10**20))  # only the change matters here
    _write(tmp_path / "f", 2 * CHUNK)
    cache = _DictCache()
    res = hash_files(tmp_path, ["f"], cache=cache, on_done=_Appender(tmp_path / "f"))["f"]
    assert res.changed and cache.data == {}
