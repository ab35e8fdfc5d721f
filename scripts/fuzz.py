"""Long fuzz mode for the readers: coverage-guided with atheris (libFuzzer) where it is installed,
else a random mutation loop over the same seeds and mutations as the bounded suite tests.

    python scripts/fuzz.py                         # every target, 60 s each, atheris if present
    python scripts/fuzz.py -t gguf -t onnx -s 300  # chosen targets, 5 minutes each
    python scripts/fuzz.py --engine random         # no atheris

Targets and seeds live in tests/fuzz/targets.py. A reader may return or raise FormatError
(MergeError for merge inputs); any other exception is a crash, an input that takes longer than
--timeout seconds a hang. Each distinct crash (exception type + innermost frame in our package)
is saved under --crash-dir as <target>/<digest>.bin with a .txt traceback beside it. Prints, per
target: executions, executions per second, crashes (distinct) and hangs; exits 1 on any crash.

With atheris, each target runs in its own process (libFuzzer ends the process when its time is
up); its coverage feedback comes from instrumenting the unified_supply_chain package only.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for entry in (str(REPO / "src"), str(REPO)):
    if entry not in sys.path:
        sys.path.insert(0, entry)


#: Inputs are written to a file per execution: on tmpfs that is ~20x faster than on disk.
FAST_TMP = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


class Hang(BaseException):
    """One input ran past the time limit (a BaseException: readers cannot swallow it)."""


@dataclass
class Stats:
    """What one target's run found."""

    target: str
    engine: str
    executions: int = 0
    seconds: float = 0.0
    crashes: dict[str, str] = field(default_factory=dict)
    """Crash signature -> saved input path."""
    hangs: int = 0
    slowest: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "engine": self.engine,
            "executions": self.executions,
            "seconds": round(self.seconds, 1),
            "crashes": self.crashes,
            "hangs": self.hangs,
            "slowest_seconds": round(self.slowest, 3),
        }


def _signature(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "unified_supply_chain" in f.filename] or frames
    last = ours[-1] if ours else None
    where = f"{Path(last.filename).name}:{last.lineno}" if last else "?"
    return f"{type(exc).__name__} at {where}"


def _save(crash_dir: Path, target: str, data: bytes, exc: BaseException) -> str:
    folder = crash_dir / target
    folder.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256(data).hexdigest()[:16]
    (folder / f"{name}.bin").write_bytes(data)
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    return str(folder / f"{name}.bin")


class Runner:
    """Runs one target's reader on mutated bytes in a reused directory per seed."""

    def __init__(
        self,
        target_name: str,
        crash_dir: Path,
        timeout: float,
        engine: str,
        workdir: Path | None = None,
    ) -> None:
        from tests.fuzz.targets import TARGETS, write_tree

        self.target = TARGETS[target_name]
        self.seeds = self.target.seeds()
        self.crash_dir = crash_dir
        self.timeout = timeout
        self.stats = Stats(target_name, engine)
        self.workdir = workdir or Path(
            tempfile.mkdtemp(prefix=f"usc-fuzz-{target_name}-", dir=FAST_TMP)
        )
        self.roots = []
        for i, seed in enumerate(self.seeds):
            root = self.workdir / str(i)
            write_tree(root, seed.tree)
            self.roots.append(root)
        # One untimed pass over the seeds: first calls pay for imports and lazy set-up (the merge
        # validator compiles its URI grammar), which is not the reader's time.
        for seed, root in zip(self.seeds, self.roots, strict=True):
            with contextlib.suppress(Exception):
                self.target.run(root, seed.victim)
        signal.signal(signal.SIGALRM, self._alarm)

    def _alarm(self, signum: int, frame: Any) -> None:
        raise Hang(f"over {self.timeout} s")

    def close(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)

    def one(self, index: int, data: bytes) -> None:
        """Run the reader on `data` as seed `index`'s victim; record crashes and hangs."""
        seed, root = self.seeds[index], self.roots[index]
        (root / seed.victim).write_bytes(data)
        started = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, self.timeout)
        try:
            self.target.run(root, seed.victim)
        except self.target.allowed:
            pass
        except Hang as exc:
            self.stats.hangs += 1
            self._record(f"Hang (> {self.timeout:g} s)", data, exc)
        except Exception as exc:  # noqa: BLE001 - any other exception is what we look for
            self._record(_signature(exc), data, exc)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        self.stats.slowest = max(self.stats.slowest, time.perf_counter() - started)
        self.stats.executions += 1

    def _record(self, signature: str, data: bytes, exc: BaseException) -> None:
        if signature not in self.stats.crashes:
            self.stats.crashes[signature] = _save(self.crash_dir, self.stats.target, data, exc)
            print(f"  crash: {signature} -> {self.stats.crashes[signature]}", file=sys.stderr)


