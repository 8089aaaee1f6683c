"""Read a model for a figure: check it, find a layer, and run a sub-model to its outputs."""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any

import numpy as np

from kerastools.errors import ConfigError, ConfigTypeError

if TYPE_CHECKING:
    import keras


def model_input_shape(model: Any) -> tuple[int | None, ...] | None:
    """The shape of the model's first input, batch axis included; None when unknown."""
    inputs = getattr(model, "inputs", None)
    try:
        return tuple(inputs[0].shape) if inputs else None
    except (AttributeError, TypeError, IndexError):
        return None


def model_input_rank(model: Any) -> int | None:
    """The rank of the model's first input, batch axis included; None when unknown."""
    shape = model_input_shape(model)
    return None if shape is None else len(shape)


def check_model(model: Any) -> keras.Model:
    """`model` when it is a keras.Model; a ConfigTypeError otherwise."""
    import keras

    if not isinstance(model, keras.Model):
        raise ConfigTypeError(f"Argument `model` must be a keras.Model. Received: model={model!r}")
    return model


def get_layer(model: keras.Model, layer: Any, argument: str = "layer") -> keras.layers.Layer:
    """A layer of `model` given by name, index or the layer itself; errors name `argument`."""
    import keras

    names = [item.name for item in model.layers]
    if isinstance(layer, keras.layers.Layer):
        if layer not in model.layers:
            raise ConfigError(
                f"Argument `{argument}` is not a layer of this model; its layers: {names}. Received: {argument}={layer.name!r}"
            )
        return layer
    if isinstance(layer, str):
        if layer not in names:
            raise ConfigError(
                f"Argument `{argument}` must be one of the model's layer names {names}. Received: {argument}={layer!r}"
            )
        return model.get_layer(layer)
    if isinstance(layer, numbers.Integral) and not isinstance(layer, bool):
        if not -len(names) <= int(layer) < len(names):
            raise ConfigError(
                f"Argument `{argument}` index out of range for {len(names)} layers {names}. Received: {argument}={layer}"
            )
        return model.layers[int(layer)]
    raise ConfigTypeError(
        f"Argument `{argument}` must be a layer name, an index or a layer. Received: {argument}={layer!r}"
    )


def outputs_of(
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


def as_batch(model: keras.Model, inputs: Any, argument: str) -> np.ndarray:
    """Add the batch axis to a single sample; leave a batch alone."""
    try:
        array = np.asarray(inputs, dtype="float32")
    except (ValueError, TypeError, OverflowError) as error:
        raise ConfigError(
            f"Argument `{argument}` must be a rectangular array of numbers. "
            f"Received: {argument}={inputs!r:.80} ({error})"
        ) from error
    shape = model_input_shape(model)
    rank = None if shape is None else len(shape)
    if rank is not None and array.ndim == rank - 1:
        array = array[None]
    if rank is not None and array.ndim != rank:
        raise ConfigError(
            f"Argument `{argument}` must be one sample or a batch for an input of rank {rank - 1} "
            f"(batch axis excluded). Received: {argument}.shape={array.shape}"
        )
    if shape is not None and any(
        want is not None and want != got for want, got in zip(shape[1:], array.shape[1:], strict=True)
    ):
        raise ConfigError(
            f"Argument `{argument}` must have samples of the model's input shape {shape[1:]}. "
            f"Received: {argument}.shape={array.shape}"
        )
    return array
