"""The composite action's inputs: read once from `INPUT_*` variables, strictly validated.

`parse_inputs` turns the environment action.yml passes through `env:` into a frozen
`ActionInputs`; boolean inputs accept only true/false and path inputs must stay inside the
workspace and may not look like flags.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from unified_supply_chain import actions_io as io
from unified_supply_chain.records import Severity, parse_severity

SPEC_VERSIONS = ("1.6", "1.7")
FAIL_ON = ("none", "info", "low", "medium", "high", "critical")
DEFAULT_OUTPUT_FILE = "sbom.cdx.json"
#: Characters upload-artifact refuses in a name (besides control characters).
_ARTIFACT_FORBIDDEN = re.compile(r'["\:<>|*?\\/\r\n]')
_ARTIFACT_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_ARTIFACT_NAME = 200


@dataclass(frozen=True)
class ActionInputs:
    """The action's inputs, parsed and validated once."""

    workspace: Path
    """`GITHUB_WORKSPACE` (or the current directory), resolved."""
    path: Path
    """Directory to scan, resolved, inside the workspace."""
    output_file: Path
    """Where the SBOM is written (relative paths are relative to the workspace)."""
    spec_version: str
    """CycloneDX spec version: 1.6 or 1.7."""
    include: tuple[str, ...]
    """Gitignore-style globs to include."""
    exclude: tuple[str, ...]
    """Gitignore-style globs to exclude."""
    merge: tuple[Path, ...]
    """CycloneDX JSON files to merge in."""
    reproducible: bool
    """Fixed timestamp and content-derived serial number."""
    fail_on: Severity | None
    """Least severity that fails the step; None = never fail; unset input = the policy's."""
    fail_on_given: bool
    """True when the `fail-on` input was given (it overrides the policy file)."""
    policy: Path | None
    """Policy file, resolved."""
    upload_artifact: bool
    """Whether the next step uploads the SBOM as an artifact."""
    artifact_name: str
    """Artifact (and release asset) name."""
    retention_days: int | None
    """Artifact retention in days; None = the repository's default."""
    upload_release_assets: bool
    """Upload the SBOM to the release on `release` events."""
    github_token: str
    """Token for the release upload; never printed (see `__repr__`)."""

    def __repr__(self) -> str:
        shown = {k: v for k, v in self.__dict__.items() if k != "github_token"}
        shown["github_token"] = "***" if self.github_token else ""
        return "ActionInputs(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"


# ------------------------------------------------------------------------------------- parsing


def sanitise_artifact_name(name: str) -> str:
    """`name` reduced to characters every artifact store accepts (letters, digits, . _ -)."""
    cleaned = _ARTIFACT_SAFE.sub("-", name).strip("-.")
    cleaned = re.sub(r"-{2,}", "-", cleaned)
    return cleaned[:MAX_ARTIFACT_NAME].rstrip("-.") or "sbom"


def _matrix_values(value: object) -> list[str]:
    if isinstance(value, Mapping):
        return [v for key in value for v in _matrix_values(value[key])]
    if isinstance(value, list):
        return [v for item in value for v in _matrix_values(item)]
    if value is None:
        return []
    if isinstance(value, bool):
        return ["true" if value else "false"]
    return [str(value)]


def default_artifact_name(job: str | None, matrix_json: str | None) -> str:
    """`sbom-<job>[-<matrix values>]`, sanitised, so matrix jobs never collide.

    `matrix_json` is `toJSON(matrix)` ("null" outside a matrix); unreadable JSON is ignored.
    """
    parts = ["sbom"]
    if job:
        parts.append(job)
    if matrix_json and matrix_json.strip() not in ("", "null"):
        try:
            matrix = json.loads(matrix_json)
        except ValueError:
            matrix = None
        parts.extend(_matrix_values(matrix))
    return sanitise_artifact_name("-".join(parts))


def inside(child: Path, parent: Path) -> bool:
    try:
        child.relative_to(parent)
    except ValueError:
        return False
    return True


def _reject_flag_like(name: str, value: str) -> None:
    if value.startswith("-"):
        raise io.InputError(name, value, "a path that does not start with '-'")


