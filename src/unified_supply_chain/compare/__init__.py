"""Comparison of finished SBOMs: ML-aware diff and trace."""
