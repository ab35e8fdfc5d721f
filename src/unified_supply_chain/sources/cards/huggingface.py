"""Hugging Face model directories, `config.json` files and model cards (README front matter).

A model directory holds `config.json` plus weights, tokenizer and generation files; it becomes
one model component. Its README's YAML front matter gives licence, datasets, base models, task
and `model-index` metrics; the markdown body gives description and considerations.
Nothing here touches the network or loads weights.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from unified_supply_chain import safeparse
from unified_supply_chain.errors import FormatError, UsageError
from unified_supply_chain.records import Metric
from unified_supply_chain.redact import redact_url

#: Largest model card (README.md) we read; real cards are a few tens of KB.
MAX_MODEL_CARD_BYTES = 4 * 1024 * 1024
#: Largest config.json we read.
MAX_HF_CONFIG_BYTES = 16 * 1024 * 1024
#: Items kept per considerations field, and characters kept per item or description.
MAX_CARD_SECTION_ITEMS = 50
MAX_CARD_ITEM_CHARS = 1000
#: Entries kept from list-valued front-matter fields (tags, datasets, ...) and metrics read.
MAX_CARD_LIST = 1000
MAX_CARD_METRICS = 1000

# --- Licences -------------------------------------------------------------------------------

#: Hugging Face licence ids (lower case) that are SPDX ids under another spelling.
#: Ids with no SPDX equivalent (openrail, llama3, gemma, ...) are kept as names.
_HF_TO_SPDX: dict[str, str] = {
    "apache-2.0": "Apache-2.0",
    "mit": "MIT",
    "afl-3.0": "AFL-3.0",
    "artistic-2.0": "Artistic-2.0",
    "bsl-1.0": "BSL-1.0",
    "bsd-2-clause": "BSD-2-Clause",
    "bsd-3-clause": "BSD-3-Clause",
    "bsd-3-clause-clear": "BSD-3-Clause-Clear",
    "c-uda": "C-UDA-1.0",
    "cc0-1.0": "CC0-1.0",
    "cc-by-2.0": "CC-BY-2.0",
    "cc-by-2.5": "CC-BY-2.5",
    "cc-by-3.0": "CC-BY-3.0",
    "cc-by-4.0": "CC-BY-4.0",
    "cc-by-sa-3.0": "CC-BY-SA-3.0",
    "cc-by-sa-4.0": "CC-BY-SA-4.0",
    "cc-by-nc-2.0": "CC-BY-NC-2.0",
    "cc-by-nc-3.0": "CC-BY-NC-3.0",
    "cc-by-nc-4.0": "CC-BY-NC-4.0",
    "cc-by-nd-4.0": "CC-BY-ND-4.0",
    "cc-by-nc-nd-3.0": "CC-BY-NC-ND-3.0",
    "cc-by-nc-nd-4.0": "CC-BY-NC-ND-4.0",
    "cc-by-nc-sa-2.0": "CC-BY-NC-SA-2.0",
    "cc-by-nc-sa-3.0": "CC-BY-NC-SA-3.0",
    "cc-by-nc-sa-4.0": "CC-BY-NC-SA-4.0",
    "cdla-sharing-1.0": "CDLA-Sharing-1.0",
    "cdla-permissive-1.0": "CDLA-Permissive-1.0",
    "cdla-permissive-2.0": "CDLA-Permissive-2.0",
    "wtfpl": "WTFPL",
    "ecl-2.0": "ECL-2.0",
    "epl-1.0": "EPL-1.0",
    "epl-2.0": "EPL-2.0",
    "etalab-2.0": "etalab-2.0",
    "eupl-1.1": "EUPL-1.1",
    "eupl-1.2": "EUPL-1.2",
    # The hub's bare GPL ids do not say "only" or "or later"; SPDX keeps these deprecated ids
    # for exactly that ambiguity, so we do not invent an answer.
    "agpl-3.0": "AGPL-3.0",
    "gpl-2.0": "GPL-2.0",
    "gpl-3.0": "GPL-3.0",
    "lgpl-2.1": "LGPL-2.1",
    "lgpl-3.0": "LGPL-3.0",
    "isc": "ISC",
    "lppl-1.3c": "LPPL-1.3c",
    "ms-pl": "MS-PL",
    "mpl-2.0": "MPL-2.0",
    "odc-by": "ODC-By-1.0",
    "odbl": "ODbL-1.0",
    "osl-3.0": "OSL-3.0",
    "postgresql": "PostgreSQL",
    "ofl-1.1": "OFL-1.1",
    "ncsa": "NCSA",
    "unlicense": "Unlicense",
    "zlib": "Zlib",
    "pddl": "PDDL-1.0",
}
#: Values that say "no licence information" rather than naming one.
_NO_LICENSE = frozenset({"unknown", "none", "n/a", ""})


def normalize_license(value: str, license_name: str | None = None) -> str | None:
    """Map a Hugging Face licence id to its SPDX id; keep other ids as names.

    `other` means the card names its licence in `license_name` (returned when given).
    """
    text = value.strip()
    low = text.lower()
    if low in _NO_LICENSE:
        return None
    if low == "other":
        return license_name.strip() if license_name and license_name.strip() else "other"
    return _HF_TO_SPDX.get(low, text)


# --- Model cards ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelCard:
    """What a Hugging Face-style model card (README.md) says about a model."""

    has_front_matter: bool
    """False for a README with no leading `---` YAML block (every other field is then empty,
    except `description` and `considerations` read from the markdown body)."""
    license: str | None = None
    """First licence: an SPDX id where the hub id maps to one, else the name as written."""
    licenses: tuple[str, ...] = ()
    """Every licence the front matter names (the field may be a list)."""
    datasets: tuple[str, ...] = ()
    """Dataset names from `datasets:` and from `model-index` results, in first-seen order."""
    base_model: tuple[str, ...] = ()
    """Models this one was derived from (`base_model:`)."""
    task: str | None = None
    """`pipeline_tag`, else the first `model-index` task type."""
    tags: tuple[str, ...] = ()
    """`tags:` entries."""
    language: tuple[str, ...] = ()
    """`language:` codes."""
    library_name: str | None = None
    """`library_name:` (transformers, numpy, ...)."""
    model_name: str | None = None
    """Name of the first `model-index` entry."""
    metrics: tuple[Metric, ...] = ()
    """`model-index[].results[].metrics[]`; slice = "<dataset>/<split>" when stated."""
    considerations: dict[str, list[str]] = field(default_factory=dict)
    """CycloneDX modelCard.considerations fields (useCases, technicalLimitations,
    ethicalConsiderations, performanceTradeoffs) -> text items from the body's sections."""
    description: str | None = None
    """First paragraph of the body's prose."""
    warnings: tuple[str, ...] = ()
    """Front-matter fields that were present but ignored for their shape."""


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_CARD_ITEM_CHARS else text[: MAX_CARD_ITEM_CHARS - 1] + "…"


