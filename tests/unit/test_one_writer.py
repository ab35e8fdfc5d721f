"""Guard: text reaches stdout and stderr only through `console` (and workflow commands only
through `actions_io.issue_command`, which uses it). Fails when a module prints by itself, so a
file name with a newline can never start a line of output; plus the escaping rules themselves.

The runner trims leading white space before it looks for `::` (actions/runner,
src/Runner.Worker/ActionCommandManager.cs, `ActionCommand.TryParseV2`: `message.TrimStart()`),
hence the indented cases below.
"""

from __future__ import annotations

import ast
import io
import json
from pathlib import Path

import pytest

from unified_supply_chain import console

SRC = Path(__file__).resolve().parents[2] / "src" / "unified_supply_chain"

#: The only modules that may name sys.stdout / sys.stderr, and why.
WRITER_SITES = {
    "console.py": "the one writer",
}


def _direct_output(tree: ast.AST) -> list[int]:
    """Lines calling print(), or naming sys.stdout/sys.stderr (or importing them from sys)."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "print":
                lines.append(node.lineno)
        elif isinstance(node, ast.Attribute) and node.attr in (
            "stdout",
            "stderr",
            "__stdout__",
            "__stderr__",
        ):
            if isinstance(node.value, ast.Name) and node.value.id == "sys":
                lines.append(node.lineno)
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module == "sys"
            and any(a.name in ("stdout", "stderr") for a in node.names)
        ):
            lines.append(node.lineno)
    return lines


def test_the_guard_sees_every_form() -> None:
    code = (
        "print('x')\n"
        "sys.stdout.write('x')\n"
        "print('x', file=sys.stderr)\n"
        "from sys import stderr\n"
        "f(sys.__stdout__)\n"
    )
    assert sorted(_direct_output(ast.parse(code))) == [1, 2, 3, 3, 4, 5]
    assert _direct_output(ast.parse("console.say('x')\nself.stream.write('x')\n")) == []
    # A string that mentions print is not a call.
    assert _direct_output(ast.parse("cmd = 'import platform; print(1)'\n")) == []


def test_only_console_writes_to_stdout_and_stderr() -> None:
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        name = path.relative_to(SRC).as_posix()
        lines = _direct_output(ast.parse(path.read_text(encoding="utf-8")))
        if lines and name not in WRITER_SITES:
            offenders.append(f"{name}:{lines}")
    assert offenders == [], "print through unified_supply_chain.console: " + ", ".join(offenders)
    for name in WRITER_SITES:  # a stale allow-list would hide a new writer
        assert _direct_output(ast.parse((SRC / name).read_text(encoding="utf-8"))), name


HOSTILE = [
    "bad\n::error::x.pt",
    "bad\r::error::x.pt",
    "\x1b[31mred\x1b[0m",
    "nul\x00bell\x07del\x7fcsi\x9bnel\x85",
    "  ::warning::indented",
    "\t::error::tabbed",
    "\u00a0::error::nbsp",
    "%0A::error::encoded",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_line_is_one_line_and_never_a_command(text: str) -> None:
    line = console.safe_line(text)
    assert "\n" not in line and "\r" not in line
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in line)
    assert not line.lstrip().startswith("::")


@pytest.mark.parametrize("text", HOSTILE)
def test_multi_line_text_keeps_its_lines_and_makes_each_safe(text: str) -> None:
    out = console.safe_text(f"header\n{text}\nfooter")
    lines = out.split("\n")
    assert lines[0] == "header" and lines[-1] == "footer"
    for line in lines:
        assert not line.lstrip().startswith("::"), line
        assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in line)


def test_escapes_are_readable() -> None:
    assert console.escape_controls("a\nb\rc\td\x1be\x7ff\x9b") == "a\\nb\\rc\\td\\x1be\\x7ff\\x9b"
    assert console.safe_line("::error::x") == "\\x3a:error::x"
    assert console.safe_line("plain text: 1 model") == "plain text: 1 model"


def test_say_writes_one_line_with_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    token = "ghp_" + "A1b2" * 9  # GitHub's shape (detect-secrets' GitHubTokenDetector)
    console.say(f"usc: warning: bad\n::error::{token}.pt")
    assert err.getvalue().count("\n") == 1
    assert token not in err.getvalue()
    assert "REDACTED" in err.getvalue()


def test_json_text_stays_the_same_document() -> None:
    value = {"name": "del\x7f c1\x85 esc\x1b nl\n", "n": 1}
    raw = json.dumps(value, indent=2, ensure_ascii=False)
    assert "\x7f" in raw and "\x85" in raw  # what json.dumps leaves raw
    safe = console.json_text(raw)
    assert json.loads(safe) == value
    assert not any((ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F for c in safe)


def test_workflow_commands_pass_and_anything_else_is_made_safe(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    from unified_supply_chain.actions_io import format_command

    command = format_command("error", "bad\n::error::x\x1b.pt", {"file": "a\nb.pt"})
    console.write_commands(command + "\n::raw\x1b\n")
    lines = out.getvalue().splitlines()
    assert lines[0] == command and "\x1b" not in command and "%1B" in command
    assert lines[1] == "\\x3a:raw\\x1b"


def test_an_uncaught_exception_prints_no_workflow_command() -> None:
    from tests.helpers import run_python

    code = (
        "from unified_supply_chain import console\n"
        "console.install_excepthook()\n"
        "raise RuntimeError('bad\\n::error::x\\x1b[31m')\n"
    )
    done = run_python(code)
    assert done.returncode == 1 and "RuntimeError" in done.stderr
    assert "\x1b" not in done.stderr
    assert not any(line.lstrip().startswith("::") for line in done.stderr.split("\n"))
