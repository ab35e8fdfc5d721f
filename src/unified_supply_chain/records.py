"""Typed records exchanged between the stages: discover -> inspect -> hash -> lineage -> build.

Every record is a frozen dataclass; stages return new records instead of mutating old ones.
Paths are always repository-relative POSIX strings.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from unified_supply_chain.findings import Finding as Finding
from unified_supply_chain.findings import Severity as Severity
from unified_supply_chain.findings import finding_from_json as finding_from_json
from unified_supply_chain.findings import finding_to_json as finding_to_json
from unified_supply_chain.findings import parse_severity as parse_severity
from unified_supply_chain.findings import reaches as reaches


class ArtifactKind(str, enum.Enum):
    """What an ML artifact is in the SBOM."""

    MODEL = "model"
    """A `machine-learning-model` component."""
    DATASET = "dataset"
    """A `data` component with data type `dataset`."""
    HYPERPARAMETERS = "hyperparameters"
    """A `data` component with data type `configuration`."""
    OTHER = "other"
    """A `data` component with data type `other`: content whose kind nothing tells (a Git LFS
    pointer no name, rule or neighbour explains; media kept in LFS)."""


class Storage(str, enum.Enum):
    """How an artifact's bytes are stored in the repository."""

    GIT = "git"
    """The content itself is in the working tree."""
    GIT_LFS_POINTER = "git-lfs-pointer"
    """Only a Git LFS pointer is present; oid and size come from it."""
    DVC = "dvc"
    """Tracked by DVC; content may or may not be present."""
    REMOTE = "remote"
    """Not in the repository at all (a URL or a name from a model card)."""


@dataclass(frozen=True)
class Hash:
    """A digest of an artifact's content."""

    alg: str
    """CycloneDX hash algorithm name: "SHA-256" or "MD5"."""
    content: str
    """Lower-case hex digest."""
    source: str = "computed"
    """Where the digest comes from: "computed", "git-lfs-pointer", "dvc-lock", "dvc-file"."""


@dataclass(frozen=True)
class FileEntry:
    """One regular file found by discovery (never a symlink target outside the root)."""

    path: str
    """Repo-relative POSIX path."""
    size: int
    """Size in bytes at discovery."""
    mtime_ns: int
    """Modification time in ns at discovery (part of the hash cache key)."""
    inode: int
    """Inode number at discovery (part of the hash cache key)."""
    blob: str | None = None
    """Git object id of the file as staged in the index (`git ls-files -s`), None when untracked
    or found without git. Equals the content's git hash only while the file is unmodified."""


@dataclass(frozen=True)
class HeaderInfo:
    """What a format reader learnt from a file's header, without loading weights."""

    format: str
    """Format id, e.g. "safetensors", "gguf", "onnx", "pytorch", "pickle", "csv"."""
    properties: dict[str, str] = field(default_factory=dict)
    """Header metadata as flat strings, e.g. {"tensor_count": "12", "dtypes": "F32,F16"}."""
    architecture: str | None = None
    """Model architecture when the header names it (e.g. "llama", "BertForMaskedLM")."""
    parameter_count: int | None = None
    """Total number of weights when cheap to compute from the header."""
    rows: int | None = None
    """Dataset rows when cheap to read."""
    columns: int | None = None
    """Dataset columns when cheap to read."""
    pickle_members: tuple[str, ...] = ()
    """Names of pickle streams inside the file ("" = the whole file) for the safety scanner."""
    license: str | None = None
    """Licence id found in the file's own metadata."""


@dataclass(frozen=True)
class Metric:
    """One performance metric for a model card."""

    type: str
    """Metric name, e.g. "accuracy"."""
    value: str
    """Value as text, exactly as read."""
    slice: str | None = None
    """Data slice the metric was computed on, when the source says so."""
    source: str | None = None
    """Repo-relative file the metric was read from."""


