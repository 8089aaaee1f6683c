"""Grad-CAM and saliency maps: the same on every backend, equal to keras.io's recipe, and sane.

The module runs in the TensorFlow, JAX and torch passes of `make test`; the
recipe comparison and the trained-model sanity check need TensorFlow.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
from attribution_models import (
    REFERENCE,
    conv_layers,
    functional_model,
    head_layers,
    images,
    set_numpy_weights,
)
from plot_checks import render

import kerastools as kt
from kerastools.errors import ConfigError, KerastoolsError

TOLERANCE = {"rtol": 1e-4, "atol": 1e-5}  # float32 convolutions differ by backend
tf_only = pytest.mark.tf_only


@pytest.fixture(scope="module")
def reference():
    return np.load(Path(__file__).parent / REFERENCE, allow_pickle=False)


def test_grad_cam_on_this_backend_equals_tensorflows_recipe(reference):
    model, batch = functional_model(), images()
    maps = kt.plots.grad_cam(model, batch)  # last 4-D layer: conv_b; predicted classes
    assert maps.shape == (5, 16, 16) and maps.dtype == np.float32
    np.testing.assert_allclose(maps, reference["grad_cam_conv_b"], **TOLERANCE)
    chosen = kt.plots.grad_cam(model, batch, layer="conv_a", class_index=2)
    np.testing.assert_allclose(chosen, reference["grad_cam_conv_a_class_2"], **TOLERANCE)


def test_saliency_on_this_backend_equals_tensorflows_gradients(reference):
    maps = kt.plots.saliency(functional_model(), images())
    np.testing.assert_allclose(maps, reference["saliency"], **TOLERANCE)
    assert np.allclose(maps.max(axis=(1, 2)), 1.0)


def test_smoothgrad_is_seeded_numpy_noise_and_differs_from_vanilla():
    model, batch = functional_model(), images()
    first = kt.plots.saliency(model, batch, smooth_samples=3, seed=1)
    again = kt.plots.saliency(model, batch, smooth_samples=3, seed=1)
    other = kt.plots.saliency(model, batch, smooth_samples=3, seed=2)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)
    assert not np.allclose(first, kt.plots.saliency(model, batch))
    assert first.min() >= 0 and np.allclose(first.max(axis=(1, 2)), 1.0)


def _nested_model() -> tuple[keras.Model, keras.Model]:
    """A Sequential holding a functional feature extractor, and the flat model of the same layers."""
    convs, head = conv_layers(), head_layers()
    inputs = keras.Input((16, 16, 2))
    x = inputs
    for layer in convs:
        x = layer(x)
    features = keras.Model(inputs, x, name="features")
    nested = keras.Sequential([keras.Input((16, 16, 2)), features, *head], name="nested")
    flat_inputs = keras.Input((16, 16, 2))
    y = flat_inputs
    for layer in convs + head:
        y = layer(y)
    set_numpy_weights(nested)
    return nested, keras.Model(flat_inputs, y)


def test_a_layer_inside_a_nested_model_is_found_and_gives_the_flat_models_maps():
    nested, flat = _nested_model()
    batch = images()
    np.testing.assert_allclose(kt.plots.grad_cam(nested, batch), kt.plots.grad_cam(flat, batch),
                               **TOLERANCE)
    np.testing.assert_allclose(
        kt.plots.grad_cam(nested, batch, layer="conv_a", class_index=1),
        kt.plots.grad_cam(flat, batch, layer="conv_a", class_index=1), **TOLERANCE,
    )


class _Subclassed(keras.Model):
    def __init__(self):
        super().__init__(name="subclassed")
        self.convs, self.head = conv_layers(), head_layers()

    def call(self, x):
        for layer in self.convs + self.head:
            x = layer(x)
        return x


def test_a_subclassed_model_gives_the_functional_models_maps():
    model = _Subclassed()
    model(images(1))
    set_numpy_weights(model)
    np.testing.assert_allclose(kt.plots.grad_cam(model, images()),
                               kt.plots.grad_cam(functional_model(), images()), **TOLERANCE)


def test_several_outputs_take_output_by_name_or_index():
    inputs = keras.Input((16, 16, 2))
    x = inputs
    for layer in conv_layers():
        x = layer(x)
    pooled = keras.layers.GlobalAveragePooling2D()(x)
    first = keras.layers.Dense(4, activation="softmax", name="kind")(pooled)
    second = keras.layers.Dense(3, activation="softmax", name="colour")(pooled)
    model = keras.Model(inputs, [first, second])
    set_numpy_weights(model)
    single = keras.Model(inputs, second)
    batch = images()
    by_name = kt.plots.grad_cam(model, batch, output="colour")
    np.testing.assert_allclose(by_name, kt.plots.grad_cam(single, batch), **TOLERANCE)
    np.testing.assert_allclose(kt.plots.saliency(model, batch, output=1),
                               kt.plots.saliency(single, batch), **TOLERANCE)
    with pytest.raises(ConfigError, match=r"output.*'kind', 'colour'"):
        kt.plots.grad_cam(model, batch)


def test_bad_input_is_refused_with_what_is_allowed():
    model, batch = functional_model(), images()
    with pytest.raises(ConfigError, match=r"layers with spatial \(4-D\) outputs: \['conv_a', 'pool', 'conv_b'\]"):
        kt.plots.grad_cam(model, batch, layer="conv_c")
    with pytest.raises(ConfigError, match="no spatial"):
        kt.plots.grad_cam(model, batch, layer="classes")
    with pytest.raises(ConfigError, match=r"input shape"):
        kt.plots.grad_cam(model, np.zeros((2, 12, 12, 2), "float32"))
    with pytest.raises(ConfigError, match=r"\[0, 3\]"):
        kt.plots.grad_cam(model, batch, class_index=4)
    with pytest.raises(ConfigError, match="one int per image"):
        kt.plots.saliency(model, batch, class_index=[0, 1])
    with pytest.raises(ConfigError, match="noise"):
        kt.plots.saliency(model, batch, smooth_samples=2, noise=0)
    with pytest.raises(ConfigError, match="smooth_samples"):
        kt.plots.saliency(model, batch, smooth_samples=-1)
    with pytest.raises(ConfigError, match="built"):
        kt.plots.grad_cam(_Subclassed(), batch)
    with pytest.raises(KerastoolsError, match="method"):
        kt.plots.attribution_figure(model, batch, method="lime")
    dense = kt.compile(kt.build_mlp(2, [4], output_units=3, output_activation="softmax"))
    with pytest.raises(ConfigError, match="images"):
        kt.plots.grad_cam(dense, np.zeros((2, 2), "float32"))


def test_the_figure_names_the_layer_it_picked_and_renders(tmp_path):
    model, batch = functional_model(), images(3)
    fig = kt.plots.attribution_figure(model, batch)
    assert fig.texts[0].get_text() == "Grad-CAM at layer 'conv_b'"
    assert [ax.get_title() for ax in fig.axes] == ["class 3", "class 3", "class 0"]  # predicted
    render(fig, tmp_path)
    fig = kt.plots.attribution_figure(model, batch, method="saliency", class_index=[0, 1, 2])
    assert [ax.get_title() for ax in fig.axes] == ["class 0", "class 1", "class 2"]


@tf_only
def test_the_layer_call_is_restored_after_a_failure():
    model = functional_model()
    conv = model.get_layer("conv_b")
    with pytest.raises(ConfigError):
        kt.plots.grad_cam(model, images(), class_index=9)
    assert "call" not in vars(conv)
    before = model.predict(images(), verbose=0)
    kt.plots.grad_cam(model, images())
    assert "call" not in vars(conv)
    np.testing.assert_array_equal(model.predict(images(), verbose=0), before)


# --- the sanity check (Adebayo et al. 2018): a trained model looks at the object, a random one does not

SIZE = 20


def _squares_and_bars(count: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Noise with a 2x8 bar in every image, and a bright 4x4 square in those of class 1."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.1, size=(count, SIZE, SIZE, 1)).astype("float32")
    y = rng.integers(0, 2, size=count)
    squares = np.zeros((count, 4), int)
    for i in range(count):
        while True:
            row, col = rng.integers(0, SIZE - 4, size=2)
            tall = rng.random() < 0.5
            bar_row, bar_col = rng.integers(0, SIZE - (8 if tall else 2)), rng.integers(0, SIZE - (2 if tall else 8))
            height, width = (8, 2) if tall else (2, 8)
            if (row + 5 < bar_row or bar_row + height + 1 < row
                    or col + 5 < bar_col or bar_col + width + 1 < col):
                break  # the bar does not touch the square
        if y[i] == 1:
            x[i, row:row + 4, col:col + 4, 0] += 1.0
        x[i, bar_row:bar_row + height, bar_col:bar_col + width, 0] += 1.0
        squares[i] = (row, col, row + 4, col + 4)
    return x, y, squares


def _square_detector() -> keras.Model:
    return keras.Sequential([
        keras.Input((SIZE, SIZE, 1)),
        keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(2, activation="softmax"),
    ])


def _peaks_inside(model: keras.Model, x: np.ndarray, squares: np.ndarray) -> float:
    maps = kt.plots.grad_cam(model, x, class_index=1)
    peaks = [np.unravel_index(heat.argmax(), heat.shape) for heat in maps]
    inside = [top <= r < bottom and left <= c < right
              for (r, c), (top, left, bottom, right) in zip(peaks, squares, strict=True)]
    return float(np.mean(inside))


@tf_only
def test_a_trained_square_detector_looks_at_the_square_and_a_random_one_does_not():
    x, y, _ = _squares_and_bars(800, seed=0)
    x_test, y_test, squares = _squares_and_bars(200, seed=1)
    with_square = y_test == 1
    model = _square_detector()
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=5, batch_size=32, verbose=0)
    assert model.evaluate(x_test, y_test, verbose=0)[1] >= 0.95
    trained = _peaks_inside(model, x_test[with_square], squares[with_square])
    randomised = _peaks_inside(_square_detector(), x_test[with_square], squares[with_square])
    assert trained >= 0.9, trained
    assert randomised < 0.9, randomised
