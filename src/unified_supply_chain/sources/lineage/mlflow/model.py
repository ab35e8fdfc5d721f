"""`MLmodel` files: the directory holding one is a declared model, with its flavors, run id,
signature and (when a registered model version names its run) registered name and version."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

from unified_supply_chain import records, safeparse
from unified_supply_chain.bom.properties import Prop
from unified_supply_chain.errors import FormatError
from unified_supply_chain.sources.lineage.mlflow.state import Collector, text_value


def _signature_items(raw: Any) -> list[str]:
    """MLflow signature inputs/outputs (a JSON string inside YAML) as short text descriptions."""
    if isinstance(raw, str):
        try:
            raw = safeparse.loads_json(raw)
        except FormatError:
            return []
    items: list[str] = []
    for col in raw if isinstance(raw, list) else []:
        if not isinstance(col, dict):
            continue
        kind = col.get("type")
        spec = col.get("tensor-spec")
        if kind == "tensor" and isinstance(spec, dict):
            desc = f"tensor {spec.get('dtype', '?')} {list(spec.get('shape') or [])}"
        else:
            desc = str(kind) if kind is not None else "unknown"
        name = col.get("name")
        items.append(f"{name}: {desc}" if isinstance(name, str) else desc)
    return items


@dataclass(frozen=True)
class MlflowModel:
    """A declared MLflow model: its directory and the run that logged it."""

    directory: str
    run_id: str | None


def read_mlmodel(
    out: Collector, relpath: str, registered: dict[str, tuple[str, str]]
) -> MlflowModel:
    """Declare the directory of one `MLmodel` as a model; `registered` maps run ids to names."""
    data = safeparse.load_yaml_file(out.root / relpath)
    if not isinstance(data, dict):
        raise FormatError("not a mapping")
    directory = posixpath.dirname(relpath)
    props: list[tuple[str, str]] = []
    flavors = data.get("flavors")
    if isinstance(flavors, dict):
        props.append((Prop.MLFLOW_FLAVORS.value, ",".join(str(f) for f in flavors)))
        for flavor, settings in flavors.items():
            if not isinstance(settings, dict):
                continue
            for key, value in settings.items():
                if key == "loader_module" and isinstance(value, str):
                    props.append((Prop.MLFLOW_LOADER_MODULE.value, value))
                elif key == "python_version" and isinstance(value, (str, float, int)):
                    props.append((Prop.MLFLOW_PYTHON_VERSION.value, str(value)))
                elif isinstance(value, (str, int, float, bool)):
                    props.append((Prop.MLFLOW_FLAVOR.key(f"{flavor}:{key}"), text_value(value)))
    run_id = data.get("run_id") if isinstance(data.get("run_id"), str) else None
    for key, prop in (
        ("run_id", Prop.MLFLOW_RUN_ID.value),
        ("model_uuid", Prop.MLFLOW_MODEL_UUID.value),
        ("mlflow_version", Prop.MLFLOW_VERSION.value),
        ("utc_time_created", Prop.MLFLOW_CREATED.value),
        ("artifact_path", Prop.MLFLOW_ARTIFACT_PATH.value),
    ):
        if isinstance(data.get(key), (str, int, float)) and not isinstance(data.get(key), bool):
            props.append((prop, str(data[key])))
    metadata: dict[str, object] = {}
    signature = data.get("signature")
    if isinstance(signature, dict):
        for side in ("inputs", "outputs"):
            items = _signature_items(signature.get(side))
            if items:
                metadata[side] = items
    name: str | None = None
    if run_id is not None and run_id in registered:
        name, version = registered[run_id]
        props.append((Prop.MLFLOW_REGISTERED_VERSION.value, version))
    size = data.get("model_size_bytes")
    out.declared.append(
        records.Declared(
            path=directory,
            kind=records.ArtifactKind.MODEL,
            size=size if isinstance(size, int) and not isinstance(size, bool) else None,
            source=relpath,
            name=name,
            properties=tuple(props),
            metadata=metadata,
        )
    )
    return MlflowModel(directory=directory, run_id=run_id)
