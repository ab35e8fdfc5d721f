"""The shared pickle machine: one walk for the format reader and the safety scan, never loading.

Pickles are written by `pickle`, `joblib` and scikit-learn, or byte by byte; the unpickling entry
points of `pickle` and `_pickle` are replaced by functions that fail the test.
"""

from __future__ import annotations

import io
import os
import pickle
import zlib
from pathlib import Path
from typing import Any

import joblib
import joblib.numpy_pickle_compat
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tests.helpers import Reduce, inst_payload, obj_payload, refuse_unpickling, sbu
from unified_supply_chain.discover import classify
from unified_supply_chain.errors import FormatError
from unified_supply_chain.formats import _pickle, _sniff
from unified_supply_chain.formats.pickles import decompressed_pickle, read_pickle
from unified_supply_chain.policy import scan_file
from unified_supply_chain.records import Finding, Severity
from unified_supply_chain.safety.pickle_scan import (
    findings_for,
    is_allowed_global,
)


@pytest.fixture(autouse=True)
def no_unpickling(monkeypatch: pytest.MonkeyPatch) -> None:
    refuse_unpickling(monkeypatch)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the code under test tried to unpickle")

    monkeypatch.setattr(joblib, "load", refuse)


def _fitted_pipeline() -> Any:
    x = np.arange(40, dtype=float).reshape(20, 2)
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(x, np.array([0, 1] * 10))


def _joblib_file(tmp_path: Path, obj: object, name: str = "m.joblib", **kw: Any) -> Path:
    path = tmp_path / name
    joblib.dump(obj, path, **kw)
    return path


def _zfile(payload: bytes, *, space: bool = False) -> bytes:
    buf = io.BytesIO()
    joblib.numpy_pickle_compat.write_zfile(buf, payload)
    data = buf.getvalue()
    # joblib <= 0.8.4 (Python 2) wrote one more header character: a space before the zlib data.
    return data[:21] + b" " + data[21:] if space else data


# --- Legacy joblib "ZF" files: the header is 21 bytes, as joblib itself reads it. -------------


@pytest.mark.parametrize("space", [False, True])
def test_zfile_header_is_read_as_joblib_reads_it(tmp_path: Path, space: bool) -> None:
    # joblib/joblib, joblib/numpy_pickle_compat.py, read_zfile():
    #   header_length = len(_ZFILE_PREFIX) + _MAX_LEN, with _MAX_LEN = len(hex_str(2 ** 64)) = 19
    # so the zlib data starts at byte 21, or 22 after the optional space of joblib <= 0.8.4.
    # The reader used to seek to byte 19 and took the header's padding for zlib data.
    assert _sniff.ZFILE_HEADER == 21
    raw = pickle.dumps({"model": _fitted_pipeline()}, protocol=2)
    path = tmp_path / "old.pkl"
    path.write_bytes(_zfile(raw, space=space))
    info = read_pickle(path)
    assert info.format == "joblib"
    assert info.properties["compression"] == "zlib-legacy"
    assert info.architecture == "Pipeline"
    assert "pickle.walk_stopped" not in info.properties
    assert decompressed_pickle(path) == raw
    hostile = tmp_path / "old_hostile.pkl"
    hostile.write_bytes(_zfile(pickle.dumps(Reduce(os.system, "id"), protocol=2), space=space))
    findings = scan_file(hostile, hostile.name, "joblib")
    assert [f.severity for f in findings] == [Severity.CRITICAL]
    assert "posix.system" in findings[0].details


# --- One walk: the reader and the safety scan see the same globals. ---------------------------


def _streams(tmp_path: Path) -> dict[str, bytes]:
    model = _fitted_pipeline()
    streams = {f"system-p{p}": pickle.dumps(Reduce(os.system, "id"), protocol=p) for p in range(6)}
    streams["memo-stack-global"] = (
        b"\x80\x04" + sbu("posix") + b"\x94" + sbu("system") + b"\x940"
        b"0h\x00h\x01\x93" + sbu("id") + b"\x85R."
    )
    streams["inst"] = inst_payload("id")
    streams["obj"] = obj_payload("id")
    streams["sklearn-pickle"] = pickle.dumps(model, protocol=4)
    # The payload sits after joblib's raw array bytes: both must step over them to see it.
    joblib_path = _joblib_file(tmp_path, {"model": model, "hook": Reduce(os.system, "id")})
    streams["joblib-dump"] = joblib_path.read_bytes()
    streams["joblib-objects"] = _joblib_file(
        tmp_path, {"a": np.array([{"k": Reduce(exec, "1")}, "x"], dtype=object)}, "o.joblib"
    ).read_bytes()
    return streams


