"""`TensorBoardLogger`: TensorBoard event files on every backend, without TensorFlow.

Keras' own `keras.callbacks.TensorBoard` imports `tensorflow.summary` on
every backend. This callback writes the same layout through the
`tensorboard` package alone (`kerastools.tensorboard_writer`), plus what
kerastools knows beyond Keras: the learning rate per batch, the epoch time
and throughput `EpochTimer` logs, the stop reason, and the run's facts.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import keras
import numpy as np

from kerastools._validation import check_path
from kerastools.callbacks import run_facts
from kerastools.callbacks.state import ResumableCallbackState
from kerastools.callbacks.threshold_stopping import stopper_of
from kerastools.checkpoints import is_chief
from kerastools.errors import ConfigError, ConfigTypeError
from kerastools.learning_rates import (
    learning_rate_logs,
    model_optimizers,
    rate_source,
    rates_at,
    schedule_step_counter,
)
from kerastools.log_keys import is_learning_rate
from kerastools.tensorboard_events import RUNS, require_tensorboard
from kerastools.tensorboard_writer import EventFile, trim_events

__all__ = ["TensorBoardLogger"]

logger = logging.getLogger(__name__)

_BATCH_PREFIX = "batch_"


def _check_update_freq(update_freq: Any) -> str | int:
    if update_freq in ("epoch", "batch"):
        return "epoch" if update_freq == "epoch" else 1
    if isinstance(update_freq, int) and not isinstance(update_freq, bool) and update_freq >= 1:
        return update_freq
    raise ConfigError(
        "Argument `update_freq` must be 'epoch', 'batch' or a number of batches >= 1. "
        f"Received: update_freq={update_freq!r}"
    )


def _scalars(logs: dict[str, Any]) -> dict[str, float]:
    """The entries of `logs` that are one number (per-class arrays and strings left out)."""
    found = {}
    for key, value in logs.items():
        if type(value) in (float, int):  # what Keras hands callbacks, nearly always
            found[key] = float(value)
            continue
        array = np.asarray(value) if not isinstance(value, (str, bytes)) else None
        if array is not None and array.ndim == 0 and array.dtype.kind in "biuf":
            found[key] = float(array)
    return found


def _facts_markdown(model: keras.Model, params: dict[str, Any] | None) -> str:
    """The run's facts as Markdown: a table of the headline ones, then all of them as JSON."""
    settings = run_facts.compile_settings(model)
    versions = run_facts.versions()
    optimizer = settings.get("optimizer") or {}
    rate = (optimizer.get("config") or {}).get("learning_rate")
    devices = run_facts.device_summary() or {}
    facts = {
        "parameters": f"{model.count_params():,}" if model.built else "not built",
        "optimizer": optimizer.get("class"),
        "learning rate": json.dumps(rate) if isinstance(rate, dict) else (
            f"{rate:.6g}" if isinstance(rate, float) else rate),
        "loss": settings.get("loss"),
        "metrics": ", ".join(settings.get("metrics") or []),
        "backend": f"{versions['backend']} {versions['backend_version']}",
        "devices": ", ".join(
            f"{device.get('kind')} {device.get('name')}" for device in devices.get("logical_devices") or []
        ),
        "keras / kerastools / python": f"{versions['keras']} / {versions['kerastools']} / {versions['python']}",
    }
    table = "\n".join(f"| {name} | {value} |" for name, value in facts.items())
    everything = run_facts.json_safe(
        {"compile": settings, "fit": run_facts.fit_settings(params), "versions": versions, "devices": devices}
    )
    return (
        f"| fact | value |\n| --- | --- |\n{table}\n\n```json\n{json.dumps(everything, indent=2)}\n```"
    )


