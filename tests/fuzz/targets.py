"""Fuzz targets shared by the bounded hypothesis tests (tests/fuzz/) and the long fuzz mode
(scripts/fuzz.py): for every reader, valid seed files built here and a call of the reader.

A target's seeds are small repository trees (relative path -> bytes) with one file marked for
mutation; `mutate` corrupts that file (byte flips, truncations, huge length fields, insertions,
spliced copies) and `run_target` writes the tree and calls the reader. The contract under test:
a reader returns, or raises `FormatError` (LimitExceeded included); nothing else escapes, and it
returns quickly.
"""

from __future__ import annotations

import copy
import datetime
import functools
import gzip
import io
import json
import lzma
import os
import pickle
import shutil
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tests.fuzz import archive_seeds
from unified_supply_chain.errors import FormatError, MergeError

# --- mutation ------------------------------------------------------------------------------


class Chooser(Protocol):
    """Picks an integer in [lo, hi]: hypothesis draws in the suite, a PRNG in the long mode."""

    def __call__(self, lo: int, hi: int) -> int: ...


#: Values that break length fields: zero, one, sign boundaries, all ones.
HUGE = (
    0,
    1,
    0x7F,
    0x80,
    0xFFFF,
    0x7FFFFFFF,
    0x80000000,
    0xFFFFFFFF,
    2**32,
    2**62,
    2**63,
    2**64 - 1,
)
#: Protobuf varints of huge values (a length, a field number, a 10-byte overlong varint).
VARINTS = (b"\xff\xff\xff\xff\x0f", b"\xff" * 9 + b"\x01", b"\x80" * 11, b"\xff\xff\xff\x7f")
#: Text fragments that break parsers: brackets, quotes, YAML anchors and tags, NUL, bad UTF-8.
TOKENS = (
    b"{",
    b"}",
    b"[",
    b"]",
    b'"',
    b"'",
    b"\x00",
    b"\xff\xfe",
    b"\xc3",
    b"&a ",
    b"*a",
    b"<<: *a\n",
    b"\n",
    b"- ",
    b": ",
    b"---\n",
    b"${",
    b"${item}",
    b"\\",
    b"9" * 400,
    b"1e999999",
    b"-0",
    b"!!python/object/apply:os.system ['x']",
    b"!!binary ",
    b"[" * 300,
    b"{" * 300,
    b"\t",
    b"#",
    b"..",
    b"../../..",
    b"/etc/passwd",
    b"\r",
    b"= ",
    b"@",
    b"==",
    b"git+https://user:pass@h/x",
)


def mutate(data: bytes, choose: Chooser, max_ops: int = 4) -> bytes:
    """Apply 1..max_ops random corruptions to `data`."""
    buf = bytearray(data)
    for _ in range(choose(1, max_ops)):
        n = len(buf)
        op = choose(0, 9)
        pos = choose(0, n) if n else 0
        at = min(pos, n - 1)
        if op == 0 and n:
            buf[at] ^= choose(1, 255)
        elif op == 1 and n:
            buf[at] = (0, 1, 0x7F, 0x80, 0xFF)[choose(0, 4)]
        elif op == 2:
            del buf[pos:]
        elif op == 3:
            buf[pos:pos] = bytes(choose(0, 255) for _ in range(choose(1, 8)))
        elif op == 4:
            del buf[pos : pos + choose(1, 64)]
        elif op in (5, 6):
            width = (2, 4, 8)[choose(0, 2)]
            value = HUGE[choose(0, len(HUGE) - 1)] & ((1 << (8 * width)) - 1)
            word = value.to_bytes(width, "little" if op == 5 else "big")
            buf[pos : pos + width] = word
        elif op == 7:
            varint = VARINTS[choose(0, len(VARINTS) - 1)]
            buf[pos : pos + len(varint)] = varint
        elif op == 8:
            buf[pos:pos] = TOKENS[choose(0, len(TOKENS) - 1)]
        elif op == 9 and n:
            start = choose(0, n - 1)
            buf[pos:pos] = buf[start : start + choose(1, 256)]
    return bytes(buf)


#: Values swapped into parsed JSON/YAML documents: the types and shapes readers do not expect.
ODD_VALUES: tuple[object, ...] = (
    None,
    0,
    -1,
    2**70,
    1e308,
    True,
    "",
    "x" * 5000,
    "../../../etc/passwd",
    "/abs/path",
    "${undefined.var}",
    "https://user:pw@example.com/x?token=t",
    [],
    {},
    [None, 1, "a"],
    {"a": None},
    {"1": [{"2": [{"3": {}}]}]},
    [[[[[[[[]]]]]]]],
    datetime.date(2020, 1, 1),
    b"\x00\xff bytes",
)


def _containers(node: object, out: list[tuple[Any, Any]], depth: int = 0) -> None:
    if depth > 50 or len(out) > 10_000:
        return
    if isinstance(node, dict):
        for key in list(node):
            out.append((node, key))
            _containers(node[key], out, depth + 1)
    elif isinstance(node, list):
        for index in range(len(node)):
            out.append((node, index))
            _containers(node[index], out, depth + 1)


def mutate_structure(data: bytes, choose: Chooser, max_ops: int = 3) -> bytes | None:
    """Parse `data` as JSON, YAML or a markdown file with YAML front matter, replace 1..max_ops
    values (or keys) with odd ones, and write it back the same way; None when it does not parse.
    """
    import yaml

    front, body = b"", b""
    text = data
    if data.startswith(b"---\n") and b"\n---" in data[4:]:
        end = data.index(b"\n---", 4)
        front, text, body = b"---\n", data[4 : end + 1], data[end + 1 :]
    kind = "json"
    try:
        doc: Any = json.loads(text)
    except (ValueError, RecursionError):
        kind = "yaml"
        try:
            doc = yaml.safe_load(text)
        except (yaml.YAMLError, RecursionError, ValueError, TypeError):
            return None  # not a document this mutation can work on (deep, broken, odd tags)
    if not isinstance(doc, (dict, list)):
        return None
    for _ in range(choose(1, max_ops)):
        slots: list[tuple[Any, Any]] = []
        _containers(doc, slots)
        if not slots:
            break
        container, key = slots[choose(0, len(slots) - 1)]
        odd = copy.deepcopy(ODD_VALUES[choose(0, len(ODD_VALUES) - 1)])  # the pool stays intact
        if isinstance(container, dict) and choose(0, 3) == 0:
            # A key of another type: YAML allows any scalar (and JSON writes it as text).
            new_key = (1, None, True, 2.5, "")[choose(0, 4)]
            container[new_key] = container.pop(key)
        else:
            container[key] = odd
    try:
        if kind == "json":
            out = json.dumps(doc, default=str).encode()
        else:
            out = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True).encode()
    except (yaml.YAMLError, RecursionError, ValueError, TypeError):
        return None
    return front + out + body


# --- targets -------------------------------------------------------------------------------

Tree = dict[str, bytes]


@dataclass(frozen=True)
class Seed:
    """One valid repository tree and the file in it that is mutated."""

    tree: Tree
    """Relative path -> content."""
    victim: str
    """The path whose bytes are corrupted."""


@dataclass(frozen=True)
class Target:
    """A reader under fuzz."""

    name: str
    """Short id (used in test ids and by scripts/fuzz.py --target)."""
    seeds: Callable[[], list[Seed]]
    """Valid inputs (built once, cached)."""
    run: Callable[[Path, str], object]
    """Call the reader on (root, victim path)."""
    formats: tuple[str, ...] = ()
    """Registry format ids whose reading this target exercises (see tests/unit/test_registry.py)."""
    allowed: tuple[type[BaseException], ...] = (FormatError,)
    """Exceptions the reader may raise for bad input."""


def write_tree(root: Path, tree: Tree) -> None:
    """Materialise a tree under `root`."""
    for rel, data in tree.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def run_target(target: Target, seed: Seed, data: bytes) -> object:
    """Write `seed` with its victim replaced by `data` into a fresh directory and run the reader.

    Returns what the reader returned, or the allowed exception it raised; anything else
    propagates (that is a reader bug).
    """
    root = Path(tempfile.mkdtemp(prefix="usc-fuzz-", dir=FAST_TMP))
    try:
        write_tree(root, {**seed.tree, seed.victim: data})
        try:
            return target.run(root, seed.victim)
        except target.allowed as exc:
            return exc
    finally:
        shutil.rmtree(root, ignore_errors=True)


