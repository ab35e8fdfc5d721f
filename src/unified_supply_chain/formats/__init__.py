"""The format registry: one `FormatSpec` per file format, one module per format, one `REGISTRY`.

Everything the tool knows about a format lives in that format's module, in its `SPECS` tuple:
how it is recognised (exact names, name patterns, extensions, content sniffs with a priority),
what it becomes (its component kind, or the role of a configuration file), how its header is read,
whether it can carry pickles, whether shards of it add up to one model, and its safety hook.
Classification (`discover.classify`), inspection (`inspect`), the safety scan and the
fuzz/limit tests read the registry; nothing else lists formats.

Adding a format: write `formats/<name>.py` with its reader and `SPECS = (FormatSpec(...),)`, and
add the module's name to `_MODULES` below. The registry test then asks for its sniff, reader,
fuzz and limit tests.

Readers and hooks are either callables of the format's own module or `"module:function"` strings
for code elsewhere (configuration readers under `sources/`), resolved by `resolve()` on first use.
A string that names nothing is an ImportError or AttributeError, never a silent fallback.
"""

from __future__ import annotations

import enum
import functools
import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:
    from unified_supply_chain.records import ArtifactKind, Finding, HeaderInfo

Reader = Callable[[Path], "HeaderInfo"]
"""Reads a file's header metadata without loading its weights; raises only FormatError et al."""
SafetyHook = Callable[[Path, str, str], "list[Finding]"]
"""(absolute path, repo-relative path, format id) -> findings; never raises on bad input."""
KindRule = Callable[[str, "HeaderInfo | None"], "ArtifactKind | None"]
"""(repo-relative path, header or None) -> the component kind, for formats whose kind depends on
where the file lies or what its header says (an `.npz` of arrays under `data/` is a dataset)."""
SniffTest = Callable[[bytes, str], bool]
"""(first bytes of the file, lower-case file name) -> whether the content is this format."""
PathRule = Callable[[str, "list[str]"], bool]
"""(lower-case file name, lower-case parent directory names) -> whether the path is this format."""


class Kind(str, enum.Enum):
    """What a file of a format is, before inspection refines it."""

    MODEL = "model"
    DATASET = "dataset"
    CONFIG = "config"
    """A file that describes other things: hyperparameters, libraries, lineage, cards."""
    POINTER = "pointer"
    """A stand-in for content stored elsewhere (a Git LFS pointer)."""


class Role(str, enum.Enum):
    """What inspection does with a configuration file."""

    HYPERPARAMETERS = "hyperparameters"
    """A hyperparameter set component."""
    LIBRARIES = "libraries"
    """Software dependencies (manifests, lockfiles)."""
    LINEAGE = "lineage"
    """Pipeline records read together by the lineage stage (DVC, MLflow)."""
    TRAINING_RECORD = "training-record"
    """A training record written by `usc record`."""
    METRICS = "metrics"
    """Evaluation metrics."""
    CARD = "card"
    """A model or dataset card."""
    DESCRIPTOR = "descriptor"
    """A dataset descriptor (URLs, licences of data kept elsewhere or beside it)."""


@dataclass(frozen=True)
class Sniff:
    """A content rule: lower `priority` is tried first; the first rule that matches wins."""

    priority: int
    test: SniffTest
    needs_name: bool = False
    """The rule looks at the name as well as the bytes (a zip named *.keras)."""


@dataclass(frozen=True)
class FormatSpec:
    """Everything the tool knows about one file format."""

    id: str
    """Format id, as written to the SBOM (`usc:format`)."""
    kind: Kind
    description: str
    """How the format is recognised, in a line (shown in docs and errors)."""
    names: tuple[str, ...] = ()
    """Exact lower-case file names."""
    name_patterns: tuple[str, ...] = ()
    """Regular expressions matched in full against the lower-case file name; tried after the
    exact names of every format, in registry order."""
    path_rules: tuple[PathRule, ...] = ()
    """Rules on the name and parent directories, tried after every format's patterns."""
    extensions: tuple[str, ...] = ()
    """Lower-case suffixes with their dot, tried last; unique across the registry."""
    sniffs: tuple[Sniff, ...] = ()
    """Content rules; content wins over every name rule."""
    reader: Reader | str | None = None
    """Header reader (or `"module:function"`); None when the file's bytes say nothing more."""
    role: Role | None = None
    """For configuration files: what inspection makes of them."""
    kind_rule: KindRule | None = None
    """Refines `kind` from the path and header; None keeps `kind`."""
    carries_pickles: bool = False
    """The format can hold pickle streams (code that runs on load)."""
    shards: bool = False
    """Several files of this format in one model directory are shards of one model: their
    tensor counts, byte counts and dtypes add up."""
    safety: SafetyHook | str | None = None
    """Safety scan of one file (or `"module:function"`); None when the format cannot carry code."""
    pointer_extensions: tuple[str, ...] = ()
    """Further suffixes that mark a Git LFS pointer's target as this format's kind (`.bin`)."""
    fuzz: bool = True
    """Whether the reader has a fuzz target (only formats without bytes to read are exempt)."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Format-specific constants other stages need (kept here so they are not listed twice)."""

    def read(self, path: Path) -> HeaderInfo | None:
        """The header of `path` by this format's reader, or None when it has none."""
        if self.reader is None:
            return None
        return resolve(self.reader)(path)

    def kind_for(self, relpath: str, header: HeaderInfo | None) -> ArtifactKind | None:
        """The component kind of a file of this format at `relpath` (None for config/pointer)."""
        from unified_supply_chain.records import ArtifactKind

        if self.kind_rule is not None:
            return self.kind_rule(relpath, header)
        if self.kind is Kind.MODEL:
            return ArtifactKind.MODEL
        if self.kind is Kind.DATASET:
            return ArtifactKind.DATASET
        return None


