"""Split `(X, y)` into train, validation and test sets with a sensible default size.

Left to itself, `split` holds out 1000 samples each for validation and test
from a dataset of at least 10000 samples, and 10% each from a smaller one.
"""

from __future__ import annotations

import numbers
from typing import Any, NamedTuple

import numpy as np

from kerastools._validation import check_bool, check_float, check_int
from kerastools.datasets.toy import Pair, _check_seed
from kerastools.errors import ConfigError, ConfigTypeError

__all__ = ["DatasetSplit", "split"]

# Above this many samples, validation and test get a fixed size; below, a
# fraction. At exactly 10000 both rules give 1000.
_LARGE_DATASET = 10_000
_LARGE_HOLDOUT = 1_000
_SMALL_HOLDOUT_FRACTION = 0.1


class DatasetSplit(NamedTuple):
    """The result of `split`: three `(X, y)` pairs.

    Unpack it (`train, valid, test = split(X, y)`) or use the fields;
    `model.fit(*split.train, validation_data=split.valid)` reads naturally.

    Examples:
        >>> X, y = kerastools.datasets.make_squares(100, seed=0)
        >>> parts = kerastools.datasets.split(X, y, seed=0)
        >>> [len(pair[0]) for pair in parts]
        [80, 10, 10]
    """

    train: Pair
    valid: Pair
    test: Pair


def _holdout_size(argument: str, value: Any, n: int) -> int:
    """A validation or test size: None (the default rule), a fraction in [0, 1), or a count."""
    if value is None:
        if n >= _LARGE_DATASET:
            return _LARGE_HOLDOUT
        return round(_SMALL_HOLDOUT_FRACTION * n)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigTypeError(
            f"Argument `{argument}` must be None, a fraction in [0, 1) or a sample count. "
            f"Received: {argument}={value!r}"
        )
    if isinstance(value, numbers.Integral):
        return check_int(argument, value, low=0, high=n)
    fraction = check_float(argument, value, low=0.0, high=1.0, high_inclusive=False)
    return round(fraction * n)


def _as_array(argument: str, value: Any) -> np.ndarray:
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as error:  # ragged nested lists
        raise ConfigError(
            f"Argument `{argument}` must be an array (or nested lists of equal lengths) with "
            f"samples along the first axis: {error}"
        ) from error


def split(
    X: Any,
    y: Any,
    *,
    valid: float | int | None = None,
    test: float | int | None = None,
    seed: int | None = None,
    shuffle: bool = True,
) -> DatasetSplit:
    """Split `(X, y)` into train, validation and test sets.

    With `valid` and `test` left at None, a rule of thumb applies: a dataset
    of at least 10000 samples gets 1000 each for validation and test, a
    smaller one 10% each (rounded); the rest is for training.

    Examples:
        >>> X, y = kerastools.datasets.make_squares(500, seed=0)
        >>> train, valid, test = kerastools.datasets.split(X, y, seed=0)
        >>> len(train[0]), len(valid[0]), len(test[0])
        (400, 50, 50)
        >>> parts = kerastools.datasets.split(X, y, valid=0.2, test=100, seed=0)
        >>> len(parts.train[0]), len(parts.valid[0]), len(parts.test[0])
        (300, 100, 100)

    Args:
        X: inputs, anything `np.asarray` takes, samples along the first axis.
        y: targets with as many samples as `X`.
        valid: validation size: None for the rule above, a float in [0, 1)
            for a fraction, an int for a count. Defaults to None.
        test: test size, same forms as `valid`. Defaults to None.
        seed: seed of the shuffle. Defaults to None.
        shuffle: shuffle before splitting; without shuffling the last
            samples are the test set and those before them the validation set.
            Defaults to True.

    Returns:
        A `DatasetSplit` named tuple `(train, valid, test)` of `(X, y)` pairs.

    Raises:
        ConfigError: `X` and `y` of different lengths, a bad size or fraction,
            sizes that leave no training sample, or a `seed` with
            `shuffle=False` (it would have no effect).
    """
    inputs = _as_array("X", X)
    targets = _as_array("y", y)
    if inputs.ndim == 0 or targets.ndim == 0:
        raise ConfigError(
            "Arguments `X` and `y` must be arrays with samples along the first axis. "
            f"Received: X.shape={inputs.shape}, y.shape={targets.shape}"
        )
    n = len(inputs)
    if len(targets) != n:
        raise ConfigError(
            f"Arguments `X` and `y` must have the same number of samples. "
            f"Received: len(X)={n}, len(y)={len(targets)}"
        )
    shuffle = check_bool("shuffle", shuffle)
    seed = _check_seed(seed)
    if seed is not None and not shuffle:
        raise ConfigError(
            "Argument `seed` has no effect with shuffle=False; pass one or the other. "
            f"Received: seed={seed}, shuffle=False"
        )
    n_valid = _holdout_size("valid", valid, n)
    n_test = _holdout_size("test", test, n)
    n_train = n - n_valid - n_test
    if n_train < 1:
        raise ConfigError(
            f"Arguments `valid` and `test` leave no training samples: {n_valid} + {n_test} of "
            f"{n} samples. Received: valid={valid!r}, test={test!r}"
        )
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    bounds = (0, n_train, n_train + n_valid, n)
    pairs = [
        (inputs[order[start:stop]], targets[order[start:stop]])
        for start, stop in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    return DatasetSplit(*pairs)
