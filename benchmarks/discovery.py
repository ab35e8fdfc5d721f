"""Cost of git-native discovery against the walker, on one generated 50,000-file repository.

    .venv/bin/python benchmarks/discovery.py            # 50,000 tracked files (~1 minute)
    .venv/bin/python benchmarks/discovery.py --files 5000

The repository (generated once under benchmarks/work/discovery-<files>/, deterministic) is shaped
like a real checkout: tracked source files in nested packages, a committed-then-ignored
`lightning_logs/`, an ignored `outputs/` of untracked files, an untracked virtual environment and
a few untracked, unignored files. Both functions are timed in this process, alternating round by
round so background load hits both alike; the table gives medians, their ratio, what each found
and the load average before and after. `discover` includes its `git ls-files` subprocess.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from unified_supply_chain.discover.gittree import discover  # noqa: E402
from unified_supply_chain.discover.walk import walk  # noqa: E402


def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z"}
    env["GIT_COMMITTER_DATE"] = env["GIT_AUTHOR_DATE"]
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=b", "-c", "user.email=b@example.com", *args],
        check=True,
        capture_output=True,
        env=env,
    )


def generate(repo: Path, files: int) -> None:
    """The repository, unless a complete one is already there."""
    if (repo / ".complete").exists():
        return
    if repo.exists():
        subprocess.run(["rm", "-rf", str(repo)], check=True)
    repo.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    (repo / ".gitignore").write_text("lightning_logs/\noutputs/\n*.log\n")
    for i in range(files):
        d = repo / "src" / f"pkg{i % 50:02d}" / f"mod{(i // 50) % 20:02d}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i}.py").write_text(f"def f{i}(x):\n    return x * {i}\n")
    logs = repo / "lightning_logs" / "version_0"
    logs.mkdir(parents=True)
    (logs / "hparams.yaml").write_text("lr: 0.1\n")
    (logs / "metrics.csv").write_text("epoch,loss\n0,1.0\n")
    _git(repo, "add", "-A")
    _git(repo, "add", "-f", "lightning_logs")
    _git(repo, "commit", "-q", "-m", "tree")
    out = repo / "outputs"
    for i in range(files // 10):
        (out / f"run{i % 10}").mkdir(parents=True, exist_ok=True)
        (out / f"run{i % 10}" / f"step{i}.bin").write_bytes(b"\0" * 16)
    venv = repo / ".venv" / "lib" / "site-packages"
    venv.mkdir(parents=True)
    (repo / ".venv" / "pyvenv.cfg").write_text("home = /usr\n")
    for i in range(files // 10):
        (venv / f"m{i}.py").write_text("x = 1\n")
    for i in range(20):
        (repo / f"scratch{i}.txt").write_text("note\n")
    (repo / ".complete").write_text("")


def _timed(fn: object, root: Path) -> tuple[float, int]:
    t = time.perf_counter()
    found = fn(root)  # type: ignore[operator]
    return time.perf_counter() - t, len(found.files)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=50_000, help="tracked source files")
    ap.add_argument("--rounds", type=int, default=7, help="alternating rounds (median)")
    args = ap.parse_args()
    repo = HERE / "work" / f"discovery-{args.files}"
    generate(repo, args.files)
    load_before = os.getloadavg()
    times: dict[str, list[float]] = {"walk": [], "git": []}
    counts: dict[str, int] = {}
    for _ in range(args.rounds):
        for name, fn in (("walk", walk), ("git", discover)):
            seconds, n = _timed(fn, repo)
            times[name].append(seconds)
            counts[name] = n
    load_after = os.getloadavg()
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"repository: {repo} ({args.files} tracked source files), {args.rounds} rounds")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)")
    print("| discovery | median s | files found |")
    print("| --- | ---: | ---: |")
    print(f"| walker (.gitignore via pathspec) | {med['walk']:.3f} | {counts['walk']} |")
    print(f"| git ls-files | {med['git']:.3f} | {counts['git']} |")
    print(f"ratio git / walker: {med['git'] / med['walk']:.2f}x")


if __name__ == "__main__":
    main()
