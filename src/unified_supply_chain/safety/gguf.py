"""GGUF: Jinja chat templates that reach for Python internals (server-side template injection).

llama-cpp-python rendered a GGUF's `tokenizer.chat_template` with an unsandboxed
`jinja2.Environment` (CVE-2024-34359, GHSA-56xg-wfcc-g829): a template such as
`{{ cycler.__init__.__globals__.os.popen('id').read() }}` ran commands when the model was used.
Other runtimes sandbox the template, but the sandbox has had escapes (CVE-2019-10906,
CVE-2024-56326 through `str.format`), so a template that reaches for internals is reported
whichever runtime will render it.

The template is judged on the syntax tree of jinja2's own parser (`Environment.parse`, with the
`loopcontrols` extension and the `{% generation %}` tag that Hugging Face's renderer adds), never
on its text: escapes such as `'\\x5f\\x5fclass\\x5f\\x5f'` are decoded by the parser, and string
expressions (`~`, `+`, `%`, `|format`, `|join`, `|replace`, slicing, `{% set %}` variables) are
folded to the name they build. What is reported:

- attribute or item access (`x.__class__`, `x['__cla' ~ 'ss__']`, `x|attr(...)`) to a name with a
  leading underscore or a Python frame/function internal, or to a name computed by string
  operations that cannot be folded;
- any string expression that folds to a dunder name (`__globals__`), wherever it is used;
- references to globals of web frameworks or to Python builtins (`self`, `request`, `config`, `os`,
  `lipsum`, `cycler`, `joiner`, `__builtins__`, ...) that the template does not define itself, and
  any attribute of a template global (`namespace.x`, `range.x`);
- `{% import %}`, `{% from %}`, `{% include %}` and `{% extends %}` (they load other templates).

A template jinja2 cannot parse, or one too long to read whole, could not be verified safe: HIGH.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError
from unified_supply_chain.records import Finding, Severity
from unified_supply_chain.safety.unverified import unverified

if TYPE_CHECKING:
    from jinja2 import nodes

CHAT_TEMPLATE_RULE = "suspicious-chat-template"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Names a chat template has no reason to use: web-framework globals of classic SSTI payloads,
#: Jinja's own globals used as gadgets (their functions' `__globals__` reach `os`), builtins.
DANGEROUS_NAMES = _words(
    "self request config session url_for get_flashed_messages lipsum cycler joiner os sys "
    "subprocess importlib builtins __builtins__ __import__ eval exec compile open getattr setattr "
    "globals locals vars type object"
)
#: Globals a template may call but whose attributes it has no reason to read.
TEMPLATE_GLOBALS = frozenset(
    {"namespace", "range", "dict", "raise_exception", "strftime_now", "lipsum", "cycler", "joiner"}
)
#: Python internals without a leading underscore (jinja2.sandbox's unsafe attribute lists).
INTERNAL_ATTRIBUTES = _words(
    "mro format_map func_globals func_code func_closure im_func im_self im_class gi_frame gi_code "
    "cr_frame cr_code ag_frame ag_code f_globals f_locals f_builtins f_back tb_frame tb_next"
)
_DUNDER = re.compile(r"__\w+__")
#: Filters that read an attribute named by an argument (`attr`, `map(attribute=...)`, ...).
_ATTRIBUTE_FILTERS = frozenset({"attr"})
#: Longest string built while folding (`'_' * 10**9` must not allocate).
_MAX_FOLDED = 4096


def _internal(name: str) -> bool:
    return name.startswith("_") or name in INTERNAL_ATTRIBUTES


class _Folder:
    """Folds string expressions of a template to their value, through `{% set %}` variables."""

    def __init__(self) -> None:
        self.env: dict[str, Any] = {}
        self.memo: dict[int, Any] = {}
        """Folded values by node id: each node is folded once, so long chains cost linear time
        (a node first met past the depth cap stays unfolded, which fails closed)."""

    def fold(self, node: nodes.Node, depth: int = 0) -> Any:
        """The constant value of `node` (str, int, tuple of them), or None when not constant."""
        key = id(node)
        if key not in self.memo:
            self.memo[key] = self._fold(node, depth)
        return self.memo[key]

    def _fold(self, node: nodes.Node, depth: int) -> Any:
        from jinja2 import nodes as n

        if depth > 50:
            return None
        d = depth + 1
        if isinstance(node, n.Const):
            return node.value if isinstance(node.value, (str, int)) else None
        if isinstance(node, n.TemplateData):
            return node.data
        if isinstance(node, n.Name):
            return self.env.get(node.name)
        if isinstance(node, n.Getattr) and isinstance(node.node, n.Name):
            return self.env.get(f"{node.node.name}.{node.attr}")
        if isinstance(node, (n.Tuple, n.List)):
            items = [self.fold(item, d) for item in node.items]
            return None if any(i is None for i in items) else tuple(items)
        if isinstance(node, n.Concat):
            parts = [self.fold(item, d) for item in node.nodes]
            return _limit("".join(str(p) for p in parts)) if None not in parts else None
        if isinstance(node, n.Neg):
            value = self.fold(node.node, d)
            return -value if isinstance(value, int) else None
        if isinstance(node, (n.Add, n.Mul, n.Mod)):
            return self._binary(node, d)
        if isinstance(node, n.Getitem):
            return self._item(node, d)
        if isinstance(node, n.Filter):
            return self._filter(node, d)
        method = node.node if isinstance(node, n.Call) else None
        if isinstance(node, n.Call) and isinstance(method, n.Getattr) and method.attr == "format":
            fmt = self.fold(method.node, d)
            args = [self.fold(a, d) for a in node.args]
            if isinstance(fmt, str) and None not in args:
                return _attempt(lambda: fmt.format(*args))
        return None

    def _binary(self, node: nodes.BinExpr, d: int) -> Any:
        from jinja2 import nodes as n

        left, right = self.fold(node.left, d), self.fold(node.right, d)
        if left is None or right is None:
            return None
        if isinstance(node, n.Mul):
            if isinstance(left, str) and isinstance(right, int) and len(left) * right < _MAX_FOLDED:
                return left * right
            return None
        if isinstance(node, n.Mod):
            return _attempt(lambda: left % right) if isinstance(left, str) else None
        if isinstance(left, str) and isinstance(right, str):
            return _limit(left + right)
        return None

    def _item(self, node: nodes.Getitem, d: int) -> Any:
        from jinja2 import nodes as n

        value = self.fold(node.node, d)
        if not isinstance(value, (str, tuple)):
            return None
        if isinstance(node.arg, n.Slice):
            bounds = [self.fold(b, d) if b is not None else None for b in (node.arg.start,
                      node.arg.stop, node.arg.step)]  # fmt: skip
            if any(b is not None and not isinstance(b, int) for b in bounds):
                return None
            return _attempt(lambda: value[slice(*bounds)])
        index = self.fold(node.arg, d)
        return _attempt(lambda: value[index]) if isinstance(index, int) else None

    def _filter(self, node: nodes.Filter, d: int) -> Any:
        value = self.fold(node.node, d) if node.node is not None else None
        args = [self.fold(a, d) for a in node.args]
        if value is None or None in args:
            return None
        if node.name == "format" and isinstance(value, str):
            return _attempt(lambda: value % tuple(args))
        if node.name == "join" and isinstance(value, tuple):
            sep = str(args[0]) if args else ""
            return _limit(sep.join(str(v) for v in value))
        if node.name == "replace" and isinstance(value, str) and len(args) >= 2:
            return _limit(value.replace(str(args[0]), str(args[1])))
        if node.name in ("lower", "upper", "trim", "string") and isinstance(value, str):
            return {"lower": value.lower, "upper": value.upper, "trim": value.strip}.get(
                node.name, lambda: value
            )()
        if node.name in ("reverse", "list") and isinstance(value, (str, tuple)):
            return value[::-1] if node.name == "reverse" else tuple(value)
        if node.name == "first" and isinstance(value, (str, tuple)) and value:
            return value[0]
        return None


def _limit(text: str) -> str | None:
    return text if len(text) <= _MAX_FOLDED else None


def _attempt(build: Any) -> Any:
    try:
        value = build()
    except (TypeError, ValueError, IndexError, KeyError, AttributeError, OverflowError):
        return None
    if isinstance(value, str):
        return _limit(value)
    return value if isinstance(value, (int, tuple)) else None


#: Filters and methods whose result is a string made from their input.
_STRING_FILTERS = frozenset(
    {"format", "join", "replace", "reverse", "string", "lower", "upper", "trim", "first", "last"}
)


def _stringy(node: nodes.Node, depth: int = 0) -> bool:
    """Whether `node` builds a string by string operations (`~`, `+` on text, `|format`, ...).

    An index such as `messages[loop.index0 + 1]` is arithmetic, not string building.
    """
    from jinja2 import nodes as n

    if depth > 50:
        return True
    d = depth + 1
    if isinstance(node, n.Const):
        return isinstance(node.value, str)
    if isinstance(node, n.Concat):
        return True
    if isinstance(node, (n.Add, n.Mul, n.Mod)):
        return _stringy(node.left, d) or _stringy(node.right, d)
    if isinstance(node, n.Filter):
        return node.name in _STRING_FILTERS or (node.node is not None and _stringy(node.node, d))
    if isinstance(node, n.Call):
        return isinstance(node.node, n.Getattr)  # a method call (.format, .pop) makes the name
    if isinstance(node, n.Getitem):
        return isinstance(node.arg, n.Slice) or _stringy(node.node, d)
    if isinstance(node, n.CondExpr):
        return _stringy(node.expr1, d) or (node.expr2 is not None and _stringy(node.expr2, d))
    return False


def _generation_extension() -> type:
    """The `{% generation %}...{% endgeneration %}` tag of Hugging Face's renderer
    (transformers, utils/chat_template_utils.py `AssistantTracker`), parsed as a plain block."""
    from jinja2 import nodes as n
    from jinja2.ext import Extension

    class Generation(Extension):
        tags = {"generation"}  # noqa: RUF012 (Extension declares it a plain attribute)

        def parse(self, parser: Any) -> n.Node:
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
            return n.Scope(body, lineno=lineno)

    return Generation


def template_problems(template: str) -> list[str]:
    """What in `template` reaches for Python internals; raises ValueError when unparseable."""
    import jinja2
    from jinja2 import nodes as n

    env = jinja2.Environment(extensions=["jinja2.ext.loopcontrols", _generation_extension()])
    try:
        tree = env.parse(template)
    except (jinja2.TemplateSyntaxError, RecursionError, MemoryError) as exc:
        raise ValueError(f"jinja2 cannot parse it ({type(exc).__name__}: {exc})") from None
    folder = _Folder()
    hits: dict[str, None] = {}
    everything = list(_walk(tree))
    defined = {x.name for x in everything if isinstance(x, n.Name) and x.ctx in ("store", "param")}
    defined |= {x.name for x in everything if isinstance(x, n.Macro)}
    try:
        for node in everything:
            for problem in _problems(node, folder, defined):
                hits.setdefault(problem)
    except RecursionError:
        raise ValueError("the template nests too deeply to analyse") from None
    return list(hits)


def _walk(tree: nodes.Node) -> Iterator[nodes.Node]:
    """Every node in document order; `{% set %}` values are recorded before later nodes."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(list(node.iter_child_nodes())))


