"""Shared fixtures for the kit's own tests (keep this small and generic)."""

from __future__ import annotations

import numpy as np
import pytest

from linclass.data import Dataset, get_data


@pytest.fixture
def rng() -> np.random.Generator:
    """A freshly seeded generator: tests are reproducible and independent of their order."""
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def digits() -> Dataset:
    """The embedded digits with the default splits (loaded once per test process)."""
    return get_data("digits")
