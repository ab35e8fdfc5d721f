"""TensorBoard event files: the hparams plugin's session (the hyperparameters of one run).

An `events.out.tfevents.*` file is a TFRecord stream (tensorboard/summary/writer/record_writer.py):
each record is `uint64 length`, `uint32 masked_crc32c(length)`, `length` bytes, `uint32
masked_crc32c(data)`, all little-endian. Each payload is an `Event`
(tensorboard/compat/proto/event.proto: `summary = 5`); a `Summary` (summary.proto) holds `Value`s
(`value = 1`: `tag = 1`, `metadata = 9`), whose `SummaryMetadata.plugin_data = 1` names the plugin
(`PluginData.plugin_name = 1`, `content = 2`). For plugin `hparams`
(tensorboard/plugins/hparams/metadata.py `PLUGIN_NAME`), the content is an `HParamsPluginData`
(plugin_data.proto: `version = 1`, `session_start_info = 3`) whose `SessionStartInfo` has
`map<string, google.protobuf.Value> hparams = 1`, `group_name = 4`, `start_time_secs = 5`;
`google.protobuf.Value` (struct.proto) is `null_value = 1`, `number_value = 2` (double),
`string_value = 3`, `bool_value = 4`, `struct_value = 5`, `list_value = 6`.

Reads are bounded: records over `MAX_TFEVENTS_RECORD` (images, graphs) are seeked over unread,
only payloads that contain the bytes `hparams` are checksummed and parsed, and the records and
bytes walked are capped. A corrupt file is a FormatError; a capped one keeps what was found and
says so.
"""

from __future__ import annotations

import dataclasses
import io
import struct
from pathlib import Path

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError
from unified_supply_chain.formats._protobuf import FIXED64, LEN, VARINT, Walker

PLUGIN_NAME = "hparams"
#: Fields walked in one record's protobuf.
_MAX_FIELDS = 100_000


def _crc_table() -> tuple[int, ...]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return tuple(table)


_TABLE = _crc_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), as TFRecord uses it."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC (tensorboard/compat/tensorflow_stub/pywrap_tensorflow.py)."""
    x = crc32c(data)
    return (((x >> 15) | (x << 17)) + 0xA282EAD8) & 0xFFFFFFFF


@dataclasses.dataclass(frozen=True)
class HParamsSession:
    """The hparams session an event file records."""

    hparams: tuple[tuple[str, str], ...]
    """(name, value as text), in file order."""
    group_name: str | None = None
    start_time_secs: float | None = None


def _double(bits: int) -> float:
    return float(struct.unpack("<d", bits.to_bytes(8, "little"))[0])


def _number_text(value: float) -> str:
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    # hp.hparams and torch's hparams() store ints as doubles: 32.0 was 32.
    return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)


def _value(w: Walker, end: int) -> str | None:
    """A google.protobuf.Value as text (lists of scalars joined; structs are not kept)."""
    out: str | None = None
    for number, wire, value in w.fields(end):
        if number == 1 and wire == VARINT:
            out = "null"
        elif number == 2 and wire == FIXED64:
            out = _number_text(_double(value))
        elif number == 3 and wire == LEN:
            out = w.string(value, "string value")
        elif number == 4 and wire == VARINT:
            out = "true" if value else "false"
        elif number == 6 and wire == LEN:
            items: list[str] = []
            list_end = w.pos + value
            for n2, wire2, v2 in w.fields(list_end):
                if n2 == 1 and wire2 == LEN:
                    item = _value(w, w.pos + v2)
                    if item is not None:
                        items.append(item)
            out = "[" + ", ".join(items) + "]"
    return out


def _session(w: Walker, end: int) -> HParamsSession:
    hparams: list[tuple[str, str]] = []
    group: str | None = None
    start: float | None = None
    for number, wire, value in w.fields(end):
        if number == 1 and wire == LEN:
            key: str | None = None
            text: str | None = None
            entry_end = w.pos + value
            for n2, wire2, v2 in w.fields(entry_end):
                if n2 == 1 and wire2 == LEN:
                    key = w.string(v2, "hparam name")
                elif n2 == 2 and wire2 == LEN:
                    text = _value(w, w.pos + v2)
            if key is not None and text is not None and len(hparams) < limits.MAX_PARAMS:
                hparams.append((key, text))
        elif number == 4 and wire == LEN:
            group = w.string(value, "group name")
        elif number == 5 and wire == FIXED64:
            start = _double(value)
    return HParamsSession(tuple(hparams), group or None, start)


