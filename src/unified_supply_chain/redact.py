"""Secrets never reach an output: credentials inside URLs, and values of secret-named parameters.

Used on every string of a finished document (URLs anywhere in free text) and on hyperparameters,
whose keys tell when a value is a secret (`wandb.api_key`, `db.password`).
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

REDACTED = "REDACTED"

#: Query/fragment parameter names whose values are secrets (compared lower-case).
_SECRET_PARAMS = frozenset(
    {
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "auth",
        "sig",
        "signature",
        "key",
        "apikey",
        "api_key",
        "password",
        "passwd",
        "secret",
        "client_secret",
        "credential",
        "credentials",
    }
)
_SECRET_PREFIXES = ("x-amz-", "x-goog-")
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#@]*@")


def _is_secret_param(name: str) -> bool:
    lowered = unquote(name).strip().lower()
    return lowered in _SECRET_PARAMS or lowered.startswith(_SECRET_PREFIXES)


def _redact_pairs(text: str) -> str:
    parts = []
    for part in text.split("&"):
        name, sep, _value = part.partition("=")
        parts.append(f"{name}=REDACTED" if sep and _is_secret_param(name) else part)
    return "&".join(parts)


def redact_url(url: str) -> str:
    """The URL without credentials: user-info removed and secret query values replaced.

    `https://user:token@host/p?sig=abc&x=1` becomes `https://host/p?sig=REDACTED&x=1`. A URL
    that cannot be split keeps neither its user-info nor its query and fragment.
    """
    try:
        parts = urlsplit(url)
        netloc = parts.netloc.rpartition("@")[2]
        query = _redact_pairs(parts.query) if parts.query else ""
        fragment = _redact_pairs(parts.fragment) if "=" in parts.fragment else parts.fragment
        return urlunsplit((parts.scheme, netloc, parts.path, query, fragment))
    except ValueError:
        stripped = _USERINFO.sub(r"\1", url)
        return re.split(r"[?#]", stripped, maxsplit=1)[0]


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
