"""Check runs against the fake GitHub: batching, retries, faults, degradation, SBOM integrity."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.github_fake import HEAD_SHA, REPOSITORY, TOKEN, FakeGitHub, Fault
from unified_supply_chain import cli
from unified_supply_chain.github import checks, client
from unified_supply_chain.github.checks import (
    Annotation,
    AnnotationLevel,
    ChecksPermissionError,
    Conclusion,
    publish_check_run,
)
from unified_supply_chain.github.client import GitHubApiError, make_github


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    # Retries stay on (they are under test) but back off in milliseconds, not seconds.
    monkeypatch.setattr(client, "RETRY_BACKOFF", 0.01)


def gh_for(fake: FakeGitHub, *, retry: bool = True, timeout: int = 5) -> Any:
    return make_github(TOKEN, fake.base_url, retry=retry, timeout=timeout, backoff_factor=0.01)


def many(n: int) -> list[Annotation]:
    return [
        Annotation(f"models/m{i:03d}.onnx", f"message {i}", AnnotationLevel.NOTICE)
        for i in range(n)
    ]


def publish(gh: Any, conclusion: Conclusion = Conclusion.SUCCESS, **extra: Any) -> Any:
    """publish_check_run of check "n" on HEAD_SHA with title "t" and summary "s"."""
    return publish_check_run(
        gh,
        REPOSITORY,
        name="n",
        head_sha=HEAD_SHA,
        conclusion=conclusion,
        title="t",
        summary="s",
        **extra,
    )


def test_annotations_split_over_requests_none_lost(fake_github: FakeGitHub) -> None:
    gh = gh_for(fake_github, retry=False)
    result = publish_check_run(
        gh,
        REPOSITORY,
        name="ML supply chain",
        head_sha=HEAD_SHA,
        conclusion=Conclusion.FAILURE,
        title="t",
        summary="s",
        annotations=many(123),
        details_url="https://github.example.com/octo/ml-app/actions/runs/1",
    )
    (cid,) = fake_github.check_runs
    got = fake_github.annotations[cid]
    assert len(got) == 123 == result.annotations_sent
    assert sorted(a["message"] for a in got) == sorted(f"message {i}" for i in range(123))
    creates = fake_github.requests_to("check-runs.create")
    updates = fake_github.requests_to("check-runs.update")
    assert len(creates) == 1 and creates[0].body["status"] == "in_progress"
    assert [len(u.body["output"].get("annotations", [])) for u in updates] == [50, 50, 23]
    # The conclusion comes only with the last batch, once every annotation is there.
    assert [u.body.get("conclusion") for u in updates] == [None, None, "failure"]
    assert fake_github.check_runs[cid]["status"] == "completed"
    assert result.requests == 4
    assert all(
        r.authorization == f"token {TOKEN}" or r.authorization == f"Bearer {TOKEN}"
        for r in fake_github.received
    )


def test_exactly_fifty_annotations_fit_the_completing_update(fake_github: FakeGitHub) -> None:
    gh = gh_for(fake_github, retry=False)
    publish(gh, annotations=many(50))
    updates = fake_github.requests_to("check-runs.update")
    assert len(updates) == 1 and len(updates[0].body["output"]["annotations"]) == 50


def test_500_then_success_is_retried(fake_github: FakeGitHub) -> None:
    fake_github.inject("POST", "check-runs.create", Fault("status", 500), Fault("status", 502))
    gh = gh_for(fake_github)
    publish(gh)
    assert len(fake_github.requests_to("check-runs.create")) == 3
    assert len(fake_github.check_runs) == 1


def test_persistent_500_gives_up_after_bounded_retries(fake_github: FakeGitHub) -> None:
    fake_github.inject("POST", "check-runs.create", *[Fault("status", 503)] * 10)
    gh = gh_for(fake_github)
    with pytest.raises(GitHubApiError) as exc:
        checks.start_check_run(gh, REPOSITORY, name="n", head_sha=HEAD_SHA)
    assert len(fake_github.requests_to("check-runs.create")) == 1 + client.MAX_RETRIES
    assert "creating the check run" in str(exc.value)


def test_secondary_rate_limit_with_retry_after_waits_and_succeeds(
    fake_github: FakeGitHub,
) -> None:
    fake_github.inject("PATCH", "check-runs.update", Fault("rate-limit", seconds=1))
    gh = gh_for(fake_github)
    started = time.monotonic()
    publish(gh, Conclusion.NEUTRAL)
    assert time.monotonic() - started >= 0.9  # Retry-After: 1 was honoured
    assert len(fake_github.requests_to("check-runs.update")) == 2
    assert fake_github.check_runs[next(iter(fake_github.check_runs))]["conclusion"] == "neutral"


def test_403_without_retry_after_is_a_permission_error_not_retried(
    fake_github: FakeGitHub,
) -> None:
    fake_github.inject("POST", "check-runs.create", Fault("forbidden"))
    gh = gh_for(fake_github)
    with pytest.raises(ChecksPermissionError) as exc:
        checks.start_check_run(gh, REPOSITORY, name="n", head_sha=HEAD_SHA)
    assert "checks: write" in str(exc.value)
    assert "Resource not accessible by integration" in str(exc.value)
    assert len(fake_github.requests_to("check-runs.create")) == 1


def test_422_is_reported_with_github_details_and_not_retried(fake_github: FakeGitHub) -> None:
    fake_github.inject("POST", "check-runs.create", Fault("unprocessable"))
    gh = gh_for(fake_github)
    with pytest.raises(GitHubApiError) as exc:
        checks.start_check_run(gh, REPOSITORY, name="n", head_sha=HEAD_SHA)
    assert exc.value.status == 422
    assert "Validation Failed" in str(exc.value)
    assert len(fake_github.requests_to("check-runs.create")) == 1


def test_connection_reset_is_retried(fake_github: FakeGitHub) -> None:
    fake_github.inject("POST", "check-runs.create", Fault("reset"))
    gh = gh_for(fake_github)
    run = checks.start_check_run(gh, REPOSITORY, name="n", head_sha=HEAD_SHA)
    assert run.id in fake_github.check_runs
    assert len(fake_github.requests_to("check-runs.create")) == 2


def test_timeout_is_retried(fake_github: FakeGitHub) -> None:
    fake_github.inject("PATCH", "check-runs.update", Fault("slow", seconds=1.5))
    gh = gh_for(fake_github, timeout=1)
    publish(gh)
    assert len(fake_github.requests_to("check-runs.update")) == 2
    assert fake_github.check_runs[next(iter(fake_github.check_runs))]["status"] == "completed"


def test_failed_completion_closes_the_run(fake_github: FakeGitHub) -> None:
    fake_github.inject("PATCH", "check-runs.update", Fault("unprocessable"))
    gh = gh_for(fake_github)
    with pytest.raises(GitHubApiError):
        publish(gh)
    run = fake_github.check_runs[next(iter(fake_github.check_runs))]
    assert run["status"] == "completed" and run["conclusion"] == "neutral"
    assert "could not be published" in run["output"]["summary"]


# ------------------------------------------------------------------------------ usc check CLI


def component(kind: str, path: str, sha: str, **extra: Any) -> dict[str, Any]:
    ctype = "machine-learning-model" if kind == "model" else "data"
    comp: dict[str, Any] = {
        "type": ctype,
        "name": Path(path).stem,
        "bom-ref": f"{kind}:{path}",
        "hashes": [{"alg": "SHA-256", "content": sha}],
        "properties": [{"name": "usc:kind", "value": kind}, {"name": "usc:path", "value": path}],
    }
    if kind == "dataset":
        comp["data"] = [{"type": "dataset", "name": Path(path).stem}]
    comp.update(extra)
    return comp


def finding_prop(severity: str, path: str, rule: str = "unsafe-serialization") -> dict[str, str]:
    return {
        "name": "usc:finding",
        "value": json.dumps(
            {
                "rule": rule,
                "severity": severity,
                "message": f"{rule} in {path}",
                "path": path,
                "details": ["os.system"],
            }
        ),
    }


def write_pair(
    tmp_path: Path, *, n_models: int = 3, severity: str | None = None
) -> tuple[Path, Path]:
    base = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "components": [component("model", f"models/m{i}.onnx", "a" * 64) for i in range(n_models)],
    }
    head_components = [component("model", f"models/m{i}.onnx", "b" * 64) for i in range(n_models)]
    head_components.append(component("dataset", "data/train.csv", "c" * 64))
    if severity:
        head_components[0]["properties"].append(finding_prop(severity, "models/m0.onnx"))
    head = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "components": head_components,
    }
    bp, hp = tmp_path / "base.cdx.json", tmp_path / "head.cdx.json"
    bp.write_text(json.dumps(base, indent=2))
    hp.write_text(json.dumps(head, indent=2))
    return bp, hp


POLICY = """\
version: 1
fail-on: high
rules:
  model-without-licence: false
  dataset-without-licence: false
  model-without-lineage: false
  artifact-without-content: false
  large-binary-not-in-lfs: false
  metric-threshold: false