def test_reader_and_safety_scan_see_the_same_globals(tmp_path: Path) -> None:
    for label, data in _streams(tmp_path).items():
        path = tmp_path / f"{label}.pkl"
        path.write_bytes(data)
        props = read_pickle(path).properties
        reader = props["pickle.globals"].split(",")
        assert props["pickle.global_count"] == str(len(reader)), label
        with path.open("rb") as fh:
            scanned = [name for name, _ in _pickle.walk(fh, len(data), max_streams=None).globals]
        assert reader == scanned, label
        with path.open("rb") as fh:
            ours = findings_for(path.name, _pickle.walk(fh, len(data), max_streams=None))
        expected = {n for n in reader if not is_allowed_global(*n.rsplit(".", 1))}
        assert _flagged(ours) == expected, label
        # The file scan adds picklescan's second opinion (it may name more, never fewer).
        findings = scan_file(path, path.name, "pickle")
        assert _flagged(findings) >= expected, label
        assert Severity.MEDIUM not in {f.severity for f in findings}, label


def _flagged(findings: list[Finding]) -> set[str]:
    return {d for f in findings for d in f.details if not d.startswith("error:")}


# --- Where the two walkers disagreed: CPython's pickle._Unpickler decides. --------------------


def test_joblib_dump_is_walked_past_its_array_bytes(tmp_path: Path) -> None:
    # joblib writes each array's raw bytes right after its NumpyArrayWrapper's BUILD; the reader
    # used to stop there ("pickle.walk_stopped") and missed every global after the first array.
    path = _joblib_file(tmp_path, _fitted_pipeline())
    info = read_pickle(path)
    assert info.format == "joblib" and info.architecture == "Pipeline"
    assert "pickle.walk_stopped" not in info.properties
    assert "pickle.walk" not in info.properties
    names = info.properties["pickle.globals"].split(",")
    assert "sklearn.linear_model._logistic.LogisticRegression" in names
    assert "joblib.numpy_pickle.NumpyArrayWrapper" in names


def test_joblib_compressed_dump_is_walked_to_its_end(tmp_path: Path) -> None:
    path = _joblib_file(tmp_path, _fitted_pipeline(), compress=3)
    info = read_pickle(path)
    assert info.properties["compression"] == "zlib"
    assert "pickle.walk_stopped" not in info.properties
    assert "sklearn.linear_model._logistic.LogisticRegression" in info.properties["pickle.globals"]


@pytest.mark.parametrize("data", [b".", b"\x80\x02."])
def test_stop_on_an_empty_stack_is_an_error(tmp_path: Path, data: bytes) -> None:
    # load_stop pops the stack: an empty one is an underflow (the reader used to accept it).
    path = tmp_path / "empty.pkl"
    path.write_bytes(data)
    with pytest.raises(FormatError, match="stack underflow"):
        read_pickle(path)
    findings = scan_file(path, path.name, "pickle")
    assert [f.severity for f in findings] == [Severity.HIGH]


def test_stop_returns_the_top_of_the_stack() -> None:
    # load_stop returns stack.pop(), whatever lies below (the reader used to report no value).
    assert _pickle.walk_bytes(b"\x80\x02K\x01K\x02.").value == 2


def test_dict_with_an_odd_number_of_items_is_an_error(tmp_path: Path) -> None:
    # load_dict pairs items[i] with items[i + 1]: an odd count fails (the reader used to accept).
    path = tmp_path / "odd.pkl"
    path.write_bytes(b"\x80\x02(K\x01d.")
    with pytest.raises(FormatError, match="odd number of items"):
        read_pickle(path)


# --- The machine itself. -----------------------------------------------------------------------


