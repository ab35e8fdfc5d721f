"""TensorFlow Lite flatbuffers: recognised by the `TFL3` file identifier at offset 4; the header
reader reads the model's tables (schema version, subgraphs, tensors, operators, signatures) and
its TFLite Metadata (name, version, author, licence, associated label files) without the weights.

Schemas: tensorflow/lite/schema/schema.fbs (`table Model`, `SubGraph`, `Tensor`, `OperatorCode`,
`Buffer`, `Metadata`, `SignatureDef`) and tensorflow/tflite-support
tensorflow_lite_support/metadata/metadata_schema.fbs (`table ModelMetadata`, `AssociatedFile`,
file identifier "M001"), stored in the buffer the Model's `metadata` entry "TFLITE_METADATA" names.
"""

from __future__ import annotations

import io
from pathlib import Path

from unified_supply_chain.errors import FormatError
from unified_supply_chain.formats import FormatSpec, Kind, Sniff
from unified_supply_chain.formats._flatbuffers import FlatBuffer, Table
from unified_supply_chain.records import HeaderInfo

#: Names listed in one property (inputs, outputs, custom operators, signatures, files).
MAX_LISTED = 20
#: Tables of one vector read (subgraphs, tensors, operator codes, metadata entries).
MAX_ITEMS = 100_000
#: Bytes of one metadata buffer read (the metadata flatbuffer or a version string).
MAX_METADATA_BYTES = 1024 * 1024
METADATA_NAME = "TFLITE_METADATA"
#: metadata_schema.fbs `enum AssociatedFileType : byte`.
_FILE_TYPES = {
    0: "unknown",
    1: "descriptions",
    2: "tensor-axis-labels",
    3: "tensor-value-labels",
    4: "tensor-axis-score-calibration",
    5: "vocabulary",
    6: "scann-index-file",
}


def sniff_tflite(head: bytes, name: str) -> bool:
    """The flatbuffer file identifier `TFL3` at offset 4."""
    return head[4:8] == b"TFL3"


def _names(graph: Table, indices: list[int]) -> list[str]:
    """Names of the tensors at `indices` of a subgraph (only those tensors are visited)."""
    out = []
    for i in indices[:MAX_LISTED]:
        tensor = graph.element(0, i)
        if tensor is not None:
            out.append(tensor.string(3) or f"#{i}")
    return out


def _buffer_bytes(fb: FlatBuffer, buffers: list[Table], index: int) -> bytes | None:
    """The bytes of buffer `index`: inline `data`, or `offset`/`size` into the file (> 2 GiB)."""
    if not 0 <= index < len(buffers):
        return None
    buf = buffers[index]
    if buf.has(0):
        return buf.blob(0, MAX_METADATA_BYTES)
    offset, size = buf.scalar(1, "<Q"), buf.scalar(2, "<Q")
    if offset > 1 and 0 < size <= MAX_METADATA_BYTES:
        return fb.read(offset, size)
    return None


def _model_metadata(data: bytes, properties: dict[str, str]) -> str | None:
    """Fill properties from a ModelMetadata flatbuffer; return its licence text."""
    meta = FlatBuffer(io.BytesIO(data), len(data))
    if meta.identifier() != b"M001":
        raise FormatError("TFLITE_METADATA buffer is not a ModelMetadata flatbuffer (no M001)")
    root = meta.root()
    for index, key in ((0, "model_name"), (2, "model_version"), (4, "author"), (7, "min_parser")):
        value = root.string(index)
        if value:
            properties[f"metadata.{key}"] = value
    files = root.tables(6, MAX_ITEMS)
    listed = [
        f"{f.string(0) or '?'}:{_FILE_TYPES.get(f.scalar(2, '<b'), 'unknown')}" for f in files
    ]
    if listed:
        properties["metadata.associated_files"] = ",".join(listed[:MAX_LISTED])
    licence = root.string(5)
    return licence.strip() if licence and licence.strip() else None


def _read(fb: FlatBuffer) -> HeaderInfo:
    if fb.identifier() != b"TFL3":
        raise FormatError("not a TFLite model (no TFL3 file identifier)")
    model = fb.root()
    subgraphs = model.tables(2, MAX_ITEMS)
    properties = {
        "schema_version": str(model.scalar(0, "<I")),
        "subgraph_count": str(len(subgraphs)),
    }
    description = model.string(3)
    if description:
        properties["description"] = description
    tensor_count = operator_count = 0
    for index, graph in enumerate(subgraphs):
        tensor_count += graph.vector_length(0)
        operator_count += graph.vector_length(3)
        if index == 0:
            properties["inputs"] = ",".join(_names(graph, graph.scalars(1, "<i", MAX_LISTED)))
            properties["outputs"] = ",".join(_names(graph, graph.scalars(2, "<i", MAX_LISTED)))
    properties["tensor_count"] = str(tensor_count)
    properties["operator_count"] = str(operator_count)
    codes = model.tables(1, MAX_ITEMS)
    properties["operator_codes"] = str(len(codes))
    # Custom operators need code the TFLite runtime does not have: a reviewer wants their names.
    custom = sorted({c.string(1) or "?" for c in codes if c.has(1)})
    if custom:
        properties["custom_ops"] = ",".join(custom[:MAX_LISTED])
    signatures = [s.string(2) or "?" for s in model.tables(7, MAX_ITEMS)]
    if signatures:
        properties["signatures"] = ",".join(signatures[:MAX_LISTED])
    licence = None
    entries = model.tables(6, MAX_ITEMS)
    if entries:
        buffers = model.tables(4, MAX_ITEMS)
        names = []
        for entry in entries:
            name = entry.string(0) or "?"
            names.append(name)
            data = _buffer_bytes(fb, buffers, entry.scalar(1, "<I"))
            if data is None:
                continue
            if name == "min_runtime_version":
                properties["min_runtime_version"] = data.rstrip(b"\0").decode("utf-8", "replace")
            elif name == METADATA_NAME:
                licence = _model_metadata(data, properties)
        properties["metadata"] = ",".join(names[:MAX_LISTED])
    return HeaderInfo(format="tflite", properties=properties, license=licence)


def read_tflite(path: Path) -> HeaderInfo:
    """Read a TFLite model's tables and metadata. Raises FormatError (LimitExceeded) only."""
    try:
        with path.open("rb") as fh:
            return _read(FlatBuffer(fh, path.stat().st_size))
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, RecursionError) as exc:
        raise FormatError(f"malformed TFLite tables: {exc}") from exc


SPECS = (
    FormatSpec(
        id="tflite",
        kind=Kind.MODEL,
        description="b'TFL3' at 4; or *.tflite",
        extensions=(".tflite",),
        sniffs=(Sniff(70, sniff_tflite),),
        reader=read_tflite,
    ),
)
