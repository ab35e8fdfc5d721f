"""Progress on long runs: a live line on a terminal, a plain line every few seconds in CI logs."""

from __future__ import annotations

import threading
import time
from typing import TextIO

from unified_supply_chain.hashing import HashResult

#: Seconds between plain progress lines when stderr is not a terminal.
PLAIN_INTERVAL = 5.0
#: Seconds before anything is shown: short runs stay quiet.
GRACE = 1.0


class Progress:
    """Counts files and bytes hashed and reports them at a bounded rate."""

    def __init__(self, stream: TextIO, *, interval: float | None = None) -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.interval = interval if interval is not None else (0.2 if self.tty else PLAIN_INTERVAL)
        self.start = time.monotonic()
        self.last = self.start + GRACE - self.interval
        self.files = 0
        self.bytes = 0
        self.cached = 0
        self._lock = threading.Lock()
        self._shown = False

    def file_done(self, result: HashResult) -> None:
        """Called by the hasher after each file."""
        with self._lock:
            self.files += 1
            if result.cached:
                self.cached += 1
            else:
                self.bytes += result.size
            now = time.monotonic()
            if now - self.last >= self.interval:
                self.last = now
                self._emit(now)

    def line(self, now: float) -> str:
        elapsed = max(now - self.start, 1e-9)
        rate = self.bytes / elapsed / 1e6
        return (f"usc: hashed {self.files} files ({self.cached} cached), "
                f"{self.bytes / 1e6:.1f} MB at {rate:.0f} MB/s")

    def _emit(self, now: float) -> None:
        text = self.line(now)
        if self.tty:
            self.stream.write("\r\x1b[K" + text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        """End the live line (if one was shown)."""
        if self._shown and self.tty:
            self.stream.write("\n")
            self.stream.flush()
