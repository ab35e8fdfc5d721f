"""The fast validator and the reference validator (cyclonedx-python-lib's JsonStrictValidator over
the same official schema) agree on valid and invalid documents, and on the formats they check."""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unified_supply_chain.bom import validate
from unified_supply_chain.bom.validate import validation_errors
from unified_supply_chain.options import ScanOptions
from unified_supply_chain.pipeline import generate

DATA = Path(__file__).resolve().parents[1] / "data"
EXAMPLE_PROJECT = Path(__file__).resolve().parents[2] / "examples" / "iris-classifier"

Doc = dict[str, Any]


def _agree(document: Doc, version: str) -> bool:
    """Validity by both validators, asserting that they agree; returns it."""
    fast = validation_errors(document, version)
    reference = validation_errors(document, version, reference=True)
    assert bool(fast) == bool(reference), f"fast: {fast[:3]}\nreference: {reference[:3]}"
    return not fast


def _repo(root: Path) -> None:
    def write(rel: str, data: bytes | str) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)

    header = b'{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"a":"b"}}'
    write("models/net.safetensors", len(header).to_bytes(8, "little") + header + b"\0" * 8)
    write("models/README.md", "---\nlicense: mit\ntags: [x]\n---\n# net\nA small model.\n")
    write("data/train.csv", "a,b,label\n1,2,x\n3,4,y\n")
    write("params.yaml", "train:\n  lr: 0.01\n  epochs: 3\n")
    write("requirements.txt", "numpy==1.26.4\nrequests>=2\n")
    oid = hashlib.sha256(b"x").hexdigest()
    write(
        "models/big.gguf", f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize 1\n"
    )
    write("models/clf.pkl.dvc", "outs:\n- md5: 0123456789abcdef0123456789abcdef\n  path: clf.pkl\n")
    write("pyproject.toml", '[project]\nname = "demo-app"\nversion = "1.2.3"\n')


@functools.cache
def _generated(kind: str, version: str, tmp: str) -> Doc:
    root = EXAMPLE_PROJECT if kind == "example" else Path(tmp) / f"repo-{version}"
    if kind == "repo":
        _repo(root)
    return generate(ScanOptions(root=root, spec_version=version, reproducible=True)).document


def _valid_documents(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, Doc, str]]:
    tmp = str(tmp_path_factory.mktemp("parity"))
    shared = json.loads((DATA / "mlbom-1.6-example.json").read_text())
    docs = [("shared-example", shared, "1.6")]
    for kind in ("example", "repo"):
        for version in ("1.6", "1.7"):
            docs.append((f"{kind}-{version}", _generated(kind, version, tmp), version))
    return docs


@pytest.fixture(scope="module")
def valid_documents(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, Doc, str]]:
    return _valid_documents(tmp_path_factory)


def test_valid_documents_are_valid_for_both(valid_documents: list[tuple[str, Doc, str]]) -> None:
    assert len(valid_documents) == 5
    for name, doc, version in valid_documents:
        assert _agree(doc, version), name


def _first_component(doc: Doc) -> Doc:
    comp: Doc = doc["components"][0]
    return comp


