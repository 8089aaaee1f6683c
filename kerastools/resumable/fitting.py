"""`fit_resumable`: one call that trains, and after a kill continues the very run that was killed.

Keras cannot start `fit` in the middle of an epoch, so a resume from a
checkpoint taken mid-epoch runs two `fit` calls: the first finishes the
interrupted epoch on its remaining batches (with the metrics' totals of
the batches already done put back at its `on_epoch_begin`), the second
runs the following epochs; the kerastools callbacks' state goes from the
first to the second through `get_state()`/`set_state()`. The batches come
from `ResumableBatches`, whose order is a pure function of (seed, epoch),
and every checkpoint records the seed, the batch position, the seed
generators' states and the metrics' totals
(`kerastools.checkpoints.training_state`).

It lives in the training-utilities layer (it uses both `checkpoints` and
`callbacks`, and `checkpoints` may not import `callbacks`), exported as
`kerastools.fit_resumable` and `kerastools.resumable.fit_resumable`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import secrets
from collections.abc import Sequence
from typing import Any

import keras

from kerastools._validation import check_bool, check_int, check_path
from kerastools.callbacks.periodic_checkpoint import PeriodicCheckpoint
from kerastools.checkpoints.loading import restore_latest, resumable_of
from kerastools.checkpoints.optimizers import check_optimizer_config
from kerastools.checkpoints.training_state import restore_metrics, restore_random_state
from kerastools.errors import ConfigError, ConfigTypeError
from kerastools.resumable.batches import ResumableBatches

__all__ = ["fit_resumable"]

logger = logging.getLogger(__name__)

# fit() arguments that fit_resumable sets itself.
_RESERVED = (
    "x", "y", "batch_size", "epochs", "initial_epoch", "shuffle", "steps_per_epoch",
    "validation_split", "sample_weight", "class_weight",
)


class _RestoreMetrics(keras.callbacks.Callback):
    """Puts the metrics' totals of a mid-epoch checkpoint back at the start of its epoch.

    Keras resets the metrics before `on_epoch_begin`; every backend reads
    them after it (JAX when the first batch begins).
    """

    def __init__(self, state: dict[str, Any]) -> None:
        super().__init__()
        self._state = state

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        if epoch == self._state["epoch"]:
            restore_metrics(self.model, self._state)


class _KeepTrainedWeights(keras.callbacks.Callback):
    """Undoes Keras' end-of-`fit` averaging after the `fit` that finishes an interrupted epoch.

    With `use_ema=True` Keras writes the moving averages into the model when
    `fit` ends; the first of a resume's two `fit` calls is not the run's end,
    so the trained weights (read at its last epoch end) go back before the next.
    """

    def __init__(self) -> None:
        super().__init__()
        self._trained: list[Any] = []

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        self._trained = [keras.ops.convert_to_numpy(v) for v in self.model.trainable_weights]

    def put_back(self) -> None:
        for variable, value in zip(self.model.trainable_weights, self._trained, strict=False):
            variable.assign(value)


def _build_metrics(model: keras.Model, data: ResumableBatches, state: dict[str, Any]) -> None:
    """Build the compiled metrics on one batch if they are not yet (TF builds them in `fit`'s
    first step, after `on_epoch_begin`), so their totals can be put back; `fit` resets them."""
    if len(model.metrics_variables) == len(state["metrics"]):
        return
    batch = data[0]
    if len(batch) > 1:
        model.compute_metrics(batch[0], batch[1], model(batch[0], training=False))


def _build_before_fit(model: keras.Model, data: ResumableBatches) -> None:
    """Build the model, its compiled loss and metrics on one batch, so Keras' build step reads none.

    Keras builds what is unbuilt at the start of `fit` on a batch it reads
    from the dataset; when a `PyDataset`'s workers load the batches
    (`workers` > 1 or `use_multiprocessing`), JAX and torch then train each
    epoch as [1, 2, ..., 0] (a Keras bug, docs/troubleshooting.md). Built
    here, Keras reads nothing early. The variables that existed before are
    put back, so the call draws nothing from the run's seed generators.
    """
    if data.workers <= 1 and not data.use_multiprocessing:
        return
    existing = [(variable, keras.ops.convert_to_numpy(variable)) for variable in model.variables]
    x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data[0])
    try:
        y_pred = model(x, training=False)
        if y is not None:
            model.compute_loss(x, y, y_pred, sample_weight, training=False)
            model.compute_metrics(x, y, y_pred, sample_weight)
    except Exception as error:  # noqa: BLE001 - e.g. a model without call(): Keras builds it its way
        logger.warning("fit_resumable could not build %s on a batch before fit (%s); on JAX and torch "
                       "Keras may then train each epoch's first batch last (docs/troubleshooting.md).",
                       model.name, error)
    for variable, value in existing:
        variable.assign(value)


@dataclasses.dataclass
class _Start:
    epoch: int = 0
    batches: int = 0
    seed: int = 0
    stopped: bool = False
    state: dict[str, Any] | None = None


def _start(model: keras.Model, directory: Any, callbacks: list[Any], seed: int | None) -> _Start:
    """Load the latest checkpoint (as `resume` does) and say where the run continues."""
    info = restore_latest(model, directory, callbacks, check_optimizer_config("check"))
    epoch = 0 if info is None else info.epoch
    state = None if info is None else info.training_state  # from the record that was loaded
    if state is None:
        if info is not None:
            logger.info("%s records no training state: resuming at epoch %d.", info.path, epoch)
        return _Start(epoch=epoch, seed=seed if seed is not None else secrets.randbits(31))
    restore_random_state(model, state)
    recorded = state["data_seed"]
    if seed is not None and recorded is not None and seed != recorded:
        raise ConfigError(
            f"Argument `seed` differs from the seed {recorded} that the run in {directory} "
            f"shuffled with; pass seed={recorded} (or None) to continue it. Received: seed={seed}"
        )
    if recorded is None:
        recorded = seed if seed is not None else secrets.randbits(31)
    return _Start(state["epoch"], state["batches"], recorded, bool(state["stopped"]), state)


def _merge(model: keras.Model, histories: list[keras.callbacks.History]) -> keras.callbacks.History:
    """One `History` of the epochs of every `fit` in order."""
    merged = keras.callbacks.History()
    merged.set_model(model)
    merged.epoch, merged.history = [], {}
    for history in histories:
        merged.set_params(history.params)
        merged.epoch += list(history.epoch)
        for key, values in history.history.items():
            merged.history.setdefault(key, []).extend(values)
    return merged


def _check_call(model: Any, callbacks: Any, fit_kwargs: dict[str, Any]) -> list[Any]:
    if not isinstance(model, keras.Model):
        raise ConfigTypeError(f"Argument `model` must be a keras.Model. Received: model={model!r}")
    reserved = sorted(set(fit_kwargs) & set(_RESERVED))
    if reserved:
        raise ConfigError(
            f"fit_resumable sets {reserved} itself (the batches come from ResumableBatches); "
            f"pass x, y, batch_size, epochs and shuffle to it. Received: {reserved}"
        )
    if callbacks is None:
        return []
    if not isinstance(callbacks, Sequence) or isinstance(callbacks, str):
        raise ConfigTypeError(
            f"Argument `callbacks` must be a list of callbacks. Received: callbacks={callbacks!r}"
        )
    return list(callbacks)


def fit_resumable(
    model: keras.Model,
    x: Any,
    y: Any = None,
    *,
    directory: str | os.PathLike[str],
    epochs: int = 1,
    batch_size: int | None = None,
    seed: int | None = None,
    shuffle: bool = True,
    callbacks: Sequence[keras.callbacks.Callback] | None = None,
    every_epochs: int | None = 1,
    every_steps: int | None = None,
    every_seconds: float | None = None,
    keep_last: int | None = None,
    save_best: str | None = None,
    verbose: Any = "auto",
    **fit_kwargs: Any,
) -> keras.callbacks.History:
    """`model.fit` with checkpoints in `directory`; run it again after a kill and it continues exactly.

    On a directory without checkpoints it trains as `fit` would, with a
    `PeriodicCheckpoint(directory, ...)` after your callbacks. On one with
    checkpoints it loads the latest (weights, optimizer and schedule, the
    seed generators' states, your kerastools callbacks' state) and
    continues at the next batch of the interrupted epoch, with the batch
    order and the metrics' running totals of the interrupted run: the
    weights at the end are those of a run that was never interrupted, bit
    for bit where the backend is deterministic. A run a callback stopped,
    or one that reached `epochs`, is not trained further.

    The batch order of epoch `e` is a function of (`seed`, `e`)
    (`ResumableBatches`). `seed=None` draws a seed for a new run and, on a
    resume, takes the recorded one. The model's initial weights are yours
    to make reproducible (`keras.utils.set_random_seed` before building);
    `fit_resumable` changes no global seed. What is not exact: a
    `PyDataset` that reshuffles itself or draws from a global generator,
    non-kerastools callbacks with state (they start afresh at each `fit`
    call: one at a resume mid-epoch, one after it), and random ops drawn
    from Keras' global seed generator in a custom `train_step`.

    Examples:
        >>> history = kt.fit_resumable(model, x, y, directory=tmp_path, epochs=2,
        ...                            batch_size=4, seed=0, verbose=0)
        >>> history.epoch
        [0, 1]
        >>> kt.fit_resumable(model, x, y, directory=tmp_path, epochs=3, batch_size=4,
        ...                  verbose=0).epoch  # the seed comes from the checkpoint
        [2]

    Args:
        model: a compiled model (the same architecture on every run).
        x: NumPy arrays or a `keras.utils.PyDataset` of known length.
        y: the targets for arrays; None for a `PyDataset`. Defaults to None.
        directory: the checkpoint directory (created at the start).
        epochs: the epoch to train up to, as in `fit`. Defaults to 1.
        batch_size: samples per batch for arrays (None: 32); None for a
            `PyDataset`. Defaults to None.
        seed: the seed of the batch order; None draws one for a new run.
            Defaults to None.
        shuffle: shuffle the samples (arrays) or batches (a `PyDataset`)
            each epoch. Defaults to True.
        callbacks: your callbacks; those with `get_state()`/`set_state()`
            get their state recorded and restored. Defaults to None.
        every_epochs: as in `PeriodicCheckpoint`. Defaults to 1.
        every_steps: as in `PeriodicCheckpoint`. Defaults to None.
        every_seconds: as in `PeriodicCheckpoint`. Defaults to None.
        keep_last: as in `PeriodicCheckpoint`. Defaults to None.
        save_best: as in `PeriodicCheckpoint`. Defaults to None.
        verbose: as in `fit`. Defaults to `"auto"`.
        **fit_kwargs: other `fit` arguments (`validation_data`,
            `validation_freq`, ...).

    Returns:
        A `keras.callbacks.History` of the epochs this call ran (empty when
        none were left).

    Raises:
        ConfigError: `fit_kwargs` names an argument this function sets, or
            `seed` differs from the one the directory's run recorded.
        ConfigTypeError: an argument of the wrong type.
        CheckpointError: the checkpoint does not fit `model`.
    """
    user = _check_call(model, callbacks, fit_kwargs)
    path = check_path("directory", directory)
    epochs = check_int("epochs", epochs, low=1)
    seed = None if seed is None else check_int("seed", seed, low=0)
    shuffle = check_bool("shuffle", shuffle)
    stateful = resumable_of(user)
    ResumableBatches(x, y, batch_size=batch_size, shuffle=shuffle)  # checks the data now
    start = _start(model, path, stateful, seed)
    histories = []
    fit_kwargs["verbose"] = verbose

    def run(first: int, last: int, batch: int, extra: list[Any]) -> None:
        data = ResumableBatches(x, y, batch_size=batch_size, seed=start.seed,
                                shuffle=shuffle, start_epoch=first, start_batch=batch)
        _build_before_fit(model, data)
        if extra:
            _build_metrics(model, data, start.state or {})
        checkpoint = PeriodicCheckpoint(
            path, every_epochs=every_epochs, every_steps=every_steps, every_seconds=every_seconds,
            keep_last=keep_last, save_best=save_best, callbacks=stateful, data=data,
        )
        histories.append(model.fit(
            data, initial_epoch=first, epochs=last, shuffle=False, **fit_kwargs,
            callbacks=[data.follow_epochs(), *extra, *user, checkpoint],
        ))

    epoch = start.epoch
    if start.stopped or epoch >= epochs:
        return _merge(model, histories)
    if start.batches and start.state is not None:
        keep = _KeepTrainedWeights()
        run(epoch, epoch + 1, start.batches, [_RestoreMetrics(start.state), keep])
        epoch += 1
        if getattr(model.optimizer, "use_ema", False) and epoch < epochs and not model.stop_training:
            keep.put_back()
        if model.stop_training or epoch >= epochs:
            return _merge(model, histories)
        for callback, state in [(c, c.get_state()) for c in stateful]:
            callback.set_state(state)
    run(epoch, epochs, 0, [])  # the run's end: Keras' own averaging (use_ema) stays
    return _merge(model, histories)
