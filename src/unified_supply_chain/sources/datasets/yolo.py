"""Ultralytics/YOLO dataset YAML (`coco8.yaml`, `data/coco128.yaml`, Roboflow `data.yaml`).

Built from Ultralytics' own `ultralytics/data/utils.py` (`check_det_dataset`) and the files under
`ultralytics/cfg/datasets/`: `path` is the dataset root (the YAML's directory when missing);
`train`, `val` (or `validation`), `test` and `minival` are a directory, an image file, a `.txt`
file listing images, or a list of those, relative to `path`, where a location starting `../` that
does not exist is tried again without it (Roboflow exports); `names` is a list or an
`{index: name}` mapping (or only `nc` gives the count); `download` is a URL, a `bash ...` command
or a Python script. Scripts are noted, never run.

A file is a dataset YAML by content: a mapping with `names` and at least one split key, and none
of a model YAML's keys (`backbone`, `head`), so training hyperparameters (`hyp.*.yaml`,
`cfg/default.yaml`: `data:` but no `names:`) and model definitions are not datasets.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unified_supply_chain.redact import redact_url
from unified_supply_chain.safeparse import decode_text_bounded, loads_yaml, read_text_bounded

#: Split keys `check_det_dataset` resolves against `path`, in its order.
SPLIT_KEYS = ("train", "val", "test", "minival")
_MODEL_KEYS = ("backbone", "head")
#: Cheap pre-check on the text before parsing: both keys at the top level.
_NAMES_LINE = re.compile(r"^names\s*:", re.MULTILINE)
_SPLIT_LINE = re.compile(r"^(?:train|val|validation)\s*:", re.MULTILINE)
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$")
#: Largest dataset YAML read (ImageNet's 1000 class names are about 30 KiB).
MAX_YAML_BYTES = 4 * 1024 * 1024
_MAX_LOCATIONS = 1000
_MAX_LISTED_IMAGES = 200_000


@dataclass(frozen=True)
class YoloSplit:
    """One split and the locations it names, as written."""

    name: str
    """`train`, `val`, `test` or `minival` (`validation` is read as `val`, as Ultralytics does)."""
    locations: tuple[str, ...]
    """Directories, image files or image-list `.txt` files, relative to the dataset root."""


@dataclass(frozen=True)
class YoloDataset:
    """What one dataset YAML declares."""

    name: str
    """`path`'s last component, or the YAML file's stem when there is no `path`."""
    root: str | None
    """`path` as written (None: the YAML's own directory)."""
    splits: tuple[YoloSplit, ...]
    """Splits with at least one location, in `SPLIT_KEYS` order."""
    class_count: int | None
    """`len(names)`, or `nc` when there is no `names`."""
    download_url: str | None = None
    """`download` when it is a URL, credentials redacted."""
    download_script: str | None = None
    """"bash" or "python" when `download` is a script (recorded, never run)."""


def looks_like_yolo_dataset(text: str) -> bool:
    """Whether the text has top-level `names:` and a split key (a cheap test before parsing)."""
    return bool(_NAMES_LINE.search(text) and _SPLIT_LINE.search(text))


def is_yolo_dataset(data: object) -> bool:
    """Whether parsed YAML is a dataset YAML: `names` (list or mapping), a split key, and no
    model keys."""
    if not isinstance(data, dict) or any(k in data for k in _MODEL_KEYS):
        return False
    names = data.get("names")
    if not isinstance(names, (list, dict)):
        return False
    return any(k in data for k in ("train", "val", "validation"))


def _locations(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value.strip(),) if value.strip() else ()
    if isinstance(value, list):
        return tuple(v.strip() for v in value[:_MAX_LOCATIONS] if isinstance(v, str) and v.strip())
    return ()


def _download(value: object) -> tuple[str | None, str | None]:
    if not isinstance(value, str) or not value.strip():
        return None, None
    text = value.strip()
    if "\n" not in text and _URL.match(text):
        return redact_url(text), None
    return None, "bash" if text.startswith("bash ") else "python"


def parse_yolo_dataset(data: Any, stem: str) -> YoloDataset:
    """The declaration of an already parsed dataset YAML (`is_yolo_dataset(data)` holds)."""
    root = data.get("path")
    root_text = str(root).strip() if isinstance(root, (str, int, float)) and str(root) else None
    splits = []
    for key in SPLIT_KEYS:
        value = data.get(key)
        if key == "val" and value is None:
            value = data.get("validation")
        locations = _locations(value)
        if locations:
            splits.append(YoloSplit(key, locations))
    names = data.get("names")
    count: int | None = len(names) if isinstance(names, (list, dict)) else None
    nc = data.get("nc")
    if count is None and isinstance(nc, int) and not isinstance(nc, bool) and nc >= 0:
        count = nc
    url, script = _download(data.get("download"))
    base = posixpath.basename(root_text.rstrip("/")) if root_text else ""
    return YoloDataset(
        name=base if base not in ("", ".", "..") else stem,
        root=root_text,
        splits=tuple(splits),
        class_count=count,
        download_url=url,
        download_script=script,
    )


def read_yolo_dataset(path: Path) -> YoloDataset | None:
    """The dataset a YAML file declares, or None when it is not a dataset YAML.

    Raises FormatError for a file that looks like one (top-level `names:` and a split key) but
    does not parse; any other unparsable YAML is simply not a dataset YAML.
    """
    text = read_text_bounded(path, MAX_YAML_BYTES)
    if not looks_like_yolo_dataset(text):
        return None
    data = loads_yaml(text)
    if not is_yolo_dataset(data):
        return None
    return parse_yolo_dataset(data, path.name.split(".")[0] or path.name)


def resolve_root(yaml_rel: str, root: str | None) -> str | None:
    """Repo-relative dataset root, or None when it lies outside the repository.

    Ultralytics resolves a relative `path` against the working directory (the repository root
    when training runs there); a missing `path` is the YAML's own directory.
    """
    if root is None:
        return posixpath.dirname(yaml_rel)
    if root.startswith("/") or _URL.match(root):
        return None
    return _inside(root)


def _inside(path: str) -> str | None:
    norm = posixpath.normpath(path)
    if norm == ".":
        return ""
    if norm == ".." or norm.startswith("../") or norm.startswith("/"):
        return None
    return norm


def location_candidates(root: str, location: str) -> tuple[str, ...]:
    """Repo-relative paths a split location may mean, in Ultralytics' order of trying."""
    if location.startswith("/") or _URL.match(location):
        return ()
    out = []
    for loc in (location, location[3:] if location.startswith("../") else None):
        if loc is None:
            continue
        joined = _inside(posixpath.join(root, loc) if root else loc)
        if joined is not None:
            out.append(joined)
    return tuple(out)


def read_image_list(path: Path, list_rel: str) -> tuple[str, ...]:
    """Repo-relative images an image-list `.txt` names (lines starting `./` are relative to the
    list's directory, others to the working directory, as in Ultralytics' `get_img_files`)."""
    with path.open("rb") as fh:
        data = fh.read(MAX_YAML_BYTES + 1)
    text = decode_text_bounded(data, MAX_YAML_BYTES)
    parent = posixpath.dirname(list_rel)
    out: list[str] = []
    for line in text.splitlines()[:_MAX_LISTED_IMAGES]:
        entry = line.strip()
        if not entry:
            continue
        joined = posixpath.join(parent, entry[2:]) if entry.startswith("./") else entry
        inside = _inside(joined) if not joined.startswith("/") else None
        if inside:
            out.append(inside)
    return tuple(dict.fromkeys(out))


def label_for(image_rel: str) -> str | None:
    """The label file Ultralytics reads for an image: the last `/images/` becomes `/labels/` and
    the suffix `.txt` (`img2label_paths`); None when the path has no `images` directory."""
    padded = "/" + image_rel
    head, sep, tail = padded.rpartition("/images/")
    if not sep:
        return None
    return (head + "/labels/" + tail).lstrip("/").rsplit(".", 1)[0] + ".txt"
