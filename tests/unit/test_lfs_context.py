"""`.gitattributes` `filter=lfs` rules, checked against git itself, and the kind of a Git LFS
pointer decided by context; content sniffs for extension-less ONNX and TFLite files.

gitattributes(5): https://git-scm.com/docs/gitattributes (patterns as gitignore(5), no negative
patterns, a directory pattern does not match paths inside it, later lines and deeper files win);
`git check-attr` (https://git-scm.com/docs/git-check-attr) is the oracle. Pointer text:
https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.builders import model_repos as mr
from tests.builders import tflite
from tests.helpers import git, init_repo, write_file
from unified_supply_chain.discover.classify import sniff_format
from unified_supply_chain.formats._gitattributes import lfs_rule_for, parse_attributes
from unified_supply_chain.formats.onnx import sniff_onnx
from unified_supply_chain.formats.tflite import sniff_tflite
from unified_supply_chain.inspection.lfs_context import attribute_rules, pointer_kind
from unified_supply_chain.inspection.state import ScanState
from unified_supply_chain.records import ArtifactKind, FileEntry

ROOT_RULES = """\
# comment
*.bin filter=lfs diff=lfs merge=lfs -text
saved_model/**/* filter=lfs diff=lfs merge=lfs -text
/top.dat filter=lfs
docs/** filter=lfs
docs/keep.png -filter
weights/ filter=lfs
w?ights/*.pt filter=lfs
*.[oO][tT] filter=lfs
**/deep/*.npz filter=lfs
*.txt text
big.bin !filter
"""
NESTED_RULES = """\
*.pt filter=lfs
local.bin -filter
"""
PATHS = [
    "a.bin",
    "x/y/b.bin",
    "big.bin",
    "saved_model/variables/v.data",
    "x/saved_model/v.data",
    "saved_model/root.pb",
    "top.dat",
    "sub/top.dat",
    "docs/a.png",
    "docs/sub/b.mp4",
    "docs/keep.png",
    "weights/w.pt",
    "weights/x.h5",
    "wxights/m.pt",
    "r.ot",
    "r.OT",
    "a/deep/c.npz",
    "deep/c.npz",
    "a/deep/e/c.npz",
    "notes.txt",
    "pkg/m.pt",
    "pkg/local.bin",
    "pkg/other.bin",
]


def test_lfs_rules_agree_with_git_check_attr(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    write_file(repo / ".gitattributes", ROOT_RULES)
    write_file(repo / "pkg/.gitattributes", NESTED_RULES)
    rules = {
        "": parse_attributes(".gitattributes", ROOT_RULES),
        "pkg": parse_attributes("pkg/.gitattributes", NESTED_RULES),
    }
    out = git(repo, "check-attr", "filter", "--", *PATHS)
    expected = {}
    for line in out.splitlines():
        path, _, value = line.rpartition(": filter: ")
        expected[path] = value == "lfs"
    assert len(expected) == len(PATHS)
    got = {p: lfs_rule_for(p, rules) is not None for p in PATHS}
    assert got == expected
    # Both kinds of answer occur, so the comparison is not vacuous.
    assert set(got.values()) == {True, False}
    rule = lfs_rule_for("pkg/other.bin", rules)
    assert rule is not None and rule.describe() == ".gitattributes:2: *.bin"
    rule = lfs_rule_for("pkg/m.pt", rules)
    assert rule is not None and rule.describe() == "pkg/.gitattributes:1: *.pt"


def _state(root: Path) -> ScanState:
    files = tuple(
        FileEntry(p.relative_to(root).as_posix(), p.stat().st_size, 0, 0)
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts
    )
    from unified_supply_chain.discover.classify import classify

    formats = {}
    for f in files:
        fmt = classify((root / f.path).read_bytes()[:4096], f.path)
        if fmt is not None:
            formats[f.path] = fmt
    return ScanState(root, files, {f.path: f for f in files}, formats, [], [], [], [])


@pytest.mark.parametrize(
    ("path", "size", "kind", "evidence"),
    [
        ("docs/diagram.png", 10_000_000, ArtifactKind.OTHER, "media"),
        ("docs/demo.mp4", 50_000_000, ArtifactKind.OTHER, "media"),
        ("data/images/cat.png", 10_000, ArtifactKind.DATASET, "media+data-directory"),
        ("models/net.onnx", 10, ArtifactKind.MODEL, "name"),
        ("data/train.csv", 10, ArtifactKind.DATASET, "name"),
        ("saved_model/variables/variables.data-00000-of-00001", 10, ArtifactKind.MODEL,
         "gitattributes:.gitattributes:3: saved_model/**/*"),
        ("exports/pytorch_model_bin", 400_000_000, ArtifactKind.MODEL, "name+size"),
        ("exports/weights_v2", 100, ArtifactKind.OTHER, "unknown"),
        ("assets/blob.dat", 4_000_000_000, ArtifactKind.OTHER, "unknown"),
    ],
)  # fmt: skip
def test_pointer_kind_by_context(
    tmp_path: Path, path: str, size: int, kind: ArtifactKind, evidence: str
) -> None:
    write_file(
        tmp_path / ".gitattributes",
        "* filter=lfs\n*.bin filter=lfs\nsaved_model/**/* filter=lfs\n",
    )
    write_file(tmp_path / path, mr.pointer(path, size))
    st = _state(tmp_path)
    got, why, rule, warning = pointer_kind(st, path, size, attribute_rules(st))
    assert (got, why) == (kind, evidence)
    assert rule is not None  # `* filter=lfs` covers everything
    assert (warning is not None) == (evidence == "unknown")


