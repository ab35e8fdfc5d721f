"""The one escaper for text from documents that lands in Markdown or Mermaid we write.

Names, paths, licences and messages come from files in the repository, so they are hostile by
default: a pipe would break a table, a newline end it, `<!--` hide the rest of a comment, HTML
inject markup, a quote leave a Mermaid label. Every report escapes through these functions.
"""

from __future__ import annotations

import html
import re

from unified_supply_chain.console import escape_controls

#: Markdown punctuation that could start emphasis, links, headings, code or break a table.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")
#: Mermaid's decimal entity codes; `#` itself is escaped so no text forms an entity.
_MERMAID = {"&": "#38;", '"': "#34;", "<": "#60;", ">": "#62;", "`": "#96;", "#": "#35;"}


def one_line(value: object) -> str:
    """The text of `value` with every run of whitespace (newlines included) made one space, and
    every other control character written out (`\\x1b`): no raw escape reaches a page."""
    return escape_controls(" ".join(str(value).split()))


def shorten(text: str, limit: int | None) -> str:
    """`text` cut to `limit` characters with an ellipsis (unchanged when `limit` is None)."""
    if limit is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def md_cell(value: object, limit: int | None = None) -> str:
    """Text made safe for a Markdown table cell: one line, HTML and Markdown syntax escaped.

    `limit` cuts the text (before escaping, so an escape is never cut in half).
    """
    text = shorten(one_line(value), limit)
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def md_code(value: object, empty: str = "", limit: int | None = None) -> str:
    """A path or digest shown as inline code; as escaped plain text when it holds a backtick or
    a pipe (neither can be escaped inside a code span); `empty` when there is no text.

    `limit` cuts the text first, as in `md_cell`.
    """
    text = shorten(one_line(value), limit) if value is not None else ""
    if not text:
        return empty
    if "`" in text or "|" in text:
        return md_cell(text)
    return f"`{html.escape(text, quote=False)}`"


def html_text(value: object, limit: int | None = None) -> str:
    """Text made safe inside an HTML element we write (e.g. `<summary>`): one line, escaped."""
    return html.escape(shorten(one_line(value), limit), quote=True)


def mermaid_label(value: object, max_len: int = 60) -> str:
    """Text made safe inside a quoted Mermaid label (entity codes for quotes, brackets, ticks)."""
    text = shorten(one_line(value), max_len)
    return "".join(_MERMAID.get(char, char) for char in text)
