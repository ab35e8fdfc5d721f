"""Validate documents against the official CycloneDX JSON schemas shipped by cyclonedx-python-lib.

Two validators over the same schema files:
- `reference`: cyclonedx-python-lib's own JsonStrictValidator (jsonschema with every format
  checker, including the slow `rfc3987-syntax` IRI grammar);
- the default fast one: the same schema and registry with cheap, equivalent checks for the formats
  CycloneDX uses. A parity test keeps the two in agreement on valid and invalid documents.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from unified_supply_chain.errors import ValidationError

SUPPORTED = ("1.4", "1.5", "1.6", "1.7")

# The usual shape of an IRI-reference (RFC 3986 syntax, ASCII only), checked with one regex. Any
# other string (non-ASCII characters, IP literals, unusual punctuation) goes to the same
# `rfc3987-syntax` grammar as the reference validator, loaded on first need; a fuzz test keeps this
# regex a subset of that grammar.
_IRI_CHARS = r"A-Za-z0-9\-._~!$&'()*+,;=%"
_IRI_REF_COMMON = re.compile(
    r"(?://(?:[" + _IRI_CHARS + r":]*@)?[" + _IRI_CHARS + r"]*(?::[0-9]*)?"
    r"(?:/[" + _IRI_CHARS + r":@/]*)?"
    r"|(?!//)[" + _IRI_CHARS + r":@/]*)"
    r"(?:\?[" + _IRI_CHARS + r":@/?]*)?"
    r"(?:\#[" + _IRI_CHARS + r":@/?]*)?"
)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_FIRST_SEGMENT = re.compile(r"[/?#]")
# Used only when the grammar is not installed: no whitespace, controls or '<>"{}|\^`'.
_IRI_REF_LOOSE = re.compile(
    r"^(?:[A-Za-z][A-Za-z0-9+.\-]*:)?"
    r"(?:[^\x00-\x20<>\"{}|\\^`%\x7f-\x9f]|%[0-9A-Fa-f]{2})*$"
)
# RFC 3339 date-time exactly as the reference validator checks it (rfc3339-validator, applied to
# the upper-cased value), and the date format as jsonschema checks it.
_DATE_TIME = re.compile(
    r"^(\d{4})-(0[1-9]|1[0-2])-(\d{2})T(?:[01]\d|2[0123]):[0-5]\d:[0-5]\d(?:\.\d+)?"
    r"(?:Z|[+-](?:[01]\d|2[0123]):[0-5]\d)$",
    re.ASCII,
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)


def _check_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    m = _DATE_TIME.match(value.upper())
    if m is None:
        return False
    import calendar

    year, month, day = (int(g) for g in m.groups())
    return year != 0 and 1 <= day <= calendar.monthrange(year, month)[1]


def _check_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    import datetime

    try:
        return bool(_DATE.fullmatch(value) and datetime.date.fromisoformat(value))
    except ValueError:
        return False


def _common_iri_reference(value: str) -> bool:
    if _BAD_PERCENT.search(value):
        return False
    scheme = _SCHEME.match(value)
    if scheme is None and ":" in _FIRST_SEGMENT.split(value, maxsplit=1)[0]:
        return False  # a relative reference's first segment cannot hold a colon
    return _IRI_REF_COMMON.fullmatch(value, scheme.end() if scheme else 0) is not None


def _check_iri_rule(rule: str, value: object) -> bool:
    if not isinstance(value, str):
        return True
    if rule == "iri_reference" and _common_iri_reference(value):
        return True
    try:
        from rfc3987_syntax import is_valid_syntax  # type: ignore[import-untyped]
    except ImportError:
        return bool(_IRI_REF_LOOSE.match(value))
    return bool(is_valid_syntax(rule, value))


def _check_iri(value: object) -> bool:
    return _check_iri_rule("iri_reference", value)


def _check_absolute_iri(value: object) -> bool:
    return _check_iri_rule("iri", value)


def _check_uri(value: object, rule: str = "URI") -> bool:
    if not isinstance(value, str):
        return True
    try:
        from rfc3986_validator import validate_rfc3986  # type: ignore[import-untyped]
    except ImportError:
        return True  # the reference validator does not check URIs without it either
    return bool(validate_rfc3986(value, rule=rule))


def _check_email(value: object) -> bool:
    # As jsonschema checks (idn-)email: an '@' somewhere.
    return not isinstance(value, str) or "@" in value


def _check_regex(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        re.compile(value)
    except re.error:
        return False
    return True


def _schema_files(spec_version: str) -> str:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.schema._res import BOM_JSON_STRICT

    path = BOM_JSON_STRICT.get(SchemaVersion.from_version(spec_version))
    if path is None:
        raise ValidationError(f"no JSON schema for CycloneDX {spec_version}")
    return path


#: Optional format libraries that jsonschema imports when it is imported, with the functions it
#: takes from them. The fast validator needs none of them; the reference validator loads each on
#: first use. (`rfc3987_syntax` builds its IRI grammar at import: about 1.7 s.)
_LAZY_FORMAT_LIBRARIES = {
    "rfc3987_syntax": ("is_valid_syntax",),
    "rfc3986_validator": ("validate_rfc3986",),
    "rfc3339_validator": ("validate_rfc3339",),
    "uri_template": ("validate",),
    "isoduration": ("parse_duration",),
}


def _lazy_module(name: str, functions: tuple[str, ...]) -> Any:
    """A stand-in module whose functions import the real module on first call."""
    import importlib
    import types

    stub = types.ModuleType(name)
    # jsonschema names isoduration's exception class when it registers the check: the stand-in
    # has its own, and the real library's exception is translated into it.
    duration_error = type("DurationParsingException", (ValueError,), {})
    for fn in functions:

        def forward(*args: Any, _fn: str = fn, **kwargs: Any) -> Any:
            real = importlib.import_module(name)
            try:
                return getattr(real, _fn)(*args, **kwargs)
            except getattr(real, "DurationParsingException", ()) as exc:
                raise duration_error(str(exc)) from exc

        setattr(stub, fn, forward)
    if name == "isoduration":
        stub.DurationParsingException = duration_error  # type: ignore[attr-defined]
    return stub


def _import_jsonschema() -> None:
    """Import jsonschema without importing its optional format libraries (~0.1-1.7 s per run).

    While jsonschema is imported, stand-ins take the place of those libraries; each stand-in
    loads the real library on first use, so the reference validator checks exactly as before.
    """
    import importlib.util
    import sys

    if "jsonschema" in sys.modules:
        return
    stubs = {}
    for name, functions in _LAZY_FORMAT_LIBRARIES.items():
        if name not in sys.modules and importlib.util.find_spec(name) is not None:
            stubs[name] = sys.modules[name] = _lazy_module(name, functions)
    try:
        import jsonschema  # noqa: F401
    finally:
        for name, stub in stubs.items():
            if sys.modules.get(name) is stub:
                del sys.modules[name]


@functools.lru_cache(maxsize=8)
def _fast_validator(spec_version: str) -> Any:
    _import_jsonschema()
    from cyclonedx.schema._res import CRYPTOGRAPHY_DEFS, JSF, SPDX_JSON
    from jsonschema import FormatChecker
    from jsonschema.validators import Draft7Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT7

    prefix = "http://cyclonedx.org/schema/"
    resources = []
    for name, path in (
        ("spdx.SNAPSHOT.schema.json", SPDX_JSON),
        ("cryptography-defs.SNAPSHOT.schema.json", CRYPTOGRAPHY_DEFS),
        ("jsf-0.82.SNAPSHOT.schema.json", JSF),
    ):
        with open(path, encoding="utf-8") as fh:
            resources.append((prefix + name, DRAFT7.create_resource(json.load(fh))))
    with open(_schema_files(spec_version), encoding="utf-8") as fh:
        schema = json.load(fh)
    checker = FormatChecker(formats=())
    checker.checks("date-time")(_check_date_time)
    checker.checks("date")(_check_date)
    checker.checks("iri-reference")(_check_iri)
    checker.checks("iri")(_check_absolute_iri)
    checker.checks("uri")(_check_uri)
    checker.checks("uri-reference")(lambda v: _check_uri(v, "URI_reference"))
    for fmt in ("email", "idn-email"):
        checker.checks(fmt)(_check_email)
    checker.checks("regex")(_check_regex)
    from jsonschema import validators

    fast = validators.extend(Draft7Validator, {"uniqueItems": _unique_items})
    return fast(schema, registry=Registry().with_resources(resources), format_checker=checker)


def _canonical(value: Any) -> Any:
    """A hashable form under jsonschema's equality: 1 == 1.0, True != 1, key order ignored."""
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, str):
        return ("s", value)
    if isinstance(value, (int, float)):
        return ("n", value)
    if isinstance(value, dict):
        return ("o", frozenset((k, _canonical(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("a", tuple(_canonical(v) for v in value))
    if value is None:
        return ("z",)
    return ("?", id(value))


def _unique_items(validator: Any, unique: Any, instance: Any, schema: Any) -> Any:
    """`uniqueItems` in linear time: jsonschema compares objects pairwise (seconds on the
    `components` array of a large document); equal items have equal canonical forms."""
    if not unique or not validator.is_type(instance, "array"):
        return
    from jsonschema.exceptions import ValidationError as SchemaViolation

    seen: set[Any] = set()
    for item in instance:
        key = _canonical(item)
        if key in seen:
            yield SchemaViolation(f"{instance!r} has non-unique elements")
            return
        seen.add(key)


def validation_errors(
    document: dict[str, Any], spec_version: str, *, reference: bool = False
) -> list[str]:
    """All schema violations of `document` as readable lines (empty when valid)."""
    if spec_version not in SUPPORTED:
        raise ValidationError(f"unsupported CycloneDX version {spec_version}")
    if reference:
        from cyclonedx.schema import SchemaVersion
        from cyclonedx.validation.json import JsonStrictValidator

        errs = JsonStrictValidator(SchemaVersion.from_version(spec_version)).validate_str(
            json.dumps(document), all_errors=True
        )
        return [_describe(e.data) for e in errs] if errs else []
    validator = _fast_validator(spec_version)
    return [_describe(e) for e in validator.iter_errors(document)]


def _describe(error: Any) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return f"{where}: {error.message[:300]}"


def validate_document(
    document: dict[str, Any], spec_version: str, *, reference: bool = False
) -> None:
    """Raise ValidationError listing the first problems when `document` is not schema-valid."""
    errors = validation_errors(document, spec_version, reference=reference)
    if errors:
        shown = "; ".join(errors[:5])
        more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
        raise ValidationError(f"CycloneDX {spec_version} schema: {shown}{more}")
