from __future__ import annotations

import keras
import numpy as np
import pytest

import kerastools as kt
from kerastools.errors import ConfigError, KerastoolsError


class RecordLearningRate(keras.callbacks.Callback):
    """Test probe: the LR the optimizer will use next, after every epoch."""

    def __init__(self):
        super().__init__()
        self.values = []

    def on_epoch_end(self, epoch, logs=None):
        self.values.append(kt.current_learning_rate(self.model))


def tiny_model():
    return kt.build_mlp(2, [8])


@pytest.mark.parametrize("staircase", [False, True])
@pytest.mark.parametrize("steps_per_epoch", [None, 4])
def test_inverse_time_schedule_matches_formula(squares_data, staircase, steps_per_epoch):
    x, y = squares_data
    model = kt.compile(
        tiny_model(), optimizer="sgd", learning_rate=0.1, schedule="inverse_time",
        decay_steps=2, decay_rate=0.5, staircase=staircase, steps_per_epoch=steps_per_epoch,
    )
    model.fit(x[:40], y[:40], batch_size=8, epochs=2, verbose=0)  # 10 steps
    steps = 10
    period = 2 * (steps_per_epoch or 1)
    ratio = np.floor(steps / period) if staircase else steps / period
    assert kt.current_learning_rate(model) == pytest.approx(0.1 / (1 + 0.5 * ratio), rel=1e-6)


def test_exponential_schedule_matches_formula(squares_data):
    x, y = squares_data
    model = kt.compile(
        tiny_model(), optimizer="rmsprop", learning_rate=0.01, schedule="exponential",
        decay_steps=3, decay_rate=0.9,
    )
    model.fit(x[:56], y[:56], batch_size=8, epochs=1, verbose=0)  # 7 steps
    assert kt.current_learning_rate(model) == pytest.approx(0.01 * 0.9 ** (7 / 3), rel=1e-6)


def test_keras2_powersched_name_is_an_alias():
    model = kt.compile(tiny_model(), schedule="powerSched", learning_rate=0.01, decay_rate=1e-5)
    config = model.optimizer.get_config()["learning_rate"]
    assert config["class_name"] == "InverseTimeDecay"
    assert config["config"]["decay_rate"] == pytest.approx(1e-5)


def test_schedule_instance_is_used_as_is():
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay([5], [0.1, 0.01])
    model = kt.compile(tiny_model(), optimizer="adam", schedule=schedule)
    assert model.optimizer.get_config()["learning_rate"]["class_name"] == "PiecewiseConstantDecay"
    assert kt.current_learning_rate(model) == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("name", "cls", "attribute"),
    [
        ("rmsprop", keras.optimizers.RMSprop, "momentum"),
        ("sgd", keras.optimizers.SGD, "momentum"),
        ("nadam", keras.optimizers.Nadam, "beta_1"),
        ("adamax", keras.optimizers.Adamax, "beta_1"),
        ("adam", keras.optimizers.Adam, "beta_1"),
        ("NAdam", keras.optimizers.Nadam, "beta_1"),
    ],
)
def test_momentum_goes_where_it_means_something(name, cls, attribute, squares_data):
    x, y = squares_data
    model = kt.compile(tiny_model(), optimizer=name, momentum=0.7, learning_rate=0.01)
    assert isinstance(model.optimizer, cls)
    assert getattr(model.optimizer, attribute) == pytest.approx(0.7)
    history = model.fit(x[:32], y[:32], epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_momentum_none_keeps_each_optimizers_default():
    assert kt.compile(tiny_model(), optimizer="adam").optimizer.beta_1 == pytest.approx(0.9)
    assert kt.compile(tiny_model(), optimizer="sgd").optimizer.momentum == 0.0


def test_int_learning_rate_is_cast():
    model = kt.compile(tiny_model(), optimizer="sgd", learning_rate=1)
    assert kt.current_learning_rate(model) == 1.0


@pytest.mark.parametrize(
    ("activation", "loss"),
    [("sigmoid", "binary_crossentropy"), ("softmax", "sparse_categorical_crossentropy"), (None, "mean_squared_error")],
)
def test_auto_loss_follows_the_output_activation(activation, loss):
    model = kt.compile(kt.build_mlp(2, [4], output_units=1, output_activation=activation))
    assert model.loss == loss


def test_auto_loss_looks_inside_a_nested_model():
    # The recipe's pattern: augmentation layers in front of a built classifier.
    inner = kt.build_mlp(4, [8], output_units=3, output_activation="softmax")
    inputs = keras.Input((4,))
    model = kt.compile(keras.Model(inputs, inner(keras.layers.GaussianNoise(0.1)(inputs))))
    assert model.loss == "sparse_categorical_crossentropy"
    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    history = model.fit(x, np.arange(32) % 3, epochs=1, verbose=0)  # MSE would fail on the shapes
    assert np.isfinite(history.history["loss"]).all()


def fit_curve(model, x, y):
    probe = RecordLearningRate()
    history = model.fit(x, y, batch_size=16, epochs=3, shuffle=False, callbacks=[probe], verbose=0)
    return probe.values, history.history["loss"]


@pytest.mark.parametrize("optimizer", ["nadam", "rmsprop", "sgd"])
def test_reset_training_reproduces_the_first_fit(squares_data, optimizer):
    x, y = squares_data
    model = kt.compile(
        tiny_model(), optimizer=optimizer, learning_rate=0.01, schedule="inverse_time",
        decay_rate=0.5, decay_steps=1, steps_per_epoch=16, momentum=0.5,
    )
    initial = [w.copy() for w in model.get_weights()]
    lr_first, loss_first = fit_curve(model, x, y)
    assert lr_first[0] > lr_first[-1]  # the schedule really decayed
    kt.reset_training(model)
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 0
    for restored, original in zip(model.get_weights(), initial):
        np.testing.assert_array_equal(restored, original)
    lr_second, loss_second = fit_curve(model, x, y)
    np.testing.assert_allclose(lr_second, lr_first, rtol=1e-7)
    assert loss_second[0] == pytest.approx(loss_first[0], rel=1e-5)


def test_without_reset_a_second_fit_continues_the_schedule(squares_data):
    x, y = squares_data
    model = kt.compile(tiny_model(), learning_rate=0.01, schedule="inverse_time", decay_rate=0.5)
    lr_first, _ = fit_curve(model, x, y)
    lr_second, _ = fit_curve(model, x, y)
    assert lr_second[0] < lr_first[-1]


def test_reset_training_needs_kerastools_compile():
    model = tiny_model()
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ConfigError, match="kerastools.compile"):
        kt.reset_training(model)


