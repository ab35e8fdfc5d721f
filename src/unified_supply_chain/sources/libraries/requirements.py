"""pip requirements files (`requirements*.txt`): one library per requirement line, with its
`--hash` digests; includes (`-r`) are followed only inside the repository root, with a depth cap
and loop detection, and nothing is fetched."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from packaging.requirements import Requirement

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError
from unified_supply_chain.records import Hash, Library, Problem
from unified_supply_chain.redact import redact_url
from unified_supply_chain.safeparse import read_text_bounded
from unified_supply_chain.sources.libraries.manifests import (
    VCS_PREFIXES,
    ManifestResult,
    library_from_requirement,
    parse_requirement,
)

#: CycloneDX names of the hash algorithms pip accepts in `--hash=alg:hex`.
_HASH_ALGS = {"sha256": ("SHA-256", 64), "sha384": ("SHA-384", 96), "sha512": ("SHA-512", 128)}
_HEX = re.compile(r"^[0-9a-fA-F]+$")
#: Start of the per-requirement options part of a line (`pkg==1 --hash=...`).
_OPTIONS_START = re.compile(r"(?:^|\s)(?=--?[A-Za-z])")
_EGG = re.compile(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)")
#: File-name words that mark a requirements file as development-only.
_OPTIONAL_WORDS = frozenset({"dev", "develop", "test", "tests", "testing", "doc", "docs", "lint"})
#: Global pip options that take a value (the value is skipped with them).
_GLOBAL_WITH_VALUE = frozenset(
    {
        "-i",
        "--index-url",
        "--extra-index-url",
        "-f",
        "--find-links",
        "--trusted-host",
        "--no-binary",
        "--only-binary",
        "--use-feature",
        "--progress-bar",
    }
)


def _url_requirement(target: str) -> Requirement:
    """A direct URL or VCS requirement (`git+https://...#egg=name`) as `name @ url`."""
    egg = _EGG.search(target)
    if egg is None:
        raise FormatError(f"no package name in {redact_url(target)!r} (add #egg=<name>)")
    return parse_requirement(f"{egg.group(1)} @ {target}")


def _logical_lines(text: str) -> Iterable[tuple[int, str]]:
    """Lines with comments removed and `\\` continuations joined, with their first line number."""
    buf: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = re.sub(r"(^|\s+)#.*$", "", raw)
        if not buf:
            start = number
        if line.endswith("\\"):
            buf.append(line[:-1])
            continue
        buf.append(line)
        joined = "".join(buf).strip()
        buf = []
        if joined:
            yield start, joined
    if buf and "".join(buf).strip():
        yield start, "".join(buf).strip()


def _is_optional_file(relpath: str) -> bool:
    stem = PurePosixPath(relpath).name.lower()
    words = set(re.split(r"[-_.]+", stem))
    return bool(words & _OPTIONAL_WORDS)


def _root_of(path: Path, relpath: str) -> Path:
    parts = PurePosixPath(relpath).parts
    root = path
    for _ in parts:
        root = root.parent
    return root


class _RequirementsReader:
    """State of one `read_requirements` call: libraries, problems and the include stack."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.libraries: list[Library] = []
        self.purls: set[str] = set()
        self.problems: list[Problem] = []
        self.visited: set[Path] = set()

    def add(self, lib: Library) -> None:
        if lib.purl in self.purls:
            return
        if len(self.libraries) >= limits.MAX_MANIFEST_ENTRIES:
            raise FormatError(f"more than {limits.MAX_MANIFEST_ENTRIES} requirements")
        self.purls.add(lib.purl)
        self.libraries.append(lib)

    def problem(self, where: Problem, message: str) -> None:
        self.problems.append(Problem(where.path, f"{where.message}: {message}"))

    def relpath(self, resolved: Path) -> str:
        return resolved.relative_to(self.root).as_posix()

    def include(self, current: Path, where: Problem, target: str, stack: tuple[Path, ...]) -> None:
        if "://" in target:
            self.problem(where, f"remote include {redact_url(target)!r} not read")
            return
        candidate = Path(target)
        if candidate.is_absolute():
            self.problem(where, f"include {target!r} is absolute; not read")
            return
        try:
            resolved = (current.parent / candidate).resolve()
        except (OSError, RuntimeError, ValueError) as exc:  # ValueError: a NUL in the name
            reason = (
                "symlink loop"
                if isinstance(exc, RuntimeError)
                else "NUL byte in the name"
                if isinstance(exc, ValueError)
                else exc.strerror or "error"
            )
            self.problem(where, f"include {target!r} cannot be resolved ({reason})")
            return
        if not resolved.is_relative_to(self.root):
            self.problem(where, f"include {target!r} points outside the repository; not read")
            return
        if resolved in stack:
            self.problem(where, f"include loop through {target!r}; not followed")
            return
        if len(stack) >= limits.MAX_REQUIREMENTS_INCLUDE_DEPTH:
            self.problem(
                where,
                f"includes nested deeper than {limits.MAX_REQUIREMENTS_INCLUDE_DEPTH}; "
                f"{target!r} not read",
            )
            return
        if resolved in self.visited:
            return
        try:
            found = resolved.is_file()
        except OSError:  # a name the file system refuses (ENAMETOOLONG)
            found = False
        if not found:
            self.problem(where, f"included file {target!r} not found")
            return
        try:
            self.read(resolved, stack)
        except FormatError as exc:
            self.problems.append(Problem(self.relpath(resolved), str(exc)))

    def read(self, resolved: Path, stack: tuple[Path, ...]) -> None:
        self.visited.add(resolved)
        relpath = self.relpath(resolved)
        text = read_text_bounded(resolved)
        scope = "optional" if _is_optional_file(relpath) else "required"
        for number, line in _logical_lines(text):
            where = Problem(relpath, f"line {number}")
            try:
                self.line(resolved, where, relpath, line, scope, (*stack, resolved))
            except FormatError as exc:
                self.problem(where, f"skipped: {exc}")

    def line(
        self,
        current: Path,
        where: Problem,
        relpath: str,
        line: str,
        scope: str,
        stack: tuple[Path, ...],
    ) -> None:
        if line.startswith("-"):
            self.option_line(current, where, relpath, line, scope, stack)
            return
        match = _OPTIONS_START.search(line)
        req_text, options_text = (
            (line[: match.start()].strip(), line[match.start() :]) if match else (line, "")
        )
        hashes = _hashes(options_text)
        if req_text.startswith(VCS_PREFIXES) or re.match(r"^[a-z]+://", req_text):
            req = _url_requirement(req_text)
        elif req_text.startswith((".", "/")) or (
            "@" not in req_text and req_text.endswith((".whl", ".tar.gz", ".zip"))
        ):
            raise FormatError(f"local path {req_text!r} has no package name")
        else:
            req = parse_requirement(req_text)
        self.add(library_from_requirement(req, relpath, scope, hashes))

    def option_line(
        self,
        current: Path,
        where: Problem,
        relpath: str,
        line: str,
        scope: str,
        stack: tuple[Path, ...],
    ) -> None:
        try:
            tokens = shlex.split(line, posix=True)
        except ValueError as exc:
            raise FormatError(f"cannot split options: {exc}") from exc
        if not tokens:
            return
        opt, _, inline = tokens[0].partition("=")
        value = inline or (tokens[1] if len(tokens) > 1 else "")
        if opt in ("-r", "--requirement"):
            if not value:
                raise FormatError("-r without a file name")
            self.include(current, where, value, stack)
        elif opt in ("-c", "--constraint"):
            return  # constraints pin versions of other requirements; they add none themselves
        elif opt in ("-e", "--editable"):
            if not value:
                raise FormatError("-e without a target")
            if value.startswith(VCS_PREFIXES) or "://" in value:
                self.add(library_from_requirement(_url_requirement(value), relpath, scope))
            else:
                raise FormatError(f"editable local path {value!r} has no package name")
        elif opt.startswith("-r") and len(opt) > 2:
            self.include(current, where, opt[2:], stack)
        elif opt in _GLOBAL_WITH_VALUE or opt.startswith("-"):
            return  # index and install options do not declare packages


