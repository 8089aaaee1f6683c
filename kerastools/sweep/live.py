"""`sweep(..., live=...)`: every trial's curves on one figure, updated in place while trials run.

`LiveSweep` holds the settings and the outputs; `sweep` gives each trial a
small callback (`LiveSweep.trial_callback`) that feeds its logs to one
`SweepFigure`. Outputs, modes and the throttle are LivePlot's: a display
handle updated in place in Jupyter (or an `ipywidgets.Image`), a PNG file
replaced atomically, `KERASTOOLS_LIVEPLOT` overriding the mode, only the
chief drawing under a multi-worker strategy.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras

from kerastools._plot_guard import PlotGuard
from kerastools._validation import check_bool, check_int, check_path
from kerastools.errors import ConfigError, ConfigTypeError
from kerastools.live.drawing import check_drawing, next_render_at
from kerastools.live.figure import MAX_PIXELS
from kerastools.live.history import scalar_values
from kerastools.live.mode import PlotMode, resolve_mode
from kerastools.live.panels import PanelPlan, check_metrics
from kerastools.live.sinks import Sink, open_sinks
from kerastools.sweep.live_figure import SweepFigure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["LiveSweep", "check_live"]


class LiveSweep:
    """Settings and outputs of a sweep's live figure: `sweep(..., live=LiveSweep(...))`.

    One panel per log key (`loss`, `val_loss`, each metric and its `val_`
    twin), one line per trial in each. The running trial is drawn thick and
    marked in the legend; finished trials stay, thin and faint. The legend
    lists every planned trial by the parameters that vary across the sweep
    (`TrialRecord.describe`'s rule).

    Where it goes depends on `mode` (overridden by `KERASTOOLS_LIVEPLOT`),
    as for `kerastools.callbacks.LivePlot`: `"auto"` is `"notebook"` in a
    Jupyter kernel (one output updated in place) and `"file"` elsewhere;
    `"widget"`, `"file"` and `"off"` as in LivePlot. File mode needs `path`:
    a sweep never writes into the working directory unasked. A `path` given
    in a notebook mode is written too.

    Redraws follow LivePlot's throttle (`min_interval_s`, and 40 times the
    last redraw's duration; the start of the sweep counts as a redraw); the
    end of each trial always redraws. A redraw
    costs the same at trial 50 as at trial 2 (`benchmarks/live_compare.py`).

    Examples:
        >>> live = kt.sweep.LiveSweep(path=tmp_path / "sweep.png")
        >>> results = kt.sweep.sweep(
        ...     lambda units: kt.compile(kt.build_mlp(2, [units])), {"units": [2, 4]},
        ...     data=(x, y), fit_kwargs={"epochs": 2}, live=live)
        >>> live.resolved_mode  # the test session sets KERASTOOLS_LIVEPLOT=off
        'off'
        >>> live.render_png()[:4]
        b'\\x89PNG'
        >>> [text.get_text() for text in live.figure.texts[:2]]
        ['units=2', 'units=4']

    Args:
        metrics: base names of the metrics to draw besides the loss (their
            `val_` twins come along); `None` draws every logged key but the
            bookkeeping ones and the learning rate. Defaults to None.
        path: the PNG file to replace at each redraw. Defaults to None.
        mode: `"auto"`, `"notebook"`, `"widget"`, `"file"` or `"off"`.
            Defaults to `"auto"`.
        min_interval_s: the least time between two redraws, and between
            the start of the sweep and the first, in seconds. Defaults to 0.5.
        figsize: size of the panels in inches; the legend's columns widen
            the figure. Defaults to (10, 3.5).
        dpi: resolution of the PNG. Defaults to 80.
        max_points: the most points drawn per line. Defaults to 2000.
        log_loss: logarithmic y axes for `loss` and `val_loss`. Defaults to False.
        max_pixels: the most pixels the panels may have (`figsize` x `dpi`
            squared), refused here. Defaults to 25 million (`MAX_PIXELS`).

    Raises:
        ConfigError: a value out of range or an unknown mode; when the sweep
            starts, file mode without `path`, or a missing IPython/ipywidgets.
        ConfigTypeError: an argument of the wrong type.
    """

    def __init__(
        self,
        metrics: Sequence[str] | None = None,
        *,
        path: str | os.PathLike[str] | None = None,
        mode: PlotMode = "auto",
        min_interval_s: float = 0.5,
        figsize: tuple[float, float] = (10, 3.5),
        dpi: int = 80,
        max_points: int = 2000,
        log_loss: bool = False,
        max_pixels: int = MAX_PIXELS,
    ) -> None:
        self.metrics = check_metrics(metrics)
        self.path = None if path is None else check_path("path", path)
        self.mode, self.min_interval_s, self.figsize, self.dpi, self.max_points = check_drawing(
            mode, min_interval_s, figsize, dpi, max_points, max_pixels
        )
        self.log_loss = check_bool("log_loss", log_loss)
        # The clock behind the throttle; tests swap in a fake one.
        self._clock: Callable[[], float] = time.perf_counter
        self.resolved_mode: str | None = None
        self.output_path: Path | None = None
        self.render_seconds: list[float] = []
        self._live_figure: SweepFigure | None = None
        self._sinks: list[Sink] = []
        self._next_render_at = 0.0
        self._plot_guard = PlotGuard("LiveSweep")

    @property
    def figure(self) -> Figure | None:
        """The matplotlib `Figure` of the current (or last) sweep; None before the sweep starts."""
        return None if self._live_figure is None else self._live_figure.figure

    def start(self, labels: Sequence[str]) -> None:
        """Begin a sweep of `len(labels)` trials (`sweep` calls this before the first trial).

        Examples:
            >>> live = kt.sweep.LiveSweep(mode="off")
            >>> live.start(["lr=0.1", "lr=0.01"])
            >>> live.resolved_mode, live.figure is not None
            ('off', True)

        Raises:
            ConfigError: file mode without `path`, or a missing IPython/ipywidgets.
        """
        self.resolved_mode = resolve_mode(self.mode)
        if self.resolved_mode == "file" and self.path is None:
            raise ConfigError(
                "A live sweep outside Jupyter (or with KERASTOOLS_LIVEPLOT=file) writes a PNG file and "
                "needs its path: sweep(..., live='sweep_live.png') or "
                f"live=kerastools.sweep.LiveSweep(path=...). Received: mode={self.mode!r}, path=None"
            )
        self.output_path = self.path if self.resolved_mode != "off" else None
        self._sinks = open_sinks(self.resolved_mode, self.output_path)
        plan = PanelPlan(self.metrics, show_lr=False, log_loss=self.log_loss, targets={})
        self._live_figure = SweepFigure(list(labels), plan, self.figsize, self.dpi, self.max_points)
        self.render_seconds = []
        started = self._clock()  # the start counts as a redraw, as in LivePlot
        self._next_render_at = next_render_at(started, started, self.min_interval_s)
        self._plot_guard = PlotGuard("LiveSweep")

    def trial_callback(self, index: int) -> keras.callbacks.Callback:
        """The callback that feeds trial `index` (from 0) to the figure (`sweep` adds it).

        Examples:
            >>> live = kt.sweep.LiveSweep(mode="off")
            >>> live.start(["units=8"])
            >>> _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[live.trial_callback(0)])
            >>> _ = live.render_png()  # drawn already unless KERASTOOLS_LIVEPLOT=off
            >>> live.figure.axes[0].get_lines()[0].get_xdata().tolist()
            [1.0, 2.0]
        """
        return _TrialFeed(self, check_int("index", index, low=0))

    def end(self) -> None:
        """Draw the last state and make the figure whole (`sweep` calls this after the last trial).

        Examples:
            >>> live = kt.sweep.LiveSweep(mode="off")
            >>> live.start(["units=8"])
            >>> live.end()
        """
        figure = self._require_figure()
        figure.end_trial()
        if self.resolved_mode not in (None, "off") and figure.has_lines:
            self._publish(final=True)
        figure.finish()

    def render_png(self, finished: bool = False) -> bytes:
        """Draw the current state now, ignoring the throttle, and return PNG bytes.

        Examples:
            >>> live = kt.sweep.LiveSweep(mode="off")
            >>> live.start(["units=8"])
            >>> live.render_png()[:4]
            b'\\x89PNG'
        """
        return self._require_figure().render(finished)

    def redraw(self) -> None:
        """Draw now and send the PNG to the outputs (file, notebook), ignoring the throttle.

        Examples:
            >>> live = kt.sweep.LiveSweep(mode="off")
            >>> live.start(["units=8"])
            >>> live.redraw()  # mode "off": nothing to send
            >>> live.render_seconds
            []
        """
        self._require_figure()
        self._maybe_publish(force=True)

    def _require_figure(self) -> SweepFigure:
        if self._live_figure is None:
            raise ConfigError("This LiveSweep has not started: pass it to sweep(..., live=...) first.")
        return self._live_figure

    def _maybe_publish(self, force: bool = False) -> None:
        if self.resolved_mode in (None, "off") or self._plot_guard.failed:
            return
        if force or self._clock() >= self._next_render_at:
            self._publish()

    def _publish(self, final: bool = False) -> None:
        start = self._clock()
        png = self._plot_guard.run(lambda: self.render_png(finished=final))  # warns once; goes on
        if png is None:
            return
        for sink in self._sinks:
            sink.publish(png, final)
        end = self._clock()
        self.render_seconds.append(max(end - start, 0.0))
        self._next_render_at = next_render_at(start, end, self.min_interval_s)


class _TrialFeed(keras.callbacks.Callback):
    """Feeds one trial's epoch logs to a `LiveSweep`'s figure."""

    def __init__(self, live: LiveSweep, index: int) -> None:
        super().__init__()
        self.live = live
        self.index = index
        self.async_safe = True  # no batch hooks: Keras may run them in its thread pool

    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        planned = float((self.params or {}).get("epochs") or 0)
        self.live._require_figure().begin_trial(self.index, planned)

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self.live._require_figure().record_epoch(epoch, scalar_values(logs))
        self.live._maybe_publish()

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        self.live._require_figure().end_trial()
        self.live._maybe_publish(force=True)  # cheap: the finished lines join the background once


def check_live(live: Any) -> LiveSweep | None:
    """`sweep`'s `live` argument as a `LiveSweep`, or None for no live figure.

    Examples:
        >>> check_live(True).path is None, check_live("runs/sweep.png").path.name, check_live(False)
        (True, 'sweep.png', None)

    Raises:
        ConfigTypeError: not a bool, None, a path or a `LiveSweep`.
    """
    if live is None or live is False:
        return None
    if live is True:
        return LiveSweep()
    if isinstance(live, LiveSweep):
        return live
    if isinstance(live, (str, os.PathLike)) and os.fspath(live):
        return LiveSweep(path=live)
    raise ConfigTypeError(
        "Argument `live` must be True (notebook output in Jupyter; elsewhere give a path), a PNG "
        f"path, a kerastools.sweep.LiveSweep, or False/None. Received: live={live!r}"
    )
