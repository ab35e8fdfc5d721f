"""The one writer of text to stdout and stderr: no output line can become a workflow command.

The runner reads workflow commands (`::error::`, `::add-mask::`, `::stop-commands::`) from every
line a step prints, on stdout and stderr, after trimming leading white space (actions/runner,
`src/Runner.Worker/ActionCommandManager.cs` and `ActionCommand.TryParseV2`). File names,
messages and metrics come from the repository under review, so any of them may hold
`\n::error::x`, a carriage return, or an ANSI escape that rewrites the terminal. Every printer
goes through this module, which

- escapes every control character (C0, DEL, C1) as `\\n`, `\\r`, `\\t` or `\\xNN`, so one
  message is one line, whatever it holds;
- turns a line that would start with `::` (after white space) into one starting `\\x3a:`;
- redacts credentials (`redact.redact_text`), so a warning never shows one.

Intentional workflow commands are written by `actions_io.issue_command` alone, through
`write_commands`. JSON on stdout goes through `write_json`, which escapes the same characters
the JSON way (`\\u007f`), keeping the document valid. `tests/unit/test_one_reader.py` fails when
another module writes to `sys.stdout` or `sys.stderr` itself.
"""

from __future__ import annotations

import os
import re
import sys
from types import TracebackType
from typing import Literal, TextIO

Stream = Literal["out", "err"]

#: C0 controls, DEL and C1 controls: none may reach a terminal or a log raw.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
#: Control characters other than the newline json.dumps(indent=...) puts between tokens.
_JSON_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def _escape_char(match: re.Match[str]) -> str:
    char = match.group(0)
    return _NAMED.get(char) or f"\\x{ord(char):02x}"


def escape_controls(text: str) -> str:
    """`text` with every control character written out (`\\n`, `\\x1b`): always one line."""
    return _CONTROL.sub(_escape_char, text)


def safe_line(text: str, *, redact: bool = True) -> str:
    """One printable line: controls escaped, credentials redacted, never a workflow command."""
    if redact:
        from unified_supply_chain.redact import redact_text

        text = redact_text(text)
    line = escape_controls(text)
    stripped = line.lstrip()
    if stripped.startswith("::"):
        cut = len(line) - len(stripped)
        line = f"{line[:cut]}\\x3a{stripped[1:]}"
    return line


def safe_text(text: str, *, redact: bool = True) -> str:
    """Multi-line text (a report, a table) made safe line by line; its newlines are kept."""
    lines = text.split("\n")
    return "\n".join(safe_line(line, redact=redact) for line in lines)


def stream(which: Stream) -> TextIO:
    """The stream itself, for writers that only ever print numbers (`progress.Progress`)."""
    return sys.stdout if which == "out" else sys.stderr


def say(message: str, which: Stream = "err") -> None:
    """Print one message as one line (embedded newlines are escaped, not kept)."""
    out = stream(which)
    out.write(safe_line(message) + "\n")
    out.flush()


def write(text: str, which: Stream = "out", *, redact: bool = True) -> None:
    """Print multi-line text (a report) as it is, every line made safe (`safe_text`)."""
    out = stream(which)
    out.write(safe_text(text, redact=redact))
    out.flush()


def json_text(text: str) -> str:
    """JSON text with every raw control character but the newline as a `\\uXXXX` escape.

    Such characters can only stand inside strings in json.dumps output (it escapes C0 there
    already, but not DEL or C1 with `ensure_ascii=False`), so the document keeps its meaning.
    """
    return _JSON_CONTROL.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def write_json(text: str) -> None:
    """Print a JSON document on stdout (`json_text`)."""
    sys.stdout.write(json_text(text))
    sys.stdout.flush()


def write_json_bytes(data: bytes) -> None:
    """Print UTF-8 JSON bytes on stdout (`json_text`, for `bom.write.serialise` output)."""
    sys.stdout.buffer.write(json_text(data.decode("utf-8")).encode("utf-8"))
    sys.stdout.flush()


def write_commands(lines: str) -> None:
    """Print workflow commands built by `actions_io.format_command`, which encodes their
    text; anything else in `lines` is made safe like any other output."""
    out = sys.stdout
    for line in lines.splitlines():
        out.write(
            (line if line.startswith("::") and not _CONTROL.search(line) else safe_line(line))
            + "\n"
        )
    out.flush()


def _excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    import traceback

    write("".join(traceback.format_exception(kind, value, tb)), "err")


def install_excepthook() -> None:
    """Print an uncaught exception's traceback (a bug: its message may quote a file name)
    through `write`, like every other line."""
    sys.excepthook = _excepthook


def discard_stdout() -> None:
    """Point stdout at /dev/null (after a broken pipe, so the interpreter's flush is quiet)."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
