"""`usc validate`: valid, invalid and non-CycloneDX input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run_usc

EXAMPLE_DOC = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.6",
    "version": 1,
    "components": [{"type": "machine-learning-model", "name": "m", "bom-ref": "m"}],
}


@pytest.mark.parametrize("reference", [False, True])
def test_valid_and_invalid(tmp_path: Path, reference: bool) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(EXAMPLE_DOC))
    extra = ["--reference"] if reference else []
    result = run_usc("validate", str(good), *extra)
    assert result.returncode == 0, result.stderr
    assert "valid CycloneDX 1.6" in result.stderr
    bad = tmp_path / "bad.json"
    doc = json.loads(json.dumps(EXAMPLE_DOC))
    doc["components"][0]["type"] = "neural-net"
    bad.write_text(json.dumps(doc))
    result = run_usc("validate", str(bad), *extra)
    assert result.returncode == 1
    assert "components/0/type" in result.stderr


def test_not_cyclonedx_is_a_usage_error(tmp_path: Path) -> None:
    f = tmp_path / "x.json"
    f.write_text('{"spdxVersion": "SPDX-2.3"}')
    result = run_usc("validate", str(f))
    assert result.returncode == 2
    assert "not a CycloneDX" in result.stderr
    f.write_text("{not json")
    assert run_usc("validate", str(f)).returncode == 2
