"""Every cap in limits.py, crossed: the documented error, warning or truncation happens.

Where the real value would need a huge file the limit is monkeypatched down (readers read
`limits.X` at call time). A few caps are bound at import time as default arguments or class
attributes (safeparse's text size, JSON depth, alias and node counts, flatten's parameter count,
the pickle walk's opcode count); those are crossed with real inputs, which are cheap enough, or
by patching the bound default itself.
"""

from __future__ import annotations

import gzip
import io
import json
import pickle
import struct
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.fuzz import targets
from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError, LimitExceeded, MergeError


def _seed_file(tmp_path: Path, target: str, index: int = 0) -> Path:
    seed = targets.TARGETS[target].seeds()[index]
    targets.write_tree(tmp_path, seed.tree)
    return tmp_path / seed.victim


def test_every_limit_has_a_test() -> None:
    names = [n for n in vars(limits) if n.isupper()]
    source = Path(__file__).read_text(encoding="utf-8")
    untested = [n for n in names if f"def test_{n.lower()}" not in source]
    assert not untested, untested


# --- classification and per-file time -------------------------------------------------------


def test_sniff_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.inspection.headers import sniff

    path = tmp_path / "big.bin"
    path.write_bytes(b"x" * 10_000)
    head, err = sniff(str(path))
    assert err is None and head is not None and len(head) == limits.SNIFF_BYTES
    monkeypatch.setattr(limits, "SNIFF_BYTES", 4)
    head, _ = sniff(str(path))
    assert head == b"xxxx"


def test_per_file_seconds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from unified_supply_chain.formats import registry
    from unified_supply_chain.inspection import headers

    def slow_reader(path: Path) -> Any:
        time.sleep(30)
        raise AssertionError("not interrupted")

    spec = dataclasses.replace(registry()["safetensors"], reader=slow_reader)
    monkeypatch.setitem(registry().by_id, "safetensors", spec)  # type: ignore[index]
    monkeypatch.setattr(limits, "PER_FILE_SECONDS", 0.2)
    path = _seed_file(tmp_path, "safetensors")
    started = time.perf_counter()
    header, warning = headers.read_header(path, "safetensors")
    assert time.perf_counter() - started < 5
    assert header is None
    assert warning is not None and "took longer than 0.2 s" in warning


# --- model formats --------------------------------------------------------------------------


