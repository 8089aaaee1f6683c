"""What an exact resume needs beyond the weights file: RNG states, metric totals, the data position.

`model.save_weights` stores neither the seed generators' states (Dropout's)
nor the metrics' running totals (which matter mid-epoch): a record's
`training_state` holds them, as flat JSON lists (`tolist()`: bit for bit;
non-finite floats as `"inf"`, `"-inf"`, `"nan"`), with the data position.

Examples:
    >>> from kerastools.checkpoints.training_state import capture, restore_random_state
    >>> state = capture(model, epoch=1, batches=0)
    >>> sorted(state)
    ['batches', 'data_seed', 'epoch', 'metrics', 'seed_generators', 'stopped']
    >>> restore_random_state(model, state)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np

from kerastools.errors import CheckpointError, ConfigTypeError

__all__ = [
    "capture", "check_resumable_data", "check_training_state", "restore_metrics",
    "restore_random_state", "seed_generator_variables",
]

_KEYS = ("epoch", "batches", "data_seed", "stopped", "seed_generators", "metrics")


def seed_generator_variables(model: keras.Model) -> list[Any]:
    """The model's variables that `save_weights` leaves out: its seed generators' states.

    Examples:
        >>> dropped = keras.Sequential([keras.Input((2,)), keras.layers.Dropout(0.5)])
        >>> [v.name for v in seed_generator_variables(dropped)]
        ['seed_generator_state']
    """
    weights = {id(variable) for variable in model.weights}
    return [variable for variable in model.variables if id(variable) not in weights]


_NON_FINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def _encode(number: Any) -> Any:
    return str(number) if isinstance(number, float) and not math.isfinite(number) else number


def _values(variables: Sequence[Any]) -> list[dict[str, Any]]:
    """Each variable's path, shape and flat values (non-finite floats as strings)."""
    arrays = [(v.path, np.asarray(keras.ops.convert_to_numpy(v))) for v in variables]
    return [
        {"path": path, "shape": list(a.shape), "value": [_encode(n) for n in a.ravel().tolist()]}
        for path, a in arrays
    ]


def capture(
    model: keras.Model, *, epoch: int, batches: int, data_seed: int | None = None,
    stopped: bool = False, metrics: bool = False,
) -> dict[str, Any]:
    """The training state of `model` now, as a strict-JSON dict.

    `epoch` epochs are done and `batches` of the next one are in the weights
    (0 at an epoch end); `data_seed` orders the batches; `stopped`: a callback
    stopped training; `metrics`: also store `model.metrics_variables` (a
    mid-epoch save). On JAX, call `model.jax_state_sync()` first mid-epoch.
    """
    return {
        "epoch": int(epoch),
        "batches": int(batches),
        "data_seed": None if data_seed is None else int(data_seed),
        "stopped": bool(stopped),
        "seed_generators": _values(seed_generator_variables(model)),
        "metrics": _values(model.metrics_variables) if metrics else [],
    }


def check_training_state(name: str, state: Any) -> dict[str, Any] | None:
    """`state` if it has the shape `capture` writes, or None; ValueError naming the file otherwise.

    Examples:
        >>> check_training_state("x.weights.h5", {"epoch": 1})
        Traceback (most recent call last):
        ...
        ValueError: `training_state` of 'x.weights.h5' must be an object with the keys ['epoch', 'batches', 'data_seed', 'stopped', 'seed_generators', 'metrics'], not {'epoch': 1}
    """
    if state is None:
        return None
    valid = (
        isinstance(state, dict)
        and all(key in state for key in _KEYS)
        and all(isinstance(state[key], int) for key in ("epoch", "batches"))
        and (state["data_seed"] is None or isinstance(state["data_seed"], int))
        and all(
            isinstance(state[key], list)
            and all(isinstance(entry, dict) and "value" in entry for entry in state[key])
            for key in ("seed_generators", "metrics")
        )
    )
    if not valid:
        raise ValueError(
            f"`training_state` of {name!r} must be an object with the keys {list(_KEYS)}, "
            f"not {state!r}"
        )
    return state


def _assign(what: str, variables: Sequence[Any], entries: Sequence[Mapping[str, Any]]) -> None:
    """Check the count and every shape, then assign: a mismatch changes nothing."""
    if len(entries) != len(variables):
        raise CheckpointError(
            f"The checkpoint holds {len(entries)} {what} states, the model has "
            f"{len(variables)} ({[v.path for v in variables]}): not the saved model."
        )
    arrays = []
    for variable, entry in zip(variables, entries, strict=True):
        shape = tuple(entry.get("shape", ()))
        if shape != tuple(variable.shape):
            raise CheckpointError(
                f"The {what} state {entry.get('path')!r} has shape {shape} in the checkpoint "
                f"but {variable.path!r} has {tuple(variable.shape)} in the model."
            )
        values = [_NON_FINITE.get(v, v) if isinstance(v, str) else v for v in entry["value"]]
        dtype = keras.backend.standardize_dtype(variable.dtype)
        arrays.append(np.asarray(values, dtype=dtype).reshape(shape))
    for variable, array in zip(variables, arrays, strict=True):
        variable.assign(array)


def restore_random_state(model: keras.Model, state: Mapping[str, Any]) -> None:
    """Put back the seed generators' states; CheckpointError when the count or a shape differs."""
    _assign("seed generator", seed_generator_variables(model), state["seed_generators"])


def restore_metrics(model: keras.Model, state: Mapping[str, Any]) -> None:
    """Put back the metrics' running totals, if the state has any (not at an epoch end).

    Call it from `on_epoch_begin` of the epoch saved in: Keras resets the metrics just before it.
    """
    if state["metrics"]:
        _assign("metric", model.metrics_variables, state["metrics"])


def check_resumable_data(data: Any) -> Any:
    """None, or an object with `seed` and `skipped_batches(epoch)` (`kerastools.resumable`)."""
    if data is None or (hasattr(data, "seed") and callable(getattr(data, "skipped_batches", None))):
        return data
    raise ConfigTypeError(
        "Argument `data` must be None or the resumable data of kerastools.resumable (with "
        f"`seed` and `skipped_batches(epoch)`). Received: data={data!r}"
    )