def run_random(name: str, seconds: float, crash_dir: Path, timeout: float, seed: int) -> Stats:
    """Random mutation loop: mutate a seed, sometimes keep mutating the last input (deeper
    corruption), until `seconds` have passed."""
    from tests.fuzz.targets import mutate, mutate_structure

    runner = Runner(name, crash_dir, timeout, "random")
    rng = random.Random(f"{seed}:{name}")
    started = time.monotonic()
    last: tuple[int, bytes] | None = None
    try:
        while time.monotonic() - started < seconds:
            if last is not None and rng.random() < 0.3:
                index, base = last
            else:
                index = rng.randrange(len(runner.seeds))
                base = runner.seeds[index].tree[runner.seeds[index].victim]
            structured = mutate_structure(base, rng.randint) if rng.random() < 0.5 else None
            if structured is not None:
                data = structured  # JSON/YAML text: values of unexpected types
            else:
                data = mutate(base, rng.randint, max_ops=rng.choice((2, 4, 8)))
            runner.one(index, data)
            last = (index, data)
    finally:
        runner.stats.seconds = time.monotonic() - started
        runner.close()
    return runner.stats


def atheris_worker(
    name: str,
    seconds: float,
    crash_dir: Path,
    timeout: float,
    stats_file: Path,
    workdir: Path | None = None,
) -> None:
    """Inside a child process: fuzz one target with atheris until libFuzzer's time is up."""
    import atheris

    with atheris.instrument_imports(include=["unified_supply_chain"]):
        pass

    # libFuzzer ends the process without Python's cleanup: the parent removes `workdir`.
    runner = Runner(name, crash_dir, timeout, "atheris", workdir)
    corpus = runner.workdir / "corpus"
    corpus.mkdir()
    for i, seed in enumerate(runner.seeds):
        (corpus / f"seed-{i}").write_bytes(bytes([i]) + seed.tree[seed.victim])
    started = time.monotonic()
    last_write = [0.0]

    def dump() -> None:
        runner.stats.seconds = time.monotonic() - started
        stats_file.write_text(json.dumps(runner.stats.as_json()))

    def test_one_input(data: bytes) -> None:
        # First byte picks the seed (tree) the rest of the input is the victim file of.
        if not data:
            return
        runner.one(data[0] % len(runner.seeds), data[1:])
        now = time.monotonic()
        if now - last_write[0] > 1.0:
            last_write[0] = now
            dump()

    dump()
    argv = [
        sys.argv[0],
        str(corpus),
        f"-max_total_time={int(seconds)}",
        f"-timeout={int(timeout) + 5}",
        "-rss_limit_mb=4096",
        "-max_len=65536",
        "-print_final_stats=1",
    ]
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


