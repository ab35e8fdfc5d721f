"""The walk's one-regex pre-check never changes what pathspec's gitignore rules decide."""

from __future__ import annotations

import pathspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unified_supply_chain.discover.walk import GlobSpec as _Spec

LINES = [
    "*.log",
    "build/",
    "/dist",
    "!keep.log",
    "**/tmp",
    "a/**/b",
    "*.py[co]",
    "\\#hash",
    "doc/*.md",
    "!doc/keep.md",
    "data/",
    "!data/",
    "/only-root.txt",
    "x?z",
    "[ab]*.csv",
    "**/",
    "dir/**",
    "# comment",
    "",
    "  ",
    "*",
    "!*.txt",
    "foo bar",
    "trailing\\ ",
    "/a/b/",
    "**/cache/**",
    "!important/",
    "*.tar.gz",
    "nested/dir/file",
    "*/",
    "!/dist/keep",
]
PARTS = [
    "a",
    "b",
    "x1z",
    "xyz",
    "build",
    "dist",
    "doc",
    "data",
    "tmp",
    "cache",
    "keep.log",
    "app.log",
    "m.py",
    "m.pyc",
    "a.csv",
    "c.csv",
    "keep.md",
    "r.md",
    "only-root.txt",
    "#hash",
    "foo bar",
    "important",
    "t.tar.gz",
    "nested",
    "dir",
    "file",
    "x.txt",
]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(LINES), max_size=8),
    st.lists(st.lists(st.sampled_from(PARTS), min_size=1, max_size=4), min_size=1, max_size=10),
    st.booleans(),
)
def test_prefilter_agrees_with_pathspec(
    lines: list[str], paths: list[list[str]], as_dir: bool
) -> None:
    ours = _Spec(lines)
    reference = pathspec.GitIgnoreSpec.from_lines(lines)
    for parts in paths:
        path = "/".join(parts) + ("/" if as_dir else "")
        assert ours.match_file(path) == bool(reference.match_file(path)), (lines, path)


@pytest.mark.parametrize(
    ("lines", "path", "expected"),
    [
        (["*.log", "!keep.log"], "keep.log", False),
        (["*.log", "!keep.log"], "x/app.log", True),
        (["build/"], "build/", True),
        (["build/"], "src/build/x.py", True),
        (["/dist"], "sub/dist", False),
        ([], "anything", False),
        (["# only a comment"], "anything", False),
    ],
)
def test_prefilter_examples(lines: list[str], path: str, expected: bool) -> None:
    assert _Spec(lines).match_file(path) is expected


def test_prefilter_is_built_for_usual_patterns() -> None:
    spec = _Spec(["*.log", "build/", "/dist", "!keep.log", "**/tmp", "*.py[co]"])
    assert spec._any is not None
    assert spec._any.search("src/pkg/module.py") is None
