"""Hugging Face dataset cards, `data_files` globs and default split patterns, builder scripts.

Sources the expectations are built from:
- Dataset card spec: https://huggingface.co/docs/hub/datasets-cards and `datasetcard.md` in
  huggingface/hub-docs (license, task_categories, language, size_categories, pretty_name,
  configs[].data_files, dataset_info.splits[].num_examples/num_bytes).
- Configs, data_files and split globs: https://huggingface.co/docs/hub/datasets-manual-configuration
- `DatasetCardData` in huggingface/huggingface_hub src/huggingface_hub/repocard_data.py (the
  fields only dataset cards have).
- Glob semantics, ignored files, hidden and `__special__` parts, `sanitize_patterns` and the
  default patterns: huggingface/datasets src/datasets/data_files.py (`resolve_pattern`,
  `get_data_patterns` docstring examples, `SPLIT_PATTERN_SHARDED`, `DEFAULT_PATTERNS_*`);
  `get_default_config_name` in src/datasets/utils/metadata.py.
- Builder scripts: huggingface/datasets templates/new_dataset_script.py (`_URLS`, `_LICENSE`,
  `_CITATION`, `_HOMEPAGE`, `datasets.GeneratorBasedBuilder`, `dl_manager.download_and_extract`)
  and TFDS's `tfds.core.GeneratorBasedBuilder` builders (`<name>_dataset_builder.py`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import write_file
from unified_supply_chain.discover.classify import classify
from unified_supply_chain.errors import FormatError
from unified_supply_chain.sources.datasets import hf_data_files as df
from unified_supply_chain.sources.datasets.builder_scripts import read_builder_script
from unified_supply_chain.sources.datasets.hf_dataset_card import read_dataset_card

# --- globs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("data/train-*", "data/train-00000-of-00002.parquet", True),
        ("data/train-*", "data/sub/train-00000-of-00002.parquet", False),  # `*` stops at `/`
        ("data/*.csv", "data/a.csv", True),
        ("data/*", "data/a/b.csv", False),
        ("data/**", "data/a/b.csv", True),  # `**` segment crosses directories
        ("**/*.csv", "a.csv", True),  # ... including none
        ("**/*.csv", "x/y/a.csv", True),
        ("data/train-[0-9][0-9]*", "data/train-01.csv", True),
        ("data/train-[0-9][0-9]*", "data/train-a1.csv", False),
        ("data/[!t]*", "data/test.csv", False),
        ("**", ".cache/x.csv", False),  # hidden parts only when the pattern names them
        (".cache/*", ".cache/x.csv", True),
        ("**", "__pycache__/b.txt", False),  # special directories likewise
        ("__pycache__/*", "__pycache__/b.txt", True),
        ("*", "README.md", False),  # FILES_TO_IGNORE unless asked for by name
        ("README.md", "README.md", True),
        ("data.csv", "data.csv", True),
        ("./holdout/*.csv", "holdout/ghi.csv", True),
    ],
)
def test_glob_semantics_follow_datasets_resolve_pattern(
    pattern: str, path: str, expected: bool
) -> None:
    assert df.matches(pattern, path) is expected


def test_default_patterns_sharded_splits_in_library_order() -> None:
    # get_data_patterns docstring: train/test first (DEFAULT_SPLITS order), then others sorted.
    paths = [
        "data/random-00000-of-00003.csv",
        "data/test-00000-of-00001.csv",
        "data/train-00000-of-00003.csv",
        "README.md",
    ]
    found = df.default_split_patterns(paths)
    assert list(found) == ["train", "test", "random"]
    assert found["train"] == [
        "data/train-[0-9][0-9][0-9][0-9][0-9]-of-[0-9][0-9][0-9][0-9][0-9]*.*"
    ]


def test_default_patterns_split_in_dir_name_before_file_name() -> None:
    paths = ["data/train/shard_0.csv", "data/test/shard_0.csv"]
    found = df.default_split_patterns(paths)
    assert list(found) == ["train", "test"]
    assert "**/train/**" in found["train"]
    assert df.resolve(found["train"], paths) == ["data/train/shard_0.csv"]


def test_default_patterns_split_in_file_name() -> None:
    paths = ["train_0.csv", "train_1.csv", "test_0.csv", "dev.csv", "README.md"]
    found = df.default_split_patterns(paths)
    assert list(found) == ["train", "validation", "test"]
    assert df.resolve(found["train"], paths) == ["train_0.csv", "train_1.csv"]
    assert df.resolve(found["validation"], paths) == ["dev.csv"]
    # `trainer.csv` is no train split: the keyword must be followed by a non-word character.
    assert df.default_split_patterns(["trainer.csv"]) == {"train": ["**"]}


def test_default_patterns_everything_is_train_or_nothing() -> None:
    assert df.default_split_patterns(["dataset.csv", "README.md"]) == {"train": ["**"]}
    assert df.default_split_patterns(["README.md"]) == {}


@pytest.mark.parametrize(
    ("data_files", "expected"),
    [
        ("data.csv", {"train": ["data.csv"]}),
        (["a.csv", "b.csv"], {"train": ["a.csv", "b.csv"]}),
        (
            [{"split": "train", "path": ["a.csv", "b.csv"]}, {"split": "test", "path": "t.csv"}],
            {"train": ["a.csv", "b.csv"], "test": ["t.csv"]},
        ),
        ({"train": "a.csv", "test": ["t.csv"]}, {"train": ["a.csv"], "test": ["t.csv"]}),
        ([{"split": "train", "path": "a"}, {"split": "train", "path": "b"}], None),  # duplicate
        ([{"split": "train", "path": "a", "x": 1}], None),  # not exactly {split, path}
        ([{"split": "no spaces!", "path": "a"}], None),  # split name must match _split_re
        (7, None),
    ],
)
def test_sanitize_patterns(data_files: object, expected: object) -> None:
    assert df.sanitize_patterns(data_files) == expected


# --- dataset cards ----------------------------------------------------------------------------

CARD = """---
license: apache-2.0
pretty_name: IMDB
task_categories:
- text-classification
task_ids:
- sentiment-classification
language:
- en
size_categories:
- 10K<n<100K
configs:
- config_name: plain_text
  data_files:
  - split: train
    path: plain_text/train-*
  - split: test
    path: plain_text/test-*
