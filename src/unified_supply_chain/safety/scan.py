"""Safety scan of one artifact file: every pickle it carries, Keras Lambda layers, GGUF templates.

Containers are recognised by content, whatever the file's name or the format id it was given:
a zip (PyTorch, .npz, .keras, or any renamed zip) has every member that is a pickle scanned;
compressed joblib files are inflated under a cap; `.npy` object arrays have the pickle after the
header scanned. Nothing is ever unpickled, and bad input yields a medium "unscannable" finding,
never an exception.
"""

from __future__ import annotations

import io
import lzma
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError, UscError
from unified_supply_chain.formats._sniff import compression_of, could_hold_pickle, decompress_prefix
from unified_supply_chain.records import Finding, Severity
from unified_supply_chain.safety.pickle_scan import (
    RULE,
    findings_for,
    scan_pickle_bytes,
    walk_pickles,
)

CHAT_TEMPLATE_RULE = "suspicious-chat-template"

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_NPY_MAGIC = b"\x93NUMPY"
_PICKLE_NAMES = (".pkl", ".pickle", ".joblib", "data.pkl")
_PREFIX = 4096
_PICKLE_FORMATS = ("pickle", "joblib", "pytorch")
# Errors the standard library raises on hostile containers (all become "unscannable").
_INPUT_ERRORS = (
    OSError,
    EOFError,
    ValueError,
    KeyError,
    IndexError,
    NotImplementedError,
    RuntimeError,
    struct.error,
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    UnicodeDecodeError,
    OverflowError,
    RecursionError,
    MemoryError,
    UscError,
)


def _unscannable(location: str, reason: str) -> Finding:
    return Finding(
        rule=RULE,
        severity=Severity.MEDIUM,
        message=f"unscannable: {reason}; it cannot be proven safe",
        path=location,
        details=(f"error: {reason}",),
    )


def scan_file(path: Path, relpath: str, fmt: str) -> list[Finding]:
    """Safety findings for one file (`relpath` is how findings name it; `fmt` is a hint).

    Never raises on bad input: what cannot be read is reported as a medium finding.
    """
    try:
        return _scan(path, relpath, fmt)
    except _INPUT_ERRORS as exc:
        return [_unscannable(relpath, f"{type(exc).__name__}: {exc}")]


def _head(path: Path, n: int = 16) -> bytes:
    with path.open("rb") as fh:
        return fh.read(n)


def _scan(path: Path, relpath: str, fmt: str) -> list[Finding]:
    head = _head(path)
    if head.startswith(_ZIP_MAGIC):
        return _scan_zip(path, relpath, fmt)
    if head.startswith(b"GGUF"):
        return _scan_gguf(path, relpath)
    if head.startswith(_NPY_MAGIC):
        with path.open("rb") as fh:
            return _scan_npy_stream(fh, path.stat().st_size, relpath)
    if fmt == "safetensors" and head[8:9] == b"{":
        return []
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return _scan_hdf5(path, relpath)
    compression = compression_of(head)
    if compression is not None:
        return _scan_compressed(path, relpath, compression)
    if fmt == "pytorch-legacy":
        return _scan_pickle_file(path, relpath, max_pickles=5)
    if fmt in _PICKLE_FORMATS:
        return _scan_pickle_file(path, relpath)
    # Any other file is scanned only when its start walks like a pickle (a renamed payload).
    with path.open("rb") as fh:
        prefix = fh.read(_PREFIX)
    if could_hold_pickle(prefix, path.stat().st_size):
        return _heuristic_findings(_scan_pickle_file(path, relpath))
    return []


def _scan_pickle_file(path: Path, relpath: str, *, max_pickles: int | None = None) -> list[Finding]:
    size = path.stat().st_size
    if size <= limits.MAX_PICKLE_DECOMPRESS:
        data = path.read_bytes()
        return scan_pickle_bytes(data, relpath, max_pickles=max_pickles)
    # Too large to hold in memory for picklescan: our own walk streams and seeks over weights.
    with path.open("rb") as fh:
        return findings_for(relpath, walk_pickles(fh, size, max_pickles=max_pickles))


# --- Compressed joblib. ------------------------------------------------------------------------


def _scan_compressed(path: Path, relpath: str, kind: str) -> list[Finding]:
    cap = limits.MAX_PICKLE_DECOMPRESS
    with path.open("rb") as fh:
        found = decompress_prefix(fh, kind, cap)
    if found is None:
        return [_unscannable(relpath, f"{kind} compression is not supported by the scanner")]
    if found.more:
        return [_unscannable(relpath, f"{kind} stream inflates past {cap} bytes")]
    if not found.data:
        return [_unscannable(relpath, f"empty or corrupt {kind} stream")]
    # A stream cut short is walked as far as it goes (the walk then reports it truncated).
    return scan_pickle_bytes(found.data, relpath)


