"""The safety-scan workload of benchmarks/run.py (`--workload scan`).

Two measurements, each against baselines run in the same rounds (alternating order, medians):

- **One large pickle-bearing file**, two shapes: a torch-style zip (`archive/data.pkl` and
  `archive/data/0..k` storages, stored uncompressed; the pickle is
  tests/builders/benign.py `torch_state_dict_pickle`, after pytorch/pytorch
  torch/serialization.py `_save` and torch/_utils.py `_rebuild_tensor_v2`) and a plain
  `joblib.dump` of a dict holding one large float32 array (joblib writes the array's bytes raw
  inside the pickle stream: joblib/numpy_pickle.py `NumpyArrayWrapper.write_array`). Each is
  scanned with `safety.scan.scan_file(path, relpath, fmt)` (fmt from `discover.classify`), against
  `cat FILE` (reading the file once; stdout to /dev/null) and against `picklescan -p FILE` and
  picklescan's `scanner.scan_file_path` (its Python API, in-process time).
- **The benign corpus** of tests/builders/benign.py (every scikit-learn estimator pickled and
  joblib'd, numpy/datetime objects, a torch-style state dict, .npy/.npz): every file scanned
  with scan_file in one process, against picklescan's `scan_file_path` on the same files in one
  process.

Our scan and picklescan's API run in "probe" subprocesses that time the scan itself; the
process's wall time (interpreter start-up and imports included) is reported beside it. The files
are generated under `<work>/scan/` (reused while their parameters match) and the large ones are
deleted at the end unless `--keep`.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

# benchmarks/run.py: the shared measuring helpers (run_timed, interleave, probe).
import run as bench

GIB = 1024**3
MIB = 1024**2
REPO = Path(__file__).resolve().parent.parent

# --- workloads ----------------------------------------------------------------------------------


def _float_block() -> bytes:
    """16 MiB of float32 values drawn from a normal distribution (what trained weights look
    like), seeded; repeated to fill the large files at disk speed."""
    import numpy as np

    return np.random.default_rng(0).standard_normal(4 * MIB, dtype=np.float32).tobytes()


def make_torch_zip(path: Path, total: int, storages: int = 8) -> None:
    """A torch.save-style zip of `storages` float32 tensors adding up to `total` bytes."""
    sys.path.insert(0, str(REPO))
    from tests.builders.benign import torch_state_dict_pickle

    block = _float_block()
    per = total // storages
    shapes = {f"layers.{i}.weight": (str(i), (per // 4 // 1024, 1024)) for i in range(storages)}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.writestr("archive/data.pkl", torch_state_dict_pickle(shapes))
        zf.writestr("archive/byteorder", "little")
        for key, shape in shapes.values():
            with zf.open(f"archive/data/{key}", "w", force_zip64=True) as fh:
                left = shape[0] * shape[1] * 4
                while left:
                    n = min(left, len(block))
                    fh.write(block[:n])
                    left -= n
        zf.writestr("archive/version", "3\n")
        zf.writestr("archive/.data/serialization_id", "1234567890\n")


def make_joblib_dump(path: Path, total: int) -> None:
    """`joblib.dump` (uncompressed) of {"weights": float32 array of `total` bytes, "meta": ...}."""
    import joblib
    import numpy as np

    block = _float_block()
    weights = np.frombuffer(block * (total // len(block)), dtype=np.float32)
    joblib.dump({"weights": weights, "meta": {"epochs": 3, "lr": 0.001}}, path)


def make_corpus(root: Path) -> list[Path]:
    """The benign corpus of tests/builders/benign.py under `root` (reused when complete)."""
    sys.path.insert(0, str(REPO))
    from tests.builders import benign

    if (root / benign.MANIFEST).exists():
        return benign.load_corpus(root, root).files
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    corpus = benign.write_corpus(root)
    benign.save_manifest(root, root, corpus)
    return corpus.files


def make_large(scan_dir: Path, total: int) -> dict[str, Path]:
    """The two large files (regenerated when their size changes)."""
    files = {"torch zip": scan_dir / "model.pt", "joblib dump": scan_dir / "model.joblib"}
    marker = scan_dir / ".bench-params.json"
    params = {"bytes": total, "v": 1}
    if all(p.exists() for p in files.values()) and bench._marker_ok(scan_dir, params):
        return files
    scan_dir.mkdir(parents=True, exist_ok=True)
    marker.unlink(missing_ok=True)
    make_torch_zip(files["torch zip"], total)
    make_joblib_dump(files["joblib dump"], total)
    bench._write_marker(scan_dir, params)
    return files


# --- probes -------------------------------------------------------------------------------------

USC_SCAN_PROBE = """
import sys, time, json
t0 = time.perf_counter()
from pathlib import Path
from unified_supply_chain import limits
from unified_supply_chain.discover.classify import classify
from unified_supply_chain.safety.scan import scan_file
t1, c1 = time.perf_counter(), time.process_time()
root = Path(sys.argv[1]); names = Path(sys.argv[2]).read_text().splitlines()
profile = len(sys.argv) > 3
def scan_all():
    found = {}
    for rel in names:
        p = root / rel
        with open(p, "rb") as fh:
            head = fh.read(limits.SNIFF_BYTES)
        fmt = classify(head, rel) or ""
        found[rel] = [f"{f.severity.name} {f.rule}: {f.message[:100]}"
                      for f in scan_file(p, rel, fmt)]
    return found
