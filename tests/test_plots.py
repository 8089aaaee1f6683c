"""Each plot renders to PNG under Agg with the right axes, without pyplot and without leaks."""

from __future__ import annotations

import gc
import sys
import weakref

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

import kerastools as kt
from kerastools import plots
from kerastools.errors import ConfigError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def render(fig, tmp_path, name="figure.png"):
    """Save through save_figure (atomic) and check a real PNG came out."""
    path = plots.save_figure(fig, tmp_path / name)
    content = (tmp_path / name).read_bytes()
    assert content.startswith(PNG_MAGIC) and len(content) > 1000
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # no temporary left
    return path


@pytest.fixture
def mlp(squares_data):
    model = kt.compile(kt.build_mlp(2, [6, 5]))
    model.fit(*squares_data, epochs=1, batch_size=64, verbose=0)
    return model


@pytest.fixture
def cnn():
    return kt.build_cnn((12, 12, 1), [(4, 3), (6, 3)], dense=[8])


def test_backend_is_agg_and_pyplot_keeps_no_figures(tmp_path, squares_data):
    assert matplotlib.get_backend().lower() == "agg"
    pyplot = sys.modules.get("matplotlib.pyplot")  # Keras imports it; kerastools does not use it
    open_before = pyplot.get_fignums() if pyplot else []
    render(plots.points(*squares_data), tmp_path)
    assert (pyplot.get_fignums() if pyplot else []) == open_before


def test_training_curves_has_loss_log_loss_and_each_metric(tmp_path, squares_data):
    model = kt.compile(kt.build_mlp(2, [4]), metrics=["mae"])
    history = model.fit(*squares_data, validation_split=0.25, epochs=2, verbose=0)
    fig = plots.training_curves(history)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "loss (log scale)", "mae"]
    assert fig.axes[1].get_yscale() == "log"
    assert [line.get_label() for line in fig.axes[0].get_lines()] == ["train", "validation"]
    render(fig, tmp_path)


def test_training_curves_from_a_dict_with_a_key_that_appears_mid_run():
    history = {
        "loss": [3.0, 2.0, 1.0, 0.5],
        "learning_rate": [0.1, 0.05],
        "accuracy": [0.1, 0.5, 0.7, 0.9],
    }
    fig = plots.training_curves(history)
    assert [ax.get_title() for ax in fig.axes] == [
        "loss",
        "loss (log scale)",
        "accuracy",
    ]  # bookkeeping left out
    fig = plots.training_curves(history, metrics=["learning_rate"])
    (line,) = fig.axes[2].get_lines()
    assert list(line.get_xdata()) == [3, 4]  # the last two epochs, where it was logged


@pytest.mark.parametrize(
    ("history", "metrics", "match"),
    [
        ({"accuracy": [1.0]}, None, r"no 'loss' to draw. Available keys: \['accuracy'\]"),
        (
            {"loss": [1.0]},
            ["accuracy"],
            r"`metrics` names keys that are not in the history: \['accuracy'\]",
        ),
        ([1.0, 2.0], None, r"`history` must be a keras History"),
        ({"loss": "1.0"}, None, r"must map metric names to lists of numbers"),
    ],
)
def test_training_curves_errors(history, metrics, match):
    with pytest.raises((ConfigError, TypeError), match=match):
        plots.training_curves(history, metrics)


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


def test_weight_histograms_one_panel_per_layer_with_weights(tmp_path, mlp, cnn):
    fig = plots.weight_histograms(mlp, bins=10)
    assert [ax.get_title().split()[0] for ax in fig.axes] == ["dense_1", "dense_2", "output"]
    assert fig.axes[0].get_title() == "dense_1 (12 weights)"  # 2x6 kernel, bias left out
    render(fig, tmp_path)
    assert len(plots.weight_histograms(cnn).axes) == 4  # conv_1, conv_2, dense_1, output


