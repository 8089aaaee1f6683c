"""The figures the seed articles draw by hand, one call each.

Every function returns a `matplotlib.figure.Figure` built with matplotlib's
object API (no `pyplot`): nothing is shown, no global figure registry keeps
it alive, and the user's current pyplot figure is untouched. In Jupyter a
returned figure displays itself; elsewhere, `save_figure(fig, "x.png")`.
A figure is freed like any other object once it is no longer referenced, so
a long session that draws thousands of plots does not grow. To redraw in
place (a live notebook cell), pass the previous figure back as `figure=`.

matplotlib is imported inside the functions, so `import kerastools` stays fast.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from kerastools._atomic import atomic_write
from kerastools._validation import check_int
from kerastools.errors import ConfigError, ConfigTypeError
from kerastools.log_keys import BOOKKEEPING_KEYS, LEARNING_RATE_KEYS

if TYPE_CHECKING:
    import keras
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "activation_profiles",
    "feature_maps",
    "filters",
    "model_response",
    "points",
    "save_figure",
    "training_curves",
    "weight_histograms",
]

# Up to this many classes, integer targets are drawn as categories with a legend.
_MAX_CLASSES = 10
_MAX_PROFILE_SAMPLES = 10
# Keys kerastools' and Keras' callbacks log that are not model metrics; drawn only when asked for.
_NOT_METRICS = BOOKKEEPING_KEYS | LEARNING_RATE_KEYS


def _figure(width: float, height: float, figure: Figure | None = None) -> Figure:
    """A fresh Agg-backed figure, or `figure` cleared and resized for reuse."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if figure is None:
        figure = Figure(figsize=(width, height), layout="constrained")
        FigureCanvasAgg(figure)
        return figure
    if not isinstance(figure, Figure):
        raise ConfigTypeError(
            f"Argument `figure` must be a matplotlib Figure to draw into, or None. "
            f"Received: figure={figure!r}"
        )
    figure.clear()
    figure.set_size_inches(width, height)
    return figure


def _panels(figure: Figure, count: int, columns: int) -> list[Axes]:
    """Exactly `count` axes on a grid `columns` wide (no empty placeholder axes)."""
    columns = max(1, min(columns, count))
    rows = math.ceil(count / columns)
    return [figure.add_subplot(rows, columns, index + 1) for index in range(count)]


def _grid_size(
    count: int, columns: int, panel: float, *, extra_height: float = 0.0
) -> tuple[float, float]:
    columns = max(1, min(columns, count))
    rows = math.ceil(count / columns)
    return columns * panel, rows * panel + extra_height


def save_figure(figure: Figure, path: str | os.PathLike[str], *, dpi: int = 100) -> str:
    """Write `figure` to `path` atomically; the format comes from the suffix.

    A reader (a docs build, a browser) never sees half an image, and a crash
    mid-write leaves the previous file in place.

    Examples:
        >>> fig = kerastools.plots.points(x, y)
        >>> kerastools.plots.save_figure(fig, tmp_path / "points.png").endswith("points.png")
        True

    Args:
        figure: the figure to write.
        path: the target file, e.g. `"curves.png"` or `"curves.svg"`; its
            directory must exist.
        dpi: resolution for raster formats. Defaults to 100.

    Returns:
        The path written, as a string.

    Raises:
        ConfigError: not a Figure, a path without a suffix matplotlib knows,
            or a `dpi` below 1.
    """
    from matplotlib.figure import Figure

    if not isinstance(figure, Figure):
        raise ConfigTypeError(
            f"Argument `figure` must be a matplotlib Figure. Received: figure={figure!r}"
        )
    if not isinstance(path, (str, os.PathLike)):
        raise ConfigTypeError(f"Argument `path` must be a file path. Received: path={path!r}")
    dpi = check_int("dpi", dpi, low=1)
    target = os.fspath(path)
    suffix = os.path.splitext(target)[1].lstrip(".").lower()
    formats = figure.canvas.get_supported_filetypes()
    if suffix not in formats:
        raise ConfigError(
            f"Argument `path` must end in a format matplotlib writes, one of {sorted(formats)}. "
            f"Received: path={target!r}"
        )
    with atomic_write(target, "wb") as handle:
        figure.savefig(handle, format=suffix, dpi=dpi, bbox_inches="tight")
    return target


