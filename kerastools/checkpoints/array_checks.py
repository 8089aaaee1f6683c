"""Whether a saved array can be assigned to a variable: its dtype kind and its values' range.

A crafted or damaged file may hold strings, a compound dtype, floats for an
integer variable (`iterations`) or float64 values beyond float32's range
(1e300 becomes `inf`). Loading checks every array with `array_problem`
before the first assignment, so a refused file changes no weight. The
values a file holds as non-finite (a run that diverged) are its state and
are not refused; values that become non-finite only by the cast are.

`ArrayFacts` is what the check needs of an array (its shape, dtype and
finite extremes), so a Keras file's datasets are checked from a summary
taken when the file is read, without keeping their data.

Examples:
    >>> array_problem(np.array([1e300]), "float32")
    "its values reach 1e+300, beyond float32's range (3.40282e+38): they would become inf"
    >>> array_problem(ArrayFacts.of(np.array([1.5, 2.0])), "float32") is None
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kerastools.errors import CheckpointError

__all__ = ["ArrayFacts", "array_problem", "numeric_facts"]

_NUMERIC = "biuf"  # bool, int, uint, float


@dataclass(frozen=True)
class ArrayFacts:
    """An array's shape, dtype and finite extremes (None when it has no finite number).

    Examples:
        >>> ArrayFacts.of(np.array([[1, -3], [2, 0]])).low
        -3
    """

    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    low: float | int | None = None
    high: float | int | None = None

    @classmethod
    def of(cls, array: Any) -> ArrayFacts:
        """The facts of `array` (anything `np.asarray` takes)."""
        array = np.asarray(array)
        shape = tuple(int(n) for n in array.shape)
        if array.dtype.kind not in _NUMERIC:
            return cls(shape, array.dtype)
        values = array[np.isfinite(array)] if array.dtype.kind == "f" else array
        if values.size == 0:
            return cls(shape, array.dtype)
        low, high = values.min().item(), values.max().item()
        return cls(shape, array.dtype, low, high)


def numeric_facts(array: Any, where: str) -> ArrayFacts:
    """The facts of `array`, which must be of a number type: Keras saves no other variables.

    Examples:
        >>> numeric_facts(np.zeros(2, dtype=[("a", "f4")]), "f.weights.h5, dataset 'x'")
        Traceback (most recent call last):
        ...
        kerastools.errors.CheckpointError: Cannot load f.weights.h5, dataset 'x': it has dtype [('a', '<f4')], not a number type (bool, int, uint or float).

    Raises:
        CheckpointError: it is not (`where` names the file and dataset).
    """
    facts = ArrayFacts.of(array)
    if facts.dtype.kind not in _NUMERIC:
        raise CheckpointError(f"Cannot load {where}: {array_problem(facts, 'float32')}.")
    return facts


def _target(dtype: str) -> np.dtype[Any]:
    try:
        return np.dtype(dtype)
    except TypeError:
        return np.dtype("float32")  # bfloat16 and the like: float32's exponent range


def array_problem(array: ArrayFacts | Any, variable_dtype: str) -> str | None:
    """Why `array` (or an array of these facts) cannot be assigned to a `variable_dtype` variable.

    None when it can.

    Examples:
        >>> array_problem(ArrayFacts.of(np.array(["a"])), "float32")
        'it has dtype <U1, not a number type (bool, int, uint or float)'
        >>> array_problem(ArrayFacts.of(np.array(2.5)), "int64")
        'it holds floating-point values (float64) for an integer variable (int64)'
    """
    facts = array if isinstance(array, ArrayFacts) else ArrayFacts.of(array)
    kind = facts.dtype.kind
    if kind not in _NUMERIC:
        return f"it has dtype {facts.dtype}, not a number type (bool, int, uint or float)"
    target = _target(str(variable_dtype))
    if target.kind in "iub" and kind == "f":
        return (
            f"it holds floating-point values ({facts.dtype}) for an integer variable "
            f"({variable_dtype})"
        )
    if facts.low is None or facts.high is None:
        return None
    if target.kind == "f":
        limit = float(np.finfo(target).max)
        peak = max(abs(float(facts.low)), abs(float(facts.high)))
        if peak > limit:
            return (
                f"its values reach {peak:g}, beyond {variable_dtype}'s range ({limit:g}): "
                "they would become inf"
            )
        return None
    low, high = (0, 1) if target.kind == "b" else (np.iinfo(target).min, np.iinfo(target).max)
    if facts.low < low or facts.high > high:
        return (
            f"its values span [{facts.low}, {facts.high}], beyond {variable_dtype}'s range "
            f"[{low}, {high}]"
        )
    return None
