"""Fixtures shared by every test; plain helpers live in tests/helpers.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.helpers import assert_valid_cyclonedx


@pytest.fixture
def valid_cyclonedx() -> Callable[..., None]:
    return assert_valid_cyclonedx
