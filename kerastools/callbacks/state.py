"""Callbacks' state across a restart: `get_state()` and `set_state(state)`, JSON-safe.

Keras resets a callback at the start of every `fit` (`on_train_begin`), and
a resumed run is a new `fit`, so a resumed stopper forgets its best value and
a resumed live plot starts at the resume epoch. kerastools callbacks that
learn something during a run hand it out as a JSON-safe dict
(`get_state()`) and take it back (`set_state(state)`): the next
`on_train_begin` then continues from that state instead of starting afresh,
once.

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
    "resumable_callbacks",
]

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


class ResumableCallbackState:
    """Mixin: `set_state` keeps a state that the next `on_train_begin` applies.

    Subclasses implement `get_state()` (including `"kind": type(self).__name__`)
    and `_apply_state(state)`, and call `self._resume_pending()` in
    `on_train_begin` after their usual reset.

    Examples:
        >>> stopper = kt.callbacks.ThresholdEarlyStopping("loss", threshold=0.01)
        >>> stopper.set_state({"kind": "LivePlot"})
        Traceback (most recent call last):
        ...
        kerastools.errors.ConfigError: Argument `state` was written by a LivePlot, not a ThresholdEarlyStopping. Received: state={'kind': 'LivePlot'}
    """

    _pending_state: dict[str, Any] | None = None

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

    def _resume_pending(self) -> None:
        state, self._pending_state = self._pending_state, None
        if state is not None:
            self._apply_state(state)

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
