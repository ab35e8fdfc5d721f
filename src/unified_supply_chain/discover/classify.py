"""Classify a file by its first bytes (magic numbers) first and by its name second.

`classify(head, relpath)` returns a format id from `FORMATS` or None for files the inventory
does not care about. Content wins over the name, so a renamed model (a safetensors file called
`weights.dat`, a GGUF file without an extension) is still recognised, and a Git LFS pointer is a
pointer whatever it is called. Classification is total: it never raises, whatever the input.
"""

from __future__ import annotations

import re
import struct

#: Every format id this module can return, with its kind ("model", "dataset", "config",
#: "pointer") and how it is recognised. The one place where the vocabulary is spelt out.
FORMATS: dict[str, tuple[str, str]] = {
    # models
    "safetensors": ("model", "8-byte LE header length then '{'; or *.safetensors"),
    "gguf": ("model", "b'GGUF' at 0; or *.gguf"),
    "onnx": ("model", "protobuf ModelProto starting with ir_version (tag 0x08); or *.onnx"),
    "pytorch": ("model", "zip with */data.pkl or */version first; a zip as *.pt/.pth/.bin"),
    "pytorch-legacy": ("model", "pickle protocol 2 opening with torch's legacy magic number"),
    "pickle": ("model", "\\x80 + protocol 2..5; protocol 0/1 only as *.pkl/*.pickle"),
    "joblib": ("model", "pickle as *.joblib, or joblib's NumpyArrayWrapper; *.joblib by name"),
    "keras": ("model", "zip as *.keras or with config.json/metadata.json first"),
    "hdf5": ("model", "\\x89HDF\\r\\n\\x1a\\n at 0; or *.h5/*.hdf5/*.keras-h5"),
    "npy": ("model", "\\x93NUMPY at 0; or *.npy"),
    "npz": ("model", "zip as *.npz or with a *.npy first member (a dataset under data dirs)"),
    "tflite": ("model", "b'TFL3' at 4; or *.tflite"),
    "tf-savedmodel": ("model", "saved_model.pb / saved_model.pbtxt"),
    # storage
    "git-lfs-pointer": ("pointer", "text starting 'version https://git-lfs.github.com/spec/v1'"),
    # datasets
    "parquet": ("dataset", "b'PAR1' at 0; or *.parquet"),
    "arrow": ("dataset", "b'ARROW1' at 0; or *.arrow"),
    "feather": ("dataset", "*.feather (Arrow IPC or b'FEA1' v1)"),
    "csv": ("dataset", "*.csv"),
    "tsv": ("dataset", "*.tsv"),
    "jsonl": ("dataset", "*.jsonl / *.ndjson"),
    # configs and manifests
    "params-yaml": ("config", "params*.yaml / params*.yml"),
    "hyp-yaml": ("config", "hyp*.yaml / hyp*.yml"),
    "hf-config": ("config", "config.json"),
    "hydra-config": ("config", "*.yaml / *.yml under a conf/, config/ or configs/ directory"),
    "requirements": ("config", "requirements*.txt, requirements/*.txt"),
    "pyproject": ("config", "pyproject.toml"),
    "model-card": ("config", "README.md, MODEL_CARD.md, model_card.md"),
    "dataset-descriptor": ("config", "*.dataset.yaml, dataset(s).yaml, data.yaml"),
    "dvc-file": ("config", "*.dvc"),
    "dvc-yaml": ("config", "dvc.yaml"),
    "dvc-lock": ("config", "dvc.lock"),
    "mlproject": ("config", "MLproject"),
    "mlmodel": ("config", "MLmodel"),
    "lockfile-poetry": ("config", "poetry.lock"),
    "lockfile-uv": ("config", "uv.lock"),
    "lockfile-pipfile": ("config", "Pipfile.lock"),
    "conda-env": ("config", "environment.yml / environment.yaml / conda.yaml"),
    "lockfile-npm": ("config", "package-lock.json"),
    "training-record": ("config", "training-record.json / *.training-record.json"),
    "metrics-json": ("config", "metrics.json, *metrics*.json, eval*.json, evaluation*.json"),
}

