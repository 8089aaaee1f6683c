"""Earlier runs a LivePlot draws as faint reference curves (`compare_to`).

An earlier run comes as a `keras.callbacks.History` (what `fit` returns), a
sweep's `TrialRecord`, a dict of metric lists, a `PeriodicCheckpoint`
directory (each epoch checkpoint's record holds that epoch's logs), or a
TensorBoard log directory (`kerastools.tensorboard_events`). Each is
read once into a `ReferenceRun`: per log key, epoch positions (from 1) and
values. The curves are ordinary artists of the cached background, so they
cost nothing per redraw.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kerastools.errors import ConfigError, ConfigTypeError
from kerastools.live.history import ValueRange, downsample
from kerastools.live.panels import PanelPlan
from kerastools.tensorboard_events import epoch_curves, is_log_dir

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["ReferenceRun", "draw_references", "key_entries", "reference_ranges", "reference_runs"]

_ALLOWED = (
    "a keras History, a sweep TrialRecord, a dict of metric name -> list of values, a "
    "PeriodicCheckpoint directory, a TensorBoard log directory, or a list of these"
)
# One dash pattern per reference run; the colour stays train (C0) or validation (C1).
_DASHES: tuple[Any, ...] = ((0, (1, 1.5)), (0, (4, 1.5, 1, 1.5)), (0, (6, 2)), (0, (1, 3)))
_KEY_LABEL_CHARS = 24


@dataclasses.dataclass(frozen=True)
class ReferenceRun:
    """One earlier run: per log key, the epochs (from 1) and the values.

    Examples:
        >>> run = reference_runs({"loss": [0.9, 0.5]})[0]
        >>> run.label, run.curves["loss"][0].tolist(), run.last_epoch
        ('run 1', [1.0, 2.0], 2.0)
    """

    label: str
    curves: dict[str, tuple[np.ndarray, np.ndarray]]

    @property
    def last_epoch(self) -> float:
        """The last epoch any of its curves reaches."""
        return max((float(x[-1]) for x, _ in self.curves.values() if len(x)), default=0.0)


def reference_runs(compare_to: Any) -> tuple[ReferenceRun, ...]:
    """`compare_to` read into `ReferenceRun`s, checked.

    Examples:
        >>> history = model.fit(x, y, epochs=2, verbose=0)
        >>> [run.label for run in reference_runs([history, {"loss": [1.0]}])]
        ['run 1', 'run 2']
        >>> reference_runs(None)
        ()

    Raises:
        ConfigTypeError: something other than the forms listed in `LivePlot`.
        ConfigError: an empty run, a directory that does not exist or has no
            epoch checkpoints, values that are not numbers.
    """
    if compare_to is None:
        return ()
    many = isinstance(compare_to, Sequence) and not isinstance(compare_to, (str, bytes))
    items = list(compare_to) if many else [compare_to]
    if many and not items:
        raise ConfigError(f"Argument `compare_to` must not be an empty list. Received: compare_to={compare_to!r}")
    return tuple(_one_run(item, index) for index, item in enumerate(items))


def _one_run(item: Any, index: int) -> ReferenceRun:
    if isinstance(item, (str, os.PathLike)):
        if is_log_dir(item):
            curves = {key: _curve(x, y) for key, (x, y) in epoch_curves(item, argument="compare_to").items()}
            return ReferenceRun(Path(item).name or str(item), curves)
        return _checkpoint_run(item)
    history = getattr(item, "history", item)
    if not isinstance(history, Mapping) or (isinstance(item, Sequence) and not isinstance(item, Mapping)):
        raise ConfigTypeError(f"Argument `compare_to` must be {_ALLOWED}. Received: compare_to={item!r}")
    describe = getattr(item, "describe", None)
    label = describe() if callable(describe) and hasattr(item, "params") else f"run {index + 1}"
    curves = {}
    for key, values in history.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence | np.ndarray):
            raise ConfigTypeError(
                f"Argument `compare_to` must map metric names to lists of numbers. "
                f"Received: compare_to[{key!r}]={values!r}"
            )
        curves[str(key)] = _curve(range(1, len(values) + 1), [_number(key, value) for value in values])
    if not any(len(x) for x, _ in curves.values()):
        raise ConfigError(f"Argument `compare_to` holds a run with no values. Received: compare_to={item!r}")
    return ReferenceRun(str(label), curves)


def _checkpoint_run(directory: str | os.PathLike[str]) -> ReferenceRun:
    """The logs each epoch checkpoint of `directory` recorded; a later record of an epoch wins."""
    from kerastools.checkpoints import list_checkpoints

    path = Path(directory)
    if not path.is_dir():
        raise ConfigError(
            f"Argument `compare_to` names a directory that does not exist. Received: compare_to={directory!r}"
        )
    by_epoch = {info.epoch: info.metrics for info in list_checkpoints(path) if info.kind == "epoch"}
    if not by_epoch:
        raise ConfigError(
            f"Argument `compare_to` names a directory that holds no epoch checkpoints "
            f"(PeriodicCheckpoint(every_epochs=...) writes them). Received: compare_to={directory!r}"
        )
    epochs = sorted(by_epoch)
    keys = sorted({key for metrics in by_epoch.values() for key in metrics})
    curves = {}
    for key in keys:
        pairs = [(epoch, by_epoch[epoch][key]) for epoch in epochs if key in by_epoch[epoch]]
        curves[key] = _curve([epoch for epoch, _ in pairs], [_number(key, value) for _, value in pairs])
    return ReferenceRun(path.name or str(path), curves)


def _number(key: Any, value: Any) -> float:
    if value is None:  # a record writes non-finite values as null
        return math.nan
    if isinstance(value, numbers.Real):
        return float(value)
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        array = None
    if array is None or array.ndim != 0:
        raise ConfigError(
            f"Argument `compare_to` must hold numbers per epoch. Received: compare_to[{key!r}] containing {value!r}"
        )
    return float(array)


def _curve(epochs: Any, values: list[float]) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(list(epochs), dtype=float), np.asarray(values, dtype=float)


def reference_ranges(runs: Sequence[ReferenceRun], plan: PanelPlan) -> dict[str, ValueRange]:
    """The value range of the reference curves, per panel, so the y axes show them.

    Examples:
        >>> plan = PanelPlan(metrics=None, show_lr=True, log_loss=False, targets={})
        >>> reference_ranges(reference_runs({"val_loss": [0.9, 0.4]}), plan)["loss"].finite
        (0.4, 0.9)
    """
    ranges: dict[str, ValueRange] = {}
    for run in runs:
        for key, (_, values) in run.curves.items():
            name = plan.panel_of(key)
            if name is not None:
                span = ranges.setdefault(name, ValueRange())
                for value in values:
                    span.add(float(value))
    return ranges


def draw_references(axes: Axes, name: str, plan: PanelPlan, runs: Sequence[ReferenceRun], max_points: int) -> int:
    """Draw the reference curves of panel `name` as faint static lines; return how many.

    Examples:
        >>> from matplotlib.figure import Figure
        >>> axes = Figure().add_subplot()
        >>> plan = PanelPlan(metrics=None, show_lr=True, log_loss=False, targets={})
        >>> draw_references(axes, "loss", plan, reference_runs({"loss": [1, 0.5], "val_loss": [1, 0.7]}), 100)
        2
    """
    count = 0
    for number, run in enumerate(runs):
        for key, (x, y) in run.curves.items():
            if plan.panel_of(key) != name or not len(x):
                continue
            color = "C1" if key.startswith("val_") else "C0"
            axes.plot(*downsample(x, y, max_points), color=color, alpha=0.4, linewidth=1.0,
                      linestyle=_DASHES[number % len(_DASHES)], zorder=1, gid=f"reference:{run.label}:{key}")
            count += 1
    return count


def key_entries(runs: Sequence[ReferenceRun]) -> list[tuple[str, dict[str, Any]]]:
    """Entries for the figure's key row: one per reference run, or one for many.

    Examples:
        >>> [label for label, _ in key_entries(reference_runs([{"loss": [1.0]}] * 2))]
        ['run 1', 'run 2']
    """
    if len(runs) > 3:
        return [(f"{len(runs)} earlier runs", {"color": "0.45", "linestyle": _DASHES[0]})]
    entries = []
    for number, run in enumerate(runs):
        label = run.label if len(run.label) <= _KEY_LABEL_CHARS else run.label[: _KEY_LABEL_CHARS - 1] + "…"
        entries.append((label, {"color": "0.45", "linestyle": _DASHES[number % len(_DASHES)]}))
    return entries