def _problems(node: nodes.Node, folder: _Folder, defined: set[str]) -> Iterator[str]:
    from jinja2 import nodes as n

    if isinstance(node, n.Assign):
        value = folder.fold(node.node)
        target = node.target
        if isinstance(target, n.Name):
            folder.env[target.name] = value
        elif isinstance(target, n.NSRef):
            folder.env[f"{target.name}.{target.attr}"] = value
    elif isinstance(node, n.AssignBlock) and isinstance(node.target, n.Name):
        parts = [folder.fold(out) for o in node.body if isinstance(o, n.Output) for out in o.nodes]
        folder.env[node.target.name] = "".join(map(str, parts)) if None not in parts else None
    if isinstance(node, (n.Import, n.FromImport, n.Include, n.Extends)):
        yield "loads another template"
    elif isinstance(node, n.Getattr):
        if _internal(node.attr):
            yield f"attribute {node.attr}"
        if isinstance(node.node, n.Name) and node.node.name in TEMPLATE_GLOBALS:
            yield f"attribute of template global {node.node.name}"
    elif isinstance(node, n.Getitem) and not isinstance(node.arg, n.Slice):
        yield from _named_access(folder, node.arg, "item")
        if isinstance(node.node, n.Name) and node.node.name in TEMPLATE_GLOBALS:
            yield f"item of template global {node.node.name}"
    elif isinstance(node, n.Filter) and node.name in _ATTRIBUTE_FILTERS:
        for arg in node.args[:1]:
            yield from _named_access(folder, arg, "attr filter")
    elif isinstance(node, n.Keyword) and node.key.startswith("__"):
        yield f"keyword {node.key}"
    elif isinstance(node, n.Name) and node.ctx == "load" and _dangerous_name(node.name, defined):
        yield f"global {node.name}"
    if isinstance(node, n.Expr) and not isinstance(node, (n.Name, n.TemplateData)):
        # Output text is never evaluated; any expression folding to a dunder name is.
        value = folder.fold(node)
        found = _DUNDER.search(value) if isinstance(value, str) else None
        if found is not None:
            yield f"string {found.group(0)}"


