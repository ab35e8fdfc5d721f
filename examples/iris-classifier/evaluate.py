"""Evaluate the safetensors model on the test CSV and write metrics.json.

Loads tensors with safetensors (plain arrays, no code execution), predicts with the softmax
model, and writes accuracy, macro-F1, log-loss and per-class accuracy slices.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file

HERE = Path(__file__).resolve().parent
DIGITS = 6


def read_csv(path: Path, features: list[str], label: str) -> tuple[np.ndarray, list[str]]:
    """Return (float64 matrix in the model's feature order, labels)."""
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in [*features, label] if c not in (reader.fieldnames or [])]
        if missing:
            raise SystemExit(f"{path}: missing columns {missing}")
        rows = list(reader)
    x = np.array([[float(row[f]) for f in features] for row in rows], dtype=np.float64)
    return x, [row[label] for row in rows]


def evaluate(model_path: Path, data_path: Path) -> dict[str, object]:
    tensors = load_file(str(model_path))
    with safe_open(str(model_path), framework="np") as fh:
        meta = fh.metadata()
    if meta.get("architecture") != "softmax-regression":
        raise SystemExit(f"{model_path}: not a softmax-regression model")
    features, classes = json.loads(meta["features"]), json.loads(meta["classes"])
    x, labels = read_csv(data_path, features, meta["label"])
    unknown = sorted(set(labels) - set(classes))
    if unknown:
        raise SystemExit(f"{data_path}: labels the model does not know: {unknown}")
    y = np.array([classes.index(label) for label in labels])

    z = ((x - tensors["feature_mean"]) / tensors["feature_std"]) @ tensors["weight"]
    z = z + tensors["bias"]
    z = z - z.max(axis=1, keepdims=True)
    prob = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    pred = prob.argmax(axis=1)

    f1s = []
    slices: dict[str, dict[str, float | int]] = {}
    for k, name in enumerate(classes):
        tp = int(((pred == k) & (y == k)).sum())
        fp = int(((pred == k) & (y != k)).sum())
        fn = int(((pred != k) & (y == k)).sum())
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0)
        support = int((y == k).sum())
        slices[f"{meta['label']}={name}"] = {
            "accuracy": round(tp / support, DIGITS) if support else 0.0,
            "support": support,
        }
    loss = float(-np.log(np.clip(prob[np.arange(len(y)), y], 1e-15, 1.0)).mean())
    return {
        "accuracy": round(float((pred == y).mean()), DIGITS),
        "f1_macro": round(float(np.mean(f1s)), DIGITS),
        "loss": round(loss, DIGITS),
        "samples": len(y),
        "slices": slices,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=HERE / "model" / "model.safetensors")
    parser.add_argument("--data", type=Path, default=HERE / "data" / "test.csv")
    parser.add_argument("--out", type=Path, default=HERE / "metrics.json")
    args = parser.parse_args(argv)
    metrics = evaluate(args.model, args.data)
    args.out.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    print(
        f"accuracy {metrics['accuracy']}  f1_macro {metrics['f1_macro']}  "
        f"loss {metrics['loss']}  -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
