"""Inside the model: weight histograms, activation profiles, conv filters and feature maps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from kerastools._validation import check_int, check_resolution
from kerastools.errors import ConfigError, ConfigTypeError
from kerastools.plots.figure import grid_size, new_figure, panel_axes
from kerastools.plots.probe import as_batch, check_model, get_layer, outputs_of

if TYPE_CHECKING:
    import keras
    from matplotlib.figure import Figure

__all__ = ["activation_profiles", "feature_maps", "filters", "weight_histograms"]

_MAX_PROFILE_SAMPLES = 10


def weight_histograms(
    model: keras.Model, *, bins: int = 30, figure: Figure | None = None
) -> Figure:
    """One histogram per layer of its kernel weights.

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
        ConfigError: not a model, a model with no weights, or `bins` outside
            [1, 4096] (`kerastools._validation.MAX_RESOLUTION`).
    """
    model = check_model(model)
    bins = check_resolution("bins", bins)
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
    fig = new_figure(*grid_size(len(layers), 3, 3.2), figure=figure)
    for ax, (name, values) in zip(panel_axes(fig, len(layers), 3), layers, strict=True):
        # One filled outline, not a bar per bin: the same picture, and 4096 bins draw in
        # 0.2 s instead of 1.8 s.
        ax.hist(values, bins=bins, color="C0", alpha=0.85, histtype="stepfilled")
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
    """Each hidden neuron's activation for a few inputs, as bars.

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

    model = check_model(model)
    batch = as_batch(model, inputs, "inputs")
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
        chosen = [get_layer(model, layer, "layers") for layer in layers]
    outputs = outputs_of(model, chosen, batch)
    for layer, output in zip(chosen, outputs, strict=True):
        if output.ndim != 2:
            raise ConfigError(
                f"Layer {layer.name!r} outputs shape {output.shape[1:]} per sample, not a vector; "
                "use kerastools.plots.feature_maps for conv layers."
            )
    columns = len(chosen)
    fig = new_figure(max(4.0, 3.6 * columns), 2.0 * len(batch) + 0.6, figure=figure)
    axes = panel_axes(fig, len(batch) * columns, columns)
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
                # Small inputs (a few features) are named by value, images by index.
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
    """The kernels of a 2-D convolution layer, one small image each.

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
    model = check_model(model)
    conv = get_layer(model, layer)
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
    fig = new_figure(*grid_size(count, columns, 1.3, extra_height=0.5), figure=figure)
    for index, ax in enumerate(panel_axes(fig, count, columns)):
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
    """What one layer makes of one image: each channel of its output.

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

    model = check_model(model)
    batch = as_batch(model, image, "image")
    if len(batch) != 1:
        raise ConfigError(f"Argument `image` must be one image. Received: {len(batch)} images")
    target = get_layer(model, layer)
    max_maps = check_int("max_maps", max_maps, low=1)
    (output,) = outputs_of(model, [target], batch)
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
    fig = new_figure(*grid_size(count, columns, 1.4, extra_height=0.5), figure=figure)
    for index, ax in enumerate(panel_axes(fig, count, columns)):
        ax.imshow(maps[:, :, index], cmap="viridis")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(str(index), fontsize="small")
    fig.suptitle(
        f"{target.name}: {count} of {maps.shape[-1]} maps, {maps.shape[0]}x{maps.shape[1]}"
    )
    return fig
