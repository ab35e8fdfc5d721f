"""Reproducible benchmarks of `usc sbom` against syft, cdxgen and `openssl dgst -sha256`.

    .venv/bin/python benchmarks/run.py            # default sizes (about 10 minutes, ~4.5 GB disk)
    .venv/bin/python benchmarks/run.py --quick    # small sizes (about 2 minutes)
    .venv/bin/python benchmarks/run.py --workload scan   # the safety scanner only (~2 minutes)

Workloads are generated (deterministically, from fixed seeds) under benchmarks/work/ and reused
while their parameters match: a "many files" repository (source files, CSV data, a few models)
and a "big model" repository (four large safetensors files, a Git LFS pointer, a DVC-tracked
output); with `--workload scan` or `all`, the safety-scan workload of benchmarks/scan_workload.py
(two 1 GiB pickle-bearing files and the benign corpus, against `cat` and picklescan). Every
measurement runs the tools as subprocesses, alternating them round by round (so
background load hits all of them alike), and reports medians; ratios are computed within the run.
The page cache is warm for every tool ("cold" means no hash cache, not an empty page cache: an
empty page cache would measure the disk, not the tools). Peak RSS is the child's (and its waited
descendants') maximum resident set size from wait4().

Results: a table on stdout, and benchmarks/work/results.json + results.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / "work"
VENV_BIN = Path(sys.executable).parent
PY = sys.executable
SRC = REPO / "src"
CDXGEN_DIR = WORK / "cdxgen-npm"
#: A fixed old mtime for generated files: outside the hash cache's racy window, reproducible.
MTIME_NS = 1_700_000_000_000_000_000
GIB = 1024**3
MIB = 1024**2

ENV = {
    **os.environ,
    "PYTHONPATH": str(SRC),
    "SYFT_CHECK_FOR_APP_UPDATE": "false",
    "FETCH_LICENSE": "false",
    "CDXGEN_TELEMETRY": "false",
    "DO_NOT_TRACK": "1",
    "NODE_NO_WARNINGS": "1",
}
ENV.pop("GITHUB_ACTIONS", None)
# With it set, every `import unified_supply_chain...` compiles the sources again (no .pyc is ever
# written), which an installed package never does; compile_sources() writes them once instead.
ENV.pop("PYTHONDONTWRITEBYTECODE", None)


def compile_sources() -> None:
    """Byte-compile src/ once (untimed), as installing the package does."""
    subprocess.run([PY, "-m", "compileall", "-q", str(SRC)], env=ENV, check=True)


# --- workloads ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    """Workload parameters (the workload is regenerated when they change)."""

    source_files: int
    """Small source files in the many-files repository."""
    csv_files: int
    """Small CSV files in its data/ directory."""
    small_models: int
    """Small safetensors models in its models/ directory."""
    small_model_bytes: int
    """Size of each small model."""
    big_models: int
    """Large safetensors files in the big-model repository."""
    big_model_bytes: int
    """Size of each large model."""
    dvc_output_bytes: int
    """Size of the DVC-tracked output in the big-model repository."""


DEFAULT = Sizes(50_000, 300, 5, 8 * MIB, 4, 1 * GIB, 32 * MIB)
QUICK = Sizes(5_000, 30, 3, 1 * MIB, 4, 128 * MIB, 4 * MIB)

SOURCE_KINDS = (
    (".py", "import os\n\n\ndef f{i}(x):\n    return x * {i}\n"),
    (".js", "export function f{i}(x) {{ return x * {i}; }}\n"),
    (".ts", "export const f{i} = (x: number): number => x * {i};\n"),
    (".go", "package p\n\nfunc F{i}(x int) int {{ return x * {i} }}\n"),
    (".md", "# Note {i}\n\nSome text about module {i}.\n"),
    (".txt", "line {i}\n"),
    (".c", "int f{i}(int x) {{ return x * {i}; }}\n"),
    (".json", '{{"id": {i}, "name": "item-{i}"}}\n'),
)


def _safetensors_header(tensors: dict[str, tuple[str, list[int]]], meta: dict[str, str]) -> bytes:
    """A valid safetensors header for F32 tensors laid out back to back."""
    header: dict[str, Any] = {"__metadata__": meta}
    offset = 0
    for name, (dtype, shape) in tensors.items():
        n = 4
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw


def _tensor_layout(total_bytes: int, count: int) -> dict[str, tuple[str, list[int]]]:
    """`count` F32 tensors whose data adds up to exactly `total_bytes` (a multiple of 4)."""
    floats = total_bytes // 4
    per = floats // count
    tensors: dict[str, tuple[str, list[int]]] = {}
    for i in range(count):
        n = per if i < count - 1 else floats - per * (count - 1)
        tensors[f"layers.{i}.weight"] = ("F32", [n])
    return tensors


def _write_safetensors(path: Path, data_bytes: int, seed: int, block: bytes) -> None:
    """Header + `data_bytes` of data: a random block repeated (written fast, hashes differ)."""
    header = _safetensors_header(_tensor_layout(data_bytes, 8), {"format": "pt", "seed": str(seed)})
    with open(path, "wb") as fh:
        fh.write(header)
        left = data_bytes
        first = hashlib.sha256(str(seed).encode()).digest() * (len(block) // 32)
        fh.write(first[: min(left, len(first))])
        left -= min(left, len(first))
        while left:
            n = min(left, len(block))
            fh.write(block[:n])
            left -= n


def _set_mtimes(root: Path) -> None:
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            os.utime(os.path.join(dirpath, name), ns=(MTIME_NS, MTIME_NS), follow_symlinks=False)


def _marker_ok(root: Path, params: dict[str, Any]) -> bool:
    try:
        return json.loads((root / ".bench-params.json").read_text()) == params
    except (OSError, ValueError):
        return False


def _write_marker(root: Path, params: dict[str, Any]) -> None:
    (root / ".bench-params.json").write_text(json.dumps(params))


def make_many_files(root: Path, sizes: Sizes) -> None:
    """50k small source files in nested packages, CSV data, a few models, .gitignore files."""
    params = {"kind": "many", **asdict(sizes), "v": 2}
    if _marker_ok(root, params):
        return
    shutil.rmtree(root, ignore_errors=True)
    rng = random.Random(1)
    root.mkdir(parents=True)
    (root / ".gitignore").write_text("*.log\nbuild/\n/dist\n*.tmp\n")
    (root / "requirements.txt").write_text("numpy==1.26.4\nrequests==2.32.3\npyyaml==6.0.2\n")
    (root / "params.yaml").write_text("train:\n  lr: 0.001\n  epochs: 10\n  batch_size: 32\n")
    per_dir = 100
    for i in range(sizes.source_files):
        pkg = i // per_dir
        d = root / "src" / f"pkg{pkg // 50:03d}" / f"mod{pkg % 50:02d}"
        if i % per_dir == 0:
            d.mkdir(parents=True, exist_ok=True)
            if pkg % 10 == 0:
                (d / ".gitignore").write_text("*.pyc\n__generated__/\n!keep.pyc\n")
        ext, template = SOURCE_KINDS[i % len(SOURCE_KINDS)]
        (d / f"file{i % per_dir:03d}{ext}").write_text(template.format(i=i))
    (root / "build").mkdir()
    (root / "build" / "ignored.py").write_text("x = 1\n")
    data = root / "data"
    data.mkdir()
    for i in range(sizes.csv_files):
        rows = ["id,feature_a,feature_b,label"] + [
            f"{r},{rng.random():.6f},{rng.random():.6f},{rng.randrange(3)}" for r in range(50)
        ]
        (data / f"part-{i:04d}.csv").write_text("\n".join(rows) + "\n")
    models = root / "models"
    models.mkdir()
    block = rng.randbytes(MIB)
    for i in range(sizes.small_models):
        _write_safetensors(models / f"model-{i}.safetensors", sizes.small_model_bytes, i, block)
    _set_mtimes(root)
    _write_marker(root, params)


def make_big_models(root: Path, sizes: Sizes) -> None:
    """Four large safetensors models, a Git LFS pointer, a DVC-tracked output."""
    params = {"kind": "big", **asdict(sizes), "v": 2}
    if _marker_ok(root, params):
        return
    shutil.rmtree(root, ignore_errors=True)
    rng = random.Random(2)
    (root / "models").mkdir(parents=True)
    block = rng.randbytes(64 * MIB)
    for i in range(sizes.big_models):
        _write_safetensors(
            root / "models" / f"shard-{i}.safetensors", sizes.big_model_bytes, 100 + i, block
        )
    oid = hashlib.sha256(b"weights stored in LFS").hexdigest()
    (root / "models" / "adapter.safetensors").write_text(
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize 123456789\n"
    )
    data = root / "data"
    data.mkdir()
    out = data / "features.csv"
    md5 = hashlib.md5()
    with open(out, "w") as fh:
        fh.write("id,x,y\n")
        i = 0
        while fh.tell() < sizes.dvc_output_bytes:
            fh.write(f"{i},{rng.random():.8f},{rng.random():.8f}\n")
            i += 1
    md5.update(out.read_bytes())
    (data / "features.csv.dvc").write_text(
        f"outs:\n- md5: {md5.hexdigest()}\n  size: {out.stat().st_size}\n  path: features.csv\n"
    )
    (root / "params.yaml").write_text("train:\n  lr: 0.0003\n  epochs: 3\n")
    _set_mtimes(root)
    _write_marker(root, params)


def warm_page_cache(root: Path) -> int:
    """Read every file once, so every tool finds it in the page cache. Returns bytes read."""
    total = 0
    buf = bytearray(MIB)
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            try:
                with open(os.path.join(dirpath, name), "rb", buffering=0) as fh:
                    while n := fh.readinto(buf):
                        total += n
            except OSError:
                pass
    return total


# --- running and measuring ----------------------------------------------------------------------


@dataclass
class Sample:
    """One timed subprocess run."""

    wall: float
    """Seconds, wall clock."""
    cpu: float
    """User + system CPU seconds of the child and its waited descendants."""
    maxrss_mb: float
    """Peak resident set size in MB (largest process in the tree)."""
    code: int
    """Exit status."""


TIME_BIN = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def run_timed(cmd: Sequence[str], *, cwd: Path | None = None, quiet: bool = True) -> Sample:
    """Run `cmd` and measure it.

    CPU time and peak RSS come from GNU time (`%U %S %M`), which forks the command from its own
    small process: a child forked straight from this (larger) Python process would inherit this
    process's RSS high-water mark on Linux and report it as its own. Without GNU time, wait4()
    gives the same figures with that caveat.
    """
    out = subprocess.DEVNULL if quiet else None
    if TIME_BIN is not None:
        with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
            full = [TIME_BIN, "-o", tf.name, "-f", "%U %S %M", *cmd]
            t0 = time.perf_counter()
            proc = subprocess.run(full, cwd=cwd, env=ENV, stdout=out, stderr=out, check=False)
            wall = time.perf_counter() - t0
            fields = tf.read().split()[-3:]
        try:
            user, sys_, rss_kb = float(fields[0]), float(fields[1]), float(fields[2])
        except (IndexError, ValueError):
            user = sys_ = rss_kb = float("nan")
        return Sample(wall, user + sys_, rss_kb / 1024, proc.returncode)
    t0 = time.perf_counter()
    popen = subprocess.Popen(list(cmd), cwd=cwd, env=ENV, stdout=out, stderr=out)
    _, status, ru = os.wait4(popen.pid, 0)
    wall = time.perf_counter() - t0
    popen.returncode = os.waitstatus_to_exitcode(status)
    return Sample(wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024, popen.returncode)


@dataclass
class Series:
    """Repeated samples of one command."""

    name: str
    """Label in the tables."""
    samples: list[Sample] = field(default_factory=list)
    """Every run."""

    @property
    def wall(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    @property
    def rss(self) -> float:
        return max(s.maxrss_mb for s in self.samples)

    @property
    def ok(self) -> bool:
        return all(s.code == 0 for s in self.samples)

    def summary(self) -> dict[str, Any]:
        return {
            "median_wall_s": round(self.wall, 4),
            "median_cpu_s": round(self.cpu, 4),
            "peak_rss_mb": round(self.rss, 1),
            "runs": len(self.samples),
            "ok": self.ok,
            "walls": [round(s.wall, 4) for s in self.samples],
        }


def interleave(
    commands: dict[str, Callable[[], Sample]],
    rounds: int,
    max_rounds: dict[str, int] | None = None,
) -> dict[str, Series]:
    """Run each command once per round, in rotating order; medians over rounds.

    `max_rounds` caps slow commands (cdxgen takes tens of seconds on 50k files)."""
    series = {name: Series(name) for name in commands}
    names = list(commands)
    caps = max_rounds or {}
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            if r >= caps.get(name, rounds):
                continue
            s = commands[name]()
            series[name].samples.append(s)
            print(
                f"  [{r + 1}/{rounds}] {name:<34} {s.wall:7.3f} s  cpu {s.cpu:6.2f} s  "
                f"rss {s.maxrss_mb:6.0f} MB  exit {s.code}",
                flush=True,
            )
    return series


def usc_cmd(tree: Path, out: Path, *, cache_dir: Path | None) -> list[str]:
    cmd = [PY, "-m", "unified_supply_chain", "sbom", str(tree), "-o", str(out), "-q"]
    cmd += ["--cache-dir", str(cache_dir)] if cache_dir is not None else ["--no-cache"]
    return cmd


def syft_cmd(tree: Path, out: Path) -> list[str]:
    syft = shutil.which("syft", path=str(VENV_BIN)) or shutil.which("syft") or "syft"
    return [syft, f"dir:{tree}", "-o", f"cyclonedx-json={out}", "-q"]


def cdxgen_bin() -> str | None:
    local = CDXGEN_DIR / "node_modules" / ".bin" / "cdxgen"
    if local.exists():
        return str(local)
    return shutil.which("cdxgen")


def ensure_cdxgen() -> tuple[str | None, str]:
    """Find or install cdxgen under benchmarks/work (npm); (path, note)."""
    found = cdxgen_bin()
    if found:
        return found, "found"
    if not shutil.which("npm"):
        return None, "npm not available"
    print("installing @cyclonedx/cdxgen into benchmarks/work/cdxgen-npm ...", flush=True)
    proc = subprocess.run(
        [
            "npm",
            "install",
            "--no-audit",
            "--no-fund",
            "--prefix",
            str(CDXGEN_DIR),
            "@cyclonedx/cdxgen",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        return None, "npm install failed: " + proc.stderr.strip().splitlines()[-1:][0]
    return cdxgen_bin(), "installed with npm"


def cdxgen_cmd(binary: str, tree: Path, out: Path) -> list[str]:
    return [binary, "--no-install-deps", "-o", str(out), str(tree)]


def tool_version(cmd: Sequence[str]) -> str:
    try:
        out = subprocess.run(list(cmd), capture_output=True, text=True, timeout=60, env=ENV)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc})"
    text = re.sub(r"\x1b\[[0-9;]*m", "", (out.stdout + out.stderr).strip())
    return " ".join(text.split())[:120]


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) // 1024
    except OSError:
        pass
    flags = ""
    try:
        text = Path("/proc/cpuinfo").read_text()
        flags = "sha_ni" if " sha_ni" in text else "no sha_ni"
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "sha_extensions": flags,
        "ram_mb": mem,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "openssl_cli": tool_version(["openssl", "version"]),
        "python_openssl": __import__("ssl").OPENSSL_VERSION,
        "syft": tool_version(syft_cmd(Path("."), Path("x"))[:1] + ["version"]),
        "node": tool_version(["node", "--version"]),
    }


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


# --- in-process probes (run as subprocesses of this script) -------------------------------------

HASH_PROBE = """
import sys, time, json
t0 = time.perf_counter()
from pathlib import Path
from unified_supply_chain.hashing.digests import hash_files
root = Path(sys.argv[1]); paths = sys.argv[3:]; jobs = int(sys.argv[2])
t1 = time.perf_counter()
res = hash_files(root, paths, jobs=jobs)
t2 = time.perf_counter()
assert all(r.sha256 for r in res.values()), res
print(json.dumps({"import_s": t1 - t0, "hash_s": t2 - t1,
                  "bytes": sum(r.size for r in res.values())}))
