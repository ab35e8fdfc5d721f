"""TensorRT serialized engines (plans): `.engine`, `.plan`, `.trt`, recognised by name only.

NVIDIA documents no layout of a serialized engine: the runtime checks a private magic tag
(`kPLAN_MAGIC_TAG`, "Magic tag does not match" in NVIDIA/TensorRT issues #1384 and #2915) and
states there is no API to read an engine's version without deserializing it (issue #3073). So
nothing of the file is parsed here (no reader, no fuzz target); its size and hash are recorded
like any file's. An engine can carry code: plugin layers name plugin creators whose native
libraries load with it, and since TensorRT 8.6 an engine can embed plugin libraries
(`setPluginsToSerialize`) or, when version compatible, a lean runtime. Being unreadable, every
engine is a HIGH finding ("could not be verified safe"), never clean.
"""

from __future__ import annotations

from pathlib import Path

from unified_supply_chain.formats import FormatSpec, Kind
from unified_supply_chain.records import Finding, Severity


def tensorrt_safety(path: Path, relpath: str, format_id: str) -> list[Finding]:
    """Fail closed: an engine's plugin references and embedded code cannot be read."""
    from unified_supply_chain.safety.pickle_scan import RULE

    return [
        Finding(
            rule=RULE,
            severity=Severity.HIGH,
            message=(
                "TensorRT engine could not be verified safe: its format is undocumented and it"
                " can load plugin libraries (native code) on deserialization"
            ),
            path=relpath,
            details=("format: tensorrt-engine",),
        )
    ]


#: Directories a `.plan` engine is kept in; elsewhere `.plan` is too common a suffix to claim.
_ENGINE_DIRS = frozenset({"models", "model", "engines", "engine", "weights", "model_repository"})


def is_plan_engine(name: str, parents: list[str]) -> bool:
    """A `*.plan` in a Triton model repository (`<model>/<version digits>/model.plan`) or in a
    model directory; a `release.plan` among documents is not an engine."""
    if not name.endswith(".plan"):
        return False
    return bool(parents) and (parents[-1].isdigit() or not _ENGINE_DIRS.isdisjoint(parents))


SPECS = (
    FormatSpec(
        id="tensorrt-engine",
        kind=Kind.MODEL,
        description=(
            "*.engine, *.trt, *.plan in a model directory (TensorRT serialized engine; layout"
            " undocumented; may"
            " reference or embed plugin libraries)"
        ),
        extensions=(".engine", ".trt"),
        path_rules=(is_plan_engine,),
        safety=tensorrt_safety,
        fuzz=False,  # no public layout, so no reader: nothing of the file is parsed to fuzz
    ),
)
