"""Shared fixtures: tiny datasets and models so each test's `fit` takes well under a second."""

from __future__ import annotations

import keras
import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _fresh_keras_session():
    # Layer-name counters and seeds restart per test, so tests do not depend on order.
    keras.backend.clear_session(free_memory=False)  # the gc pass costs ~0.2 s a test
    keras.utils.set_random_seed(0)
    yield


@pytest.fixture
def squares_data():
    """The "squares" regression set, small: y = x1^2 + x2^2."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(256, 2)).astype("float32")
    y = (x[:, :1] ** 2 + x[:, 1:] ** 2).astype("float32")
    return x, y


@pytest.fixture
def image_data():
    """Eight 12x12 one-channel images with 3 classes."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 12, 12, 1)).astype("float32")
    y = rng.integers(0, 3, size=(32,)).astype("int32")
    return x, y
