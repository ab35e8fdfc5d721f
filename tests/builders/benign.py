"""The benign corpus: real model files written by the real libraries, which must scan clean.

Every estimator of `sklearn.utils.all_estimators()` that fits on a small dataset is fitted (meta
estimators get a small inner estimator, text and label encoders get the input they take) and
saved with `pickle` and with `joblib`, plain and compressed; beside them numpy random generators,
`datetime` values, numpy scalars and arrays, `FunctionTransformer(np.log1p)`, pipelines and column
transformers, a torch-style state dict, a safetensors file and `.npy`/`.npz` arrays.

scripts/allowlist.py fits and pickles the same objects to regenerate the scikit-learn/numpy section
of src/unified_supply_chain/safety/allowed_globals.txt; tests/integration/test_benign_corpus.py
checks the corpus against that file (the globals walked by tests/builders/pickle_walk.py).

Sources of the hand-built formats: the torch zip layout and pickle are those of
pytorch/pytorch torch/serialization.py (`_save`: `archive/data.pkl`, `archive/data/<key>`,
`archive/version`, `archive/byteorder`; persistent id `('storage', storage_type, key, location,
numel)`) and torch/_utils.py (`_rebuild_tensor_v2(storage, storage_offset, size, stride,
requires_grad, backward_hooks)`).

Longer than our usual 400 lines on purpose: the corpus the test scans and the one the script
derives the allow-list from must be the same, so every builder of it lives in this one module.
"""

from __future__ import annotations

import collections
import datetime as dt
import inspect
import json
import pickle
import struct
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: Rows of the training data: enough for 3 classes and 5-fold CV, small enough to fit fast.
ROWS = 30
FEATURES = 4
PROTOCOLS = (2, 3, 4, 5)
#: joblib compressors (joblib.compressor._COMPRESSORS) and the suffixes joblib gives them.
COMPRESSORS = ("zlib", "gzip", "lzma", "xz", "bz2")


# --- The data. ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Data:
    """Training data for every kind of estimator (non-negative, so the count-based ones fit)."""

    X: Any
    """(ROWS, FEATURES) floats in [0, 1)."""
    y_class: Any
    """Three classes, ten rows each."""
    y_reg: Any
    """A continuous target."""
    Y_multi: Any
    """Two binary label columns (multi-label / multi-output classification)."""
    Y_reg2: Any
    """Two continuous target columns (multi-output regression)."""


