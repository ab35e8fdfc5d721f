"""Hugging Face model cards, model directories, config.json and package URLs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unified_supply_chain.errors import FormatError, LimitExceeded, UsageError
from unified_supply_chain.records import Metric
from unified_supply_chain.sources.cards import (
    card_body,
    hf_card,
    hf_config,
    hf_licenses,
    text_fields,
)
from unified_supply_chain.sources.cards import huggingface as hf

EXAMPLE_CARD = (
    Path(__file__).resolve().parents[2] / "examples" / "iris-classifier" / "model" / "README.md"
)

FULL_CARD = """\
---
license: apache-2.0
language:
  - en
  - fr
library_name: transformers
pipeline_tag: text-classification
base_model: distilbert/distilbert-base-uncased
tags: [sentiment, distilbert]
datasets:
  - stanfordnlp/imdb
model-index:
  - name: distilbert-imdb
    results:
      - task:
          type: text-classification
          name: Text Classification
        dataset:
          name: stanfordnlp/imdb
          type: imdb
          split: test
        metrics:
          - type: accuracy
            value: 0.9312
            name: Accuracy
          - type: f1
            value: 0.93
      - task:
          type: text-classification
        dataset:
          name: rotten_tomatoes
          type: rotten_tomatoes
        metrics:
          - type: accuracy
            value: 0.85
---

# distilbert-imdb

