"""LearningRateLogger: values equal the schedule formula, reach History and CSVLogger, per step too."""

from __future__ import annotations

import csv

import keras
import numpy as np
import pytest

import kerastools as kt
from kerastools.callbacks import LearningRateLogger
from kerastools.errors import ConfigError, ConfigTypeError
from kerastools.learning_rates import model_optimizers
from tests.checkpoints.gan import make_gan, real_points, skip_unless_gan_backend

SAMPLES, BATCH, EPOCHS = 20, 8, 3
STEPS_PER_EPOCH = 3  # ceil(20 / 8)
schedules = keras.optimizers.schedules


def tiny_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(SAMPLES, 2)).astype("float32")
    return x, (x**2).sum(axis=1, keepdims=True)


def tiny_model(optimizer):
    model = kt.build_mlp(2, [4])
    model.compile(optimizer=optimizer, loss="mse")
    return model


# name -> (optimizer factory, the learning rate at optimizer step k, written out by hand)
CASES = {
    "constant": (lambda: keras.optimizers.SGD(0.01), lambda k: 0.01 + 0 * k),
    "inverse_time": (
        lambda: keras.optimizers.SGD(
            schedules.InverseTimeDecay(0.1, decay_steps=2, decay_rate=0.5)
        ),
        lambda k: 0.1 / (1 + 0.5 * k / 2),
    ),
    "exponential": (
        lambda: keras.optimizers.Adam(
            schedules.ExponentialDecay(0.1, decay_steps=3, decay_rate=0.5)
        ),
        lambda k: 0.1 * 0.5 ** (k / 3),
    ),
    "loss_scaled_exponential": (
        lambda: keras.optimizers.LossScaleOptimizer(
            keras.optimizers.SGD(schedules.ExponentialDecay(0.1, decay_steps=3, decay_rate=0.5))
        ),
        lambda k: 0.1 * 0.5 ** (k / 3),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_logged_rates_equal_the_schedule_formula_in_history_csv_and_per_step(case, tmp_path):
    make_optimizer, formula = CASES[case]
    model = tiny_model(make_optimizer())
    logger = LearningRateLogger(per="batch")
    csv_path = tmp_path / "log.csv"
    x, y = tiny_data()
    history = model.fit(
        x,
        y,
        batch_size=BATCH,
        epochs=EPOCHS,
        callbacks=[logger, keras.callbacks.CSVLogger(str(csv_path))],
        verbose=0,
    )

    epoch_steps = [STEPS_PER_EPOCH * (epoch + 1) for epoch in range(EPOCHS)]
    expected = [formula(step) for step in epoch_steps]
    assert history.history["iterations"] == epoch_steps
    np.testing.assert_allclose(history.history["learning_rate"], expected, rtol=1e-6)
    np.testing.assert_allclose(logger.history, expected, rtol=1e-6)
    # At the end, the last logged value is what the optimizer itself reports.
    assert logger.history[-1] == pytest.approx(kt.current_learning_rate(model), rel=1e-6)

    with open(csv_path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(float(row["iterations"])) for row in rows] == epoch_steps
    np.testing.assert_allclose([float(row["learning_rate"]) for row in rows], expected, rtol=1e-6)

    # One entry per optimizer step: the rate that step's update used.
    steps = [step for step, _ in logger.batch_history]
    assert steps == list(range(STEPS_PER_EPOCH * EPOCHS))
    np.testing.assert_allclose(
        [rate for _, rate in logger.batch_history], [formula(step) for step in steps], rtol=1e-6
    )


def test_reused_across_two_fits_restarts_history_and_continues_the_step_count():
    model = tiny_model(
        keras.optimizers.SGD(schedules.InverseTimeDecay(0.1, decay_steps=2, decay_rate=0.5))
    )
    logger = LearningRateLogger(per="batch")
    x, y = tiny_data()
    model.fit(x, y, batch_size=BATCH, epochs=2, callbacks=[logger], verbose=0)
    assert len(logger.history) == 2 and len(logger.batch_history) == 6

    history = model.fit(x, y, batch_size=BATCH, epochs=1, callbacks=[logger], verbose=0)
    assert history.history["iterations"] == [9]
    assert logger.history == pytest.approx([0.1 / (1 + 0.5 * 9 / 2)], rel=1e-6)
    assert [step for step, _ in logger.batch_history] == [6, 7, 8]


def test_constant_rate_changed_by_a_later_scheduler_is_seen_per_epoch_and_per_step(capsys):
    model = tiny_model(keras.optimizers.SGD(0.1))
    logger = LearningRateLogger(per="batch", verbose=1)
    # Listed after the logger: it sets the rate in on_epoch_begin, after the logger's.
    scheduler = keras.callbacks.LearningRateScheduler(lambda epoch, rate: 0.1 / (epoch + 1))
    x, y = tiny_data()
    model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, callbacks=[logger, scheduler], verbose=0)

    per_epoch = [0.1, 0.05, 0.1 / 3]
    np.testing.assert_allclose(logger.history, per_epoch, rtol=1e-6)
    np.testing.assert_allclose(
        [rate for _, rate in logger.batch_history], np.repeat(per_epoch, STEPS_PER_EPOCH), rtol=1e-6
    )
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("epoch ")]
    assert lines == [
        "epoch 1: learning_rate=0.1 (step 3)",
        "epoch 2: learning_rate=0.05 (step 6)",
        "epoch 3: learning_rate=0.0333 (step 9)",
    ]


