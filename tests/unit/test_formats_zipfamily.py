"""zipsafe (bounded zip access) and the PyTorch readers (zip and legacy), on generated files."""

from __future__ import annotations

import contextlib
import io
import pickle
import struct
import sys
import types
import zipfile
import zlib
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest

from tests.unit.format_helpers import assert_each_is_format_error
from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError, LimitExceeded
from unified_supply_chain.formats import _zip as zipsafe

# --------------------------------------------------------------------------- zip fixtures


def _zip(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression=method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _bomb(path: Path, size: int = 200 * 1024 * 1024) -> Path:
    """A member of `size` zero bytes, written in a streaming way (compresses to ~200 KB)."""
    block = b"\0" * (1024 * 1024)
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf,
        zf.open("zeros.bin", "w", force_zip64=True) as member,
    ):
        for _ in range(size // len(block)):
            member.write(block)
    return path


def _lying_bomb(path: Path, real: int = 8 * 1024 * 1024, claimed: int = 1000) -> Path:
    """A deflated member whose headers claim `claimed` bytes; it really inflates to `real`."""
    _zip(path, {"small.bin": b"\0" * real}, zipfile.ZIP_DEFLATED)
    data = bytearray(path.read_bytes())
    real_le = struct.pack("<I", real)
    for sig, off in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(sig)
        assert data[at + off : at + off + 4] == real_le
        data[at + off : at + off + 4] = struct.pack("<I", claimed)
    path.write_bytes(bytes(data))
    return path


def _encrypted(path: Path) -> Path:
    """A zip whose only member has the 'encrypted' flag set (traditional PKWARE encryption)."""
    _zip(path, {"data.pkl": b"\x80\x02K\x01."})
    data = bytearray(path.read_bytes())
    for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(sig)
        data[at + off] |= 0x1
    path.write_bytes(bytes(data))
    return path


# --------------------------------------------------------------------------- zipsafe


def test_listing_reports_names_sizes_and_methods(tmp_path: Path) -> None:
    path = _zip(tmp_path / "a.zip", {"a.txt": b"hello", "dir/b.bin": b"x" * 1000})
    listing = zipsafe.open_zip(path)
    assert listing.names == ("a.txt", "dir/b.bin")
    b = listing.get("dir/b.bin")
    assert b is not None and b.size == 1000 and b.compressed_size == 1000 and b.method == 0
    assert listing.total_size == 1005
    assert listing.get("missing") is None


def test_read_member_whole_and_prefix(tmp_path: Path) -> None:
    path = _zip(tmp_path / "a.zip", {"m": bytes(range(256)) * 4}, zipfile.ZIP_DEFLATED)
    assert zipsafe.read_member(path, "m", 4096) == bytes(range(256)) * 4
    assert zipsafe.read_member(path, "m", 3, prefix=True) == b"\x00\x01\x02"
    with pytest.raises(LimitExceeded):
        zipsafe.read_member(path, "m", 100)  # whole member wanted, declared size over cap
    with pytest.raises(FormatError, match="not found"):
        zipsafe.read_member(path, "nope", 10)


def test_iter_members_opens_once_and_skips_directories(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("d/", b"")
        zf.writestr("d/x", b"1")
        zf.writestr("y", b"22")
    got = {m.name: data for m, data in zipsafe.iter_members(path)}
    assert got == {"d/x": b"1", "y": b"22"}
    only = [m.name for m, _ in zipsafe.iter_members(path, names=["y"])]
    assert only == ["y"]


def test_member_names_are_never_paths(tmp_path: Path) -> None:
    path = _zip(tmp_path / "evil.zip", {"../../escape.txt": b"x", "/abs/p": b"y"})
    before = sorted(p.name for p in tmp_path.parent.iterdir())
    listing = zipsafe.open_zip(path)
    assert "../../escape.txt" in listing.names
    assert zipsafe.read_member(path, "../../escape.txt", 10) == b"x"
    assert sorted(p.name for p in tmp_path.parent.iterdir()) == before


def test_truncated_zip_is_format_error(tmp_path: Path) -> None:
    path = _zip(tmp_path / "a.zip", {"a": b"x" * 5000})
    data = path.read_bytes()
    cuts = {f"cut{cut}": data[:cut] for cut in (10, len(data) // 2, len(data) - 5)}
    assert_each_is_format_error(zipsafe.open_zip, tmp_path, cuts, ".zip")


def test_not_a_zip_and_empty_file(tmp_path: Path) -> None:
    cases = {"e": b"", "t": b"just text, PK\x05\x06 inside"}
    assert_each_is_format_error(zipsafe.open_zip, tmp_path, cases, ".zip")


def test_zip_bomb_is_refused_by_ratio_and_size(tmp_path: Path) -> None:
    path = _bomb(tmp_path / "bomb.zip")
    assert path.stat().st_size < 2 * 1024 * 1024
    member = zipsafe.open_zip(path).get("zeros.bin")
    assert member is not None and member.ratio > limits.MAX_ZIP_RATIO
    with pytest.raises(LimitExceeded):
        zipsafe.read_member(path, "zeros.bin", limits.MAX_ZIP_MEMBER_READ)
    # A bounded prefix read is still fine (a header peek never inflates the whole member).
    assert zipsafe.read_member(path, "zeros.bin", 16, prefix=True) == b"\0" * 16


def test_ratio_alone_is_refused(tmp_path: Path) -> None:
    path = _zip(tmp_path / "r.zip", {"z": b"\0" * (1024 * 1024)}, zipfile.ZIP_DEFLATED)
    with pytest.raises(LimitExceeded, match="ratio"):
        zipsafe.read_member(path, "z", limits.MAX_ZIP_MEMBER_READ)


def test_lying_header_never_yields_more_than_cap(tmp_path: Path) -> None:
    path = _lying_bomb(tmp_path / "liar.zip")
    member = zipsafe.open_zip(path).get("small.bin")
    assert member is not None and member.size == 1000  # the lie, as declared
    # Inflation stops at the cap (or the declared size), and the CRC then exposes the lie.
    with pytest.raises(FormatError, match=r"CRC|inflates"):
        zipsafe.read_member(path, "small.bin", 4096)
    # zipfile reads ahead past the declared end and checks the CRC there: an error is fine too.
    with contextlib.suppress(FormatError):
        assert len(zipsafe.read_member(path, "small.bin", 16, prefix=True)) <= 16


def test_bad_crc_is_format_error(tmp_path: Path) -> None:
    path = _zip(tmp_path / "crc.zip", {"m": b"abcdefgh"})
    data = bytearray(path.read_bytes())
    at = data.find(b"abcdefgh")
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(FormatError) as info:
        zipsafe.read_member(path, "m", 100)
    assert not isinstance(info.value, LimitExceeded)


def test_encrypted_member_is_format_error(tmp_path: Path) -> None:
    path = _encrypted(tmp_path / "enc.zip")
    member = zipsafe.open_zip(path).get("data.pkl")
    assert member is not None and member.encrypted
    with pytest.raises(FormatError, match="encrypted"):
        zipsafe.read_member(path, "data.pkl", 100)


def test_member_count_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_ZIP_MEMBERS", 500)
    path = _zip(tmp_path / "many.zip", {f"e{i}": b"" for i in range(501)})
    with pytest.raises(LimitExceeded, match="members"):
        zipsafe.open_zip(path)
    ok = _zip(tmp_path / "ok.zip", {f"e{i}": b"" for i in range(500)})
    assert len(zipsafe.open_zip(ok).members) == 500


def test_member_count_cap_when_declared_count_lies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_ZIP_MEMBERS", 100)
    path = _zip(tmp_path / "many.zip", {f"e{i}": b"" for i in range(300)})
    data = bytearray(path.read_bytes())
    at = data.rfind(b"PK\x05\x06")
    data[at + 8 : at + 12] = struct.pack("<HH", 1, 1)  # claim a single entry
    path.write_bytes(bytes(data))
    with pytest.raises(LimitExceeded):
        zipsafe.open_zip(path)


def test_unsupported_compression_is_format_error(tmp_path: Path) -> None:
    path = _zip(tmp_path / "m.zip", {"m": b"hello"})
    data = bytearray(path.read_bytes())
    for sig, off in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        at = data.find(sig)
        data[at + off : at + off + 2] = struct.pack("<H", 99)  # AES, unsupported
    path.write_bytes(bytes(data))
    with pytest.raises(FormatError):
        zipsafe.read_member(path, "m", 100)


def test_zip_with_prefix_data_still_opens(tmp_path: Path) -> None:
    inner = _zip(tmp_path / "i.zip", {"a": b"abc"})
    path = tmp_path / "sfx.zip"
    path.write_bytes(b"#!/bin/sh\nexit 0\n" + inner.read_bytes())
    assert zipsafe.read_member(path, "a", 10) == b"abc"


# --------------------------------------------------------------------------- torch fixtures

TORCH_MAGIC = 0x1950A86A20F9469CFC6C


class _FakeStorage:
    """Stands in for a torch storage; pickled through persistent_id only."""

    def __init__(self, key: str, dtype: str, numel: int) -> None:
        self.key, self.dtype, self.numel = key, dtype, numel


def _fake_torch() -> tuple[types.ModuleType, types.ModuleType, Any]:
    utils = types.ModuleType("torch._utils")
    torch = types.ModuleType("torch")

    def _rebuild_tensor_v2(*args: object) -> None:  # never called: only pickled by name
        raise AssertionError

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2  # type: ignore[attr-defined]
    for cls_name in ("FloatStorage", "HalfStorage", "LongStorage"):
        cls = type(cls_name, (), {"__module__": "torch"})
        setattr(torch, cls_name, cls)
    torch._utils = utils  # type: ignore[attr-defined]
    return torch, utils, _rebuild_tensor_v2


class _FakeTensor:
    def __init__(self, storage: _FakeStorage, shape: tuple[int, ...]) -> None:
        self.storage, self.shape = storage, shape

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        stride = tuple(1 for _ in self.shape)
        fn = sys.modules["torch._utils"]._rebuild_tensor_v2
        return fn, (self.storage, 0, self.shape, stride, False, OrderedDict())


def _torch_pickle(state: dict[str, _FakeTensor], protocol: int = 2) -> bytes:
    """Pickle a state dict the way torch.save does (persistent ids for storages), never loaded."""
    torch, utils, _ = _fake_torch()
    saved = {k: sys.modules.get(k) for k in ("torch", "torch._utils")}
    sys.modules["torch"], sys.modules["torch._utils"] = torch, utils
    try:
        buf = io.BytesIO()

        class P(pickle.Pickler):
            def persistent_id(self, obj: object) -> object:
                if isinstance(obj, _FakeStorage):
                    return ("storage", getattr(torch, obj.dtype), obj.key, "cpu", obj.numel)
                return None

        P(buf, protocol=protocol).dump(state)
        return buf.getvalue()
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


def _state() -> dict[str, _FakeTensor]:
    w = _FakeStorage("0", "FloatStorage", 12)
    b = _FakeStorage("1", "FloatStorage", 3)
    e = _FakeStorage("2", "HalfStorage", 40)
    return {
        "fc.weight": _FakeTensor(w, (3, 4)),
        "fc.bias": _FakeTensor(b, (3,)),
        "emb.weight": _FakeTensor(e, (10, 2, 2)),
    }


def _torch_zip(path: Path, data_pkl: bytes, archive: str = "model", extra: Any = None) -> Path:
    members = {
        f"{archive}/data.pkl": data_pkl,
        f"{archive}/byteorder": b"little",
        f"{archive}/data/0": b"\0" * 48,
        f"{archive}/data/1": b"\0" * 12,
        f"{archive}/data/2": b"\0" * 80,
        f"{archive}/version": b"3\n",
        f"{archive}/.data/serialization_id": b"1234",
    }
    members.update(extra or {})
    return _zip(path, members)


# --------------------------------------------------------------------------- pytorch zip


def test_pytorch_zip_layout_and_parameters(tmp_path: Path) -> None:
    from unified_supply_chain.formats.pytorch import read_pytorch_zip

    path = _torch_zip(tmp_path / "model.pt", _torch_pickle(_state()))
    info = read_pytorch_zip(path)
    assert info.format == "pytorch"
    p = info.properties
    assert p["archive"] == "model"
    assert p["storage_count"] == "3"
    assert p["storage_bytes"] == "140"
    assert p["version"] == "3"
    assert p["byteorder"] == "little"
    assert p["tensor_count"] == "3"
    assert p["dtypes"] == "float32,float16"
    assert info.parameter_count == 12 + 3 + 40
    assert info.pickle_members == ("model/data.pkl",)


def test_pytorch_zip_protocol4_stack_global(tmp_path: Path) -> None:
    from unified_supply_chain.formats.pytorch import read_pytorch_zip

    path = _torch_zip(tmp_path / "m.pt", _torch_pickle(_state(), protocol=4), archive="archive")
    info = read_pytorch_zip(path)
    assert info.properties["tensor_count"] == "3"
    assert info.parameter_count == 55


def test_pytorch_zip_finds_pickles_under_odd_names(tmp_path: Path) -> None:
    from unified_supply_chain.formats.pytorch import read_pytorch_zip

    hidden = pickle.dumps({"a": 1}, protocol=4)
    path = _torch_zip(
        tmp_path / "m.pt",
        _torch_pickle(_state()),
        extra={
            "model/data/3": hidden,
            "model/extra/notes.pkl": b"(dp0\n.",
            "model/extra/readme": pickle.dumps({"text": "x" * 40}, protocol=0),
            "model/extra/long": pickle.dumps(list(range(20000)), protocol=0),
            "model/extra/none": b"N.",
        },
    )
    info = read_pytorch_zip(path)
    assert set(info.pickle_members) == {
        "model/data.pkl",
        "model/data/3",
        "model/extra/notes.pkl",
        "model/extra/readme",
        "model/extra/long",
        "model/extra/none",
    }
    # Storages (raw little-endian numbers) and the version text are not taken for pickles.
    assert "model/data/0" not in info.pickle_members
    assert "model/version" not in info.pickle_members


def test_pytorch_zip_without_data_pkl_is_format_error(tmp_path: Path) -> None:
    from unified_supply_chain.formats.pytorch import read_pytorch_zip

    path = _zip(tmp_path / "x.pt", {"readme.txt": b"hi"})
    with pytest.raises(FormatError, match=r"data\.pkl"):
        read_pytorch_zip(path)


def test_pytorch_zip_truncated_data_pkl_is_format_error(tmp_path: Path) -> None:
    from unified_supply_chain.formats.pytorch import read_pytorch_zip

    data = _torch_pickle(_state())
    path = _torch_zip(tmp_path / "t.pt", data[: len(data) // 2])
    with pytest.raises(FormatError):
        read_pytorch_zip(path)


def test_pytorch_zip_hostile_archives(tmp_path: Path) -> None:
    from unified_supply_chain.formats.pytorch import read_pytorch_zip

    enc = _encrypted(tmp_path / "enc.pt")
    bomb = _bomb(tmp_path / "bomb.pt", 64 * 1024 * 1024)
    data = _torch_zip(tmp_path / "ok.pt", _torch_pickle(_state())).read_bytes()
    cut = tmp_path / "cut.pt"
    cut.write_bytes(data[: len(data) - 30])
    for path in (enc, bomb, cut):
        with pytest.raises(FormatError):
            read_pytorch_zip(path)


def test_pytorch_zip_lying_data_pkl(tmp_path: Path) -> None:
    from unified_supply_chain.formats.pytorch import read_pytorch_zip

    path = tmp_path / "liar.pt"
    _zip(path, {"m/data.pkl": b"\x80\x02" + b"N" * (8 * 1024 * 1024)}, zipfile.ZIP_DEFLATED)
    raw = bytearray(path.read_bytes())
    real = struct.pack("<I", 2 + 8 * 1024 * 1024)
    for sig, off in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = raw.find(sig)
        assert raw[at + off : at + off + 4] == real
        raw[at + off : at + off + 4] = struct.pack("<I", 4000)
    path.write_bytes(bytes(raw))
    with pytest.raises(FormatError):
        read_pytorch_zip(path)


def test_pytorch_zip_garbage_opcodes_are_format_error(tmp_path: Path) -> None:
    from unified_supply_chain.formats.pytorch import read_pytorch_zip

    path = _torch_zip(tmp_path / "g.pt", b"\x80\x02\xff\xfe\xfd")
    with pytest.raises(FormatError):
        read_pytorch_zip(path)


# --------------------------------------------------------------------------- pytorch legacy


def _legacy(path: Path) -> Path:
    buf = io.BytesIO()
    pickle.dump(TORCH_MAGIC, buf, protocol=2)
    pickle.dump(1001, buf, protocol=2)
    pickle.dump({"protocol_version": 1001, "little_endian": True}, buf, protocol=2)
    buf.write(_torch_pickle(_state()))
    pickle.dump(["0", "1", "2"], buf, protocol=2)
    buf.write(b"\0" * 140)
    path.write_bytes(buf.getvalue())
    return path


def test_pytorch_legacy(tmp_path: Path) -> None:
    from unified_supply_chain.formats.pytorch import read_pytorch_legacy

    info = read_pytorch_legacy(_legacy(tmp_path / "old.pt"))
    assert info.format == "pytorch-legacy"
    assert info.pickle_members == ("",)
    assert info.properties["legacy"] == "true"
    assert info.properties["protocol_version"] == "1001"
    assert info.properties["tensor_count"] == "3"
    assert info.parameter_count == 55


def test_pytorch_legacy_bad_magic_and_truncation(tmp_path: Path) -> None:
    from unified_supply_chain.formats.pytorch import read_pytorch_legacy

    (tmp_path / "p.pkl").write_bytes(pickle.dumps(12345, protocol=2))
    with pytest.raises(FormatError, match="magic"):
        read_pytorch_legacy(tmp_path / "p.pkl")
    data = _legacy(tmp_path / "old.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[:30])
    with pytest.raises(FormatError):
        read_pytorch_legacy(tmp_path / "cut.pt")
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(FormatError):
        read_pytorch_legacy(tmp_path / "empty.pt")


def test_legacy_magic_fixture_is_what_torch_writes() -> None:
    # torch.save(..., _use_new_zipfile_serialization=False) opens with exactly these bytes.
    head = pickle.dumps(TORCH_MAGIC, protocol=2)
    assert head[:4] == b"\x80\x02\x8a\x0a"
    assert int.from_bytes(head[4:14], "little") == TORCH_MAGIC
    assert zlib.crc32(head) == zlib.crc32(b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.")


def test_archive_comment_holding_the_end_record_signature(tmp_path: Path) -> None:
    path = tmp_path / "c.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a", b"abc")
        zf.comment = b"PK\x05\x06 in a comment"
    # zipfile itself trusts the last signature and cannot open this: a FormatError, no crash.
    with pytest.raises(FormatError):
        zipsafe.read_member(path, "a", 10)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a", b"abc")
        zf.comment = b"an honest comment"
    assert zipsafe.read_member(path, "a", 10) == b"abc"
