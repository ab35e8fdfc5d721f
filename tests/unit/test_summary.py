"""Step summary: tables, the Mermaid lineage diagram, escaping and the size limit."""

from __future__ import annotations

import re
from typing import Any

from unified_supply_chain.actions_io import SUMMARY_TRUNCATED_NOTE
from unified_supply_chain.records import Finding, Severity
from unified_supply_chain.report import step_summary as summary

SHA = "ab" * 32


def props(**values: str | list[str]) -> list[dict[str, str]]:
    out = []
    for key, value in values.items():
        name = "usc:" + key.replace("_", "-")
        for v in value if isinstance(value, list) else [value]:
            out.append({"name": name, "value": v})
    return out


def model(ref: str, name: str, path: str, **extra: Any) -> dict[str, Any]:
    comp: dict[str, Any] = {
        "type": "machine-learning-model",
        "bom-ref": ref,
        "name": name,
        "hashes": [{"alg": "SHA-256", "content": SHA}],
        "licenses": [{"license": {"id": "MIT"}}],
        "properties": props(kind="model", format="safetensors", size="1572864", path=path),
    }
    comp.update(extra)
    return comp


def dataset(ref: str, name: str, path: str, **p: str | list[str]) -> dict[str, Any]:
    return {
        "type": "data",
        "bom-ref": ref,
        "name": name,
        "data": [{"type": "dataset", "name": name}],
        "properties": props(kind="dataset", format="csv", size="2048", path=path, **p),
    }


def params_set(ref: str, name: str, values: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "data",
        "bom-ref": ref,
        "name": name,
        "data": [
            {
                "type": "configuration",
                "name": name,
                "contents": {"properties": [{"name": k, "value": v} for k, v in values.items()]},
            }
        ],
        "properties": props(kind="hyperparameters", format="params-yaml", path="params.yaml"),
    }


def document() -> dict[str, Any]:
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "metadata": {"component": {"type": "application", "bom-ref": "app", "name": "iris"}},
        "components": [
            model("model:clf", "iris-classifier", "model/model.safetensors"),
            dataset("data:train", "train", "data/train.csv", rows="600", columns="5"),
            dataset("data:test", "test", "data/test.csv", warning=["bad row 7", "ragged"]),
            params_set(
                "params:train",
                "params.yaml#train",
                {"train.lr": "0.1", "train.epochs": "300", "a": "1", "b": "2", "c": "3"},
            ),
            {"type": "library", "bom-ref": "pkg:pypi/numpy@2.1", "name": "numpy"},
            {"type": "library", "bom-ref": "pkg:pypi/pyyaml@6", "name": "pyyaml"},
        ],
        "dependencies": [
            {"ref": "app", "dependsOn": ["model:clf", "pkg:pypi/numpy@2.1"]},
            {"ref": "model:clf", "dependsOn": ["data:train", "params:train"]},
            {"ref": "data:train"},
        ],
    }


def table_rows(markdown: str, heading: str) -> list[list[str]]:
    section = markdown.split(f"### {heading}\n\n", 1)[1].split("\n\n", 1)[0]
    lines = section.splitlines()[2:]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines]


def test_counts_line() -> None:
    md = summary.render_summary(document())
    assert "## ML-BOM: iris" in md
    assert (
        "CycloneDX 1.6 · **1** models · **2** datasets · **1** hyperparameter sets · "
        "**2** libraries · **2** warnings · **0** findings"
    ) in md


def test_models_table() -> None:
    rows = table_rows(summary.render_summary(document()), "Models")
    assert rows == [
        [
            "iris-classifier",
            "safetensors",
            "1.5 MiB",
            f"`{SHA[:12]}`",
            "MIT",
            "`model/model.safetensors`",
        ]
    ]


def test_datasets_table_with_rows_and_columns() -> None:
    rows = table_rows(summary.render_summary(document()), "Datasets")
    assert rows[0] == ["train", "csv", "2.0 KiB", "600", "5", "", "`data/train.csv`"]
    assert rows[1][3:5] == ["", ""], "unknown counts stay empty"


def test_hyperparameter_table_counts_and_first_values() -> None:
    rows = table_rows(summary.render_summary(document()), "Hyperparameter sets")
    assert rows == [
        ["params.yaml\\#train", "5", "train.lr=0.1, train.epochs=300, a=1, b=2, …", "`params.yaml`"]
    ]


def test_warnings_table_points_at_files() -> None:
    rows = table_rows(summary.render_summary(document()), "Warnings")
    assert rows == [["`data/test.csv`", "bad row 7"], ["`data/test.csv`", "ragged"]]


def test_findings_table() -> None:
    finding = Finding("unsafe-serialization", Severity.HIGH, "pickle imports os.system", "m.pkl")
    md = summary.render_summary(document(), findings=[finding])
    assert "**1** findings" in md
    assert table_rows(md, "Findings") == [
        ["high", "unsafe-serialization", "pickle imports os.system", "`m.pkl`"]
    ]


def test_mermaid_lineage() -> None:
    md = summary.render_summary(document())
    block = re.search(r"```mermaid\n(.*?)```", md, re.S)
    assert block is not None
    body = block.group(1)
    assert body.startswith("flowchart LR\n")
    assert '  n0["iris-classifier"]:::model' in body
    assert '  n1[("train")]:::dataset' in body
    assert '  n2{{"params.yaml#35;train"}}:::params' in body
    assert "  n1 --> n0" in body
    assert "  n2 --> n0" in body
    assert "numpy" not in body, "libraries are not part of the ML lineage"


