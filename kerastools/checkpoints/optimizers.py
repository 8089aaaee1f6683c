"""A checkpoint's optimizers: their saved state, what they train, and whether they belong.

A model may train with several optimizers kept as attributes (the GAN
pattern; `kerastools.learning_rates.model_optimizers` says which). Each is
saved under its attribute name with the positions, in
`model.trainable_variables`, of the variables it updates, so loading can
build a fresh model's optimizer on the same variables before restoring it.

Whether a checkpoint's optimizer state belongs to the model's optimizer is
its class and hyper-parameters. Each kerastools weights file records, per optimizer, its class and the
config it was *compiled* with (`compiled_config`: remembered when a
`PeriodicCheckpoint` fit begins, or when a checkpoint is loaded into it,
so a learning rate a callback lowered during the run is state, not a
different configuration). Loading compares them with the model's
optimizer before anything is assigned: a different class (Adam's slots
into AdamW) is refused unless `include_optimizer=False`; different
hyper-parameters (a newly compiled `Adam(1e-5)` against a saved 0.01) are
refused unless `optimizer_config` says which to keep: `"checkpoint"` (the
saved ones: the learning rate comes back from the file, plain-number
hyper-parameters such as `beta_1` are set) or `"current"` (the compiled
ones: the slots and the step counter load, the learning rate is put back).
Files that record no config (older files, Keras' own) are compared by
class only, when they record it.

More examples:
    >>> saved = compiled_config(model.optimizer)
    >>> compare_optimizer(tmp_path / "f.weights.h5", "optimizer", model.optimizer,
    ...                   "RMSprop", saved, "check")
    >>> compare_optimizer(tmp_path / "f.weights.h5", "optimizer", model.optimizer,
    ...                   "Adam", saved, "check")
    Traceback (most recent call last):
    ...
    kerastools.errors.CheckpointError: Checkpoint .../f.weights.h5: the optimizer state was saved from Adam, ...
"""

from __future__ import annotations

import json
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
    "optimizer_step",
    "OPTIMIZER_CONFIG_CHOICES",
    "apply_choice",
    "apply_states",
    "before_load",
    "check_optimizer_config",
    "check_states",
    "compare_optimizer",
    "compiled_config",
    "optimizers_to_restore",
    "OptimizerState",
    "remember_compiled",
    "saved_state",
    "trained_positions",
]


@dataclass
class OptimizerState:
    """One optimizer's variables, in host memory.

    Examples:
        >>> state = saved_state(model.optimizer)
        >>> state.class_name, state.paths[0].endswith("/iteration"), state.trains is None
        ('RMSprop', True, True)
    """

    class_name: str
    paths: list[str]
    arrays: list[np.ndarray]
    # Positions in model.trainable_variables of what it updates; None: all of them.
    trains: list[int] | None = None
    # The config it was compiled with (`checkpoints.optimizers`); None: not recorded.
    config: dict[str, Any] | None = None


def saved_state(optimizer: keras.optimizers.Optimizer) -> OptimizerState:
    """`optimizer`'s class and variables now, as a checkpoint holds them (for the examples)."""
    variables = optimizer.variables
    return OptimizerState(
        type(optimizer).__name__, [v.path for v in variables],
        [np.array(keras.ops.convert_to_numpy(v)) for v in variables],
    )


def trained_positions(model: keras.Model, optimizer: keras.optimizers.Optimizer) -> list[int] | None:
    """Positions in `model.trainable_variables` of the variables `optimizer` was built on.

    Keras 3 has no public name for them; this is the one private read
    (`Optimizer._trainable_variables`), checked on Keras 3.15.1 and guarded
    by `tests/checkpoints/test_optimizer_state.py::test_private_trained_variables_still_exist`.
    None when the optimizer is not built or updates variables outside the model.

    Examples:
        >>> trained_positions(model, model.optimizer) == list(range(len(model.trainable_variables)))
        True
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

    An optimizer the model lacks (not compiled, no such attribute) is left
    out: the weights load alone. One that is not built yet is built on the
    variables it trained when it was saved (`trains`), or on all trainable
    variables, since Keras skips state it cannot match to built variables.

    Examples:
        >>> states = {"optimizer": saved_state(model.optimizer)}
        >>> [type(optimizer).__name__ for optimizer, _ in optimizers_to_restore(model, states)]
        ['RMSprop']
    """
    pairs = []
    for name, state in states.items():
        optimizer = getattr(model, name, None)
        if not isinstance(optimizer, keras.optimizers.Optimizer):
            continue  # not compiled, or without that attribute: weights only
        # Keras skips optimizer state it cannot match to built variables:
        # build first so the step counter really comes back.
        if not optimizer.built:
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
    """Validate the `optimizer_config` argument of `load_checkpoint` and `resume`.

    Examples:
        >>> check_optimizer_config("current")
        'current'
    """
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
    safe = _json_safe(config)
    json.dumps(safe, allow_nan=False)  # checks the conversion
    return safe


def remember_compiled(model: keras.Model) -> None:
    """Remember the configs `model`'s optimizers have now as the ones they were compiled with.

    An optimizer already remembered (an earlier fit, a loaded checkpoint) keeps its own.

    Examples:
        >>> remember_compiled(model)
        >>> compiled_config(model.optimizer)["class_name"]
        'RMSprop'
    """
    for optimizer in model_optimizers(model).values():
        if optimizer not in _REMEMBERED:
            _REMEMBERED[optimizer] = _config_now(optimizer)