def test_weight_name_beside_models(tmp_path: Path) -> None:
    """`ggml-model-f16` is small-declared here, so only its neighbours make it a model."""
    write_file(tmp_path / "m/ggml-model-q4_0.bin", mr.pointer("q4", 10))
    write_file(tmp_path / "m/ggml-model-f16", mr.pointer("f16", 10))
    write_file(tmp_path / "n/ggml-model-f16", mr.pointer("f16", 10))
    st = _state(tmp_path)
    assert pointer_kind(st, "m/ggml-model-f16", 10, {})[:2] == (ArtifactKind.MODEL, "name+siblings")
    assert pointer_kind(st, "n/ggml-model-f16", 10, {})[:2] == (ArtifactKind.OTHER, "unknown")


def test_extensionless_onnx_and_tflite_by_content() -> None:
    onnx = mr.onnx_bytes()
    lite = tflite.build(tflite.with_metadata())
    assert sniff_format(onnx[:4096], "encoder").id == "onnx"  # type: ignore[union-attr]
    assert sniff_format(lite[:4096], "classifier").id == "tflite"  # type: ignore[union-attr]


def test_random_and_other_format_bytes_are_not_onnx_or_tflite() -> None:
    """No false positive on random bytes nor on files of other formats."""
    rng = random.Random(20261207)
    heads = [bytes(rng.getrandbits(8) for _ in range(256)) for _ in range(20_000)]
    # Random bytes that start like a ModelProto (tag 0x08, a small ir_version): the strict
    # part of the sniff must still refuse them.
    heads += [b"\x08" + bytes([rng.randint(1, 64)]) + h[2:] for h in heads[:5_000]]
    others = [
        mr.pointer("x", 1),
        b"PK\x03\x04" + b"\0" * 60,
        b"GGUF\x03\x00\x00\x00" + b"\0" * 60,
        b"\x89HDF\r\n\x1a\n" + b"\0" * 60,
        b"\x93NUMPY\x01\x00" + b"\0" * 60,
        b"\x80\x04\x95" + b"\0" * 60,
        b'{"architectures": ["BertModel"]}',
        b"\x08\x01",  # a two-byte protobuf that is not a model
    ]
    onnx_hits = [h for h in heads + others if sniff_onnx(h, "blob")]
    tflite_hits = [h for h in heads + others if sniff_tflite(h, "blob")]
    assert onnx_hits == []
    assert tflite_hits == []
