"""GitHub Actions runner I/O: inputs, outputs, step summary, annotations, masks, groups, debug.

Our replacement for the `@actions/core` toolkit, following the runner's documented protocol:
workflow commands (`::error ...::`, `::add-mask::`, `::group::`, `::debug::`) go to stdout,
where the runner reads them; outputs and the step summary are appended to the files named by
`$GITHUB_OUTPUT` and `$GITHUB_STEP_SUMMARY`; our own logs go to stderr.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from unified_supply_chain import console
from unified_supply_chain.errors import OutputError, UsageError

#: GitHub's limit on the step summary written by one step (the upload fails above it).
SUMMARY_LIMIT_BYTES = 1024 * 1024
#: Note appended when the summary had to be cut to fit under the limit.
SUMMARY_TRUNCATED_NOTE = (
    "\n\n> **Note:** the summary was truncated to stay under GitHub's 1 MiB limit.\n"
)

#: Boolean spellings accepted by `@actions/core`'s `getBooleanInput` (the YAML 1.2 core schema).
TRUE_VALUES = ("true", "True", "TRUE")
FALSE_VALUES = ("false", "False", "FALSE")


class InputError(UsageError):
    """An action input has a value outside the accepted set."""

    def __init__(self, name: str, value: str, accepted: str) -> None:
        self.input_name = name
        """The input's name as the user spells it in `with:` (e.g. "spec-version")."""
        self.value = value
        """The rejected value."""
        self.accepted = accepted
        """The accepted values, in words."""
        super().__init__(
            f"input '{name}' has an invalid value {value!r}: accepted values are {accepted}"
        )


# --------------------------------------------------------------------------------------- inputs


def input_env_names(name: str) -> tuple[str, ...]:
    """Environment variables an input is read from, in order.

    First GitHub's rule for JavaScript and Docker actions (`INPUT_` + upper-case name, spaces to
    `_`, hyphens kept), then the same with hyphens turned into `_`: composite actions pass their
    inputs through `env:` themselves, and a name with a hyphen cannot be read from a shell.
    """
    github_name = "INPUT_" + name.replace(" ", "_").upper()
    plain = github_name.replace("-", "_")
    return (github_name,) if plain == github_name else (github_name, plain)


def get_input(
    name: str,
    required: bool = False,
    default: str = "",
    *,
    env: Mapping[str, str] | None = None,
) -> str:
    """The trimmed value of input `name`; `default` when it is unset or empty.

    Raises `InputError` when `required` and no value is given.
    """
    environ = os.environ if env is None else env
    value = ""
    for var in input_env_names(name):
        if var in environ:
            value = environ[var].strip()
            break
    if value:
        return value
    if required and not default:
        raise InputError(name, "", "a non-empty value (the input is required)")
    return default


def get_bool_input(
    name: str,
    required: bool = False,
    default: bool | None = None,
    *,
    env: Mapping[str, str] | None = None,
) -> bool:
    """Input `name` parsed strictly as a boolean: only true/True/TRUE and false/False/FALSE.

    An empty value gives `default` (an `InputError` when there is no default or `required`).
    """
    value = get_input(name, env=env)
    accepted = ", ".join(TRUE_VALUES + FALSE_VALUES)
    if not value:
        if default is None or required:
            raise InputError(name, value, accepted)
        return default
    if value in TRUE_VALUES:
        return True
    if value in FALSE_VALUES:
        return False
    raise InputError(name, value, accepted)


def get_multiline_input(
    name: str,
    required: bool = False,
    *,
    split_commas: bool = False,
    env: Mapping[str, str] | None = None,
) -> tuple[str, ...]:
    """Input `name` as a list: one item per line (and per comma when `split_commas`).

    Items are trimmed and empty ones dropped.
    """
    raw = get_input(name, required=required, env=env)
    items: list[str] = []
    for line in raw.splitlines():
        parts = line.split(",") if split_commas else [line]
        items.extend(part.strip() for part in parts if part.strip())
    if required and not items:
        raise InputError(name, raw, "at least one non-empty line")
    return tuple(items)


# -------------------------------------------------------------------------------------- outputs


def _env_path(var: str) -> Path | None:
    value = os.environ.get(var, "")
    return Path(value) if value else None


