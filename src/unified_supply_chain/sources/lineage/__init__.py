"""Lineage records: DVC, MLflow, training records, metrics."""
