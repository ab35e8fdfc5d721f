"""The one finding for content that could not be verified safe (fail closed: HIGH).

Its message and detail match `safety.scan.unscannable` at HIGH, so that reports, the policy and
SARIF treat an unverifiable chat template, Keras config or ONNX model like an unreadable archive.
"""

from __future__ import annotations

from unified_supply_chain.records import Finding, Severity

#: Rule of the findings made here unless a caller names another (see policy/config.py).
DEFAULT_RULE = "unsafe-serialization"


def unverified(location: str, reason: str, rule: str = DEFAULT_RULE) -> Finding:
    """A HIGH finding: `reason` says why the content at `location` could not be verified safe."""
    return Finding(
        rule=rule,
        severity=Severity.HIGH,
        message=f"unscannable: {reason}; it could not be verified safe",
        path=location,
        details=(f"error: {reason}",),
    )
