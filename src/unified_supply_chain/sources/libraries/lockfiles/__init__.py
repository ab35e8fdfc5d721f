"""Software dependencies from lockfiles: poetry.lock, uv.lock, Pipfile.lock, conda environment.yml
and npm package-lock.json (lockfileVersion 1 to 3).

Each reader returns a `LockfileResult`: one `Library` per purl (PEP 503-normalised `pkg:pypi`,
`pkg:npm` with the scope as a percent-encoded namespace, `pkg:conda` with channel and build
qualifiers), with the hashes the lockfile pins, its own dependencies as purls, the scope
("required" or "optional" for dev/test-only packages) and whether the application depends on it
directly. Direct dependencies come from what the lockfile (or the manifest beside it) says; when
nothing says, the packages no other locked package depends on are taken as the direct ones.
Nothing is fetched. A file that cannot be read at all raises FormatError; bad entries become
problems.

One module per lockfile ecosystem, each registered once in `READERS`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from unified_supply_chain.errors import FormatError
from unified_supply_chain.redact import redact_text
from unified_supply_chain.sources.libraries.lockfiles import conda, npm, pipfile, poetry, uv
from unified_supply_chain.sources.libraries.lockfiles.common import HASH_SOURCE, LockfileResult

__all__ = ["FORMATS", "HASH_SOURCE", "READERS", "LockfileResult", "read_lockfile"]

#: Every lockfile reader, by the format id the classifier gives its files.
READERS: tuple[tuple[str, Callable[[Path, str], LockfileResult]], ...] = (
    ("lockfile-poetry", poetry.read_poetry_lock),
    ("lockfile-uv", uv.read_uv_lock),
    ("lockfile-pipfile", pipfile.read_pipfile_lock),
    ("conda-env", conda.read_conda_env),
    ("lockfile-npm", npm.read_npm_lock),
)
#: Format ids this package reads (as the classifier names them).
FORMATS = tuple(fmt for fmt, _ in READERS)
_READERS = dict(READERS)


def read_lockfile(path: Path, relpath: str, fmt: str) -> LockfileResult:
    """Read the lockfile at `path` as format `fmt` (one of `FORMATS`).

    Raises FormatError when the file cannot be read as that format (or fmt is unknown).
    """
    reader = _READERS.get(fmt)
    if reader is None:
        raise FormatError(f"unknown lockfile format {fmt!r}")
    try:
        return reader(path, relpath)
    except (AttributeError, KeyError, TypeError, ValueError, RecursionError) as exc:
        # Shapes no reader expected (e.g. a table where a list belongs) are bad input, not bugs.
        raise FormatError(f"unexpected structure: {redact_text(str(exc))}") from exc
