"""`kt.find_learning_rate`: the sweep, its stop on divergence, its suggestions, and a model left as found."""

from __future__ import annotations

import json
import math

import keras
import numpy as np
import pytest

import kerastools as kt
from kerastools.errors import ConfigError, ConfigTypeError
from kerastools.learning_rates import rate_source
from kerastools.lr_finder.suggestions import suggest, usable_points


def _circles(n=256):
    return kt.datasets.make_circles(n, noise=0.05, seed=0)


def _classifier(optimizer="adam", **compile_kwargs):
    """A tiny MLP with the state a sweep must put back: Dropout seeds and BatchNorm statistics."""
    inputs = keras.Input((2,))
    hidden = keras.layers.Dense(16, activation="relu")(inputs)
    hidden = keras.layers.BatchNormalization()(hidden)
    hidden = keras.layers.Dropout(0.2, seed=3)(
        hidden
    )  # unseeded, torch draws from its global generator
    outputs = keras.layers.Dense(1, activation="sigmoid")(hidden)
    return kt.compile(
        keras.Model(inputs, outputs), optimizer=optimizer, metrics=["accuracy"], **compile_kwargs
    )


def _values(model):
    variables = [*model.variables, *model.optimizer.variables]
    return [np.array(keras.ops.convert_to_numpy(v), copy=True) for v in variables]


def _assert_same(before, after):
    assert len(before) == len(after)
    for old, new in zip(before, after, strict=True):
        assert old.dtype == new.dtype and np.array_equal(old, new)


@pytest.mark.parametrize("mode", ["exponential", "linear"])
def test_sweep_tries_increasing_rates_from_min_to_max(mode):
    x, y = _circles()
    result = kt.find_learning_rate(
        _classifier(), x, y, min_lr=1e-5, max_lr=1e-3, num_steps=12, mode=mode, seed=0
    )
    rates = np.array(result.learning_rates)
    assert result.stop_reason == "completed" and not result.stopped_early
    assert len(rates) == len(result.losses) == len(result.smoothed_losses) == 12
    assert np.all(np.diff(rates) > 0)
    assert math.isclose(rates[0], 1e-5) and math.isclose(rates[-1], 1e-3)
    steps = np.diff(np.log(rates)) if mode == "exponential" else np.diff(rates)
    assert np.allclose(steps, steps[0])
    # The first smoothed value is the first loss itself (the bias correction), not 2 % of it.
    assert math.isclose(result.smoothed_losses[0], result.losses[0], rel_tol=1e-6)


def test_sweep_stops_early_when_the_loss_diverges():
    x, y = _circles()
    model = _classifier(optimizer="sgd")
    result = kt.find_learning_rate(model, x, y, min_lr=1e-3, max_lr=1e6, num_steps=60, seed=0)
    assert result.stopped_early and result.stop_reason in ("diverged", "non_finite")
    assert len(result.losses) < 60
    assert "learning rate" in result.message
    stop_rate = result.learning_rates[-1]
    for method in ("valley", "steepest", "minimum"):
        suggested = result.suggestion(method)
        assert suggested < stop_rate
    assert 1e-3 <= result.suggestion() <= 1e6


def test_model_is_left_bit_exactly_as_found_and_trains_as_its_untouched_twin():
    x, y = _circles()
    keras.utils.set_random_seed(1)
    model = _classifier()
    keras.utils.set_random_seed(1)
    twin = _classifier()
    for each in (
        model,
        twin,
    ):  # some history: optimizer slots, step counter and BatchNorm stats in use
        each.fit(x, y, epochs=1, batch_size=64, shuffle=False, verbose=0)
    before = _values(model)
    rate = kt.current_learning_rate(model)
    result = kt.find_learning_rate(model, x, y, min_lr=1e-4, max_lr=100.0, num_steps=30, seed=0)
    assert len(result.losses) > 5
    _assert_same(before, _values(model))
    assert kt.current_learning_rate(model) == rate
    after = model.fit(x, y, epochs=2, batch_size=64, shuffle=False, verbose=0).history
    expected = twin.fit(x, y, epochs=2, batch_size=64, shuffle=False, verbose=0).history
    assert after == expected
    _assert_same(_values(twin), _values(model))


class _Batches(keras.utils.PyDataset):
    def __init__(self, x, y, batch_size=32, fail_at=None, error=RuntimeError):
        super().__init__()
        self.x, self.y, self.batch_size, self.fail_at, self.error = x, y, batch_size, fail_at, error
        self.calls = 0

    def __len__(self):
        return len(self.x) // self.batch_size

    def __getitem__(self, index):
        self.calls += 1
        if self.fail_at is not None and self.calls > self.fail_at:
            raise self.error("stopped by the test")
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[rows], self.y[rows]


def test_pydataset_input_is_cycled_through():
    x, y = _circles(128)
    batches = _Batches(x, y)  # 4 batches for 10 steps
    result = kt.find_learning_rate(_classifier(), batches, min_lr=1e-4, max_lr=1e-2, num_steps=10)
    assert len(result.losses) == 10 and batches.calls == 10
    assert all(math.isfinite(loss) for loss in result.losses)


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_model_is_restored_when_the_sweep_is_interrupted(error):
    x, y = _circles(128)
    model = _classifier()
    model.fit(x, y, epochs=1, verbose=0)
    before = _values(model)
    with pytest.raises(error, match="stopped by the test"):
        kt.find_learning_rate(
            model, _Batches(x, y, fail_at=6, error=error), max_lr=1.0, num_steps=20
        )
    _assert_same(before, _values(model))


