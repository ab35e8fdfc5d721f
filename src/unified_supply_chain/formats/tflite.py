"""TensorFlow Lite flatbuffers: recognised by the `TFL3` file identifier at offset 4."""

from __future__ import annotations

from unified_supply_chain.formats import FormatSpec, Kind, Sniff


def sniff_tflite(head: bytes, name: str) -> bool:
    """The flatbuffer file identifier `TFL3` at offset 4."""
    return head[4:8] == b"TFL3"


SPECS = (
    FormatSpec(
        id="tflite",
        kind=Kind.MODEL,
        description="b'TFL3' at 4; or *.tflite",
        extensions=(".tflite",),
        sniffs=(Sniff(70, sniff_tflite),),
        fuzz=False,  # no reader yet: nothing of the file is parsed
    ),
)
