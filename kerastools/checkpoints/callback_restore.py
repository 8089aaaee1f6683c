"""Giving the callbacks of a resumed run the states a checkpoint's record holds.

`kerastools.checkpoints.resume(model, directory, callbacks=...)` hands each
callback with `get_state()`/`set_state()` the state of its kind (its class
name) that `PeriodicCheckpoint(callbacks=...)` recorded, in order within a kind.

Examples:
    >>> resumable_of(None)
    []
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import keras

from kerastools.errors import ConfigTypeError

if TYPE_CHECKING:
    from kerastools.checkpoints.manifest import CheckpointInfo

__all__ = ["restore_callback_states", "resumable_of"]

logger = logging.getLogger(__name__)


def resumable_of(callbacks: Any) -> list[Any]:
    """The callbacks of `callbacks` that have `get_state()` and `set_state()`.

    Examples:
        >>> stopper = kt.callbacks.ThresholdEarlyStopping("loss", threshold=0.01)
        >>> resumable_of([stopper, keras.callbacks.History()]) == [stopper]
        True

    Raises:
        ConfigTypeError: `callbacks` is not a list of Keras callbacks.
    """
    if callbacks is None:
        return []
    if not isinstance(callbacks, Sequence) or isinstance(callbacks, str):
        raise ConfigTypeError(
            f"Argument `callbacks` must be a list of callbacks. Received: callbacks={callbacks!r}"
        )
    for callback in callbacks:
        if not isinstance(callback, keras.callbacks.Callback):
            raise ConfigTypeError(
                "Argument `callbacks` must hold Keras callbacks (those with get_state() and "
                f"set_state() get their state back). Received: {callback!r} in callbacks={callbacks!r}"
            )
    return [
        callback
        for callback in callbacks
        if callable(getattr(callback, "get_state", None))
        and callable(getattr(callback, "set_state", None))
    ]


def restore_callback_states(info: CheckpointInfo, callbacks: list[Any]) -> None:
    """`set_state` each callback with the state of its kind, in order within a kind.

    Examples:
        >>> from kerastools.checkpoints.manifest import CheckpointInfo
        >>> info = CheckpointInfo(tmp_path / "epoch-0001.weights.h5", "epoch", 1, 1)
        >>> restore_callback_states(info, [])
    """
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for state in info.callback_states:
        by_kind.setdefault(state["kind"], []).append(state)
    for callback in callbacks:
        states = by_kind.get(type(callback).__name__)
        if states:
            callback.set_state(states.pop(0))
        else:
            logger.info("%s records no state for %s.", info.path, type(callback).__name__)
