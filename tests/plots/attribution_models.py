"""The models and images the attribution tests share, the same on every backend.

Weights come from NumPy, not from Keras' initialisers (which draw differently
on each backend), so TensorFlow, JAX and torch hold the same numbers.
"""

from __future__ import annotations

import keras
import numpy as np

REFERENCE = "attribution_reference.npz"


def conv_layers() -> list[keras.layers.Layer]:
    return [
        keras.layers.Conv2D(6, 3, activation="relu", name="conv_a"),
        keras.layers.MaxPooling2D(2, name="pool"),
        keras.layers.Conv2D(8, 3, activation="relu", name="conv_b"),
    ]


def head_layers() -> list[keras.layers.Layer]:
    return [
        keras.layers.GlobalAveragePooling2D(name="gap"),
        keras.layers.Dense(4, activation="softmax", name="classes"),
    ]


def functional_model() -> keras.Model:
    inputs = keras.Input((16, 16, 2))
    x = inputs
    for layer in conv_layers() + head_layers():
        x = layer(x)
    model = keras.Model(inputs, x, name="functional")
    set_numpy_weights(model)
    return model


def set_numpy_weights(model: keras.Model, seed: int = 5) -> None:
    rng = np.random.default_rng(seed)
    model.set_weights(
        [(rng.normal(size=w.shape) * (0.5 if w.ndim > 1 else 0.1)).astype("float32")
         for w in model.get_weights()]
    )


def images(count: int = 5, seed: int = 5) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1, size=(count, 16, 16, 2)).astype("float32")
