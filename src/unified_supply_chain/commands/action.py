"""`usc action`: the composite action's entry point.

Reads every input once (from `INPUT_*` variables that action.yml passes through `env:`) into a
frozen `ActionInputs`, strictly validated; then generates the SBOM, writes it atomically, sets
the step outputs, writes the step summary and annotations, uploads a release asset when asked,
and only then fails the step when policy findings reach `fail-on`, so nothing is lost.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from unified_supply_chain import actions_io as io
from unified_supply_chain.errors import UsageError, UscError
from unified_supply_chain.records import Finding, Severity, parse_severity, reaches

if TYPE_CHECKING:
    from unified_supply_chain.records import Inventory

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2

SPEC_VERSIONS = ("1.6", "1.7")
FAIL_ON = ("none", "info", "low", "medium", "high", "critical")
DEFAULT_OUTPUT_FILE = "sbom.cdx.json"
#: GitHub shows at most 10 annotations of each level per step; the rest would be dropped silently.
MAX_ANNOTATIONS_PER_LEVEL = 10
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


def _inside(child: Path, parent: Path) -> bool:
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
    if not _inside(path, workspace):
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


# --------------------------------------------------------------------------------- annotations


class Annotator:
    """Emits annotations, at most `limit` per level, then one notice with what was left out.

    One error is kept in reserve for the step's own verdict ("policy failed"), which must not be
    the one GitHub drops.
    """

    def __init__(self, workspace: Path, root: Path, limit: int = MAX_ANNOTATIONS_PER_LEVEL):
        self._prefix = root.relative_to(workspace).as_posix() if _inside(root, workspace) else ""
        self._limits = {"error": limit - 1, "warning": limit}
        self._counts: dict[str, int] = {"error": 0, "warning": 0}
        self._seen: set[tuple[str, str, str]] = set()

    def file_of(self, repo_path: str) -> str:
        """A scan-relative path as the workspace-relative path annotations need."""
        member = repo_path.split("!", 1)[0]
        if self._prefix in ("", "."):
            return member
        return f"{self._prefix}/{member}" if member else self._prefix

    def emit(self, level: str, message: str, repo_path: str, title: str) -> None:
        """One annotation pointing at `repo_path` (deduplicated; counted against the limit)."""
        key = (level, repo_path, message)
        if key in self._seen:
            return
        self._seen.add(key)
        self._counts[level] += 1
        if self._counts[level] > self._limits[level]:
            return
        emit = io.error if level == "error" else io.warning
        emit(message, file=self.file_of(repo_path) or None, title=title)

    def finish(self) -> None:
        """A notice per level whose annotations went over the limit."""
        for level, count in self._counts.items():
            shown = self._limits[level]
            if count > shown:
                io.notice(
                    f"{count - shown} more {level}s not annotated (GitHub shows "
                    f"{MAX_ANNOTATIONS_PER_LEVEL} per step): see the step summary and the SBOM.",
                    title=f"usc: {count} {level}s",
                )


def _component_warnings(document: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(usc:path, message) of every `usc:warning` on a component, nested ones included."""
    from unified_supply_chain.bom.properties import Prop
    from unified_supply_chain.bom.view import BomView

    return [
        (c.path or "", warning)
        for c in BomView.of(document).components
        for warning in c.props_named(Prop.WARNING)
    ]


# ------------------------------------------------------------------------------------------ run


def configure(parser: argparse.ArgumentParser) -> None:
    """No arguments: the action passes everything as `INPUT_*` environment variables."""
    parser.epilog = (
        "Reads the action's inputs from INPUT_* environment variables (see action.yml); "
        "meant to be run by the composite action, not by hand."
    )


def _policy_fail_on(policy: Any) -> Severity | None:
    value = getattr(policy, "fail_on", None)
    if value is None or isinstance(value, Severity):
        return value
    text = str(value).lower()
    return None if text == "" else parse_severity(text)


def _release_upload(inputs: ActionInputs, sbom: Path) -> None:
    event_name = os.environ.get("GITHUB_EVENT_NAME", "")
    if not inputs.upload_release_assets:
        return
    if event_name != "release":
        io.log(f"upload-release-assets: not a release event ({event_name or 'none'}), skipped")
        return
    from unified_supply_chain.github.client import github_env, make_github
    from unified_supply_chain.github.releases import (
        release_id_from_event,
        upload_release_asset,
    )
    from unified_supply_chain.safeparse import load_json_file

    env = github_env()
    if not env.event_path or not env.repository:
        raise UsageError("upload-release-assets: GITHUB_EVENT_PATH/GITHUB_REPOSITORY not set")
    release_id = release_id_from_event(load_json_file(Path(env.event_path)))
    token = inputs.github_token or env.token
    if not token:
        raise UsageError("upload-release-assets needs a token: the `github-token` input is empty")
    gh = make_github(token, env.api_url)
    asset = upload_release_asset(
        gh, env.repository, release_id, sbom, name=f"{inputs.artifact_name}.cdx.json"
    )
    verb = "replaced" if asset.replaced else "uploaded"
    io.log(f"release asset {verb}: {asset.url}")


