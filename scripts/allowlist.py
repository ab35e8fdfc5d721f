"""Regenerate the scikit-learn / numpy / scipy / joblib section of the pickle allow-list.

    python scripts/allowlist.py            # print the generated section
    python scripts/allowlist.py --write    # replace it in src/.../safety/allowed_globals.txt
    python scripts/allowlist.py --check    # exit 1 when the committed section is out of date

Fits every estimator of `sklearn.utils.all_estimators()` that fits on a small dataset
(classifiers, regressors, clusterers, transformers and the rest; meta estimators get a small
inner estimator; tests/builders/benign.py says how), plus numpy random generators, datetime
values, pipelines, column transformers and FunctionTransformer(np.log1p); pickles each with
`pickle` (protocols 2 to 5) and `joblib` (plain, zlib, gzip, lzma, xz, bz2) and walks the bytes
with `pickletools.genops` (tests/builders/benign.py `pickle_globals`: STACK_GLOBAL operands through
the memo, GLOBAL/INST arguments, joblib's inline array data stepped over) to collect every
(module, qualname) they import. Pairs already in the hand-written sections of the file are left
out of the generated section.

Fails (exit 1) when a pair is a known gadget, when it comes from a module outside
sklearn/numpy/scipy/joblib/collections/datetime/builtins/copyreg/_codecs/torch (such a pair needs a
hand-written entry with a comment explaining it), or when it is a function that is neither a
known reconstructor nor listed, with the reason it is harmless, in REVIEWED_FUNCTIONS. Skipped
estimators are listed on stderr with the reason.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import pickle
import platform
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for entry in (str(REPO / "src"), str(REPO)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from tests.builders import allowlist_file, benign, pickle_walk  # noqa: E402 - after the path set-up above

Pair = tuple[str, str]

#: Top-level modules whose pairs the generated section may hold.
GENERATED_TOPS = frozenset(
    [
        "sklearn",
        "numpy",
        "scipy",
        "joblib",
        "collections",
        "datetime",
        "builtins",
        "__builtin__",
        "copyreg",
        "_codecs",
        "torch",
    ]
)

#: Functions that rebuild an object from its pickled state (what pickling itself references).
KNOWN_RECONSTRUCTORS: dict[Pair, str] = {
    ("numpy._core.multiarray", "_reconstruct"): "ndarray.__reduce__ rebuild function",
    ("numpy._core.multiarray", "scalar"): "numpy scalar rebuild function (generic.__reduce__)",
    ("numpy._core.numeric", "_frombuffer"): "protocol 5 ndarray rebuild (ndarray.__reduce_ex__)",
    ("numpy.ma.core", "_mareconstruct"): "MaskedArray.__reduce__ rebuild function",
    ("numpy.random._pickle", "__randomstate_ctor"): "RandomState rebuild: numpy/random/_pickle.py",
    ("numpy.random._pickle", "__generator_ctor"): "Generator rebuild: numpy/random/_pickle.py",
    ("numpy.random._pickle", "__bit_generator_ctor"): "bit generator rebuild: "
    "numpy/random/_pickle.py",
    ("_codecs", "encode"): "bytes in protocol < 3: encode(str, 'latin1') (Lib/pickle.py)",
}

#: Functions (not classes, not reconstructors) that fitted estimators keep as attributes, each
#: reviewed: importing or calling them computes on arrays and touches no file, process or module.
REVIEWED_FUNCTIONS: dict[Pair, str] = {
    ("numpy", "log1p"): "ufunc (elementwise log(1+x)): FunctionTransformer(func=np.log1p)",
    ("numpy", "expm1"): "ufunc (elementwise exp(x)-1): FunctionTransformer(inverse_func=np.expm1)",
    ("numpy", "mean"): "array reduction: FeatureAgglomeration(pooling_func=np.mean) default",
    ("scipy._lib.array_api_compat.numpy._aliases", "asarray"): "array conversion of the array "
    "API namespace: kept by scipy.interpolate.BSpline (SplineTransformer)",
    ("sklearn.feature_selection._univariate_selection", "f_classif"): "ANOVA F statistic: "
    "default score_func of SelectKBest, SelectPercentile, GenericUnivariateSelect, SelectF*",
    ("sklearn.metrics._classification", "balanced_accuracy_score"): "metric: default scoring of "
    "TunedThresholdClassifierCV",
    ("sklearn.cluster._kmeans", "_kmeans_single_lloyd"): "one Lloyd k-means run: kept by "
    "BisectingKMeans as its _kmeans_single step",
}


def _resolve(pair: Pair) -> Any:
    """The object a pair names, imported as the unpickler would (attribute by attribute)."""
    module, qualname = pair
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _versions() -> str:
    import joblib
    import numpy
    import scipy
    import sklearn

    return (
        f"scikit-learn {sklearn.__version__}, numpy {numpy.__version__}, scipy {scipy.__version__},"
        f" joblib {joblib.__version__}, Python {platform.python_version()}"
    )


def _library_version(top: str) -> str:
    """` (scikit-learn 1.9.1)`-style suffix naming the library a pair comes from."""
    dist = {"sklearn": "scikit-learn", "numpy": "numpy", "scipy": "scipy", "joblib": "joblib"}
    if top not in dist:
        return f" (Python {platform.python_version()})"
    return f" ({dist[top]} {importlib.import_module(top).__version__})"


def collect(tmp: Path) -> tuple[dict[Pair, set[str]], list[str], dict[str, str]]:
    """(pair -> names of the objects whose pickles import it, estimator names, skipped)."""
    data = benign.dataset()
    fit = benign.fit_all_estimators(data)
    objects = fit.fitted + benign.other_objects(data)
    users: dict[Pair, set[str]] = defaultdict(set)
    for name, obj in objects:
        variants = [pickle.dumps(obj, protocol=p) for p in benign.PROTOCOLS]
        for path in benign.write_objects(tmp / name, [(name, obj)], every_variant=True):
            if path.suffix == ".joblib":
                variants.append(pickle_walk.inflate(path.read_bytes()))
        for blob in variants:
            for pair in pickle_walk.pickle_globals(blob):
                users[pair].add(name)
    return users, [name for name, _ in fit.fitted], fit.skipped


def _kind(pair: Pair, estimators: set[str]) -> tuple[str, bool]:
    """A comment head saying what the pair is, and whether it needs review (an unknown function)."""
    if pair in KNOWN_RECONSTRUCTORS:
        return f"reconstructor: {KNOWN_RECONSTRUCTORS[pair]}", False
    module, qualname = pair
    if qualname.startswith("__pyx_unpickle_"):
        cls = qualname.removeprefix("__pyx_unpickle_")
        return f"Cython-generated unpickle helper of {cls} (rebuilds it from its state)", False
    if qualname == "newObj" and module.startswith(("sklearn.", "numpy.")):
        return "Cython reconstructor newObj(cls): cls.__new__(cls) for the module's classes", False
    if pair in REVIEWED_FUNCTIONS:
        return f"function (reviewed): {REVIEWED_FUNCTIONS[pair]}", False
    obj = _resolve(pair)
    if inspect.isclass(obj):
        if qualname in estimators and module.startswith("sklearn."):
            return "estimator: sklearn.utils.all_estimators()", False
        return "class", False
    return f"UNREVIEWED {type(obj).__name__}: not a class", True


def render(
    users: dict[Pair, set[str]], estimators: set[str], hand: set[Pair]
) -> tuple[list[str], list[str]]:
    """The generated section's lines, and the problems that must stop the regeneration."""
    lines = [
        allowlist_file.BEGIN_GENERATED,
        f"# {_versions()}; {len(estimators)} estimators fitted.",
        "# Each comment says what the global is and which pickled objects import it.",
    ]
    problems: list[str] = []
    by_top: dict[str, list[Pair]] = defaultdict(list)
    for pair in sorted(users):
        if pair in hand:
            continue
        top = pair[0].split(".", 1)[0]
        if allowlist_file.is_dangerous(pair):
            problems.append(f"{pair}: a known gadget, imported by {sorted(users[pair])}")
            continue
        if top not in GENERATED_TOPS:
            problems.append(f"{pair}: module outside {sorted(GENERATED_TOPS)}; write it by hand")
            continue
        by_top[top].append(pair)
    for top in sorted(by_top):
        lines.append(f"# {top}")
        for pair in by_top[top]:
            kind, review = _kind(pair, estimators)
            names = sorted(users[pair])
            used = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
            if review:
                problems.append(f"{pair}: {kind}; review it and add it to REVIEWED_FUNCTIONS")
            source = _library_version(top)
            lines.append(f"{pair[0]} {pair[1]}  # {kind}; pickled by {used}{source}")
    lines.append(allowlist_file.END_GENERATED)
    return lines, problems


