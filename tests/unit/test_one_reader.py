"""Guards: finished SBOMs are read only through bom/view.py; Markdown is escaped only in
report/markdown.py. Both fail when a new module starts its own walker or its own escaper."""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "unified_supply_chain"

#: Modules that may touch a document's `components` directly, and why.
COMPONENT_SITES = {
    "bom/view.py": "the one reader of finished SBOMs",
    "bom/build.py": "writes the components of the document it builds (and counts them)",
    "bom/mlbom.py": "links model cards to the components while the document is built",
    "bom/merge.py": "rewrites documents: moves other tools' components into ours",
}
#: Methods through which a dict's "components" key is read or changed.
_DICT_METHODS = {"get", "setdefault", "pop"}


def _component_accesses(tree: ast.AST) -> list[int]:
    """Line numbers of `x["components"]` and `x.get/setdefault/pop("components", ...)`."""
    lines = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.slice, ast.Constant)
            and node.slice.value == "components"
        ) or (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _DICT_METHODS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value == "components"
        ):
            lines.append(node.lineno)
    return lines


def _modules() -> list[tuple[str, Path]]:
    return [(p.relative_to(SRC).as_posix(), p) for p in sorted(SRC.rglob("*.py"))]


def test_the_guard_sees_both_forms() -> None:
    tree = ast.parse('a["components"]\nb.get("components")\nc.setdefault("components", [])\n')
    assert _component_accesses(tree) == [1, 2, 3]
    assert _component_accesses(ast.parse('{"components": []}\nd.get("name")')) == []


def test_only_the_view_and_the_builders_touch_components() -> None:
    offenders = []
    for name, path in _modules():
        lines = _component_accesses(ast.parse(path.read_text(encoding="utf-8")))
        if lines and name not in COMPONENT_SITES:
            offenders.append(f"{name}:{lines}")
    assert offenders == [], "read components through bom.view.BomView: " + ", ".join(offenders)
    # Every allowed site still needs its exception (a stale allow-list hides new walkers).
    for name in COMPONENT_SITES:
        assert _component_accesses(ast.parse((SRC / name).read_text(encoding="utf-8"))), name


#: Markdown/HTML escaping written by hand: a `replace` of a Markdown-special character with an
#: escape, `html.escape`, or an HTML entity for `<`/`>`.
_ESCAPING = re.compile(
    r"""\.replace\(\s*["'](?:\||`|<|>|\*|_|\[|\\\\)["']\s*,\s*["'](?:\\|&|')"""
    r"""|html\.escape\(|\.sub\(r?["']\\\\"""
)


def test_the_escaping_guard_sees_hand_written_escapes() -> None:
    assert _ESCAPING.search('text.replace("|", "\\\\|")')
    assert _ESCAPING.search("html.escape(text)")
    assert _ESCAPING.search('x.replace("<", "&lt;")')
    assert _ESCAPING.search('text.replace("`", "\'")')
    assert not _ESCAPING.search('value.replace("%", "%25")')
    assert not _ESCAPING.search('field.replace("_", "-")')


def test_markdown_escaping_lives_only_in_report_markdown() -> None:
    offenders = [
        f"{name}:{n}"
        for name, path in _modules()
        if name != "report/markdown.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _ESCAPING.search(line)
    ]
    assert offenders == [], "escape through report/markdown.py: " + ", ".join(offenders)
    assert _ESCAPING.search((SRC / "report" / "markdown.py").read_text(encoding="utf-8"))
