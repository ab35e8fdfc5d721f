"""No workflow-command injection from any output: a repository whose file names hold newlines,
carriage returns, `::error::`, ANSI escapes and `%0A` goes through every sub-command of the real
CLI (a subprocess), and no line it prints starts with `::` (after white space, which the runner
trims: actions/runner src/Runner.Worker/ActionCommandManager.cs, `ActionCommand.TryParseV2`)
except the annotations `usc check` writes on purpose, and no raw control character appears.

Workflow commands: https://docs.github.com/en/actions/reference/workflow-commands-for-github-actions
(`::error file=...::message`; `%`, CR and LF percent-encoded in messages and properties).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.helpers import components_by_path, run_usc, system_payload

HOSTILE_NAMES = [
    "bad\n::error::x.pt",
    "cr\r::warning::y.pt",
    "::error::lead.pt",
    "esc\x1b[31mred.pt",
    "pct%0A::error::w.pt",
    "del\x7fc1\x85.pt",
    "tab\t::notice::t.pt",
]
#: The annotations `usc check` writes on purpose (actions_io.format_command).
INTENDED = re.compile(r"::(error|warning|notice)( [^:]*)?::")
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def _repo(root: Path) -> Path:
    root.mkdir()
    (root / "params.yaml").write_text("lr: 0.1\n")
    for name in HOSTILE_NAMES:
        (root / name).write_bytes(system_payload("true", 2))  # a finding naming the file
    sub = root / "dir\n::error::d"
    sub.mkdir()
    (sub / "model.pt").write_bytes(system_payload("true", 4))
    return root


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    top = tmp_path_factory.mktemp("hostile")
    repo = _repo(top / "repo")
    base = top / "base"
    base.mkdir()
    (base / "params.yaml").write_text("lr: 0.2\n")
    for side, path in (("head", repo), ("base", base)):
        done = run_usc("sbom", str(path), "-o", str(top / f"{side}.json"), "--no-cache", "-q")
        assert done.returncode in (0, 1), done.stderr
        assert (top / f"{side}.json").is_file(), done.stderr
    (top / "metrics\n::error::m.json").write_text(json.dumps({"accuracy": 0.5}))
    invalid = top / "::error::v\n.json"
    invalid.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "x\n::e": 1}))
    return top


def _assert_safe(done: subprocess.CompletedProcess[str], *, intended_on_stdout: bool) -> None:
    for stream_name, text in (("stdout", done.stdout), ("stderr", done.stderr)):
        raw = RAW_CONTROL.search(text)
        assert raw is None, f"raw {raw.group(0)!r} on {stream_name}: {text[:2000]!r}"
        for line in text.split("\n"):
            if not line.lstrip().startswith("::"):
                continue
            intended = stream_name == "stdout" and intended_on_stdout and INTENDED.match(line)
            assert intended, f"{stream_name} line is a workflow command: {line!r}"


def _commands(top: Path) -> list[tuple[str, list[str], bool]]:
    repo = top / "repo"
    head, base = str(top / "head.json"), str(top / "base.json")
    target = str(repo / HOSTILE_NAMES[0])
    return [
        ("sbom table", ["sbom", str(repo), "-o", str(top / "o1.json"), "--no-cache"], False),
        ("sbom quiet", ["sbom", str(repo), "-o", str(top / "o2.json"), "--no-cache", "-q"], False),
        ("sbom stdout", ["sbom", str(repo), "-o", "-", "--no-cache", "-q"], False),
        (
            "sbom sarif",
            ["sbom", str(repo), "-o", str(top / "o3.json"), "-q", "--sarif", str(top / "s.sarif")],
            False,
        ),
        ("diff markdown", ["diff", base, head], False),
        ("diff json", ["diff", base, head, "--format", "json"], False),
        ("check", ["check", "--head", head, "--base", base, "--repo", str(repo)], True),
        ("trace text", ["trace", target, "--sbom", head], False),
        ("trace json", ["trace", target, "--sbom", head, "--format", "json"], False),
        ("trace missing", ["trace", str(repo / "params.yaml"), "--sbom", base], False),
        (
            "record",
            [
                "record",
                "--root",
                str(repo),
                "--output-model",
                HOSTILE_NAMES[1],
                "-o",
                str(top / "rec.json"),
                "--command",
                "true\n::error::cmd",
            ],
            False,
        ),
        (
            "gate",
            ["gate", str(top / "metrics\n::error::m.json"), "-t", "accuracy>=0.9"],
            False,
        ),
        (
            "gate usage",
            ["gate", str(top / "metrics\n::error::m.json"), "-t", "x\n::error::t"],
            False,
        ),
        ("validate valid", ["validate", head], False),
        ("validate invalid", ["validate", str(top / "::error::v\n.json")], False),
        ("validate missing", ["validate", str(top / "no\n::error::such.json")], False),
        ("submit dry run", ["submit-dependencies", head, "--dry-run"], False),
        ("bad argument", ["sbom", str(repo), "--format", "x\n::error::arg"], False),
    ]


def test_every_sub_command_prints_no_workflow_command(workspace: Path) -> None:
    env = {"GITHUB_TOKEN": "", "GITHUB_STEP_SUMMARY": str(workspace / "summary.md")}
    seen_names = 0
    for label, argv, intended in _commands(workspace):
        done = run_usc(*argv, cwd=workspace / "repo", env=env)
        assert done.returncode in (0, 1, 2, 3), f"{label}: {done.returncode} {done.stderr}"
        assert "Traceback" not in done.stderr, f"{label}: {done.stderr}"
        _assert_safe(done, intended_on_stdout=intended)
        # The hostile names are shown, escaped, not dropped.
        seen_names += ("bad\\n::error::x.pt" in done.stdout + done.stderr) or (
            "bad%0A%3A%3Aerror%3A%3Ax.pt" in done.stdout
        )
    assert seen_names >= 3  # sbom's table and findings, trace, check's annotations


def test_check_annotations_carry_the_names_percent_encoded(workspace: Path) -> None:
    head, base = str(workspace / "head.json"), str(workspace / "base.json")
    done = run_usc("check", "--head", head, "--base", base, env={"GITHUB_TOKEN": ""})
    annotations = [line for line in done.stdout.split("\n") if line.startswith("::")]
    assert annotations, done.stdout + done.stderr
    assert all(INTENDED.match(line) for line in annotations)
    assert any("file=bad%0A%3A%3Aerror%3A%3Ax.pt," in line for line in annotations)


def test_the_step_summary_and_sboms_hold_no_raw_control_character(workspace: Path) -> None:
    head, base = str(workspace / "head.json"), str(workspace / "base.json")
    summary = workspace / "check-summary.md"
    run_usc(
        "check",
        "--head",
        head,
        "--base",
        base,
        env={"GITHUB_TOKEN": "", "GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert summary.is_file()
    for path in (summary, workspace / "head.json"):
        text = path.read_text(encoding="utf-8")
        assert RAW_CONTROL.search(text) is None, path
    # The SBOM keeps the names, JSON-escaped (DEL and C1 as \\u escapes, not raw).
    document = json.loads((workspace / "head.json").read_text(encoding="utf-8"))
    assert set(HOSTILE_NAMES) <= set(components_by_path(document))
    assert "del\\u007fc1\\u0085.pt" in (workspace / "head.json").read_text(encoding="utf-8")