@pytest.mark.tf_only
def test_tf_data_input():
    if keras.backend.backend() != "tensorflow":
        pytest.skip("tf.data batches are fed as tensors on the TensorFlow backend")
    import tensorflow as tf

    x, y = _circles(128)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
    result = kt.find_learning_rate(_classifier(), dataset, min_lr=1e-4, max_lr=1e-2, num_steps=9)
    assert len(result.losses) == 9


def test_scheduled_optimizer_is_swept_then_gets_its_schedule_back():
    x, y = _circles()
    model = _classifier(
        optimizer="sgd", learning_rate=0.01, schedule="exponential", decay_rate=0.5, decay_steps=4
    )
    schedule = rate_source(model.optimizer)
    result = kt.find_learning_rate(model, x, y, min_lr=1e-3, max_lr=1e6, num_steps=60, seed=0)
    # The schedule alone (0.01, halving) would never make the loss diverge: the sweep's rates ran.
    assert result.stopped_early
    assert rate_source(model.optimizer) is schedule
    model.fit(
        x, y, epochs=1, batch_size=64, verbose=0
    )  # 4 steps: the schedule restarts from step 0
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 4
    assert math.isclose(kt.current_learning_rate(model), 0.01 * 0.5, rel_tol=1e-5)


class CountingModel(keras.Model):
    """A model with its own `train_step` (delegating to Keras', counting its traces)."""

    traced = 0

    def train_step(self, *args):
        type(self).traced += 1
        return super().train_step(*args)


def test_custom_train_step_model_is_swept_through_its_train_step():
    x, y = _circles()
    inputs = keras.Input((2,))
    outputs = keras.layers.Dense(1, activation="sigmoid")(
        keras.layers.Dense(8, activation="relu")(inputs)
    )
    model = kt.compile(CountingModel(inputs, outputs), optimizer="adam")
    before = _values(model)
    result = kt.find_learning_rate(model, x, y, min_lr=1e-4, max_lr=1e-1, num_steps=10, seed=0)
    assert CountingModel.traced >= 1 and len(result.losses) == 10
    _assert_same(before, _values(model))


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        ({"min_lr": 0.0}, "min_lr"),
        ({"min_lr": -1e-3}, "min_lr"),
        ({"min_lr": 1e-2, "max_lr": 1e-2}, "max_lr.*min_lr=0.01"),
        ({"min_lr": 1.0, "max_lr": 1e-3}, "max_lr"),
        ({"num_steps": 4}, "num_steps.*>= 5"),
        ({"num_steps": 10**6}, "num_steps.*<= 10000"),
        ({"mode": "cubic"}, r"mode.*\['exponential', 'linear'\].*cubic"),
        ({"smoothing": 1.0}, "smoothing"),
        ({"diverge_factor": 1.0}, "diverge_factor"),
        ({"batch_size": 0}, "batch_size"),
    ],
)
def test_bad_settings_raise_config_error(settings, match):
    x, y = _circles(64)
    with pytest.raises(ConfigError, match=match):
        kt.find_learning_rate(_classifier(), x, y, **settings)


def test_bad_models_and_inputs_raise():
    x, y = _circles(64)
    with pytest.raises(ConfigError, match="not compiled"):
        kt.find_learning_rate(kt.build_mlp(2, [4]), x, y)
    with pytest.raises(ConfigTypeError, match="keras.Model"):
        kt.find_learning_rate("model", x, y)
    with pytest.raises(ConfigError, match="batch_size"):
        kt.find_learning_rate(_classifier(), _Batches(x, y), batch_size=8)
    with pytest.raises(ConfigError, match="same number of samples"):
        kt.find_learning_rate(_classifier(), x, y[:10])


def test_suggestion_rules_on_a_known_curve():
    rates = np.geomspace(1e-5, 1.0, 60)
    log_rates = np.log10(rates)
    # Flat, then a fall steepest at 1e-3, a minimum at 10**-1.5, then a rise.
    losses = (
        1.0
        - 0.8 / (1 + np.exp(-4 * (log_rates + 3)))
        + np.where(log_rates > -1.5, (log_rates + 1.5) ** 2, 0)
    )
    kept_rates, kept_losses = usable_points(rates, losses)
    assert math.isclose(np.log10(suggest(kept_rates, kept_losses, "steepest")), -3, abs_tol=0.1)
    lowest = kept_rates[np.argmin(kept_losses)]
    assert math.isclose(suggest(kept_rates, kept_losses, "minimum"), lowest / 10)
    assert kept_rates[0] < suggest(kept_rates, kept_losses, "valley") < lowest
    with pytest.raises(ConfigError, match=r"method.*\['valley', 'steepest', 'minimum'\]"):
        suggest(kept_rates, kept_losses, "fastest")
    with pytest.raises(ConfigError, match="too few"):
        suggest(kept_rates[:3], kept_losses[:3])


def test_plot_marks_the_suggestion_and_to_dict_is_json():
    x, y = _circles()
    result = kt.find_learning_rate(
        _classifier(optimizer="sgd"), x, y, min_lr=1e-3, max_lr=1e6, num_steps=60, seed=0
    )
    figure = result.plot("steepest")
    axes = figure.axes[0]
    assert axes.get_xscale() == "log"
    marker = [line for line in axes.get_lines() if line.get_label().startswith("steepest")]
    assert marker and math.isclose(marker[0].get_xdata()[0], result.suggestion("steepest"))
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["stopped_early"] is True and data["suggestions"]["valley"] == result.suggestion()
    assert len(data["learning_rates"]) == len(result.losses)
