"""The one home of "which learning rate does the optimizer use", and its private-API guards."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from kerastools.learning_rates import (
    current_learning_rate,
    rate_source,
    rates_at,
    schedule_step_counter,
)

SCHEDULES = {
    "exponential": keras.optimizers.schedules.ExponentialDecay(0.1, 3, 0.5, staircase=True),
    "inverse_time": keras.optimizers.schedules.InverseTimeDecay(0.1, 1, 0.5),
    "piecewise": keras.optimizers.schedules.PiecewiseConstantDecay([3, 7], [0.1, 0.01, 0.001]),
    "cosine_warmup": keras.optimizers.schedules.CosineDecay(
        0.0, 20, warmup_target=0.1, warmup_steps=5
    ),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_rates_at_equals_the_schedule_step_by_step(name):
    schedule = SCHEDULES[name]
    steps = np.arange(30)
    expected = [float(keras.ops.convert_to_numpy(schedule(np.int64(step)))) for step in steps]
    np.testing.assert_allclose(rates_at(schedule, steps), expected, rtol=1e-6, atol=1e-8)


def test_rates_at_no_steps_is_empty():
    assert rates_at(SCHEDULES["piecewise"], np.arange(0)).shape == (0,)


def test_private_rate_source_still_exists():
    """Fails loudly when Keras renames `Optimizer._learning_rate` (checked on 3.15.1)."""
    schedule = SCHEDULES["exponential"]
    assert rate_source(keras.optimizers.SGD(schedule)) is schedule
    constant = rate_source(keras.optimizers.Adam(0.01))
    assert isinstance(constant, keras.Variable)
    assert float(keras.ops.convert_to_numpy(constant)) == pytest.approx(0.01)


def test_private_step_counter_still_exists():
    """Under gradient accumulation the schedule sees batches, not updates (Keras 3.15.1)."""
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 1, 0.5)
    optimizer = keras.optimizers.SGD(schedule, gradient_accumulation_steps=2)
    model.compile(optimizer=optimizer, loss="mse")
    model.fit(np.ones((8, 2)), np.ones((8, 1)), batch_size=2, epochs=1, verbose=0)
    assert int(keras.ops.convert_to_numpy(optimizer.iterations)) == 2
    assert int(keras.ops.convert_to_numpy(schedule_step_counter(optimizer))) == 4
    assert current_learning_rate(model) == pytest.approx(0.1 * 0.5**4)
