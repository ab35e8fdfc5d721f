"""Builders of real files of binary formats, shared by the unit tests and the fuzz seeds."""
