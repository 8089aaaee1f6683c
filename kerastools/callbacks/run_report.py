"""`RunReport`: one artifact that says what happened in a `fit`, also when it did not finish.

Keras calls no callback when `fit` ends by an exception or a signal, so the
report is kept true as training goes: written with status `"running"` when
`fit` starts and at every epoch end, `"interrupted"` when Ctrl-C or SIGTERM
arrives (held back like `PeriodicCheckpoint` does, written just before the
signal goes on), and `"finished"` or `"stopped"` at the end. What each case
leaves is listed in `RunReport`'s docstring.
"""

from __future__ import annotations

import atexit
import logging
import math
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras

from kerastools._atomic import atomic_write
from kerastools._console import print_msg
from kerastools._plot_guard import PlotGuard
from kerastools._validation import check_choice, check_float, check_int, check_name, check_path
from kerastools.callbacks import run_facts
from kerastools.callbacks.interruption import InterruptionGuard
from kerastools.callbacks.monitor import scalar_monitor_value
from kerastools.callbacks.run_report_html import curves_png, render_html
from kerastools.callbacks.run_report_schema import HTML_NAME, JSON_NAME, SCHEMA_VERSION
from kerastools.checkpoints import is_chief
from kerastools.errors import ConfigTypeError
from kerastools.improvement import infer_mode
from kerastools.log_keys import THROUGHPUT_KEY, is_learning_rate

_LOGGER = logging.getLogger(__name__)

__all__ = ["RunReport"]