[![badge](https://example.invalid/b.svg)](https://example.invalid)

This model is a fine-tuned version of distilbert on
the IMDB reviews dataset.

Second paragraph, not the description.

## Intended uses & limitations

More information needed

## Uses

### Direct Use

- Classify the sentiment of English movie reviews.
- Rank reviews by polarity.

### Out-of-Scope Use

Medical advice.

## Bias, Risks, and Limitations

Reviews in other languages are misclassified.

```python
print("code is not a limitation")
```

<!-- a template comment
spanning lines -->

## Ethical Considerations

Reviews may contain personal data.

## Training procedure

| lr | epochs |
|----|--------|
| 2e-5 | 3 |
"""


def write(tmp_path: Path, text: str | bytes, name: str = "README.md") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# --- model cards ----------------------------------------------------------------------------


def test_full_card_front_matter(tmp_path: Path) -> None:
    card = hf_card.read_model_card(write(tmp_path, FULL_CARD), source="models/x/README.md")
    assert card.has_front_matter
    assert card.license == "Apache-2.0"
    assert card.licenses == ("Apache-2.0",)
    assert card.language == ("en", "fr")
    assert card.library_name == "transformers"
    assert card.task == "text-classification"
    assert card.base_model == ("distilbert/distilbert-base-uncased",)
    assert card.tags == ("sentiment", "distilbert")
    assert card.datasets == ("stanfordnlp/imdb", "rotten_tomatoes")
    assert card.model_name == "distilbert-imdb"
    assert card.metrics == (
        Metric("accuracy", "0.9312", "stanfordnlp/imdb/test", "models/x/README.md"),
        Metric("f1", "0.93", "stanfordnlp/imdb/test", "models/x/README.md"),
        Metric("accuracy", "0.85", "rotten_tomatoes", "models/x/README.md"),
    )
    assert card.warnings == ()


def test_full_card_body_sections(tmp_path: Path) -> None:
    card = hf_card.read_model_card(write(tmp_path, FULL_CARD))
    assert card.description == (
        "This model is a fine-tuned version of distilbert on the IMDB reviews dataset."
    )
    assert card.considerations == {
        "useCases": [
            "Classify the sentiment of English movie reviews.",
            "Rank reviews by polarity.",
        ],
        "technicalLimitations": ["Reviews in other languages are misclassified."],
        "ethicalConsiderations": ["Reviews may contain personal data."],
    }


def test_example_project_card(tmp_path: Path) -> None:
    card = hf_card.read_model_card(EXAMPLE_CARD, source="examples/iris-classifier/model/README.md")
    metrics = json.loads((EXAMPLE_CARD.parents[1] / "metrics.json").read_text())
    assert card.license == "Apache-2.0"
    assert card.task == "tabular-classification"
    assert card.datasets == ("synthetic-iris",)
    assert {m.type: float(m.value) for m in card.metrics} == {
        "accuracy": metrics["accuracy"],
        "f1": metrics["f1_macro"],
        "loss": metrics["loss"],
    }
    assert {m.slice for m in card.metrics} == {"synthetic-iris/test"}
    assert len(card.considerations["useCases"]) == 2
    assert len(card.considerations["technicalLimitations"]) == 3
    assert card.considerations["ethicalConsiderations"] == [
        "None specific: the data are synthetic and describe no person."
    ]
    assert card.description is not None and card.description.startswith("A softmax-regression")


def test_card_without_front_matter(tmp_path: Path) -> None:
    card = hf_card.read_model_card(
        write(tmp_path, "# My model\n\nJust a model.\n\n## Limitations\n\n* Small.\n")
    )
    assert card.has_front_matter is False
    assert card.license is None and card.datasets == () and card.metrics == ()
    assert card.task is None and card.tags == ()
    assert card.description == "Just a model."
    assert card.considerations == {"technicalLimitations": ["Small."]}


def test_horizontal_rule_later_in_file_is_not_front_matter(tmp_path: Path) -> None:
    card = hf_card.read_model_card(write(tmp_path, "Intro text.\n\n---\nlicense: mit\n---\n"))
    assert card.has_front_matter is False
    assert card.license is None


def test_crlf_and_bom_front_matter(tmp_path: Path) -> None:
    text = "\ufeff---\r\nlicense: MIT\r\ndatasets: squad\r\n---\r\nBody.\r\n"
    card = hf_card.read_model_card(write(tmp_path, text.encode("utf-8")))
    assert card.license == "MIT"
    assert card.datasets == ("squad",)
    assert card.description == "Body."


def test_empty_front_matter(tmp_path: Path) -> None:
    card = hf_card.read_model_card(write(tmp_path, "---\n---\n"))
    assert card.has_front_matter is True
    assert card.license is None and card.metrics == ()


@pytest.mark.parametrize(
    ("license_field", "expected"),
    [
        ("apache-2.0", ("Apache-2.0",)),
        ("MIT", ("MIT",)),
        ("cc-by-4.0", ("CC-BY-4.0",)),
        ("cc-by-nc-sa-4.0", ("CC-BY-NC-SA-4.0",)),
        ("openrail", ("openrail",)),
        ("llama3.1", ("llama3.1",)),
        ("bigscience-bloom-rail-1.0", ("bigscience-bloom-rail-1.0",)),
        ("unknown", ()),
        ("[mit, apache-2.0]", ("MIT", "Apache-2.0")),
    ],
)
def test_license_normalisation(tmp_path: Path, license_field: str, expected: tuple[str]) -> None:
    card = hf_card.read_model_card(write(tmp_path, f"---\nlicense: {license_field}\n---\n"))
    assert card.licenses == expected
    assert card.license == (expected[0] if expected else None)


def test_license_other_uses_license_name(tmp_path: Path) -> None:
    text = "---\nlicense: other\nlicense_name: acme-model-license\n---\n"
    assert hf_card.read_model_card(write(tmp_path, text)).license == "acme-model-license"
    assert hf_card.read_model_card(write(tmp_path, "---\nlicense: other\n---\n")).license == "other"


def test_every_spdx_mapping_is_a_known_spdx_id() -> None:
    import cyclonedx.schema._res as res

    schema = json.loads((Path(res.__file__).parent / "spdx.SNAPSHOT.schema.json").read_text())
    known = set(schema["enum"])
    mapped = {hf_licenses.normalize_license(hub_id) for hub_id in hf_licenses._HF_TO_SPDX}
    assert mapped <= known, mapped - known


def test_task_falls_back_to_model_index(tmp_path: Path) -> None:
    text = yaml.safe_dump(
        {
            "model-index": [
                {
                    "name": "m",
                    "results": [
                        {
                            "task": {"type": "summarization"},
                            "dataset": {"type": "cnn_dailymail", "split": "validation"},
                            "metrics": [{"name": "rouge1", "value": 44.1}],
                        }
                    ],
                }
            ]
        }
    )
    card = hf_card.read_model_card(write(tmp_path, f"---\n{text}---\n"))
    assert card.task == "summarization"
    assert card.datasets == ("cnn_dailymail",)
    assert card.metrics == (Metric("rouge1", "44.1", "cnn_dailymail/validation"),)


def test_odd_shapes_are_ignored_with_warnings(tmp_path: Path) -> None:
    text = """\
---
license: 2023-01-01
tags: [ok, {nested: map}]
model-index: {not: a list}
datasets: [7, d]
---
"""
    card = hf_card.read_model_card(write(tmp_path, text))
    assert card.license is None  # a date is not a licence
    assert card.tags == ("ok",)
    assert card.datasets == ("7", "d")
    assert card.metrics == ()
    assert any("model-index" in w for w in card.warnings)
    assert any("tags" in w for w in card.warnings)


def test_metric_without_value_is_skipped_with_warning(tmp_path: Path) -> None:
    text = """\
---
model-index:
  - name: m
    results:
      - dataset: {name: d}
        metrics:
          - type: accuracy
          - type: f1
            value: 0.5
          - just-a-string
---
"""
    card = hf_card.read_model_card(write(tmp_path, text))
    assert card.metrics == (Metric("f1", "0.5", "d"),)
    assert card.warnings == ("front matter 'model-index': ignored a metric without type/value",)


def test_template_placeholders_are_not_considerations(tmp_path: Path) -> None:
    text = "---\nlicense: mit\n---\n## Limitations\n\n[More Information Needed]\n"
    card = hf_card.read_model_card(write(tmp_path, text))
    assert card.considerations == {}
    assert card.description is None


def test_long_sections_are_bounded(tmp_path: Path) -> None:
    items = "".join(f"- item {i} " + "x" * 3000 + "\n" for i in range(200))
    card = hf_card.read_model_card(write(tmp_path, f"## Limitations\n\n{items}"))
    lim = card.considerations["technicalLimitations"]
    assert len(lim) == card_body.MAX_CARD_SECTION_ITEMS
    assert all(len(item) <= text_fields.MAX_CARD_ITEM_CHARS for item in lim)
    assert lim[0].startswith("item 0 x") and lim[0].endswith("…")


@pytest.mark.parametrize(
    "text",
    [
        "---\nlicense: [unclosed\n---\n",
        "---\nlicense: mit\n",  # never closed
        "---\n- a\n- list\n---\n",
        "---\njust a string\n---\n",
        "---\n!!python/object/apply:os.system ['true']\n---\n",
    ],
)
def test_malformed_front_matter_raises_format_error(tmp_path: Path, text: str) -> None:
    with pytest.raises(FormatError):
        hf_card.read_model_card(write(tmp_path, text))


def test_yaml_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 12):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    text = "---\n" + "\n".join(lines) + "\nlicense: mit\n---\n"
    with pytest.raises(LimitExceeded):
        hf_card.read_model_card(write(tmp_path, text))


def test_card_over_the_cap_is_refused(tmp_path: Path) -> None:
    big = "---\nlicense: mit\n---\n" + "word " * (hf_card.MAX_MODEL_CARD_BYTES // 5 + 10)
    path = write(tmp_path, big)
    assert path.stat().st_size > hf_card.MAX_MODEL_CARD_BYTES
    with pytest.raises(LimitExceeded):
        hf_card.read_model_card(path)
    with pytest.raises(LimitExceeded):
        hf_card.read_model_card(write(tmp_path, "---\nlicense: mit\n---\n" + "x" * 100), cap=50)


def test_non_utf8_and_missing_cards_raise_format_error(tmp_path: Path) -> None:
    with pytest.raises(FormatError):
        hf_card.read_model_card(write(tmp_path, b"---\nlicense: \xff\xfe\n---\n"))
    with pytest.raises(FormatError):
        hf_card.read_model_card(tmp_path / "absent.md")


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20)
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "license",
                    "datasets",
                    "tags",
                    "model-index",
                    "results",
                    "metrics",
                    "dataset",
                    "task",
                    "type",
                    "value",
                    "name",
                    "split",
                    "base_model",
                    "language",
                    "pipeline_tag",
                    "license_name",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=25,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(front=_values, body=st.text(max_size=200))
def test_any_front_matter_gives_a_card_or_format_error(
    tmp_path: Path, front: object, body: str
) -> None:
    text = "---\n" + yaml.safe_dump(front, allow_unicode=True) + "---\n" + body
    path = write(tmp_path, text.encode("utf-8", "surrogatepass"))
    try:
        card = hf_card.read_model_card(path)
    except FormatError:
        return
    assert card.has_front_matter
    assert all(isinstance(m.value, str) and isinstance(m.type, str) for m in card.metrics)
    assert all(isinstance(d, str) for d in card.datasets)


# --- model directories ----------------------------------------------------------------------


def test_sharded_safetensors_dir_roles() -> None:
    names = {
        "config.json",
        "generation_config.json",
        "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors",
        "model.safetensors.index.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "tokenizer.model",
        "README.md",
        ".gitattributes",
        "LICENSE",
    }
    assert hf.is_hf_model_dir(names)
    assert hf.hf_dir_members(names) == {
        ".gitattributes": "other",
        "LICENSE": "other",
        "README.md": "card",
        "config.json": "config",
        "generation_config.json": "generation-config",
        "model-00001-of-00002.safetensors": "weights",
        "model-00002-of-00002.safetensors": "weights",
        "model.safetensors.index.json": "weights",
        "special_tokens_map.json": "tokenizer",
        "tokenizer.json": "tokenizer",
        "tokenizer.model": "tokenizer",
        "tokenizer_config.json": "tokenizer",
    }


@pytest.mark.parametrize(
    "weights",
    [
        {"model.safetensors"},
        {"pytorch_model.bin"},
        {"pytorch_model-00001-of-00003.bin", "pytorch_model.bin.index.json"},
        {"tf_model.h5"},
        {"flax_model.msgpack"},
        {"model.onnx"},
    ],
)
def test_each_weights_format_makes_a_model_dir(weights: set[str]) -> None:
    names = {"config.json", "vocab.txt", *weights}
    assert hf.is_hf_model_dir(names)
    roles = hf.hf_dir_members(names)
    assert {n for n, r in roles.items() if r == "weights"} == weights
    assert roles["vocab.txt"] == "tokenizer"


@pytest.mark.parametrize(
    "names",
    [
        {"config.json"},  # no weights
        {"model.safetensors"},  # no config
        {"config.json", "model.safetensors.index.json"},  # index without shards
        {"config.json", "weights.safetensors"},  # not a hub weights name
        {"config.json", "onnx/model.onnx"},  # weights only in a sub-folder
        {"config.json", "adapter_model.safetensors"},  # adapter weights need adapter_config
        set(),
    ],
)
def test_not_a_model_dir(names: set[str]) -> None:
    assert not hf.is_hf_model_dir(names)


def test_adapter_dir_and_gpt2_style_tokenizer() -> None:
    assert hf.is_hf_model_dir({"adapter_config.json", "adapter_model.safetensors", "README.md"})
    roles = hf.hf_dir_members({"vocab.json", "merges.txt", "1_Pooling/config.json"})
    assert roles == {
        "1_Pooling/config.json": "other",
        "merges.txt": "tokenizer",
        "vocab.json": "tokenizer",
    }


# --- config.json ----------------------------------------------------------------------------


def test_read_hf_config(tmp_path: Path) -> None:
    config = {
        "architectures": ["BertForSequenceClassification"],
        "model_type": "bert",
        "hidden_size": 768,
        "num_hidden_layers": 12,
        "id2label": {"1": "POSITIVE", "0": "NEGATIVE"},
        "label2id": {"NEGATIVE": 0, "POSITIVE": 1},
        "torch_dtype": "float32",
        "transformers_version": "4.44.0",
        "layer_norm_eps": 1e-12,
        "tie_word_embeddings": True,
    }
    got = hf_config.read_hf_config(write(tmp_path, json.dumps(config), "config.json"))
    assert got.architectures == ("BertForSequenceClassification",)
    assert got.model_type == "bert"
    assert got.architecture_family == "transformer"
    assert got.task == "text-classification"
    assert got.num_labels == 2
    assert got.labels == ("NEGATIVE", "POSITIVE")
    assert got.torch_dtype == "float32"
    assert got.transformers_version == "4.44.0"
    params = dict(got.params)
    assert params["hidden_size"] == "768"
    assert params["id2label.0"] == "NEGATIVE"
    assert params["layer_norm_eps"] == "1e-12"
    assert params["tie_word_embeddings"] == "true"
    assert params["architectures"] == '["BertForSequenceClassification"]'
    assert [k for k, _ in got.params][:2] == ["architectures", "model_type"]


@pytest.mark.parametrize(
    ("model_type", "arch", "family", "task"),
    [
        ("llama", "LlamaForCausalLM", "transformer", "text-generation"),
        ("t5", "T5ForConditionalGeneration", "transformer", "text2text-generation"),
        ("vit", "ViTForImageClassification", "transformer", "image-classification"),
        (
            "resnet",
            "ResNetForImageClassification",
            "convolutional-neural-network",
            "image-classification",
        ),
        ("convnext", "ConvNextModel", "convolutional-neural-network", None),
        ("xlm-roberta", "XLMRobertaForTokenClassification", "transformer", "token-classification"),
        ("mamba", "MambaForCausalLM", "state-space-model", "text-generation"),
        ("no-such-type", "Whatever", None, None),
    ],
)
def test_family_and_task_table(
    tmp_path: Path, model_type: str, arch: str, family: str | None, task: str | None
) -> None:
    path = write(
        tmp_path,
        json.dumps({"architectures": [arch], "model_type": model_type, "num_labels": 5}),
        "config.json",
    )
    got = hf_config.read_hf_config(path)
    assert got.architecture_family == family
    assert got.task == task
    assert got.num_labels == 5
    assert got.labels == ()


def test_config_odd_shapes(tmp_path: Path) -> None:
    got = hf_config.read_hf_config(
        write(
            tmp_path,
            json.dumps({"architectures": "NotAList", "id2label": {"x": "y"}, "dtype": "bfloat16"}),
            "config.json",
        )
    )
    assert got.architectures == ()
    assert got.labels == () and got.num_labels is None
    assert got.torch_dtype == "bfloat16"
    assert got.model_type is None and got.architecture_family is None


@pytest.mark.parametrize(
    "content", [b"[1, 2]", b"{not json", b"\xff\xfe", b"[" * 5000 + b"]" * 5000]
)
def test_bad_config_raises_format_error(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(FormatError):
        hf_config.read_hf_config(write(tmp_path, content, "config.json"))


def test_config_over_the_cap(tmp_path: Path) -> None:
    with pytest.raises(LimitExceeded):
        hf_config.read_hf_config(
            write(tmp_path, json.dumps({"a": "x" * 200}), "config.json"), cap=100
        )


# --- package URLs ---------------------------------------------------------------------------


def test_hf_purl() -> None:
    sha = "559062AD13d311b87b2c455e67dcd5f1c8f65111"
    assert (
        hf.hf_purl("microsoft/deberta-v3-base", sha)
        == "pkg:huggingface/microsoft/deberta-v3-base@559062ad13d311b87b2c455e67dcd5f1c8f65111"
    )
    assert hf.hf_purl("distilbert-base-uncased") == "pkg:huggingface/distilbert-base-uncased"
    # The hub's ids are case-sensitive: the purl keeps their case.
    assert hf.hf_purl("Qwen/Qwen2.5-0.5B") == "pkg:huggingface/Qwen/Qwen2.5-0.5B"


@pytest.mark.parametrize(
    ("repo_id", "revision"),
    [
        ("a/b/c", None),
        ("", None),
        ("org/-bad", None),
        ("org/na..me", None),
        ("org/name with space", None),
        ("org/name", "main"),
        ("org/name", "abc"),
    ],
)
def test_hf_purl_rejects_bad_ids_and_branch_revisions(repo_id: str, revision: str | None) -> None:
    with pytest.raises(UsageError):
        hf.hf_purl(repo_id, revision)
