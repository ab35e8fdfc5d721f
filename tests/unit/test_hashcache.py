"""Hash cache: a changed key is never trusted, corrupt files are ignored with a warning that
reaches the user, writes are atomic and thread-safe, --no-cache bypasses it, and digests declared
by Git LFS pointers and DVC records are taken as declared, never recomputed."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

import pytest

from unified_supply_chain import cli
from unified_supply_chain.hashing import digests as hashing
from unified_supply_chain.hashing.cache import FORMAT, HashCache
from unified_supply_chain.hashing.digests import hash_files

OLD_NS = 1_600_000_000_000_000_000


def _file(path: Path, data: bytes, mtime_ns: int = OLD_NS) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, ns=(mtime_ns, mtime_ns))
    return hashlib.sha256(data).hexdigest()


class _CountingDigest:
    """Wraps the hasher's read loop to count which files were actually read."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.reads = 0
        real = hashing._digest_fd

        def counting(*args: object, **kwargs: object) -> tuple[str, int]:
            self.reads += 1
            return real(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(hashing, "_digest_fd", counting)


def _run(
    tmp_path: Path, root: Path, paths: list[str]
) -> tuple[dict[str, hashing.HashResult], HashCache]:
    cache = HashCache.open(tmp_path / "cache", root)
    results = hash_files(root, paths, cache=cache, jobs=2)
    cache.save()
    return results, cache


def test_unchanged_file_is_not_rehashed_and_touched_file_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "repo"
    da = _file(root / "a.bin", b"a" * 5000)
    db = _file(root / "b.bin", b"b" * 7000)
    counter = _CountingDigest(monkeypatch)

    first, c1 = _run(tmp_path, root, ["a.bin", "b.bin"])
    assert counter.reads == 2 and (c1.hits, c1.misses, c1.puts) == (0, 2, 2)
    assert first["a.bin"].sha256 == da and not first["a.bin"].cached

    second, c2 = _run(tmp_path, root, ["a.bin", "b.bin"])
    assert counter.reads == 2, "an unchanged file was read again"
    assert (c2.hits, c2.misses) == (2, 0)
    assert second["a.bin"].cached and second["a.bin"].sha256 == da
    assert second["b.bin"].cached and second["b.bin"].sha256 == db

    # Touch a.bin: same bytes, new mtime -> its key changed, so it is read again.
    os.utime(root / "a.bin", ns=(OLD_NS + 1, OLD_NS + 1))
    third, c3 = _run(tmp_path, root, ["a.bin", "b.bin"])
    assert counter.reads == 3
    assert (c3.hits, c3.misses) == (1, 1)
    assert not third["a.bin"].cached and third["b.bin"].cached


@pytest.mark.parametrize("change", ["content-same-size-same-mtime", "size", "path"])
def test_any_changed_key_field_is_not_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    root = tmp_path / "repo"
    _file(root / "m.bin", b"x" * 4096)
    _run(tmp_path, root, ["m.bin"])
    rel = "m.bin"
    if change == "content-same-size-same-mtime":
        # A new file renamed over the old one, with the old size and mtime: only the inode
        # tells them apart.
        expected = _file(root / "new.bin", b"y" * 4096)
        os.replace(root / "new.bin", root / "m.bin")
    elif change == "size":
        expected = _file(root / "m.bin", b"x" * 4097)
    else:
        os.rename(root / "m.bin", root / "n.bin")
        expected = hashlib.sha256(b"x" * 4096).hexdigest()
        rel = "n.bin"
    counter = _CountingDigest(monkeypatch)
    results, cache = _run(tmp_path, root, [rel])
    assert counter.reads == 1 and cache.hits == 0
    assert results[rel].sha256 == expected and not results[rel].cached


def test_get_requires_every_field(tmp_path: Path) -> None:
    cache = HashCache.open(tmp_path, tmp_path)
    cache.put("p", 1, 2, 3, "a" * 64)
    assert cache.get("p", 1, 2, 3) == "a" * 64
    assert cache.get("p", 9, 2, 3) is None
    assert cache.get("p", 1, 9, 3) is None
    assert cache.get("p", 1, 2, 9) is None
    assert cache.get("q", 1, 2, 3) is None
    assert (cache.hits, cache.misses) == (1, 4)


@pytest.mark.parametrize(
    "content",
    [
        b"not json at all {",
        b"\xff\xfe\x00garbage",
        b"[]",
        json.dumps({"format": "something-else", "entries": {}}).encode(),
        json.dumps({"format": FORMAT, "entries": []}).encode(),
        json.dumps({"format": FORMAT}).encode(),
        b"[" * 100_000,
    ],
)
def test_corrupt_cache_file_is_ignored_with_a_warning(tmp_path: Path, content: bytes) -> None:
    root = tmp_path / "repo"
    digest = _file(root / "a.bin", b"abc")
    cache = HashCache.open(tmp_path / "cache", root)
    cache.file.parent.mkdir(parents=True)
    cache.file.write_bytes(content)
    reopened = HashCache.open(tmp_path / "cache", root)
    assert reopened.warning and "ignored" in reopened.warning
    assert len(reopened) == 0
    # And it still works (and is rebuilt).
    res = hash_files(root, ["a.bin"], cache=reopened)["a.bin"]
    assert res.sha256 == digest and not res.cached
    reopened.save()
    assert HashCache.open(tmp_path / "cache", root).warning is None


def test_bad_entries_are_dropped_not_trusted(tmp_path: Path) -> None:
    cache = HashCache.open(tmp_path / "cache", tmp_path)
    good = [1, 2, 3, "a" * 64]
    cache.file.parent.mkdir(parents=True)
    cache.file.write_text(
        json.dumps(
            {
                "format": FORMAT,
                "entries": {
                    "good": good,
                    "bool": [True, 2, 3, "a" * 64],
                    "negative": [-1, 2, 3, "a" * 64],
                    "short-digest": [1, 2, 3, "abc"],
                    "upper": [1, 2, 3, "A" * 64],
                    "float": [1.0, 2, 3, "a" * 64],
                    "three": [1, 2, 3],
                },
            }
        )
    )
    reopened = HashCache.open(tmp_path / "cache", tmp_path)
    assert reopened.warning is None and len(reopened) == 1
    assert reopened.get("good", 1, 2, 3) == "a" * 64
    assert reopened.get("bool", 1, 2, 3) is None


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    cache = HashCache.open(tmp_path / "cache", tmp_path)
    cache.put("x", 1, 2, 3, "b" * 64)
    cache.save()
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [cache.file.name]
    data = json.loads(cache.file.read_text())
    assert data == {"format": FORMAT, "entries": {"x": [1, 2, 3, "b" * 64]}}


def test_save_without_changes_does_not_write(tmp_path: Path) -> None:
    cache = HashCache.open(tmp_path / "cache", tmp_path)
    cache.get("x", 1, 2, 3)
    cache.save()
    assert not (tmp_path / "cache").exists()


def test_unwritable_cache_directory_is_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("a file where the cache directory should be")
    cache = HashCache.open(tmp_path / "file", tmp_path)
    cache.put("x", 1, 2, 3, "b" * 64)
    cache.save()  # must not raise


def test_concurrent_puts_and_gets_from_many_threads(tmp_path: Path) -> None:
    cache = HashCache.open(tmp_path / "cache", tmp_path)

    def work(t: int) -> None:
        for i in range(500):
            cache.put(f"t{t}/f{i}", i, t, i, f"{t:032x}{i:032x}")
            assert cache.get(f"t{t}/f{i}", i, t, i) == f"{t:032x}{i:032x}"

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(cache) == 4000 and cache.hits == 4000 and cache.puts == 4000


def test_entries_of_deleted_files_are_dropped_on_save(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    _file(root / "kept.bin", b"1")
    _file(root / "gone.bin", b"2")
    _file(root / "other.bin", b"3")
    _run(tmp_path, root, ["kept.bin", "gone.bin", "other.bin"])
    (root / "gone.bin").unlink()
    _file(root / "new.bin", b"4")
    # A run that looks at only some files keeps entries of files that still exist.
    _run(tmp_path, root, ["kept.bin", "new.bin"])
    entries = json.loads(HashCache.open(tmp_path / "cache", root).file.read_text())["entries"]
    assert sorted(entries) == ["kept.bin", "new.bin", "other.bin"]


def test_one_cache_file_per_root(tmp_path: Path) -> None:
    a = HashCache.open(tmp_path / "cache", tmp_path / "a")
    b = HashCache.open(tmp_path / "cache", tmp_path / "b")
    assert a.file != b.file and a.file.parent == b.file.parent


# --- through the command line -------------------------------------------------------------


def _repo(root: Path) -> None:
    header = b'{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'
    body = len(header).to_bytes(8, "little") + header + b"\x00" * 8
    _file(root / "models" / "net.safetensors", body)
    _file(root / "data" / "train.csv", b"a,b\n1,2\n3,4\n")


def test_cli_corrupt_cache_warning_reaches_the_user(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "repo"
    _repo(root)
    cache_dir = tmp_path / "cache"
    probe = HashCache.open(cache_dir, root)
    cache_dir.mkdir()
    probe.file.write_text("{ corrupt")
    code = cli.main(
        ["sbom", str(root), "-o", str(tmp_path / "s.json"), "--cache-dir", str(cache_dir), "-q"]
    )
    err = capsys.readouterr().err
    assert code == 0
    assert "hash cache" in err and "corrupt" in err and "warning" in err
    assert HashCache.open(cache_dir, root).warning is None  # rebuilt


def test_cli_warm_run_reads_no_artifact_and_no_cache_reads_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "repo"
    _repo(root)
    cache_dir = tmp_path / "cache"
    monkeypatch.setenv("USC_CACHE_DIR", str(cache_dir))
    counter = _CountingDigest(monkeypatch)
    out = tmp_path / "s.json"
    assert cli.main(["sbom", str(root), "-o", str(out), "-q"]) == 0
    cold = counter.reads
    assert cold == 2 and any(cache_dir.iterdir())
    assert cli.main(["sbom", str(root), "-o", str(out), "-q"]) == 0
    assert counter.reads == cold, "the warm run re-read a file"
    before = {p: p.stat().st_mtime_ns for p in cache_dir.iterdir()}
    assert cli.main(["sbom", str(root), "-o", str(out), "-q", "--no-cache"]) == 0
    assert counter.reads == cold + 2, "--no-cache must hash every artifact"
    assert {p: p.stat().st_mtime_ns for p in cache_dir.iterdir()} == before


def test_cli_no_cache_creates_no_cache_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "repo"
    _repo(root)
    monkeypatch.setenv("USC_CACHE_DIR", str(tmp_path / "cache"))
    assert cli.main(["sbom", str(root), "-o", str(tmp_path / "s.json"), "-q", "--no-cache"]) == 0
    assert not (tmp_path / "cache").exists()


def test_lfs_and_dvc_digests_are_recorded_not_recomputed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "repo"
    oid = hashlib.sha256(b"the real weights").hexdigest()
    _file(
        root / "models" / "big.safetensors",
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize 16\n".encode(),
    )
    md5 = "0123456789abcdef0123456789abcdef"
    _file(
        root / "models" / "clf.pkl.dvc",
        f"outs:\n- md5: {md5}\n  size: 99\n  path: clf.pkl\n".encode(),
    )
    from unified_supply_chain.inspection import scan as scan_mod

    asked: list[str] = []
    real = scan_mod.hash_files

    def spy(root: Path, paths: list[str], **kw: object) -> dict[str, hashing.HashResult]:
        asked.extend(paths)
        return real(root, paths, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(scan_mod, "hash_files", spy)
    out = tmp_path / "s.json"
    assert cli.main(["sbom", str(root), "-o", str(out), "-q", "--no-cache"]) == 0
    assert asked == []  # neither the pointer nor the absent DVC output was hashed
    doc = json.loads(out.read_text())
    by_name = {c["name"]: c for c in doc["components"]}
    assert by_name["big"]["hashes"] == [{"alg": "SHA-256", "content": oid}]
    assert {"name": "usc:hash-source:SHA-256", "value": "git-lfs-pointer"} in by_name["big"][
        "properties"
    ]
    assert by_name["clf.pkl"]["hashes"] == [{"alg": "MD5", "content": md5}]
    assert {"name": "usc:hash-source:MD5", "value": "dvc-file"} in by_name["clf.pkl"]["properties"]


# --- second chance through Git after a fresh checkout ----------------------------------------


def _git(root: Path, *args: str) -> str:
    import subprocess

    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(root),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    done = subprocess.run(
        ["git", *args], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def _git_repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q")
    for rel, data in (("m/a.bin", b"a" * 3000), ("m/b.bin", b"b" * 3000)):
        _file(root / rel, data)
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "c")
    _git(root, "update-index", "--refresh")  # the old mtimes are the index's stat data
    return root


def _fresh_checkout(root: Path, rel: str) -> None:
    """What actions/checkout does to a file: new inode, new mtime, same bytes."""
    (root / rel).unlink()
    _git(root, "checkout", "--", rel)
    os.utime(root / rel, ns=(OLD_NS + 10**12, OLD_NS + 10**12))
    _git(root, "update-index", "--refresh")


def test_fresh_checkout_is_recognised_through_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _git_repo(tmp_path)
    first, _ = _run(tmp_path, root, ["m/a.bin", "m/b.bin"])
    entries = json.loads(HashCache.open(tmp_path / "cache", root).file.read_text())["entries"]
    assert len(entries["m/a.bin"]) == 5  # the blob id was recorded with the digest
    before = os.stat(root / "m/a.bin")
    _fresh_checkout(root, "m/a.bin")
    after = os.stat(root / "m/a.bin")
    assert (before.st_ino, before.st_mtime_ns) != (after.st_ino, after.st_mtime_ns)
    counter = _CountingDigest(monkeypatch)
    second, cache = _run(tmp_path, root, ["m/a.bin", "m/b.bin"])
    assert counter.reads == 0, "an unmodified checked-out file was hashed again"
    assert cache.git_hits == 1 and cache.hits == 2
    assert second["m/a.bin"].cached and second["m/a.bin"].sha256 == first["m/a.bin"].sha256
    # The new stat key was remembered: the next run hits without asking Git.
    _, cache3 = _run(tmp_path, root, ["m/a.bin"])
    assert cache3.git_hits == 0 and cache3.hits == 1


def test_file_modified_after_checkout_is_hashed_even_with_same_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _git_repo(tmp_path)
    _run(tmp_path, root, ["m/a.bin"])
    expected = _file(root / "m/a.bin", b"c" * 3000, mtime_ns=OLD_NS + 10**12)
    counter = _CountingDigest(monkeypatch)
    results, cache = _run(tmp_path, root, ["m/a.bin"])
    assert counter.reads == 1 and cache.git_hits == 0
    assert results["m/a.bin"].sha256 == expected and not results["m/a.bin"].cached


def test_untracked_file_gets_no_second_chance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _git_repo(tmp_path)
    _file(root / "m/new.bin", b"n" * 100)
    _run(tmp_path, root, ["m/new.bin"])
    entries = json.loads(HashCache.open(tmp_path / "cache", root).file.read_text())["entries"]
    assert len(entries["m/new.bin"]) == 4
    (root / "m/new.bin").unlink()
    _file(root / "m/new.bin", b"n" * 100, mtime_ns=OLD_NS + 5)
    counter = _CountingDigest(monkeypatch)
    _run(tmp_path, root, ["m/new.bin"])
    assert counter.reads == 1


def test_scanning_a_subdirectory_of_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _git_repo(tmp_path)
    sub = root / "m"
    _run(tmp_path, sub, ["a.bin"])
    _fresh_checkout(root, "m/a.bin")
    counter = _CountingDigest(monkeypatch)
    _, cache = _run(tmp_path, sub, ["a.bin"])
    assert counter.reads == 0 and cache.git_hits == 1


def test_no_git_no_second_chance_and_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _git_repo(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    _run(tmp_path, root, ["m/a.bin"])
    entries = json.loads(HashCache.open(tmp_path / "cache", root).file.read_text())["entries"]
    assert len(entries["m/a.bin"]) == 4


def test_git_blob_map_skips_conflicts_symlinks_and_dirty_files(tmp_path: Path) -> None:
    from unified_supply_chain.hashing.cache import git_clean_blobs

    root = _git_repo(tmp_path)
    (root / "link").symlink_to("m/a.bin")
    _git(root, "add", "link")
    _git(root, "commit", "-q", "-m", "link")
    _file(root / "m/b.bin", b"changed", mtime_ns=OLD_NS + 7)
    blobs = git_clean_blobs(root)
    assert set(blobs) == {"m/a.bin"}
    assert blobs["m/a.bin"] == _git(root, "rev-parse", "HEAD:m/a.bin").strip()
    assert git_clean_blobs(tmp_path / "cache-does-not-exist") == {}
