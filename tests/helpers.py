"""Shared test helpers: schema validation with the official CycloneDX schema, CLI runner."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "iris-classifier"


def official_schema_errors(document: dict[str, Any], spec_version: str | None = None) -> list[str]:
    """Errors from cyclonedx-python-lib's strict validator (the official JSON schema)."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    version = spec_version or document["specVersion"]
    errors = JsonStrictValidator(SchemaVersion.from_version(version)).validate_str(
        json.dumps(document), all_errors=True
    )
    return [str(e) for e in errors] if errors else []


def assert_valid_cyclonedx(document: dict[str, Any], spec_version: str | None = None) -> None:
    """Fail with the schema errors when `document` is not valid CycloneDX."""
    errors = official_schema_errors(document, spec_version)
    assert not errors, "\n".join(errors[:10])


def run_usc(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run `python -m unified_supply_chain ARGS` in a subprocess (the real CLI and exit codes)."""
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + full_env.get("PYTHONPATH", "")
    full_env.pop("GITHUB_ACTIONS", None)
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "unified_supply_chain", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def sbom_of(root: Path, out: Path) -> dict[str, Any]:
    """`usc sbom ROOT -o OUT -q --no-cache`, which must exit 0; the document, checked against
    the official CycloneDX schema."""
    result = run_usc("sbom", str(root), "-o", str(out), "-q", "--no-cache")
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = json.loads(out.read_text())
    assert_valid_cyclonedx(document)
    return document


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    """Run `python -c CODE` with only our sources on the path (a fresh interpreter)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(REPO / "src")},
        capture_output=True,
        text=True,
        check=False,
    )


def components_by_path(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Top-level components keyed by their `usc:path` property."""
    out = {}
    for c in document.get("components", []):
        for p in c.get("properties", []):
            if p["name"] == "usc:path":
                out[p["value"]] = c
    return out


def prop(component: dict[str, Any], name: str) -> str | None:
    """Value of a component property, or None."""
    for p in component.get("properties", []):
        if p["name"] == name:
            return str(p["value"])
    return None


def props(component: dict[str, Any], name: str) -> list[str]:
    """All values of a (repeated) component property."""
    return [str(p["value"]) for p in component.get("properties", []) if p["name"] == name]


def write_file(path: Path, data: str | bytes) -> Path:
    """Write `data` (text as UTF-8) to `path`, creating its parent directories; returns `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


def git(repo: Path, *args: str) -> str:
    """Run `git -C repo ARGS` (failing the test on a non-zero status); its stdout, stripped."""
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout.strip()


def init_repo(repo: Path) -> Path:
    """A new git repository at `repo` (branch main, a committer set, no global config used)."""
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "t@example.com")
    git(repo, "config", "user.name", "t")
    git(repo, "config", "commit.gpgsign", "false")
    return repo


def commit_all(repo: Path, message: str) -> str:
    """Stage everything (deletions included), commit, and return the new commit's sha."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


# --- Hostile pickles: only ever dumped or written byte by byte, never loaded. ------------------


class Reduce:
    """An object whose pickle calls `func(*args)` when loaded (it is only ever dumped)."""

    def __init__(self, func: Any, *args: Any) -> None:
        self.func = func
        self.args = args

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.func, self.args)


def system_payload(cmd: str, protocol: int) -> bytes:
    """A pickle that runs `os.system(cmd)` when loaded."""
    return pickle.dumps(Reduce(os.system, cmd), protocol=protocol)


def exec_payload(code: str, protocol: int) -> bytes:
    """A pickle that runs `exec(code)` when loaded."""
    return pickle.dumps(Reduce(exec, code), protocol=protocol)


def sbu(text: str) -> bytes:
    """SHORT_BINUNICODE opcode with its argument."""
    raw = text.encode()
    return b"\x8c" + bytes([len(raw)]) + raw


def memo_trick(cmd: str) -> bytes:
    """STACK_GLOBAL whose operands come from the memo, with unrelated opcodes in between."""
    return (
        b"\x80\x04"
        + sbu("posix")
        + b"\x94"  # MEMOIZE -> 0
        + sbu("system")
        + b"\x94"  # MEMOIZE -> 1
        + b"0"  # POP
        + b"0"  # POP
        + b"N0"  # NONE POP (noise)
        + b"h\x00"  # BINGET 0
        + sbu("padding")
        + b"0"  # POP
        + b"h\x01"  # BINGET 1
        + b"\x93"  # STACK_GLOBAL
        + sbu(cmd)
        + b"\x85R."  # TUPLE1 REDUCE STOP
    )


def inst_payload(cmd: str) -> bytes:
    """INST opcode calling os.system (protocol 0)."""
    return b"(S'" + cmd.encode() + b"'\nios\nsystem\n."


def obj_payload(cmd: str) -> bytes:
    """OBJ opcode calling os.system (protocol 1)."""
    return b"(cos\nsystem\nS'" + cmd.encode() + b"'\no."


def refuse_unpickling(monkeypatch: Any) -> None:
    """Replace every unpickling entry point of pickle and _pickle by one that fails the test."""
    import _pickle as c_pickle

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the code under test tried to unpickle")

    for module in (pickle, c_pickle):
        for name in ("load", "loads", "Unpickler"):
            monkeypatch.setattr(module, name, refuse)
    for name in ("_Unpickler", "_load", "_loads"):
        monkeypatch.setattr(pickle, name, refuse)
