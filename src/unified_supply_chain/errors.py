"""Typed errors. Library code raises these; only `cli.py` turns them into exit codes."""

from __future__ import annotations


class UscError(Exception):
    """Base of every error this package raises on purpose."""


class UsageError(UscError):
    """A bad argument, input or option value (exit code 2)."""


class FormatError(UscError):
    """A file could not be read as the format it claims to be.

    Readers raise only this for bad input (truncated, corrupt, hostile, over a resource limit);
    the scanner turns it into a warning on the component, never a crash.
    """


class LimitExceeded(FormatError):
    """A declared size, count, depth or ratio crossed one of the caps in `limits.py`."""


class ValidationError(UscError):
    """A document we built is not valid against the official CycloneDX schema: a bug."""


class MergeError(UscError):
    """An SBOM given to `--merge` is unreadable or not CycloneDX JSON."""


class PolicyError(UscError):
    """A policy file is malformed."""


class OutputError(UscError):
    """The output could not be written."""
