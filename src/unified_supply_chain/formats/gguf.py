"""Read a GGUF (v2/v3) header by hand: key/values and tensor infos, never the tensor data.

Arrays (token lists, merges, scores) are skipped by seeking, string arrays by walking their
lengths in bounded chunks, so a 150k-token vocabulary costs a few ms and no memory. Every count and
length is checked against the bytes left in the file before it is used.
"""

from __future__ import annotations

import hashlib
import math
import struct
from pathlib import Path
from typing import BinaryIO

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError, LimitExceeded
from unified_supply_chain.records import HeaderInfo

#: ggml tensor type id -> (name, elements per block, bytes per block).
GGML_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("F32", 1, 4),
    1: ("F16", 1, 2),
    2: ("Q4_0", 32, 18),
    3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24),
    8: ("Q8_0", 32, 34),
    9: ("Q8_1", 32, 40),
    10: ("Q2_K", 256, 84),
    11: ("Q3_K", 256, 110),
    12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176),
    14: ("Q6_K", 256, 210),
    15: ("Q8_K", 256, 292),
    16: ("IQ2_XXS", 256, 66),
    17: ("IQ2_XS", 256, 74),
    18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50),
    20: ("IQ4_NL", 32, 18),
    21: ("IQ3_S", 256, 110),
    22: ("IQ2_S", 256, 82),
    23: ("IQ4_XS", 256, 136),
    24: ("I8", 1, 1),
    25: ("I16", 1, 2),
    26: ("I32", 1, 4),
    27: ("I64", 1, 8),
    28: ("F64", 1, 8),
    29: ("IQ1_M", 256, 56),
    30: ("BF16", 1, 2),
    34: ("TQ1_0", 256, 54),
    35: ("TQ2_0", 256, 66),
    39: ("MXFP4", 32, 17),
}

#: llama.cpp's `llama_ftype` (general.file_type) -> quantization name.
LLAMA_FTYPES: dict[int, str] = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    4: "Q4_1_SOME_F16",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
    33: "Q4_0_4_4",
    34: "Q4_0_4_8",
    35: "Q4_0_8_8",
    36: "TQ1_0",
    37: "TQ2_0",
    38: "MXFP4_MOE",
    1024: "GUESSED",
}

# GGUF metadata value types: id -> struct code of fixed-size scalars (8 = string, 9 = array).
_SCALARS: dict[int, str] = {
    0: "B",
    1: "b",
    2: "H",
    3: "h",
    4: "I",
    5: "i",
    6: "f",
    7: "?",
    10: "Q",
    11: "q",
    12: "d",
}
_STRING = 8
_ARRAY = 9

#: Largest key or tensor name (the GGUF spec caps keys at 65535 bytes).
MAX_NAME = 65_535
#: Dimensions of a tensor (ggml uses 4).
MAX_DIMS = 8
#: Metadata string values are kept up to this many characters (the chat template has its own cap).
MAX_KEPT_VALUE = 1024
#: Metadata key/values copied into properties.
MAX_KEPT_PROPERTIES = 512
#: Nesting of arrays of arrays.
MAX_ARRAY_DEPTH = 4
_CHUNK = 1 << 16
#: Key of the default chat template (named templates are `tokenizer.chat_template.<name>`).
CHAT_TEMPLATE_KEY = "tokenizer.chat_template"


class _Cursor:
    """Sequential reads over a file, each checked against the bytes left in it."""

    def __init__(self, fh: BinaryIO, size: int) -> None:
        self.fh = fh
        self.size = size
        self.pos = 0
        self.endian = "<"

    def left(self) -> int:
        return self.size - self.pos

    def read(self, n: int) -> bytes:
        if n > self.left():
            raise FormatError(f"truncated at byte {self.pos}: {n} bytes needed, {self.left()} left")
        data = self.fh.read(n)
        if len(data) != n:
            raise FormatError(f"truncated at byte {self.pos} (file shrank while reading)")
        self.pos += n
        return data

    def skip(self, n: int) -> None:
        if n > self.left():
            raise FormatError(
                f"truncated at byte {self.pos}: {n} bytes to skip, {self.left()} left"
            )
        self.fh.seek(n, 1)
        self.pos += n

    def unpack(self, code: str) -> int | float | bool:
        fmt = self.endian + code
        value: int | float | bool = struct.unpack(fmt, self.read(struct.calcsize(fmt)))[0]
        return value

    def u32(self) -> int:
        return int(self.unpack("I"))

    def u64(self) -> int:
        return int(self.unpack("Q"))

    def string(self, what: str, cap: int) -> str | None:
        """A length-prefixed UTF-8 string; None (skipped by seeking) when longer than `cap`."""
        length = self.u64()
        if length > self.left():
            raise FormatError(f"{what}: declared length {length} is past the end of the file")
        if length > cap:
            self.skip(length)
            return None
        raw = self.read(length)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FormatError(f"{what}: not UTF-8 (byte {exc.start})") from exc

    def skip_strings(self, count: int, what: str) -> None:
        """Skip `count` length-prefixed strings, parsing lengths from bounded chunks."""
        fmt = self.endian + "Q"
        remaining = count
        while remaining:
            chunk = self.fh.read(min(_CHUNK, self.left()))
            off = 0
            while remaining and off + 8 <= len(chunk):
                (length,) = struct.unpack_from(fmt, chunk, off)
                off += 8
                if length > self.size - (self.pos + off):
                    raise FormatError(f"{what}: string length {length} is past the end of the file")
                off += length
                remaining -= 1
            if remaining and off == 0:
                raise FormatError(f"{what}: truncated string array")
            self.pos += off
            self.fh.seek(self.pos)


