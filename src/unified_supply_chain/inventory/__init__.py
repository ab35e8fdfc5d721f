"""Discover and inspect: walk the tree, classify files, read format headers."""