def profiled(fn):
    import cProfile, io, pstats
    prof = cProfile.Profile()
    result = prof.runcall(fn)
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(30)
    return result, buf.getvalue()
# The first pass pays the lazy imports and the format registry; the second is the steady state.
if profile:
    found, profile_first = profiled(scan_all)
else:
    found = scan_all()
t2, c2 = time.perf_counter(), time.process_time()
if profile:
    again, profile_repeat = profiled(scan_all)
else:
    again = scan_all()
t3, c3 = time.perf_counter(), time.process_time()
assert again == found
out = {"import_s": t1 - t0, "scan_s": t2 - t1, "repeat_s": t3 - t2, "files": len(names),
       "scan_cpu_s": c2 - c1, "repeat_cpu_s": c3 - c2,
       "files_with_findings": sum(1 for v in found.values() if v),
       "findings": sum(len(v) for v in found.values()),
       "examples": [f"{k}: {v[0]}" for k, v in found.items() if v][:5]}
if profile:
    out["profile"] = "first pass:\\n" + profile_first + "\\nsecond pass:\\n" + profile_repeat
print(json.dumps(out))
"""

PICKLESCAN_PROBE = """
import sys, time, json
t0 = time.perf_counter()
from pathlib import Path
from picklescan.scanner import scan_file_path
t1, c1 = time.perf_counter(), time.process_time()
root = Path(sys.argv[1]); names = Path(sys.argv[2]).read_text().splitlines()
infected = errors = issues = 0
for rel in names:
    r = scan_file_path(str(root / rel))
    infected += r.infected_files; errors += int(bool(r.scan_err)); issues += r.issues_count
t2, c2 = time.perf_counter(), time.process_time()
print(json.dumps({"import_s": t1 - t0, "scan_s": t2 - t1, "scan_cpu_s": c2 - c1,
                  "files": len(names),
                  "infected_files": infected, "scan_errors": errors, "issues": issues}))
