"""kerastools.checkpoints.selection: listing, choosing by latest/best/epoch/metric, skipping damaged files."""

from __future__ import annotations

import numpy as np
import pytest

from kerastools.callbacks import PeriodicCheckpoint
from kerastools.checkpoints import find_checkpoint, list_checkpoints, load_checkpoint, resume
from kerastools.errors import CheckpointError, ConfigError, ConfigTypeError
from tests.checkpoints.helpers import assert_same_weights, make_model

# -- listing -----------------------------------------------------------------------


def test_list_is_empty_without_records(tmp_path):
    assert list_checkpoints(tmp_path / "nothing here") == []


def test_list_matches_the_files_newest_last(trained):
    directory, probe, history = trained
    infos = list_checkpoints(directory)
    assert [(i.path.name, i.kind, i.epoch, i.step) for i in infos] == [
        (f"epoch-{e:04d}.weights.h5", "epoch", e, probe.steps[e]) for e in (1, 2, 3, 4)
    ]
    for info, loss in zip(infos, history["val_loss"], strict=True):
        assert info.metrics["val_loss"] == pytest.approx(loss)
        assert info.size == info.path.stat().st_size and len(info.sha256) == 64
    best = list_checkpoints(directory, include_best=True)[-1]
    assert best.kind == "best" and best.path.name == "best.weights.h5"


@pytest.mark.parametrize("bad", [None, 5])
def test_list_needs_a_path(bad):
    with pytest.raises(ConfigTypeError, match="`directory` must be a path"):
        list_checkpoints(bad)



def test_find_names_the_checkpoint_without_a_model(trained):
    directory, _, history = trained
    assert find_checkpoint(directory, ("min", "val_loss")).metrics["val_loss"] == pytest.approx(
        min(history["val_loss"])
    )


@pytest.mark.parametrize(
    ("which", "error", "match"),
    [
        ("newest", ConfigError, r"`which` must be 'latest', 'best', an epoch number .* Received: which='newest'"),
        (-1, ConfigError, r"`which` must be >= 0. Received: which=-1"),
        (2.0, ConfigTypeError, r"Received: which=2.0"),
        (("low", "loss"), ConfigError, r"`which\[0\]` must be one of \['min', 'max'\]"),
        (("min", ""), ConfigTypeError, r"`which\[1\]` must be a non-empty string"),
        (["min", "loss"], ConfigTypeError, r"a \(mode, metric\) pair"),
    ],
)
def test_bad_which_is_refused(trained, which, error, match):
    with pytest.raises(error, match=match):
        load_checkpoint(make_model(), trained[0], which)


@pytest.mark.parametrize(
    ("which", "match"),
    [
        (9, r"No checkpoint for epoch 9 .*epochs available: \[1, 2, 3, 4\]"),
        (("max", "val_accuracy"), r"No checkpoint .* recorded the metric 'val_accuracy'; metrics recorded: \['loss', 'val_loss'\]"),
    ],
)
def test_missing_epoch_or_metric_says_what_exists(trained, which, match):
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint(make_model(), trained[0], which)


def test_best_without_save_best_is_an_error(tmp_path, squares_data):
    x, y = squares_data
    make_model().fit(x, y, epochs=1, verbose=0, callbacks=[PeriodicCheckpoint(tmp_path)])
    with pytest.raises(CheckpointError, match="written without save_best"):
        load_checkpoint(make_model(), tmp_path, "best")


# -- damage -------------------------------------------------------------------------------


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def flip_a_byte(path, offset=None):
    data = bytearray(path.read_bytes())
    offset = len(data) - 100 if offset is None else offset
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [truncate, flip_a_byte], ids=["truncated", "flipped-byte"])
def test_damaged_latest_is_skipped_for_the_previous_good_one(trained, damage):
    directory, probe, _ = trained
    # The newest files: epoch 4, and best.weights.h5 when epoch 4 was also the best.
    damage(directory / "epoch-0004.weights.h5")
    damage(directory / "best.weights.h5")
    model = make_model()
    with pytest.warns(RuntimeWarning, match=r"Skipping damaged checkpoint .*weights.h5") as caught:
        info = load_checkpoint(model, directory)
    assert "epoch-0004.weights.h5" in str(caught[0].message)
    assert info.epoch == 3
    assert_same_weights(model, probe.weights[3])


def test_latest_can_be_the_best_file(tmp_path, squares_data):
    x, y = squares_data
    callback = PeriodicCheckpoint(tmp_path, every_epochs=5, save_best="loss")
    history = make_model().fit(x, y, epochs=7, verbose=0, callbacks=[callback])
    assert np.argmin(history.history["loss"]) == 6  # the loss still falls at epoch 7
    assert [i.epoch for i in list_checkpoints(tmp_path)] == [5]
    latest = find_checkpoint(tmp_path)
    assert (latest.path.name, latest.epoch) == ("best.weights.h5", 7)
    assert resume(make_model(), tmp_path) == 7


def test_damaged_header_byte_is_caught(trained):
    directory, _, _ = trained
    for name in ("epoch-0004.weights.h5", "best.weights.h5"):
        flip_a_byte(directory / name, offset=3)  # the HDF5 signature
    with pytest.warns(RuntimeWarning, match="does not match its record"):
        assert find_checkpoint(directory).epoch == 3


def test_damaged_best_falls_back_to_the_best_intact_file(trained):
    directory, _, history = trained
    flip_a_byte(directory / "best.weights.h5")
    with pytest.warns(RuntimeWarning, match="best.weights.h5"):
        info = find_checkpoint(directory, "best")
    assert info.kind == "epoch" and info.epoch == 1 + int(np.argmin(history["val_loss"]))


def test_all_damaged_resumes_at_zero_with_warnings(trained):
    directory, _, _ = trained
    for path in directory.glob("*.weights.h5"):
        truncate(path)
    with pytest.raises(CheckpointError, match="No intact checkpoint"), pytest.warns(RuntimeWarning):
        load_checkpoint(make_model(), directory)
    with pytest.warns(RuntimeWarning) as caught:
        assert resume(make_model(), directory) == 0
    named = " ".join(str(w.message) for w in caught)
    assert all(f"epoch-000{e}.weights.h5" in named for e in (1, 2, 3, 4))
