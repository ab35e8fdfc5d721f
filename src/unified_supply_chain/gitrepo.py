"""Reading a git repository through the `git` command: commits by ref, files at a commit.

Used where a file must come from a commit rather than from the working tree, which the code under
review can change: `usc diff`/`usc check --base-ref` generate the base SBOM from a commit, and
`--policy-ref` reads the policy file of the base commit (policy/base_ref.py).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from unified_supply_chain.errors import UsageError, UscError

#: Seconds allowed for one git command (worktree add of a large repository included).
GIT_TIMEOUT = 600


def git_bytes(
    repo: Path, *args: str, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run `git -C repo ARGS` (output captured as bytes, never raising on a failing status)."""
    try:
        return subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True,
            input=stdin,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except FileNotFoundError as exc:
        raise UscError("git is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise UscError(f"git {' '.join(args[:2])} took longer than {GIT_TIMEOUT} s") from exc


def git(repo: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`git_bytes` with text in and out (undecodable bytes replaced)."""
    done = git_bytes(repo, *args, stdin=None if stdin is None else stdin.encode("utf-8"))
    return subprocess.CompletedProcess(
        done.args,
        done.returncode,
        done.stdout.decode("utf-8", errors="replace"),
        done.stderr.decode("utf-8", errors="replace"),
    )


def resolve_commit(repo: Path, ref: str, *, fetch: bool = False) -> str | None:
    """The commit `ref` names in `repo`, or None. With `fetch`, try `git fetch origin REF` once."""
    if ref.startswith("-"):
        raise UsageError(f"not a git ref: {ref!r}")
    found = git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if found.returncode == 0:
        return found.stdout.strip()
    if fetch:
        # Shallow CI checkouts lack the PR base commit: fetch just that commit.
        fetched = git(repo, "fetch", "--no-tags", "--depth=1", "origin", ref)
        if fetched.returncode == 0:
            found = git(repo, "rev-parse", "--verify", "--quiet", "FETCH_HEAD^{commit}")
            if found.returncode == 0:
                return found.stdout.strip()
    return None


@dataclass(frozen=True)
class BlobAtCommit:
    """What a path names at a commit."""

    kind: str
    """"blob", "tree", "commit" (a submodule) or "missing"."""
    size: int
    """Size in bytes (0 when missing)."""


def stat_at_commit(repo: Path, commit: str, path: str) -> BlobAtCommit:
    """The type and size of `path` (relative to `repo`, as `./path`) at `commit`."""
    if "\n" in path or "\r" in path:
        raise UsageError(f"not a usable path: {path!r}")
    spec = f"{commit}:./{path}"
    done = git(repo, "cat-file", "--batch-check", stdin=spec + "\n")
    if done.returncode != 0:
        raise UscError(f"git cat-file failed in {repo}: {done.stderr.strip()}")
    words = done.stdout.split()
    # "<oid> <type> <size>", or "<spec> missing" (also "ambiguous" for a bad spec).
    if len(words) == 3 and words[2].isdigit():
        return BlobAtCommit(words[1], int(words[2]))
    return BlobAtCommit("missing", 0)


def read_at_commit(repo: Path, commit: str, path: str, cap: int) -> bytes | None:
    """The bytes of the file `path` at `commit`; None when no file is there (a directory, or
    nothing). Raises UscError for a file over `cap` bytes or a failing git."""
    found = stat_at_commit(repo, commit, path)
    if found.kind != "blob":
        return None
    if found.size > cap:
        raise UscError(f"{path} at {commit[:12]} is larger than {cap} bytes")
    done = git_bytes(repo, "cat-file", "blob", f"{commit}:./{path}")
    if done.returncode != 0:
        raise UscError(f"git cat-file {path} failed: {done.stderr.decode(errors='replace')}")
    return done.stdout
