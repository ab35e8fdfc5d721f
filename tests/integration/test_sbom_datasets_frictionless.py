"""Data Packages and Croissant descriptions through `usc sbom` on a repository shaped like a real
one: a Frictionless core dataset (datasets/co2-fossil-global `datapackage.json`), a Croissant
dataset with local files, and a Hugging Face-style Croissant file (mlcommons/croissant
datasets/1.0/fashion-mnist/metadata.json) whose FileSet lies inside a remote repository.

Standards: https://datapackage.org/standard/data-resource/ (path, hash, bytes, licenses) and
https://docs.mlcommons.org/croissant/docs/croissant-spec.html (FileObject, FileSet, containedIn).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from tests.fuzz import datapackage_seeds as dp
from tests.helpers import prop, props, sbom_of

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def _sbom(root: Path, tmp_path: Path) -> dict[str, Any]:
    return sbom_of(root, tmp_path / "out.cdx.json")


def _write(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)


def _fashion_mnist() -> dict[str, Any]:
    doc = dp.croissant()
    doc["name"] = "fashion_mnist"
    doc["license"] = "mit"
    doc["url"] = "https://huggingface.co/datasets/fashion_mnist"
    doc["distribution"] = [d for d in doc["distribution"] if d["name"] in ("repo", "parquet-files")]
    doc["distribution"][1]["includes"] = "*/*/*.csv"
    return doc


def _repo(root: Path) -> None:
    _write(
        root,
        {
            "data/co2/datapackage.json": dp.as_bytes(dp.datapackage()),
            "data/co2/global.csv": dp.GLOBAL_CSV,
            "data/co2/monthly/part-1.csv": b"Month,Total\n1751-01,1\n",
            "data/pets/croissant.json": dp.as_bytes(dp.croissant()),
            "data/pets/labels.csv": dp.LABELS_CSV,
            "data/pets/images/cat1.jpg": JPEG,
            "data/pets/images/dog1.jpg": JPEG + b"\x00",
            "data/pets/images/notes.txt": b"not an image\n",
            # Found by content: a JSON-LD file that is a Croissant dataset, under another name.
            "data/mnist/metadata.json": dp.as_bytes(_fashion_mnist()),
            "data/mnist/default/train/0000.csv": b"label\n1\n",
            # Negatives: an npm manifest, JSON-LD that is no dataset, JSON with `resources`.
            "web/package.json": json.dumps(
                {"name": "site", "version": "1.0.0", "dependencies": {"react": "^18.0.0"}}
            ).encode(),
            "web/schema.jsonld": json.dumps(
                {"@context": "https://schema.org", "@type": "SoftwareApplication", "name": "site"}
            ).encode(),
            "deploy/resources.json": json.dumps(
                {"resources": [{"name": "bucket", "path": "s3/bucket.tf"}]}
            ).encode(),
        },
    )


def _datasets(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["bom-ref"]: c for c in document["components"] if prop(c, "usc:kind") == "dataset"}


def _licenses(component: dict[str, Any]) -> list[str]:
    return [
        entry["license"].get("id") or entry["license"].get("name")
        for entry in component.get("licenses", [])
    ]


def _hashes(component: dict[str, Any]) -> dict[str, str]:
    return {h["alg"]: h["content"] for h in component.get("hashes", [])}


def test_data_package_and_croissant_components(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    _repo(root)
    document = _sbom(root, tmp_path)
    datasets = _datasets(document)
    assert {(ref, c["name"]) for ref, c in datasets.items()} == {
        ("dataset:data/co2/global.csv", "co2-fossil-global/global"),
        ("dataset:data/co2/national.csv", "co2-fossil-global/national"),
        ("dataset:data/co2/monthly/part-1.csv", "co2-fossil-global/monthly"),
        ("dataset:data/co2/monthly/part-2.csv", "co2-fossil-global/monthly"),
        ("dataset:data/co2/datapackage.json#mirror", "co2-fossil-global/mirror"),
        ("dataset:data/pets/croissant.json#pets", "pets"),
        ("dataset:data/pets/labels.csv", "labels"),
        ("dataset:data/pets/images/cat1.jpg", "cat1"),
        ("dataset:data/pets/images/dog1.jpg", "dog1"),
        ("dataset:data/mnist/metadata.json#fashion_mnist", "fashion_mnist"),
        ("dataset:data/mnist/default/train/0000.csv", "0000"),
    }
    text = json.dumps(document)
    assert "hunter2" not in text
    for negative in ("web/package.json", "web/schema.jsonld", "deploy/resources.json"):
        assert f'"{negative}"' not in text, negative

    present = datasets["dataset:data/co2/global.csv"]
    assert _licenses(present) == ["ODC-PDDL-1.0"]
    assert _hashes(present)["SHA-256"] == hashlib.sha256(dp.GLOBAL_CSV).hexdigest()
    assert prop(present, "usc:descriptor") == "data/co2/datapackage.json"
    assert prop(present, "usc:dataset:fields") == "3"
    assert prop(present, "usc:media-type") == "text/csv"
    assert prop(present, "usc:content-present") is None
    assert props(present, "usc:warning") == []

    absent = datasets["dataset:data/co2/national.csv"]
    assert prop(absent, "usc:content-present") == "false"
    assert _licenses(absent) == ["CC-BY-4.0"]  # the resource's own licence wins
    assert _hashes(absent) == {"MD5": hashlib.md5(b"not here", usedforsecurity=False).hexdigest()}
    assert prop(absent, "usc:hash-source:MD5") == "datapackage"
    part_two = datasets["dataset:data/co2/monthly/part-2.csv"]
    assert prop(part_two, "usc:content-present") == "false"
    assert prop(datasets["dataset:data/co2/monthly/part-1.csv"], "usc:content-present") is None

    mirror = datasets["dataset:data/co2/datapackage.json#mirror"]
    assert prop(mirror, "usc:storage") == "remote"
    assert mirror["data"][0]["contents"]["url"] == "https://data.example.org/co2/global.csv"

    pets = datasets["dataset:data/pets/croissant.json#pets"]
    assert sorted(props(pets, "usc:dataset:covers")) == [
        "data/pets/images/cat1.jpg",
        "data/pets/images/dog1.jpg",
        "data/pets/labels.csv",
    ]
    assert props(pets, "usc:dataset:record-set") == ["default: 2"]
    assert _licenses(pets) == ["https://creativecommons.org/licenses/by/4.0/"]
    for ref in ("labels.csv", "images/cat1.jpg", "images/dog1.jpg"):
        member = datasets[f"dataset:data/pets/{ref}"]
        assert prop(member, "usc:dataset-name") == "pets", ref
        assert prop(member, "usc:descriptor") == "data/pets/croissant.json", ref
        assert _licenses(member) == _licenses(pets), ref
        assert props(member, "usc:warning") == [], ref

    # The FileSet lies inside the remote repository: the local CSV is not its content.
    mnist = datasets["dataset:data/mnist/metadata.json#fashion_mnist"]
    assert props(mnist, "usc:dataset:covers") == []
    assert prop(mnist, "usc:storage") == "remote"
    assert prop(mnist, "usc:content-present") == "false"
    assert prop(datasets["dataset:data/mnist/default/train/0000.csv"], "usc:dataset-name") is None


def test_stale_declared_digests_and_sizes_are_reported(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    _repo(root)
    package = dp.datapackage()
    package["resources"][0]["hash"] = "sha256:" + "0" * 64
    package["resources"][0]["bytes"] = 1
    croissant = dp.croissant()
    croissant["distribution"][0].pop("sha256")
    croissant["distribution"][0]["md5"] = "f" * 32
    _write(
        root,
        {
            "data/co2/datapackage.json": dp.as_bytes(package),
            "data/pets/croissant.json": dp.as_bytes(croissant),
        },
    )
    datasets = _datasets(_sbom(root, tmp_path))
    global_warnings = props(datasets["dataset:data/co2/global.csv"], "usc:warning")
    assert any(
        "content differs from data/co2/datapackage.json: SHA-256 000000000000" in w
        for w in global_warnings
    ), global_warnings
    assert any("size differs" in w for w in global_warnings), global_warnings
    labels = datasets["dataset:data/pets/labels.csv"]
    # The MD5 is computed, as for a DVC record, and compared.
    assert _hashes(labels)["MD5"] == hashlib.md5(dp.LABELS_CSV, usedforsecurity=False).hexdigest()
    assert any(
        "content differs from data/pets/croissant.json: MD5 ffffffffffff" in w
        for w in props(labels, "usc:warning")
    )
