"""Model cards (README.md): the YAML front matter's licence, datasets, base models, task and
`model-index` metrics, and the body's description and considerations (`card_body.py`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from unified_supply_chain import safeparse
from unified_supply_chain.errors import FormatError
from unified_supply_chain.records import Metric
from unified_supply_chain.redact import redact_url
from unified_supply_chain.sources.cards.card_body import read_body
from unified_supply_chain.sources.cards.hf_licenses import normalize_license
from unified_supply_chain.sources.cards.text_fields import clip, scalar_text

#: Largest model card (README.md) we read; real cards are a few tens of KB.
MAX_MODEL_CARD_BYTES = 4 * 1024 * 1024
#: Entries kept from list-valued front-matter fields (tags, datasets, ...) and metrics read.
MAX_CARD_LIST = 1000
MAX_CARD_METRICS = 1000


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


def _strings(front: dict[Any, Any], key: str, warnings: list[str]) -> tuple[str, ...]:
    """A field that may be one scalar or a list of scalars, as a de-duplicated tuple."""
    value = front.get(key)
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items[:MAX_CARD_LIST]:
        text = scalar_text(item)
        if text is None:
            warnings.append(f"front matter {key!r}: ignored a non-text entry")
        elif text not in out:
            out.append(clip(text))
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
            name = scalar_text(entry.get("name"))
        results = entry.get("results")
        for result in results if isinstance(results, list) else []:
            if not isinstance(result, dict):
                continue
            task_entry = result.get("task")
            if task is None and isinstance(task_entry, dict):
                task = scalar_text(task_entry.get("type"))
            data = result.get("dataset")
            slice_: str | None = None
            if isinstance(data, dict):
                data_name = scalar_text(data.get("name")) or scalar_text(data.get("type"))
                if data_name and "://" in data_name:
                    data_name = redact_url(data_name)  # becomes a component name: no secrets
                split = scalar_text(data.get("split"))
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
                mtype = scalar_text(metric.get("type")) or scalar_text(metric.get("name"))
                mvalue = scalar_text(metric.get("value"))
                if mtype is None or mvalue is None:
                    warnings.append(
                        "front matter 'model-index': ignored a metric without type/value"
                    )
                    continue
                metrics.append(
                    Metric(type=clip(mtype), value=clip(mvalue), slice=slice_, source=source)
                )
    return name, task, datasets, metrics


def read_model_card(
    path: Path, source: str | None = None, cap: int = MAX_MODEL_CARD_BYTES
) -> ModelCard:
    """Read a model card: YAML front matter (bounded, safe loader) and markdown body.

    `source` is the repo-relative path recorded on each metric. Raises only FormatError
    (LimitExceeded for a card over `cap` bytes or a YAML alias bomb).
    """
    text = safeparse.read_text_bounded(path, cap)
    front_text, body = _split_front_matter(text)
    description, considerations = read_body(body)
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
    license_name = scalar_text(front.get("license_name"))
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
    task = scalar_text(front.get("pipeline_tag")) or index_task
    return ModelCard(
        has_front_matter=True,
        license=licenses[0] if licenses else None,
        licenses=tuple(licenses),
        datasets=tuple(datasets),
        base_model=_strings(front, "base_model", warnings),
        task=task,
        tags=_strings(front, "tags", warnings),
        language=_strings(front, "language", warnings),
        library_name=scalar_text(front.get("library_name")),
        model_name=model_name,
        metrics=tuple(metrics),
        considerations=considerations,
        description=description,
        warnings=tuple(dict.fromkeys(warnings)),
    )
