"""TFLite models built with the `flatbuffers` library to the published schemas, field by field:
tensorflow/lite/schema/schema.fbs (`table Model`: version 0, operator_codes 1, subgraphs 2,
description 3, buffers 4, metadata_buffer 5, metadata 6, signature_defs 7; `SubGraph`: tensors 0,
inputs 1, outputs 2, operators 3, name 4; `Tensor`: shape 0, type 1, buffer 2, name 3;
`OperatorCode`: deprecated_builtin_code 0, custom_code 1, version 2, builtin_code 3; `Buffer`:
data 0, offset 1, size 2; `Metadata`: name 0, buffer 1; `SignatureDef`: inputs 0, outputs 1,
signature_key 2) and tensorflow/tflite-support metadata_schema.fbs (`ModelMetadata`: name 0,
description 1, version 2, subgraph_metadata 3, author 4, license 5, associated_files 6,
min_parser_version 7; `AssociatedFile`: name 0, description 1, type 2; identifier "M001").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import flatbuffers

from tests.builders.flat import int32_vector, table_vector


def _bytes_vector(b: flatbuffers.Builder, data: bytes) -> int:
    return int(b.CreateByteVector(data))


def model_metadata(
    name: str, version: str, author: str, licence: str, files: Sequence[tuple[str, int]]
) -> bytes:
    """A ModelMetadata flatbuffer (file identifier M001) with associated (name, type) files."""
    b = flatbuffers.Builder(256)
    strings = {k: b.CreateString(v) for k, v in (("n", name), ("v", version), ("a", author))}
    lic = b.CreateString(licence)
    file_offsets = []
    for fname, ftype in files:
        s = b.CreateString(fname)
        b.StartObject(5)
        b.PrependUOffsetTRelativeSlot(0, s, 0)
        b.PrependInt8Slot(2, ftype, 0)
        file_offsets.append(b.EndObject())
    files_vec = table_vector(b, file_offsets)
    b.StartObject(8)
    b.PrependUOffsetTRelativeSlot(0, strings["n"], 0)
    b.PrependUOffsetTRelativeSlot(2, strings["v"], 0)
    b.PrependUOffsetTRelativeSlot(4, strings["a"], 0)
    b.PrependUOffsetTRelativeSlot(5, lic, 0)
    b.PrependUOffsetTRelativeSlot(6, files_vec, 0)
    b.Finish(b.EndObject(), file_identifier=b"M001")
    return bytes(b.Output())


@dataclass
class TfliteModel:
    """What a built model holds (the test's expectations are read from the same object)."""

    tensors: list[str] = field(default_factory=lambda: ["input", "dense/kernel", "output"])
    inputs: list[int] = field(default_factory=lambda: [0])
    outputs: list[int] = field(default_factory=lambda: [2])
    builtin_codes: list[int] = field(default_factory=lambda: [9])  # FULLY_CONNECTED
    custom_codes: list[str] = field(default_factory=list)
    description: str = "MLIR Converted."
    version: int = 3
    signature: str | None = "serving_default"
    metadata: dict[str, bytes] = field(default_factory=dict)
    weights: bytes = b"\x01\x02\x03\x04" * 4


def build(m: TfliteModel) -> bytes:
    """The bytes of a TFLite flatbuffer (file identifier TFL3) holding `m`."""
    b = flatbuffers.Builder(1024)
    # Buffers: 0 is the empty sentinel every converter writes, 1 holds the weights, then one per
    # metadata entry.
    buffer_data = [None, m.weights, *m.metadata.values()]
    buffers = []
    for data in buffer_data:
        vec = _bytes_vector(b, data) if data is not None else None
        b.StartObject(3)
        if vec is not None:
            b.PrependUOffsetTRelativeSlot(0, vec, 0)
        buffers.append(b.EndObject())
    tensors = []
    for i, tname in enumerate(m.tensors):
        s = b.CreateString(tname)
        shape = int32_vector(b, [1, 4])
        b.StartObject(4)
        b.PrependUOffsetTRelativeSlot(0, shape, 0)
        b.PrependInt8Slot(1, 0, 0)  # FLOAT32
        b.PrependUint32Slot(2, 1 if i == 1 else 0, 0)
        b.PrependUOffsetTRelativeSlot(3, s, 0)
        tensors.append(b.EndObject())
    tensors_vec = table_vector(b, tensors)
    inputs_vec = int32_vector(b, m.inputs)
    outputs_vec = int32_vector(b, m.outputs)
    op_inputs = int32_vector(b, [0, 1])
    op_outputs = int32_vector(b, [2])
    b.StartObject(3)
    b.PrependUint32Slot(0, 0, 0)
    b.PrependUOffsetTRelativeSlot(1, op_inputs, 0)
    b.PrependUOffsetTRelativeSlot(2, op_outputs, 0)
    operators_vec = table_vector(b, [b.EndObject()])
    graph_name = b.CreateString("main")
    b.StartObject(5)
    b.PrependUOffsetTRelativeSlot(0, tensors_vec, 0)
    b.PrependUOffsetTRelativeSlot(1, inputs_vec, 0)
    b.PrependUOffsetTRelativeSlot(2, outputs_vec, 0)
    b.PrependUOffsetTRelativeSlot(3, operators_vec, 0)
    b.PrependUOffsetTRelativeSlot(4, graph_name, 0)
    subgraphs_vec = table_vector(b, [b.EndObject()])
    codes = []
    for code in m.builtin_codes:
        b.StartObject(4)
        b.PrependInt8Slot(0, min(code, 127), 0)
        b.PrependInt32Slot(2, 1, 1)
        b.PrependInt32Slot(3, code, 0)
        codes.append(b.EndObject())
    for custom in m.custom_codes:
        s = b.CreateString(custom)
        b.StartObject(4)
        b.PrependInt8Slot(0, 32, 0)  # BuiltinOperator CUSTOM
        b.PrependUOffsetTRelativeSlot(1, s, 0)
        b.PrependInt32Slot(3, 32, 0)
        codes.append(b.EndObject())
    codes_vec = table_vector(b, codes)
    entries = []
    for index, mname in enumerate(m.metadata, start=2):
        s = b.CreateString(mname)
        b.StartObject(2)
        b.PrependUOffsetTRelativeSlot(0, s, 0)
        b.PrependUint32Slot(1, index, 0)
        entries.append(b.EndObject())
    metadata_vec = table_vector(b, entries) if entries else None
    signatures_vec = None
    if m.signature is not None:
        key = b.CreateString(m.signature)
        b.StartObject(5)
        b.PrependUOffsetTRelativeSlot(2, key, 0)
        signatures_vec = table_vector(b, [b.EndObject()])
    description = b.CreateString(m.description)
    buffers_vec = table_vector(b, buffers)
    b.StartObject(8)
    b.PrependUint32Slot(0, m.version, 0)
    b.PrependUOffsetTRelativeSlot(1, codes_vec, 0)
    b.PrependUOffsetTRelativeSlot(2, subgraphs_vec, 0)
    b.PrependUOffsetTRelativeSlot(3, description, 0)
    b.PrependUOffsetTRelativeSlot(4, buffers_vec, 0)
    if metadata_vec is not None:
        b.PrependUOffsetTRelativeSlot(6, metadata_vec, 0)
    if signatures_vec is not None:
        b.PrependUOffsetTRelativeSlot(7, signatures_vec, 0)
    b.Finish(b.EndObject(), file_identifier=b"TFL3")
    return bytes(b.Output())


def with_metadata() -> TfliteModel:
    """A model as the TFLite Metadata writer leaves it: min_runtime_version and TFLITE_METADATA."""
    meta = model_metadata(
        "MobileNetV1 image classifier",
        "v1",
        "TensorFlow",
        "Apache License. Version 2.0 http://www.apache.org/licenses/LICENSE-2.0.",
        [("labels.txt", 3)],
    )
    return TfliteModel(
        custom_codes=["TFLite_Detection_PostProcess"],
        metadata={"min_runtime_version": b"1.5.0\0\0\0", "TFLITE_METADATA": meta},
    )