def set_output(name: str, value: str) -> None:
    """Append output `name` to `$GITHUB_OUTPUT` as a heredoc with a random delimiter.

    Without `$GITHUB_OUTPUT` (a local run) nothing is printed to stdout; the value is logged to
    stderr in debug mode only. Raises `OutputError` when the file cannot be written, or in the
    astronomically unlikely case that the name or value contains the delimiter.
    """
    path = _env_path("GITHUB_OUTPUT")
    if path is None:
        if is_debug():
            log(f"output {name}={value}")
        return
    delimiter = f"ghadelimiter_{uuid.uuid4()}"
    if delimiter in name or delimiter in value:
        raise OutputError(f"output {name!r}: the name or value contains the delimiter {delimiter}")
    if "\n" in name or "\r" in name or "<<" in name:
        raise OutputError(f"output name {name!r} must be one line without '<<'")
    _append(path, f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def _append(path: Path, text: str) -> None:
    try:
        with open(path, "a", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def truncate_utf8(text: str, max_bytes: int) -> str:
    """The longest prefix of `text` that is at most `max_bytes` long in UTF-8, whole characters."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[: max(0, max_bytes)].decode("utf-8", errors="ignore")


def fit_summary(markdown: str, budget: int) -> str:
    """`markdown` cut to `budget` bytes with a note, at a line boundary when one is near."""
    if len(markdown.encode("utf-8")) <= budget:
        return markdown
    note_len = len(SUMMARY_TRUNCATED_NOTE.encode("utf-8"))
    if budget < note_len:
        return truncate_utf8(SUMMARY_TRUNCATED_NOTE.strip(), max(budget, 0))
    head = truncate_utf8(markdown, budget - note_len)
    cut = head.rfind("\n")
    if cut > 0:
        head = head[:cut]
    return head + SUMMARY_TRUNCATED_NOTE


def append_summary(markdown: str, *, limit: int = SUMMARY_LIMIT_BYTES) -> int:
    """Append `markdown` to `$GITHUB_STEP_SUMMARY`; returns the bytes written.

    The step's summary file is kept under `limit` (GitHub's 1 MiB): what does not fit is cut with
    a note saying so. Without `$GITHUB_STEP_SUMMARY` nothing is written (logged in debug mode).
    """
    path = _env_path("GITHUB_STEP_SUMMARY")
    if path is None:
        debug("GITHUB_STEP_SUMMARY is not set: step summary not written")
        return 0
    try:
        used = path.stat().st_size
    except FileNotFoundError:
        used = 0
    except OSError as exc:
        raise OutputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    text = markdown if markdown.endswith("\n") else markdown + "\n"
    # The one place the summary is written: no credential and no raw control character in it
    # (the Markdown escaper writes out controls in cells; this covers every other line).
    text = console.safe_text(text)
    text = fit_summary(text, limit - used)
    _append(path, text)
    return len(text.encode("utf-8"))


# --------------------------------------------------------------------------- workflow commands


#: Control characters other than CR and LF (which the runner decodes from %0D and %0A).
_OTHER_CONTROLS = re.compile("[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def escape_data(value: str) -> str:
    """Escape a workflow command's message: `%`, CR and LF, which the runner decodes; every
    other control character as `%XX` too, shown as such (no raw escape reaches the log)."""
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return _OTHER_CONTROLS.sub(lambda m: f"%{ord(m.group(0)):02X}", value)


def escape_property(value: str) -> str:
    """Escape a workflow command's property value: `%`, CR, LF, `:` and `,`."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def format_command(
    command: str, message: str = "", properties: Mapping[str, object | None] | None = None
) -> str:
    """One workflow command line, e.g. `::error file=a.py,line=3::message`.

    Properties whose value is None or "" are left out.
    """
    props = ",".join(
        f"{key}={escape_property(str(value))}"
        for key, value in (properties or {}).items()
        if value is not None and value != ""
    )
    head = f"::{command} {props}" if props else f"::{command}"
    return f"{head}::{escape_data(message)}"


def issue_command(
    command: str, message: str = "", properties: Mapping[str, object | None] | None = None
) -> None:
    """Print a workflow command to stdout (and flush, so it stays in order with stderr logs)."""
    console.write_commands(format_command(command, message, properties) + "\n")


def issue_commands(lines: str) -> None:
    """Print workflow command lines built with `format_command` (e.g. by a report)."""
    console.write_commands(lines)


def _annotate(
    level: str,
    message: str,
    file: str | None,
    line: int | None,
    col: int | None,
    end_line: int | None,
    end_column: int | None,
    title: str | None,
) -> None:
    issue_command(
        level,
        message,
        {
            "title": title,
            "file": file,
            "line": line,
            "endLine": end_line,
            "col": col,
            "endColumn": end_column,
        },
    )


def error(
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    col: int | None = None,
    end_line: int | None = None,
    end_column: int | None = None,
    title: str | None = None,
) -> None:
    """An error annotation (shown on the run and, with `file`, on the file in the diff)."""
    _annotate("error", message, file, line, col, end_line, end_column, title)


def warning(
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    col: int | None = None,
    end_line: int | None = None,
    end_column: int | None = None,
    title: str | None = None,
) -> None:
    """A warning annotation."""
    _annotate("warning", message, file, line, col, end_line, end_column, title)


def notice(
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    col: int | None = None,
    end_line: int | None = None,
    end_column: int | None = None,
    title: str | None = None,
) -> None:
    """A notice annotation."""
    _annotate("notice", message, file, line, col, end_line, end_column, title)


def add_mask(secret: str) -> None:
    """Ask the runner to mask `secret` in logs; each line of a multi-line secret separately.

    The runner masks line by line, so one mask for a multi-line value would never match.
    Empty (and blank) lines are skipped: masking "" would be meaningless.
    """
    for part in secret.splitlines() or [secret]:
        if part.strip():
            issue_command("add-mask", part)


@contextmanager
def group(name: str) -> Iterator[None]:
    """A collapsible group of log lines (`::group::` ... `::endgroup::`)."""
    issue_command("group", name)
    try:
        yield
    finally:
        console.stream("err").flush()
        issue_command("endgroup")


def in_actions() -> bool:
    """True when running inside a GitHub Actions (or compatible) runner."""
    return os.environ.get("GITHUB_ACTIONS") == "true"


def is_debug() -> bool:
    """True when the run has debug logging on (`RUNNER_DEBUG=1`)."""
    return os.environ.get("RUNNER_DEBUG") == "1"


def debug(message: str) -> None:
    """A debug message.

    On a runner it is a `::debug::` command (the runner shows it only when debug logging is on);
    outside one, stdout stays for data, so the message goes to stderr when `RUNNER_DEBUG=1`.
    """
    if in_actions():
        issue_command("debug", message)
    elif is_debug():
        log(f"debug: {message}")


def log(message: str) -> None:
    """Log `message` on stderr, every line prefixed with `usc: `.

    The runner looks for workflow commands on stderr too: with the prefix, no line of a message
    carrying untrusted text (a file name with a newline) can start with `::` and become one.
    """
    lines = message.splitlines() or [""]
    console.write("\n".join(f"usc: {line}" for line in lines) + "\n", "err")
