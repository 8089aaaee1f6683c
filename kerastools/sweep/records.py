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

from kerastools._validation import check_choice, check_name
from kerastools.errors import ConfigError, ConfigTypeError
from kerastools.improvement import best_first, infer_mode

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["SweepResults", "TrialRecord"]


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
        from kerastools.plots import sweep_curves

        return sweep_curves(
            self,
            metric,
            log=log,
            keys=keys,
            color_by=color_by,
            style_by=style_by,
            figure=figure,
        )