def test_references_and_call_sites_carry_positions() -> None:
    data = (
        b"\x80\x04"  # 0
        + sbu("builtins")  # 2
        + b"\x94"  # 12 MEMOIZE 0
        + sbu("eval")  # 13
        + b"\x93"  # 19 STACK_GLOBAL
        + sbu("1")  # 20
        + b"\x85"  # 23 TUPLE1
        + b"R"  # 24 REDUCE
        + b"0"  # 25 POP
        + b"h\x00"  # 26 BINGET 0
        + sbu("Thing")  # 28
        + b"\x93"  # 35 STACK_GLOBAL
        + b")\x81"  # 36 EMPTY_TUPLE, 37 NEWOBJ
        + b"}b"  # 38 EMPTY_DICT, 39 BUILD
        + b"."
    )
    found = _pickle.walk_bytes(data)
    assert found.complete and found.error is None
    assert [(r.dotted, r.offset, r.opcode) for r in found.references] == [
        ("builtins.eval", 19, "STACK_GLOBAL"),
        ("builtins.Thing", 35, "STACK_GLOBAL"),
    ]
    assert [(c.module, c.name, c.offset, c.opcode) for c in found.calls] == [
        ("builtins", "eval", 24, "REDUCE"),
        ("builtins", "Thing", 37, "NEWOBJ"),
    ]


def test_unresolved_stack_global_and_extension_codes() -> None:
    data = b"\x80\x04K\x01K\x02\x93)R\x82\x07."  # STACK_GLOBAL on ints, EXT1 7
    found = _pickle.walk_bytes(data)
    assert found.unresolved == 1 and found.globals == (("?", 1),)
    assert found.extensions == (7,)


def test_several_streams_after_stop() -> None:
    data = pickle.dumps(1, protocol=2) + pickle.dumps("two", protocol=2) + b"\x00raw storage"
    found = _pickle.walk_bytes(data, max_streams=None)
    # Raw bytes after complete streams are not an error (legacy torch files end with storages).
    assert found.streams == 2 and found.error is None and found.value == "two"
    one = _pickle.walk_bytes(data)
    assert one.streams == 1 and one.value == 1 and one.end == len(pickle.dumps(1, protocol=2))


def test_empty_data_holds_no_streams_but_is_no_pickle(tmp_path: Path) -> None:
    assert _pickle.walk_bytes(b"", max_streams=None).error is None
    assert _pickle.walk_bytes(b"").error == "pickle ends at byte 0 without STOP"
    path = tmp_path / "empty.pkl"
    path.write_bytes(b"")
    assert scan_file(path, path.name, "pickle") == []  # nothing to load, nothing to run
    with pytest.raises(FormatError, match="empty file"):
        read_pickle(path)


class _CountingReader(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, n: int | None = -1) -> bytes:
        chunk = super().read(n)
        self.bytes_read += len(chunk)
        return chunk


def test_long_arguments_are_seeked_over_not_read() -> None:
    data = pickle.dumps({"weights": b"\x00" * (40 << 20), "name": "net"}, protocol=4)
    fh = _CountingReader(data)
    found = _pickle.walk(fh, len(data))
    assert found.complete and found.error is None
    assert fh.bytes_read < 3 << 20  # a window or two, not the 40 MiB argument


def test_opcode_cap_is_not_an_error_for_the_reader_but_is_for_the_scan(tmp_path: Path) -> None:
    data = pickle.dumps(list(range(100)), protocol=2)
    found = _pickle.walk(None, len(data), data=data, max_opcodes=10)
    assert found.capped and not found.complete and found.error is None and found.opcodes == 10


def test_is_pickle_start_matches_classify() -> None:
    for protocol in range(8):
        for code in range(256):
            head = bytes([0x80, protocol, code])
            found = classify.classify(head + b"\x00" * 16, "x.bin")
            by_classify = found in ("pickle", "joblib", "pytorch-legacy")
            assert _sniff.is_pickle_start(head) == by_classify, head
    assert not _sniff.is_pickle_start(b"\x80\x02")


def test_decompress_prefix_tells_a_cut_from_a_longer_stream(tmp_path: Path) -> None:
    raw = bytes(range(256)) * 8
    path = tmp_path / "z"
    path.write_bytes(zlib.compress(raw))
    with path.open("rb") as fh:
        exact = _sniff.decompress_prefix(fh, "zlib", len(raw))
        assert exact is not None and exact.data == raw and exact.ended and not exact.more
        short = _sniff.decompress_prefix(fh, "zlib", 100)
        assert short is not None and short.data == raw[:100] and short.more
    path.write_bytes(zlib.compress(raw)[:40])
    with path.open("rb") as fh:
        cut = _sniff.decompress_prefix(fh, "zlib", 1 << 20)
        assert cut is not None and not cut.ended and not cut.more
    with pytest.raises(FormatError, match="truncated"):
        decompressed_pickle(path)
