"""Toy datasets small enough to see: a regression surface and two classification shapes.

`make_squares` (regression, y = x1² + x2²), `make_xor` and `make_circles`
(binary classification) are the sets a first tutorial on neural networks
generates by hand, with a seed so the same call gives the same data.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from kerastools._validation import check_float, check_int
from kerastools.errors import ConfigError

__all__ = ["MAX_TOY_BYTES", "make_circles", "make_squares", "make_xor"]

# The toy sets refuse to allocate more than this (about 27 million samples) unless given `max_bytes`.
MAX_TOY_BYTES = 2**30
# Bytes a sample costs while it is generated: float64 inputs and target, then float32 copies.
_BYTES_PER_SAMPLE = 40

# An `(X, y)` pair of arrays, as the toy sets and `split` return them.
Pair = tuple[np.ndarray, np.ndarray]


def _check_seed(seed: Any) -> int | None:
    if seed is None:
        return None
    return check_int("seed", seed, low=0)


def _check_n(n: Any, max_bytes: Any) -> int:
    """`n` checked, refused before allocating when its arrays would take more than `max_bytes`."""
    n = check_int("n", n, low=1)
    limit = check_int("max_bytes", max_bytes, low=1)
    if n * _BYTES_PER_SAMPLE > limit:
        raise ConfigError(
            f"Argument `n` needs about {n * _BYTES_PER_SAMPLE} bytes ({_BYTES_PER_SAMPLE} per sample), "
            f"more than max_bytes={limit}; allowed: n <= {limit // _BYTES_PER_SAMPLE}, or pass a "
            f"larger `max_bytes`. Received: n={n}"
        )
    return n


def _uniform_start(
    n: Any, noise: Any, seed: Any, max_bytes: Any
) -> tuple[float, np.random.Generator, np.ndarray]:
    """The checked noise level, the generator, and `n` inputs uniform on [-1, 1]²."""
    n = _check_n(n, max_bytes)
    noise = check_float("noise", noise, low=0.0)
    rng = np.random.default_rng(_check_seed(seed))
    return noise, rng, rng.uniform(-1.0, 1.0, size=(n, 2))


def _with_noise(rng: np.random.Generator, values: np.ndarray, noise: float) -> np.ndarray:
    return values + rng.normal(0.0, noise, size=values.shape) if noise > 0 else values


def make_squares(
    n: int, *, noise: float = 0.0, seed: int | None = None, max_bytes: int = MAX_TOY_BYTES
) -> Pair:
    """A regression surface: y = x1² + x2² on the square [-1, 1]².

    Examples:
        >>> X, y = kerastools.datasets.make_squares(100, noise=0.01, seed=0)
        >>> X.shape, y.shape, X.dtype.name, y.dtype.name
        ((100, 2), (100, 1), 'float32', 'float32')

    Args:
        n: number of samples.
        noise: standard deviation of Gaussian noise added to the target.
            Defaults to 0.0.
        seed: seed of the random generator; the same seed gives the same
            data. Defaults to None (fresh randomness each call).
        max_bytes: the most memory the set may take (about 40 bytes a
            sample); a larger `n` is refused before anything is allocated.
            Defaults to `MAX_TOY_BYTES` (1 GiB).

    Returns:
        `(X, y)`: float32 arrays of shapes `(n, 2)` and `(n, 1)`.

    Raises:
        ConfigError: `n` below 1 or above the `max_bytes` bound, a negative
            `noise` or a negative `seed`.
    """
    noise, rng, inputs = _uniform_start(n, noise, seed, max_bytes)
    target = (inputs**2).sum(axis=1, keepdims=True)
    return inputs.astype("float32"), _with_noise(rng, target, noise).astype("float32")


def make_xor(
    n: int, *, noise: float = 0.0, seed: int | None = None, max_bytes: int = MAX_TOY_BYTES
) -> Pair:
    """XOR, a binary classification set no linear model solves: label 1 where x1 and x2 differ in sign.

    Inputs are uniform on [-1, 1]²; the label comes from the clean inputs,
    then `noise` jitters the inputs, so points near the axes can land on the
    wrong side (as in scikit-learn's generators).

    Examples:
        >>> X, y = kerastools.datasets.make_xor(8, seed=0)
        >>> bool(((X[:, 0] * X[:, 1] < 0) == (y[:, 0] == 1)).all())
        True

    Args:
        n: number of samples.
        noise: standard deviation of Gaussian noise added to the inputs.
            Defaults to 0.0.
        seed: seed of the random generator. Defaults to None.
        max_bytes: the most memory the set may take; a larger `n` is refused
            before anything is allocated. Defaults to `MAX_TOY_BYTES` (1 GiB).

    Returns:
        `(X, y)`: float32 arrays of shapes `(n, 2)` and `(n, 1)`, labels 0 or 1.

    Raises:
        ConfigError: `n` below 1 or above the `max_bytes` bound, a negative
            `noise` or a negative `seed`.
    """
    noise, rng, inputs = _uniform_start(n, noise, seed, max_bytes)
    label = (inputs[:, 0] * inputs[:, 1] < 0).astype("float32")[:, None]
    return _with_noise(rng, inputs, noise).astype("float32"), label


def make_circles(
    n: int,
    *,
    noise: float = 0.0,
    factor: float = 0.5,
    seed: int | None = None,
    max_bytes: int = MAX_TOY_BYTES,
) -> Pair:
    """Two concentric rings, a binary classification set: label 1 on the inner ring, 0 on the outer.

    Half the samples (rounded down) are on each ring; the order is shuffled.

    Examples:
        >>> X, y = kerastools.datasets.make_circles(200, noise=0.05, seed=0)
        >>> X.shape, float(y.mean())
        ((200, 2), 0.5)

    Args:
        n: number of samples.
        noise: standard deviation of Gaussian noise added to each ring's
            radius. Defaults to 0.0.
        factor: inner radius over outer radius (the outer radius is 1), in
            (0, 1). Defaults to 0.5.
        seed: seed of the random generator. Defaults to None.
        max_bytes: the most memory the set may take; a larger `n` is refused
            before anything is allocated. Defaults to `MAX_TOY_BYTES` (1 GiB).

    Returns:
        `(X, y)`: float32 arrays of shapes `(n, 2)` and `(n, 1)`, labels 0 or 1.

    Raises:
        ConfigError: `n` below 1, a negative `noise`, `factor` outside (0, 1)
            or a negative `seed`.
    """
    n = _check_n(n, max_bytes)
    noise = check_float("noise", noise, low=0.0)
    factor = check_float(
        "factor", factor, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False
    )
    rng = np.random.default_rng(_check_seed(seed))
    label = rng.permutation(np.arange(n) % 2)
    angle = rng.uniform(0.0, 2.0 * math.pi, n)
    radius = _with_noise(rng, np.where(label == 1, factor, 1.0), noise)
    inputs = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return inputs.astype("float32"), label.astype("float32")[:, None]
