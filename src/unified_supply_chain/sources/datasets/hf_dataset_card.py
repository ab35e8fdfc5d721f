"""Hugging Face dataset cards: a README.md whose YAML front matter describes a dataset.

Fields follow the hub's dataset card spec (https://huggingface.co/docs/hub/datasets-cards and
`datasetcard.md` in huggingface/hub-docs) and `huggingface_hub`'s `DatasetCardData`: `license`,
`task_categories`, `language`, `size_categories`, `pretty_name`; `configs[]` with `config_name`,
`data_files`, `data_dir` and `default` (https://huggingface.co/docs/hub/datasets-manual-configuration);
`dataset_info` (a mapping or a list per config) with `splits[].num_examples/num_bytes`.

A README is a dataset card, not a model card, when its front matter has a field only dataset
cards have (`configs`, `dataset_info`, `task_categories`, `size_categories`, ...) and none only
model cards have (`model-index`, `pipeline_tag`, `base_model`, `library_name`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from unified_supply_chain import safeparse
from unified_supply_chain.errors import FormatError
from unified_supply_chain.sources.cards.card_body import read_body
from unified_supply_chain.sources.cards.hf_card import MAX_MODEL_CARD_BYTES, _split_front_matter
from unified_supply_chain.sources.cards.hf_licenses import normalize_license
from unified_supply_chain.sources.cards.text_fields import clip, scalar_text
from unified_supply_chain.sources.datasets.hf_data_files import sanitize_patterns

#: Front-matter fields only dataset cards have (`DatasetCardData`, the dataset card spec).
DATASET_ONLY_KEYS = frozenset(
    {
        "configs",
        "dataset_info",
        "task_categories",
        "task_ids",
        "size_categories",
        "source_datasets",
        "annotations_creators",
        "language_creators",
        "multilinguality",
        "paperswithcode_id",
        "train-eval-index",
        "config_names",
    }
)
#: Front-matter fields only model cards have (`ModelCardData`).
MODEL_ONLY_KEYS = frozenset({"model-index", "pipeline_tag", "base_model", "library_name"})
#: Configs, splits and list entries read from one card.
MAX_CONFIGS = 1000
MAX_LIST = 1000


@dataclass(frozen=True)
class SplitInfo:
    """`dataset_info.splits[]` of one config."""

    name: str
    num_examples: int | None = None
    num_bytes: int | None = None


@dataclass(frozen=True)
class DatasetConfig:
    """One entry of `configs[]` (or the implicit `default` config of a card without them)."""

    name: str
    """`config_name`."""
    data_files: dict[str, list[str]] | None
    """Split -> patterns as the card writes them; None: the default patterns apply."""
    data_dir: str | None = None
    """`data_dir`: patterns are relative to it."""
    default: bool = False
    """The config `load_dataset` picks without a name (`get_default_config_name`)."""
    splits: tuple[SplitInfo, ...] = ()
    """From `dataset_info` of this config."""
    download_size: int | None = None
    dataset_size: int | None = None


@dataclass(frozen=True)
class DatasetCard:
    """What a Hugging Face dataset card says."""

    licenses: tuple[str, ...] = ()
    """SPDX ids where the hub id maps to one, else the names as written."""
    task_categories: tuple[str, ...] = ()
    task_ids: tuple[str, ...] = ()
    language: tuple[str, ...] = ()
    size_categories: tuple[str, ...] = ()
    pretty_name: str | None = None
    configs: tuple[DatasetConfig, ...] = ()
    """Every config; one `default` config with `data_files=None` when the card has none."""
    description: str | None = None
    """First paragraph of the body."""
    warnings: tuple[str, ...] = field(default=())
    """Fields ignored for their shape."""


def _strings(front: dict[Any, Any], key: str) -> tuple[str, ...]:
    value = front.get(key)
    items = value if isinstance(value, list) else [value] if value is not None else []
    out: list[str] = []
    for item in items[:MAX_LIST]:
        text = scalar_text(item)
        if text is not None and clip(text) not in out:
            out.append(clip(text))
    return tuple(out)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def front_matter(path: Path, cap: int = MAX_MODEL_CARD_BYTES) -> tuple[dict[Any, Any] | None, str]:
    """(front-matter mapping or None, markdown body). Raises FormatError."""
    text = safeparse.read_text_bounded(path, cap)
    front_text, body = _split_front_matter(text)
    if front_text is None:
        return None, body
    front = safeparse.loads_yaml(front_text) if front_text.strip() else {}
    if front is None:
        front = {}
    if not isinstance(front, dict):
        raise FormatError(f"card front matter is a {type(front).__name__}, not a mapping")
    return front, body


def is_dataset_card_front(front: dict[Any, Any] | None) -> bool:
    """Whether front matter is a dataset card's (see the module docstring)."""
    if not front:
        return False
    keys = {str(k) for k in front}
    return bool(keys & DATASET_ONLY_KEYS) and not keys & MODEL_ONLY_KEYS


