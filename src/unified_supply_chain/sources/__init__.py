"""Readers of files that describe other things: library manifests, lineage records, cards."""
