"""Hugging Face model directories (which files are weights, config, tokenizer, card) and hub
repository ids and their package URLs.

A model directory holds `config.json` plus weights, tokenizer and generation files; it becomes
one model component. Its card is read by `hf_card.py`, its config by `hf_config.py`. Nothing
here touches the network or loads weights.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from unified_supply_chain.errors import UsageError

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