#: A file is written per example: on tmpfs that is many times faster than on disk.
FAST_TMP = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


# --- seed builders -------------------------------------------------------------------------


def _safetensors_seeds() -> list[Seed]:
    import numpy as np
    from safetensors.numpy import save

    data = save(
        {"w": np.ones((2, 3), dtype=np.float32), "b": np.zeros((3,), dtype=np.float16)},
        metadata={"format": "pt", "license": "mit"},
    )
    return [Seed({"m.safetensors": data}, "m.safetensors")]


def _gguf_seeds() -> list[Seed]:
    import gguf
    import numpy as np

    path = Path(tempfile.mkdtemp(prefix="usc-seed-")) / "m.gguf"
    try:
        writer = gguf.GGUFWriter(str(path), "llama")
        writer.add_name("tiny")
        writer.add_context_length(64)
        writer.add_license("apache-2.0")
        writer.add_token_list(["a", "b", "c"])
        writer.add_chat_template("{{ messages }}")
        writer.add_tensor("w", np.ones((2, 4), dtype=np.float32))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        data = path.read_bytes()
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)
    return [Seed({"m.gguf": data}, "m.gguf")]


def _onnx_seeds() -> list[Seed]:
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.ones((2, 2), dtype=np.float32), name="W")
    node = helper.make_node("MatMul", ["X", "W"], ["Y"], name="mm")
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 2])],
        [weight],
    )
    model = helper.make_model(
        graph, producer_name="fuzz", opset_imports=[helper.make_opsetid("", 17)]
    )
    model.metadata_props.add(key="license", value="mit")
    return [Seed({"m.onnx": model.SerializeToString()}, "m.onnx")]


def _coreml_seeds() -> list[Seed]:
    # Model.proto (apple/coremltools mlmodel/format): specificationVersion = 1, description = 2
    # (input = 1, output = 10, metadata = 100), neuralNetwork = 500 (layers = 1), mlProgram = 502.
    feature = _len_field(1, b"x") + _len_field(3, _len_field(5, _varint(1 << 3) + _varint(4)))
    metadata = _len_field(3, b"alice") + _len_field(4, b"MIT")
    metadata += _len_field(
        100, _len_field(1, b"com.github.apple.coremltools.version") + _len_field(2, b"9.0")
    )
    description = (
        _len_field(1, feature) + _len_field(10, _len_field(1, b"y")) + _len_field(100, metadata)
    )
    layer = _len_field(1, b"fc") + _len_field(2, b"x") + _len_field(3, b"y")
    network = _varint(1 << 3) + _varint(4) + _len_field(2, description)
    network += _len_field(500, _len_field(1, layer) + _len_field(1, layer))
    program = _varint(1 << 3) + _varint(6) + _len_field(2, description)
    program += _len_field(502, _varint(1 << 3) + _varint(1) + _len_field(2, _len_field(1, b"main")))
    inner = "p.mlpackage/Data/com.apple.CoreML/model.mlmodel"
    return [
        Seed({"m.mlmodel": network}, "m.mlmodel"),
        Seed({inner: program, "p.mlpackage/Manifest.json": b"{}"}, inner),
    ]


def msgpack_pack(obj: Any) -> bytes:
    """msgpack bytes of `obj` (msgpack/msgpack spec.md), with NumPy arrays, NumPy scalars and
    complex numbers as the extensions of flax.serialization (google/flax flax/serialization.py:
    code 1 ndarray and 3 scalar, both packb((shape, dtype.name, tobytes)); code 2 (real, imag)).
    """
    import numpy as np

    def sized(small: int | None, codes: tuple[int, int, int], n: int) -> bytes:
        if small is not None and n < (32 if small == 0xA0 else 16):  # fixstr holds 31 bytes
            return bytes([small + n])
        widths = (">B", ">H", ">I")
        for code, fmt, top in zip(codes, widths, (0xFF, 0xFFFF, 0xFFFFFFFF), strict=True):
            if code and n <= top:
                return bytes([code]) + struct.pack(fmt, n)
        raise ValueError(n)

    def ext(code: int, payload: bytes) -> bytes:
        fixed = {1: 0xD4, 2: 0xD5, 4: 0xD6, 8: 0xD7, 16: 0xD8}
        head = (
            bytes([fixed[len(payload)]])
            if len(payload) in fixed
            else sized(None, (0xC7, 0xC8, 0xC9), len(payload))
        )
        return head + struct.pack(">b", code) + payload

    if obj is None:
        return b"\xc0"
    if isinstance(obj, bool):
        return b"\xc3" if obj else b"\xc2"
    if isinstance(obj, int):
        if 0 <= obj <= 0x7F or -32 <= obj < 0:
            return struct.pack(">b" if obj < 0 else ">B", obj)
        return b"\xcf" + struct.pack(">Q", obj) if obj >= 0 else b"\xd3" + struct.pack(">q", obj)
    if isinstance(obj, float):
        return b"\xcb" + struct.pack(">d", obj)
    if isinstance(obj, complex):
        return ext(2, msgpack_pack((obj.real, obj.imag)))
    if isinstance(obj, str):
        raw = obj.encode()
        return sized(0xA0, (0xD9, 0xDA, 0xDB), len(raw)) + raw
    if isinstance(obj, bytes):
        return sized(None, (0xC4, 0xC5, 0xC6), len(obj)) + obj
    if isinstance(obj, (np.ndarray, np.generic)):
        arr = np.asarray(obj)
        inner = msgpack_pack((list(arr.shape), arr.dtype.name, arr.tobytes("C")))
        return ext(1 if isinstance(obj, np.ndarray) else 3, inner)
    if isinstance(obj, (list, tuple)):
        return sized(0x90, (0, 0xDC, 0xDD), len(obj)) + b"".join(msgpack_pack(x) for x in obj)
    if isinstance(obj, dict):
        body = b"".join(msgpack_pack(k) + msgpack_pack(v) for k, v in obj.items())
        return sized(0x80, (0, 0xDE, 0xDF), len(obj)) + body
    raise TypeError(type(obj))


def _flax_seeds() -> list[Seed]:
    import numpy as np

    params = {
        "params": {
            "Dense_0": {"kernel": np.ones((4, 3), np.float32), "bias": np.zeros(3, np.float32)},
            "Embed_0": {"embedding": np.ones((5, 2), np.float16)},
        },
        "batch_stats": {"mean": np.zeros(3, np.float32)},
        "step": np.int64(7),
    }
    return [Seed({"flax_model.msgpack": msgpack_pack(params)}, "flax_model.msgpack")]


def _pte_seeds() -> list[Seed]:
    from tests.builders import executorch

    plans = [executorch.ExecutionPlan("forward"), executorch.ExecutionPlan("encode")]
    return [Seed({"model.pte": executorch.build(executorch.PteProgram(plans=plans))}, "model.pte")]


def openvino_xml(name: str = "tiny", version: int = 11) -> bytes:
    """An OpenVINO IR network (OpenVINO docs, "OpenVINO IR format": <net>, <layers> of
    <layer id name type version>, <data>, <input>/<output> ports, <edges>): x -> MatMul(W) -> y."""
    return f"""<?xml version="1.0"?>
<net name="{name}" version="{version}">
    <layers>
        <layer id="0" name="x" type="Parameter" version="opset1">
            <data shape="1,4" element_type="f32"/>
            <output><port id="0" precision="FP32"><dim>1</dim><dim>4</dim></port></output>
        </layer>
        <layer id="1" name="W" type="Const" version="opset1">
            <data element_type="f32" shape="4,4" offset="0" size="64"/>
            <output><port id="0" precision="FP32"><dim>4</dim><dim>4</dim></port></output>
        </layer>
        <layer id="2" name="mm" type="MatMul" version="opset1">
            <input><port id="0"/><port id="1"/></input>
            <output><port id="2" precision="FP32"/></output>
        </layer>
        <layer id="3" name="y" type="Result" version="opset1">
            <input><port id="0"/></input>
        </layer>
    </layers>
    <edges>
        <edge from-layer="0" from-port="0" to-layer="2" to-port="0"/>
        <edge from-layer="1" from-port="0" to-layer="2" to-port="1"/>
        <edge from-layer="2" from-port="2" to-layer="3" to-port="0"/>
    </edges>
    <rt_info><MO_version value="2024.0"/></rt_info>
</net>
""".encode()