# --------------------------------------------------------------------------- training curves


def _history_dict(history: Any) -> dict[str, list[float]]:
    values = getattr(history, "history", history)
    if not isinstance(values, Mapping):
        raise ConfigTypeError(
            "Argument `history` must be a keras History (what `fit` returns) or a dict of "
            f"metric name -> list of values. Received: history={history!r}"
        )
    result: dict[str, list[float]] = {}
    for key, series in values.items():
        if isinstance(series, (str, bytes)) or not isinstance(series, Sequence | np.ndarray):
            raise ConfigTypeError(
                f"Argument `history` must map metric names to lists of numbers. "
                f"Received: history[{key!r}]={series!r}"
            )
        result[str(key)] = [float(value) for value in series]
    return result


def _epochs_axis(values: list[float], total: int) -> list[int]:
    # A key that appeared mid-run (a callback that starts logging later) has
    # fewer values: they belong to the last epochs.
    return list(range(total - len(values) + 1, total + 1))


def training_curves(
    history: Any, metrics: Sequence[str] | None = None, *, figure: Figure | None = None
) -> Figure:
    """Seed 002's panels: loss, loss on a log scale, then each metric; train vs validation.

    Examples:
        >>> model = kerastools.compile(kerastools.build_mlp(2, [8]), metrics=["mae"])
        >>> history = model.fit(x, y, validation_split=0.25, epochs=2, verbose=0)
        >>> fig = kerastools.plots.training_curves(history)
        >>> [ax.get_title() for ax in fig.axes]
        ['loss', 'loss (log scale)', 'mae']

    Args:
        history: the `History` that `model.fit` returns, or its `.history`
            dict. Keys that appear mid-run are drawn on the epochs they cover.
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
            (the message lists those that are).
    """
    values = _history_dict(history)
    if "loss" not in values:
        raise ConfigError(
            f"Argument `history` has no 'loss' to draw. Available keys: {sorted(values)}"
        )
    trained = [key for key in values if not key.startswith("val_") and key != "loss"]
    if metrics is None:
        chosen = [key for key in trained if key not in _NOT_METRICS]
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
    fig = _figure(*_grid_size(len(panels), columns, 4.0), figure=figure)
    for ax, (key, title, log) in zip(_panels(fig, len(panels), columns), panels, strict=True):
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


# --------------------------------------------------------------------------- data and response


def _as_inputs(X: Any) -> np.ndarray:
    inputs = np.asarray(X, dtype="float32")
    if inputs.ndim == 1:
        inputs = inputs[:, None]
    if inputs.ndim != 2 or inputs.shape[1] not in (1, 2) or len(inputs) == 0:
        raise ConfigError(
            "Argument `X` must hold samples with 1 or 2 features (shape (n,), (n, 1) or (n, 2)). "
            f"Received: X.shape={np.shape(X)}"
        )
    return inputs


