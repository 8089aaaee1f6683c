"""Models and probes the checkpoint tests share."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import kerastools as kt


def make_model(width=8, optimizer="adam"):
    return kt.compile(
        kt.build_mlp(2, [width]), optimizer=optimizer, learning_rate=0.01,
        schedule="inverse_time", decay_rate=0.5,
    )


def child_in_its_own_pass(backend):
    """Skip unless this process runs on `backend`: a child whose backend is a parameter, not this
    process's, runs once, in the KERAS_BACKEND=`backend` pass of make test (not in each pass)."""
    if backend != keras.backend.backend():
        pytest.skip(f"the {backend} child runs in the KERAS_BACKEND={backend} pass")


def iterations(model):
    return int(keras.ops.convert_to_numpy(model.optimizer.iterations))


class RecordState(keras.callbacks.Callback):
    """Test probe: weights and optimizer step after every epoch (1-based)."""

    def __init__(self):
        super().__init__()
        self.weights, self.steps = {}, {}

    def on_epoch_end(self, epoch, logs=None):
        self.weights[epoch + 1] = [np.array(w) for w in self.model.get_weights()]
        self.steps[epoch + 1] = iterations(self.model)


def assert_same_weights(model, expected):
    for loaded, saved in zip(model.get_weights(), expected, strict=True):
        np.testing.assert_array_equal(loaded, saved)
