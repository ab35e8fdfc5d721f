"""The root group's attributes of an HDF5 file, read from its bytes (no h5py, no libhdf5).

Legacy Keras models (`model.save("m.h5")`) keep their architecture as JSON in the root group's
`model_config` attribute, beside `keras_version` and `backend`. This reader follows the HDF5 File
Format Specification, Version 3.0 (https://docs.hdfgroup.org/hdf5/develop/_f_m_t3.html), by its
section numbers:

- II.A  superblock versions 0 and 1 (root group symbol table entry, III.C) and 2 and 3 (root
  group object header address); addresses are relative to the superblock (a user block before it
  shifts every address, as the library does in H5Fsuper.c);
- IV.A.1.a version 1 object headers (16-byte prefix, 8-byte aligned messages) and IV.A.1.b
  version 2 ones (`OHDR`, optional times and attribute phase change values, a 1/2/4/8-byte chunk
  size, optional creation order per message), with IV.A.2.q continuation blocks (`OCHK` for v2);
- IV.A.2.m attribute messages, versions 1 (name, datatype and dataspace padded to 8), 2 and 3
  (with the name's character set), IV.A.2.d datatypes (class 3 fixed-length strings and class 9
  variable-length strings), IV.A.2.b dataspaces (versions 1 and 2: scalar, simple, null);
- III.E global heap collections (`GCOL`), where variable-length strings live.

What it does not read is reported in `unsupported`, never skipped silently: attributes in dense
storage (IV.A.2.v attribute info with a fractal heap), shared attribute messages, shared
datatypes, and attribute values of other layouts. Every read is checked against the file size and
a byte budget; continuation blocks are followed once each.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import BinaryIO

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError, LimitExceeded

SIGNATURE = b"\x89HDF\r\n\x1a\n"
#: Object header message types (IV.A.2): attribute, continuation, attribute info.
_ATTRIBUTE, _CONTINUATION, _ATTRIBUTE_INFO = 0x000C, 0x0010, 0x0015
#: Most header messages and continuation blocks walked for the root group.
MAX_MESSAGES = 100_000
MAX_BLOCKS = 10_000
#: Highest offset at which a user-block-shifted superblock is looked for.
MAX_SUPERBLOCK_OFFSET = 1 << 40
#: Most elements of one string attribute decoded.
MAX_STRING_ELEMENTS = 4096


@dataclass
class RootAttributes:
    """What the root group's attributes hold, as far as they could be read."""

    strings: dict[str, list[str]] = field(default_factory=dict)
    """String attributes by name: every element, decoded (UTF-8, else Latin-1)."""
    others: set[str] = field(default_factory=set)
    """Names of attributes that are not strings."""
    unsupported: list[str] = field(default_factory=list)
    """Layouts met but not read, each a reason (with the attribute's name when it is known)."""


class _File:
    """Bounded reads at absolute positions."""

    def __init__(self, fh: BinaryIO, size: int, base: int, offsets: int, lengths: int) -> None:
        self.fh, self.size, self.base = fh, size, base
        self.offsets, self.lengths = offsets, lengths
        self.budget = limits.MAX_HDF5_METADATA

    def read(self, address: int, n: int) -> bytes:
        """`n` bytes at file address `address` (relative to the superblock)."""
        pos = self.base + address
        if n < 0 or pos < 0 or pos + n > self.size:
            raise FormatError(
                f"HDF5 structure at {address} ({n} bytes) is past the end of the file"
            )
        self.budget -= n
        if self.budget < 0:
            raise LimitExceeded(f"more than {limits.MAX_HDF5_METADATA} bytes of HDF5 metadata")
        self.fh.seek(pos)
        data = self.fh.read(n)
        if len(data) != n:
            raise FormatError("file shrank while reading")
        return data

    def undefined(self, address: int) -> bool:
        return address == (1 << (8 * self.offsets)) - 1


def find_superblock(fh: BinaryIO, size: int) -> tuple[int, int]:
    """(offset, version) of the superblock: at 0, 512, 1024, 2048, ... (II.A, user block)."""
    offset = 0
    while offset + len(SIGNATURE) + 1 <= size and offset <= MAX_SUPERBLOCK_OFFSET:
        fh.seek(offset)
        head = fh.read(len(SIGNATURE) + 1)
        if head[: len(SIGNATURE)] == SIGNATURE:
            return offset, head[-1]
        offset = 512 if offset == 0 else offset * 2
    raise FormatError("no HDF5 superblock signature")


def _uint(data: bytes, pos: int, width: int) -> int:
    if pos + width > len(data):
        raise FormatError("HDF5 field runs past its structure")
    return int.from_bytes(data[pos : pos + width], "little")


