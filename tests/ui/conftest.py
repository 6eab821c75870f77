"""Fixtures for the app's tests."""

from __future__ import annotations

import pytest
from uihelpers import SMALL

from swaptui.scenario import load_scenario


@pytest.fixture(scope="session")
def small_scenario():
    """A 128 MiB machine that reaches reclaim within 100 ticks."""
    return load_scenario(SMALL)
