"""No false alarms on real models (issue 13 item 5), and the allow-list data file (item 3).

The benign corpus is generated once per session with the real libraries (tests/builders/benign.py:
every estimator of `sklearn.utils.all_estimators()` that fits, saved with pickle and joblib,
plain and compressed; numpy random generators; datetime values; FunctionTransformer(np.log1p);
pipelines and column transformers; a torch-style state dict; safetensors, .npy and .npz files).
Three things must hold:

(a) src/unified_supply_chain/safety/allowed_globals.txt is well formed: every entry is one exact
    `module qualname` pair of identifier paths with a comment, none twice, none a known gadget;
(b) every global the corpus's pickles import (walked with pickletools here, nothing unpickled) is
    in that file, so a library release that starts pickling a new global fails this test loudly
    (then run scripts/allowlist.py and review what it adds);
(c) the safety scan (`scan_file`, and `usc sbom --fail-on high` over a repository holding the
    corpus) reports no `unsafe-serialization` finding on any of it.

Sources: joblib/numpy_pickle.py (NumpyArrayWrapper.read_array, for the walk over joblib files),
pytorch/pytorch torch/serialization.py and torch/_utils.py (the state dict layout), and
torch/_weights_only_unpickler.py (PyTorch's own allow-list, the torch section of the file).
"""

from __future__ import annotations

import fcntl
import io
import json
import pickle
import re
import zipfile
from collections import defaultdict
from pathlib import Path

import pytest

from tests.builders import allowlist_file, benign, pickle_walk
from tests.helpers import run_usc
from unified_supply_chain.bom.view import BomView
from unified_supply_chain.discover.classify import classify
from unified_supply_chain.safety.scan import scan_file

