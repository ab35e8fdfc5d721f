"""Raw pickle and joblib readers: opcode walks over generated pickles, which are never loaded."""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import pickle
import pickletools
import sys
import types
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.format_helpers import assert_each_is_format_error
from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError
from unified_supply_chain.formats import pickles
from unified_supply_chain.formats.pickles import read_pickle, walk_pickle_bytes


class LogisticRegression:
    """Pickled under scikit-learn's module name; the pickle is only ever written."""

    def __init__(self) -> None:
        self.coef_ = [[0.5, -0.25, 1.0]]
        self.intercept_ = [0.1]
        self.classes_ = ["a", "b"]


LogisticRegression.__module__ = "sklearn.linear_model._logistic"
LogisticRegression.__qualname__ = "LogisticRegression"


class NumpyArrayWrapper:
    """Pickled under joblib's module name, like joblib's inline-array marker."""


NumpyArrayWrapper.__module__ = "joblib.numpy_pickle"


@contextlib.contextmanager
def _fake_module(name: str, **attrs: object) -> Iterator[None]:
    """Register `name` (and its parent packages) in sys.modules while a pickle is dumped."""
    parts = name.split(".")
    names = [".".join(parts[: i + 1]) for i in range(len(parts))]
    saved = {n: sys.modules.get(n) for n in names}
    for n in names:
        sys.modules[n] = types.ModuleType(n)
    for key, value in attrs.items():
        setattr(sys.modules[name], key, value)
    try:
        yield
    finally:
        for n, old in saved.items():
            if old is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = old


def _dump_sklearn(protocol: int) -> bytes:
    # pickle checks that the class is importable under its module name while dumping.
    with _fake_module("sklearn.linear_model._logistic", LogisticRegression=LogisticRegression):
        return pickle.dumps({"model": LogisticRegression(), "version": "1.5"}, protocol=protocol)


@pytest.mark.parametrize("protocol", [0, 1, 2, 3, 4, 5])
def test_sklearn_like_pickle_every_protocol(tmp_path: Path, protocol: int) -> None:
    path = tmp_path / "model.pkl"
    path.write_bytes(_dump_sklearn(protocol))
    info = read_pickle(path)
    assert info.format == "pickle"
    assert info.architecture == "LogisticRegression"
    assert info.pickle_members == ("",)
    assert "sklearn.linear_model._logistic.LogisticRegression" in info.properties["pickle.globals"]
    assert info.properties["protocol"] == str(max(protocol, 2) if protocol >= 2 else protocol)
    ops = sum(1 for _ in pickletools.genops(io.BytesIO(path.read_bytes())))
    assert info.properties["opcode_count"] == str(ops)
    assert "pickle.walk" not in info.properties


def test_globals_are_ordered_and_counted(tmp_path: Path) -> None:
    data = b"\x80\x02cos\nsystem\nq\x00cbuiltins\neval\nq\x01cos\nsystem\nq\x02\x85q\x03\x86q\x04."
    walk = walk_pickle_bytes(data)
    assert walk.globals == (("os.system", 2), ("builtins.eval", 1))
    assert walk.complete and walk.protocol == 2 and walk.end == len(data)


def test_stack_global_through_memo(tmp_path: Path) -> None:
    # protocol 4 STACK_GLOBAL whose module string is fetched back from the memo.
    data = pickle.dumps([pickletools.genops, pickletools.dis], protocol=4)
    walk = walk_pickle_bytes(data)
    names = dict(walk.globals)
    assert names == {"pickletools.genops": 1, "pickletools.dis": 1}


