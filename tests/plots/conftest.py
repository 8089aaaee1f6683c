"""Models the plot tests draw: a small trained MLP and an untrained CNN."""

from __future__ import annotations

import pytest

import kerastools as kt


@pytest.fixture
def mlp(squares_data):
    model = kt.compile(kt.build_mlp(2, [6, 5]))
    model.fit(*squares_data, epochs=1, batch_size=64, verbose=0)
    return model


@pytest.fixture
def cnn():
    return kt.build_cnn((12, 12, 1), [(4, 3), (6, 3)], dense=[8])