def _paddle_seeds() -> list[Seed]:
    from tests.builders import paddle

    program = paddle.build(paddle.PaddleProgram(sub_blocks=1))
    tree = {"models/inference.pdmodel": program, "models/inference.pdiparams": b"\0" * 96}
    return [Seed(tree, "models/inference.pdmodel")]


def _openvino_seeds() -> list[Seed]:
    return [Seed({"ir/model.xml": openvino_xml(), "ir/model.bin": b"\0" * 64}, "ir/model.xml")]


def _lfs_seeds() -> list[Seed]:
    text = (
        "version https://git-lfs.github.com/spec/v1\noid sha256:" + "ab" * 32 + "\nsize 12345\n"
    ).encode()
    return [Seed({"m.bin": text}, "m.bin")]


# Pickle opcodes written by hand, so seeds can name globals of libraries that are not installed
# (torch, sklearn, joblib) without importing or ever loading anything.
def _u(text: str) -> bytes:
    raw = text.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def _g(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def _i(value: int) -> bytes:
    return b"K" + bytes([value]) if value < 256 else b"J" + struct.pack("<i", value)


def torch_state_pickle() -> bytes:
    """A protocol-2 pickle shaped like torch.save's state dict (persistent storage ids)."""
    body = b"\x80\x02}("
    for i, (key, shape) in enumerate((("fc.weight", (3, 4)), ("fc.bias", (3,)))):
        numel = 1
        for d in shape:
            numel *= d
        storage = b"(" + _u("storage") + _g("torch", "FloatStorage") + _u(str(i)) + _u("cpu")
        storage += _i(numel) + b"tQ"
        shape_t = b"(" + b"".join(_i(d) for d in shape) + b"t"
        stride_t = b"(" + b"".join(_i(1) for _ in shape) + b"t"
        od = _g("collections", "OrderedDict") + b")R"
        args = b"(" + storage + _i(0) + shape_t + stride_t + b"\x89" + od + b"t"
        body += _u(key) + _g("torch._utils", "_rebuild_tensor_v2") + args + b"R"
    return body + b"u."


def _sklearn_pickle(protocol: int) -> bytes:
    state = pickle.dumps({"C": 1.0, "coef_": [[0.5, 0.25]], "classes_": ["a", "b"]}, protocol)
    # GLOBAL cls, EMPTY_TUPLE, NEWOBJ, then the state dict (without its PROTO/STOP), BUILD.
    inner = state[2:-1] if state[:1] == b"\x80" else state[:-1]
    if protocol >= 4 and inner[:1] == b"\x95":
        inner = inner[9:]  # drop the FRAME header
    head = b"\x80" + bytes([protocol])
    return (
        head + _g("sklearn.linear_model._logistic", "LogisticRegression") + b")\x81" + inner + b"b."
    )


def _joblib_pickle() -> bytes:
    wrapper = _g("joblib.numpy_pickle", "NumpyArrayWrapper") + b")\x81}("
    wrapper += _u("subclass") + _g("numpy", "ndarray") + _u("shape") + b"(K\x04t"
    wrapper += _u("order") + _u("C") + _u("dtype") + _g("numpy", "dtype") + _u("f8")
    wrapper += b"\x89\x88\x87R" + _u("allow_mmap") + b"\x88ub"
    return b"\x80\x04" + wrapper + b"." + b"\0" * 32


def _pickle_seeds() -> list[Seed]:
    plain = pickle.dumps({"a": [1, 2.5, "x", None, True], "b": (b"raw", {"c": 3})}, protocol=4)
    seeds = [
        Seed({"m.pkl": plain}, "m.pkl"),
        Seed({"m.pkl": _sklearn_pickle(2)}, "m.pkl"),
        Seed({"m.pkl": _sklearn_pickle(5)}, "m.pkl"),
        Seed({"m.pkl": pickle.dumps([1, "two", 3.0], protocol=0)}, "m.pkl"),
    ]
    return seeds


def _joblib_seeds() -> list[Seed]:
    raw = _joblib_pickle()
    return [
        Seed({"m.joblib": raw}, "m.joblib"),
        Seed({"m.joblib": zlib.compress(raw)}, "m.joblib"),
        Seed({"m.joblib": gzip.compress(raw, mtime=0)}, "m.joblib"),
        Seed({"m.joblib": lzma.compress(raw)}, "m.joblib"),
    ]


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _pytorch_seeds() -> list[Seed]:
    members = {
        "model/data.pkl": torch_state_pickle(),
        "model/byteorder": b"little",
        "model/data/0": b"\0" * 48,
        "model/data/1": b"\0" * 12,
        "model/version": b"3\n",
    }
    return [
        Seed({"m.pt": _zip(members)}, "m.pt"),
        Seed({"m.pt": _zip(members, zipfile.ZIP_DEFLATED)}, "m.pt"),
    ]


def _pytorch_legacy_seeds() -> list[Seed]:
    magic = 0x1950A86A20F9469CFC6C
    data = b"".join(
        (
            pickle.dumps(magic, protocol=2),
            pickle.dumps(1001, protocol=2),
            pickle.dumps({"protocol_version": 1001, "little_endian": True}, protocol=2),
            torch_state_pickle(),
            pickle.dumps(["0", "1"], protocol=2),
            b"\0" * 64,
        )
    )
    return [Seed({"m.pt": data}, "m.pt")]


def _npy_bytes(array: Any) -> bytes:
    import numpy as np

    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def _npy_seeds() -> list[Seed]:
    import numpy as np

    structured = np.zeros(3, dtype=[("x", "<f4"), ("y", "<i8", (2,))])
    return [
        Seed({"m.npy": _npy_bytes(np.arange(12, dtype=np.float32).reshape(3, 4))}, "m.npy"),
        Seed({"m.npy": _npy_bytes(structured)}, "m.npy"),
    ]


def _npz_seeds() -> list[Seed]:
    import numpy as np

    arrays = {"x": np.arange(6, dtype=np.int32), "y": np.ones((2, 2), dtype=np.float64)}
    plain = io.BytesIO()
    np.savez(plain, **arrays)
    packed = io.BytesIO()
    np.savez_compressed(packed, **arrays)
    return [
        Seed({"m.npz": plain.getvalue()}, "m.npz"),
        Seed({"m.npz": packed.getvalue()}, "m.npz"),
    ]


HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def keras_config() -> dict[str, Any]:
    """A small Keras functional-model config with a Lambda layer."""

    def layer(cls: str, name: str, **config: Any) -> dict[str, Any]:
        return {"module": "keras.layers", "class_name": cls, "config": {"name": name, **config}}

    return {
        "module": "keras",
        "class_name": "Sequential",
        "config": {
            "name": "clf",
            "layers": [
                layer("InputLayer", "in", batch_shape=[None, 4]),
                layer("Dense", "d1", units=8),
                layer("Lambda", "scale", function={"class_name": "__lambda__", "config": {}}),
            ],
        },
    }


def _keras_seeds() -> list[Seed]:
    members = {
        "metadata.json": json.dumps({"keras_version": "3.6.0"}).encode(),
        "config.json": json.dumps(keras_config()).encode(),
        "model.weights.h5": HDF5_SIGNATURE + b"\0" * 56,
    }
    return [
        Seed({"m.keras": _zip(members, zipfile.ZIP_DEFLATED)}, "m.keras"),
        Seed({"m.keras": _zip(members)}, "m.keras"),
    ]


def keras_h5(config: Any, *, userblock: int = 0, libver: str = "earliest") -> bytes:
    """A legacy Keras `.h5` file written by h5py: root attributes as `keras.Model.save` sets
    them (keras_version, backend, model_config as JSON bytes), and one weight dataset."""
    import h5py
    import numpy as np

    buf = io.BytesIO()
    with h5py.File(buf, "w", userblock_size=userblock, libver=libver) as f:
        f.attrs["keras_version"] = b"2.15.0"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps(config).encode()
        f.create_dataset("model_weights/dense/kernel", data=np.ones((4, 3), np.float32))
    return buf.getvalue()


def _hdf5_seeds() -> list[Seed]:
    return [
        Seed({"m.h5": keras_h5(keras_config())}, "m.h5"),
        Seed({"m.h5": keras_h5(keras_config(), userblock=512, libver="latest")}, "m.h5"),
    ]


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _len_field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _savedmodel_seeds() -> list[Seed]:
    info = _len_field(1, b"v2") + _len_field(4, b"serve") + _len_field(5, b"2.16.1")
    graph = _len_field(1, b"\x0a\x05const" * 20)
    sig = _len_field(5, _len_field(1, b"serving_default") + _len_field(2, _len_field(3, b"p")))
    meta = _len_field(1, info) + _len_field(2, graph) + sig
    pb = _varint(1 << 3) + _varint(1) + _len_field(2, meta)
    pbtxt = (
        b'saved_model_schema_version: 1\nmeta_graphs {\n  meta_info_def {\n    tags: "serve"\n'
        b'    tensorflow_version: "2.16.1"\n  }\n  signature_def {\n    key: "serving_default"\n'
        b"  }\n}\n"
    )
    return [
        Seed({"m/saved_model.pb": pb, "m/variables/variables.index": b"x"}, "m/saved_model.pb"),
        Seed({"m/saved_model.pbtxt": pbtxt}, "m/saved_model.pbtxt"),
    ]


def _csv_seeds() -> list[Seed]:
    return [
        Seed({"data/d.csv": b"a,b,c\n1,2,3\n4,5,6\n"}, "data/d.csv"),
        Seed({"data/d.csv": b'a,"b\nb",c\n1,"x,y",3\n'}, "data/d.csv"),
    ]


def _tsv_seeds() -> list[Seed]:
    return [Seed({"data/d.tsv": b"a\tb\n1\t2\n"}, "data/d.tsv")]


def _jsonl_seeds() -> list[Seed]:
    return [Seed({"data/d.jsonl": b'{"a": 1, "b": "x"}\n{"a": 2, "b": "y"}\n'}, "data/d.jsonl")]


def _table() -> Any:
    import pyarrow as pa

    return pa.table({"x": [1, 2, 3], "name": ["a", "b", None], "f": [0.5, 1.5, 2.5]})


def _parquet_seeds() -> list[Seed]:
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(_table(), buf)
    return [Seed({"data/d.parquet": buf.getvalue()}, "data/d.parquet")]


def _arrow_seeds() -> list[Seed]:
    import pyarrow as pa
    import pyarrow.feather as feather
    import pyarrow.ipc as ipc

    table = _table()
    file_buf = io.BytesIO()
    with ipc.new_file(file_buf, table.schema) as w:
        w.write_table(table)
    stream_buf = io.BytesIO()
    with ipc.new_stream(stream_buf, table.schema) as w:
        w.write_table(table)
    feather_buf = pa.BufferOutputStream()
    feather.write_feather(table, feather_buf, compression="uncompressed")
    return [
        Seed({"data/d.arrow": file_buf.getvalue()}, "data/d.arrow"),
        Seed({"data/d.arrow": stream_buf.getvalue()}, "data/d.arrow"),
        Seed({"data/d.feather": feather_buf.getvalue().to_pybytes()}, "data/d.feather"),
    ]


def _tflite_seeds() -> list[Seed]:
    from tests.builders import tflite

    return [
        Seed({"models/m.tflite": tflite.build(tflite.TfliteModel())}, "models/m.tflite"),
        Seed({"models/meta.tflite": tflite.build(tflite.with_metadata())}, "models/meta.tflite"),
    ]


# --- Classic ML model files: tree ensembles, skops, PMML. -----------------------------------


def _lightgbm_seeds() -> list[Seed]:
    import lightgbm as lgb
    import numpy as np

    rng = np.random.default_rng(0)
    features = rng.random((60, 3))
    labels = (features[:, 0] > 0.5).astype(int)
    params = {"objective": "binary", "num_leaves": 4, "verbose": -1, "min_data_in_leaf": 5}
    booster = lgb.train(params, lgb.Dataset(features, labels), num_boost_round=2)
    text = booster.model_to_string().encode()
    return [Seed({"models/model.txt": text}, "models/model.txt")]


def _skops_seeds() -> list[Seed]:
    import numpy as np
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    rng = np.random.default_rng(0)
    features = rng.random((30, 3))
    labels = (features[:, 0] > 0.5).astype(int)
    model = make_pipeline(FunctionTransformer(np.log1p), StandardScaler(), LogisticRegression())
    data = sio.dumps(model.fit(features, labels))
    return [Seed({"models/clf.skops": data}, "models/clf.skops")]


def _run_skops_scan(root: Path, rel: str) -> object:
    from unified_supply_chain.formats.skops import scan_skops

    return scan_skops(root / rel, rel, "skops")


def _xgboost_seeds() -> list[Seed]:
    from tests.unit.test_formats_xgboost import model, ubj

    return [
        Seed({"models/model.json": json.dumps(model()).encode()}, "models/model.json"),
        Seed({"models/model.ubj": ubj(model(booster="dart"))}, "models/model.ubj"),
    ]


def _pmml_seeds() -> list[Seed]:
    from tests.unit.test_formats_pmml import document

    return [Seed({"models/model.pmml": document()}, "models/model.pmml")]


def _catboost_seeds() -> list[Seed]:
    from tests.builders import catboost

    return [
        Seed({"models/model.cbm": catboost.build(catboost.CatBoostModel())}, "models/model.cbm")
    ]


def _descriptor_seeds() -> list[Seed]:
    yaml_text = b"""\
datasets:
  - name: imdb
    url: https://user:secret@example.com/imdb.tar.gz?token=abc
    license: cc-by-4.0
    sha256: sha256:%s
    splits:
      train: {url: https://example.com/train.csv}
  - s3://bucket/path/data.parquet
""" % (b"ab" * 32)
    mapping = b"name: local\nlicense: mit\ndescription: local files\n"
    as_json = json.dumps({"datasets": {"a": "https://example.com/a", "b": {"url": "hf://x"}}})
    return [
        Seed({"data/dataset.yaml": yaml_text}, "data/dataset.yaml"),
        Seed({"data/data.yaml": mapping}, "data/data.yaml"),
        Seed({"data/x.dataset.json": as_json.encode()}, "data/x.dataset.json"),
    ]


PARAMS_YAML = b"""\
train:
  lr: 0.1
  epochs: 10
  seed: 7
  layers: [{units: 8}, {units: 4}]
base: &base {a: 1, b: [1, 2]}
derived:
  <<: *base
  c: 3
"""


def _params_seeds() -> list[Seed]:
    return [
        Seed({"params.yaml": PARAMS_YAML}, "params.yaml"),
        Seed({"hyp.scratch.yaml": b"lr0: 0.01\nmomentum: 0.937\n"}, "hyp.scratch.yaml"),
        Seed(
            {"params.toml": b'[train]\nlr = 0.1\nlayers = [1, 2]\n[model]\nname = "x"\n'},
            "params.toml",
        ),
        Seed(
            {"config.json": b'{"hidden_size": 8, "_name_or_path": "x", "a": {"b": [1]}}'},
            "config.json",
        ),
    ]


def _run_params(root: Path, rel: str) -> object:
    from unified_supply_chain.sources.params import read_params_file

    fmt = "hf-config" if rel == "config.json" else "params-yaml"
    return read_params_file(root / rel, fmt)


HYDRA = {
    "conf/config.yaml": b"""\
defaults:
  - model: resnet
  - optimizer: adam
  - optional extra: none
  - _self_
train:
  epochs: 3
""",
    "conf/model/resnet.yaml": b"# @package _global_\ndepth: 50\nwidth: 64\n",
    # An override of `/model` from a group file must be `_global_`: otherwise its key is
    # `model@optimizer.model`, which Hydra refuses (hydra/core/default_element.py get_override_key).
    "conf/optimizer/adam.yaml": (
        b"# @package _global_\ndefaults:\n  - override /model: resnet\n"
        b"optimizer:\n  lr: 0.001\n  betas: [0.9, 0.99]\n"
    ),
}


def _hydra_seeds() -> list[Seed]:
    return [Seed(dict(HYDRA), victim) for victim in HYDRA]


def _run_hydra(root: Path, rel: str) -> object:
    from unified_supply_chain.sources.params import compose_hydra, is_hydra_primary

    is_hydra_primary(root / "conf/config.yaml")
    return compose_hydra(root, "conf/config.yaml")


REQUIREMENTS = b"""\
# main requirements
-r more/extra.txt
--index-url https://user:token@pypi.example.com/simple
numpy==1.26.4 --hash=sha256:%s
requests[socks]>=2.31; python_version >= "3.8"
torch @ https://download.pytorch.org/whl/cpu/torch-2.2.0.whl
git+https://deploy:ghp_secret@github.com/org/pkg.git@v1.0#egg=pkg
pandas \\
  ==2.2.0
""" % (b"ab" * 32)


def _requirements_seeds() -> list[Seed]:
    tree = {
        "requirements.txt": REQUIREMENTS,
        "more/extra.txt": b"scipy==1.11.0\n",
    }
    return [Seed(dict(tree), "requirements.txt"), Seed(dict(tree), "more/extra.txt")]


def _run_requirements(root: Path, rel: str) -> object:
    from unified_supply_chain.sources.libraries.requirements import read_requirements

    return read_requirements(root / "requirements.txt", "requirements.txt", root)


PYPROJECT = b"""\
[project]
name = "demo"
version = "1.0.0"
dependencies = ["numpy>=1.26", "requests==2.31.0", "pkg @ git+https://u:p@github.com/o/p.git"]
[project.optional-dependencies]
dev = ["pytest==8.0"]
[tool.poetry.dependencies]
python = "^3.10"
torch = {version = "2.2.0", source = "pytorch"}
"""


def _pyproject_seeds() -> list[Seed]:
    return [Seed({"pyproject.toml": PYPROJECT}, "pyproject.toml")]


def _run_pyproject(root: Path, rel: str) -> object:
    from unified_supply_chain.sources.libraries.pyproject import read_pyproject

    return read_pyproject(root / rel, rel)


LOCKFILES: dict[str, tuple[str, bytes]] = {
    "lockfile-poetry": (
        "poetry.lock",
        b"""\
[[package]]
name = "numpy"
version = "1.26.4"
optional = false
files = [{file = "numpy-1.26.4.tar.gz", hash = "sha256:%s"}]
[package.dependencies]
six = ">=1"
[[package]]
name = "six"
version = "1.16.0"
[package.source]
type = "legacy"
url = "https://user:pw@mirror.example.com/simple"
reference = "mirror"
[metadata]
lock-version = "2.0"
"""
        % (b"ab" * 32),
    ),
    "lockfile-uv": (
        "uv.lock",
        b"""\
version = 1
[[package]]
name = "demo"
version = "1.0"
source = { editable = "." }
dependencies = [{ name = "numpy" }]
[[package]]
name = "numpy"
version = "1.26.4"
source = { registry = "https://pypi.org/simple" }
sdist = { url = "https://files/numpy.tar.gz", hash = "sha256:%s", size = 10 }
"""
        % (b"cd" * 32),
    ),
    "lockfile-pipfile": (
        "Pipfile.lock",
        json.dumps(
            {
                "_meta": {"sources": [{"name": "pypi", "url": "https://pypi.org/simple"}]},
                "default": {
                    "requests": {"version": "==2.31.0", "hashes": ["sha256:" + "ab" * 32]},
                    "pkg": {"git": "https://u:p@github.com/o/p.git", "ref": "abc"},
                },
                "develop": {"pytest": {"version": "==8.0.0"}},
            }
        ).encode(),
    ),
    "conda-env": (
        "environment.yml",
        b"""\
name: demo
channels: [conda-forge, defaults]
dependencies:
  - python=3.11
  - numpy=1.26.4=py311h_0
  - conda-forge::pandas>=2
  - pip
  - pip:
      - requests==2.31.0
      - pkg @ git+https://u:p@github.com/o/p.git
""",
    ),
    "lockfile-npm": (
        "package-lock.json",
        json.dumps(
            {
                "name": "demo",
                "lockfileVersion": 3,
                "packages": {
                    "": {"name": "demo", "dependencies": {"left-pad": "^1.3.0"}},
                    "node_modules/left-pad": {
                        "version": "1.3.0",
                        "resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz",
                        "integrity": "sha512-" + "A" * 86 + "==",
                        "dependencies": {"@scope/x": "1"},
                    },
                    "node_modules/@scope/x": {"version": "1.0.0", "dev": True},
                },
            }
        ).encode(),
    ),
}


def _lockfile_target(fmt: str) -> Target:
    name, data = LOCKFILES[fmt]

    def seeds() -> list[Seed]:
        tree = {name: data}
        if fmt == "lockfile-poetry":
            tree["pyproject.toml"] = PYPROJECT
        return [Seed(tree, name)]

    def run(root: Path, rel: str) -> object:
        from unified_supply_chain.sources.libraries.lockfiles import read_lockfile

        return read_lockfile(root / rel, rel, fmt)

    return Target(fmt, seeds, run, formats=(fmt,))


MODEL_CARD = b"""\
---
license: apache-2.0
language: [en]
datasets:
  - imdb
  - user/private-set
tags: [text-classification]
pipeline_tag: text-classification
base_model: bert-base-uncased
model-index:
  - name: tiny-bert
    results:
      - task: {type: text-classification}
        dataset: {name: imdb, type: imdb, split: test}
        metrics:
          - {type: accuracy, value: 0.91, name: Accuracy}
          - {type: f1, value: "0.9"}
---
# tiny-bert

A small model.

## Limitations
- Only English.

## Ethical considerations
Be careful.
"""


def _model_card_seeds() -> list[Seed]:
    return [Seed({"README.md": MODEL_CARD}, "README.md")]


def _run_model_card(root: Path, rel: str) -> object:
    from unified_supply_chain.sources.cards.hf_card import read_model_card

    return read_model_card(root / rel, rel)


HF_DATASET_CARD = b"""\
---
license: cc-by-4.0
task_categories: [text-classification]
configs:
  - config_name: default
    data_files:
      - split: train
        path: data/train-*
dataset_info:
  splits:
    - name: train
      num_examples: 2
---
# Reviews
"""


def _hf_dataset_card_seeds() -> list[Seed]:
    return [Seed({"README.md": HF_DATASET_CARD}, "README.md")]


def _run_hf_dataset_card(root: Path, rel: str) -> object:
    from unified_supply_chain.sources.datasets.hf_dataset_card import read_dataset_card

    return read_dataset_card(root / rel)


BUILDER_SCRIPT = b"""\
import datasets

_URL = "https://example.org/squad/"
_URLS = {"train": _URL + "train.json", "dev": f"{_URL}dev.json"}
_LICENSE = "CC BY-SA 4.0"


class Squad(datasets.GeneratorBasedBuilder):
    VERSION = datasets.Version("1.0.0")

    def _split_generators(self, dl_manager):
        return dl_manager.download_and_extract(_URLS)
"""


def _builder_script_seeds() -> list[Seed]:
    return [Seed({"squad/squad.py": BUILDER_SCRIPT}, "squad/squad.py")]


def _run_builder_script(root: Path, rel: str) -> object:
    from unified_supply_chain.sources.datasets.builder_scripts import read_builder_script

    return read_builder_script(root / rel)


HF_CONFIG = json.dumps(
    {
        "architectures": ["BertForSequenceClassification"],
        "model_type": "bert",
        "torch_dtype": "float32",
        "hidden_size": 8,
        "id2label": {"0": "neg", "1": "pos"},
        "_name_or_path": "bert-base-uncased",
    }
).encode()


def _hf_config_seeds() -> list[Seed]:
    return [Seed({"config.json": HF_CONFIG}, "config.json")]


def _run_hf_config(root: Path, rel: str) -> object:
    from unified_supply_chain.sources.cards.hf_config import read_hf_config

    return read_hf_config(root / rel)


def _metrics_seeds() -> list[Seed]:
    nested = {"accuracy": 0.91, "test": {"auc": 0.88, "per_class": [{"label": "a", "f1": 0.5}]}}
    return [
        Seed({"metrics.json": json.dumps(nested).encode()}, "metrics.json"),
        Seed({"eval/scores.yaml": b"rmse: 0.5\nsplits:\n  test: {mae: 0.1}\n"}, "eval/scores.yaml"),
        Seed({"reports/m.txt": b'{"loss": 0.1}'}, "reports/m.txt"),
    ]


def _run_metrics(root: Path, rel: str) -> object:
    from unified_supply_chain.sources.lineage.metrics import read_metrics_file

    return read_metrics_file(root / rel, rel)


TRAINING_RECORD = json.dumps(
    {
        "schema": "unified-supply-chain/training-record@1",
        "name": "train",
        "command": "python train.py",
        "time_start": "2026-01-01T00:00:00Z",
        "time_end": "2026-01-01T00:01:00Z",
        "run": {"repository": "o/r", "commit": "a" * 40, "run_id": "1"},
        "inputs": [{"path": "data/train.csv", "sha256": "ab" * 32, "size": 10}],
        "params_files": [{"path": "params.yaml", "sha256": "cd" * 32}],
        "parameters": [{"name": "lr", "value": "0.1"}],
        "outputs": [{"path": "model.pkl", "sha256": "ef" * 32, "size": 5}],
        "metrics_files": ["metrics.json"],
    }
).encode()


def _training_record_seeds() -> list[Seed]:
    return [Seed({"training-record.json": TRAINING_RECORD}, "training-record.json")]


def _run_training_record(root: Path, rel: str) -> object:
    from unified_supply_chain.sources.lineage.training_record import read_training_record

    return read_training_record(root / rel, rel)


DVC_TREE: Tree = {
    "dvc.yaml": b"""\
vars:
  - params.yaml
stages:
  train:
    cmd: python train.py --lr ${train.lr}
    deps: [train.py, data/train.csv]
    params: [train.lr, {extra.json: [opt]}]
    outs: [model/model.pkl]
    metrics: [{reports/metrics.json: {cache: false}}]
  feat:
    foreach: [en, de]
    do:
      cmd: python f.py ${item}
      deps:
        - data/${item}.txt
      outs:
        - features/${item}.npy
  grid:
    matrix:
      a: [1, 2]
      b: [x, y]
    cmd: echo ${item.a} ${item.b}
    wdir: nested
    outs:
      - out-${item.a}.bin
artifacts:
  churn: {path: model/model.pkl, type: model, labels: [x]}
""",
    "dvc.lock": b"""\
schema: '2.0'
stages:
  train:
    cmd: python train.py --lr 0.1
    deps:
    - path: data/train.csv
      hash: md5
      md5: 11111111111111111111111111111111
      size: 10
    params:
      params.yaml:
        train.lr: 0.1
    outs:
    - path: model/model.pkl
      md5: 0123456789ABCDEF0123456789ABCDEF
      size: 5
""",
    "params.yaml": b"train:\n  lr: 0.1\n",
    "extra.json": b'{"opt": {"name": "adam"}}',
    "data/raw.dvc": b"outs:\n- md5: 22222222222222222222222222222222.dir\n  size: 4096\n"
    b"  nfiles: 3\n  path: raw\n",
    "data/imported.csv.dvc": b"deps:\n- path: data/imported.csv\n  repo:\n"
    b"    url: https://u:p@example.com/repo.git\nouts:\n- md5: 44444444444444444444444444444444\n"
    b"  size: 10\n  path: imported.csv\n",
    ".dvc/config": b"[core]\n    remote = s3\n['remote \"s3\"']\n    url = s3://bucket/x\n",
    "reports/metrics.json": b'{"accuracy": 0.9}',
}


def _dvc_seeds() -> list[Seed]:
    victims = ("dvc.yaml", "dvc.lock", "params.yaml", "data/raw.dvc", "data/imported.csv.dvc")
    return [Seed(dict(DVC_TREE), v) for v in victims]


def _run_dvc(root: Path, rel: str) -> object:
    from unified_supply_chain.sources.lineage.dvc import read_dvc

    return read_dvc(root, sorted(DVC_TREE))


RUN_ID = "5f0e3c1a9b7d4e2f8a6c0b1d3e5f7a9c"
MLFLOW_TREE: Tree = {
    "MLproject": b"""\
name: churn
python_env: python_env.yaml
entry_points:
  main:
    parameters:
      alpha: {type: float, default: 0.5}
      data_file: path
    command: "python train.py --alpha {alpha} {data_file}"
""",
    "python_env.yaml": (
        b'python: "3.11"\ndependencies:\n  - -r requirements.txt\n  - mlflow==2.9.2\n'
    ),
    "models/churn/MLmodel": b"""\
artifact_path: model
flavors:
  python_function: {loader_module: mlflow.sklearn, model_path: model.pkl, env: {conda: conda.yaml}}
  sklearn: {pickled_model: model.pkl, sklearn_version: 1.3.2}
mlflow_version: 2.9.2
run_id: %s
signature:
  inputs: '[{"type": "double", "name": "tenure"}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'
utc_time_created: '2026-11-20 10:00:00.123456'
"""
    % RUN_ID.encode(),
    "models/churn/conda.yaml": (
        b"dependencies:\n  - python=3.11\n  - pip:\n    - scikit-learn==1.3.2\n"
    ),
    "mlruns/1/meta.yaml": b"experiment_id: '1'\nname: churn\n",
    f"mlruns/1/{RUN_ID}/meta.yaml": (
        f"end_time: 1763632860000\nexperiment_id: '1'\nlifecycle_stage: active\nrun_id: {RUN_ID}\n"
        f"run_name: bold\nstart_time: 1763632800000\nstatus: 3\n"
    ).encode(),
    f"mlruns/1/{RUN_ID}/params/alpha": b"0.5",
    f"mlruns/1/{RUN_ID}/metrics/rmse": b"1763632801000 0.9 0\n1763632802000 0.7 1\n",
    f"mlruns/1/{RUN_ID}/tags/mlflow.source.git.commit": b"a" * 40,
    f"mlruns/1/{RUN_ID}/inputs/in1/meta.yaml": (
        b"destination_id: x\ndestination_type: RUN\nsource_id: ds1\nsource_type: DATASET\n"
    ),
    "mlruns/1/datasets/ds1/meta.yaml": (
        b'digest: abc\nname: train\nsource: \'{"uri": "data/train.csv"}\'\nsource_type: local\n'
    ),
    # An MLflow 3 logged model (shapes: tests/builders/mlflow3.py).
    "mlruns/1/models/m-4e2799ca3b374957b4822aed318d5ca3/meta.yaml": (
        b"artifact_location: s3://b/mlruns/1/models/m-4e2799ca3b374957b4822aed318d5ca3/artifacts\n"
        b"experiment_id: '1'\nmodel_id: m-4e2799ca3b374957b4822aed318d5ca3\nname: churn-model\n"
        + f"source_run_id: {RUN_ID}\nstatus: 2\n".encode()
    ),
    "mlruns/1/models/m-4e2799ca3b374957b4822aed318d5ca3/params/solver": b"lbfgs",
    "mlruns/1/models/m-4e2799ca3b374957b4822aed318d5ca3/metrics/acc": (
        f"1 0.9 0 {RUN_ID}\n2 0.93 1 {RUN_ID} eval d41d8cd9\n".encode()
    ),
    "mlruns/models/churn/version-3/meta.yaml": (
        f"name: churn\nversion: 3\nrun_id: {RUN_ID}\n".encode()
    ),
    "data/train.csv": b"tenure\n1\n",
}


def _mlflow_seeds() -> list[Seed]:
    victims = [
        "MLproject",
        "python_env.yaml",
        "models/churn/MLmodel",
        "models/churn/conda.yaml",
        f"mlruns/1/{RUN_ID}/meta.yaml",
        f"mlruns/1/{RUN_ID}/metrics/rmse",
        f"mlruns/1/{RUN_ID}/inputs/in1/meta.yaml",
        "mlruns/1/datasets/ds1/meta.yaml",
        "mlruns/models/churn/version-3/meta.yaml",
        "mlruns/1/models/m-4e2799ca3b374957b4822aed318d5ca3/meta.yaml",
        "mlruns/1/models/m-4e2799ca3b374957b4822aed318d5ca3/metrics/acc",
    ]
    return [Seed(dict(MLFLOW_TREE), v) for v in victims]


def _run_mlflow(root: Path, rel: str) -> object:
    from unified_supply_chain.sources.lineage.mlflow import read_mlflow

    return read_mlflow(root, sorted(MLFLOW_TREE))


def merge_input_document() -> dict[str, Any]:
    """A small third-party CycloneDX 1.6 document to merge."""
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "version": 1,
        "metadata": {"tools": {"components": [{"type": "application", "name": "syft"}]}},
        "components": [
            {
                "type": "library",
                "bom-ref": "pkg:pypi/numpy@1.26.4",
                "name": "numpy",
                "version": "1.26.4",
                "purl": "pkg:pypi/numpy@1.26.4",
                "externalReferences": [
                    {"type": "distribution", "url": "https://user:pw@files.example.com/n.whl"}
                ],
                "components": [{"type": "file", "name": "numpy/__init__.py"}],
            },
            {
                "type": "library",
                "name": "left-pad",
                "version": "1.3.0",
                "purl": "pkg:npm/left-pad@1.3.0",
                "licenses": [{"license": {"id": "MIT"}}],
            },
        ],
        "dependencies": [{"ref": "pkg:pypi/numpy@1.26.4", "dependsOn": []}],
    }


