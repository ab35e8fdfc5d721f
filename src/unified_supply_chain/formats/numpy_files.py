"""NumPy `.npy` and `.npz` files: dtype and shape from the headers, without numpy and without data.

The `.npy` header is a Python dict literal; it is parsed with `ast.literal_eval` (literals only,
no names or calls) after a size cap. Object arrays (`|O`) are pickles and are reported as such.
"""

from __future__ import annotations

import ast
import math
import re
import struct
from pathlib import Path
from typing import Any

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError, LimitExceeded
from unified_supply_chain.formats import _zip as zipsafe
from unified_supply_chain.formats._sniff import TEXT_PICKLE_PROBE, looks_like_pickle
from unified_supply_chain.records import HeaderInfo

NPY_MAGIC = b"\x93NUMPY"
#: Arrays listed in properties["arrays"] of an .npz.
MAX_LISTED_ARRAYS = 50
#: Array names that mark an .npz as data rather than weights (compared lower-case, stem only).
_DATASET_NAMES = frozenset(
    {
        "x",
        "y",
        "x_train",
        "x_test",
        "x_val",
        "y_train",
        "y_test",
        "y_val",
        "features",
        "labels",
        "label",
        "targets",
        "target",
        "images",
        "data",
        "inputs",
        "samples",
    }
)
#: Name fragments that mark an .npz as weights (e.g. "layer1/kernel", "fc.weight", "W", "b").
_MODEL_WORDS = ("weight", "bias", "kernel", "coef", "intercept", "layer", "embedding", "gamma")
_MODEL_EXACT = frozenset({"w", "b", "w1", "w2", "b1", "b2", "theta", "params"})
_SIMPLE_DESCR = re.compile(r"^[<>|=]?([a-zA-Z])(\d+)$")


def _itemsize(descr: str) -> int | None:
    match = _SIMPLE_DESCR.match(descr)
    if match is None:
        return None
    kind, width = match.group(1), int(match.group(2))
    return width * 4 if kind == "U" else width


def _descr_text(descr: Any) -> tuple[str, bool]:
    """(dtype text, holds objects) for a descr that is a string or a structured list."""
    if isinstance(descr, str):
        return descr, "O" in descr.lstrip("<>|=")[:1]
    if isinstance(descr, list):
        texts: list[str] = []
        has_object = False
        for field in descr[:1000]:
            if not (isinstance(field, tuple) and len(field) >= 2):
                raise FormatError("npy header: malformed structured descr")
            sub, obj = _descr_text(field[1])
            texts.append(f"{field[0]}:{sub}")
            has_object = has_object or obj
        return "[" + ",".join(texts) + "]", has_object
    raise FormatError("npy header: descr is neither a string nor a list")


def npy_header_end(head: bytes) -> tuple[int, int]:
    """From the first 12 bytes: (offset of the header text, its length), both checked."""
    if not head.startswith(NPY_MAGIC) or len(head) < 10:
        raise FormatError("not an npy file (no \\x93NUMPY magic)")
    major = head[6]
    if major == 1:
        (length,) = struct.unpack("<H", head[8:10])
        start = 10
    elif major in (2, 3):
        if len(head) < 12:
            raise FormatError("npy header truncated")
        (length,) = struct.unpack("<I", head[8:12])
        start = 12
    else:
        raise FormatError(f"unsupported npy format version {major}.{head[7]}")
    if length > limits.MAX_NPY_HEADER:
        raise LimitExceeded(f"npy header of {length} bytes (limit {limits.MAX_NPY_HEADER})")
    return start, length


def parse_npy_header(head: bytes) -> tuple[dict[str, Any], int]:
    """Parse the header at the start of `head`; return (header dict, data offset).

    `head` must hold the whole header (at most limits.MAX_NPY_HEADER bytes after the preamble).
    """
    start, length = npy_header_end(head)
    major = head[6]
    raw = head[start : start + length]
    if len(raw) != length:
        raise FormatError("npy header truncated")
    try:
        text = raw.decode("utf-8" if major == 3 else "latin-1")
        header = ast.literal_eval(text.strip())
    except (
        ValueError,
        TypeError,
        SyntaxError,
        UnicodeDecodeError,
        MemoryError,
        RecursionError,
    ) as exc:
        raise FormatError(f"npy header is not a plain literal: {exc}") from exc
    if not isinstance(header, dict) or not {"descr", "fortran_order", "shape"} <= set(header):
        raise FormatError("npy header lacks descr/fortran_order/shape")
    shape = header["shape"]
    if not isinstance(shape, tuple) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise FormatError(f"npy header: bad shape {str(shape)[:80]}")
    if len(shape) > 64:
        raise FormatError(f"npy header: {len(shape)} dimensions")
    if not isinstance(header["fortran_order"], bool):
        raise FormatError("npy header: fortran_order is not a boolean")
    return header, start + length


def _describe(header: dict[str, Any]) -> tuple[str, bool, tuple[int, ...], int]:
    dtype, has_object = _descr_text(header["descr"])
    shape: tuple[int, ...] = header["shape"]
    count = math.prod(shape)
    if count >= 2**63:
        raise LimitExceeded(f"npy header declares {count} elements")
    return dtype, has_object, shape, count


def _check_size(dtype: str, count: int, available: int) -> None:
    itemsize = _itemsize(dtype)
    if itemsize is not None and count * itemsize > available:
        raise FormatError(
            f"npy header declares {count} x {itemsize} bytes but only {available} bytes follow"
        )


