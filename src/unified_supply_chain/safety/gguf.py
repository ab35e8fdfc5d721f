"""GGUF: Jinja chat templates that reach for Python internals (template injection)."""

from __future__ import annotations

import re
from pathlib import Path

from unified_supply_chain.errors import FormatError
from unified_supply_chain.records import Finding, Severity

CHAT_TEMPLATE_RULE = "suspicious-chat-template"

_TEMPLATE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "dunder attribute access",
        re.compile(
            r"__(class|globals|subclasses|builtins|mro|base|bases|"
            r"init|import|getattribute|code|func|dict|module)__"
        ),
    ),
    ("import", re.compile(r"\bimport\b|__import__")),
    ("os access", re.compile(r"\bos\s*\.|\bpopen\b|\bsubprocess\b|\bsystem\s*\(")),
    ("eval/exec", re.compile(r"\b(eval|exec|compile)\s*\(")),
    (
        "template gadget",
        re.compile(
            r"\b(cycler|joiner|namespace|lipsum|url_for|self\._"
            r"|request\.application|config\.items)\b"
        ),
    ),
    ("attribute filter", re.compile(r"\|\s*attr\s*\(")),
)


def chat_template_findings(template: str, location: str) -> list[Finding]:
    """A finding when a Jinja chat template reaches for Python internals (template injection)."""
    hits = [label for label, pattern in _TEMPLATE_PATTERNS if pattern.search(template)]
    if not hits:
        return []
    return [
        Finding(
            rule=CHAT_TEMPLATE_RULE,
            severity=Severity.HIGH,
            message="GGUF chat template looks like a template-injection payload "
            f"({', '.join(hits)})",
            path=location,
            details=tuple(f"pattern: {h}" for h in hits),
        )
    ]


def scan_gguf(path: Path, relpath: str, fmt: str) -> list[Finding]:
    """Chat templates of a GGUF file (every named template too); partial ones are medium."""
    from unified_supply_chain.formats.gguf import read_gguf

    try:
        props = read_gguf(path).properties
    except (FormatError, OSError):
        return []  # a corrupt GGUF is a reader warning, not a safety finding: loaders refuse it
    key = "tokenizer.chat_template"
    findings: list[Finding] = []
    for name in sorted(props):
        if name != key and not name.startswith(key + "."):
            continue
        if name.endswith(".skipped"):
            template_name = name[: -len(".skipped")]
            findings.append(_partial_template(relpath, template_name, "too long to read"))
            continue
        if name.endswith(".length"):
            continue
        text = props[name]
        location = relpath if name == key else f"{relpath}!{name}"
        findings.extend(chat_template_findings(text, location))
        declared = props.get(f"{name}.length", "")
        if declared.isdigit() and int(declared) > len(text):
            findings.append(
                _partial_template(relpath, name, f"only {len(text)} of {declared} characters read")
            )
    return findings


def _partial_template(relpath: str, name: str, why: str) -> Finding:
    return Finding(
        rule=CHAT_TEMPLATE_RULE,
        severity=Severity.MEDIUM,
        message=f"unscannable: GGUF {name} {why}; it cannot be proven safe",
        path=relpath,
        details=(f"error: {name} {why}",),
    )
