"""Which panel each log key goes to, in which order panels appear, and their y range.

The loss comes first, then the metrics (in the order `metrics` names them, or
first seen), then the learning rate. A key and its `val_` twin share a panel.
Keys other kerastools callbacks write for bookkeeping (`BOOKKEEPING_KEYS`) get
no panel unless `metrics` names them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from kerastools._validation import check_float
from kerastools.errors import ConfigError, ConfigTypeError
from kerastools.live.history import RunHistory
from kerastools.log_keys import is_bookkeeping

__all__ = ["LR_KEY", "PanelPlan", "check_metrics", "check_targets"]

LR_KEY = "learning_rate"


class PanelPlan:
    """The panel choice of one LivePlot; remembers the order in which panels appeared.

    Examples:
        >>> plan = PanelPlan(metrics=None, show_lr=True, log_loss=False, targets={})
        >>> plan.panel_of("val_accuracy"), plan.panel_of("epoch_time_s")
        ('accuracy', None)
        >>> plan.order(["learning_rate", "val_accuracy", "loss"])
        ('loss', 'accuracy', 'learning_rate')
    """

    def __init__(
        self, metrics: tuple[str, ...] | None, show_lr: bool, log_loss: bool, targets: Mapping[str, float]
    ) -> None:
        self.metrics = metrics
        self.show_lr = show_lr
        self.log_loss = log_loss
        self.targets = dict(targets)
        self._seen: list[str] = []

    def panel_of(self, key: str) -> str | None:
        """The panel `key` is drawn in, None when it is not plotted."""
        if key == LR_KEY or key.startswith(f"{LR_KEY}_"):  # one line per optimizer of a GAN
            return LR_KEY if self.show_lr else None
        base = key[4:] if key.startswith("val_") else key
        if base == "loss" or (self.metrics is not None and base in self.metrics):
            return base
        if self.metrics is None and not is_bookkeeping(key):
            return base
        return None

    def is_log(self, name: str) -> bool:
        """Whether panel `name` has a logarithmic y axis."""
        return name == "loss" and self.log_loss

    def targets_in(self, name: str) -> list[float]:
        """The target values drawn as reference lines in panel `name`."""
        return [value for key, value in self.targets.items() if self.panel_of(key) == name]

    def order(self, keys: Iterable[str]) -> tuple[str, ...]:
        """The panels for `keys`, in display order; new ones are placed after those seen before."""
        present = {panel for key in keys if (panel := self.panel_of(key)) is not None}
        for panel in sorted(present - set(self._seen)):
            self._seen.append(panel)  # first seen, first placed
        order = [name for name in self._seen if name in present]
        if self.metrics is not None:
            rank = {name: index for index, name in enumerate(self.metrics)}
            order.sort(key=lambda name: rank.get(name, -1))
        order.sort(key=lambda name: (name != "loss", name == LR_KEY))
        return tuple(order)

    def value_range(self, name: str, history: RunHistory) -> tuple[float, float] | None:
        """The span of panel `name`'s values and targets; None before it has a value to show."""
        low = high = None
        for key, span in history.ranges.items():
            if self.panel_of(key) != name:
                continue
            values = span.positive if self.is_log(name) else span.finite  # a log axis cannot show <= 0
            if values is not None:
                low = values[0] if low is None else min(low, values[0])
                high = values[1] if high is None else max(high, values[1])
        if low is None or high is None:
            return None
        targets = self.targets_in(name)
        return min([low, *targets]), max([high, *targets])


def check_metrics(metrics: Sequence[str] | None) -> tuple[str, ...] | None:
    """`metrics` as base names without the loss, duplicates and `val_` prefixes removed.

    Examples:
        >>> check_metrics(["val_accuracy", "accuracy", "loss", "mae"])
        ('accuracy', 'mae')

    Raises:
        ConfigTypeError: not a list of non-empty strings.
        ConfigError: it names the learning rate, which has its own panel.
    """
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
        if name in (LR_KEY, f"val_{LR_KEY}"):
            raise ConfigError(
                f"Argument `metrics` must not name the learning rate; it has its own panel "
                f"(show_lr=True). Received: metrics={metrics!r}"
            )
        base = name[4:] if name.startswith("val_") else name
        if base != "loss" and base not in names:
            names.append(base)
    return tuple(names)


def check_targets(
    targets: Mapping[str, float] | None, metrics: tuple[str, ...] | None, show_lr: bool
) -> dict[str, float]:
    """`targets` as `{log key: float}`, each key one that is plotted.

    Examples:
        >>> check_targets({"val_accuracy": 0.99}, metrics=("accuracy",), show_lr=True)
        {'val_accuracy': 0.99}

    Raises:
        ConfigTypeError: not a dict of non-empty string keys and numbers.
        ConfigError: a key that no panel shows.
    """
    if targets is None:
        return {}
    if not isinstance(targets, Mapping):
        raise ConfigTypeError(
            f"Argument `targets` must be a dict of {{log key: value}}, e.g. "
            f"{{'val_accuracy': 0.992}}. Received: targets={targets!r}"
        )
    plan = PanelPlan(metrics, show_lr, log_loss=False, targets={})
    checked = {}
    for key, value in targets.items():
        if not isinstance(key, str) or not key:
            raise ConfigTypeError(
                f"Argument `targets` must have non-empty string keys. Received: targets={targets!r}"
            )
        checked[key] = check_float(f"targets[{key!r}]", value)
        if plan.panel_of(key) is None:
            base = key[4:] if key.startswith("val_") else key
            fix = "set show_lr=True" if key == LR_KEY else f"add {base!r} to `metrics`"
            raise ConfigError(
                f"Argument `targets` names {key!r}, which is not plotted; {fix}. "
                f"Received: targets={targets!r}, metrics={None if metrics is None else list(metrics)!r}"
            )
    return checked
