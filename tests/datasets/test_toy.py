"""Toy sets: float32 column targets, seeded, shaped as documented, arguments checked."""

from __future__ import annotations

import numpy as np
import pytest

from kerastools import datasets
from kerastools.errors import ConfigError

MAKERS = [datasets.make_squares, datasets.make_xor, datasets.make_circles]


@pytest.mark.parametrize("make", MAKERS)
def test_toy_sets_are_float32_with_column_targets(make):
    X, y = make(50, noise=0.1, seed=1)
    assert X.shape == (50, 2) and y.shape == (50, 1)
    assert X.dtype == np.float32 and y.dtype == np.float32


@pytest.mark.parametrize("make", MAKERS)
def test_same_seed_same_data_other_seed_other_data(make):
    first, second, other = (
        make(30, noise=0.05, seed=3),
        make(30, noise=0.05, seed=3),
        make(30, noise=0.05, seed=4),
    )
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert not np.array_equal(first[0], other[0])


def test_squares_target_is_sum_of_squares_without_noise():
    X, y = datasets.make_squares(100, seed=0)
    np.testing.assert_allclose(y[:, 0], X[:, 0] ** 2 + X[:, 1] ** 2, rtol=1e-6)
    assert X.min() >= -1 and X.max() <= 1


def test_xor_labels_follow_the_quadrant():
    X, y = datasets.make_xor(200, seed=0)
    np.testing.assert_array_equal(y[:, 0] == 1, X[:, 0] * X[:, 1] < 0)
    assert 0.3 < y.mean() < 0.7


def test_circles_are_balanced_rings_with_the_inner_radius_given():
    X, y = datasets.make_circles(101, factor=0.3, seed=0)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y[:, 0] == 1], 0.3, rtol=1e-5)
    np.testing.assert_allclose(radius[y[:, 0] == 0], 1.0, rtol=1e-5)
    assert int(y.sum()) == 50


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": 0}, r"Argument `n` must be >= 1. Received: n=0"),
        ({"n": 2.5}, r"`n` must be an integer"),
        ({"n": 10, "noise": -0.1}, r"`noise` must be >= 0"),
        ({"n": 10, "seed": -1}, r"`seed` must be >= 0"),
        ({"n": 10, "seed": "a"}, r"`seed` must be an integer"),
    ],
)
def test_toy_set_arguments_are_checked(kwargs, match):
    with pytest.raises(ValueError if "integer" not in match else TypeError, match=match):
        datasets.make_squares(**kwargs)


@pytest.mark.parametrize("factor", [0.0, 1.0, 1.5])
def test_circles_factor_must_be_inside_the_unit_interval(factor):
    with pytest.raises(ConfigError, match="`factor` must be"):
        datasets.make_circles(10, factor=factor)


# --------------------------------------------------------------------------- issue 15, item 10


@pytest.mark.parametrize("make", MAKERS)
def test_a_huge_n_is_refused_before_allocating(make):
    import tracemalloc

    tracemalloc.start()
    try:
        with pytest.raises(ConfigError, match=r"`n` needs about 40000000000000 bytes.*max_bytes=1073741824"):
            make(10**12)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20
    # The bound is stated and overridable: 100 samples cost 4000 bytes.
    with pytest.raises(ConfigError, match=r"allowed: n <= 99"):
        make(100, max_bytes=3999)
    X, y = make(100, max_bytes=4000, seed=0)
    assert X.shape == (100, 2) and y.shape == (100, 1)
