"""Shared pytest fixtures."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    """A fixed-seed generator; tests that draw randomness take it explicitly."""
    return np.random.default_rng(20221104)
