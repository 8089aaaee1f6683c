"""`snapshot_weights`: Keras' `.weights.h5` made from host copies, training blocked only for the copy."""

from __future__ import annotations

import io
import logging

import h5py
import keras
import numpy as np
import pytest

from kerastools.checkpoints import keras_format
from kerastools.checkpoints.keras_format import read_keras_file, snapshot_weights, write_snapshot
from tests.checkpoints.gan import make_gan, real_points, skip_unless_gan_backend


def contents(data):
    """Every group and dataset of an HDF5 file by path: attributes, dtype, shape, value bytes."""
    found = {}
    with h5py.File(io.BytesIO(data), "r") as handle:
        found[""] = dict(handle.attrs)

        def visit(path, item):
            attributes = dict(item.attrs)
            if isinstance(item, h5py.Dataset):
                value = np.asarray(item[()])
                found[path] = (attributes, value.dtype.str, value.shape, value.tobytes())
            else:
                found[path] = attributes

        handle.visititems(visit)
    return found


def fallback_logs(caplog):
    return [r.getMessage() for r in caplog.records if r.name == keras_format.__name__]


def keras_file(model):
    """Plain `model.save_weights` into memory."""

    class Named(io.BytesIO):
        def __str__(self):
            return "plain.weights.h5"

    buffer = Named()
    model.save_weights(buffer)
    return buffer.getvalue()


def fitted(model, x, y, optimizer="adam", fit=True):
    """Compiled and trained one epoch; or (`fit=False`) built with its optimizer, untrained."""
    model.compile(optimizer=optimizer, loss="mse")
    if fit:
        model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    else:
        model(x[:1])
        model.optimizer.build(model.trainable_variables)
    return model


def sequential_mlp(fit=True):
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)]
    )
    return fitted(model, np.ones((8, 3), "float32"), np.ones((8, 1), "float32"), fit=fit)


def functional_cnn(fit=True):
    inputs = keras.Input((6, 6, 1))
    x = keras.layers.Conv2D(2, 3)(inputs)
    x = keras.layers.BatchNormalization()(x)  # non-trainable moving mean and variance
    x = keras.layers.Flatten()(x)
    model = keras.Model(inputs, keras.layers.Dense(2)(x))
    return fitted(
        model, np.ones((8, 6, 6, 1), "float32"), np.ones((8, 2), "float32"), "sgd", fit=fit
    )


class Nested(keras.Model):
    """A subclassed model holding a sub-model, a list with a nested list, and a layer."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.encoder = keras.Sequential([keras.layers.Dense(3), keras.layers.Dense(3)])
        self.blocks = [keras.layers.Dense(2), [keras.layers.Dense(2)]]
        self.head = keras.layers.Dense(1)

    def call(self, x):
        return self.head(self.blocks[1][0](self.blocks[0](self.encoder(x))))


def subclassed_nested(fit=True):
    return fitted(Nested(), np.ones((8, 3), "float32"), np.ones((8, 1), "float32"), fit=fit)


MODELS = {"sequential": sequential_mlp, "functional_cnn": functional_cnn, "nested": subclassed_nested}


@pytest.fixture
def no_keras_writer(monkeypatch):
    """After this, Keras' `save_weights` (behind `write_snapshot`) fails: only host copies work."""

    def refuse(model, edit=None):
        raise AssertionError("Keras' writer ran on the training thread")

    def switch_off():
        monkeypatch.setattr(keras_format, "weights_bytes", refuse)

    return switch_off


@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
@pytest.mark.parametrize(
    "name, include_optimizer",
    [("sequential", True), ("functional_cnn", True), ("nested", True), ("sequential", False)],
)
def test_host_copy_file_is_keras_file(name, include_optimizer, tmp_path, no_keras_writer, caplog):
    make = MODELS[name]
    model = make()
    target = tmp_path / "epoch.weights.h5"
    with caplog.at_level(logging.INFO, logger=keras_format.__name__):
        first = snapshot_weights(model, target, include_optimizer)()  # learns the layout
    expected = contents(write_snapshot(model, target, include_optimizer))
    no_keras_writer()
    made = snapshot_weights(model, target, include_optimizer)()  # from host copies only
    assert contents(made) == expected == contents(first)
    assert not fallback_logs(caplog)
    plain = contents(keras_file(model)) if include_optimizer else None
    if plain is not None:  # Keras' own file, but for our root attribute
        ours = contents(made)
        assert ours.pop("").keys() == {"kerastools"} and plain.pop("") == {}
        assert ours == plain
    else:
        assert "optimizer" not in {path.split("/")[0] for path in contents(made)}

    target.write_bytes(made)
    fresh = make(fit=False)  # other initial weights, its optimizer built and untrained
    fresh.load_weights(target)
    for loaded, saved in zip(fresh.weights, model.weights, strict=True):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded),
                                      keras.ops.convert_to_numpy(saved))
    if include_optimizer:
        for loaded, saved in zip(fresh.optimizer.variables, model.optimizer.variables, strict=True):
            np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded),
                                          keras.ops.convert_to_numpy(saved))
    assert read_keras_file(target).model_name == model.name


def test_the_file_holds_the_state_at_the_call(tmp_path):
    model = sequential_mlp()
    target = tmp_path / "epoch.weights.h5"
    snapshot_weights(model, target, True)()  # the layout is known from here on
    before = write_snapshot(model, target, True)
    weights = [keras.ops.convert_to_numpy(w).copy() for w in model.weights]

    build = snapshot_weights(model, target, True)
    model.fit(np.ones((8, 3), "float32"), np.zeros((8, 1), "float32"), epochs=2, verbose=0)
    assert not np.array_equal(keras.ops.convert_to_numpy(model.weights[0]), weights[0])
    made = build()  # after training went on: still the state at the call
    assert contents(made) == contents(before)
    target.write_bytes(made)
    model.load_weights(target)
    for loaded, saved in zip(model.weights, weights, strict=True):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded), saved)


