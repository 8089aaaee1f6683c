"""Weight histograms, activation profiles, filters and feature maps: one panel per thing drawn."""

from __future__ import annotations

import numpy as np
import pytest
from plot_checks import render  # tests/plots/plot_checks.py

from kerastools import plots
from kerastools.errors import ConfigError


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


def test_weight_histograms_bins_are_bounded(mlp):
    """Issue 15 item 10: bins=10**9 was accepted (then a 8 GB bin array)."""
    with pytest.raises(ConfigError, match=r"`bins` must be <= 4096"):
        plots.weight_histograms(mlp, bins=10**9)
    assert len(plots.weight_histograms(mlp, bins=4096).axes) == len(mlp.layers) - 1  # every Dense