# --- .npy object arrays. -----------------------------------------------------------------------


def _descr_has_object(descr: Any) -> bool:
    if isinstance(descr, str):
        return descr.lstrip("<>|=")[:1] == "O"
    if isinstance(descr, list):
        return any(isinstance(f, tuple) and len(f) >= 2 and _descr_has_object(f[1]) for f in descr)
    return False


def _scan_npy_stream(fh: Any, size: int, location: str) -> list[Finding]:
    from unified_supply_chain.formats.numpy_files import parse_npy_header

    head = fh.read(12 + limits.MAX_NPY_HEADER)
    header, offset = parse_npy_header(head)
    if not _descr_has_object(header["descr"]):
        return []
    rest = head[offset:]
    budget = limits.MAX_PICKLE_DECOMPRESS
    tail = fh.read(max(0, budget + 1 - len(rest)))
    data = rest + tail
    if len(data) > budget:
        # Stream the walk when the pickled object array is too large to hold.
        buf = io.BytesIO(data)
        return findings_for(location, walk_pickles(buf, len(data)))
    return scan_pickle_bytes(data, location)


# --- Zip containers (PyTorch, .npz, .keras, any zip). --------------------------------------


def _heuristic_findings(findings: list[Finding]) -> list[Finding]:
    """Findings for a stream found by content: a parse error alone is not reported there.

    A stream that imports nothing cannot call anything when loaded; reporting every data blob
    that happens to start like a pickle as "unscannable" would only be noise.
    """
    if any(f.severity is not Severity.MEDIUM for f in findings):
        return findings
    return []


def _scan_zip(path: Path, relpath: str, fmt: str) -> list[Finding]:
    from unified_supply_chain.formats._zip import ZipReader

    findings: list[Finding] = []
    with ZipReader(path) as reader:
        for member in reader.listing.members:
            if member.is_dir:
                continue
            location = f"{relpath}!{member.name}"
            try:
                findings.extend(_scan_member(reader, member.name, member.size, location))
            except _INPUT_ERRORS as exc:
                findings.append(_unscannable(location, f"{type(exc).__name__}: {exc}"))
        config = reader.listing.get("config.json")
        if config is not None and (fmt == "keras" or relpath.endswith(".keras")):
            findings.extend(_scan_keras_config(reader, relpath))
    return findings


def _scan_member(reader: Any, name: str, size: int, location: str) -> list[Finding]:
    prefix = reader.read(name, _PREFIX, prefix=True)
    if prefix.startswith(_NPY_MAGIC):
        data = reader.read(name, limits.MAX_ZIP_MEMBER_READ) if size > len(prefix) else prefix
        return _scan_npy_stream(io.BytesIO(data), len(data), location)
    if prefix.startswith(_ZIP_MAGIC):
        return []
    if name.lower().endswith(_PICKLE_NAMES):
        return scan_pickle_bytes(reader.read(name, limits.MAX_ZIP_MEMBER_READ), location)
    if not could_hold_pickle(prefix, size):
        return []
    data = reader.read(name, limits.MAX_ZIP_MEMBER_READ)
    return _heuristic_findings(scan_pickle_bytes(data, location))


# --- Keras. ----------------------------------------------------------------------------------

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


def keras_config_findings(config: Any, location: str) -> list[Finding]:
    """Lambda layers (serialized Python code) and custom objects in a Keras model config."""
    findings: list[Finding] = []
    for obj in _keras_objects(config):
        class_name = obj.get("class_name")
        raw_inner = obj.get("config")
        inner: dict[str, Any] = raw_inner if isinstance(raw_inner, dict) else {}
        layer = str(inner.get("name") or obj.get("name") or "?")
        if class_name in ("Lambda", "__lambda__"):
            findings.append(
                Finding(
                    rule=RULE,
                    severity=Severity.HIGH,
                    message=f"Keras Lambda layer {layer!r} carries Python code that runs on load",
                    path=location,
                    details=(f"keras-lambda-layer: {layer}",),
                )
            )
            continue
        module = obj.get("module")
        registered = obj.get("registered_name")
        if isinstance(module, str) and class_name is not None:
            if module.split(".", 1)[0] not in _KERAS_MODULES:
                findings.append(
                    Finding(
                        rule=RULE,
                        severity=Severity.MEDIUM,
                        message=f"Keras custom object {class_name!r} from module {module!r} "
                        "imports code on load",
                        path=location,
                        details=(f"keras-custom-object: {module}.{class_name}",),
                    )
                )
        elif isinstance(registered, str) and "Custom>" in registered:
            findings.append(
                Finding(
                    rule=RULE,
                    severity=Severity.MEDIUM,
                    message=f"Keras custom object {registered!r} needs registered code on load",
                    path=location,
                    details=(f"keras-custom-object: {registered}",),
                )
            )
    return findings


