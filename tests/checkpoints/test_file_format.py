"""kerastools.checkpoints.file_format: the HDF5 layout, files of earlier versions."""

from __future__ import annotations

import json

import h5py

import kerastools as kt
from kerastools.checkpoints import load_checkpoint
from kerastools.checkpoints.file_format import (
    FORMAT,
    checkpoint_file_bytes,
    read_checkpoint_file,
    take_state,
)
from kerastools.checkpoints.files import sha256_hex
from kerastools.checkpoints.record import CheckpointInfo
from tests.checkpoints.helpers import assert_same_weights, iterations, make_model


def write(model, path, include_optimizer=True):
    info = CheckpointInfo(path, "epoch", 1, 0)
    path.write_bytes(checkpoint_file_bytes(take_state(model, include_optimizer), info))
    return info


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
    write(model, path)  # the file as kerastools 0.1 wrote it
    with h5py.File(path, "r+") as handle:
        header = json.loads(handle.attrs[FORMAT])
        del header["build_config"]
        handle.attrs[FORMAT] = json.dumps(header)
    record = json.loads((tmp_path / "epoch-0001.weights.h5.json").read_text())
    record.update(size=path.stat().st_size, sha256=sha256_hex(path.read_bytes()))
    (tmp_path / "epoch-0001.weights.h5.json").write_text(json.dumps(record))
    assert read_checkpoint_file(path).build_config is None
    fresh = make_model()
    load_checkpoint(fresh, tmp_path)
    assert_same_weights(fresh, model.get_weights())
    assert iterations(fresh) == iterations(model)