@functools.lru_cache(maxsize=1)
def our_document() -> dict[str, Any]:
    """A minimal document of ours (as build_core makes it) to merge into."""
    from unified_supply_chain.bom.build import build_core
    from unified_supply_chain.records import Inventory

    inventory = Inventory(
        root_name="app",
        root_version=None,
        artifacts=(),
        libraries=(),
        edges=(),
        tasks=(),
        problems=(),
        files_seen=0,
        bytes_hashed=0,
    )
    return build_core(inventory, spec_version="1.6", reproducible=True, metadata_properties=[])


def _merge_seeds() -> list[Seed]:
    return [Seed({"other.cdx.json": json.dumps(merge_input_document()).encode()}, "other.cdx.json")]


#: Known bugs, reported and pinned by strict-xfail tests in test_fuzz_regressions.py, that the
#: bounded suite excuses so it stays green until they are fixed (scripts/fuzz.py reports them
#: unless run with --excuse-known): function name -> exception type raised there.
KNOWN_BUGS: dict[str, type[BaseException]] = {}
EXCUSE_KNOWN_BUGS = True


def _known_bug(exc: BaseException) -> bool:
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    return any(f.name in KNOWN_BUGS and isinstance(exc, KNOWN_BUGS[f.name]) for f in frames[-1:])


