"""Read a safetensors header: an 8-byte little-endian length, then that many bytes of JSON.

Only the header is read; the tensor data region is never touched, so a multi-GB file costs one
small read. Every declared size and offset is checked against the real file size.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path
from typing import Any

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError, LimitExceeded
from unified_supply_chain.records import HeaderInfo
from unified_supply_chain.safeparse import loads_json

#: Bits per element of each safetensors dtype (sub-byte floats are packed).
DTYPE_BITS: dict[str, int] = {
    "BOOL": 8,
    "U8": 8,
    "I8": 8,
    "F8_E5M2": 8,
    "F8_E4M3": 8,
    "F8_E8M0": 8,
    "I16": 16,
    "U16": 16,
    "F16": 16,
    "BF16": 16,
    "I32": 32,
    "U32": 32,
    "F32": 32,
    "C64": 64,
    "F64": 64,
    "I64": 64,
    "U64": 64,
    "F4": 4,
    "F6_E2M3": 6,
    "F6_E3M2": 6,
}

#: `__metadata__` entries copied into properties, and the longest value kept.
MAX_METADATA_ENTRIES = 64
MAX_METADATA_VALUE = 1024
MAX_DIMS = 64

_ARCHITECTURE_KEYS = ("architecture", "modelspec.architecture", "model_type", "arch")
_LICENSE_KEYS = ("license", "modelspec.license")


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _tensor(name: str, entry: Any, data_len: int) -> tuple[str, int, int, int]:
    """Validate one tensor entry; return (dtype, elements, begin, end)."""
    if not isinstance(entry, dict):
        raise FormatError(f"tensor {name!r}: entry is not an object")
    dtype = entry.get("dtype")
    shape = entry.get("shape")
    offsets = entry.get("data_offsets")
    if not isinstance(dtype, str) or not dtype or len(dtype) > 32:
        raise FormatError(f"tensor {name!r}: missing or invalid dtype")
    if not isinstance(shape, list) or len(shape) > MAX_DIMS:
        raise FormatError(f"tensor {name!r}: missing or invalid shape")
    dims = [_int(d) for d in shape]
    if any(d is None or d < 0 for d in dims):
        raise FormatError(f"tensor {name!r}: shape must hold non-negative integers")
    elements = math.prod(d for d in dims if d is not None)
    if not isinstance(offsets, list) or len(offsets) != 2:
        raise FormatError(f"tensor {name!r}: data_offsets must be [begin, end]")
    begin, end = _int(offsets[0]), _int(offsets[1])
    if begin is None or end is None or not 0 <= begin <= end <= data_len:
        raise FormatError(f"tensor {name!r}: data_offsets {offsets} outside the data region")
    bits = DTYPE_BITS.get(dtype)
    if bits is not None:
        expected = (elements * bits + 7) // 8
        if end - begin != expected:
            raise FormatError(
                f"tensor {name!r}: {end - begin} bytes for {elements} {dtype} elements"
            )
    return dtype, elements, begin, end


def read_safetensors(path: Path) -> HeaderInfo:
    """Read a safetensors file's header. Raises FormatError (LimitExceeded) on bad input."""
    try:
        with path.open("rb") as fh:
            size = _file_size(fh)
            prefix = fh.read(8)
            if len(prefix) < 8:
                raise FormatError("truncated: no 8-byte header length")
            (header_len,) = struct.unpack("<Q", prefix)
            if header_len > limits.MAX_SAFETENSORS_HEADER:
                raise LimitExceeded(
                    f"declared header of {header_len} bytes exceeds the cap of "
                    f"{limits.MAX_SAFETENSORS_HEADER}"
                )
            if header_len > size - 8:
                raise FormatError(
                    f"declared header of {header_len} bytes is larger than the file ({size})"
                )
            raw = fh.read(header_len)
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}") from exc
    if len(raw) != header_len:
        raise FormatError("truncated header")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"header is not UTF-8 (byte {exc.start})") from exc
    header = loads_json(text)
    if not isinstance(header, dict):
        raise FormatError("header is not a JSON object")
    return _header_info(header, size - 8 - header_len)


def _file_size(fh: Any) -> int:
    fh.seek(0, 2)
    size: int = fh.tell()
    fh.seek(0)
    return size


def _header_info(header: dict[str, Any], data_len: int) -> HeaderInfo:
    dtypes: set[str] = set()
    parameters = 0
    total = 0
    spans: list[tuple[int, int, str]] = []
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        dtype, elements, begin, end = _tensor(name, entry, data_len)
        dtypes.add(dtype)
        parameters += elements
        total += end - begin
        spans.append((begin, end, name))
    spans.sort()
    reach, reach_name = 0, ""
    for begin, end, name in spans:
        if end == begin:
            continue  # an empty tensor occupies no bytes
        if begin < reach:
            raise FormatError(f"tensors {reach_name!r} and {name!r} overlap")
        reach, reach_name = end, name

    properties = {
        "tensor_count": str(len(spans)),
        "dtypes": ",".join(sorted(dtypes)),
        "tensor_bytes": str(total),
    }
    architecture = None
    license_id = None
    metadata = header.get("__metadata__")
    if metadata is not None and not isinstance(metadata, dict):
        raise FormatError("__metadata__ is not an object")
    if metadata:
        kept = 0
        for key, value in metadata.items():
            if not isinstance(value, str) or kept >= MAX_METADATA_ENTRIES:
                continue
            if len(key) > 128 or not key.isprintable():
                continue
            properties[f"metadata.{key}"] = value[:MAX_METADATA_VALUE]
            kept += 1
        architecture = _first_str(metadata, _ARCHITECTURE_KEYS)
        license_id = _first_str(metadata, _LICENSE_KEYS)
    return HeaderInfo(
        format="safetensors",
        properties=properties,
        architecture=architecture,
        parameter_count=parameters,
        license=license_id,
    )


def _first_str(mapping: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = mapping.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:MAX_METADATA_VALUE]
    return None


# --- Registry entry. ---------------------------------------------------------------------------

from unified_supply_chain.formats import FormatSpec, Kind, Sniff  # noqa: E402

#: A safetensors header must be JSON that fits in memory; a larger declared length is not one.
_SNIFF_MAX = 1 << 32


def sniff_safetensors(head: bytes, name: str) -> bool:
    """8-byte little-endian header length, then the header's opening brace."""
    if len(head) < 9:
        return False
    (length,) = struct.unpack_from("<Q", head)
    return 2 <= length < _SNIFF_MAX and head[8:9] == b"{"


SPECS = (
    FormatSpec(
        id="safetensors",
        kind=Kind.MODEL,
        description="8-byte LE header length then '{'; or *.safetensors",
        extensions=(".safetensors",),
        sniffs=(Sniff(90, sniff_safetensors),),
        reader=read_safetensors,
        shards=True,
    ),
)
