"""Crafted and damaged files (issue 15, items 1-3): refused with a CheckpointError, weights unchanged.

Each case builds a file with h5py or json in tmp_path from a tiny model's
real checkpoint, then loads it: every array is checked (shape, dtype kind,
range) before the first assignment, nothing outside the file is read, no
dataset larger than the model's largest variable is read, and the records
refuse non-finite, fractional or negative numbers, bad file names, deep
nesting, FIFOs and devices.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile

import h5py
import numpy as np
import pytest

import kerastools as kt
from kerastools.callbacks import PeriodicCheckpoint
from kerastools.checkpoints.directory import read_index
from kerastools.errors import CheckpointError
from tests.checkpoints.helpers import assert_same_weights, make_model, write_v01_file


def _kernel_name(handle):
    """The path of the first 2-d dataset (a Dense kernel) of an HDF5 file."""
    names = []
    handle.visititems(lambda name, item: names.append(name) if getattr(item, "ndim", 0) == 2 else None)
    return names[0]


def _dataset_name(handle, predicate):
    names = []
    handle.visititems(
        lambda name, item: names.append(name) if isinstance(item, h5py.Dataset) and predicate(name, item) else None
    )
    return names[0]


def _keras_file(tmp_path, squares_data):
    """A trained tiny model's `save_weights` file."""
    x, y = squares_data
    model = make_model()
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "model.weights.h5"
    model.save_weights(path)
    return path


def _legacy_file(tmp_path, squares_data):
    """The same in the 0.1 format."""
    x, y = squares_data
    model = make_model()
    model.fit(x, y, epochs=1, verbose=0)
    return write_v01_file(model, tmp_path / "old.weights.h5")


def _replace(path, name, **create):
    with h5py.File(path, "r+") as handle:
        del handle[name]
        handle.create_dataset(name, **create)


def _refused_unchanged(path, match):
    """Loading `path` into a fresh trained-shape model raises and changes no weight."""
    fresh = make_model()
    fresh.optimizer.build(fresh.trainable_variables)
    before = [np.array(w) for w in fresh.get_weights()]
    with pytest.raises(CheckpointError, match=match) as caught:
        kt.checkpoints.load_checkpoint(fresh, path)
    assert_same_weights(fresh, before)
    assert str(path.name) in str(caught.value)
    return str(caught.value)


WRONG_VALUES = {
    "strings": ({"data": np.array([["x"] * 8] * 2, dtype=object), "dtype": h5py.string_dtype()},
                "not a number type"),
    "compound": ({"data": np.zeros((2, 8), dtype=[("a", "f4"), ("b", "i4")])}, "not a number type"),
    "overflow": ({"data": np.full((2, 8), 1e300)}, "would become inf"),
}


@pytest.mark.parametrize("case", sorted(WRONG_VALUES))
@pytest.mark.parametrize("make", [_keras_file, _legacy_file], ids=["keras", "0.1"])
def test_a_kernel_of_wrong_values_is_refused_before_any_assignment(tmp_path, squares_data, make, case):
    path = make(tmp_path, squares_data)
    create, match = WRONG_VALUES[case]
    with h5py.File(path, "r") as handle:
        name = _kernel_name(handle)
    _replace(path, name, **create)
    _refused_unchanged(path, match)


@pytest.mark.parametrize("make", [_keras_file, _legacy_file], ids=["keras", "0.1"])
def test_a_string_or_float_iteration_counter_is_refused(tmp_path, squares_data, make):
    path = make(tmp_path, squares_data)
    with h5py.File(path, "r") as handle:  # the optimizer's first variable: its step counter
        name = _dataset_name(handle, lambda n, d: n.startswith("optimizer") and d.ndim == 0
                             and d.dtype.kind in "iu")
    _replace(path, name, data="12", dtype=h5py.string_dtype())
    _refused_unchanged(path, "iteration|not a number type")
    _replace(path, name, data=2.5)
    _refused_unchanged(path, "floating-point values")


def test_a_keras_archive_with_overflowing_weights_is_refused(tmp_path, squares_data):
    x, y = squares_data
    model = make_model()
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "model.keras")
    with zipfile.ZipFile(tmp_path / "model.keras") as archive:
        archive.extractall(tmp_path / "parts")
        members = archive.namelist()
    weights = tmp_path / "parts" / "model.weights.h5"
    with h5py.File(weights, "r") as handle:
        name = _kernel_name(handle)
    _replace(weights, name, data=np.full((2, 8), -1e300))
    with zipfile.ZipFile(tmp_path / "crafted.keras", "w") as archive:
        for member in members:
            archive.write(tmp_path / "parts" / member, member)
    _refused_unchanged(tmp_path / "crafted.keras", "would become inf")


@pytest.mark.parametrize("make", [_keras_file, _legacy_file], ids=["keras", "0.1"])
def test_external_storage_and_links_are_refused_before_reading(tmp_path, squares_data, make):
    path = make(tmp_path, squares_data)
    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.arange(16, dtype="float32").tobytes())
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as handle:
        handle.create_dataset("x", data=np.arange(16, dtype="float32").reshape(2, 8))
    with h5py.File(path, "r") as handle:
        name = _kernel_name(handle)
    crafted = {}
    for case in ("external", "external-link", "soft-link"):
        crafted[case] = tmp_path / f"{case}.weights.h5"
        shutil.copyfile(path, crafted[case])
        with h5py.File(crafted[case], "r+") as handle:
            del handle[name]
            if case == "external":
                handle.create_dataset(name, shape=(2, 8), dtype="float32", external=[(str(secret), 0, 64)])
            elif case == "external-link":
                handle[name] = h5py.ExternalLink(str(other), "/x")
            else:
                handle.create_dataset("elsewhere", data=np.ones((2, 8), dtype="float32"))
                handle[name] = h5py.SoftLink("/elsewhere")
    assert "external file" in _refused_unchanged(crafted["external"], "secret.bin")
    _refused_unchanged(crafted["external-link"], "external link")
    _refused_unchanged(crafted["soft-link"], "soft link")


