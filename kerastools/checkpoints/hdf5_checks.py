"""Checking an HDF5 checkpoint's structure before any of its data is read.

A crafted file can make a reader fetch bytes from outside it: an
`ExternalLink` (or a soft link) to another file or object, a dataset whose
storage is an external raw file (`create_dataset(..., external=...)`) or a
virtual dataset mapping other files. It can also declare a dataset far
larger than its bytes (a 20 KB file declaring shape (2^17, 2^17), a small
gzip-compressed dataset of 32768² floats). `check_structure` walks every
link without following any, and refuses each of these, and any dataset of
more elements than `max_elements` (the model's largest variable, when a
model is loaded), before a byte of data is read.

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
from pathlib import Path
from typing import Any

from kerastools.errors import CheckpointError

__all__ = ["MAX_ELEMENTS", "check_structure", "elements_bound"]

MAX_ELEMENTS = 1 << 28  # per dataset, when no model bounds it (1 GiB of float32)


def elements_bound(variables: Sequence[Any]) -> int:
    """The most elements a dataset may declare for a model with `variables` (its weights).

    The largest variable, or the list of variable paths, with a margin;
    `MAX_ELEMENTS` when the model has no weights yet.

    Examples:
        >>> elements_bound(model.weights) == 8 * len(model.weights) + 1024  # all small
        True
        >>> elements_bound([]) == MAX_ELEMENTS
        True
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
    """Raise CheckpointError at the first link or dataset of `handle` that must not be read.

    Raises:
        CheckpointError: an external or soft link, a dataset stored in
            external files or virtual, or one declaring more than
            `max_elements` elements (the message names `path` and the object).
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
