"""Fail closed: the exact allow-list file, dotted names, and `usc:scan:complete` on components.

Pickles are only written here, never loaded (the scanner walks opcodes).
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

import pytest

from unified_supply_chain.records import Severity
from unified_supply_chain.safety.pickle_scan import (
    allowed_pairs,
    is_allowed_global,
    is_dangerous_global,
    parse_allow_list,
    scan_pickle_bytes,
)


def test_allow_list_entries_are_exact_commented_pairs() -> None:
    assert parse_allow_list("# heading\n\ncollections OrderedDict  # why\n") == [
        ("collections", "OrderedDict")
    ]
    for bad in ("collections OrderedDict\n", "a b c  # three names\n", "a.  b  # not a name\n"):
        with pytest.raises(ValueError, match="line 1"):
            parse_allow_list(bad)
    # The shipped file parses and allows nothing that runs code.
    assert allowed_pairs()
    assert not any(is_dangerous_global(m, n) for m, n in allowed_pairs())


@pytest.mark.parametrize(
    ("module", "name"),
    [
        # Protocol 4 resolves a dotted name attribute by attribute (pickle._getattribute).
        ("sklearn.utils.fixes", "np.f2py.subprocess.Popen"),
        ("numpy", "f2py.os.system"),
        ("collections", "OrderedDict.__init__.__globals__"),
        ("builtins", "__import__"),
        ("torch.serialization", "load"),
    ],
)
def test_no_traversal_past_an_allowed_name(module: str, name: str) -> None:
    assert not is_allowed_global(module, name)
    assert is_dangerous_global(module, name)


def test_python2_names_are_mapped_as_find_class_maps_them() -> None:
    # GLOBAL '__builtin__ eval' below protocol 3 imports builtins.eval (_compat_pickle).
    data = b"c__builtin__\neval\n(S'1'\ntR."
    findings = scan_pickle_bytes(data, "m.pkl")
    assert [f.severity for f in findings] == [Severity.CRITICAL]
    assert "builtins.eval" in findings[0].details


def test_a_missing_memo_entry_is_an_error_not_a_value() -> None:
    # pickle raises "Memo value not found"; a walk that guessed would diverge from the loader.
    findings = scan_pickle_bytes(b"\x80\x04h\x07.", "m.pkl")
    assert [f.severity for f in findings] == [Severity.HIGH]
    assert "memo value 7 not found" in findings[0].message


def test_every_stream_is_walked() -> None:
    # A second pickle after the first STOP is read by loaders that call load() again.
    data = pickle.dumps(OrderedDict(a=1), protocol=4) + b"cposix\nsystem\n(S'id'\ntR."
    findings = scan_pickle_bytes(data, "m.pkl")
    assert [f.severity for f in findings] == [Severity.CRITICAL]


def _sbom(repo: Path, *args: str) -> tuple[int, dict[str, object]]:
    out = repo.parent / "sbom.json"
    proc = subprocess.run(
        [sys.executable, "-m", "unified_supply_chain", "sbom", str(repo), "-o", str(out), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.returncode, json.loads(out.read_text())


def _props(doc: dict[str, object], path: str) -> list[tuple[str, str]]:
    for comp in doc.get("components", []):  # type: ignore[union-attr]
        props = [(p["name"], p["value"]) for p in comp.get("properties", [])]
        if ("usc:path", path) in props:
            return props
    raise AssertionError(f"no component for {path}")


def test_scan_completeness_is_recorded_and_fails_the_gate(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "models").mkdir(parents=True)
    whole = pickle.dumps({"weights": list(range(50))}, protocol=4)
    (repo / "models" / "ok.pkl").write_bytes(whole)
    (repo / "models" / "cut.pkl").write_bytes(whole[: len(whole) // 2])
    code, doc = _sbom(repo, "--fail-on", "high")
    assert code == 1
    ok, cut = _props(doc, "models/ok.pkl"), _props(doc, "models/cut.pkl")
    assert ("usc:scan:complete", "true") in ok
    assert not [v for k, v in ok if k == "usc:scan:reason"]
    assert ("usc:scan:complete", "false") in cut
    reasons = [v for k, v in cut if k == "usc:scan:reason"]
    assert reasons and "could not be verified safe" in reasons[0]
    (repo / "models" / "cut.pkl").unlink()
    code, doc = _sbom(repo, "--fail-on", "high")
    assert code == 0


def test_a_pickle_under_a_config_or_script_name_is_still_swept(tmp_path: Path) -> None:
    # Names that classify as formats without a safety hook (a dataset builder script, a
    # params file) do not hide a protocol 0 pickle: pickle.load reads it whatever its name.
    repo = tmp_path / "repo"
    (repo / "mydata").mkdir(parents=True)
    payload = b"cposix\nsystem\n(S'id'\ntR."
    (repo / "mydata" / "mydata.py").write_bytes(payload)
    (repo / "params.yaml").write_bytes(payload)
    code, doc = _sbom(repo, "--fail-on", "high")
    assert code == 1
    for path in ("mydata/mydata.py", "params.yaml"):
        findings = [
            p["value"]
            for comp in doc["components"]  # type: ignore[union-attr]
            for p in comp.get("properties", [])
            if p["name"] == "usc:finding"
            and {"name": "usc:path", "value": path} in comp.get("properties", [])
        ]
        assert any('"critical"' in f and "posix.system" in f for f in findings), path