MODEL_FORMATS: frozenset[str] = frozenset(k for k, (kind, _) in FORMATS.items() if kind == "model")
"""Format ids of model files."""
DATASET_FORMATS: frozenset[str] = frozenset(
    k for k, (kind, _) in FORMATS.items() if kind == "dataset"
)
"""Format ids of dataset files ("npz" is a model format that becomes a dataset under data dirs)."""
CONFIG_FORMATS: frozenset[str] = frozenset(
    k for k, (kind, _) in FORMATS.items() if kind == "config"
)
"""Format ids of configuration files, manifests and lockfiles."""
HYPERPARAMETER_FORMATS: frozenset[str] = frozenset(
    {"params-yaml", "hyp-yaml", "hf-config", "hydra-config"}
)
"""Config formats that describe a hyperparameter set."""

# --- magic numbers -------------------------------------------------------------------------

_LFS_PREFIXES = (
    b"version https://git-lfs.github.com/spec/v1",
    b"version https://hawser.github.com/spec/v1",  # pre-release spelling git-lfs still accepts
)
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_LOCAL = b"PK\x03\x04"
_ZIP_EMPTY = b"PK\x05\x06"
#: torch.save's legacy (non-zip) format: protocol 2, then LONG1 of 10 bytes = the magic number.
_TORCH_LEGACY = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19."
#: Every pickle opcode byte (from pickletools); the byte after PROTO must be one of them.
_PICKLE_OPCODES = frozenset(b"().012BCFGIJKLMNPQRSTUVX]abcdeghijlopqrstu}") | frozenset(
    range(0x80, 0x99)
)
_JOBLIB_SIGNATURE = b"joblib.numpy_pickle"
#: A safetensors header must be JSON that fits in memory; a larger declared length is not one.
_SAFETENSORS_SNIFF_MAX = 1 << 32
#: ModelProto field numbers and wire types that can follow ir_version in a real file.
_ONNX_NEXT_FIELDS = {2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2, 26: 2}

# --- names ---------------------------------------------------------------------------------

_EXACT_NAMES: dict[str, str] = {
    "saved_model.pb": "tf-savedmodel",
    "saved_model.pbtxt": "tf-savedmodel",
    "config.json": "hf-config",
    "pyproject.toml": "pyproject",
    "readme.md": "model-card",
    "model_card.md": "model-card",
    "dataset.yaml": "dataset-descriptor",
    "dataset.yml": "dataset-descriptor",
    "datasets.yaml": "dataset-descriptor",
    "datasets.yml": "dataset-descriptor",
    "data.yaml": "dataset-descriptor",
    "data.yml": "dataset-descriptor",
    "dvc.yaml": "dvc-yaml",
    "dvc.yml": "dvc-yaml",
    "dvc.lock": "dvc-lock",
    "mlproject": "mlproject",
    "mlmodel": "mlmodel",
    "poetry.lock": "lockfile-poetry",
    "uv.lock": "lockfile-uv",
    "pipfile.lock": "lockfile-pipfile",
    "environment.yml": "conda-env",
    "environment.yaml": "conda-env",
    "conda.yaml": "conda-env",
    "conda.yml": "conda-env",
    "package-lock.json": "lockfile-npm",
    "training-record.json": "training-record",
    "metrics.json": "metrics-json",
}

#: (regex on the lower-case file name, format id), tried in order after the exact names.
_NAME_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), f)
    for p, f in (
        (r".*\.training-record\.json", "training-record"),
        (r"params[^/]*\.ya?ml", "params-yaml"),
        (r"hyp[^/]*\.ya?ml", "hyp-yaml"),
        (r".*\.dataset\.ya?ml", "dataset-descriptor"),
        (r"requirements[^/]*\.txt", "requirements"),
        (r"(.*metrics.*|eval.*|evaluation.*)\.json", "metrics-json"),
        (r".*\.dvc", "dvc-file"),
    )
)