def _skip_array(cur: _Cursor, key: str, depth: int = 0) -> int:
    """Skip one array value; return its length."""
    if depth >= MAX_ARRAY_DEPTH:
        raise LimitExceeded(f"{key}: arrays nested deeper than {MAX_ARRAY_DEPTH}")
    elem_type = cur.u32()
    count = cur.u64()
    if elem_type in _SCALARS:
        width = struct.calcsize("<" + _SCALARS[elem_type])
        if count * width > cur.left():
            raise FormatError(f"{key}: array of {count} elements is past the end of the file")
        cur.skip(count * width)
    elif elem_type == _STRING:
        if count * 8 > cur.left():
            raise FormatError(f"{key}: array of {count} strings is past the end of the file")
        if count > limits.MAX_GGUF_STRING_ARRAY:
            raise LimitExceeded(f"{key}: {count} strings exceed the cap")
        cur.skip_strings(count, key)
    elif elem_type == _ARRAY:
        if count * 12 > cur.left():
            raise FormatError(f"{key}: array of {count} arrays is past the end of the file")
        if count > limits.MAX_GGUF_ARRAY_READ:
            raise LimitExceeded(f"{key}: {count} nested arrays exceed the cap")
        for _ in range(count):
            _skip_array(cur, key, depth + 1)
    else:
        raise FormatError(f"{key}: unknown array element type {elem_type}")
    return count


def _scalar_text(value: int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def read_gguf(path: Path) -> HeaderInfo:
    """Read a GGUF file's metadata and tensor infos. Raises FormatError (LimitExceeded)."""
    return read_gguf_templates(path)[0]


def read_gguf_templates(path: Path) -> tuple[HeaderInfo, list[tuple[str, str | None]]]:
    """The header and every chat template as (key, whole text, or None when too long to read).

    The templates are returned apart from the properties, so that no other key can shadow one
    for the security scanner. Raises FormatError (LimitExceeded).
    """
    templates: list[tuple[str, str | None]] = []
    try:
        with path.open("rb", buffering=_CHUNK) as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(0)
            return _read(_Cursor(fh, size), templates), templates
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}") from exc


