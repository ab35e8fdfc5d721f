"""Progress on long runs: a live line on a terminal, a plain line every few seconds in CI logs.

Short runs stay silent (nothing is shown during the first `GRACE` seconds). The hasher reports
bytes while it reads (every few tens of MB, from its threads) as well as finished files, so the
line moves during one multi-gigabyte model file too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TextIO

from unified_supply_chain.hashing.digests import HashResult

#: Seconds between plain progress lines when stderr is not a terminal.
PLAIN_INTERVAL = 5.0
#: Seconds between updates of the live line on a terminal.
TTY_INTERVAL = 0.2
#: Seconds before anything is shown: short runs stay quiet.
GRACE = 1.0


class _FileDone:
    """The `file_done` callback: callable per finished file, with `partial` for bytes read."""

    def __init__(self, owner: Progress) -> None:
        self._owner = owner

    def __call__(self, result: HashResult) -> None:
        self._owner._file(result)

    def partial(self, nbytes: int) -> None:
        self._owner._partial(nbytes)


class Progress:
    """Counts files and bytes hashed and reports them at a bounded rate."""

    def __init__(
        self,
        stream: TextIO,
        *,
        interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        isatty = getattr(stream, "isatty", None)
        try:
            self.tty = bool(isatty()) if callable(isatty) else False
        except (OSError, ValueError):
            self.tty = False
        self.interval = (
            interval if interval is not None else (TTY_INTERVAL if self.tty else PLAIN_INTERVAL)
        )
        self._clock = clock
        self.start = clock()
        #: When the first byte or file was reported (the rate is measured from there).
        self.first: float | None = None
        self.last = self.start + GRACE - self.interval
        self.files = 0
        """Files finished (hashed, cached or failed)."""
        self.cached = 0
        """Files whose digest came from the cache."""
        self._file_bytes = 0
        self._partial_bytes = 0
        self._lock = threading.Lock()
        self._shown = False
        self._closed = False
        self.file_done = _FileDone(self)
        """Pass as `on_done` to `hash_files`: `file_done(result)` after each file."""

    @property
    def bytes(self) -> int:
        """Bytes hashed so far (read from files, cache hits excluded)."""
        return max(self._file_bytes, self._partial_bytes)

    def _file(self, result: HashResult) -> None:
        with self._lock:
            self.files += 1
            if result.cached:
                self.cached += 1
            else:
                self._file_bytes += result.size
            self._tick()

    def _partial(self, nbytes: int) -> None:
        with self._lock:
            self._partial_bytes += nbytes
            self._tick()

    def _tick(self) -> None:
        now = self._clock()
        if self.first is None:
            self.first = now
        if not self._closed and now - self.last >= self.interval:
            self.last = now
            self._emit(now)

    def line(self, now: float) -> str:
        """The progress text at time `now`."""
        elapsed = max(now - (self.first if self.first is not None else self.start), 1e-9)
        nbytes = self.bytes
        rate = nbytes / elapsed / 1e6
        return (
            f"usc: hashed {self.files} files ({self.cached} cached), "
            f"{nbytes / 1e6:.1f} MB at {rate:.0f} MB/s"
        )

    def _emit(self, now: float) -> None:
        text = self.line(now)
        try:
            if self.tty:
                self.stream.write("\r\x1b[K" + text)
            else:
                self.stream.write(text + "\n")
            self.stream.flush()
        except (OSError, ValueError):
            return  # a closed or broken stderr must not stop the run
        self._shown = True

    def close(self) -> None:
        """Show the final counts when a progress line was shown, and end the live line."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._shown:
                self._emit(self._clock())
                if self.tty:
                    try:
                        self.stream.write("\n")
                        self.stream.flush()
                    except (OSError, ValueError):
                        pass