_EXTENSIONS: dict[str, str] = {
    ".safetensors": "safetensors",
    ".gguf": "gguf",
    ".onnx": "onnx",
    ".pt": "pytorch",
    ".pth": "pytorch",
    ".ckpt": "pytorch",
    ".pkl": "pickle",
    ".pickle": "pickle",
    ".joblib": "joblib",
    ".keras": "keras",
    ".h5": "hdf5",
    ".hdf5": "hdf5",
    ".keras-h5": "hdf5",
    ".npy": "npy",
    ".npz": "npz",
    ".tflite": "tflite",
    ".parquet": "parquet",
    ".arrow": "arrow",
    ".feather": "feather",
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}

_PYTORCH_ZIP_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt")
_CONFIG_DIRS = frozenset({"conf", "config", "configs"})
#: Directory names that make an .npz (or a pointer to tabular data) a dataset rather than a model.
DATA_DIRS = frozenset({"data", "dataset", "datasets", "raw", "processed", "interim", "external"})
"""Directory names that mark their files as data (an `.npz` there is a dataset, not weights)."""

_MODEL_EXTENSIONS = frozenset(
    {
        ".safetensors",
        ".gguf",
        ".onnx",
        ".pt",
        ".pth",
        ".bin",
        ".ckpt",
        ".h5",
        ".hdf5",
        ".keras",
        ".pkl",
        ".pickle",
        ".joblib",
        ".npy",
        ".tflite",
    }
)
_DATASET_EXTENSIONS = frozenset(
    {".csv", ".tsv", ".parquet", ".jsonl", ".ndjson", ".arrow", ".feather"}
)


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:] if dot > 0 else ""


def _is_lfs_pointer(head: bytes) -> bool:
    return any(head.startswith(p + b"\n") for p in _LFS_PREFIXES)


def _sniff_safetensors(head: bytes) -> bool:
    if len(head) < 9:
        return False
    (length,) = struct.unpack_from("<Q", head)
    return 2 <= length < _SAFETENSORS_SNIFF_MAX and head[8:9] == b"{"


def _read_varint(data: bytes, pos: int) -> tuple[int, int] | None:
    value = 0
    for shift in range(0, 70, 7):
        if pos >= len(data):
            return None
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
    return None


def _sniff_onnx(head: bytes) -> bool:
    """A ModelProto as onnx.save writes it: ir_version first, then a known field."""
    if not head.startswith(b"\x08"):
        return False
    got = _read_varint(head, 1)
    if got is None:
        return False
    ir_version, pos = got
    if not 1 <= ir_version <= 64:
        return False
    got = _read_varint(head, pos)
    if got is None:
        return False
    tag, pos = got
    field, wire = tag >> 3, tag & 7
    if _ONNX_NEXT_FIELDS.get(field) != wire:
        return False
    if wire != 2:
        return True
    got = _read_varint(head, pos)
    if got is None:
        return False
    length, pos = got
    if field in (2, 3, 4):
        # producer_name / producer_version / domain are short text; protobufs of other
        # schemas (a TF SavedModel's meta graphs) fail here.
        if length > 1024:
            return False
        text = head[pos : pos + length]
        try:
            decoded = text.decode("utf-8")
        except UnicodeDecodeError:
            # The head may cut a multi-byte character; judge the part that is complete.
            decoded = text[:-3].decode("utf-8", "ignore")
        return decoded.isprintable()
    return True


def _zip_first_member(head: bytes) -> str | None:
    if len(head) < 30:
        return None
    (name_len,) = struct.unpack_from("<H", head, 26)
    name = head[30 : 30 + name_len]
    return name.decode("utf-8", "replace")


def _classify_zip(head: bytes, name: str) -> str | None:
    suffix = _suffix(name)
    if suffix == ".keras":
        return "keras"
    if suffix == ".npz":
        return "npz"
    member = _zip_first_member(head) if head.startswith(_ZIP_LOCAL) else None
    if member is not None:
        if (
            member == "data.pkl"
            or member.endswith(("/data.pkl", "/version", "/.format_version", "/constants.pkl"))
            or member == "version"
            or member.startswith("archive/")
        ):
            return "pytorch"
        if member in ("config.json", "metadata.json"):
            return "keras"
        if member.endswith(".npy"):
            return "npz"
    if suffix in _PYTORCH_ZIP_SUFFIXES:
        return "pytorch"
    return None


