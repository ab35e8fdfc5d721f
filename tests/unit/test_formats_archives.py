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
