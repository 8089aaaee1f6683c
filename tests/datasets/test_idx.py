"""load_idx(): every IDX type, gzip by content, corrupt files named in the error."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from idx_files import idx_bytes  # tests/datasets/idx_files.py

from kerastools import datasets
from kerastools.errors import DatasetError


@pytest.mark.parametrize(
    ("dtype", "code"),
    [
        (np.uint8, 0x08),
        (np.int8, 0x09),
        (np.int16, 0x0B),
        (np.int32, 0x0C),
        (np.float32, 0x0D),
        (np.float64, 0x0E),
    ],
)
def test_load_idx_reads_every_type_in_native_byte_order(tmp_path, dtype, code):
    array = (
        (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
        if dtype != np.uint8
        else np.arange(24, dtype=dtype).reshape(2, 3, 4)
    )
    path = tmp_path / "data-idx3"
    path.write_bytes(idx_bytes(array, code))
    loaded = datasets.load_idx(path)
    np.testing.assert_array_equal(loaded, array)
    assert loaded.dtype == np.dtype(dtype) and loaded.dtype.isnative
    assert loaded.flags.writeable


def test_load_idx_reads_gzip_by_content(tmp_path):
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    path = tmp_path / "labels-idx1-ubyte"  # no .gz suffix: recognised by its magic bytes
    path.write_bytes(gzip.compress(idx_bytes(labels, 0x08)))
    np.testing.assert_array_equal(datasets.load_idx(path), labels)


GOOD = idx_bytes(np.arange(6, dtype=np.uint8).reshape(2, 3), 0x08)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (
            GOOD[:-1],
            r"truncated; the header says shape \(2, 3\) of uint8 \(18 bytes in all\) but the file has 17",
        ),
        (GOOD + b"\x00", r"has trailing bytes"),
        (b"\x01" + GOOD[1:], r"must start with two zero bytes"),
        (GOOD[:2] + b"\x07" + GOOD[3:], r"unknown type code 0x07"),
        (GOOD[:3] + b"\x00" + GOOD[4:], r"zero dimensions"),
        (GOOD[:6], r"Truncated IDX header.*2 dimensions need 12 header bytes"),
        (b"\x00\x00", r"no complete header"),
        (gzip.compress(GOOD)[:-6], r"Corrupt gzip data"),
    ],
    ids=["truncated", "trailing", "magic", "type", "ndim", "header", "tiny", "gzip"],
)
def test_load_idx_rejects_corrupt_files_naming_them(tmp_path, content, match):
    path = tmp_path / "broken-idx2-ubyte"
    path.write_bytes(content)
    with pytest.raises(DatasetError, match=match) as info:
        datasets.load_idx(path)
    assert "broken-idx2-ubyte" in str(info.value)
    assert isinstance(info.value, OSError)


def test_load_idx_missing_file_and_bad_argument(tmp_path):
    with pytest.raises(DatasetError, match="IDX file not found: .*nothing-here"):
        datasets.load_idx(tmp_path / "nothing-here")
    with pytest.raises(TypeError, match=r"`path` must be a path .*Received: path=3"):
        datasets.load_idx(3)


# --------------------------------------------------------------------------- issue 15, item 10


def test_load_idx_refuses_more_dimensions_than_numpy_has(tmp_path):
    path = tmp_path / "deep-idx65"
    path.write_bytes(bytes([0, 0, 0x08, 65]) + (1).to_bytes(4, "big") * 65 + b"\x07")
    with pytest.raises(DatasetError, match=r"65 dimensions; allowed: 1 to 64") as info:
        datasets.load_idx(path)
    assert str(path) in str(info.value)


def test_load_idx_refuses_a_nul_in_the_path(tmp_path):
    from kerastools.errors import ConfigError

    with pytest.raises(ConfigError, match="`path` must not contain a NUL"):
        datasets.load_idx(str(tmp_path / "data\0-idx1"))


def test_load_idx_refuses_a_fifo_instead_of_hanging(tmp_path):
    import os
    import threading

    fifo = tmp_path / "labels-idx1-ubyte"
    os.mkfifo(fifo)

    def unblock():  # a reader blocked on the FIFO (the bug) gets a writer, then EOF
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass  # no reader waiting: load_idx did not block

    timer = threading.Timer(5.0, unblock)
    timer.start()
    try:
        with pytest.raises(DatasetError, match="not a regular file") as info:
            datasets.load_idx(fifo)
    finally:
        timer.cancel()
    assert str(fifo) in str(info.value)


def test_load_idx_refuses_a_gzip_bomb_before_decompressing_it(tmp_path):
    import tracemalloc

    path = tmp_path / "bomb-idx1-ubyte.gz"
    content = bytes([0, 0, 0x08, 1]) + (64 << 20).to_bytes(4, "big") + bytes(64 << 20)
    path.write_bytes(gzip.compress(content, compresslevel=1))  # 64 MiB in about 300 KB
    tracemalloc.start()
    try:
        with pytest.raises(DatasetError, match=r"gzip header declares 67108872 bytes.*max_bytes=1048576"):
            datasets.load_idx(path, max_bytes=1 << 20)
        # The gzip trailer lies (it says 8 bytes): the IDX header's size is refused before its data.
        lying = bytearray(path.read_bytes())
        lying[-4:] = (8).to_bytes(4, "little")
        path.write_bytes(bytes(lying))
        with pytest.raises(DatasetError, match=r"its header declares 67108872 bytes.*max_bytes=1048576"):
            datasets.load_idx(path, max_bytes=1 << 20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"peak {peak} bytes: the content was decompressed whole"


def test_load_idx_refuses_a_plain_file_above_max_bytes_and_reads_one_at_it(tmp_path):
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(bytes([0, 0, 0x08, 1]) + (3).to_bytes(4, "big") + bytes([7, 2, 1]))
    with pytest.raises(DatasetError, match=r"it has 11 bytes, more than max_bytes=10"):
        datasets.load_idx(path, max_bytes=10)
    assert datasets.load_idx(path, max_bytes=11).tolist() == [7, 2, 1]


# --------------------------------------------------------------------------- issue 23


def test_load_idx_refuses_trailing_data_reading_one_byte_past_the_declared_size(tmp_path):
    """A small gzip whose IDX header declares 1 byte but which inflates to 256 MiB: refused as
    trailing data after one byte more, with peak memory nowhere near what it inflates to."""
    import tracemalloc

    declared = bytes([0, 0, 0x08, 1]) + (1).to_bytes(4, "big") + b"\x07"
    # gzip members read as one stream: 16 members of 16 MiB of zeros, 256 MiB in about 260 KB.
    zeros = gzip.compress(bytes(16 << 20), compresslevel=9)
    path = tmp_path / "bomb-idx1-ubyte"
    path.write_bytes(gzip.compress(declared) + zeros * 16)
    assert path.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        with pytest.raises(DatasetError, match=r"has trailing bytes; .*\(9 bytes in all\)") as info:
            datasets.load_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(path) in str(info.value)
    assert peak < 1 << 20, f"peak {peak} bytes for a file that declares 9: the trailing data was read"
    # The same file without the trailing zeros loads.
    path.write_bytes(gzip.compress(declared))
    assert datasets.load_idx(path).tolist() == [7]


def test_load_idx_refuses_a_header_larger_than_max_bytes_before_reading_its_data(tmp_path):
    path = tmp_path / "huge-idx1-ubyte"
    path.write_bytes(gzip.compress(bytes([0, 0, 0x08, 1]) + (1 << 30).to_bytes(4, "big")))
    with pytest.raises(DatasetError, match=r"its header declares 1073741832 bytes.*max_bytes=1048576"):
        datasets.load_idx(path, max_bytes=1 << 20)
