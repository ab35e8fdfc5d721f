"""TorchServe model archives (formats/torchserve.py, safety/torchserve.py).

Built as pytorch/serve's torch-model-archiver writes them: model-archiver/model_archiver/
model_packaging_utils.py zips the model directory (deflated by default) and writes
MAR-INF/MANIFEST.json last; manifest_components/manifest.py and model.py give its keys.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz.archive_seeds import (
    mar_bytes,
    mar_manifest,
    pickle_payload,
    torch_zip_bytes,
    zip_bytes,
)
from tests.helpers import refuse_unpickling, system_payload
from unified_supply_chain.discover.classify import classify
from unified_supply_chain.errors import FormatError
from unified_supply_chain.formats.torchserve import read_mar
from unified_supply_chain.records import Severity
from unified_supply_chain.safety.scan import scan_file


@pytest.fixture(autouse=True)
def no_unpickling(monkeypatch: pytest.MonkeyPatch) -> None:
    refuse_unpickling(monkeypatch)


def _mar(tmp_path: Path, data: bytes, name: str = "mnist.mar") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_manifest_is_read(tmp_path: Path) -> None:
    path = _mar(tmp_path, mar_bytes(torch_zip_bytes(pickle_payload())))
    assert classify(path.read_bytes()[:512], "model_store/mnist.mar") == "torchserve-mar"
    props = read_mar(path).properties
    assert props["torchserve.model_name"] == "mnist"
    assert props["torchserve.handler"] == "handler.py"
    assert props["torchserve.handler_builtin"] == "false"
    assert props["torchserve.serialized_file"] == "mnist_cnn.pt"
    assert props["torchserve.model_file"] == "mnist.py"
    assert props["torchserve.runtime"] == "python"
    assert props["torchserve.archiver_version"] == "0.12.0"
    assert props["torchserve.python_files"] == "2"


def test_manifest_first_is_recognised_without_the_name(tmp_path: Path) -> None:
    data = zip_bytes({"MAR-INF/MANIFEST.json": mar_manifest("image_classifier"), "m.pt": b"x"})
    assert classify(data[:512], "renamed.bin") == "torchserve-mar"
    # A plain zip named .mar is claimed by name; without a manifest the reader refuses it.
    plain = _mar(tmp_path, zip_bytes({"a.txt": b"x"}))
    with pytest.raises(FormatError, match=r"no MAR-INF/MANIFEST\.json"):
        read_mar(plain)
    findings = scan_file(plain, "plain.mar", "torchserve-mar")
    assert [f.severity for f in findings] == [Severity.HIGH]
    assert "could not be verified safe" in findings[0].message


def test_custom_handler_and_python_files_are_findings(tmp_path: Path) -> None:
    path = _mar(tmp_path, mar_bytes(torch_zip_bytes(pickle_payload()), extra={"u.py": b""}))
    found = {(f.path, f.severity) for f in scan_file(path, "mnist.mar", "torchserve-mar")}
    assert found == {
        ("mnist.mar!handler.py", Severity.HIGH),
        ("mnist.mar!mnist.py", Severity.HIGH),  # the model file, imported at load
        ("mnist.mar!u.py", Severity.MEDIUM),
    }


def test_builtin_handler_is_medium(tmp_path: Path) -> None:
    path = _mar(tmp_path, mar_bytes(torch_zip_bytes(pickle_payload()), "image_classifier"))
    assert read_mar(path).properties["torchserve.handler_builtin"] == "true"
    findings = scan_file(path, "mnist.mar", "torchserve-mar")
    handler = [f for f in findings if f.details == ("torchserve-handler: image_classifier",)]
    assert [f.severity for f in handler] == [Severity.MEDIUM]


def test_pickles_in_the_serialized_file_are_scanned(tmp_path: Path) -> None:
    path = _mar(tmp_path, mar_bytes(torch_zip_bytes(system_payload("id", 2)), "image_classifier"))
    critical = [
        f for f in scan_file(path, "mnist.mar", "torchserve-mar") if f.severity is Severity.CRITICAL
    ]
    assert [f.path for f in critical] == ["mnist.mar!mnist_cnn.pt!archive/data.pkl"]
    # A truncated pickle in a member could not be verified: high in an archive format.
    cut = _mar(tmp_path, mar_bytes(torch_zip_bytes(pickle_payload()[:-3]), "image_classifier"))
    findings = scan_file(cut, "c.mar", "torchserve-mar")
    high = [f for f in findings if f.message.startswith("could not be verified safe")]
    assert [(f.path, f.severity) for f in high] == [
        ("c.mar!mnist_cnn.pt!archive/data.pkl", Severity.HIGH)
    ]
    assert "could not be verified safe" in high[0].message


def test_unreadable_manifest_is_high(tmp_path: Path) -> None:
    data = zip_bytes({"h.py": b"", "MAR-INF/MANIFEST.json": b"{not json"})
    findings = scan_file(_mar(tmp_path, data), "x.mar", "torchserve-mar")
    assert (Severity.HIGH, "x.mar!MAR-INF/MANIFEST.json") in {
        (f.severity, f.path) for f in findings
    }
