"""Core ML reader on models written by the real coremltools (9.x): a neural network `.mlmodel`, an
ML program `.mlpackage` and a pipeline, plus hostile protobufs.

Field numbers: apple/coremltools mlmodel/format/Model.proto (Model, ModelDescription, Metadata),
NeuralNetwork.proto (layers = 1), MIL.proto (Program.functions = 2).
"""

from __future__ import annotations

import logging
from pathlib import Path

import coremltools
import numpy as np
import pytest
from coremltools.models import datatypes
from coremltools.models.neural_network import NeuralNetworkBuilder
from coremltools.proto import Model_pb2
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.format_helpers import (
    MUTATION_SETTINGS,
    assert_each_is_format_error,
    check_mutation,
    len_field,
    varint,
)
from unified_supply_chain import limits
from unified_supply_chain.discover.classify import classify
from unified_supply_chain.errors import FormatError
from unified_supply_chain.formats.coreml import read_coreml

logging.getLogger("coremltools").setLevel(logging.ERROR)


def _neural_network(path: Path) -> Path:
    builder = NeuralNetworkBuilder([("x", datatypes.Array(4))], [("y", datatypes.Array(4))])
    weights = np.ones((4, 4), dtype=np.float32)
    builder.add_inner_product("fc", weights, None, 4, 4, False, "x", "h")
    builder.add_activation("act", "RELU", "h", "y")
    builder.spec.description.metadata.author = "alice"
    builder.spec.description.metadata.license = "Apache-2.0"
    builder.spec.description.metadata.userDefined["com.github.apple.coremltools.version"] = "9.0"
    coremltools.models.MLModel(builder.spec, skip_model_load=True).save(str(path))
    return path


def _ml_package(path: Path) -> Path:
    from coremltools.converters.mil import Builder as mb

    @mb.program(input_specs=[mb.TensorSpec(shape=(1, 4))])
    def prog(x):  # type: ignore[no-untyped-def]
        return mb.relu(x=mb.linear(x=x, weight=np.ones((4, 4), dtype=np.float32)), name="out")

    model = coremltools.convert(prog, convert_to="mlprogram", skip_model_load=True)
    model.license = "MIT"
    model.save(str(path))
    return path


def test_neural_network_model(tmp_path: Path) -> None:
    info = read_coreml(_neural_network(tmp_path / "m.mlmodel"))
    p = info.properties
    assert info.format == "coreml"
    assert p["model_type"] == "neuralNetwork"
    assert p["layer_count"] == "2"
    assert (p["inputs"], p["outputs"]) == ("x", "y")
    assert int(p["specification_version"]) >= 1
    assert p["author"] == "alice"
    assert p["producer"] == "coremltools 9.0"
    assert info.license == "Apache-2.0"


def test_ml_package_inner_model(tmp_path: Path) -> None:
    package = _ml_package(tmp_path / "m.mlpackage")
    inner = package / "Data" / "com.apple.CoreML" / "model.mlmodel"
    info = read_coreml(inner)
    assert info.properties["model_type"] == "mlProgram"
    assert info.properties["functions"] == "main"
    assert info.properties["outputs"] == "out"
    assert info.license == "MIT"
    assert classify(
        inner.read_bytes()[:512], "m.mlpackage/Data/com.apple.CoreML/model.mlmodel"
    ) == ("coreml")


def test_ml_package_is_one_directory_model(tmp_path: Path) -> None:
    from unified_supply_chain.inspection.scan import scan
    from unified_supply_chain.options import ScanOptions

    _ml_package(tmp_path / "models" / "m.mlpackage")
    result = scan(ScanOptions(root=tmp_path, jobs=1))
    (model,) = [a for a in result.inventory.artifacts if a.kind.value == "model"]
    assert model.format == "coreml-package"
    assert model.path == "models/m.mlpackage"
    names = {posix for posix, _, _ in model.files}
    assert "models/m.mlpackage/Manifest.json" in names
    assert any(n.endswith("weights/weight.bin") for n in names)
    assert model.header is not None and model.header.properties["model_type"] == "mlProgram"


def test_pipeline_counts_its_models(tmp_path: Path) -> None:
    spec = Model_pb2.Model(specificationVersion=4)
    spec.description.input.add().name = "features"
    spec.description.output.add().name = "label"
    for _ in range(3):
        spec.pipeline.models.add().identity.SetInParent()
    path = tmp_path / "p.mlmodel"
    path.write_bytes(spec.SerializeToString())
    info = read_coreml(path)
    assert info.properties["model_type"] == "pipeline"
    assert info.properties["pipeline_models"] == "3"


def test_custom_model_names_its_class(tmp_path: Path) -> None:
    spec = Model_pb2.Model(specificationVersion=3)
    spec.customModel.className = "AppLayer"
    path = tmp_path / "c.mlmodel"
    path.write_bytes(spec.SerializeToString())
    assert read_coreml(path).properties["custom_class"] == "AppLayer"


def test_other_files_keep_their_formats(tmp_path: Path) -> None:
    # MLflow's `MLmodel` YAML is not Core ML, and an ONNX file is still ONNX.
    assert classify(b"artifact_path: model\nflavors: {}\n", "model/MLmodel") == "mlmodel"
    onnx_head = b"\x08\x07\x12\x04usc1"
    assert classify(onnx_head, "m.onnx") == "onnx"
    assert classify(onnx_head, "m.mlmodel") == "coreml"


def _int(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def test_hostile_protobufs(tmp_path: Path) -> None:
    good = _int(1, 4) + len_field(500, len_field(1, b"\x0a\x01a"))
    cases = {
        "empty": b"",
        "no_type": _int(1, 4) + len_field(2, b""),
        "no_version": len_field(500, b""),
        "two_types": good + len_field(502, b""),
        "type_as_varint": _int(1, 4) + _int(500, 1),
        "truncated": good[:-2],
        "overrun": _int(1, 4) + varint(2 << 3 | 2) + varint(10**9) + b"ab",
        "endless_varint": b"\x08" + b"\xff" * 20,
        "field0": b"\x00\x01",
        "bad_utf8": _int(1, 4) + len_field(2, len_field(1, len_field(1, b"\xff"))) + good[2:],
    }
    assert_each_is_format_error(read_coreml, tmp_path, cases, ".mlmodel")


def test_weights_are_seeked_over(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 8 MB of layer weights, a budget of 64 KiB: the weights are never read.
    layer = len_field(1, b"fc") + len_field(140, len_field(20, len_field(1, b"\0" * (8 << 20))))
    path = tmp_path / "big.mlmodel"
    path.write_bytes(_int(1, 4) + len_field(500, len_field(1, layer)))
    monkeypatch.setattr(limits, "MAX_COREML_META_BYTES", 64 * 1024)
    assert read_coreml(path).properties["layer_count"] == "1"


@MUTATION_SETTINGS
@given(data=st.data())
def test_mutations_never_crash(tmp_path: Path, data: st.DataObject) -> None:
    seed = tmp_path / "seed.mlmodel"
    if not seed.exists():
        _neural_network(seed)
    check_mutation(tmp_path, data, seed.read_bytes(), read_coreml, "coreml")


def test_format_error_is_the_only_error(tmp_path: Path) -> None:
    path = tmp_path / "x.mlmodel"
    path.write_bytes(b"\x08\x04\x12")
    with pytest.raises(FormatError):
        read_coreml(path)
