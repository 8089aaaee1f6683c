"""Train `build(**params)` once per combination of a grid and keep what each trial learned.

`sweep(build, grid, ...)` replaces the loop written by hand: `itertools.product`
over a few lists, `keras.backend.clear_session()` and a fresh model per
combination. `build(**params)` returns a compiled model, so with the builders
and `kerastools.compile` it is one lambda.
"""

from __future__ import annotations

import contextlib
import difflib
import gc
import inspect
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal

import keras
import numpy as np

from kerastools._console import print_msg
from kerastools._validation import check_bool, check_choice, check_float, check_int
from kerastools.datasets import DatasetSplit
from kerastools.errors import ConfigError, ConfigTypeError
from kerastools.sweep.grid import _check_build, _check_grid, _combinations, check_built_model
from kerastools.sweep.live import LiveSweep, check_live
from kerastools.sweep.records import SweepResults, TrialRecord, varying_keys

__all__ = ["sweep"]

# Named after the package, as it was before the package was split in modules.
logger = logging.getLogger("kerastools.sweep")


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


def _check_fit_kwargs(fit_kwargs: Any) -> dict[str, Any]:
    """`fit_kwargs` as a dict of `model.fit` arguments other than the data and callbacks."""
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
    _check_fit_values(fit_kwargs)
    return {"verbose": 0, **fit_kwargs}


# model.fit arguments Keras takes whatever their value (epochs=-1 trains nothing, batch_size=0
# divides by zero deep inside): name -> (low, high) for ints, a float range for the split.
_FIT_INTS = {
    "epochs": 1, "batch_size": 1, "initial_epoch": 0, "steps_per_epoch": 1,
    "validation_steps": 1, "validation_batch_size": 1, "validation_freq": 1, "verbose": 0,
}


def _check_fit_values(fit_kwargs: Mapping[str, Any]) -> None:
    """Refuse out-of-range `model.fit` values before a model is built; None keeps the default."""
    for key, low in _FIT_INTS.items():
        if fit_kwargs.get(key) is not None and not (key == "verbose" and fit_kwargs[key] == "auto"):
            check_int(f"fit_kwargs['{key}']", fit_kwargs[key], low=low)
    if fit_kwargs.get("validation_split") is not None:
        check_float(
            "fit_kwargs['validation_split']",
            fit_kwargs["validation_split"],
            low=0.0,
            high=1.0,
            high_inclusive=False,
        )
    if "shuffle" in fit_kwargs and fit_kwargs["shuffle"] != "batch":
        check_bool("fit_kwargs['shuffle']", fit_kwargs["shuffle"])
    epochs, initial = fit_kwargs.get("epochs", 1), fit_kwargs.get("initial_epoch", 0)
    if epochs is not None and initial is not None and initial >= epochs:
        raise ConfigError(
            f"Argument `fit_kwargs` must have initial_epoch < epochs, or no epoch is trained. "
            f"Received: initial_epoch={initial!r}, epochs={epochs!r}"
        )


def _check_data_width(model: keras.Model, inputs: Any) -> None:
    """Refuse input arrays whose feature shape is not the model's (before the first fit)."""
    expected = [tuple(t.shape) for t in getattr(model, "inputs", None) or []]
    shape = getattr(inputs, "shape", None)
    if len(expected) != 1 or shape is None:
        return
    wanted = expected[0][1:]
    features = tuple(shape)[1:]
    if len(wanted) != len(features) or any(
        w is not None and w != f for w, f in zip(wanted, features, strict=True)
    ):
        raise ConfigError(
            f"Argument `data` has inputs of shape {tuple(shape)} but the model `build` returned "
            f"takes (batch, {', '.join(map(str, wanted))}). Received: data[0].shape={tuple(shape)}"
        )


