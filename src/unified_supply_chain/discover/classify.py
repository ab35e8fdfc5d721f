"""Classify a file by its first bytes (magic numbers) first and by its name second.

`classify(head, relpath)` returns a format id of the registry (`formats.registry()`) or None for
files the inventory does not care about. Content wins over the name, so a renamed model (a
safetensors file called `weights.dat`, a GGUF file without an extension) is still recognised, and
a Git LFS pointer is a pointer whatever it is called. The rules themselves live in the formats'
specs; this module only applies them in order: content sniffs by priority, then exact names, name
patterns, path rules and extensions. Classification is total: it never raises.
"""

from __future__ import annotations

from unified_supply_chain.formats import FormatSpec, Kind, Role, registry
from unified_supply_chain.formats._names import split, suffix
from unified_supply_chain.records import ArtifactKind


def _by_content(head: bytes, name: str) -> str | None:
    spec = sniff_format(head, name)
    return spec.id if spec is not None else None


def sniff_format(head: bytes, name: str) -> FormatSpec | None:
    """The format whose content sniff matches first (by priority), or None.

    `name` is the lower-case file name (some sniffs look at it: a zip named *.keras). The
    safety scan uses this too, so a renamed file is scanned as what its bytes are.
    """
    for sniff, spec in registry().sniffs:
        if sniff.test(head, name):
            return spec
    return None


def _by_name(relpath: str) -> str | None:
    spec = _spec_by_name(relpath)
    if spec is None:
        return None
    if spec.kind is Kind.CONFIG and spec.role is not Role.LIBRARIES:
        from unified_supply_chain.formats.configs import is_non_ml_config_dir

        if is_non_ml_config_dir([p.lower() for p in split(relpath)[1]]):
            return None  # a CI workflow called hypothesis.yml, a Hugo site's params.toml
    return spec.id


#: Directories that hold tests (pytest's `tests/` layout, `test/`, Jest's `__tests__/`).
_TEST_DIRS = frozenset({"tests", "test", "__tests__"})
#: Their data directories (`tests/fixtures/`, `tests/data/`, `tests/testdata/`, `tests/resources/`).
_FIXTURE_DIRS = frozenset({"fixtures", "data", "testdata", "resources", "assets"})
#: Fixture directories wherever they are: Go's `testdata/` (which `go help packages` says the go
#: tool ignores) and Jest's `__fixtures__/`.
_ANYWHERE_FIXTURE_DIRS = frozenset({"testdata", "__fixtures__"})


def is_test_fixture(relpath: str) -> bool:
    """Whether a file is test data: under a fixture directory of a test directory, or under a
    `testdata/` or `__fixtures__/` directory. Such files are inputs of a test suite, not the
    project's models, datasets or hyperparameters (they are still safety-scanned)."""
    parts = [p.lower() for p in split(relpath)[1]]
    if _ANYWHERE_FIXTURE_DIRS.intersection(parts):
        return True
    for i, part in enumerate(parts):
        if part in _TEST_DIRS and _FIXTURE_DIRS.intersection(parts[i + 1 :]):
            return True
    return False


def _spec_by_name(relpath: str) -> FormatSpec | None:
    reg = registry()
    name, parent_parts = split(relpath)
    name = name.lower()
    exact = reg.names.get(name)
    if exact is not None:
        return exact
    for pattern, spec in reg.patterns:
        if pattern.fullmatch(name):
            return spec
    parents = [p.lower() for p in parent_parts]
    for rule, spec in reg.path_rules:
        if rule(name, parents):
            return spec
    return reg.extensions.get(suffix(name))


def classify(head: bytes, relpath: str) -> str | None:
    """Format id of a file from its first bytes and its repo-relative path, or None.

    `head` is the first `limits.SNIFF_BYTES` bytes (fewer for a short file). Never raises.
    """
    try:
        name = split(relpath)[0].lower()
        found = _by_content(bytes(head), name)
        if found is not None:
            return found
        # By name: protocol 0/1 pickles (.pkl), joblib's compressed dumps (zlib, gzip, xz:
        # no pickle magic at 0), text datasets, configs and manifests.
        return _by_name(relpath)
    except Exception:  # noqa: BLE001 - classification is total: a surprise means "unknown"
        return None


def is_hyperparameter_format(format_id: str) -> bool:
    """Whether files of `format_id` are hyperparameter sets."""
    spec = registry().get(format_id)
    return spec is not None and spec.role is Role.HYPERPARAMETERS


def guess_kind_from_name(relpath: str) -> str | None:
    """ "model" or "dataset" (or None) from the name alone, for pointers without content.

    The same rules as for present files (`FormatSpec.kind_for` without a header), so a pointer
    to `data/x.npy` is a dataset exactly as the file itself would be.
    """
    try:
        reg = registry()
        name = split(relpath)[0].lower()
        ext = suffix(name)
        spec = reg.extensions.get(ext) or next(
            (s for s in reg.specs if ext and ext in s.pointer_extensions), None
        )
        if spec is None:
            pattern = next((s for p, s in reg.patterns if p.fullmatch(name)), None)
            spec = pattern if pattern is not None and pattern.kind is Kind.MODEL else None
        if spec is None or spec.kind not in (Kind.MODEL, Kind.DATASET):
            return None
        kind = spec.kind_for(relpath, None)
        if kind is ArtifactKind.MODEL:
            return "model"
        if kind is ArtifactKind.DATASET:
            return "dataset"
        return None
    except Exception:  # noqa: BLE001 - total, like classify()
        return None
