"""Croissant reader (unified_supply_chain.sources.datasets.croissant).

Built to the Croissant 1.0 specification (https://docs.mlcommons.org/croissant/docs/
croissant-spec.html, "FileObject" and "FileSet": `contentUrl`, `sha256`/`md5`,
`encodingFormat`, `containedIn`, `includes`/`excludes` glob patterns; "RecordSet" with its
`field`s) and its published examples (mlcommons/croissant datasets/1.0/fashion-mnist/
metadata.json: `@type: sc:Dataset`, `conformsTo: http://mlcommons.org/croissant/1.0`); the
sample is in tests/fuzz/datapackage_seeds.py.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.fuzz import datapackage_seeds as dp
from unified_supply_chain.errors import FormatError
from unified_supply_chain.records import Hash
from unified_supply_chain.sources.datasets.croissant import (
    CroissantFile,
    glob_regex,
    is_croissant,
    read_croissant,
)


def _write(tmp_path: Path, rel: str, document: object) -> Path:
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))
    return path


def test_reads_dataset_files_and_record_sets(tmp_path: Path) -> None:
    ds = read_croissant(
        _write(tmp_path, "data/pets/croissant.json", dp.croissant()), "data/pets/croissant.json"
    )
    assert ds.name == "pets"
    assert ds.licenses == ("https://creativecommons.org/licenses/by/4.0/",)
    assert ds.url == "https://huggingface.co/datasets/example/pets"
    assert ds.conforms_to == "http://mlcommons.org/croissant/1.0"
    assert ds.record_sets == (("default", 2),)
    assert ds.files == (
        CroissantFile(
            name="labels.csv",
            is_set=False,
            path="data/pets/labels.csv",
            encoding_format="text/csv",
            hashes=(Hash("SHA-256", hashlib.sha256(dp.LABELS_CSV).hexdigest(), "croissant"),),
        ),
        CroissantFile(
            name="images", is_set=True, includes=("images/*.jpg",), encoding_format="image/jpeg"
        ),
        CroissantFile(
            name="repo",
            is_set=False,
            url="https://huggingface.co/datasets/example/pets/tree/refs%2Fconvert%2Fparquet",
            encoding_format="git+https",
            hashes=(
                Hash(
                    "SHA-256",
                    "6894fa1803ae2e42ac3d46a7613037b5b59b47622f7e75c55d3f076657b21531",
                    "croissant",
                ),
            ),
        ),
        CroissantFile(
            name="parquet-files",
            is_set=True,
            includes=("*/*/*.parquet",),
            contained_in=("repo",),
            encoding_format="application/x-parquet",
        ),
    )
    assert ds.warnings == ()


def test_md5_credentials_and_refused_paths(tmp_path: Path) -> None:
    doc = dp.croissant()
    doc["distribution"] = [
        {
            "@type": "cr:FileObject",
            "name": "a",
            "contentUrl": "https://u:p@x.org/a.zip",
            "md5": "AA" * 16,
        },
        {"@type": "cr:FileObject", "name": "b", "contentUrl": "../../etc/passwd"},
        {"@type": "cr:FileObject", "name": "c", "contentUrl": "c.csv", "sha256": "nothex"},
        {"@type": "sc:CreativeWork", "name": "not a file"},
    ]
    ds = read_croissant(_write(tmp_path, "croissant.json", doc), "croissant.json")
    a, b, c = ds.files
    assert a.url == "https://x.org/a.zip" and a.hashes == (Hash("MD5", "aa" * 16, "croissant"),)
    assert b.path is None and b.url is None
    assert c.path == "c.csv" and c.hashes == ()
    assert len(ds.warnings) == 2
    assert any("not followed" in w for w in ds.warnings)
    assert any("sha256" in w for w in ds.warnings)


def test_plain_schema_org_dataset_with_data_download(tmp_path: Path) -> None:
    # schema.org's own Dataset markup (https://schema.org/Dataset) with a DataDownload.
    doc = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "name": "ncdc-storms",
        "license": {"@type": "CreativeWork", "name": "CC0-1.0"},
        "distribution": [
            {
                "@type": "DataDownload",
                "encodingFormat": "CSV",
                "contentUrl": "https://example.org/storms.csv",
            }
        ],
    }
    ds = read_croissant(_write(tmp_path, "dataset.json", doc), "dataset.json")
    assert ds.licenses == ("CC0-1.0",)
    assert [f.url for f in ds.files] == ["https://example.org/storms.csv"]


@pytest.mark.parametrize(
    "document",
    [
        # JSON-LD that is not a dataset: a schema.org SoftwareApplication.
        {"@context": "https://schema.org", "@type": "SoftwareApplication", "name": "app"},
        # A Croissant-looking context on something that is not a Dataset.
        {"@context": dp.CROISSANT_CONTEXT, "@type": "cr:RecordSet", "name": "r"},
        # `@type: Dataset` without any JSON-LD vocabulary (an app's own JSON).
        {"@type": "Dataset", "name": "d", "rows": 3},
        {"name": "fashion-mnist", "version": "1.0.0"},
        [1, 2, 3],
    ],
)
def test_what_is_not_a_croissant_dataset(tmp_path: Path, document: object) -> None:
    assert not is_croissant(document)
    with pytest.raises(FormatError):
        read_croissant(_write(tmp_path, "x.json", document), "x.json")


@pytest.mark.parametrize(
    ("pattern", "matches", "misses"),
    [
        ("images/*.jpg", ["images/a.jpg"], ["images/sub/a.jpg", "images/a.png", "x/images/a.jpg"]),
        ("**/*.jpg", ["a.jpg", "images/a.jpg", "images/sub/a.jpg"], ["a.png"]),
        ("*/*/*.parquet", ["default/train/0000.parquet"], ["train/0000.parquet"]),
        ("data/[!x]?.csv", ["data/ab.csv"], ["data/xb.csv", "data/abc.csv"]),
        ("part-[0-9].csv", ["part-3.csv"], ["part-a.csv", "part-.csv"]),
        ("[\\]x", ["\\x"], ["ax"]),
    ],
)
def test_fileset_globs(pattern: str, matches: list[str], misses: list[str]) -> None:
    regex = glob_regex(pattern)
    for path in matches:
        assert regex.match(path), (pattern, path)
    for path in misses:
        assert not regex.match(path), (pattern, path)
