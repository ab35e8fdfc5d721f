"""Inputs the fuzzers found that made a reader raise something other than FormatError, each
reduced to its essence; they must now be read (or refused with FormatError)."""

from __future__ import annotations

from pathlib import Path

from tests.fuzz import targets


def test_hydra_defaults_entry_longer_than_a_file_name(tmp_path: Path) -> None:
    # Found by scripts/fuzz.py (structure mutation of conf/config.yaml): Path.is_file() raised
    # OSError(ENAMETOOLONG) for a defaults entry of 5,000 characters.
    from unified_supply_chain.inventory.params import compose_hydra

    tree = dict(targets.HYDRA)
    tree["conf/config.yaml"] = b"defaults:\n- " + b"x" * 5000 + b"\ntrain:\n  epochs: 3\n"
    targets.write_tree(tmp_path, tree)
    composed = compose_hydra(tmp_path, "conf/config.yaml")
    assert ("train.epochs", "3") in composed.params
    assert len(composed.warnings) == 1 and "x" * 100 in composed.warnings[0]
