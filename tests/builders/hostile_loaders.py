"""The real loaders the hostile corpus (tests/builders/hostile.py) is proven live against.

Run in a child process only (`python -m tests.builders.hostile_loaders LOADER PATH [MEMBER]
[EXT]`, working directory = the probe's temporary directory): it *does* unpickle, which is the
point. Each loader is the library call a user would make:

- `pickle`: `pickle.load(open(path, "rb"))` (CPython's C unpickler).
- `joblib`: `joblib.load(path)` (its NumpyUnpickler is the pure-Python `pickle._Unpickler`).
- `numpy`: `np.load(path, allow_pickle=True)`, every member of an `.npz` read.
- `zipfile+pickle`: `pickle.loads(zipfile.ZipFile(path).read(MEMBER))`, what hand-written
  checkpoint loaders do with a zip.
- `torch-style` and `torch-tar`: torch is not installed here, so `torch.load` is emulated from
  its source (pytorch/pytorch torch/serialization.py `load`, `_legacy_load`, `_load`;
  caffe2/serialize/inline_container.cc `PyTorchFileReader`): a zip (first bytes `PK\\x03\\x04`,
  `_is_zipfile`) is read the way miniz reads a record (central directory entry -> local header,
  data at `offset + 30 + local name length + local extra length`, the local name never compared
  with the central one; the archive folder is the first entry's prefix) and its `data.pkl` is
  unpickled by a `pickle.Unpickler` with torch's `find_class` (its `Storage` names and the
  rebuild helpers as stand-ins written from torch/_utils.py, torch/_tensor.py, torch/storage.py)
  and a `persistent_load`; otherwise the legacy tar (`storages`, `tensors`, `pickle` members,
  in that order, each unpickled) and the legacy stream (magic number, protocol, sys_info, the
  object, storage keys: five pickles) are tried as `_legacy_load` does.

An optional EXT argument `module:name:code` registers a copyreg extension code in the loading
process first (the EXT1/EXT2/EXT4 probes). After loading, child processes a payload started
(`subprocess.Popen`) are waited for, so the canary check does not race them.

`--batch MANIFEST` loads many probes from one interpreter: numpy and joblib are imported once,
then each probe is loaded in its own forked child (fresh memo, copyreg table and modules of the
probe's own doing), with the probe's directory as working directory and an alarm as a time
limit. The manifest is JSON: a list of [directory, loader, path, member, extension].
"""

from __future__ import annotations

import io
import json
import os
import pickle
import signal
import struct
import sys
import tarfile
import tempfile
import zlib
from typing import IO, Any

# torch/serialization.py: MAGIC_NUMBER = 0x1950a86a20f9469cfc6c, PROTOCOL_VERSION = 1001.
TORCH_MAGIC = 0x1950A86A20F9469CFC6C
TORCH_PROTOCOL = 1001


class _Storage:
    """Stand-in for a torch storage class (`torch.FloatStorage` and the like)."""

    def __init__(self, name: str) -> None:
        self.name = name


def _rebuild_tensor_v2(storage: object, offset: int, size: object, *rest: object) -> object:
    # torch/_utils.py `_rebuild_tensor_v2`: builds a tensor view, calls nothing of the pickle's.
    return ("tensor", size)


def _rebuild_from_type_v2(func: Any, new_type: object, args: Any, state: object) -> object:
    # torch/_tensor.py `_rebuild_from_type_v2`: `ret = func(*args)` first, whatever func is.
    return func(*args)


def _load_from_bytes(b: bytes) -> object:
    # torch/storage.py: `return torch.load(io.BytesIO(b), weights_only=False)`.
    return torch_load(io.BytesIO(b))


