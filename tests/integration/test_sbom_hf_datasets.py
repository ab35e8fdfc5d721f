"""`usc sbom` on repositories shaped like Hugging Face dataset repositories.

Layouts follow what the hub writes (`data/<split>-00000-of-00002.parquet` shards, a README whose
YAML front matter has `configs`): https://huggingface.co/docs/hub/datasets-manual-configuration
and https://huggingface.co/docs/hub/datasets-cards; default split patterns without `configs` are
those of huggingface/datasets src/datasets/data_files.py (`get_data_patterns`). Builder scripts
follow huggingface/datasets templates/new_dataset_script.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from tests.helpers import components_by_path, prop, props, run_usc, write_file


def _parquet(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"text": ["a", "b"], "label": [0, 1]}), str(path))


def _sbom(repo: Path, out: Path) -> dict[str, Any]:
    result = run_usc("sbom", str(repo), "-o", str(out), "--no-cache", "-q")
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = json.loads(out.read_text())
    return document


def _datasets(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in document["components"] if prop(c, "usc:kind") == "dataset"}


CARD = """---
license: cc-by-sa-4.0
pretty_name: Movie Reviews
task_categories:
- text-classification
language:
- en
configs:
- config_name: default
  data_files:
  - split: train
    path: data/train-*
  - split: test
    path: data/test-*
- config_name: unsupervised
  data_dir: unsup
  data_files:
  - split: train
    path: "*.parquet"
  - split: validation
    path: held-out.parquet
dataset_info:
  config_name: default
  splits:
  - name: train
    num_bytes: 1000
    num_examples: 4
  - name: test
    num_bytes: 500
    num_examples: 2
---
# Movie reviews

Reviews with sentiment labels.
"""

SCRIPT = """
import datasets

_HOMEPAGE = "https://example.org/reviews"
_LICENSE = "CC BY 4.0"
_URLS = {"train": "https://ann:CANARY-SCRIPT@files.example.org/reviews/train.jsonl"}


class Reviews(datasets.GeneratorBasedBuilder):
    def _split_generators(self, dl_manager):
        return dl_manager.download_and_extract(_URLS)