def splice(text: str, section: list[str]) -> str:
    """The file's text with its generated section replaced by `section`."""
    lines = text.splitlines()
    start = lines.index(allowlist_file.BEGIN_GENERATED)
    end = lines.index(allowlist_file.END_GENERATED)
    return "\n".join([*lines[:start], *section, *lines[end + 1 :]]) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Print, write or check the generated section; 1 on any problem."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="replace the section in the file")
    mode.add_argument("--check", action="store_true", help="exit 1 when the file is out of date")
    args = parser.parse_args(argv)

    text = allowlist_file.ALLOWLIST.read_text(encoding="utf-8")
    hand = {e.pair for e in allowlist_file.parse_allowlist(text) if not e.generated}
    with tempfile.TemporaryDirectory(prefix="allowlist-") as tmp:
        users, fitted, skipped = collect(Path(tmp))
    section, problems = render(users, set(fitted), hand)
    print(f"fitted {len(fitted)} estimators, skipped {len(skipped)}", file=sys.stderr)
    for name, reason in sorted(skipped.items()):
        print(f"skipped {name}: {reason}", file=sys.stderr)
    entries = sum(1 for line in section if not line.startswith("#"))
    print(f"{len(users)} distinct globals, {entries} generated entries", file=sys.stderr)
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    new_text = splice(text, section)
    if args.check:
        if new_text != text:
            print(
                "allowed_globals.txt is out of date: run scripts/allowlist.py --write",
                file=sys.stderr,
            )
            return 1
    elif args.write:
        if problems:
            return 1
        allowlist_file.ALLOWLIST.write_text(new_text, encoding="utf-8")
    else:
        print("\n".join(section))
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