@dataclass(frozen=True)
class Artifact:
    """An ML artifact: a model, a dataset or a hyperparameter set."""

    kind: ArtifactKind
    """Model, dataset or hyperparameter set."""
    ref: str
    """Deterministic bom-ref derived from kind and path (or name for remote items)."""
    name: str
    """Human name: file or directory stem, or the name from a card."""
    path: str | None
    """Repo-relative path of the file or directory; None for remote-only items."""
    format: str | None = None
    """Format id of the main file."""
    size: int | None = None
    """Total bytes (sum of files for a multi-file model; declared size for pointers)."""
    hashes: tuple[Hash, ...] = ()
    """Digests of the content (SHA-256 computed; MD5 from DVC; LFS oid as SHA-256 declared)."""
    files: tuple[tuple[str, int, str | None], ...] = ()
    """Member files of a multi-file artifact: (repo-relative path, size, sha256 or None)."""
    storage: Storage = Storage.GIT
    """How the bytes are stored (a multi-file model: how its main file is)."""
    pointer_files: frozenset[str] = frozenset()
    """Member files that are Git LFS pointers: their entry in `files` holds the declared size
    and the oid as SHA-256, and they are not hashed."""
    content_present: bool = True
    """False for LFS pointers and absent DVC outputs."""
    version: str | None = None
    """Version when known."""
    licenses: tuple[str, ...] = ()
    """SPDX ids or licence names."""
    url: str | None = None
    """Where remote content lives (dataset descriptors, model-card datasets, HF repos)."""
    purl: str | None = None
    """Package URL when the artifact has one (e.g. pkg:huggingface/org/name)."""
    header: HeaderInfo | None = None
    """What the format reader found."""
    params: tuple[tuple[str, str], ...] = ()
    """Hyperparameter sets: flattened (dotted key, value) pairs in source order."""
    task: str | None = None
    """Model task (e.g. "text-classification")."""
    architecture_family: str | None = None
    """Model architecture family (e.g. "transformer", "linear")."""
    model_architecture: str | None = None
    """Model architecture (e.g. "LogisticRegression")."""
    dataset_names: tuple[str, ...] = ()
    """Datasets named by a model card (resolved to refs by lineage)."""
    metrics: tuple[Metric, ...] = ()
    """Performance metrics (from metrics files, model cards, MLflow runs)."""
    considerations: dict[str, list[str]] = field(default_factory=dict)
    """Model-card considerations, keyed by CycloneDX field (useCases, technicalLimitations, ...)."""
    model_inputs: tuple[str, ...] = ()
    """Model input formats (e.g. from an MLflow signature)."""
    model_outputs: tuple[str, ...] = ()
    """Model output formats."""
    description: str | None = None
    """Free text, e.g. from a model card or a dataset descriptor."""
    extra_properties: tuple[tuple[str, str], ...] = ()
    """Further (name, value) properties to put on the component."""
    findings: tuple[Finding, ...] = ()
    """Security findings about this artifact."""
    warnings: tuple[str, ...] = ()
    """Problems met while reading it (the artifact is still listed)."""


@dataclass(frozen=True)
class Library:
    """A software dependency."""

    name: str
    """Package name as the ecosystem spells it."""
    version: str | None
    """Pinned or resolved version; None when only a range is known."""
    purl: str
    """Package URL (pkg:pypi/..., pkg:npm/..., pkg:conda/...)."""
    source: str
    """Repo-relative manifest or lockfile it was read from."""
    ecosystem: str = "pypi"
    """"pypi", "npm", "conda", ..."""
    direct: bool = True
    """Direct dependency of the application (False = transitive)."""
    hashes: tuple[Hash, ...] = ()
    """Hashes pinned by the lockfile."""
    depends_on: tuple[str, ...] = ()
    """purls of this library's own dependencies, where the lockfile says."""
    scope: str | None = None
    """"required", "optional" (dev/test extras)."""
    licenses: tuple[str, ...] = ()
    """Licence ids when the source says."""


@dataclass(frozen=True)
class Edge:
    """A lineage edge: `ref` depends on `depends_on` (model <- dataset or hyperparameters)."""

    ref: str
    depends_on: str
    reason: str = ""
    """Where the edge comes from (e.g. "dvc.yaml stage train", "training record")."""


@dataclass(frozen=True)
class TrainingTask:
    """How a model was made: one formulation task."""

    ref: str
    """bom-ref of the task."""
    name: str
    """Stage or job name."""
    command: str | None
    """Command line executed."""
    inputs: tuple[str, ...]
    """bom-refs of input datasets (and hyperparameter sets)."""
    parameters: tuple[tuple[str, str], ...]
    """Parameters given to the task as (name, value)."""
    outputs: tuple[str, ...]
    """bom-refs of output models."""
    time_start: str | None = None
    """ISO-8601 UTC start time."""
    time_end: str | None = None
    """ISO-8601 UTC end time."""
    source: str | None = None
    """Repo-relative file the task was read from (dvc.yaml, training record)."""
    properties: tuple[tuple[str, str], ...] = ()
    """Further (name, value) properties of the task."""


@dataclass(frozen=True)
class RunContext:
    """The CI run that produced a model or this SBOM (from a training record or the environment)."""

    repository: str | None = None
    commit: str | None = None
    ref: str | None = None
    run_id: str | None = None
    run_attempt: str | None = None
    workflow_ref: str | None = None
    event: str | None = None
    server_url: str | None = None
    runner_os: str | None = None
    runner_arch: str | None = None
    python_version: str | None = None
    dirty: str | None = None
    """"true" when tracked files differed from `commit` while the job ran, "false" when not."""


