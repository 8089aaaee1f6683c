"""MLP and CNN models from one config.

Both builders return a built functional `keras.Model` with readable layer
names (`dense_1`, `dropout_1`, `conv_1`, `pool_1`, `flatten`, `output`), so a
regularizer map, a plot or a checkpoint can refer to layers by name.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import keras

from kerastools._validation import check_float, check_int, check_name, check_shape
from kerastools.errors import ConfigError, ConfigTypeError
from kerastools.regularizers import RegularizerMap

__all__ = ["build_mlp", "build_cnn", "suggest_hidden_units"]

_NOT_ACTIVATIONS = {"get", "serialize", "deserialize"}
_PADDINGS = ("valid", "same")


def _activation_names() -> list[str]:
    return sorted(
        name
        for name in dir(keras.activations)
        if not name.startswith("_") and name not in _NOT_ACTIVATIONS
    )


def _check_activation(argument: str, value: Any, *, allow_none: bool = False) -> str | None:
    if value is None and allow_none:
        return None
    if not isinstance(value, str) or value not in _activation_names():
        raise ConfigError(
            f"Argument `{argument}` must be an activation name, one of {_activation_names()}. "
            f"Received: {argument}={value!r}"
        )
    return value


def _per_layer(argument: str, value: Any, count: int) -> list[Any]:
    """Broadcast a scalar setting to `count` layers, or check a per-layer sequence's length."""
    if isinstance(value, (list, tuple)):
        if len(value) != count:
            raise ConfigError(
                f"Argument `{argument}` has {len(value)} entries but there are {count} layers; "
                f"give one value or exactly {count}. Received: {argument}={value!r}"
            )
        return list(value)
    return [value] * count


def _check_dropout(argument: str, value: Any) -> float:
    return check_float(argument, value, low=0.0, high=1.0, high_inclusive=False)


def _check_units(argument: str, value: Any) -> int:
    return check_int(argument, value, low=1)


def _dense_layer(
    units: int, activation: str | None, name: str, regularizers: RegularizerMap, group: str
) -> keras.layers.Dense:
    return keras.layers.Dense(
        units,
        activation=activation,
        kernel_regularizer=regularizers.for_layer(name, group),
        name=name,
    )


def build_mlp(
    input_shape: int | Sequence[int],
    hidden: Sequence[int],
    *,
    activation: str | Sequence[str] = "relu",
    output_units: int = 1,
    output_activation: str | None = None,
    dropout: float | Sequence[float] = 0.0,
    regularizers: Mapping[str, Any] | None = None,
    name: str | None = None,
) -> keras.Model:
    """Build a fully connected network.

    Each hidden layer is a `Dense` named `dense_i`, followed by `dropout_i`
    when its dropout rate is above zero; the last layer is `output`.

    Examples:
        >>> model = build_mlp(2, [16, 16], output_units=1)
        >>> [layer.name for layer in model.layers]
        ['input', 'dense_1', 'dense_2', 'output']

    Args:
        input_shape: features per sample, an int or a shape tuple.
        hidden: units of each hidden layer; may be empty (a linear model).
        activation: one activation name for all hidden layers, or one per
            layer. Defaults to `"relu"`.
        output_units: units of the output layer. Defaults to 1.
        output_activation: activation of the output layer, `None` for linear
            (regression). Defaults to `None`.
        dropout: rate after each hidden layer, one for all or one per layer.
            Defaults to 0.0 (no dropout layers).
        regularizers: regularizer map, see `kerastools.regularizers`.
            Defaults to `None`.
        name: model name. Defaults to `"mlp"`.

    Raises:
        ConfigError: a bad shape, size, activation, rate or regularizer map.
    """
    shape = check_shape("input_shape", input_shape)
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence):
        raise ConfigTypeError(
            f"Argument `hidden` must be a sequence of layer sizes. Received: hidden={hidden!r}"
        )
    units = [_check_units(f"hidden[{i}]", u) for i, u in enumerate(hidden)]
    activations = [
        _check_activation("activation", a)
        for a in _per_layer("activation", activation, len(units))
    ]
    rates = [_check_dropout("dropout", r) for r in _per_layer("dropout", dropout, len(units))]
    output_units = _check_units("output_units", output_units)
    output_activation = _check_activation("output_activation", output_activation, allow_none=True)
    model_name = check_name("name", name) or "mlp"
    layer_names = tuple(f"dense_{i + 1}" for i in range(len(units))) + ("output",)
    rmap = RegularizerMap(regularizers, layer_names)

    inputs = keras.Input(shape=shape, name="input")
    x = inputs
    for i, (size, act, rate) in enumerate(zip(units, activations, rates, strict=True), start=1):
        x = _dense_layer(size, act, f"dense_{i}", rmap, "hidden")(x)
        if rate > 0:
            x = keras.layers.Dropout(rate, name=f"dropout_{i}")(x)
    outputs = _dense_layer(output_units, output_activation, "output", rmap, "output")(x)
    return keras.Model(inputs, outputs, name=model_name)


