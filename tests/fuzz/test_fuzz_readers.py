"""Bounded mutation fuzzing of every reader: only FormatError escapes, and nothing hangs.

Each example takes a valid seed built in tests/fuzz/targets.py, corrupts one of its files (byte
flips, truncations, length fields set to huge values, random and structural insertions, spliced
copies; or, for JSON/YAML text, values and keys swapped for ones of unexpected types) and calls
the reader. A longer, unbounded run of the same targets is scripts/fuzz.py.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.targets import TARGETS, check_seeds, mutate, mutate_structure, run_target

#: A reader that takes longer than this on a seed-sized input is hanging (the real per-file cap
#: in inspection/headers.py is limits.PER_FILE_SECONDS; these inputs are a few kilobytes).
HANG_SECONDS = 10.0
#: And one slower than this is a performance bug worth a failure, even if it would finish.
SLOW_SECONDS = 3.0

#: Examples per target: binary formats with length fields get more.
EXAMPLES = {
    "safetensors": 120,
    "gguf": 120,
    "onnx": 120,
    "pytorch-zip": 100,
    "pytorch-legacy": 100,
    "pickle": 100,
    "joblib": 80,
    "npy": 100,
    "npz": 80,
    "keras-zip": 80,
    "savedmodel": 100,
    "parquet": 100,
    "arrow": 100,
    "merge": 25,
    "safety-scan": 150,
    "mlflow": 40,
    "dvc": 60,
    "hydra": 60,
}
DEFAULT_EXAMPLES = 50


class Hang(BaseException):
    """Raised by the alarm; a BaseException so no reader's `except Exception` can swallow it."""


@contextmanager
def wall_clock(seconds: float) -> Iterator[None]:
    """Interrupt the block after `seconds` (SIGALRM; the suite runs tests in the main thread)."""
    assert threading.current_thread() is threading.main_thread()

    def on_alarm(signum: int, frame: Any) -> None:
        raise Hang(f"no answer after {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_every_seed_is_read_without_error() -> None:
    # Fuzzing from seeds the readers reject would only exercise the first error path.
    assert check_seeds() == {}


def test_there_are_many_targets() -> None:
    # Per-format coverage is asserted from the registry (tests/unit/test_registry.py).
    assert len(TARGETS) >= 35


_WARM: set[str] = set()


def _warm_up(name: str) -> None:
    """Read each seed once, untimed: first calls pay for imports and lazy set-up (the merge
    validator compiles its URI grammar on first use), which is not the reader's time."""
    if name not in _WARM:
        target = TARGETS[name]
        for seed in target.seeds():
            run_target(target, seed, seed.tree[seed.victim])
        _WARM.add(name)


def _fuzz(name: str, data: st.DataObject) -> None:
    target = TARGETS[name]
    _warm_up(name)
    seeds = target.seeds()
    seed = seeds[data.draw(st.integers(0, len(seeds) - 1), label="seed")]

    def choose(lo: int, hi: int) -> int:
        return data.draw(st.integers(lo, hi))

    original = seed.tree[seed.victim]
    structured = mutate_structure(original, choose) if data.draw(st.booleans()) else None
    victim = structured if structured is not None else mutate(original, choose)
    started = time.perf_counter()
    with wall_clock(HANG_SECONDS):
        # Exceptions other than the target's allowed ones propagate: a reader bug.
        run_target(target, seed, victim)
    elapsed = time.perf_counter() - started
    assert elapsed < SLOW_SECONDS, f"{name} took {elapsed:.2f} s on {len(victim)} bytes"


def _test_for(name: str) -> Any:
    @settings(
        max_examples=EXAMPLES.get(name, DEFAULT_EXAMPLES),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(data=st.data())
    def test(data: st.DataObject) -> None:
        _fuzz(name, data)

    return test


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_mutated_inputs_raise_only_format_error(name: str) -> None:
    # Seeds come from unit-test modules, some defining @given tests: import them (and build the
    # seeds) before Hypothesis runs, or defining those tests inside this one is a nested @given.
    _warm_up(name)
    _test_for(name)()
