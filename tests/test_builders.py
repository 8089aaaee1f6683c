from __future__ import annotations

import math

import keras
import numpy as np
import pytest

import kerastools as kt
from kerastools.errors import ConfigError, KerastoolsError


def layer_names(model):
    return [layer.name for layer in model.layers]


def test_mlp_layers_are_named_and_shaped():
    model = kt.build_mlp(3, [16, 8], activation=["relu", "tanh"], output_units=2, dropout=[0.2, 0.0])
    assert layer_names(model) == ["input", "dense_1", "dropout_1", "dense_2", "output"]
    assert model.get_layer("dense_2").activation.__name__ == "tanh"
    assert model.output_shape == (None, 2)
    assert model.name == "mlp"


def test_mlp_trains_on_a_tiny_set(squares_data):
    x, y = squares_data
    model = kt.compile(kt.build_mlp(2, [16, 16]), optimizer="adam", learning_rate=0.01)
    history = model.fit(x, y, epochs=5, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_classic_3_conv_cnn_is_one_call():
    model = kt.build_cnn(
        (28, 28, 1),
        [(32, 3), (64, 3), (128, 3)],
        dense=[120],
        regularizers={"hidden": ("l2", 1e-3), "output": ("l2", 1e-3)},
    )
    assert layer_names(model)[1:] == [
        "conv_1", "pool_1", "conv_2", "pool_2", "conv_3", "flatten", "dense_1", "output",
    ]
    assert model.get_layer("conv_3").output.shape == (None, 3, 3, 128)
    assert model.get_layer("dense_1").units == 120
    assert model.get_layer("output").activation.__name__ == "softmax"
    assert model.get_layer("conv_1").kernel_regularizer is None
    assert model.get_layer("dense_1").kernel_regularizer.get_config() == {"l2": pytest.approx(1e-3)}
    assert model.get_layer("output").kernel_regularizer.get_config() == {"l2": pytest.approx(1e-3)}


def test_cnn_explicit_pools_and_mapping_specs(image_data):
    x, y = image_data
    model = kt.build_cnn(
        (12, 12, 1),
        [{"filters": 4, "kernel_size": 3, "padding": "same"}, (8, (3, 3), "tanh")],
        pool=[None],
        dense=[(16, "relu")],
        output_units=3,
        dropout=0.25,
    )
    assert "pool_1" not in layer_names(model)
    assert layer_names(model)[-3:] == ["dense_1", "dropout_1", "output"]
    kt.compile(model, optimizer="sgd", learning_rate=0.05, metrics=["accuracy"])
    history = model.fit(x, y, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_cnn_batch_norm_sits_between_each_conv_and_its_activation(image_data):
    x, y = image_data
    model = kt.build_cnn(
        (12, 12, 1), [(4, 3), (8, 3, "tanh")], dense=[16], output_units=3, batch_norm=True,
        regularizers={"conv": ("l2", 1e-4)},
    )
    assert layer_names(model)[1:5] == ["conv_1", "bn_1", "act_1", "pool_1"]
    conv = model.get_layer("conv_2")
    # The norm's offset replaces the bias; the activation moves after the norm.
    assert conv.use_bias is False and conv.activation.__name__ == "linear"
    assert model.get_layer("act_2").activation.__name__ == "tanh"
    assert conv.kernel_regularizer.get_config() == {"l2": pytest.approx(1e-4)}
    kt.compile(model, optimizer="adam", learning_rate=0.01, metrics=["accuracy"])
    before = np.array(model.get_layer("bn_1").moving_mean)
    history = model.fit(x, y, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert not np.array_equal(before, model.get_layer("bn_1").moving_mean)  # the norm is trained


def test_regularizer_precedence_name_over_group_over_all():
    model = kt.build_mlp(
        2, [4, 4], regularizers={"all": ("l1", 1e-4), "hidden": ("l2", 1e-3), "dense_2": None}
    )
    assert model.get_layer("dense_1").kernel_regularizer.get_config() == {"l2": pytest.approx(1e-3)}
    assert model.get_layer("dense_2").kernel_regularizer is None
    assert model.get_layer("output").kernel_regularizer.get_config() == {"l1": pytest.approx(1e-4)}


def test_regularizers_add_to_the_loss():
    model = kt.build_mlp(2, [4], regularizers={"all": ("l1_l2", 1e-2, 1e-2)})
    model(np.zeros((1, 2), "float32"))
    assert len(model.losses) == 2
    assert float(sum(model.losses)) > 0


def test_saved_model_gives_the_same_predictions(tmp_path):
    model = kt.build_cnn((8, 8, 1), [(4, 3), (4, 3)], dense=[8], regularizers={"conv": ("l2", 1e-4)})
    x = np.random.default_rng(1).normal(size=(5, 8, 8, 1)).astype("float32")
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    assert layer_names(loaded) == layer_names(model)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"input_shape": 0, "hidden": [4]}, "input_shape"),
        ({"input_shape": (2, -1), "hidden": [4]}, "input_shape"),
        ({"input_shape": "2", "hidden": [4]}, "input_shape"),
        ({"input_shape": 2, "hidden": "16"}, "hidden"),
        ({"input_shape": 2, "hidden": [4, 0]}, "hidden\\[1\\]"),
        ({"input_shape": 2, "hidden": [4.5]}, "hidden\\[0\\]"),
        ({"input_shape": 2, "hidden": [4], "activation": "relux"}, "activation"),
        ({"input_shape": 2, "hidden": [4, 4], "activation": ["relu"]}, "activation"),
        ({"input_shape": 2, "hidden": [4], "dropout": 1.0}, "dropout"),
        ({"input_shape": 2, "hidden": [4], "dropout": -0.1}, "dropout"),
        ({"input_shape": 2, "hidden": [4], "dropout": float("nan")}, "dropout"),
        ({"input_shape": 2, "hidden": [4], "output_units": 0}, "output_units"),
        ({"input_shape": 2, "hidden": [4], "output_activation": "soft_max"}, "output_activation"),
        ({"input_shape": 2, "hidden": [4], "regularizers": {"dense": ("l2", 1e-3)}}, "regularizers"),
        ({"input_shape": 2, "hidden": [4], "regularizers": {"hidden": ("l3", 1e-3)}}, "regularizers"),
        ({"input_shape": 2, "hidden": [4], "regularizers": {"hidden": ("l2", -1e-3)}}, "regularizers"),
        ({"input_shape": 2, "hidden": [4], "regularizers": {"hidden": ("l1_l2", 1e-3)}}, "regularizers"),
        ({"input_shape": 2, "hidden": [4], "regularizers": {"hidden": "l2"}}, "regularizers"),
        ({"input_shape": 2, "hidden": [4], "regularizers": [("l2", 1e-3)]}, "regularizers"),
        ({"input_shape": 2, "hidden": [4], "name": ""}, "name"),
    ],
)
def test_build_mlp_rejects_bad_input(kwargs, argument):
    with pytest.raises(KerastoolsError, match=argument) as info:
        kt.build_mlp(**kwargs)
    assert isinstance(info.value, (ValueError, TypeError))


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"input_shape": (28, 28), "conv": [(4, 3)]}, "input_shape"),
        ({"input_shape": (28, 28, 1), "conv": []}, "conv"),
        ({"input_shape": (28, 28, 1), "conv": [(4,)]}, "conv\\[0\\]"),
        ({"input_shape": (28, 28, 1), "conv": [(0, 3)]}, "conv\\[0\\].filters"),
        ({"input_shape": (28, 28, 1), "conv": [(4, 0)]}, "conv\\[0\\].kernel_size"),
        ({"input_shape": (28, 28, 1), "conv": [(4, 3, "nope")]}, "conv\\[0\\].activation"),
        ({"input_shape": (28, 28, 1), "conv": [{"filters": 4}]}, "conv\\[0\\]"),
        ({"input_shape": (28, 28, 1), "conv": [{"filters": 4, "kernel_size": 3, "padding": "full"}]}, "padding"),
        ({"input_shape": (28, 28, 1), "conv": [(4, 3)], "dense": [0]}, "dense\\[0\\]"),
        ({"input_shape": (28, 28, 1), "conv": [(4, 3)], "batch_norm": "yes"}, "batch_norm"),
        ({"input_shape": (28, 28, 1), "conv": [(4, 3)], "regularizers": {"conv_2": ("l2", 1e-3)}}, "regularizers"),
    ],
)
def test_build_cnn_rejects_bad_input(kwargs, argument):
    with pytest.raises(KerastoolsError, match=argument):
        kt.build_cnn(**kwargs)


