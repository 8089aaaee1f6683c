"""Loading a checkpoint into a model, and resuming training from the latest one.

Every array is checked before anything is assigned (`file_checks`): a
checkpoint of another architecture, or a crafted one, is refused naming the
variable and leaves the weights as they were.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from kerastools._validation import check_bool, check_path
from kerastools.checkpoints.file_checks import array_problem, elements_bound
from kerastools.checkpoints.files import NamedBuffer
from kerastools.checkpoints.keras_format import KerasWeightsFile, saved_optimizer, saved_weights
from kerastools.checkpoints.keras_sources import keras_candidates, loaded_record
from kerastools.checkpoints.legacy import CheckpointState
from kerastools.checkpoints.optimizers import (
    OptimizerState,
    apply_states,
    check_optimizer_config,
    check_states,
    optimizers_to_restore,
)
from kerastools.checkpoints.record import CheckpointInfo
from kerastools.checkpoints.selection import (
    Candidate,
    Contents,
    NoCheckpoint,
    NoIntactCheckpoint,
    Which,
    check_which,
    pick,
    warn_caller,
)
from kerastools.errors import CheckpointError, ConfigError, ConfigTypeError
from kerastools.learning_rates import model_optimizers

__all__ = ["load_checkpoint", "restore_latest", "restore_callback_states", "resume", "resumable_of"]

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
        c for c in callbacks
        if callable(getattr(c, "get_state", None)) and callable(getattr(c, "set_state", None))
    ]


def restore_callback_states(info: CheckpointInfo, callbacks: list[Any]) -> None:
    """`set_state` each callback with the state of its kind, in order within a kind."""
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for state in info.callback_states:
        by_kind.setdefault(state["kind"], []).append(state)
    for callback in callbacks:
        states = by_kind.get(type(callback).__name__)
        if states:
            callback.set_state(states.pop(0))
        else:
            logger.info("%s records no state for %s.", info.path, type(callback).__name__)


def _check_fits(
    what: str, source: Path, model: keras.Model, paths: list[str], arrays: list[np.ndarray],
    variables: Sequence[Any],
) -> None:
    """Raise CheckpointError naming the first variable whose count or shape differs."""
    prefix = f"Checkpoint {source} does not fit model {model.name!r}:"
    if len(arrays) != len(variables):
        current = [variable.path for variable in variables]
        only_model = [p for p in current if p not in paths][:5]
        only_saved = [p for p in paths if p not in current][:5]
        raise CheckpointError(
            f"{prefix} it holds {len(arrays)} {what} variables, the model has {len(variables)}. "
            f"Only in the model: {only_model}; only in the checkpoint: {only_saved}."
        )
    for saved_path, array, variable in zip(paths, arrays, variables, strict=True):
        if tuple(array.shape) != tuple(variable.shape):
            owner = variable.path.rsplit("/", 1)[0]
            where = f" (layer {owner!r})" if what == "weight" else ""
            raise CheckpointError(
                f"{prefix} {what} variable {variable.path!r}{where} has shape "
                f"{tuple(variable.shape)} in the model but {tuple(array.shape)} in the "
                f"checkpoint (saved as {saved_path!r})."
            )
        problem = array_problem(array, variable.dtype)
        if problem is not None:
            raise CheckpointError(
                f"{prefix} {what} variable {variable.path!r} ({variable.dtype}) cannot take "
                f"{saved_path!r} of the checkpoint: {problem}. Nothing was assigned."
            )


def _check_model(model: Any) -> keras.Model:
    if not isinstance(model, keras.Model):
        raise ConfigTypeError(f"Argument `model` must be a keras.Model. Received: model={model!r}")
    return model


def _not_built(model: keras.Model, detail: str) -> ConfigError:
    return ConfigError(
        "Argument `model` must be built (have its weights) before loading a checkpoint: "
        f"build it or call it on a batch first ({detail}). Received: model={model.name!r}"
    )


def _check_weights(model: keras.Model, info: CheckpointInfo, contents: Contents) -> None:
    """Raise CheckpointError when the file's weights do not fit `model` (shapes, counts)."""
    if isinstance(contents, CheckpointState):
        saved: tuple[list[str], list[Any]] | None = (contents.model_paths, contents.model_arrays)
    else:
        saved = saved_weights(contents, model)
    if saved is None:
        return  # layer names differ: Keras' own load decides (and is undone on failure)
    _check_fits("weight", info.path, model, *saved, model.weights)


