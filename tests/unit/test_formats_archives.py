"""Generic archives (formats/archives.py): a zip, tar or 7z is a component only when it carries
a model or a pickle, and the safety scan opens every member by the registry's sniffs.

Zip layout: PKWARE APPNOTE.TXT (written here by the standard library's zipfile).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from tests.fuzz.archive_seeds import pickle_payload, zip_bytes
from tests.helpers import refuse_unpickling, system_payload
from unified_supply_chain.discover.classify import classify
from unified_supply_chain.formats import registry
from unified_supply_chain.formats.archives import archive_kind, read_zip_archive
from unified_supply_chain.records import ArtifactKind, Severity
from unified_supply_chain.safety.scan import scan_file


@pytest.fixture(autouse=True)
def no_unpickling(monkeypatch: pytest.MonkeyPatch) -> None:
    refuse_unpickling(monkeypatch)


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_zip_with_a_pickle_is_a_model_and_a_source_zip_is_not(tmp_path: Path) -> None:
    carrying = _write(
        tmp_path / "release.zip", zip_bytes({"a/README": b"x", "a/m.bin": pickle_payload()})
    )
    info = read_zip_archive(carrying)
    assert info.properties["archive.members"] == "2"
    # The member is recognised by its bytes (a renamed pickle), not by its name.
    assert info.properties["archive.model_formats"] == "pickle"
    assert archive_kind("release.zip", info) is ArtifactKind.MODEL
    source = _write(
        tmp_path / "src.zip", zip_bytes({"pkg/__init__.py": b"", "pkg/x.csv": b"a,b\n"})
    )
    plain = read_zip_archive(source)
    assert plain.properties["archive.model_members"] == "0"
    assert archive_kind("src.zip", plain) is None
    assert archive_kind("data/src.zip", plain) is ArtifactKind.DATASET
    # An unreadable archive is a component only where models or data live.
    assert archive_kind("models/x.zip", None) is ArtifactKind.MODEL
    assert archive_kind("docs/x.zip", None) is None


def test_zip_inside_a_zip_does_not_make_a_model(tmp_path: Path) -> None:
    inner = zip_bytes({"META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\n"})
    path = _write(tmp_path / "dist.zip", zip_bytes({"lib/a.jar": inner}))
    assert classify(inner[:512], "a.jar") == "zip"
    assert archive_kind("dist.zip", read_zip_archive(path)) is None


def test_nested_zip_members_are_scanned(tmp_path: Path) -> None:
    inner = zip_bytes({"archive/data.pkl": system_payload("id", 2), "archive/version": b"3\n"})
    path = _write(tmp_path / "bundle.zip", zip_bytes({"README": b"hi", "m/model.pt": inner}))
    findings = scan_file(path, "bundle.zip", "zip")
    assert [(f.severity, f.path) for f in findings] == [
        (Severity.CRITICAL, "bundle.zip!m/model.pt!archive/data.pkl")
    ]


def test_a_pickle_named_like_a_pickle_but_sniffing_as_gguf_is_still_walked(tmp_path: Path) -> None:
    # GGUF's magic opens with BINFLOAT ('G') to a pickle loader: a polyglot must not hide a pickle.
    payload = b"GGUF" + b"\x03\x00\x00\x00" + b"0" + system_payload("id", 0)
    path = _write(tmp_path / "m.pkl", payload)
    assert registry().get(classify(payload[:512], "m.pkl")).id == "gguf"  # type: ignore[union-attr]
    findings = scan_file(path, "m.pkl", "pickle")
    assert Severity.CRITICAL in {f.severity for f in findings}


def test_zip_reader_of_a_stream(tmp_path: Path) -> None:
    from unified_supply_chain.formats._zip import ZipReader

    data = zip_bytes({"x.pkl": pickle_payload()}, zipfile.ZIP_DEFLATED)
    with ZipReader(io.BytesIO(data)) as reader, reader.open_member("x.pkl") as fh:
        assert fh.read() == pickle_payload()


# --- tar and 7z. --------------------------------------------------------------------------------
# tar: POSIX.1-1988 ustar headers ("ustar" at offset 257), written by the standard library.
# 7z: 7-Zip's 7zFormat.txt signature header, written by py7zr.


@pytest.mark.parametrize("mode", ["w", "w:gz", "w:bz2", "w:xz"])
def test_tar_members_are_scanned_plain_or_compressed(tmp_path: Path, mode: str) -> None:
    from tests.fuzz.archive_seeds import tar_bytes
    from unified_supply_chain.formats.archives import read_tar_archive

    data = tar_bytes({"ckpt/notes.txt": b"x", "ckpt/weights.bin": system_payload("id", 2)}, mode)
    path = _write(tmp_path / "ckpt.tar", data)
    info = read_tar_archive(path)
    assert info.properties["archive.model_formats"] == "pickle"
    assert archive_kind("ckpt.tar", info) is ArtifactKind.MODEL
    findings = scan_file(path, "ckpt.tar", "tar")
    assert [(f.severity, f.path) for f in findings] == [
        (Severity.CRITICAL, "ckpt.tar!ckpt/weights.bin")
    ]
    if mode in ("w", "w:gz"):  # recognised by content, whatever the name
        assert classify(data[:512], "blob") == "tar"


def test_source_tarball_is_not_a_component_and_gzip_pickle_stays_a_pickle(tmp_path: Path) -> None:
    import gzip

    from tests.fuzz.archive_seeds import tar_bytes
    from unified_supply_chain.formats.archives import read_tar_archive

    path = _write(tmp_path / "pkg-1.0.tar.gz", tar_bytes({"pkg/setup.py": b""}, "w:gz"))
    assert classify(path.read_bytes()[:512], "pkg-1.0.tar.gz") == "tar"
    assert archive_kind("pkg-1.0.tar.gz", read_tar_archive(path)) is None
    # A gzipped pickle (joblib's compress=) is still scanned as a pickle.
    gz = _write(tmp_path / "m.joblib", gzip.compress(system_payload("id", 2)))
    assert Severity.CRITICAL in {f.severity for f in scan_file(gz, "m.joblib", "joblib")}


def test_truncated_tar_is_high(tmp_path: Path) -> None:
    from tests.fuzz.archive_seeds import tar_bytes

    data = tar_bytes({"a.pkl": pickle_payload() * 20})
    path = _write(tmp_path / "cut.tar", data[:700])
    findings = scan_file(path, "cut.tar", "tar")
    assert findings and all(f.severity is Severity.HIGH for f in findings)
    assert all("could not be verified safe" in f.message for f in findings)


def test_7z_members_are_scanned(tmp_path: Path) -> None:
    from tests.fuzz.archive_seeds import seven_zip_bytes
    from unified_supply_chain.formats.archives import read_7z_archive

    data = seven_zip_bytes({"README": b"x", "m/model.pkl": system_payload("id", 2)})
    path = _write(tmp_path / "m.7z", data)
    assert classify(data[:512], "renamed") == "7z"
    info = read_7z_archive(path)
    assert info.properties["archive.model_formats"] == "pickle"
    findings = scan_file(path, "m.7z", "7z")
    assert [(f.severity, f.path) for f in findings] == [(Severity.CRITICAL, "m.7z!m/model.pkl")]


def test_7z_without_py7zr_is_high(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from tests.fuzz.archive_seeds import seven_zip_bytes
    from unified_supply_chain.formats.archives import read_7z_archive

    path = _write(tmp_path / "m.7z", seven_zip_bytes({"model.pkl": pickle_payload()}))
    monkeypatch.setitem(sys.modules, "py7zr", None)  # import py7zr now raises ImportError
    findings = scan_file(path, "m.7z", "7z")
    assert [f.severity for f in findings] == [Severity.HIGH]
    assert "py7zr" in findings[0].message and "could not be verified safe" in findings[0].message
    info = read_7z_archive(path)
    assert "archive.model_members" not in info.properties
    assert archive_kind("models/m.7z", info) is ArtifactKind.MODEL
