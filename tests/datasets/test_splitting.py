"""split(): the default holdout rule, partitions that keep pairs together, checked sizes."""

from __future__ import annotations

import numpy as np
import pytest

from kerastools import datasets
from kerastools.errors import ConfigError


@pytest.mark.parametrize(
    ("n", "held_out"), [(500, 50), (9_999, 1_000), (10_000, 1_000), (25_000, 1_000), (15, 2)]
)
def test_split_follows_the_default_holdout_rule(n, held_out):
    X, y = np.arange(n * 2).reshape(n, 2), np.arange(n)
    train, valid, test = datasets.split(X, y, seed=0)
    assert len(valid[0]) == len(valid[1]) == held_out
    assert len(test[0]) == len(test[1]) == held_out
    assert len(train[0]) == n - 2 * held_out


def test_split_partitions_the_samples_and_keeps_pairs_together():
    X = np.arange(100).reshape(100, 1)
    y = np.arange(100) * 10
    parts = datasets.split(X, y, valid=0.2, test=10, seed=0)
    assert [len(part[0]) for part in parts] == [70, 20, 10]
    seen = np.concatenate([part[0][:, 0] for part in parts])
    assert sorted(seen.tolist()) == list(range(100))
    for inputs, targets in parts:
        np.testing.assert_array_equal(inputs[:, 0] * 10, targets)
    assert isinstance(parts, datasets.DatasetSplit)
    assert parts.valid is parts[1]


def test_split_is_deterministic_by_seed_and_ordered_without_shuffle():
    X, y = np.arange(50), np.arange(50)
    first = datasets.split(X, y, seed=7)
    again = datasets.split(X, y, seed=7)
    np.testing.assert_array_equal(first.train[0], again.train[0])
    ordered = datasets.split(X, y, shuffle=False)
    np.testing.assert_array_equal(ordered.train[0], np.arange(40))
    np.testing.assert_array_equal(ordered.test[0], np.arange(45, 50))


def test_split_sizes_of_zero_give_empty_parts():
    train, valid, test = datasets.split(np.zeros((10, 2)), np.zeros(10), valid=0, test=0, seed=0)
    assert len(train[0]) == 10 and valid[0].shape == (0, 2) and len(test[1]) == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"valid": 1.0}, r"Argument `valid` must be < 1.0. Received: valid=1.0"),
        ({"test": -0.1}, r"Argument `test` must be >= 0.0"),
        ({"valid": 200}, r"Argument `valid` must be <= 100. Received: valid=200"),
        ({"valid": 60, "test": 40}, r"leave no training samples: 60 \+ 40 of 100"),
        ({"valid": 0.5, "test": 0.5}, r"leave no training samples"),
        ({"valid": "10%"}, r"`valid` must be None, a fraction in \[0, 1\) or a sample count"),
        ({"seed": 1, "shuffle": False}, r"`seed` has no effect with shuffle=False"),
        ({"shuffle": "yes"}, r"`shuffle` must be True or False"),
    ],
)
def test_split_rejects_bad_sizes(kwargs, match):
    with pytest.raises((ConfigError, TypeError), match=match):
        datasets.split(np.zeros((100, 2)), np.zeros(100), **kwargs)


def test_split_rejects_ragged_inputs():
    with pytest.raises(
        ConfigError, match=r"Argument `X` must be an array \(or nested lists of equal lengths\)"
    ):
        datasets.split([[1, 2], [3]], [0, 1])


def test_split_needs_matching_lengths():
    with pytest.raises(
        ConfigError, match=r"same number of samples. Received: len\(X\)=10, len\(y\)=9"
    ):
        datasets.split(np.zeros((10, 2)), np.zeros(9))