class TensorBoardLogger(ResumableCallbackState, keras.callbacks.Callback):
    """Write TensorBoard event files, laid out as `keras.callbacks.TensorBoard` lays them out, on any backend.

    `log_dir/train/` and `log_dir/validation/` get one `epoch_<key>` scalar
    per number in `logs` at each epoch end, at step = the epoch index (from
    0), the `val_` prefix dropped under `validation/`: TensorBoard, W&B,
    ClearML, Aim and MLflow read the directory like one Keras' callback
    wrote. Placed after `LearningRateLogger` and `EpochTimer` (as
    `kt.callbacks.standard(tensorboard=...)` places it), that includes the
    learning rate, `epoch_time_s` and `samples_per_s`; without a
    `LearningRateLogger` it logs `epoch_learning_rate` itself, as Keras does.

    With `update_freq="batch"` or an integer N, `train/` also gets
    `batch_<metric>` (Keras' running mean over the epoch) and
    `batch_learning_rate` (the rate that step's update used) every N
    optimizer steps, at step = the optimizer step. Per-batch writing makes
    Keras call the callbacks after every batch, as its own callback does.

    Also written, as text (Markdown): `run_facts` when training starts (model
    size, optimizer and schedule, loss, metrics, devices, versions, the
    `fit` settings) and `stop_reason` when a `ThresholdEarlyStopping` ends
    training.

    Writing needs the `tensorboard` package only (`pip install
    "kerastools[tensorboard]"`), never TensorFlow. Every record is handed to
    the operating system as it is written: a killed run leaves files
    TensorBoard reads up to the last epoch end, or batch, that was logged.

    A resumed run continues the same curves: `get_state()` records the
    epochs logged; after `set_state` (which `kt.checkpoints.resume` and
    `kt.fit_resumable` call), the next `fit` first drops what the killed
    run logged after its checkpoint (epochs from the checkpoint's, batch
    steps after the restored optimizer step), so no step is written twice or
    goes backwards. Place it before `PeriodicCheckpoint` in the callback
    list, so each checkpoint records the epoch it logged. Only the chief
    process (`kt.checkpoints.is_chief`) writes.

    Examples:
        >>> logger = kt.callbacks.TensorBoardLogger(tmp_path / "logs")
        >>> history = model.fit(x, y, validation_split=0.25, epochs=2, verbose=0, callbacks=[logger])
        >>> sorted(path.name for path in (tmp_path / "logs").iterdir())
        ['train', 'validation']
        >>> from kerastools.tensorboard_events import epoch_history
        >>> np.float32(epoch_history(tmp_path / "logs")["val_loss"]).tolist() == np.float32(
        ...     history.history["val_loss"]).tolist()
        True

        Every 10 optimizer steps too: `TensorBoardLogger("logs", update_freq=10)`.

    Args:
        log_dir: the run's directory (`train/` and `validation/` go in it).
        update_freq: `"epoch"` writes at epoch ends only; `"batch"` also
            every optimizer step; an integer N every N steps. Defaults to
            `"epoch"`.

    Raises:
        ConfigError: a bad `update_freq`, or the `tensorboard` package is
            not installed (the message names the extra).
        ConfigTypeError: `log_dir` is not a path.
    """

    def __init__(self, log_dir: str | os.PathLike[str], *, update_freq: str | int = "epoch"):
        super().__init__()
        self.log_dir: Path = check_path("log_dir", log_dir)
        self.update_freq = _check_update_freq(update_freq)
        require_tensorboard("TensorBoardLogger")
        if self.update_freq != "epoch":
            # Only then a batch hook: Keras dispatches callbacks without waiting
            # for each batch while no callback overrides on_train_batch_end.
            self.on_train_batch_end = self._log_batch  # type: ignore[method-assign]
        self._files: dict[str, EventFile] = {}
        self._epochs_done = 0
        self._last_epoch: int | None = None
        self._reset()

    def _reset(self) -> None:
        self._chief = True
        self._started = False
        self._trim_before: int | None = None
        self._step = 0
        self._epoch_step = 0
        self._steps_per_epoch: int | None = None
        self._constant_rate: float | None = None
        self._rate_optimizer: keras.optimizers.Optimizer | None = None

    # -- state ---------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        """The number of epochs logged so far, as a JSON-safe dict.

        Examples:
            >>> logger = kt.callbacks.TensorBoardLogger(tmp_path / "logs")
            >>> _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[logger])
            >>> logger.get_state()
            {'kind': 'TensorBoardLogger', 'epochs': 2}
        """
        return {"kind": type(self).__name__, "epochs": self._epochs_done}

    def _apply_state(self, state: dict[str, Any]) -> None:
        epochs = state.get("epochs")
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
            raise ConfigTypeError(
                "Argument `state` must hold `epochs` (an integer >= 0), as get_state() writes. "
                f"Received: state={state!r}"
            )
        self._epochs_done = epochs
        self._trim_before = epochs

    # -- hooks ---------------------------------------------------------------

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._reset()
        self._chief = is_chief()
        self._resume_pending()
        self._step = self._read_step()
        steps = (self.params or {}).get("steps")
        self._steps_per_epoch = steps if isinstance(steps, int) and steps > 0 else None
        if self.update_freq != "epoch":
            optimizers = list(model_optimizers(self.model).values())
            if len(optimizers) == 1:
                self._rate_optimizer = getattr(optimizers[0], "inner_optimizer", optimizers[0])

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if not self._started:
            self._start(epoch)
        self._epoch_step = self._step
        self._constant_rate = None

    def _start(self, epoch: int) -> None:
        """The first epoch of this `fit`: trim what a killed run logged after the checkpoint, write the facts."""
        self._started = True
        if self._last_epoch is not None and epoch <= self._last_epoch and self._trim_before is None:
            logger.warning(
                "TensorBoardLogger: this fit starts at epoch %d, but %s already holds epoch %d from "
                "the last fit; TensorBoard will draw the curves going back. Pass initial_epoch=%d to "
                "continue the run, or use a new log_dir.", epoch + 1, self.log_dir, self._last_epoch + 1,
                self._last_epoch + 2,
            )
        if self._trim_before is not None and epoch < self._trim_before:
            logger.warning(
                "TensorBoardLogger: resumed after epoch %d, but this fit starts at epoch %d; "
                "TensorBoard will draw the curves going back. Pass initial_epoch=%d (what "
                "kt.checkpoints.resume returns).", self._trim_before, epoch + 1, self._trim_before,
            )
        if not self._chief:
            return
        if self._trim_before is not None:
            self._trim(self._trim_before, self._step)
        self._file("train").text(epoch, "run_facts", _facts_markdown(self.model, self.params))

    def _log_batch(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        done = batch + 1
        if self._steps_per_epoch is not None:
            done = min(done, self._steps_per_epoch)  # steps_per_execution's last chunk overshoots
        step = self._epoch_step + done
        if not self._chief or step <= self._step or step % int(self.update_freq) != 0:
            return
        self._step = step
        values = {f"{_BATCH_PREFIX}{key}": value for key, value in _scalars(logs or {}).items()}
        rate = self._batch_rate(step)
        if rate is not None:
            values[f"{_BATCH_PREFIX}learning_rate"] = rate
        self._file("train").scalars(step, values)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epochs_done = epoch + 1
        self._last_epoch = epoch
        if self.update_freq != "epoch":
            self._step = self._read_step()
        if not self._chief:
            return
        values = _scalars(logs or {})
        if not any(is_learning_rate(key) for key in values):
            values.update(learning_rate_logs(self.model))
        by_run: dict[str, dict[str, float]] = {run: {} for run in RUNS}
        for key, value in values.items():
            validation = key.startswith("val_")
            by_run["validation" if validation else "train"][f"epoch_{key[4:] if validation else key}"] = value
        for run, chosen in by_run.items():
            if chosen:
                self._file(run).scalars(epoch, chosen)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        stopper = stopper_of(self.model) if self._chief else None
        if stopper is not None and stopper.stopped_epoch > 0:
            self._file("train").text(
                stopper.stopped_epoch - 1,
                "stop_reason",
                f"**{stopper.stopping_reason.name}**: {stopper.stopping_message}",
            )
        self.close()

    def close(self) -> None:
        """Close the event files (the next `fit` opens new ones)."""
        files, self._files = self._files, {}
        for events in files.values():
            events.close()

    # -- helpers -------------------------------------------------------------

    def _file(self, run: str) -> EventFile:
        if run not in self._files:
            self._files[run] = EventFile(self.log_dir / run)
        return self._files[run]

    def _trim(self, epochs: int, step: int) -> None:
        """Drop the epochs from `epochs` on and the batch steps after `step` that an earlier process logged."""

        def keep(event: Any) -> bool:
            for value in event.summary.value:
                limit_ok = event.step <= step if value.tag.startswith(_BATCH_PREFIX) else event.step < epochs
                if not limit_ok:
                    return False
            return True

        dropped = sum(trim_events(self.log_dir / run, keep) for run in RUNS)
        if dropped:
            logger.info(
                "TensorBoardLogger: resumed at epoch %d, step %d: dropped %d events %s logged after the "
                "checkpoint.", epochs + 1, step, dropped, self.log_dir,
            )

    def _read_step(self) -> int:
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None:
            return 0
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        return int(keras.ops.convert_to_numpy(schedule_step_counter(optimizer)))

    def _batch_rate(self, step: int) -> float | None:
        """The rate the update of `step` (counted from 1) used; None with several optimizers."""
        optimizer = self._rate_optimizer
        if optimizer is None:
            return None
        source = rate_source(optimizer)
        if isinstance(source, keras.optimizers.schedules.LearningRateSchedule):
            dtype = keras.backend.standardize_dtype(schedule_step_counter(optimizer).dtype)
            return float(rates_at(source, np.array([step - 1]), dtype)[0])
        if self._constant_rate is None:  # one read per epoch: a callback may change it at epoch begin
            self._constant_rate = next(iter(learning_rate_logs(self.model).values()))
        return self._constant_rate
