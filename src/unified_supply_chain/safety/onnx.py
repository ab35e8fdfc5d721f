"""ONNX: tensors whose `external_data` location leaves the model's directory.

`onnx.load` reads every tensor stored outside the model (`data_location: EXTERNAL`) from the file
named by its `external_data` entry `location`, relative to the model's directory. A location such
as `../../home/u/.ssh/id_rsa`, `/etc/passwd`, `C:\\secrets`, or a symlink pointing outside makes
loading the model read (and then serve, or upload with the model) files it should never see: the
path traversal of CVE-2022-25882 and CVE-2024-27318 in onnx. Such a location is a HIGH
`unsafe-serialization` finding (detail `onnx-external-data: <location>`).

Tensors are found wherever `onnx.external_data_helper._get_all_tensors` finds them (onnx repo,
onnx/external_data_helper.py): graph initializers, sparse initializers, node attribute tensors
(`t`, `tensors`, sparse ones), subgraphs of attributes (`g`, `graphs`), model functions and
training-info graphs. Field numbers are those of onnx/onnx.proto3 (ModelProto, GraphProto,
NodeProto, AttributeProto, TensorProto, SparseTensorProto, FunctionProto, TrainingInfoProto).
The walk reuses the bounded protobuf walker of `formats/_protobuf.py` and never reads raw data.
"""

from __future__ import annotations

import re
from pathlib import Path

from unified_supply_chain.errors import FormatError, LimitExceeded
from unified_supply_chain.formats._protobuf import LEN, Walker
from unified_supply_chain.formats.onnx import metadata_walker
from unified_supply_chain.records import Finding, Severity
from unified_supply_chain.safety.pickle_scan import RULE
from unified_supply_chain.safety.unverified import unverified

#: Deepest nesting of subgraphs (If/Loop/Scan bodies) walked.
MAX_GRAPH_DEPTH = 64
_DRIVE = re.compile(r"^[A-Za-z]:")
#: A location too long for the walker's string cap is reported with this marker.
_UNREADABLE = "\0unreadable"


def external_locations(path: Path) -> list[str]:
    """Every `external_data` location named by any tensor of the model at `path`.

    Raises FormatError (LimitExceeded past the walker's caps) on bad input, OSError on I/O.
    """
    with path.open("rb", buffering=1 << 16) as fh:
        size = fh.seek(0, 2)
        fh.seek(0)
        w = metadata_walker(fh, size)
        found: list[str] = []
        for number, wire, value in w.fields(size):
            if wire != LEN:
                continue
            if number == 7:  # ModelProto.graph
                _graph(w, w.pos + value, found, 0)
            elif number == 25:  # ModelProto.functions: FunctionProto.node = 7
                _nodes_of(w, w.pos + value, 7, found, 0)
            elif number == 20:  # ModelProto.training_info: initialization = 1, algorithm = 2
                _graphs_of(w, w.pos + value, (1, 2), found, 0)
    return found


def _graphs_of(w: Walker, end: int, numbers: tuple[int, ...], found: list[str], depth: int) -> None:
    for number, wire, value in w.fields(end):
        if wire == LEN and number in numbers:
            _graph(w, w.pos + value, found, depth + 1)


def _nodes_of(w: Walker, end: int, node_field: int, found: list[str], depth: int) -> None:
    for number, wire, value in w.fields(end):
        if wire == LEN and number == node_field:
            _node(w, w.pos + value, found, depth)


def _graph(w: Walker, end: int, found: list[str], depth: int) -> None:
    if depth > MAX_GRAPH_DEPTH:
        raise LimitExceeded(f"ONNX subgraphs nested more than {MAX_GRAPH_DEPTH} deep")
    for number, wire, value in w.fields(end):
        if wire != LEN:
            continue
        if number == 1:  # GraphProto.node
            _node(w, w.pos + value, found, depth)
        elif number == 5:  # GraphProto.initializer
            _tensor(w, w.pos + value, found)
        elif number == 15:  # GraphProto.sparse_initializer
            _sparse(w, w.pos + value, found)


def _node(w: Walker, end: int, found: list[str], depth: int) -> None:
    for number, wire, value in w.fields(end):
        if wire == LEN and number == 5:  # NodeProto.attribute
            _attribute(w, w.pos + value, found, depth)


def _attribute(w: Walker, end: int, found: list[str], depth: int) -> None:
    for number, wire, value in w.fields(end):
        if wire != LEN:
            continue
        if number in (5, 10):  # AttributeProto.t, .tensors
            _tensor(w, w.pos + value, found)
        elif number in (6, 11):  # AttributeProto.g, .graphs
            _graph(w, w.pos + value, found, depth + 1)
        elif number in (22, 23):  # AttributeProto.sparse_tensor, .sparse_tensors
            _sparse(w, w.pos + value, found)


def _sparse(w: Walker, end: int, found: list[str]) -> None:
    for number, wire, value in w.fields(end):
        if wire == LEN and number in (1, 2):  # SparseTensorProto.values, .indices
            _tensor(w, w.pos + value, found)


def _tensor(w: Walker, end: int, found: list[str]) -> None:
    for number, wire, value in w.fields(end):
        if wire == LEN and number == 13:  # TensorProto.external_data (StringStringEntryProto)
            key: str | None = None
            location: str | None = None
            unreadable = False
            for sub, sub_wire, sub_value in w.fields(w.pos + value):
                if sub_wire != LEN:
                    continue
                text = w.string(sub_value, "external_data entry")
                if sub == 1:
                    key = text
                elif sub == 2:
                    location, unreadable = text, text is None
            if key == "location":
                found.append(_UNREADABLE if unreadable or location is None else location)


def location_problem(location: str, model_dir: Path | None) -> str | None:
    """Why `location` is not a plain path inside the model's directory, or None when it is."""
    if location == _UNREADABLE:
        return "location longer than the reader's cap"
    if "\0" in location:
        return "location contains a NUL byte"
    if "\\" in location:
        return "location contains a backslash (a path separator on Windows)"
    if location.startswith("/") or _DRIVE.match(location):
        return "location is an absolute path"
    if ".." in location.split("/"):
        return "location climbs out of the model's directory (..)"
    if model_dir is not None:
        base = model_dir.resolve()
        target = (model_dir / location).resolve()
        if not target.is_relative_to(base):
            return "location resolves (through a symlink) outside the model's directory"
    return None


def _finding(relpath: str, location: str, why: str) -> Finding:
    shown = "<too long>" if location == _UNREADABLE else location
    return Finding(
        rule=RULE,
        severity=Severity.HIGH,
        message=f"ONNX external data location {shown!r}: {why}; loading the model reads that file",
        path=relpath,
        details=(f"onnx-external-data: {shown}",),
    )


def scan_onnx(path: Path, relpath: str, fmt: str) -> list[Finding]:
    """External-data locations of an ONNX model that leave its directory (never raises)."""
    try:
        locations = external_locations(path)
    except LimitExceeded as exc:
        return [unverified(relpath, f"ONNX external data locations: {exc}")]
    except (FormatError, OSError, RecursionError):
        return []  # onnx.load refuses a model our walker cannot parse; the reader warns
    findings: list[Finding] = []
    for location in dict.fromkeys(locations):
        why = location_problem(location, path.parent)
        if why is not None:
            findings.append(_finding(relpath, location, why))
    return findings