def dataset() -> Data:
    """The fixed small dataset (seeded)."""
    rng = np.random.RandomState(0)
    X = rng.rand(ROWS, FEATURES)
    y_class = np.repeat([0, 1, 2], ROWS // 3)
    X[:, 0] += y_class  # separable enough for every classifier to converge
    # Positive, so the Gamma/Poisson/Tweedie regressors fit too.
    y_reg = 5.0 + X @ np.array([1.0, -2.0, 0.5, 3.0]) + 0.1 * rng.rand(ROWS)
    Y_multi = np.column_stack([y_class == 1, y_class != 0]).astype(int)
    Y_reg2 = np.column_stack([y_reg, -y_reg + rng.rand(ROWS)])
    return Data(X, y_class, y_reg, Y_multi, Y_reg2)


_DOCS = [
    "the cat sat on the mat",
    "dogs chase cats in the park",
    "a model of the supply chain",
    "pickles are not safe to load",
    "the park has a cat and a dog",
    "supply chains ship models",
]


# --- Fitting every estimator. --------------------------------------------------------------------


@dataclass
class Fitted:
    """What `fit_all_estimators` produced."""

    fitted: list[tuple[str, Any]] = field(default_factory=list)
    """(estimator name, fitted estimator), in all_estimators() order."""
    skipped: dict[str, str] = field(default_factory=dict)
    """Estimator name -> why it is not in the corpus."""


#: Estimators that cannot be fitted on an ordinary small dataset, and why (none today: every
#: estimator of scikit-learn 1.9 fits with the inputs and arguments below; one that stops fitting
#: is reported by `fit_all_estimators` with its error instead).
SKIPPED: dict[str, str] = {}

#: Smaller settings where an estimator has them, so the whole corpus fits in seconds.
_FAST: dict[str, Any] = {"n_estimators": 5, "cv": 3, "n_init": 1}
_FAST_BY_NAME: dict[str, dict[str, Any]] = {
    "HistGradientBoostingClassifier": {"max_iter": 5},
    "HistGradientBoostingRegressor": {"max_iter": 5},
    "LogisticRegressionCV": {"Cs": 2},
    "SequentialFeatureSelector": {"n_features_to_select": 1, "cv": 2},
    "MiniBatchSparsePCA": {"n_components": 2, "max_iter": 10},
    "MiniBatchKMeans": {"batch_size": 16, "max_iter": 10},
    "MiniBatchDictionaryLearning": {"n_components": 2, "max_iter": 10},
    "DictionaryLearning": {"n_components": 2},
    "GaussianRandomProjection": {"n_components": 2},
    "SparseRandomProjection": {"n_components": 2},
    "TSNE": {"perplexity": 5.0},
    "MLPClassifier": {"max_iter": 50},
    "MLPRegressor": {"max_iter": 50},
}


def _constructor_args(name: str, cls: type, est_kind: str) -> dict[str, Any]:
    """Arguments a meta estimator requires: small inner estimators of the right kind."""
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    def inner() -> Any:
        return (
            DecisionTreeRegressor(max_depth=2, random_state=0)
            if est_kind == "regressor"
            else DecisionTreeClassifier(max_depth=2, random_state=0)
        )

    if name in ("RFE", "RFECV", "SelectFromModel", "SequentialFeatureSelector"):
        return {"estimator": LogisticRegression(max_iter=200)}
    if name == "SelfTrainingClassifier":
        return {"estimator": LogisticRegression(max_iter=200)}
    if name == "FrozenEstimator":
        data = dataset()
        return {"estimator": LogisticRegression(max_iter=200).fit(data.X, data.y_class)}
    required = {
        p
        for p, v in inspect.signature(cls.__init__).parameters.items()
        if v.default is inspect.Parameter.empty
        and p != "self"
        and v.kind is v.POSITIONAL_OR_KEYWORD
    }
    args: dict[str, Any] = {}
    if "estimator" in required:
        args["estimator"] = (
            LinearRegression() if name in ("RegressorChain", "MultiOutputRegressor") else inner()
        )
    if "estimators" in required:
        second = LinearRegression() if est_kind == "regressor" else LogisticRegression(max_iter=200)
        args["estimators"] = [("tree", inner()), ("linear", second)]
    if "param_grid" in required:
        args["param_grid"] = {"max_depth": [1, 2]}
    if "param_distributions" in required:
        args["param_distributions"] = {"max_depth": [1, 2]}
        args["n_iter"] = 2
    if "steps" in required:
        args["steps"] = [("scale", StandardScaler()), ("pca", PCA(n_components=2))]
    if "transformer_list" in required:
        args["transformer_list"] = [("scale", StandardScaler()), ("pca", PCA(n_components=2))]
    if "transformers" in required:
        args["transformers"] = [("scale", StandardScaler(), [0, 1]), ("pca", PCA(1), [2, 3])]
    if "dictionary" in required:
        args["dictionary"] = np.eye(FEATURES)[:2]
    return args


def _fit_inputs(name: str, est_kind: str, data: Data) -> list[tuple[Any, ...]]:
    """Candidate fit() arguments, tried in order (the first that fits is kept)."""
    X = data.X
    special: dict[str, list[tuple[Any, ...]]] = {
        "CountVectorizer": [(_DOCS,)],
        "TfidfVectorizer": [(_DOCS,)],
        "HashingVectorizer": [(_DOCS,)],
        "DictVectorizer": [([{"a": 1.0, "b": 2.0}, {"a": 3.0, "c": 1.0}],)],
        "FeatureHasher": [([{"a": 1.0, "b": 2.0}, {"a": 3.0, "c": 1.0}],)],
        "LabelBinarizer": [(data.y_class,)],
        "LabelEncoder": [(np.array(["red", "green", "blue", "green"]),)],
        "MultiLabelBinarizer": [([{"a", "b"}, {"c"}, {"a"}],)],
        "IsotonicRegression": [(X[:, 0], data.y_reg)],
        "PatchExtractor": [(np.random.RandomState(0).rand(3, 6, 6),)],
        "KernelCenterer": [(X @ X.T,)],
        "FixedThresholdClassifier": [(X, data.y_class == 0)],
        "TunedThresholdClassifierCV": [(X, data.y_class == 0)],
        "SelfTrainingClassifier": [(X, np.where(np.arange(ROWS) % 3 == 0, -1, data.y_class))],
        "ClassifierChain": [(X, data.Y_multi)],
        "MultiOutputClassifier": [(X, data.Y_multi)],
        "MultiOutputRegressor": [(X, data.Y_reg2)],
        "RegressorChain": [(X, data.Y_reg2)],
    }
    if name in special:
        return special[name]
    if name.startswith("MultiTask"):
        return [(X, data.Y_reg2)]
    y = data.y_reg if est_kind == "regressor" else data.y_class
    return [(X, y), (X,), (X, data.Y_reg2)]


def _kind(cls: type) -> str:
    from sklearn.base import is_classifier, is_regressor

    est = cls.__new__(cls)
    try:
        if is_regressor(est):
            return "regressor"
        if is_classifier(est):
            return "classifier"
    except Exception:  # noqa: BLE001 - tags of an un-initialised instance may not be readable
        pass
    return "other"


def fit_all_estimators(data: Data | None = None) -> Fitted:
    """Fit every estimator of all_estimators() that fits on `data` (warnings silenced, one
    thread: thread pools cost more than they save on 30 rows)."""
    from sklearn.utils import all_estimators
    from threadpoolctl import threadpool_limits

    data = data or dataset()
    out = Fitted()
    for name, cls in all_estimators():
        if name in SKIPPED:
            out.skipped[name] = SKIPPED[name]
            continue
        kind = _kind(cls)
        errors: list[str] = []
        for args in _fit_inputs(name, kind, data):
            try:
                est = cls(**_constructor_args(name, cls, kind))
                params = est.get_params(deep=False)
                fast = {k: v for k, v in _FAST.items() if k in params}
                fast.update(_FAST_BY_NAME.get(name, {}))
                if "random_state" in params:
                    fast["random_state"] = 0
                est.set_params(**fast)
                with warnings.catch_warnings(), threadpool_limits(1):
                    warnings.simplefilter("ignore")
                    est.fit(*args)
            except Exception as exc:  # noqa: BLE001 - an estimator that does not fit is skipped
                errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
                continue
            out.fitted.append((name, est))
            break
        else:
            out.skipped[name] = "does not fit on the small dataset: " + "; ".join(errors)
    return out


# --- Other ordinary objects found in model files. ------------------------------------------------


def other_objects(data: Data | None = None) -> list[tuple[str, Any]]:
    """numpy random state, datetime values, numpy scalars/arrays, pipelines, column transformers."""
    from sklearn.compose import ColumnTransformer
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
    from sklearn.svm import SVC

    data = data or dataset()
    rnd = np.random
    objects: list[tuple[str, Any]] = [
        ("numpy-RandomState", rnd.RandomState(0)),
        ("numpy-default_rng", rnd.default_rng(0)),
        ("numpy-Generator-MT19937", rnd.Generator(rnd.MT19937(1))),
        ("numpy-Generator-PCG64", rnd.Generator(rnd.PCG64(2))),
        ("numpy-Generator-PCG64DXSM", rnd.Generator(rnd.PCG64DXSM(3))),
        ("numpy-Generator-Philox", rnd.Generator(rnd.Philox(4))),
        ("numpy-Generator-SFC64", rnd.Generator(rnd.SFC64(5))),
        ("numpy-Generator-SeedSequence", rnd.Generator(rnd.PCG64(rnd.SeedSequence(42)))),
        ("numpy-SeedSequence", rnd.SeedSequence(42)),
        ("numpy-bit-generators", [rnd.MT19937(1), rnd.PCG64(2), rnd.Philox(4), rnd.SFC64(5)]),
        (
            "numpy-scalars",
            [np.float64(1.5), np.float32(2.5), np.int64(3), np.int32(4), np.bool_(True)],
        ),
        (
            "numpy-arrays",
            {
                "float": np.arange(6.0).reshape(2, 3),
                "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
                "int": np.arange(5),
                "str": np.array(["a", "bc"]),
                "bytes": np.array([b"a", b"bc"]),
                "object": np.array(["a", 1, None], dtype=object),
                "record": np.zeros(2, dtype=[("x", "<f4"), ("y", "<i8")]),
                "datetime64": np.array(["2024-01-01"], dtype="datetime64[D]"),
                "complex": np.array([1 + 2j]),
                "empty": np.empty((0, 3)),
            },
        ),
        (
            "datetime",
            {
                "datetime": dt.datetime(2025, 1, 2, 3, 4, 5, 6),
                "aware": dt.datetime(2025, 1, 2, tzinfo=dt.timezone.utc),
                "offset": dt.datetime(2025, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=2))),
                "date": dt.date(2025, 1, 2),
                "time": dt.time(12, 30),
                "timedelta": dt.timedelta(days=1, seconds=2),
                "timezone": dt.timezone(dt.timedelta(hours=-5), "EST"),
            },
        ),
        (
            "builtins",
            {
                "set": {1, 2},
                "frozenset": frozenset({3}),
                "bytes": b"\x00\x01",
                "bytearray": bytearray(b"ab"),
                "complex": 1 + 2j,
                "slice": slice(1, 5, 2),
                "range": range(3),
                "tuple": (1, "a"),
            },
        ),
        (
            "collections",
            {
                "OrderedDict": collections.OrderedDict(a=1),
                "defaultdict": collections.defaultdict(list, a=[1]),
                "Counter": collections.Counter("abca"),
                "deque": collections.deque([1, 2]),
            },
        ),
    ]
    log = FunctionTransformer(np.log1p, inverse_func=np.expm1, check_inverse=False)
    objects.append(("FunctionTransformer-log1p", log.fit(data.X)))
    pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=200))])
    objects.append(("pipeline", pipe.fit(data.X, data.y_class)))
    objects.append(("make_pipeline", make_pipeline(PCA(2), SVC()).fit(data.X, data.y_class)))
    mixed = np.empty((ROWS, 3), dtype=object)
    mixed[:, 0] = data.X[:, 0]
    mixed[:, 1] = data.X[:, 1]
    mixed[:, 2] = np.array(["red", "green", "blue"])[data.y_class]
    columns = ColumnTransformer(
        [
            ("num", StandardScaler(), [0, 1]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), [2]),
        ]
    )
    objects.append(
        (
            "column-transformer",
            make_pipeline(columns, LogisticRegression()).fit(mixed, data.y_class),
        )
    )
    # Neighbour searches other than the kd-tree that "auto" picks on four features.
    from sklearn.neighbors import KNeighborsClassifier

    for name, params in (
        ("knn-ball_tree", {"algorithm": "ball_tree"}),
        ("knn-manhattan", {"metric": "manhattan"}),
        ("knn-minkowski-p3", {"p": 3}),
        ("knn-brute-cosine", {"algorithm": "brute", "metric": "cosine"}),
    ):
        objects.append((name, KNeighborsClassifier(**params).fit(data.X, data.y_class)))
    objects.extend(_pandas_objects(data))
    return objects


