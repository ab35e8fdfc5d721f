"""The format registry holds, for every format, what the rest of the tool needs, and every format
is covered by a sniff test, a reader test, a fuzz target and a limit test.

The coverage checks walk the registry, so a new format without those tests fails here: there is
no hand-kept list of formats in the test suite.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import sys
import types
from pathlib import Path

import pytest

from tests.fuzz import targets as fuzz
from unified_supply_chain import limits
from unified_supply_chain.discover.classify import classify
from unified_supply_chain.errors import FormatError, LimitExceeded
from unified_supply_chain.formats import (
    FormatSpec,
    Kind,
    Sniff,
    build_registry,
    registry,
    resolve,
)

REG = registry()
TESTS = Path(__file__).resolve().parents[1]
#: Bytes a sample may be padded with at its end to check that readers read a bounded amount.
PAD = 1 << 30
#: No reader may read more than this of a file padded with `PAD` zero bytes.
READ_BUDGET = 160 * 1024 * 1024


def _covering_targets(format_id: str) -> list[fuzz.Target]:
    return [t for t in fuzz.TARGETS.values() if format_id in t.formats]


def _samples(format_id: str) -> list[tuple[bytes, str]]:
    """(content, repo-relative path) of every fuzz seed file of the format."""
    out = []
    for target in _covering_targets(format_id):
        for seed in target.seeds():
            content = seed.tree[seed.victim]
            data = content if isinstance(content, bytes) else content.encode("utf-8")
            out.append((data, seed.victim))
    return out


def _module_of(spec: FormatSpec) -> str:
    reader = spec.reader
    if isinstance(reader, str):
        return reader.partition(":")[0]
    assert reader is not None
    return reader.__module__


# --- the registry itself ---------------------------------------------------------------------


def test_ids_names_extensions_and_priorities_are_unique() -> None:
    ids = [s.id for s in REG.specs]
    assert len(ids) == len(set(ids))
    exts = [e for s in REG.specs for e in s.extensions]
    assert len(exts) == len(set(exts))
    assert all(e.startswith(".") and e == e.lower() for e in exts)
    names = [n for s in REG.specs for n in s.names]
    assert all(n == n.lower() for n in names)
    priorities = [sn.priority for sn, _ in REG.sniffs]
    assert priorities == sorted(set(priorities))


def test_conflicting_claims_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def spec(fid: str, ext: str, priority: int) -> FormatSpec:
        return FormatSpec(
            id=fid,
            kind=Kind.MODEL,
            description="test",
            extensions=(ext,),
            sniffs=(Sniff(priority, lambda head, name: False),),
        )

    for name, specs, message in (
        ("_dup_ext", (spec("a", ".x", 1), spec("b", ".x", 2)), "extension '.x'"),
        ("_dup_id", (spec("a", ".x", 1), spec("a", ".y", 2)), "format id 'a'"),
        ("_dup_prio", (spec("a", ".x", 1), spec("b", ".y", 1)), "priorities used twice"),
    ):
        module = types.ModuleType(f"unified_supply_chain.formats.{name}")
        module.SPECS = specs  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, module.__name__, module)
        with pytest.raises(ValueError, match=re.escape(message)):
            build_registry((name,))


def test_hooks_resolve_loudly() -> None:
    assert resolve("unified_supply_chain.safety.scan:scan_file").__name__ == "scan_file"
    with pytest.raises(ImportError):
        resolve("unified_supply_chain.no_such_module:f")
    with pytest.raises(AttributeError):
        resolve("unified_supply_chain.safety.scan:no_such_function")
    with pytest.raises(ValueError):
        resolve("no colon")


def test_every_string_hook_names_a_callable() -> None:
    hooks = [h for s in REG.specs for h in (s.reader, s.safety) if isinstance(h, str)]
    hooks += [d.accept for d in REG.directory_models if isinstance(d.accept, str)]
    for hook in hooks:
        assert callable(resolve(hook)), hook


def test_formats_that_carry_pickles_have_a_safety_hook() -> None:
    for spec in REG.specs:
        if spec.carries_pickles:
            assert spec.safety is not None, spec.id


# --- coverage of every format ----------------------------------------------------------------


@pytest.mark.parametrize("spec", REG.specs, ids=lambda s: s.id)
def test_format_has_a_fuzz_target(spec: FormatSpec) -> None:
    if spec.reader is not None:
        assert spec.fuzz, f"{spec.id} has a reader, so it must be fuzzed"
    if spec.fuzz:
        assert _covering_targets(spec.id), f"no fuzz target covers {spec.id}"


@pytest.mark.parametrize("spec", REG.specs, ids=lambda s: s.id)
def test_format_has_a_sniff_test(spec: FormatSpec) -> None:
    """Real files of the format (the fuzz seeds) classify as it; by content when it sniffs."""
    samples = _samples(spec.id) or [(s, p) for s, p in EXTRA_SAMPLES.get(spec.id, [])]
    assert samples, f"no sample file of {spec.id}"
    found = [classify(data[: limits.SNIFF_BYTES], rel) for data, rel in samples]
    assert spec.id in found, (spec.id, found)
    if any(not sniff.needs_name for sniff in spec.sniffs):
        # Content wins over the name: the same bytes under a meaningless name are still of the
        # format's kind (a Feather v2 file is Arrow IPC: only its name tells them apart).
        renamed = [
            REG.get(classify(data[: limits.SNIFF_BYTES], "renamed.dat"))
            for data, rel in samples
            if classify(data[: limits.SNIFF_BYTES], rel) == spec.id
        ]
        assert any(r is not None and r.kind is spec.kind for r in renamed), (spec.id, renamed)


@pytest.mark.parametrize("spec", [s for s in REG.specs if s.reader], ids=lambda s: s.id)
def test_format_has_a_reader_test(spec: FormatSpec) -> None:
    """A unit test module of the reader's module exists and imports it."""
    module = _module_of(spec)
    leaf = module.rsplit(".", 1)[-1]
    patterns = (
        module,
        f"from {module.rsplit('.', 1)[0]} import {leaf}",
    )
    found = [
        p.name
        for p in (TESTS / "unit").glob("test_*.py")
        if any(pattern in p.read_text(encoding="utf-8") for pattern in patterns)
    ]
    assert found, f"no unit test imports {module} (the reader of {spec.id})"


