"""Content-first classification: magic bytes win over names; names cover text formats."""

from __future__ import annotations

import io
import pickle
import struct
import zipfile
import zlib
from pathlib import Path

import gguf
import numpy as np
import onnx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper
from safetensors.numpy import save_file

from unified_supply_chain import limits
from unified_supply_chain.discover.classify import classify, guess_kind_from_name
from unified_supply_chain.formats import Kind, registry

FORMATS = registry().ids()
MODEL_FORMATS = registry().ids(Kind.MODEL)
DATASET_FORMATS = registry().ids(Kind.DATASET)
CONFIG_FORMATS = registry().ids(Kind.CONFIG)

LFS = b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"ab" * 32 + b"\nsize 1234\n"


def _head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(limits.SNIFF_BYTES)


def _safetensors(path: Path) -> Path:
    save_file({"w": np.zeros((2, 2), np.float32)}, str(path))
    return path


def _gguf(path: Path) -> Path:
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_tensor("w", np.zeros((4,), np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def _onnx(path: Path, producer: str = "usc") -> Path:
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    model = helper.make_model(graph, producer_name=producer)
    onnx.save(model, str(path))
    return path


def _zip(path: Path, members: list[str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name in members:
            zf.writestr(name, b"x")
    return path


def _npz_bytes() -> bytes:
    buf = io.BytesIO()
    np.savez(buf, a=np.zeros(3))
    return buf.getvalue()


def _npy_bytes() -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.zeros(3))
    return buf.getvalue()


# --- real files, their usual names, and renamed -----------------------------------------------


@pytest.mark.parametrize("name", ["model.safetensors", "weights.dat", "no_extension"])
def test_safetensors_by_content(tmp_path: Path, name: str) -> None:
    path = _safetensors(tmp_path / name)
    assert classify(_head(path), f"models/{name}") == "safetensors"


@pytest.mark.parametrize("name", ["model.gguf", "model", "model.bin"])
def test_gguf_by_content(tmp_path: Path, name: str) -> None:
    assert classify(_head(_gguf(tmp_path / name)), name) == "gguf"


@pytest.mark.parametrize("name", ["model.onnx", "renamed.bin", "model"])
def test_onnx_by_content(tmp_path: Path, name: str) -> None:
    assert classify(_head(_onnx(tmp_path / name)), name) == "onnx"


def test_onnx_without_producer_by_content(tmp_path: Path) -> None:
    assert classify(_head(_onnx(tmp_path / "x", producer="")), "x") == "onnx"


def test_savedmodel_protobuf_is_not_onnx() -> None:
    # SavedModel: schema version 1 (field 1), then a large MetaGraphDef (field 2).
    saved = b"\x08\x01\x12\x90\x4e\x0a\x8a\x01" + bytes(range(64))
    assert classify(saved, "export/saved_model.pb") == "tf-savedmodel"
    assert classify(saved, "export/other.pb") is None


@pytest.mark.parametrize(
    "name", ["model.onnx", "data/train.csv", "README.md", "weights.safetensors", "noext"]
)
def test_lfs_pointer_whatever_the_name(name: str) -> None:
    assert classify(LFS, name) == "git-lfs-pointer"


def test_text_mentioning_lfs_later_is_not_a_pointer() -> None:
    assert classify(b"# notes\n" + LFS, "notes.md") is None


def test_numpy_npy_and_npz(tmp_path: Path) -> None:
    assert classify(_npy_bytes(), "weights.bin") == "npy"
    assert classify(_npz_bytes(), "arrays.zip") == "npz"
    assert classify(_npz_bytes(), "data/train.npz") == "npz"


@pytest.mark.parametrize(
    ("members", "name", "expected"),
    [
        (["archive/data.pkl", "archive/data/0", "archive/version"], "model.pt", "pytorch"),
        (["model/data.pkl", "model/version"], "weights.dat", "pytorch"),
        (["data.pkl"], "x", "pytorch"),
        (["other.txt"], "model.pth", "pytorch"),
        (["other.txt"], "pytorch_model.bin", "pytorch"),
        (["metadata.json", "config.json", "model.weights.h5"], "model.zip", "keras"),
        (["anything"], "model.keras", "keras"),
        (["a.npy"], "arrays.bin", "npz"),
        # Any other zip is an archive; it is a component only if it carries a model
        # (formats/archives.py, tested in test_formats_archives.py).
        (["readme.txt"], "bundle.zip", "zip"),
    ],
)
def test_zip_family(tmp_path: Path, members: list[str], name: str, expected: str | None) -> None:
    path = _zip(tmp_path / "f.zip", members)
    assert classify(_head(path), name) == expected


def test_pickles() -> None:
    legacy = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.\x80\x02M\xe9\x03."
    assert classify(legacy, "model.bin") == "pytorch-legacy"
    assert classify(legacy, "anything") == "pytorch-legacy"
    for protocol in (2, 3, 4, 5):
        data = pickle.dumps({"w": [1.0, 2.0]}, protocol=protocol)
        assert classify(data, "model.dat") == "pickle", protocol
        assert classify(data, "model.joblib") == "joblib", protocol
    for protocol in (0, 1):
        data = pickle.dumps({"w": 1}, protocol=protocol)
        assert classify(data, "model.pkl") == "pickle"
        assert classify(data, "model.pickle") == "pickle"
        assert classify(data, "model.dat") is None


def test_joblib_signature_and_compressed_joblib() -> None:
    wrapper = b"\x80\x04\x95\x40\x00\x00\x00\x00\x00\x00\x00\x8c\x13joblib.numpy_pickle\x94"
    assert classify(wrapper + b"\x8c\x11NumpyArrayWrapper\x94", "clf.dat") == "joblib"
    assert classify(zlib.compress(pickle.dumps([1, 2])), "clf.joblib") == "joblib"
    assert classify(b"\x1f\x8b\x08\x00" + b"\0" * 20, "clf.joblib") == "joblib"


def test_binary_magics() -> None:
    assert classify(b"\x89HDF\r\n\x1a\n" + b"\0" * 20, "model.dat") == "hdf5"
    assert classify(b"\0" * 10, "model.h5") == "hdf5"
    assert classify(b"\x1c\x00\x00\x00TFL3" + b"\0" * 20, "model.bin") == "tflite"
    assert classify(b"PAR1" + b"\0" * 20, "table.bin") == "parquet"
    assert classify(b"ARROW1\0\0" + b"\0" * 20, "table.bin") == "arrow"
    assert classify(b"ARROW1\0\0" + b"\0" * 20, "table.feather") == "feather"
    assert classify(b"FEA1" + b"\0" * 20, "table.bin") == "feather"


# --- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("relpath", "expected"),
    [
        ("data/train.csv", "csv"),
        ("data/train.TSV", "tsv"),
        ("data/rows.jsonl", "jsonl"),
        ("data/rows.ndjson", "jsonl"),
        ("params.yaml", "params-yaml"),
        ("exp/params_small.yml", "params-yaml"),
        ("data/hyps/hyp.scratch-low.yaml", "hyp-yaml"),
        ("model/config.json", "hf-config"),
        ("conf/config.yaml", "hydra-config"),
        ("configs/optimizer/adam.yml", "hydra-config"),
        ("src/settings.yaml", None),
        ("requirements.txt", "requirements"),
        ("requirements-dev.txt", "requirements"),
        ("requirements/test.txt", "requirements"),
        ("notes.txt", None),
        ("pyproject.toml", "pyproject"),
        ("README.md", "model-card"),
        ("models/bert/MODEL_CARD.md", "model-card"),
        ("model_card.md", "model-card"),
        ("data/imagenet.dataset.yaml", "dataset-descriptor"),
        ("dataset.yaml", "dataset-descriptor"),
        ("datasets.yaml", "dataset-descriptor"),
        ("data.yaml", "dataset-descriptor"),
        ("data/raw.csv.dvc", "dvc-file"),
        ("dvc.yaml", "dvc-yaml"),
        ("dvc.lock", "dvc-lock"),
        ("MLproject", "mlproject"),
        ("mlruns/0/abc/artifacts/model/MLmodel", "mlmodel"),
        ("poetry.lock", "lockfile-poetry"),
        ("uv.lock", "lockfile-uv"),
        ("Pipfile.lock", "lockfile-pipfile"),
        ("environment.yml", "conda-env"),
        ("environment.yaml", "conda-env"),
        ("conda.yaml", "conda-env"),
        ("web/package-lock.json", "lockfile-npm"),
        ("training-record.json", "training-record"),
        ("out/run1.training-record.json", "training-record"),
        ("metrics.json", "metrics-json"),
        ("reports/test_metrics.json", "metrics-json"),
        ("eval.json", "metrics-json"),
        ("evaluation_results.json", "metrics-json"),
        ("package.json", None),
        ("model.safetensors", "safetensors"),
        ("model.gguf", "gguf"),
        ("model.onnx", "onnx"),
        ("model.ckpt", "pytorch"),
        ("model.tflite", "tflite"),
        ("model.npy", "npy"),
        ("model.keras", "keras"),
        ("export/saved_model.pbtxt", "tf-savedmodel"),
        ("main.py", None),
    ],
)
def test_by_name_when_content_says_nothing(relpath: str, expected: str | None) -> None:
    assert classify(b"plain text, no magic\n", relpath) == expected


def test_specific_names_win_over_hydra_dirs() -> None:
    assert classify(b"a: 1\n", "conf/params.yaml") == "params-yaml"
    assert classify(b"a: 1\n", "config/dvc.yaml") == "dvc-yaml"
    assert classify(b"{}", "conf/config.json") == "hf-config"


def test_empty_file_falls_back_to_the_name() -> None:
    assert classify(b"", "model.safetensors") == "safetensors"
    assert classify(b"", "x.bin") is None


def test_vocabulary_sets_are_disjoint_and_complete() -> None:
    assert not MODEL_FORMATS & DATASET_FORMATS
    assert not MODEL_FORMATS & CONFIG_FORMATS
    assert not DATASET_FORMATS & CONFIG_FORMATS
    assert MODEL_FORMATS | DATASET_FORMATS | CONFIG_FORMATS | {"git-lfs-pointer"} == set(FORMATS)
    assert {"safetensors", "gguf", "onnx", "pytorch", "tf-savedmodel"} <= MODEL_FORMATS
    assert {"csv", "parquet", "arrow"} <= DATASET_FORMATS


@pytest.mark.parametrize(
    ("relpath", "kind"),
    [
        ("models/llm.gguf", "model"),
        ("m.safetensors", "model"),
        ("m.PT", "model"),
        ("clf.joblib", "model"),
        ("w.tflite", "model"),
        ("data/train.csv", "dataset"),
        ("t.parquet", "dataset"),
        ("x.feather", "dataset"),
        ("data/arrays.npz", "dataset"),
        ("datasets/mnist/train.npz", "dataset"),
        ("weights.npz", "model"),
        # The same kind rules as for the present file (they used to be a second table):
        ("data/a.npy", "dataset"),
        ("raw/x.h5", "dataset"),
        ("m.keras-h5", "model"),
        ("pytorch_model.bin", "model"),
        ("README.md", None),
        ("noext", None),
    ],
)
def test_guess_kind_from_name(relpath: str, kind: str | None) -> None:
    assert guess_kind_from_name(relpath) == kind


def test_every_returned_id_is_in_the_vocabulary(tmp_path: Path) -> None:
    samples = [
        (LFS, "x"),
        (_head(_safetensors(tmp_path / "a")), "a"),
        (_head(_gguf(tmp_path / "b")), "b"),
        (_head(_onnx(tmp_path / "c")), "c"),
        (_npy_bytes(), "d"),
        (_npz_bytes(), "e"),
        (pickle.dumps(1, protocol=4), "f"),
        (b"", "conf/x.yaml"),
    ]
    for head, name in samples:
        found = classify(head, name)
        assert found in FORMATS, (name, found)


@settings(max_examples=200, deadline=None)
@given(head=st.binary(max_size=limits.SNIFF_BYTES), relpath=st.text(max_size=80))
def test_classify_never_raises(head: bytes, relpath: str) -> None:
    found = classify(head, relpath)
    assert found is None or found in FORMATS
    kind = guess_kind_from_name(relpath)
    assert kind in (None, "model", "dataset")


@settings(max_examples=200, deadline=None)
@given(
    prefix=st.sampled_from(
        [b"GGUF", b"PK\x03\x04", b"\x80\x02", b"\x08\x07\x12", b"\x93NUMPY", struct.pack("<Q", 9)]
    ),
    rest=st.binary(max_size=64),
    relpath=st.sampled_from(["a.pt", "b.keras", "c", "d.npz", "conf/e.yaml"]),
)
def test_classify_never_raises_on_near_magic(prefix: bytes, rest: bytes, relpath: str) -> None:
    found = classify(prefix + rest, relpath)
    assert found is None or found in FORMATS


def test_ci_and_hugo_config_directories_hold_no_ml_configs() -> None:
    # GitHub Actions workflows named like ML files; a GitLab CI include; Hugo's site params
    # (https://gohugo.io/getting-started/configuration/#configuration-directory).
    from unified_supply_chain.discover.classify import classify as _classify

    for path in (
        ".github/workflows/hypothesis.yml",
        ".github/workflows/params-check.yml",
        ".github/workflows/data.yaml",
        ".gitlab/ci/params.yml",
        ".circleci/config.yml",
        "site/config/_default/params.yaml",
        "config/production/params.toml",
    ):
        assert _classify(b"name: x\n", path) is None, path
    # The same names elsewhere keep their meaning; libraries in CI directories still count.
    assert _classify(b"lr: 1\n", "params.yaml") == "params-yaml"
    assert _classify(b"lr: 1\n", "config/params.yaml") == "params-yaml"
    assert _classify(b"lr0: 1\n", "data/hyps/hyp.scratch-low.yaml") == "hyp-yaml"
    assert _classify(b"numpy\n", ".github/requirements.txt") == "requirements"


def test_test_fixture_rule() -> None:
    from unified_supply_chain.discover.classify import is_test_fixture

    for path in (
        "tests/fixtures/tiny.onnx",
        "tests/data/sample.csv",
        "pkg/tests/unit/data/x.parquet",
        "test/resources/m.pt",
        "__tests__/fixtures/sample.csv",
        "internal/testdata/model.gguf",
        "src/__fixtures__/a.json",
    ):
        assert is_test_fixture(path), path
    for path in ("data/train.csv", "tests/test_model.py", "models/tests.onnx", "fixtures/x.csv"):
        assert not is_test_fixture(path), path
