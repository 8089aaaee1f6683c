"""Callbacks' state across a restart: `get_state()` and `set_state(state)`, JSON-safe.

Keras resets a callback at the start of every `fit` (`on_train_begin`), and
a resumed run is a new `fit`, so a resumed stopper forgets its best value and
a resumed live plot starts at the resume epoch. kerastools callbacks that
learn something during a run hand it out as a JSON-safe dict
(`get_state()`) and take it back (`set_state(state)`): the next
`on_train_begin` then continues from that state instead of starting afresh,
once.

The same callback objects passed to a second `fit` that continues the
first (a notebook re-fit: `fit(..., epochs=3)`, then
`fit(..., initial_epoch=3, epochs=6)`) continue their own state too:
Keras tells callbacks the initial epoch only through the first
`on_epoch_begin`, so the state the last `fit` ended with is kept at
`on_train_begin` and applied there when that epoch is not 0. A `fit` from
epoch 0 starts afresh, as Keras' own callbacks do.

Non-finite floats are written as the strings `"inf"`, `"-inf"` and `"nan"`,
so the dict survives strict JSON (`json.dumps(..., allow_nan=False)`).

Examples:
    >>> import json
    >>> stopper = kt.callbacks.ThresholdEarlyStopping("loss", threshold=0.01)
    >>> state = json.loads(json.dumps(stopper.get_state(), allow_nan=False))
    >>> state["kind"], state["best"]
    ('ThresholdEarlyStopping', 'inf')
    >>> stopper.set_state(state)
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

from kerastools.errors import ConfigError, ConfigTypeError

__all__ = [
    "ResumableCallbackState",
    "decode_float",
    "decode_floats",
    "encode_float",
    "encode_floats",
    "epochs_up_to",
    "resumable_callbacks",
]

logger = logging.getLogger(__name__)

_NON_FINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def encode_float(value: float) -> float | str:
    """`value` as strict JSON allows it: non-finite values as `"inf"`, `"-inf"`, `"nan"`.

    Examples:
        >>> encode_float(0.5), encode_float(float("-inf"))
        (0.5, '-inf')
    """
    value = float(value)
    if math.isfinite(value):
        return value
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def decode_float(value: Any, name: str = "value") -> float:
    """The float `encode_float` wrote.

    Examples:
        >>> decode_float("inf"), decode_float(2)
        (inf, 2.0)

    Raises:
        ConfigTypeError: `value` is neither a number nor one of the three strings.
    """
    if isinstance(value, str) and value in _NON_FINITE:
        return _NON_FINITE[value]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigTypeError(
            f"State entry `{name}` must be a number or one of {sorted(_NON_FINITE)}. "
            f"Received: {name}={value!r}"
        )
    return float(value)


def encode_floats(values: Sequence[float]) -> list[float | str]:
    """`encode_float` of each value."""
    return [encode_float(value) for value in values]


def decode_floats(values: Any, name: str = "values") -> list[float]:
    """`decode_float` of each value of a list.

    Raises:
        ConfigTypeError: `values` is not a list of encoded floats.
    """
    if not isinstance(values, list):
        raise ConfigTypeError(f"State entry `{name}` must be a list. Received: {name}={values!r}")
    return [decode_float(value, f"{name}[{index}]") for index, value in enumerate(values)]


def epochs_up_to(state: Mapping[str, Any], epoch: int) -> dict[str, Any]:
    """A state of `{"epochs": [...], "values": {key: [...]}}` without the epochs after `epoch` (1-based).

    Examples:
        >>> epochs_up_to({"epochs": [1, 2, 3], "values": {"loss": [0.9, 0.5, 0.4]}}, 2)
        {'epochs': [1, 2], 'values': {'loss': [0.9, 0.5]}}
    """
    keep = [index for index, position in enumerate(state["epochs"]) if position <= epoch]
    values = {key: [column[index] for index in keep] for key, column in state["values"].items()}
    return {**state, "epochs": [state["epochs"][index] for index in keep], "values": values}


class ResumableCallbackState:
    """Mixin: `set_state` keeps a state that the next `on_train_begin` applies.

    Subclasses implement `get_state()` (including `"kind": type(self).__name__`)
    and `_apply_state(state)`, call `self._keep_last_run()` in
    `on_train_begin` before their usual reset and `self._resume_pending()`
    after it, and `self._continue_run(epoch)` first thing in
    `on_epoch_begin`: a `fit` whose first epoch is not 0 then continues the
    state the previous `fit` of the same object ended with (unless
    `set_state` gave one). `_trim_state(state, epoch)` may drop what that
    state holds of epochs `epoch` and later.

    Examples:
        >>> stopper = kt.callbacks.ThresholdEarlyStopping("loss", threshold=0.01)
        >>> stopper.set_state({"kind": "LivePlot"})
        Traceback (most recent call last):
        ...
        kerastools.errors.ConfigError: Argument `state` was written by a LivePlot, not a ThresholdEarlyStopping. Received: state={'kind': 'LivePlot'}
    """

    _pending_state: dict[str, Any] | None = None
    # The state the last fit ended with, until the next fit's first epoch says whether it continues.
    _last_run_state: dict[str, Any] | None = None
    _has_run = False

    def get_state(self) -> dict[str, Any]:
        """What this callback learned so far, as a JSON-safe dict."""
        raise NotImplementedError

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Continue from `state` (from `get_state()`) at the start of the next `fit`.

        Raises:
            ConfigTypeError: `state` is not a dict.
            ConfigError: `state` was written by another kind of callback.
        """
        if not isinstance(state, Mapping):
            raise ConfigTypeError(f"Argument `state` must be a dict from get_state(). Received: state={state!r}")
        kind = type(self).__name__
        if state.get("kind") != kind:
            raise ConfigError(
                f"Argument `state` was written by a {state.get('kind')}, not a {kind}. "
                f"Received: state={dict(state)!r}"
            )
        self._pending_state = dict(state)

    def _keep_last_run(self) -> None:
        """Before the reset at `on_train_begin`: keep what the last `fit` ended with."""
        self._last_run_state = self.get_state() if self._has_run and self._pending_state is None else None
        self._has_run = True

    def _resume_pending(self) -> None:
        state, self._pending_state = self._pending_state, None
        if state is not None:
            self._apply_state(state)

    def _continue_run(self, epoch: int) -> None:
        """At `on_epoch_begin`: a `fit` that starts past epoch 0 continues the last one's state."""
        state, self._last_run_state = self._last_run_state, None
        if state is None or epoch == 0:
            return
        try:
            self._apply_state(self._trim_state(state, epoch))
        except (ConfigError, ConfigTypeError) as error:  # e.g. the same logger on another model
            logger.warning("%s starts afresh at epoch %d: the last fit's state does not fit this one (%s).",
                           type(self).__name__, epoch + 1, error)

    def _trim_state(self, state: dict[str, Any], epoch: int) -> dict[str, Any]:
        """`state` without what it holds of epochs `epoch` and later (0-based).

        A state of per-epoch `epochs` and `values` (LivePlot's) is cut by
        `epochs_up_to`; any other is kept whole unless a subclass cuts it.
        """
        if isinstance(state.get("epochs"), list) and isinstance(state.get("values"), dict):
            return epochs_up_to(state, epoch)
        return state

    def _apply_state(self, state: dict[str, Any]) -> None:
        raise NotImplementedError


def resumable_callbacks(callbacks: Any) -> list[Any]:
    """`callbacks` as a list of objects with `get_state()` and `set_state()`.

    Examples:
        >>> from kerastools.callbacks.state import resumable_callbacks
        >>> resumable_callbacks(None)
        []
        >>> resumable_callbacks([object()])
        Traceback (most recent call last):
        ...
        kerastools.errors.ConfigTypeError: Argument `callbacks` must hold callbacks with get_state() and set_state() (see kerastools.callbacks.state), e.g. ThresholdEarlyStopping or LivePlot. Received: <object object at ...>
    """
    if callbacks is None:
        return []
    if not isinstance(callbacks, Sequence) or isinstance(callbacks, str):
        raise ConfigTypeError(
            f"Argument `callbacks` must be a list of callbacks. Received: callbacks={callbacks!r}"
        )
    for callback in callbacks:
        if not (callable(getattr(callback, "get_state", None))
                and callable(getattr(callback, "set_state", None))):
            raise ConfigTypeError(
                "Argument `callbacks` must hold callbacks with get_state() and set_state() "
                "(see kerastools.callbacks.state), e.g. ThresholdEarlyStopping or LivePlot. "
                f"Received: {callback!r}"
            )
    return list(callbacks)