def _run_merge(root: Path, rel: str) -> object:
    import copy

    from unified_supply_chain.bom.merge import merge_sboms

    try:
        return merge_sboms(copy.deepcopy(our_document()), [root / rel])
    except Exception as exc:
        if EXCUSE_KNOWN_BUGS and _known_bug(exc):
            raise MergeError(f"known bug: {exc}") from exc
        raise


#: Safety-scanner inputs: (reader target whose seeds are reused, format hint given to the scan).
SCAN_FORMATS = (
    ("pickle", "pickle"),
    ("joblib", "joblib"),
    ("pytorch-zip", "pytorch"),
    ("pytorch-legacy", "pytorch-legacy"),
    ("npy", "npy"),
    ("npz", "npz"),
    ("keras-zip", "keras"),
    ("gguf", "gguf"),
    ("hdf5", "hdf5"),
    ("zip", "zip"),
    ("torchserve-mar", "torchserve-mar"),
    ("tar", "tar"),
    ("7z", "7z"),
    ("nemo", "nemo"),
)


def _archive_seeds(build: Callable[[], list[Any]]) -> Callable[[], list[Seed]]:
    return _cached(lambda: [Seed(tree, victim) for tree, victim in build()])


def _safety_scan_seeds() -> list[Seed]:
    # Each seed moves under a directory named by its format hint, so `run` can recover it.
    return [
        Seed({f"{fmt}/{k}": v for k, v in seed.tree.items()}, f"{fmt}/{seed.victim}")
        for name, fmt in SCAN_FORMATS
        for seed in TARGETS[name].seeds()
    ]


