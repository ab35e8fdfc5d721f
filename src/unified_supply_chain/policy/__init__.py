"""Model security and the policy gate: pickle safety, policy rules, SARIF."""

from __future__ import annotations

from unified_supply_chain.policy.scanner import scan_file

__all__ = ["scan_file"]
