"""Crafted files: a checkpoint's HDF5 structure and its arrays, checked before use.

`check_structure` refuses, before a byte of data is read, what would make a
reader fetch bytes from elsewhere (links, external or virtual datasets) or
declare far more data than the file holds. `array_problem` refuses an array
its variable cannot take (strings, floats for integers, values that would
become `inf`) before the first assignment; non-finite values a file holds
(a run that diverged) are its state.

Examples:
    >>> import h5py
    >>> with h5py.File(tmp_path / "big.h5", "w") as handle:
    ...     _ = handle.create_dataset("x", shape=(1 << 17, 1 << 17), dtype="float32")
    >>> with h5py.File(tmp_path / "big.h5", "r") as handle:
    ...     check_structure(handle, tmp_path / "big.h5", max_elements=1000)
    Traceback (most recent call last):
    ...
    kerastools.errors.CheckpointError: Cannot load .../big.h5: its dataset 'x' declares shape (131072, 131072) ...
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kerastools.errors import CheckpointError

__all__ = [
    "MAX_ELEMENTS", "ArrayFacts", "array_problem", "check_structure", "elements_bound",
    "numeric_facts",
]

MAX_ELEMENTS = 1 << 28  # per dataset, when no model bounds it (1 GiB of float32)


def elements_bound(variables: Sequence[Any]) -> int:
    """The most elements a dataset may declare for a model with `variables` (its weights).

    The largest variable, with a margin; `MAX_ELEMENTS` when it has no weights yet.
    """
    if not variables:
        return MAX_ELEMENTS
    largest = max(math.prod(int(n) for n in variable.shape) for variable in variables)
    return max(largest, 8 * len(variables) + 1024)


def _dataset_problem(name: str, dataset: Any, max_elements: int) -> str | None:
    if dataset.external:
        files = sorted({str(entry[0]) for entry in dataset.external})
        return (
            f"its dataset {name!r} keeps its data in external file(s) {files}; a checkpoint "
            "must hold its data itself"
        )
    if dataset.is_virtual:
        return (
            f"its dataset {name!r} is a virtual dataset mapping other files; a checkpoint must "
            "hold its data itself"
        )
    shape = tuple(int(n) for n in (dataset.shape or ()))
    if math.prod(shape) > max_elements:
        return (
            f"its dataset {name!r} declares shape {shape} ({math.prod(shape)} elements), more "
            f"than the {max_elements} any variable of the model can take"
        )
    return None


def check_structure(handle: Any, path: Path, *, max_elements: int = MAX_ELEMENTS) -> None:
    """Raise CheckpointError (naming `path` and the object) at the first link or dataset of
    `handle` that must not be read: a link, external or virtual storage, more than `max_elements`.
    """
    import h5py

    def visit(name: str, link: Any) -> str | None:
        if isinstance(link, h5py.ExternalLink):
            return (
                f"{name!r} is an HDF5 external link to {link.filename!r}:{link.path!r}; a "
                "checkpoint must not refer to other files"
            )
        if isinstance(link, h5py.SoftLink):
            return f"{name!r} is an HDF5 soft link to {link.path!r}; checkpoints hold no links"
        item = handle.get(name)
        if isinstance(item, h5py.Dataset):
            return _dataset_problem(name, item, max_elements)
        return None  # a group: its members are visited

    # A visitor's exception does not cross h5py's C callback cleanly: it returns the problem.
    problem = handle.visititems_links(visit)
    if problem is not None:
        raise CheckpointError(f"Cannot load {path}: {problem}.")

_NUMERIC = "biuf"  # bool, int, uint, float


@dataclass(frozen=True)
class ArrayFacts:
    """An array's shape, dtype and finite extremes (None when it has no finite number)."""

    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    low: float | int | None = None
    high: float | int | None = None

    @classmethod
    def of(cls, array: Any) -> ArrayFacts:
        """The facts of `array` (anything `np.asarray` takes)."""
        array = np.asarray(array)
        shape = tuple(int(n) for n in array.shape)
        values = array[np.isfinite(array)] if array.dtype.kind == "f" else array
        if array.dtype.kind not in _NUMERIC or values.size == 0:
            return cls(shape, array.dtype)
        return cls(shape, array.dtype, values.min().item(), values.max().item())


def numeric_facts(array: Any, where: str) -> ArrayFacts:
    """The facts of `array`, which must be of a number type (Keras saves no other variables).

    Examples:
        >>> numeric_facts(np.zeros(2, dtype=[("a", "f4")]), "f.weights.h5, dataset 'x'")
        Traceback (most recent call last):
        ...
        kerastools.errors.CheckpointError: Cannot load f.weights.h5, dataset 'x': it has dtype [('a', '<f4')], not a number type (bool, int, uint or float).
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
    """Why `array` (or its facts) cannot be assigned to a `variable_dtype` variable; None if it can.

    Examples:
        >>> array_problem(ArrayFacts.of(np.array(2.5)), "int64")
        'it holds floating-point values (float64) for an integer variable (int64)'
        >>> array_problem(np.array([1e300]), "float32")
        "its values reach 1e+300, beyond float32's range (3.40282e+38): they would become inf"
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