def _run_safety_scan(root: Path, rel: str) -> object:
    from unified_supply_chain.safety.scan import scan_file

    return scan_file(root / rel, rel, rel.split("/", 1)[0])


def format_target(
    format_id: str,
    seeds: Callable[[], list[Seed]],
    name: str | None = None,
    also: tuple[str, ...] = (),
) -> Target:
    """A target that reads the victim with the registry's reader of `format_id`."""

    def run(root: Path, rel: str) -> object:
        from unified_supply_chain.formats import registry

        return registry()[format_id].read(root / rel)

    return Target(name or format_id, seeds, run, formats=(format_id, *also))


# Modelled on ultralytics/ultralytics ultralytics/cfg/datasets/coco8.yaml and yolov5's
# data/coco128.yaml; the Kedro seeds on kedro-org/kedro-starters spaceflights-pandas conf/base.
YOLO_DATASET_YAML = b"""\
path: coco8 # dataset root dir
train: images/train
val: [images/val, lists/val.txt]
test:
names:
  0: person
  1: bicycle
download: https://github.com/ultralytics/assets/releases/download/v0.0.0/coco8.zip
"""
KEDRO_CATALOG_YML = b"""\
_base: data
companies:
  type: pandas.CSVDataset
  filepath: ${_base}/01_raw/companies.csv
  metadata:
    kedro-viz:
      layer: raw
weather:
  type: spark.SparkDataset
  filepath: s3a://bucket/data/01_raw/weather*
  credentials: dev_s3
regressor:
  type: pickle.PickleDataset
  filepath: data/06_models/regressor.pickle
  versioned: true
"{name}_csv":
  type: pandas.CSVDataset
  filepath: data/01_raw/{name}.csv
"""


