"""kerastools.checkpoints.file_format: the HDF5 layout, several optimizers, the recorded input shape."""

from __future__ import annotations

import json

import h5py
import keras
import numpy as np
import pytest

import kerastools as kt
from kerastools.checkpoints import load_checkpoint, resume
from kerastools.checkpoints.file_format import (
    FORMAT,
    read_checkpoint_file,
    take_state,
    trained_positions,
    write_checkpoint_file,
)
from kerastools.checkpoints.integrity import file_sha256
from kerastools.errors import ConfigError
from kerastools.learning_rates import model_optimizers
from tests.checkpoints.gan import make_gan, real_points, skip_unless_gan_backend
from tests.checkpoints.helpers import assert_same_weights, iterations, make_model


def write(model, path, include_optimizer=True):
    return write_checkpoint_file(
        take_state(model, include_optimizer), path, kind="epoch", epoch=1, step=0, metrics={},
        wall_time=0.0,
    )


def test_private_trained_variables_still_exist():
    """trained_positions reads Optimizer._trainable_variables (Keras 3.15.1): fail loudly if gone."""
    model = make_model()
    optimizer = keras.optimizers.Adam()
    subset = model.trainable_variables[2:]
    optimizer.build(subset)
    assert [id(v) for v in optimizer._trainable_variables] == [id(v) for v in subset]
    assert trained_positions(model, optimizer) == list(range(2, len(model.trainable_variables)))
    assert trained_positions(model, keras.optimizers.Adam()) is None  # not built


def test_a_single_optimizer_file_keeps_the_layout_of_earlier_versions(tmp_path):
    model = make_model()
    model.optimizer.build(model.trainable_variables)
    info = write(model, tmp_path / "epoch-0001.weights.h5")
    with h5py.File(info.path, "r") as handle:
        assert sorted(handle) == ["model", "optimizer"]


def test_a_file_written_before_the_build_config_still_loads(tmp_path, squares_data):
    """Earlier files have no build_config in their header: they load as before."""
    x, y = squares_data
    model = make_model()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[kt.callbacks.PeriodicCheckpoint(tmp_path)])
    path = tmp_path / "epoch-0001.weights.h5"
    with h5py.File(path, "r+") as handle:
        header = json.loads(handle.attrs[FORMAT])
        del header["build_config"]
        handle.attrs[FORMAT] = json.dumps(header)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["checkpoints"][0].update(size=path.stat().st_size, sha256=file_sha256(path))
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert read_checkpoint_file(path).build_config is None
    fresh = make_model()
    load_checkpoint(fresh, tmp_path)
    assert_same_weights(fresh, model.get_weights())
    assert iterations(fresh) == iterations(model)


# -- several optimizers (the GAN pattern) --------------------------------------------------


def optimizer_values(optimizer):
    return [np.array(keras.ops.convert_to_numpy(v)) for v in optimizer.variables]


def test_every_optimizer_of_a_gan_is_saved_and_restored_by_resume(tmp_path):
    skip_unless_gan_backend()
    gan = make_gan()
    checkpoint = kt.callbacks.PeriodicCheckpoint(tmp_path)
    gan.fit(real_points(64), batch_size=16, epochs=2, verbose=0, callbacks=[checkpoint])
    state = read_checkpoint_file(tmp_path / "epoch-0002.weights.h5")
    assert list(state.optimizers) == ["d_optimizer", "g_optimizer"]  # not the unused rmsprop
    n_generator = len(gan.generator.trainable_variables)
    assert state.optimizers["g_optimizer"].trains == list(range(n_generator))
    assert state.optimizers["d_optimizer"].trains == list(
        range(n_generator, len(gan.trainable_variables))
    )

    fresh = make_gan(d_rate=0.5, g_rate=0.5)  # other rates: the saved ones must come back
    assert resume(fresh, tmp_path) == 2
    assert_same_weights(fresh, gan.get_weights())
    for name in ("d_optimizer", "g_optimizer"):
        for loaded, saved in zip(optimizer_values(getattr(fresh, name)),
                                 optimizer_values(getattr(gan, name)), strict=True):
            np.testing.assert_array_equal(loaded, saved)
    assert int(keras.ops.convert_to_numpy(fresh.g_optimizer.iterations)) == 8
    history = fresh.fit(real_points(64), batch_size=16, initial_epoch=2, epochs=3, verbose=0,
                        callbacks=[checkpoint])
    assert np.isfinite(history.history["d_loss"]).all()
    assert int(keras.ops.convert_to_numpy(fresh.d_optimizer.iterations)) == 12
    assert model_optimizers(fresh).keys() == {"d_optimizer", "g_optimizer"}


def test_gan_step_checkpoints_count_the_steps_of_its_optimizers(tmp_path):
    skip_unless_gan_backend()
    gan = make_gan()
    checkpoint = kt.callbacks.PeriodicCheckpoint(tmp_path, every_steps=3)
    gan.fit(real_points(64), batch_size=16, epochs=2, verbose=0, callbacks=[checkpoint])
    fresh = make_gan()
    assert resume(fresh, tmp_path) == 1  # step 6 is in epoch 2
    fresh.fit(real_points(64), batch_size=16, initial_epoch=1, epochs=3, verbose=0,
              callbacks=[checkpoint])
    assert [info.step for info in kt.checkpoints.list_checkpoints(tmp_path)][-2:] == [9, 12]


# -- a subclassed model that was never called ------------------------------------------------


class Subclassed(keras.Model):
    def __init__(self, width=4, **kwargs):
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(width, activation="relu")
        self.norm = keras.layers.BatchNormalization()
        self.out = keras.layers.Dense(1)

    def call(self, x, training=False):
        return self.out(self.norm(self.hidden(x), training=training))


def compiled_subclassed(width=4):
    model = Subclassed(width)
    model.compile(optimizer="adam", loss="mse")
    return model


def test_resume_builds_a_subclassed_model_from_the_recorded_input_shape(tmp_path, squares_data):
    x, y = squares_data
    keras.utils.set_random_seed(0)
    model = compiled_subclassed()
    model.fit(x, y, epochs=2, batch_size=32, verbose=0,
              callbacks=[kt.callbacks.PeriodicCheckpoint(tmp_path)])
    fresh = compiled_subclassed()
    assert not fresh.weights  # never called
    assert resume(fresh, tmp_path) == 2
    assert_same_weights(fresh, model.get_weights())
    assert iterations(fresh) == iterations(model) == 16
    fresh.fit(x, y, epochs=3, initial_epoch=2, batch_size=32, verbose=0)
    assert iterations(fresh) == 24


def test_an_unbuilt_model_that_does_not_fit_the_recorded_shape_is_refused(tmp_path, squares_data):
    x, y = squares_data
    compiled_subclassed().fit(x, y, epochs=1, verbose=0,
                              callbacks=[kt.callbacks.PeriodicCheckpoint(tmp_path)])
    with pytest.raises(ConfigError, match=r"must be built .*built for .*input_shape.*does not fit"):
        load_checkpoint(compiled_subclassed(width=8), tmp_path)