def test_max_safetensors_header(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.safetensors import read_safetensors

    path = _seed_file(tmp_path, "safetensors")
    assert read_safetensors(path).properties["tensor_count"] == "2"
    monkeypatch.setattr(limits, "MAX_SAFETENSORS_HEADER", 16)
    with pytest.raises(LimitExceeded, match="exceeds the cap of 16"):
        read_safetensors(path)


def test_max_gguf_kv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.gguf import read_gguf

    path = _seed_file(tmp_path, "gguf")
    monkeypatch.setattr(limits, "MAX_GGUF_KV", 1)
    with pytest.raises(LimitExceeded, match="key/values exceed the cap of 1"):
        read_gguf(path)


def test_max_gguf_tensors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.gguf import read_gguf

    path = _seed_file(tmp_path, "gguf")
    monkeypatch.setattr(limits, "MAX_GGUF_TENSORS", 0)
    with pytest.raises(LimitExceeded, match="tensors exceed the cap of 0"):
        read_gguf(path)


def test_max_gguf_string(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.gguf import read_gguf

    path = _seed_file(tmp_path, "gguf")
    assert read_gguf(path).properties["general.name"] == "tiny"
    monkeypatch.setattr(limits, "MAX_GGUF_STRING", 3)
    props = read_gguf(path).properties
    assert "general.name" not in props
    assert props["general.name.skipped"] == "true"


def _gguf_with_array(count: int, elem_type: int) -> bytes:
    key = b"nested"
    body = struct.pack("<I", elem_type) + struct.pack("<Q", count)
    if elem_type == 9:  # arrays of empty uint8 arrays
        body += (struct.pack("<I", 0) + struct.pack("<Q", 0)) * count
    else:  # strings
        body += (struct.pack("<Q", 1) + b"t") * count
    kv = struct.pack("<Q", len(key)) + key + struct.pack("<I", 9) + body
    return b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + kv + b"\0" * 64


def test_max_gguf_array_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.gguf import read_gguf

    path = tmp_path / "a.gguf"
    path.write_bytes(_gguf_with_array(5, 9))
    assert read_gguf(path).properties["nested.length"] == "5"
    monkeypatch.setattr(limits, "MAX_GGUF_ARRAY_READ", 4)
    with pytest.raises(LimitExceeded, match="5 nested arrays exceed the cap"):
        read_gguf(path)


def test_max_gguf_string_array(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.gguf import read_gguf

    path = tmp_path / "s.gguf"
    path.write_bytes(_gguf_with_array(5, 8))
    assert read_gguf(path).properties["nested.length"] == "5"
    monkeypatch.setattr(limits, "MAX_GGUF_STRING_ARRAY", 4)
    with pytest.raises(LimitExceeded, match="5 strings exceed the cap"):
        read_gguf(path)


def test_max_gguf_chat_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.gguf import read_gguf

    path = _seed_file(tmp_path, "gguf")
    key = "tokenizer.chat_template"
    assert read_gguf(path).properties[key] == "{{ messages }}"
    monkeypatch.setattr(limits, "MAX_GGUF_CHAT_TEMPLATE", 4)
    assert read_gguf(path).properties[key] == "{{ m"


def test_max_onnx_meta_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.onnx import read_onnx

    path = _seed_file(tmp_path, "onnx")
    assert read_onnx(path).properties["node_count"] == "1"
    monkeypatch.setattr(limits, "MAX_ONNX_META_BYTES", 8)
    with pytest.raises(LimitExceeded, match="more than 8 bytes of ONNX metadata"):
        read_onnx(path)


def test_max_onnx_fields(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.onnx import read_onnx

    path = _seed_file(tmp_path, "onnx")
    monkeypatch.setattr(limits, "MAX_ONNX_FIELDS", 3)
    with pytest.raises(LimitExceeded, match="more than 3 protobuf fields"):
        read_onnx(path)


def test_max_coreml_meta_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.coreml import read_coreml

    path = _seed_file(tmp_path, "coreml")
    assert read_coreml(path).properties["layer_count"] == "2"
    monkeypatch.setattr(limits, "MAX_COREML_META_BYTES", 8)
    with pytest.raises(LimitExceeded, match="more than 8 bytes of Core ML metadata"):
        read_coreml(path)


def test_max_coreml_fields(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.coreml import read_coreml

    path = _seed_file(tmp_path, "coreml")
    monkeypatch.setattr(limits, "MAX_COREML_FIELDS", 3)
    with pytest.raises(LimitExceeded, match="more than 3 protobuf fields"):
        read_coreml(path)


def test_max_msgpack_meta_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.flax_msgpack import read_flax_msgpack

    path = _seed_file(tmp_path, "flax")
    assert read_flax_msgpack(path).properties["tensor_count"] == "4"
    monkeypatch.setattr(limits, "MAX_MSGPACK_META_BYTES", 8)
    with pytest.raises(LimitExceeded, match="more than 8 bytes of msgpack"):
        read_flax_msgpack(path)


def test_max_msgpack_objects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.flax_msgpack import read_flax_msgpack

    path = _seed_file(tmp_path, "flax")
    monkeypatch.setattr(limits, "MAX_MSGPACK_OBJECTS", 3)
    with pytest.raises(LimitExceeded, match="more than 3 msgpack objects"):
        read_flax_msgpack(path)


def test_max_msgpack_depth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.flax_msgpack import read_flax_msgpack

    path = _seed_file(tmp_path, "flax")
    monkeypatch.setattr(limits, "MAX_MSGPACK_DEPTH", 1)
    with pytest.raises(LimitExceeded, match="nested deeper than 1"):
        read_flax_msgpack(path)


def test_max_pte_meta_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.executorch import read_pte

    path = _seed_file(tmp_path, "executorch")
    assert read_pte(path).properties["execution_plan_count"] == "2"
    monkeypatch.setattr(limits, "MAX_PTE_META_BYTES", 16)
    with pytest.raises(LimitExceeded, match="more than 16 bytes of ExecuTorch program"):
        read_pte(path)


def test_max_openvino_xml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.openvino import read_openvino

    path = _seed_file(tmp_path, "openvino")
    assert read_openvino(path).properties["layer_count"] == "4"
    monkeypatch.setattr(limits, "MAX_OPENVINO_XML", 100)
    with pytest.raises(LimitExceeded, match="OpenVINO IR over 100 bytes"):
        read_openvino(path)


def test_max_paddle_program_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.paddle import read_paddle_program

    path = _seed_file(tmp_path, "paddle")
    assert read_paddle_program(path).properties["block_count"] == "2"
    monkeypatch.setattr(limits, "MAX_PADDLE_PROGRAM_BYTES", 16)
    with pytest.raises(LimitExceeded, match="more than 16 bytes of PaddlePaddle program"):
        read_paddle_program(path)


def test_max_paddle_fields(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.paddle import read_paddle_program

    path = _seed_file(tmp_path, "paddle")
    monkeypatch.setattr(limits, "MAX_PADDLE_FIELDS", 10)
    with pytest.raises(LimitExceeded, match="more than 10 protobuf fields"):
        read_paddle_program(path)


def test_max_saved_model_pb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.savedmodel import read_saved_model

    pb = _seed_file(tmp_path / "pb", "savedmodel", 0)
    pbtxt = _seed_file(tmp_path / "txt", "savedmodel", 1)
    assert read_saved_model(pb).properties["meta_graph_count"] == "1"
    monkeypatch.setattr(limits, "MAX_SAVED_MODEL_PB", 16)
    with pytest.raises(LimitExceeded, match="limit 16"):
        read_saved_model(pb)
    with pytest.raises(LimitExceeded):
        read_saved_model(pbtxt)


def test_max_npy_header(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.numpy_files import read_npy

    path = _seed_file(tmp_path, "npy")
    assert read_npy(path).properties["shape"] == "3x4"
    monkeypatch.setattr(limits, "MAX_NPY_HEADER", 32)
    with pytest.raises(LimitExceeded, match=r"limit 32\)"):
        read_npy(path)


def test_max_hdf5_sniff(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.torchserve import read_mar

    path = _seed_file(tmp_path, "torchserve-mar")
    read_mar(path)
    # The manifest is read whole under the cap: a smaller cap refuses it.
    monkeypatch.setattr(limits, "MAX_HDF5_SNIFF", 8)
    with pytest.raises(LimitExceeded):
        read_mar(path)


def test_max_hdf5_metadata(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.keras import read_hdf5

    path = _seed_file(tmp_path, "hdf5")
    assert read_hdf5(path).properties["keras.lambda_layers"] != "0"
    # The root attributes need more metadata than 200 bytes: the reader says what it left.
    monkeypatch.setattr(limits, "MAX_HDF5_METADATA", 200)
    info = read_hdf5(path)
    assert "keras" not in info.properties
    assert "HDF5 metadata" in info.properties["hdf5.unread"]


# --- zip archives ---------------------------------------------------------------------------


def _zip(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _npy(n: int = 4) -> bytes:
    import numpy as np

    buf = io.BytesIO()
    np.save(buf, np.zeros(n, dtype=np.float32))
    return buf.getvalue()


def test_max_zip_members(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.numpy_files import read_npz

    path = _zip(tmp_path / "m.npz", {f"a{i}.npy": _npy() for i in range(3)})
    assert read_npz(path).properties["array_count"] == "3"
    monkeypatch.setattr(limits, "MAX_ZIP_MEMBERS", 2)
    with pytest.raises(LimitExceeded, match="3 members"):
        read_npz(path)


def test_max_zip_central_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.numpy_files import read_npz

    path = _zip(tmp_path / "m.npz", {f"a{i}.npy": _npy() for i in range(3)})
    monkeypatch.setattr(limits, "MAX_ZIP_CENTRAL_DIRECTORY", 64)
    with pytest.raises(LimitExceeded, match=r"central directory of \d+ bytes \(limit 64\)"):
        read_npz(path)


def test_max_zip_member_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.pytorch import read_pytorch_zip

    path = _seed_file(tmp_path, "pytorch-zip")
    assert read_pytorch_zip(path).properties["storage_count"] == "2"
    monkeypatch.setattr(limits, "MAX_ZIP_MEMBER_READ", 16)
    with pytest.raises(LimitExceeded, match=r"data.pkl' declares \d+ bytes \(limit 16\)"):
        read_pytorch_zip(path)


def test_max_zip_ratio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.pytorch import read_pytorch_zip

    seed = targets.TARGETS["pytorch-zip"].seeds()[0]
    members = {
        "model/data.pkl": targets.torch_state_pickle() + b"\0" * 4000,  # compresses well
        "model/version": b"3\n",
    }
    path = _zip(tmp_path / "m.pt", members, zipfile.ZIP_DEFLATED)
    assert seed.victim == "m.pt"
    read_pytorch_zip(path)  # under the real cap of 200
    monkeypatch.setattr(limits, "MAX_ZIP_RATIO", 2)
    with pytest.raises(LimitExceeded, match=r"compression ratio \d+ \(limit 2\)"):
        read_pytorch_zip(path)


# --- pickles --------------------------------------------------------------------------------


def test_max_pickle_opcodes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats import pickles

    path = tmp_path / "m.pkl"
    path.write_bytes(pickle.dumps(list(range(100)), protocol=4))
    assert "pickle.walk" not in pickles.read_pickle(path).properties
    # Bound as the walk's default argument at import: patch that default.
    assert pickles.walk_pickle.__kwdefaults__ is not None
    monkeypatch.setitem(pickles.walk_pickle.__kwdefaults__, "max_opcodes", 10)
    props = pickles.read_pickle(path).properties
    assert props["opcode_count"] == "10"
    assert props["pickle.walk"] == "partial"


def test_max_pickle_arg_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats import pickles

    data = pickle.dumps({"weights": b"\0" * 1000, "name": "x" * 1000}, protocol=4)
    walk = pickles.walk_pickle_bytes(data)
    assert walk.complete
    monkeypatch.setattr(limits, "MAX_PICKLE_ARG_READ", 8)
    # Long arguments are stepped over, not read, and the walk still reaches STOP.
    walk = pickles.walk_pickle_bytes(data)
    assert walk.complete and walk.error is None


def test_max_pickle_decompress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats import pickles

    path = tmp_path / "m.joblib"
    path.write_bytes(gzip.compress(pickle.dumps(list(range(2000)), protocol=4), mtime=0))
    props = pickles.read_pickle(path).properties
    assert props["compression"] == "gzip" and "pickle.walk_stopped" not in props
    monkeypatch.setattr(limits, "MAX_PICKLE_DECOMPRESS", 64)
    props = pickles.read_pickle(path).properties
    # Only the first 64 decompressed bytes are walked: the walk stops short of STOP.
    assert "truncated" in props["pickle.walk_stopped"] or props.get("pickle.walk") == "partial"
    assert int(props["opcode_count"]) < 60


# --- text parsing ---------------------------------------------------------------------------


def test_max_text_parse(tmp_path: Path) -> None:
    from unified_supply_chain.sources.params import read_params_file

    path = tmp_path / "params.yaml"
    with path.open("wb") as fh:  # real size: the cap is bound as a default argument
        fh.write(b"a: 1\n")
        fh.truncate(limits.MAX_TEXT_PARSE + 1)
    with pytest.raises(LimitExceeded, match=f"larger than {limits.MAX_TEXT_PARSE} bytes"):
        read_params_file(path, "params-yaml")


def test_max_json_depth(tmp_path: Path) -> None:
    from unified_supply_chain import safeparse

    ok = "[" * limits.MAX_JSON_DEPTH + "]" * limits.MAX_JSON_DEPTH
    assert isinstance(safeparse.loads_json(ok), list)  # exactly at the cap: accepted
    deep = "[" * (limits.MAX_JSON_DEPTH + 1) + "]" * (limits.MAX_JSON_DEPTH + 1)
    with pytest.raises(LimitExceeded, match=f"deeper than {limits.MAX_JSON_DEPTH}"):
        safeparse.loads_json(deep)
    with pytest.raises(LimitExceeded, match=f"deeper than {limits.MAX_JSON_DEPTH}"):
        safeparse.loads_yaml("x: " + deep)


def test_max_yaml_aliases() -> None:
    from unified_supply_chain import safeparse

    n = limits.MAX_YAML_ALIASES
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * n) + "]\n"
    assert len(safeparse.loads_yaml(text)["b"]) == n
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * (n + 1)) + "]\n"
    with pytest.raises(LimitExceeded, match=f"more than {n} YAML aliases"):
        safeparse.loads_yaml(text)


def test_max_parsed_nodes() -> None:
    from unified_supply_chain import safeparse

    # 4 ** 10 = 1,048,576 leaves from 40 aliases: under the alias cap, over the node cap.
    lines = ["a: &a [x, x, x, x]"]
    for i in range(9):
        prev, cur = chr(97 + i), chr(98 + i)
        lines.append(f"{cur}: &{cur} [*{prev}, *{prev}, *{prev}, *{prev}]")
    with pytest.raises(LimitExceeded, match=f"more than {limits.MAX_PARSED_NODES} values"):
        safeparse.loads_yaml("\n".join(lines) + "\n")


def test_max_params(tmp_path: Path) -> None:
    from unified_supply_chain.sources.params import read_params_file

    path = tmp_path / "params.yaml"
    path.write_text("".join(f"k{i}: {i}\n" for i in range(limits.MAX_PARAMS + 5)))
    assert len(read_params_file(path, "params-yaml")) == limits.MAX_PARAMS


# --- manifests, lockfiles, configs ----------------------------------------------------------


def test_max_requirements_include_depth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.sources.libraries.requirements import read_requirements

    for i in range(4):
        (tmp_path / f"r{i}.txt").write_text(f"pkg{i}==1.0\n-r r{i + 1}.txt\n")
    (tmp_path / "r4.txt").write_text("last==1.0\n")
    full = read_requirements(tmp_path / "r0.txt", "r0.txt", tmp_path)
    assert {lib.name for lib in full.libraries} == {"pkg0", "pkg1", "pkg2", "pkg3", "last"}
    monkeypatch.setattr(limits, "MAX_REQUIREMENTS_INCLUDE_DEPTH", 2)
    cut = read_requirements(tmp_path / "r0.txt", "r0.txt", tmp_path)
    assert {lib.name for lib in cut.libraries} == {"pkg0", "pkg1"}
    assert any("includes nested deeper than 2" in p.message for p in cut.problems)


def test_max_manifest_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.sources.libraries.pyproject import read_pyproject
    from unified_supply_chain.sources.libraries.requirements import read_requirements

    req = tmp_path / "requirements.txt"
    req.write_text("".join(f"pkg{i}==1.0\n" for i in range(5)))
    pyproject = tmp_path / "pyproject.toml"
    deps = ", ".join(f'"pkg{i}==1.0"' for i in range(5))
    pyproject.write_text(f'[project]\nname = "x"\ndependencies = [{deps}]\n')
    monkeypatch.setattr(limits, "MAX_MANIFEST_ENTRIES", 3)
    cut = read_requirements(req, "requirements.txt", tmp_path)
    assert [lib.name for lib in cut.libraries] == ["pkg0", "pkg1", "pkg2"]
    assert [p.message for p in cut.problems] == [
        "line 4: skipped: more than 3 requirements",
        "line 5: skipped: more than 3 requirements",
    ]
    assert len(read_pyproject(pyproject, "pyproject.toml").libraries) == 3


def test_max_lock_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.sources.libraries.lockfiles import read_lockfile

    for fmt, (name, data) in targets.LOCKFILES.items():
        path = tmp_path / fmt / name
        path.parent.mkdir()
        path.write_bytes(data)
        assert read_lockfile(path, name, fmt).libraries
    monkeypatch.setattr(limits, "MAX_LOCK_PACKAGES", 0)
    for fmt, (name, _) in targets.LOCKFILES.items():
        with pytest.raises(FormatError, match="more than 0 packages"):
            read_lockfile(tmp_path / fmt / name, name, fmt)


def test_max_hydra_depth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.sources.params import compose_hydra

    targets.write_tree(tmp_path, targets.HYDRA)
    full = compose_hydra(tmp_path, "conf/config.yaml")
    assert ("optimizer.lr", "0.001") in full.params
    monkeypatch.setattr(limits, "MAX_HYDRA_DEPTH", 1)
    cut = compose_hydra(tmp_path, "conf/config.yaml")
    assert any("defaults nested deeper than 1; ignored" in w for w in cut.warnings)
    assert ("optimizer.lr", "0.001") not in cut.params


def test_max_hydra_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.sources.params import compose_hydra

    targets.write_tree(tmp_path, targets.HYDRA)
    monkeypatch.setattr(limits, "MAX_HYDRA_FILES", 1)
    cut = compose_hydra(tmp_path, "conf/config.yaml")
    assert cut.members == ("conf/config.yaml",)
    assert any("more than 1 config files; rest skipped" in w for w in cut.warnings)


# --- datasets -------------------------------------------------------------------------------


def test_max_dataset_header_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.tabular import read_csv, read_jsonl

    csv_path = tmp_path / "d.csv"
    csv_path.write_text("alpha,beta,gamma\n1,2,3\n")
    jsonl = tmp_path / "d.jsonl"
    jsonl.write_text('{"alpha": 1, "beta": 2}\n{"alpha": 3, "beta": 4}\n')
    assert read_csv(csv_path).columns == 3 and read_jsonl(jsonl).columns == 2
    monkeypatch.setattr(limits, "MAX_DATASET_HEADER_BYTES", 8)
    with pytest.raises(LimitExceeded, match="header line longer than 8 bytes"):
        read_csv(csv_path)
    with pytest.raises(LimitExceeded, match="first record longer than 8 bytes"):
        read_jsonl(jsonl)


def test_max_rowcount_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.tabular import read_csv, read_jsonl

    csv_path = tmp_path / "d.csv"
    csv_path.write_text("a,b\n1,2\n3,4\n")
    jsonl = tmp_path / "d.jsonl"
    jsonl.write_text('{"a": 1}\n{"a": 2}\n')
    assert read_csv(csv_path).rows == 2 and read_jsonl(jsonl).rows == 2
    monkeypatch.setattr(limits, "MAX_ROWCOUNT_BYTES", 8)
    assert read_csv(csv_path).rows is None
    assert read_jsonl(jsonl).rows is None


def test_max_csv_record_count_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.tabular import read_csv

    path = tmp_path / "d.csv"
    path.write_text('a,b\n"multi\nline",2\n3,4\n')
    info = read_csv(path)
    assert info.rows == 2 and "rows_counted" not in info.properties
    monkeypatch.setattr(limits, "MAX_CSV_RECORD_COUNT_BYTES", 8)
    info = read_csv(path)
    assert info.rows == 3 and info.properties["rows_counted"] == "physical-lines"


def test_max_parquet_footer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.parquet import read_parquet

    path = _seed_file(tmp_path, "parquet")
    assert read_parquet(path).rows == 3
    monkeypatch.setattr(limits, "MAX_PARQUET_FOOTER", 16)
    with pytest.raises(LimitExceeded, match="parquet footer larger than 16"):
        read_parquet(path)


def test_max_parquet_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.parquet import read_parquet

    path = _seed_file(tmp_path, "parquet")
    monkeypatch.setattr(limits, "MAX_PARQUET_SCHEMA", 2)
    with pytest.raises(LimitExceeded, match="more than 2 schema elements"):
        read_parquet(path)


def test_max_parquet_full_parse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.parquet import read_parquet

    path = _seed_file(tmp_path, "parquet")
    full = read_parquet(path)
    assert "created_by" in full.properties and "footer_read" not in full.properties
    monkeypatch.setattr(limits, "MAX_PARQUET_FULL_PARSE", 0)
    cut = read_parquet(path)
    assert cut.rows == 3  # the row count comes before the row groups
    assert "created_by" not in cut.properties
    assert cut.properties["footer_read"] == "partial"


def test_max_arrow_footer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.arrow import read_arrow

    paths = [_seed_file(tmp_path / str(i), "arrow", i) for i in range(3)]
    for path in paths:
        assert read_arrow(path).columns == 3
    monkeypatch.setattr(limits, "MAX_ARROW_FOOTER", 8)
    for path in paths:
        with pytest.raises(FormatError, match="out of range"):
            read_arrow(path)


def test_max_descriptor_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.sources.cards.descriptors import read_dataset_descriptor

    path = tmp_path / "dataset.yaml"
    path.write_text("name: x\nurls:\n" + "".join(f"  - https://e.com/{i}\n" for i in range(5)))
    assert len(read_dataset_descriptor(path)[0].urls) == 5
    monkeypatch.setattr(limits, "MAX_DESCRIPTOR_URLS", 2)
    assert read_dataset_descriptor(path)[0].urls == ("https://e.com/0", "https://e.com/1")


# --- lineage records ------------------------------------------------------------------------


def test_max_metrics_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.sources.lineage.metrics import read_metrics_file

    path = _seed_file(tmp_path, "metrics")
    assert read_metrics_file(path, "metrics.json")
    monkeypatch.setattr(limits, "MAX_METRICS_FILE", 10)
    with pytest.raises(LimitExceeded, match="larger than 10 bytes"):
        read_metrics_file(path, "metrics.json")


def test_max_metrics(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.sources.lineage.metrics import read_metrics_file

    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({f"m{i}": i / 10 for i in range(5)}))
    assert len(read_metrics_file(path, "metrics.json")) == 5
    monkeypatch.setattr(limits, "MAX_METRICS", 2)
    with pytest.raises(LimitExceeded, match="more than 2 metrics in one file"):
        read_metrics_file(path, "metrics.json")


def test_max_dvc_stages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.sources.lineage.dvc import read_dvc

    targets.write_tree(tmp_path, targets.DVC_TREE)
    files = sorted(targets.DVC_TREE)
    assert len(read_dvc(tmp_path, files).stages) >= 7
    monkeypatch.setattr(limits, "MAX_DVC_STAGES", 3)
    result = read_dvc(tmp_path, files)
    messages = [p.message for p in result.problems]
    assert any("matrix larger than 3" in m or "more than 3 stages" in m for m in messages)
    assert len(result.stages) <= 3


def _mlflow_runs(root: Path, n: int, metric_lines: int = 2) -> list[str]:
    files = {"mlruns/1/meta.yaml": "experiment_id: '1'\nname: e\n"}
    for i in range(n):
        run = f"{i:032x}"
        files[f"mlruns/1/{run}/meta.yaml"] = (
            f"run_id: {run}\nexperiment_id: '1'\nlifecycle_stage: active\nstart_time: 1\n"
        )
        files[f"mlruns/1/{run}/params/alpha"] = "0.5"
        files[f"mlruns/1/{run}/metrics/rmse"] = "".join(
            f"{1000 + j} 0.{j} {j}\n" for j in range(metric_lines)
        )
    targets.write_tree(root, {k: v.encode() for k, v in files.items()})
    return sorted(files)


def test_max_mlflow_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.sources.lineage.mlflow import read_mlflow

    files = _mlflow_runs(tmp_path, 3)
    assert len(read_mlflow(tmp_path, files).stages) == 3
    monkeypatch.setattr(limits, "MAX_MLFLOW_RUNS", 2)
    result = read_mlflow(tmp_path, files)
    assert len(result.stages) == 2
    assert any("more than 2 MLflow runs" in p.message for p in result.problems)


def test_max_mlflow_metric_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.sources.lineage.mlflow import read_mlflow

    files = _mlflow_runs(tmp_path, 1, metric_lines=5)
    result = read_mlflow(tmp_path, files)
    assert [m.value for s in result.metrics for m in s.metrics] == ["0.4"]
    monkeypatch.setattr(limits, "MAX_MLFLOW_METRIC_LINES", 3)
    result = read_mlflow(tmp_path, files)
    assert not [m for s in result.metrics for m in s.metrics]
    assert any("more than 3 points" in p.message for p in result.problems)


def test_max_md5_verify_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    from unified_supply_chain.inspection.scan import scan
    from unified_supply_chain.options import ScanOptions

    content = b"a,b\n1,2\n"
    md5 = hashlib.md5(content, usedforsecurity=False).hexdigest()
    targets.write_tree(
        tmp_path,
        {
            "data/train.csv": content,
            "data/train.csv.dvc": f"outs:\n- md5: {md5}\n  size: 8\n  path: train.csv\n".encode(),
        },
    )

    def computed_md5() -> list[str]:
        result = scan(ScanOptions(root=tmp_path, jobs=1))
        (data,) = [a for a in result.inventory.artifacts if a.path == "data/train.csv"]
        return [h.content for h in data.hashes if h.alg == "MD5" and h.source == "computed"]

    assert computed_md5() == [md5]  # the record's digest is checked against the content
    monkeypatch.setattr(limits, "MAX_MD5_VERIFY_BYTES", len(content) - 1)
    assert computed_md5() == []  # over the cap: not re-digested


# --- merge inputs ---------------------------------------------------------------------------


def test_max_merge_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _seed_file(tmp_path, "merge")
    run = targets.TARGETS["merge"].run
    assert run(tmp_path, path.name)
    monkeypatch.setattr(limits, "MAX_MERGE_BYTES", 100)
    with pytest.raises(MergeError, match="larger than 100 bytes"):
        run(tmp_path, path.name)


def test_max_merge_components(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _seed_file(tmp_path, "merge")
    run = targets.TARGETS["merge"].run
    monkeypatch.setattr(limits, "MAX_MERGE_COMPONENTS", 1)
    with pytest.raises(MergeError, match="more than 1 components"):
        run(tmp_path, path.name)


# --- reporting ------------------------------------------------------------------------------


def test_max_problems_per_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.inspection.scan import scan
    from unified_supply_chain.options import ScanOptions

    targets.write_tree(tmp_path, {"environment.yml": b"dependencies:\n" + b"- [x]\n" * 30})
    monkeypatch.setattr(limits, "MAX_PROBLEMS_PER_FILE", 5)
    problems = [
        p
        for p in scan(ScanOptions(root=tmp_path)).inventory.problems
        if p.path == "environment.yml"
    ]
    assert len(problems) == 6
    assert problems[-1].message == "25 more problems not shown"


# --- archives -------------------------------------------------------------------------------


def test_max_archive_depth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fuzz.archive_seeds import zip_bytes
    from unified_supply_chain.safety.scan import scan_file

    data = zip_bytes({"data.pkl": pickle.dumps(1, protocol=2)})
    for level in range(3):
        data = zip_bytes({f"level{level}.zip": data})
    path = tmp_path / "deep.zip"
    path.write_bytes(data)
    assert scan_file(path, "deep.zip", "zip") == []
    monkeypatch.setattr(limits, "MAX_ARCHIVE_DEPTH", 2)
    findings = scan_file(path, "deep.zip", "zip")
    assert [f.message for f in findings] == ["could not be verified safe: nested more than 2 deep"]


def test_max_archive_probes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fuzz.archive_seeds import zip_bytes
    from unified_supply_chain.formats.archives import read_zip_archive

    members = {f"f{i}.txt": b"x" for i in range(3)}
    members["renamed.bin"] = pickle.dumps({"a": 1}, protocol=2)
    path = tmp_path / "a.zip"
    path.write_bytes(zip_bytes(members))
    assert read_zip_archive(path).properties["archive.model_members"] == "1"
    # Members past the probe cap are judged by their names only.
    monkeypatch.setattr(limits, "MAX_ARCHIVE_PROBES", 3)
    assert read_zip_archive(path).properties["archive.model_members"] == "0"


# --- classic ML model files ---------------------------------------------------------------


def test_max_lightgbm_header(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.lightgbm import read_lightgbm

    path = _seed_file(tmp_path, "lightgbm")
    assert read_lightgbm(path).properties["tree_count"] == "2"
    monkeypatch.setattr(limits, "MAX_LIGHTGBM_HEADER", 100)
    with pytest.raises(LimitExceeded, match="header longer than 100 bytes"):
        read_lightgbm(path)


def test_max_lightgbm_tail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.lightgbm import read_lightgbm

    path = _seed_file(tmp_path, "lightgbm")
    assert "lightgbm.param.boosting" in read_lightgbm(path).properties
    # The parameters section is only looked for within the tail: a short tail misses it.
    monkeypatch.setattr(limits, "MAX_LIGHTGBM_TAIL", 64)
    assert "lightgbm.param.boosting" not in read_lightgbm(path).properties


def test_max_tree_count_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.lightgbm import read_lightgbm

    path = _seed_file(tmp_path, "lightgbm")
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join(line for line in lines if not line.startswith(b"tree_sizes=")))
    assert read_lightgbm(path).properties["tree_count"] == "2"
    monkeypatch.setattr(limits, "MAX_TREE_COUNT_SCAN", 100)
    assert "tree_count" not in read_lightgbm(path).properties


def test_max_pmml_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.pmml import read_pmml

    path = _seed_file(tmp_path, "pmml")
    assert read_pmml(path).properties["pmml.version"] == "4.4"
    monkeypatch.setattr(limits, "MAX_PMML_BYTES", 100)
    with pytest.raises(LimitExceeded, match="larger than 100 bytes"):
        read_pmml(path)


def test_max_catboost_core(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.formats.catboost import read_catboost

    path = _seed_file(tmp_path, "catboost")
    assert "tree_count" in read_catboost(path).properties
    monkeypatch.setattr(limits, "MAX_CATBOOST_CORE", 100)
    assert read_catboost(path).properties["core_parsed"] == "false"


def test_max_archive_inflate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fuzz.archive_seeds import tar_bytes
    from unified_supply_chain.formats.archives import read_tar_archive
    from unified_supply_chain.safety.scan import scan_file

    path = tmp_path / "big.tar.gz"
    path.write_bytes(tar_bytes({"zeros.bin": b"\0" * 200_000}, "w:gz"))
    assert read_tar_archive(path).properties["archive.members"] == "1"
    monkeypatch.setattr(limits, "MAX_ARCHIVE_INFLATE", 50_000)
    with pytest.raises(LimitExceeded, match="inflates past 50000 bytes"):
        read_tar_archive(path)
    findings = scan_file(path, "big.tar.gz", "tar")
    assert [f.severity.value for f in findings] == ["high"]


# --- training logs (sources/lineage/training_logs/): TFRecord walk, Lightning metrics.csv ---
# TFRecord framing: tensorflow/tensorboard tensorboard/summary/writer/record_writer.py.


def _session_event() -> bytes:
    from tests.builders.training_logs import session_start_event

    return session_start_event({"lr": 0.5})


_SESSION = _session_event()


def test_max_tfevents_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.builders.training_logs import file_version_event, tfrecord
    from unified_supply_chain.sources.lineage.training_logs.tfevents import read_hparams_session

    path = tmp_path / "events.out.tfevents.1.h.1.0"
    path.write_bytes(tfrecord(file_version_event(), _SESSION))
    assert read_hparams_session(path) is not None
    monkeypatch.setattr(limits, "MAX_TFEVENTS_RECORD", len(_SESSION) - 1)
    assert read_hparams_session(path) is None  # seeked over, never parsed


def test_max_tfevents_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_TFEVENTS_RECORDS", 2)
    from tests.builders.training_logs import file_version_event, tfrecord
    from unified_supply_chain.sources.lineage.training_logs.tfevents import read_hparams_session

    path = tmp_path / "events.out.tfevents.1.h.1.0"
    path.write_bytes(tfrecord(*(file_version_event() for _ in range(3)), _SESSION))
    with pytest.raises(FormatError, match="not read to its end"):
        read_hparams_session(path)


def test_max_log_metric_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_supply_chain.sources.lineage.training_logs.lightning import read_metrics_csv
    from unified_supply_chain.sources.lineage.training_logs.state import Collector

    (tmp_path / "m.csv").write_text("epoch,step,loss,acc\n0,1,0.9,\n0,1,,0.5\n1,2,0.4,nan\n")
    out = Collector(root=tmp_path, files=frozenset({"m.csv"}))
    metrics = {m.type: m.value for m in read_metrics_csv(out, "m.csv")}
    assert metrics == {"loss": "0.4", "acc": "0.5"}  # nan is no result; step/epoch index rows
    monkeypatch.setattr(limits, "MAX_LOG_METRIC_ROWS", 1)
    metrics = {m.type: m.value for m in read_metrics_csv(out, "m.csv")}
    assert metrics == {"loss": "0.9"}
    assert "more than 1 rows" in out.problems[0].message


def test_max_tfevents_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.builders.training_logs import file_version_event, tfrecord
    from unified_supply_chain.sources.lineage.training_logs.tfevents import read_hparams_session

    path = tmp_path / "events.out.tfevents.1.h.1.0"
    path.write_bytes(tfrecord(file_version_event(), _SESSION))
    assert read_hparams_session(path) is not None
    monkeypatch.setattr(limits, "MAX_TFEVENTS_BYTES", len(file_version_event()) + 1)
    with pytest.raises(FormatError, match="bytes of records"):
        read_hparams_session(path)


def test_max_training_log_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.builders.training_logs import tfrecord
    from unified_supply_chain.sources.lineage.training_logs import read_training_logs

    files = [f"runs/{i}/events.out.tfevents.1.h.1.0" for i in range(3)]
    for rel in files:
        (tmp_path / rel).parent.mkdir(parents=True)
        (tmp_path / rel).write_bytes(tfrecord(_SESSION))
    assert len(read_training_logs(tmp_path, files).artifacts) == 3
    monkeypatch.setattr(limits, "MAX_TRAINING_LOG_RUNS", 2)
    contribution = read_training_logs(tmp_path, files)
    assert len(contribution.artifacts) == 2
    assert "more than 2 event files" in contribution.problems[0].message


def test_max_mlflow_logged_models_and_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.builders.mlflow3 import Logged, write_store
    from unified_supply_chain.sources.lineage.mlflow import read_mlflow

    ids = [f"m-{i:032x}" for i in range(3)]
    write_store(
        tmp_path,
        [
            Logged(m, f"model-{i}", None, metrics={"acc": ["1 0.1 0", "2 0.2 1"]})
            for i, m in enumerate(ids)
        ],
    )
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    monkeypatch.setattr(limits, "MAX_MLFLOW_RUNS", 2)
    result = read_mlflow(tmp_path, files)
    logged = [d for d in result.declared if d.source.endswith("/meta.yaml")]
    assert [d.name for d in logged] == ["model-0", "model-1"]
    assert any("more than 2 logged models" in p.message for p in result.problems)
    monkeypatch.setattr(limits, "MAX_MLFLOW_METRIC_LINES", 1)
    result = read_mlflow(tmp_path, files)
    assert not [m for s in result.metrics for m in s.metrics]  # cut histories give no value
    assert any("more than 1 points" in p.message for p in result.problems)