def _yolo_seeds() -> list[Seed]:
    script = YOLO_DATASET_YAML.split(b"download:")[0] + (
        b"download: |\n  from pathlib import Path\n  url = 'https://example.com/coco.zip'\n"
    )
    return [
        Seed({"data/coco8.yaml": YOLO_DATASET_YAML}, "data/coco8.yaml"),
        Seed({"datasets/coco-script.yaml": script}, "datasets/coco-script.yaml"),
    ]


def _run_yolo(root: Path, rel: str) -> object:
    from unified_supply_chain.sources.datasets.yolo import read_yolo_dataset

    return read_yolo_dataset(root / rel)


def _kedro_seeds() -> list[Seed]:
    return [Seed({"conf/base/catalog.yml": KEDRO_CATALOG_YML}, "conf/base/catalog.yml")]


def _run_kedro_catalog(root: Path, rel: str) -> object:
    from unified_supply_chain.sources.datasets.kedro import read_kedro_catalog

    return read_kedro_catalog(root / rel)


def _kedro_parameters_seeds() -> list[Seed]:
    text = b"model_options:\n  test_size: 0.2\n  features:\n    - engines\n"
    return [
        Seed(
            {"conf/base/parameters_data_science.yml": text}, "conf/base/parameters_data_science.yml"
        ),
        Seed(
            {"conf/base/parameters/reporting.yml": b"a: {b: 1}\n"},
            "conf/base/parameters/reporting.yml",
        ),
    ]


def _run_kedro_parameters(root: Path, rel: str) -> object:
    from unified_supply_chain.sources.params import read_params_file

    return read_params_file(root / rel, "kedro-parameters")


def _run_descriptor(root: Path, rel: str) -> object:
    from unified_supply_chain.sources.cards.descriptors import read_dataset_descriptor

    return read_dataset_descriptor(root / rel)


def _datapackage_seeds() -> list[Seed]:
    import yaml

    from tests.fuzz import datapackage_seeds as dp

    doc = dp.datapackage()
    return [
        Seed({"data/datapackage.json": dp.as_bytes(doc)}, "data/datapackage.json"),
        Seed({"datapackage.yaml": yaml.safe_dump(doc).encode()}, "datapackage.yaml"),
    ]


def _run_datapackage(root: Path, rel: str) -> object:
    from unified_supply_chain.sources.datasets.frictionless import read_data_package

    return read_data_package(root / rel, rel)


def _croissant_seeds() -> list[Seed]:
    from tests.fuzz import datapackage_seeds as dp

    return [Seed({"data/croissant.json": dp.as_bytes(dp.croissant())}, "data/croissant.json")]