def test_truncated_mid_opcode_is_format_error(tmp_path: Path) -> None:
    data = _dump_sklearn(4)
    cuts = {f"cut{cut}": data[:cut] for cut in (1, 3, len(data) // 2, len(data) - 1)}
    assert_each_is_format_error(read_pickle, tmp_path, cuts, ".pkl")


def test_bad_opcode_and_bad_arguments_are_format_errors(tmp_path: Path) -> None:
    cases = {
        "unknown": b"\x80\x02\xff.",
        "negative_len": b"\x80\x02T\xff\xff\xff\xff.",
        "huge_len": b"\x80\x04\x8e" + (2**62).to_bytes(8, "little") + b".",
        "no_newline": b"cos" + b"x" * 100,
        "bad_int": b"Inot-a-number\n.",
        "empty": b"",
    }
    assert_each_is_format_error(read_pickle, tmp_path, cases, ".pkl")


def test_large_arguments_are_skipped_not_read(tmp_path: Path) -> None:
    blob = b"\x01" * (limits.MAX_PICKLE_ARG_READ * 4)
    path = tmp_path / "big.pkl"
    path.write_bytes(pickle.dumps({"w": blob, "n": "x" * 100}, protocol=4))
    info = read_pickle(path)
    assert info.format == "pickle"
    assert info.properties["pickle.global_count"] == "0"


def test_opcode_cap_gives_partial_walk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "list.pkl"
    path.write_bytes(pickle.dumps(list(range(1000)), protocol=2))
    monkeypatch.setattr(limits, "MAX_PICKLE_OPCODES", 50)
    monkeypatch.setattr(pickles.limits, "MAX_PICKLE_OPCODES", 50)
    walk = pickles.walk_pickle(io.BytesIO(path.read_bytes()), path.stat().st_size, max_opcodes=50)
    assert walk.opcodes == 50 and not walk.complete


def test_a_stream_the_unpickler_rejects_is_not_walked_on(tmp_path: Path) -> None:
    # CPython's Unpickler stops at a TUPLE without MARK (load_tuple -> pop_mark): nothing after
    # it is ever imported, so the walk stops there too instead of guessing names further on.
    path = tmp_path / "odd.pkl"
    path.write_bytes(b"\x80\x02tR0cos\nsystem\n.")  # TUPLE without MARK, REDUCE on nothing
    with pytest.raises(FormatError, match="MARK missing at byte 2"):
        read_pickle(path)
    walk = walk_pickle_bytes(path.read_bytes(), lenient=True)
    assert walk.globals == () and not walk.complete and not walk.truncated


def test_joblib_inline_arrays(tmp_path: Path) -> None:
    with _fake_module("joblib.numpy_pickle", NumpyArrayWrapper=NumpyArrayWrapper):
        head = pickle.dumps(NumpyArrayWrapper(), protocol=4)[:-1]  # drop STOP
    # joblib writes raw array bytes right after the wrapper; a walk cannot step over them.
    path = tmp_path / "model.joblib"
    path.write_bytes(head + b"\xff\xfe\x00\x01" * 16 + b".")
    info = read_pickle(path)
    assert info.format == "joblib"
    assert "pickle.walk_stopped" in info.properties
    assert info.pickle_members == ("",)


@pytest.mark.parametrize(
    ("kind", "compress"),
    [
        ("zlib", zlib.compress),
        ("gzip", gzip.compress),
        ("bz2", bz2.compress),
        ("xz", lzma.compress),
        ("lzma", lambda d: lzma.compress(d, format=lzma.FORMAT_ALONE)),
    ],
)
def test_compressed_joblib(tmp_path: Path, kind: str, compress: object) -> None:
    assert callable(compress)
    path = tmp_path / "model.joblib"
    path.write_bytes(compress(_dump_sklearn(4)))
    info = read_pickle(path)
    assert info.format == "joblib"
    assert info.properties["compression"] == kind
    assert info.properties["pickle.compressed"] == "true"
    assert info.pickle_members == ("",)
    assert info.architecture == "LogisticRegression"


def test_lz4_is_walked_when_lz4_is_installed(tmp_path: Path) -> None:
    # joblib.dump(..., compress="lz4") writes an lz4 frame (joblib/compressor.py); the lz4
    # package (optional at run time, in the test extra) reads it, corrupt frames are errors.
    import lz4.frame

    path = tmp_path / "m.joblib"
    path.write_bytes(lz4.frame.compress(_dump_sklearn(4)))
    info = read_pickle(path)
    assert info.properties["compression"] == "lz4"
    assert info.properties.get("pickle.walk") != "skipped"
    path.write_bytes(b'\x04"M\x18' + b"\x00" * 32)
    with pytest.raises(FormatError):
        read_pickle(path)


def test_corrupt_compressed_stream_is_format_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.joblib"
    path.write_bytes(zlib.compress(_dump_sklearn(4))[:2] + b"\xff" * 50)
    with pytest.raises(FormatError):
        read_pickle(path)
    path.write_bytes(zlib.compress(b"this is not a pickle at all"))
    with pytest.raises(FormatError):
        read_pickle(path)


def test_compressed_bomb_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_PICKLE_DECOMPRESS", 1024 * 1024)
    payload = b"\x80\x04(" + b"N" * (50 * 1024 * 1024)
    path = tmp_path / "bomb.joblib"
    path.write_bytes(zlib.compress(payload, 9))
    info = read_pickle(path)  # stops at 1 MiB of output
    assert info.properties["pickle.walk"] == "partial"


def test_compression_sniffing() -> None:
    assert pickles.compression_of(zlib.compress(b"x")) == "zlib"
    assert pickles.compression_of(b"\x80\x04\x95") is None
    assert pickles.compression_of(b"(dp0\n") is None
    assert pickles.is_pickle_head(b"\x80\x05") and not pickles.is_pickle_head(b"\x80\x09")


def test_architecture_skips_plumbing() -> None:
    names = [
        "numpy.core.multiarray._reconstruct",
        "copyreg._reconstructor",
        "torch.FloatStorage",
        "sklearn.pipeline.Pipeline",
        "sklearn.preprocessing._data.StandardScaler",
    ]
    assert pickles.architecture_from_globals(names) == "Pipeline"
    assert pickles.architecture_from_globals(["builtins.dict"]) is None
    assert pickles.architecture_from_globals(["__main__.MyNet"]) == "MyNet"


@pytest.mark.parametrize("compress", [zlib.compress, gzip.compress, bz2.compress, lzma.compress])
def test_truncated_compressed_stream_is_format_error(tmp_path: Path, compress: object) -> None:
    assert callable(compress)
    data = compress(_dump_sklearn(4) * 50)
    path = tmp_path / "cut.joblib"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FormatError, match=r"truncated|corrupt"):
        read_pickle(path)
    path.write_bytes(data + b"trailing")  # data after the end of the stream is ignored
    assert read_pickle(path).architecture == "LogisticRegression"


def test_protocol0_lines_longer_than_the_line_cap(tmp_path: Path) -> None:
    # A text pickle with a 300 KB string line, read through the file window (not in memory).
    path = tmp_path / "long.pkl"
    path.write_bytes(pickle.dumps({"key": "v" * 300_000, "n": 7}, protocol=0))
    info = read_pickle(path)
    assert info.properties["protocol"] == "0"
    assert "pickle.walk" not in info.properties
    path.write_bytes(b"cos\nsystem\n(V" + b"x" * 300_000)  # long line that never ends
    with pytest.raises(FormatError, match="past the end"):
        read_pickle(path)


def test_globals_before_a_stack_underflow_are_kept_and_the_walk_stops() -> None:
    # os.system is imported (memo-resolved STACK_GLOBAL) before a TUPLE1 on an empty stack: the
    # unpickler would have imported it, so it is reported; os.popen after the underflow is not.
    data = b"\x80\x04\x8c\x02os\x94\x8c\x06system\x94\x930\x85h\x00\x8c\x05popen\x94\x93."
    walk = walk_pickle_bytes(data, lenient=True)
    assert [name for name, _ in walk.globals] == ["os.system"]
    assert walk.error == "stack underflow at byte 18"
    with pytest.raises(FormatError, match="stack underflow"):
        walk_pickle_bytes(data)


def test_decompressed_pickle_for_the_scanner(tmp_path: Path) -> None:
    raw = _dump_sklearn(4)
    path = tmp_path / "m.joblib"
    path.write_bytes(gzip.compress(raw))
    assert pickles.decompressed_pickle(path) == raw
    assert pickles.decompressed_pickle(path, cap=10) == raw[:10]
    plain = tmp_path / "p.pkl"
    plain.write_bytes(raw)
    assert pickles.decompressed_pickle(plain) is None
