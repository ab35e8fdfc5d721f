"""Hostile and broken files never crash `usc sbom`: the SBOM is written and valid, and every bad
file is listed with a warning and named in a one-line warning on stderr."""

from __future__ import annotations

import io
import json
import os
import struct
import zipfile
from pathlib import Path

import pytest

from tests.helpers import assert_valid_cyclonedx, components_by_path, props, run_usc


def hostile_files(root: Path) -> dict[str, bytes]:
    """Bad files keyed by repo-relative path (each must produce a warning)."""
    files: dict[str, bytes] = {}
    files["models/truncated.safetensors"] = struct.pack("<Q", 1000) + b'{"a": {"dtype": "F32"'
    files["models/absurd.safetensors"] = struct.pack("<Q", 2**62) + b"{}"
    files["models/bad.gguf"] = b"GGUF" + struct.pack("<I", 3) + struct.pack("<QQ", 2**60, 2**60)
    files["models/garbage.onnx"] = b"\x08\x07" + b"\xff" * 64
    zip_buf = io.BytesIO()
    with zipfile.ZipFile(zip_buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("archive/data.pkl", b"\x80\x02" + b"\0" * (300 * 1024 * 1024 // 1024))
    files["models/cut.pt"] = zip_buf.getvalue()[:40]
    files["models/bad.npy"] = b"\x93NUMPY\x01\x00" + struct.pack("<H", 60000) + b"{'descr'"
    files["models/broken.keras"] = b"PK\x03\x04" + b"\0" * 30
    # A "billion laughs" alias bomb: each anchor repeats the previous one four times.
    lines = [b"a: &a [x, x]\n"]
    for i in range(20):
        prev, cur = chr(97 + i), chr(98 + i)
        lines.append(f"{cur}: &{cur} [*{prev}, *{prev}, *{prev}, *{prev}]\n".encode())
    files["params.yaml"] = b"".join(lines)
    files["hyp.bad.yaml"] = b"key: [unclosed\n"
    files["data/binary.jsonl"] = b"\xff\xfe\x00garbage\x00\n"
    files["data/cut.parquet"] = b"PAR1\x00\x00PAR1"
    return files


@pytest.fixture(scope="module")
def hostile_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, bytes], str, dict]:
    root = tmp_path_factory.mktemp("hostile")
    files = hostile_files(root)
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    # A zip bomb: 200 MB of zeros in a small member, named like a model.
    with (
        zipfile.ZipFile(root / "models/bomb.pt", "w", zipfile.ZIP_DEFLATED) as z,
        z.open("archive/data.pkl", "w") as member,
    ):
        chunk = b"\0" * (1024 * 1024)
        for _ in range(200):
            member.write(chunk)
    files["models/bomb.pt"] = b""
    # Filesystem oddities.
    (root / "loop").symlink_to(root / "loop")
    (root / "outside.safetensors").symlink_to("/etc/hostname")
    os.symlink(root, root / "models" / "self")
    odd = os.fsencode(str(root / "models")) + b"/caf\xe9.safetensors"
    with open(odd, "wb") as fh:
        fh.write(b"\x10\x00\x00\x00\x00\x00\x00\x00{}              ")
    out = root.parent / "hostile.cdx.json"
    result = run_usc("sbom", str(root), "-o", str(out), "--no-cache", timeout=240)
    # Fail closed: corrupt pickle-bearing files could not be verified safe (high), so the
    # default gate fails, after the SBOM is written.
    assert result.returncode == 1, result.stderr
    assert "could not be verified safe" in result.stderr
    return root, files, result.stderr, json.loads(out.read_text())


def test_sbom_is_valid(hostile_run: tuple[Path, dict[str, bytes], str, dict]) -> None:
    _, _, _, document = hostile_run
    assert_valid_cyclonedx(document)


@pytest.mark.parametrize("rel", sorted(hostile_files(Path("."))) + ["models/bomb.pt"])
def test_each_bad_file_is_listed_with_a_warning(
    hostile_run: tuple[Path, dict[str, bytes], str, dict], rel: str
) -> None:
    _, _, stderr, document = hostile_run
    comp = components_by_path(document).get(rel)
    assert comp is not None, f"{rel} missing from the SBOM"
    assert props(comp, "usc:warning"), f"{rel} has no warning property"
    warning_lines = [
        line for line in stderr.splitlines() if line.startswith("usc: warning: ") and rel in line
    ]
    assert warning_lines, f"no warning line names {rel}"


def test_filesystem_oddities_are_reported_not_followed(
    hostile_run: tuple[Path, dict[str, bytes], str, dict],
) -> None:
    _, _, stderr, document = hostile_run
    assert "outside.safetensors: symlink points outside the repository" in stderr
    assert "loop: symlink is broken or loops" in stderr
    paths = set(components_by_path(document))
    assert "outside.safetensors" not in paths
    assert not any(p.startswith("models/self/") for p in paths)
    # The non-UTF-8 name is shown with a replacement character and reported.
    assert any("caf\ufffd" in p for p in paths)
    assert "not valid UTF-8" in stderr


def test_invalid_hydra_config_is_reported(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "config.yaml").write_text("defaults:\n  - model: [\n")
    result = run_usc("sbom", str(tmp_path), "-o", str(tmp_path.parent / "h.json"), "--no-cache")
    assert result.returncode == 0, result.stderr
    assert "usc: warning: conf/config.yaml: unreadable hydra-config file: invalid YAML" in (
        result.stderr
    )
