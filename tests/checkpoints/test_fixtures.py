"""Directories written by earlier versions resume exactly and train on.

`tests/checkpoints/fixtures/` holds real directories made by the code of
earlier commits (`make_fixtures.py` says how): 0.1's manifest and HDF5
layout, 0.2's manifest with its journal, and a 0.2 run killed in its fourth
epoch with the journal uncompacted and the lock file left behind. Any change
of the checkpoint layout must keep reading them.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import keras
import numpy as np
import pytest

import kerastools as kt

FIXTURES = Path(__file__).parent / "fixtures"
_spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
assert _spec is not None and _spec.loader is not None
make_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_fixtures)

# name: (epochs done in the newest checkpoint, periodic files listed)
CASES = {
    "v0.1": (4, ["epoch-0003.weights.h5", "epoch-0004.weights.h5"]),
    "manifest-v2": (4, ["epoch-0003.weights.h5", "epoch-0004.weights.h5"]),
    "manifest-v2-killed": (3, ["epoch-0002.weights.h5", "epoch-0003.weights.h5"]),
}


def _copy(name: str, tmp_path: Path) -> Path:
    run = tmp_path / name
    shutil.copytree(FIXTURES / name / "run", run)
    return run


@pytest.mark.parametrize("name", sorted(CASES))
def test_an_earlier_directory_lists_its_checkpoints(name, tmp_path):
    run = _copy(name, tmp_path)
    epochs, files = CASES[name]
    listed = kt.checkpoints.list_checkpoints(run)
    assert [info.path.name for info in listed] == files
    assert listed[-1].epoch == epochs
    assert kt.checkpoints.find_checkpoint(run, "best").path.name == "best.weights.h5"


@pytest.mark.parametrize("name", sorted(CASES))
def test_an_earlier_directory_resumes_exactly_and_trains_on(name, tmp_path):
    run = _copy(name, tmp_path)
    epochs, _ = CASES[name]
    expected = np.load(FIXTURES / name / "expected.npz", allow_pickle=False)
    x, y = make_fixtures.fixture_data()
    model = make_fixtures.fixture_model()
    logger = kt.callbacks.LearningRateLogger()

    start = kt.checkpoints.resume(model, run, callbacks=[logger])

    assert start == epochs
    weights = model.get_weights()
    assert len(weights) == len(expected.files) - 1
    for i, array in enumerate(weights):
        np.testing.assert_array_equal(array, expected[f"w{i}"])
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == int(expected["iterations"])

    checkpoint = kt.callbacks.PeriodicCheckpoint(
        run, keep_last=2, save_best="val_loss", callbacks=[logger]
    )
    history = model.fit(x, y, batch_size=16, initial_epoch=start, epochs=start + 1,
                        validation_split=0.25, verbose=0, shuffle=False,
                        callbacks=[logger, checkpoint])
    assert np.isfinite(history.history["loss"]).all()
    assert len(logger.history) == start + 1  # the recorded epochs, then this one
    newest = kt.checkpoints.list_checkpoints(run)[-1]
    assert (newest.path.name, newest.epoch) == (f"epoch-{start + 1:04d}.weights.h5", start + 1)
    again = make_fixtures.fixture_model()
    assert kt.checkpoints.resume(again, run) == start + 1
    for mine, theirs in zip(again.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)
