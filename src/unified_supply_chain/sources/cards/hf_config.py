"""Hugging Face `config.json`: architecture classes, model type and its family, the task the class
name implies, labels, dtype, and every value flattened as the hyperparameter set."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unified_supply_chain import safeparse
from unified_supply_chain.errors import FormatError
from unified_supply_chain.sources.cards.text_fields import clip, scalar_text

#: Largest config.json we read.
MAX_HF_CONFIG_BYTES = 16 * 1024 * 1024

#: `model_type` -> architecture family (a small table; unknown types give None).
_FAMILIES: dict[str, str] = {
    **dict.fromkeys(
        [
            "albert",
            "bart",
            "beit",
            "bert",
            "big_bird",
            "blenderbot",
            "bloom",
            "camembert",
            "clip",
            "codegen",
            "deberta",
            "deberta-v2",
            "deit",
            "detr",
            "dinov2",
            "distilbert",
            "electra",
            "falcon",
            "gemma",
            "gemma2",
            "gemma3",
            "gpt2",
            "gpt_bigcode",
            "gpt_neo",
            "gpt_neox",
            "gptj",
            "layoutlm",
            "led",
            "llama",
            "llava",
            "longformer",
            "m2m_100",
            "marian",
            "mbart",
            "mistral",
            "mixtral",
            "mpnet",
            "mpt",
            "mt5",
            "olmo",
            "opt",
            "pegasus",
            "phi",
            "phi3",
            "qwen2",
            "qwen2_moe",
            "qwen3",
            "roberta",
            "segformer",
            "siglip",
            "starcoder2",
            "swin",
            "t5",
            "vit",
            "wav2vec2",
            "whisper",
            "xlm-roberta",
            "xlnet",
        ],
        "transformer",
    ),
    **dict.fromkeys(
        [
            "bit",
            "convnext",
            "convnextv2",
            "efficientnet",
            "mobilenet_v1",
            "mobilenet_v2",
            "regnet",
            "resnet",
            "van",
        ],
        "convolutional-neural-network",
    ),
    "rwkv": "recurrent-neural-network",
    "mamba": "state-space-model",
    "mamba2": "state-space-model",
}

#: Architecture class suffix -> task (the `transformers` naming convention).
_TASK_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("ForSequenceClassification", "text-classification"),
    ("ForTokenClassification", "token-classification"),
    ("ForQuestionAnswering", "question-answering"),
    ("ForCausalLM", "text-generation"),
    ("ForMaskedLM", "fill-mask"),
    ("ForMultipleChoice", "multiple-choice"),
    ("ForImageClassification", "image-classification"),
    ("ForObjectDetection", "object-detection"),
    ("ForSemanticSegmentation", "image-segmentation"),
    ("ForAudioClassification", "audio-classification"),
    ("ForCTC", "automatic-speech-recognition"),
    ("ForSpeechSeq2Seq", "automatic-speech-recognition"),
    ("ForConditionalGeneration", "text2text-generation"),
)


@dataclass(frozen=True)
class HfConfig:
    """What a Hugging Face `config.json` says about a model."""

    architectures: tuple[str, ...] = ()
    """Model classes (`architectures`), e.g. ("BertForSequenceClassification",)."""
    model_type: str | None = None
    """`model_type`, e.g. "bert"."""
    architecture_family: str | None = None
    """Family derived from `model_type` ("transformer", "convolutional-neural-network", ...)."""
    task: str | None = None
    """Task implied by the first architecture class name (e.g. "text-classification")."""
    num_labels: int | None = None
    """Number of output labels (`id2label` size, else `num_labels`)."""
    labels: tuple[str, ...] = ()
    """Output label names in id order, from `id2label`."""
    torch_dtype: str | None = None
    """`torch_dtype` (or `dtype`), e.g. "float16"."""
    transformers_version: str | None = None
    """`transformers_version` that wrote the file."""
    params: tuple[tuple[str, str], ...] = ()
    """Every value, flattened to (dotted key, text) in source order: the hyperparameter set."""


def architecture_family(model_type: str | None) -> str | None:
    """Family of a `model_type`, or None when the table does not know it."""
    if not model_type:
        return None
    return _FAMILIES.get(model_type.lower()) or _FAMILIES.get(model_type.lower().replace("-", "_"))


def _task_for(architectures: tuple[str, ...]) -> str | None:
    for arch in architectures:
        for suffix, task in _TASK_SUFFIXES:
            if arch.endswith(suffix):
                return task
    return None


def _labels(id2label: Any) -> tuple[str, ...]:
    if not isinstance(id2label, dict):
        return ()
    keyed: list[tuple[int, str]] = []
    for key, value in id2label.items():
        text = scalar_text(value)
        try:
            index = int(key)
        except (TypeError, ValueError):
            return ()
        if text is None:
            return ()
        keyed.append((index, clip(text)))
    return tuple(label for _, label in sorted(keyed))


def read_hf_config(path: Path, cap: int = MAX_HF_CONFIG_BYTES) -> HfConfig:
    """Read a `config.json` (bounded JSON). Raises only FormatError."""
    data = safeparse.load_json_file(path, cap)
    if not isinstance(data, dict):
        raise FormatError(f"config.json holds a {type(data).__name__}, not an object")
    raw_archs = data.get("architectures")
    archs = tuple(
        text
        for text in (scalar_text(a) for a in (raw_archs if isinstance(raw_archs, list) else []))
        if text
    )
    model_type = scalar_text(data.get("model_type"))
    labels = _labels(data.get("id2label"))
    num_labels: int | None = len(labels) if labels else None
    declared = data.get("num_labels")
    if num_labels is None and isinstance(declared, int) and not isinstance(declared, bool):
        num_labels = declared
    return HfConfig(
        architectures=archs,
        model_type=model_type,
        architecture_family=architecture_family(model_type),
        task=_task_for(archs),
        num_labels=num_labels,
        labels=labels,
        torch_dtype=scalar_text(data.get("torch_dtype")) or scalar_text(data.get("dtype")),
        transformers_version=scalar_text(data.get("transformers_version")),
        params=tuple(safeparse.flatten(data)),
    )