"""

STAGES_PROBE = """
import sys, time, json, cProfile, pstats, io
from pathlib import Path
t_start = time.perf_counter()
from unified_supply_chain import pipeline
from unified_supply_chain.inspection import scan as scan_mod
from unified_supply_chain.options import ScanOptions
from unified_supply_chain.bom import write as write_mod
times = {}
def timed(mod, name, label):
    real = getattr(mod, name)
    def wrapper(*a, **k):
        t = time.perf_counter()
        try:
            return real(*a, **k)
        finally:
            times[label] = times.get(label, 0.0) + time.perf_counter() - t
    setattr(mod, name, wrapper)
timed(scan_mod, "walk", "walk (scandir + .gitignore)")
timed(scan_mod, "sniff", "sniff (open + read 512 B)")
timed(scan_mod, "read_header", "format readers (headers)")
timed(scan_mod, "hash_files", "hashing")
timed(scan_mod, "with_findings", "safety scan")
timed(scan_mod, "content_pickles", "safety sweep (unclassified files)")
timed(scan_mod, "resolve", "lineage")
import unified_supply_chain.bom.build as build_mod
import unified_supply_chain.bom.mlbom as mlbom_mod
import unified_supply_chain.bom.validate as validate_mod
timed(build_mod, "build_core", "build (cyclonedx-python-lib)")
timed(mlbom_mod, "add_ml_fields", "ML fields")
timed(validate_mod, "validate_document", "validate (fast)")
opts = ScanOptions(root=Path(sys.argv[1]), cache_dir=None)
t0 = time.perf_counter()
gen = pipeline.generate(opts)
t1 = time.perf_counter()
data = write_mod.serialise(gen.document)
t2 = time.perf_counter()
times["serialise"] = t2 - t1
from unified_supply_chain.discover import classify
t = time.perf_counter()
ref = validate_mod.validation_errors(gen.document, "1.6", reference=True)
times_ref = time.perf_counter() - t
t = time.perf_counter()
validate_mod.validation_errors(gen.document, "1.6")
times_fast_again = time.perf_counter() - t
print(json.dumps({"stages": times, "generate_s": t1 - t0, "startup_s": t0 - t_start,
                  "components": len(gen.document.get("components", [])),
                  "sbom_bytes": len(data), "reference_validate_s": times_ref,
                  "reference_errors": len(ref), "fast_validate_again_s": times_fast_again,
                  "files_seen": gen.inventory.files_seen}))