def test_no_diagram_without_lineage() -> None:
    doc = document()
    doc["dependencies"] = []
    md = summary.render_summary(doc)
    assert "```mermaid" not in md
    assert "### Lineage" not in md


def test_mermaid_labels_cannot_escape() -> None:
    label = summary.mermaid_label('evil"] --> x[```</script>#x;')
    assert '"' not in label and "`" not in label and "<" not in label and ">" not in label
    assert label == "evil#34;] --#62; x[#96;#96;#96;#60;/script#62;#35;x;"
    assert summary.mermaid_label("a\nb\tc") == "a b c"
    assert len(summary.mermaid_label("x" * 500)) == 60


def test_hostile_names_escaped_in_tables() -> None:
    doc = document()
    doc["components"][0]["name"] = "a|b\n## heading <img src=x>"
    doc["components"][0]["properties"] = props(kind="model", path="we`ird|path")
    md = summary.render_summary(doc)
    row = md.split("### Models\n\n", 1)[1].splitlines()[2]
    assert "a\\|b \\#\\# heading &lt;img src=x&gt;" in row
    assert "we\\`ird\\|path" in row
    assert row.count(" | ") == 5, "escaped pipes keep the column count"


def test_diagram_bounded_with_note() -> None:
    doc = document()
    n = summary.MAX_DIAGRAM_NODES + 20
    doc["components"] = [model("m", "big-model", "m.bin")] + [
        dataset(f"d{i}", f"d{i}", f"d{i}.csv") for i in range(n)
    ]
    doc["dependencies"] = [{"ref": "m", "dependsOn": [f"d{i}" for i in range(n)]}]
    md = summary.render_summary(doc)
    body = re.search(r"```mermaid\n(.*?)```", md, re.S)
    assert body is not None
    nodes = re.findall(r"^  n\d+[\[{(]", body.group(1), re.M)
    assert len(nodes) == summary.MAX_DIAGRAM_NODES
    assert "21 edges not drawn" in md


def test_truncated_under_limit_with_note_and_diagram_intact() -> None:
    doc = document()
    doc["components"] += [dataset(f"x{i}", f"dataset-{i}", f"data/{i}.csv") for i in range(400)]
    full = summary.render_summary(doc)
    limit = 4000
    md = summary.render_summary(doc, max_bytes=limit)
    assert len(full.encode()) > limit
    assert len(md.encode()) <= limit
    assert md.endswith(SUMMARY_TRUNCATED_NOTE)
    assert md.count("```") in (0, 2), "the diagram is whole or absent"
    assert full.startswith(md[: -len(SUMMARY_TRUNCATED_NOTE)].rstrip("\n"))


def test_table_rows_capped() -> None:
    doc = document()
    doc["components"] = [
        dataset(f"x{i}", f"dataset-{i}", f"data/{i}.csv") for i in range(summary.MAX_TABLE_ROWS + 3)
    ]
    md = summary.render_summary(doc, max_bytes=10**8)
    assert "_3 more not shown._" in md
    assert len(table_rows(md, "Datasets")) == summary.MAX_TABLE_ROWS


def test_kind_inferred_without_usc_kind_and_nested_files_skipped() -> None:
    doc = {
        "specVersion": "1.7",
        "components": [
            {
                "type": "machine-learning-model",
                "bom-ref": "m",
                "name": "hf-model",
                "components": [{"type": "file", "name": "config.json"}],
            },
            {"type": "data", "name": "cfg", "data": [{"type": "configuration", "name": "cfg"}]},
            {"type": "data", "name": "ds", "data": [{"type": "dataset", "name": "ds"}]},
        ],
    }
    md = summary.render_summary(doc)
    assert "**1** models · **1** datasets · **1** hyperparameter sets" in md
    assert "config.json" not in md


def test_human_size() -> None:
    assert summary.human_size(None) == ""
    assert summary.human_size("512") == "512 B"
    assert summary.human_size(1024) == "1.0 KiB"
    assert summary.human_size(5 * 1024**4 * 1024) == "5120.0 TiB"
    assert summary.human_size("n/a") == "n/a"


def test_containers_with_a_purl_count_as_libraries() -> None:
    # One kind rule for every reader: the diff always counted these as libraries.
    doc = {
        "components": [
            {"type": "container", "name": "python", "purl": "pkg:docker/python@3.11"},
            {"type": "container", "name": "scratch"},
            {"type": "file", "name": "README.md"},
        ]
    }
    assert summary.count_kinds(doc) == {
        "model": 0,
        "dataset": 0,
        "hyperparameters": 0,
        "library": 1,
        "other": 2,
    }


def test_text_summary_lists_models_of_other_tools() -> None:
    from unified_supply_chain.report.text import render_text_summary

    doc = {
        "specVersion": "1.6",
        "components": [
            # No usc:kind (another tool's SBOM), and a hash entry without content.
            {"type": "machine-learning-model", "name": "hf-model", "hashes": [{"alg": "SHA-256"}]},
            {"type": "library", "name": "numpy"},
        ],
    }
    lines = render_text_summary(doc).splitlines()
    assert lines[0] == "1 model, 0 datasets, 0 hyperparameter sets, 1 library"
    assert any(line.startswith("model") and "hf-model" in line for line in lines[1:])


def test_escaper_is_the_shared_one() -> None:
    from unified_supply_chain.report import markdown

    assert summary.md_cell is markdown.md_cell
    assert summary.mermaid_label is markdown.mermaid_label
