"""`usc sbom` with findings: an unsafe pickle is flagged on its component, `--fail-on` sets the exit
code (after the SBOM is written), `--sarif` writes valid SARIF, and a policy file is honoured."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import jsonschema

from tests.helpers import assert_valid_cyclonedx, components_by_path, props, run_usc

SARIF_SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "sarif-2.1.0.json"


class _Payload:
    """Pickles to a call of os.system; the test only writes the bytes, never loads them."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return (os.system, ("echo pwned",))


def _repo(root: Path) -> Path:
    (root / "models").mkdir(parents=True)
    (root / "models/evil.pkl").write_bytes(pickle.dumps(_Payload(), protocol=4))
    (root / "models/fine.pkl").write_bytes(pickle.dumps({"weights": [1.0, 2.0]}, protocol=4))
    return root


def test_unsafe_pickle_is_a_finding_and_fail_on_sets_the_exit(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo")
    out, sarif = tmp_path / "sbom.json", tmp_path / "findings.sarif"
    result = run_usc(
        "sbom", str(root), "-o", str(out), "--sarif", str(sarif), "--fail-on", "high", "--no-cache"
    )
    assert result.returncode == 1, result.stderr
    document = json.loads(out.read_text())  # written before the exit code was decided
    assert_valid_cyclonedx(document)
    by_path = components_by_path(document)
    findings = [json.loads(v) for v in props(by_path["models/evil.pkl"], "usc:finding")]
    assert findings and findings[0]["rule"] == "unsafe-serialization"
    assert findings[0]["severity"] == "critical"
    assert any("system" in d for d in findings[0]["details"])
    assert props(by_path["models/fine.pkl"], "usc:finding") == []
    assert "usc: finding: [critical] unsafe-serialization" in result.stderr
    log = json.loads(sarif.read_text())
    jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text()))
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    }
    assert "models/evil.pkl" in uris


def test_without_policy_or_fail_on_a_critical_pickle_fails_the_run(tmp_path: Path) -> None:
    # Secure default: no policy file, no --fail-on -> high and above fail (policy.config).
    root = _repo(tmp_path / "repo")
    out = tmp_path / "s.json"
    result = run_usc("sbom", str(root), "-o", str(out), "-q", "--no-cache")
    assert result.returncode == 1, result.stderr
    assert out.is_file()  # written before the exit status was decided
    assert "[critical] unsafe-serialization: models/evil.pkl" in result.stderr
    # Only an explicit `none` turns failing off; an empty `fail-on:` keeps the default.
    assert (
        run_usc("sbom", str(root), "-o", str(out), "-q", "--no-cache", "--fail-on", "none")
    ).returncode == 0
    policy = root / ".github" / "unified-supply-chain.yml"
    policy.parent.mkdir()
    policy.write_text("version: 1\nfail-on:\n")
    assert run_usc("sbom", str(root), "-o", str(out), "-q", "--no-cache").returncode == 1
    policy.write_text("version: 1\nfail-on: none\n")
    assert run_usc("sbom", str(root), "-o", str(out), "-q", "--no-cache").returncode == 0


def test_policy_file_fail_on_and_allow_list(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo")
    policy = root / ".github" / "unified-supply-chain.yml"
    policy.parent.mkdir()
    policy.write_text("fail-on: high\n")
    result = run_usc("sbom", str(root), "-o", str(tmp_path / "s.json"), "-q", "--no-cache")
    assert result.returncode == 1
    # --fail-on on the command line wins over the policy file.
    result = run_usc(
        "sbom", str(root), "-o", str(tmp_path / "s.json"), "-q", "--no-cache", "--fail-on", "none"
    )
    assert result.returncode == 0


def test_malformed_policy_is_an_error_naming_the_line(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo")
    policy = root / "policy.yml"
    policy.write_text("fail-on: high\nrules:\n  no-such-rule: {}\n")
    out = tmp_path / "s.json"
    result = run_usc("sbom", str(root), "-o", str(out), "--policy", str(policy), "--no-cache")
    assert result.returncode == 3
    assert "policy.yml:3" in result.stderr