def _ensure_built(model: keras.Model, info: CheckpointInfo, contents: Contents) -> None:
    """Build a model without weights from the recorded input shape; mark built one made of
    built sub-models (the VAE guide's), as Keras' loading does, without a call."""
    if model.weights:
        model.built = model.built or bool(model.layers) and all(layer.built for layer in model.layers)
        return
    if contents.build_config is None:
        raise _not_built(model, f"{info.path} records no input shape")
    try:
        model.build_from_config(contents.build_config)
    except Exception as error:  # noqa: BLE001 - any failure means: the user must build it
        raise _not_built(model, f"building it for {contents.build_config} failed: {error}") from None
    if not model.weights:
        raise _not_built(model, f"building it for {contents.build_config} made no weights")
    if isinstance(contents, KerasWeightsFile) and not model.built:
        _mark_built(model, contents.build_config)
    try:
        _check_weights(model, info, contents)
    except CheckpointError as error:
        raise _not_built(model, f"built for {contents.build_config}: {error}") from None


def _mark_built(model: keras.Model, build_config: dict[str, Any]) -> None:
    """Call once, in inference, a model `build_from_config` left unmarked: load_weights needs it."""
    shape = build_config.get("input_shape") or ()
    try:
        model(keras.ops.zeros([1 if n is None else int(n) for n in shape]), training=False)
    except Exception as error:  # noqa: BLE001 - any failure means: the user must build it
        raise _not_built(model, f"calling it on a batch of shape {shape} failed: {error}") from None


def _check_optimizers(
    info: CheckpointInfo, model: keras.Model, pairs: list[tuple[Any, OptimizerState]], choice: str
) -> list[Any]:
    """Class, hyper-parameters and shapes checked; return what `apply_states` needs."""
    befores = check_states(info.path, model, pairs, choice)
    for optimizer, state in pairs:
        try:
            _check_fits("optimizer", info.path, model, state.paths, state.arrays, optimizer.variables)
        except CheckpointError as error:
            raise CheckpointError(
                f"{error} The optimizer state was saved from {state.class_name or '?'}, the "
                f"model is compiled with {type(optimizer).__name__}; compile it like the saved run, "
                "or pass include_optimizer=False to load the weights only."
            ) from None
    return befores


def _apply(model: keras.Model, candidate: Candidate, include_optimizer: bool, choice: str) -> None:
    """Check every shape first, then assign: a refused checkpoint leaves the model as it was."""
    info, contents, data = candidate
    _check_weights(model, info, contents)
    pairs = optimizers_to_restore(model, _saved_states(contents)) if include_optimizer else []
    befores = _check_optimizers(info, model, pairs, choice)
    if isinstance(contents, KerasWeightsFile):
        _load_keras(model, info, data, pairs)
    else:
        for variable, array in zip(model.weights, contents.model_arrays, strict=True):
            variable.assign(array)
        for optimizer, state in pairs:
            for variable, array in zip(optimizer.variables, state.arrays, strict=True):
                variable.assign(array)
    apply_states(pairs, choice, befores)


def _saved_states(contents: Contents) -> dict[str, OptimizerState]:
    """The optimizers' states the file holds, by attribute (a Keras file's: shapes only)."""
    if isinstance(contents, CheckpointState):
        return contents.optimizers
    states = {}
    for name, class_name in contents.optimizer_classes.items():
        saved = saved_optimizer(contents, name)
        if saved is not None:
            states[name] = OptimizerState(
                class_name, *saved, contents.trains.get(name), contents.optimizer_configs.get(name)
            )
    return states


