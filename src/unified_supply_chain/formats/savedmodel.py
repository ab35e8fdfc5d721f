"""TensorFlow SavedModel directories: saved_model.pb read by a small protobuf wire-format walk.

Only the SavedModel envelope is walked (schema version, meta graphs, their tags, signature names
and TensorFlow version); graph definitions and object graphs are skipped by seeking, so a large
graph costs nothing. No TensorFlow, no protobuf runtime.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from unified_supply_chain import limits, safeparse
from unified_supply_chain.errors import FormatError, LimitExceeded
from unified_supply_chain.records import HeaderInfo

#: Longest string field (tag, signature name, version) we read; longer ones are skipped.
MAX_STRING = 4096
#: Tags and signature names listed per file.
MAX_LISTED = 100
#: Fields visited in one walk (meta graphs hold a few dozen; a hostile file could hold millions).
MAX_FIELDS = 1_000_000
#: Files listed by savedmodel_members.
MAX_MEMBERS = 10_000

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5


class _Walker:
    """Wire-format walk over a byte range of a seekable file."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.fields = 0

    def _varint(self, pos: int, end: int) -> tuple[int, int]:
        result = shift = 0
        while True:
            if pos >= end or shift > 63:
                raise FormatError(f"protobuf varint runs past byte {pos}")
            self.fh.seek(pos)
            byte = self.fh.read(1)
            if not byte:
                raise FormatError(f"protobuf truncated at byte {pos}")
            result |= (byte[0] & 0x7F) << shift
            shift += 7
            pos += 1
            if not byte[0] & 0x80:
                return result, pos

    def fields_of(self, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
        """Yield (field number, wire type, value or payload offset, payload length)."""
        pos = start
        while pos < end:
            self.fields += 1
            if self.fields > MAX_FIELDS:
                raise LimitExceeded(f"more than {MAX_FIELDS} protobuf fields")
            key, pos = self._varint(pos, end)
            number, wire = key >> 3, key & 7
            if number == 0:
                raise FormatError(f"protobuf field number 0 at byte {pos}")
            if wire == _VARINT:
                value, pos = self._varint(pos, end)
                yield number, wire, value, 0
            elif wire == _LEN:
                length, pos = self._varint(pos, end)
                if pos + length > end:
                    raise FormatError(f"protobuf field {number} of {length} bytes overruns")
                yield number, wire, pos, length
                pos += length
            elif wire in (_I64, _I32):
                width = 8 if wire == _I64 else 4
                if pos + width > end:
                    raise FormatError(f"protobuf field {number} overruns")
                yield number, wire, pos, width
                pos += width
            else:
                raise FormatError(f"protobuf wire type {wire} (field {number}) not expected here")

    def string(self, offset: int, length: int) -> str | None:
        if length > MAX_STRING:
            return None
        self.fh.seek(offset)
        return self.fh.read(length).decode("utf-8", "replace")


def _meta_graph(walker: _Walker, start: int, end: int, out: dict[str, list[str]]) -> None:
    for number, wire, offset, length in walker.fields_of(start, end):
        if wire != _LEN:
            continue
        if number == 1:  # meta_info_def
            for sub, sub_wire, sub_off, sub_len in walker.fields_of(offset, offset + length):
                if sub_wire != _LEN:
                    continue
                text = walker.string(sub_off, sub_len) if sub in (1, 4, 5) else None
                if text is None:
                    continue
                key = {1: "meta_graph_version", 4: "tags", 5: "tensorflow_version"}[sub]
                out.setdefault(key, []).append(text)
        elif number == 5:  # signature_def map entry: key = 1, value = 2
            for sub, sub_wire, sub_off, sub_len in walker.fields_of(offset, offset + length):
                if sub == 1 and sub_wire == _LEN:
                    name = walker.string(sub_off, sub_len)
                    if name is not None:
                        out.setdefault("signatures", []).append(name)
        # graph_def (2), saver_def (3), collection_def (4), object_graph_def (7): skipped.


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))[:MAX_LISTED]


_PBTXT_PATTERNS = {
    "tags": re.compile(r"\btags:\s*\"((?:[^\"\\\n]|\\.){0,4096})\""),
    "signatures": re.compile(r"\bsignature_def\s*\{\s*key:\s*\"((?:[^\"\\\n]|\\.){0,4096})\""),
    "tensorflow_version": re.compile(r"\btensorflow_version:\s*\"([^\"\n]{0,256})\""),
}


