"""Where a model looks: Grad-CAM and saliency maps, on TensorFlow, JAX and torch.

Keras 3 has no backend-neutral gradient call, so the gradient itself comes
from the running backend's module (`kerastools.backend.current()`:
`tf.GradientTape`, `jax.value_and_grad`, `torch.autograd`). Everything else
(which layer, which class, the heatmap's arithmetic, the upsampling) is
NumPy, so one model with the same weights gives the same maps on all three.

The activation of an inner layer is reached without rebuilding the model:
for the one forward pass, the layer's `call` returns its output plus a zero
tensor, and the gradient is taken with respect to that tensor. This works the
same for Sequential, functional, nested and subclassed models.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from kerastools._validation import check_int
from kerastools.errors import ConfigError, ConfigTypeError
from kerastools.plots.figure import grid_size, new_figure, panel_axes
from kerastools.plots.probe import as_batch, check_model

if TYPE_CHECKING:
    import keras
    from matplotlib.figure import Figure

__all__ = ["attribution_figure", "grad_cam", "saliency"]

MAX_SMOOTH_SAMPLES = 1000
DEFAULT_NOISE = 0.1  # saliency's noise, as a fraction of the image's value range
_MAX_FIGURE_IMAGES = 32


def grad_cam(
    model: keras.Model,
    images: Any,
    *,
    layer: str | Any = None,
    class_index: int | Sequence[int] | None = None,
    output: int | str | None = None,
) -> np.ndarray:
    """Grad-CAM heatmaps: which regions of each image raise the class's score.

    The gradient of the class score with respect to `layer`'s output,
    averaged over each map, weighs the maps; their weighted sum, with
    negative values cut, is the heatmap (Selvaraju et al. 2017, as in
    keras.io's Grad-CAM example). Each heatmap is scaled to [0, 1] and
    upsampled (bilinear, half-pixel centres, as `tf.image.resize`) to the
    image size.

    Examples:
        >>> cnn = kerastools.build_cnn((12, 12, 1), [(4, 3), (6, 3)], output_units=3,
        ...                            output_activation="softmax")
        >>> images = np.random.default_rng(0).random((2, 12, 12, 1))
        >>> maps = kerastools.plots.grad_cam(cnn, images)
        >>> maps.shape, bool(maps.min() >= 0 and maps.max() <= 1)
        ((2, 12, 12), True)

    Args:
        model: a built model whose (chosen) output is `(batch, classes)`.
        images: a batch `(n, height, width, channels)`, or one image.
        layer: the layer to look at, by name or object; None takes the last
            layer with a 4-D output (a conv or pooling layer) the forward
            pass runs through. Defaults to None.
        class_index: the class to explain: one for all images, one per
            image, or None for each image's predicted class. Defaults to None.
        output: which output of a model with several, by index or name.
            Defaults to None (the only output).

    Returns:
        A float32 array `(n, height, width)` in [0, 1]; all zeros for an
        image where no region raises the score.

    Raises:
        ConfigError: a model that is not built, images of the wrong shape, an
            unknown layer (the message lists the layers with 4-D outputs), a
            layer without spatial output, a bad `class_index` or `output`.
    """
    model, batch = _check_images(model, images)
    predictions, spatial = _forward(model, batch, output)
    chosen, shape = _choose_layer(model, spatial, layer)
    one_hot = _one_hot(predictions, class_index, len(batch))
    return _grad_cam_maps(model, batch, chosen, shape, one_hot, output)


def saliency(
    model: keras.Model,
    images: Any,
    *,
    class_index: int | Sequence[int] | None = None,
    smooth_samples: int = 0,
    noise: float = DEFAULT_NOISE,
    seed: int | None = None,
    output: int | str | None = None,
) -> np.ndarray:
    """Saliency maps: how strongly each pixel moves the class's score.

    Vanilla gradients (Simonyan et al. 2013): the largest absolute gradient
    over each pixel's channels. With `smooth_samples > 0`, SmoothGrad
    (Smilkov et al. 2017): the mean of those maps over copies of each image
    with Gaussian noise of standard deviation `noise` times the image's value
    range, drawn from NumPy with `seed` (the same noise on every backend).
    Each map is scaled to [0, 1].

    Examples:
        >>> cnn = kerastools.build_cnn((12, 12, 1), [(4, 3)], output_units=3,
        ...                            output_activation="softmax")
        >>> images = np.random.default_rng(0).random((2, 12, 12, 1))
        >>> kerastools.plots.saliency(cnn, images, smooth_samples=4, seed=0).shape
        (2, 12, 12)

    Args:
        model: a built model whose (chosen) output is `(batch, classes)`.
        images: a batch `(n, height, width, channels)`, or one image.
        class_index: as in `grad_cam`. Defaults to None.
        smooth_samples: noisy copies per image for SmoothGrad; 0 for vanilla
            gradients. At most `MAX_SMOOTH_SAMPLES`. Defaults to 0.
        noise: the noise's standard deviation as a fraction of each image's
            value range, in (0, 1]. Defaults to 0.1.
        seed: the noise's seed; None draws a fresh one. Defaults to None.
        output: as in `grad_cam`. Defaults to None.

    Returns:
        A float32 array `(n, height, width)` in [0, 1].

    Raises:
        ConfigError: a model that is not built, images of the wrong shape, a
            bad `class_index`, `output`, `smooth_samples`, `noise` or `seed`.
    """
    model, batch = _check_images(model, images)
    smooth_samples = check_int("smooth_samples", smooth_samples, low=0, high=MAX_SMOOTH_SAMPLES)
    noise = _check_noise(noise)
    if seed is not None:
        seed = check_int("seed", seed, low=0)
    predictions, _ = _forward(model, batch, output)
    one_hot = _one_hot(predictions, class_index, len(batch))
    return _saliency_maps(model, batch, one_hot, smooth_samples, noise, seed, output)


def _saliency_maps(
    model: keras.Model,
    batch: np.ndarray,
    one_hot: np.ndarray,
    smooth_samples: int,
    noise: float,
    seed: int | None,
    output: int | str | None,
) -> np.ndarray:
    """Vanilla or SmoothGrad maps for checked arguments (`saliency`, `attribution_figure`)."""
    if smooth_samples == 0:
        return _normalised(_pixel_gradients(model, batch, one_hot, output))
    rng = np.random.default_rng(seed)
    spread = (batch.max(axis=(1, 2, 3)) - batch.min(axis=(1, 2, 3))) * noise
    total = np.zeros(batch.shape[:3], dtype="float64")
    for _ in range(smooth_samples):
        noisy = batch + rng.normal(size=batch.shape).astype("float32") * spread[:, None, None, None]
        total += _pixel_gradients(model, noisy.astype("float32"), one_hot, output)
    return _normalised(total / smooth_samples)


def attribution_figure(
    model: keras.Model,
    images: Any,
    *,
    method: str = "grad_cam",
    layer: str | Any = None,
    class_index: int | Sequence[int] | None = None,
    output: int | str | None = None,
    smooth_samples: int = 0,
    seed: int | None = None,
    alpha: float = 0.5,
    figure: Figure | None = None,
) -> Figure:
    """Each image with its Grad-CAM or saliency map laid over it.

    The title names the method and, for Grad-CAM, the layer looked at
    (the one `layer=None` picked); each panel names the class explained.

    Examples:
        >>> cnn = kerastools.build_cnn((12, 12, 1), [(4, 3), (6, 3)], output_units=3,
        ...                            output_activation="softmax")
        >>> images = np.random.default_rng(0).random((3, 12, 12, 1))
        >>> fig = kerastools.plots.attribution_figure(cnn, images)
        >>> fig.texts[0].get_text()
        "Grad-CAM at layer 'conv_2'"

    Args:
        model: as in `grad_cam`.
        images: as in `grad_cam`.
        method: `"grad_cam"` or `"saliency"`. Defaults to `"grad_cam"`.
        layer: as in `grad_cam` (not used for saliency). Defaults to None.
        class_index: as in `grad_cam`. Defaults to None.
        output: as in `grad_cam`. Defaults to None.
        smooth_samples: as in `saliency`. Defaults to 0.
        seed: as in `saliency`. Defaults to None.
        alpha: the heatmap's opacity, in [0, 1]. Defaults to 0.5.
        figure: a figure to clear and draw into. Defaults to None.

    Returns:
        The figure, one axes per image (at most 32 images).

    Raises:
        ConfigError: a bad argument, as in `grad_cam` and `saliency`.
    """
    if method not in ("grad_cam", "saliency"):
        raise ConfigError(
            f"Argument `method` must be 'grad_cam' or 'saliency'. Received: method={method!r}"
        )
    alpha = _check_fraction("alpha", alpha, low_open=False)
    model, batch = _check_images(model, images)
    if len(batch) > _MAX_FIGURE_IMAGES:
        raise ConfigError(
            f"Argument `images` must hold at most {_MAX_FIGURE_IMAGES} images for one figure. "
            f"Received: {len(batch)} images"
        )
    predictions, spatial = _forward(model, batch, output)
    one_hot = _one_hot(predictions, class_index, len(batch))
    if method == "grad_cam":
        chosen, shape = _choose_layer(model, spatial, layer)
        maps = _grad_cam_maps(model, batch, chosen, shape, one_hot, output)
        title = f"Grad-CAM at layer {chosen.name!r}"
    else:
        smooth_samples = check_int("smooth_samples", smooth_samples, low=0, high=MAX_SMOOTH_SAMPLES)
        if seed is not None:
            seed = check_int("seed", seed, low=0)
        maps = _saliency_maps(model, batch, one_hot, smooth_samples, DEFAULT_NOISE, seed, output)
        title = "SmoothGrad saliency" if smooth_samples else "Saliency (gradients)"
    return _overlay(batch, maps, one_hot.argmax(axis=1), title, alpha, figure)


def _overlay(
    batch: np.ndarray,
    maps: np.ndarray,
    classes: np.ndarray,
    title: str,
    alpha: float,
    figure: Figure | None,
) -> Figure:
    columns = min(8, len(batch))
    fig = new_figure(*grid_size(len(batch), columns, 1.8, extra_height=0.6), figure=figure)
    for image, heat, label, ax in zip(
        _displayable(batch), maps, classes, panel_axes(fig, len(batch), columns), strict=True
    ):
        ax.imshow(image, cmap="gray" if image.ndim == 2 else None)
        ax.imshow(heat, cmap="jet", alpha=alpha, vmin=0.0, vmax=1.0)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"class {int(label)}", fontsize="small")
    fig.suptitle(title)
    return fig


def _displayable(batch: np.ndarray) -> np.ndarray:
    """Images scaled to [0, 1] for imshow: RGB for 3 or 4 channels, else the channels' mean in gray."""
    low = batch.min(axis=(1, 2, 3), keepdims=True)
    span = batch.max(axis=(1, 2, 3), keepdims=True) - low
    scaled = (batch - low) / np.where(span > 0, span, 1.0)
    return scaled[..., :3] if scaled.shape[-1] in (3, 4) else scaled.mean(axis=-1)


# --- checks ------------------------------------------------------------------------------


def _check_images(model: Any, images: Any) -> tuple[keras.Model, np.ndarray]:
    import keras

    model = check_model(model)
    if not model.built or not model.weights:
        raise ConfigError(
            "Argument `model` must be built: call it once on a batch, or build it with its "
            f"input shape, before asking where it looks. Received: model={model.name!r} (not built)"
        )
    batch = as_batch(model, images, "images")
    if batch.ndim != 4 or len(batch) == 0:
        raise ConfigError(
            "Argument `images` must be a non-empty batch of images (n, height, width, channels) "
            f"or one image. Received: images.shape={batch.shape}"
        )
    if keras.config.image_data_format() == "channels_first":
        raise ConfigError(
            "grad_cam and saliency take channels-last images; keras.config.image_data_format() "
            "is 'channels_first'. Received: image_data_format='channels_first'"
        )
    return model, batch


def _check_noise(noise: Any) -> float:
    return _check_fraction("noise", noise, low_open=True)


def _check_fraction(name: str, value: Any, *, low_open: bool) -> float:
    bounds = "(0, 1]" if low_open else "[0, 1]"
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise ConfigTypeError(f"Argument `{name}` must be a number in {bounds}. Received: {name}={value!r}")
    number = float(value)
    if not (math.isfinite(number) and number <= 1 and (number > 0 if low_open else number >= 0)):
        raise ConfigError(f"Argument `{name}` must be a number in {bounds}. Received: {name}={value!r}")
    return number


# --- the model's output and the class scores ---------------------------------------------


def _select_output(model: keras.Model, outputs: Any, output: int | str | None) -> Any:
    """The one output whose classes are explained."""
    if isinstance(outputs, dict):
        names = list(outputs)
        values = list(outputs.values())
    elif isinstance(outputs, (list, tuple)):
        values = list(outputs)
        names = list(getattr(model, "output_names", None) or [])
        names = names if len(names) == len(values) else [str(i) for i in range(len(values))]
    else:
        values, names = [outputs], []
    if output is None:
        if len(values) == 1:
            return values[0]
        raise ConfigError(
            f"Argument `output` must name one of the model's {len(values)} outputs: an index or "
            f"one of {names}. Received: output=None"
        )
    if isinstance(output, str) and output in names:
        return values[names.index(output)]
    index = output if isinstance(output, numbers.Integral) and not isinstance(output, bool) else -1
    if 0 <= int(index) < len(values):
        return values[int(index)]
    raise ConfigError(
        f"Argument `output` must be an index below {len(values)} or one of {names}. "
        f"Received: output={output!r}"
    )


def _one_hot(predictions: np.ndarray, class_index: Any, count: int) -> np.ndarray:
    """One class per image, the given one(s) or the predicted one, as one-hot rows."""
    classes = predictions.shape[1]
    if class_index is None:
        indices = predictions.argmax(axis=1)
    elif isinstance(class_index, numbers.Integral) and not isinstance(class_index, bool):
        indices = np.full(count, int(class_index))
    elif isinstance(class_index, (Sequence, np.ndarray)) and not isinstance(class_index, str):
        indices = np.asarray(class_index)
        if indices.shape != (count,) or indices.dtype.kind not in "iu":
            raise ConfigError(
                f"Argument `class_index` must be one int or one int per image ({count}). "
                f"Received: class_index={class_index!r}"
            )
    else:
        raise ConfigTypeError(
            "Argument `class_index` must be None, an int, or one int per image. "
            f"Received: class_index={class_index!r}"
        )
    if indices.min() < 0 or indices.max() >= classes:
        raise ConfigError(
            f"Argument `class_index` must be in [0, {classes - 1}] for an output of {classes} "
            f"classes. Received: class_index={class_index!r}"
        )
    return np.eye(classes, dtype="float32")[indices]


def _scores(model: keras.Model, batch: Any, one_hot: np.ndarray, output: int | str | None) -> Any:
    """Each image's score for its class: the chosen output times the one-hot rows."""
    import keras

    chosen = _select_output(model, model(batch, training=False), output)
    return keras.ops.sum(chosen * keras.ops.convert_to_tensor(one_hot, dtype=chosen.dtype), axis=-1)


# --- layers: which one, and its activation with the gradient -----------------------------


def _leaf_layers(model: Any) -> list[Any]:
    """Every layer inside `model` once, nested models opened (depth first)."""
    found: dict[int, Any] = {}

    def visit(container: Any) -> None:
        for layer in getattr(container, "layers", []):
            if getattr(layer, "layers", None):
                visit(layer)
            else:
                found.setdefault(id(layer), layer)

    visit(model)
    return list(found.values())


@contextmanager
def _wrapped_calls(layers: Sequence[Any], wrap: Callable[[Any, Any], Any]) -> Iterator[None]:
    """For the duration, each layer's `call` returns `wrap(layer, its output)`."""
    try:
        for layer in layers:
            original = layer.call

            def call(*args: Any, _layer: Any = layer, _original: Any = original, **kwargs: Any) -> Any:
                return wrap(_layer, _original(*args, **kwargs))

            # Set in the instance's __dict__: Keras' __setattr__ would track it.
            vars(layer)["call"] = call
        yield
    finally:
        for layer in layers:
            vars(layer).pop("call", None)


def _forward(
    model: keras.Model, batch: np.ndarray, output: int | str | None
) -> tuple[np.ndarray, list[tuple[Any, tuple[int, ...]]]]:
    """The chosen output's class scores, and (layer, output shape) of each layer with a 4-D
    output, in the order the model runs them: one forward pass."""
    import keras

    spatial: list[tuple[Any, tuple[int, ...]]] = []

    def record(layer: Any, result: Any) -> Any:
        shape = tuple(getattr(result, "shape", ()))
        if len(shape) == 4:
            spatial.append((layer, tuple(int(size) for size in shape)))
        return result

    with _wrapped_calls(_leaf_layers(model), record):
        outputs = model(batch, training=False)
    predictions = np.asarray(keras.ops.convert_to_numpy(_select_output(model, outputs, output)))
    if predictions.ndim != 2:
        raise ConfigError(
            "The explained output must be (batch, classes) class scores; pick another with "
            f"`output`. Received: an output of shape {predictions.shape}"
        )
    return predictions, spatial


def _choose_layer(
    model: keras.Model, spatial: list[tuple[Any, tuple[int, ...]]], layer: Any
) -> tuple[Any, tuple[int, ...]]:
    """The layer to look at, and its output shape for the batch."""
    names = [item.name for item, _ in spatial]
    everything = {item.name: item for item in _leaf_layers(model)}
    if layer is None:
        if not spatial:
            raise ConfigError(
                "Grad-CAM needs a layer with a 4-D output (a conv or pooling layer) and this "
                f"model runs through none. Received: model={model.name!r}"
            )
        return spatial[-1]
    target = everything.get(layer) if isinstance(layer, str) else layer
    if target is None or not any(target is item for item in everything.values()):
        raise ConfigError(
            f"Argument `layer` must be a layer of the model; layers with spatial (4-D) outputs: "
            f"{names}. Received: layer={getattr(layer, 'name', layer)!r}"
        )
    calls = [shape for item, shape in spatial if item is target]
    if len(calls) != 1:
        detail = "has no spatial (4-D) output" if not calls else "runs more than once per call"
        raise ConfigError(
            f"Argument `layer` {detail}; layers with spatial (4-D) outputs: {names}. "
            f"Received: layer={target.name!r}"
        )
    return target, calls[0]


def _grad_cam_maps(
    model: keras.Model,
    batch: np.ndarray,
    layer: Any,
    shape: tuple[int, ...],
    one_hot: np.ndarray,
    output: int | str | None,
) -> np.ndarray:
    from kerastools import backend

    def scores_and_activation(delta: Any) -> tuple[Any, Any]:
        captured: list[Any] = []

        def add_delta(_: Any, result: Any) -> Any:
            captured.append(result + delta)
            return captured[-1]

        with _wrapped_calls([layer], add_delta):
            scores = _scores(model, batch, one_hot, output)
        return scores, captured[0]

    zeros = np.zeros(shape, dtype="float32")
    activation, gradient = backend.current().value_and_gradient(scores_and_activation, zeros)
    weights = gradient.astype("float64").mean(axis=(1, 2))
    cams = np.maximum(np.einsum("nhwc,nc->nhw", activation.astype("float64"), weights), 0.0)
    # Scaled, then upsampled, as keras.io's recipe does.
    return _resize_bilinear(_normalised(cams), batch.shape[1:3]).astype("float32")


def _pixel_gradients(
    model: keras.Model, batch: np.ndarray, one_hot: np.ndarray, output: int | str | None
) -> np.ndarray:
    from kerastools import backend
    _, gradient = backend.current().value_and_gradient(
        lambda images: (_scores(model, images, one_hot, output), ()), batch
    )
    return np.abs(gradient.astype("float64")).max(axis=-1)


# --- arithmetic --------------------------------------------------------------------------


def _normalised(maps: np.ndarray) -> np.ndarray:
    """Each map divided by its maximum (all-zero maps stay zero), as float32."""
    peaks = maps.max(axis=(1, 2), keepdims=True)
    return (maps / np.where(peaks > 0, peaks, 1.0)).astype("float32")


def _resize_bilinear(maps: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of `(n, h, w)` maps, half-pixel centres (as `tf.image.resize`)."""
    rows = _interpolation(maps.shape[1], size[0])
    columns = _interpolation(maps.shape[2], size[1])
    return np.einsum("ih,nhw,jw->nij", rows, maps, columns)


def _interpolation(source: int, target: int) -> np.ndarray:
    """The `(target, source)` matrix of bilinear weights along one axis."""
    position = np.clip((np.arange(target) + 0.5) * source / target - 0.5, 0, source - 1)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, source - 1)
    fraction = position - low
    weights = np.zeros((target, source))
    weights[np.arange(target), low] += 1 - fraction
    weights[np.arange(target), high] += fraction
    return weights
