"""Doctest namespace: docstring examples can use these names without imports."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERASTOOLS_LIVEPLOT", "off")

import pytest  # noqa: E402

# Scripts that are run, not imported: --doctest-modules would import (and run) them.
collect_ignore_glob = ["tests/browser/*", "tests/gpu/*", "tests/*_worker.py", "tests/checkpoints/fixtures/*", "examples/*", "benchmarks/*"]


@pytest.fixture(autouse=True)
def _doctest_namespace(request):
    # Only doctests get the namespace; requesting it lazily keeps `-p no:doctest` working.
    if type(request.node).__name__ != "DoctestItem":
        return
    doctest_namespace = request.getfixturevalue("doctest_namespace")
    tmp_path = request.getfixturevalue("tmp_path")
    import keras
    import numpy as np

    import kerastools

    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    y = (x[:, :1] ** 2 + x[:, 1:] ** 2).astype("float32")
    model = kerastools.compile(kerastools.build_mlp(2, [8]), optimizer="rmsprop")
    doctest_namespace.update(
        kerastools=kerastools, kt=kerastools, keras=keras, np=np, x=x, y=y, model=model, tmp_path=tmp_path
    )
