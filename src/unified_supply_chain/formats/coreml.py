"""Core ML models (`.mlmodel`) and packages (`.mlpackage`), read by the bounded protobuf walker.

A `.mlmodel` is one protobuf `Model` message (apple/coremltools `mlmodel/format/Model.proto`):
specificationVersion (1), description (2: inputs, outputs, metadata), isUpdatable (10) and one
field of the `Type` oneof that says what the model is (neuralNetwork, mlProgram, pipeline, tree
ensemble, ...). Only names and metadata are read; layers and weights are seeked over. A package is
a directory `*.mlpackage` holding `Manifest.json`, `Data/com.apple.CoreML/model.mlmodel` (read by
the same reader) and `weights/`. No coremltools, no protobuf runtime.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError
from unified_supply_chain.formats._protobuf import (
    LEN,
    VARINT,
    Walker,
    signed,
    sniff_first_varint,
    walk_file,
)
from unified_supply_chain.records import HeaderInfo

#: Model.Type oneof field numbers -> names (Model.proto).
MODEL_TYPES: dict[int, str] = {
    200: "pipelineClassifier",
    201: "pipelineRegressor",
    202: "pipeline",
    300: "glmRegressor",
    301: "supportVectorRegressor",
    302: "treeEnsembleRegressor",
    303: "neuralNetworkRegressor",
    304: "bayesianProbitRegressor",
    400: "glmClassifier",
    401: "supportVectorClassifier",
    402: "treeEnsembleClassifier",
    403: "neuralNetworkClassifier",
    404: "kNearestNeighborsClassifier",
    500: "neuralNetwork",
    501: "itemSimilarityRecommender",
    502: "mlProgram",
    555: "customModel",
    556: "linkedModel",
    560: "classConfidenceThresholding",
    600: "oneHotEncoder",
    601: "imputer",
    602: "featureVectorizer",
    603: "dictVectorizer",
    604: "scaler",
    606: "categoricalMapping",
    607: "normalizer",
    609: "arrayFeatureExtractor",
    610: "nonMaximumSuppression",
    900: "identity",
    2000: "textClassifier",
    2001: "wordTagger",
    2002: "visionFeaturePrint",
    2003: "soundAnalysisPreprocessing",
    2004: "gazetteer",
    2005: "wordEmbedding",
    2006: "audioFeaturePrint",
    3000: "serializedModel",
}
_NEURAL = {303, 403, 500}  # NeuralNetwork*: repeated layers = 1
_PIPELINES = {200, 201}  # Pipeline{Classifier,Regressor}: pipeline = 1
#: Inputs, outputs, functions and user metadata entries listed.
MAX_LISTED = 64


@dataclass
class _Model:
    spec_version: int | None = None
    model_type: str | None = None
    updatable: bool = False
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    user: dict[str, str] = field(default_factory=dict)
    layers: int | None = None
    pipeline_models: int | None = None
    functions: list[str] = field(default_factory=list)
    mil_version: int | None = None
    custom_class: str | None = None


def read_coreml(path: Path) -> HeaderInfo:
    """Read a Core ML model's description and type without its weights. Raises FormatError."""
    model = _Model()
    walk_file(
        path,
        lambda walker, size: _walk_model(walker, model, size),
        max_bytes=limits.MAX_COREML_META_BYTES,
        max_fields=limits.MAX_COREML_FIELDS,
        what="Core ML metadata outside weights",
    )
    if model.spec_version is None or model.model_type is None:
        raise FormatError("no specificationVersion or model type: not a Core ML Model")
    return _header(model)


def _walk_model(w: Walker, m: _Model, end: int) -> None:
    for number, wire, value in w.fields(end):
        if number == 1 and wire == VARINT:
            m.spec_version = signed(value)
        elif number == 2 and wire == LEN:
            _walk_description(w, m, w.pos + value)
        elif number == 10 and wire == VARINT:
            m.updatable = bool(value)
        elif number in MODEL_TYPES and wire == LEN:
            if m.model_type is not None:
                raise FormatError("more than one model type set")
            m.model_type = MODEL_TYPES[number]
            _walk_type(w, m, number, w.pos + value)
        elif number in (1, 2, 10) or number in MODEL_TYPES:
            raise FormatError(f"Model field {number} has wire type {wire}")


def _walk_description(w: Walker, m: _Model, end: int) -> None:
    for number, wire, value in w.fields(end):
        if wire != LEN:
            continue
        if number in (1, 10):  # input, output: FeatureDescription, name = 1
            name = _first_string(w, w.pos + value, "feature name")
            target = m.inputs if number == 1 else m.outputs
            if name is not None and len(target) < MAX_LISTED:
                target.append(name)
        elif number == 100:
            _walk_metadata(w, m, w.pos + value)


