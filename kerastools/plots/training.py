"""How training went: one run's loss and metric curves, and a sweep's runs compared.

`training_curves` draws what `model.fit` returned; `sweep_curves` draws one
metric of every trial of a `kerastools.sweep.sweep` on one axes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from kerastools._validation import check_bool
from kerastools.errors import ConfigError, ConfigTypeError
from kerastools.log_keys import is_bookkeeping, is_learning_rate
from kerastools.plots.figure import grid_size, new_figure, panel_axes
from kerastools.tensorboard_events import epoch_history

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from kerastools.sweep import SweepResults, TrialRecord

__all__ = ["sweep_curves", "training_curves", "trial_colors"]

# Keys kerastools' and Keras' callbacks log that are not model metrics; drawn only when asked for.
_LINE_STYLES = ("solid", "dashed", "dotted", "dashdot")


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


# --------------------------------------------------------------------------- sweep comparison


def _check_param(argument: str, key: Any, params: list[str]) -> str:
    if key not in params:
        raise ConfigError(
            f"Argument `{argument}` must name a parameter of the sweep, one of {params}. "
            f"Received: {argument}={key!r}"
        )
    return str(key)


def _pick_style(results: SweepResults, style_by: Any, params: list[str]) -> str | None:
    """The parameter the line style follows: the last varying one with at most four values."""
    if style_by is not None:
        return _check_param("style_by", style_by, params)
    if len(results.varying) < 2:
        return None
    counts = {
        key: len({repr(record.params[key]) for record in results.records})
        for key in results.varying
    }
    candidates = [key for key in results.varying if counts[key] <= len(_LINE_STYLES)]
    return candidates[-1] if candidates else None


def _pick_colors(
    results: SweepResults, color_by: Any, style_key: str | None, params: list[str]
) -> list[str]:
    """The parameters the colour follows: by default the varying ones the style does not."""
    if color_by is None:
        return [key for key in results.varying if key != style_key]
    if isinstance(color_by, str):
        color_by = [color_by]
    if not isinstance(color_by, Sequence):
        raise ConfigTypeError(
            f"Argument `color_by` must be a parameter name or a list of them. Received: color_by={color_by!r}"
        )
    return [_check_param("color_by", key, params) for key in color_by]


def _group_index(records: Sequence[TrialRecord], keys: Sequence[str]) -> dict[int, int]:
    """Map each trial to a group number: trials with equal values of `keys` share one."""
    groups: dict[tuple[str, ...], int] = {}
    result = {}
    for record in records:
        signature = tuple(repr(record.params[key]) for key in keys)
        result[record.index] = groups.setdefault(signature, len(groups))
    return result


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


def _legend_labels(
    results: SweepResults, keys: Sequence[str] | None, params: list[str]
) -> tuple[list[str], str | None]:
    """One legend label per trial, and a legend title when the labels list values only."""
    from kerastools.sweep.records import format_value

    labels = [record.describe(keys) for record in results.records]
    legend_keys = list(keys) if keys is not None else list(results.varying or params)
    if len(legend_keys) <= 2:
        return labels, None
    # "sigmoid, sgd, 0.001, 4, 1" under a title naming the keys, rather than
    # repeating five "key=" prefixes on 32 lines.
    labels = [
        ", ".join(format_value(record.params[key]) for key in legend_keys)
        for record in results.records
    ]
    return labels, ", ".join(legend_keys)


def sweep_curves(
    results: SweepResults,
    metric: str = "loss",
    *,
    log: bool = False,
    keys: Sequence[str] | None = None,
    color_by: str | Sequence[str] | None = None,
    style_by: str | None = None,
    figure: Figure | None = None,
) -> Figure:
    """Every trial's `metric` curve of a sweep on one axes, legend outside.

    `SweepResults.plot` calls this. The colour tells one group of parameters
    apart and the line style another: by default the style follows the last
    varying parameter with at most four values, and the colour the other
    varying ones. Legend labels name the varying parameters
    (`"units=2, lr=0.01"`); with more than two, they list the values only and
    the legend title names the parameters.

    Examples:
        >>> results = kerastools.sweep.sweep(
        ...     lambda units, lr: kerastools.compile(kerastools.build_mlp(2, [units]), learning_rate=lr),
        ...     {"units": [2, 4], "lr": [1e-3, 1e-2]}, data=(x, y), fit_kwargs={"epochs": 2})
        >>> fig = kerastools.plots.sweep_curves(results, "loss", style_by="units")
        >>> [line.get_linestyle() for line in fig.axes[0].get_lines()]
        ['-', '-', '--', '--']

    Args:
        results: what `kerastools.sweep.sweep` returned.
        metric: the history key to draw. Defaults to `"loss"`.
        log: logarithmic y axis. Defaults to False.
        keys: parameter names in the legend labels. Defaults to None
            (the varying ones, see `TrialRecord.describe`).
        color_by: parameter name(s) that pick the colour. Defaults to None
            (automatic, see above).
        style_by: parameter name that picks the line style (cycling
            through four styles). Defaults to None (automatic).
        figure: a figure to clear and draw into. Defaults to None.

    Returns:
        The figure.

    Raises:
        ConfigError: an empty sweep, a metric no trial logged, or an
            unknown parameter name.
    """
    from matplotlib.ticker import MaxNLocator

    from kerastools.sweep.records import SweepResults, checked_metric

    if not isinstance(results, SweepResults):
        raise ConfigTypeError(
            f"Argument `results` must be what kerastools.sweep.sweep returns (a SweepResults). "
            f"Received: results={results!r:.80}"
        )
    if not results.records:
        raise ConfigError("Argument `results` has no trials to plot.")
    name = checked_metric(results.records, metric)
    log = check_bool("log", log)
    params = list(results.records[0].params)
    style_key = _pick_style(results, style_by, params)
    color_keys = _pick_colors(results, color_by, style_key, params)
    color_index = _group_index(results.records, color_keys)
    style_index = _group_index(results.records, [style_key] if style_key else [])
    colors = trial_colors(max(color_index.values(), default=0) + 1)
    labels, title = _legend_labels(results, keys, params)
    longest = max([len(label) for label in labels] + [len(title or "") // 2, 10])
    columns = 1 if len(results.records) <= 24 else 2
    legend_width = min(9.0, (0.07 * longest + 0.6) * columns)
    fig = new_figure(6.5 + legend_width, 5.5, figure=figure)
    ax = fig.add_subplot()
    for record, label in zip(results.records, labels, strict=True):
        values = record.history.get(name)
        if not values:
            continue
        ax.plot(
            range(1, len(values) + 1),
            values,
            label=label,
            color=colors[color_index[record.index]],
            linestyle=_LINE_STYLES[style_index[record.index] % len(_LINE_STYLES)],
            linewidth=1.6,
            alpha=0.85,
        )
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(name)
    ax.set_title(f"{name}: {len(results.records)} trials")
    ax.grid(True, alpha=0.3)
    ax.legend(
        loc="center left",
        bbox_to_anchor=(1.01, 0.5),
        fontsize="small",
        title=title,
        title_fontsize="small",
        ncols=columns,
        frameon=False,
    )
    return fig
