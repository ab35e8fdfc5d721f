"""Keras: Lambda layers (marshalled Python code) and custom objects in a model's config.

Keras 3 `.keras` zips keep the config in `config.json`; legacy `.h5` models keep it as JSON in
the root group's `model_config` HDF5 attribute, read by `formats/_hdf5.py` (never with h5py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any, BinaryIO

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError
from unified_supply_chain.records import Finding, Severity
from unified_supply_chain.safety.pickle_scan import RULE
from unified_supply_chain.safety.unverified import unverified

_KERAS_MODULES = ("keras", "tensorflow", "tf_keras")


def _keras_objects(config: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > limits.MAX_JSON_DEPTH:
        return
    if isinstance(config, dict):
        yield config
        for value in config.values():
            yield from _keras_objects(value, depth + 1)
    elif isinstance(config, list):
        for value in config:
            yield from _keras_objects(value, depth + 1)


def lambda_finding(layer: str, location: str) -> Finding:
    """A Keras Lambda layer: Python code that runs when the model is loaded."""
    return Finding(
        rule=RULE,
        severity=Severity.HIGH,
        message=f"Keras Lambda layer {layer!r} carries Python code that runs on load",
        path=location,
        details=(f"keras-lambda-layer: {layer}",),
    )


def _custom_object_finding(what: str, detail: str, why: str, location: str) -> Finding:
    return Finding(
        rule=RULE,
        severity=Severity.MEDIUM,
        message=f"Keras custom object {what} {why}",
        path=location,
        details=(f"keras-custom-object: {detail}",),
    )


def keras_config_findings(config: Any, location: str) -> list[Finding]:
    """Lambda layers (serialized Python code) and custom objects in a Keras model config."""
    findings: list[Finding] = []
    for obj in _keras_objects(config):
        class_name = obj.get("class_name")
        raw_inner = obj.get("config")
        inner: dict[str, Any] = raw_inner if isinstance(raw_inner, dict) else {}
        layer = str(inner.get("name") or obj.get("name") or "?")
        if class_name in ("Lambda", "__lambda__"):
            findings.append(lambda_finding(layer, location))
            continue
        module = obj.get("module")
        registered = obj.get("registered_name")
        if isinstance(module, str) and class_name is not None:
            if module.split(".", 1)[0] not in _KERAS_MODULES:
                findings.append(
                    _custom_object_finding(
                        f"{class_name!r} from module {module!r}",
                        f"{module}.{class_name}",
                        "imports code on load",
                        location,
                    )
                )
        elif isinstance(registered, str) and "Custom>" in registered:
            findings.append(
                _custom_object_finding(
                    repr(registered), registered, "needs registered code on load", location
                )
            )
    return findings


def zip_config_findings(reader: Any, relpath: str) -> list[Finding]:
    """Findings of a `.keras` zip's config.json (`reader` is an open ZipReader).

    A config over the size cap, or one we cannot parse, could not be verified safe (HIGH): Keras
    itself reads any size with `json.loads`, which also takes UTF-16/32 (as decoded here).
    """
    from unified_supply_chain.safeparse import loads_json

    location = f"{relpath}!config.json"
    try:
        data = reader.read("config.json", limits.MAX_TEXT_PARSE)
        config = loads_json(data.decode(json.detect_encoding(data)))
    except (FormatError, UnicodeDecodeError) as exc:
        return [unverified(location, f"Keras config.json: {exc}")]
    return keras_config_findings(config, location)


def hdf5_findings(fh: BinaryIO, size: int, location: str) -> list[Finding]:
    """Findings of a legacy Keras `.h5` model: its root group's `model_config` attribute.

    The attribute is read by the HDF5 reader of `formats/_hdf5.py` wherever it lies in the file
    and parsed as JSON (escapes decoded), then judged like a `.keras` config. What cannot be
    verified is HIGH: root attributes in a layout the reader does not support, a structure it
    cannot read, a `model_config` that is not a string or not JSON. Outside of a model (a file in
    a data directory) an unreadable layout is MEDIUM: it is data, but it was not verified.
    """
    from unified_supply_chain.formats._hdf5 import find_superblock, read_root_attributes
    from unified_supply_chain.formats._names import in_data_dir
    from unified_supply_chain.safeparse import loads_json

    severity = Severity.MEDIUM if in_data_dir(location) else Severity.HIGH
    try:
        offset, _ = find_superblock(fh, size)
        attrs = read_root_attributes(fh, size, offset)
    except FormatError as exc:
        return [_unverified_hdf5(location, f"HDF5 root attributes: {exc}", severity)]
    findings = [
        _unverified_hdf5(location, f"HDF5 root attributes: {why}", severity)
        for why in dict.fromkeys(attrs.unsupported)
    ]
    if "model_config" in attrs.others:
        findings.append(unverified(location, "Keras model_config is not a string attribute"))
    for text in attrs.strings.get("model_config", []):
        try:
            config = loads_json(text)
        except FormatError as exc:
            findings.append(unverified(location, f"Keras model_config: {exc}"))
            continue
        findings.extend(keras_config_findings(config, location))
    return findings


def _unverified_hdf5(location: str, reason: str, severity: Severity) -> Finding:
    finding = unverified(location, reason)
    if severity is Severity.HIGH:
        return finding
    return replace(finding, severity=severity)
