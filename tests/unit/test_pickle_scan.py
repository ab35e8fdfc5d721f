"""Opcode-level pickle safety: a hostile set built here, scanned, and never loaded.

Pickles are only ever *created* (pickle.dumps or bytes written by hand). During every scan the
unpickling entry points of `pickle` and `_pickle` are replaced by functions that fail the test.
"""

from __future__ import annotations

import io
import json
import lzma
import os
import pickle
import struct
import sys
import types
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import (
    Reduce,
    exec_payload,
    inst_payload,
    memo_trick,
    obj_payload,
    refuse_unpickling,
    sbu,
    system_payload,
)
from unified_supply_chain.policy import scan_file
from unified_supply_chain.records import Finding, Severity
from unified_supply_chain.safety.pickle_scan import (
    is_allowed_global,
    is_dangerous_global,
    scan_pickle_bytes,
)
from unified_supply_chain.safety.scan import chat_template_findings, keras_config_findings

PROTOCOLS = range(6)


# --- Guards: nothing is ever unpickled. -------------------------------------------------------


@pytest.fixture(autouse=True)
def no_unpickling(monkeypatch: pytest.MonkeyPatch) -> None:
    refuse_unpickling(monkeypatch)


# --- Payload builders (the shared ones are in tests/helpers.py). ------------------------------


def long_memo_trick() -> bytes:
    """BINPUT/LONG_BINGET memo indices and a DUP before STACK_GLOBAL."""
    return (
        b"\x80\x04"
        + sbu("builtins")
        + b"r\x07\x00\x00\x00"  # LONG_BINPUT 7
        + b"0"
        + sbu("eval")
        + b"q\x09"  # BINPUT 9
        + b"0"
        + b"j\x07\x00\x00\x00"  # LONG_BINGET 7
        + b"h\x09"  # BINGET 9
        + b"\x93"
        + sbu("1+1")
        + b"\x85R."
    )


def getattr_chain(cmd: str) -> bytes:
    """importlib.import_module('os') then builtins.getattr(module, 'system')(cmd)."""
    return (
        b"\x80\x02"
        + b"cbuiltins\ngetattr\n"
        + b"cimportlib\nimport_module\n"
        + sbu("os")
        + b"\x85R"
        + sbu("system")
        + b"\x86R"
        + sbu(cmd)
        + b"\x85R."
    )


def proto0_global(cmd: str) -> bytes:
    return b"cos\nsystem\n(S'" + cmd.encode() + b"'\ntR."


def stack_global_eval(code: str) -> bytes:
    return b"\x80\x04" + sbu("builtins") + sbu("eval") + b"\x93" + sbu(code) + b"\x85R."


# --- Benign builders: ordinary classes registered under library module names. ------------------


