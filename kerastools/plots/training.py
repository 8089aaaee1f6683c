"""How training went: one run's loss and metric curves, and the colours that tell many runs apart.

`training_curves` draws what `model.fit` returned. `trial_colors` picks the
line colours of a sweep's figures (`kerastools.sweep.records.sweep_curves`,
`kerastools.sweep.live_figure`), which live beside their data in `kerastools.sweep`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from kerastools.errors import ConfigError, ConfigTypeError
from kerastools.log_keys import is_bookkeeping, is_learning_rate
from kerastools.plots.figure import grid_size, new_figure, panel_axes
from kerastools.tensorboard_events import epoch_history

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["training_curves", "trial_colors"]


def _history_dict(history: Any) -> dict[str, list[float]]:
    if isinstance(history, (str, os.PathLike)):
        return epoch_history(history, argument="history")
    values = getattr(history, "history", history)
    if not isinstance(values, Mapping):
        raise ConfigTypeError(
            "Argument `history` must be a keras History (what `fit` returns), a dict of "
            f"metric name -> list of values or a TensorBoard log directory. Received: history={history!r}"
        )
    result: dict[str, list[float]] = {}
    for key, series in values.items():
        if isinstance(series, (str, bytes)) or not isinstance(series, Sequence | np.ndarray):
            raise ConfigTypeError(
                f"Argument `history` must map metric names to lists of numbers. "
                f"Received: history[{key!r}]={series!r}"
            )
        try:
            result[str(key)] = [float(value) for value in series]
        except (TypeError, ValueError) as error:
            raise ConfigTypeError(
                f"Argument `history` must map metric names to lists of numbers. "
                f"Received: history[{key!r}]={series!r:.80}"
            ) from error
    return result


def _epochs_axis(values: list[float], total: int) -> list[int]:
    # A key that appeared mid-run (a callback that starts logging later) has
    # fewer values: they belong to the last epochs.
    return list(range(total - len(values) + 1, total + 1))


def training_curves(
    history: Any, metrics: Sequence[str] | None = None, *, figure: Figure | None = None
) -> Figure:
    """Loss, loss on a log scale, then each metric: train and validation curves side by side.

    Examples:
        >>> model = kerastools.compile(kerastools.build_mlp(2, [8]), metrics=["mae"])
        >>> history = model.fit(x, y, validation_split=0.25, epochs=2, verbose=0)
        >>> fig = kerastools.plots.training_curves(history)
        >>> [ax.get_title() for ax in fig.axes]
        ['loss', 'loss (log scale)', 'mae']

    Args:
        history: the `History` that `model.fit` returns, its `.history`
            dict, or a TensorBoard log directory with `epoch_*` scalars (as
            `keras.callbacks.TensorBoard` and `TensorBoardLogger` write).
            Keys that appear mid-run are drawn on the epochs they cover.
        metrics: the metrics to draw after the two loss panels, by their
            training name (`"accuracy"`, not `"val_accuracy"`), or a
            callback's key such as `"learning_rate"`. Defaults to None (every
            logged metric; the bookkeeping keys `learning_rate`, `lr`,
            `iterations`, `epoch_time_s` and `samples_per_s` only when named).
        figure: a figure to clear and draw into instead of a new one.
            Defaults to None.

    Returns:
        The figure, one axes per panel.

    Raises:
        ConfigError: `history` has no `loss`, or a requested metric is not in it
            (the message lists those that are); a log directory without
            `epoch_*` scalars (the message lists its tags).
    """
    values = _history_dict(history)
    if "loss" not in values:
        raise ConfigError(
            f"Argument `history` has no 'loss' to draw. Available keys: {sorted(values)}"
        )
    trained = [key for key in values if not key.startswith("val_") and key != "loss"]
    if metrics is None:
        chosen = [key for key in trained if not (is_bookkeeping(key) or is_learning_rate(key))]
    else:
        if isinstance(metrics, (str, bytes)) or not isinstance(metrics, Sequence):
            raise ConfigTypeError(
                f"Argument `metrics` must be a list of names. Received: metrics={metrics!r}"
            )
        missing = [name for name in metrics if name not in values]
        if missing:
            raise ConfigError(
                f"Argument `metrics` names keys that are not in the history: {missing}. "
                f"Available: {trained}. Received: metrics={list(metrics)!r}"
            )
        chosen = list(metrics)
    total = max(len(series) for series in values.values())
    panels = [("loss", "loss", False), ("loss", "loss (log scale)", True)]
    panels += [(name, name, False) for name in chosen]
    from matplotlib.ticker import MaxNLocator

    columns = 2 if len(panels) == 4 else 3  # 2x2 rather than 3 + 1
    fig = new_figure(*grid_size(len(panels), columns, 4.0), figure=figure)
    for ax, (key, title, log) in zip(panel_axes(fig, len(panels), columns), panels, strict=True):
        has_validation = bool(values.get(f"val_{key}"))
        for name, label in ((key, "train"), (f"val_{key}", "validation")):
            series = values.get(name)
            if series:
                ax.plot(
                    _epochs_axis(series, total),
                    series,
                    label=label,
                    marker="." if total < 30 else None,
                )
        if log:
            ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        if has_validation:
            ax.legend()
    return fig


# --------------------------------------------------------------------------- colours of many runs


def trial_colors(count: int) -> list[Any]:
    """`count` distinct line colours: the default cycle up to 10, `tab20` up to 20, else `turbo`.

    Examples:
        >>> trial_colors(3)
        ['C0', 'C1', 'C2']
        >>> len(trial_colors(50))
        50
    """
    import matplotlib

    if count <= 10:
        return [f"C{index}" for index in range(count)]
    if count <= 20:
        colormap = matplotlib.colormaps["tab20"]
        return [colormap(index) for index in range(count)]
    colormap = matplotlib.colormaps["turbo"]
    return [colormap(value) for value in np.linspace(0.05, 0.95, count)]