"""


def probe(code: str, *args: str) -> tuple[dict[str, Any], Sample]:
    """Run an in-process probe script; its JSON result (last stdout line) and the process sample."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "probe.py"
        script.write_text(code)
        out_file = Path(tmp) / "out.txt"
        with open(out_file, "w") as out:
            sample = _run_to(out, [PY, str(script), *args])
        text = out_file.read_text()
    if sample.code != 0:
        raise RuntimeError(f"probe failed ({sample.code}): {text[-2000:]}")
    return json.loads(text.strip().splitlines()[-1]), sample


def _run_to(out: Any, cmd: list[str]) -> Sample:
    if TIME_BIN is not None:
        with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
            t0 = time.perf_counter()
            proc = subprocess.run(
                [TIME_BIN, "-o", tf.name, "-f", "%U %S %M", *cmd], env=ENV, stdout=out, check=False
            )
            wall = time.perf_counter() - t0
            u, s_, m = (float(x) for x in tf.read().split()[-3:])
        return Sample(wall, u + s_, m / 1024, proc.returncode)
    t0 = time.perf_counter()
    popen = subprocess.Popen(cmd, env=ENV, stdout=out)
    _, status, ru = os.wait4(popen.pid, 0)
    return Sample(
        time.perf_counter() - t0,
        ru.ru_utime + ru.ru_stime,
        ru.ru_maxrss / 1024,
        os.waitstatus_to_exitcode(status),
    )


