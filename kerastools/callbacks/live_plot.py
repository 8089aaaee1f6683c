"""Live training curves that redraw in place, in Jupyter and in scripts, at bounded cost.

`LivePlot` keeps one matplotlib `Figure` per run, drawn with the Agg canvas and
never through pyplot, so the user's own figures are never shown, closed or
replaced. Each redraw becomes a PNG that goes to one place:

- a Jupyter kernel: one output updated in place through a display handle
  (never `clear_output`, so what the cell printed stays), or an
  `ipywidgets.Image` with `mode="widget"`;
- a script, CI or a terminal: a PNG file replaced atomically, so a viewer
  never reads half an image.

The environment variable `KERASTOOLS_LIVEPLOT` (`off`, `file`, `notebook`,
`widget` or `auto`) overrides `mode` for every LivePlot in the process: set it
to `off` in CI, or to `file` to get PNGs from a notebook run headless.

Cost stays bounded: a redraw happens only when `min_interval_s` has passed
*and* at least `THROTTLE_FACTOR` times the last redraw's duration, so drawing
takes at most about 1/THROTTLE_FACTOR of the wall time. Each line is
downsampled to `max_points`, and axis limits grow in steps, so most redraws
only repaint the lines on a cached background: the cost of a redraw does not
grow with the number of epochs.
"""

from __future__ import annotations

import logging
import math
import numbers
import os
import struct
import sys
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import keras
import numpy as np

from kerastools._atomic import atomic_write
from kerastools._validation import check_bool, check_choice, check_float, check_int
from kerastools.errors import ConfigError, ConfigTypeError
from kerastools.log_keys import BOOKKEEPING_KEYS

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["BOOKKEEPING_KEYS", "ENV_VAR", "MODES", "THROTTLE_FACTOR", "LivePlot", "PlotMode", "downsample"]

logger = logging.getLogger(__name__)

PlotMode = Literal["auto", "notebook", "widget", "file", "off"]
MODES: tuple[str, ...] = ("auto", "notebook", "widget", "file", "off")
ENV_VAR = "KERASTOOLS_LIVEPLOT"
# Wait at least this many times the last redraw's duration before the next
# one: drawing then costs at most ~1/41 of the run, inside the 1.03x target
# with room for the first and the last redraw.
THROTTLE_FACTOR = 40.0
DEFAULT_PATH = "live_plot.png"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

_LR_KEY = "learning_rate"
# Written into logs by LearningRateLogger and EpochTimer: counters and timings,
# not training curves, so `metrics=None` leaves them out (naming them plots them).
_TRAIN_COLOR = "C0"
_VALID_COLOR = "C1"
_TARGET_STYLE: dict[str, Any] = {"color": "0.35", "linestyle": "--", "linewidth": 1.0}
_MARKER_BELOW = 40  # lines with fewer points get markers: one epoch is a dot, not nothing


class _Series:
    """A growable (x, y) buffer: appends are O(1) amortised, views are free."""

    def __init__(self) -> None:
        self._x = np.empty(64)
        self._y = np.empty(64)
        self.size = 0

    def append(self, x: float, y: float) -> None:
        if self.size == len(self._x):
            self._x = np.concatenate([self._x, np.empty(len(self._x))])
            self._y = np.concatenate([self._y, np.empty(len(self._y))])
        self._x[self.size] = x
        self._y[self.size] = y
        self.size += 1

    @property
    def x(self) -> np.ndarray:
        return self._x[: self.size]

    @property
    def y(self) -> np.ndarray:
        return self._y[: self.size]