"""


def test_dataset_repository_with_configs(tmp_path: Path) -> None:
    repo = tmp_path / "reviews"
    for rel in (
        "data/train-00000-of-00002.parquet",
        "data/train-00001-of-00002.parquet",
        "data/test-00000-of-00001.parquet",
        "unsup/part-0.parquet",
        "scratch/notes.parquet",
    ):
        _parquet(repo / rel)
    write_file(repo / "README.md", CARD)
    write_file(repo / ".gitattributes", "*.parquet filter=lfs diff=lfs merge=lfs -text\n")
    # Negatives beside it: a model with its model card, a README without front matter over a
    # data directory, and Python named like its package that defines no builder.
    write_file(repo / "models" / "clf" / "config.json", '{"model_type": "bert"}')
    write_file(repo / "models" / "clf" / "model.safetensors", b"\x02\x00\x00\x00\x00\x00\x00\x00{}")
    write_file(
        repo / "models" / "clf" / "README.md",
        "---\nlicense: mit\npipeline_tag: text-classification\ndatasets: [reviews]\n---\n",
    )
    write_file(repo / "raw" / "README.md", "# Raw exports\n\nconfigs: none here.\n")
    write_file(repo / "raw" / "dump.csv", "a,b\n1,2\n")
    write_file(repo / "tools" / "tools.py", "def main():\n    return 0\n")
    write_file(repo / "script" / "script.py", SCRIPT)

    document = _sbom(repo, tmp_path / "o.cdx.json")
    datasets = _datasets(document)
    assert sorted(datasets) == [
        "dump",
        "held-out",
        "notes",
        "part-0",
        "reviews/default",
        "reviews/unsupervised",
        "script",
        "test-00000-of-00001",
        "train-00000-of-00002",
        "train-00001-of-00002",
    ]
    assert "CANARY-SCRIPT" not in json.dumps(document)

    default = datasets["reviews/default"]
    assert default["licenses"] == [{"license": {"id": "CC-BY-SA-4.0"}}]
    assert prop(default, "usc:descriptor") == "README.md"
    assert prop(default, "usc:hf:default-config") == "true"
    assert props(default, "usc:task-category") == ["text-classification"]
    assert props(default, "usc:language") == ["en"]
    assert prop(default, "usc:split:train:files") == "2"
    assert prop(default, "usc:split:test:num-examples") == "2"
    assert prop(default, "usc:content-present") is None
    assert "Movie Reviews" in props(default, "usc:dataset-name")

    by_path = components_by_path(document)
    for rel, split in (
        ("data/train-00000-of-00002.parquet", "train"),
        ("data/train-00001-of-00002.parquet", "train"),
        ("data/test-00000-of-00001.parquet", "test"),
    ):
        shard = by_path[rel]
        assert shard["licenses"] == [{"license": {"id": "CC-BY-SA-4.0"}}], rel
        assert prop(shard, "usc:split") == split
        assert prop(shard, "usc:hf:config") == "reviews/default"
        assert shard.get("hashes"), rel  # still the file's own component, hashed
    part = by_path["unsup/part-0.parquet"]
    assert (prop(part, "usc:hf:config"), prop(part, "usc:split")) == (
        "reviews/unsupervised",
        "train",
    )
    # Declared but absent: listed, without content; its config is then incomplete.
    absent = by_path["unsup/held-out.parquet"]
    assert prop(absent, "usc:content-present") == "false"
    assert prop(datasets["reviews/unsupervised"], "usc:content-present") == "false"
    # No config covers it: its own component, without the card's licence.
    notes = by_path["scratch/notes.parquet"]
    assert "licenses" not in notes and prop(notes, "usc:hf:config") is None
    # The README without front matter lends nothing.
    assert "licenses" not in by_path["raw/dump.csv"]
    # The builder script: remote, its URL redacted, its licence and homepage.
    script = datasets["script"]
    assert prop(script, "usc:storage") == "remote"
    assert prop(script, "usc:builder") == "Reviews"
    assert prop(script, "usc:homepage") == "https://example.org/reviews"
    assert script["licenses"] == [{"license": {"name": "CC BY 4.0"}}]
    # The model card's `datasets: [reviews]` reaches the config components, not the shards.
    model = next(c for c in document["components"] if c["name"] == "clf")
    deps = next(d for d in document["dependencies"] if d["ref"] == model["bom-ref"])
    linked = sorted(
        c["name"] for c in datasets.values() if c["bom-ref"] in deps.get("dependsOn", [])
    )
    assert linked == ["reviews/default", "reviews/unsupervised"]


def test_dataset_repository_without_configs_uses_default_patterns(tmp_path: Path) -> None:
    repo = tmp_path / "squad_like"
    for rel in ("train.parquet", "validation.parquet", "other/extra.parquet"):
        _parquet(repo / rel)
    # A clone without `git lfs pull`: the test shard is a pointer (https://git-lfs.com spec v1).
    write_file(
        repo / "test.parquet",
        "version https://git-lfs.github.com/spec/v1\noid sha256:" + "ab" * 32 + "\nsize 1234\n",
    )
    write_file(
        repo / "README.md",
        "---\nlicense: mit\ntask_categories: [question-answering]\n"
        "size_categories: [n<1K]\n---\n# Squad-like\n",
    )
    document = _sbom(repo, tmp_path / "o.cdx.json")
    datasets = _datasets(document)
    assert sorted(datasets) == ["extra", "squad_like/default", "test", "train", "validation"]
    config = datasets["squad_like/default"]
    assert props(config, "usc:size-category") == ["n<1K"]
    by_path = components_by_path(document)
    # Split keywords in file names (DEFAULT_PATTERNS_SPLIT_IN_FILENAME) decide the splits.
    assert prop(by_path["train.parquet"], "usc:split") == "train"
    assert prop(by_path["validation.parquet"], "usc:split") == "validation"
    assert prop(by_path["other/extra.parquet"], "usc:split") is None
    pointer = by_path["test.parquet"]
    assert (prop(pointer, "usc:split"), prop(pointer, "usc:storage")) == ("test", "git-lfs-pointer")
    assert pointer["licenses"] == [{"license": {"id": "MIT"}}]


def test_a_model_card_at_the_root_makes_no_dataset_components(tmp_path: Path) -> None:
    repo = tmp_path / "model_repo"
    _parquet(repo / "data" / "train-00000-of-00001.parquet")
    write_file(
        repo / "README.md",
        "---\nlicense: apache-2.0\npipeline_tag: text-classification\n---\n# A model\n",
    )
    document = _sbom(repo, tmp_path / "o.cdx.json")
    assert sorted(_datasets(document)) == ["train-00000-of-00001"]
