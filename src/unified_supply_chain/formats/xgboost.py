"""XGBoost models saved as JSON or UBJSON (`save_model("m.json"/"m.ubj")`).

Both encode one document (dmlc/xgboost doc/model.schema, "Introduction to Model IO" in the
XGBoost docs): `{"learner": {...}, "version": [major, minor, patch]}` with the objective, the
learner's model parameters and the gradient booster (trees under `model.trees`). JSON files are
recognised by content (`{"learner":` first), never by `.json`. UBJSON (ubjson.org draft 12, as
XGBoost writes it: big-endian numbers, typed arrays `[$<type>#<count>`) is decoded here with
typed arrays skipped by seeking. The legacy binary format (`.model`/`.bin`) has no magic that
sets it apart reliably and is not recognised.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path
from typing import Any, BinaryIO

from unified_supply_chain import limits, safeparse
from unified_supply_chain.errors import FormatError, LimitExceeded
from unified_supply_chain.records import HeaderInfo

_FIXED: dict[bytes, str] = {
    b"i": ">b",
    b"U": ">B",
    b"I": ">h",
    b"l": ">i",
    b"L": ">q",
    b"d": ">f",
    b"D": ">d",
}
_SKIPPED = object()  # a typed numeric array, skipped by seeking


class _Ubj:
    """A bounded UBJSON decoder over a file."""

    def __init__(self, fh: BinaryIO, size: int) -> None:
        self.fh, self.size, self.pos, self.nodes = fh, size, 0, 0

    def read(self, n: int) -> bytes:
        if n < 0 or n > self.size - self.pos:
            raise FormatError(f"truncated UBJSON at byte {self.pos}")
        data = self.fh.read(n)
        if len(data) != n:
            raise FormatError("file shrank while reading")
        self.pos += n
        return data

    def number(self, marker: bytes) -> Any:
        code = _FIXED.get(marker)
        if code is None:
            raise FormatError(f"UBJSON marker {marker!r} is not a number")
        return struct.unpack(code, self.read(struct.calcsize(code)))[0]

    def length(self) -> int:
        value = self.number(self.read(1))
        if not isinstance(value, int) or value < 0:
            raise FormatError(f"bad UBJSON length {value!r}")
        return value

    def string(self) -> str:
        n = self.length()
        if n > limits.MAX_TEXT_PARSE:
            raise LimitExceeded(f"UBJSON string of {n} bytes")
        try:
            return self.read(n).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FormatError("UBJSON string is not UTF-8") from exc

    def value(self, marker: bytes, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > limits.MAX_PARSED_NODES:
            raise LimitExceeded(f"more than {limits.MAX_PARSED_NODES} UBJSON values")
        if depth > limits.MAX_JSON_DEPTH:
            raise LimitExceeded(f"UBJSON nesting deeper than {limits.MAX_JSON_DEPTH}")
        if marker in _FIXED:
            return self.number(marker)
        if marker in (b"S", b"H"):
            return self.string()
        if marker == b"C":
            return self.read(1).decode("latin-1")
        if marker in (b"T", b"F"):
            return marker == b"T"
        if marker == b"Z":
            return None
        if marker == b"[":
            return self.array(depth)
        if marker == b"{":
            return self.object(depth)
        raise FormatError(f"unknown UBJSON marker {marker!r} at byte {self.pos - 1}")

    def _header(self) -> tuple[bytes | None, int | None, bytes]:
        marker = self.read(1)
        kind = count = None
        if marker == b"$":
            kind = self.read(1)
            marker = self.read(1)
        if marker == b"#":
            count = self.length()
            marker = b""
        elif kind is not None:
            raise FormatError("UBJSON typed container without a count")
        return kind, count, marker

    def array(self, depth: int) -> Any:
        kind, count, marker = self._header()
        if kind in _FIXED and count is not None:
            width = struct.calcsize(_FIXED[kind])
            if count * width > self.size - self.pos:
                raise FormatError("UBJSON typed array past the end of the file")
            self.fh.seek(count * width, 1)
            self.pos += count * width
            return _SKIPPED
        items: list[Any] = []
        if count is not None:
            for _ in range(count):
                items.append(self.value(kind or self.read(1), depth + 1))
            return items
        while marker != b"]":
            items.append(self.value(marker, depth + 1))
            marker = self.read(1)
        return items

    def object(self, depth: int) -> dict[str, Any]:
        kind, count, marker = self._header()
        out: dict[str, Any] = {}
        if count is not None:
            for _ in range(count):
                key = self.string()
                out[key] = self.value(kind or self.read(1), depth + 1)
            return out
        while marker != b"}":
            # Keys carry no marker: `marker` already is the first byte of the length's type.
            self.fh.seek(-1, 1)
            self.pos -= 1
            key = self.string()
            out[key] = self.value(self.read(1), depth + 1)
            marker = self.read(1)
        return out


def _load(path: Path) -> tuple[Any, str]:
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, 2)
            fh.seek(0)
            first = fh.read(2)
            if first in (b"{L", b"{i", b"{U"):
                fh.seek(1)
                decoder = _Ubj(fh, size)
                decoder.pos = 1
                return decoder.object(0), "ubj"
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}") from exc
    return safeparse.load_json_file(path), "json"


def _text(value: Any, cap: int = 200) -> str | None:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)[:cap]
    return None


def read_xgboost(path: Path) -> HeaderInfo:
    """Read an XGBoost JSON/UBJSON model's learner parameters. Raises FormatError only."""
    doc, encoding = _load(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("learner"), dict):
        raise FormatError("no 'learner' object: not an XGBoost model")
    learner = doc["learner"]
    version = doc.get("version")
    if not isinstance(version, list) or not all(isinstance(v, int) for v in version):
        raise FormatError("'version' is not a list of integers: not an XGBoost model")
    properties = {"xgboost.version": ".".join(str(v) for v in version[:3]), "encoding": encoding}
    objective = learner.get("objective")
    name = _text(objective.get("name")) if isinstance(objective, dict) else None
    if name:
        properties["objective"] = name
    params = learner.get("learner_model_param")
    if isinstance(params, dict):
        for key in ("num_feature", "num_class", "num_target", "base_score"):
            value = _text(params.get(key))
            if value is not None:
                properties[key] = value
    booster = learner.get("gradient_booster")
    booster_name = _text(booster.get("name")) if isinstance(booster, dict) else None
    if booster_name:
        properties["booster"] = booster_name
    # dart wraps the gbtree under "gbtree"; trees live at model.trees either way.
    tree_host = booster.get("gbtree", booster) if isinstance(booster, dict) else None
    model = tree_host.get("model") if isinstance(tree_host, dict) else None
    trees = model.get("trees") if isinstance(model, dict) else None
    if isinstance(trees, list):
        properties["tree_count"] = str(len(trees))
    names = learner.get("feature_names")
    if isinstance(names, list) and names:
        properties["feature_names"] = ",".join(str(n) for n in names[:50])[:4096]
    return HeaderInfo(
        format="xgboost", properties=properties, architecture=f"xgboost-{booster_name or '?'}"
    )


# --- Registry entry. ---------------------------------------------------------------------------

from unified_supply_chain.formats import FormatSpec, Kind, Sniff  # noqa: E402

_JSON_LEARNER = re.compile(rb'\s*\{\s*"learner"\s*:')
_UBJ_LEARNER = (b"{L" + (7).to_bytes(8, "big"), b"{i\x07", b"{U\x07")


def sniff_xgboost(head: bytes, name: str) -> bool:
    """`{"learner":` opening a JSON document, or UBJSON `{` then a 7-byte key `learner`."""
    if _JSON_LEARNER.match(head):
        return True
    return any(head.startswith(p + b"learner") for p in _UBJ_LEARNER)


SPECS = (
    FormatSpec(
        id="xgboost",
        kind=Kind.MODEL,
        description='JSON starting {"learner": or UBJSON {L..learner; *.ubj (never by .json)',
        extensions=(".ubj",),
        sniffs=(Sniff(131, sniff_xgboost),),
        reader=read_xgboost,
    ),
)