def _counts(document: Mapping[str, Any]) -> dict[str, int]:
    from unified_supply_chain.report.step_summary import count_kinds

    return count_kinds(document)


def execute(inputs: ActionInputs) -> int:
    """Everything after input parsing. Returns the exit code."""
    from unified_supply_chain.bom.write import write_document
    from unified_supply_chain.options import ScanOptions
    from unified_supply_chain.pipeline import generate
    from unified_supply_chain.policy import evaluate, load_policy
    from unified_supply_chain.report.step_summary import StepSummary

    if inputs.github_token:
        io.add_mask(inputs.github_token)
    io.debug(repr(inputs))

    policy = load_policy(inputs.policy, inputs.path)
    fail_on = inputs.fail_on if inputs.fail_on_given else _policy_fail_on(policy)

    options = ScanOptions(
        root=inputs.path,
        spec_version=inputs.spec_version,
        include=inputs.include,
        exclude=inputs.exclude,
        merge=inputs.merge,
        reproducible=inputs.reproducible,
        # The hash cache only pays where a workflow persists it (actions/cache), so it is used
        # when USC_CACHE_DIR names its directory, as the reusable workflows do.
        cache_dir=Path(os.environ["USC_CACHE_DIR"]) if os.environ.get("USC_CACHE_DIR") else None,
    )
    with io.group("usc: scan"):
        generated = generate(options)
    document = generated.document
    inventory: Inventory = generated.inventory
    sha256 = write_document(document, inputs.output_file)
    findings: list[Finding] = list(evaluate(document, policy))
    counts = _counts(document)

    sbom_path = inputs.output_file
    io.set_output("sbom-path", str(sbom_path))
    io.set_output("sbom-sha256", sha256)
    io.set_output("artifact-name", inputs.artifact_name)
    io.set_output("model-count", str(counts["model"]))
    io.set_output("dataset-count", str(counts["dataset"]))
    io.set_output("hyperparameter-count", str(counts["hyperparameters"]))
    io.set_output("library-count", str(counts["library"]))
    io.set_output("findings-count", str(len(findings)))
    # Read by the upload step of action.yml (validated here, so the YAML needs no logic).
    io.set_output("upload-artifact", "true" if inputs.upload_artifact else "false")
    io.set_output("retention-days", str(inputs.retention_days or ""))

    io.append_summary(StepSummary(findings=findings).format(document))

    annotator = Annotator(inputs.workspace, inputs.path)
    for problem in inventory.problems:
        annotator.emit("warning", problem.message, problem.path, "usc: warning")
    for path, message in _component_warnings(document):
        annotator.emit("warning", message, path, "usc: warning")
    failing = [f for f in findings if reaches(f, fail_on)]
    for finding in findings:
        level = "error" if reaches(finding, fail_on) else "warning"
        message = finding.message
        if finding.details:
            message += " (" + "; ".join(finding.details) + ")"
        annotator.emit(
            level, message, finding.path, f"usc: {finding.rule} ({finding.severity.value})"
        )
    annotator.finish()

    io.log(
        f"wrote {sbom_path} (sha256 {sha256[:12]}): {counts['model']} models, "
        f"{counts['dataset']} datasets, {counts['hyperparameters']} hyperparameter sets, "
        f"{counts['library']} libraries, {len(findings)} findings"
    )
    _release_upload(inputs, sbom_path)

    if failing:
        assert fail_on is not None
        io.error(
            f"{len(failing)} policy findings at or above '{fail_on.value}' (fail-on); "
            f"the SBOM was written to {sbom_path}",
            title="usc: policy failed",
        )
        return EXIT_FINDINGS
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    """Parse the inputs (a bad one is an error annotation and exit 2), then run the action."""
    try:
        inputs = parse_inputs()
    except io.InputError as exc:
        io.error(str(exc), title=f"usc: invalid input '{exc.input_name}'")
        return EXIT_USAGE
    try:
        return execute(inputs)
    except UsageError as exc:
        io.error(str(exc), title="usc: usage error")
        return EXIT_USAGE
    except UscError as exc:
        # Annotated here; cli.py still maps the type to its exit code and logs it on stderr.
        io.error(str(exc), title=f"usc: {type(exc).__name__}")
        raise
