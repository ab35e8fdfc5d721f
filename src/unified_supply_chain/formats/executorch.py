"""ExecuTorch programs (`.pte`): a flatbuffer `Program` read table by table, never its data.

Layout (pytorch/executorch docs/source/pte-file-format.md): bytes 0-3 the root table offset,
bytes 4-7 the file identifier `ET` + two digits (`ET12` in schema/program.fbs), then an optional
extended header at byte 8 (`eh` + two digits, its length, the program data size and the offset
of the data segments that follow). The `Program` table (schema/program.fbs) gives the schema
version, the execution plans (methods) with their values, operators and backend delegates, and
the segments. Each table, vtable, vector and string is bounds-checked and read by seeking; the
bytes read are capped by `limits.MAX_PTE_META_BYTES`, so constant data is never read.
"""

from __future__ import annotations

import re
import struct
from collections import Counter
from pathlib import Path
from typing import BinaryIO

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError
from unified_supply_chain.formats._flatbuffers import FlatBuffer, Table
from unified_supply_chain.records import HeaderInfo

_IDENT = re.compile(rb"ET\d\d")
_EXT_IDENT = re.compile(rb"eh\d\d")
#: Names kept (plans, operators, delegates) and items of one vector walked for names.
MAX_LISTED = 64
MAX_WALKED = 10_000
MAX_STRING = 1024
TOP_OPERATORS = 10


def read_pte(path: Path) -> HeaderInfo:
    """Read an ExecuTorch program's methods, operators and delegates. Raises FormatError only."""
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, 2)
            fh.seek(0)
            head = fh.read(32)
            return _read(fh, size, head)
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}") from exc


def _read(fh: BinaryIO, size: int, head: bytes) -> HeaderInfo:
    if len(head) < 8 or not _IDENT.fullmatch(head[4:8]):
        raise FormatError("no ET.. file identifier at byte 4: not an ExecuTorch program")
    properties = {"file_identifier": head[4:8].decode("ascii")}
    end = size
    if _EXT_IDENT.fullmatch(head[8:12]):
        if len(head) < 32:
            raise FormatError("extended header cut short")
        length, program_size, segment_base = struct.unpack("<IQQ", head[12:32])
        if length < 24 or program_size > size or program_size < 32:
            raise FormatError(f"extended header: program size {program_size} of a {size}-byte file")
        if segment_base and not program_size <= segment_base <= size:
            raise FormatError(f"extended header: segments at {segment_base} of a {size}-byte file")
        properties["extended_header"] = head[8:12].decode("ascii")
        properties["program_size"] = str(program_size)
        end = program_size
    else:
        segment_base = 0
    flat = FlatBuffer(fh, end, max_read=limits.MAX_PTE_META_BYTES, what="ExecuTorch program")
    program = flat.root()
    properties["schema_version"] = str(program.scalar(0, "<I"))
    plan_count, plans = program.vector_length(1), program.tables(1, MAX_WALKED)
    if plan_count == 0:
        raise FormatError("no execution plan: not an ExecuTorch program")
    names: list[str] = []
    operators: Counter[str] = Counter()
    delegates: set[str] = set()
    values = operator_count = 0
    for plan in plans:
        names.append(plan.string(0, MAX_STRING) or "?")
        values += plan.vector(2, 4)[1]
        operator_count += plan.vector_length(6)
        for op in plan.tables(6, MAX_WALKED):
            overload = op.string(1, MAX_STRING)
            operators[(op.string(0, MAX_STRING) or "?") + (f".{overload}" if overload else "")] += 1
        for delegate in plan.tables(7, MAX_WALKED):
            delegates.add(delegate.string(0, MAX_STRING) or "?")
    properties["execution_plans"] = ",".join(names[:MAX_LISTED])
    properties["execution_plan_count"] = str(plan_count)
    properties["value_count"] = str(values)
    properties["operator_count"] = str(operator_count)
    if operators:
        top = operators.most_common(TOP_OPERATORS)
        properties["operators"] = ",".join(name for name, _ in top)
    if delegates:
        properties["delegates"] = ",".join(sorted(delegates)[:MAX_LISTED])
    properties.update(_segments(program, segment_base, size))
    return HeaderInfo(format="executorch", properties=properties)


def _segments(program: Table, base: int, size: int) -> dict[str, str]:
    count, segments = program.vector_length(4), program.tables(4, MAX_WALKED)
    if not count:
        return {}
    if not base:
        raise FormatError("data segments listed without an extended header to place them")
    total = 0
    for segment in segments:
        offset, length = segment.scalar(0, "<Q"), segment.scalar(1, "<Q")
        if base + offset + length > size:
            raise FormatError(f"data segment at {base + offset} of {length} bytes overruns")
        total += length
    return {"segment_count": str(count), "segment_bytes": str(total)}


# --- Registry entry. ---------------------------------------------------------------------------

from unified_supply_chain.formats import FormatSpec, Kind, Sniff  # noqa: E402


def sniff_pte(head: bytes, name: str) -> bool:
    """`ET` + two digits at offset 4 behind a plausible root offset."""
    if len(head) < 8 or not _IDENT.fullmatch(head[4:8]):
        return False
    return 8 <= int.from_bytes(head[:4], "little") < 1 << 31


SPECS = (
    FormatSpec(
        id="executorch",
        kind=Kind.MODEL,
        description=(
            "b'ET..' at 4 (flatbuffer Program); or *.pte. Backend delegates run native code of"
            " the runtime on their blobs; no Python code is stored"
        ),
        extensions=(".pte",),
        sniffs=(Sniff(150, sniff_pte),),
        reader=read_pte,
    ),
)
