"""Secrets never reach an output: credentials inside URLs, values of secret-named parameters,
and values that look like credentials wherever they appear.

Three rules, all here and nowhere else:
- `redact_url`: a URL loses its user-info and the values of secret query parameters;
- `redact_param`: a hyperparameter whose key names a secret (`wandb.api_key`) loses its value;
- `find_secrets`: a credential recognised by its shape (`AKIA...`, `ghp_...`, a private-key block)
  is replaced wherever it is, whatever its key: hyperparameter values, list items, descriptions.

`redact_text` applies the URL and shape rules to one string. The finished SBOM (every string, in
`bom.build.clean_strings`) and the step summary (`actions_io.append_summary`) pass through it,
so callers need not. Shapes come from the detect-secrets plugins (Yelp/detect-secrets, the
`denylist` regular expressions of `detect_secrets/plugins/*.py`), imported on first use only:
`usc --help` never loads them. The few credential kinds those plugins do not know are added in
`_EXTRA_PATTERNS`, each with its source.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterator
from re import Pattern
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


def redact_urls(text: str) -> str:
    """`text` with every URL's credentials removed (cheap when there is no URL)."""
    if "://" not in text:
        return text
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)


def redact_text(text: str) -> str:
    """`text` with URL credentials and every credential-shaped value replaced by `REDACTED`."""
    return redact_found(redact_urls(text))[0]


# ------------------------------------------------------------------ credentials by their shape

#: Credential kinds the detect-secrets plugins (1.5) do not recognise: (kind, pattern).
_EXTRA_PATTERNS: tuple[tuple[str, str], ...] = (
    # Hugging Face user access tokens: "hf_" and 34 letters (gitleaks/gitleaks,
    # cmd/generate/config/rules/huggingface.go, huggingface-access-token); detect-secrets 1.5
    # has no Hugging Face plugin.
    ("Hugging Face Token", r"(?<![A-Za-z0-9_])hf_[A-Za-z]{34}(?![A-Za-z0-9])"),
    # GitHub fine-grained personal access tokens: "github_pat_" and 82 word characters (gitleaks,
    # rules/github.go, github-fine-grained-pat); the GitHub plugin knows only ghp_/gho_/ghu_/...
    ("GitHub Token", r"github_pat_[A-Za-z0-9_]{82}"),
    # Google (GCP) API keys: "AIza" and 35 characters (gitleaks, rules/gcp.go, gcp-api-key). GCP
    # service-account keys are JSON with a PEM private key: the private-key detector's job.
    ("Google API Key", r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])"),
    # HTTP bearer credentials (RFC 6750 section 2.1: "Bearer" 1*SP b64token); at least 16
    # characters, so prose such as "bearer tokens expire" is not taken for one.
    ("Bearer Token", r"(?i)(?<![A-Za-z])bearer +([A-Za-z0-9._~+/-]{16,}=*)"),
)

#: detect-secrets plugins used, by class name. Left out, because they judge key names or
#: randomness rather than a credential's shape and would redact hashes and ordinary words:
#: KeywordDetector, Base64/HexHighEntropyString, IPPublicDetector, and the IBM/Cloudant/SoftLayer
#: detectors (which need a `cloudant_password = ...` assignment, the key-name rule's job). Left
#: out for its cost: NpmDetector, whose `//.+/:_authToken=` takes 100 s on 100 kB of `/` (an
#: `.npmrc` line; the URL rule already removes user-info and `_authToken=`-style queries).
_PLUGINS: tuple[tuple[str, str], ...] = (
    ("artifactory", "ArtifactoryDetector"),
    ("aws", "AWSKeyDetector"),
    ("azure_storage_key", "AzureStorageKeyDetector"),
    ("basic_auth", "BasicAuthDetector"),
    ("discord", "DiscordBotTokenDetector"),
    ("github_token", "GitHubTokenDetector"),
    ("gitlab_token", "GitLabTokenDetector"),
    ("jwt", "JwtTokenDetector"),
    ("mailchimp", "MailchimpDetector"),
    ("openai", "OpenAIDetector"),
    ("private_key", "PrivateKeyDetector"),
    ("pypi_token", "PypiTokenDetector"),
    ("sendgrid", "SendGridDetector"),
    ("slack", "SlackDetector"),
    ("square_oauth", "SquareOAuthDetector"),
    ("stripe", "StripeDetector"),
    ("telegram_token", "TelegramBotTokenDetector"),
    ("twilio", "TwilioKeyDetector"),
)

#: The private-key plugin matches the BEGIN line only; the whole block is replaced, up to the
#: END line (PEM, OpenSSH, PGP) or PuTTY's closing `Private-MAC:` line, else to the text's end.
_KEY_END = re.compile(r"-----END [A-Z0-9 ]{0,60}-----|Private-MAC: *[0-9a-fA-F]*")

#: Kinds whose patterns match context around the credential, which is their group 1: the
#: password of `://user:password@`, the token after `Bearer `, the AWS secret after `aws_key = `.
#: Elsewhere groups are parts of the credential (GitHub's `(ghp|gho|...)_` prefix), so the
#: whole match is replaced.
_CONTEXT_KINDS = frozenset({"Basic Auth Credentials", "Bearer Token", "AWS Access Key"})
_PRIVATE_KEY = "Private Key"

