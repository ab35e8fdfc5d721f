"""Hyperparameter sets: params.yaml, hyp*.yaml, Hugging Face config.json, Hydra config trees.

Every set becomes flattened (dotted key, text value) pairs in source order. Hydra primary configs
are composed with their defaults list by `sources/hydra.py` (re-exported here).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from unified_supply_chain.errors import FormatError
from unified_supply_chain.safeparse import (
    flatten,
    load_json_file,
    load_yaml_file,
    read_text_bounded,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

# Hydra trees are composed in `sources/hydra.py`; re-exported here, where callers look first.
from unified_supply_chain.sources.hydra import META_KEYS as _HYDRA_META_KEYS
from unified_supply_chain.sources.hydra import ComposedConfig as ComposedConfig
from unified_supply_chain.sources.hydra import compose_hydra as compose_hydra
from unified_supply_chain.sources.hydra import is_hydra_primary as is_hydra_primary


def _load_toml(path: Path) -> Any:
    try:
        return tomllib.loads(read_text_bounded(path))
    except tomllib.TOMLDecodeError as exc:
        raise FormatError(f"invalid TOML: {exc}") from exc
    except RecursionError as exc:
        raise FormatError("TOML nesting too deep") from exc


def _load_any(path: Path, fmt: str) -> Any:
    suffix = path.suffix.lower()
    if fmt == "hf-config" or suffix == ".json":
        return load_json_file(path)
    if suffix == ".toml":
        return _load_toml(path)
    return load_yaml_file(path)


def read_params_file(path: Path, fmt: str) -> tuple[tuple[str, str], ...]:
    """Flattened parameters of one file.

    `fmt` is the classifier's format id: "params-yaml", "hyp-yaml", "hydra-config" (YAML; the
    `defaults` and `hydra` keys are left out) or "hf-config" (JSON; keys starting with `_`, such
    as `_name_or_path`, are left out), "wandb-config" (each key's `value:`, without `_wandb`) or
    "lightning-hparams". A `.json` or `.toml` file is parsed as such whatever `fmt`.
    An empty document has no parameters; any other non-mapping top level is a FormatError.
    """
    data = _load_any(path, fmt)
    if data is None:
        return ()
    if not isinstance(data, dict):
        raise FormatError(f"top level is a {type(data).__name__}, not a mapping")
    if fmt == "hf-config":
        data = {k: v for k, v in data.items() if not str(k).startswith("_")}
    elif fmt == "hydra-config":
        data = {k: v for k, v in data.items() if k not in _HYDRA_META_KEYS}
    elif fmt == "wandb-config":
        from unified_supply_chain.sources.lineage.training_logs.wandb import config_values

        data = config_values(data)
    return tuple(flatten(data)) if data else ()