@pytest.fixture
def fake_module(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """Make a class (or `obj`) importable as `module.name`, for pickle.dumps only."""

    def make(module: str, name: str, obj: Any = None) -> Any:
        parts = module.split(".")
        for i in range(1, len(parts) + 1):
            mod_name = ".".join(parts[:i])
            if mod_name not in sys.modules or i == len(parts):
                monkeypatch.setitem(
                    sys.modules, mod_name, sys.modules.get(mod_name, types.ModuleType(mod_name))
                )
        if obj is None:
            obj = type(name, (), {"__module__": module, "__qualname__": name})
        monkeypatch.setattr(sys.modules[module], name, obj, raising=False)
        return obj

    return make


def sklearn_like(fake_module: Callable[..., Any], protocol: int) -> bytes:
    lr_cls = fake_module("sklearn.linear_model._logistic", "LogisticRegression")
    scaler_cls = fake_module("sklearn.preprocessing._data", "StandardScaler")
    pipe_cls = fake_module("sklearn.pipeline", "Pipeline")
    lr = lr_cls()
    lr.__dict__.update(
        {"C": 1.0, "coef_": np.arange(6.0).reshape(2, 3), "classes_": np.array([0, 1])}
    )
    scaler = scaler_cls()
    scaler.__dict__.update({"mean_": np.zeros(3), "with_std": True})
    pipe = pipe_cls()
    pipe.__dict__["steps"] = [("scale", scaler), ("clf", lr)]
    return pickle.dumps(pipe, protocol=protocol)


def torch_like_data_pkl(fake_module: Callable[..., Any]) -> bytes:
    storage_cls = fake_module("torch", "FloatStorage")
    rebuild_mod = "torch._utils"

    def _rebuild_tensor_v2(*args: object) -> None:  # never called: only its name is pickled
        raise AssertionError

    _rebuild_tensor_v2.__module__ = rebuild_mod
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    fake_module(rebuild_mod, "_rebuild_tensor_v2", _rebuild_tensor_v2)

    class Storage:
        def __init__(self, key: str) -> None:
            self.key = key

    class Tensor:
        def __init__(self, key: str) -> None:
            self.storage = Storage(key)

        def __reduce__(self) -> tuple[Any, ...]:
            return (_rebuild_tensor_v2, (self.storage, 0, (2, 3), (3, 1), False, OrderedDict()))

    class TorchPickler(pickle.Pickler):
        def persistent_id(self, obj: object) -> object:
            if isinstance(obj, Storage):
                return ("storage", storage_cls, obj.key, "cpu", 6)
            return None

    buf = io.BytesIO()
    state = OrderedDict([("layer.weight", Tensor("0")), ("layer.bias", Tensor("1"))])
    TorchPickler(buf, protocol=2).dump(state)
    return buf.getvalue()


def torch_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def joblib_like(fake_module: Callable[..., Any], extra: object, *, protocol: int = 3) -> bytes:
    """The byte layout joblib writes: array buffers between pickle opcodes, after each wrapper."""
    wrapper_cls = fake_module("joblib.numpy_pickle", "NumpyArrayWrapper")
    arrays = {"coef": np.linspace(-3.0, 7.0, 997), "idx": np.arange(130, dtype=np.int32)}

    class JoblibPickler(pickle._Pickler):  # type: ignore[name-defined,misc]
        def save(self, obj: object, save_persistent_id: bool = True) -> None:
            if isinstance(obj, np.ndarray):
                wrapper = wrapper_cls()
                wrapper.__dict__.update(
                    {
                        "subclass": np.ndarray,
                        "shape": obj.shape,
                        "order": "C",
                        "dtype": obj.dtype,
                        "allow_mmap": True,
                        "numpy_array_alignment_bytes": 16,
                    }
                )
                super().save(wrapper)
                if self.proto >= 4:
                    self.framer.commit_frame(force=True)
                pos = self._file_write.__self__.tell()
                pad = 16 - ((pos + 1) % 16)
                self._file_write(bytes([pad]) + b"\xff" * pad)
                self._file_write(obj.tobytes("C"))
                return
            super().save(obj, save_persistent_id)

    buf = io.BytesIO()
    JoblibPickler(buf, protocol=protocol).dump({"arrays": arrays, "extra": extra})
    return buf.getvalue()


# --- Helpers. --------------------------------------------------------------------------------


def severities(findings: list[Finding]) -> set[Severity]:
    return {f.severity for f in findings}


def flagged_globals(findings: list[Finding]) -> set[str]:
    return {d for f in findings for d in f.details if not d.startswith("error:")}


def assert_critical(findings: list[Finding], *names: str) -> None:
    assert Severity.CRITICAL in severities(findings), findings
    for name in names:
        assert name in flagged_globals(findings), (name, findings)
    assert all(f.rule == "unsafe-serialization" for f in findings)


# --- The hostile set. ------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_reduce_to_os_system_every_protocol(protocol: int, tmp_path: Path) -> None:
    findings = scan_pickle_bytes(system_payload(f"touch {tmp_path}/x", protocol), "m.pkl")
    assert_critical(findings, "posix.system")
    assert findings[0].path == "m.pkl"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_exec_every_protocol(protocol: int) -> None:
    findings = scan_pickle_bytes(exec_payload("print(1)", protocol), "m.pkl")
    # find_class maps Python 2 names below protocol 3 (__builtin__ -> builtins).
    assert_critical(findings, "builtins.exec")


def test_stack_global_builtins_eval() -> None:
    assert_critical(scan_pickle_bytes(stack_global_eval("1+1"), "e.pkl"), "builtins.eval")


def test_memo_tricks_are_resolved() -> None:
    assert_critical(scan_pickle_bytes(memo_trick("id"), "m.pkl"), "posix.system")
    assert_critical(scan_pickle_bytes(long_memo_trick(), "m.pkl"), "builtins.eval")


def test_importlib_getattr_chain() -> None:
    findings = scan_pickle_bytes(getattr_chain("id"), "g.pkl")
    assert_critical(findings, "builtins.getattr", "importlib.import_module")


def test_inst_and_obj_opcodes() -> None:
    assert_critical(scan_pickle_bytes(inst_payload("id"), "i.pkl"), "os.system")
    assert_critical(scan_pickle_bytes(obj_payload("id"), "o.pkl"), "os.system")


def test_extension_codes_are_flagged() -> None:
    findings = scan_pickle_bytes(b"\x80\x02\x82\x01)R.", "x.pkl")
    assert Severity.HIGH in severities(findings)
    assert any("extension code 1" in d for d in flagged_globals(findings))


def test_unknown_global_is_high_not_critical() -> None:
    findings = scan_pickle_bytes(b"\x80\x04" + sbu("mypkg.util") + sbu("Thing") + b"\x93).", "u")
    assert severities(findings) == {Severity.HIGH}
    assert flagged_globals(findings) == {"mypkg.util.Thing"}


def test_truncated_and_garbage_pickles_could_not_be_verified() -> None:
    # Fail closed: what the walk could not finish is high, so `--fail-on high` fails.
    whole = sklearn_like_fixed()
    cut = scan_pickle_bytes(whole[: len(whole) // 2], "cut.pkl")
    assert Severity.HIGH in severities(cut)
    assert any(f.message.startswith("could not be verified safe") for f in cut)
    garbage = scan_pickle_bytes(b"\x80\x04\xff\xfe\x00garbage", "g.pkl")
    assert severities(garbage) == {Severity.HIGH}
    # A payload whose dangerous call comes before the damage is still named.
    bad = scan_pickle_bytes(system_payload("id", 2)[:-1] + b"\xff", "b.pkl")
    assert severities(bad) == {Severity.CRITICAL, Severity.HIGH}


def sklearn_like_fixed() -> bytes:
    return pickle.dumps({"weights": list(range(500)), "name": "x" * 100}, protocol=4)


def test_payload_in_pytorch_zip(tmp_path: Path, fake_module: Any) -> None:
    path = torch_zip(
        tmp_path / "model.pt",
        {
            "archive/data.pkl": system_payload("id", 2),
            "archive/version": b"3\n",
            "archive/data/0": np.arange(6, dtype=np.float32).tobytes(),
        },
    )
    findings = scan_file(path, "models/model.pt", "pytorch")
    assert_critical(findings, "posix.system")
    assert findings[0].path == "models/model.pt!archive/data.pkl"


def test_protocol0_payload_in_oddly_named_member(tmp_path: Path, fake_module: Any) -> None:
    path = torch_zip(
        tmp_path / "model.pt",
        {
            "archive/data.pkl": torch_like_data_pkl(fake_module),
            "archive/data/0": np.arange(6, dtype=np.float32).tobytes(),
            "archive/data/1": proto0_global("id"),
            "archive/.hidden/notes.txt": inst_payload("id"),
        },
    )
    findings = scan_file(path, "model.pt", "pytorch")
    paths = {f.path for f in findings if f.severity is Severity.CRITICAL}
    assert paths == {"model.pt!archive/data/1", "model.pt!archive/.hidden/notes.txt"}


def test_payload_under_renamed_extension(tmp_path: Path) -> None:
    renamed = tmp_path / "weights.safetensors"
    renamed.write_bytes(system_payload("id", 4))
    assert_critical(scan_file(renamed, "weights.safetensors", "safetensors"), "posix.system")
    as_text = tmp_path / "readme.txt"
    as_text.write_bytes(proto0_global("id"))
    assert_critical(scan_file(as_text, "readme.txt", "unknown"), "os.system")
    zipped = torch_zip(tmp_path / "data.csv", {"x/y.bin": stack_global_eval("1")})
    assert_critical(scan_file(zipped, "data.csv", "csv"), "builtins.eval")


def test_joblib_compressed_payloads(tmp_path: Path) -> None:
    payload = system_payload("id", 4)
    for suffix, data in (
        ("z", zlib.compress(payload)),
        ("xz", lzma.compress(payload)),
        ("gz", __import__("gzip").compress(payload)),
    ):
        path = tmp_path / f"model.joblib.{suffix}"
        path.write_bytes(data)
        assert_critical(scan_file(path, path.name, "joblib"), "posix.system")


def test_joblib_array_buffers_are_stepped_over(tmp_path: Path, fake_module: Any) -> None:
    benign = joblib_like(fake_module, {"C": 1.0})
    assert scan_pickle_bytes(benign, "m.joblib") == []
    for protocol in (2, 3, 4):
        hostile = joblib_like(fake_module, Reduce(os.system, "id"), protocol=protocol)
        # The payload sits after the raw array bytes: a plain opcode walk stops at the data.
        findings = scan_pickle_bytes(hostile, "m.joblib")
        assert_critical(findings, "posix.system")
        assert Severity.MEDIUM not in severities(findings)
    path = tmp_path / "m.joblib"
    path.write_bytes(zlib.compress(joblib_like(fake_module, Reduce(exec, "1"))))
    assert_critical(scan_file(path, "m.joblib", "joblib"), "builtins.exec")


def _npy(descr: str, shape: tuple[int, ...], body: bytes) -> bytes:
    header = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + body


def test_npy_object_array_and_npz_members(tmp_path: Path) -> None:
    npy = tmp_path / "a.npy"
    npy.write_bytes(_npy("|O", (1,), system_payload("id", 2)))
    assert_critical(scan_file(npy, "a.npy", "npy"), "posix.system")
    plain = tmp_path / "b.npy"
    buf = io.BytesIO()
    np.save(buf, np.arange(10.0))
    plain.write_bytes(buf.getvalue())
    assert scan_file(plain, "b.npy", "npy") == []
    npz = tmp_path / "c.npz"
    np.savez(npz, good=np.arange(4))
    with zipfile.ZipFile(npz, "a") as zf:
        zf.writestr("evil.npy", _npy("|O", (1,), exec_payload("1", 2)))
        zf.writestr("other", system_payload("id", 3))
    findings = scan_file(npz, "c.npz", "npz")
    assert {f.path for f in findings} == {"c.npz!evil.npy", "c.npz!other"}
    assert severities(findings) == {Severity.CRITICAL}


def _legacy_torch(main: bytes) -> bytes:
    magic = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
    return (
        magic
        + pickle.dumps(1001, protocol=2)
        + pickle.dumps({"protocol_version": 1001, "little_endian": True}, protocol=2)
        + main
        + pickle.dumps(["0"], protocol=2)
        + np.linspace(0, 1, 64).tobytes()
    )


def test_pytorch_legacy_concatenated_pickles(tmp_path: Path) -> None:
    good = tmp_path / "good.pt"
    good.write_bytes(_legacy_torch(pickle.dumps(OrderedDict(a=1), protocol=2)))
    assert scan_file(good, "good.pt", "pytorch-legacy") == []
    bad = tmp_path / "bad.pt"
    bad.write_bytes(_legacy_torch(system_payload("id", 2)))
    assert_critical(scan_file(bad, "bad.pt", "pytorch-legacy"), "posix.system")


# --- Benign pickles stay quiet. --------------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_benign_sklearn_numpy_pickles(protocol: int, fake_module: Any) -> None:
    assert scan_pickle_bytes(sklearn_like(fake_module, protocol), "m.pkl") == []
    arrays = {"x": np.arange(12).reshape(3, 4), "d": np.dtype("float32"), "s": np.float64(2.5)}
    assert scan_pickle_bytes(pickle.dumps(arrays, protocol=protocol), "a.pkl") == []
    plain = {
        "od": OrderedDict(a=1),
        "set": {1, 2},
        "fs": frozenset({3}),
        "slice": slice(1, 2),
        "c": complex(1, 2),
        "b": b"x" * 100_000,
    }
    assert scan_pickle_bytes(pickle.dumps(plain, protocol=protocol), "p.pkl") == []


def test_benign_torch_zip(tmp_path: Path, fake_module: Any) -> None:
    path = torch_zip(
        tmp_path / "model.pt",
        {
            "archive/data.pkl": torch_like_data_pkl(fake_module),
            "archive/byteorder": b"little",
            "archive/version": b"3\n",
            "archive/data/0": np.arange(6, dtype=np.float32).tobytes(),
            "archive/data/1": np.full(3, -1.5, dtype=np.float32).tobytes(),
            "archive/.data/serialization_id": b"1234567890",
        },
    )
    assert scan_file(path, "model.pt", "pytorch") == []


def test_allow_and_deny_lists() -> None:
    assert is_allowed_global("torch._utils", "_rebuild_tensor_v2")
    assert is_allowed_global("torch", "BFloat16Storage")
    assert is_allowed_global("sklearn.ensemble._forest", "RandomForestClassifier")
    assert not is_allowed_global("sklearn.utils._testing", "SomeHelper")
    assert not is_allowed_global("builtins", "eval")
    assert is_dangerous_global("subprocess", "Popen")
    assert is_dangerous_global("runpy", "_run_code")
    assert is_dangerous_global("webbrowser", "open")
    assert not is_dangerous_global("mypkg", "Thing")


# --- Keras and GGUF. -------------------------------------------------------------------------


def test_keras_lambda_layer(tmp_path: Path) -> None:
    config = {
        "class_name": "Sequential",
        "config": {
            "layers": [
                {"module": "keras.layers", "class_name": "Dense", "config": {"name": "d"}},
                {"module": "keras.layers", "class_name": "Lambda", "config": {"name": "sneaky"}},
            ]
        },
    }
    path = tmp_path / "m.keras"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("config.json", json.dumps(config))
        zf.writestr("metadata.json", "{}")
    findings = scan_file(path, "m.keras", "keras")
    assert [(f.severity, f.details) for f in findings] == [
        (Severity.HIGH, ("keras-lambda-layer: sneaky",))
    ]
    custom = keras_config_findings(
        {"module": "evil_pkg.layers", "class_name": "Boom", "config": {}}, "x"
    )
    assert custom and custom[0].details == ("keras-custom-object: evil_pkg.layers.Boom",)
    assert keras_config_findings(config["config"]["layers"][0], "x") == []


def test_gguf_chat_template(tmp_path: Path) -> None:
    import gguf

    hostile = "{{ ''.__class__.__mro__[1].__subclasses__() }}{{ cycler.__init__.__globals__.os }}"
    benign = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}"
    for name, template in (("bad", hostile), ("good", benign)):
        writer = gguf.GGUFWriter(tmp_path / f"{name}.gguf", "llama")
        writer.add_chat_template(template)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
    bad = scan_file(tmp_path / "bad.gguf", "bad.gguf", "gguf")
    assert [f.rule for f in bad] == ["suspicious-chat-template"]
    assert bad[0].severity is Severity.HIGH
    assert scan_file(tmp_path / "good.gguf", "good.gguf", "gguf") == []
    assert chat_template_findings("{{ x | attr('__globals__') }}", "t")


def test_gguf_named_and_oversized_templates(tmp_path: Path) -> None:
    import gguf

    from unified_supply_chain import limits

    writer = gguf.GGUFWriter(tmp_path / "m.gguf", "llama")
    writer.add_chat_template(
        [
            {"name": "default", "template": "{{ messages }}"},
            {"name": "tool_use", "template": "{{ joiner.__init__.__globals__ }}"},
        ]
    )
    writer.add_string("general.name", "m")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    findings = scan_file(tmp_path / "m.gguf", "m.gguf", "gguf")
    assert [(f.severity, f.path) for f in findings] == [
        (Severity.HIGH, "m.gguf!tokenizer.chat_template.tool_use")
    ]
    # A template past the analysis cap (a payload placed far in) could not be verified: HIGH.
    big = "{{ messages }}" + " " * (limits.MAX_GGUF_CHAT_TEMPLATE + 10) + "{{ ''.__class__ }}"
    writer = gguf.GGUFWriter(tmp_path / "big.gguf", "llama")
    writer.add_chat_template(big)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    findings = scan_file(tmp_path / "big.gguf", "big.gguf", "gguf")
    assert [f.severity for f in findings] == [Severity.HIGH]
    assert findings[0].rule == "suspicious-chat-template"


# --- Robustness and the canary. --------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"", b"PK\x03\x04broken", b"\x1f\x8bnot gzip", b"\x93NUMPY\x09\x00", b"\x80\x04\x95"],
)
def test_bad_input_never_raises(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(content)
    findings = scan_file(path, "f.bin", "pickle")
    assert all(f.severity is Severity.HIGH for f in findings)
    if content:
        assert findings, content


def test_corrupt_gguf_is_left_to_the_reader(tmp_path: Path) -> None:
    path = tmp_path / "m.gguf"
    path.write_bytes(b"GGUF\x03\x00\x00\x00garbage")
    assert scan_file(path, "m.gguf", "gguf") == []


def test_missing_file_is_unscannable(tmp_path: Path) -> None:
    findings = scan_file(tmp_path / "nope.pkl", "nope.pkl", "pickle")
    assert [f.severity for f in findings] == [Severity.HIGH]


def _hostile_set(tmp_path: Path, canary: Path, canary2: Path) -> Iterator[tuple[Path, str]]:
    touch = f"touch {canary}"
    write = f"open({str(canary2)!r}, 'w').close()"
    for protocol in PROTOCOLS:
        p = tmp_path / f"sys{protocol}.pkl"
        p.write_bytes(system_payload(touch, protocol))
        yield p, "pickle"
        p = tmp_path / f"exec{protocol}.bin"
        p.write_bytes(exec_payload(write, protocol))
        yield p, "pickle"
    for name, data in (
        ("memo.pkl", memo_trick(touch)),
        ("chain.pkl", getattr_chain(touch)),
        ("inst.pkl", inst_payload(touch)),
        ("obj.pkl", obj_payload(touch)),
        ("sg.pkl", stack_global_eval(f"__import__('os').system({touch!r})")),
    ):
        p = tmp_path / name
        p.write_bytes(data)
        yield p, "pickle"
    yield (
        torch_zip(
            tmp_path / "z.pt",
            {"a/data.pkl": system_payload(touch, 2), "a/odd": proto0_global(touch)},
        ),
        "pytorch",
    )
    p = tmp_path / "z.joblib"
    p.write_bytes(zlib.compress(exec_payload(write, 4)))
    yield p, "joblib"


def test_canary_never_appears(tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    canary2 = tmp_path / "canary2"
    scanned = 0
    for path, fmt in _hostile_set(tmp_path, canary, canary2):
        findings = scan_file(path, path.name, fmt)
        assert Severity.CRITICAL in severities(findings), path
        scanned += 1
    assert scanned == 19
    assert not canary.exists()
    assert not canary2.exists()


# --- Content detection inside containers: no noise, no blind spots. ---------------------------


def test_data_members_that_start_like_pickles_are_not_noise(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    noise = b"\x80\x02" + rng.integers(0, 256, 20_000, dtype=np.uint8).tobytes()
    path = torch_zip(
        tmp_path / "m.pt",
        {
            "archive/data/0": noise,
            "archive/README": b"This is a readme, it is text.\n" * 300,
            "archive/data/1": b"N" * 10 + rng.integers(0, 256, 9000, dtype=np.uint8).tobytes(),
            "archive/constants": b"(lp0\nI1\naI2\na.",  # a benign protocol-0 pickle
        },
    )
    assert scan_file(path, "m.pt", "pytorch") == []


def test_protocol0_payload_after_a_long_benign_start(tmp_path: Path) -> None:
    # The dangerous global comes only after the 4 KiB the scanner sniffs.
    payload = b"N0" * 5000 + proto0_global("id")
    path = torch_zip(tmp_path / "m.pt", {"archive/data/9": payload})
    assert_critical(scan_file(path, "m.pt", "pytorch"), "os.system")


def test_large_pickles_stream_without_picklescan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from unified_supply_chain import limits

    monkeypatch.setattr(limits, "MAX_PICKLE_DECOMPRESS", 10_000)
    data = pickle.dumps({"blob": b"\x00" * 200_000, "evil": Reduce(os.system, "id")}, protocol=4)
    path = tmp_path / "big.pkl"
    path.write_bytes(data)
    assert_critical(scan_file(path, "big.pkl", "pickle"), "posix.system")
    benign = tmp_path / "big-ok.pkl"
    benign.write_bytes(pickle.dumps({"blob": b"\x01" * 200_000}, protocol=4))
    assert scan_file(benign, "big-ok.pkl", "pickle") == []


def test_deeply_nested_structures_do_not_escape() -> None:
    deep = b"\x80\x02" + b"]" * 50_000 + b"a" * 49_999 + b"."
    assert scan_pickle_bytes(deep, "deep.pkl") == []
    marks = b"(" * 100_000 + b"."
    assert all(f.severity is Severity.HIGH for f in scan_pickle_bytes(marks, "m.pkl"))


# --- Property: the scanner never raises, whatever the bytes. ---------------------------------

_SEEDS = [
    system_payload("id", 0),
    system_payload("id", 4),
    memo_trick("id"),
    getattr_chain("id"),
    inst_payload("id"),
    pickle.dumps({"a": [1, 2.5, "x", b"y", (None, True)]}, protocol=2),
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=512))
def test_random_bytes_never_raise(data: bytes) -> None:
    for f in scan_pickle_bytes(data, "r.pkl"):
        assert f.rule == "unsafe-serialization"


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(_SEEDS),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=8),
    st.integers(0, 10_000),
)
def test_mutated_pickles_never_raise(seed: bytes, flips: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(seed)
    for pos, value in flips:
        data[pos % len(data)] = value
    findings = scan_pickle_bytes(bytes(data[: max(1, cut % (len(data) + 1))]), "m.pkl")
    assert all(isinstance(f, Finding) for f in findings)
