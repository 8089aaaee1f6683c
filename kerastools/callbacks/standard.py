"""The usual callbacks in one call, set up to agree with each other."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras

from kerastools._validation import check_bool, check_choice, check_float, check_int, check_path
from kerastools.callbacks.epoch_timer import EpochTimer
from kerastools.callbacks.learning_rate import LearningRateLogger
from kerastools.callbacks.live_plot import MODES as PLOT_MODES
from kerastools.callbacks.live_plot import LivePlot, PlotMode
from kerastools.callbacks.monitor import Mode, infer_mode
from kerastools.callbacks.periodic_checkpoint import PeriodicCheckpoint
from kerastools.callbacks.progress_bar import ProgressBar
from kerastools.callbacks.run_report import RunReport
from kerastools.callbacks.tensorboard_logger import TensorBoardLogger
from kerastools.callbacks.threshold_stopping import ThresholdEarlyStopping
from kerastools.checkpoints.archive import check_save_format
from kerastools.errors import ConfigError, ConfigTypeError

__all__ = ["standard"]


def standard(
    *,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    stop_at: Mapping[str, float] | None = None,
    patience: int = 1,
    restore_best_weights: bool = False,
    keep_last: int | None = 3,
    plot: bool = True,
    plot_mode: PlotMode = "auto",
    plot_path: str | os.PathLike[str] | None = None,
    mode: Mode = "auto",
    verbose: int = 0,
    save_format: str = "weights",
    report: bool | str | os.PathLike[str] = True,
    tensorboard: str | os.PathLike[str] | None = None,
) -> list[keras.callbacks.Callback]:
    """The usual bundle of callbacks: learning rate, timing, live plot, checkpoints, target stop.

    Returns, in the order Keras must call them:

    1. `LearningRateLogger`: `learning_rate` and `iterations` into `logs`;
    2. `EpochTimer`: `epoch_time_s` and `samples_per_s` into `logs`;
    3. `ThresholdEarlyStopping` on the metric of `stop_at` (only when given);
    4. `TensorBoardLogger` into `tensorboard` (only when given), after the
       two above, so its event files hold the learning rate, the epoch time
       and the throughput;
    5. `LivePlot` (unless `plot=False`), after those, so it sees every key
       the others wrote, with the `stop_at` target drawn as a dashed line;
    6. `PeriodicCheckpoint` every epoch into `checkpoint_dir` (only when
       given), keeping the last `keep_last` files and the best file for the
       `stop_at` metric; after the four above, whose state
       (`get_state()`) each checkpoint records, so that
       `kt.checkpoints.resume(model, checkpoint_dir, callbacks=bundle)` with
       a new bundle continues their histories;
    7. `RunReport` into `checkpoint_dir / "report"` (only with a
       `checkpoint_dir`, unless `report=False`; `report=path` puts it
       there, also without checkpoints), after the checkpoint so it lists
       the file of each epoch, reading the stopper and the checkpoint;
    8. `ProgressBar`: Keras' progress bar without the bookkeeping keys
       (`iterations`, `epoch_time_s`, `samples_per_s`), which `History`
       still gets.

    The settings agree: one metric is the stopping target, the best
    checkpoint's criterion and the plotted target, with one `mode` inferred
    from its name. The list is a plain list: append your own callbacks.

    Examples:
        >>> callbacks = kt.callbacks.standard(checkpoint_dir=tmp_path / "ckpt",
        ...                                   stop_at={"val_loss": 0.01})
        >>> [type(callback).__name__ for callback in callbacks]
        ['LearningRateLogger', 'EpochTimer', 'ThresholdEarlyStopping', 'LivePlot', 'PeriodicCheckpoint', 'RunReport', 'ProgressBar']
        >>> history = model.fit(x, y, validation_split=0.25, epochs=2, verbose=0, callbacks=callbacks)
        >>> sorted(history.history)
        ['epoch_time_s', 'iterations', 'learning_rate', 'loss', 'samples_per_s', 'val_loss']
        >>> kt.callbacks.read_report(tmp_path / "ckpt" / "report")["status"]
        'finished'

        Checkpoints as `.keras` archives (`keras.models.load_model` opens them):

        >>> callbacks = kt.callbacks.standard(checkpoint_dir=tmp_path / "k", save_format="keras")

        TensorBoard event files too, on any backend (`pip install "kerastools[tensorboard]"`):

        >>> callbacks = kt.callbacks.standard(tensorboard=tmp_path / "logs")
        >>> [type(callback).__name__ for callback in callbacks]
        ['LearningRateLogger', 'EpochTimer', 'TensorBoardLogger', 'LivePlot', 'ProgressBar']

        In a notebook, one line: `model.fit(..., callbacks=kt.callbacks.standard(
        checkpoint_dir="ckpt", stop_at={"val_accuracy": 0.98}))`.

    Args:
        checkpoint_dir: directory for `PeriodicCheckpoint`; None for no
            checkpoints. Defaults to None.
        stop_at: `{metric: target}` with one entry, e.g.
            `{"val_accuracy": 0.98}`: stop once the metric reaches the target
            and stops improving. None for no early stop. Defaults to None.
        patience: plateau epochs before stopping once the target is reached
            (0: stop as soon as it is). Defaults to 1.
        restore_best_weights: at the end of training, put back the weights of
            the epoch with the best `stop_at` metric. Defaults to False.
        keep_last: periodic checkpoint files to keep; None keeps all.
            Defaults to 3.
        plot: include `LivePlot`. Defaults to True.
        plot_mode: `LivePlot`'s `mode` (`"auto"`, `"notebook"`, `"widget"`,
            `"file"` or `"off"`). Defaults to `"auto"`.
        plot_path: `LivePlot`'s `path`. Defaults to None.
        mode: whether the `stop_at` metric improves going `"min"` or `"max"`;
            `"auto"` infers it from the name. Defaults to `"auto"`.
        verbose: passed to the logger, the stopper and the checkpoints.
            Defaults to 0.
        save_format: `PeriodicCheckpoint`'s `save_format`: `"weights"`
            (`.weights.h5`) or `"keras"` (`.keras` archives). Defaults to
            `"weights"`.
        report: True writes a `RunReport` into `checkpoint_dir / "report"`
            when `checkpoint_dir` is given; False writes none; a path
            writes it there. Defaults to True.
        tensorboard: a log directory for `TensorBoardLogger` (epoch
            scalars, as `keras.callbacks.TensorBoard` writes them); None
            for none. Defaults to None.

    Returns:
        A new list of callbacks for `model.fit(callbacks=...)`.

    Raises:
        ConfigError: `stop_at` with other than one entry, a target that is
            not a finite number, or a bad argument of one of the callbacks
            (its message names the argument).
        ConfigTypeError: an argument of the wrong type.
    """
    # Every argument is checked under its own name, even when the callback it
    # configures is not created, so a typo never passes silently.
    monitor, target = _check_stop_at(stop_at)
    plot = check_bool("plot", plot)
    patience = check_int("patience", patience, low=0)
    restore_best_weights = check_bool("restore_best_weights", restore_best_weights)
    if keep_last is not None:
        keep_last = check_int("keep_last", keep_last, low=1)
    plot_mode = check_choice("plot_mode", plot_mode, PLOT_MODES)  # type: ignore[assignment]
    if plot_path is not None:
        plot_path = check_path("plot_path", plot_path)
    if checkpoint_dir is not None:
        checkpoint_dir = check_path("checkpoint_dir", checkpoint_dir)
    verbose = check_int("verbose", verbose, low=0)
    save_format = check_save_format(save_format, include_optimizer=True)
    report_dir = _report_dir(report, checkpoint_dir)
    tensorboard = None if tensorboard is None else check_path("tensorboard", tensorboard)
    mode = _resolved_mode(monitor, mode, stop_at)
    rates = LearningRateLogger(verbose=verbose)
    callbacks: list[keras.callbacks.Callback] = [rates, EpochTimer()]
    resumable: list[keras.callbacks.Callback] = [rates]
    if monitor is not None:
        stopper = ThresholdEarlyStopping(
            monitor,
            threshold=target,
            mode=mode,
            patience=patience,
            restore_best_weights=restore_best_weights,
            verbose=verbose,
        )
        callbacks.append(stopper)
        resumable.append(stopper)
    if tensorboard is not None:
        callbacks.append(TensorBoardLogger(tensorboard))
        resumable.append(callbacks[-1])
    if plot:
        targets = {monitor: target} if monitor is not None and target is not None else None
        live_plot = LivePlot(targets=targets, mode=plot_mode, path=plot_path)
        callbacks.append(live_plot)
        resumable.append(live_plot)
    readable: list[keras.callbacks.Callback] = list(resumable)
    if checkpoint_dir is not None:
        # After the others: each checkpoint records their state at the epoch it saves.
        readable.append(
            PeriodicCheckpoint(
                checkpoint_dir,
                keep_last=keep_last,
                save_best=monitor,
                mode=mode if monitor is not None else "auto",
                verbose=verbose,
                callbacks=resumable,
                save_format=save_format,
            )
        )
        callbacks.append(readable[-1])
    if report_dir is not None:
        # After the checkpoint: the report lists the file each epoch end wrote.
        callbacks.append(RunReport(report_dir, callbacks=readable, verbose=verbose))
    callbacks.append(ProgressBar())
    return callbacks


def _resolved_mode(monitor: str | None, mode: Any, stop_at: Any) -> Mode:
    """`mode` checked, and inferred from the stop key's name when it is `"auto"`."""
    mode = check_choice("mode", mode, ["auto", "min", "max"])
    if monitor is None or mode != "auto":
        return mode  # type: ignore[no-any-return]
    try:
        return infer_mode(monitor)
    except ConfigError:
        raise ConfigError(
            f"Argument `stop_at` names {monitor!r}, and whether it should be minimised or "
            f"maximised cannot be inferred; pass mode='min' or mode='max'. "
            f"Received: stop_at={dict(stop_at or {})!r}, mode='auto'"
        ) from None


