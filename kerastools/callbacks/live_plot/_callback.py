"""The LivePlot callback: records what `fit` logs, redraws at bounded cost, publishes.

It wires the parts together: a `RunHistory` records each epoch (and batch),
a `LiveFigure` draws it, and one sink per output target (file, notebook,
widget) shows the PNG. This module decides when to redraw: only when
`min_interval_s` has passed *and* at least `THROTTLE_FACTOR` times the last
redraw's duration, so drawing takes at most about 1/THROTTLE_FACTOR of the
wall time. The start of training counts as a redraw, so a fit shorter than
`min_interval_s` draws once, and an epoch end draws nothing when, at the
pace so far, the end of training is nearer than `min_interval_s`; the end
of training always redraws, on the training thread, so the output is
complete when `fit` returns.
"""

from __future__ import annotations

import logging
import math
import os
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras

from kerastools._plot_guard import PlotGuard
from kerastools._validation import check_bool, check_int
from kerastools.callbacks.state import ResumableCallbackState, decode_floats, encode_floats
from kerastools.errors import ConfigError, ConfigTypeError
from kerastools.learning_rates import learning_rate_logs
from kerastools.live.drawing import check_drawing, next_render_at
from kerastools.live.figure import MAX_PIXELS, LiveFigure
from kerastools.live.history import RunHistory, scalar_values
from kerastools.live.mode import PlotMode, resolve_mode
from kerastools.live.panels import LR_KEY, PanelPlan, check_metrics, check_targets
from kerastools.live.reference import reference_runs
from kerastools.live.sinks import Sink, open_sinks
from kerastools.log_keys import is_learning_rate

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["DEFAULT_PATH", "LivePlot"]

logger = logging.getLogger(__name__)

DEFAULT_PATH = "live_plot.png"