def _scalar_text(value: Any) -> str | None:
    """Text of a YAML scalar (str, number, bool); None for anything else."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        text = str(value).strip()
        return text or None
    return None


def _strings(front: dict[Any, Any], key: str, warnings: list[str]) -> tuple[str, ...]:
    """A field that may be one scalar or a list of scalars, as a de-duplicated tuple."""
    value = front.get(key)
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items[:MAX_CARD_LIST]:
        text = _scalar_text(item)
        if text is None:
            warnings.append(f"front matter {key!r}: ignored a non-text entry")
        elif text not in out:
            out.append(_clip(text))
    return tuple(out)


def _split_front_matter(text: str) -> tuple[str | None, str]:
    """(front-matter YAML or None, body). Raises FormatError for an unclosed block."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip("\r\n").rstrip() != "---":
        return None, text
    for i, line in enumerate(lines[1:], start=1):
        if line.rstrip("\r\n").rstrip() in ("---", "..."):
            return "".join(lines[1:i]), "".join(lines[i + 1 :])
    raise FormatError("model card front matter: opening '---' has no closing '---'")


def _model_index(
    value: Any, source: str | None, warnings: list[str]
) -> tuple[str | None, str | None, list[str], list[Metric]]:
    """(model name, first task type, dataset names, metrics) from `model-index`."""
    if value is None:
        return None, None, [], []
    if not isinstance(value, list):
        warnings.append("front matter 'model-index': not a list, ignored")
        return None, None, [], []
    name: str | None = None
    task: str | None = None
    datasets: list[str] = []
    metrics: list[Metric] = []
    for entry in value[:MAX_CARD_LIST]:
        if not isinstance(entry, dict):
            warnings.append("front matter 'model-index': ignored an entry that is not a mapping")
            continue
        if name is None:
            name = _scalar_text(entry.get("name"))
        results = entry.get("results")
        for result in results if isinstance(results, list) else []:
            if not isinstance(result, dict):
                continue
            task_entry = result.get("task")
            if task is None and isinstance(task_entry, dict):
                task = _scalar_text(task_entry.get("type"))
            data = result.get("dataset")
            slice_: str | None = None
            if isinstance(data, dict):
                data_name = _scalar_text(data.get("name")) or _scalar_text(data.get("type"))
                if data_name and "://" in data_name:
                    data_name = redact_url(data_name)  # becomes a component name: no secrets
                split = _scalar_text(data.get("split"))
                if data_name:
                    if data_name not in datasets:
                        datasets.append(data_name)
                    slice_ = f"{data_name}/{split}" if split else data_name
            entries = result.get("metrics")
            for metric in entries if isinstance(entries, list) else []:
                if len(metrics) >= MAX_CARD_METRICS:
                    break
                if not isinstance(metric, dict):
                    continue
                mtype = _scalar_text(metric.get("type")) or _scalar_text(metric.get("name"))
                mvalue = _scalar_text(metric.get("value"))
                if mtype is None or mvalue is None:
                    warnings.append(
                        "front matter 'model-index': ignored a metric without type/value"
                    )
                    continue
                metrics.append(
                    Metric(type=_clip(mtype), value=_clip(mvalue), slice=slice_, source=source)
                )
    return name, task, datasets, metrics


