"""Ultralytics/YOLO dataset YAML: the reader, recognition by content, and the components a scan
makes of it.

Sources the fixtures follow:
- ultralytics/ultralytics `ultralytics/data/utils.py` `check_det_dataset`: `path` (the YAML's
  directory when missing), `train`/`val`/`test`/`minival` as dir, file, `.txt` list or list,
  the `../` retry, `validation` read as `val`, `names` or `nc`, `download` as a URL, `bash ...`
  or a Python script (exec'd by Ultralytics; never run here).
- ultralytics/ultralytics `ultralytics/cfg/datasets/coco8.yaml` (names as a mapping, download
  URL), yolov5's `data/coco128.yaml` (`path: ../datasets/coco128`, outside the repository),
  `data/hyps/hyp.scratch-low.yaml` (training hyperparameters) and `models/yolov5s.yaml`
  (`nc`, `backbone`, `head`: a model, not a dataset); `ultralytics/cfg/default.yaml` (`data:`).
- `ultralytics/data/utils.py` `img2label_paths`: `/images/` -> `/labels/`, suffix `.txt`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import write_file
from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.discover.classify import classify
from unified_supply_chain.errors import FormatError
from unified_supply_chain.inspection.scan import scan
from unified_supply_chain.options import ScanOptions
from unified_supply_chain.records import Artifact, ArtifactKind, Storage
from unified_supply_chain.sources.datasets.yolo import (
    YoloDataset,
    YoloSplit,
    label_for,
    location_candidates,
    read_image_list,
    read_yolo_dataset,
    resolve_root,
)

COCO8 = """\
# Ultralytics 🚀 AGPL-3.0 License - https://ultralytics.com/license
# Train/val/test sets as 1) dir: path/to/imgs, 2) file: path/to/imgs.txt, or 3) list: [...]
path: coco8 # dataset root dir
train: images/train # train images (relative to 'path') 4 images
val: images/val # val images (relative to 'path') 4 images
test: # test images (optional)

# Classes
names:
  0: person
  1: bicycle
  2: car

# Download script/URL (optional)
download: https://user:tok@github.com/ultralytics/assets/releases/download/v0.0.0/coco8.zip
"""

COCO128_V5 = """\
path: ../datasets/coco128  # dataset root dir
train: images/train2017  # train images (relative to 'path') 128 images
val: images/train2017  # val images (relative to 'path') 128 images
test:  # test images (optional)
nc: 2
names: ['person', 'bicycle']
download: https://ultralytics.com/assets/coco128.zip
"""

VOC_SCRIPT = """\
path: ../datasets/VOC
train:
  - images/train2012
  - images/train2007
val: images/val2007
names:
  0: aeroplane
  1: bicycle
download: |
  import xml.etree.ElementTree as ET
  from ultralytics.utils.downloads import download
  download([f"https://github.com/ultralytics/assets/releases/download/v0.0.0/VOC.zip"])
"""

MODEL_YAML = """\
nc: 80  # number of classes
depth_multiple: 0.33
backbone:
  [[-1, 1, Conv, [64, 6, 2, 2]]]
head:
  [[-1, 1, Detect, [nc, anchors]]]
