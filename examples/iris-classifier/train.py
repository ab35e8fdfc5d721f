"""Train a softmax-regression classifier with numpy and write it as safetensors.

Reads hyperparameters from params.yaml (sections `model` and `train`), the training CSV, and
writes model/model.safetensors with `__metadata__` describing the model. The output is
deterministic: the same params and data give the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import json
import struct
from pathlib import Path

import numpy as np
import yaml
from safetensors import safe_open
from safetensors.numpy import save

HERE = Path(__file__).resolve().parent
LABEL = "species"


def read_csv(path: Path) -> tuple[list[str], np.ndarray, list[str]]:
    """Return (feature names, float64 matrix, labels) of a CSV whose last column is the label."""
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        if header[-1] != LABEL:
            raise SystemExit(f"{path}: last column must be {LABEL!r}, got {header[-1]!r}")
        rows = list(reader)
    x = np.array([[float(v) for v in row[:-1]] for row in rows], dtype=np.float64)
    return header[:-1], x, [row[-1] for row in rows]


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit(
    x: np.ndarray, y: np.ndarray, n_classes: int, train: dict[str, float]
) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """Mini-batch gradient descent on the L2-regularised cross-entropy; returns (W, b, losses)."""
    rng = np.random.default_rng(int(train["seed"]))
    lr, l2 = float(train["learning_rate"]), float(train["l2"])
    batch = int(train["batch_size"])
    n, d = x.shape
    w = np.zeros((d, n_classes))
    b = np.zeros(n_classes)
    onehot = np.eye(n_classes)[y]
    losses: list[float] = []
    for _ in range(int(train["epochs"])):
        order = rng.permutation(n)
        for start in range(0, n, batch):
            idx = order[start : start + batch]
            p = softmax(x[idx] @ w + b)
            grad = (p - onehot[idx]) / len(idx)
            w -= lr * (x[idx].T @ grad + l2 * w)
            b -= lr * grad.sum(axis=0)
        p = softmax(x @ w + b)
        losses.append(float(-np.log(p[np.arange(n), y] + 1e-12).mean()))
    return w, b, losses


def canonical_safetensors(data: bytes) -> bytes:
    """Sort the `__metadata__` keys in the header.

    The safetensors writer emits metadata in hash-map order, which changes from run to run;
    sorting (same keys, same length) makes reruns byte-identical.
    """
    (length,) = struct.unpack("<Q", data[:8])
    raw = data[8 : 8 + length]
    header = json.loads(raw)
    header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if len(text) > length:
        raise SystemExit("canonical safetensors header is longer than the original")
    return data[:8] + text.ljust(length, b" ") + data[8 + length :]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=Path, default=HERE / "params.yaml")
    parser.add_argument("--data", type=Path, default=HERE / "data" / "train.csv")
    parser.add_argument("--out", type=Path, default=HERE / "model" / "model.safetensors")
    args = parser.parse_args(argv)

    params = yaml.safe_load(args.params.read_text(encoding="utf-8"))
    model_params, train_params = params["model"], params["train"]
    if model_params["type"] != "softmax-regression":
        raise SystemExit(f"unsupported model type {model_params['type']!r}")

    features, x, labels = read_csv(args.data)
    classes = sorted(set(labels))
    y = np.array([classes.index(label) for label in labels])
    if model_params.get("standardize", True):
        mean, std = x.mean(axis=0), x.std(axis=0)
        std[std == 0] = 1.0
    else:
        mean, std = np.zeros(x.shape[1]), np.ones(x.shape[1])
    w, b, losses = fit((x - mean) / std, y, len(classes), train_params)

    # Rounded before the cast, so last-bit differences between BLAS builds do not reach the file.
    tensors = {
        "weight": np.round(w, 6).astype(np.float32),
        "bias": np.round(b, 6).astype(np.float32),
        "feature_mean": np.round(mean, 6).astype(np.float32),
        "feature_std": np.round(std, 6).astype(np.float32),
    }
    metadata = {
        "architecture": "softmax-regression",
        "framework": "numpy",
        "framework_version": np.__version__,
        "task": "tabular-classification",
        "features": json.dumps(features),
        "classes": json.dumps(classes),
        "label": LABEL,
        "hyperparameters": json.dumps(train_params, sort_keys=True),
        "training_rows": str(len(labels)),
        "final_train_loss": f"{losses[-1]:.6f}",
    }
    blob = canonical_safetensors(save(tensors, metadata=metadata))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_bytes(blob)
    tmp.replace(args.out)
    with safe_open(str(args.out), framework="np") as fh:  # the file must read back as written
        assert fh.metadata() == metadata and set(fh.keys()) == set(tensors)
    print(f"trained on {len(labels)} rows; final training loss {losses[-1]:.4f}; wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
