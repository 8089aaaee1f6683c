"""The learning rate an optimizer uses: now, and at any past step.

The one home of that rule: `kerastools.current_learning_rate`,
`LearningRateLogger` and the learning-rate finder all read the rate here, so
they agree with what the optimizer's update really used.

Examples:
    >>> from kerastools.learning_rates import rates_at
    >>> schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 1, 0.5)
    >>> rates_at(schedule, np.arange(3)).tolist()
    [0.1, 0.05, 0.025]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from kerastools.errors import ConfigError, ConfigTypeError

__all__ = [
    "COMPILED_OPTIMIZER",
    "current_learning_rate",
    "learning_rate_logs",
    "model_optimizers",
    "rate_source",
    "rates_at",
    "schedule_step_counter",
    "unwrap_optimizer",
]


COMPILED_OPTIMIZER = "optimizer"  # model_optimizers' name for `model.optimizer`


def model_optimizers(model: keras.Model) -> dict[str, keras.optimizers.Optimizer]:
    """The optimizers `model` trains with, by attribute name.

    The one home of that rule, for `LearningRateLogger` and the checkpoints.
    Usually that is the compiled `model.optimizer`, named `"optimizer"`. A
    model that keeps its own optimizers as attributes (the GAN pattern:
    `compile(d_optimizer=..., g_optimizer=...)` calling `super().compile()`,
    with a `train_step` that uses them) trains with those: every public
    attribute holding a keras optimizer, in the order they were set. The
    compiled optimizer is then included only when it has taken a step;
    Keras' unused default (`rmsprop`, which `fit` may build on torch) is not.

    Examples:
        >>> list(model_optimizers(model))
        ['optimizer']
        >>> model_optimizers(kt.build_mlp(2, [8]))
        {}

    Args:
        model: a keras.Model, compiled or not.

    Returns:
        Name to optimizer (a `LossScaleOptimizer` stays wrapped); empty
        when the model has none.
    """
    compiled = getattr(model, "optimizer", None)
    if not isinstance(compiled, keras.optimizers.Optimizer):
        compiled = None
    attributes = {
        name: value
        for name, value in vars(model).items()
        if not name.startswith("_")
        and name != COMPILED_OPTIMIZER
        and isinstance(value, keras.optimizers.Optimizer)
        and value is not compiled
    }
    found: dict[str, keras.optimizers.Optimizer] = {}
    if compiled is not None and (not attributes or _has_stepped(compiled)):
        found[COMPILED_OPTIMIZER] = compiled
    found.update(attributes)
    return found


def _has_stepped(optimizer: keras.optimizers.Optimizer) -> bool:
    return optimizer.built and int(keras.ops.convert_to_numpy(optimizer.iterations)) > 0


def unwrap_optimizer(model_or_optimizer: Any) -> keras.optimizers.Optimizer:
    """The optimizer doing the work: `model.optimizer`, unwrapped from a LossScaleOptimizer.

    Examples:
        >>> unwrap_optimizer(model).__class__.__name__
        'RMSprop'

    Raises:
        ConfigError: a model that is not compiled, or neither a model nor an optimizer.
    """
    optimizer = model_or_optimizer
    if isinstance(model_or_optimizer, keras.Model):
        optimizer = getattr(model_or_optimizer, "optimizer", None)
        if optimizer is None:
            raise ConfigError(
                f"Argument `model` is not compiled, so it has no optimizer. "
                f"Received: model={model_or_optimizer.name!r}"
            )
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise ConfigTypeError(
            "Argument `model` must be a compiled keras.Model or a keras optimizer. "
            f"Received: model={model_or_optimizer!r}"
        )
    inner = getattr(optimizer, "inner_optimizer", None)
    return inner if isinstance(inner, keras.optimizers.Optimizer) else optimizer


def current_learning_rate(model: Any) -> float:
    """The learning rate the optimizer will use at its current step.

    Works for a constant rate, a `LearningRateSchedule`, a callable and a
    `LossScaleOptimizer` (mixed_float16).

    Examples:
        >>> kerastools.current_learning_rate(model)
        0.001

    Args:
        model: a compiled model or an optimizer.

    Raises:
        ConfigError: the model is not compiled.
    """
    optimizer = unwrap_optimizer(model)
    value: Any = optimizer.learning_rate  # evaluates a schedule at the optimizer's step
    if isinstance(value, Callable) and not hasattr(value, "numpy"):  # type: ignore[arg-type]
        value = value()
    return float(keras.ops.convert_to_numpy(value))


def learning_rate_logs(model: keras.Model, key: str = "learning_rate") -> dict[str, float]:
    """The rate of each optimizer `model` trains with, keyed as `LearningRateLogger` logs them.

    The compiled optimizer alone: `{key: rate}`. Optimizers kept as
    attributes (the GAN pattern): one `f"{key}_{attribute}"` entry each. No
    optimizer: empty.

    Examples:
        >>> learning_rate_logs(model)
        {'learning_rate': 0.001}
    """
    optimizers = model_optimizers(model)
    if list(optimizers) == [COMPILED_OPTIMIZER]:
        return {key: current_learning_rate(optimizers[COMPILED_OPTIMIZER])}
    return {f"{key}_{name}": current_learning_rate(optimizer) for name, optimizer in optimizers.items()}


def rate_source(optimizer: keras.optimizers.Optimizer) -> Any:
    """What the optimizer's rate comes from: a schedule, a variable, a callable or a float.

    Keras 3 has no public accessor for it: the public `learning_rate`
    property evaluates a schedule instead of returning it. This is the one
    private read; checked on Keras 3.15.1, guarded by
    `tests/test_learning_rates.py::test_private_rate_source_still_exists`.

    Examples:
        >>> schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
        >>> rate_source(keras.optimizers.SGD(schedule)) is schedule
        True
    """
    return optimizer._learning_rate


def schedule_step_counter(optimizer: keras.optimizers.Optimizer) -> Any:
    """The step counter the optimizer evaluates its schedule at.

    That is `optimizer.iterations`, except under gradient accumulation, where
    the public counter counts updates but the schedule sees every batch. No
    public name holds the batch count then; this is the one private read,
    checked on Keras 3.15.1 and guarded by
    `tests/test_learning_rates.py::test_private_step_counter_still_exists`.

    Examples:
        >>> optimizer = keras.optimizers.SGD(0.1)
        >>> schedule_step_counter(optimizer) is optimizer.iterations
        True
    """
    if not optimizer.gradient_accumulation_steps:
        return optimizer.iterations
    return optimizer._iterations


def rates_at(schedule: Callable[[Any], Any], steps: np.ndarray, dtype: str = "int64") -> np.ndarray:
    """`schedule` at each of `steps`, as float64, in as few calls as the schedule allows.

    Most schedules broadcast over a vector of steps (one call). Those with
    step-dependent branches (warm-up, piecewise) get `keras.ops.vectorized_map`
    on a backend tensor, and, where the backend cannot vectorise the branch
    (torch's vmap), one call per step.

    Examples:
        >>> warmup = keras.optimizers.schedules.CosineDecay(
        ...     0.0, 10, warmup_target=0.1, warmup_steps=2)
        >>> [round(rate, 3) for rate in rates_at(warmup, np.arange(4)).tolist()]
        [0.0, 0.05, 0.1, 0.098]
    """
    steps = np.asarray(steps).astype(dtype)
    if steps.size == 0:
        return np.zeros(steps.shape, "float64")
    tensor = keras.ops.convert_to_tensor(steps)
    for evaluate in (
        lambda: schedule(tensor),
        lambda: keras.ops.vectorized_map(schedule, tensor),
    ):
        try:
            rates = np.asarray(keras.ops.convert_to_numpy(evaluate()), dtype="float64")
        except Exception:  # noqa: BLE001 - a schedule that does not vectorise: try the next way
            continue
        if rates.shape == steps.shape:
            return rates
    return np.array(
        [float(keras.ops.convert_to_numpy(schedule(keras.ops.convert_to_tensor(step)))) for step in steps],
        dtype="float64",
    )
