"""Compile with an optimizer by name, a learning-rate schedule and momentum wired right.

`compile` also remembers the model's initial weights and the optimizer's
initial state, so `reset_training` can restart training from step 0 without
rebuilding the model.
"""

from __future__ import annotations

import difflib
import inspect
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from kerastools.errors import ConfigError, ConfigTypeError
from kerastools.learning_rates import current_learning_rate, unwrap_optimizer
from kerastools.optimizers import OPTIMIZERS, SCHEDULES, make_optimizer, make_schedule

__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "compile",
    "make_optimizer",
    "make_schedule",
    "reset_training",
    "current_learning_rate",
    "unwrap_optimizer",
]


def _loss_for_activation(layer: Any) -> str:
    """The loss a Keras user would pick for an output layer's activation."""
    while isinstance(layer, keras.Model) and layer.layers:  # a nested model: its own last layer
        layer = layer.layers[-1]
    name = getattr(getattr(layer, "activation", None), "__name__", "linear")
    if name == "sigmoid":
        return "binary_crossentropy"
    if name == "softmax":
        return "sparse_categorical_crossentropy"
    return "mean_squared_error"


def _default_loss(model: keras.Model) -> Any:
    """Pick a loss from each output's activation, in the structure of the model's outputs."""
    try:
        outputs = model.output
    except (AttributeError, ValueError):  # a subclassed model has no symbolic outputs
        outputs = None
    leaves = keras.tree.flatten(outputs) if outputs is not None else []
    if len(leaves) <= 1:
        return _loss_for_activation(model.layers[-1] if model.layers else None)
    producers = {id(layer.output): layer for layer in model.layers if _has_single_output(layer)}
    missing = [getattr(leaf, "name", repr(leaf)) for leaf in leaves if id(leaf) not in producers]
    if missing:
        raise ConfigError(
            "Argument `loss='auto'` cannot tell the activation of every output of this model; "
            "pass one loss per output (a dict keyed by output name, or a list). "
            f"Received: loss='auto' for outputs {[getattr(leaf, 'name', '?') for leaf in leaves]}"
        )
    return keras.tree.map_structure(lambda leaf: _loss_for_activation(producers[id(leaf)]), outputs)


def _has_single_output(layer: Any) -> bool:
    try:
        return not isinstance(layer.output, (list, tuple, dict))
    except (AttributeError, ValueError):  # a layer never called, or called more than once
        return False


# Strings Keras resolves from the model's output at the first fit, not by name.
_OUTPUT_DEPENDENT_LOSSES = ("crossentropy", "ce")
_OUTPUT_DEPENDENT_METRICS = ("accuracy", "acc")


def _leaves(value: Any) -> list[Any]:
    """The entries of a per-output list or dict of losses or metrics (one level deep)."""
    if isinstance(value, Mapping):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [item for entry in value for item in (entry if isinstance(entry, (list, tuple)) else [entry])]
    return [value]


def _check_loss(loss: Any) -> None:
    """Resolve every loss name now: Keras would only fail at the first `fit`."""
    for entry in _leaves(loss):
        if entry is None or (isinstance(entry, str) and entry.lower() in _OUTPUT_DEPENDENT_LOSSES):
            continue
        try:
            keras.losses.get(entry)
        except (ValueError, TypeError) as error:
            raise ConfigError(
                f"Argument `loss` must be 'auto', a Keras loss name (e.g. 'mse', "
                f"'binary_crossentropy'), a loss function or a keras.losses.Loss. "
                f"Received: loss={loss!r}"
            ) from error


def _check_metrics(metrics: Any) -> None:
    if metrics is None:
        return
    if not isinstance(metrics, (list, tuple, dict)):
        raise ConfigTypeError(f"Argument `metrics` must be a list of metrics. Received: metrics={metrics!r}")
    for entry in _leaves(metrics):
        if entry is None or (isinstance(entry, str) and entry.lower() in _OUTPUT_DEPENDENT_METRICS):
            continue
        try:
            keras.metrics.get(entry)
        except (ValueError, TypeError) as error:
            raise ConfigError(
                f"Argument `metrics` holds {entry!r}, which is not a Keras metric name, function "
                f"or keras.metrics.Metric. Received: metrics={metrics!r}"
            ) from error


def _check_compile_kwargs(model: keras.Model, compile_kwargs: Mapping[str, Any]) -> None:
    """Name a misspelt argument ourselves instead of letting `model.compile` raise TypeError."""
    parameters = inspect.signature(model.compile).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    ours = list(inspect.signature(compile).parameters)
    for name in compile_kwargs:
        if name not in parameters:
            close = difflib.get_close_matches(name, [*ours, *parameters], n=1)
            hint = f" Did you mean `{close[0]}`?" if close else ""
            raise ConfigError(
                f"Argument `{name}` is not an argument of kerastools.compile or "
                f"keras.Model.compile.{hint} Received: {name}={compile_kwargs[name]!r}"
            )


@dataclass
class _InitialState:
    optimizer: keras.optimizers.Optimizer
    weights: list[np.ndarray]
    optimizer_values: list[np.ndarray]


# Keyed weakly, so a model that is garbage collected takes its snapshot with it.
_initial_states: weakref.WeakKeyDictionary[keras.Model, _InitialState] = weakref.WeakKeyDictionary()