# Section headings (lower case, punctuation folded) -> CycloneDX considerations field.
_SECTION_FIELDS: dict[str, str] = {
    "intended uses": "useCases",
    "intended use": "useCases",
    "intended uses and limitations": "useCases",
    "uses": "useCases",
    "use cases": "useCases",
    "direct use": "useCases",
    "downstream use": "useCases",
    "limitations": "technicalLimitations",
    "known limitations": "technicalLimitations",
    "technical limitations": "technicalLimitations",
    "bias risks and limitations": "technicalLimitations",
    "risks and limitations": "technicalLimitations",
    "limitations and bias": "technicalLimitations",
    "limitations and biases": "technicalLimitations",
    "ethical considerations": "ethicalConsiderations",
    "ethical considerations and risks": "ethicalConsiderations",
    "ethics": "ethicalConsiderations",
    "ethics and safety": "ethicalConsiderations",
    "performance tradeoffs": "performanceTradeoffs",
    "tradeoffs": "performanceTradeoffs",
}
#: Placeholder text of the hub's card templates, which says nothing.
_PLACEHOLDERS = frozenset({"more information needed", "[more information needed]"})
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_LIST_ITEM = re.compile(r"^\s{0,3}(?:[-*+]|\d{1,3}[.)])\s+(.*)$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")


def _heading_key(title: str) -> str:
    text = title.lower().replace("&", " and ").replace("-", "")
    text = re.sub(r"[^a-z0-9 ]+", " ", text)
    return " ".join(text.split())


def _blocks(body: str) -> list[tuple[str | None, str]]:
    """Split markdown into (heading title or None, text item) pairs.

    Items are list entries and paragraphs. Code blocks, HTML, tables and images are skipped:
    they are not prose a considerations field can carry.
    """
    out: list[tuple[str | None, str]] = []
    heading: str | None = None
    para: list[str] = []
    in_fence = False
    in_comment = False

    def flush() -> None:
        if para:
            text = " ".join(para).strip()
            if text:
                out.append((heading, text))
            para.clear()

    for line in body.splitlines():
        if in_comment:
            in_comment = "-->" not in line
            continue
        if _FENCE.match(line):
            flush()
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        stripped = line.strip()
        if stripped.startswith("<!--"):
            flush()
            in_comment = "-->" not in stripped
            continue
        match = _HEADING.match(line)
        if match:
            flush()
            heading = match.group(2)
            continue
        if not stripped or stripped.startswith(("|", "<", "![", "[![")):
            flush()
            continue
        item = _LIST_ITEM.match(line)
        if item:
            flush()
            para.append(item.group(1))
            continue
        para.append(stripped)
    flush()
    return out