def test_activation_profiles_samples_times_hidden_layers(tmp_path, mlp, squares_data):
    X, _ = squares_data
    fig = plots.activation_profiles(mlp, X[:3])
    assert len(fig.axes) == 3 * 2  # 3 samples x (dense_1, dense_2); the output layer is left out
    assert fig.axes[0].get_title() == "dense_1 (6 units)"
    render(fig, tmp_path)
    assert (
        len(plots.activation_profiles(mlp, X[0], layers=["output"]).axes) == 1
    )  # one sample, no batch axis


def test_activation_profiles_errors(mlp, cnn, squares_data):
    X, _ = squares_data
    with pytest.raises(ConfigError, match=r"1 to 10 samples .* Received: 11 samples"):
        plots.activation_profiles(mlp, X[:11])
    with pytest.raises(ConfigError, match=r"one of the model's layer names \['input', 'dense_1'"):
        plots.activation_profiles(mlp, X[:2], layers=["dense_9"])
    with pytest.raises(ConfigError, match=r"not a vector; use kerastools.plots.feature_maps"):
        plots.activation_profiles(cnn, np.zeros((1, 12, 12, 1)), layers=["conv_1"])
    with pytest.raises(
        ConfigError, match=r"`inputs` must be one sample or a batch for an input of rank 1"
    ):
        plots.activation_profiles(mlp, np.zeros((1, 2, 2)))


def test_filters_and_feature_maps(tmp_path, cnn):
    fig = plots.filters(cnn, "conv_1")
    assert len(fig.axes) == 4
    render(fig, tmp_path, "filters.png")
    assert (
        len(plots.filters(cnn, 3, channel=3, max_filters=5).axes) == 5
    )  # layer 3 is conv_2 (6 filters)
    image = np.random.default_rng(0).random((12, 12, 1))
    fig = plots.feature_maps(cnn, image, "conv_1")
    assert len(fig.axes) == 4
    render(fig, tmp_path, "maps.png")
    assert len(plots.feature_maps(cnn, image[None], "pool_1", max_maps=3).axes) == 3


def test_filters_and_feature_maps_errors(cnn):
    with pytest.raises(ConfigError, match=r"must be a 2-D convolution layer .* layer='dense_1'"):
        plots.filters(cnn, "dense_1")
    with pytest.raises(ConfigError, match=r"Argument `channel` must be <= 3"):
        plots.filters(cnn, "conv_2", channel=4)
    with pytest.raises(ConfigError, match=r"index out of range for 7 layers"):
        plots.filters(cnn, 20)
    with pytest.raises(ConfigError, match=r"must be one image. Received: 2 images"):
        plots.feature_maps(cnn, np.zeros((2, 12, 12, 1)), "conv_1")
    with pytest.raises(ConfigError, match=r"must output 2-D maps .* 'flatten' outputs shape"):
        plots.feature_maps(cnn, np.zeros((12, 12, 1)), "flatten")


def test_figure_argument_redraws_in_place(squares_data):
    first = plots.points(*squares_data)
    again = plots.training_curves({"loss": [1.0, 0.5]}, figure=first)
    assert again is first and len(first.axes) == 2
    with pytest.raises(TypeError, match=r"`figure` must be a matplotlib Figure"):
        plots.points(*squares_data, figure="fig")


def test_save_figure_checks_the_format(tmp_path, squares_data):
    fig = plots.points(*squares_data)
    with pytest.raises(ConfigError, match=r"`path` must end in a format matplotlib writes"):
        plots.save_figure(fig, tmp_path / "points.bmpx")
    assert plots.save_figure(fig, tmp_path / "points.svg").endswith("points.svg")
    assert (tmp_path / "points.svg").read_text().lstrip().startswith("<?xml")


def test_figures_are_freed_once_dropped(squares_data):
    """A long session that draws many figures does not keep them alive."""
    references = []
    for _ in range(5):
        fig = plots.training_curves({"loss": [1.0, 0.5], "val_loss": [1.1, 0.6]})
        fig.canvas.draw()
        references.append(weakref.ref(fig))
        del fig
    gc.collect()
    assert [ref() for ref in references] == [None] * 5
    assert isinstance(plots.points(*squares_data), Figure)
