"""Model security and the policy gate: pickle safety and policy rules (SARIF is report/sarif.py)."""

from __future__ import annotations

from unified_supply_chain.policy.config import Policy, RuleConfig, load_policy, parse_policy
from unified_supply_chain.policy.rules import evaluate, exceeds, finding_property
from unified_supply_chain.safety.scan import scan_file

__all__ = [
    "Policy",
    "RuleConfig",
    "evaluate",
    "exceeds",
    "finding_property",
    "load_policy",
    "parse_policy",
    "scan_file",
]