def _pandas_objects(data: Data) -> list[tuple[str, Any]]:
    """DataFrame pickles, when pandas is installed (it is not a test dependency)."""
    try:
        import pandas as pd
    except ImportError:
        return []
    frame = pd.DataFrame(data.X, columns=[f"f{i}" for i in range(FEATURES)])
    frame["label"] = pd.Categorical(np.array(["a", "b", "c"])[data.y_class])
    frame["when"] = pd.date_range("2025-01-01", periods=ROWS)
    return [("pandas-DataFrame", frame), ("pandas-Series", frame["f0"])]


# --- Writing the corpus. -------------------------------------------------------------------------


def _joblib_dump(obj: Any, path: Path, compress: str | None) -> None:
    import joblib

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        joblib.dump(obj, path, compress=(compress, 3) if compress else 0)


def write_objects(
    root: Path, objects: list[tuple[str, Any]], *, every_variant: bool = False
) -> list[Path]:
    """Save each object with pickle and joblib (plain and compressed); the paths written.

    Without `every_variant`, each object gets one pickle protocol and one compressor, rotating
    so the corpus holds every protocol and compressor; with it, every combination.
    """
    root.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for i, (name, obj) in enumerate(objects):
        protocols = PROTOCOLS if every_variant else (PROTOCOLS[i % len(PROTOCOLS)],)
        for protocol in protocols:
            path = root / f"{name}.p{protocol}.pkl"
            path.write_bytes(pickle.dumps(obj, protocol=protocol))
            written.append(path)
        path = root / f"{name}.joblib"
        _joblib_dump(obj, path, None)
        written.append(path)
        compressors = COMPRESSORS if every_variant else (COMPRESSORS[i % len(COMPRESSORS)],)
        for compress in compressors:
            path = root / f"{name}.{compress}.joblib"
            _joblib_dump(obj, path, compress)
            written.append(path)
    return written