def run_atheris(
    name: str, seconds: float, crash_dir: Path, timeout: float, excuse_known: bool = False
) -> Stats:
    """Fuzz one target in a child process under atheris and read back its figures."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        tempfile.TemporaryDirectory(prefix=f"usc-fuzz-{name}-", dir=FAST_TMP) as work,
    ):
        stats_file = Path(tmp) / "stats.json"
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--atheris-worker",
            name,
            "--seconds",
            str(seconds),
            "--crash-dir",
            str(crash_dir),
            "--timeout",
            str(timeout),
            "--stats-file",
            str(stats_file),
            "--workdir",
            work,
            *(["--excuse-known"] if excuse_known else []),
        ]
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=seconds + 300, check=False, cwd=tmp
        )
        stats = Stats(name, "atheris")
        if stats_file.exists():
            data = json.loads(stats_file.read_text())
            stats.executions, stats.seconds = data["executions"], data["seconds"]
            stats.crashes, stats.hangs = data["crashes"], data["hangs"]
            stats.slowest = data["slowest_seconds"]
        done = re.search(r"Done (\d+) runs in (\d+) second", proc.stderr)
        if done:
            stats.executions = max(stats.executions, int(done.group(1)))
            stats.seconds = max(stats.seconds, float(done.group(2)))
        if proc.returncode != 0 and not stats.crashes:
            # libFuzzer itself stopped on something (a timeout, a memory limit, a native crash).
            tail = "\n".join(proc.stderr.splitlines()[-15:])
            stats.crashes[f"libFuzzer exit {proc.returncode}"] = tail
        return stats


def main(argv: list[str] | None = None) -> int:
    from tests.fuzz.targets import TARGETS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-t", "--target", action="append", choices=sorted(TARGETS), default=[])
    parser.add_argument("-s", "--seconds", type=float, default=60.0, help="per target")
    parser.add_argument("--engine", choices=("auto", "atheris", "random"), default="auto")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per input")
    parser.add_argument("--seed", type=int, default=0, help="PRNG seed (random engine)")
    parser.add_argument("--crash-dir", type=Path, default=Path("fuzz-crashes"))
    parser.add_argument("--json", type=Path, default=None, help="also write figures as JSON")
    parser.add_argument(
        "--excuse-known",
        action="store_true",
        help="do not report the known bugs listed in tests/fuzz/targets.py KNOWN_BUGS",
    )
    parser.add_argument("--atheris-worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--stats-file", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    crash_dir = args.crash_dir.resolve()
    import tests.fuzz.targets as fuzz_targets

    fuzz_targets.EXCUSE_KNOWN_BUGS = args.excuse_known
    if args.atheris_worker:
        atheris_worker(
            args.atheris_worker,
            args.seconds,
            crash_dir,
            args.timeout,
            args.stats_file,
            args.workdir,
        )
        return 0
    engine = args.engine
    if engine == "auto":
        try:
            import atheris  # noqa: F401

            engine = "atheris"
        except ImportError:
            engine = "random"
    names = args.target or sorted(TARGETS)
    results: list[Stats] = []
    print(f"engine: {engine}; {len(names)} target(s), {args.seconds:g} s each", file=sys.stderr)
    for name in names:
        if engine == "atheris":
            stats = run_atheris(name, args.seconds, crash_dir, args.timeout, args.excuse_known)
        else:
            stats = run_random(name, args.seconds, crash_dir, args.timeout, args.seed)
        results.append(stats)
        rate = stats.executions / stats.seconds if stats.seconds else 0.0
        print(
            f"{name:20s} {stats.executions:9d} execs {rate:8.0f}/s  crashes {len(stats.crashes)}"
            f"  hangs {stats.hangs}  slowest {stats.slowest:.3f} s",
            flush=True,
        )
        for signature, where in stats.crashes.items():
            print(f"    {signature}: {where}", flush=True)
    total = sum(s.executions for s in results)
    crashes = sum(len(s.crashes) for s in results)
    print(f"total: {total} executions, {crashes} distinct crashes", flush=True)
    if args.json is not None:
        args.json.write_text(json.dumps([s.as_json() for s in results], indent=2) + "\n")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
