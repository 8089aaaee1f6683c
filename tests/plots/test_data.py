"""points and model_response: the data and the prediction surface, arguments checked."""

from __future__ import annotations

import numpy as np
import pytest
from plot_checks import render  # tests/plots/plot_checks.py

import kerastools as kt
from kerastools import plots
from kerastools.errors import ConfigError


def test_points_for_classes_regression_and_one_feature(tmp_path):
    X, y = kt.datasets.make_circles(100, noise=0.05, seed=0)
    fig = plots.points(X, y)
    assert (
        len(fig.axes) == 1 and fig.axes[0].get_legend() is not None
    )  # classes: legend, no colorbar
    render(fig, tmp_path, "classes.png")
    X, y = kt.datasets.make_squares(100, seed=0)
    assert len(plots.points(X, y).axes) == 2  # values: scatter + colorbar
    assert len(plots.points(X[:, 0], y).axes) == 1
    one_hot = np.eye(3)[np.arange(100) % 3]
    assert len(plots.points(X, one_hot).axes) == 1


@pytest.mark.parametrize(
    ("X", "y", "match"),
    [
        (np.zeros((10, 3)), np.zeros(10), r"1 or 2 features .* Received: X.shape=\(10, 3\)"),
        (np.zeros((10, 2)), np.zeros(9), r"one target per sample \(10\). Received: y.shape=\(9,\)"),
    ],
)
def test_points_errors(X, y, match):
    with pytest.raises(ConfigError, match=match):
        plots.points(X, y)


def test_model_response_over_two_and_one_features(tmp_path, mlp, squares_data):
    X, y = squares_data
    fig = plots.model_response(mlp, X, y, grid=25)
    assert len(fig.axes) == 2 and fig.axes[0].get_title() == "model response"  # surface + colorbar
    render(fig, tmp_path)
    one_input = kt.compile(kt.build_mlp(1, [4]))
    fig = plots.model_response(one_input, X[:, :1], y, grid=30)
    assert len(fig.axes) == 1
    (model_line,) = [line for line in fig.axes[0].get_lines() if line.get_label() == "model"]
    assert len(model_line.get_xdata()) == 30


def test_model_response_of_a_classifier_draws_classes():
    X, y = kt.datasets.make_xor(60, seed=0)
    classifier = kt.compile(kt.build_mlp(2, [4], output_units=2, output_activation="softmax"))
    fig = plots.model_response(classifier, X, y, grid=10)
    assert fig.axes[0].get_legend() is not None and len(fig.axes) == 2


def test_model_response_errors(mlp, squares_data):
    with pytest.raises(ConfigError, match=r"Argument `grid` must be >= 2. Received: grid=1"):
        plots.model_response(mlp, *squares_data, grid=1)
    with pytest.raises(TypeError, match=r"`model` must be a keras.Model"):
        plots.model_response("model", *squares_data)


# --------------------------------------------------------------------------- issue 15, item 10


@pytest.mark.parametrize(
    ("X", "y", "argument"),
    [
        ([[1.0, 2.0], [3.0]], [0, 1], "X"),  # ragged
        ("abcd", [0, 1, 0, 1], "X"),  # a string
        ([[[1.0, 2.0]], [[3.0, 4.0]]], [0, 1], "X"),  # nested one level too deep
        ([[1.0, 2.0], [3.0, 4.0]], ["a", "b"], "y"),  # string targets
        ([[1.0, 2.0], [3.0, 4.0]], [[1], [2, 3]], "y"),  # ragged targets
    ],
    ids=["ragged-X", "string-X", "nested-X", "string-y", "ragged-y"],
)
def test_points_refuses_what_is_not_a_rectangle_of_numbers(X, y, argument):
    with pytest.raises(ConfigError, match=rf"Argument `{argument}` must"):
        plots.points(X, y)


def test_model_response_grid_is_bounded_before_the_mesh_is_built(mlp, squares_data):
    import tracemalloc

    X, y = squares_data
    tracemalloc.start()
    try:
        with pytest.raises(ConfigError, match=r"`grid` must be <= 4096.*MAX_RESOLUTION"):
            plots.model_response(mlp, X[:8], y[:8], grid=10**5)  # 10**10 mesh points
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20
    assert plots.model_response(mlp, X[:8], y[:8], grid=8).axes[0].get_title() == "model response"


def test_inputs_of_the_wrong_feature_width_are_refused_before_predict(mlp):
    with pytest.raises(ConfigError, match=r"`inputs` must have samples of the model's input shape \(2,\)"):
        plots.activation_profiles(mlp, np.zeros((2, 3), "float32"))
    with pytest.raises(ConfigError, match=r"`inputs` must be a rectangular array of numbers"):
        plots.activation_profiles(mlp, "abc")
    with pytest.raises(ConfigError, match=r"Argument `layers` must be one of the model's layer names"):
        plots.activation_profiles(mlp, np.zeros((2, 2), "float32"), layers=["nope"])