class LivePlot(ResumableCallbackState, keras.callbacks.Callback):
    """Plot loss, metrics and learning rate while `fit` runs, updated in place.

    Panels: the loss (train and validation), then each metric (train and
    validation), then the learning rate, read from `logs["learning_rate"]`
    when a callback such as `LearningRateLogger` writes it, else from the
    optimizer at each epoch end. Keys that appear mid-run get their line (or
    panel) when they appear. Axes fit the data; `targets` draws dashed
    reference lines.

    Where the plot goes depends on `mode` (overridden by the environment
    variable `KERASTOOLS_LIVEPLOT`):

    - `"auto"`: `"notebook"` in a Jupyter kernel, else `"file"`.
    - `"notebook"`: one output in the running cell, updated in place through a
      display handle; text the cell prints stays.
    - `"widget"`: an `ipywidgets.Image` updated in place (smoother in VS Code);
      at the end it is replaced by a static PNG, which viewers without widget
      support (GitHub, nbviewer) show.
    - `"file"`: `path` is replaced atomically at every redraw.
    - `"off"`: nothing is drawn; `history` is still recorded.

    A `path` given explicitly is written in every mode but `"off"`; one that
    cannot be written (or whose directory cannot be created) is warned about
    once and left out, as is a drawing that fails: a plot never stops
    training. Under a
    multi-worker strategy only the chief draws and writes.

    Redraws are throttled: one happens only when `min_interval_s` has passed
    and at least `THROTTLE_FACTOR` times the duration of the last one. The
    start of training counts as a redraw: the first one comes at the first
    epoch end (or batch, with `per_batch`) at least `min_interval_s` in, so a
    fit shorter than that draws only once. An epoch end does not redraw
    when, at the pace of the epochs so far, the end of training is nearer
    than `min_interval_s`: the final redraw comes first. The end of training
    always redraws, before `fit` returns. After training, `figure` is a complete
    matplotlib `Figure` (save it with `figure.savefig(...)`) and `history`
    holds the values per epoch (continued by a re-fit from `initial_epoch` > 0).

    Examples:
        >>> plot = kt.callbacks.LivePlot(mode="file", path=tmp_path / "live.png",
        ...                              targets={"loss": 0.05})
        >>> _ = model.fit(x, y, validation_split=0.25, epochs=3, verbose=0, callbacks=[plot])
        >>> sorted(plot.history), plot.epochs
        (['learning_rate', 'loss', 'val_loss'], [1, 2, 3])
        >>> plot.render_png()[:8]
        b'\\x89PNG\\r\\n\\x1a\\n'

        The next run, drawn over the first one as a faint reference:

        >>> first = model.fit(x, y, epochs=3, verbose=0)
        >>> plot = kt.callbacks.LivePlot(mode="file", path=tmp_path / "again.png", compare_to=first)
        >>> _ = model.fit(x, y, epochs=3, verbose=0, callbacks=[plot])
        >>> _ = plot.render_png()  # drawn already unless KERASTOOLS_LIVEPLOT=off
        >>> [line.get_gid() for line in plot.figure.axes[0].get_lines()][:1]
        ['reference:run 1:loss']

    Args:
        metrics: base names of the metrics to plot besides the loss, e.g.
            `["accuracy"]` (their `val_` twins come along); `None` plots every
            key in `logs` but the bookkeeping ones other kerastools callbacks
            write (`BOOKKEEPING_KEYS`: optimizer step, epoch time,
            throughput), which can still be named here. Defaults to None.
        targets: `{log key: value}` drawn as dashed horizontal lines, e.g.
            `{"val_accuracy": 0.992}`. Defaults to None.
        show_lr: add the learning-rate panel. Defaults to True.
        log_loss: logarithmic y axis for the loss panel. Defaults to False.
        path: PNG file to write; `None` means `live_plot.png` in the working
            directory in `"file"` mode and no file in the notebook modes.
            Defaults to None.
        mode: `"auto"`, `"notebook"`, `"widget"`, `"file"` or `"off"`.
            Defaults to `"auto"`.
        min_interval_s: the least time between two redraws, and between
            the start of training and the first, in seconds. Defaults to 0.5.
        figsize: figure size in inches; it never changes during a run, so
            the PNG keeps its size. Defaults to (10, 3.5).
        dpi: resolution of the PNG. Defaults to 80.
        max_points: the most points drawn per line; longer lines are
            downsampled keeping minima and maxima (to at most two points per
            pixel column, whichever is fewer). Defaults to 2000.
        per_batch: also record the running training metrics after every
            batch (thin lines); redraws keep the same throttle. This makes
            Keras call callbacks synchronously. Defaults to False.
        compare_to: earlier runs drawn as faint dashed reference curves
            behind this one, in the panels this run has: a
            `keras.callbacks.History` (what `fit` returns), a sweep's
            `TrialRecord` (labelled by its varying parameters), a dict of
            `{metric: [value per epoch]}`, a `PeriodicCheckpoint` directory
            (the logs each epoch checkpoint's record holds), a
            TensorBoard log directory (its `epoch_*` scalars), or a list of
            these (a `SweepResults` too). Read once, here.
            Defaults to None.
        max_pixels: the most pixels the figure may have (`figsize` x `dpi`
            squared); more is refused here, before anything is allocated.
            Defaults to `MAX_PIXELS` (25 million, 100 MB to draw).

    Raises:
        ConfigError: a value out of range, an unknown mode, a target outside
            the plotted metrics, an empty or unreadable `compare_to` run, or (when training starts) an unknown
            `KERASTOOLS_LIVEPLOT` value or a missing IPython/ipywidgets.
        ConfigTypeError: an argument of the wrong type.
    """

    def __init__(
        self,
        metrics: Sequence[str] | None = None,
        *,
        targets: Mapping[str, float] | None = None,
        show_lr: bool = True,
        log_loss: bool = False,
        path: str | os.PathLike[str] | None = None,
        mode: PlotMode = "auto",
        min_interval_s: float = 0.5,
        figsize: tuple[float, float] = (10, 3.5),
        dpi: int = 80,
        max_points: int = 2000,
        per_batch: bool = False,
        compare_to: Any = None,
        max_pixels: int = MAX_PIXELS,
    ) -> None:
        super().__init__()
        self.metrics = check_metrics(metrics)
        self.show_lr = check_bool("show_lr", show_lr)
        self.targets = check_targets(targets, self.metrics, self.show_lr)
        self.log_loss = check_bool("log_loss", log_loss)
        if path is not None and not isinstance(path, (str, os.PathLike)):
            raise ConfigTypeError(f"Argument `path` must be a file path or None. Received: path={path!r}")
        if path is not None and not os.fspath(path):
            raise ConfigError(f"Argument `path` must not be empty. Received: path={path!r}")
        self.path = Path(path) if path is not None else None
        self.mode, self.min_interval_s, self.figsize, self.dpi, self.max_points = check_drawing(
            mode, min_interval_s, figsize, dpi, max_points, max_pixels
        )
        self.per_batch = check_bool("per_batch", per_batch)
        self.references = reference_runs(compare_to)
        # Keras runs batch hooks in a thread pool unless a callback overrides
        # them; ours is a no-op without per_batch, so it must not force sync.
        self.async_safe = not self.per_batch
        # The clock behind the throttle; tests swap in a fake one.
        self._clock: Callable[[], float] = time.perf_counter
        self.resolved_mode: str | None = None
        self.output_path: Path | None = None
        self._reset_run()

    def _reset_run(self) -> None:
        self.render_seconds: list[float] = []
        self._history = RunHistory()
        self._plan = PanelPlan(self.metrics, self.show_lr, self.log_loss, self.targets)
        self._live_figure: LiveFigure | None = None
        self._figure_handed_out = False  # `figure` was read: the figure is the user's
        self._sinks: list[Sink] = []
        self._next_render_at = -math.inf
        self._started = -math.inf
        self._epochs_this_fit = 0
        self._checked_requested = False
        self._finished = False
        self._plot_guard = PlotGuard("LivePlot")

    # ----------------------------------------------------------------- state

    @property
    def figure(self) -> Figure | None:
        """The matplotlib `Figure` of the current (or last) run; None before anything is drawn (mode off).

        Once read, the figure is yours: no later run draws on it. A figure
        not read by the end of training is kept for the next LivePlot with the
        same settings; reading `figure` after that draws the run again, on a
        figure of its own, the same picture as the final PNG.
        """
        if self._live_figure is None and self._finished:
            self.render_png()
            self._ensure_figure().finish()
        if self._live_figure is None:
            return None
        self._figure_handed_out = True
        return self._live_figure.figure

    @property
    def epochs(self) -> list[int]:
        """The epochs recorded in this run, counted from 1."""
        return self._history.epochs

    @property
    def history(self) -> dict[str, list[float]]:
        """Values per epoch, aligned with `epochs` (NaN where a key was missing)."""
        return self._history.per_epoch()

    @property
    def batch_history(self) -> dict[str, tuple[list[float], list[float]]]:
        """With `per_batch`: `{key: (positions in epochs, values)}` recorded after each batch."""
        return self._history.per_batch()

    def get_state(self) -> dict[str, Any]:
        """The per-epoch values recorded so far, as a JSON-safe dict.

        `set_state` of this dict before a resumed `fit` makes the plot draw the
        whole run from epoch 1, not from the resume epoch. Per-batch lines are
        not part of the state.
        """
        return {
            "kind": type(self).__name__,
            "epochs": list(self._history.epochs),
            "values": {key: encode_floats(values) for key, values in self.history.items()},
        }

    def _apply_state(self, state: dict[str, Any]) -> None:
        epochs = state.get("epochs")
        values = state.get("values")
        if not isinstance(epochs, list) or not isinstance(values, dict):
            raise ConfigTypeError(
                f"Argument `state` must hold `epochs` (a list) and `values` (a dict), as "
                f"get_state() writes. Received: state={state!r}"
            )
        columns = {key: decode_floats(column, f"values[{key!r}]") for key, column in values.items()}
        for index, position in enumerate(epochs):
            row = {key: column[index] for key, column in columns.items()
                   if index < len(column) and not math.isnan(column[index])}
            self._history.record_epoch(check_int("epochs[]", position, low=1) - 1, row)

    # ----------------------------------------------------------------- hooks

    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        self._keep_last_run()  # continued by a re-fit from initial_epoch > 0
        self._release_figure()
        self._reset_run()
        self._resume_pending()
        self.resolved_mode = resolve_mode(self.mode)
        self.output_path = None
        if self.resolved_mode == "file":
            self.output_path = self.path if self.path is not None else Path.cwd() / DEFAULT_PATH
        elif self.resolved_mode != "off" and self.path is not None:
            self.output_path = self.path
        # Made now, so a missing IPython fails here, not at the first epoch.
        self._sinks = open_sinks(self.resolved_mode, self.output_path)
        if self.resolved_mode != "off":
            # One-off costs (importing matplotlib, the figure) stay out of the
            # first render's duration, which sets the throttle.
            self._plot_guard.run(self._ensure_figure)
        # The start counts as a redraw: the first one waits `min_interval_s` like
        # any other, so a fit shorter than that draws once, at its end.
        self._started = self._clock()
        self._next_render_at = next_render_at(self._started, self._started, self.min_interval_s)

    def on_epoch_begin(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self._continue_run(epoch)
        self._history.begin_epoch(epoch)

    def on_train_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        if not self.per_batch:
            return
        values = scalar_values(logs, skip=(LR_KEY,))
        # Unknown epoch length (a generator): this epoch's batches wait for its end.
        if self._history.record_batch(batch, values, (self.params or {}).get("steps")):
            self._maybe_render()

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        logs = dict(logs or {})
        if self.show_lr and not any(map(is_learning_rate, logs)):
            model = self.model  # None when hooks run without set_model
            if model is not None:
                logs.update(learning_rate_logs(model))
        self._history.record_epoch(epoch, scalar_values(logs))
        if not self._checked_requested:
            self._checked_requested = True
            self._warn_missing(logs)
        self._epochs_this_fit += 1
        if not self._end_is_near(epoch):
            self._maybe_render()

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        if self.resolved_mode in (None, "off") or not self.epochs or self._plot_guard.failed:
            return
        self._finished = True
        self._render_and_publish(final=True)
        # Animated artists are skipped by savefig: make the figure whole for the user.
        if self._live_figure is not None:
            self._live_figure.finish()
        self._release_figure()

    # ------------------------------------------------------------ rendering

    def render_png(self) -> bytes:
        """Draw the current state now, ignoring the throttle, and return PNG bytes.

        Examples:
            >>> plot = kt.callbacks.LivePlot(mode="off")
            >>> plot.on_epoch_end(0, {"loss": 0.9, "val_loss": 1.0})
            >>> plot.render_png().startswith(b"\\x89PNG")
            True
        """
        planned = float((self.params or {}).get("epochs") or 0)
        return self._ensure_figure().render(self._history, planned, self._finished)

    def _ensure_figure(self) -> LiveFigure:
        if self._live_figure is None:
            self._live_figure = LiveFigure.obtain(
                self._plan, self.figsize, self.dpi, self.max_points, self.per_batch, self.references
            )
        return self._live_figure

    def _release_figure(self) -> None:
        """Hand a figure no one else holds to a later run: building axes is half a short fit's drawing."""
        figure = self._live_figure
        if figure is None or self._figure_handed_out or self._plot_guard.failed:
            return
        if figure.release():
            self._live_figure = None

    def _end_is_near(self, epoch: int) -> bool:
        """Whether the final redraw comes sooner than `min_interval_s`, at the pace of the epochs so far.

        A redraw now would be followed by the final one before the throttle
        allowed another: it would cost a redraw and show nothing new for long.
        """
        planned = (self.params or {}).get("epochs")
        if not isinstance(planned, int) or self._epochs_this_fit == 0:
            return False
        per_epoch = (self._clock() - self._started) / self._epochs_this_fit
        return (planned - epoch - 1) * per_epoch < self.min_interval_s

    def _maybe_render(self) -> None:
        if self.resolved_mode in (None, "off"):
            return
        if self._clock() >= self._next_render_at:
            self._render_and_publish()

    def _render_and_publish(self, final: bool = False) -> None:
        start = self._clock()
        png = self._plot_guard.run(self.render_png)  # a failed drawing warns once; fit goes on
        if png is None:
            return
        for sink in self._sinks:
            sink.publish(png, final)
        end = self._clock()
        self.render_seconds.append(max(end - start, 0.0))
        self._next_render_at = next_render_at(start, end, self.min_interval_s)

    def _warn_missing(self, logs: Mapping[str, Any]) -> None:
        """Say once, after the first epoch, which requested keys are not in the logs."""
        wanted = [f"{name} (or val_{name})" for name in self.metrics or ()
                  if name not in logs and f"val_{name}" not in logs]
        wanted += [key for key in self.targets if key not in logs]
        if wanted:
            logger.warning(
                "LivePlot: %s not in the logs after the first epoch; available keys: %s. "
                "Their panels appear if the keys show up later.",
                ", ".join(wanted),
                sorted(logs),
            )
        vectors = [key for key in logs if key.removeprefix("val_") in (self.metrics or ())
                   and key not in scalar_values({key: logs[key]})]
        if vectors:  # asked for by name, but not one number: say why there is no panel
            warnings.warn(f"LivePlot draws one number per key; not plotted: {vectors} (a per-class "
                          "metric: compile it with average='macro').", RuntimeWarning, stacklevel=2)
