"""The one Markdown / Mermaid escaper: hostile strings stay inert text."""

from __future__ import annotations

import pytest

from unified_supply_chain.report.markdown import (
    html_text,
    md_cell,
    md_code,
    mermaid_label,
    one_line,
    shorten,
)


@pytest.mark.parametrize(
    ("hostile", "escaped"),
    [
        ("a|b", "a\\|b"),
        ("line\nbreak\r\nand\ttab", "line break and tab"),
        ("`code`", "\\`code\\`"),
        ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
        ("<!-- usc:sbom-diff -->", "&lt;!-- usc:sbom-diff --&gt;"),
        ("**bold** _em_ ~~s~~", "\\*\\*bold\\*\\* \\_em\\_ \\~\\~s\\~\\~"),
        ("[link](http://x)", "\\[link\\](http://x)"),
        ("## heading", "\\#\\# heading"),
        ("back\\slash", "back\\\\slash"),
        ("&lt;", "&amp;lt;"),
        # Mentions are not special to us: GitHub may link them, nothing more.
        ("@org/team", "@org/team"),
    ],
)
def test_md_cell(hostile: str, escaped: str) -> None:
    assert md_cell(hostile) == escaped
    assert "\n" not in md_cell(hostile)


def test_md_cell_cuts_before_escaping() -> None:
    assert md_cell("a|" * 10, limit=4) == "a\\|a…"
    assert md_cell("short", limit=10) == "short"


def test_md_code() -> None:
    assert md_code("models/a.onnx") == "`models/a.onnx`"
    assert md_code("a<b") == "`a&lt;b`"
    # Neither a backtick nor a pipe can live in a code span: escaped plain text instead.
    assert md_code("we`ird") == "we\\`ird"
    assert md_code("a|b") == "a\\|b"
    assert md_code("") == "" and md_code(None, empty="—") == "—"
    assert md_code("a\nb") == "`a b`"


def test_html_text() -> None:
    assert html_text('x"><script>') == "x&quot;&gt;&lt;script&gt;"
    assert html_text("a\nb", limit=2) == "a…"


@pytest.mark.parametrize(
    ("hostile", "label"),
    [
        ('evil"] --> x[```</script>#x;', "evil#34;] --#62; x[#96;#96;#96;#60;/script#62;#35;x;"),
        ("a & b", "a #38; b"),
        ("#35;", "#35;35;"),
        ("a\nb\tc", "a b c"),
    ],
)
def test_mermaid_label(hostile: str, label: str) -> None:
    escaped = mermaid_label(hostile)
    assert escaped == label
    assert not any(ch in escaped for ch in '"`<>\n')


def test_mermaid_label_length() -> None:
    assert len(mermaid_label("x" * 500)) == 60
    assert mermaid_label("x" * 500, max_len=10) == "x" * 9 + "…"


def test_helpers() -> None:
    assert one_line(" a \n\n b ") == "a b"
    assert shorten("abc", None) == "abc" and shorten("abcdef", 3) == "ab…"
