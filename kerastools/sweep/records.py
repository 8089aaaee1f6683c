"""What a sweep keeps of each trial, and the collection that ranks, tabulates and plots them.

Each trial keeps its parameters, history, final metrics and fit time, not the
model, so a sweep of hundreds of models does not hold hundreds of models in
memory.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from kerastools._validation import check_bool, check_choice, check_name
from kerastools.errors import ConfigError, ConfigTypeError
from kerastools.improvement import best_first, infer_mode
from kerastools.plots.figure import new_figure
from kerastools.plots.training import trial_colors

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["SweepResults", "TrialRecord", "sweep_curves"]


def format_value(value: Any) -> str:
    """A parameter value as a legend shows it: floats short, lists joined by dashes."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "-".join(format_value(item) for item in value)
    return str(value)


def varying_keys(
    grid: Mapping[str, Sequence[Any]], combos: Sequence[Mapping[str, Any]]
) -> tuple[str, ...]:
    """The grid keys whose values differ between `combos`, in grid order."""
    return tuple(key for key in grid if len({repr(combo.get(key)) for combo in combos}) > 1)


def checked_metric(records: Sequence[TrialRecord], metric: Any) -> str:
    """`metric` as a name some trial logged; the error lists the names that exist."""
    name = str(check_name("metric", metric, allow_none=False))
    available = sorted({key for record in records for key in (*record.metrics, *record.history)})
    if name not in available:
        raise ConfigError(
            f"Argument `metric` is not a logged metric of this sweep; available: "
            f"{available}. Received: metric={metric!r}"
        )
    return name


@dataclasses.dataclass(frozen=True)
class TrialRecord:
    """One trained configuration of a sweep.

    Examples:
        >>> results = kerastools.sweep.sweep(
        ...     lambda units: kerastools.compile(kerastools.build_mlp(2, [units])),
        ...     {"units": [2, 4]}, data=(x, y), fit_kwargs={"epochs": 1})
        >>> record = results[1]
        >>> record.params, record.describe(), sorted(record.metrics)
        ({'units': 4}, 'units=4', ['loss'])

    Attributes:
        index: position in the sweep, from 0.
        params: the keyword arguments `build` received.
        history: `History.history` of the fit: metric name -> one value per epoch.
        metrics: the last value of each history key.
        fit_seconds: wall-clock time of `model.fit`.
        varying: the parameter names whose values differ across the sweep.
    """

    index: int
    params: dict[str, Any]
    history: dict[str, list[float]]
    metrics: dict[str, float]
    fit_seconds: float
    varying: tuple[str, ...] = ()

    @property
    def epochs(self) -> int:
        """Epochs actually trained (fewer than asked when a callback stopped early)."""
        return max((len(values) for values in self.history.values()), default=0)

    def describe(self, keys: Sequence[str] | None = None) -> str:
        """A short label such as `"units=16, lr=0.01"` for legends and logs.

        Only the parameters that vary across the sweep are named, so a 2x2 grid over five fixed settings reads
        `"units=16, optimizer=adam"`. When nothing varies, every parameter is
        named. Lists print joined by dashes (`[16, 16]` -> `16-16`).

        Args:
            keys: parameter names to show, in this order. Defaults to None
                (the varying ones, in grid order).

        Raises:
            ConfigError: a key that is not a parameter of this trial.
        """
        if keys is None:
            names: Sequence[str] = self.varying or tuple(self.params)
        else:
            if isinstance(keys, (str, bytes)) or not isinstance(keys, Sequence):
                raise ConfigTypeError(
                    f"Argument `keys` must be a list of parameter names. Received: keys={keys!r}"
                )
            unknown = [key for key in keys if key not in self.params]
            if unknown:
                raise ConfigError(
                    f"Argument `keys` names unknown parameters {unknown}; parameters: "
                    f"{list(self.params)}. Received: keys={list(keys)!r}"
                )
            names = keys
        return ", ".join(f"{name}={format_value(self.params[name])}" for name in names)