def _hashes(options_text: str) -> tuple[Hash, ...]:
    if not options_text:
        return ()
    try:
        tokens = shlex.split(options_text, posix=True)
    except ValueError as exc:
        raise FormatError(f"cannot split options: {exc}") from exc
    values: list[str] = []
    for i, token in enumerate(tokens):
        if token.startswith("--hash="):
            values.append(token[len("--hash=") :])
        elif token == "--hash" and i + 1 < len(tokens):
            values.append(tokens[i + 1])
    out: list[Hash] = []
    for value in values:
        alg, _, hexdigest = value.partition(":")
        known = _HASH_ALGS.get(alg.lower())
        if known is None or len(hexdigest) != known[1] or not _HEX.match(hexdigest):
            raise FormatError(f"malformed --hash value {value[:80]!r}")
        out.append(Hash(known[0], hexdigest.lower(), "requirements"))
    return tuple(out)


def read_requirements(path: Path, relpath: str, root: Path | None = None) -> ManifestResult:
    """Read a pip requirements file and the files it includes with `-r`.

    `relpath` is the file's repo-relative path; `root` (default: derived from `path` and
    `relpath`) bounds every include. Raises FormatError only when `path` itself is unreadable;
    bad lines and bad includes become problems.
    """
    reader = _RequirementsReader(root if root is not None else _root_of(path, relpath))
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError) as exc:
        reason = "symlink loop" if isinstance(exc, RuntimeError) else exc.strerror or "error"
        raise FormatError(f"cannot resolve the path ({reason})") from exc
    if not resolved.is_relative_to(reader.root):
        raise FormatError("requirements file lies outside the repository")
    reader.read(resolved, ())
    return ManifestResult(tuple(reader.libraries), tuple(reader.problems))
