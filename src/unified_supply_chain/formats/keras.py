"""Keras models: the Keras 3 `.keras` zip (config.json, metadata.json, model.weights.h5) and
HDF5 files (`.h5`), read from their headers and configuration without loading any weight.

Lambda layers carry Python bytecode that runs when the model is loaded; they are counted and
named here so that the safety scanner can flag them.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from unified_supply_chain import limits, safeparse
from unified_supply_chain.errors import FormatError
from unified_supply_chain.formats import pickles
from unified_supply_chain.formats._hdf5 import RootAttributes, find_superblock, read_root_attributes
from unified_supply_chain.formats._zip import ZipReader
from unified_supply_chain.records import HeaderInfo

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
#: Layer class names listed in properties["layer_classes"].
MAX_LISTED_CLASSES = 10
#: Lambda layer names listed in properties["keras.lambda_names"].
MAX_LISTED_LAMBDAS = 20
_KERAS_MARKERS = ("keras_version", "model_config", "backend")


def _walk_layers(config: Any, classes: list[str], depth: int = 0) -> None:
    """Collect layer class names of a Sequential/Functional config, nested models included."""
    if depth > limits.MAX_JSON_DEPTH or not isinstance(config, dict):
        return
    inner = config.get("config")
    layers = inner.get("layers") if isinstance(inner, dict) else None
    if not isinstance(layers, list):
        return
    for layer in layers:
        if not isinstance(layer, dict):
            continue
        name = layer.get("class_name")
        if isinstance(name, str):
            classes.append(name)
        _walk_layers(layer, classes, depth + 1)


def _find_lambdas(config: Any) -> list[str]:
    """Names of every Lambda layer anywhere in the config (wrappers and nested models too)."""
    found: list[str] = []
    stack: list[Any] = [config]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("class_name") == "Lambda":
                inner = item.get("config")
                name = inner.get("name") if isinstance(inner, dict) else item.get("name")
                found.append(str(name) if name is not None else "?")
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return found


def describe_config(config: Any, properties: dict[str, str]) -> str | None:
    """Fill layer and Lambda properties from a model config; return its class name."""
    if not isinstance(config, dict):
        raise FormatError("Keras model config is not a JSON object")
    class_name = config.get("class_name")
    classes: list[str] = []
    _walk_layers(config, classes)
    properties["layer_count"] = str(len(classes))
    if classes:
        common = Counter(classes)
        properties["layer_classes"] = ",".join(
            f"{name}:{count}" for name, count in list(common.items())[:MAX_LISTED_CLASSES]
        )
    lambdas = _find_lambdas(config)
    properties["keras.lambda_layers"] = str(len(lambdas))
    if lambdas:
        properties["keras.lambda_names"] = ",".join(lambdas[:MAX_LISTED_LAMBDAS])
    if isinstance(class_name, str):
        properties["class_name"] = class_name
        return class_name
    return None


def _json_member(reader: ZipReader, name: str) -> Any:
    raw = reader.read(name, limits.MAX_TEXT_PARSE)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(f"{name} is not UTF-8") from exc
    return safeparse.loads_json(text)


def read_keras_zip(path: Path) -> HeaderInfo:
    """Read a Keras 3 `.keras` archive's config and metadata. Raises FormatError only."""
    properties: dict[str, str] = {}
    with ZipReader(path) as reader:
        listing = reader.listing
        if listing.get("config.json") is None:
            raise FormatError("zip archive has no config.json: not a .keras model")
        config = _json_member(reader, "config.json")
        architecture = describe_config(config, properties)
        if listing.get("metadata.json") is not None:
            metadata = _json_member(reader, "metadata.json")
            if isinstance(metadata, dict):
                for key in ("keras_version", "date_saved"):
                    value = metadata.get(key)
                    if isinstance(value, (str, int, float)):
                        properties[key] = str(value)
        weights = listing.get("model.weights.h5")
        if weights is not None:
            properties["weights_member"] = weights.name
            properties["weights_bytes"] = str(weights.size)
            head = reader.read(weights.name, len(HDF5_SIGNATURE), prefix=True)
            properties["weights_hdf5"] = "true" if head == HDF5_SIGNATURE else "false"
        elif listing.get("model.weights.npz") is not None:
            properties["weights_member"] = "model.weights.npz"
        pickle_members = pickles.zip_pickle_members(reader)
    return HeaderInfo(
        format="keras",
        properties=properties,
        architecture=architecture,
        pickle_members=tuple(pickle_members),
    )


def find_hdf5_superblock(path: Path) -> tuple[int, int]:
    """(offset, superblock version) of the HDF5 signature at 0, 512, 1024, 2048, ..."""
    try:
        with path.open("rb") as fh:
            return find_superblock(fh, fh.seek(0, 2))
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}") from exc