@pytest.mark.parametrize("make", [_keras_file, _legacy_file], ids=["keras", "0.1"])
def test_declared_shapes_larger_than_the_model_are_refused_before_reading(tmp_path, squares_data, make):
    path = make(tmp_path, squares_data)
    with h5py.File(path, "r") as handle:
        name = _kernel_name(handle)
    huge = tmp_path / "huge.weights.h5"
    shutil.copyfile(path, huge)
    # 2^34 float32 elements (64 GiB) declared by a file of a few KB: no data is stored.
    _replace(huge, name, shape=(1 << 17, 1 << 17), dtype="float32")
    assert huge.stat().st_size < 100_000
    _refused_unchanged(huge, r"declares shape \(131072, 131072\)")
    gzip = tmp_path / "gzip.weights.h5"
    shutil.copyfile(path, gzip)
    _replace(gzip, name, data=np.zeros((2048, 2048), dtype="float32"), compression="gzip", chunks=True)
    assert gzip.stat().st_size < 200_000
    _refused_unchanged(gzip, r"declares shape \(2048, 2048\)")


@pytest.fixture(scope="module")
def trained_directory(tmp_path_factory):
    """A PeriodicCheckpoint directory of 2 epochs."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(64, 2)).astype("float32")
    run = tmp_path_factory.mktemp("crafted") / "run"
    make_model().fit(x, x[:, :1] * x[:, 1:], epochs=2, verbose=0, callbacks=[PeriodicCheckpoint(run)])
    assert (run / RECORD).is_file()
    return run


@pytest.fixture
def directory(trained_directory, tmp_path):
    """A copy of the trained directory per test, which crafts it."""
    return shutil.copytree(trained_directory, tmp_path / "run")


RECORD = "epoch-0002.weights.h5.json"  # the latest checkpoint's record


def _edit_record(directory, field, value):
    path = directory / RECORD
    document = json.loads(path.read_text())
    document[field] = value
    path.write_text(json.dumps(document))


BAD_RECORDS = [
    ("epoch", -5), ("epoch", 2.9), ("epoch", True), ("step", "3"), ("size", -1),
    ("includes_optimizer", 1), ("file", "a\0b"), ("file", ".."), ("file", "."),
    ("file", "sub/epoch-0002.weights.h5"), ("file", "..\\x"), ("kind", "weekly"),
    ("metrics", {"loss": "low"}), ("sequence", -1), ("monitor", 3),
]


@pytest.mark.parametrize(("field", "value"), BAD_RECORDS)
def test_a_record_with_a_bad_field_is_refused_naming_it(directory, field, value):
    _edit_record(directory, field, value)
    with pytest.raises(CheckpointError, match=f"`{field}") as caught:
        read_index(directory)
    assert RECORD in str(caught.value)
    with pytest.raises(CheckpointError, match=f"`{field}"):
        kt.checkpoints.resume(make_model(), directory)


@pytest.mark.parametrize("number", ["2e696", "1e400", "Infinity", "-Infinity", "NaN"])
@pytest.mark.parametrize("field", ["size", "wall_time", "epoch", "callback_states"])
def test_non_finite_numbers_anywhere_in_a_record_are_refused(directory, field, number):
    _edit_record(directory, field, [{"kind": "ThresholdStopping", "best": "@"}]
                 if field == "callback_states" else "@")
    path = directory / RECORD
    path.write_text(path.read_text().replace('"@"', number))
    with pytest.raises(CheckpointError, match=RECORD):
        read_index(directory)
    with pytest.raises(CheckpointError, match=RECORD):
        kt.checkpoints.list_checkpoints(directory)


def test_a_deeply_nested_record_is_refused(directory):
    (directory / RECORD).write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(CheckpointError, match=f"{RECORD}.*nests too deep"):
        read_index(directory)


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "huge"])
def test_a_record_that_is_no_regular_small_file_is_refused_without_hanging(directory, kind):
    path = directory / RECORD
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    else:
        with open(path, "wb") as handle:  # sparse: 300 MiB declared, nothing written
            handle.truncate(300 << 20)
    why = {"fifo": "a FIFO", "dev-zero": "a character device", "huge": "more than"}[kind]
    with pytest.raises(CheckpointError, match=f"{RECORD}.*{why}"):
        read_index(directory)
    with pytest.raises(CheckpointError, match=f"{RECORD}.*{why}"):
        kt.checkpoints.resume(make_model(), directory)


def test_a_fifo_in_place_of_a_checkpoint_is_refused_without_hanging(directory, tmp_path):
    latest = directory / "epoch-0002.weights.h5"
    latest.unlink()
    os.mkfifo(latest)
    with pytest.raises(CheckpointError, match="epoch-0002.weights.h5.*FIFO"):
        kt.checkpoints.load_checkpoint(make_model(), directory)
    os.mkfifo(tmp_path / "pipe.weights.h5")
    with pytest.raises(CheckpointError, match="pipe.weights.h5.*FIFO"):
        kt.checkpoints.load_checkpoint(make_model(), tmp_path / "pipe.weights.h5")
