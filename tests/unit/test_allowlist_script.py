"""scripts/allowlist.py's rules on what the generated allow-list section may hold (no fitting:
`render` is given the collected globals directly)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from tests.builders import allowlist_file

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "allowlist.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("allowlist_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_classes_estimators_and_reconstructors_are_rendered_with_comments() -> None:
    script = _script()
    users = {
        ("sklearn.tree._classes", "DecisionTreeClassifier"): {"DecisionTreeClassifier"},
        ("sklearn.tree._tree", "Tree"): {"DecisionTreeClassifier"},
        ("numpy._core.multiarray", "_reconstruct"): {"DecisionTreeClassifier"},
        ("numpy.random.bit_generator", "__pyx_unpickle_SeedSequence"): {"rng"},
        ("collections", "OrderedDict"): {"sd"},
    }
    lines, problems = script.render(
        users, {"DecisionTreeClassifier"}, {("collections", "OrderedDict")}
    )
    assert not problems
    body = {
        line.split("  # ")[0]: line.split("  # ")[1] for line in lines if not line.startswith("#")
    }
    assert body["sklearn.tree._classes DecisionTreeClassifier"].startswith("estimator: ")
    assert body["sklearn.tree._tree Tree"].startswith("class; pickled by DecisionTreeClassifier")
    assert body["numpy._core.multiarray _reconstruct"].startswith("reconstructor: ")
    assert (
        "Cython-generated unpickle helper"
        in body["numpy.random.bit_generator __pyx_unpickle_SeedSequence"]
    )
    assert "collections OrderedDict" not in body  # hand-written already
    assert lines[0] == allowlist_file.BEGIN_GENERATED and lines[-1] == allowlist_file.END_GENERATED


def test_gadgets_foreign_modules_and_unreviewed_functions_stop_the_regeneration() -> None:
    script = _script()
    users = {
        ("builtins", "getattr"): {"x"},
        ("functools", "partial"): {"x"},
        ("numpy", "load"): {"x"},
        ("pandas.core.frame", "DataFrame"): {"x"},
        ("numpy", "sqrt"): {"x"},  # a ufunc nobody reviewed
    }
    lines, problems = script.render(users, set(), set())
    text = "\n".join(problems)
    for name in ("getattr", "partial", "'load'", "pandas", "sqrt"):
        assert name in text, name
    assert len(problems) == 5
    assert not any(
        line.startswith(("builtins getattr", "functools", "numpy load")) for line in lines
    )


def test_splice_replaces_only_the_generated_section() -> None:
    script = _script()
    text = (
        "\n".join(
            [
                "# head",
                "builtins set  # c",
                allowlist_file.BEGIN_GENERATED,
                "old x  # y",
                allowlist_file.END_GENERATED,
                "tail x  # z",
            ]
        )
        + "\n"
    )
    new = script.splice(
        text, [allowlist_file.BEGIN_GENERATED, "new a  # b", allowlist_file.END_GENERATED]
    )
    assert "old x" not in new and "new a  # b" in new
    assert new.startswith("# head\nbuiltins set  # c\n") and new.endswith("tail x  # z\n")