"""


def _picklescan_bin() -> str:
    return shutil.which("picklescan", path=str(bench.VENV_BIN)) or "picklescan"


def _list_file(scan_dir: Path, label: str, names: list[str]) -> Path:
    path = scan_dir / f"{label}.list"
    path.write_text("\n".join(names) + "\n")
    return path


def _probe_cmd(
    code: str, root: Path, listing: Path, runs: list[dict[str, Any]]
) -> Callable[[], bench.Sample]:
    def go() -> bench.Sample:
        data, sample = bench.probe(code, str(root), str(listing))
        runs.append(data)
        return sample

    return go


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(float(d[key]) for d in runs)


# --- the measurement ----------------------------------------------------------------------------


def measure(work: Path, *, total: int, rounds: int, keep: bool) -> dict[str, Any]:
    """Generate the scan workloads under `work/scan`, measure them; the results."""
    scan_dir = work / "scan"
    t = time.perf_counter()
    large = make_large(scan_dir, total)
    corpus_root = scan_dir / "corpus"
    corpus = make_corpus(corpus_root)
    print(f"scan workloads ready in {time.perf_counter() - t:.1f} s", flush=True)
    results: dict[str, Any] = {"bytes": total, "corpus_files": len(corpus)}
    picklescan = _picklescan_bin()
    results["picklescan"] = _picklescan_version()
    try:
        for path in large.values():
            _warm(path)
        big_rounds = max(rounds * 2, 9)
        for label, path in large.items():
            print(f"\n== safety scan: {label} ({path.stat().st_size / GIB:.2f} GiB)", flush=True)
            listing = _list_file(scan_dir, path.name, [path.name])
            usc_runs: list[dict[str, Any]] = []
            ps_runs: list[dict[str, Any]] = []
            series = bench.interleave(
                {
                    "cat FILE > /dev/null": lambda p=path: bench.run_timed(["cat", str(p)]),
                    "usc scan_file (process)": _probe_cmd(
                        USC_SCAN_PROBE, scan_dir, listing, usc_runs
                    ),
                    "picklescan -p FILE": lambda p=path: bench.run_timed(
                        [picklescan, "-p", str(p)]
                    ),
                    "picklescan scan_file_path (process)": _probe_cmd(
                        PICKLESCAN_PROBE, scan_dir, listing, ps_runs
                    ),
                },
                big_rounds,
            )
            entry: dict[str, Any] = {k: v.summary() for k, v in series.items()}
            entry["bytes"] = path.stat().st_size
            entry["usc_scan_s"] = _median(usc_runs, "scan_s")
            entry["usc_repeat_s"] = _median(usc_runs, "repeat_s")
            entry["usc_scan_cpu_s"] = _median(usc_runs, "scan_cpu_s")
            entry["usc_repeat_cpu_s"] = _median(usc_runs, "repeat_cpu_s")
            entry["picklescan_api_scan_cpu_s"] = _median(ps_runs, "scan_cpu_s")
            entry["usc_import_s"] = _median(usc_runs, "import_s")
            entry["usc_findings"] = usc_runs[-1]["findings"]
            entry["usc_examples"] = usc_runs[-1]["examples"]
            entry["picklescan_api_scan_s"] = _median(ps_runs, "scan_s")
            entry["picklescan_api_import_s"] = _median(ps_runs, "import_s")
            entry["picklescan_result"] = {
                k: ps_runs[-1][k] for k in ("infected_files", "scan_errors", "issues")
            }
            prof, _ = bench.probe(USC_SCAN_PROBE, str(scan_dir), str(listing), "--profile")
            entry["profile"] = prof["profile"]
            results[label] = entry
            print(json.dumps({k: v for k, v in entry.items() if k != "profile"}, indent=1))

        print(f"\n== safety scan: benign corpus ({len(corpus)} files)", flush=True)
        names = [p.relative_to(corpus_root).as_posix() for p in corpus]
        listing = _list_file(scan_dir, "corpus", names)
        bench.warm_page_cache(corpus_root)
        usc_runs = []
        ps_runs = []
        series = bench.interleave(
            {
                "usc scan_file (process)": _probe_cmd(
                    USC_SCAN_PROBE, corpus_root, listing, usc_runs
                ),
                "picklescan scan_file_path (process)": _probe_cmd(
                    PICKLESCAN_PROBE, corpus_root, listing, ps_runs
                ),
            },
            rounds,
        )
        corpus_entry: dict[str, Any] = {k: v.summary() for k, v in series.items()}
        corpus_entry["files"] = len(names)
        corpus_entry["bytes"] = sum(p.stat().st_size for p in corpus)
        corpus_entry["usc_scan_s"] = _median(usc_runs, "scan_s")
        corpus_entry["usc_repeat_s"] = _median(usc_runs, "repeat_s")
        corpus_entry["usc_scan_cpu_s"] = _median(usc_runs, "scan_cpu_s")
        corpus_entry["usc_repeat_cpu_s"] = _median(usc_runs, "repeat_cpu_s")
        corpus_entry["picklescan_api_scan_cpu_s"] = _median(ps_runs, "scan_cpu_s")
        corpus_entry["usc_import_s"] = _median(usc_runs, "import_s")
        corpus_entry["usc_files_with_findings"] = usc_runs[-1]["files_with_findings"]
        corpus_entry["usc_examples"] = usc_runs[-1]["examples"]
        corpus_entry["picklescan_api_scan_s"] = _median(ps_runs, "scan_s")
        corpus_entry["picklescan_api_import_s"] = _median(ps_runs, "import_s")
        corpus_entry["picklescan_result"] = {
            k: ps_runs[-1][k] for k in ("infected_files", "scan_errors", "issues")
        }
        prof, _ = bench.probe(USC_SCAN_PROBE, str(corpus_root), str(listing), "--profile")
        corpus_entry["profile"] = prof["profile"]
        results["corpus"] = corpus_entry
        print(json.dumps({k: v for k, v in corpus_entry.items() if k != "profile"}, indent=1))
    finally:
        if not keep:
            for p in large.values():
                p.unlink(missing_ok=True)
            (scan_dir / ".bench-params.json").unlink(missing_ok=True)
    return results


def _warm(path: Path) -> None:
    buf = bytearray(MIB)
    with open(path, "rb", buffering=0) as fh:
        while fh.readinto(buf):
            pass


def _picklescan_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("picklescan")
    except PackageNotFoundError:
        return "unknown"


# --- the report ---------------------------------------------------------------------------------


def report(r: dict[str, Any]) -> str:
    """Markdown tables of the scan workload: ratios against cat and picklescan, then times."""
    lines = [
        "| safety scan | usc (wall / CPU) | baseline (wall / CPU) | ratio wall | ratio CPU | "
        "target |",
        "|---|---|---|---|---|---|",
    ]

    def row(name: str, ours: tuple[float, float], base: tuple[float, float], target: float) -> None:
        w, c = bench.ratio(ours[0], base[0]), bench.ratio(ours[1], base[1])
        verdict = f"<= {target} {'met' if w <= target else 'MISSED'}" if target else "-"
        lines.append(
            f"| {name} | {ours[0]:.4f} s / {ours[1]:.4f} s | {base[0]:.4f} s / {base[1]:.4f} s | "
            f"{w:.2f} | {c:.2f} | {verdict} |"
        )

    def of(series: dict[str, Any]) -> tuple[float, float]:
        return float(series["median_wall_s"]), float(series["median_cpu_s"])

    for label in ("torch zip", "joblib dump"):
        e = r[label]
        cat = of(e["cat FILE > /dev/null"])
        proc = of(e["usc scan_file (process)"])
        first = (e["usc_scan_s"], e["usc_scan_cpu_s"])
        again = (e["usc_repeat_s"], e["usc_repeat_cpu_s"])
        ps_api = (e["picklescan_api_scan_s"], e["picklescan_api_scan_cpu_s"])
        gib = e["bytes"] / GIB
        row(
            f"{label} ({gib:.2f} GiB): first scan in a process (lazy imports) / cat",
            first,
            cat,
            1.5,
        )
        row(f"{label}: repeated scan (steady state) / cat", again, cat, 1.5)
        row(f"{label}: whole process (start-up, imports, scan) / cat", proc, cat, 0)
        row(f"{label}: whole process / `picklescan -p FILE`", proc, of(e["picklescan -p FILE"]), 0)
        row(
            f"{label}: whole process / picklescan API process",
            proc,
            of(e["picklescan scan_file_path (process)"]),
            0,
        )
        row(f"{label}: first scan / picklescan `scan_file_path` (in-process)", first, ps_api, 0)
    c = r["corpus"]
    ps_api = (c["picklescan_api_scan_s"], c["picklescan_api_scan_cpu_s"])
    row(
        f"benign corpus ({c['files']} files, {c['bytes'] / MIB:.1f} MiB): first scan / "
        "picklescan `scan_file_path` (in-process)",
        (c["usc_scan_s"], c["usc_scan_cpu_s"]),
        ps_api,
        0,
    )
    row(
        "benign corpus: repeated scan (steady state) / picklescan (in-process)",
        (c["usc_repeat_s"], c["usc_repeat_cpu_s"]),
        ps_api,
        0,
    )
    row(
        "benign corpus: whole process / picklescan API process",
        of(c["usc scan_file (process)"]),
        of(c["picklescan scan_file_path (process)"]),
        0,
    )
    lines += [
        "",
        "| safety scan (median wall s / median CPU s / peak RSS MB / exit) | torch zip | "
        "joblib dump | benign corpus |",
        "|---|---|---|---|",
    ]
    names = [
        "cat FILE > /dev/null",
        "usc scan_file (process)",
        "picklescan -p FILE",
        "picklescan scan_file_path (process)",
    ]
    for name in names:
        cells = []
        for key in ("torch zip", "joblib dump", "corpus"):
            s = r[key].get(name)
            cells.append(
                f"{s['median_wall_s']:.3f} s / {s['median_cpu_s']:.2f} s / "
                f"{s['peak_rss_mb']:.0f} MB / {'0' if s['ok'] else 'non-zero'}"
                if isinstance(s, dict)
                else "-"
            )
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    for key, title in (
        ("usc_scan_s", "usc scan itself (in-process, first pass)"),
        ("usc_repeat_s", "usc scan itself (in-process, second pass)"),
        ("usc_import_s", "usc imports"),
        ("picklescan_api_scan_s", "picklescan scan itself (in-process)"),
        ("picklescan_api_import_s", "picklescan imports"),
    ):
        lines.append(
            f"| {title} | "
            + " | ".join(f"{r[k][key]:.4f} s" for k in ("torch zip", "joblib dump", "corpus"))
            + " |"
        )
    lines.append(
        "| usc findings / picklescan (infected, errors, issues) | "
        + " | ".join(
            f"{r[k].get('usc_findings', r[k].get('usc_files_with_findings'))} / "
            f"{r[k]['picklescan_result']['infected_files']}, "
            f"{r[k]['picklescan_result']['scan_errors']}, {r[k]['picklescan_result']['issues']}"
            for k in ("torch zip", "joblib dump", "corpus")
        )
        + " |"
    )
    return "\n".join(lines)