def _load_keras(
    model: keras.Model, info: CheckpointInfo, data: bytes, pairs: list[tuple[Any, OptimizerState]]
) -> None:
    """`model.load_weights` of the verified bytes; undone (and refused) when Keras fails part-way."""
    restored = {id(optimizer) for optimizer, _ in pairs}
    keep = [  # the variables of optimizers left out, put back after Keras' load
        v for o in model_optimizers(model).values() if id(o) not in restored for v in o.variables
    ]
    before = [np.array(v.numpy(), copy=True) for v in [*model.weights, *keep]]
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            model.load_weights(NamedBuffer(info.path.name, data))  # what was verified
    except Exception as error:  # noqa: BLE001 - any failure part-way is undone, then refused
        for variable, array in zip([*model.weights, *keep], before, strict=True):
            variable.assign(array)
        message = f"Checkpoint {info.path} does not fit model {model.name!r}: {error}"
        raise CheckpointError(message) from None
    for variable, array in zip(keep, before[len(model.weights):], strict=True):
        variable.assign(array)


def load_checkpoint(
    model: keras.Model, directory: str | os.PathLike[str], which: Which = "latest", *,
    include_optimizer: bool = True, optimizer_config: str = "check",
) -> CheckpointInfo:
    """Load a checkpoint of `directory` into `model` and return its record.

    A candidate whose size, SHA-256 or HDF5 structure is wrong is skipped
    with a warning naming it, and the next one is used. The optimizers'
    step counters and slots come back (a learning-rate schedule continues),
    those kept as attributes (GAN: `d_optimizer`, ...) each by its name. A
    model with no weights yet is built for the recorded input shape.
    `directory` may also be one of Keras' own checkpoints (a `.weights.h5`
    or `.keras` file: kind `"keras-file"`, epoch 0; a `BackupAndRestore`
    directory: kind `"keras-backup"`), for which `which` must be `"latest"`.

    Examples:
        >>> cb = kt.callbacks.PeriodicCheckpoint(tmp_path)
        >>> _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[cb])
        >>> fresh = kt.compile(kt.build_mlp(2, [8]), optimizer="rmsprop")
        >>> info = kt.checkpoints.load_checkpoint(fresh, tmp_path, which=1)
        >>> info.epoch, int(fresh.optimizer.iterations.numpy())
        (1, 2)
        >>> model.save(tmp_path / "keras.keras")  # or ModelCheckpoint's files
        >>> kt.checkpoints.load_checkpoint(fresh, tmp_path / "keras.keras").kind
        'keras-file'

    Args:
        model: a model of the saved architecture (built, or buildable from
            the recorded input shape).
        directory: the `PeriodicCheckpoint` directory, a Keras
            `.weights.h5` or `.keras` file, or a `BackupAndRestore` directory.
        which: `"latest"` (the last written, periodic or best), `"best"` (by
            the `save_best` metric), an epoch number, or `("min" | "max",
            metric)`, e.g. `("max", "val_accuracy")`. Defaults to `"latest"`.
        include_optimizer: also restore the optimizer state when the model
            is compiled and the file has it. Defaults to True.
        optimizer_config: when the recorded hyper-parameters differ from the
            compiled ones: `"check"` refuses, `"checkpoint"` takes the saved
            ones, `"current"` keeps yours. Defaults to `"check"`.

    Returns:
        The `CheckpointInfo` that was loaded.

    Raises:
        CheckpointError: no checkpoint matches `which`, all are damaged,
            `directory` cannot be read, or the architecture differs (naming
            the variable, its layer and both shapes).
        ConfigError: `which` is not an accepted form, or `model` has no
            weights and cannot be built for the recorded input shape.
    """
    model = _check_model(model)
    path = check_path("directory", directory)
    which = check_which(which)
    include_optimizer = check_bool("include_optimizer", include_optimizer)
    choice = check_optimizer_config(optimizer_config)
    return _load(model, path, which, include_optimizer, choice)


