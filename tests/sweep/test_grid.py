"""Trial generation: random mode draws distinct combinations, reproducibly."""

from __future__ import annotations

import numpy as np

from kerastools.sweep import grid as sweep_grid


def test_random_mode_draws_distinct_combinations_reproducibly():
    grid = {"a": [1, 2, 3], "b": ["x", "y"], "c": [0.1, 0.2]}
    first = sweep_grid._combinations(grid, "random", 5, np.random.default_rng(3))
    again = sweep_grid._combinations(grid, "random", 5, np.random.default_rng(3))
    assert first == again and len(first) == 5
    assert len({tuple(combo.values()) for combo in first}) == 5
    every = sweep_grid._combinations(grid, "random", 12, np.random.default_rng(0))
    assert sorted(tuple(c.values()) for c in every) == sorted(
        tuple(c.values())
        for c in sweep_grid._combinations(grid, "grid", None, np.random.default_rng(0))
    )