"""


def check_args(tmp_path: Path, base: Path, head: Path, *extra: str) -> list[str]:
    """`usc check` arguments with a policy that keeps only the recorded safety findings."""
    policy = tmp_path / "policy.yml"
    policy.write_text(POLICY)
    return [
        "check",
        "--base",
        str(base),
        "--head",
        str(head),
        "--policy",
        str(policy),
        "--repo",
        str(tmp_path),
        *extra,
    ]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_check_command_publishes_with_many_annotations(
    fake_github: FakeGitHub, github_environ: dict[str, str], tmp_path: Path
) -> None:
    base, head = write_pair(tmp_path, n_models=60, severity="critical")
    before = digest(head), digest(base)
    code = cli.main(check_args(tmp_path, base, head))
    assert code == 1  # critical finding >= high
    (cid,) = fake_github.check_runs
    run = fake_github.check_runs[cid]
    assert run["conclusion"] == "failure" and run["head_sha"] == HEAD_SHA
    assert run["details_url"] == "https://github.example.com/octo/ml-app/actions/runs/4242"
    # 1 finding + 60 changed models + 1 added dataset, none lost.
    got = fake_github.annotations[cid]
    assert len(got) == 62
    assert got[0]["annotation_level"] == "failure" and got[0]["path"] == "models/m0.onnx"
    assert {a["path"] for a in got} >= {f"models/m{i}.onnx" for i in range(60)}
    assert "### Policy findings" in run["output"]["summary"]
    assert "### Models" in run["output"]["summary"]
    assert (digest(head), digest(base)) == before
    summary = Path(github_environ["GITHUB_STEP_SUMMARY"]).read_text()
    assert "ML supply chain changes" in summary
    assert "conclusion<<" in Path(github_environ["GITHUB_OUTPUT"]).read_text()


@pytest.mark.parametrize(
    ("severity", "conclusion", "code"),
    [(None, "success", 0), ("low", "neutral", 0), ("high", "failure", 1)],
)
def test_check_conclusions(
    fake_github: FakeGitHub,
    github_environ: dict[str, str],
    tmp_path: Path,
    severity: str | None,
    conclusion: str,
    code: int,
) -> None:
    base, head = write_pair(tmp_path, severity=severity)
    assert cli.main(check_args(tmp_path, base, head)) == code
    (run,) = fake_github.check_runs.values()
    assert run["conclusion"] == conclusion


def test_read_only_token_degrades_to_summary_and_annotations(
    fake_github: FakeGitHub,
    github_environ: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    base, head = write_pair(tmp_path, severity="high")
    before = digest(head), digest(base)
    fake_github.inject("POST", "check-runs.create", Fault("forbidden"))
    code = cli.main(check_args(tmp_path, base, head))
    assert code == 1  # the policy still decides the exit status
    assert fake_github.check_runs == {}
    out = capsys.readouterr().out
    assert "::warning title=Check run not created::" in out
    assert "checks: write" in out
    assert any(
        line.startswith("::error ") and "file=models/m0.onnx" in line for line in out.splitlines()
    )
    summary = Path(github_environ["GITHUB_STEP_SUMMARY"]).read_text()
    assert "Policy findings" in summary and "ML supply chain changes" in summary
    assert (digest(head), digest(base)) == before


@pytest.mark.parametrize(
    ("method", "route", "faults"),
    [
        ("POST", "check-runs.create", [Fault("status", 500)]),
        ("PATCH", "check-runs.update", [Fault("rate-limit", seconds=1)]),
        ("POST", "check-runs.create", [Fault("reset")]),
        ("PATCH", "check-runs.update", [Fault("slow", seconds=1.5)]),
    ],
    ids=["500-then-ok", "secondary-rate-limit", "connection-reset", "timeout"],
)
def test_check_command_survives_transient_faults(
    fake_github: FakeGitHub,
    github_environ: dict[str, str],
    tmp_path: Path,
    method: str,
    route: str,
    faults: list[Fault],
) -> None:
    base, head = write_pair(tmp_path)
    before = digest(head), digest(base)
    fake_github.inject(method, route, *faults)
    code = cli.main(check_args(tmp_path, base, head, "--timeout", "1"))
    assert code == 0
    (run,) = fake_github.check_runs.values()
    assert run["status"] == "completed" and run["conclusion"] == "success"
    assert len(fake_github.requests_to(route)) == 1 + len(faults)
    assert (digest(head), digest(base)) == before


def test_check_command_422_fails_clearly_but_keeps_the_report(
    fake_github: FakeGitHub,
    github_environ: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    base, head = write_pair(tmp_path)
    before = digest(head), digest(base)
    fake_github.inject("POST", "check-runs.create", Fault("unprocessable"))
    with pytest.raises(SystemExit) as exc:
        cli.main(check_args(tmp_path, base, head))
    assert exc.value.code == cli.EXIT_ERROR
    captured = capsys.readouterr()
    assert "GitHub answered 422: Validation Failed" in captured.err
    assert "ML supply chain changes" in Path(github_environ["GITHUB_STEP_SUMMARY"]).read_text()
    assert any(
        line.startswith("::notice ") and "file=models/m0.onnx" in line
        for line in captured.out.splitlines()
    )
    assert (digest(head), digest(base)) == before


def test_check_command_without_token_prints_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for var in (
        "GITHUB_TOKEN",
        "GITHUB_ACTIONS",
        "GITHUB_STEP_SUMMARY",
        "GITHUB_OUTPUT",
        "GITHUB_EVENT_PATH",
        "GITHUB_REPOSITORY",
        "GITHUB_SHA",
    ):
        monkeypatch.delenv(var, raising=False)
    base, head = write_pair(tmp_path)
    assert cli.main(check_args(tmp_path, base, head)) == 0
    out = capsys.readouterr()
    assert "ML supply chain changes" in out.out
    assert "no GitHub token" in out.err


def test_check_command_ghes_base_url_and_comment(
    fake_github: FakeGitHub, github_environ: dict[str, str], tmp_path: Path
) -> None:
    # GITHUB_API_URL carries the GHES-style /api/v3 prefix: every request must use it.
    base, head = write_pair(tmp_path)
    assert cli.main(check_args(tmp_path, base, head, "--comment")) == 0
    assert all(r.path.startswith("/api/v3/") for r in fake_github.received)
    (comment,) = fake_github.comments.values()
    assert comment["_issue"] == 7
    assert comment["body"].startswith("<!-- unified-supply-chain:sbom-diff -->")


def test_base_ref_generates_the_pr_base_in_a_worktree(
    fake_github: FakeGitHub,
    github_environ: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import subprocess

    from unified_supply_chain.commands import diff as diff_command

    base, head = write_pair(tmp_path)
    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
        ).stdout.strip()

    git("init", "-q", "-b", "main")
    git("config", "user.email", "t@example.com")
    git("config", "user.name", "t")
    (repo / "sbom-source.json").write_text(base.read_text())
    # The policy is read from the base commit (--base-ref implies --policy-ref): commit it there.
    (tmp_path / "policy.yml").write_text(POLICY)
    (tmp_path / "policy.yml").rename(repo / "policy.yml")
    git("add", "sbom-source.json", "policy.yml")
    git("commit", "-q", "-m", "base")
    base_sha = git("rev-parse", "HEAD")
    (repo / "sbom-source.json").write_text("{}")
    git("commit", "-q", "-am", "later work on main")
    event = json.loads(Path(github_environ["GITHUB_EVENT_PATH"]).read_text())
    event["pull_request"]["base"]["sha"] = base_sha
    Path(github_environ["GITHUB_EVENT_PATH"]).write_text(json.dumps(event))
    # The scan is stood in for by the tree's own file: the check must read the PR base commit.
    monkeypatch.setattr(
        diff_command,
        "generate_document",
        lambda root: json.loads((root / "sbom-source.json").read_text()),
    )
    args = check_args(tmp_path, base, head)
    args[args.index("--base") : args.index("--base") + 2] = ["--base-ref"]
    args[args.index("--repo") + 1] = str(repo)
    args[args.index("--policy") + 1] = str(repo / "policy.yml")
    assert cli.main(args) == 0
    (run,) = fake_github.check_runs.values()
    summary = run["output"]["summary"]
    assert "| Models | 0 | 0 | 3 | 0 |" in summary  # changed against the base commit's models
    assert git("worktree", "list").count("\n") == 0


def test_recorded_findings_decide_through_the_policy(
    fake_github: FakeGitHub,
    github_environ: dict[str, str],
    tmp_path: Path,
) -> None:
    base, head = write_pair(tmp_path, severity="critical")
    assert cli.main(check_args(tmp_path, base, head)) == 1  # critical >= fail-on high
    (run,) = fake_github.check_runs.values()
    assert run["conclusion"] == "failure"
    assert "unsafe-serialization" in run["output"]["summary"]


def test_findings_from_properties_reads_components_and_application() -> None:
    from unified_supply_chain.commands.check import findings_from_properties

    recorded = json.dumps({"rule": "unsafe-serialization", "severity": "Critical", "path": "a"})
    doc = {
        "metadata": {"component": {"properties": [{"name": "usc:finding", "value": recorded}]}},
        "components": [{"properties": [{"name": "usc:finding", "value": recorded}]}],
    }
    found = findings_from_properties(doc)
    # Severities in any case are read (they used to be dropped unless lower-case).
    assert [f.severity.value for f in found] == ["critical", "critical"]
