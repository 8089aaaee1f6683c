"""Optimizers by name and learning-rate schedules by name, with momentum wired right.

Examples:
    >>> from kerastools.optimizers import make_optimizer
    >>> make_optimizer("sgd", 0.1, momentum=0.9).momentum
    0.9
"""

from __future__ import annotations

from typing import Any

import keras

from kerastools._validation import check_bool, check_choice, check_float, check_int
from kerastools.errors import ConfigError

__all__ = ["OPTIMIZERS", "SCHEDULES", "make_optimizer", "make_schedule"]

# Only RMSprop and SGD take `momentum`; for the Adam family the first-moment
# decay `beta_1` is the momentum term (Keras rejects `momentum=` there).
OPTIMIZERS: dict[str, tuple[type[keras.optimizers.Optimizer], str]] = {
    "rmsprop": (keras.optimizers.RMSprop, "momentum"),
    "sgd": (keras.optimizers.SGD, "momentum"),
    "nadam": (keras.optimizers.Nadam, "beta_1"),
    "adamax": (keras.optimizers.Adamax, "beta_1"),
    "adam": (keras.optimizers.Adam, "beta_1"),
}

SCHEDULES: dict[str, type[keras.optimizers.schedules.LearningRateSchedule]] = {
    "inverse_time": keras.optimizers.schedules.InverseTimeDecay,
    "powersched": keras.optimizers.schedules.InverseTimeDecay,  # the name Keras 2 code often uses
    "exponential": keras.optimizers.schedules.ExponentialDecay,
}


def make_schedule(
    schedule: str | keras.optimizers.schedules.LearningRateSchedule | None,
    learning_rate: float = 1e-3,
    *,
    decay_steps: float = 1,
    decay_rate: float = 1e-3,
    staircase: bool = False,
    steps_per_epoch: int | None = None,
) -> float | keras.optimizers.schedules.LearningRateSchedule:
    """Return the `learning_rate` argument for a Keras optimizer.

    Examples:
        >>> schedule = make_schedule("inverse_time", 0.01, decay_steps=2, decay_rate=0.5,
        ...                          steps_per_epoch=10)
        >>> round(float(schedule(20)), 6)   # 0.01 / (1 + 0.5 * 20 / 20)
        0.006667

    Args:
        schedule: `None` (constant), `"inverse_time"` (alias `"powerSched"`),
            `"exponential"`, or a `LearningRateSchedule` used as is.
        learning_rate: initial (or constant) rate. Defaults to 1e-3.
        decay_steps: optimizer steps per decay period, or epochs when
            `steps_per_epoch` is given. Defaults to 1.
        decay_rate: decay rate of the schedule. Defaults to 1e-3.
        staircase: decay in discrete intervals. Defaults to False.
        steps_per_epoch: batches per epoch; converts `decay_steps` from
            epochs to steps. Defaults to None.

    Raises:
        ConfigError: unknown schedule name, or a number out of range.
    """
    if isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
        return schedule
    rate = check_float("learning_rate", learning_rate, low=0.0, low_inclusive=False)
    steps = check_float("decay_steps", decay_steps, low=0.0, low_inclusive=False)
    decay = check_float("decay_rate", decay_rate, low=0.0)
    stairs = check_bool("staircase", staircase)
    if steps_per_epoch is not None:
        steps *= check_int("steps_per_epoch", steps_per_epoch, low=1)
    if schedule is None:
        return rate
    key = check_choice("schedule", schedule, ["inverse_time", "powersched", "exponential"])
    return SCHEDULES[key](rate, steps, decay, staircase=stairs)


# Bounds of the optimizer arguments Keras accepts whatever their value (beta_1=5 or
# epsilon=-1 train to NaN): name -> (low, high, low_inclusive, high_inclusive).
_BOUNDS: dict[str, tuple[float, float | None, bool, bool]] = {
    "beta_1": (0.0, 1.0, True, False),
    "beta_2": (0.0, 1.0, True, False),
    "rho": (0.0, 1.0, True, False),
    "epsilon": (0.0, None, False, True),
    "clipnorm": (0.0, None, False, True),
    "clipvalue": (0.0, None, False, True),
    "global_clipnorm": (0.0, None, False, True),
    "weight_decay": (0.0, None, True, True),
    "ema_momentum": (0.0, 1.0, True, True),
}


def _check_bounded(kwargs: dict[str, Any]) -> dict[str, Any]:
    """`kwargs` with every argument of `_BOUNDS` checked; None keeps Keras' default."""
    checked = dict(kwargs)
    for name, (low, high, low_inclusive, high_inclusive) in _BOUNDS.items():
        if checked.get(name) is not None:
            checked[name] = check_float(
                name,
                checked[name],
                low=low,
                high=high,
                low_inclusive=low_inclusive,
                high_inclusive=high_inclusive,
            )
    return checked


def make_optimizer(
    optimizer: str = "rmsprop",
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = 1e-3,
    momentum: float | None = None,
    **kwargs: Any,
) -> keras.optimizers.Optimizer:
    """Create an optimizer by name with momentum passed where it means something.

    `momentum` becomes `momentum=` for RMSprop and SGD and `beta_1=` for
    Nadam, Adamax and Adam, whose first-moment decay plays that role.

    Examples:
        >>> make_optimizer("nadam", 0.01, momentum=0.8).beta_1
        0.8

    Args:
        optimizer: one of `OPTIMIZERS`.
        learning_rate: a float or a `LearningRateSchedule`. Defaults to 1e-3.
        momentum: in [0, 1); `None` keeps the optimizer's own default
            (0.0 for RMSprop/SGD, beta_1=0.9 for the Adam family). Defaults to None.
        **kwargs: passed to the optimizer's constructor; `beta_1`, `beta_2`,
            `rho` and `ema_momentum` must lie in [0, 1) ([0, 1] for
            `ema_momentum`), `epsilon` and the clipping bounds must be > 0,
            `weight_decay` >= 0.

    Raises:
        ConfigError: unknown name, momentum outside [0, 1), or an argument
            outside the bounds above.
    """
    key = check_choice("optimizer", optimizer, list(OPTIMIZERS))
    cls, momentum_argument = OPTIMIZERS[key]
    if not isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        learning_rate = check_float("learning_rate", learning_rate, low=0.0, low_inclusive=False)
    if momentum is not None:
        kwargs[momentum_argument] = check_float(
            "momentum", momentum, low=0.0, high=1.0, high_inclusive=False
        )
    kwargs = _check_bounded(kwargs)
    try:
        return cls(learning_rate=learning_rate, **kwargs)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"Optimizer {key!r} rejected the extra arguments {kwargs!r}: {error}") from error