def _fit_arguments(data: Any, fit_kwargs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The positional and keyword arguments of `model.fit` for `data` and `fit_kwargs`."""
    kwargs = _check_fit_kwargs(fit_kwargs)
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
        if n_inputs == 0 or n_targets == 0:
            raise ConfigError(
                f"Argument `data` must hold at least one sample. Received: {n_inputs} inputs "
                f"and {n_targets} targets"
            )
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
    live: bool | str | os.PathLike[str] | LiveSweep | None = False,
) -> SweepResults:
    """Train `build(**params)` for each combination of `grid` and collect the results.

    In `"grid"` mode every combination is trained, in `itertools.product`
    order (the last key changes fastest). In `"random"` mode `n_trials`
    distinct combinations are drawn. `keras.backend.clear_session()` runs
    between trials, so graphs and layer-name counters do not pile up.

    Examples:
        Two settings of two parameters:

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
        live: draw every trial's curves on one figure that updates in place
            while the trials train (finished trials stay, the running one is
            drawn thick, the legend names the varying parameters): `True`
            shows it in the running Jupyter cell; a path (str or PathLike)
            also writes that PNG, atomically, and is what a script needs
            (`True` outside Jupyter raises rather than write into the working
            directory); a `kerastools.sweep.LiveSweep` chooses every setting
            and keeps the figure for after the sweep. `KERASTOOLS_LIVEPLOT`
            overrides the mode, as for `LivePlot`. Defaults to False.

    Returns:
        A `SweepResults` with one `TrialRecord` per trial.

    Raises:
        ConfigError: a grid that is not a dict of non-empty lists, grid keys
            `build` does not accept, a bad mode or `n_trials`, reserved
            `fit_kwargs`, data in an unknown form, or a `build` that does not
            return a compiled model; for `live`, file mode without a path.
        ConfigTypeError: `live` of another type.
    """
    checked_grid = _check_grid(grid)
    build = _check_build(build, list(checked_grid))
    mode = check_choice("mode", mode, ["grid", "random"])  # type: ignore[assignment]
    seed = None if seed is None else check_int("seed", seed, low=0)
    verbose = check_int("verbose", verbose, low=0)
    fit_args, kwargs = _fit_arguments(data, fit_kwargs)
    make_callbacks = _check_callbacks(callbacks)
    combos = _combinations(checked_grid, mode, n_trials, np.random.default_rng(seed))
    varying = varying_keys(checked_grid, combos)
    live_sweep = check_live(live)
    if live_sweep is not None:
        live_sweep.start([TrialRecord(index, dict(params), {}, {}, 0.0, varying).describe()
                          for index, params in enumerate(combos)])
    try:
        with _collections_see_only_the_sweeps_objects():
            records = _run_trials(build, combos, varying, seed, verbose, fit_args, kwargs, make_callbacks,
                                  live_sweep)
    finally:
        if live_sweep is not None:
            live_sweep.end()
    return SweepResults(records, checked_grid)


@contextlib.contextmanager
def _collections_see_only_the_sweeps_objects() -> Iterator[None]:
    """Between trials, the garbage collector walks only the objects made during the sweep.

    `clear_session()` runs a full collection, which walks every object of the process: with a
    backend imported that is about half a million, 0.3 to 1 s on a CPU, more than a small
    trial's fit. So the objects that exist at the start are collected once and frozen
    (`gc.freeze`): each collection between trials then walks the trials' objects only, and still
    frees the last model's reference cycles, in milliseconds. They are unfrozen at the end. A
    caller that froze objects itself keeps its freeze, and the full collections.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _run_trials(
    build: Callable[..., keras.Model],
    combos: Sequence[Mapping[str, Any]],
    varying: tuple[str, ...],
    seed: int | None,
    verbose: int,
    fit_args: tuple[Any, ...],
    kwargs: dict[str, Any],
    make_callbacks: Callable[[], list[keras.callbacks.Callback]],
    live: LiveSweep | None,
) -> list[TrialRecord]:
    """Train one model per combination, in order, and keep what each learned."""
    records = []
    for index, params in enumerate(combos):
        if index:
            keras.backend.clear_session()
        if seed is not None:
            keras.utils.set_random_seed(seed)
        model = check_built_model(build(**params), params)
        if not index and len(fit_args) == 2:
            _check_data_width(model, fit_args[0])
        start = time.perf_counter()
        # The live figure's feed comes first, so the user's callbacks see this epoch recorded.
        feed = [] if live is None else [live.trial_callback(index)]
        history = model.fit(*fit_args, callbacks=feed + make_callbacks(), **kwargs)
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
    return records
