"""`usc sbom` on generated repositories shaped like public model repositories: files are models
by context (the directory they are in, the `.gitattributes` rule that put them in Git LFS, their
neighbours), not only by name, and a multi-file model is found by any of its files.

Fixtures: tests/builders/model_repos.py (layouts and sources cited there). Git LFS pointers per
https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md; `.gitattributes` per
https://git-scm.com/docs/gitattributes; Android ML model binding per
https://developer.android.com/studio/write/tflite-ml-model-binding.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from tests.builders import model_repos as mr
from tests.builders import tflite
from tests.helpers import prop, props, run_usc, sbom_of
from unified_supply_chain.bom.view import BomView, Kind


def _sbom(root: Path) -> dict[str, Any]:
    return sbom_of(root, root.parent / f"{root.name}.cdx.json")


def _ml(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every non-library component by bom-ref."""
    return {c["bom-ref"]: c for c in document["components"] if c["type"] != "library"}


def _occurrences(component: dict[str, Any]) -> list[str]:
    return [o["location"] for o in component["evidence"]["occurrences"]]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


BERT_POINTERS = {
    "pytorch_model.bin": 440_473_133,
    "tf_model.h5": 536_063_208,
    "flax_model.msgpack": 438_064_459,
    "model.safetensors": 440_449_768,
    "rust_model.ot": 534_240_408,
}
BERT_PRESENT = [
    ".gitattributes",
    "README.md",
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
]


def test_hf_repository_cloned_without_lfs(tmp_path: Path) -> None:
    root = mr.hf_repo_without_lfs(tmp_path / "bert-base-uncased")
    document = _sbom(root)
    comps = _ml(document)
    assert set(comps) == {
        "model:",
        "hyperparameters:config.json",
        "dataset:remote:bookcorpus",
        "dataset:remote:wikipedia",
        "other:docs/architecture.png",
        "other:docs/demo.mp4",
    }
    model = comps["model:"]
    assert (model["type"], model["name"]) == ("machine-learning-model", "bert-base-uncased")
    assert prop(model, "usc:format") == "huggingface"
    assert prop(model, "usc:main-file") == "model.safetensors"
    assert prop(model, "usc:storage") == "git-lfs-pointer"
    assert prop(model, "usc:lfs:pointers") == "5"
    # Every weight file is a pointer: the model's content is not in the checkout.
    assert prop(model, "usc:content-present") == "false"
    assert prop(model, "usc:size") == str(
        sum(BERT_POINTERS.values()) + sum((root / p).stat().st_size for p in BERT_PRESENT)
    )
    # Every file is a nested file component and an evidence occurrence.
    files = sorted([*BERT_PRESENT, *BERT_POINTERS])
    assert _occurrences(model) == ["", *files]
    nested = {c["name"]: c for c in model["components"]}
    assert sorted(nested) == files
    for name, size in BERT_POINTERS.items():
        # A pointer's file stands for its content: the oid is its SHA-256, the size declared.
        assert nested[name]["hashes"] == [{"alg": "SHA-256", "content": mr.oid_of(name)}]
        assert prop(nested[name], "usc:size") == str(size)
        assert prop(nested[name], "usc:file-storage") == "git-lfs-pointer"
    for name in BERT_PRESENT:
        assert nested[name]["hashes"] == [{"alg": "SHA-256", "content": _sha(root / name)}]
        assert prop(nested[name], "usc:file-storage") is None
    assert model["modelCard"]["modelParameters"]["modelArchitecture"] == "BertForMaskedLM"
    assert model["licenses"] == [{"license": {"id": "Apache-2.0"}}]

    # Media kept in LFS under docs/ is neither a model nor a dataset, and is no warning.
    for path in ("docs/architecture.png", "docs/demo.mp4"):
        media = comps[f"other:{path}"]
        assert media["type"] == "data" and media["data"][0]["type"] == "other"
        assert prop(media, "usc:kind-evidence") == "media"
        assert prop(media, "usc:lfs:attributes-rule") == ".gitattributes:13: docs/**"
        assert props(media, "usc:warning") == []
        assert media["hashes"] == [{"alg": "SHA-256", "content": mr.oid_of(path)}]

    # A reader finds the model by any of its files.
    view = BomView.of(document)
    owners = {c.ref for c in view.components if "flax_model.msgpack" in c.evidence_paths}
    assert owners == {"model:"}
    assert {c.kind for c in view.components if c.ref.startswith("other:")} == {Kind.OTHER}