def read_npy(path: Path) -> HeaderInfo:
    """Read an .npy header. Raises FormatError only."""
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, 2)
            fh.seek(0)
            head = fh.read(12 + limits.MAX_NPY_HEADER)
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}") from exc
    header, offset = parse_npy_header(head)
    dtype, has_object, shape, count = _describe(header)
    properties = {
        "dtype": dtype,
        "shape": "x".join(str(d) for d in shape) or "scalar",
        "fortran_order": "true" if header["fortran_order"] else "false",
    }
    if has_object:
        properties["object_array"] = "true"
        return HeaderInfo(format="npy", properties=properties, pickle_members=("",))
    _check_size(dtype, count, size - offset)
    return HeaderInfo(format="npy", properties=properties, parameter_count=count)


def npz_role(names: list[str]) -> str | None:
    """Guess "dataset" or "model" from array names; None when the names say neither.

    Heuristic: names such as X, y, x_train, features, labels, images, data mean a dataset;
    names containing weight/bias/kernel/coef/layer, or W/b, mean model weights; majority wins.
    """
    data_votes = model_votes = 0
    for name in names:
        stem = name[:-4] if name.endswith(".npy") else name
        low = stem.lower()
        leaf = re.split(r"[/.:]", low)[-1]
        if low in _DATASET_NAMES or leaf in _DATASET_NAMES:
            data_votes += 1
        elif leaf in _MODEL_EXACT or any(word in low for word in _MODEL_WORDS):
            model_votes += 1
    if data_votes == model_votes:
        return None
    return "dataset" if data_votes > model_votes else "model"


def read_npz(path: Path) -> HeaderInfo:
    """List an .npz archive's arrays from their headers only. Raises FormatError only."""
    arrays: list[str] = []
    dtypes: dict[str, None] = {}
    pickles: list[str] = []
    names: list[str] = []
    total = 0
    with zipsafe.ZipReader(path) as reader:
        members = [m for m in reader.listing.members if not m.is_dir]
        for member in members:
            if not member.name.endswith(".npy"):
                # numpy hands such members back as bytes, but a pickle may still hide there.
                probe = reader.read(member.name, TEXT_PICKLE_PROBE, prefix=True)
                if looks_like_pickle(probe):
                    pickles.append(member.name)
                continue
            try:
                start, length = npy_header_end(reader.read(member.name, 12, prefix=True))
                head = reader.read(member.name, start + length, prefix=True)
                header, offset = parse_npy_header(head)
            except FormatError as exc:
                raise FormatError(f"{member.name}: {exc}") from exc
            dtype, has_object, shape, count = _describe(header)
            names.append(member.name)
            dtypes[dtype] = None
            if len(arrays) < MAX_LISTED_ARRAYS:
                shape_text = "x".join(str(d) for d in shape) or "scalar"
                arrays.append(f"{member.name[:-4]}:{shape_text}")
            if has_object:
                pickles.append(member.name)
            else:
                _check_size(dtype, count, member.size - offset)
                total += count
    if not names:
        raise FormatError("zip archive holds no .npy arrays")
    properties = {
        "array_count": str(len(names)),
        "arrays": ",".join(arrays),
        "dtypes": ",".join(dtypes),
    }
    if len(names) > MAX_LISTED_ARRAYS:
        properties["arrays_truncated"] = "true"
    role = npz_role(names)
    if role is not None:
        properties["npz.role"] = role
    if pickles:
        properties["object_arrays"] = str(len(pickles))
    return HeaderInfo(
        format="npz",
        properties=properties,
        parameter_count=total,
        pickle_members=tuple(pickles),
    )


# --- Registry entries. -------------------------------------------------------------------------

from unified_supply_chain.formats import FormatSpec, Kind, Sniff  # noqa: E402
from unified_supply_chain.formats._names import in_data_dir, suffix  # noqa: E402
from unified_supply_chain.formats._zip import first_member, is_zip  # noqa: E402
from unified_supply_chain.records import ArtifactKind  # noqa: E402

NPY_MAGIC = b"\x93NUMPY"


def sniff_npy(head: bytes, name: str) -> bool:
    """numpy's magic string at offset 0."""
    return head.startswith(NPY_MAGIC)


def sniff_npz_name(head: bytes, name: str) -> bool:
    """A zip named *.npz."""
    return is_zip(head) and suffix(name) == ".npz"


def sniff_npz_members(head: bytes, name: str) -> bool:
    """A zip whose first member is an .npy array."""
    member = first_member(head)
    return member is not None and member.endswith(".npy")


def npy_kind(relpath: str, header: HeaderInfo | None) -> ArtifactKind:
    """Arrays under a data directory are data; elsewhere they are weights."""
    return ArtifactKind.DATASET if in_data_dir(relpath) else ArtifactKind.MODEL


def npz_kind(relpath: str, header: HeaderInfo | None) -> ArtifactKind:
    """The reader's verdict on the members first, then where the archive lies."""
    role = header.properties.get("npz.role") if header else None
    if role == "dataset" or (role is None and in_data_dir(relpath)):
        return ArtifactKind.DATASET
    return ArtifactKind.MODEL


SPECS = (
    FormatSpec(
        id="npy",
        kind=Kind.MODEL,
        description="\\x93NUMPY at 0; or *.npy (a dataset under data directories)",
        extensions=(".npy",),
        sniffs=(Sniff(40, sniff_npy),),
        reader=read_npy,
        kind_rule=npy_kind,
        carries_pickles=True,  # object arrays are pickles
        safety="unified_supply_chain.safety.scan:scan_npy",
    ),
    FormatSpec(
        id="npz",
        kind=Kind.MODEL,
        description="zip as *.npz or with a *.npy first member (a dataset under data dirs)",
        extensions=(".npz",),
        sniffs=(Sniff(81, sniff_npz_name, needs_name=True), Sniff(84, sniff_npz_members)),
        reader=read_npz,
        kind_rule=npz_kind,
        carries_pickles=True,
        safety="unified_supply_chain.safety.scan:scan_zip",
    ),
)