# --- the benchmark ------------------------------------------------------------------------------


def check_disk(sizes: Sizes) -> None:
    need = sizes.big_models * sizes.big_model_bytes + 2 * GIB
    free = shutil.disk_usage(WORK).free
    print(f"disk: {free / GIB:.1f} GiB free under {WORK}, about {need / GIB:.1f} GiB needed")
    if free < need:
        raise SystemExit(f"not enough free disk space: {free / GIB:.1f} GiB < {need / GIB:.1f}")


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small workloads (a couple of minutes)")
    ap.add_argument("--keep", action="store_true", help="keep the large generated files")
    ap.add_argument(
        "--rounds",
        type=int,
        default=0,
        help="rounds per hashing comparison (default 5, quick 3; end to end at most 3)",
    )
    ap.add_argument(
        "--workload",
        choices=("all", "sbom", "scan"),
        default="all",
        help="sbom: usc sbom against syft/cdxgen/openssl; scan: the safety scanner against cat "
        "and picklescan (benchmarks/scan_workload.py); all: both (default)",
    )
    ap.add_argument("--no-cdxgen", action="store_true", help="skip cdxgen")
    ap.add_argument("--no-syft", action="store_true", help="skip syft")
    ap.add_argument(
        "--work",
        type=Path,
        default=None,
        help="directory for workloads and results (default: benchmarks/work)",
    )
    args = ap.parse_args(argv)
    if args.work is not None:
        global WORK
        WORK = args.work.resolve()
    sizes = QUICK if args.quick else DEFAULT
    rounds = args.rounds or (3 if args.quick else 5)
    WORK.mkdir(parents=True, exist_ok=True)
    compile_sources()
    if args.workload == "scan":
        return scan_only(args.quick, rounds, args.keep)
    check_disk(sizes)
    results: dict[str, Any] = {
        "mode": "quick" if args.quick else "default",
        "sizes": asdict(sizes),
        "rounds": rounds,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "loadavg_start": loadavg(),
    }
    cdxgen, cdx_note = (None, "skipped") if args.no_cdxgen else ensure_cdxgen()
    results["machine"] = machine()
    results["machine"]["cdxgen"] = (
        tool_version([cdxgen, "--version"]) if cdxgen else f"unavailable ({cdx_note})"
    )
    print(json.dumps(results["machine"], indent=1))

    many = WORK / "many-files"
    big = WORK / "big-model"
    t = time.perf_counter()
    make_many_files(many, sizes)
    make_big_models(big, sizes)
    print(f"workloads ready in {time.perf_counter() - t:.1f} s")
    out_dir = WORK / "out"
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir()
    cache_root = WORK / "cache"
    shutil.rmtree(cache_root, ignore_errors=True)
    big_files = sorted((big / "models").glob("shard-*.safetensors"))
    big_bytes = sum(p.stat().st_size for p in big_files)

    try:
        for tree in (many, big):
            warm_page_cache(tree)

        # 1. Start-up time.
        print("\n== usc --help start-up", flush=True)
        help_runs = interleave(
            {"usc --help": lambda: run_timed([PY, "-m", "unified_supply_chain", "--help"])},
            max(rounds * 3, 11),
        )["usc --help"]
        results["help"] = help_runs.summary()

        # 2. Hashing against openssl.
        print("\n== hashing: one large file", flush=True)
        one = big_files[0]
        hash_probe_runs: list[dict[str, Any]] = []

        def ours_one() -> Sample:
            data, sample = probe(HASH_PROBE, str(one.parent), "1", one.name)
            hash_probe_runs.append(data)
            return sample

        s1 = interleave(
            {
                "openssl dgst -sha256 (1 file)": lambda: run_timed(
                    ["openssl", "dgst", "-sha256", str(one)]
                ),
                "usc hashing (1 file)": ours_one,
            },
            rounds,
        )
        results["hash_one"] = {k: v.summary() for k, v in s1.items()}
        results["hash_one"]["in_process_hash_s"] = statistics.median(
            d["hash_s"] for d in hash_probe_runs
        )
        results["hash_one"]["bytes"] = one.stat().st_size

        print(f"\n== hashing: {len(big_files)} large files", flush=True)
        many_probe_runs: list[dict[str, Any]] = []

        def ours_all() -> Sample:
            data, sample = probe(HASH_PROBE, str(big / "models"), "0", *[p.name for p in big_files])
            many_probe_runs.append(data)
            return sample

        s4 = interleave(
            {
                "openssl dgst -sha256 (sequential)": lambda: run_timed(
                    ["openssl", "dgst", "-sha256", *map(str, big_files)]
                ),
                "usc hashing (parallel)": ours_all,
            },
            rounds,
        )
        results["hash_all"] = {k: v.summary() for k, v in s4.items()}
        results["hash_all"]["in_process_hash_s"] = statistics.median(
            d["hash_s"] for d in many_probe_runs
        )
        results["hash_all"]["bytes"] = big_bytes

        # 3. End to end, cold and warm, against syft and cdxgen.
        for label, tree in (("many", many), ("big", big)):
            print(f"\n== end to end: {tree.name}", flush=True)
            cache_dir = cache_root / label
            out = out_dir / label
            cmds: dict[str, Callable[[], Sample]] = {
                "usc sbom cold (--no-cache)": lambda tree=tree, out=out: run_timed(
                    usc_cmd(tree, Path(f"{out}-usc-cold.json"), cache_dir=None)
                ),
            }
            # Populate the cache once (not timed), then every warm run finds it.
            populate = run_timed(usc_cmd(tree, Path(f"{out}-usc-warm.json"), cache_dir=cache_dir))
            if populate.code != 0:
                raise RuntimeError(f"usc sbom failed on {tree}")
            cmds["usc sbom warm (cache)"] = lambda tree=tree, out=out, cd=cache_dir: run_timed(
                usc_cmd(tree, Path(f"{out}-usc-warm.json"), cache_dir=cd)
            )
            if not args.no_syft:
                cmds["syft dir:"] = lambda tree=tree, out=out: run_timed(
                    syft_cmd(tree, Path(f"{out}-syft.json"))
                )
            if cdxgen:
                cmds["cdxgen --no-install-deps"] = lambda tree=tree, out=out: run_timed(
                    cdxgen_cmd(cdxgen, tree, Path(f"{out}-cdxgen.json"))
                )
            if label == "big":
                # The honest baseline here: the hashing itself, over the same bytes, one file
                # after the other, in the same rounds.
                same_bytes = [*map(str, big_files), str(big / "data" / "features.csv")]
                cmds["openssl dgst -sha256 (same bytes)"] = lambda files=same_bytes: run_timed(
                    ["openssl", "dgst", "-sha256", *files]
                )
            # End-to-end rounds are capped (cdxgen alone takes tens of seconds on 50k files).
            series = interleave(cmds, min(rounds, 3))
            results[f"e2e_{label}"] = {k: v.summary() for k, v in series.items()}
            if label == "big":
                results[f"e2e_{label}"]["bytes_hashed"] = big_bytes + sizes.dvc_output_bytes

        # 4. Where the time goes (one in-process run per tree, no cache).
        for label, tree in (("many", many), ("big", big)):
            print(f"\n== stages: {tree.name}", flush=True)
            data, sample = probe(STAGES_PROBE, str(tree))
            data["process"] = asdict(sample)
            results[f"stages_{label}"] = data
            print(json.dumps(data, indent=1))
    finally:
        results["loadavg_end"] = loadavg()
        if not args.keep:
            for p in big_files:
                p.unlink(missing_ok=True)
            (big / ".bench-params.json").unlink(missing_ok=True)
            shutil.rmtree(out_dir, ignore_errors=True)

    if args.workload == "all":
        results["scan"] = _scan_results(args.quick, rounds, args.keep)
    table = report(results)
    if "scan" in results:
        import scan_workload

        table += "\n\n" + scan_workload.report(results["scan"])
    print("\n" + table)
    (WORK / "results.json").write_text(json.dumps(results, indent=1))
    (WORK / "results.md").write_text(table + "\n")
    print(f"\nwrote {WORK / 'results.json'} and {WORK / 'results.md'}")
    return 0


