"""skops files: real dumps of fitted scikit-learn estimators, hostile ones made by editing them.

Format: skops-dev/skops skops/io/_persist.py (zip of schema.json + <id>.npy members) and the
default trusted types of skops/io/_trusted_types.py and each node's `_get_trusted` default; the
untrusted types reported here are cross-checked with `skops.io.get_untrusted_types`.
"""

from __future__ import annotations

import functools
import io
import json
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.special
import skops.io as sio
from hypothesis import given
from hypothesis import strategies as st
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.tree import DecisionTreeClassifier
from skops.io._protocol import PROTOCOL

from tests.unit.format_helpers import MUTATION_SETTINGS, assert_each_is_format_error, check_mutation
from unified_supply_chain import limits
from unified_supply_chain.discover.classify import classify
from unified_supply_chain.formats import registry
from unified_supply_chain.formats.skops import read_skops, scan_skops
from unified_supply_chain.records import Severity

RNG = np.random.default_rng(0)
X = RNG.random((40, 3))
Y = (X[:, 0] > 0.5).astype(int)


def _double(values: Any) -> Any:
    return values * 2  # a user function: skops does not trust it by default


@functools.cache
def _dump(kind: str) -> bytes:
    models: dict[str, Any] = {
        "pipeline": lambda: make_pipeline(
            FunctionTransformer(np.log1p), StandardScaler(), LogisticRegression()
        ),
        "scipy-ufunc": lambda: make_pipeline(
            FunctionTransformer(scipy.special.expit), SGDClassifier()
        ),
        "hist-gb": lambda: HistGradientBoostingClassifier(max_iter=3),
        "tree": lambda: DecisionTreeClassifier(max_depth=2, random_state=np.random.RandomState(1)),
        "forest": lambda: RandomForestClassifier(n_estimators=2, max_depth=2),
        "user-function": lambda: make_pipeline(FunctionTransformer(_double), LogisticRegression()),
    }
    return sio.dumps(models[kind]().fit(X, Y))


