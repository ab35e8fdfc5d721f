"""Write the synthetic iris-like dataset (data/train.csv, data/test.csv) deterministically.

Each class is drawn from an independent Gaussian per feature, with means and standard deviations
close to the published per-species statistics of Fisher's iris measurements; no real measurement
is copied. Same params.yaml -> same bytes.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
import yaml

HERE = Path(__file__).resolve().parent
FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")
LABEL = "species"
# Per-class (mean, standard deviation) of each feature, in centimetres.
CLASSES: dict[str, tuple[tuple[float, float], ...]] = {
    "setosa": ((5.01, 0.35), (3.43, 0.38), (1.46, 0.17), (0.25, 0.11)),
    "versicolor": ((5.94, 0.52), (2.77, 0.31), (4.26, 0.47), (1.33, 0.20)),
    "virginica": ((6.59, 0.64), (2.97, 0.32), (5.55, 0.55), (2.03, 0.27)),
}


def generate(seed: int, rows_per_class: int) -> list[tuple[list[float], str]]:
    """Draw `rows_per_class` rows per class and shuffle them with a fixed seed."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[list[float], str]] = []
    for name, stats in CLASSES.items():
        means = np.array([m for m, _ in stats])
        stds = np.array([s for _, s in stats])
        values = rng.normal(means, stds, size=(rows_per_class, len(FEATURES)))
        # Lengths are physical sizes: keep them positive.
        values = np.clip(values, 0.1, None)
        rows.extend(([float(v) for v in row], name) for row in values)
    order = rng.permutation(len(rows))
    return [rows[i] for i in order]


def write_csv(path: Path, rows: list[tuple[list[float], str]]) -> None:
    """Write rows with one decimal place (like the original measurements) and LF line endings."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow([*FEATURES, LABEL])
        for values, name in rows:
            writer.writerow([f"{v:.1f}" for v in values] + [name])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=Path, default=HERE.parent / "params.yaml")
    parser.add_argument("--out-dir", type=Path, default=HERE)
    args = parser.parse_args(argv)
    params = yaml.safe_load(args.params.read_text(encoding="utf-8"))["data"]
    rows = generate(int(params["seed"]), int(params["rows_per_class"]))
    n_test = round(len(rows) * float(params["test_fraction"]))
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write_csv(args.out_dir / "train.csv", rows[n_test:])
    write_csv(args.out_dir / "test.csv", rows[:n_test])
    print(f"wrote {len(rows) - n_test} training and {n_test} test rows to {args.out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
