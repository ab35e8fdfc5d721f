"""The markdown body of a model card: its first paragraph of prose, and the items of the sections
that map to CycloneDX `modelCard.considerations` fields."""

from __future__ import annotations

import re

from unified_supply_chain.sources.cards.text_fields import clip

#: Items kept per considerations field.
MAX_CARD_SECTION_ITEMS = 50

# Section headings (lower case, punctuation folded) -> CycloneDX considerations field.
_SECTION_FIELDS: dict[str, str] = {
    "intended uses": "useCases",
    "intended use": "useCases",
    "intended uses and limitations": "useCases",
    "uses": "useCases",
    "use cases": "useCases",
    "direct use": "useCases",
    "downstream use": "useCases",
    "limitations": "technicalLimitations",
    "known limitations": "technicalLimitations",
    "technical limitations": "technicalLimitations",
    "bias risks and limitations": "technicalLimitations",
    "risks and limitations": "technicalLimitations",
    "limitations and bias": "technicalLimitations",
    "limitations and biases": "technicalLimitations",
    "ethical considerations": "ethicalConsiderations",
    "ethical considerations and risks": "ethicalConsiderations",
    "ethics": "ethicalConsiderations",
    "ethics and safety": "ethicalConsiderations",
    "performance tradeoffs": "performanceTradeoffs",
    "tradeoffs": "performanceTradeoffs",
}
#: Placeholder text of the hub's card templates, which says nothing.
_PLACEHOLDERS = frozenset({"more information needed", "[more information needed]"})
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_LIST_ITEM = re.compile(r"^\s{0,3}(?:[-*+]|\d{1,3}[.)])\s+(.*)$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")


def _heading_key(title: str) -> str:
    text = title.lower().replace("&", " and ").replace("-", "")
    text = re.sub(r"[^a-z0-9 ]+", " ", text)
    return " ".join(text.split())


def _blocks(body: str) -> list[tuple[str | None, str]]:
    """Split markdown into (heading title or None, text item) pairs.

    Items are list entries and paragraphs. Code blocks, HTML, tables and images are skipped:
    they are not prose a considerations field can carry.
    """
    out: list[tuple[str | None, str]] = []
    heading: str | None = None
    para: list[str] = []
    in_fence = False
    in_comment = False

    def flush() -> None:
        if para:
            text = " ".join(para).strip()
            if text:
                out.append((heading, text))
            para.clear()

    for line in body.splitlines():
        if in_comment:
            in_comment = "-->" not in line
            continue
        if _FENCE.match(line):
            flush()
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        stripped = line.strip()
        if stripped.startswith("<!--"):
            flush()
            in_comment = "-->" not in stripped
            continue
        match = _HEADING.match(line)
        if match:
            flush()
            heading = match.group(2)
            continue
        if not stripped or stripped.startswith(("|", "<", "![", "[![")):
            flush()
            continue
        item = _LIST_ITEM.match(line)
        if item:
            flush()
            para.append(item.group(1))
            continue
        para.append(stripped)
    flush()
    return out


def read_body(body: str) -> tuple[str | None, dict[str, list[str]]]:
    """(description, considerations) from the markdown body."""
    description: str | None = None
    considerations: dict[str, list[str]] = {}
    for heading, text in _blocks(body):
        if text.lower().strip(" .*_") in _PLACEHOLDERS:
            continue
        if description is None and (
            heading is None or _heading_key(heading) not in _SECTION_FIELDS
        ):
            description = clip(text)
        if heading is None:
            continue
        target = _SECTION_FIELDS.get(_heading_key(heading))
        if target is None:
            continue
        items = considerations.setdefault(target, [])
        if len(items) < MAX_CARD_SECTION_ITEMS:
            items.append(clip(text))
    return description, considerations
