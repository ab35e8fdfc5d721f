"""`usc sbom` over the whole hostile corpus (tests/corpus.py): exit 0, a schema-valid SBOM,
exactly one warning line per bad file, and bounded time per file.

Runs once in-process (so the filesystem faults that need a monkeypatch can be injected) and once
through a subprocess (the real entry point, without those faults).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import time
from collections import Counter
from pathlib import Path

import pytest

from tests import corpus
from tests.helpers import assert_valid_cyclonedx, run_usc
from unified_supply_chain.cli import main

#: Seconds allowed per bad file on top of a fixed base (imports, schema validation): generous
#: for a loaded 2-core runner, yet orders of magnitude under what a hang or a bomb would take.
BASE_SECONDS = 60.0
PER_FILE_SECONDS = 2.0
#: One reader call on one corpus file.
READER_SECONDS = 2.0

_LINE = re.compile(r"^usc: warning: (?P<path>.*?): (?P<message>.*)$")


def _spellings(path: str) -> set[str]:
    """How a path can appear in a warning line: as is, with replacement characters for
    non-UTF-8 bytes (as in the SBOM), or with backslash escapes (what Python's stderr does
    with undecodable file-name bytes)."""
    return {
        path,
        path.encode("utf-8", "surrogateescape").decode("utf-8", "replace"),
        path.encode("utf-8", "backslashreplace").decode("utf-8"),
    }


def names(line_path: str, message: str, rel: str) -> bool:
    """True when a warning line is about `rel`: it is the line's path, or the message names it
    (a directory model's line names its member, a model's line names its unreadable card)."""
    spellings = _spellings(rel)
    if line_path in spellings:
        return True
    for spelling in spellings:
        if re.search(rf"(?:^|\s){re.escape(spelling)}(?::|\s|$)", message):
            return True
    return False


def count_warnings(stderr: str, bad: list[str]) -> tuple[Counter[str], list[str]]:
    """Warning lines per bad path, and the warning lines about none of them."""
    counts: Counter[str] = Counter({b: 0 for b in bad})
    stray: list[str] = []
    for line in stderr.splitlines():
        m = _LINE.match(line)
        if m is None:
            continue
        hit = [b for b in bad if names(m["path"], m["message"], b)]
        for b in hit:
            counts[b] += 1
        if not hit:
            stray.append(line)
    return counts, stray


@pytest.fixture(scope="module")
def in_process_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[corpus.Corpus, str, dict, float]:
    root = tmp_path_factory.mktemp("corpus") / "repo"
    generated = corpus.generate(root)
    out = root.parent / "sbom.cdx.json"
    err = io.StringIO()
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        for fault, paths in generated.faults:
            stack.enter_context(fault.install(root, paths))
        stack.enter_context(contextlib.redirect_stderr(err))
        code = main(["sbom", str(root), "-o", str(out), "--no-cache", "-q"])
    elapsed = time.perf_counter() - started
    # Fail closed: the corrupt pickle-bearing files could not be verified safe, so the default
    # gate (fail-on high) fails, after the SBOM is written.
    assert code == 1, err.getvalue()
    return generated, err.getvalue(), json.loads(out.read_text(encoding="utf-8")), elapsed


def test_corpus_covers_every_kind(in_process_run: tuple[corpus.Corpus, str, dict, float]) -> None:
    generated, _, _, _ = in_process_run
    kinds = {kind.name for kind, _ in generated.bad.values()}
    assert kinds == {k.name for k in corpus.KINDS}
    assert len(corpus.KINDS) >= 50


def test_sbom_is_schema_valid(in_process_run: tuple[corpus.Corpus, str, dict, float]) -> None:
    _, _, document, _ = in_process_run
    assert_valid_cyclonedx(document)


def test_exactly_one_warning_line_per_bad_file(
    in_process_run: tuple[corpus.Corpus, str, dict, float],
) -> None:
    generated, stderr, _, _ = in_process_run
    counts, stray = count_warnings(stderr, list(generated.bad))
    wrong = {
        p: (counts[p], expected)
        for p, (_, expected) in generated.bad.items()
        if counts[p] != expected
    }
    assert not wrong, f"path: (warning lines, expected) {wrong}\n{stderr}"
    assert not stray, "warnings about files that are not bad:\n" + "\n".join(stray)


def test_whole_run_is_bounded(in_process_run: tuple[corpus.Corpus, str, dict, float]) -> None:
    generated, _, _, elapsed = in_process_run
    assert elapsed < BASE_SECONDS + PER_FILE_SECONDS * len(generated.bad)


def test_each_reader_call_is_bounded(tmp_path: Path) -> None:
    """Every corpus file a format reader handles: refused with a warning, quickly."""
    from unified_supply_chain.discover.classify import classify
    from unified_supply_chain.formats import registry
    from unified_supply_chain.inspection.headers import read_header

    checked = []
    for kind in corpus.KINDS:
        if kind.fault is not None or kind.needs:
            continue
        sub = tmp_path / kind.name
        for rel in kind.make(sub):
            path = sub / rel
            fmt = classify(path.read_bytes()[:512], rel)
            spec = registry().get(fmt)
            if spec is None or spec.reader is None:
                continue
            started = time.perf_counter()
            header, warning = read_header(path, fmt)
            elapsed = time.perf_counter() - started
            assert elapsed < READER_SECONDS, f"{kind.name} ({fmt}) took {elapsed:.2f} s"
            assert header is None and warning, f"{kind.name} ({fmt}) read without a warning"
            assert "reader error" not in warning, warning
            checked.append(kind.name)
    assert len(checked) >= 25, checked


def test_subprocess_run(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    generated = corpus.generate(root, in_process=False)
    out = tmp_path / "sbom.cdx.json"
    started = time.perf_counter()
    result = run_usc("sbom", str(root), "-o", str(out), "--no-cache", "-q", timeout=600)
    elapsed = time.perf_counter() - started
    # Fail closed: corrupt pickle-bearing files could not be verified safe (high), so the
    # default gate fails, after the SBOM is written.
    assert result.returncode == 1, result.stderr
    assert "could not be verified safe" in result.stderr
    document = json.loads(out.read_text(encoding="utf-8"))
    assert_valid_cyclonedx(document)
    counts, stray = count_warnings(result.stderr, list(generated.bad))
    wrong = {
        p: (counts[p], expected)
        for p, (_, expected) in generated.bad.items()
        if counts[p] != expected
    }
    assert not wrong, f"path: (warning lines, expected) {wrong}\n{result.stderr}"
    assert not stray, "\n".join(stray)
    assert elapsed < BASE_SECONDS + PER_FILE_SECONDS * len(generated.bad)
