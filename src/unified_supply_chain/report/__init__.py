"""Outputs for people and tools: step summary, text, SARIF, diff, check run."""
