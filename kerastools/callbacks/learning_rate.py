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
from kerastools.callbacks.state import ResumableCallbackState, decode_floats, encode_floats
from kerastools.errors import ConfigError, ConfigTypeError
from kerastools.learning_rates import (
    COMPILED_OPTIMIZER,
    current_learning_rate,
    model_optimizers,
    rate_source,
    rates_at,
    schedule_step_counter,
    unwrap_optimizer,
)
from kerastools.log_keys import STEP_KEY

__all__ = ["LearningRateLogger"]

logger = logging.getLogger(__name__)

Per = Literal["epoch", "batch"]


class _RateTrack:
    """One optimizer's rate source and step counter, and the steps not evaluated yet."""

    def __init__(self, optimizer: keras.optimizers.Optimizer, rate_key: str, step_key: str):
        self.optimizer = unwrap_optimizer(optimizer)
        self.rate = rate_source(self.optimizer)
        self.rate_key, self.step_key = rate_key, step_key
        self.history: list[float] = []
        self.batch_history: list[tuple[int, float]] = []
        # Step ranges [begin, end) whose per-step rates are not evaluated yet,
        # with the constant rate for optimizers without a schedule.
        self.pending: list[tuple[int, int, float | None]] = []
        self.step = self.read_step()
        self.epoch_constant: float | None = None

    def is_schedule(self) -> bool:
        return isinstance(self.rate, keras.optimizers.schedules.LearningRateSchedule)

    def is_constant_rate(self) -> bool:
        return isinstance(self.rate, keras.Variable)

    def is_callable_rate(self) -> bool:
        return callable(self.rate) and not self.is_schedule() and not self.is_constant_rate()

    def read_step(self) -> int:
        return int(keras.ops.convert_to_numpy(schedule_step_counter(self.optimizer)))

    def step_dtype(self) -> str:
        return keras.backend.standardize_dtype(schedule_step_counter(self.optimizer).dtype)

    def read_constant(self) -> float:
        return float(keras.ops.convert_to_numpy(self.rate))

    def rate_at(self, step: int) -> float:
        if self.is_schedule():
            # A 0-d step, as the optimizer passes it, so the value matches its own.
            rate = self.rate(np.asarray(step, self.step_dtype()))
            return float(keras.ops.convert_to_numpy(rate))
        if self.is_constant_rate():
            return self.read_constant()
        return current_learning_rate(self.optimizer)

    def epoch_end(self, per_batch: bool) -> tuple[float, int]:
        """The rate and step now; with `per_batch`, the steps since the last call are pending."""
        step = self.read_step()
        rate = self.rate_at(step)
        if per_batch and step > self.step:
            constant = None
            if self.is_constant_rate():
                constant = rate if self.epoch_constant is None else self.epoch_constant
            self.pending.append((self.step, step, constant))
        self.step = step
        self.epoch_constant = None
        self.history.append(rate)
        return rate, step

    def evaluated_batch_history(self) -> list[tuple[int, float]]:
        pending, self.pending = self.pending, []
        for begin, end, constant in pending:
            steps = np.arange(begin, end)
            rates = (
                np.full(len(steps), constant)
                if constant is not None
                else rates_at(self.rate, steps, self.step_dtype())
            )
            self.batch_history.extend(zip(steps.tolist(), rates.tolist(), strict=True))
        return self.batch_history


