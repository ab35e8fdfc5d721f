"""Dataset builder scripts (`datasets` and TensorFlow Datasets), read with `ast`, never run.

A Hugging Face loading script is a `<name>.py` defining a subclass of
`datasets.GeneratorBasedBuilder` (or `ArrowBasedBuilder`, `BeamBasedBuilder`, `DatasetBuilder`);
a TFDS one subclasses `tfds.core.GeneratorBasedBuilder` (`tfds new` writes
`<name>/<name>_dataset_builder.py` with a class `Builder`). Where the data comes from is written
in module constants (`_URL`, `_URLS`, `_DATA_URL`, ...) or passed to
`dl_manager.download(...)` / `download_and_extract(...)`; `_LICENSE`, `_CITATION`,
`_HOMEPAGE` and `_DESCRIPTION` are literal strings by convention (the `datasets` library's
`templates/new_dataset_script.py`).

Only literals are evaluated: strings, names of module constants, `+` between them, f-strings of
them, and dicts, lists and tuples of those. Anything computed is not followed. Every URL passes
through `redact_url`.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from unified_supply_chain import safeparse
from unified_supply_chain.errors import FormatError
from unified_supply_chain.redact import redact_url

#: Largest builder script read; real ones are a few tens of KB.
MAX_BUILDER_SCRIPT_BYTES = 1024 * 1024
#: URLs kept per builder.
MAX_BUILDER_URLS = 1000
_BUILDER_BASES = frozenset(
    {"GeneratorBasedBuilder", "ArrowBasedBuilder", "BeamBasedBuilder", "DatasetBuilder"}
)
_BUILDER_MODULES = frozenset({"datasets", "tfds", "tensorflow_datasets", "nlp"})
_URL_NAME = re.compile(r"^_?[A-Z0-9_]*URLS?$")
_URL_LIKE = re.compile(r"^(?:https?|ftp|s3|gs|hf)://\S+$")
_DOWNLOAD_CALLS = frozenset({"download", "download_and_extract", "download_custom"})
_TEXT_MAX = 2000
#: Strings one folder evaluates at most (nested lists of constants could multiply them).
_MAX_STRINGS = 100_000


@dataclass(frozen=True)
class BuilderScript:
    """One builder class of a script."""

    class_name: str
    urls: tuple[str, ...]
    """Redacted, in source order, without duplicates; base URLs others extend are left out."""
    license: str | None = None
    citation: str | None = None
    homepage: str | None = None
    description: str | None = None
    version: str | None = None
    """`VERSION = datasets.Version("1.0.0")` when literal."""
    computed_downloads: int = 0
    """Download calls whose argument is computed (not a literal): their URLs are not known."""


class _Folder:
    """Evaluates literal expressions against the module's constant assignments."""

    def __init__(self, constants: dict[str, ast.expr]) -> None:
        self.constants = constants
        self.depth = 0
        self.produced = 0

    def strings(self, node: ast.AST | None) -> list[str]:
        """Every string a literal expression evaluates to (several for a dict or list)."""
        if node is None or self.depth > 20 or self.produced > _MAX_STRINGS:
            return []
        self.depth += 1
        try:
            found = self._strings(node)
        finally:
            self.depth -= 1
        self.produced += len(found)
        return found[:_MAX_STRINGS]

    def _strings(self, node: ast.AST) -> list[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.Name) and node.id in self.constants:
            return self.strings(self.constants[node.id])
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.strings(node.left), self.strings(node.right)
            if len(left) == 1 and len(right) == 1:
                return [left[0] + right[0]]
            return []
        if isinstance(node, ast.JoinedStr):
            text = ""
            for part in node.values:
                if isinstance(part, ast.FormattedValue):
                    sub = self.strings(part.value)
                    if len(sub) != 1 or part.format_spec is not None:
                        return []
                    text += sub[0]
                else:
                    sub = self.strings(part)
                    if len(sub) != 1:
                        return []
                    text += sub[0]
            return [text]
        if isinstance(node, ast.Dict):
            return [s for v in node.values for s in self.strings(v)]
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return [s for v in node.elts for s in self.strings(v)]
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            target = self.constants.get(node.value.id)
            key = node.slice
            if isinstance(target, ast.Dict) and isinstance(key, ast.Constant):
                for k, v in zip(target.keys, target.values, strict=True):
                    if isinstance(k, ast.Constant) and k.value == key.value:
                        return self.strings(v)
        return []

    def text(self, node: ast.AST | None) -> str | None:
        found = self.strings(node)
        if len(found) == 1 and found[0].strip():
            return found[0].strip()[:_TEXT_MAX]
        return None