def _classify_pickle(head: bytes, name: str) -> str | None:
    if head.startswith(_TORCH_LEGACY):
        return "pytorch-legacy"
    if len(head) >= 3 and head[0] == 0x80 and 2 <= head[1] <= 5 and head[2] in _PICKLE_OPCODES:
        if _suffix(name) == ".joblib" or _JOBLIB_SIGNATURE in head:
            return "joblib"
        return "pickle"
    return None


def _classify_content(head: bytes, name: str) -> str | None:
    if _is_lfs_pointer(head):
        return "git-lfs-pointer"
    if head.startswith(b"GGUF"):
        return "gguf"
    if head.startswith(_HDF5_MAGIC):
        return "hdf5"
    if head.startswith(_NPY_MAGIC):
        return "npy"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"ARROW1"):
        return "feather" if _suffix(name) == ".feather" else "arrow"
    if head.startswith(b"FEA1"):
        return "feather"
    if head[4:8] == b"TFL3":
        return "tflite"
    if head.startswith((_ZIP_LOCAL, _ZIP_EMPTY)):
        return _classify_zip(head, name)
    if _sniff_safetensors(head):
        return "safetensors"
    found = _classify_pickle(head, name)
    if found is not None:
        return found
    if name in ("saved_model.pb", "saved_model.pbtxt"):
        return "tf-savedmodel"
    if _sniff_onnx(head):
        return "onnx"
    return None


def _split(relpath: str) -> tuple[str, list[str]]:
    """(file name, parent directory names) of a repo-relative POSIX path; plain string work,
    since this runs for every file of the tree (PurePosixPath cost ~45% of classify)."""
    parts = [p for p in relpath.split("/") if p and p != "."]
    return (parts[-1] if parts else ""), parts[:-1]


def _classify_name(relpath: str) -> str | None:
    name, parent_parts = _split(relpath)
    name = name.lower()
    parents = [p.lower() for p in parent_parts]
    exact = _EXACT_NAMES.get(name)
    if exact is not None:
        return exact
    for pattern, fmt in _NAME_PATTERNS:
        if pattern.fullmatch(name):
            return fmt
    suffix = _suffix(name)
    if suffix == ".txt" and parents and parents[-1] == "requirements":
        return "requirements"
    if suffix in (".yaml", ".yml") and _CONFIG_DIRS.intersection(parents):
        return "hydra-config"
    if name.startswith("pytorch_model") and suffix == ".bin":
        return "pytorch"
    return _EXTENSIONS.get(suffix)


def classify(head: bytes, relpath: str) -> str | None:
    """Format id of a file from its first bytes and its repo-relative path, or None.

    `head` is the first `limits.SNIFF_BYTES` bytes (fewer for a short file). Never raises.
    """
    try:
        name = _split(relpath)[0].lower()
        found = _classify_content(bytes(head), name)
        if found is not None:
            return found
        # By name: protocol 0/1 pickles (.pkl), joblib's compressed dumps (zlib, gzip, xz:
        # no pickle magic at 0), text datasets, configs and manifests.
        return _classify_name(relpath)
    except Exception:  # noqa: BLE001 - classification is total: a surprise means "unknown"
        return None


def guess_kind_from_name(relpath: str) -> str | None:
    """Guess "model" or "dataset" (or None) from the extension, for pointers without content."""
    try:
        name, parent_parts = _split(relpath)
        suffix = _suffix(name.lower())
        if suffix in _MODEL_EXTENSIONS:
            return "model"
        if suffix in _DATASET_EXTENSIONS:
            return "dataset"
        if suffix == ".npz":
            parents = {p.lower() for p in parent_parts}
            return "dataset" if DATA_DIRS.intersection(parents) else "model"
        return None
    except Exception:  # noqa: BLE001 - total, like classify()
        return None