def _read_pbtxt(path: Path) -> HeaderInfo:
    """The same facts from a text-format saved_model.pbtxt, by bounded pattern search."""
    text = safeparse.read_text_bounded(path, limits.MAX_SAVED_MODEL_PB)
    graphs = len(re.findall(r"(?m)^meta_graphs\s*\{", text))
    if graphs == 0:
        raise FormatError("saved_model.pbtxt holds no meta_graphs block")
    found = {key: pattern.findall(text) for key, pattern in _PBTXT_PATTERNS.items()}
    schema = re.search(r"(?m)^saved_model_schema_version:\s*(\d{1,9})", text)
    return _header(graphs, int(schema.group(1)) if schema else None, found)


def _header(graphs: int, schema: int | None, found: dict[str, list[str]]) -> HeaderInfo:
    properties = {"meta_graph_count": str(graphs)}
    if schema is not None:
        properties["schema_version"] = str(schema)
    tags = _unique(found.get("tags", []))
    if tags:
        properties["tags"] = ",".join(tags)
    signatures = _unique(found.get("signatures", []))
    properties["signature_count"] = str(len(signatures))
    if signatures:
        properties["signatures"] = ",".join(signatures)
    versions = _unique(found.get("tensorflow_version", []))
    if versions:
        properties["tensorflow_version"] = versions[0]
    return HeaderInfo(format="tf-savedmodel", properties=properties)


def read_saved_model(path: Path) -> HeaderInfo:
    """Read a SavedModel's saved_model.pb (or .pbtxt) envelope. Raises FormatError only."""
    if path.name.endswith(".pbtxt"):
        return _read_pbtxt(path)
    schema: int | None = None
    graphs = 0
    found: dict[str, list[str]] = {}
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, 2)
            if size == 0:
                raise FormatError("empty saved_model.pb")
            if size > limits.MAX_SAVED_MODEL_PB:
                raise LimitExceeded(
                    f"saved_model.pb of {size} bytes (limit {limits.MAX_SAVED_MODEL_PB})"
                )
            walker = _Walker(fh)
            for number, wire, value, length in walker.fields_of(0, size):
                if number == 1 and wire == _VARINT:
                    schema = value
                elif number == 2 and wire == _LEN:
                    graphs += 1
                    _meta_graph(walker, value, value + length, found)
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}") from exc
    if graphs == 0:
        raise FormatError("saved_model.pb holds no meta graph")
    return _header(graphs, schema, found)


def savedmodel_members(directory: Path) -> list[str]:
    """Relative POSIX names of the files that make up the SavedModel in `directory`, sorted.

    saved_model.pb(txt), fingerprint.pb, keras_metadata.pb, variables/* and assets(.extra)/*;
    symbolic links are never listed or followed.
    """
    members: list[str] = []
    for name in ("saved_model.pb", "saved_model.pbtxt", "fingerprint.pb", "keras_metadata.pb"):
        candidate = directory / name
        if candidate.is_file() and not candidate.is_symlink():
            members.append(name)
    for sub in ("variables", "assets", "assets.extra"):
        base = directory / sub
        if not base.is_dir() or base.is_symlink():
            continue
        for root, dirs, files in os.walk(base, followlinks=False):
            dirs[:] = sorted(d for d in dirs if not Path(root, d).is_symlink())
            for file in sorted(files):
                full = Path(root, file)
                if full.is_symlink() or not full.is_file():
                    continue
                members.append(full.relative_to(directory).as_posix())
                if len(members) > MAX_MEMBERS:
                    raise LimitExceeded(f"SavedModel holds more than {MAX_MEMBERS} files")
    return sorted(members)


# --- Registry entries. -------------------------------------------------------------------------

from unified_supply_chain.formats import DirectoryModelSpec, FormatSpec, Kind, Sniff  # noqa: E402

_NAMES = ("saved_model.pb", "saved_model.pbtxt")


def sniff_saved_model_name(head: bytes, name: str) -> bool:
    """A SavedModel's graph file, whatever protobuf its first bytes resemble (ONNX's)."""
    return name in _NAMES


SPECS = (
    FormatSpec(
        id="tf-savedmodel",
        kind=Kind.MODEL,
        description="saved_model.pb / saved_model.pbtxt",
        names=_NAMES,
        sniffs=(Sniff(110, sniff_saved_model_name, needs_name=True),),
        reader=read_saved_model,
    ),
)

DIRECTORY_MODELS = (DirectoryModelSpec(id="tf-savedmodel", markers=_NAMES),)
