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


def write_v01_file(model, path, *, build_config=True):
    """`model`'s weights and compiled optimizer in kerastools 0.1's HDF5 layout, as 0.1 wrote it
    (kerastools reads that layout, `checkpoints.legacy`, and no longer writes it)."""
    import json

    import h5py

    def group(handle, name, variables):
        out = handle.create_group(name)
        out.create_dataset("paths", data=np.array([v.path for v in variables], dtype=object),
                           dtype=h5py.string_dtype())
        for index, variable in enumerate(variables):
            out.create_dataset(f"{index:05d}", data=np.asarray(variable.numpy()))

    header = {"format": "kerastools-checkpoint", "version": 1, "kind": "epoch", "epoch": 1,
              "step": 0, "wall_time": 0.0, "metrics": {}, "model": model.name,
              "optimizer": type(model.optimizer).__name__}
    if build_config:
        header["build_config"] = model.get_build_config()
    with h5py.File(path, "w") as handle:
        handle.attrs["kerastools-checkpoint"] = json.dumps(header)
        group(handle, "model", model.weights)
        group(handle, "optimizer", model.optimizer.variables)
    return path
