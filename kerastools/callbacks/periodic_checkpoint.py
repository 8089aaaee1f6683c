"""Save weights every N epochs, steps or seconds, and at Ctrl-C/SIGTERM; keep the last k and the best, never half-written.

What Keras' `ModelCheckpoint` lacks: a period in epochs, optimizer steps or
seconds, a last save when the run is interrupted, pruning to the last k files, the optimizer state in the file (so a resumed
learning-rate schedule continues), atomic writes, and beside each file a
record of its metrics, size and checksum. Read the directory back with
`kerastools.checkpoints`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import keras

from kerastools._console import print_msg
from kerastools._validation import check_bool, check_int, check_path
from kerastools.callbacks.checkpoint_periods import best_monitor, check_periods
from kerastools.callbacks.interruption import InterruptionGuard
from kerastools.callbacks.monitor import Mode, MonitorCallback
from kerastools.callbacks.state import resumable_callbacks
from kerastools.callbacks.step_counting import StepCounter
from kerastools.checkpoints import is_chief
from kerastools.checkpoints.archive import check_save_format, file_suffix
from kerastools.checkpoints.optimizers import optimizer_step, remember_compiled
from kerastools.checkpoints.record import Kind
from kerastools.checkpoints.store import CheckpointStore
from kerastools.checkpoints.training_state import capture, check_resumable_data
from kerastools.errors import CheckpointError

__all__ = ["PeriodicCheckpoint"]

_STEP_FILE = "step-{step:08d}"  # + suffix; the optimizer step read at the save fills it in


class PeriodicCheckpoint(keras.callbacks.Callback):
    """Save the weights (and optimizer state) every N epochs, steps or seconds, and when stopped.

    Files are named so they sort in time order: `epoch-0005.weights.h5` or
    `step-00012000.weights.h5`. `keep_last=k` deletes older periodic files so
    exactly k remain; `save_best="val_loss"` keeps a separate
    `best.weights.h5` that pruning never touches. Each file's record
    (`epoch-0005.weights.h5.json`) holds the epoch, step, the metrics in
    `logs` at that moment, the wall time, size and SHA-256: read them with
    `kerastools.checkpoints.list_checkpoints` to choose the epoch that
    generalised best, and load with `load_checkpoint` or `resume`.

    Every file is written to a temporary file in the directory, fsynced and
    renamed over its target, then its record the same way (the record is the
    commit), so a kill at any moment (even mid-save) leaves the previous
    checkpoints intact; leftovers of an interrupted write are removed at the
    next `on_train_begin`. Under a distribution strategy only
    the chief (`kerastools.checkpoints.is_chief`) writes; other workers never
    touch the directory.

    A save blocks training only while it copies the state to host memory; a
    writer thread builds the file, writes it durably and then its record
    (`kerastools.checkpoints.record`), while training goes on (one write at
    a time: the next save waits for it). Everything is on disk when `fit`
    returns, and Ctrl-C or SIGTERM flush the writer before they stop the
    run. A kill while a write runs falls back to the save before it: at
    most two periods are lost. With `background=False` a save returns once
    its file and record are on disk (at most one period lost). A write that
    fails raises `CheckpointError` at the next save or at the end of `fit`.
    File names and the record's `step` are the optimizer's step counter read at the save; the
    `every_steps` period is counted in batches on the host
    (`kerastools.callbacks.step_counting`), and a step save due at an
    epoch's last batch is recorded as the finished epoch. `save_best` is
    judged at epoch ends, where validation metrics exist. The callback is
    reusable across `fit` calls: its state (best value, files) comes from the
