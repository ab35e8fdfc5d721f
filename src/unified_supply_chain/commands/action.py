"""`usc action`: the composite action's entry point.

Reads every input once (from `INPUT_*` variables that action.yml passes through `env:`) into a
frozen `ActionInputs`, strictly validated; then generates the SBOM, writes it atomically, sets
the step outputs, writes the step summary and annotations, uploads a release asset when asked,
and only then fails the step when policy findings reach `fail-on`, so nothing is lost.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from unified_supply_chain import actions_io as io
from unified_supply_chain.commands.action_inputs import (
    DEFAULT_OUTPUT_FILE as DEFAULT_OUTPUT_FILE,
)
from unified_supply_chain.commands.action_inputs import (
    MAX_ARTIFACT_NAME as MAX_ARTIFACT_NAME,
)
from unified_supply_chain.commands.action_inputs import ActionInputs, inside
from unified_supply_chain.commands.action_inputs import (
    default_artifact_name as default_artifact_name,
)
from unified_supply_chain.commands.action_inputs import parse_inputs as parse_inputs
from unified_supply_chain.commands.action_inputs import (
    sanitise_artifact_name as sanitise_artifact_name,
)
from unified_supply_chain.errors import UsageError, UscError
from unified_supply_chain.records import Finding, Severity, parse_severity, reaches

if TYPE_CHECKING:
    from unified_supply_chain.records import Inventory

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
#: GitHub shows at most 10 annotations of each level per step; the rest would be dropped silently.
MAX_ANNOTATIONS_PER_LEVEL = 10

# --------------------------------------------------------------------------------- annotations


class Annotator:
    """Emits annotations, at most `limit` per level, then one notice with what was left out.

    One error is kept in reserve for the step's own verdict ("policy failed"), which must not be
    the one GitHub drops.
    """

    def __init__(self, workspace: Path, root: Path, limit: int = MAX_ANNOTATIONS_PER_LEVEL):
        self._prefix = root.relative_to(workspace).as_posix() if inside(root, workspace) else ""
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
