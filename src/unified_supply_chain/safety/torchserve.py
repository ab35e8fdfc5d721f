"""TorchServe `.mar` archives: the handler and every Python file are code the server runs;
every member that can hold a pickle (the serialized torch file, nested zips) is scanned.

A security reviewer treats a custom handler (a `.py` in the archive) and the model file as code
that runs at load: high. Other `.py` files and a requirements file (installed per model when the
server allows it) run only when imported or enabled: medium. A TorchServe built-in handler is
named, at medium, so the reviewer sees which server code serves the model.
"""

from __future__ import annotations

from typing import Any

from unified_supply_chain import limits
from unified_supply_chain.errors import FormatError
from unified_supply_chain.records import Finding, Severity
from unified_supply_chain.safety.pickle_scan import RULE
from unified_supply_chain.safety.scan import (
    Scanner,
    Source,
    zip_members,
)
from unified_supply_chain.safety.unverified import unverified


def _code(location: str, severity: Severity, message: str, detail: str) -> Finding:
    return Finding(rule=RULE, severity=severity, message=message, path=location, details=(detail,))


def _manifest_findings(src: Source, reader: Any, members: set[str]) -> list[Finding]:
    from unified_supply_chain.formats.torchserve import (
        MANIFEST,
        handler_module,
        is_builtin_handler,
        parse_manifest,
    )

    if MANIFEST not in members:
        return [unverified(src.location, f"no {MANIFEST}")]
    try:
        model = parse_manifest(reader.read(MANIFEST, limits.MAX_HDF5_SNIFF))["model"]
    except FormatError as exc:
        return [unverified(f"{src.location}!{MANIFEST}", str(exc))]
    findings: list[Finding] = []
    handler_member = None
    handler = model.get("handler")
    if isinstance(handler, str) and handler:
        module = handler_module(handler)
        if is_builtin_handler(handler, members):
            findings.append(
                _code(
                    src.location,
                    Severity.MEDIUM,
                    f"TorchServe runs its built-in handler {handler!r} for this model",
                    f"torchserve-handler: {handler}",
                )
            )
        else:
            member = module if module in members else f"{module}.py"
            handler_member = member
            findings.append(
                _code(
                    f"{src.location}!{member}",
                    Severity.HIGH,
                    f"TorchServe handler {handler!r} is Python code from the archive that the "
                    "server runs when it loads the model",
                    f"torchserve-handler: {handler}",
                )
            )
    else:
        findings.append(unverified(src.location, "manifest names no handler"))
    model_file = model.get("modelFile")
    for name in sorted(n for n in members if n.endswith(".py")):
        if name == handler_member:
            continue  # the custom handler, already reported
        loaded = isinstance(model_file, str) and name == model_file
        findings.append(
            _code(
                f"{src.location}!{name}",
                Severity.HIGH if loaded else Severity.MEDIUM,
                "TorchServe imports this model file when it loads the model"
                if loaded
                else "Python file in a TorchServe archive (runs when the handler imports it)",
                f"python-code: {name}",
            )
        )
    requirements = model.get("requirementsFile")
    if isinstance(requirements, str) and requirements in members:
        findings.append(
            _code(
                f"{src.location}!{requirements}",
                Severity.MEDIUM,
                "TorchServe installs these packages for the model when per-model "
                "dependencies are enabled",
                f"torchserve-requirements: {requirements}",
            )
        )
    return findings


def _scan_mar(src: Source) -> list[Finding]:
    from unified_supply_chain.formats._zip import ZipReader

    with ZipReader(src.path if src.path is not None else src.fh) as reader:
        members = {m.name for m in reader.listing.members if not m.is_dir}
        findings = _manifest_findings(src, reader, members)
        findings.extend(zip_members(src, reader))
    return findings


scan_mar = Scanner(_scan_mar)
"""Handler and Python members of a `.mar`, and every pickle-bearing member."""
