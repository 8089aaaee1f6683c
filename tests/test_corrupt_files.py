"""Damaged files: checkpoints and IDX files truncated or with a byte flipped, seeded.

Every damaged file is rejected (an error naming it) or skipped (a warning
naming it, then the previous good checkpoint), and no variant loads wrong
weights or wrong data silently: whatever loads is compared with what was saved.
The process survives all of them (they run in this process).

Backend-neutral; about 10 s.
"""

from __future__ import annotations

import gzip
import json
import random
import re
import shutil
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest

import kerastools as kt
from kerastools.callbacks import PeriodicCheckpoint
from kerastools.checkpoints import list_checkpoints, load_checkpoint
from kerastools.checkpoints.files import sha256_hex
from kerastools.checkpoints.record import record_path
from kerastools.datasets import DEBIAN_FASHION_MNIST, load_idx
from kerastools.errors import CheckpointError, DatasetError

VARIANTS = 50
LATEST = "epoch-0002.weights.h5"


def truncate(path: Path, rng: random.Random) -> int:
    data = path.read_bytes()
    offset = rng.randrange(len(data))
    path.write_bytes(data[:offset])
    return offset


def flip(path: Path, rng: random.Random, *, limit: int | None = None) -> int:
    """XOR one byte (in the first `limit` bytes when given) with a non-zero mask."""
    data = bytearray(path.read_bytes())
    offset = rng.randrange(min(len(data), limit or len(data)))
    data[offset] ^= rng.randrange(1, 256)
    path.write_bytes(bytes(data))
    return offset


# --------------------------------------------------------------------------- checkpoints


