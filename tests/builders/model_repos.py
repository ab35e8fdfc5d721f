"""Repositories shaped like real public model repositories, generated for the tests.

Each builder writes a tree (and `git init`s it, committing everything, so discovery reads git's
file set as it does on a runner) and returns the root. Shapes:

- `hf_repo_without_lfs`: a Hugging Face model repository cloned with `GIT_LFS_SKIP_SMUDGE=1`, as
  google-bert/bert-base-uncased is laid out on the hub (`.gitattributes` with the hub's default
  LFS rules, `config.json`, `tokenizer.json`, `tokenizer_config.json`, `vocab.txt`, a README
  card with YAML front matter, and pointers for `pytorch_model.bin`, `tf_model.h5`,
  `flax_model.msgpack`, `model.safetensors`, `rust_model.ot`), plus a docs image and video kept
  in LFS as many repositories do.
- `ggml_repo`: a llama.cpp-style model repository (ggerganov/whisper.cpp's `models/` and the
  hub's GGML conversions): `ggml-model-q4_0.bin` pointers and an extension-less weights pointer.
- `android_app`: an Android Studio project with `app/src/main/ml/model.tflite` (ML model
  binding, https://developer.android.com/studio/write/tflite-ml-model-binding).

The Git LFS pointer text follows https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md:
`version https://git-lfs.github.com/spec/v1`, `oid sha256:<64 hex>`, `size <bytes>`, each line
ending in LF, keys after `version` in ascending order.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tests.helpers import commit_all, init_repo, write_file

#: The `.gitattributes` the hub writes into a new model repository (huggingface_hub
#: `src/huggingface_hub/templates`, and every model repository created on the hub), abridged
#: to the rules these fixtures exercise plus their neighbours.
HF_GITATTRIBUTES = """\
*.7z filter=lfs diff=lfs merge=lfs -text
*.arrow filter=lfs diff=lfs merge=lfs -text
*.bin filter=lfs diff=lfs merge=lfs -text
*.ckpt filter=lfs diff=lfs merge=lfs -text
*.h5 filter=lfs diff=lfs merge=lfs -text
*.msgpack filter=lfs diff=lfs merge=lfs -text
*.onnx filter=lfs diff=lfs merge=lfs -text
*.ot filter=lfs diff=lfs merge=lfs -text
*.safetensors filter=lfs diff=lfs merge=lfs -text
saved_model/**/* filter=lfs diff=lfs merge=lfs -text
*.tflite filter=lfs diff=lfs merge=lfs -text
*tfevents* filter=lfs diff=lfs merge=lfs -text
"""

BERT_CONFIG = {
    "architectures": ["BertForMaskedLM"],
    "attention_probs_dropout_prob": 0.1,
    "hidden_size": 768,
    "model_type": "bert",
    "num_attention_heads": 12,
    "num_hidden_layers": 12,
    "vocab_size": 30522,
}

BERT_CARD = """\
---
language: en
tags:
- exbert
license: apache-2.0
datasets:
- bookcorpus
- wikipedia
---

# BERT base model (uncased)

