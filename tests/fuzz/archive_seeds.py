"""Seeds of the archive and container formats (zip, tar, 7z, TorchServe .mar, NeMo, Paddle)
for tests/fuzz/targets.py: small valid files built with the standard library or to the
formats' published layouts (cited where each is built)."""

from __future__ import annotations

import io
import pickle
import zipfile
from typing import Any


def pickle_payload() -> bytes:
    """A small benign protocol-2 pickle (a state dict of plain values)."""
    return pickle.dumps({"weight": [0.5, 1.5], "name": "fc"}, protocol=2)


def zip_bytes(members: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> bytes:
    """A zip of `members` (name -> bytes) in the order given."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def zip_archive_seeds() -> list[Any]:
    """(tree, victim) pairs: release zips that carry a pickle."""
    members = {"README.md": b"# release\n", "model/clf.pkl": pickle_payload()}
    return [
        ({"release.zip": zip_bytes(members)}, "release.zip"),
        ({"models/bundle.zip": zip_bytes(members, zipfile.ZIP_DEFLATED)}, "models/bundle.zip"),
    ]


def mar_manifest(handler: str = "handler.py", **model: str) -> bytes:
    """MANIFEST.json as torch-model-archiver writes it (pytorch/serve model-archiver/
    model_archiver/manifest_components/manifest.py and model.py)."""
    import json

    body = {"modelName": "mnist", "serializedFile": "mnist_cnn.pt", "handler": handler}
    body.update(model)
    return json.dumps(
        {
            "createdOn": "07/12/2026 08:00:00",
            "runtime": "python",
            "model": body,
            "archiverVersion": "0.12.0",
        },
        indent=2,
    ).encode()


def mar_bytes(
    torch_file: bytes, handler: str = "handler.py", extra: dict[str, bytes] | None = None
) -> bytes:
    """A .mar: the model directory first, MAR-INF/MANIFEST.json last, deflated (the archiver's
    default; model_packaging_utils.py archive())."""
    members = {"mnist_cnn.pt": torch_file, "mnist.py": b"class Net: ...\n"}
    if handler.endswith(".py"):
        members[handler] = b"def handle(data, context):\n    return data\n"
    members.update(extra or {})
    members["MAR-INF/MANIFEST.json"] = mar_manifest(handler, modelFile="mnist.py")
    return zip_bytes(members, zipfile.ZIP_DEFLATED)


def torch_zip_bytes(data_pkl: bytes) -> bytes:
    """torch.save's zip layout (archive/data.pkl, archive/version, archive/data/<key>)."""
    return zip_bytes(
        {"archive/data.pkl": data_pkl, "archive/version": b"3\n", "archive/data/0": b"\0" * 24}
    )


def mar_seeds() -> list[Any]:
    """(tree, victim) pairs: a custom-handler .mar and one with a built-in handler."""
    torch_file = torch_zip_bytes(pickle_payload())
    return [
        ({"model_store/mnist.mar": mar_bytes(torch_file)}, "model_store/mnist.mar"),
        ({"mnist.mar": mar_bytes(torch_file, "image_classifier")}, "mnist.mar"),
    ]


def tar_bytes(members: dict[str, bytes], mode: str = "w") -> bytes:
    """A tar of `members` (mode "w", "w:gz", "w:bz2", "w:xz"), POSIX ustar headers."""
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode, format=tarfile.USTAR_FORMAT) as tf:  # type: ignore[call-overload]
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def seven_zip_bytes(members: dict[str, bytes]) -> bytes:
    """A 7z written by py7zr (a test dependency)."""
    import py7zr

    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w") as archive:
        for name, data in members.items():
            archive.writestr(data, name)
    return buf.getvalue()


def tar_seeds() -> list[Any]:
    """(tree, victim) pairs: plain and gzipped tars carrying a pickle."""
    members = {"ckpt/README": b"notes\n", "ckpt/model.pkl": pickle_payload()}
    return [
        ({"models/ckpt.tar": tar_bytes(members)}, "models/ckpt.tar"),
        ({"ckpt.tar.gz": tar_bytes(members, "w:gz")}, "ckpt.tar.gz"),
    ]


def seven_zip_seeds() -> list[Any]:
    """(tree, victim) pairs: a 7z carrying a pickle."""
    members = {"README": b"notes\n", "model.pkl": pickle_payload()}
    return [({"models/m.7z": seven_zip_bytes(members)}, "models/m.7z")]


def nemo_bytes(weights: bytes, mode: str = "w") -> bytes:
    """A .nemo as NeMo's SaveRestoreConnector writes it (NVIDIA/NeMo nemo/core/connectors/
    save_restore_connector.py: the folder added with arcname ".", so members are "./...")."""
    config = (
        b"target: nemo.collections.asr.models.EncDecCTCModel\n"
        b"sample_rate: 16000\n"
        b"tokenizer:\n  library: sentencepiece\n  type: bpe\n"
    )
    members = {
        "./model_config.yaml": config,
        "./model_weights.ckpt": weights,
        "./a1b2_tokenizer.model": b"\x0a\x05hello",
    }
    return tar_bytes(members, mode)


def nemo_seeds() -> list[Any]:
    """(tree, victim) pairs: plain and gzipped .nemo files."""
    weights = torch_zip_bytes(pickle_payload())
    return [
        ({"models/asr.nemo": nemo_bytes(weights)}, "models/asr.nemo"),
        ({"asr.nemo": nemo_bytes(weights, "w:gz")}, "asr.nemo"),
    ]


def paddle_pickle_seeds() -> list[Any]:
    """(tree, victim) pairs: a state dict as paddle.save pickles it (protocol 4; PaddlePaddle/
    Paddle python/paddle/framework/io.py)."""
    state = pickle.dumps({"linear.weight": [[0.1, 0.2]], "linear.bias": [0.0]}, protocol=4)
    return [({"models/net.pdparams": state}, "models/net.pdparams")]
