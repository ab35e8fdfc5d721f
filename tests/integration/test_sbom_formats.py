"""`usc sbom` on a generated repository holding every supported format: each file becomes the right
component type with its real SHA-256 and header metadata, and the document is valid CycloneDX."""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.fuzz.targets import keras_h5
from tests.helpers import assert_valid_cyclonedx, components_by_path, prop, props, run_usc
from tests.helpers import write_file as _write

TINY_TEMPLATE = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _weights_h5() -> bytes:
    """A real HDF5 weights file as Keras 3 writes into a .keras zip (h5py; layers/... groups)."""
    import h5py

    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.create_dataset("layers/dense/vars/0", data=np.zeros((4, 2), dtype=np.float32))
    return buf.getvalue()


def build_repository(root: Path) -> dict[str, Any]:
    """Write one file of every format; return facts the test asserts."""
    from safetensors.numpy import save_file

    facts: dict[str, Any] = {}
    (root / "models").mkdir(parents=True)
    save_file(
        {"w": np.zeros((3, 4), dtype=np.float32), "b": np.zeros(3, dtype=np.float16)},
        str(root / "models/classifier.safetensors"),
        metadata={"architecture": "mlp"},
    )
    # The same bytes under a meaningless name: recognised by content.
    _write(root / "models/renamed.weights", (root / "models/classifier.safetensors").read_bytes())

    import gguf

    w = gguf.GGUFWriter(str(root / "models/tiny.gguf"), "llama")
    w.add_name("tiny")
    w.add_file_type(15)
    w.add_context_length(128)
    w.add_chat_template(TINY_TEMPLATE)
    w.add_tensor("tok", np.zeros((8, 4), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.ones((4, 2), dtype=np.float32), name="W")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])],
        [weight],
    )
    model = helper.make_model(
        graph, producer_name="usc-tests", opset_imports=[helper.make_opsetid("", 17)]
    )
    onnx.save(model, str(root / "models/linear.onnx"))

    # PyTorch zip layout, written by hand (data.pkl is a plain OrderedDict pickle).
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps(OrderedDict(), protocol=2))
        z.writestr("archive/version", "3\n")
        z.writestr("archive/data/0", b"\0" * 16)
    _write(root / "models/net.pt", buf.getvalue())
    _write(
        root / "models/legacy.pth",
        b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19."
        + pickle.dumps(1001, protocol=2)
        + pickle.dumps({"protocol_version": 1001}, protocol=2),
    )
    _write(root / "models/forest.pkl", pickle.dumps({"n_estimators": 10}, protocol=4))
    _write(root / "models/pipeline.joblib", pickle.dumps([1, 2, 3], protocol=3))

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.3.3"}))
        z.writestr(
            "config.json",
            json.dumps(
                {
                    "class_name": "Sequential",
                    "config": {"layers": [{"class_name": "Dense", "config": {"name": "d"}}]},
                }
            ),
        )
        z.writestr("model.weights.h5", _weights_h5())
    _write(root / "models/net.keras", buf.getvalue())
    _write(
        root / "models/legacy.h5",
        keras_h5({"class_name": "Functional", "config": {"name": "f", "layers": []}}),
    )
    np.save(root / "models/embeddings.npy", np.zeros((10, 4), dtype=np.float32))
    np.savez(root / "models/weights.npz", weight=np.zeros((2, 2)), bias=np.zeros(2))

    sm = root / "models/saved"
    _write(sm / "saved_model.pb", b"\x08\x01")
    _write(sm / "variables/variables.index", b"\0" * 8)
    _write(sm / "variables/variables.data-00000-of-00001", b"\1" * 32)

    hf = root / "models/bert-tiny"
    _write(
        hf / "config.json",
        json.dumps(
            {
                "architectures": ["BertForSequenceClassification"],
                "model_type": "bert",
                "hidden_size": 32,
                "num_attention_heads": 2,
            }
        ),
    )
    save_file({"emb": np.zeros((4, 4), dtype=np.float32)}, str(hf / "model.safetensors"))
    _write(hf / "tokenizer.json", "{}")
    _write(
        hf / "README.md",
        "---\nlicense: mit\ndatasets:\n- stanfordnlp/imdb\n"
        "pipeline_tag: text-classification\n---\n# bert-tiny\n",
    )

    oid = hashlib.sha256(b"real weights").hexdigest()
    _write(
        root / "models/large.onnx",
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize 123456789\n",
    )
    facts["lfs_oid"] = oid

    # Datasets.
    _write(root / "data/train.csv", "a,b,label\n1,2,0\n3,4,1\n5,6,0\n")
    _write(root / "data/test.tsv", "a\tb\n1\t2\n")
    _write(root / "data/events.jsonl", '{"x": 1, "y": 2}\n{"x": 3, "y": 4}\n')
    import pyarrow as pa
    import pyarrow.feather as feather
    import pyarrow.parquet as pq

    table = pa.table({"x": [1, 2, 3, 4], "y": ["a", "b", "c", "d"]})
    pq.write_table(table, root / "data/table.parquet")
    feather.write_feather(table, root / "data/table.arrow")
    np.savez(root / "data/arrays.npz", X=np.zeros((5, 2)), y=np.zeros(5))
    _write(
        root / "data/remote.dataset.yaml",
        "name: imagenet-subset\nurl: https://user:secret@example.org/data.tar?token=abc\n"
        "license: CC-BY-4.0\n",
    )

    # Hyperparameters.
    _write(root / "params.yaml", "train:\n  lr: 0.001\n  epochs: 3\nmodel:\n  layers: [64, 32]\n")
    _write(root / "hyp.scratch.yaml", "lr0: 0.01\nmomentum: 0.937\n")
    _write(root / "conf/config.yaml", "defaults:\n  - optimizer: adam\n  - _self_\nseed: 1\n")
    _write(root / "conf/optimizer/adam.yaml", "lr: 0.0003\nbetas: [0.9, 0.999]\n")

    # Software.
    _write(root / "requirements.txt", "numpy==2.0.1\nrequests>=2\n")
    _write(
        root / "pyproject.toml",
        '[project]\nname = "demo-app"\nversion = "1.2.3"\ndependencies = ["PyYAML==6.0.2"]\n',
    )
    # Noise that must be ignored.
    _write(root / "node_modules/x/model.onnx", b"ignored")
    _write(root / ".venv/pyvenv.cfg", "home = /usr\n")
    _write(root / ".venv/lib/m.safetensors", b"ignored")
    _write(root / ".gitignore", "ignored-dir/\n*.tmp\n")
    _write(root / "ignored-dir/model.gguf", b"GGUF")
    _write(root / "scratch.tmp", b"GGUF")
    return facts


