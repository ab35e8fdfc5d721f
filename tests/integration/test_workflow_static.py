"""Static checks of the action and every workflow: zizmor (offline), actionlint, and the GitHub
JSON schemas through check-jsonschema. Files are found at collection time, so workflows added
later are covered without touching this test."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _is_workflow(path: Path) -> bool:
    """templates/ also holds other YAML (an example policy): workflows are those with jobs."""
    import yaml

    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return isinstance(doc, dict) and "jobs" in doc


ACTIONS = sorted(ROOT.glob("action.y*ml")) + sorted(ROOT.glob(".github/actions/*/action.y*ml"))
WORKFLOWS = sorted(ROOT.glob(".github/workflows/*.y*ml")) + sorted(
    p for p in ROOT.glob("templates/*.y*ml") if _is_workflow(p)
)


def tool(name: str) -> str:
    """A tool from the test venv (the PyPI wheels pinned in pyproject), else from PATH."""
    candidate = BIN / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    assert found, f"{name} is not installed (it comes with the project's test extra)"
    return found


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def test_files_found() -> None:
    assert ROOT / "action.yml" in ACTIONS
    assert ROOT / ".github/workflows/self-test.yml" in WORKFLOWS
    assert all(_is_workflow(p) for p in ROOT.glob(".github/workflows/*.y*ml"))


@pytest.mark.parametrize("path", ACTIONS + WORKFLOWS, ids=rel)
def test_zizmor_offline(path: Path) -> None:
    # Ignores live next to the line they concern, as `# zizmor: ignore[audit]` with a reason.
    proc = run(tool("zizmor"), "--offline", "--format", "json", rel(path))
    findings = json.loads(proc.stdout or "[]")
    summary = [f"{f.get('ident')}: {f.get('desc')}" for f in findings]
    assert findings == [], "\n".join(summary) + proc.stderr
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=rel)
def test_actionlint(path: Path) -> None:
    # actionlint checks workflows (and the inputs of local actions they use, e.g. `uses: ./`).
    proc = run(tool("actionlint"), "-no-color", rel(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("path", ACTIONS, ids=rel)
def test_action_schema(path: Path) -> None:
    proc = run(tool("check-jsonschema"), "--builtin-schema", "vendor.github-actions", rel(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=rel)
def test_workflow_schema(path: Path) -> None:
    proc = run(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", rel(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("path", ACTIONS + WORKFLOWS, ids=rel)
def test_third_party_actions_pinned_by_sha(path: Path) -> None:
    """Every remote `uses:` is a full commit SHA with a `# vX.Y.Z` comment, unless the line
    carries zizmor's `unpinned-uses` ignore with its reason (our own action at the same release,
    which cannot name its own commit)."""
    import re

    bad = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        match = re.match(r"\s*(?:-\s*)?uses:\s*(\S+)(.*)$", line)
        if not match or match.group(1).startswith(("./", "$/", "docker://")):
            continue
        if "zizmor: ignore[unpinned-uses]" in match.group(2):
            continue
        ref = match.group(1).rsplit("@", 1)
        if len(ref) != 2 or not re.fullmatch(r"[0-9a-f]{40}", ref[1]):
            bad.append(f"{number}: {line.strip()} (not a full SHA)")
        elif not re.search(r"#\s*v\d+(\.\d+)*", match.group(2)):
            bad.append(f"{number}: {line.strip()} (no # vX.Y.Z comment)")
    assert bad == []


@pytest.mark.parametrize("path", ACTIONS, ids=rel)
def test_no_expressions_inside_run(path: Path) -> None:
    """Inputs reach shell code through `env:` only: no `${{ }}` inside any `run:` block."""
    import yaml

    action = yaml.safe_load(path.read_text(encoding="utf-8"))
    steps = action["runs"].get("steps", [])
    assert steps, "a composite action has steps"
    for step in steps:
        if "run" in step:
            assert "${{" not in step["run"], step.get("name")
            assert step.get("shell"), f"step {step.get('name')!r} has no shell"
