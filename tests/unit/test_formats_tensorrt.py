"""TensorRT engines: recognised by name (no public layout, NVIDIA/TensorRT issue #3073) and
never clean, since their plugin references and embedded libraries cannot be read."""

from __future__ import annotations

from pathlib import Path

import pytest

from unified_supply_chain.discover.classify import classify
from unified_supply_chain.formats.tensorrt import tensorrt_safety
from unified_supply_chain.records import Severity

#: Stand-in engine bytes: no magic of any other format (the real magic is not public).
_ENGINE = bytes(range(7, 256)) * 16 + b"\x00" * 112


@pytest.mark.parametrize(
    "name",
    ["yolo.engine", "model_repository/m/1/model.plan", "models/det.plan", "x.trt"],
)
def test_engine_names(name: str) -> None:
    assert classify(_ENGINE[:64], name) == "tensorrt-engine"


@pytest.mark.parametrize("name", ["docs/release.plan", "migration.plan", "infra/tf.plan"])
def test_a_plan_outside_a_model_directory_is_not_an_engine(name: str) -> None:
    # `.plan` is a common suffix (project plans, terraform plans): claimed only where the
    # Triton model repository layout (`<model>/<version>/model.plan`) or a model folder says so.
    assert classify(b"Milestones\n- ship\n", name) != "tensorrt-engine"


def test_content_still_wins() -> None:
    # An ONNX model that someone named .engine is still ONNX (content before names).
    assert classify(b"\x08\x07\x12\x04usc1", "m.engine") == "onnx"


def test_engine_is_a_model_with_a_high_finding(tmp_path: Path) -> None:
    from unified_supply_chain.inspection.scan import scan
    from unified_supply_chain.options import ScanOptions

    (tmp_path / "engines").mkdir()
    (tmp_path / "engines" / "det.engine").write_bytes(_ENGINE)
    result = scan(ScanOptions(root=tmp_path, jobs=1))
    (model,) = [a for a in result.inventory.artifacts if a.path == "engines/det.engine"]
    assert model.format == "tensorrt-engine" and model.kind.value == "model"
    assert model.size == 4096
    (finding,) = model.findings
    assert finding.severity is Severity.HIGH
    assert "could not be verified safe" in finding.message


def test_hook_never_reads_or_raises(tmp_path: Path) -> None:
    missing = tmp_path / "gone.plan"  # the hook does not open the file at all
    (finding,) = tensorrt_safety(missing, "gone.plan", "tensorrt-engine")
    assert finding.path == "gone.plan"