class SweepResults(Sequence[TrialRecord]):
    """The records of a sweep, with ways to rank, tabulate and plot them.

    A sequence: `len(results)`, `results[0]`, `for record in results`.

    Examples:
        >>> results = kerastools.sweep.sweep(
        ...     lambda lr: kerastools.compile(kerastools.build_mlp(2, [4]), learning_rate=lr),
        ...     {"lr": [1e-3, 1e-2]}, data=(x, y), fit_kwargs={"epochs": 2})
        >>> results.varying
        ('lr',)
        >>> results.best("loss").describe() in ("lr=0.001", "lr=0.01")
        True

    Attributes:
        records: one `TrialRecord` per trained configuration, in training order.
        grid: the grid the sweep was given.
        varying: parameter names whose values differ between the trials.
    """

    def __init__(self, records: Sequence[TrialRecord], grid: Mapping[str, Sequence[Any]]):
        listed = isinstance(records, Sequence) and not isinstance(records, (str, bytes))
        if not listed or not all(isinstance(record, TrialRecord) for record in records):
            raise ConfigTypeError(
                f"Argument `records` must be a list of TrialRecord. Received: records={records!r:.80}"
            )
        self.records = list(records)
        if not isinstance(grid, Mapping) or not all(
            isinstance(values, Sequence) and not isinstance(values, (str, bytes))
            for values in grid.values()
        ):
            raise ConfigTypeError(
                f"Argument `grid` must be a dict of name -> list of values. Received: grid={grid!r:.80}"
            )
        self.grid = {key: list(values) for key, values in grid.items()}
        self.varying = varying_keys(self.grid, [record.params for record in self.records])

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: Any) -> Any:
        return self.records[index]

    def __iter__(self) -> Iterator[TrialRecord]:
        return iter(self.records)

    def __repr__(self) -> str:
        return f"SweepResults({len(self.records)} trials, varying {list(self.varying)})"

    def best(self, metric: str, mode: Literal["auto", "min", "max"] = "auto") -> TrialRecord:
        """The trial with the best final value of `metric`.

        Use a validation metric (`"val_loss"`) when the sweep had validation
        data: the training loss rewards overfitting. NaN counts as worst.

        Args:
            metric: a history key, e.g. `"val_loss"` or `"val_accuracy"`.
            mode: `"min"`, `"max"`, or `"auto"` to infer it from the name.
                Defaults to `"auto"`.

        Returns:
            The best `TrialRecord`.

        Raises:
            ConfigError: an empty sweep, a metric no trial logged (the message
                lists those that exist), or a mode that cannot be inferred.
        """
        if not self.records:
            raise ConfigError("This sweep has no trials to rank.")
        name = checked_metric(self.records, metric)
        mode = check_choice("mode", mode, ["auto", "min", "max"])  # type: ignore[assignment]
        direction = infer_mode(name) if mode == "auto" else mode
        return min(self.records, key=lambda record: best_first(record.metrics.get(name, math.nan), direction))

    def table(self) -> Any:
        """One row per trial: its index, parameters, final metrics and fit time.

        Returns:
            A pandas `DataFrame` when pandas is installed, else a list of dicts
            with the same columns.

        Examples:
            >>> results = kerastools.sweep.sweep(
            ...     lambda units: kerastools.compile(kerastools.build_mlp(2, [units])),
            ...     {"units": [2]}, data=(x, y), fit_kwargs={"epochs": 1})
            >>> rows = results.table()
            >>> list(rows[0].keys() if isinstance(rows, list) else rows.columns)
            ['trial', 'units', 'epochs', 'fit_seconds', 'loss']
        """
        rows = [
            {
                "trial": record.index,
                **record.params,
                "epochs": record.epochs,
                "fit_seconds": round(record.fit_seconds, 3),
                **record.metrics,
            }
            for record in self.records
        ]
        try:
            import pandas
        except ImportError:
            return rows
        return pandas.DataFrame(rows)

    def plot(
        self,
        metric: str = "loss",
        *,
        log: bool = False,
        keys: Sequence[str] | None = None,
        color_by: str | Sequence[str] | None = None,
        style_by: str | None = None,
        figure: Figure | None = None,
    ) -> Figure:
        """Every trial's `metric` curve on one axes, legend outside: `kerastools.plots.sweep_curves`.

        Colours, line styles and legend labels follow `sweep_curves`' rules.

        Examples:
            >>> results = kerastools.sweep.sweep(
            ...     lambda units, lr: kerastools.compile(kerastools.build_mlp(2, [units]), learning_rate=lr),
            ...     {"units": [2, 4], "lr": [1e-3, 1e-2]}, data=(x, y), fit_kwargs={"epochs": 2})
            >>> fig = results.plot("loss", log=True)
            >>> [text.get_text() for text in fig.axes[0].get_legend().get_texts()][:2]
            ['units=2, lr=0.001', 'units=2, lr=0.01']

        Args: the same as `kerastools.plots.sweep_curves` after `results`.

        Returns:
            The figure (drawn by `kerastools.plots.sweep_curves`).

        Raises:
            ConfigError: an empty sweep, a metric no trial logged, or an
                unknown parameter name.
        """
        return sweep_curves(
            self,
            metric,
            log=log,
            keys=keys,
            color_by=color_by,
            style_by=style_by,
            figure=figure,
        )


# --------------------------------------------------------------------------- the comparison figure

_LINE_STYLES = ("solid", "dashed", "dotted", "dashdot")


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


def _legend_labels(
    results: SweepResults, keys: Sequence[str] | None, params: list[str]
) -> tuple[list[str], str | None]:
    """One legend label per trial, and a legend title when the labels list values only."""
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
