"""The live figure of a sweep: every trial's curves on one figure, the running trial highlighted.

One panel per log key (`loss`, `val_loss`, then each metric and its `val_`
twin), one line per trial in each, and a legend on the right that lists
every planned trial (its size is known before the first trial trains, so the
PNG keeps one size). The cost of a redraw does not grow with the number of
finished trials: their lines live in a cached background, and a trial that
finishes is drawn once onto that background (not by redrawing the figure);
each redraw then repaints only the running trial's lines, its marker in the
legend and the status line. The whole figure is drawn again only when a
panel appears or an axis limit moves, and limits grow in steps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from kerastools.live.figure import grown_limits
from kerastools.live.history import RunHistory, ValueRange, downsample
from kerastools.live.panels import PanelPlan
from kerastools.live.png import encode_png

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["FINISHED_STYLE", "RUNNING_STYLE", "SweepFigure"]

FINISHED_STYLE: dict[str, Any] = {"linewidth": 1.1, "alpha": 0.55, "zorder": 2}
RUNNING_STYLE: dict[str, Any] = {"linewidth": 2.6, "alpha": 1.0, "zorder": 3}
_MARKER_BELOW = 40  # lines with fewer points get markers, as in LivePlot
_ENTRY_IN = 0.16  # height of one legend row, inches, at fontsize 7
_CHAR_IN = 0.062
_LABEL_CHARS = 40


class _KeyPanel:
    """One axes showing one log key: a line per trial, and its limits."""

    def __init__(self, key: str, axes: Axes, log: bool) -> None:
        self.key = key
        self.axes = axes
        self.log = log
        self.lines: dict[int, Any] = {}
        self.ylim: tuple[float, float] | None = None


class SweepFigure:
    """Draws a sweep's trials as they train and returns PNG bytes, at a cost flat in the trials done.

    Examples:
        >>> plan = PanelPlan(metrics=None, show_lr=False, log_loss=False, targets={})
        >>> live = SweepFigure(["units=2", "units=4"], plan, figsize=(6, 3), dpi=50, max_points=100)
        >>> live.begin_trial(0, planned_epochs=2)
        >>> live.record_epoch(0, {"loss": 0.9, "val_loss": 1.0})
        >>> live.render()[:4]
        b'\\x89PNG'
        >>> live.begin_trial(1, planned_epochs=2)  # trial 0 is now drawn as finished
        >>> live.record_epoch(0, {"loss": 0.8, "val_loss": 0.9})
        >>> _ = live.render()
        >>> [line.get_linewidth() for line in live.panels["loss"].lines.values()]
        [1.1, 2.6]
    """

    def __init__(
        self, labels: Sequence[str], plan: PanelPlan, figsize: tuple[float, float], dpi: int, max_points: int
    ) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        from kerastools.plots.training import trial_colors

        self.labels = [label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1] + "…" for label in labels]
        self.colors = trial_colors(len(labels))
        panel_width, height = figsize
        self._rows = max(int((height - 0.5) / _ENTRY_IN), 1)
        columns = -(-max(len(labels), 1) // self._rows)
        self._column_in = 0.45 + _CHAR_IN * max([len(label) for label in self.labels] + [8])
        self._size = (panel_width + 0.2 + columns * self._column_in, height)
        self._panel_width = panel_width
        self.figure = Figure(figsize=self._size, dpi=dpi)
        FigureCanvasAgg(self.figure)
        self.panels: dict[str, _KeyPanel] = {}
        self.running: int | None = None
        self._plan = plan
        self._max_points = max_points
        self._layout: tuple[str, ...] = ()
        self._xlim: tuple[float, float] | None = None
        self._background: Any = None
        self._finished: dict[int, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
        self._finished_ranges: dict[str, ValueRange] = {}
        self._finished_end = 0.0
        self._to_bake: list[tuple[Axes, Any]] = []
        self._history = RunHistory()
        self._planned = 0.0
        self._marker: Any = None
        self._status: Any = None

    # ------------------------------------------------------------- trials

    def begin_trial(self, index: int, planned_epochs: float) -> None:
        """Start drawing trial `index` (from 0) as the running one; the previous one is finished."""
        self.end_trial()
        self.running = index
        self._history = RunHistory()
        self._planned = max(self._planned, float(planned_epochs or 0))

    def record_epoch(self, epoch: int, values: Mapping[str, float]) -> None:
        """Record the running trial's logs of `epoch` (from 0)."""
        self._history.record_epoch(epoch, values)

    def end_trial(self) -> None:
        """Draw the running trial as finished: its lines join the background, once."""
        index = self.running
        if index is None:
            return
        data = {
            key: downsample(series.x.copy(), series.y.copy(), self._max_points)
            for key, series in self._history.series.items()
            if self._plan.panel_of(key) is not None and series.size
        }
        self._finished[index] = data
        for key, span in self._history.ranges.items():
            merged = self._finished_ranges.setdefault(key, ValueRange())
            for pair in (span.finite, span.positive):
                for value in pair or ():
                    merged.add(value)
        if self._history.epochs:
            self._finished_end = max(self._finished_end, float(self._history.epochs[-1]))
        for panel in self.panels.values():
            if panel.key not in data:
                continue
            line = panel.lines.get(index)
            if line is None:  # no redraw while it ran (the throttle): its line is new
                line = panel.lines[index] = self._new_line(panel.axes, index, data[panel.key], finished=True)
            else:
                line.set_data(*data[panel.key])
                _restyle(line, finished=True)
            self._to_bake.append((panel.axes, line))
        self.running = None
        self._history = RunHistory()

    # ----------------------------------------------------------- drawing

    def render(self, finished: bool = False) -> bytes:
        """Draw the current state and return PNG bytes; `finished` fits the x axis to the epochs run."""
        keys = self._keys()
        if keys != self._layout or self._marker is None:
            self._build(keys)
        self._update_xlim(finished)
        self._update_running_lines()
        self._update_ylims()
        canvas = self.figure.canvas
        if self._background is None:
            canvas.draw()  # everything but the running trial's lines, marker and status
            self._background = canvas.copy_from_bbox(self.figure.bbox)  # type: ignore[attr-defined]
        else:
            canvas.restore_region(self._background)  # type: ignore[attr-defined]
            if self._to_bake:  # a trial just finished: add its lines to the background, once
                for axes, line in self._to_bake:
                    axes.draw_artist(line)
                self._background = canvas.copy_from_bbox(self.figure.bbox)  # type: ignore[attr-defined]
        self._to_bake = []
        self._update_status()
        for panel in self.panels.values():
            line = panel.lines.get(self.running) if self.running is not None else None
            if line is not None:
                panel.axes.draw_artist(line)
        self.figure.draw_artist(self._marker)
        self.figure.draw_artist(self._status)
        return encode_png(canvas)

    @property
    def has_lines(self) -> bool:
        """Whether any trial has logged a plotted key yet."""
        return bool(self._keys())

    def forget_background(self) -> None:
        """Make the next `render` draw the whole figure again."""
        self._background = None

    def finish(self) -> None:
        """Make the figure whole for `savefig`, which skips animated artists."""
        self.end_trial()
        for artist in (self._marker, self._status):
            if artist is not None:
                artist.set_animated(False)

    def _keys(self) -> tuple[str, ...]:
        """The plotted keys: per panel of `PanelPlan`, the training key, then its `val_` twin."""
        keys = {key for data in self._finished.values() for key in data}
        keys |= {key for key, series in self._history.series.items() if series.size}
        keys = {key for key in keys if self._plan.panel_of(key) is not None}
        bases = self._plan.order(keys)
        return tuple(key for base in bases for key in (base, f"val_{base}") if key in keys)

    def _build(self, keys: tuple[str, ...]) -> None:
        """Lay out one axes per key, the finished trials' lines and the legend; runs when a key appears."""
        from matplotlib.lines import Line2D
        from matplotlib.ticker import MaxNLocator

        figure = self.figure
        figure.clear()
        self.panels, self._layout, self._xlim, self._background, self._to_bake = {}, keys, None, None, []
        count = max(len(keys), 1)
        columns = min(count, 4)
        rows = -(-count // columns)
        width, height = self._size
        figure.subplots_adjust(left=0.55 / width, right=(self._panel_width - 0.15) / width,
                               bottom=0.45 / height, top=1 - 0.5 / height, wspace=0.3, hspace=0.6)
        for number, key in enumerate(keys):
            axes = figure.add_subplot(rows, columns, number + 1)
            base = key[4:] if key.startswith("val_") else key
            panel = self.panels[key] = _KeyPanel(key, axes, self._plan.is_log(base))
            if panel.log:
                axes.set_yscale("log")
            axes.set_title(key.replace("_", " "), loc="left", fontsize=9, y=1.0, pad=3)
            axes.tick_params(labelsize=7)
            axes.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
            if not panel.log:
                axes.yaxis.set_major_locator(MaxNLocator(nbins=5))
            axes.grid(True, alpha=0.3)
            if number // columns == rows - 1:
                axes.set_xlabel("epoch", fontsize=8)
            for index, data in self._finished.items():
                if key in data:
                    panel.lines[index] = self._new_line(axes, index, data[key], finished=True)
        for index, label in enumerate(self.labels):
            x, y = self._entry_position(index)
            figure.add_artist(Line2D([x, x + 0.25 / width], [y, y], transform=figure.transFigure,
                                     color=self.colors[index], linewidth=1.6))
            figure.text(x + 0.3 / width, y, label, fontsize=7, va="center")
        self._marker = Line2D([0], [0], transform=figure.transFigure, marker=">", markersize=5,
                              color="black", linestyle="None", animated=True)
        self._status = figure.text(0.55 / width, 1 - 0.18 / height, "", fontsize=8, va="center", animated=True)

    def _new_line(self, axes: Axes, index: int, data: tuple[np.ndarray, np.ndarray], finished: bool) -> Any:
        (line,) = axes.plot(*data, color=self.colors[index], markersize=3)
        _restyle(line, finished)
        return line

    def _entry_position(self, index: int) -> tuple[float, float]:
        """Figure coordinates of trial `index`'s legend row (its line's left end)."""
        width, height = self._size
        column, row = divmod(index, self._rows)
        left_in = self._panel_width + 0.2 + column * self._column_in
        return left_in / width, 1 - (0.45 + row * _ENTRY_IN) / height

    # --------------------------------------------------------- per redraw

    def _update_status(self) -> None:
        done = len(self._finished)
        if self.running is None:
            self._marker.set_data([], [])
            self._status.set_text(f"{done} of {len(self.labels)} trials")
            return
        x, y = self._entry_position(self.running)
        self._marker.set_data([x - 0.08 / self._size[0]], [y])
        self._status.set_text(
            f"trial {self.running + 1} of {len(self.labels)} running (thick line): {self.labels[self.running]}"
        )

    def _update_xlim(self, finished: bool) -> None:
        last = max(self._finished_end, float(self._history.epochs[-1]) if self._history.epochs else 0.0)
        if finished:
            xlim = (0.0, max(last, 1.0))
        elif self._xlim is not None and last <= self._xlim[1]:
            xlim = self._xlim
        else:
            xlim = (0.0, self._planned if self._planned >= last else max(last * 1.25, last + 1))
        if xlim != self._xlim:
            self._xlim = xlim
            self._background = None
            for panel in self.panels.values():
                panel.axes.set_xlim(xlim)

    def _update_running_lines(self) -> None:
        if self.running is None:
            return
        for panel in self.panels.values():
            series = self._history.series.get(panel.key)
            if series is None or series.size == 0:
                continue
            line = panel.lines.get(self.running)
            if line is None:
                line = panel.lines[self.running] = self._new_line(panel.axes, self.running, (series.x, series.y), False)
            limit = min(self._max_points, 2 * max(int(panel.axes.bbox.width), 1))
            line.set_data(*downsample(series.x, series.y, limit))
            line.set_marker("o" if series.size < _MARKER_BELOW else "None")

    def _update_ylims(self) -> None:
        for key, panel in self.panels.items():
            spans = [span for span in (self._finished_ranges.get(key), self._history.ranges.get(key)) if span]
            pairs = [pair for span in spans if (pair := span.positive if panel.log else span.finite) is not None]
            if not pairs:
                continue
            low, high = min(pair[0] for pair in pairs), max(pair[1] for pair in pairs)
            ylim = grown_limits(panel.ylim, low, high, log=panel.log)
            if ylim != panel.ylim:
                panel.ylim = ylim
                panel.axes.set_ylim(ylim)
                self._background = None


def _restyle(line: Any, finished: bool) -> None:
    """The finished style (thin, faint, in the background) or the running one (thick, animated)."""
    line.set(**(FINISHED_STYLE if finished else RUNNING_STYLE))
    line.set_animated(not finished)
    if finished:
        line.set_marker("o" if len(line.get_xdata()) < _MARKER_BELOW else "None")
        line.set_markersize(2)