#: name -> mutation making a valid document invalid.
MUTATIONS: dict[str, Callable[[Doc], None]] = {
    "wrong enum": lambda d: _first_component(d).__setitem__("type", "widget"),
    "bad date-time (month 13)": lambda d: d["metadata"].__setitem__(
        "timestamp", "2024-13-01T00:00:00Z"
    ),
    "bad date-time (no offset)": lambda d: d["metadata"].__setitem__(
        "timestamp", "2024-01-01T00:00:00"
    ),
    "bad date-time (space)": lambda d: d["metadata"].__setitem__(
        "timestamp", "2024-01-01 00:00:00Z"
    ),
    "bad date-time (offset minutes)": lambda d: d["metadata"].__setitem__(
        "timestamp", "2024-01-01T00:00:00+05:60"
    ),
    "bad date-time (30 February)": lambda d: d["metadata"].__setitem__(
        "timestamp", "2024-02-30T00:00:00Z"
    ),
    "iri-reference with spaces": lambda d: _first_component(d).__setitem__(
        "externalReferences", [{"type": "website", "url": "https://example.com/a model"}]
    ),
    "iri-reference with a bad escape": lambda d: _first_component(d).__setitem__(
        "externalReferences", [{"type": "website", "url": "https://example.com/%zz"}]
    ),
    "iri-reference with a colon in a relative first segment": lambda d: _first_component(
        d
    ).__setitem__("externalReferences", [{"type": "website", "url": "1http://example.com"}]),
    "iri-reference with a private-use character": lambda d: _first_component(d).__setitem__(
        "externalReferences", [{"type": "website", "url": "https://example.com/\ue000"}]
    ),
    "missing required field (component name)": lambda d: _first_component(d).pop("name"),
    "missing required field (bomFormat)": lambda d: d.pop("bomFormat"),
    "extra property (top level)": lambda d: d.__setitem__("producedBy", "someone"),
    "extra property (component)": lambda d: _first_component(d).__setitem__("colour", "red"),
    "bad hash content": lambda d: _first_component(d).__setitem__(
        "hashes", [{"alg": "SHA-256", "content": "not-hex"}]
    ),
    "bad serial number": lambda d: d.__setitem__("serialNumber", "uuid:1234"),
    "wrong type (version as string)": lambda d: d.__setitem__("version", "1"),
    "duplicate component (uniqueItems)": lambda d: d["components"].append(
        copy.deepcopy(_first_component(d))
    ),
    "duplicate component with its keys reordered (uniqueItems)": lambda d: d["components"].append(
        dict(reversed(list(copy.deepcopy(_first_component(d)).items())))
    ),
    "wrong type (spec version as number)": lambda d: d.__setitem__("specVersion", 1.6),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_invalid_documents_are_invalid_for_both(
    valid_documents: list[tuple[str, Doc, str]], mutation: str
) -> None:
    for name, doc, version in valid_documents:
        bad = copy.deepcopy(doc)
        MUTATIONS[mutation](bad)
        assert not _agree(bad, version), f"{name}: {mutation} was accepted"


#: Edge values both validators accept.
VALID_EDGES: dict[str, Callable[[Doc], None]] = {
    "date-time with lower-case t and z": lambda d: d["metadata"].__setitem__(
        "timestamp", "2024-01-01t00:00:00z"
    ),
    "date-time with nanoseconds and an offset": lambda d: d["metadata"].__setitem__(
        "timestamp", "2024-02-29T23:59:59.123456789-05:30"
    ),
    "IRI with non-ASCII letters": lambda d: _first_component(d).__setitem__(
        "externalReferences", [{"type": "website", "url": "https://例え.jp/ü?q=ä#frag"}]
    ),
    "relative reference and fragment": lambda d: _first_component(d).__setitem__(
        "externalReferences",
        [
            {"type": "other", "url": "models/net.safetensors"},
            {"type": "other", "url": "#section"},
            {"type": "other", "url": ""},
        ],
    ),
    "URN and mailto": lambda d: _first_component(d).__setitem__(
        "externalReferences",
        [
            {"type": "other", "url": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79"},
            {"type": "other", "url": "mailto:ml@example.com"},
        ],
    ),
    "idn-email with only an @": lambda d: d["metadata"].__setitem__(
        "authors", [{"name": "x", "email": "a b@c"}]
    ),
}


@pytest.mark.parametrize("edge", sorted(VALID_EDGES))
def test_valid_edge_values_are_valid_for_both(
    valid_documents: list[tuple[str, Doc, str]], edge: str
) -> None:
    for name, doc, version in valid_documents:
        ok = copy.deepcopy(doc)
        VALID_EDGES[edge](ok)
        assert _agree(ok, version), f"{name}: {edge} was rejected"


# --- the format checks themselves, against the libraries the reference validator uses ----------

_IRI_ALPHABET = list("abcXYZ019-._~!$&'()*+,;=:@/?#%[] \"<>\\^`{|}") + [
    "%41",
    "%zz",
    "http://",
    "//",
    "ü",
    "\u00a0",
    "https://h/",
    "a:",
    "[::1]",
]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_IRI_ALPHABET), max_size=14).map("".join))
def test_iri_reference_check_agrees_with_the_grammar(value: str) -> None:
    from rfc3987_syntax import is_valid_syntax

    assert validate._check_iri(value) == bool(is_valid_syntax("iri_reference", value))
    if validate._common_iri_reference(value):  # the regex shortcut never accepts more
        assert is_valid_syntax("iri_reference", value)


_DT_ALPHABET = list("0123456789-:TtZz+. ") + ["2024-", "02-", "29", "T23:", "59:", "60", "\n"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_DT_ALPHABET), max_size=14).map("".join))
def test_date_time_check_agrees_with_rfc3339_validator(value: str) -> None:
    from rfc3339_validator import validate_rfc3339

    assert validate._check_date_time(value) == bool(validate_rfc3339(value.upper()))


@pytest.mark.parametrize(
    "value",
    [
        "2024-01-01T00:00:00Z",
        "2024-01-01T00:00:00Z\n",
        "0000-01-01T00:00:00Z",
        "2023-02-29T00:00:00Z",
    ],
)
def test_date_time_edge_cases(value: str) -> None:
    from rfc3339_validator import validate_rfc3339

    assert validate._check_date_time(value) == bool(validate_rfc3339(value.upper()))


@pytest.mark.parametrize("value", ["2024-01-01", "2024-02-30", "2024-1-01", "２０２４-01-01", 5])
def test_date_check_matches_jsonschema(value: object) -> None:
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=["date"])
    assert validate._check_date(value) == checker.conforms(value, "date")


def test_fast_validation_does_not_build_the_iri_grammar() -> None:
    """The shortcut is the point: a typical generated document needs no grammar at all."""
    import subprocess
    import sys

    code = (
        "import json, sys\n"
        "from unified_supply_chain.bom.validate import validation_errors\n"
        f"doc = json.load(open({str(DATA / 'mlbom-1.6-example.json')!r}))\n"
        "assert validation_errors(doc, '1.6') == []\n"
        "print('lark' in sys.modules)\n"
    )
    src = str(Path(validate.__file__).resolve().parents[2])
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": src, "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("items", "unique"),
    [
        ([1, 1.0], False),
        ([1, True], True),
        ([0, False], True),
        ([{"a": 1, "b": [1, 2]}, {"b": [1, 2], "a": 1}], False),
        ([{"a": [1, 2]}, {"a": [2, 1]}], True),
        ([[1, {"x": None}], [1, {"x": None}]], False),
        (["a", "b", "c"], True),
        ([None, None], False),
        ([{"a": True}, {"a": 1}], True),
        ([], True),
    ],
)
def test_unique_items_matches_jsonschema(items: list[Any], unique: bool) -> None:
    from jsonschema import Draft7Validator

    schema = {"type": "array", "uniqueItems": True}
    reference = not list(Draft7Validator(schema).iter_errors(items))
    fast_cls = validate._fast_validator("1.6").__class__
    fast = not list(fast_cls(schema).iter_errors(items))
    assert reference == unique and fast == unique