#: RunContext field -> the GitHub Actions variable it is read from.
RUN_ENV: tuple[tuple[str, str], ...] = (
    ("repository", "GITHUB_REPOSITORY"),
    ("commit", "GITHUB_SHA"),
    ("ref", "GITHUB_REF"),
    ("run_id", "GITHUB_RUN_ID"),
    ("run_attempt", "GITHUB_RUN_ATTEMPT"),
    ("workflow_ref", "GITHUB_WORKFLOW_REF"),
    ("event", "GITHUB_EVENT_NAME"),
    ("server_url", "GITHUB_SERVER_URL"),
    ("runner_os", "RUNNER_OS"),
    ("runner_arch", "RUNNER_ARCH"),
)


@dataclass(frozen=True)
class Problem:
    """A one-line warning about a file that could not be read fully (the run goes on)."""

    path: str
    """Repo-relative path (may be a member "a.zip!x")."""
    message: str
    """What went wrong, for a human."""


@dataclass(frozen=True)
class Inventory:
    """Everything found in one repository: the input of the BOM builder."""

    root_name: str
    """Name of the application (repository directory or project name)."""
    root_version: str | None
    """Application version when a manifest states it."""
    artifacts: tuple[Artifact, ...]
    libraries: tuple[Library, ...]
    edges: tuple[Edge, ...] = ()
    tasks: tuple[TrainingTask, ...] = ()
    run: RunContext | None = None
    problems: tuple[Problem, ...] = ()
    files_seen: int = 0
    bytes_hashed: int = 0


# --- Records that lineage sources (DVC, MLflow, training records, metrics files) contribute. ---
# They speak in repo-relative paths; `lineage.py` resolves paths to artifacts and bom-refs.


@dataclass(frozen=True)
class Declared:
    """An artifact that a record declares, whether or not its content is in the checkout."""

    path: str
    """Repo-relative path (file or directory) as the record names it, normalised."""
    kind: ArtifactKind | None = None
    """Kind when the record says (DVC `artifacts: type: model`), else None (classify by content)."""
    hashes: tuple[Hash, ...] = ()
    """Digests the record states (DVC md5, training-record sha256)."""
    size: int | None = None
    """Size the record states."""
    storage: Storage | None = None
    """Storage the record implies (DVC), else None."""
    source: str = ""
    """Repo-relative file that declares it."""
    name: str | None = None
    """Name the record gives it (DVC artifact name, MLflow model name)."""
    properties: tuple[tuple[str, str], ...] = ()
    """Extra properties to put on the component (flavors, run id, ...)."""
    metadata: dict[str, object] = field(default_factory=dict)
    """Model-card extras, e.g. {"inputs": [...], "outputs": [...], "task": "..."}."""


@dataclass(frozen=True)
class Stage:
    """A step that produced outputs from inputs (DVC stage, MLflow run, training job)."""

    name: str
    """Stage, entry point or job name."""
    command: str | None
    """Command executed."""
    inputs: tuple[str, ...]
    """Repo-relative paths of data inputs (files or directories)."""
    outputs: tuple[str, ...]
    """Repo-relative paths of outputs (files or directories)."""
    params: tuple[tuple[str, str], ...] = ()
    """(dotted key, value) parameters the stage used."""
    params_files: tuple[str, ...] = ()
    """Repo-relative paths of the parameter files the stage reads."""
    metrics_files: tuple[str, ...] = ()
    """Repo-relative paths of metrics files the stage writes."""
    source: str = ""
    """Repo-relative file that describes the stage."""
    time_start: str | None = None
    time_end: str | None = None
    run: RunContext | None = None
    """CI run that executed it, when recorded."""
    properties: tuple[tuple[str, str], ...] = ()
    """Further facts about the run of the stage (e.g. its status and exit code)."""


@dataclass(frozen=True)
class MetricsSource:
    """Metrics read from one file, and the outputs (models) they describe when known."""

    path: str
    """Repo-relative path of the metrics file."""
    metrics: tuple[Metric, ...]
    for_paths: tuple[str, ...] = ()
    """Repo-relative paths of the models they are about; empty = infer (same stage / same dir)."""


@dataclass(frozen=True)
class Contribution:
    """What one lineage source adds to the inventory."""

    declared: tuple[Declared, ...] = ()
    stages: tuple[Stage, ...] = ()
    metrics: tuple[MetricsSource, ...] = ()
    artifacts: tuple[Artifact, ...] = ()
    """Ready-made artifacts (e.g. an MLproject's hyperparameter set)."""
    libraries: tuple[Library, ...] = ()
    problems: tuple[Problem, ...] = ()
