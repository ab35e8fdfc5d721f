"""Reading what a file is: its first bytes for classification, its header by the format's reader,
under a per-file time limit; a bad file becomes a warning, never an exception."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError, LimitExceeded
from unified_supply_chain.formats import registry
from unified_supply_chain.records import ArtifactKind, HeaderInfo


@contextlib.contextmanager
def time_limit(seconds: float, what: str) -> Iterator[None]:
    """Raise LimitExceeded in the main thread when a reader runs longer than `seconds`."""
    usable = (
        seconds > 0
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise LimitExceeded(f"{what} took longer than {seconds:g} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def read_header(path: Path, fmt: str) -> tuple[HeaderInfo | None, str | None]:
    """Run the format's reader; a bad file gives (None, warning), never an exception."""
    spec = registry().get(fmt)
    if spec is None or spec.reader is None:
        return HeaderInfo(format=fmt), None
    try:
        with time_limit(limits.PER_FILE_SECONDS, f"reading the {fmt} header"):
            return spec.read(path), None
    except FormatError as exc:
        return None, f"unreadable {fmt} file: {exc}"
    except (OSError, MemoryError, RecursionError) as exc:  # filesystem faults, defensive caps
        return None, f"unreadable {fmt} file: {type(exc).__name__}: {exc}"
    except Exception as exc:  # noqa: BLE001 - a bug here must not lose the SBOM
        return None, f"unreadable {fmt} file (reader error {type(exc).__name__}: {exc})"


def sniff(path: str) -> tuple[bytes | None, str | None]:
    """The first `limits.SNIFF_BYTES` of a file, neither following a symlink nor blocking."""
    try:
        fd = os.open(
            path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        )
    except OSError as exc:
        return None, f"cannot open: {exc.strerror or exc}"
    try:
        return os.read(fd, limits.SNIFF_BYTES), None
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or exc}"
    finally:
        os.close(fd)


def kind_of(fmt: str, relpath: str, header: HeaderInfo | None) -> ArtifactKind | None:
    """What the format's kind rule makes of this file (None: not an artifact)."""
    spec = registry().get(fmt)
    return spec.kind_for(relpath, header) if spec is not None else None
