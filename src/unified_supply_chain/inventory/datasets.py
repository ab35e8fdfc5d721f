"""Dataset readers: cheap headers of csv/tsv, parquet, jsonl and arrow files, and descriptor files.

Every reader reads a bounded amount of the file and raises only FormatError (or LimitExceeded).
URLs taken from descriptors pass through `redact_url`, so no credential reaches the SBOM.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

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
