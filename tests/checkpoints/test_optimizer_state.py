"""kerastools.checkpoints.optimizers: every optimizer of a GAN-like model saved and restored."""

from __future__ import annotations

import keras
import numpy as np

import kerastools as kt
from kerastools.checkpoints import resume
from kerastools.checkpoints.optimizers import trained_positions
from kerastools.checkpoints.selection import read_contents
from kerastools.learning_rates import model_optimizers
from tests.checkpoints.gan import make_gan, real_points, skip_unless_gan_backend
from tests.checkpoints.helpers import assert_same_weights, make_model


def test_private_trained_variables_still_exist():
    """trained_positions reads Optimizer._trainable_variables (Keras 3.15.1): fail loudly if gone."""
    model = make_model()
    optimizer = keras.optimizers.Adam()
    subset = model.trainable_variables[2:]
    optimizer.build(subset)
    assert [id(v) for v in optimizer._trainable_variables] == [id(v) for v in subset]
    assert trained_positions(model, optimizer) == list(range(2, len(model.trainable_variables)))
    assert trained_positions(model, keras.optimizers.Adam()) is None  # not built



# -- several optimizers (the GAN pattern) --------------------------------------------------


def optimizer_values(optimizer):
    return [np.array(keras.ops.convert_to_numpy(v)) for v in optimizer.variables]


def test_every_optimizer_of_a_gan_is_saved_and_restored_by_resume(tmp_path):
    skip_unless_gan_backend()
    gan = make_gan()
    checkpoint = kt.callbacks.PeriodicCheckpoint(tmp_path)
    gan.fit(real_points(64), batch_size=16, epochs=2, verbose=0, callbacks=[checkpoint])
    path = tmp_path / "epoch-0002.weights.h5"
    contents = read_contents(path, path.read_bytes())
    # Keras' own file on every backend (TF never marks the GAN built: the save marks it, as
    # Keras' loading does): save_weights walks the attribute optimizers, their positions recorded.
    assert {"d_optimizer", "g_optimizer"} <= set(contents.optimizer_classes)
    n_generator = len(gan.generator.trainable_variables)
    assert contents.trains["g_optimizer"] == list(range(n_generator))
    assert contents.trains["d_optimizer"] == list(range(n_generator, len(gan.trainable_variables)))

    # Compiled as saved: other hyper-parameters are refused (tests/checkpoints/test_optimizer_check.py).
    fresh = make_gan()
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
