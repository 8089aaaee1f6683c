"""A checkpoint's optimizers: their saved state, what they train, and whether they belong.

Each optimizer (the compiled one, and those kept as attributes: the GAN
pattern) is saved under its attribute name with the positions, in
`model.trainable_variables`, of the variables it trains, so loading builds
a fresh model's optimizer on the same variables. Each file also records its
class and the config it was *compiled* with (`compiled_config`: remembered
when a fit begins or a checkpoint is loaded, so a learning rate a callback
lowered is state, not config). Loading refuses another class unless
`include_optimizer=False`, and other hyper-parameters unless
`optimizer_config` is `"checkpoint"` (the saved ones) or `"current"` (the
compiled ones; slots and step counter still load). Files without a config
are compared by class only.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from kerastools.errors import CheckpointError, ConfigError
from kerastools.learning_rates import model_optimizers, schedule_step_counter, unwrap_optimizer

__all__ = [
    "OPTIMIZER_CONFIG_CHOICES", "OptimizerState", "apply_states", "check_optimizer_config",
    "check_states", "compare_optimizer", "compiled_config", "optimizer_step",
    "optimizers_to_restore", "remember_compiled", "trained_positions",
]


@dataclass
class OptimizerState:
    """One optimizer's saved variables (values, or shape-only arrays of a Keras file)."""

    class_name: str
    paths: list[str]
    arrays: list[np.ndarray]
    # Positions in model.trainable_variables of what it updates; None: all of them.
    trains: list[int] | None = None
    # The config it was compiled with (`checkpoints.optimizers`); None: not recorded.
    config: dict[str, Any] | None = None


def trained_positions(model: keras.Model, optimizer: keras.optimizers.Optimizer) -> list[int] | None:
    """Positions in `model.trainable_variables` of the variables `optimizer` was built on.

    None when it is not built or updates variables outside the model. Keras has
    no public name for them: the one private read (`Optimizer._trainable_variables`),
    guarded by `tests/checkpoints/test_optimizer_state.py::test_private_trained_variables_still_exist`.
    """
    if not optimizer.built:
        return None
    inner = getattr(optimizer, "inner_optimizer", optimizer)  # LossScaleOptimizer
    positions = {id(variable): index for index, variable in enumerate(model.trainable_variables)}
    try:
        return [positions[id(variable)] for variable in inner._trainable_variables]
    except KeyError:
        return None


def optimizers_to_restore(
    model: keras.Model, states: dict[str, OptimizerState]
) -> list[tuple[keras.optimizers.Optimizer, OptimizerState]]:
    """Each saved optimizer that the model has (compiled, or an attribute), built, with its state.

    One the model lacks is left out (the weights load alone). One not built
    is built on the variables it trained (`trains`), or on all trainable ones.
    """
    pairs = []
    for name, state in states.items():
        optimizer = getattr(model, name, None)
        if not isinstance(optimizer, keras.optimizers.Optimizer):
            continue  # not compiled, or without that attribute: weights only
        if not optimizer.built:  # Keras skips state it cannot match to built variables
            variables = model.trainable_variables
            if state.trains is not None:
                variables = [variables[index] for index in state.trains if index < len(variables)]
            optimizer.build(variables)
        pairs.append((optimizer, state))
    return pairs

OPTIMIZER_CONFIG_CHOICES = ("check", "checkpoint", "current")
_IGNORED = {"name"}  # Keras numbers default names ("adam_1"): not a hyper-parameter
_REMEMBERED: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def check_optimizer_config(value: Any) -> str:
    """The `optimizer_config` argument of `load_checkpoint` and `resume`, checked."""
    if not isinstance(value, str) or value not in OPTIMIZER_CONFIG_CHOICES:
        raise ConfigError(
            "Argument `optimizer_config` must be one of "
            f"{', '.join(map(repr, OPTIMIZER_CONFIG_CHOICES))}. Received: optimizer_config={value!r}"
        )
    return value


def _json_safe(value: Any) -> Any:
    """`value` as strict JSON: numbers as floats/ints, non-finite and unknown objects as text."""
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    if value is None or isinstance(value, bool | str):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return repr(value)
    if not math.isfinite(number):
        return repr(number)
    return int(number) if isinstance(value, int) else number


def _config_now(optimizer: keras.optimizers.Optimizer) -> dict[str, Any]:
    try:
        config = optimizer.get_config()
    except (TypeError, ValueError, NotImplementedError, AttributeError) as error:
        return {"get_config failed": repr(error)}
    return _json_safe(config)


def remember_compiled(model: keras.Model) -> None:
    """Remember `model`'s optimizers' configs now as compiled (one already remembered keeps its own)."""
    for optimizer in model_optimizers(model).values():
        if optimizer not in _REMEMBERED:
            _REMEMBERED[optimizer] = _config_now(optimizer)


def compiled_config(optimizer: keras.optimizers.Optimizer) -> dict[str, Any]:
    """The strict-JSON config `optimizer` was compiled with, with its `class_name`."""
    config = _REMEMBERED.get(optimizer) or _config_now(optimizer)
    return {"class_name": type(optimizer).__name__, **config}