def _walk_metadata(w: Walker, m: _Model, end: int) -> None:
    names = {1: "short_description", 2: "version", 3: "author", 4: "license"}
    for number, wire, value in w.fields(end):
        if wire != LEN:
            continue
        if number in names:
            text = w.string(value, "metadata")
            if text:
                m.metadata[names[number]] = text
        elif number == 100:  # userDefined map entry: key = 1, value = 2
            key = val = None
            for sub, sub_wire, sub_value in w.fields(w.pos + value):
                if sub in (1, 2) and sub_wire == LEN:
                    text = w.string(sub_value, "user metadata")
                    key, val = (text, val) if sub == 1 else (key, text)
            if key is not None and val is not None and len(m.user) < MAX_LISTED:
                m.user[key] = val


def _walk_type(w: Walker, m: _Model, number: int, end: int) -> None:
    if number in _NEURAL:
        m.layers = sum(1 for n, wire, _ in w.fields(end) if n == 1 and wire == LEN)
    elif number == 202:
        m.pipeline_models = sum(1 for n, wire, _ in w.fields(end) if n == 1 and wire == LEN)
    elif number in _PIPELINES:
        for n, wire, value in w.fields(end):
            if n == 1 and wire == LEN:
                inner = w.pos + value
                m.pipeline_models = sum(1 for k, kw, _ in w.fields(inner) if k == 1 and kw == LEN)
    elif number == 502:  # MILSpec.Program: version = 1, functions map = 2
        for n, wire, value in w.fields(end):
            if n == 1 and wire == VARINT:
                m.mil_version = signed(value)
            elif n == 2 and wire == LEN:
                name = _first_string(w, w.pos + value, "function name")
                if name is not None and len(m.functions) < MAX_LISTED:
                    m.functions.append(name)
    elif number == 555:  # CustomModel: className = 10, code the app itself must provide
        for n, wire, value in w.fields(end):
            if n == 10 and wire == LEN:
                m.custom_class = w.string(value, "custom class name")


def _first_string(w: Walker, end: int, what: str) -> str | None:
    found = None
    for number, wire, value in w.fields(end):
        if number == 1 and wire == LEN and found is None:
            found = w.string(value, what)
    return found


def _header(m: _Model) -> HeaderInfo:
    properties = {
        "specification_version": str(m.spec_version),
        "model_type": str(m.model_type),
        "inputs": ",".join(m.inputs),
        "outputs": ",".join(m.outputs),
    }
    if m.updatable:
        properties["is_updatable"] = "true"
    if m.layers is not None:
        properties["layer_count"] = str(m.layers)
    if m.pipeline_models is not None:
        properties["pipeline_models"] = str(m.pipeline_models)
    if m.functions:
        properties["functions"] = ",".join(m.functions)
    if m.mil_version is not None:
        properties["mil_program_version"] = str(m.mil_version)
    if m.custom_class is not None:
        properties["custom_class"] = m.custom_class
    for key in ("short_description", "version", "author"):
        if key in m.metadata:
            properties[key] = m.metadata[key]
    producer = m.user.get("com.github.apple.coremltools.version")
    if producer:
        properties["producer"] = f"coremltools {producer}"
    for key, val in m.user.items():
        properties[f"metadata.{key}"] = val
    return HeaderInfo(
        format="coreml", properties=properties, license=m.metadata.get("license") or None
    )


# --- Registry entries. -------------------------------------------------------------------------

from unified_supply_chain.formats import DirectoryModelSpec, FormatSpec, Kind, Sniff  # noqa: E402


def sniff_coreml(head: bytes, name: str) -> bool:
    """A `*.mlmodel` that starts with specificationVersion (tag 0x08): before ONNX's sniff."""
    if not name.endswith(".mlmodel"):
        return False
    got = sniff_first_varint(head, 0x08)
    return got is not None and 1 <= got[0] <= 1000


SPECS = (
    FormatSpec(
        id="coreml",
        kind=Kind.MODEL,
        description="*.mlmodel (protobuf Model starting with specificationVersion)",
        extensions=(".mlmodel",),
        sniffs=(Sniff(76, sniff_coreml, needs_name=True),),
        reader=read_coreml,
    ),
)

DIRECTORY_MODELS = (DirectoryModelSpec(id="coreml-package", markers=(), dir_suffix=".mlpackage"),)
