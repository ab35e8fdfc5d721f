"""`usc sbom` on generated repositories shaped like an Ultralytics training repository and a Kedro
spaceflights project: YOLO dataset YAML and Kedro catalog entries become dataset components in a
valid CycloneDX document, parameters become hyperparameter sets, and no credential is copied.

Layouts modelled on ultralytics/ultralytics (`ultralytics/cfg/datasets/coco8.yaml`,
`ultralytics/cfg/models/v8/yolov8.yaml`, `ultralytics/cfg/default.yaml`) and
kedro-org/kedro-starters `spaceflights-pandas/{{ cookiecutter.repo_name }}/conf/`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.helpers import assert_valid_cyclonedx, props, run_usc, write_file
from tests.unit.test_datasets_kedro import spaceflights
from tests.unit.test_datasets_yolo import COCO8, DEFAULT_CFG, MODEL_YAML


def _sbom(root: Path, out: Path) -> dict[str, Any]:
    result = run_usc("sbom", str(root), "-o", str(out), "--no-cache", "-q")
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = json.loads(out.read_text())
    assert_valid_cyclonedx(document)
    return document


def test_yolo_and_kedro_repository(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    spaceflights(root)
    write_file(
        root / "ultralytics/cfg/datasets/coco8.yaml",
        COCO8.replace("path: coco8", "path: datasets/coco8"),
    )
    write_file(root / "ultralytics/cfg/models/v8/yolov8.yaml", MODEL_YAML)
    write_file(root / "ultralytics/cfg/default.yaml", DEFAULT_CFG)
    write_file(root / "datasets/coco8/images/train/1.jpg", b"\xff\xd8\xff1")
    write_file(root / "datasets/coco8/labels/train/1.txt", "0 0.5 0.5 0.2 0.2\n")
    document = _sbom(root, tmp_path / "sbom.json")

    by_ref = {c["bom-ref"]: c for c in document["components"] if c["type"] == "data"}
    datasets = {r for r, c in by_ref.items() if c["data"][0]["type"] == "dataset"}
    cat = "conf/base/catalog.yml"
    assert datasets == {
        "dataset:ultralytics/cfg/datasets/coco8.yaml#coco8",
        "dataset:data/01_raw/companies.csv",
        "dataset:data/01_raw/shuttles.xlsx",
        f"dataset:{cat}#reviews",
        f"dataset:{cat}#weather",
        f"dataset:{cat}#scooters",
        f"dataset:{cat}#preprocessed_companies",
        f"dataset:{cat}#dummy_confusion_matrix",
        f"dataset:{cat}#{{name}}_plot",
    }
    configs = {r for r, c in by_ref.items() if c["data"][0]["type"] == "configuration"}
    assert configs == {
        "hyperparameters:conf/base/parameters.yml",
        "hyperparameters:conf/base/parameters_data_science.yml",
        "hyperparameters:conf/base/parameters_data_processing.yml",
    }

    coco = by_ref["dataset:ultralytics/cfg/datasets/coco8.yaml#coco8"]
    assert coco["name"] == "coco8"
    assert props(coco, "usc:dataset:split:train") == ["datasets/coco8/images/train"]
    assert props(coco, "usc:dataset:absent:val") == ["datasets/coco8/images/val"]
    assert props(coco, "usc:dataset:classes") == ["3"]
    assert props(coco, "usc:descriptor") == ["ultralytics/cfg/datasets/coco8.yaml"]
    assert [c["name"] for c in coco["components"]] == [
        "datasets/coco8/images/train/1.jpg",
        "datasets/coco8/labels/train/1.txt",
    ]
    assert coco["hashes"][0]["alg"] == "SHA-256"

    weather = by_ref[f"dataset:{cat}#weather"]
    assert props(weather, "usc:content-present") == ["false"]
    assert props(weather, "usc:kedro:type") == ["spark.SparkDataset"]
    text = json.dumps(document)
    for secret in ("AKIAEXAMPLE", "wJalrXUtnFEMI", "dev_s3", "scooters_credentials", "user:tok"):
        assert secret not in text
    # The YOLO model definition and the training defaults are no component of any kind.
    paths = {p for c in document["components"] for p in props(c, "usc:path")}
    assert not paths & {"ultralytics/cfg/models/v8/yolov8.yaml", "ultralytics/cfg/default.yaml"}
