"""ExecuTorch `.pte` reader on programs built with the `flatbuffers` library to
pytorch/executorch schema/program.fbs and docs/source/pte-file-format.md (tests/builders/
executorch.py; ExecuTorch needs torch, so no real exporter runs here): the `ET12` identifier at 4,
the `eh00` extended header at 8, and the Program flatbuffer.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.builders.executorch import ExecutionPlan, PteProgram, build, flatbuffer
from tests.unit.format_helpers import (
    MUTATION_SETTINGS,
    assert_each_is_format_error,
    check_mutation,
)
from unified_supply_chain import limits
from unified_supply_chain.discover.classify import classify
from unified_supply_chain.formats.executorch import read_pte


def _plans(*names: str) -> list[ExecutionPlan]:
    return [ExecutionPlan(name) for name in names]


def _field_target(data: bytes, index: int) -> int:
    """Where root table field `index` (an offset field) points: vtable, slot, uoffset."""
    (root,) = struct.unpack_from("<I", data, 0)
    vtable = root - struct.unpack_from("<i", data, root)[0]
    (slot,) = struct.unpack_from("<H", data, vtable + 4 + 2 * index)
    return root + slot + struct.unpack_from("<I", data, root + slot)[0]


def test_program_with_extended_header_and_segment(tmp_path: Path) -> None:
    data = build(PteProgram(plans=_plans("forward", "encode", "decode"), segments=[b"\x07" * 100]))
    path = tmp_path / "m.pte"
    path.write_bytes(data)
    p = read_pte(path).properties
    assert p["file_identifier"] == "ET12"
    assert p["extended_header"] == "eh00"
    assert p["program_size"] == str(struct.unpack("<Q", data[16:24])[0])
    assert p["execution_plans"] == "forward,encode,decode"
    assert (p["value_count"], p["operator_count"]) == ("9", "6")
    assert p["operators"] == "aten::add.out,aten::mm"
    assert p["delegates"] == "XnnpackBackend"
    assert (p["segment_count"], p["segment_bytes"]) == ("1", "100")


def test_program_without_extended_header(tmp_path: Path) -> None:
    path = tmp_path / "old.pte"
    operators = [(f"aten::op{i}", None) for i in range(4)]
    program = PteProgram(version=3, plans=[ExecutionPlan(operators=operators)], segments=[])
    path.write_bytes(build(program))
    p = read_pte(path).properties
    assert "extended_header" not in p
    assert (p["schema_version"], p["operator_count"]) == ("3", "4")


def test_segments_are_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.pte"
    path.write_bytes(build(PteProgram(segments=[b"\0" * (8 << 20)])))
    monkeypatch.setattr(limits, "MAX_PTE_META_BYTES", 64 * 1024)
    assert read_pte(path).properties["segment_bytes"] == str(8 << 20)


def test_sniff_by_content() -> None:
    data = build(PteProgram())
    assert classify(data[:512], "weights.dat") == "executorch"
    assert classify(data[:512], "model.pte") == "executorch"
    # ET12 at 4 behind a root offset of zero is no flatbuffer, nor a file that says ET1x.
    assert classify(b"\0\0\0\0ET12" + b"\0" * 40, "x.dat") is None
    assert classify(b"\x10\0\0\0ET1x" + b"\0" * 40, "x.dat") is None


def test_hostile_programs(tmp_path: Path) -> None:
    good = build(PteProgram())
    no_plans = build(PteProgram(plans=[], segments=[]))
    bad_ext = bytearray(good)
    bad_ext[16:24] = struct.pack("<Q", len(good) * 2)
    bad_base = bytearray(good)
    bad_base[24:32] = struct.pack("<Q", 2**40)
    segment_over = good[:-1]  # the segment's last byte is missing
    root_out = struct.pack("<I", 10**6) + good[4:]
    vtable_out = bytearray(build(PteProgram(segments=[])))
    root = struct.unpack("<I", vtable_out[:4])[0]
    vtable_out[root : root + 4] = struct.pack("<i", -(10**6))
    # The Program flatbuffer lists a segment, but no extended header says where segments start.
    no_ext_segments = flatbuffer(PteProgram(segments=[b"\x01" * 4]))
    vector_over = bytearray(build(PteProgram(segments=[])))
    count_at = _field_target(bytes(vector_over), 1)
    vector_over[count_at : count_at + 4] = struct.pack("<I", 2**30)
    cases = {
        "empty": b"",
        "wrong_identifier": good[:4] + b"TFL3" + good[8:],
        "no_plans": no_plans,
        "program_size_past_end": bytes(bad_ext),
        "segments_past_end": bytes(bad_base),
        "segment_overruns": segment_over,
        "root_out_of_bounds": root_out,
        "vtable_out_of_bounds": bytes(vtable_out),
        "segments_without_header": no_ext_segments,
        "vector_overruns": bytes(vector_over),
        "cut_header": good[:20],
    }
    assert_each_is_format_error(read_pte, tmp_path, cases, ".pte")


@MUTATION_SETTINGS
@given(data=st.data())
def test_mutations_never_crash(tmp_path: Path, data: st.DataObject) -> None:
    seed = build(PteProgram(plans=_plans("forward", "encode"), segments=[b"\1" * 8]))
    check_mutation(tmp_path, data, seed, read_pte, "executorch")
