"""A hostile corpus generator: one function per kind of bad file, each documented.

Every kind writes its files under `root/<kind>/` and returns the repo-relative paths of the bad
files it made; `usc sbom` must report each of them with exactly one warning line on stderr
(`usc: warning: PATH: ...`, or a line of a directory model that names the member as
`PATH: ...` in its message). Kinds marked `in_process` need a monkeypatch (see `Fault`) and so
only work when the CLI runs in this process. Kinds with `expected=0` are odd files that are
skipped silently by design (a FIFO is never opened) and must simply not hang the run.

What could not be reproduced as-is, and how it is covered instead:
- Permission-denied files and directories: the tests run as root, and root reads a file with
  mode 000 and lists a directory without +x. `unreadable_file` and `unreadable_directory`
  emulate the refusal in-process by patching `os.open` / `os.scandir` to raise PermissionError
  for those paths (the same errno a non-root user would get).
- A file changing while it is hashed: `changes_while_hashed` patches the hasher's digest loop to
  append to the file after reading it (what a concurrent writer does between read and fstat).
- A file vanishing between walk and hash: `vanishes_before_hash` deletes it just before the
  hashing stage starts (by wrapping `scan.hash_files`).
- More zip members than limits.MAX_ZIP_MEMBERS: generated for real (100,001 empty stored
  members, about 9 MB, hand-packed in well under a second).
"""

from __future__ import annotations

import io
import json
import os
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from unified_supply_chain import limits


def _write(root: Path, rel: str, data: bytes | str) -> str:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return rel


@dataclass(frozen=True)
class Fault:
    """An in-process fault: a context manager factory taking (root, bad paths)."""

    install: Callable[[Path, list[str]], Any]
    """Returns a context manager active while the CLI runs."""


@dataclass(frozen=True)
class Kind:
    """One kind of bad file."""

    name: str
    """Directory name under the corpus root."""
    make: Callable[[Path], list[str]]
    """Writes the files under root/<name>/ and returns the bad paths (repo-relative)."""
    doc: str
    """What is wrong with it."""
    expected: int = 1
    """Warning lines per bad path."""
    fault: Fault | None = None
    """An in-process fault needed to provoke it (None: the bytes alone are bad)."""
    needs: tuple[str, ...] = field(default=())
    """Platform features needed ("fifo", "symlink", "bytes-names"); the bytes alone are not bad."""


# --- model formats --------------------------------------------------------------------------


def safetensors_truncated(d: Path) -> list[str]:
    """Header length says 1000 bytes; the file ends inside the JSON."""
    return [_write(d, "m.safetensors", struct.pack("<Q", 1000) + b'{"a": {"dtype": "F32"')]


def safetensors_absurd_length(d: Path) -> list[str]:
    """Header length 2**62 (an allocation of exabytes if trusted)."""
    return [_write(d, "m.safetensors", struct.pack("<Q", 2**62) + b"{}")]


def safetensors_deep_json(d: Path) -> list[str]:
    """A header of 100,000 nested objects (a recursion bomb for a naive JSON parser)."""
    header = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    return [_write(d, "m.safetensors", struct.pack("<Q", len(header)) + header)]


def safetensors_offsets_past_end(d: Path) -> list[str]:
    """A tensor whose data offsets point far past the end of the file."""
    header = json.dumps({"w": {"dtype": "F32", "shape": [2**20], "data_offsets": [0, 2**22]}})
    return [_write(d, "m.safetensors", struct.pack("<Q", len(header)) + header.encode())]


def gguf_absurd_counts(d: Path) -> list[str]:
    """Tensor and key/value counts of 2**60."""
    return [_write(d, "m.gguf", b"GGUF" + struct.pack("<IQQ", 3, 2**60, 2**60))]


def gguf_huge_string(d: Path) -> list[str]:
    """One key/value whose string value declares 2**62 bytes."""
    key = b"general.name"
    kv = struct.pack("<Q", len(key)) + key + struct.pack("<I", 8) + struct.pack("<Q", 2**62)
    return [_write(d, "m.gguf", b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + kv + b"x" * 64)]


def gguf_bad_version(d: Path) -> list[str]:
    """GGUF magic with version 99."""
    return [_write(d, "m.gguf", b"GGUF" + struct.pack("<IQQ", 99, 0, 0))]


def onnx_garbage(d: Path) -> list[str]:
    """An ONNX ir_version field followed by 0xff bytes (an unterminated varint)."""
    return [_write(d, "m.onnx", b"\x08\x07" + b"\xff" * 64)]


