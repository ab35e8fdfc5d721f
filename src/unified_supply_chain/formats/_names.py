"""Small path helpers the format specs share (plain string work: it runs for every file)."""

from __future__ import annotations

#: Directory names that mark their files as data (an `.npz` there is a dataset, not weights).
DATA_DIRS = frozenset({"data", "dataset", "datasets", "raw", "processed", "interim", "external"})


def suffix(name: str) -> str:
    """The last suffix of a file name with its dot ("" for none or a dot-file)."""
    dot = name.rfind(".")
    return name[dot:] if dot > 0 else ""


def split(relpath: str) -> tuple[str, list[str]]:
    """(file name, parent directory names) of a repo-relative POSIX path."""
    parts = [p for p in relpath.split("/") if p and p != "."]
    return (parts[-1] if parts else ""), parts[:-1]


def in_data_dir(relpath: str) -> bool:
    """Whether a directory on the way to the file is named like a data directory."""
    return bool(DATA_DIRS.intersection(p.lower() for p in relpath.split("/")[:-1]))
