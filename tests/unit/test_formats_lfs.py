"""Git LFS pointer parsing: the spec's valid forms and every kind of malformed pointer."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.format_helpers import MUTATION_SETTINGS, check_mutation
from unified_supply_chain.errors import FormatError
from unified_supply_chain.formats.lfs import parse_lfs_pointer, read_lfs_pointer

OID = hashlib.sha256(b"model weights").hexdigest()
VERSION = b"version https://git-lfs.github.com/spec/v1\n"
POINTER = VERSION + b"oid sha256:" + OID.encode() + b"\nsize 12345\n"


def test_reads_oid_and_size(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(POINTER)
    info = read_lfs_pointer(path)
    assert info.format == "git-lfs-pointer"
    assert info.properties == {"lfs.oid": OID, "lfs.size": "12345"}


def test_pointer_as_git_lfs_writes_it_with_extensions() -> None:
    ext = b"ext-0-foo sha256:" + b"a" * 64 + b"\n"
    data = VERSION + ext + b"oid sha256:" + OID.encode() + b"\nsize 0\n"
    assert parse_lfs_pointer(data) == (OID, 0)


def test_legacy_version_url_and_unknown_sorted_key() -> None:
    data = (
        b"version https://hawser.github.com/spec/v1\n"
        + b"oid sha256:"
        + OID.encode()
        + b"\nsize 7\nx-extra value\n"
    )
    assert parse_lfs_pointer(data) == (OID, 7)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\n", id="newline-only"),
        pytest.param(POINTER[:-1], id="no-final-newline"),
        pytest.param(POINTER.replace(b"\n", b"\r\n"), id="crlf"),
        pytest.param(POINTER.replace(b"v1", b"v2"), id="unknown-version"),
        pytest.param(POINTER[len(VERSION) :], id="no-version-line"),
        pytest.param(POINTER.replace(b"sha256:", b"sha1:"), id="wrong-hash"),
        pytest.param(POINTER.replace(OID.encode(), OID.encode()[:-1]), id="short-oid"),
        pytest.param(POINTER.replace(OID.encode(), OID.upper().encode()), id="upper-hex"),
        pytest.param(POINTER.replace(b"12345", b"-1"), id="negative-size"),
        pytest.param(POINTER.replace(b"12345", b"12x"), id="size-not-int"),
        pytest.param(POINTER.replace(b"12345", b"9" * 30), id="size-too-big"),
        pytest.param(POINTER.replace(b"size 12345\n", b""), id="no-size"),
        pytest.param(VERSION + b"size 1\noid sha256:" + OID.encode() + b"\n", id="unsorted"),
        pytest.param(POINTER + b"size 1\n", id="duplicate-key"),
        pytest.param(POINTER + b"\n", id="blank-line"),
        pytest.param(POINTER.replace(b"size ", b"size\t"), id="tab-separator"),
        pytest.param(POINTER + b"zz \xff\n", id="non-ascii"),
        pytest.param(
            VERSION + b"ext-x-y sha256:" + b"a" * 64 + b"\n" + POINTER[len(VERSION) :],
            id="bad-ext-key",
        ),
        pytest.param(POINTER + b"z" * 1024 + b"\n", id="too-large"),
        pytest.param(b"version https://git-lfs.github.com/spec/v1\nthis is a readme\n", id="prose"),
    ],
)
def test_malformed_pointers_raise_format_error(data: bytes) -> None:
    with pytest.raises(FormatError):
        parse_lfs_pointer(data)


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(POINTER + b"x-pad " + b"p" * 2000 + b"\n")
    with pytest.raises(FormatError, match="too large"):
        read_lfs_pointer(path)


def test_unreadable_path_is_a_format_error(tmp_path: Path) -> None:
    with pytest.raises(FormatError):
        read_lfs_pointer(tmp_path)


# --- mutation fuzzing (bounded; a longer run belongs to the fuzz mode) ------------------------


def _seed(tmp_path: Path) -> bytes:
    return POINTER


@MUTATION_SETTINGS
@given(data=st.data())
def test_mutated_files_raise_only_format_error(tmp_path: Path, data: st.DataObject) -> None:
    check_mutation(tmp_path, data, _seed(tmp_path), read_lfs_pointer, "git-lfs-pointer")