def downsample(x: np.ndarray, y: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """At most `max_points` points of (x, y), keeping each bucket's min and max.

    Spikes (a diverging batch, a bad epoch) survive the reduction, unlike with
    plain striding.

    Examples:
        >>> x = np.arange(10_000.0)
        >>> y = np.zeros(10_000); y[1234] = 5.0
        >>> small_x, small_y = downsample(x, y, 100)
        >>> len(small_x) <= 100, float(small_y.max())
        (True, 5.0)
    """
    n = len(x)
    if n <= max_points:
        return x, y
    buckets_wanted = max(max_points // 2, 1)
    size = -(-n // buckets_wanted)
    buckets = -(-n // size)
    padded = np.full(buckets * size, np.nan)
    padded[:n] = y
    rows = padded.reshape(buckets, size)
    finite = np.isfinite(rows)
    lowest = np.where(finite, rows, np.inf).argmin(axis=1)
    highest = np.where(finite, rows, -np.inf).argmax(axis=1)
    starts = np.arange(buckets) * size
    picks = np.unique(np.concatenate([starts + lowest, starts + highest]))
    picks = picks[picks < n]
    return x[picks], y[picks]


def _grown_limits(
    current: tuple[float, float] | None, low: float, high: float, log: bool
) -> tuple[float, float]:
    """Axis limits that contain [low, high], changed only when the data leaves them.

    A change redraws the whole background (ticks, labels), so limits jump with
    headroom (25% of the span on the side that grew) instead of following every
    epoch; they still fit the data like autoscaling does.
    """
    if current is not None and current[0] <= low and high <= current[1]:
        return current
    if log:
        low, high = math.log10(low), math.log10(high)
    span = high - low
    if span <= 0:
        span = max(abs(high) * 0.1, 1e-3 if log else 1e-9)
    grew_low = current is None or (10**low if log else low) < current[0]
    grew_high = current is None or (10**high if log else high) > current[1]
    bottom = low - span * (0.25 if grew_low else 0.05)
    top = high + span * (0.25 if grew_high else 0.05)
    if not log and low >= 0:
        bottom = max(bottom, -0.05 * span)  # a loss or a rate: no room below zero
    if log:
        return 10**bottom, 10**top
    return bottom, top


def _in_ipython_kernel() -> bool:
    """True inside a Jupyter kernel (notebook, lab, VS Code, Colab), not a terminal IPython."""
    ipython = sys.modules.get("IPython")  # no IPython imported: certainly no kernel
    get_ipython = getattr(ipython, "get_ipython", None)
    if not callable(get_ipython):
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _is_chief() -> bool:
    """Whether this process draws and writes: the chief of a multi-worker job."""
    from kerastools.checkpoints import is_chief  # one rule for every file kerastools writes

    return is_chief()


class _Panel:
    """One axes: its lines by series name, value readouts and its limits."""

    def __init__(self, name: str, axes: Axes, log: bool) -> None:
        self.name = name
        self.axes = axes
        self.log = log
        self.lines: dict[str, Any] = {}
        # The latest train and validation values, in their lines' colours.
        self.readouts: dict[str, Any] = {}
        self.ylim: tuple[float, float] | None = None

    def dynamic_artists(self) -> list[Any]:
        """What changes at every redraw: drawn over the cached background."""
        return [*self.lines.values(), *self.readouts.values()]


class LivePlot(keras.callbacks.Callback):
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

    A `path` given explicitly is written in every mode but `"off"`. Under a
    multi-worker strategy only the chief draws and writes.

    Redraws are throttled: one happens only when `min_interval_s` has passed
    and at least `THROTTLE_FACTOR` times the duration of the last one; the
    end of training always redraws. After training, `figure` is a complete
    matplotlib `Figure` (save it with `figure.savefig(...)`) and `history`
    holds the values per epoch.

    Examples:
        >>> plot = kt.callbacks.LivePlot(mode="file", path=tmp_path / "live.png",
        ...                              targets={"loss": 0.05})
        >>> _ = model.fit(x, y, validation_split=0.25, epochs=3, verbose=0, callbacks=[plot])
        >>> sorted(plot.history), plot.epochs
        (['learning_rate', 'loss', 'val_loss'], [1, 2, 3])
        >>> plot.render_png()[:8]
        b'\\x89PNG\\r\\n\\x1a\\n'

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
        min_interval_s: the least time between two redraws, in seconds.
            Defaults to 0.5.
        figsize: figure size in inches; it never changes during a run, so
            the PNG keeps its size. Defaults to (10, 3.5).
        dpi: resolution of the PNG. Defaults to 80.
        max_points: the most points drawn per line; longer lines are
            downsampled keeping minima and maxima (to at most two points per
            pixel column, whichever is fewer). Defaults to 2000.
        per_batch: also record the running training metrics after every
            batch (thin lines); redraws keep the same throttle. This makes
            Keras call callbacks synchronously. Defaults to False.

    Raises:
        ConfigError: a value out of range, an unknown mode, a target outside
            the plotted metrics, or (when training starts) an unknown
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
    ) -> None:
        super().__init__()
        self.metrics = _check_metrics(metrics)
        self.show_lr = check_bool("show_lr", show_lr)
        self.targets = _check_targets(targets, self.metrics, self.show_lr)
        self.log_loss = check_bool("log_loss", log_loss)
        if path is not None and not isinstance(path, (str, os.PathLike)):
            raise ConfigTypeError(f"Argument `path` must be a file path or None. Received: path={path!r}")
        if path is not None and not os.fspath(path):
            raise ConfigError(f"Argument `path` must not be empty. Received: path={path!r}")
        self.path = Path(path) if path is not None else None
        self.mode: str = check_choice("mode", mode, MODES)
        self.min_interval_s = check_float("min_interval_s", min_interval_s, low=0.0)
        self.figsize = _check_figsize(figsize)
        self.dpi = check_int("dpi", dpi, low=10, high=1000)
        self.max_points = check_int("max_points", max_points, low=10)
        self.per_batch = check_bool("per_batch", per_batch)
        # Keras runs batch hooks in a thread pool unless a callback overrides
        # them; ours is a no-op without per_batch, so it must not force sync.
        self.async_safe = not self.per_batch
        # The clock behind the throttle; tests swap in a fake one.
        self._clock: Callable[[], float] = time.perf_counter
        self.figure: Figure | None = None
        self.resolved_mode: str | None = None
        self.output_path: Path | None = None
        self.epochs: list[int] = []
        self.render_seconds: list[float] = []
        self._reset_run()

    # ----------------------------------------------------------------- state

    def _reset_run(self) -> None:
        self.figure = None
        self.epochs = []
        self.render_seconds = []
        self._series: dict[str, _Series] = {}
        self._batch_series: dict[str, _Series] = {}
        self._pending_batches: list[list[tuple[str, float]]] = []
        self._current_epoch = 0
        self._first_epoch: int | None = None
        self._ranges: dict[str, tuple[float, float]] = {}
        self._panel_order: list[str] = []
        self._panels: dict[str, _Panel] = {}
        self._layout: tuple[str, ...] = ()
        self._xlim: tuple[float, float] | None = None
        self._background: Any = None
        self._next_render_at = -math.inf
        self._display_handle: Any = None
        self._widget: Any = None
        self._checked_requested = False
        self._file_failed = False
        self._finished = False

    @property
    def history(self) -> dict[str, list[float]]:
        """Values per epoch, aligned with `epochs` (NaN where a key was missing)."""
        epochs = np.asarray(self.epochs, dtype=float)
        aligned = {}
        for key, series in self._series.items():
            values = np.full(len(epochs), np.nan)
            values[np.searchsorted(epochs, series.x)] = series.y
            aligned[key] = values.tolist()
        return aligned

    @property
    def batch_history(self) -> dict[str, tuple[list[float], list[float]]]:
        """With `per_batch`: `{key: (positions in epochs, values)}` recorded after each batch."""
        return {
            key: (series.x.tolist(), series.y.tolist())
            for key, series in self._batch_series.items()
        }

    # ----------------------------------------------------------------- hooks

    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        self._reset_run()
        self.resolved_mode = self._resolve_mode()
        self.output_path = None
        if self.resolved_mode == "file":
            self.output_path = self.path if self.path is not None else Path.cwd() / DEFAULT_PATH
        elif self.resolved_mode != "off" and self.path is not None:
            self.output_path = self.path
        if self.output_path is not None:
            self.output_path.parent.mkdir(parents=True, exist_ok=True)
        if self.resolved_mode in ("notebook", "widget"):
            self._import_display(self.resolved_mode)  # fail now, not at the first epoch
        if self.resolved_mode != "off":
            # One-off costs (importing matplotlib, the figure) stay out of the
            # first render's duration, which sets the throttle.
            self._ensure_figure()

    def on_epoch_begin(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self._current_epoch = epoch
        if self._first_epoch is None:
            self._first_epoch = epoch

    def on_train_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        if not self.per_batch:
            return
        values = [(key, number) for key, value in (logs or {}).items()
                  if key != _LR_KEY and (number := _as_float(value)) is not None]
        steps = (self.params or {}).get("steps")
        if not steps:
            # Unknown epoch length (a generator): place this epoch's batches at its end.
            self._pending_batches.append(values)
            return
        self._record_batch(self._current_epoch + (batch + 1) / steps, values)
        self._maybe_render()

    def _record_batch(self, position: float, values: list[tuple[str, float]]) -> None:
        for key, number in values:
            self._batch_series.setdefault(key, _Series()).append(position, number)
            self._widen_range(key, number)

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        logs = dict(logs or {})
        if self.show_lr and _LR_KEY not in logs and self._model is not None:
            from kerastools.learning_rates import current_learning_rate

            logs[_LR_KEY] = current_learning_rate(self.model)
        position = epoch + 1
        if self._first_epoch is None:
            self._first_epoch = epoch
        for index, values in enumerate(self._pending_batches):
            self._record_batch(epoch + (index + 1) / len(self._pending_batches), values)
        self._pending_batches = []
        self.epochs.append(position)
        for key, value in logs.items():
            number = _as_float(value)
            if number is None:
                continue
            self._series.setdefault(key, _Series()).append(position, number)
            self._widen_range(key, number)
        if not self._checked_requested:
            self._checked_requested = True
            self._warn_missing(logs)
        self._maybe_render()

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        if self.resolved_mode in (None, "off") or not self.epochs:
            return
        self._finished = True
        self._render_and_publish(final=True)
        # Animated artists are skipped by savefig: make the figure whole for the user.
        for panel in self._panels.values():
            for artist in panel.dynamic_artists():
                artist.set_animated(False)
        self._display_handle = None
        self._widget = None

    # ------------------------------------------------------------ rendering

    def render_png(self) -> bytes:
        """Draw the current state now, ignoring the throttle, and return PNG bytes.

        Examples:
            >>> plot = kt.callbacks.LivePlot(mode="off")
            >>> plot.on_epoch_end(0, {"loss": 0.9, "val_loss": 1.0})
            >>> plot.render_png().startswith(b"\\x89PNG")
            True
        """
        figure = self._ensure_figure()
        names = tuple(self._panel_names())
        if names != self._layout:
            self._build_panels(names)
        self._update_artists()
        canvas = figure.canvas
        if self._background is None:
            canvas.draw()  # everything but the animated lines and readouts
            self._background = canvas.copy_from_bbox(figure.bbox)  # type: ignore[attr-defined]
        else:
            canvas.restore_region(self._background)  # type: ignore[attr-defined]
        for panel in self._panels.values():
            for artist in panel.dynamic_artists():
                panel.axes.draw_artist(artist)
        return _encode_png(canvas)

    def _maybe_render(self) -> None:
        if self.resolved_mode in (None, "off"):
            return
        if self._clock() >= self._next_render_at:
            self._render_and_publish()

    def _render_and_publish(self, final: bool = False) -> None:
        start = self._clock()
        png = self.render_png()
        self._publish(png, final)
        end = self._clock()
        duration = max(end - start, 0.0)
        self.render_seconds.append(duration)
        self._next_render_at = end + max(self.min_interval_s, THROTTLE_FACTOR * duration)

    def _publish(self, png: bytes, final: bool) -> None:
        if self.output_path is not None and not self._file_failed:
            try:
                with atomic_write(self.output_path) as handle:
                    handle.write(png)
            except OSError as error:
                # A plot must not kill a long run; say so once and stop writing.
                self._file_failed = True
                logger.warning("LivePlot cannot write %s (%s); file output stops.", self.output_path, error)
        if self.resolved_mode == "notebook":
            image_type, display = self._import_display("notebook")
            image = image_type(data=png, format="png")
            if self._display_handle is None:
                self._display_handle = display(image, display_id=True)
            else:
                self._display_handle.update(image)
        elif self.resolved_mode == "widget":
            image_type, display = self._import_display("widget")
            if self._widget is None:
                import ipywidgets

                self._widget = ipywidgets.Image(value=png, format="png")
                self._display_handle = display(self._widget, display_id=True)
            else:
                self._widget.value = png
            if final:
                # Replace the widget by a plain PNG: it survives in the saved notebook.
                self._display_handle.update(image_type(data=png, format="png"))
                self._widget.close()

    # --------------------------------------------------------------- layout

    def _panel_of(self, key: str) -> str | None:
        if key == _LR_KEY:
            return _LR_KEY if self.show_lr else None
        base = key[4:] if key.startswith("val_") else key
        if base == "loss" or (self.metrics is not None and base in self.metrics):
            return base
        if self.metrics is None and key not in BOOKKEEPING_KEYS:
            return base
        return None

    def _panel_names(self) -> list[str]:
        present = set()
        for key in [*self._series, *self._batch_series]:
            panel = self._panel_of(key)
            if panel is not None:
                present.add(panel)
        for panel in sorted(present - set(self._panel_order)):
            self._panel_order.append(panel)  # first seen, first placed
        order = [name for name in self._panel_order if name in present]
        if self.metrics is not None:
            rank = {name: index for index, name in enumerate(self.metrics)}
            order.sort(key=lambda name: rank.get(name, -1))
        order.sort(key=lambda name: (name != "loss", name == _LR_KEY))
        return order

    def _ensure_figure(self) -> Figure:
        if self.figure is None:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure

            self.figure = Figure(figsize=self.figsize, dpi=self.dpi)
            FigureCanvasAgg(self.figure)
            self._layout = ()
        return self.figure

    def _build_panels(self, names: tuple[str, ...]) -> None:
        """Lay out one axes per panel; runs again only when a new panel appears."""
        from matplotlib.ticker import MaxNLocator

        figure = self._ensure_figure()
        figure.clear()
        self._panels = {}
        self._layout = names
        self._xlim = None
        self._background = None
        count = max(len(names), 1)
        columns = min(count, 4)
        rows = -(-count // columns)
        width, height = self.figsize
        # Fixed margins in inches: no layout engine (constrained layout alone
        # costs more than a whole redraw).
        figure.subplots_adjust(
            left=0.55 / width,
            right=1 - 0.15 / width,
            bottom=0.45 / height,
            top=1 - 0.55 / height,
            wspace=0.3,
            hspace=0.6,
        )
        for index, name in enumerate(names):
            axes = figure.add_subplot(rows, columns, index + 1)
            log = (name == "loss" and self.log_loss)
            if log:
                axes.set_yscale("log")
            # Fixed positions for the title and axis labels: matplotlib would
            # otherwise measure every tick label to place them, at each redraw.
            axes.set_title(_title(name), loc="left", fontsize=9, y=1.0, pad=3)
            axes.tick_params(labelsize=7)
            axes.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
            if not log:
                axes.yaxis.set_major_locator(MaxNLocator(nbins=5))
            axes.grid(True, alpha=0.3)
            if index // columns == rows - 1:
                axes.set_xlabel("epoch", fontsize=8)
            axes.xaxis.set_label_coords(0.5, -0.1)
            axes.yaxis.set_label_coords(-0.1, 0.5)
            for key, value in self.targets.items():
                if self._panel_of(key) == name:
                    axes.axhline(value, **_TARGET_STYLE)
            panel = _Panel(name, axes, log)
            sides = [("train", 0.78, _TRAIN_COLOR), ("valid", 1.0, _VALID_COLOR)]
            if name == _LR_KEY:
                sides = [("train", 1.0, _TRAIN_COLOR)]
            for series, x_position, color in sides:
                panel.readouts[series] = axes.text(
                    x_position, 1.02, "", transform=axes.transAxes, ha="right", va="bottom",
                    fontsize=7, color=color, animated=True,
                )
            self._panels[name] = panel
        entries: list[tuple[str, dict[str, Any]]] = [
            ("train", {"color": _TRAIN_COLOR}),
            ("validation", {"color": _VALID_COLOR}),
        ]
        if self.per_batch:
            entries.append(("per batch", {"color": _TRAIN_COLOR, "alpha": 0.35, "linewidth": 0.8}))
        if self.targets:
            entries.append(("target", _TARGET_STYLE))
        self._draw_key(entries)

    def _draw_key(self, entries: list[tuple[str, dict[str, Any]]]) -> None:
        """A one-row key at the top, placed by hand: `legend` costs a tenth of a redraw."""
        from matplotlib.lines import Line2D

        figure = self._ensure_figure()
        width_in, height_in = self.figsize
        line_in, gap_in, char_in = 0.3, 0.25, 0.075  # approximate widths at fontsize 8
        widths = [line_in + 0.06 + len(label) * char_in for label, _ in entries]
        left = 0.5 - (sum(widths) + gap_in * (len(entries) - 1)) / 2 / width_in
        y = 1 - 0.16 / height_in
        for (label, style), width in zip(entries, widths, strict=True):
            line_end = left + line_in / width_in
            figure.add_artist(Line2D([left, line_end], [y, y], transform=figure.transFigure, **style))
            figure.text(line_end + 0.06 / width_in, y, label, fontsize=8, va="center")
            left += (width + gap_in) / width_in

    def _update_artists(self) -> None:
        """Push data into lines; invalidate the background when limits move."""
        x_low = float(self._first_epoch or 0)
        last = float(self.epochs[-1]) if self.epochs else x_low + 1
        planned = float((self.params or {}).get("epochs") or 0)
        if self._finished:
            xlim = (x_low, last)  # done, or stopped early: the final plot fits the epochs run
        elif self._xlim is not None and self._xlim[0] == x_low and last <= self._xlim[1]:
            xlim = self._xlim
        else:
            # The planned epoch count fixes the x axis for the whole run; past
            # it (or without it) the axis grows in steps, not every epoch.
            xlim = (x_low, planned if planned >= last else max(last * 1.25, last + 1))
        if xlim != self._xlim:
            self._xlim = xlim
            self._background = None
            for panel in self._panels.values():
                panel.axes.set_xlim(xlim)
        for panel in self._panels.values():
            for readout in panel.readouts.values():
                readout.set_text("")
        everything = [(key, series, True) for key, series in self._batch_series.items()]
        everything += [(key, series, False) for key, series in self._series.items()]
        for key, series, is_batch in everything:
            name = self._panel_of(key)
            if name is None or name not in self._panels or series.size == 0:
                continue
            panel = self._panels[name]
            line_key = ("batch:" if is_batch else "") + key
            line = panel.lines.get(line_key)
            if line is None:
                line = self._new_line(panel, key, is_batch)
                panel.lines[line_key] = line
            # A bucket's min and max per pixel column draw the same picture as
            # every point: more would cost time and show nothing.
            limit = min(self.max_points, 2 * max(int(panel.axes.bbox.width), 1))
            x, y = downsample(series.x, series.y, limit)
            line.set_data(x, y)
            if not is_batch:
                line.set_marker("o" if series.size < _MARKER_BELOW else "None")
                side = "valid" if key.startswith("val_") else "train"
                panel.readouts[side].set_text(f"{series.y[-1]:.4g}")
        for name, panel in self._panels.items():
            data_range = self._panel_range(name)
            if data_range is None:
                continue
            ylim = _grown_limits(panel.ylim, *data_range, log=panel.log)
            if ylim != panel.ylim:
                panel.ylim = ylim
                panel.axes.set_ylim(ylim)
                self._background = None

    def _new_line(self, panel: _Panel, key: str, is_batch: bool) -> Any:
        if is_batch:
            style: dict[str, Any] = {"color": _TRAIN_COLOR, "alpha": 0.35, "linewidth": 0.8}
        elif key.startswith("val_"):
            style = {"color": _VALID_COLOR, "linewidth": 1.5, "markersize": 3}
        else:
            style = {"color": _TRAIN_COLOR, "linewidth": 1.5, "markersize": 3}
        (line,) = panel.axes.plot([], [], animated=True, **style)
        return line

    def _widen_range(self, key: str, value: float) -> None:
        name = self._panel_of(key)
        if name is None or not math.isfinite(value):
            return
        if name == "loss" and self.log_loss and value <= 0:
            return  # a log axis cannot show it
        low, high = self._ranges.get(name, (value, value))
        self._ranges[name] = (min(low, value), max(high, value))

    def _panel_range(self, name: str) -> tuple[float, float] | None:
        data = self._ranges.get(name)
        targets = [value for key, value in self.targets.items() if self._panel_of(key) == name]
        if data is None:
            return None
        return min([data[0], *targets]), max([data[1], *targets])

    # ---------------------------------------------------------- environment

    def _resolve_mode(self) -> str:
        mode = self.mode
        override = os.environ.get(ENV_VAR, "").strip().lower()
        if override:
            if override not in MODES:
                raise ConfigError(
                    f"Environment variable {ENV_VAR} must be one of {list(MODES)}. "
                    f"Received: {ENV_VAR}={os.environ[ENV_VAR]!r}"
                )
            mode = override
        if mode == "auto":
            mode = "notebook" if _in_ipython_kernel() else "file"
        if mode != "off" and not _is_chief():
            logger.debug("LivePlot: not the chief worker; drawing nothing.")
            return "off"
        return mode

    @staticmethod
    def _import_display(mode: str) -> tuple[Any, Callable[..., Any]]:
        try:
            from IPython.display import Image, display
        except ImportError as error:
            raise ConfigError(
                f"LivePlot mode={mode!r} needs IPython: pip install 'kerastools[jupyter]'. "
                f"Received: mode={mode!r}"
            ) from error
        if mode == "widget":
            try:
                import ipywidgets  # noqa: F401
            except ImportError as error:
                raise ConfigError(
                    "LivePlot mode='widget' needs ipywidgets: pip install 'kerastools[jupyter]'. "
                    "Received: mode='widget'"
                ) from error
        return Image, display

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


def _title(name: str) -> str:
    return "learning rate" if name == _LR_KEY else name.replace("_", " ")


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _encode_png(canvas: Any) -> bytes:
    """PNG of the Agg buffer as it is (no redraw, unlike `print_png`).

    Written directly: 8-bit RGB rows, no filter, zlib level 1. Twice as fast
    as going through Pillow at the default settings, for a similar file size.
    """
    width, height = canvas.get_width_height(physical=True)
    pixels = np.asarray(canvas.buffer_rgba()).reshape(height, width, 4)
    rows = np.empty((height, 1 + width * 3), dtype=np.uint8)
    rows[:, 0] = 0  # filter type "None" for every row
    rows[:, 1:].reshape(height, width, 3)[...] = pixels[:, :, :3]  # one copy, alpha dropped
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit truecolour
    return b"".join(
        (
            _PNG_SIGNATURE,
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)),
            _png_chunk(b"IEND", b""),
        )
    )


def _as_float(value: Any) -> float | None:
    """A log value as a float; None for what is not a scalar (a confusion matrix)."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, numbers.Real):
        return float(value)
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None
    return float(array) if array.ndim == 0 else None


def _check_metrics(metrics: Sequence[str] | None) -> tuple[str, ...] | None:
    if metrics is None:
        return None
    if isinstance(metrics, str) or not isinstance(metrics, Sequence):
        raise ConfigTypeError(
            f"Argument `metrics` must be a list of metric names or None. Received: metrics={metrics!r}"
        )
    names: list[str] = []
    for name in metrics:
        if not isinstance(name, str) or not name:
            raise ConfigTypeError(
                f"Argument `metrics` must contain non-empty strings. Received: metrics={metrics!r}"
            )
        if name in (_LR_KEY, f"val_{_LR_KEY}"):
            raise ConfigError(
                f"Argument `metrics` must not name the learning rate; it has its own panel "
                f"(show_lr=True). Received: metrics={metrics!r}"
            )
        base = name[4:] if name.startswith("val_") else name
        if base != "loss" and base not in names:
            names.append(base)
    return tuple(names)


def _check_targets(
    targets: Mapping[str, float] | None, metrics: tuple[str, ...] | None, show_lr: bool
) -> dict[str, float]:
    if targets is None:
        return {}
    if not isinstance(targets, Mapping):
        raise ConfigTypeError(
            f"Argument `targets` must be a dict of {{log key: value}}, e.g. "
            f"{{'val_accuracy': 0.992}}. Received: targets={targets!r}"
        )
    checked = {}
    for key, value in targets.items():
        if not isinstance(key, str) or not key:
            raise ConfigTypeError(
                f"Argument `targets` must have non-empty string keys. Received: targets={targets!r}"
            )
        checked[key] = check_float(f"targets[{key!r}]", value)
        base = key[4:] if key.startswith("val_") else key
        if key == _LR_KEY:
            plotted = show_lr
        elif metrics is None:
            plotted = key not in BOOKKEEPING_KEYS
        else:
            plotted = base == "loss" or base in metrics
        if not plotted:
            fix = "set show_lr=True" if key == _LR_KEY else f"add {base!r} to `metrics`"
            raise ConfigError(
                f"Argument `targets` names {key!r}, which is not plotted; {fix}. "
                f"Received: targets={targets!r}, metrics={None if metrics is None else list(metrics)!r}"
            )
    return checked


def _check_figsize(figsize: Any) -> tuple[float, float]:
    if not isinstance(figsize, (tuple, list)) or len(figsize) != 2:
        raise ConfigTypeError(
            f"Argument `figsize` must be a (width, height) pair in inches. Received: figsize={figsize!r}"
        )
    width = check_float("figsize", figsize[0], low=0.5, high=100.0)
    height = check_float("figsize", figsize[1], low=0.5, high=100.0)
    return width, height