def test_callable_rate_is_logged_per_epoch_under_a_custom_key():
    model = tiny_model(keras.optimizers.SGD(learning_rate=lambda: 0.05))
    logger = LearningRateLogger(key="lr")
    x, y = tiny_data()
    history = model.fit(x, y, batch_size=BATCH, epochs=2, callbacks=[logger], verbose=0)
    assert history.history["lr"] == pytest.approx([0.05, 0.05])
    assert logger.batch_history == []


def test_per_batch_with_a_callable_rate_is_refused_at_train_begin():
    model = tiny_model(keras.optimizers.SGD(learning_rate=lambda: 0.05))
    logger = LearningRateLogger(per="batch")
    logger.set_model(model)
    with pytest.raises(ConfigError, match="callable.*per='epoch'"):
        logger.on_train_begin()


def test_schedule_that_does_not_broadcast_over_steps_is_evaluated_per_step():
    # CosineDecay with warmup branches with `cond`, which needs a scalar step.
    schedule = schedules.CosineDecay(0.0, 10, warmup_target=0.1, warmup_steps=5)
    model = tiny_model(keras.optimizers.SGD(schedule))
    model.optimizer.build(model.trainable_variables)
    logger = LearningRateLogger(per="batch")
    logger.set_model(model)
    logger.on_train_begin()
    model.optimizer.iterations.assign(8)  # as if an epoch of 8 steps had run
    logs = {"loss": 1.0}
    logger.on_epoch_end(0, logs)

    def at(step):
        return float(keras.ops.convert_to_numpy(schedule(step)))

    assert logs == {"loss": 1.0, "learning_rate": pytest.approx(at(8)), "iterations": 8}
    assert [step for step, _ in logger.batch_history] == list(range(8))
    np.testing.assert_allclose(
        [rate for _, rate in logger.batch_history], [at(k) for k in range(8)], rtol=1e-6
    )


def test_per_batch_mode_leaves_batch_end_hooks_alone():
    # Overriding a *_batch_end hook would turn off Keras' asynchronous callback dispatch.
    for hook in ("on_train_batch_end", "on_batch_end"):
        assert getattr(LearningRateLogger, hook) is getattr(keras.callbacks.Callback, hook)


def test_uncompiled_model_is_refused_at_train_begin():
    logger = LearningRateLogger()
    logger.set_model(kt.build_mlp(2, [4]))
    with pytest.raises(ConfigError, match="not compiled"):
        logger.on_train_begin()


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            {"per": "step"},
            ConfigError,
            r"Argument `per` must be one of \['epoch', 'batch'\]. Received: per='step'",
        ),
        ({"per": 1}, ConfigTypeError, "Argument `per`"),
        ({"key": ""}, ConfigTypeError, "Argument `key` must be a non-empty string"),
        ({"key": "iterations"}, ConfigError, "must differ from 'iterations'"),
        ({"verbose": -1}, ConfigError, "Argument `verbose` must be >= 0. Received: verbose=-1"),
        ({"verbose": True}, ConfigTypeError, "Argument `verbose` must be an integer"),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, match):
    with pytest.raises(error, match=match):
        LearningRateLogger(**kwargs)