def _load(
    model: keras.Model, path: Path, which: Which, include_optimizer: bool, choice: str
) -> CheckpointInfo:
    """`load_checkpoint` with its arguments checked: the first intact candidate, loaded."""
    bound = elements_bound(model.weights)  # no dataset larger than the largest variable is read
    keras_files = keras_candidates(path, which, max_elements=bound)
    candidate = keras_files[0] if keras_files else next(pick(path, which, max_elements=bound))
    _ensure_built(model, candidate[0], candidate[1])
    _apply(model, candidate, include_optimizer, choice)
    return loaded_record(candidate[0], model, include_optimizer)


def resume(
    model: keras.Model, directory: str | os.PathLike[str], *,
    callbacks: Sequence[Any] | None = None, optimizer_config: str = "check",
) -> int:
    """Load the latest intact checkpoint and return the epoch to resume from.

    Pass the result as `initial_epoch` to `fit`: weights, optimizer state
    (step counter, schedule) and, with `callbacks`, the states
    `PeriodicCheckpoint(callbacks=...)` recorded come back (the n-th callback
    of a class gets the n-th state of that class; others start afresh). A
    mid-epoch checkpoint resumes at the start of its epoch. Returns 0 when
    there is no intact checkpoint (each damaged file gets a warning), so the
    same script starts and restarts training. A `BackupAndRestore` directory
    returns the epochs its metadata records, a single Keras file 0; their
    damage is an error, not a fresh start.

    Examples:
        >>> cb = kt.callbacks.PeriodicCheckpoint(tmp_path)
        >>> _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[cb])
        >>> fresh = kt.compile(kt.build_mlp(2, [8]), optimizer="rmsprop")
        >>> start = kt.checkpoints.resume(fresh, tmp_path)
        >>> start
        2
        >>> _ = fresh.fit(x, y, initial_epoch=start, epochs=4, verbose=0, callbacks=[cb])

    Args:
        model: a compiled model of the saved architecture, built or
            buildable from the recorded input shape (see `load_checkpoint`).
        directory: the `PeriodicCheckpoint` directory (it need not exist
            yet), a Keras file or a `BackupAndRestore` directory.
        callbacks: the callbacks of the resumed `fit` that get their state
            back; None for none. Defaults to None.
        optimizer_config: `"check"`, `"checkpoint"` or `"current"`, as in
            `load_checkpoint`. Defaults to `"check"`.

    Returns:
        The number of epochs already done, 0 for a fresh start.

    Raises:
        CheckpointError: the architecture or optimizer differs, or a Keras
            file or `BackupAndRestore` directory cannot be read.
        ConfigError: `model` is not compiled, or cannot be built.
    """
    model = _check_model(model)
    path = check_path("directory", directory)
    resumable = resumable_of(callbacks)
    choice = check_optimizer_config(optimizer_config)
    info = restore_latest(model, path, resumable, choice)
    return 0 if info is None else info.epoch


def restore_latest(
    model: keras.Model, path: Path, callbacks: list[Any], choice: str
) -> CheckpointInfo | None:
    """`resume` with its arguments checked: the record restored (weights, optimizer, callbacks'
    and training state all from it), None for a fresh start."""
    if not model_optimizers(model):
        raise ConfigError(
            "Argument `model` must be compiled before resume, so its optimizer state can be "
            f"restored. Received: model={model.name!r} (not compiled)"
        )
    try:
        info = _load(model, path, "latest", True, choice)
    except NoCheckpoint:
        logger.info("No checkpoint in %s: starting from epoch 0.", path)
        return None
    except NoIntactCheckpoint as error:
        warn_caller(f"{error} Starting from epoch 0.")
        return None
    if not info.includes_optimizer:
        warn_caller(
            f"Checkpoint {info.path} has no optimizer state (include_optimizer=False): the "
            "optimizer restarts at step 0, and so does its learning-rate schedule."
        )
    restore_callback_states(info, callbacks)
    logger.info("Resumed from %s (epoch %d, step %d).", info.path, info.epoch, info.step)
    return info