def _read_body(body: str) -> tuple[str | None, dict[str, list[str]]]:
    """(description, considerations) from the markdown body."""
    description: str | None = None
    considerations: dict[str, list[str]] = {}
    for heading, text in _blocks(body):
        if text.lower().strip(" .*_") in _PLACEHOLDERS:
            continue
        if description is None and (
            heading is None or _heading_key(heading) not in _SECTION_FIELDS
        ):
            description = _clip(text)
        if heading is None:
            continue
        target = _SECTION_FIELDS.get(_heading_key(heading))
        if target is None:
            continue
        items = considerations.setdefault(target, [])
        if len(items) < MAX_CARD_SECTION_ITEMS:
            items.append(_clip(text))
    return description, considerations


def read_model_card(
    path: Path, source: str | None = None, cap: int = MAX_MODEL_CARD_BYTES
) -> ModelCard:
    """Read a model card: YAML front matter (bounded, safe loader) and markdown body.

    `source` is the repo-relative path recorded on each metric. Raises only FormatError
    (LimitExceeded for a card over `cap` bytes or a YAML alias bomb).
    """
    text = safeparse.read_text_bounded(path, cap)
    front_text, body = _split_front_matter(text)
    description, considerations = _read_body(body)
    if front_text is None:
        return ModelCard(
            has_front_matter=False, description=description, considerations=considerations
        )
    front = safeparse.loads_yaml(front_text) if front_text.strip() else {}
    if front is None:
        front = {}
    if not isinstance(front, dict):
        raise FormatError(
            f"model card front matter is a {type(front).__name__}, not a mapping of fields"
        )
    warnings: list[str] = []
    license_name = _scalar_text(front.get("license_name"))
    licenses: list[str] = []
    for raw in _strings(front, "license", warnings):
        spdx = normalize_license(raw, license_name)
        if spdx and spdx not in licenses:
            licenses.append(spdx)
    model_name, index_task, index_datasets, metrics = _model_index(
        front.get("model-index"), source, warnings
    )
    # Dataset names become component names and refs: a URL among them loses its credentials.
    datasets = list(
        dict.fromkeys(
            redact_url(d) if "://" in d else d for d in _strings(front, "datasets", warnings)
        )
    )
    datasets.extend(d for d in index_datasets if d not in datasets)
    task = _scalar_text(front.get("pipeline_tag")) or index_task
    return ModelCard(
        has_front_matter=True,
        license=licenses[0] if licenses else None,
        licenses=tuple(licenses),
        datasets=tuple(datasets),
        base_model=_strings(front, "base_model", warnings),
        task=task,
        tags=_strings(front, "tags", warnings),
        language=_strings(front, "language", warnings),
        library_name=_scalar_text(front.get("library_name")),
        model_name=model_name,
        metrics=tuple(metrics),
        considerations=considerations,
        description=description,
        warnings=tuple(dict.fromkeys(warnings)),
    )


# --- Model directories ----------------------------------------------------------------------

_WEIGHT_FILES = frozenset(
    {
        "model.safetensors",
        "pytorch_model.bin",
        "tf_model.h5",
        "flax_model.msgpack",
        "model.onnx",
        "model.onnx_data",
        "model.onnx.data",
        "adapter_model.safetensors",
        "adapter_model.bin",
        "diffusion_pytorch_model.safetensors",
        "diffusion_pytorch_model.bin",
    }
)
_WEIGHT_SHARD = re.compile(
    r"^(?:model|pytorch_model|tf_model|flax_model|diffusion_pytorch_model)"
    r"-\d{1,6}-of-\d{1,6}\.(?:safetensors|bin|h5|msgpack)$"
)
_WEIGHT_INDEX = re.compile(
    r"^(?:model\.safetensors|pytorch_model\.bin|tf_model\.h5|flax_model\.msgpack"
    r"|diffusion_pytorch_model\.safetensors|diffusion_pytorch_model\.bin)\.index\.json$"
)
_CONFIG_FILES = frozenset({"config.json", "adapter_config.json"})
_TOKENIZER_FILES = frozenset(
    {
        "tokenizer.json",
        "tokenizer_config.json",
        "vocab.txt",
        "vocab.json",
        "merges.txt",
        "special_tokens_map.json",
        "spiece.model",
        "tokenizer.model",
        "sentencepiece.bpe.model",
        "added_tokens.json",
        "chat_template.jinja",
        "chat_template.json",
    }
)


