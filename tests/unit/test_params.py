"""Hyperparameter files flatten to exact (key, value) pairs; Hydra trees compose like Hydra."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import write_file as _write
from unified_supply_chain.errors import FormatError, LimitExceeded
from unified_supply_chain.sources.params import (
    compose_hydra,
    is_hydra_primary,
    read_params_file,
)


def test_params_yaml_flattens_nested_values_lists_booleans_nulls(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "params.yaml",
        """
train:
  lr: 0.001
  epochs: 20
  shuffle: true
  seed: null
  layers: [64, 32]
  optimizer:
    name: adam
    betas: [0.9, 0.999]
data:
  splits:
    - {name: train, frac: 0.8}
    - {name: test, frac: 0.2}
  path: data/iris.csv
interp: ${train.lr}
empty: {}
""",
    )
    assert read_params_file(path, "params-yaml") == (
        ("train.lr", "0.001"),
        ("train.epochs", "20"),
        ("train.shuffle", "true"),
        ("train.seed", "null"),
        ("train.layers", "[64, 32]"),
        ("train.optimizer.name", "adam"),
        ("train.optimizer.betas", "[0.9, 0.999]"),
        ("data.splits.0.name", "train"),
        ("data.splits.0.frac", "0.8"),
        ("data.splits.1.name", "test"),
        ("data.splits.1.frac", "0.2"),
        ("data.path", "data/iris.csv"),
        ("interp", "${train.lr}"),
        ("empty", "{}"),
    )


def test_hyp_yaml_toml_and_json_by_extension(tmp_path: Path) -> None:
    hyp = _write(tmp_path / "hyp.scratch.yaml", "lr0: 0.01\nmosaic: 1.0\nfl_gamma: 0.0\n")
    assert read_params_file(hyp, "hyp-yaml") == (
        ("lr0", "0.01"),
        ("mosaic", "1.0"),
        ("fl_gamma", "0.0"),
    )
    toml = _write(tmp_path / "params.toml", '[model]\ndepth = 3\nname = "mlp"\n')
    assert read_params_file(toml, "params-yaml") == (("model.depth", "3"), ("model.name", "mlp"))
    js = _write(tmp_path / "params.json", '{"a": {"b": false}}')
    assert read_params_file(js, "params-yaml") == (("a.b", "false"),)
    empty = _write(tmp_path / "empty.yaml", "")
    assert read_params_file(empty, "params-yaml") == ()


def test_hf_config_drops_private_keys(tmp_path: Path) -> None:
    config = {
        "_name_or_path": "/home/someone/checkpoints/bert",
        "_commit_hash": "abc",
        "architectures": ["BertForSequenceClassification"],
        "hidden_size": 768,
        "id2label": {"0": "NEG", "1": "POS"},
        "torch_dtype": "float32",
        "rope_scaling": None,
    }
    path = _write(tmp_path / "config.json", json.dumps(config))
    assert read_params_file(path, "hf-config") == (
        ("architectures", '["BertForSequenceClassification"]'),
        ("hidden_size", "768"),
        ("id2label.0", "NEG"),
        ("id2label.1", "POS"),
        ("torch_dtype", "float32"),
        ("rope_scaling", "null"),
    )


def test_params_hostile_inputs(tmp_path: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(9)
    )
    with pytest.raises(LimitExceeded):
        read_params_file(_write(tmp_path / "bomb.yaml", bomb), "params-yaml")
    deep = _write(tmp_path / "deep.json", "[" * 100_000 + "]" * 100_000)
    with pytest.raises(FormatError):
        read_params_file(deep, "hf-config")
    garbage = _write(tmp_path / "garbage.yaml", bytes(range(256)) * 50)
    with pytest.raises(FormatError):
        read_params_file(garbage, "params-yaml")
    latin = _write(tmp_path / "latin.yaml", "name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(FormatError, match="UTF-8"):
        read_params_file(latin, "params-yaml")
    listing = _write(tmp_path / "list.yaml", "- 1\n- 2\n")
    with pytest.raises(FormatError, match="not a mapping"):
        read_params_file(listing, "params-yaml")
    tag = _write(tmp_path / "tag.yaml", "x: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(FormatError):
        read_params_file(tag, "params-yaml")
    assert not is_hydra_primary(garbage)
    assert not is_hydra_primary(tmp_path / "bomb.yaml")
    assert not is_hydra_primary(tmp_path / "missing.yaml")


def _hydra_tree(root: Path) -> None:
    _write(
        root / "conf" / "config.yaml",
        """
defaults:
  - model: small
  - optimizer: adam
  - optional logger: none
  - _self_

seed: 42
optimizer:
  lr: 0.01
hydra:
  run:
    dir: outputs