def test_pool_mismatch_says_how_many_fit():
    with pytest.raises(ConfigError, match="`pool` has 1 entries but 2 fit"):
        kt.build_cnn((28, 28, 1), [(4, 3), (4, 3), (4, 3)], pool=[2])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((60000, 784, 10), [16]),
        ((60000, 784, 10, 5, 3), [16, 8, 4]),
        ((10000, 2, 1, 2), [2048]),
        ((10, 100, 10), [1]),
    ],
)
def test_suggest_hidden_units(args, expected):
    assert kt.suggest_hidden_units(*args) == expected


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_samples": 0, "n_inputs": 1, "n_outputs": 1},
        {"n_samples": 10, "n_inputs": 1, "n_outputs": 1, "gamma": 0},
        {"n_samples": 10, "n_inputs": 1, "n_outputs": 1, "depth": 0},
    ],
)
def test_suggest_hidden_units_rejects_bad_input(kwargs):
    argument = next(k for k, v in kwargs.items() if v == 0)
    with pytest.raises(ConfigError, match=argument):
        kt.suggest_hidden_units(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_samples": 10**400}, r"`n_samples` must be <= 9007199254740992"),  # OverflowError before
        ({"gamma": 1e-310}, None),  # N_s / (...) overflows a float to inf: computed in logarithms
        ({"depth": 10**6}, r"`depth` must be <= 1024"),
    ],
    ids=["huge-samples", "tiny-gamma", "huge-depth"],
)
def test_suggest_hidden_units_bounds(kwargs, match):
    """Issue 15 item 10: huge counts gave a raw OverflowError."""
    arguments = {"n_samples": 60000, "n_inputs": 784, "n_outputs": 10, **kwargs}
    if match is None:
        exponent = math.log2(60000) - math.log2(794) - math.log2(1e-310)
        assert kt.suggest_hidden_units(**arguments) == [2 ** round(exponent)]
        return
    with pytest.raises(ConfigError, match=match):
        kt.suggest_hidden_units(**arguments)
