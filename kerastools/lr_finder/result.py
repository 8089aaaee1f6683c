"""`LearningRateFinderResult`: what a learning-rate sweep measured, and what it suggests."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from kerastools.errors import ConfigTypeError
from kerastools.lr_finder.suggestions import MIN_POINTS, SUGGESTION_METHODS, suggest, usable_points

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["LearningRateFinderResult", "STOP_REASONS"]

# Why a sweep ended: every planned step ran, the smoothed loss passed
# `diverge_factor` times its best, or a loss was NaN or infinite.
STOP_REASONS = ("completed", "diverged", "non_finite")


def _json_float(value: float) -> float | None:
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class LearningRateFinderResult:
    """The rates a `find_learning_rate` sweep tried, the losses it saw, and its suggestions.

    Feed a suggestion to `kt.compile` to train with it:
    `kt.compile(model, optimizer="adam", learning_rate=result.suggestion())`.

    Examples:
        >>> result = kt.find_learning_rate(model, x, y, min_lr=1e-4, max_lr=1.0,
        ...                                num_steps=20, seed=0)
        >>> len(result.learning_rates) == len(result.losses) == len(result.smoothed_losses)
        True
        >>> 1e-4 <= result.suggestion() <= 1.0
        True

    Attributes:
        learning_rates: the rate of each step, increasing.
        losses: the training loss of each step's batch (as `train_on_batch`
            returns it).
        smoothed_losses: the bias-corrected exponential average of `losses`.
        stopped_early: whether the sweep ended before `num_steps`.
        stop_reason: one of `"completed"`, `"diverged"`, `"non_finite"`.
        message: the stop reason in words, with the values that decided it.
        min_lr: the first rate of the plan.
        max_lr: the last rate of the plan.
        num_steps: the planned number of steps.
        mode: `"exponential"` or `"linear"`.
    """

    learning_rates: tuple[float, ...]
    losses: tuple[float, ...]
    smoothed_losses: tuple[float, ...]
    stopped_early: bool
    stop_reason: str
    message: str
    min_lr: float
    max_lr: float
    num_steps: int
    mode: str

    def _curve(self) -> tuple[np.ndarray, np.ndarray]:
        return usable_points(
            self.learning_rates, self.smoothed_losses, drop_last=self.stopped_early
        )

    def suggestion(self, method: str = "valley") -> float:
        """The suggested learning rate, a Python float ready for `kt.compile(learning_rate=...)`.

        Examples:
            >>> result = kt.find_learning_rate(model, x, y, num_steps=30, seed=0)
            >>> model = kt.compile(model, optimizer="rmsprop", learning_rate=result.suggestion())

        Args:
            method: `"valley"` (the middle of the longest descent of the
                smoothed loss, fastai's default), `"steepest"` (where the
                smoothed loss falls fastest per decade of rate, Lightning's
                default) or `"minimum"` (a tenth of the rate at the lowest
                smoothed loss). Defaults to `"valley"`.

        Raises:
            ConfigError: an unknown method, or a sweep that diverged too soon
                to leave 5 usable points.
        """
        rates, losses = self._curve()
        return suggest(rates, losses, method)

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-safe values (NaN and infinite losses become None).

        `suggestions` holds every method's rate, or None where the curve is too
        short to read.

        Examples:
            >>> import json
            >>> result = kt.find_learning_rate(model, x, y, num_steps=10, seed=0)
            >>> sorted(json.loads(json.dumps(result.to_dict()))["suggestions"])
            ['minimum', 'steepest', 'valley']
        """
        rates, losses = self._curve()
        suggestions: dict[str, float | None] = {}
        for method in SUGGESTION_METHODS:
            suggestions[method] = suggest(rates, losses, method) if len(rates) >= MIN_POINTS else None
        return {
            "learning_rates": list(self.learning_rates),
            "losses": [_json_float(value) for value in self.losses],
            "smoothed_losses": [_json_float(value) for value in self.smoothed_losses],
            "stopped_early": self.stopped_early,
            "stop_reason": self.stop_reason,
            "message": self.message,
            "min_lr": self.min_lr,
            "max_lr": self.max_lr,
            "num_steps": self.num_steps,
            "mode": self.mode,
            "suggestions": suggestions,
        }

    def plot(self, method: str | None = "valley", *, figure: Figure | None = None) -> Figure:
        """The loss against the learning rate (log axis), with the suggestion marked.

        The raw batch losses are drawn faintly, the smoothed loss on top, and
        `method`'s suggestion as a dot with its value in the legend. Drawn on
        matplotlib's object API (no pyplot): save it with
        `kt.plots.save_figure(figure, "lr.png")` or show it in a notebook.

        Examples:
            >>> result = kt.find_learning_rate(model, x, y, num_steps=20, seed=0)
            >>> result.plot().axes[0].get_xscale()
            'log'

        Args:
            method: the suggestion to mark, or None for none. Defaults to `"valley"`.
            figure: a Figure to draw into (cleared first). Defaults to None (a new one).

        Raises:
            ConfigError: an unknown method, or too short a curve to suggest from.
        """
        from kerastools.plots.figure import new_figure

        if method is not None and not isinstance(method, str):
            raise ConfigTypeError(
                f"Argument `method` must be one of {list(SUGGESTION_METHODS)} or None. "
                f"Received: method={method!r}"
            )
        suggested = None if method is None else self.suggestion(method)
        figure = new_figure(6.0, 4.0, figure)
        axes = figure.add_subplot()
        axes.plot(self.learning_rates, self.losses, color="tab:blue", alpha=0.3, label="batch loss")
        axes.plot(
            self.learning_rates, self.smoothed_losses, color="tab:blue", label="smoothed loss"
        )
        if suggested is not None:
            at = int(
                np.argmin(np.abs(np.log(np.asarray(self.learning_rates)) - math.log(suggested)))
            )
            axes.plot(
                [suggested],
                [self.smoothed_losses[at]],
                "o",
                color="tab:red",
                label=f"{method}: {suggested:.3g}",
            )
        axes.set_xscale("log")
        finite = [value for value in self.smoothed_losses if math.isfinite(value)]
        if finite:  # the diverging tail would squash the useful part of the curve
            low, high = min(finite), min(max(finite), 4 * max(finite[0], min(finite)))
            low = min([low, *(value for value in self.losses if math.isfinite(value))])
            margin = 0.05 * (high - low) + 1e-12
            axes.set_ylim(low - margin, high + margin)
        axes.set_xlabel("learning rate")
        axes.set_ylabel("training loss")
        axes.set_title(f"Learning-rate sweep ({self.mode}, {len(self.learning_rates)} steps)")
        axes.legend()
        return figure