def _dotted(node: ast.expr) -> list[str]:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return parts[::-1]


def _is_builder_base(base: ast.expr, imported: set[str]) -> bool:
    parts = _dotted(base)
    if len(parts) == 1:
        return parts[0] in imported  # `from datasets import GeneratorBasedBuilder [as X]`
    return len(parts) > 1 and parts[-1] in _BUILDER_BASES and parts[0] in _BUILDER_MODULES


def _imported_builder_names(tree: ast.Module) -> set[str]:
    out: set[str] = set()
    for node in tree.body:
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.split(".")[0] in _BUILDER_MODULES
        ):
            out.update(a.asname or a.name for a in node.names if a.name in _BUILDER_BASES)
    return out


def _constants(body: list[ast.stmt]) -> dict[str, ast.expr]:
    out: dict[str, ast.expr] = {}
    for node in body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            out[node.target.id] = node.value
    return out


def _urls(found: list[str]) -> tuple[str, ...]:
    urls = [u.strip() for u in found if _URL_LIKE.match(u.strip())]
    unique = list(dict.fromkeys(urls))
    # A base URL that other URLs extend (`_URL + "train.json"`) says nothing more.
    kept = [
        u
        for u in unique
        if not (u.endswith("/") and any(o != u and o.startswith(u) for o in unique))
    ]
    return tuple(dict.fromkeys(redact_url(u) for u in kept))[:MAX_BUILDER_URLS]


def _info_keywords(cls: ast.ClassDef, folder: _Folder) -> dict[str, str]:
    """Literal keywords of `DatasetInfo(...)` calls in the class (license, homepage, ...)."""
    out: dict[str, str] = {}
    for node in ast.walk(cls):
        if isinstance(node, ast.Call) and (_dotted(node.func) or [""])[-1] == "DatasetInfo":
            for kw in node.keywords:
                if kw.arg in ("license", "citation", "homepage", "description"):
                    value = folder.text(kw.value)
                    if value is not None:
                        out.setdefault(kw.arg, value)
    return out


def _version(cls: ast.ClassDef, folder: _Folder) -> str | None:
    value = _constants(cls.body).get("VERSION")
    if isinstance(value, ast.Call) and value.args:
        return folder.text(value.args[0])
    return folder.text(value)


def read_builder_script(path: Path, cap: int = MAX_BUILDER_SCRIPT_BYTES) -> list[BuilderScript]:
    """Builder classes of a Python file, parsed (never imported). Empty for a file that defines
    none. Raises only FormatError (LimitExceeded for a file over `cap` bytes, or a file that is
    not Python source)."""
    text = safeparse.read_text_bounded(path, cap)
    if not any(base in text for base in _BUILDER_BASES):
        return []  # not a builder: ordinary code named like its package is not parsed
    try:
        tree = ast.parse(text, filename=path.name)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise FormatError(f"not Python source: {type(exc).__name__}") from None
    imported = _imported_builder_names(tree)
    constants = _constants(tree.body)
    folder = _Folder(constants)
    module_urls = [
        s for name, v in constants.items() if _URL_NAME.match(name) for s in folder.strings(v)
    ]
    out: list[BuilderScript] = []
    for cls in tree.body:
        if not isinstance(cls, ast.ClassDef) or not any(
            _is_builder_base(b, imported) for b in cls.bases
        ):
            continue
        class_folder = _Folder({**constants, **_constants(cls.body)})
        found = list(module_urls)
        computed = 0
        found += [
            s
            for name, v in _constants(cls.body).items()
            if _URL_NAME.match(name)
            for s in class_folder.strings(v)
        ]
        for node in ast.walk(cls):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in _DOWNLOAD_CALLS
            ):
                for arg in node.args[:1]:
                    urls = class_folder.strings(arg)
                    found += urls
                    computed += not urls
        info = _info_keywords(cls, class_folder)
        out.append(
            BuilderScript(
                class_name=cls.name,
                urls=_urls(found),
                license=folder.text(constants.get("_LICENSE")) or info.get("license"),
                citation=folder.text(constants.get("_CITATION")) or info.get("citation"),
                homepage=folder.text(constants.get("_HOMEPAGE")) or info.get("homepage"),
                description=folder.text(constants.get("_DESCRIPTION")) or info.get("description"),
                version=_version(cls, class_folder),
                computed_downloads=computed,
            )
        )
    return out