_TORCH_NAMES: dict[tuple[str, str], Any] = {
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor_v2,
    ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
    ("torch._utils", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
    ("torch.storage", "_load_from_bytes"): _load_from_bytes,
    ("torch.serialization", "load"): lambda f, *a, **k: torch_load(f),
    ("torch", "load"): lambda f, *a, **k: torch_load(f),
}


class _TorchUnpickler(pickle.Unpickler):
    """torch.serialization's UnpicklerWrapper: `find_class` with torch's own names."""

    def find_class(self, module: str, name: str) -> Any:
        # load_module_mapping = {"torch.tensor": "torch._tensor"}
        module = {"torch.tensor": "torch._tensor"}.get(module, module)
        if (module, name) in _TORCH_NAMES:
            return _TORCH_NAMES[(module, name)]
        if module == "torch" and "Storage" in name:
            return _Storage(name)
        return super().find_class(module, name)

    def persistent_load(self, pid: Any) -> Any:
        # `_load`'s persistent_load: ('storage', storage_type, key, location, numel).
        return ("storage", pid)


def _unpickle_torch(data: IO[bytes]) -> object:
    return _TorchUnpickler(data).load()


def miniz_record(raw: bytes, record: str) -> bytes:
    """Read `<archive>/<record>` the way PyTorchFileReader (miniz) does; see the module doc."""
    pos = raw.rfind(b"PK\x05\x06")
    if pos < 0:
        raise ValueError("no end of central directory")
    _, _, _, _, count, _cd_size, cd_offset, _ = struct.unpack("<4sHHHHIIH", raw[pos : pos + 22])
    entries: list[tuple[str, int, int, int]] = []
    at = cd_offset
    for _ in range(count):
        (sig, method, csize, nlen, xlen, clen, local) = _central(raw, at)
        if sig != b"PK\x01\x02":
            raise ValueError("bad central directory")
        name = raw[at + 46 : at + 46 + nlen].decode("utf-8")
        entries.append((name, method, csize, local))
        at += 46 + nlen + xlen + clen
    prefix = entries[0][0].split("/", 1)[0]
    for name, method, csize, local in entries:
        if name != f"{prefix}/{record}":
            continue
        lnlen, lxlen = struct.unpack("<HH", raw[local + 26 : local + 30])
        start = local + 30 + lnlen + lxlen
        body = raw[start : start + csize]
        return body if method == 0 else zlib.decompress(body, -15)
    raise KeyError(record)


def _central(raw: bytes, at: int) -> tuple[bytes, int, int, int, int, int, int]:
    sig = raw[at : at + 4]
    (method,) = struct.unpack("<H", raw[at + 10 : at + 12])
    (csize,) = struct.unpack("<I", raw[at + 20 : at + 24])
    nlen, xlen, clen = struct.unpack("<HHH", raw[at + 28 : at + 34])
    (local,) = struct.unpack("<I", raw[at + 42 : at + 46])
    return sig, method, csize, nlen, xlen, clen, local


def _legacy_tar(f: IO[bytes]) -> object:
    # `_legacy_load.legacy_load`: storages, then tensors, then the object, each unpickled.
    with tarfile.open(fileobj=f, mode="r:", format=tarfile.PAX_FORMAT) as tar:
        return _legacy_members(tar)


def _legacy_members(tar: tarfile.TarFile) -> object:
    with tempfile.TemporaryDirectory() as tmpdir:
        tar.extract("storages", path=tmpdir)
        with open(os.path.join(tmpdir, "storages"), "rb", 0) as s:
            num_storages = pickle.load(s)
            for _ in range(num_storages):
                pickle.load(s)
            pickle.load(s)  # storage views
        tar.extract("tensors", path=tmpdir)
        with open(os.path.join(tmpdir, "tensors"), "rb", 0) as t:
            for _ in range(pickle.load(t)):
                pickle.load(t)
        member = tar.extractfile("pickle")
        assert member is not None
        return _unpickle_torch(member)


def torch_load(f: str | IO[bytes]) -> object:
    """`torch.load(f, weights_only=False)`, emulated as the module doc says."""
    fh: IO[bytes] = open(f, "rb") if isinstance(f, (str, os.PathLike)) else f  # noqa: SIM115
    with fh:
        start = fh.read(4)
        fh.seek(0)
        if start == b"PK\x03\x04":
            return _unpickle_torch(io.BytesIO(miniz_record(fh.read(), "data.pkl")))
        # `_should_read_directly`: only a real file is tried as the legacy tar.
        if hasattr(fh, "fileno") and not isinstance(fh, io.BytesIO):
            try:
                return _legacy_tar(fh)
            except tarfile.TarError:
                fh.seek(0)
        magic = pickle.load(fh)
        if magic != TORCH_MAGIC:
            raise RuntimeError("Invalid magic number; corrupt file?")
        if pickle.load(fh) != TORCH_PROTOCOL:
            raise RuntimeError("Invalid protocol version")
        pickle.load(fh)  # sys_info
        result = _unpickle_torch(fh)
        pickle.load(fh)  # deserialized_storage_keys
        return result


def load(loader: str, path: str, member: str = "") -> object:
    """Open `path` with the named loader (see the module doc)."""
    if loader == "pickle":
        with open(path, "rb") as fh:
            return pickle.load(fh)
    if loader == "joblib":
        import joblib

        return joblib.load(path)
    if loader == "numpy":
        import numpy as np

        found = np.load(path, allow_pickle=True)
        if hasattr(found, "files"):
            return [found[key] for key in found.files]
        return found
    if loader == "zipfile+pickle":
        import zipfile

        with zipfile.ZipFile(path) as zf:
            return pickle.loads(zf.read(member))
    if loader in ("torch-style", "torch-tar"):
        return torch_load(path)
    raise ValueError(f"unknown loader {loader!r}")


def _reap_children() -> None:
    while True:
        try:
            os.wait()
        except ChildProcessError:
            return


def main(argv: list[str]) -> int:
    """Entry point of the child process: load one probe, report the error if any."""
    loader, path = argv[0], argv[1]
    member = argv[2] if len(argv) > 2 else ""
    if len(argv) > 3 and argv[3]:
        import copyreg

        module, name, code = argv[3].split(":")
        copyreg.add_extension(module, name, int(code))
    status = 0
    try:
        load(loader, path, member)
    except Exception as exc:  # noqa: BLE001 - a payload may break the object; the canary decides
        print(f"loader raised {type(exc).__name__}: {exc}", file=sys.stderr)
        status = 3
    _reap_children()
    return status


#: Seconds one probe may take in batch mode before its child is killed.
PROBE_SECONDS = 60


def batch(manifest: str) -> int:
    """Load every probe of `manifest` in its own forked child; print each exit status."""
    import joblib  # noqa: F401 - imported once here, inherited by every child
    import numpy  # noqa: F401

    with open(manifest, encoding="utf-8") as fh:
        entries = json.load(fh)
    statuses = []
    for directory, *args in entries:
        sys.stdout.flush()
        sys.stderr.flush()
        child = os.fork()
        if child == 0:
            code = 4
            try:
                os.chdir(directory)
                signal.alarm(PROBE_SECONDS)
                code = main(args)
            except BaseException as exc:  # noqa: BLE001 - the child must never return
                print(f"loader raised {type(exc).__name__}", file=sys.stderr)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        _, status = os.waitpid(child, 0)
        statuses.append(os.waitstatus_to_exitcode(status))
    print(json.dumps(statuses))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--batch"]:
        sys.exit(batch(sys.argv[2]))
    sys.exit(main(sys.argv[1:]))