"""

HYP_YAML = "lr0: 0.01\nmomentum: 0.937\nweight_decay: 0.0005\n"
DEFAULT_CFG = "task: detect\nmode: train\ndata: coco8.yaml\nepochs: 100\nval: true\n"
CI_YAML = "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"


def test_reader_coco8(tmp_path: Path) -> None:
    ds = read_yolo_dataset(write_file(tmp_path / "coco8.yaml", COCO8))
    assert ds == YoloDataset(
        name="coco8",
        root="coco8",
        splits=(YoloSplit("train", ("images/train",)), YoloSplit("val", ("images/val",))),
        class_count=3,
        download_url="https://github.com/ultralytics/assets/releases/download/v0.0.0/coco8.zip",
    )


def test_reader_lists_validation_key_and_scripts(tmp_path: Path) -> None:
    voc = read_yolo_dataset(write_file(tmp_path / "VOC.yaml", VOC_SCRIPT))
    assert voc is not None
    assert voc.name == "VOC"
    assert voc.splits[0] == YoloSplit("train", ("images/train2012", "images/train2007"))
    assert (voc.download_url, voc.download_script) == (None, "python")
    bash = read_yolo_dataset(
        write_file(
            tmp_path / "x.yaml",
            "train: a\nvalidation: b\nnames: [x]\ndownload: bash data/scripts/get_coco.sh\n",
        )
    )
    assert bash is not None
    # No `path`: named after the file; `validation` is read as `val`, as Ultralytics does.
    assert (bash.name, bash.root, bash.download_script) == ("x", None, "bash")
    assert [s.name for s in bash.splits] == ["train", "val"]


@pytest.mark.parametrize(
    "text",
    [MODEL_YAML, HYP_YAML, DEFAULT_CFG, CI_YAML, "names: [a]\n", "train: a\nnames: 3\n", ""],
    ids=["model", "hyp", "default-cfg", "ci", "no-split", "names-not-list", "empty"],
)
def test_reader_refuses_what_is_not_a_dataset(tmp_path: Path, text: str) -> None:
    assert read_yolo_dataset(write_file(tmp_path / "coco.yaml", text)) is None


def test_model_yaml_with_names_and_train_is_still_a_model(tmp_path: Path) -> None:
    text = MODEL_YAML + "names: [a]\ntrain: x\n"
    assert read_yolo_dataset(write_file(tmp_path / "m.yaml", text)) is None


def test_broken_yaml_that_looks_like_a_dataset_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FormatError):
        read_yolo_dataset(write_file(tmp_path / "d.yaml", "names: [a\ntrain: x\n"))


def test_path_helpers() -> None:
    assert resolve_root("data/coco128.yaml", "../datasets/coco128") is None
    assert resolve_root("data/x.yaml", None) == "data"
    assert resolve_root("data/x.yaml", "datasets/x") == "datasets/x"
    assert resolve_root("x.yaml", "/abs/x") is None
    # Roboflow exports: `../train/images` next to the YAML is retried without `../`.
    assert location_candidates("export", "../train/images") == (
        "train/images",
        "export/train/images",
    )
    assert location_candidates("", "../x") == ("x",)
    assert location_candidates("d", "/abs/x") == ()
    assert label_for("datasets/c/images/train/a.jpg") == "datasets/c/labels/train/a.txt"
    assert label_for("images/a.png") == "labels/a.txt"
    assert label_for("pics/a.png") is None


def test_image_list(tmp_path: Path) -> None:
    path = write_file(
        tmp_path / "d/val.txt", "./images/a.jpg\nother/b.jpg\n\n/abs/c.jpg\n../../x\n"
    )
    assert read_image_list(path, "d/val.txt") == ("d/images/a.jpg", "other/b.jpg")


# --- scans ----------------------------------------------------------------------------------


def _scan(root: Path) -> list[Artifact]:
    return list(scan(ScanOptions(root=root, jobs=1)).inventory.artifacts)


def _props(a: Artifact) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in a.extra_properties:
        out.setdefault(k, []).append(v)
    return out


def _ultralytics_tree(root: Path) -> None:
    """Shaped like ultralytics/ultralytics: cfg/datasets, cfg/models, cfg/default.yaml, and a
    `datasets/coco8` checkout beside it (images and labels as `check_det_dataset` expects)."""
    write_file(
        root / "ultralytics/cfg/datasets/coco8.yaml",
        COCO8.replace("path: coco8", "path: datasets/coco8"),
    )
    write_file(root / "ultralytics/cfg/datasets/VOC.yaml", VOC_SCRIPT)
    write_file(root / "ultralytics/cfg/models/v8/yolov8.yaml", MODEL_YAML)
    write_file(root / "ultralytics/cfg/default.yaml", DEFAULT_CFG)
    write_file(root / "data/hyps/hyp.scratch-low.yaml", HYP_YAML)
    write_file(root / ".github/workflows/ci.yaml", CI_YAML)
    write_file(root / "data/other.yaml", "a: 1\n")  # under data/, but not a dataset YAML
    for split, names in (("train", ("a", "b")), ("val", ("c",))):
        for n in names:
            write_file(
                root / f"datasets/coco8/images/{split}/{n}.jpg", b"\xff\xd8\xff" + n.encode()
            )
            write_file(root / f"datasets/coco8/labels/{split}/{n}.txt", f"0 0.5 0.5 0.1 {n}\n")


def test_scan_ultralytics_layout(tmp_path: Path) -> None:
    _ultralytics_tree(tmp_path)
    artifacts = _scan(tmp_path)
    datasets = {a.ref: a for a in artifacts if a.kind is ArtifactKind.DATASET}
    assert set(datasets) == {
        "dataset:ultralytics/cfg/datasets/coco8.yaml#coco8",
        "dataset:ultralytics/cfg/datasets/VOC.yaml#VOC",
    }
    # The hyperparameter file stays a hyperparameter set; model and CI YAML are nothing.
    others = {(a.kind, a.path) for a in artifacts if a.kind is not ArtifactKind.DATASET}
    assert others == {(ArtifactKind.HYPERPARAMETERS, "data/hyps/hyp.scratch-low.yaml")}

    coco = datasets["dataset:ultralytics/cfg/datasets/coco8.yaml#coco8"]
    assert coco.content_present and coco.storage is Storage.GIT
    assert [f[0] for f in coco.files] == [
        "datasets/coco8/images/train/a.jpg",
        "datasets/coco8/images/train/b.jpg",
        "datasets/coco8/labels/train/a.txt",
        "datasets/coco8/labels/train/b.txt",
        "datasets/coco8/images/val/c.jpg",
        "datasets/coco8/labels/val/c.txt",
    ]
    assert all(f[2] and len(f[2]) == 64 for f in coco.files)
    assert [h.source for h in coco.hashes] == ["directory-manifest"]
    p = _props(coco)
    assert p[Prop.DATASET_SPLIT.key("train")] == ["datasets/coco8/images/train"]
    assert p[Prop.DATASET_SPLIT.key("val")] == ["datasets/coco8/images/val"]
    assert p[Prop.DATASET_CLASSES.value] == ["3"]
    assert p[Prop.DESCRIPTOR.value] == ["ultralytics/cfg/datasets/coco8.yaml"]
    assert coco.url == "https://github.com/ultralytics/assets/releases/download/v0.0.0/coco8.zip"

    voc = datasets["dataset:ultralytics/cfg/datasets/VOC.yaml#VOC"]
    assert not voc.content_present and voc.files == ()
    # A script is noted, never run; with no URL the data's storage is not known to be remote.
    assert voc.url is None and voc.storage is Storage.GIT
    pv = _props(voc)
    assert pv[Prop.DOWNLOAD_SCRIPT.value] == ["python"]
    assert pv[Prop.DATASET_ABSENT.key("train")] == [
        "../datasets/VOC/images/train2012",
        "../datasets/VOC/images/train2007",
    ]


def test_yolov5_outside_root_and_roboflow_export(tmp_path: Path) -> None:
    write_file(tmp_path / "data/coco128.yaml", COCO128_V5)
    # Roboflow's export: data.yaml (also a generic descriptor name) with `../train/images`.
    write_file(
        tmp_path / "export/data.yaml",
        "train: ../train/images\nval: ../valid/images\nnc: 1\nnames: ['helmet']\n",
    )
    write_file(tmp_path / "export/train/images/x.jpg", b"\xff\xd8x")
    write_file(tmp_path / "export/train/labels/x.txt", "0 0.1 0.1 0.1 0.1\n")
    datasets = {a.ref: a for a in _scan(tmp_path) if a.kind is ArtifactKind.DATASET}
    assert set(datasets) == {"dataset:data/coco128.yaml#coco128", "dataset:export/data.yaml#data"}
    v5 = datasets["dataset:data/coco128.yaml#coco128"]
    assert not v5.content_present and v5.storage is Storage.REMOTE
    assert v5.url == "https://ultralytics.com/assets/coco128.zip"
    assert _props(v5)[Prop.DATASET_ABSENT.key("val")] == ["../datasets/coco128/images/train2017"]
    rf = datasets["dataset:export/data.yaml#data"]
    assert [f[0] for f in rf.files] == ["export/train/images/x.jpg", "export/train/labels/x.txt"]
    p = _props(rf)
    assert p[Prop.DATASET_SPLIT.key("train")] == ["export/train/images"]
    assert p[Prop.DATASET_ABSENT.key("val")] == ["valid/images"]
    assert any("not in the checkout" in w for w in rf.warnings)


def test_content_wins_over_config_dir_and_components_are_enriched(tmp_path: Path) -> None:
    import numpy as np

    # A dataset YAML among Hydra configs is a dataset; a .npy under its split is enriched,
    # not listed twice; an image list names what it covers.
    write_file(
        tmp_path / "configs/data/coco.yaml",
        "path: datasets/coco\ntrain: arrays\nval: val.txt\nnames: [a, b]\n",
    )
    (tmp_path / "datasets/coco/arrays").mkdir(parents=True)
    np.save(tmp_path / "datasets/coco/arrays/images.npy", np.zeros((2, 2), dtype=np.uint8))
    write_file(tmp_path / "datasets/coco/val.txt", "./images/val/1.jpg\n./images/val/missing.jpg\n")
    write_file(tmp_path / "datasets/coco/images/val/1.jpg", b"\xff\xd81")
    artifacts = _scan(tmp_path)
    by_ref = {a.ref: a for a in artifacts}
    assert set(by_ref) == {
        "dataset:configs/data/coco.yaml#coco",
        "dataset:datasets/coco/arrays/images.npy",
    }
    npy = by_ref["dataset:datasets/coco/arrays/images.npy"]
    assert (Prop.DATASET_SPLIT.key("train"), "datasets/coco/arrays") in npy.extra_properties
    assert (Prop.DESCRIPTOR.value, "configs/data/coco.yaml") in npy.extra_properties
    assert (Prop.DATASET_NAME.value, "coco") in npy.extra_properties
    coco = by_ref["dataset:configs/data/coco.yaml#coco"]
    assert [f[0] for f in coco.files] == ["datasets/coco/val.txt", "datasets/coco/images/val/1.jpg"]
    assert any("1 images datasets/coco/val.txt lists" in w for w in coco.warnings)


def test_classification_by_directory() -> None:
    assert classify(b"path: x\n", "data/coco128.yaml") == "yolo-dataset"
    assert classify(b"path: x\n", "ultralytics/cfg/datasets/coco8.yaml") == "yolo-dataset"
    assert classify(b"lr0: 0.01\n", "data/hyps/hyp.scratch-low.yaml") == "hyp-yaml"
    assert classify(b"x: 1\n", "configs/data/coco.yaml") == "hydra-config"
