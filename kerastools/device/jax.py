"""The JAX side of `kerastools.device` (split out further by the reshape)."""

from __future__ import annotations

__all__ = ["process_index"]


def process_index() -> int:
    """This process's index among the processes of a `jax.distributed` run."""
    import jax

    return int(jax.process_index())
