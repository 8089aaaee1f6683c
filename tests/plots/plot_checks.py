"""What every rendered figure must satisfy: a real PNG, written atomically."""

from __future__ import annotations

from kerastools import plots

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def render(fig, tmp_path, name="figure.png"):
    """Save through save_figure (atomic) and check a real PNG came out."""
    path = plots.save_figure(fig, tmp_path / name)
    content = (tmp_path / name).read_bytes()
    assert content.startswith(PNG_MAGIC) and len(content) > 1000
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # no temporary left
    return path