@pytest.fixture(scope="module")
def scanned(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    root = tmp_path_factory.mktemp("repo")
    facts = build_repository(root)
    out = root.parent / "repo.cdx.json"
    result = run_usc("sbom", str(root), "-o", str(out), "--no-cache")
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())
    return root, facts, document


def test_document_is_valid_cyclonedx(scanned: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
    _, _, document = scanned
    assert document["specVersion"] == "1.6"
    assert_valid_cyclonedx(document)
    assert document["metadata"]["component"]["name"] == "demo-app"
    assert document["metadata"]["component"]["version"] == "1.2.3"
    tools = document["metadata"]["tools"]["components"]
    assert tools[0]["name"] == "unified-supply-chain"


MODEL_FILES = {
    "models/classifier.safetensors": "safetensors",
    "models/renamed.weights": "safetensors",
    "models/tiny.gguf": "gguf",
    "models/linear.onnx": "onnx",
    "models/net.pt": "pytorch",
    "models/legacy.pth": "pytorch-legacy",
    "models/forest.pkl": "pickle",
    "models/pipeline.joblib": "joblib",
    "models/net.keras": "keras",
    "models/legacy.h5": "hdf5",
    "models/embeddings.npy": "npy",
    "models/weights.npz": "npz",
}


@pytest.mark.parametrize(("path", "fmt"), sorted(MODEL_FILES.items()))
def test_model_files_are_models_with_real_hashes(
    scanned: tuple[Path, dict[str, Any], dict[str, Any]], path: str, fmt: str
) -> None:
    root, _, document = scanned
    comp = components_by_path(document)[path]
    assert comp["type"] == "machine-learning-model"
    assert prop(comp, "usc:format") == fmt
    assert {"alg": "SHA-256", "content": sha256(root / path)} in comp["hashes"]
    assert "modelCard" in comp
    assert prop(comp, "usc:size") == str((root / path).stat().st_size)


def test_header_metadata(scanned: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
    _, _, document = scanned
    by_path = components_by_path(document)
    st = by_path["models/classifier.safetensors"]
    assert prop(st, "usc:header:tensor_count") == "2"
    assert prop(st, "usc:parameter-count") == "15"
    assert prop(st, "usc:header:dtypes") == "F16,F32"
    assert prop(st, "usc:architecture") == "mlp"
    gg = by_path["models/tiny.gguf"]
    assert prop(gg, "usc:architecture") == "llama"
    assert prop(gg, "usc:parameter-count") == "32"
    # The chat template's SHA-256 is on the component (usc:header:<key>.sha256).
    assert (
        prop(gg, "usc:header:tokenizer.chat_template.sha256")
        == hashlib.sha256(TINY_TEMPLATE.encode()).hexdigest()
    )
    assert "Q4_K_M" in " ".join(
        props(gg, "usc:header:general.file_type") + props(gg, "usc:header:quantization")
    )
    ox = by_path["models/linear.onnx"]
    assert prop(ox, "usc:parameter-count") == "8"
    assert "ai.onnx:17" in (prop(ox, "usc:header:opset") or "")
    assert prop(ox, "usc:header:producer") == "usc-tests"
    npy = by_path["models/embeddings.npy"]
    assert prop(npy, "usc:parameter-count") == "40"
    keras = by_path["models/net.keras"]
    assert prop(keras, "usc:architecture") == "Sequential"


def test_directory_models_are_one_component_with_file_children(
    scanned: tuple[Path, dict[str, Any], dict[str, Any]],
) -> None:
    root, _, document = scanned
    by_path = components_by_path(document)
    sm = by_path["models/saved"]
    assert sm["type"] == "machine-learning-model"
    assert prop(sm, "usc:format") == "tf-savedmodel"
    children = {c["name"]: c for c in sm["components"]}
    assert set(children) == {
        "models/saved/saved_model.pb",
        "models/saved/variables/variables.index",
        "models/saved/variables/variables.data-00000-of-00001",
    }
    for name, child in children.items():
        assert child["type"] == "file"
        assert child["hashes"] == [{"alg": "SHA-256", "content": sha256(root / name)}]
    hf = by_path["models/bert-tiny"]
    assert prop(hf, "usc:format") == "huggingface"
    assert hf["licenses"] == [{"license": {"id": "MIT"}}]
    assert hf["modelCard"]["modelParameters"]["task"] == "text-classification"
    assert (
        hf["modelCard"]["modelParameters"]["modelArchitecture"] == "BertForSequenceClassification"
    )
    assert hf["modelCard"]["modelParameters"]["architectureFamily"] == "transformer"
    # The model card's dataset becomes a remote dataset component linked to the model.
    ds_refs = [d["ref"] for d in hf["modelCard"]["modelParameters"]["datasets"]]
    assert ds_refs == ["dataset:remote:stanfordnlp/imdb"]
    remote = next(c for c in document["components"] if c["bom-ref"] == ds_refs[0])
    assert (
        remote["data"][0]["contents"]["url"] == "https://huggingface.co/datasets/stanfordnlp/imdb"
    )
    # config.json is the model's hyperparameter set, mirrored on its model card.
    hp = by_path["models/bert-tiny/config.json"]
    assert hp["data"][0]["type"] == "configuration"
    card_props = {p["name"]: p["value"] for p in hf["modelCard"]["properties"]}
    assert card_props["cdx:ai-ml:model:hyperparameter:hidden_size"] == "32"
    deps = {d["ref"]: set(d.get("dependsOn", [])) for d in document["dependencies"]}
    assert {"hyperparameters:models/bert-tiny/config.json", ds_refs[0]} <= deps[hf["bom-ref"]]


def test_lfs_pointer_by_content_whatever_its_name(
    scanned: tuple[Path, dict[str, Any], dict[str, Any]],
) -> None:
    _, facts, document = scanned
    comp = components_by_path(document)["models/large.onnx"]
    assert comp["type"] == "machine-learning-model"
    assert comp["hashes"] == [{"alg": "SHA-256", "content": facts["lfs_oid"]}]
    assert prop(comp, "usc:storage") == "git-lfs-pointer"
    assert prop(comp, "usc:content-present") == "false"
    assert prop(comp, "usc:size") == "123456789"
    assert prop(comp, "usc:hash-source:SHA-256") == "git-lfs-pointer"


@pytest.mark.parametrize(
    ("path", "fmt", "rows", "columns"),
    [
        ("data/train.csv", "csv", "3", "3"),
        ("data/test.tsv", "tsv", "1", "2"),
        ("data/events.jsonl", "jsonl", "2", "2"),
        ("data/table.parquet", "parquet", "4", "2"),
        ("data/table.arrow", "arrow", None, None),
        ("data/arrays.npz", "npz", None, None),
    ],
)
def test_dataset_files(
    scanned: tuple[Path, dict[str, Any], dict[str, Any]],
    path: str,
    fmt: str,
    rows: str | None,
    columns: str | None,
) -> None:
    root, _, document = scanned
    comp = components_by_path(document)[path]
    assert comp["type"] == "data"
    assert comp["data"][0]["type"] == "dataset"
    assert prop(comp, "usc:format") == fmt
    assert comp["hashes"] == [{"alg": "SHA-256", "content": sha256(root / path)}]
    if rows is not None:
        assert prop(comp, "usc:rows") == rows
        assert prop(comp, "usc:columns") == columns


def test_remote_dataset_descriptor_redacts_credentials(
    scanned: tuple[Path, dict[str, Any], dict[str, Any]],
) -> None:
    _, _, document = scanned
    comp = next(c for c in document["components"] if c["name"] == "imagenet-subset")
    url = comp["data"][0]["contents"]["url"]
    assert "secret" not in url and "abc" not in url
    assert url.startswith("https://example.org/data.tar")
    assert comp["licenses"] == [{"license": {"id": "CC-BY-4.0"}}]
    assert "secret" not in json.dumps(document)


def test_hyperparameter_sets(scanned: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
    _, _, document = scanned
    by_path = components_by_path(document)

    def values(path: str) -> dict[str, str]:
        comp = by_path[path]
        assert comp["type"] == "data"
        entry = comp["data"][0]
        assert entry["type"] == "configuration"
        return {p["name"]: p["value"] for p in entry["contents"]["properties"]}

    assert values("params.yaml") == {
        "train.lr": "0.001",
        "train.epochs": "3",
        "model.layers": "[64, 32]",
    }
    assert values("hyp.scratch.yaml") == {"lr0": "0.01", "momentum": "0.937"}
    hydra = values("conf/config.yaml")
    assert hydra["optimizer.lr"] == "0.0003"
    assert hydra["seed"] == "1"
    # Group members are not separate sets.
    assert "conf/optimizer/adam.yaml" not in by_path


def test_libraries_with_purls(scanned: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
    _, _, document = scanned
    purls = {c.get("purl") for c in document["components"] if c["type"] == "library"}
    assert {"pkg:pypi/numpy@2.0.1", "pkg:pypi/pyyaml@6.0.2", "pkg:pypi/requests"} <= purls


def test_excluded_and_ignored_files_are_absent(
    scanned: tuple[Path, dict[str, Any], dict[str, Any]],
) -> None:
    _, _, document = scanned
    paths = set(components_by_path(document))
    for p in paths:
        assert not p.startswith(("node_modules/", ".venv/", "ignored-dir/")), p
        assert not p.endswith(".tmp")


def test_spec_version_1_7(tmp_path: Path) -> None:
    build_repository(tmp_path / "r")
    out = tmp_path / "out.json"
    result = run_usc(
        "sbom", str(tmp_path / "r"), "-o", str(out), "--spec-version", "1.7", "-q", "--no-cache"
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())
    assert document["specVersion"] == "1.7"
    assert_valid_cyclonedx(document)