def _proto2_str(value: str) -> bytes:
    raw = value.encode()
    return pickle.BINUNICODE + struct.pack("<I", len(raw)) + raw


def _tuple_of_ints(values: tuple[int, ...]) -> bytes:
    return (
        pickle.MARK + b"".join(pickle.BININT + struct.pack("<i", v) for v in values) + pickle.TUPLE
    )


def torch_state_dict_pickle(tensors: dict[str, tuple[str, tuple[int, ...]]]) -> bytes:
    """`archive/data.pkl` of `torch.save(state_dict)`: protocol 2, as torch/serialization.py
    writes it (name -> (storage key, shape); float32 contiguous tensors)."""
    empty_ordered_dict = pickle.GLOBAL + b"collections\nOrderedDict\n" + pickle.EMPTY_TUPLE
    out = [pickle.PROTO + b"\x02", empty_ordered_dict, pickle.REDUCE, pickle.MARK]
    for name, (key, shape) in tensors.items():
        numel = int(np.prod(shape))
        stride = tuple(int(np.prod(shape[i + 1 :])) for i in range(len(shape)))
        out += [
            _proto2_str(name),
            pickle.GLOBAL + b"torch._utils\n_rebuild_tensor_v2\n",
            pickle.MARK,
            pickle.MARK,
            _proto2_str("storage"),
            pickle.GLOBAL + b"torch\nFloatStorage\n",
            _proto2_str(key),
            _proto2_str("cpu"),
            pickle.BININT + struct.pack("<i", numel),
            pickle.TUPLE,
            pickle.BINPERSID,
            pickle.BININT + struct.pack("<i", 0),
            _tuple_of_ints(shape),
            _tuple_of_ints(stride),
            pickle.NEWFALSE,
            empty_ordered_dict,
            pickle.REDUCE,
            pickle.TUPLE,
            pickle.REDUCE,
        ]
    out.append(pickle.SETITEMS)
    # state_dict._metadata, restored by BUILD on the OrderedDict (OrderedDict.__reduce__).
    out += [
        pickle.EMPTY_DICT,
        _proto2_str("_metadata"),
        empty_ordered_dict,
        pickle.REDUCE,
        pickle.MARK,
        _proto2_str(""),
        pickle.EMPTY_DICT,
        _proto2_str("version"),
        pickle.BININT1 + b"\x01",
        pickle.SETITEM,
        pickle.SETITEMS,
        pickle.SETITEM,
        pickle.BUILD,
        pickle.STOP,
    ]
    return b"".join(out)


