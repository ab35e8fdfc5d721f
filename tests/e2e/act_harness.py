"""Running our reusable workflows under `act` (no Docker: `-P ubuntu-latest=-self-hosted`).

What is real: act's runner, the caller workflow, our reusable workflows and actions (reached the
way users write them, `org/unified-supply-chain/...@v1`, mapped with `--local-repository` to a
copy of this working tree's action.yml, setup/, requirements/, src/ and .github/workflows/),
the isolated venvs they build (from requirements/action.txt, with --require-hashes, from PyPI),
`usc record`, `usc gate`, `usc action`, job outputs, `$GITHUB_OUTPUT` and the step summary.

What is stood in for, by small composite actions this module writes (act fetches every remote
action a job names when the job is set up, so each needs a stand-in, even under `if:`):
- actions/upload-artifact and actions/download-artifact share one directory per run, with
  upload-artifact's layout rule (paths are stored relative to their least common ancestor) and
  its refusal to overwrite an artifact of the same name;
- actions/setup-python puts a directory on PATH whose `python`/`python3` is the test venv's
  interpreter (it has the example's numpy, safetensors and PyYAML) and whose `uv` is the test
  venv's uv, so the set-up actions take their uv path;
- actions/cache restores nothing;
- actions/attest records its inputs to a JSON file.
`actions/checkout` is handled by act itself (it copies the local tree).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
ACT = Path(sys.executable).parent / "act"
TOOL_REPO = "org/unified-supply-chain"
TOOL_REF = "v1"

#: Third-party actions our workflows and action.yml pin, exactly as written (ref included).
PINNED = {
    "checkout": "actions/checkout",
    "setup-python": "actions/setup-python",
    "upload-artifact": "actions/upload-artifact",
    "download-artifact": "actions/download-artifact",
    "cache": "actions/cache",
    "attest": "actions/attest",
}

UPLOAD_PY = r"""
import glob, json, os, shutil, sys
name, raw, missing = os.environ["NAME"], os.environ["SOURCE"], os.environ["IF_NO_FILES"]
store = os.path.join(os.environ["ARTIFACTS"], name)
if os.path.exists(store):
    sys.exit(f"::error::artifact {name} already exists (upload-artifact v4 answers 409)")
workspace = os.environ["GITHUB_WORKSPACE"]
searches = [l.strip() for l in raw.splitlines() if l.strip() and not l.strip().startswith("!")]
files = []
for s in searches:
    full = s if os.path.isabs(s) else os.path.join(workspace, s)
    for hit in sorted(glob.glob(full, recursive=True)):
        if os.path.isdir(hit):
            for d, _, fs in os.walk(hit):
                files += [os.path.join(d, f) for f in sorted(fs)]
        else:
            files.append(hit)
if not files:
    if missing == "error":
        sys.exit(f"::error::no files found for artifact {name}: {raw!r}")
    print(f"no files for {name}")
    sys.exit(0)
# The artifact's root: the least common ancestor of the search paths (their parent for files).
bases = []
for s in searches:
    full = os.path.normpath(s if os.path.isabs(s) else os.path.join(workspace, s))
    bases.append(full if os.path.isdir(full) else os.path.dirname(full))
root = os.path.commonpath(bases)
for f in files:
    dest = os.path.join(store, os.path.relpath(f, root))
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    shutil.copy2(f, dest)
with open(store + ".meta.json", "w") as fh:
    json.dump({"retention-days": os.environ.get("DAYS", ""), "paths": searches}, fh)
print(f"uploaded {len(files)} file(s) as {name}")
"""

ATTEST_PY = r"""
import json, os
log = os.environ["ATTESTATIONS"]
os.makedirs(log, exist_ok=True)
n = len(os.listdir(log))
import glob, hashlib
record = {k: os.environ[k] for k in ("SUBJECT_PATH", "SBOM_PATH", "PREDICATE_TYPE")}
workspace = os.environ["GITHUB_WORKSPACE"]
digests = {}
for line in os.environ["SUBJECT_PATH"].splitlines():
    line = line.strip()
    if not line:
        continue
    for hit in sorted(glob.glob(line if os.path.isabs(line) else os.path.join(workspace, line))):
        with open(hit, "rb") as fh:
            key = os.path.relpath(hit, workspace) if hit.startswith(workspace) else hit
            digests[key] = hashlib.sha256(fh.read()).hexdigest()
