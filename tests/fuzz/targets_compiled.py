"""Fuzz targets of compiled and exported models: Core ML, ExecuTorch, PaddlePaddle, OpenVINO, TensorRT, TFLite."""

from __future__ import annotations

from tests.fuzz.targets import Target

EXTRA_TARGETS: tuple[Target, ...] = ()
