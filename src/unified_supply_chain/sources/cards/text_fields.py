"""Scalars of card front matter and `config.json` as bounded, one-line text."""

from __future__ import annotations

from typing import Any

#: Characters kept per card item, description or label.
MAX_CARD_ITEM_CHARS = 1000


def clip(text: str) -> str:
    """Whitespace folded to single spaces, cut to `MAX_CARD_ITEM_CHARS` with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= MAX_CARD_ITEM_CHARS else text[: MAX_CARD_ITEM_CHARS - 1] + "…"


def scalar_text(value: Any) -> str | None:
    """Text of a YAML scalar (str, number, bool); None for anything else."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        text = str(value).strip()
        return text or None
    return None