records at each `on_train_begin`. One writer per directory: it is locked from then on
    until `fit` ends (another writer's `CheckpointError` names this one's pid and host).

    Keras gives a callback no access to the others of its `fit`, so the
    callbacks whose state each checkpoint records are named: with
    `callbacks=[stopper, plot]`, every save also writes their `get_state()`
    (`kerastools.callbacks.state`) into the file's record, and
    `kerastools.checkpoints.resume(model, directory, callbacks=...)` gives
    it back to the callbacks of the resumed run. List the checkpoint after
    them in `fit(callbacks=...)`, so they have seen the epoch it saves
    (`kerastools.callbacks.standard` does). Each record also holds the
    training state (`kerastools.checkpoints.training_state`): the batches
    done in the running epoch, the seed generators' states and, mid-epoch,
    the metrics' totals, which `kerastools.fit_resumable` puts back.

    `every_seconds=600` adds a save whenever 600 s of wall time have passed
    since the last save (or the start of `fit`), read between batches (when
    the next one begins) and at epoch ends; only the save syncs the device.

    Ctrl-C (SIGINT) or SIGTERM during `fit` is held back until the running
    step ends: when the next batch begins (or at the epoch end, or the end
    of `fit`), one last `step-...` file is written at that step (unless the
    latest save is at it), the background writer is flushed, and the signal
    goes again to the handler that was there before: Ctrl-C raises
    `KeyboardInterrupt` out of `fit`, SIGTERM ends the process (status 143)
    or runs your handler. A second signal before then acts at once, without
    the save. Handlers are installed at `on_train_begin` on the chief in the
    main thread only, never over an ignored signal, and put back at
    `on_train_end` or at the delivery; when `fit` fails with another
    exception (Keras then calls no callback), they stay until the next
    `fit` ends. SIGKILL cannot be caught.

    Examples:
        >>> checkpoint = kt.callbacks.PeriodicCheckpoint(
        ...     tmp_path, every_epochs=2, keep_last=2, save_best="val_loss")
        >>> _ = model.fit(x, y, validation_split=0.25, epochs=6, verbose=0,
        ...               callbacks=[checkpoint])
        >>> sorted(path.name for path in tmp_path.iterdir())
        ['best.weights.h5', 'best.weights.h5.json', 'epoch-0004.weights.h5',
         'epoch-0004.weights.h5.json', 'epoch-0006.weights.h5', 'epoch-0006.weights.h5.json']

        Every 500 optimizer steps instead (a long epoch survives a crash too):

        >>> checkpoint = kt.callbacks.PeriodicCheckpoint(tmp_path / "steps", every_steps=500)

        Every ten minutes of training, and no epoch saves:

        >>> checkpoint = kt.callbacks.PeriodicCheckpoint(
        ...     tmp_path / "timed", every_epochs=None, every_seconds=600)

        Full `.keras` archives, which `keras.models.load_model` opens:

        >>> checkpoint = kt.callbacks.PeriodicCheckpoint(tmp_path / "keras", save_format="keras")
        >>> _ = model.fit(x, y, epochs=1, verbose=0, callbacks=[checkpoint])
        >>> loaded = keras.models.load_model(tmp_path / "keras" / "epoch-0001.keras", safe_mode=True)
        >>> int(loaded.optimizer.iterations) == int(model.optimizer.iterations)
        True

        With the stopper's state in every checkpoint, for `resume`:

        >>> stopper = kt.callbacks.ThresholdEarlyStopping("loss", threshold=0.01)
        >>> checkpoint = kt.callbacks.PeriodicCheckpoint(tmp_path / "with", callbacks=[stopper])
        >>> _ = model.fit(x, y, epochs=1, verbose=0, callbacks=[stopper, checkpoint])
        >>> [state["kind"] for state in kt.checkpoints.list_checkpoints(tmp_path / "with")[-1].callback_states]
        ['ThresholdEarlyStopping']

    Args:
        directory: where the files and their records go; created at the
            start of training.
        every_epochs: save after every this many epochs. Ignored (and must
            stay at its default) when `every_steps` is given. Defaults to 1.
        every_steps: save after every this many training batches (counted on the host from the
            optimizer's step counter at the start of `fit`) instead of epochs; under
            `steps_per_execution`, at the first execution boundary at or after each multiple. Defaults to None.
        every_seconds: also save once this many seconds of wall time have
            passed since the last save (with `every_epochs` or
            `every_steps`, or alone). Defaults to None.
        keep_last: keep only the newest this many periodic files (the best
            file is kept apart); None keeps all. Defaults to None.
        save_best: a key of the epoch `logs` (e.g. `"val_loss"`) whose best
            value is kept in `best.weights.h5`; None keeps no best file.
            Defaults to None.
        mode: `"min"`, `"max"` or `"auto"` (inferred from the name), for
            `save_best` only. Defaults to `"auto"`.
        include_optimizer: also save the optimizer's step counter and slot
            variables, so a resumed run continues its schedule exactly.
            Defaults to True.
        background: write each file on the writer thread while training
            goes on (True), or wait at each save until it is on disk (False:
            slower, a kill loses at most one period instead of two).
            Defaults to True.
        verbose: 1 prints a line per file at the save, e.g.
            `PeriodicCheckpoint: epoch 3 (step 240): saved ckpt/epoch-0003.weights.h5`
            (epochs counted from 1). Defaults to 0.
        callbacks: the callbacks (with `get_state()` and `set_state()`)
            whose state goes into every checkpoint's record; None records
            none. Defaults to None.
        data: the batches of `kerastools.resumable` this `fit` trains on
            (their seed and the batches skipped are recorded); set by
            `kerastools.fit_resumable`. Defaults to None.
        save_format: `"weights"` (`.weights.h5`) or `"keras"` (`.keras` archives, which
            always hold the optimizer, for `keras.models.load_model`). Defaults to `"weights"`.

    Raises:
        ConfigError: both `every_epochs` and `every_steps`, no period at all,
            a period not above 0, `mode` without `save_best`, or a `mode`
            that cannot be inferred.
        ConfigTypeError: an argument of the wrong type.
        CheckpointError: during training, when the directory or a file cannot be
            written, a record is not valid, or another writer has it locked.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        every_epochs: int | None = 1,
        every_steps: int | None = None,
        every_seconds: float | None = None,
        keep_last: int | None = None,
        save_best: str | None = None,
        mode: Mode = "auto",
        include_optimizer: bool = True,
        background: bool = True,
        verbose: int = 0,
        callbacks: Sequence[Any] | None = None,
        data: Any = None,
        save_format: str = "weights",
    ):
        super().__init__()
        self.directory: Path = check_path("directory", directory)
        self.every_epochs, self.every_steps, self.every_seconds = check_periods(
            every_epochs, every_steps, every_seconds
        )
        self.keep_last = None if keep_last is None else check_int("keep_last", keep_last, low=1)
        # MonitorCallback's logic, held rather than inherited: save_best is optional.
        self._monitor: MonitorCallback | None = best_monitor(save_best, mode)
        self.include_optimizer = check_bool("include_optimizer", include_optimizer)
        self.background = check_bool("background", background)
        self.verbose = check_int("verbose", verbose, low=0)
        self.callbacks: list[Any] = resumable_callbacks(callbacks)
        self.save_format = check_save_format(save_format, self.include_optimizer)
        self._suffix = file_suffix(self.save_format)  # ".weights.h5" or ".keras"
        # Per-batch hooks run asynchronously unless overridden; batch counting must not.
        self.async_safe = self.every_steps is None and self.every_seconds is None
        self._chief = True
        self._store = CheckpointStore(
            self.directory,
            keep_last=self.keep_last,
            include_optimizer=self.include_optimizer,
            background=self.background,
            save_format=self.save_format,
        )
        self.data = check_resumable_data(data)
        self._counter = StepCounter(self.every_steps)
        self._epoch = 0
        self._guard = InterruptionGuard()
        self._clock: Callable[[], float] = time.monotonic
        self._last_save_time = 0.0
        self._last_saved_at: tuple[int, int] | None = None
        self._last_mid_epoch: tuple[int, int] | None = None

    @property
    def save_best(self) -> str | None:
        """The monitored key for `best.weights.h5`, or None."""
        return None if self._monitor is None else self._monitor.monitor

    @property
    def mode(self) -> Literal["min", "max"] | None:
        """`"min"` or `"max"` (resolved from `"auto"`), or None without `save_best`."""
        return None if self._monitor is None else self._monitor.mode

    @property
    def best(self) -> float | None:
        """The best monitored value so far (from the best file's record when resuming), or None."""
        return None if self._monitor is None else self._monitor.best

    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        self._chief = is_chief()
        if not self._chief:
            return
        remember_compiled(self.model)  # the hyper-parameters before any callback changes them
        fit = self.params or self  # Keras' params dict, one per fit: names it for the lock
        if self._monitor is None:
            self._store.open(owner=fit)
        else:  # the best value so far comes from the records: a resumed run only replaces
            recorded = self._store.open(self._monitor.monitor, self._monitor.mode, owner=fit)
            self._monitor.best = self._monitor.worst_value() if recorded is None else recorded
            self._monitor.reset_monitor()
        self._counter.start(optimizer_step(self.model))
        self._last_save_time = self._clock()
        self._last_saved_at = self._last_mid_epoch = None
        self._guard.install()

    def on_epoch_begin(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self._epoch = epoch
        self._counter.epoch_begin()

    def on_train_batch_begin(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        # The last batch is done; unlike batch ends, this runs in the training thread.
        if not self._chief:
            return
        if self._guard.received is not None:
            self._stop_for_signal(self._epoch, batch)
        elif self._counter.due:  # due at the last batch end, the epoch went on
            self._save_step(self._epoch, batch, logs)
        elif self._time_is_up():
            self._save_now(self._epoch, batch, logs)

    def on_train_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        if not self._chief or self.async_safe:
            return
        steps_per_epoch = (self.params or {}).get("steps")
        if not self._counter.batch_end(batch, steps_per_epoch):
            return
        if steps_per_epoch is not None and batch + 1 < steps_per_epoch:
            self._save_step(self._epoch, batch + 1, logs)  # mid-epoch for sure: save now
        # Otherwise the epoch may have ended: on_epoch_end or the next batch decides.

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        if not self._chief:
            return
        completed = epoch + 1
        files: list[tuple[str, Kind]] = []
        if self.every_epochs is not None and completed % self.every_epochs == 0:
            files.append((f"epoch-{completed:04d}{self._suffix}", "epoch"))
        # The step save due at the epoch's last batch; or one made when a batch of unknown
        # existence began (TF calls on_train_batch_begin for the batch that finds no data).
        if self._counter.due or self._last_mid_epoch == (epoch, self._counter.batches):
            files.append((_STEP_FILE + self._suffix, "step"))
        if self._monitor is not None:
            value = self._monitor.monitored_value(logs)  # None: no validation this epoch
            if value is not None and self._monitor.is_improvement(value, self._monitor.best):
                self._monitor.best = value
                files.append((f"best{self._suffix}", "best"))
        if files:
            self._save(files, completed, 0, logs, shown_epoch=completed)
        if self._guard.received is not None:
            self._stop_for_signal(completed, 0, logs)
        elif self._time_is_up():
            self._save_now(completed, 0, logs)

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        if self._chief and self._guard.received is not None:
            self._stop_for_signal(self._epoch + 1, 0, logs)  # after the last epoch's end
        self._guard.restore()
        # Every file is on disk when fit() returns; a failed write raises here.
        self._store.close()
        if self._chief and self._monitor is not None:
            self._monitor.check_validated()

    def _time_is_up(self) -> bool:
        period = self.every_seconds
        return period is not None and self._clock() - self._last_save_time >= period

    def _save_step(self, epoch: int, batches: int, logs: Mapping[str, Any] | None) -> None:
        """The due `every_steps` save, `batches` into the running epoch `epoch`."""
        self._save([(_STEP_FILE + self._suffix, "step")], epoch, batches, logs, shown_epoch=self._epoch + 1)

    def _save_now(self, epoch: int, batches: int, logs: Mapping[str, Any] | None = None) -> None:
        """Save a step file now, unless the latest save is at this very batch."""
        if (epoch, batches) == self._last_saved_at:
            self._last_save_time = self._clock()  # nothing new to save: wait a period
        else:
            self._save_step(epoch, batches, logs)

    def _stop_for_signal(
        self, epoch: int, batches: int, logs: Mapping[str, Any] | None = None
    ) -> None:
        """Write the last checkpoint, flush the writer, then deliver the held-back signal."""
        try:
            self._save_now(epoch, batches, logs)
            self._store.close()
            if self.verbose:
                print_msg(f"PeriodicCheckpoint: {self._guard.received_name}: flushed, stopping")
        finally:
            self.model.stop_training = True  # for a handler of the user's that returns
            self._guard.deliver()

    def _save(
        self,
        files: list[tuple[str, Kind]],
        epoch: int,
        batches: int,
        logs: Mapping[str, Any] | None,
        shown_epoch: int,
    ) -> None:
        """Copy the state and write the files (in the background with `background=True`).

        `epoch` is the number of epochs completed, `batches` the batches of
        the running one (0-based `epoch`) done by this run; the step is the
        optimizer's, read now (`_STEP_FILE` in a name becomes it).
        """
        if not self._store.is_open:
            raise CheckpointError(
                "PeriodicCheckpoint saved before on_train_begin; pass it to fit(callbacks=[...])."
            )
        sync = getattr(self.model, "jax_state_sync", None)  # JAX: the values of this batch
        if callable(sync):
            sync()
        step = optimizer_step(self.model)
        files = [(name.format(step=step), kind) for name, kind in files]
        skipped = 0 if self.data is None or batches == 0 else self.data.skipped_batches(epoch)
        training_state = capture(
            self.model,
            epoch=epoch,
            batches=batches + skipped,
            data_seed=None if self.data is None else self.data.seed,
            stopped=bool(getattr(self.model, "stop_training", False)),
            metrics=batches > 0,
        )
        states = [callback.get_state() for callback in self.callbacks]
        self._store.save(
            self.model, files, epoch=epoch, step=step, logs=logs, callback_states=states,
            training_state=training_state,
        )
        self._counter.saved()
        self._last_save_time = self._clock()
        self._last_saved_at = (epoch, batches)
        self._last_mid_epoch = self._last_saved_at if batches else None
        if self.verbose:
            # From the training thread, at the save: before the next epoch's output.
            done = "writing in the background" if self.background else "saved"
            for name, _ in files:
                print_msg(
                    f"PeriodicCheckpoint: epoch {shown_epoch} (step {step}): "
                    f"{done} {self.directory / name}"
                )
