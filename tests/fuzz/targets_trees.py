"""Fuzz targets of tree-ensemble and classic ML models: XGBoost, LightGBM, CatBoost, PMML, Flax msgpack."""

from __future__ import annotations

from tests.fuzz.targets import Target

EXTRA_TARGETS: tuple[Target, ...] = ()
