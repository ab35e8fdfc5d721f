"""Persistent hash cache: a digest is reused only when path, size, mtime_ns and inode all match.

One JSON file per scanned root inside the cache directory (which CI persists with
actions/cache). A corrupt or foreign cache file is ignored with a warning, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

from unified_supply_chain.bom.write import write_atomic

FORMAT = "unified-supply-chain/hash-cache@1"


class HashCache:
    """Digests keyed by (path, size, mtime_ns, inode)."""

    def __init__(self, file: Path, entries: dict[str, list[object]], warning: str | None = None):
        self.file = file
        self._entries = entries
        self._dirty = False
        self._lock = threading.Lock()
        self.warning = warning
        """Why an existing cache file was ignored, if it was."""
        self.hits = 0
        self.misses = 0

    @classmethod
    def open(cls, directory: Path, root: Path) -> HashCache:
        """Load the cache of `root` from `directory` (empty when absent or unusable)."""
        key = hashlib.sha256(os.fsencode(os.path.realpath(root))).hexdigest()[:24]
        file = directory / f"hashes-{key}.json"
        try:
            with open(file, "rb") as fh:
                raw = fh.read(256 * 1024 * 1024)
        except FileNotFoundError:
            return cls(file, {})
        except OSError as exc:
            return cls(file, {}, f"hash cache {file} not readable ({exc.strerror}); ignored")
        try:
            data = json.loads(raw)
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError("unknown format")
            entries = data["entries"]
            if not isinstance(entries, dict):
                raise ValueError("entries is not an object")
            clean = {}
            for path, value in entries.items():
                if (isinstance(value, list) and len(value) == 4
                        and all(isinstance(v, int) for v in value[:3])
                        and isinstance(value[3], str) and len(value[3]) == 64):
                    clean[path] = value
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            return cls(file, {}, f"hash cache {file} is corrupt ({exc}); ignored and rebuilt")
        return cls(file, clean)

    def get(self, path: str, size: int, mtime_ns: int, inode: int) -> str | None:
        """The cached digest when every key field matches, else None."""
        with self._lock:
            value = self._entries.get(path)
            if value is not None and value[:3] == [size, mtime_ns, inode]:
                self.hits += 1
                return str(value[3])
            self.misses += 1
            return None

    def put(self, path: str, size: int, mtime_ns: int, inode: int, sha256: str) -> None:
        """Remember a digest computed just now."""
        with self._lock:
            self._entries[path] = [size, mtime_ns, inode, sha256]
            self._dirty = True

    def save(self) -> None:
        """Write the cache atomically when it changed (errors are not fatal: it is a cache)."""
        if not self._dirty:
            return
        data = json.dumps({"format": FORMAT, "entries": self._entries}, separators=(",", ":"))
        try:
            write_atomic(data.encode("utf-8", "surrogateescape"), self.file)
        except Exception:  # noqa: BLE001 - an unwritable cache only costs speed
            return
        self._dirty = False