def _conv_spec(index: int, spec: Any) -> dict[str, Any]:
    """Normalise one conv layer spec to Conv2D keyword arguments."""
    argument = f"conv[{index}]"
    if isinstance(spec, Mapping):
        unknown = set(spec) - {"filters", "kernel_size", "activation", "strides", "padding"}
        if unknown or "filters" not in spec or "kernel_size" not in spec:
            raise ConfigError(
                f"Argument `{argument}` needs keys 'filters' and 'kernel_size' and may have "
                f"'activation', 'strides', 'padding'. Received: {argument}={dict(spec)!r}"
            )
        fields = dict(spec)
    elif isinstance(spec, (tuple, list)) and len(spec) in (2, 3):
        fields = dict(zip(("filters", "kernel_size", "activation"), spec, strict=False))
    else:
        raise ConfigTypeError(
            f"Argument `{argument}` must be (filters, kernel_size), (filters, kernel_size, "
            f"activation) or a mapping with those keys. Received: {argument}={spec!r}"
        )
    return {
        "filters": _check_units(f"{argument}.filters", fields["filters"]),
        "kernel_size": _check_window(f"{argument}.kernel_size", fields["kernel_size"]),
        "activation": _check_activation(f"{argument}.activation", fields.get("activation", "relu")),
        "strides": _check_window(f"{argument}.strides", fields.get("strides", 1)),
        "padding": _check_padding(f"{argument}.padding", fields.get("padding", "valid")),
    }


def _conv_block(
    x: Any, spec: dict[str, Any], name: str, rmap: RegularizerMap, batch_norm: bool, index: int
) -> Any:
    """One conv layer, with a batch norm before its activation when asked."""
    regularizer = rmap.for_layer(name, "conv")
    if not batch_norm:
        return keras.layers.Conv2D(**spec, kernel_regularizer=regularizer, name=name)(x)
    fields = {**spec, "activation": None, "use_bias": False}
    x = keras.layers.Conv2D(**fields, kernel_regularizer=regularizer, name=name)(x)
    x = keras.layers.BatchNormalization(name=f"bn_{index}")(x)
    return keras.layers.Activation(spec["activation"], name=f"act_{index}")(x)


