"""`find_learning_rate`: the learning-rate range test (Leslie Smith's, as fastai and Lightning run it).

The rate grows from `min_lr` to `max_lr` over `num_steps` training steps,
one batch each, through `model.train_on_batch` (so a custom `train_step` is
used as `fit` would use it, on every backend). The loss of each batch is
averaged (a bias-corrected exponential average); the sweep stops once that
average passes `diverge_factor` times its best, or a loss is not finite. The
model is then put back exactly as it was found.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import keras
import numpy as np

from kerastools._validation import check_choice, check_float, check_int
from kerastools.errors import ConfigError, ConfigTypeError
from kerastools.learning_rates import (
    COMPILED_OPTIMIZER,
    model_optimizers,
    rate_source,
    unwrap_optimizer,
)
from kerastools.lr_finder.batches import Batch, batch_stream
from kerastools.lr_finder.result import LearningRateFinderResult
from kerastools.lr_finder.state import TrainingSnapshot

__all__ = ["MODES", "find_learning_rate", "planned_rates"]

MODES = ("exponential", "linear")
MAX_STEPS = 10_000  # a range test is a short probe, not a training run


def planned_rates(
    min_lr: float, max_lr: float, num_steps: int, mode: str = "exponential"
) -> np.ndarray:
    """The rate of each step: evenly spaced in log (`"exponential"`) or linearly.

    Examples:
        >>> planned_rates(1e-3, 1.0, 4).tolist()
        [0.001, 0.01, 0.1, 1.0]
    """
    if mode == "linear":
        return np.linspace(min_lr, max_lr, num_steps)
    return np.geomspace(min_lr, max_lr, num_steps)


class _SweepSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """The planned rates as a schedule of the optimizer's own step counter.

    Used only while the optimizer was compiled with a schedule, which Keras
    lets no one overwrite with a number. Being a function of the step counter
    (an optimizer variable), it is right inside a compiled train step on every
    backend.
    """

    def __init__(self, rates: np.ndarray, first_step: int, mode: str) -> None:
        self.rates, self.first_step, self.mode = rates, first_step, mode

    def __call__(self, step: Any) -> Any:
        last = len(self.rates) - 1
        index = keras.ops.clip(
            keras.ops.cast(step, "float32") - float(self.first_step), 0.0, float(last)
        )
        low, high = float(self.rates[0]), float(self.rates[-1])
        if self.mode == "linear":
            return low + (high - low) * index / float(last)
        return low * keras.ops.power(high / low, index / float(last))

    def get_config(self) -> dict[str, Any]:
        return {"rates": self.rates.tolist(), "first_step": self.first_step, "mode": self.mode}


def _check_model(model: Any) -> keras.optimizers.Optimizer:
    if not isinstance(model, keras.Model):
        raise ConfigTypeError(
            f"Argument `model` must be a compiled keras.Model. Received: model={model!r}"
        )
    if not getattr(model, "compiled", False) or getattr(model, "optimizer", None) is None:
        raise ConfigError(
            "Argument `model` is not compiled: compile it first, e.g. "
            f"kt.compile(model, optimizer='adam'). Received: model={model.name!r}"
        )
    if not model.built:
        raise ConfigError(
            "Argument `model` is not built, so its weights do not exist yet and could not be put "
            "back: build it (call it on one batch, or `model.build(input_shape)`) first. "
            f"Received: model={model.name!r}"
        )
    others = [name for name in model_optimizers(model) if name != COMPILED_OPTIMIZER]
    if others:
        raise ConfigError(
            f"Argument `model` trains with optimizers kept as attributes ({others}); the finder "
            f"sweeps the rate of the compiled `model.optimizer` only. Received: model={model.name!r}"
        )
    return unwrap_optimizer(model)


def _check_settings(
    min_lr: Any, max_lr: Any, num_steps: Any, mode: Any, smoothing: Any, diverge_factor: Any
) -> str:
    min_lr = check_float("min_lr", min_lr, low=0.0, low_inclusive=False)
    max_lr = check_float("max_lr", max_lr, low=0.0, low_inclusive=False)
    if max_lr <= min_lr:
        raise ConfigError(
            f"Argument `max_lr` must be greater than `min_lr`. Received: min_lr={min_lr!r}, max_lr={max_lr!r}"
        )
    check_int("num_steps", num_steps, low=5, high=MAX_STEPS)
    check_float("smoothing", smoothing, low=0.0, high=1.0, high_inclusive=False)
    check_float("diverge_factor", diverge_factor, low=1.0, low_inclusive=False)
    return check_choice("mode", mode, MODES)


def _batch_loss(logs: Any) -> float:
    if not isinstance(logs, dict) or "loss" not in logs:
        keys = sorted(logs) if isinstance(logs, dict) else logs
        raise ConfigError(
            "The model's train step must return a `loss` entry for the finder to follow. "
            f"Received: train_on_batch logs {keys!r}"
        )
    return float(keras.ops.convert_to_numpy(logs["loss"]))


def _run(
    model: keras.Model,
    optimizer: keras.optimizers.Optimizer,
    batches: Iterator[Batch],
    rates: np.ndarray,
    smoothing: float,
    diverge_factor: float,
) -> tuple[list[float], list[float], str, str]:
    """Step through `rates`; the losses, smoothed losses, stop reason and message."""
    settable = isinstance(rate_source(optimizer), keras.Variable)
    losses: list[float] = []
    smoothed: list[float] = []
    average, best = 0.0, math.inf
    for step, rate in enumerate(rates):
        if settable:
            optimizer.learning_rate = float(rate)
        batch_x, batch_y, weight = next(batches)
        loss = _batch_loss(
            model.train_on_batch(batch_x, batch_y, sample_weight=weight, return_dict=True)
        )
        average = smoothing * average + (1.0 - smoothing) * loss
        value = average / (1.0 - smoothing ** (step + 1))
        losses.append(loss)
        smoothed.append(value)
        if not math.isfinite(value):
            return (
                losses,
                smoothed,
                "non_finite",
                f"the loss was {loss} at learning rate {rate:.3g}",
            )
        if value > diverge_factor * best:
            return (
                losses,
                smoothed,
                "diverged",
                (
                    f"the smoothed loss {value:.4g} passed {diverge_factor:g} x its best {best:.4g} "
                    f"at learning rate {rate:.3g}"
                ),
            )
        best = min(best, value)
    return losses, smoothed, "completed", f"all {len(rates)} steps ran"


def find_learning_rate(
    model: keras.Model,
    x: Any,
    y: Any = None,
    *,
    min_lr: float = 1e-7,
    max_lr: float = 10.0,
    num_steps: int = 100,
    mode: str = "exponential",
    batch_size: int | None = None,
    smoothing: float = 0.98,
    diverge_factor: float = 4.0,
    seed: int | None = None,
) -> LearningRateFinderResult:
    """Sweep the learning rate over a few steps of training and suggest one; leave the model as found.

    The learning-rate range test: the rate rises from `min_lr` to `max_lr`
    over `num_steps` batches; the loss first barely moves, then falls, then
    blows up. A good rate lies on the falling part: `result.suggestion()`
    reads it off the smoothed curve, and `result.plot()` shows it. Every model
    and optimizer variable (weights, BatchNorm statistics, random layers' seed
    states, the step counter, momentum and other slots) and the rate are put
    back afterwards, also when the sweep raises or is interrupted, so the next
    `fit` is exactly the one it would have been. One thing lies outside the
    model: on torch, a `Dropout` layer built without a `seed` draws from
    torch's global generator, which the sweep advances; give it a `seed` for a
    bit-exact next `fit` there.

    Examples:
        >>> result = kt.find_learning_rate(model, x, y, min_lr=1e-5, max_lr=10.0,
        ...                                num_steps=40, seed=0)
        >>> result.stop_reason in ("completed", "diverged", "non_finite")
        True
        >>> model = kt.compile(model, optimizer="rmsprop", learning_rate=result.suggestion())

    Args:
        model: a compiled, built keras.Model (any optimizer, a custom
            `train_step` included; a `LossScaleOptimizer`'s inner optimizer
            is swept). A rate schedule is replaced by the sweep's own for the
            sweep and put back after it.
        x: inputs: a NumPy array (or a list/dict of arrays), a
            `keras.utils.PyDataset` or a `tf.data.Dataset` of batches. Batches
            are drawn again from the start when they run out.
        y: targets, for array inputs. Defaults to None.
        min_lr: the first rate, > 0. Defaults to 1e-7.
        max_lr: the last rate, > `min_lr`. Defaults to 10.0.
        num_steps: batches in the sweep, 5 to 10000. Defaults to 100.
        mode: `"exponential"` (evenly spaced in log, the usual test) or
            `"linear"`. Defaults to `"exponential"`.
        batch_size: samples per batch for array inputs. Defaults to None (32).
        smoothing: the average's weight of the past, in [0, 1). Defaults to 0.98.
        diverge_factor: stop once the smoothed loss is this many times its
            best so far, > 1. Defaults to 4.0.
        seed: seeds the shuffling of array inputs. Defaults to None.

    Returns:
        A `LearningRateFinderResult`.

    Raises:
        ConfigError: an uncompiled or unbuilt model, bounds out of order or
            not positive, `num_steps` out of range, an unknown `mode`, or a
            train step that reports no `loss`.
    """
    optimizer = _check_model(model)
    mode = _check_settings(min_lr, max_lr, num_steps, mode, smoothing, diverge_factor)
    batches = batch_stream(x, y, batch_size=batch_size, seed=seed)
    rates = planned_rates(float(min_lr), float(max_lr), int(num_steps), mode)
    snapshot = TrainingSnapshot.take(model)
    original = rate_source(optimizer)
    swap = not isinstance(original, keras.Variable)
    try:
        if swap:
            first = int(keras.ops.convert_to_numpy(optimizer.iterations))
            optimizer.learning_rate = _SweepSchedule(rates, first, mode)
            model.make_train_function(force=True)
        losses, smoothed, reason, message = _run(
            model, optimizer, batches, rates, float(smoothing), float(diverge_factor)
        )
    finally:
        if swap:
            optimizer.learning_rate = original
            model.make_train_function(force=True)
        snapshot.restore()
    return LearningRateFinderResult(
        learning_rates=tuple(float(rate) for rate in rates[: len(losses)]),
        losses=tuple(losses),
        smoothed_losses=tuple(smoothed),
        stopped_early=len(losses) < len(rates),
        stop_reason=reason,
        message=message,
        min_lr=float(min_lr),
        max_lr=float(max_lr),
        num_steps=int(num_steps),
        mode=mode,
    )