# -- several optimizers (the GAN pattern) ------------------------------------------------------


def test_each_optimizer_of_a_gan_gets_its_own_keys():
    skip_unless_gan_backend()
    model = make_gan(d_rate=0.01, g_rate=0.02)  # g: ExponentialDecay(0.02, 4, 0.5)
    logger = LearningRateLogger(per="batch")
    history = model.fit(real_points(64), batch_size=16, epochs=2, callbacks=[logger], verbose=0)
    logged = history.history
    assert "learning_rate" not in logged and "iterations" not in logged  # not the unused default
    assert logged["learning_rate_d_optimizer"] == pytest.approx([0.01, 0.01])
    assert logged["iterations_d_optimizer"] == logged["iterations_g_optimizer"] == [4, 8]
    assert logged["learning_rate_g_optimizer"] == pytest.approx([0.02 * 0.5, 0.02 * 0.25], rel=1e-6)
    assert list(logger.histories) == ["learning_rate_d_optimizer", "learning_rate_g_optimizer"]
    g_steps = logger.batch_histories["learning_rate_g_optimizer"]
    assert [step for step, _ in g_steps] == list(range(8))
    np.testing.assert_allclose([rate for _, rate in g_steps], [0.02 * 0.5 ** (k / 4) for k in range(8)],
                               rtol=1e-6)


def test_model_optimizers_is_the_compiled_one_unless_attributes_hold_others():
    assert list(model_optimizers(tiny_model("sgd"))) == ["optimizer"]
    assert model_optimizers(kt.build_mlp(2, [4])) == {}
    gan = make_gan()
    assert list(model_optimizers(gan)) == ["d_optimizer", "g_optimizer"]  # rmsprop is unused
    gan.optimizer.build(gan.trainable_variables)  # built (torch's fit does that), unused
    assert list(model_optimizers(gan)) == ["d_optimizer", "g_optimizer"]
    gan.optimizer.iterations.assign(1)  # something trains with it after all
    assert list(model_optimizers(gan)) == ["optimizer", "d_optimizer", "g_optimizer"]


# -- state across a restart --------------------------------------------------------------------


def test_history_continues_across_a_restart_per_batch_history_does_not():
    import json

    model = tiny_model(
        keras.optimizers.SGD(schedules.InverseTimeDecay(0.1, decay_steps=2, decay_rate=0.5))
    )
    x, y = tiny_data()
    first = LearningRateLogger(per="batch")
    model.fit(x, y, batch_size=BATCH, epochs=2, callbacks=[first], verbose=0)
    state = json.loads(json.dumps(first.get_state(), allow_nan=False))
    assert state == {"kind": "LearningRateLogger", "histories": {"learning_rate": pytest.approx(first.history)}}

    resumed = LearningRateLogger(per="batch")
    resumed.set_state(state)
    model.fit(x, y, batch_size=BATCH, epochs=3, initial_epoch=2, callbacks=[resumed], verbose=0)
    assert resumed.history[:2] == pytest.approx(first.history) and len(resumed.history) == 3
    assert resumed.history[2] == pytest.approx(0.1 / (1 + 0.5 * 9 / 2), rel=1e-6)
    assert [step for step, _ in resumed.batch_history] == [6, 7, 8]  # per-batch: this fit only

    again = model.fit(x, y, batch_size=BATCH, epochs=1, callbacks=[resumed], verbose=0)
    assert len(resumed.history) == 1 and again.history["iterations"] == [12]  # applied once


def test_state_of_other_keys_or_a_damaged_one_is_refused():
    model = tiny_model("sgd")
    x, y = tiny_data()
    for state, error, match in [
        ({"kind": "LearningRateLogger", "histories": {"lr": [0.1]}}, ConfigError, r"logged \['lr'\]"),
        ({"kind": "LearningRateLogger", "histories": [0.1]}, ConfigTypeError, "`histories`"),
        ({"kind": "LearningRateLogger", "histories": {"learning_rate": "x"}}, ConfigTypeError,
         r"`histories\['learning_rate'\]` must be a list"),
    ]:
        logger = LearningRateLogger()
        logger.set_state(state)
        with pytest.raises(error, match=match):
            model.fit(x, y, batch_size=BATCH, epochs=1, callbacks=[logger], verbose=0)