def write_torch_state_dict(path: Path) -> None:
    """A torch.save zip of a two-tensor state dict, laid out as torch/serialization.py does."""
    tensors = {"linear.weight": ("0", (2, 3)), "linear.bias": ("1", (2,))}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("archive/data.pkl", torch_state_dict_pickle(tensors))
        zf.writestr("archive/byteorder", "little")
        for key, shape in tensors.values():
            zf.writestr(f"archive/data/{key}", np.ones(shape, dtype="<f4").tobytes())
        zf.writestr("archive/version", "3\n")
        zf.writestr("archive/.data/serialization_id", "1234567890\n")


def write_numeric_files(root: Path) -> list[Path]:
    """A safetensors file, a torch-style state dict, .npy and .npz numeric arrays."""
    from safetensors.numpy import save_file

    root.mkdir(parents=True, exist_ok=True)
    arrays = {"weight": np.ones((2, 3), dtype=np.float32), "bias": np.zeros(2, dtype=np.float32)}
    paths = {
        "safetensors": root / "model.safetensors",
        "torch": root / "pytorch_model.bin",
        "torch-pt": root / "state_dict.pt",
        "npy": root / "weights.npy",
        "npz": root / "arrays.npz",
        "npz-compressed": root / "arrays-compressed.npz",
    }
    save_file(arrays, str(paths["safetensors"]))
    write_torch_state_dict(paths["torch"])
    write_torch_state_dict(paths["torch-pt"])
    np.save(paths["npy"], arrays["weight"])
    np.savez(paths["npz"], **arrays)
    np.savez_compressed(paths["npz-compressed"], **arrays)
    return list(paths.values())


