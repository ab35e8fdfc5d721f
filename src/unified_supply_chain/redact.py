"""Secrets never reach an output: credentials inside URLs, and values of secret-named parameters.

Used on every string of a finished document (URLs anywhere in free text) and on hyperparameters,
whose keys tell when a value is a secret (`wandb.api_key`, `db.password`).
"""

from __future__ import annotations

import re

from unified_supply_chain.formats.datasets import redact_url

REDACTED = "REDACTED"
# A URL inside free text: a scheme, then anything up to white space or a quote.
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"]+")
# Parameter keys whose values are secrets (the last dotted segment, compared lower-case).
_SECRET_KEY = re.compile(
    r"(^|[_-])(password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key"
    r"|client[_-]?secret|credentials?)$"
)


def redact_text(text: str) -> str:
    """`text` with every URL's credentials removed (cheap when there is no URL)."""
    if "://" not in text:
        return text
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)


def is_secret_key(key: str) -> bool:
    """True for parameter keys that name a secret, e.g. `tracking.api_key`, `DB_PASSWORD`."""
    last = key.rsplit(".", 1)[-1].strip().lower()
    return bool(_SECRET_KEY.search(last))


def redact_param(key: str, value: str) -> str:
    """A hyperparameter value fit for an SBOM: secrets by key replaced, URL credentials removed."""
    if is_secret_key(key) and value not in ("", "null", "None"):
        return REDACTED
    return redact_text(value)