def _report_dir(report: Any, checkpoint_dir: Path | None) -> Path | None:
    if isinstance(report, bool):
        return checkpoint_dir / "report" if report and checkpoint_dir is not None else None
    if isinstance(report, (str, os.PathLike)):
        return check_path("report", report)
    raise ConfigTypeError(
        f"Argument `report` must be True, False or a directory. Received: report={report!r}"
    )


def _check_stop_at(stop_at: Any) -> tuple[str | None, float | None]:
    if stop_at is None:
        return None, None
    if not isinstance(stop_at, Mapping):
        raise ConfigTypeError(
            "Argument `stop_at` must be a dict with one entry {metric: target}, e.g. "
            f"{{'val_accuracy': 0.98}}. Received: stop_at={stop_at!r}"
        )
    if len(stop_at) != 1:
        raise ConfigError(
            "Argument `stop_at` must have exactly one entry {metric: target}; to watch several "
            f"metrics, add one ThresholdEarlyStopping per metric. Received: stop_at={dict(stop_at)!r}"
        )
    ((monitor, target),) = stop_at.items()
    if not isinstance(monitor, str) or not monitor:
        raise ConfigTypeError(
            f"Argument `stop_at` must map a metric name to a target. Received: stop_at={dict(stop_at)!r}"
        )
    return monitor, check_float(f"stop_at[{monitor!r}]", target)
