"""Keras: Lambda layers (marshalled Python code) and custom objects in a model's config.

Keras 3 `.keras` zips keep the config in `config.json`; legacy `.h5` models keep it as JSON in
an HDF5 attribute, which is searched as bytes (the file is never opened with h5py here).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from unified_supply_chain import limits
from unified_supply_chain.records import Finding, Severity
from unified_supply_chain.safety.pickle_scan import RULE

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
    """Findings of a `.keras` zip's config.json (`reader` is an open ZipReader)."""
    from unified_supply_chain.safeparse import loads_json

    data = reader.read("config.json", limits.MAX_HDF5_SNIFF)
    config = loads_json(data.decode("utf-8"))
    return keras_config_findings(config, f"{relpath}!config.json")


_LAMBDA = re.compile(rb'"class_name":\s*"(Lambda|__lambda__)"')
_LAMBDA_NAME = re.compile(
    rb'"class_name":\s*"Lambda",\s*"config":\s*\{[^{}]*?"name":\s*"([^"]{1,200})"'
)


def hdf5_findings(data: bytes, location: str) -> list[Finding]:
    """Lambda layers in the first bytes of a legacy Keras `.h5` model (its config attribute)."""
    if not _LAMBDA.search(data):
        return []
    layers = [n.decode("utf-8", "replace") for n in _LAMBDA_NAME.findall(data)] or ["?"]
    return [lambda_finding(layer, location) for layer in layers]
