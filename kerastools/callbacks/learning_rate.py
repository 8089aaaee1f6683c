"""Log the learning rate in effect, per epoch into `logs` and optionally per optimizer step.

The value comes from the optimizer itself (a constant, a `LearningRateSchedule`,
a callable, or any of them inside a `LossScaleOptimizer`), so it is the rate
the optimizer really uses, the same on every worker of a distribution strategy.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import keras
import numpy as np

from kerastools._console import print_msg
from kerastools._validation import check_choice, check_int, check_name
from kerastools.errors import ConfigError
from kerastools.learning_rates import (
    current_learning_rate,
    rate_source,
    rates_at,
    schedule_step_counter,
    unwrap_optimizer,
)
from kerastools.log_keys import STEP_KEY

__all__ = ["LearningRateLogger"]

logger = logging.getLogger(__name__)

Per = Literal["epoch", "batch"]



class LearningRateLogger(keras.callbacks.Callback):
    """Write the learning rate and the optimizer step into `logs` at every epoch end.

    At the end of each epoch, `logs[key]` gets the learning rate the optimizer
    reports there (the rate its next update will use, what
    `optimizer.learning_rate` returns) and `logs["iterations"]` the optimizer
    step it belongs to, so both reach `History`, `CSVLogger` and `TensorBoard`.
    For a schedule, `logs[key] == schedule(logs["iterations"])`.

    With `per="batch"`, `batch_history` also holds one `(step, learning_rate)`
    pair per optimizer step: the rate that step's update used. Nothing runs per
    batch: the callback reads the optimizer's step counter at epoch boundaries
    only and evaluates the schedule over the steps in between when
    `batch_history` is read, in one vectorised call. Training keeps Keras'
    asynchronous batch dispatch, and JAX never has to sync its state mid-epoch.

    The step counter is the one the schedule is evaluated at
    (`kerastools.learning_rates.schedule_step_counter`); it equals
    `optimizer.iterations` unless gradient accumulation is on, where it counts
    batches.

    Examples:
        >>> logger = kt.callbacks.LearningRateLogger(per="batch")
        >>> history = model.fit(x, y, batch_size=32, epochs=2, callbacks=[logger], verbose=0)
        >>> history.history["learning_rate"], history.history["iterations"]
        ([0.001, 0.001], [2, 4])
        >>> len(logger.batch_history), logger.batch_history[-1]
        (4, (3, 0.001))

    Args:
        per: `"epoch"` logs one value per epoch; `"batch"` also fills
            `batch_history` with one entry per optimizer step.
            Defaults to `"epoch"`.
        key: the `logs` key for the learning rate. Defaults to `"learning_rate"`.
        verbose: 1 prints one line per epoch, e.g.
            `epoch 3: learning_rate=7.58e-05 (step 2814)`. Defaults to 0.

    Attributes:
        history: the learning rate at each epoch end of the last `fit`.
        batch_history: `(step, learning_rate)` per optimizer step of the last
            `fit` (only with `per="batch"`).

    Raises:
        ConfigError: a bad argument; at the start of `fit`, a model that is not
            compiled, or `per="batch"` with a callable learning rate (it takes
            no step, so it cannot be evaluated for past steps; use a
            `LearningRateSchedule` or `per="epoch"`).
    """

    def __init__(self, *, per: Per = "epoch", key: str = "learning_rate", verbose: int = 0):
        super().__init__()
        self.per: Per = check_choice("per", per, ["epoch", "batch"])  # type: ignore[assignment]
        self.key = str(check_name("key", key, allow_none=False))
        if self.key == STEP_KEY:
            raise ConfigError(
                f"Argument `key` must differ from {STEP_KEY!r}, which holds the optimizer "
                f"step. Received: key={key!r}"
            )
        self.verbose = check_int("verbose", verbose, low=0)
        self.history: list[float] = []
        self._batch_history: list[tuple[int, float]] = []
        # Step ranges [begin, end) whose per-step rates are not evaluated yet,
        # with the constant rate for optimizers without a schedule.
        self._pending: list[tuple[int, int, float | None]] = []
        self._optimizer: keras.optimizers.Optimizer | None = None
        self._rate: Any = None
        self._step = 0
        self._epoch_constant: float | None = None
        # Set at train begin: whether the per-batch hook has anything to do.
        self._watch_first_batch = False

    @property
    def batch_history(self) -> list[tuple[int, float]]:
        """`(step, learning_rate)` for every optimizer step so far (`per="batch"`)."""
        if self._pending:
            pending, self._pending = self._pending, []
            for begin, end, constant in pending:
                steps = np.arange(begin, end)
                rates = (
                    np.full(len(steps), constant)
                    if constant is not None
                    else rates_at(self._rate, steps, self._step_dtype())
                )
                self._batch_history.extend(zip(steps.tolist(), rates.tolist(), strict=True))
        return self._batch_history

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._optimizer = unwrap_optimizer(self.model)
        self._rate = rate_source(self._optimizer)
        if self.per == "batch" and self._is_callable_rate():
            raise ConfigError(
                "LearningRateLogger(per='batch') needs a learning rate it can evaluate at past "
                "steps (a float or a LearningRateSchedule), but the optimizer has a callable "
                "taking no step. Use per='epoch', or express the rule as a "
                f"keras.optimizers.schedules.LearningRateSchedule. Received: {self._rate!r}"
            )
        self.history = []
        self._batch_history = []
        self._pending = []
        self._step = self._read_step()
        self._epoch_constant = None
        self._watch_first_batch = self.per == "batch" and self._is_constant_rate()

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        # A constant rate may be changed by other callbacks' on_epoch_begin
        # (LearningRateScheduler); by the first batch they have all run.
        if self._watch_first_batch and self._epoch_constant is None:
            self._epoch_constant = self._read_constant()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        step = self._read_step()
        rate = self._rate_at(step)
        if self.per == "batch" and step > self._step:
            constant = None
            if self._is_constant_rate():
                constant = rate if self._epoch_constant is None else self._epoch_constant
            self._pending.append((self._step, step, constant))
        self._step = step
        self._epoch_constant = None
        self.history.append(rate)
        if logs is not None:
            logs[self.key] = rate
            logs[STEP_KEY] = step
        if self.verbose:
            print_msg(f"epoch {epoch + 1}: {self.key}={rate:.3g} (step {step})")

    def _is_schedule(self) -> bool:
        return isinstance(self._rate, keras.optimizers.schedules.LearningRateSchedule)

    def _is_constant_rate(self) -> bool:
        return isinstance(self._rate, keras.Variable)

    def _is_callable_rate(self) -> bool:
        return callable(self._rate) and not self._is_schedule() and not self._is_constant_rate()

    def _counter(self) -> Any:
        return schedule_step_counter(self._require_optimizer())

    def _read_step(self) -> int:
        return int(keras.ops.convert_to_numpy(self._counter()))

    def _step_dtype(self) -> str:
        return keras.backend.standardize_dtype(self._counter().dtype)

    def _read_constant(self) -> float:
        return float(keras.ops.convert_to_numpy(self._rate))

    def _rate_at(self, step: int) -> float:
        if self._is_schedule():
            # A 0-d step, as the optimizer passes it, so the value matches its own.
            rate = self._rate(np.asarray(step, self._step_dtype()))
            return float(keras.ops.convert_to_numpy(rate))
        if self._is_constant_rate():
            return self._read_constant()
        return current_learning_rate(self._require_optimizer())

    def _require_optimizer(self) -> keras.optimizers.Optimizer:
        if self._optimizer is None:
            self._optimizer = unwrap_optimizer(self.model)
            self._rate = rate_source(self._optimizer)
        return self._optimizer
