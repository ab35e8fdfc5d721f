"""Frictionless Data Package reader (unified_supply_chain.sources.datasets.frictionless).

Built to the Data Package standard (https://datapackage.org/standard/data-package/: `name`,
`title`, `licenses`, `sources`, `resources`) and the Data Resource standard
(https://datapackage.org/standard/data-resource/: `path` is a "url-or-path" or a list of them
for a multi-part resource, POSIX paths are relative and MUST NOT be absolute or contain `..`;
`hash` is an MD5 unless written `{algorithm}:{hash}`; `bytes`, `format`, `mediatype`,
`licenses`, `schema`). The sample is shaped like datasets/co2-fossil-global `datapackage.json`
(see tests/fuzz/datapackage_seeds.py).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from tests.fuzz import datapackage_seeds as dp
from unified_supply_chain.errors import FormatError
from unified_supply_chain.records import Hash
from unified_supply_chain.sources.datasets.frictionless import (
    PackageResource,
    is_data_package,
    read_data_package,
)


def _write(tmp_path: Path, name: str, document: object) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if name.endswith(".json"):
        path.write_text(json.dumps(document))
    else:
        path.write_text(yaml.safe_dump(document))
    return path


@pytest.mark.parametrize("name", ["datapackage.json", "datapackage.yaml"])
def test_reads_package_and_resources(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path, f"data/co2/{name}", dp.datapackage())
    pkg = read_data_package(path, f"data/co2/{name}")
    assert pkg.name == "co2-fossil-global"
    assert pkg.title == "Global CO2 Emissions from Fossil Fuels since 1751"
    assert pkg.licenses == ("ODC-PDDL-1.0",)
    assert pkg.sources == ("CDIAC",)
    sha = hashlib.sha256(dp.GLOBAL_CSV).hexdigest()
    md5 = hashlib.md5(b"not here", usedforsecurity=False).hexdigest()
    assert pkg.resources == (
        PackageResource(
            name="global",
            paths=("data/co2/global.csv",),
            format="csv",
            mediatype="text/csv",
            bytes=len(dp.GLOBAL_CSV),
            hashes=(Hash("SHA-256", sha, "datapackage"),),
            field_count=3,
        ),
        PackageResource(
            name="national",
            paths=("data/co2/national.csv",),
            format="csv",
            hashes=(Hash("MD5", md5, "datapackage"),),  # no prefix: MD5 by the standard
            licenses=("CC-BY-4.0",),
        ),
        PackageResource(
            name="monthly",
            paths=("data/co2/monthly/part-1.csv", "data/co2/monthly/part-2.csv"),
            format="csv",
        ),
        PackageResource(
            name="mirror",
            urls=("https://data.example.org/co2/global.csv",),  # user-info removed
            format="csv",
            mediatype="text/csv",
        ),
    )


def test_other_algorithms_and_malformed_hashes(tmp_path: Path) -> None:
    doc = {
        "name": "p",
        "resources": [
            {"name": "a", "path": "a.csv", "hash": "sha1:" + "AB" * 20},
            {"name": "b", "path": "b.csv", "hash": "sha256:tooshort"},
            {"name": "c", "path": "c.csv", "hash": "crc32:deadbeef"},
            {"name": "d", "path": "d.csv", "hash": 12},
        ],
    }
    pkg = read_data_package(_write(tmp_path, "datapackage.json", doc), "datapackage.json")
    a, b, c, d = pkg.resources
    assert a.hashes == (Hash("SHA-1", "ab" * 20, "datapackage"),)
    assert a.warnings == ()
    for r in (b, c, d):
        assert r.hashes == ()
        assert len(r.warnings) == 1 and "hash" in r.warnings[0]


def test_absolute_and_climbing_paths_are_refused(tmp_path: Path) -> None:
    doc = {
        "name": "p",
        "resources": [
            {"name": "abs", "path": "/etc/passwd"},
            {"name": "up", "path": "../../secret.csv"},
            {"name": "mid", "path": "ok/../../x.csv"},
            {"name": "win", "path": "C:\\data\\x.csv"},
            {"name": "fine", "path": "./sub/x.csv"},
        ],
    }
    pkg = read_data_package(_write(tmp_path, "pkg/datapackage.json", doc), "pkg/datapackage.json")
    by_name = {r.name: r for r in pkg.resources}
    for name in ("abs", "up", "mid", "win"):
        assert by_name[name].paths == () and by_name[name].urls == (), name
        assert "not followed" in by_name[name].warnings[0]
    assert by_name["fine"].paths == ("pkg/sub/x.csv",)


def test_inline_data_and_fallback_names(tmp_path: Path) -> None:
    doc = {"resources": [{"data": [{"a": 1}]}, {"path": "x.csv", "schema": "schema.json"}]}
    pkg = read_data_package(_write(tmp_path, "iris/datapackage.json", doc), "iris/datapackage.json")
    assert pkg.name == "iris"  # the directory, when the package has no name
    first, second = pkg.resources
    assert first.inline and first.name == "resource[0]" and first.paths == ()
    assert second.field_count is None  # a referenced schema is not fetched


@pytest.mark.parametrize(
    "document",
    [
        # An npm package.json: no resources at all.
        {"name": "web-app", "version": "1.0.0", "dependencies": {"left-pad": "^1.3.0"}},
        # `resources` that is a mapping (an app's asset manifest).
        {"resources": {"css": "main.css", "js": "main.js"}},
        # A list whose items have neither `path` nor `data` (a Terraform-like plan).
        {"resources": [{"type": "aws_s3_bucket", "name": "logs"}]},
        {"resources": []},
        ["not", "a", "mapping"],
    ],
)
def test_what_is_not_a_data_package(tmp_path: Path, document: object) -> None:
    assert not is_data_package(document)
    path = _write(tmp_path, "datapackage.json", document)
    with pytest.raises(FormatError):
        read_data_package(path, "datapackage.json")


def test_invalid_json_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "datapackage.json"
    path.write_text('{"resources": [')
    with pytest.raises(FormatError):
        read_data_package(path, "datapackage.json")