def compile(
    model: keras.Model,
    *,
    optimizer: str | keras.optimizers.Optimizer = "rmsprop",
    learning_rate: float = 1e-3,
    schedule: str | keras.optimizers.schedules.LearningRateSchedule | None = None,
    decay_steps: float = 1,
    decay_rate: float = 1e-3,
    staircase: bool = False,
    steps_per_epoch: int | None = None,
    momentum: float | None = None,
    loss: Any = "auto",
    metrics: list[Any] | None = None,
    **compile_kwargs: Any,
) -> keras.Model:
    """Compile `model` with an optimizer by name and an optional LR schedule.

    The model's weights and the freshly built optimizer's state are
    remembered, so `reset_training(model)` can restart from them.

    Examples:
        >>> model = kerastools.build_mlp(2, [8], output_activation="sigmoid")
        >>> model = kerastools.compile(model, optimizer="sgd", learning_rate=0.1,
        ...                            schedule="inverse_time", decay_rate=0.5, momentum=0.9,
        ...                            metrics=["accuracy"])
        >>> model.loss
        'binary_crossentropy'

    Args:
        model: a Keras model, built (our builders return built models).
        optimizer: `"rmsprop"`, `"nadam"`, `"adamax"`, `"sgd"`, `"adam"`, or a
            Keras optimizer instance used as is. Defaults to `"rmsprop"`.
        learning_rate: initial rate. Defaults to 1e-3.
        schedule: `None`, `"inverse_time"` (alias `"powerSched"`),
            `"exponential"` or a `LearningRateSchedule`. Defaults to None.
        decay_steps: steps per decay period (epochs if `steps_per_epoch` is
            given). Defaults to 1.
        decay_rate: Defaults to 1e-3.
        staircase: Defaults to False.
        steps_per_epoch: batches per epoch, to count `decay_steps` in epochs.
            Defaults to None.
        momentum: in [0, 1): `momentum=` for RMSprop/SGD, `beta_1=` for
            Nadam/Adamax/Adam. `None` keeps each optimizer's default. Defaults to None.
        loss: a Keras loss; `"auto"` picks binary cross-entropy for a sigmoid
            output, sparse categorical cross-entropy for softmax, else mean
            squared error. Defaults to `"auto"`.
        metrics: Keras metrics. Defaults to None.
        **compile_kwargs: passed to `model.compile`.

    Returns:
        The same model, compiled.

    Raises:
        ConfigError: a bad name or number, a loss or metric name Keras does
            not know, an argument neither this function nor
            `keras.Model.compile` takes (a typo such as `lerning_rate`), or
            schedule settings given together with an optimizer instance.
    """
    if not isinstance(model, keras.Model):
        raise ConfigTypeError(f"Argument `model` must be a keras.Model. Received: model={model!r}")
    _check_compile_kwargs(model, compile_kwargs)
    if isinstance(optimizer, keras.optimizers.Optimizer):
        changed = {
            name: value
            for name, value, default in (
                ("learning_rate", learning_rate, 1e-3),
                ("schedule", schedule, None),
                ("momentum", momentum, None),
                ("steps_per_epoch", steps_per_epoch, None),
            )
            if value != default
        }
        if changed:
            raise ConfigError(
                f"Arguments {sorted(changed)} cannot be applied to an optimizer instance; "
                f"configure the instance itself or pass the optimizer by name. Received: {changed!r}"
            )
        instance = optimizer
    else:
        rate = make_schedule(
            schedule,
            learning_rate,
            decay_steps=decay_steps,
            decay_rate=decay_rate,
            staircase=staircase,
            steps_per_epoch=steps_per_epoch,
        )
        instance = make_optimizer(optimizer, rate, momentum)
    if isinstance(loss, str) and loss == "auto":
        loss = _default_loss(model)
    _check_loss(loss)
    _check_metrics(metrics)
    model.compile(optimizer=instance, loss=loss, metrics=metrics, **compile_kwargs)
    _remember_initial_state(model)
    return model


def _remember_initial_state(model: keras.Model) -> None:
    if not model.built:
        _initial_states.pop(model, None)
        return
    # Building the optimizer now (instead of at the first fit) lets us record
    # its initial slot values; Nadam's are not all zeros.
    model.optimizer.build(model.trainable_variables)
    _initial_states[model] = _InitialState(
        optimizer=model.optimizer,
        weights=[np.array(w, copy=True) for w in model.get_weights()],
        optimizer_values=[keras.ops.convert_to_numpy(v).copy() for v in model.optimizer.variables],
    )


def reset_training(model: keras.Model) -> keras.Model:
    """Restore the weights and optimizer state `kerastools.compile` recorded.

    The step counter goes back to 0 (so a schedule restarts), slot variables
    (momentum, rms, ...) go back to their initial values, and the weights to
    those at compile time. A second `fit` then reproduces the first one's
    learning-rate curve without rebuilding the model.

    Examples:
        >>> first = model.fit(x, y, epochs=2, shuffle=False, verbose=0).history["loss"]
        >>> _ = kerastools.reset_training(model)
        >>> second = model.fit(x, y, epochs=2, shuffle=False, verbose=0).history["loss"]
        >>> bool(np.allclose(first, second))
        True

    Raises:
        ConfigError: the model was not compiled with `kerastools.compile`
            while built, or was recompiled since.
    """
    state = _initial_states.get(model) if isinstance(model, keras.Model) else None
    if state is None:
        raise ConfigError(
            "Argument `model` has no recorded initial state: compile it with "
            "kerastools.compile(...) after it is built (models from build_mlp/build_cnn are). "
            f"Received: model={getattr(model, 'name', model)!r}"
        )
    if model.optimizer is not state.optimizer:
        raise ConfigError(
            "Argument `model` was recompiled after kerastools.compile, so its recorded state "
            "belongs to another optimizer; call kerastools.compile again."
        )
    model.set_weights(state.weights)
    for variable, value in zip(model.optimizer.variables, state.optimizer_values, strict=True):
        variable.assign(value)
    return model