def _as_targets(y: Any, n: int) -> np.ndarray:
    targets = np.asarray(y)
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
    """The dataset itself (seed 000's `plotPoints`): inputs coloured by target.

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
    fig = _figure(6.5, 5.0, figure=figure)
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


def _model_input_rank(model: Any) -> int | None:
    inputs = getattr(model, "inputs", None)
    try:
        return len(inputs[0].shape) if inputs else None
    except (AttributeError, TypeError, IndexError):
        return None


def _check_model(model: Any) -> keras.Model:
    import keras

    if not isinstance(model, keras.Model):
        raise ConfigTypeError(f"Argument `model` must be a keras.Model. Received: model={model!r}")
    return model


def model_response(
    model: keras.Model, X: Any, y: Any = None, *, grid: int = 200, figure: Figure | None = None
) -> Figure:
    """The model's prediction over the input domain, with the data on top (seeds 000/001).

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
            another length, or `grid` below 2.
    """
    model = _check_model(model)
    inputs = _as_inputs(X)
    targets = None if y is None else _as_targets(y, len(inputs))
    grid = check_int("grid", grid, low=2)
    low, high = inputs.min(axis=0), inputs.max(axis=0)
    pad = 0.05 * np.where(high > low, high - low, 1.0)
    axes_values = [
        np.linspace(low[i] - pad[i], high[i] + pad[i], grid, dtype="float32")
        for i in range(inputs.shape[1])
    ]
    fig = _figure(7.0, 5.5, figure=figure)
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


# --------------------------------------------------------------------------- inside the model


def _get_layer(model: keras.Model, layer: Any) -> keras.layers.Layer:
    import keras

    names = [item.name for item in model.layers]
    if isinstance(layer, keras.layers.Layer):
        if layer not in model.layers:
            raise ConfigError(
                f"Argument `layer` is not a layer of this model; its layers: {names}. Received: layer={layer.name!r}"
            )
        return layer
    if isinstance(layer, str):
        if layer not in names:
            raise ConfigError(
                f"Argument `layer` must be one of the model's layer names {names}. Received: layer={layer!r}"
            )
        return model.get_layer(layer)
    if isinstance(layer, numbers.Integral) and not isinstance(layer, bool):
        if not -len(names) <= int(layer) < len(names):
            raise ConfigError(
                f"Argument `layer` index out of range for {len(names)} layers {names}. Received: layer={layer}"
            )
        return model.layers[int(layer)]
    raise ConfigTypeError(
        f"Argument `layer` must be a layer name, an index or a layer. Received: layer={layer!r}"
    )


def _outputs_of(
    model: keras.Model, layers: list[keras.layers.Layer], inputs: np.ndarray
) -> list[np.ndarray]:
    """The outputs of `layers` for `inputs`, through a sub-model sharing the weights."""
    import keras

    try:
        probe = keras.Model(model.inputs, [layer.output for layer in layers])
    except (AttributeError, ValueError, TypeError) as error:
        raise ConfigError(
            "Cannot read intermediate outputs of this model: it needs a functional graph "
            "(a Functional or built Sequential model, like those from build_mlp/build_cnn). "
            f"Received: model={model.name!r} ({type(model).__name__})"
        ) from error
    outputs = probe.predict(inputs, verbose=0)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    return [np.asarray(output) for output in outputs]


def _batch(model: keras.Model, inputs: Any, argument: str) -> np.ndarray:
    """Add the batch axis to a single sample; leave a batch alone."""
    array = np.asarray(inputs, dtype="float32")
    rank = _model_input_rank(model)
    if rank is not None and array.ndim == rank - 1:
        array = array[None]
    if rank is not None and array.ndim != rank:
        raise ConfigError(
            f"Argument `{argument}` must be one sample or a batch for an input of rank {rank - 1} "
            f"(batch axis excluded). Received: {argument}.shape={array.shape}"
        )
    return array


def weight_histograms(
    model: keras.Model, *, bins: int = 30, figure: Figure | None = None
) -> Figure:
    """One histogram per layer of its kernel weights (seed 004, figure 7).

    Large weights can hint at overfitting; a layer whose weights barely moved
    from their initial spread may not be learning. Biases are left out (they
    live on another scale); a layer with only 1-D weights (batch
    normalisation) shows those.

    Examples:
        >>> fig = kerastools.plots.weight_histograms(model)
        >>> [ax.get_title().split()[0] for ax in fig.axes]
        ['dense_1', 'output']

    Args:
        model: a built model.
        bins: histogram bins. Defaults to 30.
        figure: a figure to clear and draw into. Defaults to None.

    Returns:
        The figure, one axes per layer that has weights.

    Raises:
        ConfigError: not a model, a model with no weights, or `bins` below 1.
    """
    model = _check_model(model)
    bins = check_int("bins", bins, low=1)
    layers = []
    for layer in model.layers:
        arrays = [np.asarray(weight) for weight in layer.get_weights()]
        kernels = [array for array in arrays if array.ndim >= 2] or arrays
        if kernels:
            layers.append((layer.name, np.concatenate([array.ravel() for array in kernels])))
    if not layers:
        raise ConfigError(
            f"Argument `model` has no weights to draw (is it built?). Received: model={model.name!r}"
        )
    fig = _figure(*_grid_size(len(layers), 3, 3.2), figure=figure)
    for ax, (name, values) in zip(_panels(fig, len(layers), 3), layers, strict=True):
        ax.hist(values, bins=bins, color="C0", alpha=0.85)
        ax.set_title(f"{name} ({values.size} weights)")
        ax.set_xlabel("weight")
        ax.grid(True, alpha=0.3)
    return fig


def activation_profiles(
    model: keras.Model,
    inputs: Any,
    *,
    layers: Sequence[str | int] | None = None,
    figure: Figure | None = None,
) -> Figure:
    """Each hidden neuron's activation for a few inputs, as bars (seed 004, figure 8).

    One row per input sample, one column per layer. Neurons above zero (the
    ones that pass anything on through a ReLU) are drawn in colour, the
    others in grey: a layer that is mostly grey for every input is bigger
    than it needs to be.

    Examples:
        >>> fig = kerastools.plots.activation_profiles(model, x[:3])
        >>> len(fig.axes)   # 3 samples x 1 hidden layer
        3

    Args:
        model: a functional or built Sequential model.
        inputs: up to 10 samples (a batch), or one sample without the batch axis.
        layers: layer names or indices whose outputs are vectors. Defaults to
            None (every `Dense` layer but the output layer).
        figure: a figure to clear and draw into. Defaults to None.

    Returns:
        The figure, `samples x layers` axes.

    Raises:
        ConfigError: more than 10 samples, inputs of the wrong rank, an
            unknown layer, a layer whose output is not a vector (use
            `feature_maps` for conv layers), or a model without a graph.
    """
    import keras

    model = _check_model(model)
    batch = _batch(model, inputs, "inputs")
    if not 1 <= len(batch) <= _MAX_PROFILE_SAMPLES:
        raise ConfigError(
            f"Argument `inputs` must hold 1 to {_MAX_PROFILE_SAMPLES} samples (one row of bars each). "
            f"Received: {len(batch)} samples"
        )
    if layers is None:
        dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
        chosen = dense[:-1] if len(dense) > 1 and dense[-1] is model.layers[-1] else dense
        if not chosen:
            raise ConfigError(
                f"Argument `model` has no Dense layers; pass `layers`. Received: model={model.name!r}"
            )
    else:
        if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence) or not layers:
            raise ConfigTypeError(
                f"Argument `layers` must be a non-empty list of layer names or indices. Received: layers={layers!r}"
            )
        chosen = [_get_layer(model, layer) for layer in layers]
    outputs = _outputs_of(model, chosen, batch)
    for layer, output in zip(chosen, outputs, strict=True):
        if output.ndim != 2:
            raise ConfigError(
                f"Layer {layer.name!r} outputs shape {output.shape[1:]} per sample, not a vector; "
                "use kerastools.plots.feature_maps for conv layers."
            )
    columns = len(chosen)
    fig = _figure(max(4.0, 3.6 * columns), 2.0 * len(batch) + 0.6, figure=figure)
    axes = _panels(fig, len(batch) * columns, columns)
    for sample in range(len(batch)):
        for column, (layer, output) in enumerate(zip(chosen, outputs, strict=True)):
            ax = axes[sample * columns + column]
            values = output[sample]
            colors = np.where(values > 0, "C0", "0.7")
            ax.bar(np.arange(len(values)), values, color=colors, width=0.9)
            ax.axhline(0, color="black", linewidth=0.5)
            if sample == 0:
                ax.set_title(f"{layer.name} ({len(values)} units)")
            if column == 0:
                values_in = batch[sample].ravel()
                # Small inputs (seed 004's 1-D points) are named by value, images by index.
                name = (
                    "(" + ", ".join(f"{value:.3g}" for value in values_in) + ")"
                    if values_in.size <= 4
                    else f"{sample}"
                )
                ax.set_ylabel(f"input {name}")
            if sample == len(batch) - 1:
                ax.set_xlabel("neuron")
    return fig


def filters(
    model: keras.Model,
    layer: str | int | Any,
    *,
    channel: int = 0,
    max_filters: int = 64,
    figure: Figure | None = None,
) -> Figure:
    """The kernels of a 2-D convolution layer, one small image each (seed 004, figure 10).

    All kernels share one symmetric colour scale (blue negative, red
    positive), so their strengths can be compared.

    Examples:
        >>> cnn = kerastools.build_cnn((12, 12, 1), [(4, 3), (6, 3)])
        >>> fig = kerastools.plots.filters(cnn, "conv_1")
        >>> len(fig.axes)
        4

    Args:
        model: the model.
        layer: the conv layer, by name, index or object.
        channel: which input channel of each kernel to show. Defaults to 0.
        max_filters: show at most this many filters. Defaults to 64.
        figure: a figure to clear and draw into. Defaults to None.

    Returns:
        The figure, one axes per filter shown.

    Raises:
        ConfigError: an unknown layer, a layer without a 4-D kernel, or a
            channel out of range.
    """
    model = _check_model(model)
    conv = _get_layer(model, layer)
    kernel = getattr(conv, "kernel", None)
    if kernel is None or len(kernel.shape) != 4:
        raise ConfigError(
            f"Argument `layer` must be a 2-D convolution layer (a kernel of rank 4). "
            f"Received: layer={conv.name!r} ({type(conv).__name__})"
        )
    weights = np.asarray(kernel)
    channel = check_int("channel", channel, low=0, high=weights.shape[2] - 1)
    max_filters = check_int("max_filters", max_filters, low=1)
    count = min(weights.shape[3], max_filters)
    limit = float(np.abs(weights[:, :, channel, :count]).max()) or 1.0
    columns = min(8, count)
    fig = _figure(*_grid_size(count, columns, 1.3, extra_height=0.5), figure=figure)
    for index, ax in enumerate(_panels(fig, count, columns)):
        ax.imshow(weights[:, :, channel, index], cmap="coolwarm", vmin=-limit, vmax=limit)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(str(index), fontsize="small")
    fig.suptitle(
        f"{conv.name}: {count} of {weights.shape[3]} filters, input channel {channel}, "
        f"scale ±{limit:.3g}"
    )
    return fig


def feature_maps(
    model: keras.Model,
    image: Any,
    layer: str | int | Any,
    *,
    max_maps: int = 64,
    figure: Figure | None = None,
) -> Figure:
    """What one layer makes of one image: each channel of its output (seed 004, figure 11).

    Early conv layers still show the object's outline; deeper ones are
    smaller and more abstract.

    Examples:
        >>> cnn = kerastools.build_cnn((12, 12, 1), [(4, 3), (6, 3)])
        >>> image = np.random.default_rng(0).random((12, 12, 1))
        >>> len(kerastools.plots.feature_maps(cnn, image, "conv_2").axes)
        6

    Args:
        model: a functional or built Sequential model.
        image: one image, with or without the batch axis of size 1.
        layer: the layer whose output to show, by name, index or object;
            its output must be `(height, width, channels)` per sample.
        max_maps: show at most this many channels. Defaults to 64.
        figure: a figure to clear and draw into. Defaults to None.

    Returns:
        The figure, one axes per map shown.

    Raises:
        ConfigError: several images, an unknown layer, or a layer whose
            output is not a stack of 2-D maps.
    """
    import keras

    model = _check_model(model)
    batch = _batch(model, image, "image")
    if len(batch) != 1:
        raise ConfigError(f"Argument `image` must be one image. Received: {len(batch)} images")
    target = _get_layer(model, layer)
    max_maps = check_int("max_maps", max_maps, low=1)
    (output,) = _outputs_of(model, [target], batch)
    if output.ndim != 4:
        raise ConfigError(
            f"Argument `layer` must output 2-D maps (rank 4 with the batch axis); "
            f"{target.name!r} outputs shape {output.shape[1:]} per sample."
        )
    maps = output[0]
    if keras.config.image_data_format() == "channels_first":
        maps = np.moveaxis(maps, 0, -1)
    count = min(maps.shape[-1], max_maps)
    columns = min(8, count)
    fig = _figure(*_grid_size(count, columns, 1.4, extra_height=0.5), figure=figure)
    for index, ax in enumerate(_panels(fig, count, columns)):
        ax.imshow(maps[:, :, index], cmap="viridis")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(str(index), fontsize="small")
    fig.suptitle(
        f"{target.name}: {count} of {maps.shape[-1]} maps, {maps.shape[0]}x{maps.shape[1]}"
    )
    return fig