if not digests:
    raise SystemExit("::error::attest: no subject found")
record["subjects"] = digests
with open(os.path.join(log, f"{n:02d}.json"), "w") as fh:
    json.dump(record, fh)
with open(os.environ["GITHUB_OUTPUT"], "a") as fh:
    fh.write(f"attestation-url=https://example.invalid/attestations/{n}\n")
"""


def pinned_refs() -> dict[str, str]:
    """`owner/name@sha` for each third-party action our workflows and actions use."""
    found: dict[str, str] = {}
    files = [
        ROOT / "action.yml",
        ROOT / "setup" / "action.yml",
        *sorted((ROOT / ".github" / "workflows").glob("*.yml")),
    ]
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            text = line.strip().removeprefix("- ").strip()
            if not text.startswith("uses:"):
                continue
            ref = text.split(":", 1)[1].split("#", 1)[0].strip()
            for key, name in PINNED.items():
                if ref.startswith(name + "@"):
                    previous = found.setdefault(key, ref)
                    assert previous == ref, f"{name} pinned twice: {previous} and {ref}"
    return found


def _write_action(directory: Path, action: dict[str, Any], **files: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "action.yml").write_text(yaml.safe_dump(action, sort_keys=False))
    for name, text in files.items():
        (directory / name).write_text(text)


def composite(name: str, inputs: list[str], steps: list[dict[str, Any]], **extra: Any) -> Any:
    return {
        "name": f"{name} stand-in",
        "description": f"e2e stand-in for {name}",
        "inputs": {i: {"required": False, "default": ""} for i in inputs},
        **extra,
        "runs": {"using": "composite", "steps": steps},
    }


def write_standins(base: Path, artifacts: Path, attestations: Path, shim: Path) -> dict[str, Path]:
    """Write every stand-in under `base`; returns key -> directory."""
    dirs = {key: base / key for key in PINNED if key != "checkout"}
    upload_inputs = [
        "name",
        "path",
        "retention-days",
        "if-no-files-found",
        "overwrite",
        "include-hidden-files",
        "compression-level",
    ]
    _write_action(
        dirs["upload-artifact"],
        composite(
            "upload-artifact",
            upload_inputs,
            [
                {
                    "shell": "bash",
                    "env": {
                        "NAME": "${{ inputs.name }}",
                        "SOURCE": "${{ inputs.path }}",
                        "DAYS": "${{ inputs.retention-days }}",
                        "IF_NO_FILES": "${{ inputs.if-no-files-found }}",
                        "ARTIFACTS": str(artifacts),
                    },
                    "run": 'python3 "$GITHUB_ACTION_PATH/upload.py"',
                }
            ],
        ),
        **{"upload.py": UPLOAD_PY},
    )
    _write_action(
        dirs["download-artifact"],
        composite(
            "download-artifact",
            ["name", "path", "pattern", "merge-multiple", "github-token", "repository", "run-id"],
            [
                {
                    "id": "dl",
                    "shell": "bash",
                    "env": {
                        "NAME": "${{ inputs.name }}",
                        "DEST": "${{ inputs.path }}",
                        "ARTIFACTS": str(artifacts),
                    },
                    "run": "set -euo pipefail\n"
                    'test -n "$NAME" && test -d "$ARTIFACTS/$NAME" || '
                    '{ echo "::error::artifact ${NAME} not found"; exit 1; }\n'
                    'dest="${DEST:-.}"; case "$dest" in /*) ;; *) dest="$GITHUB_WORKSPACE/$dest";; '
                    "esac\n"
                    'mkdir -p "$dest"\n'
                    'cp -R "$ARTIFACTS/$NAME/." "$dest/"\n'
                    'echo "download-path=$dest" >> "$GITHUB_OUTPUT"\n',
                }
            ],
            outputs={"download-path": {"value": "${{ steps.dl.outputs.download-path }}"}},
        ),
    )
    _write_action(
        dirs["setup-python"],
        composite(
            "setup-python",
            ["python-version", "update-environment", "cache"],
            [
                {
                    "id": "py",
                    "shell": "bash",
                    "env": {"SHIM": str(shim), "UPDATE": "${{ inputs.update-environment }}"},
                    "run": 'if [ "$UPDATE" != "false" ]; then echo "$SHIM" >> "$GITHUB_PATH"; fi\n'
                    'echo "python-path=$SHIM/python3" >> "$GITHUB_OUTPUT"\n',
                }
            ],
            outputs={"python-path": {"value": "${{ steps.py.outputs.python-path }}"}},
        ),
    )
    _write_action(
        dirs["cache"],
        composite(
            "cache",
            ["path", "key", "restore-keys"],
            [{"id": "c", "shell": "bash", "run": 'echo "cache-hit=false" >> "$GITHUB_OUTPUT"'}],
            outputs={"cache-hit": {"value": "${{ steps.c.outputs.cache-hit }}"}},
        ),
    )
    _write_action(
        dirs["attest"],
        composite(
            "attest",
            [
                "subject-path",
                "subject-name",
                "subject-digest",
                "sbom-path",
                "predicate-type",
                "predicate",
                "predicate-path",
                "push-to-registry",
                "github-token",
            ],
            [
                {
                    "id": "a",
                    "shell": "bash",
                    "env": {
                        "SUBJECT_PATH": "${{ inputs.subject-path }}",
                        "SBOM_PATH": "${{ inputs.sbom-path }}",
                        "PREDICATE_TYPE": "${{ inputs.predicate-type }}",
                        "ATTESTATIONS": str(attestations),
                    },
                    "run": 'python3 "$GITHUB_ACTION_PATH/attest.py"',
                }
            ],
            outputs={"attestation-url": {"value": "${{ steps.a.outputs.attestation-url }}"}},
        ),
        **{"attest.py": ATTEST_PY},
    )
    return dirs


def write_shim(directory: Path) -> None:
    """`python`, `python3` (the test venv's interpreter) and `uv` for the job's PATH."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("python", "python3"):
        # A script, not a symlink: a venv is recognised from the path the interpreter runs as.
        (directory / name).write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
        (directory / name).chmod(0o755)
    uv = Path(sys.executable).parent / "uv"
    if uv.exists():
        (directory / "uv").symlink_to(uv)


def copy_tool(directory: Path) -> None:
    """What a release tag of this repository holds for the action and the workflows."""
    directory.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".venv*")
    shutil.copy2(ROOT / "action.yml", directory / "action.yml")
    for sub in ("setup", "requirements", "src"):
        shutil.copytree(ROOT / sub, directory / sub, ignore=ignore)
    shutil.copytree(ROOT / ".github" / "workflows", directory / ".github" / "workflows")


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=e2e", "-c", "user.email=e2e@example.invalid", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