def _role(name: str) -> str:
    if "/" in name:
        return "other"  # sub-folders (1_Pooling/config.json, onnx/...) are not the model's own
    low = name.lower()
    if low in _WEIGHT_FILES or _WEIGHT_SHARD.match(low) or _WEIGHT_INDEX.match(low):
        return "weights"
    if low in _CONFIG_FILES:
        return "config"
    if low in _TOKENIZER_FILES:
        return "tokenizer"
    if low == "generation_config.json":
        return "generation-config"
    if low == "readme.md":
        return "card"
    return "other"


def hf_dir_members(names: set[str]) -> dict[str, str]:
    """Role of each file in a directory: weights, config, tokenizer, generation-config, card,
    other. `names` are paths relative to the directory (POSIX); only top-level files get a
    role other than "other"."""
    return {name: _role(PurePosixPath(name).as_posix()) for name in sorted(names)}


def is_hf_model_dir(names: set[str]) -> bool:
    """True for a directory holding a model config plus at least one weights file.

    A shard index alone is not weights; `adapter_config.json` pairs only with adapter weights.
    """
    low = {name.lower() for name in names if "/" not in name}
    weights = {
        n for n in low if n in _WEIGHT_FILES or _WEIGHT_SHARD.match(n)
    }  # index files excluded
    if "config.json" in low and weights - {"adapter_model.safetensors", "adapter_model.bin"}:
        return True
    return "adapter_config.json" in low and bool(
        weights & {"adapter_model.safetensors", "adapter_model.bin"}
    )


# --- config.json ----------------------------------------------------------------------------

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
        text = _scalar_text(value)
        try:
            index = int(key)
        except (TypeError, ValueError):
            return ()
        if text is None:
            return ()
        keyed.append((index, _clip(text)))
    return tuple(label for _, label in sorted(keyed))


def read_hf_config(path: Path, cap: int = MAX_HF_CONFIG_BYTES) -> HfConfig:
    """Read a `config.json` (bounded JSON). Raises only FormatError."""
    data = safeparse.load_json_file(path, cap)
    if not isinstance(data, dict):
        raise FormatError(f"config.json holds a {type(data).__name__}, not an object")
    raw_archs = data.get("architectures")
    archs = tuple(
        text
        for text in (_scalar_text(a) for a in (raw_archs if isinstance(raw_archs, list) else []))
        if text
    )
    model_type = _scalar_text(data.get("model_type"))
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
        torch_dtype=_scalar_text(data.get("torch_dtype")) or _scalar_text(data.get("dtype")),
        transformers_version=_scalar_text(data.get("transformers_version")),
        params=tuple(safeparse.flatten(data)),
    )


# --- Package URLs ---------------------------------------------------------------------------

_REPO_PART = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$")
_REVISION = re.compile(r"^[0-9A-Fa-f]{7,64}$")


def is_hf_repo_id(text: str) -> bool:
    """True for "name" or "org/name" in the hub's spelling (letters, digits, '.', '_', '-')."""
    parts = text.split("/")
    return 1 <= len(parts) <= 2 and all(
        _REPO_PART.match(p) and "--" not in p and ".." not in p for p in parts
    )


def hf_purl(repo_id: str, revision: str | None = None) -> str:
    """`pkg:huggingface/<org>/<name>@<commit>` per the purl spec's huggingface type.

    Namespace and name keep their case (the hub's ids are case-sensitive); the version is the
    commit hash, lower-cased. Raises UsageError for a malformed id or a revision that is not a
    commit hash (branch names move, so they cannot be a version).
    """
    from packageurl import PackageURL

    if not is_hf_repo_id(repo_id):
        raise UsageError(f"not a Hugging Face repository id: {repo_id!r}")
    if revision is not None and not _REVISION.match(revision):
        raise UsageError(f"Hugging Face revision must be a commit hash, got {revision!r}")
    namespace, _, name = repo_id.rpartition("/")
    purl = PackageURL(
        type="huggingface",
        namespace=namespace or None,
        name=name,
        version=revision.lower() if revision else None,
    )
    return str(purl.to_string())
