"""Shared pytest fixtures."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    """A fixed-seed generator; tests that draw randomness take it explicitly."""
    return np.random.default_rng(20221104)


def pytest_configure(config) -> None:
    """Every run of the suite writes its result store into a fresh temporary folder, never into the
    user's default store ($TWOLAYER_STORE or ./twolayer-results); doctests collected later inherit it."""
    import os
    import tempfile

    os.environ["TWOLAYER_STORE"] = tempfile.mkdtemp(prefix="twolayer-test-store-")