#: Size of each large file of the scan workload (default / --quick).
SCAN_BYTES = (1 * GIB, 128 * MIB)


def _scan_results(quick: bool, rounds: int, keep: bool) -> dict[str, Any]:
    import scan_workload  # benchmarks/ is on sys.path when this script runs

    total = SCAN_BYTES[1] if quick else SCAN_BYTES[0]
    need = 2 * total + GIB
    free = shutil.disk_usage(WORK).free
    print(f"disk: {free / GIB:.1f} GiB free under {WORK}, about {need / GIB:.1f} GiB needed")
    if free < need:
        raise SystemExit(f"not enough free disk space: {free / GIB:.1f} GiB < {need / GIB:.1f}")
    return scan_workload.measure(WORK, total=total, rounds=rounds, keep=keep)


def scan_only(quick: bool, rounds: int, keep: bool) -> int:
    """`--workload scan`: the safety-scan workload alone, with its own results files."""
    import scan_workload

    results: dict[str, Any] = {
        "mode": "quick" if quick else "default",
        "rounds": rounds,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "loadavg_start": loadavg(),
        "machine": {k: v for k, v in machine().items() if k not in ("syft", "node")},
    }
    print(json.dumps(results["machine"], indent=1))
    try:
        results["scan"] = _scan_results(quick, rounds, keep)
    finally:
        results["loadavg_end"] = loadavg()
    table = scan_workload.report(results["scan"])
    table += (
        f"\n\nload average at start / end: {results['loadavg_start']} / "
        f"{results['loadavg_end']}; mode {results['mode']}, picklescan "
        f"{results['scan']['picklescan']}"
    )
    for key in ("torch zip", "joblib dump", "corpus"):
        print(f"\n== cProfile of the in-process scans: {key}\n{results['scan'][key]['profile']}")
    print("\n" + table)
    (WORK / "results-scan.json").write_text(json.dumps(results, indent=1))
    (WORK / "results-scan.md").write_text(table + "\n")
    print(f"\nwrote {WORK / 'results-scan.json'} and {WORK / 'results-scan.md'}")
    return 0