@dataclass
class ActRun:
    """One act run and what it left behind."""

    returncode: int
    log: list[dict[str, Any]]
    text: str
    stderr: str
    artifacts: Path
    attestations: Path
    elapsed: float
    jobs: dict[str, str] = field(default_factory=dict)
    """Job name (as act logs it) -> result."""

    def artifact(self, prefix: str) -> Path:
        """The one artifact whose name starts with `prefix`."""
        found = [p for p in self.artifacts.iterdir() if p.is_dir() and p.name.startswith(prefix)]
        assert len(found) == 1, (prefix, sorted(p.name for p in self.artifacts.iterdir()))
        return found[0]

    def has_artifact(self, prefix: str) -> bool:
        return any(p.is_dir() and p.name.startswith(prefix) for p in self.artifacts.iterdir())

    def summaries(self) -> list[str]:
        """Step summaries (act empties the file after each step; they are in the log)."""
        return [e["content"] for e in self.log if e.get("command") == "summary"]

    def annotations(self, level: str) -> list[dict[str, Any]]:
        return [e for e in self.log if e.get("command") == level]


@dataclass
class Harness:
    """A temporary caller repository, the tool copy and the stand-ins, shared by act runs."""

    base: Path
    repo: Path
    tool: Path
    standin_base: Path
    shim: Path
    env: dict[str, str]

    @classmethod
    def create(cls, base: Path, repo: Path) -> Harness:
        tool = base / "tool"
        copy_tool(tool)
        shim = base / "shim"
        write_shim(shim)
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GITHUB_", "RUNNER_", "INPUT_", "ACTIONS_", "VIRTUAL_ENV"))
        }
        env["XDG_CACHE_HOME"] = str(base / "xdg-cache")
        env["XDG_CONFIG_HOME"] = str(base / "xdg-config")
        # uv's download cache outlives the test (it only holds wheels checked by hash).
        env.setdefault("UV_CACHE_DIR", str(Path.home() / ".cache" / "uv"))
        # The runner's PATH, without the test venv: the job's Python comes from setup-python.
        venv_bin = str(Path(sys.executable).parent)
        path = [p for p in env["PATH"].split(os.pathsep) if p != venv_bin]
        # A runner with uv on PATH (as the set-up steps prefer it), and nothing else of ours:
        # the pip path of the venv set-up is what tests/e2e/test_action_act.py measures.
        uv = Path(venv_bin) / "uv"
        if uv.exists():
            uv_dir = base / "uv-bin"
            uv_dir.mkdir()
            (uv_dir / "uv").symlink_to(uv)
            path.insert(0, str(uv_dir))
        env["PATH"] = os.pathsep.join(path)
        return cls(base, repo, tool, base / "standins", shim, env)

    def run(
        self,
        label: str,
        event: str = "push",
        timeout: float = 300,
        payload: dict[str, Any] | None = None,
    ) -> ActRun:
        run_dir = self.base / f"run-{label}"
        artifacts = run_dir / "artifacts"
        attestations = run_dir / "attestations"
        artifacts.mkdir(parents=True)
        dirs = write_standins(self.standin_base / label, artifacts, attestations, self.shim)
        refs = pinned_refs()
        cmd = [
            str(ACT),
            event,
            "-C",
            str(self.repo),
            "-P",
            "ubuntu-latest=-self-hosted",
            "--cache-server-addr",
            "127.0.0.1",
            "--json",
            "--local-repository",
            f"{TOOL_REPO}@{TOOL_REF}={self.tool}",
        ]
        if payload is not None:
            event_file = run_dir / "event.json"
            event_file.write_text(json.dumps(payload))
            cmd += ["--eventpath", str(event_file)]
        for key, ref in refs.items():
            if key in dirs:
                cmd += ["--local-repository", f"{ref}={dirs[key]}"]
        started = time.monotonic()
        proc = subprocess.run(
            cmd,
            cwd=self.repo,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        elapsed = time.monotonic() - started
        (run_dir / "act.log").write_text(proc.stdout + "\n--- stderr ---\n" + proc.stderr)
        log: list[dict[str, Any]] = []
        for line in proc.stdout.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                entry = {"msg": line}
            log.append(entry if isinstance(entry, dict) else {"msg": line})
        jobs = {
            str(e.get("job") or e.get("jobID")).strip(): str(e["jobResult"])
            for e in log
            if e.get("jobResult")
        }
        text = "\n".join(str(e.get("msg", "")) for e in log)
        print(f"act run {label}: {elapsed:.1f} s, jobs {jobs}", file=sys.stderr)
        return ActRun(
            proc.returncode, log, text, proc.stderr, artifacts, attestations, elapsed, jobs
        )