def _dataset_infos(value: object) -> dict[str, dict[Any, Any]]:
    entries = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
    out: dict[str, dict[Any, Any]] = {}
    for entry in entries[:MAX_CONFIGS]:
        if isinstance(entry, dict):
            name = scalar_text(entry.get("config_name")) or "default"
            out.setdefault(name, entry)
    return out


def _splits(info: dict[Any, Any]) -> tuple[SplitInfo, ...]:
    splits = info.get("splits")
    out: list[SplitInfo] = []
    for s in splits[:MAX_LIST] if isinstance(splits, list) else []:
        name = scalar_text(s.get("name")) if isinstance(s, dict) else None
        if isinstance(s, dict) and name:
            out.append(SplitInfo(clip(name), _int(s.get("num_examples")), _int(s.get("num_bytes"))))
    return tuple(out)


def _configs(front: dict[Any, Any], warnings: list[str]) -> list[DatasetConfig]:
    infos = _dataset_infos(front.get("dataset_info"))
    raw = front.get("configs")
    entries: list[dict[Any, Any]] = []
    if isinstance(raw, list):
        for entry in raw[:MAX_CONFIGS]:
            if isinstance(entry, dict) and scalar_text(entry.get("config_name")):
                entries.append(entry)
            else:
                warnings.append("configs: ignored an entry without a config_name")
    elif raw is not None:
        warnings.append("configs: not a list, ignored")
    if not entries:
        entries = [{"config_name": "default"}]
    unique: dict[str, dict[Any, Any]] = {}
    for e in entries:
        name = scalar_text(e["config_name"]) or ""
        if name in unique:
            warnings.append(f"configs: {name!r} is named twice; the first is kept")
        unique.setdefault(name, e)
    names, entries = list(unique), list(unique.values())
    # `MetadataConfigs.get_default_config_name`: the only config, one named "default", or the one
    # marked `default: true`.
    marked = [n for n, e in zip(names, entries, strict=True) if e.get("default") is True]
    default = (
        names[0] if len(names) == 1 else "default" if "default" in names else next(iter(marked), "")
    )
    out: list[DatasetConfig] = []
    for name, entry in zip(names, entries, strict=True):
        data_files: dict[str, list[str]] | None = None
        if entry.get("data_files") is not None:
            data_files = sanitize_patterns(entry["data_files"])
            if data_files is None:
                warnings.append(f"configs {name!r}: data_files has a shape datasets rejects")
                data_files = {}
        info = infos.get(name, {})
        out.append(
            DatasetConfig(
                name=clip(name),
                data_files=data_files,
                data_dir=scalar_text(entry.get("data_dir")),
                default=name == default,
                splits=_splits(info),
                download_size=_int(info.get("download_size")),
                dataset_size=_int(info.get("dataset_size")),
            )
        )
    return out


def read_dataset_card(path: Path, cap: int = MAX_MODEL_CARD_BYTES) -> DatasetCard | None:
    """The dataset card in `path`, or None when the README is not one (no front matter, or
    model-card fields). Raises only FormatError (LimitExceeded for an oversized card)."""
    front, body = front_matter(path, cap)
    if front is None or not is_dataset_card_front(front):
        return None
    warnings: list[str] = []
    license_name = scalar_text(front.get("license_name"))
    licenses: list[str] = []
    for raw in _strings(front, "license"):
        spdx = normalize_license(raw, license_name)
        if spdx and spdx not in licenses:
            licenses.append(spdx)
    description, _ = read_body(body)
    return DatasetCard(
        licenses=tuple(licenses),
        task_categories=_strings(front, "task_categories"),
        task_ids=_strings(front, "task_ids"),
        language=_strings(front, "language"),
        size_categories=_strings(front, "size_categories"),
        pretty_name=scalar_text(front.get("pretty_name")),
        configs=tuple(_configs(front, warnings)),
        description=description,
        warnings=tuple(dict.fromkeys(warnings)),
    )