class RunReport(keras.callbacks.Callback):
    """Write `report.json` and a self-contained `report.html` about the run into a directory.

    The report holds the status, why training stopped (the reason and
    message of a `ThresholdEarlyStopping` or Keras `EarlyStopping` among
    `callbacks`), the best epoch and value of the monitored key, the final
    metrics, the learning rate at the start and the end, the epochs run and
    the wall time, samples per second (from `EpochTimer`'s `samples_per_s`),
    the checkpoint files with their epochs and SHA-256 (from the records in
    the directory of each `PeriodicCheckpoint` among `callbacks`, and in
    `checkpoint_dir`),
    the device summary, the backend and versions, and the `fit` and
    `compile` settings a callback can see. The JSON schema (version 1) is in
    `kerastools.callbacks.run_report_schema` and the run-report recipe;
    `python -m kerastools report DIR` prints it as a table.

    When it is written, and what an ending leaves:

    - `fit` starts, and every epoch ends: status `"running"` (the JSON each
      epoch; the HTML, with its plot, at most every `html_every_seconds`).
      A crash or SIGKILL leaves this; so does an exception that the
      program catches, until the process exits (then `"failed"`).
    - `fit` returns: `"finished"`, or `"stopped"` when a callback set
      `model.stop_training` (with the stopper's reason and message).
    - Ctrl-C (SIGINT) or SIGTERM during `fit`: `"interrupted"`, with the
      signal's name. The signal is held back until the running step ends
      (by the checkpoint's guard, which then makes its last save first, or
      by the report's own when no checkpoint holds signals), the report is
      written, then the signal goes on as usual (`KeyboardInterrupt`, or
      the end of the process for SIGTERM).
    - An exception that ends the Python process while `fit` runs (an
      uncaught `KeyboardInterrupt` a callback raised, any error): written
      at exit, `"interrupted"` for `KeyboardInterrupt`, else `"failed"`
      with the exception; without one (it was caught), `"failed"`, "the
      process exited while fit was running".

    The same report passed to a `fit` that continues the last one
    (`initial_epoch` > 0, a notebook re-fit) keeps the epochs before it; a
    `fit` from epoch 0 starts a new report. Only the chief
    (`kerastools.checkpoints.is_chief`) writes. Files are
    replaced atomically, so a reader never sees half a report. A report
    that cannot be written (a full disk, a folder that cannot be made) logs
    one warning and training goes on; it is tried again at the next epoch.

    Examples:
        >>> report = kt.callbacks.RunReport(tmp_path / "report")
        >>> _ = model.fit(x, y, validation_split=0.25, epochs=3, verbose=0, callbacks=[report])
        >>> sorted(path.name for path in (tmp_path / "report").iterdir())
        ['report.html', 'report.json']
        >>> document = kt.callbacks.read_report(tmp_path / "report")
        >>> document["status"], document["epochs_run"], document["monitor"]["key"]
        ('finished', 3, 'val_loss')

        With the stopper and the checkpoint it should describe:

        >>> stopper = kt.callbacks.ThresholdEarlyStopping("val_loss", threshold=100.0, patience=0)
        >>> checkpoint = kt.callbacks.PeriodicCheckpoint(tmp_path / "ckpt")
        >>> report = kt.callbacks.RunReport(tmp_path / "r2", callbacks=[stopper, checkpoint])
        >>> _ = model.fit(x, y, validation_split=0.25, epochs=5, verbose=0,
        ...               callbacks=[stopper, checkpoint, report])
        >>> document = kt.callbacks.read_report(tmp_path / "r2")
        >>> document["status"], document["stop"]["reason"], len(document["checkpoints"][0]["files"])
        ('stopped', 'THRESHOLD_REACHED', 1)

    Args:
        path: the directory for `report.json` and `report.html`; created
            when training starts.
        callbacks: the other callbacks of the `fit` it should read (Keras
            gives a callback no access to them): stoppers for the stop
            reason, `PeriodicCheckpoint`s for the files. None reads none.
            Defaults to None.
        checkpoint_dir: also list the checkpoints of this directory (from
            their records). Defaults to None.
        monitor: the key whose best epoch is reported; None takes the
            stopper's or best checkpoint's among `callbacks`, else
            `val_loss` when it is logged, else `loss`. Defaults to None.
        mode: `"min"`, `"max"` or `"auto"` (from the name) for `monitor`.
            Defaults to `"auto"`.
        html_every_seconds: rewrite the HTML (whose plot costs a fraction
            of a second) at an epoch end only when this many seconds have
            passed since the last one; 0 rewrites it every epoch. The JSON
            is rewritten every epoch. Defaults to 30.
        verbose: 1 prints the report's path when it is written at the end.
            Defaults to 0.

    Raises:
        ConfigError: a bad `mode`, or a negative `html_every_seconds`; during
            `fit`, a `monitor` whose logged value is not one number (a
            per-class metric or a string).
        ConfigTypeError: an argument of the wrong type.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        callbacks: Sequence[Any] | None = None,
        checkpoint_dir: str | os.PathLike[str] | None = None,
        monitor: str | None = None,
        mode: str = "auto",
        html_every_seconds: float = 30.0,
        verbose: int = 0,
    ):
        super().__init__()
        self.path: Path = check_path("path", path)
        if callbacks is not None and (isinstance(callbacks, (str, bytes)) or not isinstance(callbacks, Sequence)):
            raise ConfigTypeError(
                f"Argument `callbacks` must be a list of callbacks or None. Received: callbacks={callbacks!r}"
            )
        self.callbacks: list[Any] = list(callbacks or [])
        self.checkpoint_dir = None if checkpoint_dir is None else check_path("checkpoint_dir", checkpoint_dir)
        self.monitor = check_name("monitor", monitor)
        self.mode = check_choice("mode", mode, ["auto", "min", "max"])
        if self.monitor is not None and self.mode == "auto":
            self.mode = infer_mode(self.monitor)
        self.html_every_seconds = check_float("html_every_seconds", html_every_seconds, low=0.0)
        self.verbose = check_int("verbose", verbose, low=0)
        self.async_safe = True  # the batch hook reads one attribute; nothing needs the batch's end
        self._guard = InterruptionGuard()
        self._chief = True
        self._write_failed = False
        # (initial epoch, epochs, history) of the last fit, for a re-fit that continues it.
        self._last_run: tuple[int, list[int], dict[str, list[Any]]] | None = None
        self._reset()

    def _reset(self) -> None:
        self._status = "running"
        self._plot_guard = PlotGuard("RunReport (report.html curves)")
        self._stop: dict[str, Any] | None = None
        self._epochs: list[int] = []
        self._history: dict[str, list[Any]] = {}
        self._initial_epoch = 0
        self._started = time.time()
        self._clock_start = time.monotonic()
        self._last_html = -math.inf
        self._rate_start: float | None = None
        self._fixed: dict[str, Any] = {}

    # -- hooks ---------------------------------------------------------------

    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        self._chief = is_chief()
        if not self._chief:
            return
        self._last_run = (self._initial_epoch, self._epochs, self._history) if self._epochs else None
        self._reset()
        self._rate_start = run_facts.learning_rate(self.model)
        self._fixed = {
            "device": run_facts.device_summary(),
            "versions": run_facts.versions(),
            "fit": run_facts.fit_settings(self.params),
        }
        self._watch_signals()
        atexit.unregister(self._at_exit)  # once, even after a fit that failed
        atexit.register(self._at_exit)
        self._write(html=True)

    def on_epoch_begin(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        if not self._epochs:
            self._initial_epoch = epoch
            self._continue_run(epoch)
        if self._chief:
            self._listen()  # a checkpoint listed after this report installed its guard since

    def _continue_run(self, epoch: int) -> None:
        """A `fit` from `initial_epoch` > 0 with this report continues the last one's epochs before it."""
        last, self._last_run = self._last_run, None
        if last is None or epoch == 0:
            return
        initial, epochs, history = last
        kept = [index for index, position in enumerate(epochs) if position <= epoch]
        if kept:
            self._initial_epoch = initial
            self._epochs = [epochs[index] for index in kept]
            self._history = {key: [values[index] for index in kept] for key, values in history.items()}

    def on_train_batch_begin(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        if self._guard.received is not None:
            self._deliver()

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        if not self._chief:
            return
        if self.monitor is not None and self.monitor in (logs or {}):
            scalar_monitor_value(self.monitor, logs[self.monitor])  # type: ignore[index]
        self._record(epoch, logs or {})
        if self._guard.received is not None:
            self._deliver()
            return
        due = time.monotonic() - self._last_html >= self.html_every_seconds
        self._write(html=due)

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        if not self._chief:
            return
        atexit.unregister(self._at_exit)
        if self._guard.received is not None:
            self._deliver()  # a signal after the last epoch's end
        self._guard.restore()
        if self._status == "running":
            self._stop = run_facts.stop_details(self.callbacks)
            stopped = self._stop is not None or bool(getattr(self.model, "stop_training", False))
            self._status = "stopped" if stopped else "finished"
            if stopped and self._stop is None:
                self._stop = {"by": "a callback", "reason": "STOP_TRAINING",
                              "message": "a callback set model.stop_training", "epoch": None}
        self._write(html=True)
        if self.verbose:
            print_msg(f"RunReport: {self._status}: {self.path / HTML_NAME}")

    # -- signals and exit ----------------------------------------------------

    def _watch_signals(self) -> None:
        """Listen to the guard that holds signals back, installing this report's own if none does."""
        current = getattr(signal.getsignal(signal.SIGINT), "__self__", None)
        if not isinstance(current, InterruptionGuard):
            self._guard.install()  # a checkpoint listed after this report takes it over
        self._listen()

    def _listen(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            holder = getattr(signal.getsignal(signum), "__self__", None)
            if isinstance(holder, InterruptionGuard):
                holder.add_listener(self._interrupted)

    def _deliver(self) -> None:
        self.model.stop_training = True  # for a handler of the user's that returns
        self._guard.deliver()  # calls self._interrupted, then the previous handler

    def _interrupted(self, signum: int) -> None:
        """The held-back signal is about to be delivered: say so in the report first."""
        name = signal.Signals(signum).name
        self._status = "interrupted"
        self._stop = {"by": "signal", "reason": name, "epoch": self._last_epoch(),
                      "message": f"{name} received during fit; training stopped"}
        self._write(html=True)

    def _at_exit(self) -> None:
        """The process ends while `fit` runs: the exception that ended it, if Python kept it."""
        if self._status != "running":
            return
        error = getattr(sys, "last_value", None)
        interrupted = isinstance(error, KeyboardInterrupt)
        self._status = "interrupted" if interrupted else "failed"
        message = repr(error) if error is not None else "the process exited while fit was running"
        self._stop = {"by": "exception" if error is not None else "exit",
                      "reason": type(error).__name__ if error is not None else "EXIT",
                      "message": message, "epoch": self._last_epoch()}
        self._write(html=True)

    # -- the document --------------------------------------------------------

    def _last_epoch(self) -> int | None:
        return self._epochs[-1] if self._epochs else None

    def _record(self, epoch: int, logs: Mapping[str, Any]) -> None:
        self._epochs.append(epoch + 1)
        safe = run_facts.json_safe(dict(logs))
        for key in safe:
            self._history.setdefault(key, [None] * (len(self._epochs) - 1))
        for key, values in self._history.items():
            value = safe.get(key)
            values.append(value if isinstance(value, (int, float)) else None)

    def _monitor(self) -> tuple[str | None, str | None]:
        if self.monitor is not None:
            return self.monitor, self.mode
        key, mode = run_facts.monitored_key(self.callbacks)
        if key is None:
            key = "val_loss" if "val_loss" in self._history else "loss"
            mode = "min"
        return key, mode

    def _document(self) -> dict[str, Any]:
        key, mode = self._monitor()
        best_epoch, best_value = (None, None)
        if key in self._history and mode in ("min", "max"):
            best_epoch, best_value = run_facts.best_of(self._epochs, self._history[key], mode)  # type: ignore[arg-type]
        rates = [k for k in self._history if is_learning_rate(k)]
        rate_end = self._history[rates[0]][-1] if rates else run_facts.learning_rate(self.model)
        rate_start = self._rate_start
        speeds = [v for v in self._history.get(THROUGHPUT_KEY, []) if v is not None]
        now = time.time()
        return {
            "schema_version": SCHEMA_VERSION,
            "status": self._status,
            "stop": self._stop,
            "started_at": self._started,
            "updated_at": now,
            "wall_time_s": time.monotonic() - self._clock_start,
            "initial_epoch": self._initial_epoch,
            "epochs_run": len(self._epochs),
            "epochs": list(self._epochs),
            "history": self._history,
            "final_metrics": {k: values[-1] for k, values in self._history.items()},
            "monitor": {"key": key, "mode": mode, "best_epoch": best_epoch, "best_value": best_value},
            "learning_rate": {"start": rate_start, "end": rate_end},
            "samples_per_s": {"mean": sum(speeds) / len(speeds) if speeds else None,
                              "last": speeds[-1] if speeds else None},
            "checkpoints": [
                run_facts.checkpoint_files(directory)
                for directory in run_facts.checkpoint_directories(self.callbacks, self.checkpoint_dir)
            ],
            **self._fixed,
            "compile": run_facts.compile_settings(self.model),
        }

    def _write(self, html: bool) -> None:
        """Write the report; a failure to write warns once and never stops training."""
        try:
            self._write_files(html)
        except OSError as error:
            if not self._write_failed:
                _LOGGER.warning(
                    "RunReport cannot write %s (%s); training goes on, and the report is "
                    "written again at the next epoch.", self.path, error,
                )
            self._write_failed = True

    def _write_files(self, html: bool) -> None:
        import json

        self.path.mkdir(parents=True, exist_ok=True)
        document = run_facts.json_safe(self._document())
        with atomic_write(self.path / JSON_NAME, "w") as handle:
            json.dump(document, handle, indent=2)
        if html:
            # A failed drawing warns once; the page is written without curves.
            png = self._plot_guard.run(lambda: curves_png(document["epochs"], document["history"]))
            page = render_html(document, png)
            with atomic_write(self.path / HTML_NAME, "w") as handle:
                handle.write(page)
            self._last_html = time.monotonic()