@dataclass(frozen=True)
class DirectoryModelSpec:
    """A model that is a directory (TF SavedModel, MLflow model, Hugging Face, Core ML package)."""

    id: str
    """Format id of the directory model."""
    markers: tuple[str, ...]
    """File names (exact, as written) whose presence in a directory makes it this model."""
    recursive: bool = True
    """Whether files in sub-directories belong to the model (a Hugging Face model: direct only)."""
    accept: Callable[[set[str]], bool] | str | None = None
    """Further test on the directory's file names (or `"module:function"`)."""
    dir_suffix: str | None = None
    """A directory whose name ends so (`.mlpackage`) is this model, marker or not."""


F = TypeVar("F")


@functools.cache
def _resolve_ref(ref: str) -> Any:
    module_name, sep, attr = ref.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"format hook {ref!r} is not 'module:function'")
    target: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        target = getattr(target, part)
    if not callable(target):
        raise TypeError(f"format hook {ref!r} is not callable")
    return target


def resolve(hook: F | str) -> F:
    """The callable behind a hook: itself, or the function a `"module:function"` string names."""
    if isinstance(hook, str):
        return cast(F, _resolve_ref(hook))
    return hook


#: Modules under `unified_supply_chain.formats` that declare `SPECS`; their order is the order
#: name patterns are tried in.
_MODULES: tuple[str, ...] = (
    "lfs",
    "safetensors",
    "gguf",
    "onnx",
    "coreml",
    "flax_msgpack",
    "executorch",
    "openvino",
    "tensorrt",
    "paddle",
    "pytorch",
    "pickles",
    "keras",
    "numpy_files",
    "tflite",
    "savedmodel",
    "parquet",
    "arrow",
    "tabular",
    "lightgbm",
    "skops",
    "xgboost",
    "pmml",
    "catboost",
    "configs",
    "torchserve",
    "nemo",
    "archives",
)


@dataclass(frozen=True)
class Registry:
    """Every format by id, and the lookup tables classification needs, built once."""

    specs: tuple[FormatSpec, ...]
    by_id: Mapping[str, FormatSpec]
    directory_models: tuple[DirectoryModelSpec, ...]
    sniffs: tuple[tuple[Sniff, FormatSpec], ...]
    names: Mapping[str, FormatSpec]
    patterns: tuple[tuple[re.Pattern[str], FormatSpec], ...]
    path_rules: tuple[tuple[PathRule, FormatSpec], ...]
    extensions: Mapping[str, FormatSpec]

    def __getitem__(self, format_id: str) -> FormatSpec:
        return self.by_id[format_id]

    def get(self, format_id: str | None) -> FormatSpec | None:
        """The spec of `format_id`, or None for an id no format has (or None)."""
        return self.by_id.get(format_id) if format_id is not None else None

    def ids(self, kind: Kind | None = None, role: Role | None = None) -> frozenset[str]:
        """Format ids, optionally of one kind or role."""
        return frozenset(
            s.id
            for s in self.specs
            if (kind is None or s.kind is kind) and (role is None or s.role is role)
        )


def _unique(pairs: list[tuple[str, FormatSpec]], what: str) -> dict[str, FormatSpec]:
    out: dict[str, FormatSpec] = {}
    for key, spec in pairs:
        other = out.setdefault(key, spec)
        if other is not spec:
            raise ValueError(f"{what} {key!r} is claimed by both {other.id} and {spec.id}")
    return out


def build_registry(modules: tuple[str, ...] = _MODULES) -> Registry:
    """Import every format module and index its specs; conflicting claims are an error."""
    specs: list[FormatSpec] = []
    directory_models: list[DirectoryModelSpec] = []
    for name in modules:
        module = importlib.import_module(f"{__name__}.{name}")
        specs.extend(module.SPECS)
        directory_models.extend(getattr(module, "DIRECTORY_MODELS", ()))
    by_id = _unique([(s.id, s) for s in specs], "format id")
    clashes = {d.id for d in directory_models if [x.id for x in directory_models].count(d.id) > 1}
    if clashes:
        raise ValueError(f"directory model ids used twice: {sorted(clashes)}")
    sniffs = sorted(((sn, s) for s in specs for sn in s.sniffs), key=lambda pair: pair[0].priority)
    priorities = [sn.priority for sn, _ in sniffs]
    if len(priorities) != len(set(priorities)):
        dupes = sorted({p for p in priorities if priorities.count(p) > 1})
        raise ValueError(f"sniff priorities used twice: {dupes}")
    return Registry(
        specs=tuple(specs),
        by_id=by_id,
        directory_models=tuple(directory_models),
        sniffs=tuple(sniffs),
        names=_unique([(n, s) for s in specs for n in s.names], "file name"),
        patterns=tuple((re.compile(p), s) for s in specs for p in s.name_patterns),
        path_rules=tuple((r, s) for s in specs for r in s.path_rules),
        extensions=_unique([(e, s) for s in specs for e in s.extensions], "extension"),
    )


@functools.lru_cache(maxsize=1)
def registry() -> Registry:
    """The registry of every format this tool knows (built on first use)."""
    return build_registry()
