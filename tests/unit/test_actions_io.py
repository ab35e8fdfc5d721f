"""Runner I/O: inputs, outputs with heredoc delimiters, summary limit, annotations, masks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from unified_supply_chain import actions_io as io
from unified_supply_chain.errors import OutputError, UsageError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "RUNNER_DEBUG", "GITHUB_ACTIONS"):
        monkeypatch.delenv(var, raising=False)


def parse_outputs(text: str) -> dict[str, str]:
    """Parse a $GITHUB_OUTPUT file the way the runner does (heredoc form only)."""
    outputs: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        if not lines[i]:
            i += 1
            continue
        name, delimiter = lines[i].split("<<", 1)
        end = lines.index(delimiter, i + 1)
        outputs[name] = "\n".join(lines[i + 1 : end])
        i = end + 1
    return outputs


# ---------------------------------------------------------------------------------------- inputs


def test_input_env_names_follow_github_rule_then_underscore() -> None:
    assert io.input_env_names("spec-version") == ("INPUT_SPEC-VERSION", "INPUT_SPEC_VERSION")
    assert io.input_env_names("my input") == ("INPUT_MY_INPUT",)
    assert io.input_env_names("path") == ("INPUT_PATH",)


def test_get_input_prefers_github_name_and_trims() -> None:
    env = {"INPUT_SPEC-VERSION": "  1.7 \n", "INPUT_SPEC_VERSION": "1.6"}
    assert io.get_input("spec-version", env=env) == "1.7"
    assert io.get_input("spec-version", env={"INPUT_SPEC_VERSION": "1.6"}) == "1.6"


def test_get_input_default_and_required() -> None:
    assert io.get_input("path", env={}) == ""
    assert io.get_input("path", default=".", env={"INPUT_PATH": "   "}) == "."
    with pytest.raises(io.InputError) as info:
        io.get_input("path", required=True, env={"INPUT_PATH": ""})
    assert info.value.input_name == "path"
    assert isinstance(info.value, UsageError)


def test_get_input_reads_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INPUT_OUTPUT_FILE", "bom.json")
    assert io.get_input("output-file") == "bom.json"


@pytest.mark.parametrize("value", ["true", "True", "TRUE", " true\n"])
def test_bool_input_true_spellings(value: str) -> None:
    assert io.get_bool_input("reproducible", env={"INPUT_REPRODUCIBLE": value}) is True


@pytest.mark.parametrize("value", ["false", "False", "FALSE"])
def test_bool_input_false_spellings(value: str) -> None:
    assert io.get_bool_input("reproducible", env={"INPUT_REPRODUCIBLE": value}) is False


@pytest.mark.parametrize("value", ["maybe", "yes", "no", "1", "0", "on", "tRUE", "y", "false!"])
def test_bool_input_rejects_everything_else(value: str) -> None:
    with pytest.raises(io.InputError) as info:
        io.get_bool_input("reproducible", default=False, env={"INPUT_REPRODUCIBLE": value})
    message = str(info.value)
    assert "'reproducible'" in message
    assert "true, True, TRUE, false, False, FALSE" in message
    assert info.value.value == value.strip()


def test_bool_input_empty_uses_default_or_fails() -> None:
    assert io.get_bool_input("upload-artifact", default=True, env={}) is True
    assert (
        io.get_bool_input("upload-artifact", default=False, env={"INPUT_UPLOAD-ARTIFACT": ""})
        is False
    )
    with pytest.raises(io.InputError):
        io.get_bool_input("upload-artifact", env={})


def test_multiline_input_trims_and_drops_empty_lines() -> None:
    env = {"INPUT_EXCLUDE": "\n  data/**  \r\n\n *.tmp\n   \n"}
    assert io.get_multiline_input("exclude", env=env) == ("data/**", "*.tmp")


def test_multiline_input_comma_split_only_when_asked() -> None:
    env = {"INPUT_MERGE": "a.json, b.json\n c.json,,\n"}
    assert io.get_multiline_input("merge", env=env) == ("a.json, b.json", "c.json,,")
    assert io.get_multiline_input("merge", split_commas=True, env=env) == (
        "a.json",
        "b.json",
        "c.json",
    )


def test_multiline_input_required() -> None:
    assert io.get_multiline_input("merge", env={}) == ()
    with pytest.raises(io.InputError):
        io.get_multiline_input("merge", required=True, env={"INPUT_MERGE": " \n \n"})


# --------------------------------------------------------------------------------------- outputs


def test_set_output_heredoc_random_delimiter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(out))
    io.set_output("sbom-path", "bom.json")
    io.set_output("multi", "line 1\nline 2\n::error::not a command")
    io.set_output("empty", "")
    text = out.read_text(encoding="utf-8")
    delimiters = re.findall(r"<<(ghadelimiter_[0-9a-f-]{36})\n", text)
    assert len(delimiters) == 3
    assert len(set(delimiters)) == 3, "each output gets a fresh delimiter"
    assert parse_outputs(text) == {
        "sbom-path": "bom.json",
        "multi": "line 1\nline 2\n::error::not a command",
        "empty": "",
    }


def test_set_output_rejects_value_containing_delimiter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(out))

    class FixedUUID:
        def __str__(self) -> str:
            return "00000000-0000-0000-0000-000000000000"

    monkeypatch.setattr(io.uuid, "uuid4", FixedUUID)
    hostile = "x\nghadelimiter_00000000-0000-0000-0000-000000000000\ninjected=1"
    with pytest.raises(OutputError, match="delimiter"):
        io.set_output("value", hostile)
    assert not out.exists() or out.read_text() == ""


def test_set_output_rejects_multiline_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "output"))
    with pytest.raises(OutputError):
        io.set_output("a\nb", "v")


def test_set_output_without_file_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    io.set_output("sbom-path", "bom.json")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ""


def test_set_output_without_file_logs_in_debug(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNNER_DEBUG", "1")
    io.set_output("sbom-path", "bom.json")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "sbom-path=bom.json" in captured.err


def test_set_output_unwritable_raises_output_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "missing-dir" / "output"))
    with pytest.raises(OutputError, match="cannot write"):
        io.set_output("a", "b")


# --------------------------------------------------------------------------------------- summary


def test_append_summary_appends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    io.append_summary("# one")
    io.append_summary("two\n")
    assert summary.read_text(encoding="utf-8") == "# one\ntwo\n"


def test_append_summary_truncates_with_note_counting_existing_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("x" * 600 + "\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    body = "".join(f"| row {i} | é😀 |\n" for i in range(200))
    written = io.append_summary(body, limit=1000)
    data = summary.read_bytes()
    assert len(data) <= 1000
    assert written == len(data) - 601
    text = data.decode("utf-8")  # still valid UTF-8: never cut inside a character
    assert text.endswith(io.SUMMARY_TRUNCATED_NOTE)
    kept = text[601 : -len(io.SUMMARY_TRUNCATED_NOTE)]
    assert kept and all(line.startswith("| row ") for line in kept.split("\n")), "cut at a line"


def test_append_summary_real_limit_is_one_mebibyte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    io.append_summary("a" * 100 + "\n" + "b" * (2 * 1024 * 1024))
    size = summary.stat().st_size
    assert size <= 1024 * 1024
    assert summary.read_text(encoding="utf-8").endswith(io.SUMMARY_TRUNCATED_NOTE)


def test_append_summary_without_file_is_silent(capsys: pytest.CaptureFixture[str]) -> None:
    assert io.append_summary("# hello") == 0
    assert capsys.readouterr().out == ""


def test_truncate_utf8_keeps_whole_characters() -> None:
    assert io.truncate_utf8("aé", 2) == "a"
    assert io.truncate_utf8("aé", 3) == "aé"
    assert io.truncate_utf8("😀", 3) == ""


# ------------------------------------------------------------------------------------- escaping


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("plain", "plain"),
        ("100%", "100%25"),
        ("%0A", "%250A"),
        ("a\nb", "a%0Ab"),
        ("a\r\nb", "a%0D%0Ab"),
        ("key: value, more", "key: value, more"),
        ("\n::error::injected", "%0A::error::injected"),
    ],
)
def test_escape_data(raw: str, escaped: str) -> None:
    assert io.escape_data(raw) == escaped


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("src/a.py", "src/a.py"),
        ("a:b", "a%3Ab"),
        ("a,b", "a%2Cb"),
        ("50%", "50%25"),
        ("x\r\ny", "x%0D%0Ay"),
        ("t,line=9::x", "t%2Cline=9%3A%3Ax"),
        ("%3A", "%253A"),
    ],
)
def test_escape_property(raw: str, escaped: str) -> None:
    assert io.escape_property(raw) == escaped


def test_annotation_format_and_property_order(capsys: pytest.CaptureFixture[str]) -> None:
    io.warning(
        "could not read header\nsecond line",
        file="models/a,b:c.onnx",
        line=3,
        col=1,
        end_line=4,
        title="usc: unreadable",
    )
    io.error("100% bad")
    io.notice("n", title="")
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "::warning title=usc%3A unreadable,file=models/a%2Cb%3Ac.onnx,line=3,endLine=4,col=1"
        "::could not read header%0Asecond line",
        "::error::100%25 bad",
        "::notice::n",
    ]


def test_format_command_cannot_be_broken_by_hostile_title() -> None:
    line = io.format_command("error", "m", {"title": "x::add-mask::y\n::error::z"})
    assert line.count("\n") == 0
    assert line == "::error title=x%3A%3Aadd-mask%3A%3Ay%0A%3A%3Aerror%3A%3Az::m"


# ----------------------------------------------------------------------------------------- masks


def test_add_mask_each_line_and_skip_empty(capsys: pytest.CaptureFixture[str]) -> None:
    io.add_mask("")
    io.add_mask("ghs_token")
    io.add_mask("-----BEGIN KEY-----\r\nabc%def\n\n   \nend")
    assert capsys.readouterr().out.splitlines() == [
        "::add-mask::ghs_token",
        "::add-mask::-----BEGIN KEY-----",
        "::add-mask::abc%25def",
        "::add-mask::end",
    ]


# ------------------------------------------------------------------------------- groups and debug


def test_group_closes_on_exception(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(RuntimeError), io.group("Scan: a%b"):
        print("inside")
        raise RuntimeError("boom")
    assert capsys.readouterr().out.splitlines() == [
        "::group::Scan: a%25b",
        "inside",
        "::endgroup::",
    ]


def test_debug_on_runner_is_a_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    io.debug("hashing 3 files\nnext")
    captured = capsys.readouterr()
    assert captured.out == "::debug::hashing 3 files%0Anext\n"
    assert captured.err == ""


def test_debug_locally_goes_to_stderr_only_with_runner_debug(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    io.debug("quiet")
    assert capsys.readouterr() == ("", "")
    monkeypatch.setenv("RUNNER_DEBUG", "1")
    assert io.is_debug()
    io.debug("loud")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "usc: debug: loud\n"


def test_is_debug_only_for_one() -> None:
    assert not io.is_debug()


def test_log_prefixes_every_line(capsys: pytest.CaptureFixture[str]) -> None:
    io.log("file evil\n::error::x.bin")
    assert capsys.readouterr().err == "usc: file evil\nusc: ::error::x.bin\n"
