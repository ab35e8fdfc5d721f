"""Serialise and write documents atomically: a reader never sees half a file, and a failed run
never clobbers an existing SBOM."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from unified_supply_chain.errors import OutputError


def serialise(document: dict[str, Any]) -> bytes:
    """Stable JSON bytes: same document, same bytes (key order as built, 2-space indent).

    Non-ASCII text stays as it is, but DEL and C1 controls (which json.dumps leaves raw with
    `ensure_ascii=False`) become `\\u` escapes: no raw control character in any output.
    """
    from unified_supply_chain.console import json_text

    return (json_text(json.dumps(document, indent=2, ensure_ascii=False)) + "\n").encode("utf-8")


def write_atomic(data: bytes, path: Path) -> None:
    """Write `data` to `path` so that a reader never sees half a file.

    A regular file (or a new one) is written through a temporary file in the same directory and a
    rename, keeping an existing file's permission bits. A symlink is followed: its target is
    written the same way and the link stays. A FIFO, a terminal or a device (`/dev/stdout`) is
    written to directly: renaming over it would replace the node itself.
    """
    if not str(path):
        raise OutputError("the output path is empty")
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputError(f"cannot write {path}: it is a directory")
    if st is not None and not stat.S_ISREG(st.st_mode):
        try:
            with open(target, "wb") as fh:
                fh.write(data)
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
        return
    mode = stat.S_IMODE(st.st_mode) if st is not None else 0o644
    directory = target.parent if str(target.parent) else Path(".")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def write_document(document: dict[str, Any], path: Path) -> str:
    """Write `document` atomically; return the SHA-256 of the bytes written."""
    data = serialise(document)
    write_atomic(data, path)
    return hashlib.sha256(data).hexdigest()
