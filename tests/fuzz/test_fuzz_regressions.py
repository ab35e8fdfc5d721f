"""Inputs the fuzzers found that made a reader raise something other than FormatError, each
reduced to its essence; they must now be read (or refused with FormatError)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest

from tests.fuzz import targets


def test_hydra_defaults_entry_longer_than_a_file_name(tmp_path: Path) -> None:
    # Found by scripts/fuzz.py (structure mutation of conf/config.yaml): Path.is_file() raised
    # OSError(ENAMETOOLONG) for a defaults entry of 5,000 characters.
    from unified_supply_chain.sources.params import compose_hydra

    tree = dict(targets.HYDRA)
    tree["conf/config.yaml"] = b"defaults:\n- " + b"x" * 5000 + b"\ntrain:\n  epochs: 3\n"
    targets.write_tree(tmp_path, tree)
    composed = compose_hydra(tmp_path, "conf/config.yaml")
    assert ("train.epochs", "3") in composed.params
    assert len(composed.warnings) == 1 and "x" * 100 in composed.warnings[0]


@pytest.mark.parametrize(
    "dependency",
    [
        {"ref": [], "dependsOn": []},  # merge.py:413 unhashable type: 'list'
        {"ref": "x", "dependsOn": True},  # merge.py:422 'bool' object is not iterable
    ],
)
def test_merge_input_with_malformed_dependencies(tmp_path: Path, dependency: dict) -> None:
    # Found by scripts/fuzz.py (structure mutation of a merge input); `usc sbom --merge` ended
    # with a TypeError traceback. Malformed entries are now skipped (or a MergeError).
    import copy

    from unified_supply_chain.bom.merge import merge_sboms
    from unified_supply_chain.errors import MergeError

    doc = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "components": [{"type": "library", "name": "x", "version": "1", "bom-ref": "x"}],
        "dependencies": [dependency],
    }
    path = tmp_path / "other.cdx.json"
    path.write_text(json.dumps(doc))
    with contextlib.suppress(MergeError):
        merge_sboms(copy.deepcopy(targets.our_document()), [path])


@pytest.mark.parametrize(
    ("include", "reason"),
    [
        ("m\x00\x00e/extra.txt", "NUL byte in the name"),  # resolve() raised ValueError
        ("more/" + "{" * 5000 + "extra.txt", "not found"),  # is_file() raised ENAMETOOLONG
    ],
)
def test_requirements_include_with_an_impossible_name(
    tmp_path: Path, include: str, reason: str
) -> None:
    # Found by scripts/fuzz.py (byte mutation of requirements.txt).
    from unified_supply_chain.sources.libraries.requirements import read_requirements

    (tmp_path / "requirements.txt").write_text(f"numpy==1.26.4\n-r {include}\n")
    result = read_requirements(tmp_path / "requirements.txt", "requirements.txt", tmp_path)
    assert [lib.name for lib in result.libraries] == ["numpy"]
    assert len(result.problems) == 1 and reason in result.problems[0].message