def test_reset_training_after_recompile_is_refused():
    model = kt.compile(tiny_model())
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ConfigError, match="recompiled"):
        kt.reset_training(model)


def test_current_learning_rate_through_a_loss_scale_optimizer():
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = kt.compile(tiny_model(), optimizer="adam", learning_rate=0.02)
    finally:
        keras.config.set_dtype_policy("float32")
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert kt.current_learning_rate(model) == pytest.approx(0.02)
    assert isinstance(kt.optimization.unwrap_optimizer(model), keras.optimizers.Adam)


def test_current_learning_rate_accepts_an_optimizer_and_rejects_uncompiled_models():
    assert kt.current_learning_rate(keras.optimizers.SGD(0.3)) == pytest.approx(0.3)
    with pytest.raises(ConfigError, match="not compiled"):
        kt.current_learning_rate(tiny_model())


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"optimizer": "adamw"}, "optimizer"),
        ({"optimizer": 3}, "optimizer"),
        ({"learning_rate": 0}, "learning_rate"),
        ({"learning_rate": -1e-3}, "learning_rate"),
        ({"learning_rate": float("inf")}, "learning_rate"),
        ({"learning_rate": "0.01"}, "learning_rate"),
        ({"schedule": "cosine"}, "schedule"),
        ({"schedule": "inverse_time", "decay_steps": 0}, "decay_steps"),
        ({"schedule": "inverse_time", "decay_rate": -1}, "decay_rate"),
        ({"schedule": "inverse_time", "steps_per_epoch": 0}, "steps_per_epoch"),
        ({"schedule": "inverse_time", "staircase": "yes"}, "staircase"),
        ({"momentum": 1.0}, "momentum"),
        ({"momentum": -0.1}, "momentum"),
        ({"momentum": float("nan")}, "momentum"),
        ({"metrics": "accuracy"}, "metrics"),
        ({"optimizer": keras.optimizers.Adam(), "learning_rate": 0.1}, "learning_rate"),
        ({"optimizer": keras.optimizers.Adam(), "schedule": "exponential"}, "schedule"),
    ],
)
def test_compile_rejects_bad_input(kwargs, argument):
    with pytest.raises(KerastoolsError, match=argument) as info:
        kt.compile(tiny_model(), **kwargs)
    assert isinstance(info.value, (ValueError, TypeError))


def test_compile_rejects_a_non_model():
    with pytest.raises(KerastoolsError, match="model"):
        kt.compile("not a model")


def _two_headed_model(as_dict):
    inputs = keras.Input((3,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    is_cat = keras.layers.Dense(1, activation="sigmoid", name="is_cat")(hidden)
    kind = keras.layers.Dense(3, activation="softmax", name="kind")(hidden)
    outputs = {"is_cat": is_cat, "kind": kind} if as_dict else [is_cat, kind]
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize("as_dict", [True, False], ids=["dict", "list"])
def test_auto_loss_is_picked_per_output(as_dict):
    model = kt.compile(_two_headed_model(as_dict), optimizer="adam")
    expected = ["binary_crossentropy", "sparse_categorical_crossentropy"]
    assert (list(model.loss.values()) if as_dict else list(model.loss)) == expected
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype("float32")
    y = [(x[:, :1] > 0).astype("float32"), rng.integers(0, 3, size=(32,))]
    targets = {"is_cat": y[0], "kind": y[1]} if as_dict else y
    history = model.fit(x, targets, epochs=2, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"beta_1": 5}, r"`beta_1` must be < 1.0. Received: beta_1=5"),
        ({"epsilon": -1}, r"`epsilon` must be > 0.0"),
        ({"clipnorm": -1}, r"`clipnorm` must be > 0.0"),
        ({"beta_2": float("nan")}, r"`beta_2` must be a finite number"),
    ],
    ids=["beta_1", "epsilon", "clipnorm", "beta_2-nan"],
)
def test_make_optimizer_refuses_hyperparameters_keras_accepts(kwargs, match):
    """Issue 15 item 10: Keras builds these and the first fit trains to NaN."""
    from kerastools.optimizers import make_optimizer

    with pytest.raises(ConfigError, match=match):
        make_optimizer("adam", 0.01, **kwargs)
    assert make_optimizer("adam", 0.01, beta_1=0.5, epsilon=1e-7, clipnorm=1.0).beta_1 == 0.5
