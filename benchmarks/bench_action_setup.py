"""Cold set-up of the composite action's environment: pip vs uv, in the same run.

Runs exactly what action.yml runs to build `.venv-usc` from requirements/action.txt
(`--require-hashes --no-deps --only-binary :all:`), each time in a fresh directory with an empty
package cache, so downloads count: this is what a hosted runner pays on the first use of the
action. A warm round (cache kept from the cold round, new venv) is measured too, for context.

    python benchmarks/bench_action_setup.py [--repeat 3] [--python python3] [--keep-pip-config]

By default the machine's pip and uv configuration (extra indexes, find-links, constraints) is
ignored, as on a hosted runner: index look-ups in extra locations would be timed otherwise.

Prints the absolute times and the pip/uv ratio (median of the repeats).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "requirements" / "action.txt"


def find_uv() -> str:
    for candidate in (Path(sys.executable).parent / "uv", shutil.which("uv")):
        if candidate and Path(candidate).exists():
            return str(candidate)
    raise SystemExit("uv not found (pip install uv)")


def run(cmd: list[str], env: dict[str, str]) -> None:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}")


#: Settings that keep their effect under isolation (TLS trust, timeouts), not index locations.
_KEPT_PIP_SETTINGS = ("PIP_CERT", "PIP_DEFAULT_TIMEOUT", "PIP_DISABLE_PIP_VERSION_CHECK")


def pip_env(cache: Path, keep_config: bool) -> dict[str, str]:
    env = {**os.environ, "PIP_CACHE_DIR": str(cache)}
    if not keep_config:
        env = {k: v for k, v in env.items() if not k.startswith("PIP_") or k in _KEPT_PIP_SETTINGS}
        env["PIP_CACHE_DIR"] = str(cache)
        env["PIP_CONFIG_FILE"] = os.devnull
    return env


def setup_pip(python: str, venv: Path, cache: Path, keep_config: bool) -> float:
    env = pip_env(cache, keep_config)
    start = time.perf_counter()
    run([python, "-m", "venv", str(venv)], env)
    run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
            "--require-hashes",
            "--no-deps",
            "--only-binary",
            ":all:",
            "-r",
            str(REQUIREMENTS),
        ],
        env,
    )
    return time.perf_counter() - start


def setup_uv(uv: str, python: str, venv: Path, cache: Path, keep_config: bool) -> float:
    env = {**os.environ, "UV_CACHE_DIR": str(cache), "UV_PYTHON_DOWNLOADS": "never"}
    if not keep_config:
        env["UV_NO_CONFIG"] = "1"
    start = time.perf_counter()
    run([uv, "venv", "--quiet", "--python", python, str(venv)], env)
    run(
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            str(venv / "bin" / "python"),
            "--require-hashes",
            "--no-deps",
            "--only-binary",
            ":all:",
            "-r",
            str(REQUIREMENTS),
        ],
        env,
    )
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds per installer (default 3)")
    parser.add_argument("--python", default=shutil.which("python3") or sys.executable)
    parser.add_argument(
        "--keep-pip-config",
        action="store_true",
        help="use this machine's pip/uv configuration instead of ignoring it",
    )
    args = parser.parse_args()
    uv = find_uv()
    keep = args.keep_pip_config
    version = subprocess.run(
        [args.python, "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    pins = sum(1 for line in REQUIREMENTS.read_text().splitlines() if "==" in line)
    print(f"requirements/action.txt: {pins} pinned distributions; {version}; uv at {uv}")
    print("machine pip/uv configuration: " + ("used" if keep else "ignored (runner-like)"))
    results: dict[str, list[float]] = {"pip cold": [], "uv cold": [], "pip warm": [], "uv warm": []}
    for round_ in range(args.repeat):
        # Alternate the order so neither installer always runs on a cooler network/page cache.
        order = ("pip", "uv") if round_ % 2 == 0 else ("uv", "pip")
        for tool in order:
            with tempfile.TemporaryDirectory(prefix=f"usc-bench-{tool}-") as tmp:
                base = Path(tmp)
                cache = base / "cache"
                if tool == "pip":
                    cold = setup_pip(args.python, base / "venv-cold", cache, keep)
                    warm = setup_pip(args.python, base / "venv-warm", cache, keep)
                else:
                    cold = setup_uv(uv, args.python, base / "venv-cold", cache, keep)
                    warm = setup_uv(uv, args.python, base / "venv-warm", cache, keep)
            results[f"{tool} cold"].append(cold)
            results[f"{tool} warm"].append(warm)
            print(f"  round {round_ + 1}: {tool:3} cold {cold:6.2f} s   warm {warm:6.2f} s")
    median = {key: statistics.median(values) for key, values in results.items()}
    print()
    print(f"{'set-up':10} {'median':>8}  runs")
    for key, values in results.items():
        runs = ", ".join(f"{v:.2f}" for v in values)
        print(f"{key:10} {median[key]:7.2f}s  {runs}")
    print()
    print(
        f"cold set-up, pip / uv: {median['pip cold'] / median['uv cold']:.1f}x "
        f"({median['pip cold']:.1f} s vs {median['uv cold']:.1f} s)"
    )
    print(
        f"warm cache,  pip / uv: {median['pip warm'] / median['uv warm']:.1f}x "
        f"({median['pip warm']:.1f} s vs {median['uv warm']:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
