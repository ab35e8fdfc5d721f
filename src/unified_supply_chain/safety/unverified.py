"""The one finding for content that could not be verified safe (fail closed: HIGH).

Every scanner (pickles, archives, Keras configs, GGUF templates, ONNX external data) reports
what it could not fully analyse through `unverified`, so reports, the policy, SARIF and the
`usc:scan:complete` property treat them alike, and `--fail-on high` fails on them.
"""

from __future__ import annotations

from unified_supply_chain.records import Finding, Severity

#: Rule of the findings made here unless a caller names another (see policy/config.py).
DEFAULT_RULE = "unsafe-serialization"
#: How every such finding's message starts.
UNVERIFIED = "could not be verified safe"


def unverified(location: str, reason: str, rule: str = DEFAULT_RULE) -> Finding:
    """A HIGH finding: `reason` says why the content at `location` could not be verified safe."""
    return Finding(
        rule=rule,
        severity=Severity.HIGH,
        message=f"{UNVERIFIED}: {reason}",
        path=location,
        details=(f"error: {reason}",),
    )


def is_unverified(finding: Finding) -> bool:
    """True for a finding saying content could not be verified safe (any rule)."""
    return finding.message.startswith(UNVERIFIED)