def _resolve(workspace: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return (path if path.is_absolute() else workspace / path).resolve()


def parse_inputs(env: Mapping[str, str] | None = None) -> ActionInputs:
    """Read and validate every input; `io.InputError` names the first bad one."""
    environ = os.environ if env is None else env
    workspace = Path(environ.get("GITHUB_WORKSPACE") or os.getcwd()).resolve()

    raw_path = io.get_input("path", default=".", env=environ)
    _reject_flag_like("path", raw_path)
    path = _resolve(workspace, raw_path)
    if not path.is_dir():
        raise io.InputError("path", raw_path, "an existing directory inside the workspace")
    if not inside(path, workspace):
        raise io.InputError(
            "path", raw_path, f"an existing directory inside the workspace {workspace}"
        )

    raw_output = io.get_input("output-file", default=DEFAULT_OUTPUT_FILE, env=environ)
    _reject_flag_like("output-file", raw_output)
    output_file = _resolve(workspace, raw_output)
    if output_file.is_dir():
        raise io.InputError("output-file", raw_output, "a file path (this is a directory)")

    spec_version = io.get_input("spec-version", default="1.6", env=environ)
    if spec_version not in SPEC_VERSIONS:
        raise io.InputError("spec-version", spec_version, " or ".join(SPEC_VERSIONS))

    include = io.get_multiline_input("include", env=environ)
    exclude = io.get_multiline_input("exclude", env=environ)

    merge: list[Path] = []
    for item in io.get_multiline_input("merge", env=environ):
        _reject_flag_like("merge", item)
        resolved = _resolve(workspace, item)
        if not resolved.is_file():
            raise io.InputError("merge", item, "existing CycloneDX JSON files, one per line")
        merge.append(resolved)

    reproducible = io.get_bool_input("reproducible", default=False, env=environ)

    raw_fail_on = io.get_input("fail-on", env=environ).lower()
    if raw_fail_on and raw_fail_on not in FAIL_ON:
        raise io.InputError("fail-on", raw_fail_on, ", ".join(FAIL_ON) + " (or empty)")
    fail_on = parse_severity(raw_fail_on) if raw_fail_on else None

    raw_policy = io.get_input("policy", env=environ)
    policy: Path | None = None
    if raw_policy:
        _reject_flag_like("policy", raw_policy)
        policy = _resolve(workspace, raw_policy)
        if not policy.is_file():
            raise io.InputError("policy", raw_policy, "an existing policy file")

    upload_artifact = io.get_bool_input("upload-artifact", default=True, env=environ)

    raw_name = io.get_input("artifact-name", env=environ)
    if raw_name:
        if _ARTIFACT_FORBIDDEN.search(raw_name) or len(raw_name) > MAX_ARTIFACT_NAME:
            raise io.InputError(
                "artifact-name",
                raw_name,
                f'a name of at most {MAX_ARTIFACT_NAME} characters without " : < > | * ? \\ / '
                "or line breaks",
            )
        artifact_name = raw_name
    else:
        artifact_name = default_artifact_name(
            environ.get("GITHUB_JOB"), environ.get("USC_MATRIX_JSON")
        )

    raw_days = io.get_input("retention-days", env=environ)
    retention_days: int | None = None
    if raw_days:
        if not re.fullmatch(r"[0-9]{1,3}", raw_days) or not 1 <= int(raw_days) <= 90:
            raise io.InputError("retention-days", raw_days, "an integer from 1 to 90 (or empty)")
        retention_days = int(raw_days)

    upload_release_assets = io.get_bool_input("upload-release-assets", default=False, env=environ)
    token = io.get_input("github-token", env=environ)

    return ActionInputs(
        workspace=workspace,
        path=path,
        output_file=output_file,
        spec_version=spec_version,
        include=include,
        exclude=exclude,
        merge=tuple(merge),
        reproducible=reproducible,
        fail_on=fail_on,
        fail_on_given=bool(raw_fail_on),
        policy=policy,
        upload_artifact=upload_artifact,
        artifact_name=artifact_name,
        retention_days=retention_days,
        upload_release_assets=upload_release_assets,
        github_token=token,
    )