def _check_window(argument: str, value: Any) -> tuple[int, int]:
    """A kernel, stride or pool size: an int n meaning (n, n), or a pair of ints."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value, value)
    if (
        not isinstance(value, (tuple, list))
        or len(value) != 2
        or any(isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1 for v in value)
    ):
        raise ConfigError(
            f"Argument `{argument}` must be a positive int or a pair of positive ints. "
            f"Received: {argument}={value!r}"
        )
    return (int(value[0]), int(value[1]))


def _check_padding(argument: str, value: Any) -> str:
    if value not in _PADDINGS:
        raise ConfigError(
            f"Argument `{argument}` must be one of {list(_PADDINGS)}. Received: {argument}={value!r}"
        )
    return str(value)


def _window_output(size: int, window: int, stride: int, padding: str) -> int:
    """Output length of a conv or pool window along one axis; 0 when it does not fit."""
    if padding == "same":
        return -(-size // stride)
    return (size - window) // stride + 1 if size >= window else 0


def _check_feature_map_fits(
    input_shape: tuple[int, ...],
    convs: list[dict[str, Any]],
    pools: list[tuple[int, int] | None],
) -> None:
    """Follow the feature map through the conv/pool stack before Keras does.

    Keras only fails while building, deep inside a layer; say which layer
    runs out of pixels and which arguments to change.
    """
    channels_first = keras.config.image_data_format() == "channels_first"
    height, width = input_shape[1:] if channels_first else input_shape[:2]
    steps: list[tuple[str, tuple[int, int], tuple[int, int], str]] = []
    for i, spec in enumerate(convs):
        steps.append((f"conv_{i + 1} (conv[{i}])", spec["kernel_size"], spec["strides"], spec["padding"]))
        pool = pools[i] if i < len(pools) else None
        if pool is not None:
            steps.append((f"the pool after conv_{i + 1} (pool[{i}])", pool, pool, "valid"))
    for layer, window, strides, padding in steps:
        new_height = _window_output(height, window[0], strides[0], padding)
        new_width = _window_output(width, window[1], strides[1], padding)
        if new_height < 1 or new_width < 1:
            raise ConfigError(
                f"Arguments `input_shape`, `conv` and `pool` do not fit together: {layer} gets a "
                f"{height}x{width} feature map, smaller than its {window[0]}x{window[1]} window. "
                "Use a larger input, smaller kernels, padding='same' or less pooling. "
                f"Received: input_shape={input_shape!r}"
            )
        height, width = new_height, new_width


def _dense_spec(index: int, spec: Any) -> tuple[int, str]:
    argument = f"dense[{index}]"
    if isinstance(spec, (tuple, list)) and len(spec) == 2:
        return _check_units(argument, spec[0]), str(_check_activation(argument, spec[1]))
    return _check_units(argument, spec), "relu"


def build_cnn(
    input_shape: Sequence[int],
    conv: Sequence[Any],
    *,
    pool: Sequence[Any] | None = None,
    dense: Sequence[Any] = (),
    output_units: int = 10,
    output_activation: str | None = "softmax",
    dropout: float = 0.0,
    batch_norm: bool = False,
    regularizers: Mapping[str, Any] | None = None,
    name: str | None = None,
) -> keras.Model:
    """Build a convolutional network: conv/pool stack, flatten, dense layers, output.

    Examples:
        The classic 3-conv MNIST CNN in one call:

        >>> model = build_cnn(
        ...     (28, 28, 1), [(32, 3), (64, 3), (128, 3)], dense=[120],
        ...     regularizers={"hidden": ("l2", 1e-3), "output": ("l2", 1e-3)})
        >>> [layer.name for layer in model.layers][1:]
        ['conv_1', 'pool_1', 'conv_2', 'pool_2', 'conv_3', 'flatten', 'dense_1', 'output']

    Args:
        input_shape: `(height, width, channels)`.
        conv: one spec per conv layer: `(filters, kernel_size)`,
            `(filters, kernel_size, activation)`, or a mapping with those keys
            plus optional `strides` and `padding`. Activation defaults to relu.
        pool: one entry per gap between conv layers: a pool size (int or
            pair) or `None` for no pooling there. Defaults to `None`, meaning
            a (2, 2) max-pool after every conv layer but the last.
        dense: hidden dense layers after flattening: units, or
            `(units, activation)`. Defaults to `()`.
        output_units: classes. Defaults to 10.
        output_activation: Defaults to `"softmax"`.
        dropout: rate of a `Dropout` after each dense hidden layer (after
            `flatten` when there is none). Defaults to 0.0.
        regularizers: regularizer map; groups `"conv"`, `"hidden"`,
            `"output"`, `"all"` or layer names. Defaults to `None`.
        name: model name. Defaults to `"cnn"`.

    Raises:
        ConfigError: a bad spec, a pool list of the wrong length (the message
            says how many were given and how many fit), an input too small for
            the conv/pool stack (the message names the layer that runs out of
            pixels), or a bad regularizer map.
    """
    shape = check_shape("input_shape", input_shape, ndim=(3,))
    if isinstance(conv, (str, bytes, Mapping)) or not isinstance(conv, Sequence) or not conv:
        raise ConfigError(
            f"Argument `conv` must be a non-empty sequence of conv layer specs. Received: conv={conv!r}"
        )
    convs = [_conv_spec(i, spec) for i, spec in enumerate(conv)]
    gaps = len(convs) - 1
    if pool is None:
        pools: list[tuple[int, int] | None] = [(2, 2)] * gaps
    else:
        if isinstance(pool, (str, bytes)) or not isinstance(pool, Sequence):
            raise ConfigTypeError(
                f"Argument `pool` must be a sequence with one entry per gap between conv layers. "
                f"Received: pool={pool!r}"
            )
        if len(pool) != gaps:
            raise ConfigError(
                f"Argument `pool` has {len(pool)} entries but {gaps} fit: one per gap between "
                f"the {len(convs)} conv layers (use None for no pooling in a gap). "
                f"Received: pool={pool!r}"
            )
        pools = [None if p is None else _check_window(f"pool[{i}]", p) for i, p in enumerate(pool)]
    _check_feature_map_fits(shape, convs, pools)
    if isinstance(dense, (str, bytes)) or not isinstance(dense, Sequence):
        raise ConfigTypeError(f"Argument `dense` must be a sequence of layer sizes. Received: dense={dense!r}")
    denses = [_dense_spec(i, spec) for i, spec in enumerate(dense)]
    rate = _check_dropout("dropout", dropout)
    if not isinstance(batch_norm, bool):
        raise ConfigTypeError(f"Argument `batch_norm` must be True or False. Received: batch_norm={batch_norm!r}")
    output_units = _check_units("output_units", output_units)
    output_activation = _check_activation("output_activation", output_activation, allow_none=True)
    model_name = check_name("name", name) or "cnn"
    conv_names = [f"conv_{i + 1}" for i in range(len(convs))]
    dense_names = [f"dense_{i + 1}" for i in range(len(denses))]
    rmap = RegularizerMap(regularizers, tuple(conv_names + dense_names + ["output"]))

    inputs = keras.Input(shape=shape, name="input")
    x = inputs
    pool_index = 0
    for i, (layer_name, spec) in enumerate(zip(conv_names, convs, strict=True)):
        x = _conv_block(x, spec, layer_name, rmap, batch_norm, index=i + 1)
        if i < gaps and pools[i] is not None:
            pool_index += 1
            x = keras.layers.MaxPooling2D(pools[i], name=f"pool_{pool_index}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    if rate > 0 and not denses:
        x = keras.layers.Dropout(rate, name="dropout_0")(x)
    for i, (layer_name, (units, activation)) in enumerate(zip(dense_names, denses, strict=True), start=1):
        x = _dense_layer(units, activation, layer_name, rmap, "hidden")(x)
        if rate > 0:
            x = keras.layers.Dropout(rate, name=f"dropout_{i}")(x)
    outputs = _dense_layer(output_units, output_activation, "output", rmap, "output")(x)
    return keras.Model(inputs, outputs, name=model_name)


def suggest_hidden_units(
    n_samples: int, n_inputs: int, n_outputs: int, gamma: float = 5, depth: int = 1
) -> list[int]:
    """A rule of thumb for hidden layer sizes.

    N_h = N_s / ((N_i + N_o) * gamma), rounded to the nearest power of two
    (at least 1), then halved for each extra layer.

    Examples:
        >>> suggest_hidden_units(60000, 784, 10, gamma=5, depth=2)
        [16, 8]

    Args:
        n_samples: training samples N_s.
        n_inputs: input features N_i.
        n_outputs: outputs N_o.
        gamma: scaling factor, typically 2 to 10. Defaults to 5.
        depth: number of hidden layers. Defaults to 1.

    Raises:
        ConfigError: a count below 1 or a gamma that is not positive.
    """
    # Counts past 2**53 are not exact as floats (and 10**400 overflows one).
    n_samples = check_int("n_samples", n_samples, low=1, high=2**53)
    n_inputs = check_int("n_inputs", n_inputs, low=1, high=2**53)
    n_outputs = check_int("n_outputs", n_outputs, low=1, high=2**53)
    factor = check_float("gamma", gamma, low=0.0, low_inclusive=False)
    depth = check_int("depth", depth, low=1, high=1024)
    # In logarithms, so a tiny gamma cannot overflow a float (1e-300 gives 2**1000 units).
    exponent = math.log2(n_samples) - math.log2(n_inputs + n_outputs) - math.log2(factor)
    first = 2 ** max(0, round(exponent))
    return [max(1, first >> i) for i in range(depth)]