def _run_croissant(root: Path, rel: str) -> object:
    from unified_supply_chain.sources.datasets.croissant import read_croissant

    return read_croissant(root / rel, rel)


def _training_logs_seeds() -> list[Seed]:
    from tests.builders.training_logs import training_logs_tree

    tree = training_logs_tree()
    return [Seed(dict(tree), victim) for victim in sorted(tree)]


def _run_training_logs(root: Path, rel: str) -> object:
    """The whole training-log read (every run of the tree), then the victim's own reader when it
    is a hyperparameter file (the scan reads those with read_params_file)."""
    from tests.builders.training_logs import training_logs_tree
    from unified_supply_chain.discover.classify import classify
    from unified_supply_chain.sources.lineage.training_logs import read_training_logs
    from unified_supply_chain.sources.params import read_params_file

    contribution = read_training_logs(root, sorted(training_logs_tree()))
    fmt = classify(b"", rel)
    if fmt in ("lightning-hparams", "wandb-config"):
        return contribution, read_params_file(root / rel, fmt)
    return contribution


def _tfevents_seeds() -> list[Seed]:
    return [s for s in _training_logs_seeds() if "events.out.tfevents." in s.victim]


def _run_tfevents(root: Path, rel: str) -> object:
    from unified_supply_chain.sources.lineage.training_logs.tfevents import (
        read_hparams_session,
    )

    return read_hparams_session(root / rel)


def _cached(build: Callable[[], list[Seed]]) -> Callable[[], list[Seed]]:
    return functools.lru_cache(maxsize=1)(build)


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        format_target("safetensors", _cached(_safetensors_seeds)),
        format_target("gguf", _cached(_gguf_seeds)),
        format_target("onnx", _cached(_onnx_seeds)),
        format_target("coreml", _cached(_coreml_seeds)),
        format_target("flax-msgpack", _cached(_flax_seeds), name="flax"),
        format_target("executorch", _cached(_pte_seeds)),
        format_target("openvino-ir", _cached(_openvino_seeds), name="openvino"),
        format_target("paddle-inference", _cached(_paddle_seeds), name="paddle"),
        format_target("git-lfs-pointer", _cached(_lfs_seeds), name="lfs-pointer"),
        format_target("pytorch", _cached(_pytorch_seeds), name="pytorch-zip"),
        format_target("pytorch-legacy", _cached(_pytorch_legacy_seeds)),
        format_target("pickle", _cached(_pickle_seeds)),
        format_target("joblib", _cached(_joblib_seeds)),
        format_target("npy", _cached(_npy_seeds)),
        format_target("npz", _cached(_npz_seeds)),
        format_target("keras", _cached(_keras_seeds), name="keras-zip"),
        format_target("hdf5", _cached(_hdf5_seeds)),
        format_target("tflite", _cached(_tflite_seeds)),
        format_target("tf-savedmodel", _cached(_savedmodel_seeds), name="savedmodel"),
        format_target("csv", _cached(_csv_seeds)),
        format_target("tsv", _cached(_tsv_seeds)),
        format_target("jsonl", _cached(_jsonl_seeds)),
        format_target("parquet", _cached(_parquet_seeds)),
        format_target("arrow", _cached(_arrow_seeds), also=("feather",)),
        format_target("zip", _archive_seeds(archive_seeds.zip_archive_seeds)),
        format_target("lightgbm", _cached(_lightgbm_seeds)),
        format_target("skops", _cached(_skops_seeds)),
        format_target("xgboost", _cached(_xgboost_seeds)),
        format_target("pmml", _cached(_pmml_seeds)),
        format_target("catboost", _cached(_catboost_seeds)),
        # The skops safety hook promises never to raise on bad input, like the scanner.
        Target("skops-scan", _cached(_skops_seeds), _run_skops_scan, allowed=()),
        format_target("torchserve-mar", _archive_seeds(archive_seeds.mar_seeds)),
        format_target("tar", _archive_seeds(archive_seeds.tar_seeds)),
        format_target("7z", _archive_seeds(archive_seeds.seven_zip_seeds)),
        format_target("nemo", _archive_seeds(archive_seeds.nemo_seeds)),
        format_target("paddle-pickle", _archive_seeds(archive_seeds.paddle_pickle_seeds)),
        Target(
            "dataset-descriptor",
            _cached(_descriptor_seeds),
            _run_descriptor,
            formats=("dataset-descriptor",),
        ),
        Target(
            "datapackage",
            _cached(_datapackage_seeds),
            _run_datapackage,
            formats=("frictionless-datapackage",),
        ),
        Target("croissant", _cached(_croissant_seeds), _run_croissant, formats=("croissant",)),
        # read_training_logs promises problems, never exceptions, for bad input.
        Target(
            "training-logs",
            _cached(_training_logs_seeds),
            _run_training_logs,
            formats=(
                "lightning-hparams",
                "lightning-metrics",
                "wandb-config",
                "wandb-summary",
                "wandb-metadata",
            ),
        ),
        Target(
            "tfevents", _cached(_tfevents_seeds), _run_tfevents, formats=("tensorboard-events",)
        ),
        Target("params", _cached(_params_seeds), _run_params, formats=("params-yaml", "hyp-yaml")),
        Target("hydra", _cached(_hydra_seeds), _run_hydra, formats=("hydra-config",)),
        Target(
            "requirements",
            _cached(_requirements_seeds),
            _run_requirements,
            formats=("requirements",),
        ),
        Target("pyproject", _cached(_pyproject_seeds), _run_pyproject, formats=("pyproject",)),
        *(_lockfile_target(fmt) for fmt in LOCKFILES),
        Target("model-card", _cached(_model_card_seeds), _run_model_card, formats=("model-card",)),
        Target("hf-config", _cached(_hf_config_seeds), _run_hf_config, formats=("hf-config",)),
        Target(
            "hf-dataset-card",
            _cached(_hf_dataset_card_seeds),
            _run_hf_dataset_card,
            formats=("model-card",),
        ),
        Target(
            "dataset-builder-script",
            _cached(_builder_script_seeds),
            _run_builder_script,
            formats=("dataset-builder-script",),
        ),
        Target("metrics", _cached(_metrics_seeds), _run_metrics, formats=("metrics-json",)),
        Target(
            "training-record",
            _cached(_training_record_seeds),
            _run_training_record,
            formats=("training-record",),
        ),
        Target("dvc", _cached(_dvc_seeds), _run_dvc, formats=("dvc-file", "dvc-yaml", "dvc-lock")),
        Target("mlflow", _cached(_mlflow_seeds), _run_mlflow, formats=("mlproject", "mlmodel")),
        Target("yolo-dataset", _cached(_yolo_seeds), _run_yolo, formats=("yolo-dataset",)),
        Target(
            "kedro-catalog",
            _cached(_kedro_seeds),
            _run_kedro_catalog,
            formats=("kedro-catalog",),
        ),
        Target(
            "kedro-parameters",
            _cached(_kedro_parameters_seeds),
            _run_kedro_parameters,
            formats=("kedro-parameters",),
        ),
        Target("merge", _cached(_merge_seeds), _run_merge, allowed=(MergeError, FormatError)),
        # The pickle safety scanner promises never to raise on bad input at all.
        Target("safety-scan", _cached(_safety_scan_seeds), _run_safety_scan, allowed=()),
    )
}
"""Every reader under fuzz, by name."""


def check_seeds() -> dict[str, list[str]]:
    """Run every target on its unmutated seeds: names of targets whose valid seed failed.

    A seed the reader rejects would make the fuzzing test little more than error paths.
    """
    failures: dict[str, list[str]] = {}
    for name, target in TARGETS.items():
        for seed in target.seeds():
            result = run_target(target, seed, seed.tree[seed.victim])
            if isinstance(result, BaseException):
                failures.setdefault(name, []).append(f"{seed.victim}: {result}")
            # Readers of several files report trouble as problems or warnings, not errors.
            for complaint in (*getattr(result, "problems", ()), *getattr(result, "warnings", ())):
                failures.setdefault(name, []).append(f"{seed.victim}: {complaint}")
    return failures


__all__ = [
    "TARGETS",
    "Chooser",
    "Seed",
    "Target",
    "check_seeds",
    "mutate",
    "run_target",
    "write_tree",
]