RULE = "unsafe-serialization"
_IDENTIFIER_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> tuple[Path, benign.Corpus]:
    """The benign corpus, written once per test run under `<tmp>/benign/repo`.

    pytest-xdist workers share it: the first to take the lock writes it, the others read its
    manifest (the pattern of the pytest-xdist docs, "Making session-scoped fixtures execute only
    once"). The repository holds the corpus and its manifest only.
    """
    base = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        base = base.parent
    root = base / "benign" / "repo"
    root.parent.mkdir(parents=True, exist_ok=True)
    with (root.parent / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (root.parent / benign.MANIFEST).is_file():
            return root, benign.load_corpus(root.parent, root)
        written = benign.write_corpus(root)
        benign.save_manifest(root.parent, root, written)
    return root, written


@pytest.fixture(scope="session")
def referenced(corpus: tuple[Path, benign.Corpus]) -> dict[pickle_walk.Pair, list[str]]:
    """Every global the corpus imports -> the corpus files (repo-relative) that import it."""
    root, written = corpus
    users: dict[pickle_walk.Pair, list[str]] = defaultdict(list)
    for path, pair in pickle_walk.corpus_globals(written.files):
        users[pair].append(path.relative_to(root).as_posix())
    return users


@pytest.fixture(scope="session")
def entries() -> list[allowlist_file.Entry]:
    """The entry lines of the committed allow-list."""
    return allowlist_file.parse_allowlist(allowlist_file.ALLOWLIST.read_text(encoding="utf-8"))


# --- (a) the data file. --------------------------------------------------------------------------


def test_every_entry_is_one_exact_pair_with_a_comment(entries: list[allowlist_file.Entry]) -> None:
    bad = [
        e.line
        for e in entries
        if len(e.fields) != 2
        or not e.comment
        or not all(_IDENTIFIER_PATH.fullmatch(f) for f in e.fields)
    ]
    assert not bad, f"malformed entries at lines {bad}"
    assert len(entries) > 300


def test_no_entry_is_listed_twice(entries: list[allowlist_file.Entry]) -> None:
    seen: dict[pickle_walk.Pair, int] = {}
    twice = []
    for e in entries:
        if e.pair in seen:
            twice.append((e.pair, seen[e.pair], e.line))
        seen[e.pair] = e.line
    assert not twice


def test_no_entry_is_a_known_gadget(entries: list[allowlist_file.Entry]) -> None:
    dangerous = [e.pair for e in entries if allowlist_file.is_dangerous(e.pair)]
    assert not dangerous
    pairs = {e.pair for e in entries}
    # The loaders issue 13 names: they load or call other code, so they are not allowed. The
    # two torch calls that do are listed only because the walk follows them (their payloads
    # are hostile probes: tests/integration/test_hostile_probes.py, torch-gadgets).
    assert ("torch.storage", "_load_from_bytes") in pairs
    assert ("torch._tensor", "_rebuild_from_type_v2") in pairs
    for pair in [
        ("builtins", "eval"),
        ("joblib.numpy_pickle_compat", "NDArrayWrapper"),
        ("joblib.numpy_pickle_compat", "ZNDArrayWrapper"),
        ("functools", "partial"),
        ("numpy", "load"),
    ]:
        assert allowlist_file.is_dangerous(pair)
        assert pair not in pairs


def test_the_generated_section_is_marked_once() -> None:
    lines = [
        line.strip() for line in allowlist_file.ALLOWLIST.read_text(encoding="utf-8").splitlines()
    ]
    assert lines.count(allowlist_file.BEGIN_GENERATED) == 1
    assert lines.count(allowlist_file.END_GENERATED) == 1
    assert lines.index(allowlist_file.BEGIN_GENERATED) < lines.index(allowlist_file.END_GENERATED)


def test_parser_reads_the_documented_format() -> None:
    text = "# comment\n\nnumpy dtype  # class\nbad line\nnumpy  # one field\n"
    parsed = allowlist_file.parse_allowlist(text)
    assert [(e.fields, e.comment) for e in parsed] == [
        (("numpy", "dtype"), "class"),
        (("bad", "line"), ""),
        (("numpy",), "one field"),
    ]


# --- The walker the other checks rely on. --------------------------------------------------------


def test_walker_resolves_stack_global_through_the_memo() -> None:
    # Protocol 4: the module string memoized once, fetched by BINGET for the second global.
    data = pickle.dumps([benign.Data, benign.Fitted], protocol=4)
    assert pickle_walk.pickle_globals(data) == {
        ("tests.builders.benign", "Data"),
        ("tests.builders.benign", "Fitted"),
    }
    ops = [op.name for op, _, _ in __import__("pickletools").genops(data)]
    assert "STACK_GLOBAL" in ops and "BINGET" in ops


def test_walker_steps_over_joblib_array_data(tmp_path: Path) -> None:
    import joblib
    import numpy as np

    path = tmp_path / "arrays.joblib"
    joblib.dump({"f": np.arange(10.0), "o": np.array(["a", None], dtype=object)}, path)
    data = path.read_bytes()
    # Raw float64 bytes sit between opcodes; the walk must reach the final STOP without error.
    assert np.arange(10.0).tobytes() in data
    assert pickle_walk.pickle_globals(data) >= {("joblib.numpy_pickle", "NumpyArrayWrapper")}
    with pytest.raises(Exception):  # noqa: B017 - cut data: any error, never a silent pass
        pickle_walk.pickle_globals(data[:-40])


def test_torch_state_dict_is_what_torch_writes(tmp_path: Path) -> None:
    path = tmp_path / "sd.pt"
    benign.write_torch_state_dict(path)
    with zipfile.ZipFile(path) as zf:
        assert {"archive/data.pkl", "archive/data/0", "archive/version"} <= set(zf.namelist())
        data = zf.read("archive/data.pkl")
    seen: list[object] = []

    class Loader(pickle.Unpickler):
        """Resolves only the two torch names, to stand-ins, and records the persistent ids."""

        def find_class(self, module: str, name: str) -> object:
            if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
                return lambda *args: ("tensor", args[2])
            if (module, name) == ("torch", "FloatStorage"):
                return "FloatStorage"
            assert (module, name) == ("collections", "OrderedDict")
            return super().find_class(module, name)

        def persistent_load(self, pid: object) -> object:
            seen.append(pid)
            return pid

    state = Loader(io.BytesIO(data)).load()
    assert state == {"linear.weight": ("tensor", (2, 3)), "linear.bias": ("tensor", (2,))}
    assert state._metadata == {"": {"version": 1}}
    assert seen == [
        ("storage", "FloatStorage", "0", "cpu", 6),
        ("storage", "FloatStorage", "1", "cpu", 2),
    ]


# --- The corpus itself. ------------------------------------------------------------------------


def test_corpus_holds_every_fitting_estimator_and_variant(
    corpus: tuple[Path, benign.Corpus],
) -> None:
    from sklearn.utils import all_estimators

    root, written = corpus
    names = {name for name, _ in all_estimators()}
    assert set(written.fitted) | set(written.skipped) == names
    # Nearly all fit; the ones that do not say why.
    assert len(written.fitted) >= len(names) - 10, written.skipped
    suffixes = {p.name.split(".", 1)[1] for p in written.files}
    for protocol in benign.PROTOCOLS:
        assert f"p{protocol}.pkl" in suffixes or any(
            s.endswith(f"p{protocol}.pkl") for s in suffixes
        )
    for compress in benign.COMPRESSORS:
        assert any(s.endswith(f"{compress}.joblib") for s in suffixes)
    assert (root / "numeric" / "model.safetensors").is_file()
    assert (root / "sklearn" / "RandomForestClassifier.joblib").is_file()


# --- (b) every global the corpus imports is allowed. ---------------------------------------------


def test_every_global_of_the_benign_corpus_is_in_the_allow_list(
    referenced: dict[pickle_walk.Pair, list[str]],
) -> None:
    allowed = allowlist_file.allowed_pairs()
    missing = {pair: users[:3] for pair, users in referenced.items() if pair not in allowed}
    assert not missing, (
        "globals pickled by ordinary models but not in allowed_globals.txt "
        f"(run scripts/allowlist.py and review): {missing}"
    )
    # The walk really saw the kinds of globals the file is for.
    assert {
        ("sklearn.tree._tree", "Tree"),
        ("numpy.random._pickle", "__generator_ctor"),
        ("torch._utils", "_rebuild_tensor_v2"),
        ("datetime", "timezone"),
        ("numpy", "log1p"),
    } <= set(referenced)


# --- (c) the scanner reports nothing on the corpus. ----------------------------------------------


def test_scan_file_reports_no_unsafe_serialization(corpus: tuple[Path, benign.Corpus]) -> None:
    root, written = corpus
    flagged: dict[str, list[str]] = {}
    for path in written.files:
        rel = path.relative_to(root).as_posix()
        with path.open("rb") as fh:
            head = fh.read(4096)
        found = [f for f in scan_file(path, rel, classify(head, rel) or "") if f.rule == RULE]
        if found:
            flagged[rel] = [f"{f.severity.value}: {f.message}" for f in found]
    assert not flagged, f"{len(flagged)} of {len(written.files)} benign files flagged: {flagged}"


def test_usc_sbom_over_the_corpus_passes_fail_on_high(
    corpus: tuple[Path, benign.Corpus], tmp_path: Path
) -> None:
    root, written = corpus
    out = tmp_path / "out.json"
    result = run_usc("sbom", str(root), "-o", str(out), "--fail-on", "high", "--no-cache")
    document = json.loads(out.read_text()) if out.is_file() else {}
    findings = [f for f in BomView.of(document).findings() if f.rule == RULE]
    assert not findings, [f"{f.path}: {f.message}" for f in findings][:20]
    assert result.returncode == 0, result.stderr[-4000:]
    # Every corpus file the inventory lists as a component is there: the scan ran over it.
    paths = {
        value
        for c in document.get("components", [])
        for p in c.get("properties", [])
        if p.get("name") == "usc:path"
        for value in [p.get("value")]
    }
    assert len(paths) >= len(written.files) // 2
