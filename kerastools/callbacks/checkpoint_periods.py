"""The save periods of `PeriodicCheckpoint` (epochs, steps, seconds), its `save_best` monitor, their checks."""

from __future__ import annotations

from typing import Any

from kerastools._validation import check_choice, check_float, check_int, check_name
from kerastools.callbacks.monitor import MonitorCallback, infer_mode
from kerastools.errors import ConfigError

__all__ = ["best_monitor", "check_periods"]


def best_monitor(save_best: Any, mode: Any) -> MonitorCallback | None:
    """The monitor of `save_best` (its `mode` resolved), or None without `save_best`.

    Examples:
        >>> best_monitor("val_accuracy", "auto").mode
        'max'

    Raises:
        ConfigError: `mode` without `save_best`, or a `mode` that cannot be inferred.
        ConfigTypeError: an argument of the wrong type.
    """
    mode = check_choice("mode", mode, ["auto", "min", "max"])
    if save_best is None:
        if mode != "auto":
            raise ConfigError(
                "Argument `mode` only applies together with `save_best`. "
                f"Received: mode={mode!r}, save_best=None"
            )
        return None
    monitor = str(check_name("save_best", save_best, allow_none=False))
    if mode == "auto":
        try:
            mode = infer_mode(monitor)
        except ConfigError:
            raise ConfigError(
                f"Cannot infer whether {monitor!r} should be minimised or maximised; "
                f"pass mode='min' or mode='max'. Received: save_best={monitor!r}, "
                "mode='auto'"
            ) from None
    return MonitorCallback(monitor, mode)  # type: ignore[arg-type]


def check_periods(
    every_epochs: Any, every_steps: Any, every_seconds: Any
) -> tuple[int | None, int | None, float | None]:
    """`(every_epochs, every_steps, every_seconds)`, checked.

    The default `every_epochs=1` is dropped when `every_steps` is given; it
    stays with `every_seconds` alone (pass `every_epochs=None` to drop it).

    Examples:
        >>> check_periods(1, 500, None)
        (None, 500, None)
        >>> check_periods(1, None, 600)
        (1, None, 600.0)

    Raises:
        ConfigError: both periods, no period at all, or a number out of range.
        ConfigTypeError: a period of the wrong type.
    """
    seconds = None
    if every_seconds is not None:
        seconds = check_float("every_seconds", every_seconds, low=0, low_inclusive=False)
    if every_steps is not None:
        steps = check_int("every_steps", every_steps, low=1)
        # every_epochs=1 is the default; anything else asks for both periods.
        if every_epochs is not None and (isinstance(every_epochs, bool) or every_epochs != 1):
            raise ConfigError(
                "Pass either `every_epochs` or `every_steps`, not both. "
                f"Received: every_epochs={every_epochs!r}, every_steps={every_steps!r}"
            )
        return None, steps, seconds
    if every_epochs is None:
        if seconds is not None:
            return None, None, seconds
        raise ConfigError(
            "One of `every_epochs` or `every_steps` (or `every_seconds`) must be given. "
            "Received: every_epochs=None, every_steps=None, every_seconds=None"
        )
    return check_int("every_epochs", every_epochs, low=1), None, seconds