def _differences(saved: Any, current: Any, where: str = "") -> list[str]:
    """Where two configs differ (`name` keys aside, numbers to float32 precision)."""
    if isinstance(saved, dict) and isinstance(current, dict):
        keys = sorted((set(saved) | set(current)) - _IGNORED - {"class_name" if not where else ""})
        return [d for k in keys for d in _differences(saved.get(k), current.get(k), f"{where}{k}.")]
    if _plain_number(saved) and _plain_number(current):
        same = math.isclose(saved, current, rel_tol=1e-6, abs_tol=0.0)
    else:
        same = bool(saved == current)
    return [] if same else [f"{where[:-1]}: saved {_shown(saved)}, compiled now {_shown(current)}"]


def _shown(value: Any) -> str:
    """A number to float32 precision (0.01, not 0.009999999776482582); anything else as repr."""
    return f"{value:.7g}" if isinstance(value, float) else repr(value)


def compare_optimizer(
    path: Path, attribute: str, optimizer: keras.optimizers.Optimizer, saved_class: str,
    saved_config: dict[str, Any] | None, choice: str,
) -> None:
    """Refuse a saved optimizer state of another class, or other hyper-parameters under `"check"`.

    Raises:
        CheckpointError: the class differs, a hyper-parameter does (`"check"`),
            or the learning-rate schedule does (`"checkpoint"`: a schedule is
            an object, not a value to load); the message names the way out.
    """
    current = type(optimizer).__name__
    if saved_class and saved_class != current:
        raise CheckpointError(
            f"Checkpoint {path}: the optimizer state was saved from {saved_class}, the model is "
            f"compiled with {current} (model.{attribute}): its slots would go into another "
            f"algorithm. Compile the model with {saved_class}, or pass include_optimizer=False to "
            "load the weights only."
        )
    if saved_config is None or choice == "current":
        return
    compiled = compiled_config(optimizer)
    saved_rate, compiled_rate = saved_config.get("learning_rate"), compiled.get("learning_rate")
    if choice == "checkpoint":
        schedules = isinstance(saved_rate, dict) or isinstance(compiled_rate, dict)
        if schedules and _differences(saved_rate, compiled_rate, "."):  # ".": class_name counts
            raise CheckpointError(
                f"Checkpoint {path} was saved with the learning rate {saved_rate!r}; "
                f"model.{attribute} is compiled with {compiled_rate!r}. Compile it with the "
                "saved schedule to continue it, or pass optimizer_config=\"current\" to keep yours."
            )
        return
    differences = _differences(saved_config, compiled)
    if differences:
        raise CheckpointError(
            f"Checkpoint {path} was saved with other hyper-parameters for model.{attribute} "
            f"({current}): {'; '.join(differences)}. Pass optimizer_config=\"checkpoint\" to "
            "continue with the saved ones, optimizer_config=\"current\" to keep the ones "
            "compiled now (the slots and step counter still load), or include_optimizer=False "
            "to load the weights only."
        )


def _plain_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_states(path: Path, model: keras.Model, pairs: list[tuple[Any, Any]], choice: str) -> list[Any]:
    """`compare_optimizer` for each (optimizer, saved state) pair; return what `apply_states`
    needs: each one's compiled config and plain-number learning rate before the load."""
    names = {id(optimizer): name for name, optimizer in model_optimizers(model).items()}
    befores = []
    for optimizer, state in pairs:
        attribute = names.get(id(optimizer), "optimizer")
        compare_optimizer(path, attribute, optimizer, state.class_name, state.config, choice)
        rate = _config_now(optimizer).get("learning_rate")
        befores.append((compiled_config(optimizer), rate if _plain_number(rate) else None))
    return befores


def apply_states(pairs: list[tuple[Any, Any]], choice: str, befores: list[Any]) -> None:
    """After the load, keep the chosen hyper-parameters (`"current"`: the learning rate from
    before is put back; `"checkpoint"`: saved plain numbers are set); remember them as compiled."""
    for (optimizer, state), (compiled, rate) in zip(pairs, befores, strict=True):
        kept = compiled
        if choice == "checkpoint" and state.config is not None:
            kept = state.config
            for key, value in kept.items():
                now = getattr(optimizer, key, None)
                if key != "learning_rate" and key in compiled and _plain_number(value) and _plain_number(now):
                    setattr(optimizer, key, value)
        elif choice == "current" and rate is not None:
            optimizer.learning_rate = rate
        _REMEMBERED[optimizer] = {k: v for k, v in kept.items() if k != "class_name"}


def optimizer_step(model: keras.Model) -> int:
    """The step counter of the (first) optimizer the model trains with; 0 without one.

    Under gradient accumulation, the batch counter the schedule sees
    (`schedule_step_counter`), not `iterations`: step saves then fall on the
    same batches in a resumed run as in an uninterrupted one.
    """
    optimizers = model_optimizers(model)
    if not optimizers:
        return 0
    optimizer = unwrap_optimizer(next(iter(optimizers.values())))
    return int(np.asarray(keras.ops.convert_to_numpy(schedule_step_counter(optimizer))))
