"""Which files a Hugging Face dataset split covers: `data_files` globs and the default patterns.

Built from the `datasets` library's own `src/datasets/data_files.py` (huggingface/datasets):

- Patterns are fsspec globs, which since fsspec 2023.12 behave like Python's `glob`/`fnmatch`:
  `*` and `?` never cross a `/`, `[...]` is a character class, and `**` as a whole path segment
  matches any number of directories (elsewhere it is a plain `*`).
- A matched file that is hidden (a path part starting with `.`) or lies in a `__special__`
  directory counts only when the pattern names as many such parts (`_is_unrequested_*`), and
  `README.md`, `config.json`, `dataset_info(s).json`, `dummy_data.zip`, `dataset_dict.json` never
  count unless the pattern's own file name is theirs (`FILES_TO_IGNORE`).
- Without `data_files`, `get_data_patterns` tries, in order, the sharded pattern
  `data/{split}-00000-of-00001.*`, the `logs` pattern, split keywords in directory names, split
  keywords in file names, and finally `**` as the train split: the first that matches any file
  decides the splits.

Everything here is string work on repo-relative POSIX paths; nothing touches the file system.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import PurePosixPath

SPLIT_PATTERN_SHARDED = "data/{split}-[0-9][0-9][0-9][0-9][0-9]-of-[0-9][0-9][0-9][0-9][0-9]*.*"
SPLIT_KEYWORDS: Mapping[str, tuple[str, ...]] = {
    "train": ("train", "training"),
    "validation": ("validation", "valid", "dev", "val"),
    "test": ("test", "testing", "eval", "evaluation"),
}
NON_WORDS_CHARS = "-._ 0-9"
KEYWORDS_IN_FILENAME_BASE_PATTERNS = ("**/{keyword}[{sep}]*", "**/*[{sep}]{keyword}[{sep}]*")
KEYWORDS_IN_DIR_NAME_BASE_PATTERNS = (
    "**/{keyword}/**",
    "**/{keyword}[{sep}]*/**",
    "**/*[{sep}]{keyword}/**",
    "**/*[{sep}]{keyword}[{sep}]*/**",
)
FILES_TO_IGNORE = frozenset(
    {
        "README.md",
        "config.json",
        "dataset_info.json",
        "dataset_infos.json",
        "dummy_data.zip",
        "dataset_dict.json",
    }
)
_SPLIT_RE = re.compile(r"^\w+(\.\w+)*$")


def _keyword_patterns(bases: Sequence[str]) -> dict[str, list[str]]:
    return {
        split: [b.format(keyword=k, sep=NON_WORDS_CHARS) for k in keywords for b in bases]
        for split, keywords in SPLIT_KEYWORDS.items()
    }


DEFAULT_PATTERNS_SPLIT_IN_FILENAME = _keyword_patterns(KEYWORDS_IN_FILENAME_BASE_PATTERNS)
DEFAULT_PATTERNS_SPLIT_IN_DIR_NAME = _keyword_patterns(KEYWORDS_IN_DIR_NAME_BASE_PATTERNS)
DEFAULT_PATTERNS_ALL: Mapping[str, list[str]] = {"train": ["**"]}
DEFAULT_PATTERNS_LOGS: Mapping[str, list[str]] = {"logs": ["**/*.eval"]}
ALL_DEFAULT_PATTERNS: tuple[Mapping[str, list[str]], ...] = (
    DEFAULT_PATTERNS_LOGS,
    DEFAULT_PATTERNS_SPLIT_IN_DIR_NAME,
    DEFAULT_PATTERNS_SPLIT_IN_FILENAME,
    DEFAULT_PATTERNS_ALL,
)


def _segment_regex(segment: str) -> str:
    """One path segment of a glob as a regex that never crosses `/`."""
    out: list[str] = []
    i, n = 0, len(segment)
    while i < n:
        c = segment[i]
        i += 1
        if c == "*":
            while i < n and segment[i] == "*":
                i += 1  # `**` inside a segment is a plain `*`
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = i
            if j < n and segment[j] in "!^":
                j += 1
            if j < n and segment[j] == "]":
                j += 1
            while j < n and segment[j] != "]":
                j += 1
            if j >= n:
                out.append("\\[")  # an unclosed bracket is a literal, as in fnmatch
                continue
            body = segment[i:j]
            i = j + 1
            negate = body[:1] in ("!", "^")
            if negate:
                body = body[1:]
            body = "\\\\".join(body.split("\\"))  # a backslash in a class is literal (fnmatch)
            out.append(f"[^/{body}]" if negate else f"(?!/)[{body}]")
        else:
            out.append(re.escape(c))
    return "".join(out)


@functools.lru_cache(maxsize=4096)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """The compiled regex a `data_files` glob matches full repo-relative paths with."""
    segments = pattern.strip("/").split("/")
    parts: list[str] = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "**":
            parts.append(".*" if last else "(?:[^/]*/)*")
        else:
            parts.append(_segment_regex(segment) + ("" if last else "/"))
    return re.compile("".join(parts))


def _hidden_parts(path: str) -> int:
    return sum(1 for p in PurePosixPath(path).parts if p.startswith(".") and set(p) != {"."})


def _special_parts(path: str) -> int:
    return sum(1 for p in PurePosixPath(path).parent.parts if p.startswith("__"))


def matches(pattern: str, path: str) -> bool:
    """Whether `datasets.data_files.resolve_pattern(pattern)` would return `path` (both relative
    to the same base directory)."""
    pattern = pattern.removeprefix("./")
    if not glob_regex(pattern).fullmatch(path):
        return False
    name = PurePosixPath(path).name
    if name in FILES_TO_IGNORE and name != PurePosixPath(pattern).name:
        return False
    if _special_parts(path) != _special_parts(pattern):
        return False
    return _hidden_parts(path) == _hidden_parts(pattern)


def _plain(path: str) -> bool:
    """No hidden part, no `__special__` part and no ignored file name: `matches` is then the
    glob alone, for every pattern without such parts (most paths, most patterns)."""
    return (
        not path.startswith((".", "__"))
        and "/." not in path
        and "/__" not in path
        and path.rpartition("/")[2] not in FILES_TO_IGNORE
    )


def _literal(pattern: str) -> str:
    """The longest run of the pattern that every match contains verbatim ("" for none)."""
    runs = re.split(r"\[[^\]]*\]|[*?\[\]]", pattern)
    return max(runs, key=len)


@functools.lru_cache(maxsize=256)
def _matcher(
    patterns: tuple[str, ...],
) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None, tuple[str, ...]]:
    """(one regex of every pattern a plain path can match, or None; a regex of the literal runs
    a matching path must hold one of, or None when some pattern has none; all the patterns)."""
    plain = [q.removeprefix("./") for q in patterns]
    plain = [q for q in plain if _hidden_parts(q) == 0 and _special_parts(q) == 0]
    combined = (
        re.compile("|".join(f"(?:{glob_regex(q).pattern})" for q in plain)) if plain else None
    )
    literals = [_literal(q) for q in plain]
    prefilter = (
        re.compile("|".join(re.escape(lit) for lit in dict.fromkeys(literals)))
        if literals and all(literals)
        else None
    )
    return combined, prefilter, patterns


def matcher(patterns: Iterable[str]) -> Callable[[str], bool]:
    """A test equal to `any(matches(q, path) for q in patterns)`, one regex call per plain path
    (a repository of 100,000 files is resolved in well under a second)."""
    combined, prefilter, pats = _matcher(tuple(patterns))

    def test(path: str) -> bool:
        if _plain(path):
            if combined is None or (prefilter is not None and not prefilter.search(path)):
                return False
            return combined.fullmatch(path) is not None
        return any(matches(q, path) for q in pats)

    return test


def resolve(patterns: Iterable[str], paths: Iterable[str]) -> list[str]:
    """Paths any of `patterns` matches, in the order of `paths`."""
    test = matcher(patterns)
    return [p for p in paths if test(p)]


def _sharded_split(name: str) -> str | None:
    """The `{split}` of a file name shaped like `train-00000-of-00002.parquet`."""
    m = re.fullmatch(r"(.+)-[0-9]{5}-of-[0-9]{5}[^/]*\.[^/]*", name)
    return m.group(1) if m else None


def default_split_patterns(paths: Sequence[str]) -> dict[str, list[str]]:
    """`get_data_patterns` of a dataset directory holding `paths` (relative to it): split name ->
    patterns. Empty when no file matches any default pattern."""
    sharded = resolve([SPLIT_PATTERN_SHARDED.replace("{split}", "*")], paths)
    if sharded:
        splits: set[str] = set()
        for p in sharded:
            split = _sharded_split(p.rpartition("/")[2])
            if split is not None and _SPLIT_RE.match(split):
                splits.add(split)
        ordered = [s for s in SPLIT_KEYWORDS if s in splits] + sorted(splits - set(SPLIT_KEYWORDS))
        if ordered:
            return {s: [SPLIT_PATTERN_SHARDED.format(split=s)] for s in ordered}
    for group in ALL_DEFAULT_PATTERNS:
        found = {
            split: list(pats) for split, pats in group.items() if any(map(matcher(pats), paths))
        }
        if found:
            return found
    return {}


def sanitize_patterns(data_files: object) -> dict[str, list[str]] | None:
    """`data_files` of a card's config as split -> patterns (`sanitize_patterns`): a string or a
    list of strings is the train split; a list of `{split, path}` names each split. None for a
    shape the library rejects (`MetadataConfigs._raise_if_data_files_field_not_valid`)."""
    if isinstance(data_files, str):
        return {"train": [data_files]}
    if isinstance(data_files, dict):
        out: dict[str, list[str]] = {}
        for key, value in data_files.items():
            items = value if isinstance(value, list) else [value]
            if not all(isinstance(v, str) for v in items):
                return None
            out[str(key)] = list(items)
        return out
    if not isinstance(data_files, list):
        return None
    if all(isinstance(v, str) for v in data_files):
        return {"train": list(data_files)}
    out = {}
    for entry in data_files:
        if not (
            isinstance(entry, dict)
            and len(entry) == 2
            and isinstance(entry.get("split"), str)
            and _SPLIT_RE.match(entry["split"])
            and isinstance(entry.get("path"), (str, list))
        ):
            return None
        path = entry["path"]
        items = path if isinstance(path, list) else [path]
        if not all(isinstance(v, str) for v in items) or entry["split"] in out:
            return None
        out[entry["split"]] = list(items)
    return out


def has_wildcards(pattern: str) -> bool:
    """`contains_wildcards`: the pattern has `*`, `[` or `]`."""
    return any(c in pattern for c in "*[]")
