"""Time each epoch and measure training throughput, as metrics in `logs`.

Instead of a stopwatch around `fit`, training speed becomes a logged metric
that reaches `History`, `CSVLogger` and `TensorBoard` like any other.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import keras

from kerastools.log_keys import THROUGHPUT_KEY, TIME_KEY

__all__ = ["EpochTimer"]

logger = logging.getLogger(__name__)



class EpochTimer(keras.callbacks.Callback):
    """Write `epoch_time_s` and `samples_per_s` into `logs` at every epoch end.

    `epoch_time_s` is the wall time of the whole epoch, validation included
    (what the epoch costs). `samples_per_s` is training throughput: training
    samples divided by the training part of the epoch, up to the start of
    validation. Both are measured on the host at epoch boundaries; nothing runs
    per batch.

    The sample count is the one Keras' own `train_step` accumulates in the
    compiled loss tracker (the batch size of every step, the short last batch
    included), read once per epoch. Keras tells callbacks nothing about batch
    sizes, and a custom `train_step` updates whatever trackers it likes (the
    Keras guides' pattern counts one per batch), so for a model with its own
    `train_step` no count is trusted: `samples_per_s` is left out of `logs`
    and a warning saying so is logged once per `fit`.

    Examples:
        >>> history = model.fit(x, y, batch_size=16, epochs=2,
        ...                     callbacks=[kt.callbacks.EpochTimer()], verbose=0)
        >>> sorted(key for key in history.history if key != "loss")
        ['epoch_time_s', 'samples_per_s']
    """

    def __init__(self) -> None:
        super().__init__()
        self._epoch_start: float | None = None
        self._train_end: float | None = None
        self._samples: float | None = None
        self._warned = False

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._epoch_start = None
        self._warned = False

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._train_end = None
        self._samples = None
        self._epoch_start = time.perf_counter()

    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        # Validation inside fit: the training part of the epoch ends here.
        if self._epoch_start is not None and self._train_end is None:
            self._mark_train_end()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._epoch_start is None:
            return  # on_epoch_begin never ran: nothing to time
        if self._train_end is None:
            self._mark_train_end()
        now = time.perf_counter()
        start, train_end = self._epoch_start, self._train_end
        self._epoch_start = None
        if logs is None:
            return
        logs[TIME_KEY] = now - start
        train_time = (train_end if train_end is not None else now) - start
        if self._samples is not None and train_time > 0:
            logs[THROUGHPUT_KEY] = self._samples / train_time

    def _mark_train_end(self) -> None:
        # Reading the count waits for the device to finish the epoch's steps,
        # so the clock is read after it.
        self._samples = self._count_samples()
        self._train_end = time.perf_counter()

    def _count_samples(self) -> float | None:
        if has_custom_train_step(self.model):
            self._warn_once(
                f"EpochTimer: {type(self.model).__name__} has its own train_step, whose sample "
                f"count Keras does not report to callbacks, so {THROUGHPUT_KEY!r} is left out "
                "of the logs (epoch_time_s is still logged)."
            )
            return None
        count = getattr(keras_loss_tracker(self.model), "count", None)
        samples = float(keras.ops.convert_to_numpy(count)) if count is not None else 0.0
        if samples > 0:
            return samples
        self._warn_once(
            f"EpochTimer: the model was not compiled with a loss, so no training samples were "
            f"counted and {THROUGHPUT_KEY!r} is left out of the logs."
        )
        return None

    def _warn_once(self, message: str) -> None:
        if not self._warned:
            self._warned = True
            logger.warning("%s", message)


def has_custom_train_step(model: Any) -> bool:
    """Whether `model`'s class defines its own `train_step` instead of Keras' one.

    Examples:
        >>> has_custom_train_step(keras.Sequential())
        False
    """
    train_step = getattr(type(model), "train_step", None)
    return train_step is not None and train_step is not keras.Model.train_step


def keras_loss_tracker(model: keras.Model) -> keras.metrics.Metric | None:
    """The `Mean` metric `compile` adds to track the loss; it counts the batch size of every step.

    Keras 3 names it only privately. This is the one private read; checked on
    Keras 3.15.1, guarded by
    `tests/callbacks/test_epoch_timer.py::test_private_loss_tracker_still_exists`.

    Examples:
        >>> keras_loss_tracker(model).name
        'loss'
    """
    return getattr(model, "_loss_tracker", None)
