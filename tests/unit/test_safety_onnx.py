"""ONNX external-data locations that leave the model's directory, on models built with `onnx`.

Models are written by onnx itself (`onnx.save_model(..., save_as_external_data=True)` and
`onnx.external_data_helper.set_external_data`, onnx repo onnx/external_data_helper.py); hostile
locations are then put in the `location` entry, as in the path traversal advisories
CVE-2022-25882 and CVE-2024-27318 (GHSA-jq8v-fh63-3vrj, GHSA-j9gp-6prx-4mpw).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.external_data_helper import set_external_data

from unified_supply_chain import limits
from unified_supply_chain.records import Severity
from unified_supply_chain.safety.onnx import external_locations, scan_onnx
from unified_supply_chain.safety.scan import scan_file


def _model(*, constant_in_subgraph: bool = False) -> onnx.ModelProto:
    weight = numpy_helper.from_array(np.ones((64, 64), np.float32), "W")
    nodes = [helper.make_node("MatMul", ["x", "W"], ["y"])]
    if constant_in_subgraph:
        # A Constant node inside an If branch: its tensor is an attribute of a subgraph node.
        value = numpy_helper.from_array(np.ones((64,), np.float32), "c")
        branch = helper.make_graph(
            [helper.make_node("Constant", [], ["c_out"], value=value)],
            "then",
            [],
            [helper.make_tensor_value_info("c_out", TensorProto.FLOAT, [64])],
        )
        nodes.append(
            helper.make_node("If", ["cond"], ["z"], then_branch=branch, else_branch=branch)
        )
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 64])],
        [weight],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _saved(tmp_path: Path, location: str, **kw: bool) -> Path:
    """A model whose tensors onnx's own helper marks external at `location`, then saved."""
    model = _model(**kw)
    tensors = list(model.graph.initializer)
    for node in model.graph.node:
        for attr in node.attribute:
            for sub in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
                for inner in sub.node:
                    tensors += [a.t for a in inner.attribute if a.HasField("t")]
    for tensor in tensors:
        set_external_data(tensor, location, offset=0, length=16)
        tensor.data_location = TensorProto.EXTERNAL
        tensor.ClearField("raw_data")
    path = tmp_path / "m.onnx"
    onnx.save_model(model, str(path))
    return path


def test_benign_external_data_has_no_finding(tmp_path: Path) -> None:
    model = _model()
    path = tmp_path / "m.onnx"
    onnx.save_model(model, str(path), save_as_external_data=True, location="weights.bin")
    assert external_locations(path) == ["weights.bin"]
    assert scan_file(path, "m.onnx", "onnx") == []
    # The real loader reads it back, so the location really is live.
    assert onnx.load(str(path)).graph.initializer[0].raw_data


@pytest.mark.parametrize(
    "location",
    [
        "../../etc/passwd",
        "sub/../../outside.bin",
        "/etc/passwd",
        "C:/Windows/win.ini",
        "c:secrets.bin",
        "..\\..\\secrets.bin",
        "sub\\weights.bin",
        "\\\\server\\share\\w.bin",
    ],
)
def test_locations_leaving_the_directory_are_high(tmp_path: Path, location: str) -> None:
    path = _saved(tmp_path, location)
    findings = scan_file(path, "models/m.onnx", "onnx")
    assert [(f.rule, f.severity, f.details) for f in findings] == [
        ("unsafe-serialization", Severity.HIGH, (f"onnx-external-data: {location}",))
    ]


def test_traversal_is_live_with_the_real_loader(tmp_path: Path) -> None:
    # onnx before 1.16 (CVE-2024-27318) reads the file outside; newer versions refuse it with
    # a ValidationError. Whichever runs here, the location is what the loader acts on.
    (tmp_path / "secret.bin").write_bytes(b"S" * 16)
    model_dir = tmp_path / "models"
    model_dir.mkdir()
    path = _saved(model_dir, "../secret.bin")
    try:
        loaded = onnx.load(str(path))
    except onnx.checker.ValidationError as exc:
        assert "W" in str(exc)
    else:
        assert loaded.graph.initializer[0].raw_data == b"S" * 16
    assert [f.severity for f in scan_onnx(path, "models/m.onnx", "onnx")] == [Severity.HIGH]


def test_location_in_a_subgraph_constant(tmp_path: Path) -> None:
    path = _saved(tmp_path, "../../x.bin", constant_in_subgraph=True)
    assert "../../x.bin" in external_locations(path)
    assert scan_onnx(path, "m.onnx", "onnx")[0].details == ("onnx-external-data: ../../x.bin",)


def test_symlink_leaving_the_directory(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "w.bin").write_bytes(b"\0" * 64)
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    os.symlink(outside, model_dir / "link")
    path = _saved(model_dir, "link/w.bin")
    findings = scan_onnx(path, "model/m.onnx", "onnx")
    assert len(findings) == 1 and "symlink" in findings[0].message
    # A symlink that stays inside is fine.
    (model_dir / "real").mkdir()
    (model_dir / "real" / "w.bin").write_bytes(b"\0" * 64)
    os.symlink(model_dir / "real", model_dir / "inside")
    assert scan_onnx(_saved(model_dir, "inside/w.bin"), "model/m.onnx", "onnx") == []


def test_unverifiable_models_fail_closed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _saved(tmp_path, "w.bin")
    monkeypatch.setattr(limits, "MAX_ONNX_FIELDS", 3)
    findings = scan_onnx(path, "m.onnx", "onnx")
    assert [f.severity for f in findings] == [Severity.HIGH]
    assert "could not be verified safe" in findings[0].message
    monkeypatch.undo()
    # A location too long for the reader's string cap cannot be checked: high as well.
    long = _saved(tmp_path, "a/" * 4000 + "w.bin")
    assert [f.severity for f in scan_onnx(long, "m.onnx", "onnx")] == [Severity.HIGH]
    # A file our walker cannot parse is left to the reader (onnx.load refuses it too).
    (tmp_path / "bad.onnx").write_bytes(b"\x08\x07\x12\xff\xff\xff")
    assert scan_onnx(tmp_path / "bad.onnx", "bad.onnx", "onnx") == []
