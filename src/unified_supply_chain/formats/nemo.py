"""NVIDIA NeMo checkpoints (`.nemo`): a tar (plain, or gzip in older releases) of
`model_config.yaml`, `model_weights.ckpt` (a torch.save file: pickles) and tokenizer files.

Layout from NVIDIA/NeMo `nemo/core/connectors/save_restore_connector.py`: `model_config_yaml =
"model_config.yaml"`, `model_weights_ckpt = "model_weights.ckpt"`, and `_make_nemo_file_from_
folder` writing the folder with `arcname="."` (members are named `./model_config.yaml`, ...).
The safety hook is the tar scanner: the checkpoint's pickles are found by content.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError
from unified_supply_chain.records import HeaderInfo

CONFIG = "model_config.yaml"
WEIGHTS = "model_weights.ckpt"


def _config_properties(config: Any, properties: dict[str, str]) -> str | None:
    if not isinstance(config, dict):
        raise FormatError(f"{CONFIG} is not a mapping")
    target = config.get("target") or config.get("_target_")
    if isinstance(target, str):
        properties["nemo.target"] = target
    rate = config.get("sample_rate")
    if isinstance(rate, (int, float)) and not isinstance(rate, bool):
        properties["nemo.sample_rate"] = str(rate)
    tokenizer = config.get("tokenizer")
    if isinstance(tokenizer, dict):
        for key in ("library", "type", "model_name"):
            if isinstance(tokenizer.get(key), str):
                properties[f"nemo.tokenizer.{key}"] = tokenizer[key]
    return target.rsplit(".", 1)[-1] if isinstance(target, str) else None


def read_nemo(path: Path) -> HeaderInfo:
    """The model config's target, sample rate and tokenizer, and the member list summary."""
    from unified_supply_chain.formats.archives import open_tar, tar_members
    from unified_supply_chain.safeparse import loads_yaml

    properties: dict[str, str] = {}
    names: list[str] = []
    config_text: str | None = None
    with path.open("rb") as raw, open_tar(raw) as tf:
        for member in tar_members(tf):
            names.append(member.name)
            if posixpath.basename(member.name) == CONFIG and config_text is None:
                if member.size > limits.MAX_TEXT_PARSE:
                    raise FormatError(f"{CONFIG} of {member.size} bytes is too large")
                fh = tf.extractfile(member)
                config_text = fh.read().decode("utf-8", "replace") if fh is not None else None
    if config_text is None:
        raise FormatError(f"no {CONFIG} in the archive")
    architecture = _config_properties(loads_yaml(config_text), properties)
    bases = [posixpath.basename(n) for n in names]
    properties["nemo.members"] = str(len(names))
    properties["nemo.checkpoints"] = str(sum(b.endswith(".ckpt") for b in bases))
    properties["nemo.weights"] = "true" if WEIGHTS in bases else "false"
    return HeaderInfo(format="nemo", properties=properties, architecture=architecture)


# --- Registry entries. -------------------------------------------------------------------------

from unified_supply_chain.formats import FormatSpec, Kind, Sniff  # noqa: E402
from unified_supply_chain.formats._names import suffix  # noqa: E402
from unified_supply_chain.formats.archives import is_tar, sniff_gzip_tar  # noqa: E402


def sniff_nemo(head: bytes, name: str) -> bool:
    """A tar (plain or gzipped) named *.nemo (before the generic tar rules)."""
    return suffix(name) == ".nemo" and (is_tar(head) or sniff_gzip_tar(head, name))


SPECS = (
    FormatSpec(
        id="nemo",
        kind=Kind.MODEL,
        description="tar or gzipped tar as *.nemo (model_config.yaml + model_weights.ckpt)",
        extensions=(".nemo",),
        sniffs=(Sniff(185, sniff_nemo, needs_name=True),),
        reader=read_nemo,
        carries_pickles=True,
        safety="unified_supply_chain.safety.archives:scan_tar",
    ),
)