def test_later_files_are_the_first_with_new_values_put_in_place(tmp_path, no_keras_writer,
                                                                 monkeypatch):
    """After the first file, a save writes the new values where h5py put the old ones: no h5py
    runs, and the file is still Keras' own with the current state."""
    model = functional_cnn()  # batch normalization's statistics, SGD's state
    target = tmp_path / "epoch.weights.h5"
    snapshot_weights(model, target, True)()  # learns the layout and where the values lie
    no_keras_writer()
    rng = np.random.default_rng(0)
    for _ in range(2):
        x = rng.standard_normal((8, 6, 6, 1)).astype("float32")
        model.fit(x, rng.standard_normal((8, 2)).astype("float32"), epochs=1, verbose=0)
        with monkeypatch.context() as patch:
            patch.setattr(h5py, "File", None)  # any h5py file made here fails
            made = snapshot_weights(model, target, True)()
        ours, plain = contents(made), contents(keras_file(model))
        assert ours.pop("").keys() == {"kerastools"} and plain.pop("") == {}
        assert ours == plain


def test_a_new_optimizer_or_a_late_build_is_saved(tmp_path, caplog):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    target = tmp_path / "epoch.weights.h5"
    x, y = np.ones((8, 3), "float32"), np.ones((8, 2), "float32")
    with caplog.at_level(logging.INFO, logger=keras_format.__name__):
        snapshot_weights(model, target, True)()  # the optimizer is not built yet
        model.fit(x, y, epochs=1, verbose=0)  # now it is: Adam's slots exist
        made = snapshot_weights(model, target, True)()
        assert contents(made) == contents(write_snapshot(model, target, True))
        model.compile(optimizer="sgd", loss="mse")  # another optimizer, other variables
        model.fit(x, y, epochs=1, verbose=0)
        snapshot_weights(model, target, True)()
        made = snapshot_weights(model, target, True)()
    assert contents(made) == contents(write_snapshot(model, target, True))
    assert read_keras_file_of(made, tmp_path).optimizer_classes == {"optimizer": "SGD"}
    assert not fallback_logs(caplog)


def read_keras_file_of(data, tmp_path):
    path = tmp_path / "read.weights.h5"
    path.write_bytes(data)
    return read_keras_file(path)


def test_two_optimizers_kept_as_attributes(tmp_path, no_keras_writer):
    skip_unless_gan_backend()
    gan = make_gan()
    gan.fit(real_points(16), batch_size=8, epochs=1, verbose=0)
    gan.built = True  # TensorFlow: no call() ever marks it built; save_weights needs it
    target = tmp_path / "gan.weights.h5"
    snapshot_weights(gan, target, True)()
    expected = contents(write_snapshot(gan, target, True))
    no_keras_writer()
    made = snapshot_weights(gan, target, True)()
    assert contents(made) == expected
    assert {"d_optimizer/vars", "g_optimizer/vars"} <= set(contents(made))
    assert read_keras_file_of(made, tmp_path).optimizer_classes == {
        "d_optimizer": "Adam", "g_optimizer": "Adam"
    }


class WithExtra(keras.layers.Dense):
    """A layer that saves a value that is no variable (a computed statistic)."""

    def save_own_variables(self, store):
        super().save_own_variables(store)
        store["extra"] = np.arange(3, dtype="float32")

    def load_own_variables(self, store):
        super().load_own_variables({key: store[key] for key in store.keys() if key != "extra"})


def test_a_layout_it_cannot_make_falls_back_to_keras_writer_once(tmp_path, caplog):
    model = keras.Sequential([keras.Input((3,)), WithExtra(2, name="with_extra")], name="odd")
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((4, 3), "float32"), np.ones((4, 2), "float32"), verbose=0)
    target = tmp_path / "epoch.weights.h5"
    with caplog.at_level(logging.INFO, logger=keras_format.__name__):
        files = [snapshot_weights(model, target, True)() for _ in range(3)]
    logs = fallback_logs(caplog)
    assert len(logs) == 1
    assert "'odd'" in logs[0] and "layers/with_extra/vars/extra" in logs[0]
    expected = contents(write_snapshot(model, target, True))
    for data in files:
        assert contents(data) == expected  # Keras' bytes, the extra value included
    np.testing.assert_array_equal(
        np.frombuffer(expected["layers/with_extra/vars/extra"][3], "float32"), [0, 1, 2]
    )
    target.write_bytes(files[-1])
    model.load_weights(target)


def test_a_cluster_keeps_keras_writer(tmp_path, monkeypatch):
    """Under TF_CONFIG (or a keras.distribution) every save goes through Keras' writer."""
    monkeypatch.setenv(
        "TF_CONFIG",
        '{"cluster": {"worker": ["localhost:1"]}, "task": {"type": "worker", "index": 0}}',
    )
    model = sequential_mlp()
    calls = []
    original = keras_format.weights_bytes
    monkeypatch.setattr(
        keras_format, "weights_bytes", lambda *a, **k: calls.append(1) or original(*a, **k)
    )
    for _ in range(2):
        snapshot_weights(model, tmp_path / "epoch.weights.h5", True)
    assert len(calls) == 2
