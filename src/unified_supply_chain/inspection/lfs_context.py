"""What a Git LFS pointer outside a model directory stands for, decided by context.

A pointer carries no bytes of its content (https://github.com/git-lfs/git-lfs/blob/main/docs/
spec.md: only `version`, `oid sha256:<hex>` and `size`), so its kind comes from around it, in
this order, and the reason is written to the SBOM (`usc:kind-evidence`):

1. media (images, video, audio, documents): a dataset in a data directory (`data/`,
   `images/`), else `other`; never a model;
2. its name, by the same rules as a present file (`pytorch_model.bin`, `x.onnx`, `data/x.npy`);
3. the `.gitattributes` rule that put it in LFS, when the rule itself names a kind
   (`*.ckpt`, `saved_model/**/*`, `models/** filter=lfs`);
4. a weight-like name (`ggml-model-f16`, `consolidated.00`) beside model files, or declaring at
   least `MODEL_SIZE_HINT` bytes;
5. otherwise a `data` component of type `other` with a warning: an unknown pointer is not
   assumed to be a dataset.

Pointers inside a model directory (a Hugging Face directory, a SavedModel) never get here: they
are files of that model (inspection/directories.py).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping, Sequence

from unified_supply_chain.discover.classify import guess_kind_from_name
from unified_supply_chain.formats import Kind, registry
from unified_supply_chain.formats._gitattributes import (
    MAX_ATTRIBUTES_BYTES,
    LfsRule,
    lfs_rule_for,
    parse_attributes,
)
from unified_supply_chain.inspection.state import ScanState
from unified_supply_chain.records import ArtifactKind

#: Declared size from which a pointer with a weight-like name is taken for weights.
MODEL_SIZE_HINT = 1024 * 1024
_MEDIA = frozenset(
    {
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".webp",
        ".svg",
        ".bmp",
        ".ico",
        ".tif",
        ".tiff",
        ".mp4",
        ".mov",
        ".webm",
        ".avi",
        ".mkv",
        ".m4v",
        ".mp3",
        ".ogg",
        ".flac",
        ".pdf",
        ".ttf",
        ".otf",
        ".woff",
        ".woff2",
        ".psd",
    }
)
_DATA_DIRS = frozenset({"data", "dataset", "datasets", "images", "samples", "corpus"})
_MODEL_DIRS = frozenset({"model", "models", "weights", "checkpoints", "ckpt", "saved_model"})
_WEIGHT_WORD = re.compile(
    r"(?:^|[^a-z])(model|weights?|ckpt|checkpoint|ggml|gguf|lora|adapter|consolidated|"
    r"pytorch|tf|flax|params)(?:[^a-z]|$)"
)


def attribute_rules(st: ScanState) -> dict[str, list[LfsRule]]:
    """The `filter` rules of every `.gitattributes` in the file set, by its directory."""
    out: dict[str, list[LfsRule]] = {}
    for f in st.files:
        if posixpath.basename(f.path) != ".gitattributes":
            continue
        try:
            with st.abs(f.path).open("rb") as fh:
                text = fh.read(MAX_ATTRIBUTES_BYTES).decode("utf-8", "replace")
        except OSError:
            continue  # unreadable: no rules from it (discovery already reported the file)
        out[posixpath.dirname(f.path)] = parse_attributes(f.path, text)
    return out


def _kind_of_rule(rule: LfsRule) -> ArtifactKind | None:
    """The kind a rule's pattern names: its extension (`*.ckpt`) or a model directory."""
    parts = [p.lower() for p in rule.pattern.strip("/").split("/")]
    if _MODEL_DIRS.intersection(parts[:-1]):
        return ArtifactKind.MODEL
    last = parts[-1]
    if last.startswith("*.") and not any(c in last[2:] for c in "*?["):
        guess = guess_kind_from_name("x" + last[1:])
        if guess == "model":
            return ArtifactKind.MODEL
        if guess == "dataset":
            return ArtifactKind.DATASET
    return None


def _sibling_models(st: ScanState, rel: str) -> bool:
    """Whether another file in the pointer's directory is a model (present or by name)."""
    d = posixpath.dirname(rel)
    for path, fmt in st.formats.items():
        if path == rel or posixpath.dirname(path) != d:
            continue
        spec = registry().get(fmt)
        if spec is not None and spec.kind is Kind.MODEL:
            return True
        if fmt == "git-lfs-pointer" and guess_kind_from_name(path) == "model":
            return True
    return False


def pointer_kind(
    st: ScanState,
    rel: str,
    declared_size: int | None,
    rules: Mapping[str, Sequence[LfsRule]],
) -> tuple[ArtifactKind, str, LfsRule | None, str | None]:
    """(kind, evidence, the covering `filter=lfs` rule, warning) of the pointer at `rel`."""
    rule = lfs_rule_for(rel, rules)
    name = posixpath.basename(rel).lower()
    parents = {p.lower() for p in posixpath.dirname(rel).split("/") if p}
    ext = posixpath.splitext(name)[1]
    if ext in _MEDIA:
        if _DATA_DIRS.intersection(parents):
            return ArtifactKind.DATASET, "media+data-directory", rule, None
        return ArtifactKind.OTHER, "media", rule, None
    guess = guess_kind_from_name(rel)
    if guess == "model":
        return ArtifactKind.MODEL, "name", rule, None
    if guess == "dataset":
        return ArtifactKind.DATASET, "name", rule, None
    if rule is not None:
        by_rule = _kind_of_rule(rule)
        if by_rule is not None:
            return by_rule, f"gitattributes:{rule.describe()}", rule, None
    if _WEIGHT_WORD.search(name) and ext not in _MEDIA:
        if _sibling_models(st, rel):
            return ArtifactKind.MODEL, "name+siblings", rule, None
        if declared_size is not None and declared_size >= MODEL_SIZE_HINT:
            return ArtifactKind.MODEL, "name+size", rule, None
    warning = (
        "Git LFS pointer of unknown kind: neither its name, its .gitattributes rule nor the "
        "files beside it say whether it is a model or a dataset"
    )
    return ArtifactKind.OTHER, "unknown", rule, warning