def _fmt(x: float) -> str:
    return f"{x:.2f}"


def report(r: dict[str, Any]) -> str:
    """The table of ratios, in Markdown, each row with its target."""
    rows: list[tuple[str, str, str, str, str, str]] = []

    def add(
        name: str, ours: str, base: str, value: float, target: str, ok: bool, cpu: str = "-"
    ) -> None:
        verdict = f"{target} {'met' if ok else 'MISSED'}" if target != "-" else "-"
        rows.append((name, ours, base, _fmt(value), cpu, verdict))

    def cpu_of(series: dict[str, Any]) -> float:
        return float(series["median_cpu_s"])

    h1 = r["hash_one"]
    o1 = h1["openssl dgst -sha256 (1 file)"]["median_wall_s"]
    u1 = h1["usc hashing (1 file)"]["median_wall_s"]
    gb = h1["bytes"] / 1e9
    v = ratio(o1, u1)
    add(
        "hash 1 large file: throughput ours / openssl",
        f"{u1:.3f} s ({gb / u1:.2f} GB/s; {gb / h1['in_process_hash_s']:.2f} in-process)",
        f"{o1:.3f} s ({gb / o1:.2f} GB/s)",
        v,
        ">= 0.95",
        v >= 0.95,
        _fmt(ratio(cpu_of(h1["openssl dgst -sha256 (1 file)"]), cpu_of(h1["usc hashing (1 file)"])))
        + " (openssl CPU s / ours)",
    )
    h4 = r["hash_all"]
    o4 = h4["openssl dgst -sha256 (sequential)"]["median_wall_s"]
    u4 = h4["usc hashing (parallel)"]["median_wall_s"]
    v = ratio(o4, u4)
    add(
        "hash 4 large files: ours parallel vs sequential openssl (speed-up)",
        f"{u4:.3f} s",
        f"{o4:.3f} s",
        v,
        ">= 1.6",
        v >= 1.6,
        f"ours {cpu_of(h4['usc hashing (parallel)']):.2f} s CPU on "
        f"{ratio(cpu_of(h4['usc hashing (parallel)']), u4):.2f} cores on average, openssl "
        f"{cpu_of(h4['openssl dgst -sha256 (sequential)']):.2f} s",
    )
    for label, tree in (("many", "many-files"), ("big", "big-model")):
        e = r[f"e2e_{label}"]
        cold = e["usc sbom cold (--no-cache)"]["median_wall_s"]
        warm = e["usc sbom warm (cache)"]["median_wall_s"]
        v = ratio(warm, cold)
        add(f"{tree}: warm / cold", f"{warm:.3f} s", f"{cold:.3f} s", v, "<= 0.05", v <= 0.05)
        for tool in ("syft dir:", "cdxgen --no-install-deps"):
            if tool in e:
                t = e[tool]["median_wall_s"]
                if label == "many" or tool == "syft dir:":
                    which = "cold" if label == "many" else "warm"
                    ours = cold if label == "many" else warm
                    v = ratio(ours, t)
                    ours_key = f"usc sbom {which} " + (
                        "(--no-cache)" if which == "cold" else "(cache)"
                    )
                    add(
                        f"{tree}: usc {which} / {tool.split()[0]}",
                        f"{ours:.3f} s",
                        f"{t:.3f} s",
                        v,
                        "< 1",
                        v < 1,
                        _fmt(ratio(cpu_of(e[ours_key]), cpu_of(e[tool])))
                        + " (CPU s ours / theirs)",
                    )
                else:
                    v = ratio(cold, t)
                    add(
                        f"{tree}: usc cold / {tool.split()[0]} (no target)",
                        f"{cold:.3f} s",
                        f"{t:.3f} s",
                        v,
                        "-",
                        True,
                    )
        if label == "big":
            same = e.get("openssl dgst -sha256 (same bytes)")
            if same is not None:
                seq, how = same["median_wall_s"], "same rounds"
            else:
                seq, how = o4 * ratio(e["bytes_hashed"], h4["bytes"]), "scaled from the 4-file run"
            v = ratio(cold, seq)
            cores = ratio(cpu_of(e["usc sbom cold (--no-cache)"]), cold)
            add(
                "big-model: usc cold / sequential openssl over the same bytes",
                f"{cold:.3f} s",
                f"{seq:.3f} s ({how})",
                v,
                "<= 0.8",
                v <= 0.8,
                f"usc used {cores:.2f} cores on average",
            )
    rss = max(
        s["peak_rss_mb"]
        for key in ("e2e_many", "e2e_big")
        for name, s in r[key].items()
        if isinstance(s, dict) and name.startswith("usc")
    )
    add("peak RSS of usc sbom (MB)", f"{rss:.0f} MB", "-", rss, "< 200", rss < 200)
    hs = r["help"]["median_wall_s"]
    add("usc --help (s, median)", f"{hs:.3f} s", "-", hs, "< 0.3", hs < 0.3)

    lines = [
        "| measurement | ours | baseline | value | CPU time | target |",
        "|---|---|---|---|---|---|",
        *(f"| {a} | {b} | {c} | {d} | {e} | {f} |" for a, b, c, d, e, f in rows),
        "",
        "| end to end (median wall s / median CPU s / peak RSS MB) | "
        + " | ".join(("many-files", "big-model"))
        + " |",
        "|---|---|---|",
    ]
    names = list(dict.fromkeys(list(r["e2e_many"]) + list(r["e2e_big"])))
    for name in names:
        if name == "bytes_hashed":
            continue
        cells = []
        for key in ("e2e_many", "e2e_big"):
            s = r[key].get(name)
            cells.append(
                f"{s['median_wall_s']:.3f} s / {s['median_cpu_s']:.2f} s / "
                f"{s['peak_rss_mb']:.0f} MB" + ("" if s["ok"] else " (failed)")
                if isinstance(s, dict)
                else "-"
            )
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("| stage (one run, no cache, in-process seconds) | many-files | big-model |")
    lines.append("|---|---|---|")
    stage_names = list(
        dict.fromkeys(list(r["stages_many"]["stages"]) + list(r["stages_big"]["stages"]))
    )
    for st in stage_names:
        a = r["stages_many"]["stages"].get(st)
        b = r["stages_big"]["stages"].get(st)
        lines.append(
            f"| {st} | {'-' if a is None else f'{a:.3f}'} | {'-' if b is None else f'{b:.3f}'} |"
        )
    for key, title in (
        ("reference_validate_s", "validate (reference: cyclonedx-python-lib), for comparison"),
        ("fast_validate_again_s", "validate (fast, schema already loaded)"),
        ("generate_s", "generate() total"),
    ):
        lines.append(f"| {title} | {r['stages_many'][key]:.3f} | {r['stages_big'][key]:.3f} |")
    lines.append(
        f"| components / SBOM bytes | {r['stages_many']['components']} / "
        f"{r['stages_many']['sbom_bytes']} | {r['stages_big']['components']} / "
        f"{r['stages_big']['sbom_bytes']} |"
    )
    lines.append("")
    lines.append(
        f"load average at start / end: {r['loadavg_start']} / {r['loadavg_end']}; "
        f"mode {r['mode']}, {r['rounds']} rounds"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
