"""Fuzz targets of archives around models: skops, TorchServe .mar, NeMo .nemo, 7z and tar."""

from __future__ import annotations

from tests.fuzz.targets import Target

EXTRA_TARGETS: tuple[Target, ...] = ()