def read_hdf5(path: Path) -> HeaderInfo:
    """Read an HDF5 file's superblock and its root group's Keras attributes. Raises FormatError.

    h5py is not used: `formats/_hdf5.py` reads the root group's attributes from the bytes,
    wherever in the file they lie. Root attributes it cannot read are recorded in
    properties["hdf5.unread"] (the safety scan reports them).
    """
    offset, version = find_hdf5_superblock(path)
    if version > 3:
        raise FormatError(f"unknown HDF5 superblock version {version}")
    properties = {"superblock_version": str(version)}
    if offset:
        properties["userblock_bytes"] = str(offset)
    try:
        with path.open("rb") as fh:
            attrs = read_root_attributes(fh, fh.seek(0, 2), offset)
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}") from exc
    except FormatError as exc:
        attrs = RootAttributes(unsupported=[str(exc)])
    if attrs.unsupported:
        properties["hdf5.unread"] = "; ".join(attrs.unsupported)[:1024]
    names = set(attrs.strings) | attrs.others
    markers = [m for m in _KERAS_MARKERS if m in names]
    architecture = None
    if markers:
        properties["keras"] = "true"
        properties["keras.attributes"] = ",".join(markers)
        version_text = (attrs.strings.get("keras_version") or [""])[0]
        if re.fullmatch(r"\d+\.\d+\.\d+\S{0,32}", version_text):
            properties["keras_version"] = version_text
        for text in attrs.strings.get("model_config", [])[:1]:
            try:
                config = safeparse.loads_json(text)
            except FormatError:
                break  # a config we cannot parse: no layer properties (the safety scan reports it)
            if isinstance(config, dict):
                architecture = describe_config(config, properties)
    return HeaderInfo(format="hdf5", properties=properties, architecture=architecture)


# --- Registry entries. -------------------------------------------------------------------------

from unified_supply_chain.formats import FormatSpec, Kind, Sniff  # noqa: E402
from unified_supply_chain.formats._names import in_data_dir, suffix  # noqa: E402
from unified_supply_chain.formats._zip import first_member, is_zip  # noqa: E402
from unified_supply_chain.records import ArtifactKind  # noqa: E402

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def sniff_keras_name(head: bytes, name: str) -> bool:
    """A zip named *.keras."""
    return is_zip(head) and suffix(name) == ".keras"


def sniff_keras_members(head: bytes, name: str) -> bool:
    """A zip whose first member is Keras 3's config.json or metadata.json."""
    return first_member(head) in ("config.json", "metadata.json")


def sniff_hdf5(head: bytes, name: str) -> bool:
    """The HDF5 superblock signature at offset 0."""
    return head.startswith(HDF5_MAGIC)


def sniff_hdf5_userblock(head: bytes, name: str) -> bool:
    """A file named *.h5/*.hdf5/*.keras-h5 that nothing else claims: h5py also opens files whose
    superblock follows a user block (at 512, 1024, 2048, ...), past the bytes sniffed here.
    Tried last, so a pickle or zip under such a name is still scanned as what it is."""
    return suffix(name) in (".h5", ".hdf5", ".keras-h5") and len(head) >= 512


def hdf5_kind(relpath: str, header: HeaderInfo | None) -> ArtifactKind:
    """A Keras model when its attributes say so; other HDF5 files we could read are data."""
    if header is not None and header.properties.get("keras") == "true":
        return ArtifactKind.MODEL
    if in_data_dir(relpath) or header is not None:
        return ArtifactKind.DATASET
    return ArtifactKind.MODEL


SPECS = (
    FormatSpec(
        id="keras",
        kind=Kind.MODEL,
        description="zip as *.keras or with config.json/metadata.json first",
        extensions=(".keras",),
        sniffs=(Sniff(80, sniff_keras_name, needs_name=True), Sniff(83, sniff_keras_members)),
        reader=read_keras_zip,
        # Lambda layers carry Python code; any zip member may be a pickle.
        carries_pickles=True,
        safety="unified_supply_chain.safety.scan:scan_zip",
    ),
    FormatSpec(
        id="hdf5",
        kind=Kind.MODEL,
        description="\\x89HDF\\r\\n\\x1a\\n at 0; or *.h5/*.hdf5/*.keras-h5",
        extensions=(".h5", ".hdf5", ".keras-h5"),
        sniffs=(Sniff(30, sniff_hdf5), Sniff(990, sniff_hdf5_userblock, needs_name=True)),
        reader=read_hdf5,
        kind_rule=hdf5_kind,
        # Legacy Keras models keep Lambda layers (marshalled code) in their config attribute.
        safety="unified_supply_chain.safety.scan:scan_hdf5",
    ),
)