class LearningRateLogger(ResumableCallbackState, keras.callbacks.Callback):
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

    A model that trains with several optimizers kept as attributes (the GAN
    pattern, `compile(d_optimizer=..., g_optimizer=...)`; the rule is
    `kerastools.learning_rates.model_optimizers`) gets one pair of keys per
    optimizer, named after the attribute: `learning_rate_d_optimizer` and
    `iterations_d_optimizer`, and so on; `histories` and `batch_histories`
    hold each one's values. A model with one optimizer keeps the plain keys.

    The step counter is the one the schedule is evaluated at
    (`kerastools.learning_rates.schedule_step_counter`); it equals
    `optimizer.iterations` unless gradient accumulation is on, where it counts
    batches.

    `get_state()` and `set_state(state)` (`kerastools.callbacks.state`) carry
    `history` and `histories` across a restart: after `set_state`, the next
    `fit` continues them, so a resumed run's `history` has one entry per
    epoch since the first run began. `batch_history` is not part of the
    state: after a restart it starts at the resumed step. The same logger
    passed to a `fit` that continues the last one (`initial_epoch` > 0, a
    notebook re-fit) continues its `history` the same way; from epoch 0 it
    starts afresh.

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
        history: the learning rate at each epoch end of the last `fit` (of
            the first optimizer, when there are several), preceded by the
            values of the state `set_state` gave it.
        batch_history: `(step, learning_rate)` per optimizer step of the last
            `fit` (only with `per="batch"`; the first optimizer's).
        histories: `history` of each optimizer, by its `logs` key.
        batch_histories: `batch_history` of each optimizer, by its `logs` key.

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
        self._tracks: list[_RateTrack] = []
        # Set at train begin: whether the per-batch hook has anything to do.
        self._watch_first_batch = False

    @property
    def history(self) -> list[float]:
        """The learning rate at each epoch end of the last `fit` (the first optimizer's)."""
        return self._tracks[0].history if self._tracks else []

    @property
    def histories(self) -> dict[str, list[float]]:
        """Each optimizer's rate at each epoch end of the last `fit`, by `logs` key."""
        return {track.rate_key: track.history for track in self._tracks}

    @property
    def batch_history(self) -> list[tuple[int, float]]:
        """`(step, learning_rate)` for every optimizer step so far (`per="batch"`)."""
        return self._tracks[0].evaluated_batch_history() if self._tracks else []

    @property
    def batch_histories(self) -> dict[str, list[tuple[int, float]]]:
        """`batch_history` of each optimizer, by `logs` key (`per="batch"`)."""
        return {track.rate_key: track.evaluated_batch_history() for track in self._tracks}

    def get_state(self) -> dict[str, Any]:
        """Each optimizer's per-epoch rates so far, as a JSON-safe dict.

        `set_state` of this dict before a resumed `fit` makes `history` and
        `histories` continue from these values. Per-batch rates are not part
        of the state.

        Examples:
            >>> logger = kt.callbacks.LearningRateLogger()
            >>> _ = model.fit(x, y, epochs=2, callbacks=[logger], verbose=0)
            >>> logger.get_state()
            {'kind': 'LearningRateLogger', 'histories': {'learning_rate': [0.001, 0.001]}}
            >>> resumed = kt.callbacks.LearningRateLogger()
            >>> resumed.set_state(logger.get_state())
            >>> _ = model.fit(x, y, initial_epoch=2, epochs=3, callbacks=[resumed], verbose=0)
            >>> len(resumed.history)
            3
        """
        return {
            "kind": type(self).__name__,
            "histories": {key: encode_floats(values) for key, values in self.histories.items()},
        }

    def _apply_state(self, state: dict[str, Any]) -> None:
        histories = state.get("histories")
        if not isinstance(histories, dict):
            raise ConfigTypeError(
                "Argument `state` must hold `histories` (a dict of lists), as get_state() "
                f"writes. Received: state={state!r}"
            )
        tracks = {track.rate_key: track for track in self._tracks}
        if set(histories) != set(tracks):
            raise ConfigError(
                f"The saved state logged {sorted(histories)}, this callback logs "
                f"{sorted(tracks)}. Received: state={state!r}"
            )
        for key, values in histories.items():
            tracks[key].history[:0] = decode_floats(values, f"histories[{key!r}]")

    def _trim_state(self, state: dict[str, Any], epoch: int) -> dict[str, Any]:
        histories = state["histories"]
        return {**state, "histories": {key: values[:epoch] for key, values in histories.items()}}

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._keep_last_run()  # a re-fit from initial_epoch > 0 continues it (on_epoch_begin)
        self._tracks = self._make_tracks()
        self._resume_pending()
        for track in self._tracks:
            if self.per == "batch" and track.is_callable_rate():
                raise ConfigError(
                    "LearningRateLogger(per='batch') needs a learning rate it can evaluate at "
                    "past steps (a float or a LearningRateSchedule), but the optimizer has a "
                    "callable taking no step. Use per='epoch', or express the rule as a "
                    "keras.optimizers.schedules.LearningRateSchedule. "
                    f"Received: {track.rate!r}"
                )
        self._watch_first_batch = self.per == "batch" and any(
            track.is_constant_rate() for track in self._tracks
        )

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._continue_run(epoch)

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        # A constant rate may be changed by other callbacks' on_epoch_begin
        # (LearningRateScheduler); by the first batch they have all run.
        if not self._watch_first_batch:
            return
        for track in self._tracks:
            if track.is_constant_rate() and track.epoch_constant is None:
                track.epoch_constant = track.read_constant()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if not self._tracks:
            self._tracks = self._make_tracks()
        for track in self._tracks:
            rate, step = track.epoch_end(self.per == "batch")
            if logs is not None:
                logs[track.rate_key] = rate
                logs[track.step_key] = step
            if self.verbose:
                print_msg(f"epoch {epoch + 1}: {track.rate_key}={rate:.3g} (step {step})")

    def _make_tracks(self) -> list[_RateTrack]:
        """One track per optimizer; a model with one keeps the plain keys."""
        optimizers = model_optimizers(self.model)
        if not optimizers:
            unwrap_optimizer(self.model)  # raises: not compiled
        if list(optimizers) == [COMPILED_OPTIMIZER]:
            return [_RateTrack(optimizers[COMPILED_OPTIMIZER], self.key, STEP_KEY)]
        return [
            _RateTrack(optimizer, f"{self.key}_{name}", f"{STEP_KEY}_{name}")
            for name, optimizer in optimizers.items()
        ]