#: Text is searched in windows of this many characters, each overlapping the next by
#: `_OVERLAP`: some plugin patterns take quadratic time on hostile text (BasicAuthDetector's
#: `://[^@]+:` on a long line without `@`), which a window bounds. A match cut by a window's
#: end is extended over the token's remaining characters, so a long JWT is never half replaced.
_WINDOW = 4096
_OVERLAP = 1024


@dataclasses.dataclass(frozen=True)
class _Detector:
    kind: str
    """What the credential is, e.g. "AWS Access Key" (shown in warnings instead of the value)."""
    pattern: Pattern[str]
    """Where it is: the whole match, or group 1 for `_CONTEXT_KINDS`."""
    check: Callable[[str], bool] | None = None
    """A plugin's extra test of a match (`JwtTokenDetector.is_formally_valid`), or None."""


@functools.lru_cache(maxsize=1)
def _detectors() -> tuple[_Detector, ...]:
    """Every detector, loaded on first use (the plugins import `requests`, ~50 ms)."""
    import importlib

    out: dict[Pattern[str], _Detector] = {}
    for module_name, class_name in _PLUGINS:
        module = importlib.import_module(f"detect_secrets.plugins.{module_name}")
        plugin = getattr(module, class_name)
        check = getattr(plugin, "is_formally_valid", None)
        for pattern in plugin.denylist:
            out.setdefault(pattern, _Detector(plugin.secret_type, pattern, check))
    for kind, regex in _EXTRA_PATTERNS:
        pattern = re.compile(regex)
        out[pattern] = _Detector(kind, pattern)
    return tuple(out.values())


@functools.lru_cache(maxsize=1)
def _any_detector() -> Pattern[str]:
    """All detectors' patterns in one alternation: one search rejects an ordinary value, where
    one search per pattern costs ten times the rest of the document's cleaning."""
    parts = []
    for detector in _detectors():
        flags = "i" if detector.pattern.flags & re.IGNORECASE else ""
        flags += "s" if detector.pattern.flags & re.DOTALL else ""
        body = detector.pattern.pattern.removeprefix("(?i)")
        if body != detector.pattern.pattern:
            flags += "i"
        parts.append(f"(?{flags}:{body})" if flags else f"(?:{body})")
    return re.compile("|".join(parts))


#: Strings that cannot hold any credential the detectors know: numbers and booleans.
_TOO_PLAIN = re.compile(r"[-+0-9.eE_ ]*|true|false|null|none|True|False|None")
#: Characters a token goes on with: a match is extended over them, as the JWT plugin's lazy
#: `[...]*?` stops before the signature and a window's end may cut a token.
_TOKEN_TAIL = re.compile(r"[A-Za-z0-9_~+/=.-]*")


def _spans(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, kind) of every credential in `text`, window by window.

    A match is extended over the token characters that follow it (`_TOKEN_TAIL`); a private
    key's BEGIN line to the block's end (found once per text, so many BEGINs stay linear).
    """
    import bisect

    key_ends: list[int] | None = None
    step = _WINDOW - _OVERLAP
    for offset in range(0, max(len(text) - _OVERLAP, 1), step):
        window_end = min(offset + _WINDOW, len(text))
        window = text[offset:window_end]
        if _any_detector().search(window) is None:
            continue
        for detector in _detectors():
            for match in detector.pattern.finditer(window):
                group = 1 if detector.kind in _CONTEXT_KINDS and detector.pattern.groups else 0
                start, end = match.span(group)
                if end <= start:
                    continue
                if detector.check is not None and not detector.check(match.group(group)):
                    continue
                start, end = start + offset, end + offset
                if detector.kind == _PRIVATE_KEY:
                    if key_ends is None:
                        key_ends = [m.end() for m in _KEY_END.finditer(text)]
                    after = bisect.bisect_left(key_ends, end)
                    end = key_ends[after] if after < len(key_ends) else len(text)
                    start = start - 5 if text[max(start - 5, 0) : start] == "-----" else start
                else:
                    end = _TOKEN_TAIL.match(text, end).end()  # type: ignore[union-attr]
                yield start, end, detector.kind


def redact_found(text: str) -> tuple[str, tuple[str, ...]]:
    """`text` with every credential-shaped part replaced by `REDACTED`, and the kinds found.

    The kinds ("AWS Access Key", "Private Key") name what was removed, for a warning that must
    not repeat the value itself. Overlapping matches are replaced once, as one.
    """
    if len(text) < 8 or _TOO_PLAIN.fullmatch(text):
        return text, ()
    spans = sorted(set(_spans(text)))
    if not spans:
        return text, ()
    merged: list[list[int]] = []
    kinds: list[str] = []
    for start, end, kind in spans:
        if kind not in kinds:
            kinds.append(kind)
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    parts: list[str] = []
    position = 0
    for start, end in merged:
        parts.append(text[position:start])
        parts.append(REDACTED)
        position = end
    parts.append(text[position:])
    return "".join(parts), tuple(kinds)


def is_secret_key(key: str) -> bool:
    """True for parameter keys that name a secret, e.g. `tracking.api_key`, `DB_PASSWORD`."""
    last = key.rsplit(".", 1)[-1].strip().lower()
    return bool(_SECRET_KEY.search(last))


def redact_param(key: str, value: str) -> str:
    """A hyperparameter value fit for an SBOM: secrets by key replaced, URL credentials removed.

    Credential-shaped values are left to the document's one pass (`bom.build.clean_strings`),
    which also says where it redacted them.
    """
    if is_secret_key(key) and value not in ("", "null", "None"):
        return REDACTED
    return redact_urls(value)