@dataclass
class Corpus:
    """A written benign corpus."""

    files: list[Path]
    """Every file written."""
    fitted: list[str]
    """Names of the estimators in it."""
    skipped: dict[str, str]
    """Estimators left out, with the reason."""


def write_corpus(root: Path, *, every_variant: bool = False) -> Corpus:
    """Write the whole benign corpus under `root` (sklearn/, objects/, numeric/).

    One BLAS/OpenMP thread throughout: on 30 rows threads only cost, and two test workers each
    spinning a pool on two cores made the corpus four times slower.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        data = dataset()
        fit = fit_all_estimators(data)
        files = write_objects(root / "sklearn", fit.fitted, every_variant=every_variant)
        files += write_objects(root / "objects", other_objects(data), every_variant=every_variant)
        files += write_numeric_files(root / "numeric")
    return Corpus(files, [name for name, _ in fit.fitted], fit.skipped)


def load_corpus(where: Path, root: Path) -> Corpus:
    """The corpus under `root` whose manifest `save_manifest` left in `where`."""
    manifest = json.loads((where / MANIFEST).read_text(encoding="utf-8"))
    return Corpus([root / f for f in manifest["files"]], manifest["fitted"], manifest["skipped"])


def save_manifest(where: Path, root: Path, corpus: Corpus) -> None:
    """Record in `where` what `write_corpus` wrote under `root`, for `load_corpus` (written
    last, so its presence means the corpus is complete)."""
    manifest = {
        "files": [p.relative_to(root).as_posix() for p in corpus.files],
        "fitted": corpus.fitted,
        "skipped": corpus.skipped,
    }
    (where / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


MANIFEST = "corpus-manifest.json"
