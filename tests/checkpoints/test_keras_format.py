"""kerastools.checkpoints.keras_format: every file is Keras' own `.weights.h5`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest

import kerastools as kt
from kerastools.checkpoints import load_checkpoint
from kerastools.checkpoints.keras_format import HEADER, read_keras_file
from kerastools.checkpoints.store import CheckpointStore
from kerastools.errors import CheckpointError
from tests.checkpoints.helpers import (
    assert_same_weights,
    child_in_its_own_pass,
    iterations,
    make_model,
)

ROOT = Path(__file__).resolve().parents[2]


def test_plain_load_weights_reads_a_kerastools_file(tmp_path, squares_data):
    x, y = squares_data
    model = make_model()
    model.fit(x, y, epochs=2, batch_size=32, verbose=0,
              callbacks=[kt.callbacks.PeriodicCheckpoint(tmp_path, save_best="loss")])
    for name in ("epoch-0002.weights.h5", "best.weights.h5"):
        fresh = make_model()
        fresh.load_weights(tmp_path / name)  # Keras' own loader, nothing of kerastools
        assert_same_weights(fresh, model.get_weights())
        assert iterations(fresh) == iterations(model) == 16


def test_the_file_has_keras_layout_and_one_extra_attribute(tmp_path, squares_data):
    x, y = squares_data
    model = make_model()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[kt.callbacks.PeriodicCheckpoint(tmp_path)])
    with h5py.File(tmp_path / "epoch-0001.weights.h5", "r") as handle:
        assert {"layers", "optimizer", "vars"} <= set(handle)
        assert list(handle.attrs) == [HEADER]
        header = json.loads(handle.attrs[HEADER])
    assert header["optimizers"] == {"optimizer": "Adam"}
    assert header["build_config"] == json.loads(json.dumps(model.get_build_config()))
    contents = read_keras_file(tmp_path / "epoch-0001.weights.h5")
    assert contents.optimizer_classes == {"optimizer": "Adam"}


def test_without_the_optimizer_the_file_has_no_optimizer_group(tmp_path, squares_data):
    x, y = squares_data
    make_model().fit(x, y, epochs=1, verbose=0,
                     callbacks=[kt.callbacks.PeriodicCheckpoint(tmp_path, include_optimizer=False)])
    with h5py.File(tmp_path / "epoch-0001.weights.h5", "r") as handle:
        assert "optimizer" not in handle
    fresh = make_model()
    assert not load_checkpoint(fresh, tmp_path).includes_optimizer
    assert iterations(fresh) == 0


def test_a_background_save_is_the_state_at_the_save(tmp_path, squares_data):
    x, y = squares_data
    model = make_model()
    model.fit(x, y, epochs=1, verbose=0)
    saved = [np.array(w) for w in model.get_weights()]
    store = CheckpointStore(tmp_path, background=True)
    store.open()
    store.save(model, [("epoch-0001.weights.h5", "epoch")], epoch=1, step=8, logs={})
    model.fit(x, y, epochs=1, verbose=0)  # training goes on while the file is placed
    store.close()
    fresh = make_model()
    fresh.load_weights(tmp_path / "epoch-0001.weights.h5")
    assert_same_weights(fresh, saved)
    assert iterations(fresh) == 8


def test_a_snapshot_left_by_a_kill_is_removed_at_open(tmp_path):
    left = tmp_path / ".epoch-0003.weights.h5.k2j3.tmp.weights.h5"
    left.write_bytes(b"half")
    CheckpointStore(tmp_path).open()
    assert not left.exists()


def test_a_refused_file_names_itself_and_changes_nothing(tmp_path, squares_data):
    """Layers Keras cannot pair (another architecture, other names): its error, undone."""
    x, y = squares_data
    make_model().fit(x, y, epochs=1, verbose=0, callbacks=[kt.callbacks.PeriodicCheckpoint(tmp_path)])
    inputs = keras.Input((2,))
    hidden = keras.layers.Dense(8, name="first")(inputs)
    other = keras.Model(inputs, keras.layers.Dense(3, name="second")(hidden))
    other.compile(optimizer="adam", loss="mse")
    before = [np.array(w) for w in other.get_weights()]
    with pytest.raises(CheckpointError, match="epoch-0001.weights.h5 does not fit model"):
        load_checkpoint(other, tmp_path)
    assert_same_weights(other, before)


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_load_weights_on_each_backend(tmp_path, backend):
    """Written and read again in a fresh process of `backend`, by plain `model.load_weights`."""
    child_in_its_own_pass(backend)
    script = textwrap.dedent(
        f"""
        import numpy as np, keras, kerastools as kt
        def make():
            return kt.compile(kt.build_mlp(2, [8]), optimizer="adam", learning_rate=0.01)
        x = np.random.default_rng(0).uniform(-1, 1, (64, 2)).astype("float32")
        model = make()
        model.fit(x, x[:, :1], epochs=2, batch_size=16, verbose=0,
                  callbacks=[kt.callbacks.PeriodicCheckpoint({str(tmp_path)!r})])
        fresh = make()
        fresh.load_weights({str(tmp_path / "epoch-0002.weights.h5")!r})
        for a, b in zip(fresh.get_weights(), model.get_weights()):
            assert np.array_equal(a, b)
        steps = [int(keras.ops.convert_to_numpy(m.optimizer.iterations)) for m in (fresh, model)]
        assert steps == [8, 8], steps
        print("ok", keras.backend.backend())
        """
    )
    environment = dict(os.environ, KERAS_BACKEND=backend, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", script], env=environment, cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"ok {backend}" in result.stdout
