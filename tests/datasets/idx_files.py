"""Bytes of IDX files for the tests: the header format `load_idx` checks, written by hand."""

from __future__ import annotations

import numpy as np


def idx_bytes(array: np.ndarray, type_code: int) -> bytes:
    header = bytes([0, 0, type_code, array.ndim]) + b"".join(
        d.to_bytes(4, "big") for d in array.shape
    )
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()