def read_root_attributes(fh: BinaryIO, size: int, superblock: int) -> RootAttributes:
    """The root group's attributes of the HDF5 file whose superblock is at `superblock`.

    Raises FormatError (LimitExceeded past the budgets) when the structure cannot be read.
    """
    try:
        return _read_root(fh, size, superblock)
    except (struct.error, IndexError, ValueError, OverflowError) as exc:
        raise FormatError(f"malformed HDF5 structure ({type(exc).__name__}: {exc})") from None


def _read_root(fh: BinaryIO, size: int, superblock: int) -> RootAttributes:
    fh.seek(superblock)
    head = fh.read(96)
    if not head.startswith(SIGNATURE) or len(head) < 16:
        raise FormatError("no HDF5 superblock signature")
    version = head[8]
    if version in (0, 1):
        offsets, lengths = head[13], head[14]
        fields_at = 24 if version == 0 else 28
    elif version in (2, 3):
        offsets, lengths = head[9], head[10]
        fields_at = 12
    else:
        raise FormatError(f"unknown HDF5 superblock version {version}")
    if offsets not in (2, 4, 8) or lengths not in (2, 4, 8):
        raise FormatError(f"HDF5 offsets of {offsets} and lengths of {lengths} bytes")
    f = _File(fh, size, superblock, offsets, lengths)
    if version in (0, 1):
        # Base, free-space, end-of-file and driver addresses, then the root symbol table entry:
        # its link name offset, then the object header address (III.C).
        root = _uint(head, fields_at + 5 * offsets, offsets)
    else:
        # Base, superblock extension and end-of-file addresses, then the root object header.
        root = _uint(head, fields_at + 3 * offsets, offsets)
    result = RootAttributes()
    _read_object_header(f, root, result)
    return result


def _read_object_header(f: _File, address: int, out: RootAttributes) -> None:
    prefix = f.read(address, 16)
    blocks: list[tuple[int, int, int]] = []  # (address, length, header version)
    if prefix[:4] == b"OHDR":
        if prefix[4] != 2:
            raise FormatError(f"object header version {prefix[4]}")
        flags = prefix[5]
        pos = 6 + (16 if flags & 0x20 else 0) + (4 if flags & 0x10 else 0)
        width = 1 << (flags & 0x03)
        head = f.read(address, pos + width)
        chunk = _uint(head, pos, width)
        blocks.append((address + pos + width, chunk, 2 | (flags & 0x04) << 8))
    elif prefix[0] == 1:
        blocks.append((address + 16, _uint(prefix, 8, 4), 1))
    else:
        raise FormatError("root group object header has an unknown version")
    seen: set[int] = set()
    messages = 0
    while blocks:
        start, length, kind = blocks.pop(0)
        if start in seen:
            continue
        seen.add(start)
        if len(seen) > MAX_BLOCKS:
            raise LimitExceeded(f"more than {MAX_BLOCKS} object header blocks")
        for msg_type, data, msg_flags in _messages(f, start, length, kind):
            messages += 1
            if messages > MAX_MESSAGES:
                raise LimitExceeded(f"more than {MAX_MESSAGES} object header messages")
            if msg_type == _CONTINUATION:
                target = _uint(data, 0, f.offsets)
                size = _uint(data, f.offsets, f.lengths)
                if kind & 0xFF == 2:
                    if f.read(target, 4) != b"OCHK":
                        raise FormatError("continuation block without its OCHK signature")
                    blocks.append((target + 4, size - 8, kind))
                else:
                    blocks.append((target, size, kind))
            elif msg_type == _ATTRIBUTE:
                if msg_flags & 0x02:
                    out.unsupported.append("a shared attribute message")
                else:
                    _attribute(f, data, out)
            elif msg_type == _ATTRIBUTE_INFO:
                _attribute_info(f, data, out)


def _messages(f: _File, start: int, length: int, kind: int) -> list[tuple[int, bytes, int]]:
    """(type, data, flags) of the messages in one header block (IV.A.1.a / IV.A.1.b)."""
    block = f.read(start, length)
    found: list[tuple[int, bytes, int]] = []
    pos = 0
    if kind == 1:
        while pos + 8 <= len(block):
            msg_type, size, flags = struct.unpack_from("<HHB", block, pos)
            end = pos + 8 + size
            if end > len(block):
                raise FormatError("object header message runs past its block")
            found.append((msg_type, block[pos + 8 : end], flags))
            pos = end + (-end % 8)
        return found
    header = 6 if kind & 0x400 else 4
    while pos + header <= len(block):
        msg_type, size, flags = struct.unpack_from("<BHB", block, pos)
        end = pos + header + size
        if end > len(block):
            raise FormatError("object header message runs past its block")
        found.append((msg_type, block[pos + header : end], flags))
        pos = end
    return found