def _read(cur: _Cursor, templates: list[tuple[str, str | None]]) -> HeaderInfo:
    if cur.read(4) != b"GGUF":
        raise FormatError("not a GGUF file (bad magic)")
    version = cur.u32()
    if version & 0xFFFF == 0 and version >> 16:
        cur.endian = ">"  # a big-endian file: the version reads byte-swapped
        version = struct.unpack(">I", struct.pack("<I", version))[0]
    if version not in (2, 3):
        raise FormatError(f"unsupported GGUF version {version}")
    tensor_count = cur.u64()
    kv_count = cur.u64()
    if kv_count > limits.MAX_GGUF_KV:
        raise LimitExceeded(f"{kv_count} key/values exceed the cap of {limits.MAX_GGUF_KV}")
    if tensor_count > limits.MAX_GGUF_TENSORS:
        raise LimitExceeded(f"{tensor_count} tensors exceed the cap of {limits.MAX_GGUF_TENSORS}")
    # Each key/value takes at least 8 + 4 + 1 bytes and each tensor info at least 8 + 4 + 4 + 8.
    if kv_count * 13 + tensor_count * 24 > cur.left():
        raise FormatError(f"{kv_count} key/values and {tensor_count} tensors cannot fit the file")

    values: dict[str, str] = {}
    properties: dict[str, str] = {}
    alignment = 32
    for index in range(kv_count):
        key = cur.string(f"key #{index}", MAX_NAME)
        if key is None:
            raise FormatError(f"key #{index} is longer than {MAX_NAME} bytes")
        value_type = cur.u32()
        text: str | None
        if value_type in _SCALARS:
            scalar = cur.unpack(_SCALARS[value_type])
            text = _scalar_text(scalar)
            if key == "general.alignment":
                if not isinstance(scalar, int) or scalar <= 0 or scalar & (scalar - 1):
                    raise FormatError(f"general.alignment {scalar} is not a power of two")
                alignment = int(scalar)
        elif value_type == _STRING:
            text = cur.string(key, limits.MAX_GGUF_STRING)
            is_template = key == CHAT_TEMPLATE_KEY or key.startswith(CHAT_TEMPLATE_KEY + ".")
            if is_template:
                # The default template and named ones (tokenizer.chat_template.tool_use) go
                # whole to the security scanner; the SBOM records their SHA-256.
                templates.append((key, text))
            if text is None:
                properties[f"{key}.skipped"] = "true"
            elif is_template:
                properties[key] = text[: limits.MAX_GGUF_CHAT_TEMPLATE]
                properties[f"{key}.length"] = str(len(text))
                properties[f"{key}.sha256"] = hashlib.sha256(text.encode("utf-8")).hexdigest()
                text = None
        elif value_type == _ARRAY:
            text = None
            length = _skip_array(cur, key)
            if len(properties) < MAX_KEPT_PROPERTIES:
                properties[f"{key}.length"] = str(length)
        else:
            raise FormatError(f"{key}: unknown value type {value_type}")
        if text is not None:
            values[key] = text
            if len(properties) < MAX_KEPT_PROPERTIES:
                properties[key] = text[:MAX_KEPT_VALUE]

    dtypes, parameters = _tensor_infos(cur, tensor_count, alignment)

    architecture = values.get("general.architecture")
    properties["gguf_version"] = str(version)
    properties["tensor_count"] = str(tensor_count)
    properties["kv_count"] = str(kv_count)
    properties["dtypes"] = ",".join(sorted(dtypes))
    file_type = values.get("general.file_type")
    if file_type is not None:
        try:
            properties["quantization"] = LLAMA_FTYPES.get(int(file_type), f"ftype{file_type}")
        except ValueError:
            raise FormatError(f"general.file_type {file_type!r} is not an integer") from None
    if architecture:
        context = values.get(f"{architecture}.context_length")
        if context is not None:
            properties["context_length"] = context
    license_id = values.get("general.license")
    return HeaderInfo(
        format="gguf",
        properties=properties,
        architecture=architecture[:MAX_KEPT_VALUE] if architecture else None,
        parameter_count=parameters,
        license=license_id[:MAX_KEPT_VALUE] if license_id else None,
    )


def _tensor_infos(cur: _Cursor, count: int, alignment: int) -> tuple[set[str], int]:
    dtypes: set[str] = set()
    parameters = 0
    spans: list[tuple[str, int, int]] = []
    for index in range(count):
        name = cur.string(f"tensor #{index} name", MAX_NAME)
        if name is None:
            raise FormatError(f"tensor #{index}: name longer than {MAX_NAME} bytes")
        n_dims = cur.u32()
        if n_dims > MAX_DIMS:
            raise FormatError(f"tensor {name!r}: {n_dims} dimensions")
        dims = [cur.u64() for _ in range(n_dims)]
        type_id = cur.u32()
        offset = cur.u64()
        elements = math.prod(dims)
        known = GGML_TYPES.get(type_id)
        nbytes = 0  # unknown types (newer quantizations) get no size check
        if known is None:
            dtypes.add(f"type{type_id}")
        else:
            type_name, block, block_bytes = known
            dtypes.add(type_name)
            if dims and dims[0] % block:
                raise FormatError(f"tensor {name!r}: {dims[0]} is not a multiple of {block}")
            nbytes = elements // block * block_bytes
        parameters += elements
        spans.append((name, offset, nbytes))
    if count:
        data_start = -(-cur.pos // alignment) * alignment
        data_len = cur.size - data_start
        for name, offset, nbytes in spans:
            if offset % alignment:
                raise FormatError(f"tensor {name!r}: offset {offset} is not aligned")
            if offset + nbytes > data_len:
                raise FormatError(f"tensor {name!r}: data past the end of the file")
    return dtypes, parameters


# --- Registry entry. ---------------------------------------------------------------------------

from unified_supply_chain.formats import FormatSpec, Kind, Sniff  # noqa: E402


def sniff_gguf(head: bytes, name: str) -> bool:
    """b'GGUF' at offset 0."""
    return head.startswith(b"GGUF")


SPECS = (
    FormatSpec(
        id="gguf",
        kind=Kind.MODEL,
        description="b'GGUF' at 0; or *.gguf",
        extensions=(".gguf",),
        sniffs=(Sniff(20, sniff_gguf),),
        reader=read_gguf,
        shards=True,
        # Chat templates are Jinja code that loaders render: scanned for injection payloads.
        safety="unified_supply_chain.safety.gguf:scan_gguf",
    ),
)
