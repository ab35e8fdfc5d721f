"""Which `.gitattributes` rule sets `filter=lfs` on a path (the rule that made a file a Git LFS
pointer), read from the `.gitattributes` files of the work tree, without running git.

Semantics from gitattributes(5) (https://git-scm.com/docs/gitattributes): each line is `pattern
attr...`; patterns match as in gitignore(5) (https://git-scm.com/docs/gitignore, "PATTERN
FORMAT": a pattern without a slash other than a trailing one matches the name at any depth, one
with a slash is relative to the file's directory, `*` and `?` stop at `/`, `**/`, `/**/` and
`/**` cross directories), except that negative patterns are forbidden and a pattern matching a
directory does not match the paths inside it; a later line overrides an earlier one, and a file
in a deeper directory overrides one above it. `filter=lfs` sets the attribute, `-filter` unsets
it and `!filter` makes it unspecified. Macro (`[attr]`) and quoted-pattern lines are skipped.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: Largest `.gitattributes` read; lines past it are ignored (a real one is a few KiB).
MAX_ATTRIBUTES_BYTES = 256 * 1024


@dataclass(frozen=True)
class LfsRule:
    """One `.gitattributes` line that says something about the `filter` attribute."""

    file: str
    """Repo-relative path of the `.gitattributes` file."""
    line: int
    """1-based line number."""
    pattern: str
    """The pattern as written."""
    lfs: bool
    """True when the line sets `filter=lfs`; False when it sets another filter or unsets it."""
    regex: re.Pattern[str]
    """The pattern, compiled, matched against the path relative to the file's directory."""

    def describe(self) -> str:
        """`<file>:<line>: <pattern>`, as written to the SBOM."""
        return f"{self.file}:{self.line}: {self.pattern}"


def _class(pattern: str, i: int) -> tuple[str, int]:
    """A `[...]` bracket expression at `pattern[i]` as a regex class, and the index after it."""
    j = i + 1
    if j < len(pattern) and pattern[j] in "!^":
        j += 1
    if j < len(pattern) and pattern[j] == "]":
        j += 1
    while j < len(pattern) and pattern[j] != "]":
        j += 1
    if j >= len(pattern):
        return re.escape("["), i + 1  # no closing bracket: a literal '['
    body = pattern[i + 1 : j]
    negate = body[:1] in ("!", "^")
    body = body[1:] if negate else body
    # Inside a regex class only a backslash and '[' need escaping (']' ends the expression).
    body = "".join("\\" + c if c in "\\[" else c for c in body)
    return ("[^/" if negate else "[") + body + "]", j + 1


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """The regex of a gitignore-style pattern, matched in full against a relative path."""
    anchored = "/" in pattern.rstrip("/")
    body = pattern.lstrip("/") if anchored else pattern
    out = [] if anchored else ["(?:.*/)?"]
    i = 0
    while i < len(body):
        if body.startswith("**/", i) and (i == 0 or body[i - 1] == "/"):
            out.append("(?:.*/)?")
            i += 3
        elif body.startswith("/**", i) and i + 3 == len(body):
            out.append("/.*")
            i += 3
        elif body[i] == "*":
            out.append("[^/]*")
            i += 1
        elif body[i] == "?":
            out.append("[^/]")
            i += 1
        elif body[i] == "[":
            piece, i = _class(body, i)
            out.append(piece)
        elif body[i] == "\\" and i + 1 < len(body):
            out.append(re.escape(body[i + 1]))
            i += 2
        else:
            out.append(re.escape(body[i]))
            i += 1
    return re.compile("".join(out), re.DOTALL)


def parse_attributes(file: str, text: str) -> list[LfsRule]:
    """The lines of one `.gitattributes` (at repo path `file`) that touch the `filter`
    attribute, in file order."""
    rules = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", "[attr]", '"', "!")):
            continue  # comments, macros, quoted patterns, forbidden negative patterns
        pattern, *attrs = line.split()
        if pattern.endswith("/"):
            continue  # matches directories only: never a file (gitattributes(5))
        verdict: bool | None = None
        for attr in attrs:
            if attr.startswith("filter="):
                verdict = attr == "filter=lfs"
            elif attr in ("-filter", "!filter"):
                verdict = False
        if verdict is None:
            continue
        rules.append(LfsRule(file, number, pattern, verdict, compile_pattern(pattern)))
    return rules


def lfs_rule_for(path: str, rules_by_dir: Mapping[str, Iterable[LfsRule]]) -> LfsRule | None:
    """The `filter=lfs` rule in force for `path`, or None (no rule, or a later one unsets it).

    `rules_by_dir` maps each `.gitattributes` file's directory ("" for the root) to its rules.
    Deeper files and later lines win, so the last matching line of the deepest file decides.
    """
    winner: LfsRule | None = None
    decided = False
    directory = posixpath.dirname(path)
    chain = [""]
    parts = directory.split("/") if directory else []
    chain += ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for d in reversed(chain):
        rel = path[len(d) + 1 :] if d else path
        for rule in reversed(list(rules_by_dir.get(d, ()))):
            if rule.regex.fullmatch(rel):
                winner, decided = (rule if rule.lfs else None), True
                break
        if decided:
            break
    return winner
