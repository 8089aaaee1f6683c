"""Train one model per hyper-parameter combination and compare them.

`sweep(build, grid, ...)` replaces the loop the seed articles write by hand
(seed 000: `itertools.product` over five lists, `K.clear_session()`, a
`deepcopy` per model). `build(**params)` returns a compiled model, so with
the builders and `kerastools.compile` it is one lambda. Each trial keeps its
parameters, history, final metrics and fit time, not the model, so a sweep
of hundreds of models does not hold hundreds of models in memory.

For Bayesian search, `keras_tuner_hypermodel(build, space)` hands the same
`build` to keras-tuner (`pip install kerastools[tune]`).
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import itertools
import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import keras
import numpy as np

from kerastools._console import print_msg
from kerastools._validation import check_choice, check_int, check_name
from kerastools.callbacks.monitor import infer_mode
from kerastools.datasets import DatasetSplit
from kerastools.errors import ConfigError, ConfigTypeError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["SweepResults", "TrialRecord", "keras_tuner_hypermodel", "sweep"]

logger = logging.getLogger(__name__)

_LINE_STYLES = ("solid", "dashed", "dotted", "dashdot")
# Beyond this many combinations, random mode draws indices instead of listing them all.
_ENUMERATE_LIMIT = 1_000_000


def _format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "-".join(_format_value(item) for item in value)
    return str(value)


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

        Only the parameters that vary across the sweep are named (seed 001's
        legend rule), so a 2x2 grid over five fixed settings reads
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
        return ", ".join(f"{name}={_format_value(self.params[name])}" for name in names)


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
        self.records = list(records)
        self.grid = {key: list(values) for key, values in grid.items()}
        self.varying = _varying_keys(self.grid, [record.params for record in self.records])

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: Any) -> Any:
        return self.records[index]

    def __iter__(self) -> Iterator[TrialRecord]:
        return iter(self.records)

    def __repr__(self) -> str:
        return f"SweepResults({len(self.records)} trials, varying {list(self.varying)})"

    def _available_metrics(self) -> list[str]:
        return sorted(
            {key for record in self.records for key in (*record.metrics, *record.history)}
        )

    def _check_metric(self, metric: Any) -> str:
        name = str(check_name("metric", metric, allow_none=False))
        if name not in self._available_metrics():
            raise ConfigError(
                f"Argument `metric` is not a logged metric of this sweep; available: "
                f"{self._available_metrics()}. Received: metric={metric!r}"
            )
        return name

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
        name = self._check_metric(metric)
        mode = check_choice("mode", mode, ["auto", "min", "max"])  # type: ignore[assignment]
        direction = infer_mode(name) if mode == "auto" else mode
        sign = 1.0 if direction == "min" else -1.0

        def score(record: TrialRecord) -> float:
            value = record.metrics.get(name, math.nan)
            return sign * value if math.isfinite(value) else math.inf

        return min(self.records, key=score)

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
        """Every trial's `metric` curve on one axes, legend outside (seeds 000/001).

        The colour tells one group of parameters apart and the line style
        another: by default the style follows the last varying parameter
        with at most four values, and the colour the other varying ones.
        Legend labels name the varying parameters (`"units=2, lr=0.01"`);
        with more than two, they list the values only and the legend title
        names the parameters.

        Examples:
            >>> results = kerastools.sweep.sweep(
            ...     lambda units, lr: kerastools.compile(kerastools.build_mlp(2, [units]), learning_rate=lr),
            ...     {"units": [2, 4], "lr": [1e-3, 1e-2]}, data=(x, y), fit_kwargs={"epochs": 2})
            >>> fig = results.plot("loss", log=True)
            >>> [text.get_text() for text in fig.axes[0].get_legend().get_texts()][:2]
            ['units=2, lr=0.001', 'units=2, lr=0.01']

        Args:
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
        from kerastools.plots import _figure

        if not self.records:
            raise ConfigError("This sweep has no trials to plot.")
        name = self._check_metric(metric)
        params = list(self.records[0].params)
        style_key = self._pick_style(style_by, params)
        color_keys = self._pick_colors(color_by, style_key, params)
        color_index = _group_index(self.records, color_keys)
        style_index = _group_index(self.records, [style_key] if style_key else [])
        colors = _palette(max(color_index.values(), default=0) + 1)

        from matplotlib.ticker import MaxNLocator

        labels = [record.describe(keys) for record in self.records]
        title = None
        legend_keys = list(keys) if keys is not None else list(self.varying or params)
        if len(legend_keys) > 2:
            # "sigmoid, sgd, 0.001, 4, 1" under a title naming the keys, rather than
            # repeating five "key=" prefixes on 32 lines.
            title = ", ".join(legend_keys)
            labels = [
                ", ".join(_format_value(record.params[key]) for key in legend_keys)
                for record in self.records
            ]
        longest = max([len(label) for label in labels] + [len(title or "") // 2, 10])
        columns = 1 if len(self.records) <= 24 else 2
        legend_width = min(9.0, (0.07 * longest + 0.6) * columns)
        fig = _figure(6.5 + legend_width, 5.5, figure=figure)
        ax = fig.add_subplot()
        for record, label in zip(self.records, labels, strict=True):
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
        ax.set_title(f"{name}: {len(self.records)} trials")
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

    def _check_param(self, argument: str, key: Any, params: list[str]) -> str:
        if key not in params:
            raise ConfigError(
                f"Argument `{argument}` must name a parameter of the sweep, one of {params}. "
                f"Received: {argument}={key!r}"
            )
        return str(key)

    def _pick_style(self, style_by: Any, params: list[str]) -> str | None:
        if style_by is not None:
            return self._check_param("style_by", style_by, params)
        if len(self.varying) < 2:
            return None
        counts = {
            key: len({repr(record.params[key]) for record in self.records}) for key in self.varying
        }
        candidates = [key for key in self.varying if counts[key] <= len(_LINE_STYLES)]
        return candidates[-1] if candidates else None

    def _pick_colors(self, color_by: Any, style_key: str | None, params: list[str]) -> list[str]:
        if color_by is None:
            return [key for key in self.varying if key != style_key]
        if isinstance(color_by, str):
            color_by = [color_by]
        if not isinstance(color_by, Sequence):
            raise ConfigTypeError(
                f"Argument `color_by` must be a parameter name or a list of them. Received: color_by={color_by!r}"
            )
        return [self._check_param("color_by", key, params) for key in color_by]


def _varying_keys(
    grid: Mapping[str, Sequence[Any]], combos: Sequence[Mapping[str, Any]]
) -> tuple[str, ...]:
    return tuple(key for key in grid if len({repr(combo.get(key)) for combo in combos}) > 1)


def _group_index(records: Sequence[TrialRecord], keys: Sequence[str]) -> dict[int, int]:
    """Map each trial to a group number: trials with equal values of `keys` share one."""
    groups: dict[tuple[str, ...], int] = {}
    result = {}
    for record in records:
        signature = tuple(repr(record.params[key]) for key in keys)
        result[record.index] = groups.setdefault(signature, len(groups))
    return result


def _palette(count: int) -> list[Any]:
    import matplotlib

    if count <= 10:
        return [f"C{index}" for index in range(count)]
    if count <= 20:
        colormap = matplotlib.colormaps["tab20"]
        return [colormap(index) for index in range(count)]
    colormap = matplotlib.colormaps["turbo"]
    return [colormap(value) for value in np.linspace(0.05, 0.95, count)]


# --------------------------------------------------------------------------- running a sweep


def _check_grid(grid: Any, argument: str = "grid") -> dict[str, list[Any]]:
    if not isinstance(grid, Mapping) or not grid:
        raise ConfigTypeError(
            f"Argument `{argument}` must be a non-empty dict of parameter name -> list of values. "
            f"Received: {argument}={grid!r}"
        )
    checked = {}
    for key, values in grid.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise ConfigError(
                f"Argument `{argument}` keys must be valid Python names (they become keyword "
                f"arguments of `build`). Received key: {key!r}"
            )
        if (
            isinstance(values, (str, bytes, Mapping))
            or not isinstance(values, Sequence)
            or not values
        ):
            raise ConfigError(
                f"Argument `{argument}[{key!r}]` must be a non-empty list of values. "
                f"Received: {argument}[{key!r}]={values!r}"
            )
        checked[key] = list(values)
    return checked


def _check_build(build: Any, keys: Sequence[str]) -> Callable[..., keras.Model]:
    if not callable(build):
        raise ConfigTypeError(
            f"Argument `build` must be a function taking the grid's keys as keyword arguments and "
            f"returning a compiled keras.Model. Received: build={build!r}"
        )
    try:
        signature = inspect.signature(build)
    except (TypeError, ValueError):
        return build  # a builtin or C callable: we learn at the first call
    parameters = signature.parameters
    if any(parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in parameters.values()):
        return build
    accepted = [
        name
        for name, parameter in parameters.items()
        if parameter.kind
        in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    ]
    unknown = [key for key in keys if key not in accepted]
    if unknown:
        raise ConfigError(
            f"Argument `build` does not accept the grid keys {unknown}; its parameters are "
            f"{accepted}. Rename the grid keys or add them (or **kwargs) to `build`."
        )
    return build


def _combinations(
    grid: dict[str, list[Any]], mode: str, n_trials: Any, rng: np.random.Generator
) -> list[dict[str, Any]]:
    keys = list(grid)
    sizes = [len(grid[key]) for key in keys]
    total = math.prod(sizes)
    if mode == "grid":
        if n_trials is not None:
            raise ConfigError(
                "Argument `n_trials` applies to mode='random' only; mode='grid' trains every "
                f"combination ({total}). Received: n_trials={n_trials!r}"
            )
        return [
            dict(zip(keys, values, strict=True)) for values in itertools.product(*grid.values())
        ]
    if n_trials is None:
        raise ConfigError(
            f"Argument `n_trials` is required with mode='random' (at most {total}, the grid size). "
            "Received: n_trials=None"
        )
    n_trials = check_int("n_trials", n_trials, low=1, high=total)
    if total <= _ENUMERATE_LIMIT:
        picks = [int(index) for index in rng.choice(total, size=n_trials, replace=False)]
    else:
        chosen: dict[int, None] = {}
        while len(chosen) < n_trials:
            chosen[int(rng.integers(total))] = None
        picks = list(chosen)
    combos = []
    for flat in picks:
        combo = {}
        for key, size in zip(reversed(keys), reversed(sizes), strict=True):
            flat, position = divmod(flat, size)
            combo[key] = grid[key][position]
        combos.append({key: combo[key] for key in keys})
    return combos


def _check_callbacks(callbacks: Any) -> Callable[[], list[keras.callbacks.Callback]]:
    """Normalise `callbacks` to a factory: a list is reused, a function is called per trial."""

    def checked(items: Any, where: str) -> list[keras.callbacks.Callback]:
        if isinstance(items, keras.callbacks.Callback):
            items = [items]
        if not isinstance(items, Sequence) or not all(
            isinstance(item, keras.callbacks.Callback) for item in items
        ):
            raise ConfigTypeError(
                f"Argument `callbacks` must be a list of keras callbacks or a function that "
                f"returns one (called once per trial, for fresh callbacks). {where}: {items!r}"
            )
        return list(items)

    if callbacks is None:
        return list
    if callable(callbacks) and not isinstance(callbacks, keras.callbacks.Callback):
        return lambda: checked(callbacks(), "The function returned")
    fixed = checked(callbacks, "Received: callbacks=")
    return lambda: list(fixed)


def _sample_count(value: Any) -> int | None:
    """Samples in an array, or in the first array of a dict of inputs; None when unknown."""
    if isinstance(value, Mapping):
        value = next(iter(value.values()), None)
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        return None
    try:
        return len(value)
    except TypeError:  # a 0-d array
        return None


def _fit_arguments(data: Any, fit_kwargs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    if fit_kwargs is None:
        fit_kwargs = {}
    if not isinstance(fit_kwargs, Mapping):
        raise ConfigTypeError(
            f"Argument `fit_kwargs` must be a dict of `model.fit` arguments. Received: fit_kwargs={fit_kwargs!r}"
        )
    reserved = sorted({"x", "y", "callbacks"} & set(fit_kwargs))
    if reserved:
        raise ConfigError(
            f"Argument `fit_kwargs` must not contain {reserved}: pass the data as `data` and "
            f"callbacks as `callbacks`. Received keys: {sorted(fit_kwargs)}"
        )
    # A typo ("epoch") would otherwise surface as a TypeError from fit after the first build.
    allowed = [
        name
        for name in inspect.signature(keras.Model.fit).parameters
        if name not in ("self", "x", "y", "callbacks")
    ]
    unknown = [key for key in fit_kwargs if key not in allowed]
    if unknown:
        hints = {key: difflib.get_close_matches(str(key), allowed, n=1) for key in unknown}
        suggestion = "; ".join(
            f"{key!r}: did you mean {match[0]!r}?" for key, match in hints.items() if match
        )
        raise ConfigError(
            f"Argument `fit_kwargs` has keys `model.fit` does not take: {unknown}. "
            f"{suggestion + ' ' if suggestion else ''}Allowed: {allowed}"
        )
    kwargs = {"verbose": 0, **fit_kwargs}
    if isinstance(data, DatasetSplit):
        has_valid = len(data.valid[0]) > 0
        conflict = {"validation_data", "validation_split"} & set(kwargs)
        if has_valid and conflict:
            raise ConfigError(
                f"Argument `data` is a DatasetSplit with validation samples, so `fit_kwargs` must not "
                f"set {sorted(conflict)} as well."
            )
        if has_valid:
            kwargs["validation_data"] = data.valid
        return tuple(data.train), kwargs
    if isinstance(data, (tuple, list)):
        if len(data) != 2:
            raise ConfigError(
                "Argument `data` as a tuple must be `(x, y)`; for validation data pass a "
                "kerastools.datasets.DatasetSplit or `fit_kwargs={'validation_data': ...}`. "
                f"Received a tuple of {len(data)} items"
            )
        inputs, targets = data
        n_inputs, n_targets = _sample_count(inputs), _sample_count(targets)
        if n_inputs is not None and n_targets is not None and n_inputs != n_targets:
            raise ConfigError(
                f"Argument `data` must hold as many targets as inputs. Received: {n_inputs} inputs "
                f"and {n_targets} targets"
            )
        return tuple(data), kwargs
    if (
        isinstance(data, keras.utils.PyDataset)
        or hasattr(data, "element_spec")  # tf.data.Dataset
        or hasattr(data, "__next__")  # a generator yielding (x, y)
        or type(data).__module__.startswith(("torch.utils.data", "grain"))
    ):
        return (data,), kwargs
    raise ConfigTypeError(
        "Argument `data` must be `(x, y)`, a kerastools.datasets.DatasetSplit (its train part is "
        "fitted, its valid part validates), or a dataset yielding `(x, y)` batches (a "
        "keras.utils.PyDataset, tf.data.Dataset, generator or torch DataLoader). "
        f"Received: data={data!r}"
    )


def sweep(
    build: Callable[..., keras.Model],
    grid: Mapping[str, Sequence[Any]],
    *,
    fit_kwargs: Mapping[str, Any] | None = None,
    data: Any,
    mode: Literal["grid", "random"] = "grid",
    n_trials: int | None = None,
    seed: int | None = None,
    callbacks: Sequence[keras.callbacks.Callback]
    | Callable[[], Sequence[keras.callbacks.Callback]]
    | None = None,
    verbose: int = 0,
) -> SweepResults:
    """Train `build(**params)` for each combination of `grid` and collect the results.

    In `"grid"` mode every combination is trained, in `itertools.product`
    order (the last key changes fastest). In `"random"` mode `n_trials`
    distinct combinations are drawn. `keras.backend.clear_session()` runs
    between trials, so graphs and layer-name counters do not pile up.

    Examples:
        Seed 001: two settings of two parameters:

        >>> def build(units, optimizer):
        ...     return kerastools.compile(kerastools.build_mlp(2, [units]), optimizer=optimizer)
        >>> results = kerastools.sweep.sweep(
        ...     build, {"units": [2, 8], "optimizer": ["adam", "sgd"]},
        ...     data=(x, y), fit_kwargs={"epochs": 2, "batch_size": 32}, seed=0)
        >>> [record.describe() for record in results]
        ['units=2, optimizer=adam', 'units=2, optimizer=sgd', 'units=8, optimizer=adam', 'units=8, optimizer=sgd']

    Args:
        build: a function taking the grid's keys as keyword arguments and
            returning a compiled `keras.Model`.
        grid: parameter name -> list of values to try.
        fit_kwargs: arguments for `model.fit` (`epochs`, `batch_size`, ...),
            not `x`, `y` or `callbacks`. `verbose` defaults to 0. Defaults to None.
        data: `(x, y)`, a `kerastools.datasets.DatasetSplit` (trains on
            `train`, validates on `valid` when it is not empty), or a dataset
            `model.fit` accepts on its own.
        mode: `"grid"` (every combination) or `"random"` (`n_trials` of
            them). Defaults to `"grid"`.
        n_trials: number of combinations in random mode. Defaults to None.
        seed: when given, `keras.utils.set_random_seed(seed)` runs before each
            trial (so equal architectures start from equal weights) and random
            mode draws reproducibly. Defaults to None.
        callbacks: keras callbacks used in every trial, or a function that
            returns a fresh list per trial. Defaults to None.
        verbose: 1 prints one line per trial (Keras' `print_msg`).
            Defaults to 0.

    Returns:
        A `SweepResults` with one `TrialRecord` per trial.

    Raises:
        ConfigError: a grid that is not a dict of non-empty lists, grid keys
            `build` does not accept, a bad mode or `n_trials`, reserved
            `fit_kwargs`, data in an unknown form, or a `build` that does not
            return a compiled model.
    """
    checked_grid = _check_grid(grid)
    build = _check_build(build, list(checked_grid))
    mode = check_choice("mode", mode, ["grid", "random"])  # type: ignore[assignment]
    seed = None if seed is None else check_int("seed", seed, low=0)
    verbose = check_int("verbose", verbose, low=0)
    fit_args, kwargs = _fit_arguments(data, fit_kwargs)
    make_callbacks = _check_callbacks(callbacks)
    combos = _combinations(checked_grid, mode, n_trials, np.random.default_rng(seed))
    varying = _varying_keys(checked_grid, combos)

    records = []
    for index, params in enumerate(combos):
        if index:
            keras.backend.clear_session()
        if seed is not None:
            keras.utils.set_random_seed(seed)
        model = build(**params)
        if not isinstance(model, keras.Model) or not getattr(model, "compiled", False):
            raise ConfigError(
                f"Argument `build` must return a compiled keras.Model (use kerastools.compile). "
                f"It returned {type(model).__name__} for params {params!r}"
            )
        start = time.perf_counter()
        history = model.fit(*fit_args, callbacks=make_callbacks(), **kwargs)
        elapsed = time.perf_counter() - start
        curves = {
            key: [float(value) for value in values] for key, values in history.history.items()
        }
        record = TrialRecord(
            index=index,
            params=dict(params),
            history=curves,
            metrics={key: values[-1] for key, values in curves.items() if values},
            fit_seconds=elapsed,
            varying=varying,
        )
        records.append(record)
        del model, history  # the record keeps numbers only
        summary = ", ".join(f"{key}={value:.4g}" for key, value in record.metrics.items())
        logger.info(
            "trial %d/%d %s: %s (%.1f s)",
            index + 1,
            len(combos),
            record.describe(),
            summary,
            elapsed,
        )
        if verbose:
            print_msg(
                f"trial {index + 1}/{len(combos)} [{record.describe()}] {summary} ({elapsed:.1f} s)"
            )
    return SweepResults(records, checked_grid)


# --------------------------------------------------------------------------- keras-tuner


def _check_space(space: Any) -> dict[str, Any]:
    if not isinstance(space, Mapping) or not space:
        raise ConfigTypeError(
            "Argument `space` must be a non-empty dict of name -> list of choices or "
            "{'min': ..., 'max': ..., 'step': ..., 'sampling': ...}, or a function hp -> dict of "
            f"params. Received: space={space!r}"
        )
    for key, spec in space.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise ConfigError(
                f"Argument `space` keys must be valid Python names. Received key: {key!r}"
            )
        if isinstance(spec, Mapping):
            unknown = set(spec) - {"min", "max", "step", "sampling", "default"}
            if unknown or "min" not in spec or "max" not in spec:
                raise ConfigError(
                    f"Argument `space[{key!r}]` as a range needs 'min' and 'max' and may have 'step', "
                    f"'sampling' ('linear', 'log', 'reverse_log'), 'default'. Received: {dict(spec)!r}"
                )
        elif isinstance(spec, Sequence) and not isinstance(spec, (str, bytes)) and spec:
            kinds = {type(value) for value in spec}
            if len(kinds) != 1 or not kinds <= {int, float, str, bool}:
                raise ConfigError(
                    f"Argument `space[{key!r}]` choices must all be ints, all floats, all strings or "
                    f"all booleans (keras-tuner's Choice); encode other values as strings. "
                    f"Received: {list(spec)!r}"
                )
        else:
            raise ConfigError(
                f"Argument `space[{key!r}]` must be a non-empty list of choices or a range dict. "
                f"Received: {spec!r}"
            )
    return dict(space)


def _hyperparameter(hp: Any, name: str, spec: Any) -> Any:
    if not isinstance(spec, Mapping):
        return hp.Choice(name, list(spec))
    options = {key: spec[key] for key in ("step", "sampling", "default") if key in spec}
    integral = all(
        isinstance(spec.get(key, 1), int) and not isinstance(spec.get(key, 1), bool)
        for key in ("min", "max", "step")
    )
    if integral:
        return hp.Int(name, min_value=spec["min"], max_value=spec["max"], **options)
    return hp.Float(name, min_value=float(spec["min"]), max_value=float(spec["max"]), **options)


def keras_tuner_hypermodel(build: Callable[..., keras.Model], space: Any) -> Any:
    """Adapt a sweep's `build` function to keras-tuner, for Bayesian or Hyperband search.

    The same `build(**params)` that `sweep` trains becomes a
    `keras_tuner.HyperModel`; `space` says what each parameter may be:

    - a list of values -> `hp.Choice` (so a sweep grid works as is);
    - `{"min": 1e-4, "max": 1e-2, "sampling": "log"}` -> `hp.Float`
      (`hp.Int` when min, max and step are ints);
    - or a function `space(hp) -> dict of params` for anything else
      (conditional parameters, `hp.Boolean`, ...).

    Examples:
        >>> import keras_tuner
        >>> hypermodel = kerastools.sweep.keras_tuner_hypermodel(
        ...     lambda units, lr: kerastools.compile(kerastools.build_mlp(2, [units]), learning_rate=lr),
        ...     {"units": [4, 8], "lr": {"min": 1e-4, "max": 1e-2, "sampling": "log"}})
        >>> tuner = keras_tuner.BayesianOptimization(
        ...     hypermodel, objective="val_loss", max_trials=2, directory=str(tmp_path), seed=0)
        >>> tuner.search(x, y, validation_split=0.25, epochs=1, verbose=0)
        >>> sorted(tuner.get_best_hyperparameters()[0].values)
        ['lr', 'units']

    Args:
        build: returns a compiled `keras.Model` from keyword arguments.
        space: a dict as above, or a function taking keras-tuner's `hp` and
            returning the keyword arguments for `build`.

    Returns:
        A `keras_tuner.HyperModel` to pass to any keras-tuner tuner.

    Raises:
        ImportError: keras-tuner is not installed (`pip install kerastools[tune]`).
        ConfigError: a bad `space` or `build`, or a `build` that does not return
            a compiled model.
    """
    try:
        import keras_tuner
    except ImportError as error:
        raise ImportError(
            "keras_tuner_hypermodel needs keras-tuner: pip install 'kerastools[tune]' "
            "(or pip install keras-tuner)."
        ) from error
    if not callable(build):
        raise ConfigTypeError(
            f"Argument `build` must be a function returning a compiled model. Received: build={build!r}"
        )
    space_function: Callable[[Any], Mapping[str, Any]] | None = None
    spec: dict[str, Any] = {}
    if callable(space) and not isinstance(space, Mapping):
        space_function = space
    else:
        spec = _check_space(space)
        _check_build(build, list(spec))

    def parameters(hp: Any) -> dict[str, Any]:
        if space_function is None:
            return {name: _hyperparameter(hp, name, item) for name, item in spec.items()}
        params = space_function(hp)
        if not isinstance(params, Mapping):
            raise ConfigTypeError(
                f"Argument `space` as a function must return a dict of params for `build`. It returned {params!r}"
            )
        return dict(params)

    class SweepHyperModel(keras_tuner.HyperModel):  # type: ignore[misc,name-defined]
        """keras-tuner's view of a kerastools `build` function."""

        def build(self, hp: Any) -> keras.Model:
            params = parameters(hp)
            model = build(**params)
            if not isinstance(model, keras.Model) or not getattr(model, "compiled", False):
                raise ConfigError(
                    f"Argument `build` must return a compiled keras.Model (use kerastools.compile). "
                    f"It returned {type(model).__name__} for params {params!r}"
                )
            return model

    return SweepHyperModel(name=getattr(build, "__name__", "kerastools_build").strip("<>") or None)
