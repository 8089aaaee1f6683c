"""The data and what the model makes of it: samples coloured by target, and the model's response.

For inputs with one or two features, the toy problems of `kerastools.datasets`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from kerastools._validation import check_resolution
from kerastools.errors import ConfigError
from kerastools.plots.figure import new_figure
from kerastools.plots.probe import check_model

if TYPE_CHECKING:
    import keras
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["model_response", "points"]

# Up to this many classes, integer targets are drawn as categories with a legend.
_MAX_CLASSES = 10


def _numbers(argument: str, value: Any, dtype: str | None) -> np.ndarray:
    """`value` as a numeric array; strings, ragged or nested-object input is a ConfigError."""
    try:
        array = np.asarray(value, dtype=dtype)
    except (ValueError, TypeError, OverflowError) as error:
        raise ConfigError(
            f"Argument `{argument}` must be a rectangular array of numbers. "
            f"Received: {argument}={value!r:.80} ({error})"
        ) from error
    if array.dtype.kind not in "biuf":
        raise ConfigError(
            f"Argument `{argument}` must hold numbers, not {array.dtype.name} values. "
            f"Received: {argument}={value!r:.80}"
        )
    return array


def _as_inputs(X: Any) -> np.ndarray:
    inputs = _numbers("X", X, "float32")
    if inputs.ndim == 1:
        inputs = inputs[:, None]
    if inputs.ndim != 2 or inputs.shape[1] not in (1, 2) or len(inputs) == 0:
        raise ConfigError(
            "Argument `X` must hold samples with 1 or 2 features (shape (n,), (n, 1) or (n, 2)). "
            f"Received: X.shape={np.shape(X)}"
        )
    return inputs


def _as_targets(y: Any, n: int) -> np.ndarray:
    targets = _numbers("y", y, None)
    if targets.ndim == 2 and targets.shape[1] > 1:
        targets = targets.argmax(axis=1)  # one-hot rows -> class index
    targets = targets.reshape(len(targets), -1)[:, 0] if targets.ndim > 1 else targets
    if targets.ndim != 1 or len(targets) != n:
        raise ConfigError(
            f"Argument `y` must have one target per sample ({n}). Received: y.shape={np.shape(y)}"
        )
    return targets


def _is_categorical(targets: np.ndarray) -> bool:
    if targets.size == 0 or not np.all(np.isfinite(targets.astype("float64"))):
        return False
    integral = np.all(np.equal(np.mod(targets, 1), 0))
    return bool(integral) and len(np.unique(targets)) <= _MAX_CLASSES


def _scatter(
    fig: Figure, ax: Axes, inputs: np.ndarray, targets: np.ndarray, *, edge: bool = False
) -> None:
    """Draw samples coloured by target: categories get a legend, values a colorbar."""
    style: dict[str, Any] = {"s": 12, "edgecolors": "black" if edge else "none", "linewidths": 0.3}
    if _is_categorical(targets):
        for index, value in enumerate(np.unique(targets)):
            mask = targets == value
            ax.scatter(
                inputs[mask, 0], inputs[mask, 1], color=f"C{index}", label=f"{value:g}", **style
            )
        ax.legend(title="class", loc="best", fontsize="small")
    else:
        artist = ax.scatter(inputs[:, 0], inputs[:, 1], c=targets, cmap="viridis", **style)
        fig.colorbar(artist, ax=ax, label="target")


def points(X: Any, y: Any, *, figure: Figure | None = None) -> Figure:
    """The dataset itself: inputs coloured by target.

    Two features: a scatter plot coloured by class (with a legend) or by
    value (with a colorbar). One feature: the target against the input.

    Examples:
        >>> fig = kerastools.plots.points(x, y)   # 2 features, continuous y: scatter + colorbar
        >>> len(fig.axes)
        2

    Args:
        X: inputs of shape `(n, 2)`, `(n, 1)` or `(n,)`.
        y: targets, `(n,)` or `(n, 1)`; one-hot rows are drawn as their class.
        figure: a figure to clear and draw into. Defaults to None.

    Returns:
        The figure.

    Raises:
        ConfigError: inputs with more than 2 features, or `y` of another length.
    """
    inputs = _as_inputs(X)
    targets = _as_targets(y, len(inputs))
    fig = new_figure(6.5, 5.0, figure=figure)
    ax = fig.add_subplot()
    if inputs.shape[1] == 1:
        ax.scatter(inputs[:, 0], targets, s=10)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    else:
        _scatter(fig, ax, inputs, targets)
        ax.set_aspect("equal", adjustable="datalim")  # circles look like circles
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
    ax.set_title(f"{len(inputs)} samples")
    return fig


def model_response(
    model: keras.Model, X: Any, y: Any = None, *, grid: int = 200, figure: Figure | None = None
) -> Figure:
    """The model's prediction over the input domain, with the data on top.

    Two features: the prediction on a `grid` x `grid` mesh over the data's
    bounding box (padded by 5%) as a filled contour with a colorbar; a model
    with several outputs is drawn as its arg-max class. One feature: the
    prediction as a line over the data's range.

    Examples:
        >>> fig = kerastools.plots.model_response(model, x, y, grid=20)
        >>> [ax.get_title() for ax in fig.axes][0]
        'model response'

    Args:
        model: a model taking inputs with 1 or 2 features.
        X: the inputs, which also set the domain.
        y: targets drawn over the response. Defaults to None (inputs only).
        grid: mesh points per axis. Defaults to 200.
        figure: a figure to clear and draw into. Defaults to None.

    Returns:
        The figure.

    Raises:
        ConfigError: not a model, inputs with more than 2 features, `y` of
            another length, or `grid` outside [2, 4096]
            (`kerastools._validation.MAX_RESOLUTION`).
    """
    model = check_model(model)
    inputs = _as_inputs(X)
    targets = None if y is None else _as_targets(y, len(inputs))
    grid = check_resolution("grid", grid, low=2)
    low, high = inputs.min(axis=0), inputs.max(axis=0)
    pad = 0.05 * np.where(high > low, high - low, 1.0)
    axes_values = [
        np.linspace(low[i] - pad[i], high[i] + pad[i], grid, dtype="float32")
        for i in range(inputs.shape[1])
    ]
    fig = new_figure(7.0, 5.5, figure=figure)
    ax = fig.add_subplot()
    ax.set_title("model response")
    if inputs.shape[1] == 1:
        prediction = np.asarray(model.predict(axes_values[0][:, None], batch_size=4096, verbose=0))
        ax.plot(axes_values[0], prediction.reshape(grid, -1), color="C1", label="model")
        if targets is not None:
            ax.scatter(inputs[:, 0], targets, s=10, color="C0", label="data")
        ax.legend()
        ax.set_xlabel("x")
        return fig
    mesh_x, mesh_y = np.meshgrid(axes_values[0], axes_values[1])
    mesh = np.stack([mesh_x.ravel(), mesh_y.ravel()], axis=1)
    prediction = np.asarray(model.predict(mesh, batch_size=4096, verbose=0))
    prediction = prediction.reshape(len(mesh), -1)
    surface = prediction[:, 0] if prediction.shape[1] == 1 else prediction.argmax(axis=1)
    filled = ax.contourf(
        mesh_x, mesh_y, surface.reshape(grid, grid), levels=20, cmap="viridis", alpha=0.85
    )
    fig.colorbar(filled, ax=ax, label="prediction" if prediction.shape[1] == 1 else "class")
    if targets is None:
        ax.scatter(inputs[:, 0], inputs[:, 1], s=6, color="black")
    elif _is_categorical(targets):
        for index, value in enumerate(np.unique(targets)):
            mask = targets == value
            ax.scatter(
                inputs[mask, 0],
                inputs[mask, 1],
                s=10,
                color=f"C{index}",
                edgecolors="black",
                linewidths=0.3,
                label=f"class {value:g}",
            )
        ax.legend(loc="upper right", fontsize="small")
    else:
        # Same colour scale as the surface, so a point that matches the model blends in.
        ax.scatter(
            inputs[:, 0],
            inputs[:, 1],
            c=targets,
            cmap="viridis",
            norm=filled.norm,  # type: ignore[arg-type]
            s=10,
            edgecolors="black",
            linewidths=0.3,
        )
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    return fig