- config_name: extra
  data_dir: extra
  data_files: "*.jsonl"
  default: true
dataset_info:
- config_name: plain_text
  splits:
  - name: train
    num_bytes: 33432823
    num_examples: 25000
  download_size: 83446840
  dataset_size: 133190302
---
# Dataset Card for IMDB

Large Movie Review Dataset.
"""


def test_dataset_card_fields_and_configs(tmp_path: Path) -> None:
    card = read_dataset_card(write_file(tmp_path / "README.md", CARD))
    assert card is not None
    assert card.licenses == ("Apache-2.0",)
    assert card.task_categories == ("text-classification",)
    assert card.task_ids == ("sentiment-classification",)
    assert card.language == ("en",)
    assert card.size_categories == ("10K<n<100K",)
    assert card.pretty_name == "IMDB"
    assert card.description == "Large Movie Review Dataset."
    plain, extra = card.configs
    assert plain.name == "plain_text"
    assert plain.data_files == {"train": ["plain_text/train-*"], "test": ["plain_text/test-*"]}
    assert [(s.name, s.num_examples, s.num_bytes) for s in plain.splits] == [
        ("train", 25000, 33432823)
    ]
    assert plain.dataset_size == 133190302
    assert not plain.default
    assert extra.default and extra.data_dir == "extra"
    assert extra.data_files == {"train": ["*.jsonl"]}


def test_card_without_configs_has_one_default_config(tmp_path: Path) -> None:
    card = read_dataset_card(
        write_file(
            tmp_path / "README.md", "---\nlicense: mit\ntask_categories: [translation]\n---\n"
        )
    )
    assert card is not None
    (config,) = card.configs
    assert (config.name, config.data_files, config.default) == ("default", None, True)


def test_config_named_default_is_the_default(tmp_path: Path) -> None:
    text = (
        "---\nconfigs:\n- config_name: a\n  data_files: a.csv\n"
        "- config_name: default\n  data_files: d.csv\n---\n"
    )
    card = read_dataset_card(write_file(tmp_path / "README.md", text))
    assert card is not None
    assert [(c.name, c.default) for c in card.configs] == [("a", False), ("default", True)]


@pytest.mark.parametrize(
    "text",
    [
        # A model card: model-only fields.
        "---\nlicense: mit\npipeline_tag: text-classification\ndatasets: [imdb]\n---\n# M\n",
        "---\nlicense: mit\ntask_categories: [x]\nmodel-index:\n- name: m\n---\n",
        # No front matter at all.
        "# Just a readme\n\nconfigs: are mentioned in prose only.\n",
        # Front matter without any dataset-card field.
        "---\nlicense: mit\ntags: [a]\n---\n",
    ],
)
def test_not_a_dataset_card(tmp_path: Path, text: str) -> None:
    assert read_dataset_card(write_file(tmp_path / "README.md", text)) is None


def test_data_files_of_a_shape_datasets_rejects_warn(tmp_path: Path) -> None:
    text = "---\nconfigs:\n- config_name: x\n  data_files:\n  - split: train\n---\n"
    card = read_dataset_card(write_file(tmp_path / "README.md", text))
    assert card is not None
    assert card.configs[0].data_files == {}
    assert any("data_files" in w for w in card.warnings)


def test_unclosed_front_matter_is_a_format_error(tmp_path: Path) -> None:
    with pytest.raises(FormatError):
        read_dataset_card(write_file(tmp_path / "README.md", "---\nconfigs: []\n"))


# --- builder scripts --------------------------------------------------------------------------

HF_SCRIPT = '''
import datasets

_CITATION = """@inproceedings{rajpurkar-etal-2016-squad, title = "SQuAD"}"""
_DESCRIPTION = "Stanford Question Answering Dataset."
_HOMEPAGE = "https://rajpurkar.github.io/SQuAD-explorer/"
_LICENSE = "CC BY-SA 4.0"
_URL = "https://rajpurkar.github.io/SQuAD-explorer/dataset/"
_URLS = {
    "train": _URL + "train-v1.1.json",
    "dev": f"{_URL}dev-v1.1.json",
}


class SquadConfig(datasets.BuilderConfig):
    pass


class Squad(datasets.GeneratorBasedBuilder):
    VERSION = datasets.Version("1.0.0")

    def _info(self):
        return datasets.DatasetInfo(description=_DESCRIPTION, license=_LICENSE)

    def _split_generators(self, dl_manager):
        files = dl_manager.download_and_extract(_URLS)
        extra = dl_manager.download("https://user:s3cret@mirror.example.com/extra.json")
        return []
'''

TFDS_SCRIPT = """
import tensorflow_datasets as tfds