def _plugin_content(w: Walker, end: int) -> HParamsSession | None:
    """The session of an HParamsPluginData, or None for experiment/end records."""
    found: HParamsSession | None = None
    for number, wire, value in w.fields(end):
        if number == 3 and wire == LEN:
            found = _session(w, w.pos + value)
    return found


def _summary_value(w: Walker, end: int) -> HParamsSession | None:
    name: str | None = None
    content: tuple[int, int] | None = None
    for number, wire, value in w.fields(end):
        if number == 9 and wire == LEN:  # SummaryMetadata
            for n2, wire2, v2 in w.fields(w.pos + value):
                if n2 == 1 and wire2 == LEN:  # PluginData
                    for n3, wire3, v3 in w.fields(w.pos + v2):
                        if n3 == 1 and wire3 == LEN:
                            name = w.string(v3, "plugin name")
                        elif n3 == 2 and wire3 == LEN:
                            content = (w.pos, v3)
    if name != PLUGIN_NAME or content is None:
        return None
    w.seek(content[0])
    return _plugin_content(w, content[0] + content[1])


def parse_event(data: bytes) -> HParamsSession | None:
    """The hparams session in one serialized Event, or None."""
    w = Walker(
        io.BytesIO(data),
        len(data),
        max_bytes=len(data) + 1,
        max_fields=_MAX_FIELDS,
        what="event",
        read_fixed=True,
    )
    for number, wire, value in w.fields(len(data)):
        if number == 5 and wire == LEN:  # Summary
            summary_end = w.pos + value
            for n2, wire2, v2 in w.fields(summary_end):
                if n2 == 1 and wire2 == LEN:
                    session = _summary_value(w, w.pos + v2)
                    if session is not None:
                        return session
    return None


def read_hparams_session(path: Path) -> HParamsSession | None:
    """The (first) hparams session recorded in an event file, or None when it has none.

    Raises FormatError for a corrupt record (bad checksum, truncated, bad protobuf).
    """
    warnings: list[str] = []
    budget = limits.MAX_TFEVENTS_BYTES
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, 2)
            fh.seek(0)
            pos = 0
            for index in range(limits.MAX_TFEVENTS_RECORDS + 1):
                if pos >= size:
                    return None
                if index == limits.MAX_TFEVENTS_RECORDS:
                    warnings.append(f"more than {limits.MAX_TFEVENTS_RECORDS} records")
                    break
                header = fh.read(12)
                if len(header) < 12:
                    raise FormatError(f"record {index}: truncated header")
                (length,) = struct.unpack("<Q", header[:8])
                (length_crc,) = struct.unpack("<I", header[8:])
                if masked_crc32c(header[:8]) != length_crc:
                    raise FormatError(f"record {index}: length checksum mismatch")
                if length + 16 > size - pos:
                    raise FormatError(f"record {index}: length {length} overruns the file")
                if length > limits.MAX_TFEVENTS_RECORD:
                    pos = fh.seek(pos + 12 + length + 4)
                    continue
                budget -= length
                if budget < 0:
                    warnings.append(f"more than {limits.MAX_TFEVENTS_BYTES} bytes of records")
                    break
                data = fh.read(length)
                footer = fh.read(4)
                pos += 12 + length + 4
                if PLUGIN_NAME.encode() not in data:
                    continue  # not an hparams summary: not checksummed, not parsed
                if len(footer) < 4 or masked_crc32c(data) != struct.unpack("<I", footer)[0]:
                    raise FormatError(f"record {index}: data checksum mismatch")
                session = parse_event(data)
                if session is not None:
                    return session
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}") from exc
    raise FormatError(f"not read to its end ({'; '.join(warnings)}); no hparams session before")
