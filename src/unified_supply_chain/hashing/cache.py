"""Persistent hash cache: a digest is reused only when path, size, mtime_ns and inode all match.

One JSON file per scanned root inside the cache directory (which CI persists with
actions/cache). A corrupt or foreign cache file is ignored with a warning, never trusted; the
file is replaced atomically (temporary file + rename), so a reader never sees half a cache.
Thread-safe: the hashing threads call `get` and `put` concurrently.

A fresh checkout (every CI run) gives every file a new mtime and inode, so the stat key alone
would never match there. Second chance, only after a stat-key miss: when Git says the file is
unmodified since it was checked out (`git diff-files`) and its blob id (`git ls-files -s`) and
size equal those recorded with the digest, the digest is reused: same blob and same size means
the same bytes in the working tree (end-of-line conversion changes the size). Git's own index
decides "unmodified", with its racy-timestamp checks; anything it reports as modified, untracked
or conflicted is hashed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import threading
from pathlib import Path

FORMAT = "unified-supply-chain/hash-cache@1"
#: Largest cache file read; a bigger one is treated as corrupt.
MAX_CACHE_BYTES = 256 * 1024 * 1024

_HEX64 = re.compile(r"[0-9a-f]{64}")


#: Seconds a Git query may take before the second chance is given up for this run.
GIT_TIMEOUT = 60.0

_GIT_OID = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")


def _valid_entry(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) in (4, 5)
        and all(type(v) is int and v >= 0 for v in value[:3])
        and isinstance(value[3], str)
        and _HEX64.fullmatch(value[3]) is not None
        and (
            len(value) == 4
            or (isinstance(value[4], str) and _GIT_OID.fullmatch(value[4]) is not None)
        )
    )


def _git(root: Path, *args: str) -> bytes | None:
    """Output of a read-only git command in `root`, or None (no git, not a repository, error)."""
    # GIT_DIR, GIT_INDEX_FILE, ... from a calling hook would point git at another repository.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["GIT_OPTIONAL_LOCKS"] = "0"  # never rewrite the index of the repository being scanned
    cmd = ["git", "-c", "core.fsmonitor=false", "-c", "core.untrackedCache=false", *args]
    try:
        done = subprocess.run(
            cmd, cwd=root, env=env, capture_output=True, timeout=GIT_TIMEOUT, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def git_clean_blobs(root: Path) -> dict[str, str]:
    """Root-relative path -> blob id of every regular file Git tracks and reports unmodified."""
    staged = _git(root, "ls-files", "--stage", "-z")
    if staged is None:
        return {}
    modified = _git(root, "diff-files", "--name-only", "--relative", "-z")
    if modified is None:
        return {}
    dirty = set(os.fsdecode(p) for p in modified.split(b"\0") if p)
    blobs: dict[str, str] = {}
    conflicted: set[str] = set()
    for record in staged.split(b"\0"):
        meta, sep, raw_path = record.partition(b"\t")
        if not sep:
            continue
        fields = meta.split()
        if len(fields) != 3:
            continue
        mode, oid, stage = (f.decode("ascii", "replace") for f in fields)
        path = os.fsdecode(raw_path)
        if stage != "0":
            conflicted.add(path)
        elif mode in ("100644", "100755") and _GIT_OID.fullmatch(oid) and path not in dirty:
            blobs[path] = oid
    for path in conflicted:
        blobs.pop(path, None)
    return blobs


class HashCache:
    """Digests keyed by (path, size, mtime_ns, inode)."""

    def __init__(
        self,
        file: Path,
        entries: dict[str, list[object]],
        warning: str | None = None,
        *,
        root: Path | None = None,
    ) -> None:
        self.file = file
        """The cache file (may not exist yet)."""
        self.root = root
        """The scanned root, to drop entries of files that no longer exist when saving."""
        self._entries = entries
        self._seen: set[str] = set()
        self._dirty = False
        self._lock = threading.Lock()
        self.warning = warning
        """Why an existing cache file was ignored, if it was."""
        self.hits = 0
        """Lookups answered from the cache."""
        self.misses = 0
        """Lookups not answered (absent, or a key field differed)."""
        self.puts = 0
        """Digests stored in this run."""
        self.git_hits = 0
        """Hits through Git's blob id after a stat-key miss (a fresh checkout)."""
        self._git_blobs: dict[str, str] | None = None

    @classmethod
    def open(cls, directory: Path, root: Path) -> HashCache:
        """Load the cache of `root` from `directory` (empty when absent or unusable)."""
        key = hashlib.sha256(os.fsencode(os.path.realpath(root))).hexdigest()[:24]
        file = Path(directory) / f"hashes-{key}.json"
        try:
            with open(file, "rb") as fh:
                raw = fh.read(MAX_CACHE_BYTES + 1)
        except FileNotFoundError:
            return cls(file, {}, root=root)
        except OSError as exc:
            return cls(
                file, {}, f"hash cache {file} not readable ({exc.strerror}); ignored", root=root
            )
        try:
            if len(raw) > MAX_CACHE_BYTES:
                raise ValueError(f"larger than {MAX_CACHE_BYTES} bytes")
            data = json.loads(raw)
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError("unknown format")
            entries = data["entries"]
            if not isinstance(entries, dict):
                raise ValueError("entries is not an object")
            clean = {path: value for path, value in entries.items() if _valid_entry(value)}
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            return cls(
                file,
                {},
                f"hash cache {file} is corrupt ({str(exc)[:200]}); ignored and rebuilt",
                root=root,
            )
        return cls(file, clean, root=root)

    def get(self, path: str, size: int, mtime_ns: int, inode: int) -> str | None:
        """The cached digest when every key field matches (or Git vouches, see above)."""
        with self._lock:
            self._seen.add(path)
            value = self._entries.get(path)
            if value is None:
                self.misses += 1
                return None
            if value[0] == size and value[1] == mtime_ns and value[2] == inode:
                self.hits += 1
                return str(value[3])
            if len(value) == 5 and value[0] == size and self._blob(path) == value[4]:
                # Same bytes as when hashed; remember the new stat key for the next run.
                self._entries[path] = [size, mtime_ns, inode, value[3], value[4]]
                self._dirty = True
                self.hits += 1
                self.git_hits += 1
                return str(value[3])
            self.misses += 1
            return None

    def put(self, path: str, size: int, mtime_ns: int, inode: int, sha256: str) -> None:
        """Remember a digest computed just now."""
        with self._lock:
            self._seen.add(path)
            entry: list[object] = [size, mtime_ns, inode, sha256]
            blob = self._blob(path)
            if blob is not None:
                entry.append(blob)
            self._entries[path] = entry
            self.puts += 1
            self._dirty = True

    def _blob(self, path: str) -> str | None:
        """Git's blob id of `path` when Git reports it unmodified (asked once per run)."""
        if self.root is None:
            return None
        if self._git_blobs is None:
            self._git_blobs = git_clean_blobs(self.root)
        return self._git_blobs.get(path)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def save(self) -> None:
        """Write the cache atomically when it changed (errors are not fatal: it is a cache).

        Entries of files not looked up in this run are kept while their file still exists (a
        narrower `--include` run must not empty the cache), and dropped otherwise.
        """
        from unified_supply_chain.bom.write import write_atomic

        with self._lock:
            if not self._dirty:
                return
            if self.root is not None:
                for path in [p for p in self._entries if p not in self._seen]:
                    if not os.path.lexists(os.path.join(self.root, path)):
                        del self._entries[path]
            data = json.dumps({"format": FORMAT, "entries": self._entries}, separators=(",", ":"))
            try:
                write_atomic(data.encode("utf-8", "surrogateescape"), self.file)
            except Exception:  # noqa: BLE001 - an unwritable cache only costs speed
                return
            self._dirty = False
