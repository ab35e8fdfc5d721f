"""`usc sbom` on generated git repositories: a Hydra config tree lists its files in Hydra's
composition order (`usc:config:source`) and is found by any of them (evidence, `usc trace`), a
Hugging Face `config.json` is the configuration of its model, and repositories full of files that
are not ML artifacts (tests/builders/negatives.py) yield exactly their true components.

Hydra order: https://hydra.cc/docs/advanced/defaults_list/ ("Composition order", the
`--info defaults` Final Defaults List) and facebookresearch/hydra
`hydra/_internal/defaults_list.py` (reverse walk, `_self_` appended when missing).
Test-fixture rule: pytest's documented layout keeps tests in `tests/` (https://docs.pytest.org/
en/stable/explanation/goodpractices.html), their data in `tests/fixtures/` or `tests/data/`
(pytest-datadir's `data/`), Jest in `__tests__/` and `__fixtures__/`, Go in `testdata/`
(`go help packages`: directories named testdata are ignored by the go tool). Such files are not
the project's artifacts unless the safety scan flags them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.builders.negatives import REPOSITORIES
from tests.helpers import (
    assert_valid_cyclonedx,
    commit_all,
    init_repo,
    props,
    run_usc,
    system_payload,
    write_file,
)


def _sbom(root: Path, out: Path) -> dict[str, Any]:
    result = run_usc("sbom", str(root), "-o", str(out), "--no-cache", "-q")
    assert result.returncode in (0, 1), result.stderr
    document: dict[str, Any] = json.loads(out.read_text())
    assert_valid_cyclonedx(document)
    return document


def _ml_refs(document: dict[str, Any]) -> set[str]:
    return {c["bom-ref"] for c in document.get("components", []) if c["type"] != "library"}


def _hydra_repo(root: Path) -> None:
    init_repo(root)
    write_file(
        root / "conf/config.yaml",
        "defaults:\n  - model: resnet\n  - optimizer: adam\n  - experiment: short\n  - _self_\n"
        "seed: 42\n",
    )
    write_file(
        root / "conf/model/resnet.yaml",
        "defaults:\n  - backbone: r50\n  - _self_\nname: resnet\ndropout: 0.1\n",
    )
    write_file(root / "conf/model/backbone/r50.yaml", "depth: 50\n")
    write_file(root / "conf/optimizer/adam.yaml", "lr: 0.001\nbetas: [0.9, 0.999]\n")
    write_file(root / "conf/optimizer/sgd.yaml", "lr: 0.1\nmomentum: 0.9\n")
    write_file(
        root / "conf/experiment/short.yaml",
        "# @package _global_\ndefaults:\n  - override /optimizer: sgd\n\nepochs: 2\n",
    )
    import numpy as np
    from safetensors.numpy import save_file

    (root / "hf").mkdir()
    save_file({"w": np.zeros((2, 2), dtype=np.float32)}, str(root / "hf/model.safetensors"))
    write_file(
        root / "hf/config.json",
        json.dumps({"model_type": "bert", "architectures": ["BertModel"], "hidden_size": 8}),
    )
    commit_all(root, "hydra tree and a model directory")


def test_hydra_config_provenance_and_hf_configuration(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    _hydra_repo(root)
    out = tmp_path / "sbom.json"
    document = _sbom(root, out)
    comps = {c["bom-ref"]: c for c in document["components"] if c["type"] != "library"}
    assert set(comps) == {
        "hyperparameters:conf/config.yaml",
        "hyperparameters:hf/config.json",
        "model:hf",
    }
    composed = comps["hyperparameters:conf/config.yaml"]
    order = [
        "conf/model/backbone/r50.yaml",
        "conf/model/resnet.yaml",
        "conf/optimizer/sgd.yaml",
        "conf/experiment/short.yaml",
        "conf/config.yaml",
    ]
    assert props(composed, "usc:config:source") == order
    # Found by any of its files: evidence occurrences and one nested file component per file.
    locations = [o["location"] for o in composed["evidence"]["occurrences"]]
    assert locations == order
    assert sorted(c["name"] for c in composed["components"]) == sorted(order)
    values = {p["name"]: p["value"] for p in composed["data"][0]["contents"]["properties"]}
    assert values == {
        "model.backbone.depth": "50",
        "model.name": "resnet",
        "model.dropout": "0.1",
        "optimizer.lr": "0.1",
        "optimizer.momentum": "0.9",
        "epochs": "2",
        "seed": "42",
    }
    # The group file not selected (adam, overridden by the experiment) is no set of its own.
    assert "hyperparameters:conf/optimizer/adam.yaml" not in comps

    traced = run_usc(
        "trace", str(root / "conf/model/resnet.yaml"), "--sbom", str(out), "--format", "json"
    )
    assert traced.returncode == 0, traced.stderr
    answer = json.loads(traced.stdout)
    matches = answer["matches"]
    assert [m["component"]["bom-ref"] for m in matches] == ["hyperparameters:conf/config.yaml"]
    assert matches[0]["component"]["matched_file"]["path"] == "conf/model/resnet.yaml"

    # Hugging Face: config.json is a configuration the model directory depends on.
    deps = {d["ref"]: set(d.get("dependsOn", [])) for d in document["dependencies"]}
    assert "hyperparameters:hf/config.json" in deps["model:hf"]
    hf_values = {
        p["name"]: p["value"]
        for p in comps["hyperparameters:hf/config.json"]["data"][0]["contents"]["properties"]
    }
    assert hf_values["hidden_size"] == "8"


EXPECTED: dict[str, set[str]] = {
    "yolo": {
        "dataset:data/coco128.yaml#coco128",
        "hyperparameters:data/hyps/hyp.scratch-low.yaml",
    },
    "docs": set(),
    "ci": set(),
    "pkg": {"hyperparameters:MLproject"},
}


@pytest.mark.parametrize(("name", "builder"), REPOSITORIES, ids=[n for n, _ in REPOSITORIES])
def test_negatives_yield_exactly_the_true_components(
    tmp_path: Path, name: str, builder: Any
) -> None:
    root = init_repo(tmp_path / name)
    builder(root)
    commit_all(root, "negatives")
    document = _sbom(root, tmp_path / "sbom.json")
    assert _ml_refs(document) == EXPECTED[name]
    paths = {
        props(c, "usc:path")[0] for c in document.get("components", []) if props(c, "usc:path")
    }
    # Architecture YAML, CI, manifests, images, docs and fixtures are nowhere an ML component.
    for never in ("models/yolov5s.yaml", "train.py", "mkdocs.yml", "tests/fixtures/tiny.onnx"):
        assert never not in paths


def test_a_flagged_test_fixture_stays(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "repo")
    write_file(root / "tests/fixtures/model.pkl", system_payload("echo pwned", 2))
    write_file(root / "tests/fixtures/table.csv", "a,b\n1,2\n")
    commit_all(root, "fixtures")
    document = _sbom(root, tmp_path / "sbom.json")
    # Fail closed: a fixture that would run code when loaded is reported; the clean one is not.
    assert _ml_refs(document) == {"model:tests/fixtures/model.pkl"}
    (flagged,) = [c for c in document["components"] if c["bom-ref"].startswith("model:")]
    assert props(flagged, "usc:finding")