def _write(tmp_path: Path, data: bytes, name: str = "model.skops") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _rewrite(data: bytes, edit: Any) -> bytes:
    """The archive with `edit(name, bytes) -> bytes | None` applied to every member."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            new = edit(info.filename, src.read(info))
            if new is not None:
                dst.writestr(info.filename, new)
    return out.getvalue()


def _schema(data: bytes) -> dict[str, Any]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        schema: dict[str, Any] = json.loads(zf.read("schema.json"))
        return schema


def test_real_pipeline_header(tmp_path: Path) -> None:
    data = _dump("pipeline")
    info = read_skops(_write(tmp_path, data))
    props = info.properties
    schema_text = json.dumps(_schema(data))
    assert info.format == "skops"
    assert info.architecture == "Pipeline"
    assert props["estimator"] == "sklearn.pipeline.Pipeline"
    assert props["skops.protocol"] == str(PROTOCOL)
    assert props["skops.version"] == _schema(data)["_skops_version"]
    assert props["skops.object_count"] == str(schema_text.count('"__loader__"'))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        arrays = [n for n in zf.namelist() if n.endswith(".npy")]
    assert props["skops.array_members"] == str(len(arrays)) and arrays
    assert props["skops.untrusted_types"] == "0"
    import sklearn

    assert props["sklearn_version"] == sklearn.__version__


@pytest.mark.parametrize(
    "kind", ["pipeline", "scipy-ufunc", "hist-gb", "tree", "forest", "user-function"]
)
def test_untrusted_types_match_skops(tmp_path: Path, kind: str) -> None:
    path = _write(tmp_path, _dump(kind))
    expected = sorted(sio.get_untrusted_types(file=path))
    props = read_skops(path).properties
    assert props["skops.untrusted_types"] == str(len(expected))
    assert props.get("skops.untrusted", "") == ",".join(expected)
    findings = scan_skops(path, "m.skops", "skops")
    named = sorted(f.details[0].split(": ", 1)[1].split(" ")[0] for f in findings)
    assert named == expected
    assert all(f.severity is Severity.HIGH for f in findings)
    assert all("skops.io.load(trusted=...)" in f.message for f in findings)


def test_trusted_file_has_no_findings(tmp_path: Path) -> None:
    assert scan_skops(_write(tmp_path, _dump("pipeline")), "m.skops", "skops") == []


def _inject(data: bytes, node: dict[str, Any]) -> bytes:
    schema = _schema(data)
    schema["content"]["content"]["memory"] = node

    def edit(name: str, raw: bytes) -> bytes:
        return json.dumps(schema).encode() if name == "schema.json" else raw

    return _rewrite(data, edit)


@pytest.mark.parametrize(
    ("module", "name", "loader"),
    [
        ("builtins", "eval", "FunctionNode"),
        ("subprocess", "Popen", "ObjectNode"),
        ("os", "system", "FunctionNode"),
    ],
)
def test_dangerous_callable_is_critical(
    tmp_path: Path, module: str, name: str, loader: str
) -> None:
    node = {"__class__": name, "__module__": module, "__loader__": loader, "__id__": 1}
    path = _write(tmp_path, _inject(_dump("pipeline"), node))
    # skops itself refuses the file for the same type.
    assert f"{module}.{name}" in sio.get_untrusted_types(file=path)
    findings = scan_skops(path, "m.skops", "skops")
    assert [f.severity for f in findings] == [Severity.CRITICAL]
    assert f"{module}.{name}" in findings[0].message
    assert findings[0].path == "m.skops!schema.json"


def test_unparseable_schema_could_not_be_verified(tmp_path: Path) -> None:
    def broken(name: str, raw: bytes) -> bytes:
        return raw[:-10] if name == "schema.json" else raw

    def missing(name: str, raw: bytes) -> bytes | None:
        return None if name == "schema.json" else raw

    for edit in (broken, missing):
        path = _write(tmp_path, _rewrite(_dump("pipeline"), edit))
        findings = scan_skops(path, "m.skops", "skops")
        assert any(
            f.severity is Severity.HIGH and "could not be verified safe" in f.message
            for f in findings
        ), findings


class _Payload:
    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.system, ("echo pwned",))


def test_object_npy_member_is_scanned(tmp_path: Path) -> None:
    # An .npy member with an object dtype is a pickle: the generic scan walks it.
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "|O", "fortran_order": False, "shape": (1,)}
    )
    hostile = header.getvalue() + pickle.dumps([_Payload()], protocol=2)
    first = [True]

    def edit(name: str, raw: bytes) -> bytes:
        if name.endswith(".npy") and first[0]:
            first[0] = False
            return hostile
        return raw

    path = _write(tmp_path, _rewrite(_dump("pipeline"), edit))
    findings = scan_skops(path, "m.skops", "skops")
    assert any(
        f.severity is Severity.CRITICAL and ".npy" in f.path and "os" in " ".join(f.details)
        for f in findings
    ), findings


def test_sniffed_before_npz(tmp_path: Path) -> None:
    data = _dump("pipeline")
    head = data[: limits.SNIFF_BYTES]
    assert classify(head, "models/clf.skops") == "skops"
    assert classify(head, "models/renamed.bin") == "skops"  # id-named .npy first member
    npz = io.BytesIO()
    np.savez(npz, weights=np.ones(3))
    assert classify(npz.getvalue()[: limits.SNIFF_BYTES], "w.npz") == "npz"
    assert classify(npz.getvalue()[: limits.SNIFF_BYTES], "w.zip") == "npz"
    only_schema = _rewrite(data, lambda n, raw: raw if n == "schema.json" else None)
    assert classify(only_schema[: limits.SNIFF_BYTES], "x.zip") == "skops"
    assert registry()["skops"].safety is scan_skops


def test_hostile_files_raise_format_error(tmp_path: Path) -> None:
    data = _dump("pipeline")
    cases = {
        "empty": b"",
        "not-zip": b"schema.json",
        "no-schema": _rewrite(data, lambda n, raw: None if n == "schema.json" else raw),
        "not-json": _rewrite(data, lambda n, raw: b"{" if n == "schema.json" else raw),
        "not-a-tree": _rewrite(data, lambda n, raw: b"[1, 2]" if n == "schema.json" else raw),
        "bad-node": _rewrite(
            data,
            lambda n, raw: (
                b'{"__loader__": "ObjectNode", "__module__": 1, "__class__": "X"}'
                if n == "schema.json"
                else raw
            ),
        ),
    }
    assert_each_is_format_error(read_skops, tmp_path, cases, ".skops")


@MUTATION_SETTINGS
@given(data=st.data())
def test_mutations(tmp_path: Path, data: st.DataObject) -> None:
    check_mutation(tmp_path, data, _dump("pipeline"), read_skops, "skops")


def test_trusted_tables_match_the_installed_skops() -> None:
    # The tables are rebuilt without importing scikit-learn; skops' own lists must agree.
    from skops.io import _trusted_types as tt
    from skops.io._sklearn import ALLOWED_LOSSES
    from skops.io._utils import get_module

    from unified_supply_chain.formats import skops as ours

    assert set(tt.NUMPY_UFUNC_TYPE_NAMES) == ours._NUMPY_UFUNCS
    assert set(tt.NUMPY_DTYPE_TYPE_NAMES) <= ours._NUMPY_DTYPES
    assert set(tt.SKLEARN_INTERNAL_TYPE_NAMES) == ours._SKLEARN_INTERNAL
    assert {f"{get_module(t)}.{t.__name__}" for t in ALLOWED_LOSSES} <= ours._LOSSES
    assert {n.rsplit(".", 1)[0] for n in tt.SCIPY_UFUNC_TYPE_NAMES} <= set(
        ours._SCIPY_UFUNC_MODULES
    )
    for name in tt.SKLEARN_ESTIMATOR_TYPE_NAMES:
        module, cls = name.rsplit(".", 1)
        assert ours.default_trusted(ours.SkopsNode("ObjectNode", module, cls)), name
    assert not ours.default_trusted(
        ours.SkopsNode("ObjectNode", "sklearn.tree._tree", "Tree")
    )  # skops leaves fitted trees out of its default set on purpose
