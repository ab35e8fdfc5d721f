"""TorchServe model archives (`.mar`): a zip with `MAR-INF/MANIFEST.json`, the serialized model,
the handler and extra files (Python code the server imports when it loads the model).

Layout from pytorch/serve `model-archiver/model_archiver/model_packaging_utils.py` (the model
directory is zipped first, the manifest written last as `MAR-INF/MANIFEST.json`) and
`manifest_components/manifest.py`, `model.py` (createdOn, runtime, archiverVersion; model:
modelName, modelVersion, serializedFile, handler, modelFile, extensions, requirementsFile).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError
from unified_supply_chain.records import HeaderInfo

MANIFEST = "MAR-INF/MANIFEST.json"
#: Handlers TorchServe ships (ts/torch_handler/*.py), named without ".py" in a manifest.
BUILTIN_HANDLERS = frozenset(
    {
        "base_handler",
        "image_classifier",
        "image_segmenter",
        "object_detector",
        "text_classifier",
        "text_handler",
        "vision_handler",
        "densenet_handler",
        "language_translator",
        "dali_image_classifier",
        "dali_image_segmenter",
    }
)
_MODEL_KEYS = (
    ("modelName", "model_name"),
    ("modelVersion", "model_version"),
    ("handler", "handler"),
    ("serializedFile", "serialized_file"),
    ("modelFile", "model_file"),
    ("requirementsFile", "requirements_file"),
)


def parse_manifest(data: bytes) -> dict[str, Any]:
    """The manifest as a dict with a dict under "model"; FormatError otherwise."""
    from unified_supply_chain.safeparse import loads_json

    try:
        manifest = loads_json(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FormatError(f"unreadable {MANIFEST}: {exc}") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("model"), dict):
        raise FormatError(f"{MANIFEST} has no model object")
    return manifest


def handler_module(handler: str) -> str:
    """The module part of a manifest handler (`handler.py:fn` -> `handler.py`)."""
    return handler.split(":", 1)[0].strip()


def is_builtin_handler(handler: str, members: set[str]) -> bool:
    """A handler TorchServe ships, not code carried in the archive."""
    module = handler_module(handler)
    leaf = module.rsplit(".", 1)[-1] if module.startswith("ts.torch_handler.") else module
    return leaf in BUILTIN_HANDLERS and module not in members and f"{module}.py" not in members


def read_mar(path: Path) -> HeaderInfo:
    """Model name, version, handler, serialized file and runtime from the manifest."""
    from unified_supply_chain.formats._zip import ZipReader

    with ZipReader(path) as reader:
        names = [m.name for m in reader.listing.members if not m.is_dir]
        if reader.listing.get(MANIFEST) is None:
            raise FormatError(f"no {MANIFEST} in the archive")
        manifest = parse_manifest(reader.read(MANIFEST, limits.MAX_HDF5_SNIFF))
    model: dict[str, Any] = manifest["model"]
    properties: dict[str, str] = {"torchserve.members": str(len(names))}
    for key, prop in _MODEL_KEYS:
        value = model.get(key)
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            properties[f"torchserve.{prop}"] = str(value)
    for key, prop in (
        ("runtime", "runtime"),
        ("archiverVersion", "archiver_version"),
        ("createdOn", "created_on"),
    ):
        if isinstance(manifest.get(key), str):
            properties[f"torchserve.{prop}"] = manifest[key]
    properties["torchserve.python_files"] = str(sum(n.endswith(".py") for n in names))
    handler = properties.get("torchserve.handler")
    if handler is not None:
        builtin = is_builtin_handler(handler, set(names))
        properties["torchserve.handler_builtin"] = "true" if builtin else "false"
    return HeaderInfo(format="torchserve-mar", properties=properties, pickle_members=())


# --- Registry entries. -------------------------------------------------------------------------

from unified_supply_chain.formats import FormatSpec, Kind, Sniff  # noqa: E402
from unified_supply_chain.formats._names import suffix  # noqa: E402
from unified_supply_chain.formats._zip import first_member, is_zip  # noqa: E402


def sniff_mar_name(head: bytes, name: str) -> bool:
    """A zip named *.mar (the archiver writes the manifest last, so the name tells first)."""
    return is_zip(head) and suffix(name) == ".mar"


def sniff_mar_members(head: bytes, name: str) -> bool:
    """A zip whose first member is under MAR-INF/ (archives written manifest first)."""
    member = first_member(head)
    return member is not None and member.startswith("MAR-INF/")


SPECS = (
    FormatSpec(
        id="torchserve-mar",
        kind=Kind.MODEL,
        description="zip as *.mar or with MAR-INF/ first (TorchServe model archive)",
        extensions=(".mar",),
        # Before the other zip rules: a .mar holds torch files and may start with config.json.
        sniffs=(Sniff(78, sniff_mar_name, needs_name=True), Sniff(79, sniff_mar_members)),
        reader=read_mar,
        carries_pickles=True,
        safety="unified_supply_chain.safety.torchserve:scan_mar",
    ),
)