def _rchar() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


@pytest.mark.skipif(not os.path.exists("/proc/self/io"), reason="needs Linux /proc I/O counters")
@pytest.mark.parametrize("spec", [s for s in REG.specs if s.reader], ids=lambda s: s.id)
def test_format_reader_reads_a_bounded_amount(spec: FormatSpec, tmp_path: Path) -> None:
    """The limit test every reader gets: a real file with 1 GiB of (sparse) zeros after it is
    read in bounded time and bytes; the reader may refuse it, but only with its own errors."""
    samples = _samples(spec.id)
    assert samples
    data, rel = samples[0]
    path = tmp_path / Path(rel).name
    path.write_bytes(data)
    with path.open("r+b") as fh:
        fh.truncate(len(data) + PAD)
    before = _rchar()
    with contextlib.suppress(FormatError, LimitExceeded):
        spec.read(path)
    read = _rchar() - before
    assert read < READ_BUDGET, f"{spec.id} read {read} bytes of a {len(data) + PAD}-byte file"


def test_per_file_time_limit_applies_to_every_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from unified_supply_chain.inspection import headers

    def slow(path: Path) -> object:
        time.sleep(5)
        raise AssertionError("not interrupted")

    monkeypatch.setattr(limits, "PER_FILE_SECONDS", 0.05)
    path = tmp_path / "f"
    path.write_bytes(b"x")
    for spec in REG.specs:
        if spec.reader is None:
            continue
        monkeypatch.setitem(REG.by_id, spec.id, dataclasses.replace(spec, reader=slow))  # type: ignore[index]
        started = time.perf_counter()
        header, warning = headers.read_header(path, spec.id)
        assert time.perf_counter() - started < 2, spec.id
        assert header is None and warning and "took longer" in warning, spec.id


#: Samples of formats without a fuzz target (no reader), built to the format's spec.
EXTRA_SAMPLES: dict[str, list[tuple[bytes, str]]] = {
    # TensorRT engines have no public layout (NVIDIA/TensorRT issue #3073): by name only.
    "tensorrt-engine": [(b"\x00" * 64, "model_repository/m/1/model.plan")],
    # Paddle's combined weights (the save_combine operator's raw tensors) are recognised by name.
    "paddle-params": [(b"\x00" * 64, "models/inference.pdiparams")],
}