""",
    )
    _write(root / "conf" / "model" / "small.yaml", "hidden: 64\nlayers: 2\nname: ${oc.env:USER}\n")
    _write(
        root / "conf" / "optimizer" / "adam.yaml", "name: adam\nlr: 0.001\nbetas: [0.9, 0.999]\n"
    )


def test_hydra_composition_exact_keys(tmp_path: Path) -> None:
    _hydra_tree(tmp_path)
    assert is_hydra_primary(tmp_path / "conf" / "config.yaml")
    assert not is_hydra_primary(tmp_path / "conf" / "model" / "small.yaml")
    result = compose_hydra(tmp_path, "conf/config.yaml")
    assert result.params == (
        ("model.hidden", "64"),
        ("model.layers", "2"),
        ("model.name", "${oc.env:USER}"),
        ("optimizer.name", "adam"),
        ("optimizer.lr", "0.01"),
        ("optimizer.betas", "[0.9, 0.999]"),
        ("seed", "42"),
    )
    # Composition order (the Final Defaults List): `_self_` is last, so config.yaml comes last.
    assert (
        result.sources
        == result.members
        == (
            "conf/model/small.yaml",
            "conf/optimizer/adam.yaml",
            "conf/config.yaml",
        )
    )
    assert result.warnings == ()
    standalone = read_params_file(tmp_path / "conf" / "config.yaml", "hydra-config")
    assert standalone == (("seed", "42"), ("optimizer.lr", "0.01"))


def test_hydra_self_first_global_package_nested_defaults_and_overrides(tmp_path: Path) -> None:
    _write(
        tmp_path / "cfg" / "train.yaml",
        """
defaults:
  - _self_
  - model: resnet
  - /trainer@fit: gpu
  - override model/backbone: r101
  - experiment: fast
  - missing_group: nothing
  - evil: ../../../etc/passwd
  - base
model:
  hidden: 1
""",
    )
    _write(
        tmp_path / "cfg" / "model" / "resnet.yaml",
        "defaults:\n  - backbone: r50\n  - _self_\nhidden: 256\n",
    )
    _write(tmp_path / "cfg" / "model" / "backbone" / "r50.yaml", "depth: 50\n")
    _write(tmp_path / "cfg" / "model" / "backbone" / "r101.yaml", "depth: 101\n")
    _write(tmp_path / "cfg" / "trainer" / "gpu.yaml", "devices: 8\n")
    _write(
        tmp_path / "cfg" / "experiment" / "fast.yaml",
        "# @package _global_\nmodel:\n  hidden: 32\nmax_steps: 10\n",
    )
    _write(tmp_path / "cfg" / "base.yaml", "common: yes\n")
    result = compose_hydra(tmp_path, "cfg/train.yaml")
    assert dict(result.params) == {
        "model.hidden": "32",
        "model.backbone.depth": "101",
        "fit.devices": "8",
        "max_steps": "10",
        "common": "true",
    }
    # `_self_` first; resnet's own `_self_` follows its backbone.
    assert result.sources == (
        "cfg/train.yaml",
        "cfg/model/backbone/r101.yaml",
        "cfg/model/resnet.yaml",
        "cfg/trainer/gpu.yaml",
        "cfg/experiment/fast.yaml",
        "cfg/base.yaml",
    )
    # Hydra refuses an override before non-override entries; here it is a warning.
    assert len(result.warnings) == 3
    assert "requires overrides at the end" in result.warnings[0]
    assert any("missing_group/nothing not found" in w for w in result.warnings)
    assert any("not a plain relative name" in w for w in result.warnings)


def test_hydra_depth_cap_and_bad_members(tmp_path: Path) -> None:
    _write(tmp_path / "c" / "config.yaml", "defaults:\n  - a: one\n  - b: bad\n  - b: link\n")
    secret = _write(tmp_path.parent / f"{tmp_path.name}-secret.yaml", "leaked: 1\n")
    (tmp_path / "c" / "b").mkdir(parents=True)
    (tmp_path / "c" / "b" / "link.yaml").symlink_to(secret)
    _write(tmp_path / "c" / "a" / "one.yaml", "defaults:\n  - sub: two\nx: 1\n")
    _write(tmp_path / "c" / "a" / "sub" / "two.yaml", "defaults:\n  - deeper: three\ny: 2\n")
    _write(tmp_path / "c" / "a" / "sub" / "deeper" / "three.yaml", "z: 3\n")
    _write(tmp_path / "c" / "b" / "bad.yaml", b"\xff\xfe\x00garbage")
    result = compose_hydra(tmp_path, "c/config.yaml")
    assert result.params == (("a.sub.y", "2"), ("a.x", "1"))
    assert any("nested deeper" in w for w in result.warnings)
    assert any(w.startswith("c/b/bad.yaml:") for w in result.warnings)
    assert any("'b/link' points outside the repository" in w for w in result.warnings)
    assert "c/b/link.yaml" not in result.members
    outside = _write(tmp_path.parent / f"{tmp_path.name}-outside.yaml", "defaults: []\n")
    with pytest.raises(FormatError):
        compose_hydra(tmp_path, f"../{outside.name}")


def test_empty_mappings_have_no_parameters(tmp_path: Path) -> None:
    assert read_params_file(_write(tmp_path / "p.yaml", "{}\n"), "params-yaml") == ()
    only_meta = _write(tmp_path / "conf" / "config.yaml", "defaults:\n  - m: gone\n")
    result = compose_hydra(tmp_path, "conf/config.yaml")
    assert result.params == ()
    assert result.members == ("conf/config.yaml",)
    assert result.warnings == ("conf/config.yaml: config m/gone not found in conf",)
    assert read_params_file(only_meta, "hydra-config") == ()
