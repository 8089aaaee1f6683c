"""A directory trained once per module: 4 epochs, a checkpoint each, best by val_loss."""

from __future__ import annotations

import shutil

import keras
import numpy as np
import pytest

from kerastools.callbacks import PeriodicCheckpoint
from tests.checkpoints.helpers import RecordState, make_model


@pytest.fixture(scope="module")
def trained_once(tmp_path_factory):
    """4 epochs, a checkpoint each, best by val_loss; 192 training points = 6 steps/epoch."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(256, 2)).astype("float32")
    y = (x[:, :1] ** 2 + x[:, 1:] ** 2).astype("float32")
    keras.utils.set_random_seed(0)
    directory = tmp_path_factory.mktemp("trained")
    probe = RecordState()
    history = make_model().fit(
        x, y, validation_split=0.25, batch_size=32, epochs=4, shuffle=False, verbose=0,
        callbacks=[probe, PeriodicCheckpoint(directory, save_best="val_loss")],
    )
    return directory, probe, history.history


@pytest.fixture
def trained(trained_once, tmp_path):
    """A copy of the trained directory per test, which may damage it."""
    directory, probe, history = trained_once
    shutil.copytree(directory, tmp_path / "checkpoints")
    return tmp_path / "checkpoints", probe, history