class Builder(tfds.core.GeneratorBasedBuilder):
    VERSION = tfds.core.Version("2.0.0")

    def _info(self):
        return self.dataset_info_from_configs(homepage="https://example.org/mnist")

    def _split_generators(self, dl_manager):
        path = dl_manager.download_and_extract("https://storage.example.org/mnist.zip")
        return {"train": self._generate_examples(path / "train")}
"""


def test_hf_builder_script(tmp_path: Path) -> None:
    (b,) = read_builder_script(write_file(tmp_path / "squad" / "squad.py", HF_SCRIPT))
    assert b.class_name == "Squad"  # the BuilderConfig subclass is not a builder
    assert b.urls == (
        "https://rajpurkar.github.io/SQuAD-explorer/dataset/train-v1.1.json",
        "https://rajpurkar.github.io/SQuAD-explorer/dataset/dev-v1.1.json",
        "https://mirror.example.com/extra.json",  # credentials redacted
    )
    assert "s3cret" not in " ".join(b.urls)
    assert b.license == "CC BY-SA 4.0"
    assert b.homepage == "https://rajpurkar.github.io/SQuAD-explorer/"
    assert b.citation is not None and b.citation.startswith("@inproceedings")
    assert b.description == "Stanford Question Answering Dataset."
    assert b.version == "1.0.0"


def test_tfds_builder_script(tmp_path: Path) -> None:
    path = write_file(tmp_path / "mnist" / "mnist_dataset_builder.py", TFDS_SCRIPT)
    (b,) = read_builder_script(path)
    assert (b.class_name, b.urls, b.version) == (
        "Builder",
        ("https://storage.example.org/mnist.zip",),
        "2.0.0",
    )
    assert b.license is None


def test_builder_imported_by_name(tmp_path: Path) -> None:
    text = (
        "from datasets import GeneratorBasedBuilder as GBB\n"
        "_DATA_URL = 'https://example.org/d.tar.gz'\n"
        "class D(GBB):\n    pass\n"
    )
    (b,) = read_builder_script(write_file(tmp_path / "d" / "d.py", text))
    assert b.urls == ("https://example.org/d.tar.gz",)


@pytest.mark.parametrize(
    "text",
    [
        # Ordinary code named like its package.
        "def main():\n    return 1\n",
        # A class of the same name from elsewhere is no builder.
        "from mylib import GeneratorBasedBuilder\n_URL = 'https://x.org/a'\n"
        "class A(GeneratorBasedBuilder):\n    pass\n",
        # A config class only.
        "import datasets\n_URL = 'https://x.org/a'\nclass C(datasets.BuilderConfig):\n    pass\n",
    ],
)
def test_not_a_builder_script(tmp_path: Path, text: str) -> None:
    assert read_builder_script(write_file(tmp_path / "pkg" / "pkg.py", text)) == []


def test_builder_with_computed_urls_has_none(tmp_path: Path) -> None:
    text = (
        "import datasets, os\n"
        "class D(datasets.GeneratorBasedBuilder):\n"
        "    def _split_generators(self, dl_manager):\n"
        "        return dl_manager.download(os.environ['DATA_URL'])\n"
    )
    (b,) = read_builder_script(write_file(tmp_path / "d" / "d.py", text))
    assert (b.urls, b.computed_downloads) == ((), 1)


def test_builder_script_is_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = (
        f"open({str(marker)!r}, 'w').write('x')\n"
        "import datasets\n_URL = 'https://x.org/a.json'\n"
        "class D(datasets.GeneratorBasedBuilder):\n    pass\n"
    )
    (b,) = read_builder_script(write_file(tmp_path / "d" / "d.py", text))
    assert b.urls == ("https://x.org/a.json",)
    assert not marker.exists()


def test_builder_script_syntax_error_is_a_format_error(tmp_path: Path) -> None:
    text = "import datasets\nclass D(datasets.GeneratorBasedBuilder)\n    pass\n"
    with pytest.raises(FormatError):
        read_builder_script(write_file(tmp_path / "d" / "d.py", text))


def test_multiplying_constants_are_bounded(tmp_path: Path) -> None:
    lines = ["import datasets", "_A0_URLS = 'https://x.org/a'"]
    lines += [f"_A{i}_URLS = [_A{i - 1}_URLS, _A{i - 1}_URLS]" for i in range(1, 40)]
    lines += ["class D(datasets.GeneratorBasedBuilder):", "    pass"]
    (b,) = read_builder_script(write_file(tmp_path / "d" / "d.py", "\n".join(lines) + "\n"))
    assert b.urls == ("https://x.org/a",)


@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        ("squad/squad.py", "dataset-builder-script"),
        ("datasets/mnist/mnist_dataset_builder.py", "dataset-builder-script"),
        ("src/tools/train.py", None),
        ("squad.py", None),
    ],
)
def test_builder_scripts_are_classified_by_name(rel: str, expected: str | None) -> None:
    assert classify(b"import datasets\n", rel) == expected


def test_scan_reports_a_builder_whose_urls_are_computed(tmp_path: Path) -> None:
    from unified_supply_chain.inspection.scan import scan
    from unified_supply_chain.options import ScanOptions

    text = (
        "import datasets, os\n"
        "class D(datasets.GeneratorBasedBuilder):\n"
        "    def _split_generators(self, dl_manager):\n"
        "        return dl_manager.download(os.environ['DATA_URL'])\n"
    )
    write_file(tmp_path / "d" / "d.py", text)
    inventory = scan(ScanOptions(root=tmp_path)).inventory
    assert [a.name for a in inventory.artifacts] == []
    assert [(p.path, "computed at run time" in p.message) for p in inventory.problems] == [
        ("d/d.py", True)
    ]


def test_config_named_twice_is_kept_once(tmp_path: Path) -> None:
    text = (
        "---\nconfigs:\n- config_name: a\n  data_files: a.csv\n"
        "- config_name: a\n  data_files: b.csv\n---\n"
    )
    card = read_dataset_card(write_file(tmp_path / "README.md", text))
    assert card is not None
    assert [(c.name, c.data_files) for c in card.configs] == [("a", {"train": ["a.csv"]})]
    assert any("named twice" in w for w in card.warnings)


def test_declared_paths_outside_the_repository_are_not_listed(tmp_path: Path) -> None:
    from unified_supply_chain.inspection.scan import scan
    from unified_supply_chain.options import ScanOptions

    write_file(
        tmp_path / "ds" / "README.md",
        "---\nconfigs:\n- config_name: default\n  data_files:\n"
        "  - split: train\n    path: ../../etc/passwd.csv\n"
        "  - split: test\n    path: /abs/test.csv\n"
        "  - split: validation\n    path: val.csv\n---\n",
    )
    inventory = scan(ScanOptions(root=tmp_path)).inventory
    paths = sorted(a.path for a in inventory.artifacts if a.path is not None)
    assert paths == ["ds/val.csv"]
    (config,) = [a for a in inventory.artifacts if a.path is None]
    assert config.name == "ds/default" and not config.content_present


def test_fast_matcher_agrees_with_the_per_pattern_rules() -> None:
    paths = [
        "data/train-00000-of-00002.parquet",
        "data/train/shard_0.csv",
        "train.csv",
        "x/dev_0.csv",
        ".hidden/train.csv",
        "data/.train.csv",
        "__pycache__/train.csv",
        "a/__special__/test.csv",
        "README.md",
        "data/README.md",
        "docs/config.json",
        "a/b/c.txt",
    ]
    groups = [
        *df.DEFAULT_PATTERNS_SPLIT_IN_DIR_NAME.values(),
        *df.DEFAULT_PATTERNS_SPLIT_IN_FILENAME.values(),
        ["**"],
        ["**", ".*/*", "__pycache__/*"],
        ["README.md", "data/*"],
        [df.SPLIT_PATTERN_SHARDED.replace("{split}", "*")],
    ]
    for pats in groups:
        expected = [p for p in paths if any(df.matches(q, p) for q in pats)]
        assert df.resolve(pats, paths) == expected, pats
    assert df.resolve(["**", ".*/*"], paths)[:2] == [
        "data/train-00000-of-00002.parquet",
        "data/train/shard_0.csv",
    ]
    assert ".hidden/train.csv" in df.resolve([".*/*"], paths)