def onnx_huge_length(d: Path) -> list[str]:
    """A graph field declaring a length of 2**62 bytes."""
    huge = bytearray()
    n = 2**62
    while True:
        byte, n = n & 0x7F, n >> 7
        huge.append(byte | (0x80 if n else 0))
        if not n:
            break
    return [_write(d, "m.onnx", b"\x08\x07\x3a" + bytes(huge) + b"\x0a\x01x")]


def _zip_bytes(members: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def pytorch_truncated(d: Path) -> list[str]:
    """A torch zip cut after 40 bytes (no central directory)."""
    data = _zip_bytes({"archive/data.pkl": b"\x80\x02}q\x00."})
    return [_write(d, "m.pt", data[:40])]


def zip_bomb(d: Path) -> list[str]:
    """A 64 MiB member of zeros deflated to ~64 KiB (ratio ~1000, cap limits.MAX_ZIP_RATIO)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b"\0" * (1024 * 1024)
    raw = b"".join(comp.compress(chunk) for _ in range(64)) + comp.flush()
    size = 64 * 1024 * 1024
    crc = 0
    for _ in range(64):
        crc = zlib.crc32(chunk, crc)
    name = b"archive/data.pkl"
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(raw), size,
                        len(name), 0)  # fmt: skip
    central = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc,
                          len(raw), size, len(name), 0, 0, 0, 0, 0, 0)  # fmt: skip
    body = local + name + raw
    cd = central + name
    eocd = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(cd), len(body), 0)
    return [_write(d, "bomb.pt", body + cd + eocd)]


def zip_too_many_members(d: Path) -> list[str]:
    """limits.MAX_ZIP_MEMBERS + 1 real (empty, stored) members, as an .npz archive."""
    count = limits.MAX_ZIP_MEMBERS + 1
    body = bytearray()
    cd = bytearray()
    for i in range(count):
        name = b"%x.npy" % i
        offset = len(body)
        body += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0,
                            len(name), 0) + name  # fmt: skip
        cd += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0,
                          len(name), 0, 0, 0, 0, 0, offset) + name  # fmt: skip
    # Zip64 end records: more than 65,535 entries.
    eocd64 = struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count,
                         len(cd), len(body))  # fmt: skip
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, len(body) + len(cd), 1)
    eocd = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF,
                       0xFFFFFFFF, 0)  # fmt: skip
    return [_write(d, "many.npz", bytes(body + cd) + eocd64 + locator + eocd)]


def zip_lying_member_count(d: Path) -> list[str]:
    """A zip64 end record declaring 2**40 members in a 100-byte file."""
    eocd64 = struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, 2**40, 2**40, 0, 0)
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, 0, 1)
    eocd = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF,
                       0xFFFFFFFF, 0)  # fmt: skip
    return [_write(d, "lying.pt", eocd64 + locator + eocd)]


def npy_bad_header(d: Path) -> list[str]:
    """An .npy header that declares 60,000 bytes and stops after 8."""
    return [_write(d, "m.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", 60000) + b"{'descr'")]


def npy_absurd_shape(d: Path) -> list[str]:
    """A well-formed .npy header for a (2**40, 2**40) float64 array with no data."""
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }"
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    return [_write(d, "m.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header)]


def npz_member_not_npy(d: Path) -> list[str]:
    """An .npz whose member is text, not an array."""
    return [_write(d, "m.npz", _zip_bytes({"x.npy": b"hello, not numpy"}))]


def keras_broken(d: Path) -> list[str]:
    """A .keras file that is a zip local header and zeros."""
    return [_write(d, "m.keras", b"PK\x03\x04" + b"\0" * 30)]


def keras_bad_config(d: Path) -> list[str]:
    """A .keras zip whose config.json is not JSON."""
    return [_write(d, "m.keras", _zip_bytes({"config.json": b"{not json", "metadata.json": b"{}"}))]


def hdf5_bad_superblock(d: Path) -> list[str]:
    """HDF5 signature followed by superblock version 9."""
    return [_write(d, "m.h5", b"\x89HDF\r\n\x1a\n\x09" + b"\0" * 64)]


def pickle_truncated(d: Path) -> list[str]:
    """A protocol-4 pickle cut inside a frame."""
    return [_write(d, "m.pkl", b"\x80\x04\x95\xff\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c")]


def joblib_corrupt_stream(d: Path) -> list[str]:
    """A zlib-compressed joblib file with a corrupt deflate stream."""
    return [_write(d, "m.joblib", b"\x78\x9c" + b"\xff" * 200)]


def savedmodel_garbage(d: Path) -> list[str]:
    """A SavedModel directory whose saved_model.pb is random bytes."""
    _write(d, "sm/variables/variables.index", b"\0" * 16)
    return [_write(d, "sm/saved_model.pb", bytes(range(7, 250)))]


def torch_legacy_bad(d: Path) -> list[str]:
    """Torch's legacy magic followed by a truncated pickle."""
    return [_write(d, "m.pth", b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.\x80\x02\x8a")]


def lfs_pointer_bad_oid(d: Path) -> list[str]:
    """A Git LFS pointer with a 10-character oid."""
    text = "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 10\n"
    return [_write(d, "model.bin", text)]


# --- datasets -------------------------------------------------------------------------------


def parquet_cut(d: Path) -> list[str]:
    """Parquet magic at both ends with no footer in between."""
    return [_write(d, "data/cut.parquet", b"PAR1\x00\x00PAR1")]


def parquet_huge_footer(d: Path) -> list[str]:
    """A parquet footer length of 0xFFFFFFF0 bytes in a 20-byte file."""
    return [_write(d, "data/huge.parquet", b"PAR1" + b"\0" * 8 + struct.pack("<I", 0xFFFFFFF0)
                   + b"PAR1")]  # fmt: skip


def arrow_garbage(d: Path) -> list[str]:
    """Arrow IPC magic followed by zeros and no footer."""
    return [_write(d, "data/bad.arrow", b"ARROW1\0\0" + b"\0" * 40)]


def jsonl_binary(d: Path) -> list[str]:
    """A .jsonl file that is binary garbage."""
    return [_write(d, "data/binary.jsonl", b"\xff\xfe\x00garbage\x00\n")]


def descriptor_bad_yaml(d: Path) -> list[str]:
    """A dataset descriptor that is not YAML."""
    return [_write(d, "data/dataset.yaml", "datasets: [unclosed\n")]


# --- configs, lockfiles, lineage records -----------------------------------------------------


def yaml_alias_bomb(d: Path) -> list[str]:
    """A "billion laughs" params.yaml: 20 levels of anchors each repeating the last 4 times."""
    lines = ["a: &a [x, x]"]
    for i in range(20):
        prev, cur = chr(97 + i), chr(98 + i)
        lines.append(f"{cur}: &{cur} [*{prev}, *{prev}, *{prev}, *{prev}]")
    return [_write(d, "params.yaml", "\n".join(lines) + "\n")]


def yaml_deep_nesting(d: Path) -> list[str]:
    """A hyp.yaml of 50,000 nested flow sequences."""
    return [_write(d, "hyp.yaml", "x: " + "[" * 50_000 + "]" * 50_000 + "\n")]


def json_deep_nesting(d: Path) -> list[str]:
    """A metrics.json of 100,000 nested arrays."""
    return [_write(d, "metrics.json", "[" * 100_000 + "]" * 100_000)]


def params_not_mapping(d: Path) -> list[str]:
    """A params.yaml whose top level is a list."""
    return [_write(d, "params.yaml", "- 1\n- 2\n")]


def hydra_group_broken(d: Path) -> list[str]:
    """A Hydra group file (selected by a valid primary's defaults list) with a YAML error.

    (A primary that is itself invalid YAML is not recognised as a primary and is dropped
    silently; that gap is reported, not covered here.)
    """
    _write(d, "conf/config.yaml", "defaults:\n  - model: broken\ntrain:\n  epochs: 3\n")
    return [_write(d, "conf/model/broken.yaml", "key: [unclosed\n")]


def requirements_not_utf8(d: Path) -> list[str]:
    """A requirements.txt that is Latin-1 bytes."""
    return [_write(d, "requirements.txt", b"numpy==1.0 # caf\xe9\n")]


def pyproject_bad_toml(d: Path) -> list[str]:
    """A pyproject.toml with a TOML syntax error."""
    return [_write(d, "pyproject.toml", "[project\nname = 'x'\n")]


def poetry_lock_bad(d: Path) -> list[str]:
    """A poetry.lock with a TOML syntax error."""
    return [_write(d, "poetry.lock", "[[package]\nname = 1\n")]


def npm_lock_bad(d: Path) -> list[str]:
    """A package-lock.json that is not JSON."""
    return [_write(d, "package-lock.json", '{"packages": ')]


def pipfile_lock_bad(d: Path) -> list[str]:
    """A Pipfile.lock whose top level is a number."""
    return [_write(d, "Pipfile.lock", "42")]


def uv_lock_bad(d: Path) -> list[str]:
    """A uv.lock with a TOML syntax error."""
    return [_write(d, "uv.lock", "version = = 1\n")]


def conda_env_bad(d: Path) -> list[str]:
    """An environment.yml alias bomb."""
    lines = ["a: &a [x, x]"]
    for i in range(20):
        prev, cur = chr(97 + i), chr(98 + i)
        lines.append(f"{cur}: &{cur} [*{prev}, *{prev}, *{prev}, *{prev}]")
    return [_write(d, "environment.yml", "\n".join(lines) + "\n")]


def training_record_bad(d: Path) -> list[str]:
    """A training record that is a JSON list."""
    return [_write(d, "training-record.json", "[1, 2]")]


def model_card_bad_front_matter(d: Path) -> list[str]:
    """A README.md model card whose front matter is not YAML, beside a valid model."""
    _write(d, "good.safetensors", struct.pack("<Q", 2) + b"{}")
    return [_write(d, "README.md", "---\nlicense: [unclosed\n---\n# Model\n")]


def hf_config_bad(d: Path) -> list[str]:
    """A Hugging Face model directory whose config.json is not JSON."""
    _write(d, "hf/model.safetensors", struct.pack("<Q", 2) + b"{}")
    return [_write(d, "hf/config.json", '{"model_type": ')]


# --- filesystem faults ----------------------------------------------------------------------


def non_utf8_name(d: Path) -> list[str]:
    """A valid model whose file name is Latin-1 bytes (not UTF-8)."""
    d.mkdir(parents=True, exist_ok=True)
    raw = os.fsencode(str(d)) + b"/caf\xe9.safetensors"
    with open(raw, "wb") as fh:
        fh.write(struct.pack("<Q", 2) + b"{}")
    return [os.fsdecode(b"caf\xe9.safetensors")]


def symlink_loop(d: Path) -> list[str]:
    """A symlink pointing at itself."""
    d.mkdir(parents=True, exist_ok=True)
    (d / "loop").symlink_to("loop")
    return ["loop"]


def symlink_outside(d: Path) -> list[str]:
    """A symlink named like a model that points outside the repository."""
    d.mkdir(parents=True, exist_ok=True)
    (d / "outside.safetensors").symlink_to("/etc/hostname")
    return ["outside.safetensors"]


def fifo_model(d: Path) -> list[str]:
    """A FIFO named like a model: skipped by the walk, never opened (no warning, no hang)."""
    d.mkdir(parents=True, exist_ok=True)
    os.mkfifo(d / "pipe.safetensors")
    return ["pipe.safetensors"]


def unreadable_file(d: Path) -> list[str]:
    """A model file that cannot be opened (EACCES, emulated in-process: tests run as root)."""
    return [_write(d, "secret.safetensors", struct.pack("<Q", 2) + b"{}")]


def unreadable_directory(d: Path) -> list[str]:
    """A directory that cannot be listed (EACCES on scandir, emulated in-process)."""
    _write(d, "locked/m.safetensors", struct.pack("<Q", 2) + b"{}")
    return ["locked"]


def changes_while_hashed(d: Path) -> list[str]:
    """A model file that grows while it is hashed (a concurrent writer)."""
    return [_write(d, "growing.safetensors", struct.pack("<Q", 2) + b"{}" + b"\0" * 4096)]


def vanishes_before_hash(d: Path) -> list[str]:
    """A model file deleted between the walk and the hashing stage."""
    return [_write(d, "gone.safetensors", struct.pack("<Q", 2) + b"{}")]


@contextmanager
def _deny_open(root: Path, bad: list[str]) -> Iterator[None]:
    targets = {os.path.abspath(root / b) for b in bad}
    real_open = os.open

    def fake_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if isinstance(path, (str, os.PathLike)) and os.path.abspath(os.fspath(path)) in targets:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    os.open = fake_open  # type: ignore[assignment]
    try:
        yield
    finally:
        os.open = real_open


@contextmanager
def _deny_scandir(root: Path, bad: list[str]) -> Iterator[None]:
    targets = {os.path.abspath(root / b) for b in bad}
    real_scandir = os.scandir

    def fake_scandir(path: Any = ".") -> Any:
        if os.path.abspath(os.fspath(path)) in targets:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    os.scandir = fake_scandir  # type: ignore[assignment]
    try:
        yield
    finally:
        os.scandir = real_scandir


@contextmanager
def _grow_while_hashing(root: Path, bad: list[str]) -> Iterator[None]:
    from unified_supply_chain.hashing import digests as hashing

    targets = {os.path.abspath(root / b) for b in bad}
    real_digest = hashing._digest_fd

    def digest_then_grow(fd: int, *args: Any, **kwargs: Any) -> Any:
        result = real_digest(fd, *args, **kwargs)
        path = os.path.abspath(os.readlink(f"/proc/self/fd/{fd}"))
        if path in targets:
            with open(path, "ab") as fh:  # another writer appends after our last read
                fh.write(b"appended")
        return result

    hashing._digest_fd = digest_then_grow  # type: ignore[assignment]
    try:
        yield
    finally:
        hashing._digest_fd = real_digest  # type: ignore[assignment]


@contextmanager
def _delete_before_hashing(root: Path, bad: list[str]) -> Iterator[None]:
    from unified_supply_chain.inspection import scan

    real_hash_files = scan.hash_files

    def delete_then_hash(*args: Any, **kwargs: Any) -> Any:
        for b in bad:
            (root / b).unlink(missing_ok=True)
        return real_hash_files(*args, **kwargs)

    scan.hash_files = delete_then_hash  # type: ignore[assignment]
    try:
        yield
    finally:
        scan.hash_files = real_hash_files  # type: ignore[assignment]


# --- the registry ---------------------------------------------------------------------------


def _kind(make: Callable[[Path], list[str]], **kw: Any) -> Kind:
    return Kind(make.__name__, make, (make.__doc__ or "").strip(), **kw)


KINDS: tuple[Kind, ...] = (
    _kind(safetensors_truncated),
    _kind(safetensors_absurd_length),
    _kind(safetensors_deep_json),
    _kind(safetensors_offsets_past_end),
    _kind(gguf_absurd_counts),
    _kind(gguf_huge_string),
    _kind(gguf_bad_version),
    _kind(onnx_garbage),
    _kind(onnx_huge_length),
    _kind(pytorch_truncated),
    _kind(zip_bomb),
    _kind(zip_too_many_members),
    _kind(zip_lying_member_count),
    _kind(npy_bad_header),
    _kind(npy_absurd_shape),
    _kind(npz_member_not_npy),
    _kind(keras_broken),
    _kind(keras_bad_config),
    _kind(hdf5_bad_superblock),
    _kind(pickle_truncated),
    _kind(joblib_corrupt_stream),
    _kind(savedmodel_garbage),
    _kind(torch_legacy_bad),
    _kind(lfs_pointer_bad_oid),
    _kind(parquet_cut),
    _kind(parquet_huge_footer),
    _kind(arrow_garbage),
    _kind(jsonl_binary),
    _kind(descriptor_bad_yaml),
    _kind(yaml_alias_bomb),
    _kind(yaml_deep_nesting),
    _kind(json_deep_nesting),
    _kind(params_not_mapping),
    _kind(hydra_group_broken),
    _kind(requirements_not_utf8),
    _kind(pyproject_bad_toml),
    _kind(poetry_lock_bad),
    _kind(npm_lock_bad),
    _kind(pipfile_lock_bad),
    _kind(uv_lock_bad),
    _kind(conda_env_bad),
    _kind(training_record_bad),
    _kind(model_card_bad_front_matter),
    _kind(hf_config_bad),
    _kind(non_utf8_name, needs=("bytes-names",)),
    _kind(symlink_loop, needs=("symlink",)),
    _kind(symlink_outside, needs=("symlink",)),
    _kind(fifo_model, expected=0, needs=("fifo",)),
    _kind(unreadable_file, fault=Fault(_deny_open)),
    _kind(unreadable_directory, fault=Fault(_deny_scandir)),
    _kind(changes_while_hashed, fault=Fault(_grow_while_hashing)),
    _kind(vanishes_before_hash, fault=Fault(_delete_before_hashing)),
)
"""Every kind, in a stable order."""


@dataclass(frozen=True)
class Corpus:
    """A generated corpus."""

    root: Path
    """The repository root."""
    bad: dict[str, tuple[Kind, int]]
    """Repo-relative bad path -> (its kind, expected warning lines)."""
    faults: tuple[tuple[Fault, list[str]], ...]
    """In-process faults with the paths they apply to."""


def generate(root: Path, *, in_process: bool = True) -> Corpus:
    """Write every kind under `root/<kind>/`. Without `in_process`, kinds that need a fault
    are written too (as ordinary, valid files) but not counted as bad."""
    bad: dict[str, tuple[Kind, int]] = {}
    faults: list[tuple[Fault, list[str]]] = []
    for kind in KINDS:
        if "fifo" in kind.needs and not hasattr(os, "mkfifo"):
            continue
        sub = root / kind.name
        sub.mkdir(parents=True, exist_ok=True)
        paths = [f"{kind.name}/{p}" for p in kind.make(sub)]
        if kind.fault is not None:
            if not in_process:
                continue
            faults.append((kind.fault, paths))
        for p in paths:
            bad[p] = (kind, kind.expected)
    return Corpus(root, bad, tuple(faults))
