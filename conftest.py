"""Doctest namespace: docstring examples can use these names without imports."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERASTOOLS_LIVEPLOT", "off")

import gc  # noqa: E402
from functools import cache  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

# Scripts that are run, not imported: --doctest-modules would import (and run) them.
collect_ignore_glob = ["tests/browser/*", "tests/gpu/*", "tests/*_worker.py", "tests/checkpoints/fixtures/*", "examples/*", "benchmarks/*"]


@cache
def _starts_interpreters(path: str) -> bool:
    """Whether a test file runs child interpreters (each pays Python's and the backend's start-up)."""
    return path.endswith(".py") and "subprocess" in Path(path).read_text(encoding="utf-8")


# The longest file by far: every example script, each in a process forked from one that imported
# TensorFlow once (tests/example_worker.py).
LONGEST = Path(__file__).parent / "tests" / "test_examples.py"


def pytest_collection_modifyitems(items):
    # The files whose tests start child interpreters are the long ones: run them first, the
    # longest first, so that `-n 2` (make test) ends on short files instead of one worker
    # waiting for a long one. A stable sort: each file's tests stay together and in their order.
    items.sort(key=lambda item: (item.path != LONGEST, not _starts_interpreters(str(item.path))))


def pytest_runtest_teardown(item, nextitem):
    # What a test leaves is frozen (`gc.freeze`), not collected by later tests' collections: in a
    # test process that has trained hundreds of models, each full collection walked every earlier
    # test's objects and freed their backend objects, and one took up to a minute of some later
    # test. Within a test the collector works as for users (the tests that free figures, locks
    # and sessions collect what they made).
    gc.freeze()


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
    doctest_namespace.update(kerastools=kerastools, kt=kerastools, keras=keras, np=np, x=x, y=y, tmp_path=tmp_path)
    # The compiled model only for the examples that name it (30 ms each, 357 doctests).
    if any("model" in example.source for example in request.node.dtest.examples):
        doctest_namespace["model"] = kerastools.compile(kerastools.build_mlp(2, [8]), optimizer="rmsprop")
    else:
        doctest_namespace.pop("model", None)
