"""`save_format="keras"`, and loading Keras' own files: ModelCheckpoint, BackupAndRestore."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import keras
import pytest

import kerastools as kt
from kerastools.checkpoints import list_checkpoints, load_checkpoint, resume
from kerastools.checkpoints.store import CheckpointStore
from kerastools.errors import CheckpointError, ConfigError
from tests.checkpoints.helpers import (
    RecordState,
    assert_same_weights,
    child_in_its_own_pass,
    iterations,
    make_model,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_keras_archives_open_with_load_model_on_each_backend(tmp_path, backend):
    """Written and opened again in a fresh process of `backend` by `keras.models.load_model`."""
    child_in_its_own_pass(backend)
    script = textwrap.dedent(
        f"""
        import numpy as np, keras, kerastools as kt
        from tests.checkpoints.helpers import iterations, make_model
        x = np.random.default_rng(0).uniform(-1, 1, (64, 2)).astype("float32")
        model = make_model()
        cb = kt.callbacks.PeriodicCheckpoint({str(tmp_path)!r}, save_format="keras", keep_last=2,
                                             save_best="loss")
        model.fit(x, x[:, :1], epochs=3, batch_size=16, verbose=0, callbacks=[cb])
        names = sorted(p.name for p in cb.directory.iterdir())
        assert names == ["best.keras", "best.keras.json", "epoch-0002.keras", "epoch-0002.keras.json",
                         "epoch-0003.keras", "epoch-0003.keras.json"], names
        loaded = keras.models.load_model(cb.directory / "epoch-0003.keras")
        for a, b in zip(loaded.get_weights(), model.get_weights(), strict=True):
            assert np.array_equal(a, b)
        assert iterations(loaded) == iterations(model) == 12, iterations(loaded)
        fresh = make_model()
        assert kt.checkpoints.resume(fresh, cb.directory) == 3
        assert iterations(fresh) == 12
        print("ok", keras.backend.backend())
        """
    )
    environment = dict(os.environ, KERAS_BACKEND=backend, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", script], env=environment, cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"ok {backend}" in result.stdout


def test_keras_archives_are_recorded_verified_and_cleaned_up(tmp_path, squares_data):
    x, y = squares_data
    model = make_model()
    checkpoint = kt.callbacks.PeriodicCheckpoint(tmp_path, save_format="keras")
    model.fit(x, y, epochs=2, batch_size=64, verbose=0, callbacks=[checkpoint])
    records = list_checkpoints(tmp_path)
    assert [(r.path.name, r.size) for r in records] == [
        ("epoch-0001.keras", (tmp_path / "epoch-0001.keras").stat().st_size),
        ("epoch-0002.keras", (tmp_path / "epoch-0002.keras").stat().st_size),
    ]
    # A damaged archive fails its checksum: the previous one is loaded, with a warning.
    with open(tmp_path / "epoch-0002.keras", "r+b") as handle:
        handle.truncate(100)
    fresh = make_model()
    with pytest.warns(RuntimeWarning, match="epoch-0002.keras"):
        assert resume(fresh, tmp_path) == 1
    assert iterations(fresh) == 4
    # What a kill during model.save leaves is removed at the next start.
    stale = tmp_path / ".epoch-0003.keras.x1y2.tmp.keras"
    stale.write_bytes(b"half")
    CheckpointStore(tmp_path).open()
    assert not stale.exists()


def test_save_format_is_checked():
    with pytest.raises(ConfigError, match="save_format"):
        kt.callbacks.PeriodicCheckpoint("ckpt", save_format="h5")
    with pytest.raises(ConfigError, match="include_optimizer=False"):
        kt.callbacks.PeriodicCheckpoint("ckpt", save_format="keras", include_optimizer=False)
    with pytest.raises(ConfigError, match="save_format"):
        kt.callbacks.standard(checkpoint_dir="ckpt", save_format="zip")
    keras_bundle = kt.callbacks.standard(checkpoint_dir="ckpt", save_format="keras")
    assert [c.save_format for c in keras_bundle if hasattr(c, "save_format")] == ["keras"]


@pytest.mark.parametrize("filepath", ["w-{epoch:02d}.weights.h5", "m-{epoch:02d}.keras"])
def test_model_checkpoint_output_loads(tmp_path, squares_data, filepath):
    x, y = squares_data
    model = make_model()
    saver = keras.callbacks.ModelCheckpoint(
        str(tmp_path / filepath), save_weights_only=filepath.endswith(".weights.h5")
    )
    model.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[saver])
    fresh = make_model()
    info = load_checkpoint(fresh, tmp_path / filepath.format(epoch=2))
    assert_same_weights(fresh, model.get_weights())
    assert (info.kind, info.epoch, info.step, info.includes_optimizer) == ("keras-file", 0, 16, True)
    assert iterations(fresh) == 16
    assert resume(make_model(), tmp_path / filepath.format(epoch=2)) == 0  # a file has no epoch
    with pytest.raises(ConfigError, match="'latest'"):
        load_checkpoint(fresh, tmp_path / filepath.format(epoch=2), which="best")


class _Interrupt(keras.callbacks.Callback):
    """Raises at the start of epoch index 2 (Keras' own BackupAndRestore test)."""

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 2:
            raise RuntimeError("Interrupting!")


def test_backup_and_restore_directory_resumes_where_keras_would(tmp_path, squares_data):
    x, y = squares_data
    backup = tmp_path / "backup"
    probe = RecordState()
    fit = {"batch_size": 32, "shuffle": False, "verbose": 0}
    with pytest.raises(RuntimeError, match="Interrupting"):
        make_model().fit(x, y, epochs=4, callbacks=[keras.callbacks.BackupAndRestore(backup),
                                                   probe, _Interrupt()], **fit)
    assert json.loads((backup / "training_metadata.json").read_text())["epoch"] == 2
    shutil.copytree(backup, tmp_path / "for-keras")

    ours = make_model()
    start = resume(ours, backup)
    assert start == 2
    assert_same_weights(ours, probe.weights[2])
    assert iterations(ours) == probe.steps[2] == 16
    assert load_checkpoint(make_model(), backup).kind == "keras-backup"
    history = ours.fit(x, y, epochs=4, initial_epoch=start, **fit)

    theirs = make_model()  # Keras' own restore of the same backup
    keras_history = theirs.fit(
        x, y, epochs=4, callbacks=[keras.callbacks.BackupAndRestore(tmp_path / "for-keras")], **fit
    )
    assert len(history.history["loss"]) == len(keras_history.history["loss"]) == 2
    assert iterations(ours) == iterations(theirs) == 32
    assert_same_weights(ours, theirs.get_weights())


def test_a_keras_file_of_another_architecture_is_refused_unchanged(tmp_path, squares_data):
    x, y = squares_data
    wide = make_model(width=16)
    wide.fit(x, y, epochs=1, verbose=0)
    wide.save(tmp_path / "wide.keras")
    model = make_model(width=8)
    before = model.get_weights()
    with pytest.raises(CheckpointError, match="shape"):
        load_checkpoint(model, tmp_path / "wide.keras")
    assert_same_weights(model, before)


def test_bad_sources_name_the_path_and_what_is_accepted(tmp_path):
    model = make_model()
    text = tmp_path / "notes.txt"
    text.write_text("not a checkpoint")
    fake = tmp_path / "fake.weights.h5"
    fake.write_text("not HDF5")
    empty_zip = tmp_path / "empty.keras"
    with zipfile.ZipFile(empty_zip, "w") as archive:
        archive.writestr("config.json", "{}")
    other = tmp_path / "other"
    other.mkdir()
    (other / "readme.md").write_text("hello")
    for path in (text, fake, empty_zip, other):
        with pytest.raises(CheckpointError, match="Accepted") as caught:
            load_checkpoint(model, path)
        assert str(path) in str(caught.value)
    with pytest.raises(CheckpointError, match="model.weights.h5"):
        load_checkpoint(model, empty_zip)
    with pytest.raises(CheckpointError, match=str(text)):
        resume(model, text)
    broken = tmp_path / "backup"
    broken.mkdir()
    (broken / "training_metadata.json").write_text('{"batch": 3}')
    with pytest.raises(CheckpointError, match="latest.weights.h5"):
        resume(model, broken)


def test_step_archives_mid_epoch_hold_the_step_they_name(tmp_path, squares_data):
    x, y = squares_data
    model = make_model()
    checkpoint = kt.callbacks.PeriodicCheckpoint(
        tmp_path, every_epochs=None, every_steps=3, keep_last=1, save_format="keras"
    )
    model.fit(x, y, epochs=1, batch_size=32, verbose=0, callbacks=[checkpoint])  # 8 steps
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step-00000006.keras",
                                                          "step-00000006.keras.json"]
    assert iterations(keras.models.load_model(tmp_path / "step-00000006.keras")) == 6
