"""Seeds of the archive and container formats (zip, tar, 7z, TorchServe .mar, NeMo, Paddle)
for tests/fuzz/targets.py: small valid files built with the standard library or to the
formats' published layouts (cited where each is built)."""

from __future__ import annotations

import io
import pickle
import zipfile
from typing import Any


def pickle_payload() -> bytes:
    """A small benign protocol-2 pickle (a state dict of plain values)."""
    return pickle.dumps({"weight": [0.5, 1.5], "name": "fc"}, protocol=2)


def zip_bytes(members: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> bytes:
    """A zip of `members` (name -> bytes) in the order given."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def zip_archive_seeds() -> list[Any]:
    """(tree, victim) pairs: release zips that carry a pickle."""
    members = {"README.md": b"# release\n", "model/clf.pkl": pickle_payload()}
    return [
        ({"release.zip": zip_bytes(members)}, "release.zip"),
        ({"models/bundle.zip": zip_bytes(members, zipfile.ZIP_DEFLATED)}, "models/bundle.zip"),
    ]