def _scan_keras_config(reader: Any, relpath: str) -> list[Finding]:
    from unified_supply_chain.safeparse import loads_json

    data = reader.read("config.json", limits.MAX_HDF5_SNIFF)
    config = loads_json(data.decode("utf-8"))
    return keras_config_findings(config, f"{relpath}!config.json")


def _scan_hdf5(path: Path, relpath: str) -> list[Finding]:
    # Legacy .h5 Keras models keep their JSON config in an attribute; find Lambda layers in it.
    with path.open("rb") as fh:
        data = fh.read(limits.MAX_HDF5_SNIFF)
    if re.search(rb'"class_name":\s*"(Lambda|__lambda__)"', data):
        names = re.findall(
            rb'"class_name":\s*"Lambda",\s*"config":\s*\{[^{}]*?"name":\s*"([^"]{1,200})"', data
        )
        layers = [n.decode("utf-8", "replace") for n in names] or ["?"]
        return [
            Finding(
                rule=RULE,
                severity=Severity.HIGH,
                message=f"Keras Lambda layer {layer!r} carries Python code that runs on load",
                path=relpath,
                details=(f"keras-lambda-layer: {layer}",),
            )
            for layer in layers
        ]
    return []


# --- GGUF chat templates. --------------------------------------------------------------------

_TEMPLATE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "dunder attribute access",
        re.compile(
            r"__(class|globals|subclasses|builtins|mro|base|bases|"
            r"init|import|getattribute|code|func|dict|module)__"
        ),
    ),
    ("import", re.compile(r"\bimport\b|__import__")),
    ("os access", re.compile(r"\bos\s*\.|\bpopen\b|\bsubprocess\b|\bsystem\s*\(")),
    ("eval/exec", re.compile(r"\b(eval|exec|compile)\s*\(")),
    (
        "template gadget",
        re.compile(
            r"\b(cycler|joiner|namespace|lipsum|url_for|self\._"
            r"|request\.application|config\.items)\b"
        ),
    ),
    ("attribute filter", re.compile(r"\|\s*attr\s*\(")),
)


def chat_template_findings(template: str, location: str) -> list[Finding]:
    """A finding when a Jinja chat template reaches for Python internals (template injection)."""
    hits = [label for label, pattern in _TEMPLATE_PATTERNS if pattern.search(template)]
    if not hits:
        return []
    return [
        Finding(
            rule=CHAT_TEMPLATE_RULE,
            severity=Severity.HIGH,
            message="GGUF chat template looks like a template-injection payload "
            f"({', '.join(hits)})",
            path=location,
            details=tuple(f"pattern: {h}" for h in hits),
        )
    ]


def _scan_gguf(path: Path, relpath: str) -> list[Finding]:
    try:
        from unified_supply_chain.formats.gguf import read_gguf
    except ImportError:
        return []
    try:
        props = read_gguf(path).properties
    except FormatError:
        return []  # a corrupt GGUF is a reader warning, not a safety finding: loaders refuse it
    key = "tokenizer.chat_template"
    findings: list[Finding] = []
    for name in sorted(props):
        if name != key and not name.startswith(key + "."):
            continue
        if name.endswith(".skipped"):
            template_name = name[: -len(".skipped")]
            findings.append(_partial_template(relpath, template_name, "too long to read"))
            continue
        if name.endswith(".length"):
            continue
        text = props[name]
        location = relpath if name == key else f"{relpath}!{name}"
        findings.extend(chat_template_findings(text, location))
        declared = props.get(f"{name}.length", "")
        if declared.isdigit() and int(declared) > len(text):
            findings.append(
                _partial_template(relpath, name, f"only {len(text)} of {declared} characters read")
            )
    return findings


def _partial_template(relpath: str, name: str, why: str) -> Finding:
    return Finding(
        rule=CHAT_TEMPLATE_RULE,
        severity=Severity.MEDIUM,
        message=f"unscannable: GGUF {name} {why}; it cannot be proven safe",
        path=relpath,
        details=(f"error: {name} {why}",),
    )