class RecordWeights(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights = {}

    def on_epoch_end(self, epoch, logs=None):
        self.weights[epoch + 1] = [np.array(w) for w in self.model.get_weights()]


def make_model():
    return kt.compile(kt.build_mlp(2, [8]), optimizer="adam", learning_rate=0.01)


@pytest.fixture(scope="module")
def good_checkpoints(tmp_path_factory):
    """Two epochs, one checkpoint each, and the weights each one must hold."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(64, 2)).astype("float32")
    y = (x**2).sum(axis=1, keepdims=True)
    directory = tmp_path_factory.mktemp("good-checkpoints")
    recorder = RecordWeights()
    make_model().fit(
        x, y, epochs=2, batch_size=32, verbose=0, callbacks=[recorder, PeriodicCheckpoint(directory)]
    )
    assert sorted(p.name for p in directory.iterdir()) == [
        "epoch-0001.weights.h5", "epoch-0001.weights.h5.json", LATEST, f"{LATEST}.json",
    ]
    return directory, recorder.weights


@pytest.fixture(scope="module")
def loader():
    """One compiled model of the saved architecture, reused by every variant."""
    return make_model()


def attempt(model, directory, which):
    """Load; return (info or None, error message or None, warning messages)."""
    sentinel = [np.full(w.shape, 7.0, w.dtype) for w in model.get_weights()]
    model.set_weights(sentinel)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            info = load_checkpoint(model, directory, which)
        except CheckpointError as error:
            # A refused load leaves the model as it was.
            for now, before in zip(model.get_weights(), sentinel, strict=True):
                np.testing.assert_array_equal(now, before)
            return None, str(error), [str(w.message) for w in caught]
    return info, None, [str(w.message) for w in caught]


def assert_holds_saved_weights(model, info, saved):
    """The loaded weights are exactly those of the epoch the loaded file was written at."""
    epoch = int(re.match(r"epoch-(\d+)", info.path.name).group(1))
    for loaded, expected in zip(model.get_weights(), saved[epoch], strict=True):
        np.testing.assert_array_equal(loaded, expected)


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_damaged_latest_checkpoint_is_skipped_or_refused(good_checkpoints, loader, tmp_path, damage):
    directory, saved = good_checkpoints
    rng = random.Random(f"checkpoint-{damage}")
    outcomes = {"skipped": 0, "refused": 0}
    for variant in range(VARIANTS):
        copy = tmp_path / f"variant-{variant}"
        shutil.copytree(directory, copy)
        target = copy / LATEST
        offset = truncate(target, rng) if damage == "truncate" else flip(target, rng)
        which = "latest" if variant % 2 == 0 else 2
        info, error, warned = attempt(loader, copy, which)
        context = f"variant {variant}: {damage} at byte {offset}, which={which!r}"
        assert any(str(target) in message for message in warned), f"{context}: no warning names the file"
        if which == "latest":
            assert error is None, f"{context}: {error}"
            assert info.path.name == "epoch-0001.weights.h5", context  # the previous good one
            assert_holds_saved_weights(loader, info, saved)
            outcomes["skipped"] += 1
        else:
            assert info is None and LATEST in error, f"{context}: {error}"
            outcomes["refused"] += 1
    print(f"checkpoint {damage}: {outcomes} of {VARIANTS}")


def test_truncated_checkpoint_whose_record_agrees_is_caught_by_its_structure(
    good_checkpoints, loader, tmp_path
):
    """A file cut short before it was hashed (its record matches it): h5py must refuse it cleanly."""
    directory, saved = good_checkpoints
    rng = random.Random("checkpoint-structure")
    for variant in range(VARIANTS // 2):
        copy = tmp_path / f"variant-{variant}"
        shutil.copytree(directory, copy)
        target = copy / LATEST
        offset = truncate(target, rng)
        record = json.loads(record_path(target).read_text())
        record["size"] = target.stat().st_size
        record["sha256"] = sha256_hex(target.read_bytes())
        record_path(target).write_text(json.dumps(record))
        info, error, warned = attempt(loader, copy, "latest")
        context = f"variant {variant}: truncated at byte {offset}"
        assert error is None, f"{context}: {error}"
        assert any(str(target) in message for message in warned), f"{context}: {warned}"
        assert info.path.name == "epoch-0001.weights.h5", context
        assert_holds_saved_weights(loader, info, saved)


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_damaged_record_is_refused_or_harmless(good_checkpoints, loader, tmp_path, damage):
    """The newest file's record truncated or with a byte flipped (invalid UTF-8 included).

    Refused with a CheckpointError naming the record, or its file skipped with
    a warning (a changed checksum), or harmless (a metric's digit): whatever
    loads holds exactly the weights its file was saved with, never silently
    an older file.
    """
    directory, saved = good_checkpoints
    rng = random.Random(f"record-{damage}")
    outcomes = {"refused": 0, "skipped a file": 0, "harmless": 0}
    for variant in range(VARIANTS // 2):
        copy = tmp_path / f"variant-{variant}"
        shutil.copytree(directory, copy)
        record = record_path(copy / LATEST)
        offset = truncate(record, rng) if damage == "truncate" else flip(record, rng)
        context = f"variant {variant}: {damage} at byte {offset}"
        try:
            list_checkpoints(copy)
        except CheckpointError as error:
            assert str(record) in str(error), f"{context}: {error}"
        info, error, warned = attempt(loader, copy, "latest")
        if error is not None:
            # The record itself, or the file it describes, with its own warning.
            named = str(record) in error or any(str(copy) in m for m in warned)
            assert named, f"{context}: {error}"
            outcomes["refused"] += 1
            continue
        # It loaded: the weights must be exactly what that file was saved with,
        # and falling back past the newest file must have been announced.
        assert_holds_saved_weights(loader, info, saved)
        if info.path.name != LATEST or warned:
            assert any(str(copy) in message for message in warned), f"{context}: silent fallback"
            outcomes["skipped a file"] += 1
        else:
            outcomes["harmless"] += 1  # a metric's digit, the wall time
    print(f"record {damage}: {outcomes} of {VARIANTS // 2}")
    assert outcomes["refused"] > 0  # most damage makes the record invalid JSON or a bad field


# --------------------------------------------------------------------------- IDX files


def idx_bytes(array: np.ndarray) -> bytes:
    codes = {np.dtype("uint8"): 0x08, np.dtype("float32"): 0x0D}
    header = bytes([0, 0, codes[array.dtype], array.ndim])
    header += b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.fixture(scope="module")
def idx_files(tmp_path_factory):
    """(path, original array) for plain and gzip IDX files; Debian's small labels file too."""
    rng = np.random.default_rng(0)
    arrays = {
        "images-idx3-ubyte": rng.integers(0, 256, size=(12, 5, 5), dtype=np.uint8),
        "values-idx2-float": rng.normal(size=(7, 3)).astype("float32"),
    }
    directory = tmp_path_factory.mktemp("idx")
    plain, compressed = [], []
    for name, array in arrays.items():
        (directory / name).write_bytes(idx_bytes(array))
        (directory / f"{name}.gz").write_bytes(gzip.compress(idx_bytes(array), mtime=0))
        plain.append((directory / name, array))
        compressed.append((directory / f"{name}.gz", array))
    debian = DEBIAN_FASHION_MNIST / "t10k-labels-idx1-ubyte.gz"
    if debian.is_file():
        shutil.copy(debian, directory / debian.name)
        compressed.append((directory / debian.name, load_idx(debian)))
    return plain, compressed


def damaged_copies(files, tmp_path, damage, seed, *, header_only=False):
    rng = random.Random(seed)
    for variant in range(VARIANTS):
        source, array = files[variant % len(files)]
        copy = tmp_path / f"{variant}-{source.name}"
        shutil.copy(source, copy)
        if damage == "truncate":
            offset = truncate(copy, rng)
        else:
            limit = 4 + 4 * array.ndim if header_only else None
            offset = flip(copy, rng, limit=limit)
        yield copy, array, f"variant {variant}: {damage} {source.name} at byte {offset}"


@pytest.mark.parametrize("compression", ["plain", "gzip"])
def test_truncated_idx_is_refused_naming_the_file(idx_files, tmp_path, compression):
    files = idx_files[0] if compression == "plain" else idx_files[1]
    for copy, _, context in damaged_copies(files, tmp_path, "truncate", f"idx-{compression}"):
        with pytest.raises(DatasetError) as caught:
            load_idx(copy)
        assert str(copy) in str(caught.value), f"{context}: {caught.value}"


def test_flipped_byte_in_gzip_idx_is_refused_or_harmless(idx_files, tmp_path):
    """gzip's CRC32 catches any change to the data; a flip in the gzip header's
    time stamp or OS byte changes nothing that is loaded."""
    outcomes = {"refused": 0, "harmless": 0}
    for copy, array, context in damaged_copies(idx_files[1], tmp_path, "flip", "idx-gzip-flip"):
        try:
            loaded = load_idx(copy)
        except DatasetError as error:
            assert str(copy) in str(error), f"{context}: {error}"
            outcomes["refused"] += 1
            continue
        assert loaded.dtype == array.dtype and np.array_equal(loaded, array), f"{context}: wrong data loaded"
        outcomes["harmless"] += 1
    print(f"gzip IDX flips: {outcomes} of {VARIANTS}")


def test_flipped_byte_in_plain_idx_header_is_refused(idx_files, tmp_path):
    """A damaged header (magic, type, rank, a dimension) no longer matches the file size.

    Plain IDX carries no checksum, so a flipped data byte of an uncompressed
    file cannot be detected (the gzip files Debian ships can: see above).
    """
    for copy, _, context in damaged_copies(idx_files[0], tmp_path, "flip", "idx-header", header_only=True):
        with pytest.raises(DatasetError) as caught:
            load_idx(copy)
        assert str(copy) in str(caught.value), f"{context}: {caught.value}"
