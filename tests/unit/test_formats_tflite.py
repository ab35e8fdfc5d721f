"""The TFLite reader on models built with the `flatbuffers` library to TensorFlow's published
schemas (tensorflow/lite/schema/schema.fbs and tflite-support's metadata_schema.fbs; the field
numbers are listed in tests/builders/tflite.py), and on truncated, mutated and hostile bytes."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.builders import tflite
from tests.helpers import components_by_path, prop, run_usc
from tests.unit.format_helpers import MUTATION_SETTINGS, assert_each_is_format_error, check_mutation
from unified_supply_chain.errors import FormatError, LimitExceeded
from unified_supply_chain.formats import _flatbuffers
from unified_supply_chain.formats.tflite import read_tflite


def _write(tmp_path: Path, data: bytes, name: str = "model.tflite") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_model_tables_are_read(tmp_path: Path) -> None:
    model = tflite.TfliteModel(tensors=["images", "w", "scores"], builtin_codes=[3, 9, 25])
    info = read_tflite(_write(tmp_path, tflite.build(model)))
    assert info.format == "tflite"
    p = info.properties
    assert p["schema_version"] == "3"
    assert p["description"] == "MLIR Converted."
    assert (p["subgraph_count"], p["tensor_count"], p["operator_count"]) == ("1", "3", "1")
    assert (p["inputs"], p["outputs"]) == ("images", "scores")
    assert p["operator_codes"] == "3"
    assert p["signatures"] == "serving_default"
    assert "custom_ops" not in p and "metadata" not in p
    assert info.license is None


def test_metadata_and_custom_operators_are_read(tmp_path: Path) -> None:
    info = read_tflite(_write(tmp_path, tflite.build(tflite.with_metadata())))
    p = info.properties
    assert p["custom_ops"] == "TFLite_Detection_PostProcess"
    assert p["metadata"] == "min_runtime_version,TFLITE_METADATA"
    assert p["min_runtime_version"] == "1.5.0"
    assert p["metadata.model_name"] == "MobileNetV1 image classifier"
    assert p["metadata.model_version"] == "v1"
    assert p["metadata.author"] == "TensorFlow"
    assert p["metadata.associated_files"] == "labels.txt:tensor-value-labels"
    assert info.license is not None and info.license.startswith("Apache License. Version 2.0")


def test_a_zip_of_associated_files_appended_after_the_model_is_ignored(tmp_path: Path) -> None:
    # The metadata writer appends the associated files as a zip after the flatbuffer.
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("labels.txt", "cat\ndog\n")
    data = tflite.build(tflite.with_metadata())
    info = read_tflite(_write(tmp_path, data + buf.getvalue()))
    assert info.properties["metadata.author"] == "TensorFlow"


def test_metadata_buffer_that_is_not_model_metadata_is_an_error(tmp_path: Path) -> None:
    model = tflite.TfliteModel(metadata={"TFLITE_METADATA": b"\x08\x00\x00\x00XXXX" + b"\0" * 8})
    with pytest.raises(FormatError, match="M001"):
        read_tflite(_write(tmp_path, tflite.build(model)))


def test_hostile_files_raise_format_error(tmp_path: Path) -> None:
    good = tflite.build(tflite.TfliteModel())
    root = struct.unpack_from("<I", good)[0]
    cases = {
        "empty": b"",
        "identifier-only": b"\x08\x00\x00\x00TFL3",
        "no-identifier": good[:4] + b"XXXX" + good[8:],
        "root-past-end": struct.pack("<I", len(good) + 8) + good[4:],
        # The root table's soffset points its vtable before the file's start.
        "vtable-before-start": good[:root] + struct.pack("<i", root + 100) + good[root + 4 :],
        "vtable-bad-size": (
            good[:root] + struct.pack("<i", -(len(good) - root - 2)) + good[root + 4 :]
        ),
    }
    assert_each_is_format_error(read_tflite, tmp_path, cases, ".tflite")


def test_every_truncation_is_read_or_refused(tmp_path: Path) -> None:
    data = tflite.build(tflite.with_metadata())
    refused = 0
    for cut in range(len(data)):
        path = _write(tmp_path, data[:cut])
        try:
            info = read_tflite(path)
        except FormatError:
            refused += 1
            continue
        assert info.format == "tflite"
    # The tables lie all over the buffer: almost every cut loses one of them.
    assert refused > len(data) * 0.9


def test_vector_of_a_million_tables_is_a_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_flatbuffers, "MAX_TABLES", 5)
    with pytest.raises(LimitExceeded):
        read_tflite(_write(tmp_path, tflite.build(tflite.TfliteModel(builtin_codes=[1] * 10))))


def test_reading_is_bounded_in_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages are read on demand and their total is capped, whatever offsets a file points to."""
    monkeypatch.setattr(_flatbuffers, "MAX_READ", 4 * 64 * 1024)
    path = tmp_path / "spread"
    with path.open("wb") as fh:
        fh.truncate(64 * 1024 * 1024)
    with path.open("rb") as fh:
        fb = _flatbuffers.FlatBuffer(fh, 64 * 1024 * 1024)
        for page in range(4):
            assert fb.read(page * 1024 * 1024, 4) == b"\0" * 4
        with pytest.raises(LimitExceeded):
            fb.read(40 * 1024 * 1024, 4)


@MUTATION_SETTINGS
@given(data=st.data())
def test_mutated_models_raise_only_format_error(tmp_path: Path, data: st.DataObject) -> None:
    check_mutation(tmp_path, data, tflite.build(tflite.with_metadata()), read_tflite, "tflite")


def test_sbom_component_carries_the_tflite_metadata(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "app/src/main/ml").mkdir(parents=True)
    (repo / "app/src/main/ml/detector.tflite").write_bytes(tflite.build(tflite.with_metadata()))
    out = tmp_path / "sbom.json"
    result = run_usc("sbom", str(repo), "-o", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    component = components_by_path(json.loads(out.read_text()))["app/src/main/ml/detector.tflite"]
    assert component["type"] == "machine-learning-model"
    assert prop(component, "usc:format") == "tflite"
    assert prop(component, "usc:header:metadata.author") == "TensorFlow"
    names = [lic.get("license", {}).get("name") for lic in component.get("licenses", [])]
    assert any(n and n.startswith("Apache License") for n in names), component.get("licenses")
