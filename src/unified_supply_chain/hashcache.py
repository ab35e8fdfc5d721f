"""Persistent hash cache: a digest is reused only when path, size, mtime_ns and inode all match.

One JSON file per scanned root inside the cache directory (which CI persists with
actions/cache). A corrupt or foreign cache file is ignored with a warning, never trusted; the
file is replaced atomically (temporary file + rename), so a reader never sees half a cache.
Thread-safe: the hashing threads call `get` and `put` concurrently.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from pathlib import Path

FORMAT = "unified-supply-chain/hash-cache@1"
#: Largest cache file read; a bigger one is treated as corrupt.
MAX_CACHE_BYTES = 256 * 1024 * 1024

_HEX64 = re.compile(r"[0-9a-f]{64}")


def _valid_entry(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 4
        and all(type(v) is int and v >= 0 for v in value[:3])
        and isinstance(value[3], str)
        and _HEX64.fullmatch(value[3]) is not None
    )


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
        """The cached digest when every key field matches, else None."""
        with self._lock:
            self._seen.add(path)
            value = self._entries.get(path)
            if (
                value is not None
                and value[0] == size
                and value[1] == mtime_ns
                and value[2] == inode
            ):
                self.hits += 1
                return str(value[3])
            self.misses += 1
            return None

    def put(self, path: str, size: int, mtime_ns: int, inode: int, sha256: str) -> None:
        """Remember a digest computed just now."""
        with self._lock:
            self._seen.add(path)
            self._entries[path] = [size, mtime_ns, inode, sha256]
            self.puts += 1
            self._dirty = True

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