Pretrained model on English language using a masked language modeling (MLM) objective.
"""


def oid_of(label: str) -> str:
    """A stable, distinct sha256 hex per pointer (the content itself is never written)."""
    return hashlib.sha256(label.encode()).hexdigest()


def pointer(label: str, size: int) -> bytes:
    """A Git LFS pointer as `git lfs` writes it for content labelled `label`."""
    return (
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid_of(label)}\nsize {size}\n"
    ).encode()


def _commit(root: Path) -> Path:
    init_repo(root)
    commit_all(root, "model repository")
    return root


def hf_repo_without_lfs(root: Path, *, weights_name: str = "pytorch_model.bin") -> Path:
    """bert-base-uncased as `GIT_LFS_SKIP_SMUDGE=1 git clone` leaves it: pointers, not weights.

    `weights_name` renames the PyTorch weights pointer (odd names such as `pytorch_model_bin`).
    """
    write_file(
        root / ".gitattributes", HF_GITATTRIBUTES + "docs/** filter=lfs diff=lfs merge=lfs -text\n"
    )
    write_file(root / "config.json", json.dumps(BERT_CONFIG, indent=2) + "\n")
    write_file(root / "README.md", BERT_CARD)
    write_file(
        root / "tokenizer.json", json.dumps({"version": "1.0", "model": {"type": "WordPiece"}})
    )
    write_file(root / "tokenizer_config.json", json.dumps({"do_lower_case": True}))
    write_file(root / "vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\n")
    sizes = {
        weights_name: 440_473_133,
        "tf_model.h5": 536_063_208,
        "flax_model.msgpack": 438_064_459,
        "model.safetensors": 440_449_768,
        "rust_model.ot": 534_240_408,
    }
    for name, size in sizes.items():
        write_file(root / name, pointer(name, size))
    write_file(root / "docs/architecture.png", pointer("docs/architecture.png", 81_920))
    write_file(root / "docs/demo.mp4", pointer("docs/demo.mp4", 12_582_912))
    return _commit(root)


def ggml_repo(root: Path) -> Path:
    """A GGML/llama.cpp-style repository: quantised `.bin` weights and one with no extension."""
    write_file(
        root / "README.md", "# whisper.cpp models\n\nGGML conversions of the Whisper models.\n"
    )
    write_file(root / "models/ggml-base.en.bin", pointer("ggml-base.en.bin", 147_951_465))
    write_file(root / "models/ggml-model-q4_0.bin", pointer("ggml-model-q4_0.bin", 3_791_725_184))
    write_file(root / "models/ggml-model-f16", pointer("ggml-model-f16", 13_478_104_576))
    write_file(root / "models/download-ggml-model.sh", "#!/bin/sh\necho fetch\n")
    # TheBloke/Llama-2-7B-GGML as the hub holds it: a config.json naming the model type and
    # quantised weights whose names no Hugging Face convention lists.
    hub = root / "hub/Llama-2-7B-GGML"
    write_file(hub / "config.json", json.dumps({"model_type": "llama"}) + "\n")
    write_file(
        hub / "README.md", "---\nlicense: llama2\nmodel_type: llama\n---\n# Llama 2 7B - GGML\n"
    )
    write_file(
        hub / "llama-2-7b.ggmlv3.q4_0.bin", pointer("llama-2-7b.ggmlv3.q4_0.bin", 3_791_725_184)
    )
    write_file(
        hub / "llama-2-7b.ggmlv3.q8_0.bin", pointer("llama-2-7b.ggmlv3.q8_0.bin", 7_160_799_872)
    )
    # A lone pointer nothing explains: neither its name, its rule nor its neighbours.
    write_file(root / "assets/blob.dat", pointer("assets/blob.dat", 2_048))
    write_file(
        root / ".gitattributes",
        "*.bin filter=lfs diff=lfs merge=lfs -text\n"
        "ggml-model-* filter=lfs diff=lfs merge=lfs -text\n"
        "*.dat filter=lfs diff=lfs merge=lfs -text\n",
    )
    return _commit(root)


def android_app(root: Path, tflite: bytes) -> Path:
    """An Android Studio app with a model under `app/src/main/ml/` (ML model binding)."""
    write_file(root / "settings.gradle", 'rootProject.name = "Classifier"\ninclude ":app"\n')
    write_file(
        root / "app/build.gradle",
        "android {\n    buildFeatures {\n        mlModelBinding true\n    }\n}\n",
    )
    write_file(root / "app/src/main/AndroidManifest.xml", '<manifest package="org.example.app"/>\n')
    write_file(root / "app/src/main/ml/model.tflite", tflite)
    return _commit(root)


def onnx_bytes() -> bytes:
    """A real ONNX model written by `onnx` (x @ W -> y, opset 17)."""
    import numpy as np
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
        graph, producer_name="pytorch", opset_imports=[helper.make_opsetid("", 17)]
    )
    return bytes(model.SerializeToString())


def multi_file_models(root: Path) -> Path:
    """One repository holding every multi-file layout, each as its framework writes it:

    - sharded safetensors with `model.safetensors.index.json` (transformers `save_pretrained`
      with `max_shard_size`), in a Hugging Face directory;
    - a TF SavedModel (`saved_model.pb`, `variables/variables.index`, `variables/variables.data-
      00000-of-00001`, `fingerprint.pb`, tensorflow/python/saved_model/save.py);
    - an MLflow model directory (`MLmodel`, `model.pkl`, `conda.yaml`, `requirements.txt`,
      mlflow/models/model.py);
    - an OpenVINO IR pair `model.xml` + `model.bin` (OpenVINO docs, "OpenVINO IR format");
    - a PaddlePaddle inference pair `inference.pdmodel` + `inference.pdiparams`
      (paddle.jit.save / PaddleOCR's inference models);
    - extension-less TFLite and ONNX files (recognised by their bytes).
    """
    import pickle

    import numpy as np
    from safetensors.numpy import save_file

    from tests.builders import paddle, tflite
    from tests.fuzz.targets import openvino_xml

    hf = root / "models/llama-tiny"
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 8}
    write_file(hf / "config.json", json.dumps(config))
    weight_map = {}
    for i, names in enumerate((["a", "b"], ["c"]), 1):
        shard = f"model-0000{i}-of-00002.safetensors"
        save_file({n: np.zeros((2, 2), dtype=np.float32) for n in names}, str(hf / shard))
        weight_map.update(dict.fromkeys(names, shard))
    index = {"metadata": {"total_size": 48}, "weight_map": weight_map}
    write_file(hf / "model.safetensors.index.json", json.dumps(index))
    write_file(hf / "tokenizer.model", b"\x0a\x05hello")
    write_file(hf / "generation_config.json", json.dumps({"do_sample": True}))

    sm = root / "export/saved"
    write_file(sm / "saved_model.pb", b"\x08\x01")
    write_file(sm / "fingerprint.pb", b"\x08\x02")
    write_file(sm / "variables/variables.index", b"\0" * 8)
    write_file(sm / "variables/variables.data-00000-of-00001", b"\1" * 32)

    ml = root / "mlruns/0/abc123/artifacts/model"
    write_file(
        ml / "MLmodel",
        "artifact_path: model\nflavors:\n  python_function:\n    loader_module: mlflow.sklearn\n"
        "    model_path: model.pkl\n  sklearn:\n    pickled_model: model.pkl\n"
        "    sklearn_version: 1.5.0\nmlflow_version: 2.14.1\n",
    )
    write_file(ml / "model.pkl", pickle.dumps({"coef": [1.0, 2.0]}, protocol=4))
    write_file(ml / "conda.yaml", "name: mlflow-env\ndependencies:\n- python=3.11\n")
    write_file(ml / "requirements.txt", "scikit-learn==1.5.0\n")

    write_file(root / "openvino/model.xml", openvino_xml("resnet", 11))
    write_file(root / "openvino/model.bin", b"\0" * 64)

    write_file(root / "paddle/inference.pdmodel", paddle.build(paddle.PaddleProgram()))
    write_file(root / "paddle/inference.pdiparams", b"\0" * 64)

    write_file(root / "bin/classifier", tflite.build(tflite.with_metadata()))
    write_file(root / "bin/encoder", onnx_bytes())
    return _commit(root)
