"""The property vocabulary we write on components, in one place.

`usc:` is this project's namespace; `cdx:ai-ml:*` names follow the CycloneDX property taxonomy.
"""

from __future__ import annotations

import enum


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
    LINEAGE = "usc:lineage"
    """Prefix: `usc:lineage:<ref>` says why an edge exists."""
    METRICS_SOURCE = "usc:metrics-source"
    """Repo-relative file the model's metrics came from."""
    SOURCE = "usc:source"
    """Manifest or record a component was read from."""
    HYPERPARAMETER = "cdx:ai-ml:model:hyperparameter"
    """Prefix on modelCard properties: `cdx:ai-ml:model:hyperparameter:<dotted key>`."""

    def key(self, suffix: str) -> str:
        """The full name of a prefixed property, e.g. `usc:header:tensor_count`."""
        return f"{self.value}:{suffix}"
