"""OpenVINO IR: a `<net name=... version="10|11">` XML file with `<layers>`, beside its `.bin`.

The XML (OpenVINO docs, "OpenVINO IR format") describes the graph: each `<layer>` has an id, a
name and a type (`Parameter` layers are the inputs, `Result` layers the outputs, `Const` layers
point into the `.bin` weights of the same stem). The file is recognised by content, never by the
`.xml` suffix. It is parsed in a stream by expat with DTDs refused (no DOCTYPE, no entities) and
at most `limits.MAX_OPENVINO_XML` bytes. The `.bin` is not read; its size is recorded.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any
from xml.parsers import expat

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError, LimitExceeded
from unified_supply_chain.records import HeaderInfo

MAX_LISTED = 64
TOP_TYPES = 10
_CHUNK = 1 << 16


class _Net:
    def __init__(self) -> None:
        self.name: str | None = None
        self.version: str | None = None
        self.depth = 0
        self.in_layers = False
        self.saw_layers = False
        self.types: Counter[str] = Counter()
        self.inputs: list[str] = []
        self.outputs: list[str] = []

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        if self.depth == 1:
            if tag != "net":
                raise FormatError(f"root element <{tag}>: not an OpenVINO IR net")
            self.name, self.version = attrs.get("name", ""), attrs.get("version")
        elif self.depth == 2 and tag == "layers":
            self.in_layers = self.saw_layers = True
        elif self.depth == 3 and self.in_layers and tag == "layer":
            kind = attrs.get("type", "?")
            self.types[kind] += 1
            target = {"Parameter": self.inputs, "Result": self.outputs}.get(kind)
            if target is not None and len(target) < MAX_LISTED:
                target.append(attrs.get("name", "?"))

    def end(self, tag: str) -> None:
        if self.depth == 2 and tag == "layers":
            self.in_layers = False
        self.depth -= 1


def _refuse(*args: Any) -> None:
    raise FormatError("XML with a DTD or entity declaration refused")


def read_openvino(path: Path) -> HeaderInfo:
    """Read an OpenVINO IR network's name, version and layers. Raises FormatError only."""
    net = _Net()
    parser = expat.ParserCreate()
    parser.StartElementHandler = net.start
    parser.EndElementHandler = net.end
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse  # type: ignore[assignment]
    read = 0
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                read += len(chunk)
                if read > limits.MAX_OPENVINO_XML:
                    raise LimitExceeded(f"OpenVINO IR over {limits.MAX_OPENVINO_XML} bytes")
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise FormatError(f"not well-formed XML: {exc}") from exc
    except LookupError as exc:  # expat looks up the declared encoding by name
        raise FormatError(f"XML declares an unknown encoding: {exc}") from exc
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}") from exc
    if net.version is None or not net.saw_layers:
        raise FormatError("<net> without a version or <layers>: not an OpenVINO IR")
    properties = {
        "ir_version": net.version,
        "layer_count": str(sum(net.types.values())),
        "layer_types": ",".join(f"{t}:{n}" for t, n in net.types.most_common(TOP_TYPES)),
        "inputs": ",".join(net.inputs),
        "outputs": ",".join(net.outputs),
    }
    if net.name:
        properties["net_name"] = net.name
    weights = path.with_suffix(".bin")
    if weights.is_file() and not weights.is_symlink():
        properties["weights_file"] = weights.name
        properties["weights_bytes"] = str(weights.stat().st_size)
    return HeaderInfo(format="openvino-ir", properties=properties, architecture=net.name or None)


# --- Registry entry. ---------------------------------------------------------------------------

from unified_supply_chain.formats import FormatSpec, Kind, Sniff  # noqa: E402

_NET_START = re.compile(
    rb"\A(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]{0,200}\?>\s*)?(?:<!--(?:(?!-->).){0,400}-->\s*)*"
    rb"<net\s[^>]*\bversion\s*=\s*[\"']\d{1,3}[\"']",
    re.DOTALL,
)


def sniff_openvino(head: bytes, name: str) -> bool:
    """An XML document whose root element is `<net ... version="N">` (never any `.xml`)."""
    return _NET_START.match(head) is not None


SPECS = (
    FormatSpec(
        id="openvino-ir",
        kind=Kind.MODEL,
        description='XML whose root is <net ... version="10|11"> (weights in the <stem>.bin)',
        sniffs=(Sniff(151, sniff_openvino),),
        reader=read_openvino,
        # The weights beside the network: one model of two files (OpenVINO docs, "OpenVINO
        # IR format": `model.xml` describes the topology, `model.bin` holds the weights).
        extra={"companions": (".bin",)},
    ),
)