def _attribute_info(f: _File, data: bytes, out: RootAttributes) -> None:
    """IV.A.2.v: a defined fractal heap address means attributes in dense storage."""
    flags = _uint(data, 1, 1)
    heap = _uint(data, 2 + (2 if flags & 0x01 else 0), f.offsets)
    if not f.undefined(heap):
        out.unsupported.append("attributes in dense storage (fractal heap)")


def _attribute(f: _File, data: bytes, out: RootAttributes) -> None:
    """IV.A.2.m: an attribute's name, then its value when it is a string."""
    version = _uint(data, 0, 1)
    flags = _uint(data, 1, 1)
    name_size, type_size, space_size = struct.unpack_from("<HHH", data, 2)
    if version == 1:
        pos = 8
        pad = 8
    elif version in (2, 3):
        pos = 8 if version == 2 else 9
        pad = 1
    else:
        out.unsupported.append(f"attribute message version {version}")
        return
    name_end = pos + name_size
    name = data[pos:name_end].split(b"\0", 1)[0].decode("utf-8", "replace")
    pos = name_end + (-name_size % pad)
    dtype = data[pos : pos + type_size]
    pos += type_size + (-type_size % pad)
    space = data[pos : pos + space_size]
    pos += space_size + (-space_size % pad)
    if flags & 0x03:
        out.unsupported.append(f"attribute {name!r} with a shared datatype or dataspace")
        return
    count = _elements(space, f.lengths)
    if len(dtype) < 8:
        raise FormatError(f"attribute {name!r}: truncated datatype")
    cls, element = dtype[0] & 0x0F, _uint(dtype, 4, 4)
    value = data[pos:]
    if cls == 3:
        if len(value) < count * element:
            raise FormatError(f"attribute {name!r}: value shorter than its datatype says")
        strings = [_text(value[i * element : (i + 1) * element], dtype) for i in range(count)]
    elif cls == 9 and _uint(dtype, 1, 1) & 0x0F == 1:
        strings = [_vlen(f, value, i, name) for i in range(count)]
    else:
        out.others.add(name)
        return
    out.strings.setdefault(name, []).extend(strings)


def _elements(space: bytes, lengths: int) -> int:
    """IV.A.2.b: the number of elements of a dataspace (1 for scalar, 0 for null)."""
    if len(space) < 4:
        raise FormatError("truncated dataspace")
    version, rank, _flags = space[0], space[1], space[2]
    if version == 1:
        dims_at = 8
    elif version == 2:
        if space[3] == 2:
            return 0
        dims_at = 4
    else:
        raise FormatError(f"dataspace version {version}")
    count = 1
    for i in range(rank):
        count *= _uint(space, dims_at + lengths * i, lengths)
        if count > MAX_STRING_ELEMENTS:
            raise LimitExceeded(f"attribute of more than {MAX_STRING_ELEMENTS} elements")
    return count


def _text(raw: bytes, dtype: bytes) -> str:
    """A fixed-length string: padding (bits 0-3) and character set (bits 4-7) of IV.A.2.d."""
    padding = dtype[1] & 0x0F
    raw = raw.split(b"\0", 1)[0] if padding in (0, 1) else raw.rstrip(b" ")
    return _decode(raw)


def _decode(raw: bytes) -> str:
    """UTF-8 (what Keras decodes), else Latin-1: never fails, so one odd string cannot hide
    the rest of the attributes."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _vlen(f: _File, value: bytes, index: int, name: str) -> str:
    """A variable-length string: length, global heap collection address, object index."""
    width = 4 + f.offsets + 4
    entry = value[index * width : (index + 1) * width]
    if len(entry) != width:
        raise FormatError(f"attribute {name!r}: truncated variable-length string")
    length = _uint(entry, 0, 4)
    collection = _uint(entry, 4, f.offsets)
    object_index = _uint(entry, 4 + f.offsets, 4)
    if length == 0 and (collection == 0 or f.undefined(collection)):
        return ""
    return _decode(_global_heap_object(f, collection, object_index)[:length])


def _global_heap_object(f: _File, address: int, index: int) -> bytes:
    """III.E: object `index` of the global heap collection at `address`."""
    head = f.read(address, 8 + f.lengths)
    if head[:4] != b"GCOL":
        raise FormatError("variable-length string outside a global heap collection")
    size = _uint(head, 8, f.lengths)
    heap = f.read(address, size)
    pos = 8 + f.lengths
    while pos + 8 + f.lengths <= len(heap):
        number = _uint(heap, pos, 2)
        length = _uint(heap, pos + 8, f.lengths)
        if number == 0:
            break  # the free space object ends the collection
        start = pos + 8 + f.lengths
        if number == index:
            if start + length > len(heap):
                raise FormatError("global heap object runs past its collection")
            return heap[start : start + length]
        pos = start + length + (-length % 8)
    raise FormatError(f"global heap object {index} not found")
