"""Serialise and write documents atomically: a reader never sees half a file, and a failed run
never clobbers an existing SBOM."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from unified_supply_chain.errors import OutputError


def serialise(document: dict[str, Any]) -> bytes:
    """Stable JSON bytes: same document, same bytes (key order as built, 2-space indent)."""
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def write_atomic(data: bytes, path: Path) -> None:
    """Write `data` to `path` through a temporary file in the same directory and a rename."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def write_document(document: dict[str, Any], path: Path) -> str:
    """Write `document` atomically; return the SHA-256 of the bytes written."""
    data = serialise(document)
    write_atomic(data, path)
    return hashlib.sha256(data).hexdigest()
