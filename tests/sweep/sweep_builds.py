"""The build function the sweep tests train: a one-hidden-layer MLP, compiled."""

from __future__ import annotations

import kerastools as kt


def build(units=4, lr=1e-2, optimizer="adam"):
    return kt.compile(kt.build_mlp(2, [units]), optimizer=optimizer, learning_rate=lr)
