"""Files of kerastools 0.1's own HDF5 layout (`checkpoints.legacy`): still read and loaded."""

from __future__ import annotations

import json

import kerastools as kt
from kerastools.checkpoints import load_checkpoint
from kerastools.checkpoints.files import sha256_hex
from kerastools.checkpoints.legacy import read_checkpoint_file
from tests.checkpoints.helpers import assert_same_weights, iterations, make_model, write_v01_file


def test_a_0_1_file_without_a_build_config_still_loads(tmp_path, squares_data):
    """0.1 files before the build config: they load into a built model as before."""
    x, y = squares_data
    model = make_model()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[kt.callbacks.PeriodicCheckpoint(tmp_path)])
    path = write_v01_file(model, tmp_path / "epoch-0001.weights.h5", build_config=False)
    record = json.loads((tmp_path / "epoch-0001.weights.h5.json").read_text())
    record.update(size=path.stat().st_size, sha256=sha256_hex(path.read_bytes()))
    (tmp_path / "epoch-0001.weights.h5.json").write_text(json.dumps(record))
    state = read_checkpoint_file(path)
    assert state.build_config is None and state.optimizer_name == "Adam"
    fresh = make_model()
    load_checkpoint(fresh, tmp_path)
    assert_same_weights(fresh, model.get_weights())
    assert iterations(fresh) == iterations(model)
