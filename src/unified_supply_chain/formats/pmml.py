"""PMML documents (`.pmml`, or XML whose root is `PMML` in the DMG namespace).

Structure from the DMG PMML 4.4 schema (dmg.org/pmml/v4-4/): root `PMML@version`, `Header`
(with `Application@name/@version`), `DataDictionary` of `DataField`s, then model elements
(TreeModel, RegressionModel, MiningModel, NeuralNetwork, ...) with `@functionName`. The document
is streamed through expat with a byte cap; a DOCTYPE or ENTITY declaration is refused before any
byte reaches the parser (no entity expansion, no external references).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import cast

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError, LimitExceeded
from unified_supply_chain.records import HeaderInfo

_CHUNK = 1 << 16
#: Model elements of PMML 4.4 (the MODEL-ELEMENT group of pmml-4-4.xsd).
MODEL_ELEMENTS = frozenset(
    [
        "AnomalyDetectionModel",
        "AssociationModel",
        "BayesianNetworkModel",
        "BaselineModel",
        "ClusteringModel",
        "GaussianProcessModel",
        "GeneralRegressionModel",
        "MiningModel",
        "NaiveBayesModel",
        "NearestNeighborModel",
        "NeuralNetwork",
        "RegressionModel",
        "RuleSetModel",
        "SequenceModel",
        "Scorecard",
        "SupportVectorMachineModel",
        "TextModel",
        "TimeSeriesModel",
        "TreeModel",
    ]
)
_DMG = re.compile(r"^http://www\.dmg\.org/PMML-\d+_\d+$")
_DECLARATIONS = (b"<!DOCTYPE", b"<!ENTITY")


def _local(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return "", tag


def read_pmml(path: Path) -> HeaderInfo:
    """Read a PMML document's header, data dictionary and model elements."""
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
    properties: dict[str, str] = {}
    models: list[str] = []
    functions: dict[str, None] = {}
    fields = nested = depth = 0
    total = 0
    tail = b""
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                total += len(chunk)
                if total > limits.MAX_PMML_BYTES:
                    raise LimitExceeded(f"PMML document larger than {limits.MAX_PMML_BYTES} bytes")
                window = tail + chunk
                if any(d in window for d in _DECLARATIONS):
                    raise FormatError("DOCTYPE/ENTITY declarations are refused in PMML")
                if total == len(chunk) and window.startswith((b"\xff\xfe", b"\xfe\xff")):
                    raise FormatError("UTF-16 PMML is not read (declarations could hide)")
                tail = window[-16:]
                parser.feed(chunk)
                for item in parser.read_events():
                    event, elem = cast("tuple[str, object]", item)  # start/end events only
                    if not isinstance(elem, ET.Element):
                        continue
                    namespace, name = _local(elem.tag)
                    if event == "start":
                        depth += 1
                        if depth == 1:
                            if name != "PMML" or not _DMG.match(namespace):
                                raise FormatError("root element is not PMML in the DMG namespace")
                            properties["pmml.version"] = elem.get("version", "")[:20]
                        elif depth == 2 and name in MODEL_ELEMENTS:
                            models.append(name)
                            function = elem.get("functionName")
                            if function:
                                functions[function[:40]] = None
                            model_name = elem.get("modelName")
                            if model_name and "model_name" not in properties:
                                properties["model_name"] = model_name[:200]
                        elif depth > 2 and name in MODEL_ELEMENTS:
                            nested += 1
                        elif depth == 3 and name == "Application":
                            properties["producer"] = elem.get("name", "")[:200]
                            if elem.get("version"):
                                properties["producer_version"] = elem.get("version", "")[:40]
                        elif depth == 3 and name == "DataField":
                            fields += 1
                    else:
                        depth -= 1
                        if depth >= 1:
                            elem.clear()  # memory stays flat whatever the model's size
            parser.close()
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}") from exc
    except ET.ParseError as exc:
        raise FormatError(f"invalid XML: {exc}") from exc
    except LookupError as exc:  # expat looks up the declared encoding by name
        raise FormatError(f"XML declares an unknown encoding: {exc}") from exc
    if "pmml.version" not in properties:
        raise FormatError("no PMML root element")
    properties["data_fields"] = str(fields)
    properties["model_elements"] = ",".join(models)
    if functions:
        properties["function_name"] = ",".join(functions)
    if nested:
        properties["nested_models"] = str(nested)
    return HeaderInfo(
        format="pmml", properties=properties, architecture=models[0] if models else None
    )


# --- Registry entry. ---------------------------------------------------------------------------

from unified_supply_chain.formats import FormatSpec, Kind, Sniff  # noqa: E402

_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?PMML[\s>]")


def sniff_pmml(head: bytes, name: str) -> bool:
    """A `PMML` root element and the DMG namespace in the first bytes (not any XML file)."""
    return _ROOT.search(head) is not None and b"http://www.dmg.org/PMML-" in head


SPECS = (
    FormatSpec(
        id="pmml",
        kind=Kind.MODEL,
        description="XML with a PMML root in the DMG namespace; or *.pmml",
        extensions=(".pmml",),
        sniffs=(Sniff(132, sniff_pmml),),
        reader=read_pmml,
    ),
)