def compiled_config(optimizer: keras.optimizers.Optimizer) -> dict[str, Any]:
    """The strict-JSON config `optimizer` was compiled with, with its `class_name`.

    Examples:
        >>> compiled_config(keras.optimizers.Adam(0.5))["learning_rate"]
        0.5
    """
    config = _REMEMBERED.get(optimizer) or _config_now(optimizer)
    return {"class_name": type(optimizer).__name__, **config}


def _differences(saved: Any, current: Any, where: str = "") -> list[str]:
    """Where two configs differ (`name` keys aside, numbers to float32 precision)."""
    if isinstance(saved, dict) and isinstance(current, dict):
        keys = sorted((set(saved) | set(current)) - _IGNORED - {"class_name" if not where else ""})
        return [
            difference
            for key in keys
            for difference in _differences(saved.get(key), current.get(key), f"{where}{key}.")
        ]
    if _plain_number(saved) and _plain_number(current):
        same = math.isclose(saved, current, rel_tol=1e-6, abs_tol=0.0)
    else:
        same = bool(saved == current)
    return [] if same else [f"{where[:-1]}: saved {_shown(saved)}, compiled now {_shown(current)}"]


def _shown(value: Any) -> str:
    """A number to float32 precision (0.01, not 0.009999999776482582); anything else as repr."""
    return f"{value:.7g}" if isinstance(value, float) else repr(value)


def _same(saved: Any, current: Any) -> bool:
    return not _differences(saved, current, ".")


def compare_optimizer(
    path: Path,
    attribute: str,
    optimizer: keras.optimizers.Optimizer,
    saved_class: str,
    saved_config: dict[str, Any] | None,
    choice: str,
) -> None:
    """Refuse a saved optimizer state of another class, or other hyper-parameters under `"check"`.

    Raises:
        CheckpointError: the class differs, (with `choice="check"`) a
            hyper-parameter does, or (with `"checkpoint"`) the learning-rate
            schedule does (a schedule is an object, not a value to load);
            the message names each and the way out.
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
        if (isinstance(saved_rate, dict) or isinstance(compiled_rate, dict)) and not _same(
            saved_rate, compiled_rate
        ):
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


def before_load(optimizer: keras.optimizers.Optimizer) -> tuple[dict[str, Any], Any]:
    """What `apply_choice` needs of `optimizer` from before a load: its compiled config and rate.

    Examples:
        >>> config, rate = before_load(keras.optimizers.Adam(0.5))
        >>> config["class_name"], rate
        ('Adam', 0.5)
    """
    config = compiled_config(optimizer)
    rate = _config_now(optimizer).get("learning_rate")
    return config, rate if _plain_number(rate) else None


def apply_choice(
    path: Path,
    optimizer: keras.optimizers.Optimizer,
    saved_config: dict[str, Any] | None,
    choice: str,
    before: tuple[dict[str, Any], Any],
) -> None:
    """After the state is loaded: keep the chosen hyper-parameters and remember them as compiled.

    `before` is `before_load(optimizer)`; with `"current"` its learning rate is
    put back (the load restored the saved one).

    Examples:
        >>> optimizer = keras.optimizers.Adam(0.5)
        >>> apply_choice(tmp_path, optimizer, {"beta_1": 0.5}, "checkpoint", before_load(optimizer))
        >>> optimizer.beta_1
        0.5
    """
    compiled, rate = before
    if choice != "checkpoint" or saved_config is None:
        if choice == "current" and rate is not None:
            optimizer.learning_rate = rate
        _REMEMBERED[optimizer] = {k: v for k, v in compiled.items() if k != "class_name"}
        return
    for key, value in saved_config.items():
        now = getattr(optimizer, key, None)
        if key != "learning_rate" and key in compiled and _plain_number(value) and _plain_number(now):
            setattr(optimizer, key, value)
    _REMEMBERED[optimizer] = {k: v for k, v in saved_config.items() if k != "class_name"}


def _plain_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_states(path: Path, model: keras.Model, pairs: list[tuple[Any, Any]], choice: str) -> list[Any]:
    """`compare_optimizer` for each (optimizer, saved state) pair; return their `before_load`.

    Examples:
        >>> pairs = [(model.optimizer, saved_state(model.optimizer))]
        >>> [config["class_name"] for config, _ in check_states(tmp_path, model, pairs, "check")]
        ['RMSprop']
    """
    names = {id(optimizer): name for name, optimizer in model_optimizers(model).items()}
    for optimizer, state in pairs:
        compare_optimizer(
            path, names.get(id(optimizer), "optimizer"), optimizer, state.class_name,
            state.config, choice,
        )
    return [before_load(optimizer) for optimizer, _ in pairs]


def apply_states(path: Path, pairs: list[tuple[Any, Any]], choice: str, befores: list[Any]) -> None:
    """`apply_choice` for each pair, after the state is loaded.

    Examples:
        >>> apply_states(tmp_path, [], "check", [])
    """
    for (optimizer, state), before in zip(pairs, befores, strict=True):
        apply_choice(path, optimizer, state.config, choice, before)


def optimizer_step(model: keras.Model) -> int:
    """The step counter of the (first) optimizer the model trains with; 0 without one.

    That is `optimizer.iterations`, except under gradient accumulation, where
    `iterations` is computed (updates: batches // accumulation steps, no
    variable behind it) and the step is the batch counter the schedule sees
    (`kerastools.learning_rates.schedule_step_counter`): step saves then
    fall on the same batches in a resumed run as in an uninterrupted one.

    Examples:
        >>> optimizer_step(model)
        0
    """
    optimizers = model_optimizers(model)
    if not optimizers:
        return 0
    optimizer = unwrap_optimizer(next(iter(optimizers.values())))
    return int(np.asarray(keras.ops.convert_to_numpy(schedule_step_counter(optimizer))))