def _dangerous_name(name: str, defined: set[str]) -> bool:
    return (name in DANGEROUS_NAMES and name not in defined) or name.startswith("__")


def _named_access(folder: _Folder, arg: nodes.Node, what: str) -> Iterator[str]:
    name = folder.fold(arg)
    if isinstance(name, str):
        if _internal(name):
            yield f"{what} {name}"
    elif name is None and _stringy(arg):
        yield f"{what} with a computed name"


def chat_template_findings(template: str, location: str) -> list[Finding]:
    """A finding when a Jinja chat template reaches for Python internals or cannot be parsed."""
    if len(template) > limits.MAX_GGUF_CHAT_TEMPLATE:
        # jinja2's parser takes seconds per 100 kB; real templates are a few kB.
        cap = limits.MAX_GGUF_CHAT_TEMPLATE
        return [_unverified(location, f"template longer than {cap} characters to analyse")]
    try:
        hits = template_problems(template)
    except ImportError:
        return [_unverified(location, "jinja2 is not installed to parse the template")]
    except ValueError as exc:
        return [_unverified(location, str(exc))]
    if not hits:
        return []
    return [
        Finding(
            rule=CHAT_TEMPLATE_RULE,
            severity=Severity.HIGH,
            message="GGUF chat template looks like a template-injection payload "
            f"({', '.join(hits[:8])})",
            path=location,
            details=tuple(f"pattern: {h}" for h in hits),
        )
    ]


def scan_gguf(path: Path, relpath: str, fmt: str) -> list[Finding]:
    """Chat templates of a GGUF file (named templates too); unreadable ones are HIGH."""
    from unified_supply_chain.formats.gguf import read_gguf_templates

    try:
        _, templates = read_gguf_templates(path)
    except (FormatError, OSError):
        return []  # a corrupt GGUF is a reader warning, not a safety finding: loaders refuse it
    findings: list[Finding] = []
    for key, text in templates:
        location = relpath if key == "tokenizer.chat_template" else f"{relpath}!{key}"
        if text is None:
            findings.append(_unverified(location, f"GGUF {key} is too long to read"))
        else:
            findings.extend(chat_template_findings(text, location))
    return findings


def _unverified(location: str, why: str) -> Finding:
    return unverified(location, f"chat template: {why}", CHAT_TEMPLATE_RULE)
