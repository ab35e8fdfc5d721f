"""The property vocabulary we write on components, in one place.

`usc:` is this project's namespace; `cdx:ai-ml:*` names follow the CycloneDX property taxonomy.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any


class Prop(str, enum.Enum):
    """Property names. Dynamic suffixes are appended with `Prop.X.key("suffix")`."""

    PATH = "usc:path"
    """Repo-relative path of the artifact (file or directory)."""
    FORMAT = "usc:format"
    """Format id (safetensors, gguf, onnx, pytorch, pickle, csv, params-yaml, ...)."""
    KIND = "usc:kind"
    """model, dataset or hyperparameters (lets diff/policy tell data components apart)."""
    STORAGE = "usc:storage"
    """git, git-lfs-pointer, dvc or remote."""
    CONTENT_PRESENT = "usc:content-present"
    """"false" when only a pointer or a DVC record is in the checkout."""
    SIZE = "usc:size"
    """Size in bytes (declared size for pointers)."""
    HEADER = "usc:header"
    """Prefix: `usc:header:<key>` for header metadata (tensor_count, dtypes, opset, ...)."""
    ARCHITECTURE = "usc:architecture"
    """Architecture named by the header or config."""
    PARAMETER_COUNT = "usc:parameter-count"
    """Number of weights."""
    ROWS = "usc:rows"
    """Dataset rows."""
    COLUMNS = "usc:columns"
    """Dataset columns."""
    WARNING = "usc:warning"
    """A problem met while reading the artifact (one property per problem)."""
    FINDING = "usc:finding"
    """A security finding, value is JSON: {rule, severity, message, path, details}."""
    HASH_SOURCE = "usc:hash-source"
    """Prefix: `usc:hash-source:<ALG>` says where a digest came from (computed, dvc-lock, ...)."""
    METRICS_SOURCE = "usc:metrics-source"
    """Repo-relative file the model's metrics came from."""
    SOURCE = "usc:source"
    """Manifest or record a component was read from."""
    DEPENDENCY = "usc:dependency"
    """"transitive" on a library that is not a direct dependency of the project."""
    DESCRIPTOR = "usc:descriptor"
    """Repo-relative dataset descriptor file a dataset was declared in."""
    DATASET_NAME = "usc:dataset-name"
    """Name a dataset descriptor gives the dataset (lineage matches code against it)."""
    URL = "usc:url"
    """A further URL of a dataset (the first one is the component's contents URL)."""
    CLASSIFICATION = "usc:classification"
    """Data classification a dataset descriptor declares."""
    MODEL_CARD = "usc:model-card"
    """Repo-relative model card (README.md or another card file) in the model's directory."""
    BASE_MODEL = "usc:base-model"
    """A model this one was derived from (model card `base_model`), one property per model."""
    HF_MODEL_TYPE = "usc:hf:model-type"
    """`model_type` of a Hugging Face config.json."""
    HF_TORCH_DTYPE = "usc:hf:torch-dtype"
    """`torch_dtype` of a Hugging Face config.json."""
    MAIN_FILE = "usc:main-file"
    """Repo-relative file of a model directory its header was read from."""
    DECLARED_BY = "usc:declared-by"
    """Record (dvc.yaml, MLmodel, ...) that declared an artifact."""
    NAMED_BY = "usc:named-by"
    """Path or ref of the code that names a dataset."""
    RUN = "usc:run"
    """Prefix: `usc:run:<field>` names the CI run (repository, commit, ref, run-id, ...)."""
    DVC_DIRECTORY = "usc:dvc:directory"
    """"true" when a DVC output is a directory."""
    DVC_NFILES = "usc:dvc:nfiles"
    """Number of files in a DVC directory output."""
    DVC_ARTIFACT = "usc:dvc:artifact"
    """Name of the dvc.yaml `artifacts:` entry."""
    DVC_LABELS = "usc:dvc:labels"
    """Comma-separated labels of a dvc.yaml artifact."""
    DVC_IMPORT_URL = "usc:dvc:import-url"
    """Source URL of a `dvc import-url` record (credentials removed)."""
    DVC_CACHE = "usc:dvc:cache"
    """"false" when DVC does not cache the output."""
    MLFLOW_FLAVORS = "usc:mlflow:flavors"
    """Comma-separated flavors of an MLmodel."""
    MLFLOW_FLAVOR = "usc:mlflow:flavor"
    """Prefix: `usc:mlflow:flavor:<flavor>:<key>` for a flavor's scalar settings."""
    MLFLOW_LOADER_MODULE = "usc:mlflow:loader-module"
    """A flavor's `loader_module` in an MLmodel."""
    MLFLOW_PYTHON_VERSION = "usc:mlflow:python-version"
    """A flavor's `python_version` in an MLmodel."""
    MLFLOW_RUN_ID = "usc:mlflow:run-id"
    """MLflow run that produced the model."""
    MLFLOW_MODEL_UUID = "usc:mlflow:model-uuid"
    """MLmodel `model_uuid`."""
    MLFLOW_VERSION = "usc:mlflow:mlflow-version"
    """MLflow version that saved the model."""
    MLFLOW_CREATED = "usc:mlflow:created"
    """MLmodel `utc_time_created`."""
    MLFLOW_ARTIFACT_PATH = "usc:mlflow:artifact-path"
    """MLmodel `artifact_path` inside the run."""
    MLFLOW_REGISTERED_VERSION = "usc:mlflow:registered-version"
    """Model registry version of a registered model."""
    MLFLOW_ENTRY_POINT = "usc:mlflow:entry-point"
    """Prefix: `usc:mlflow:entry-point:<name>` = the entry point's command template."""
    MLFLOW_ENVIRONMENT = "usc:mlflow:environment"
    """`<kind>:<value>` environment of an MLproject (conda_env, python_env, docker_env)."""
    TRAINING_STATUS = "usc:training-status"
    """Outcome of a recorded training command (succeeded, failed, ...), on its task."""
    EXIT_CODE = "usc:exit-code"
    """Exit code of a recorded training command, on its task."""
    HYPERPARAMETER = "cdx:ai-ml:model:hyperparameter"
    """Prefix on modelCard properties: `cdx:ai-ml:model:hyperparameter:<dotted key>`."""

    def key(self, suffix: str) -> str:
        """The full name of a prefixed property, e.g. `usc:header:tensor_count`."""
        return f"{self.value}:{suffix}"


def property_pairs(obj: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(name, value) of every named entry in a JSON object's `properties`, in document order."""
    out: list[tuple[str, str]] = []
    for p in obj.get("properties") or []:
        if isinstance(p, dict) and isinstance(p.get("name"), str):
            out.append((p["name"], str(p.get("value", ""))))
    return out


def kind_from_type(component: Mapping[str, Any]) -> str | None:
    """model, dataset or hyperparameters from the CycloneDX type, for components without `usc:kind`.

    A `data` component holding a `configuration` entry is a hyperparameter set; None otherwise.
    """
    if component.get("type") == "machine-learning-model":
        return "model"
    if component.get("type") == "data":
        types = {d.get("type") for d in component.get("data") or [] if isinstance(d, dict)}
        return "hyperparameters" if "configuration" in types else "dataset"
    return None