def test_trace_finds_the_model_by_the_real_weights(tmp_path: Path) -> None:
    """The file `git lfs pull` would bring has the pointer's oid as digest: trace finds it."""
    root = mr.hf_repo_without_lfs(tmp_path / "bert")
    _sbom(root)
    sbom = root.parent / "bert.cdx.json"
    result = run_usc(
        "trace", f"sha256:{mr.oid_of('tf_model.h5')}", "--sbom", str(sbom), "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    matches = answer["matches"] if isinstance(answer, dict) else answer
    assert [m["component"]["bom-ref"] for m in matches] == ["model:"]
    assert matches[0]["component"]["matched_file"]["name"] == "tf_model.h5"


def test_ggml_repository(tmp_path: Path) -> None:
    root = mr.ggml_repo(tmp_path / "whisper.cpp")
    comps = _ml(_sbom(root))
    hub = "hub/Llama-2-7B-GGML"
    assert set(comps) == {
        "model:models/ggml-base.en.bin",
        "model:models/ggml-model-q4_0.bin",
        "model:models/ggml-model-f16",
        f"model:{hub}",
        f"hyperparameters:{hub}/config.json",
        "other:assets/blob.dat",
    }
    # No extension: a weight-like name beside models, in LFS by the `ggml-model-*` rule.
    f16 = comps["model:models/ggml-model-f16"]
    assert prop(f16, "usc:kind-evidence") == "name+siblings"
    assert prop(f16, "usc:lfs:attributes-rule") == ".gitattributes:2: ggml-model-*"
    assert f16["hashes"] == [{"alg": "SHA-256", "content": mr.oid_of("ggml-model-f16")}]
    assert prop(f16, "usc:size") == "13478104576"
    assert prop(comps["model:models/ggml-base.en.bin"], "usc:kind-evidence") == "name"
    # A config.json naming a model type makes the directory a Hugging Face model, whatever its
    # weights are called.
    llama = comps[f"model:{hub}"]
    assert prop(llama, "usc:format") == "huggingface"
    assert (prop(llama, "usc:storage"), prop(llama, "usc:content-present")) == (
        "git-lfs-pointer",
        "false",
    )
    weights = [f"{hub}/llama-2-7b.ggmlv3.q4_0.bin", f"{hub}/llama-2-7b.ggmlv3.q8_0.bin"]
    assert _occurrences(llama) == [hub, f"{hub}/README.md", f"{hub}/config.json", *weights]
    assert {c["name"]: c["hashes"][0]["content"] for c in llama["components"]}[weights[1]] == (
        mr.oid_of("llama-2-7b.ggmlv3.q8_0.bin")
    )
    # A lone pointer nothing explains: data of type other, with a warning; not a dataset.
    blob = comps["other:assets/blob.dat"]
    assert blob["data"][0]["type"] == "other"
    assert prop(blob, "usc:kind-evidence") == "unknown"
    assert prop(blob, "usc:lfs:attributes-rule") == ".gitattributes:3: *.dat"
    assert [w for w in props(blob, "usc:warning") if "unknown kind" in w]


def test_android_app_model_binding(tmp_path: Path) -> None:
    built = tflite.with_metadata()
    root = mr.android_app(tmp_path / "app-repo", tflite.build(built))
    comps = _ml(_sbom(root))
    assert set(comps) == {"model:app/src/main/ml/model.tflite"}
    model = comps["model:app/src/main/ml/model.tflite"]
    assert model["type"] == "machine-learning-model"
    assert prop(model, "usc:format") == "tflite"
    assert prop(model, "usc:android:ml-binding") == "true"
    assert prop(model, "usc:android:module") == "app"
    assert model["hashes"] == [
        {"alg": "SHA-256", "content": _sha(root / "app/src/main/ml/model.tflite")}
    ]
    # TFLite Metadata (tensorflow/tflite-support metadata_schema.fbs), as the builder wrote it.
    assert prop(model, "usc:header:metadata.model_name") == "MobileNetV1 image classifier"
    assert prop(model, "usc:header:metadata.model_version") == "v1"
    assert prop(model, "usc:header:metadata.author") == "TensorFlow"
    assert prop(model, "usc:header:metadata.associated_files") == ("labels.txt:tensor-value-labels")


def test_multi_file_models_list_every_file(tmp_path: Path) -> None:
    root = mr.multi_file_models(tmp_path / "zoo")
    comps = _ml(_sbom(root))
    hf, ml = "models/llama-tiny", "mlruns/0/abc123/artifacts/model"
    assert set(comps) == {
        f"model:{hf}",
        f"hyperparameters:{hf}/config.json",
        "model:export/saved",
        f"model:{ml}",
        "model:openvino/model.xml",
        "model:paddle/inference.pdmodel",
        "model:bin/classifier",
        "model:bin/encoder",
    }
    expected = {
        f"model:{hf}": [
            hf,
            f"{hf}/config.json",
            f"{hf}/generation_config.json",
            f"{hf}/model-00001-of-00002.safetensors",
            f"{hf}/model-00002-of-00002.safetensors",
            f"{hf}/model.safetensors.index.json",
            f"{hf}/tokenizer.model",
        ],
        "model:export/saved": [
            "export/saved",
            "export/saved/fingerprint.pb",
            "export/saved/saved_model.pb",
            "export/saved/variables/variables.data-00000-of-00001",
            "export/saved/variables/variables.index",
        ],
        f"model:{ml}": [
            ml,
            f"{ml}/MLmodel",
            f"{ml}/conda.yaml",
            f"{ml}/model.pkl",
            f"{ml}/requirements.txt",
        ],
        "model:openvino/model.xml": ["openvino/model.xml", "openvino/model.bin"],
        "model:paddle/inference.pdmodel": [
            "paddle/inference.pdmodel",
            "paddle/inference.pdiparams",
        ],
    }
    for ref, paths in expected.items():
        comp = comps[ref]
        assert _occurrences(comp) == paths, ref
        nested = {c["name"]: c["hashes"] for c in comp["components"]}
        assert sorted(nested) == sorted(paths[1:] if paths[0] not in nested else paths), ref
        for name, hashes in nested.items():
            assert hashes == [{"alg": "SHA-256", "content": _sha(root / name)}], name
    assert prop(comps[f"model:{hf}"], "usc:header:tensor_count") == "3"
    for ref in expected:
        assert prop(comps[ref], "usc:content-present") is None, ref
        assert prop(comps[ref], "usc:storage") == "git", ref
    # Extension-less files by their bytes: TFLite (`TFL3` at offset 4) and ONNX (ModelProto).
    assert prop(comps["model:bin/classifier"], "usc:format") == "tflite"
    assert prop(comps["model:bin/encoder"], "usc:format") == "onnx"
    assert prop(comps["model:bin/encoder"], "usc:header:producer") == "pytorch"
