"""Generated bad input: every public entry point answers with a kerastools error naming the argument.

For each entry point there is a dict of VALID keyword arguments and, per
argument, a hypothesis strategy of values that are invalid whatever the other
arguments are. Hypothesis corrupts one argument (sometimes two or three) of the
valid dict; the call must raise a `KerastoolsError` that is also the matching
builtin (ValueError, TypeError, OSError or RuntimeError) and whose message
names one of the corrupted arguments. A raw TypeError/KeyError/IndexError from
deep inside Keras or numpy fails the test.

Nothing here builds a model for a rejected call: `sweep` gets a `build` that
fails the test if it is ever called, `device.configure` gets planners that fail
the test if they are ever reached (so a bad argument changes no device state),
and `compile` and `load_checkpoint` share one tiny model per module.

Counts of examples tried and passed are printed by the last test (run with
`-s` to see them, or read the line in the `-ra` summary).
"""

from __future__ import annotations

import collections
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kerastools as kt
import kerastools.device.backend
from kerastools import builders, optimization
from kerastools.errors import KerastoolsError

NAN, INF = float("nan"), float("inf")
BUILTINS = (ValueError, TypeError, OSError, RuntimeError)

# (entry point, "tried" | "passed") -> count; the last test prints them.
COUNTS: collections.Counter[tuple[str, str]] = collections.Counter()

COMMON = {
    "deadline": None,
    "database": None,  # no .hypothesis/ directory in the working tree
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "derandomize": True,  # the same examples on every run and in CI
}


# --------------------------------------------------------------------------- checking


def names_argument(message: str, name: str) -> bool:
    """`name` appears as a word in `message` (`hidden` matches `hidden[1]` and `` `hidden` ``)."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", message) is not None


def expect_rejected(entry: str, call: Callable[..., Any], case: tuple[dict[str, Any], list[str]]) -> None:
    kwargs, corrupted = case
    COUNTS[entry, "tried"] += 1
    with pytest.raises(KerastoolsError) as caught:
        call(**kwargs)
    error = caught.value
    assert isinstance(error, BUILTINS), f"{type(error).__name__} is not also a builtin error"
    message = str(error)
    assert any(names_argument(message, name) for name in corrupted), (
        f"the message does not name any of {corrupted}: {message}"
    )
    COUNTS[entry, "passed"] += 1


@st.composite
def corrupted(draw: Any, valid: Mapping[str, Any], bad: Mapping[str, st.SearchStrategy[Any]]):
    """`valid` with one to three arguments replaced by invalid values; returns (kwargs, names)."""
    count = draw(st.sampled_from([1, 1, 1, 1, 2, 3]))
    names = draw(
        st.lists(st.sampled_from(sorted(bad)), min_size=1, max_size=min(count, len(bad)), unique=True)
    )
    kwargs = dict(valid)
    for name in names:
        kwargs[name] = draw(bad[name])
    return kwargs, names


# --------------------------------------------------------------------------- strategies

OTHER_OBJECTS = st.sampled_from([[1], (1,), {"a": 1}, b"1", object(), {1, 2}])


def bad_int(low: int, high: int | None = None, *, none_ok: bool = False) -> st.SearchStrategy[Any]:
    """Not an int in [low, high]: out of range, a float (even 3.0), a bool, a string, a list."""
    options = [
        st.integers(min_value=low - 10**6, max_value=low - 1),
        st.floats(),  # check_int refuses floats, NaN and inf included
        st.booleans(),
        st.text(max_size=4),
        OTHER_OBJECTS,
    ]
    if high is not None:
        options.append(st.integers(min_value=high + 1, max_value=high + 10**6))
    if not none_ok:
        options.append(st.none())
    return st.one_of(options)


def bad_float(
    low: float | None = None,
    high: float | None = None,
    *,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    none_ok: bool = False,
) -> st.SearchStrategy[Any]:
    """Not a finite number within the bounds: NaN, inf, out of range, wrong type."""
    options = [
        st.sampled_from([NAN, INF, -INF]),
        st.booleans(),
        st.text(max_size=4),
        OTHER_OBJECTS,
    ]
    if low is not None:
        options.append(
            st.floats(max_value=low, allow_nan=False).filter(
                lambda v: v < low or (v == low and not low_inclusive)
            )
        )
        options.append(st.integers(max_value=math.floor(low) - 1, min_value=-(10**6)))
    if high is not None:
        options.append(
            st.floats(min_value=high, allow_nan=False).filter(
                lambda v: v > high or (v == high and not high_inclusive)
            )
        )
    if not none_ok:
        options.append(st.none())
    return st.one_of(options)


def bad_bool(*, none_ok: bool = False) -> st.SearchStrategy[Any]:
    options = [st.integers(), st.floats(), st.text(max_size=5), OTHER_OBJECTS]
    if not none_ok:
        options.append(st.none())
    return st.one_of(options)


def bad_choice(allowed: list[str], *, case_sensitive: bool = False, none_ok: bool = False):
    """A string that is not one of `allowed` (compared as the function compares), or no string."""
    normalise = (lambda s: s) if case_sensitive else str.lower
    options = [
        st.text(max_size=12).filter(lambda s: normalise(s) not in allowed),
        st.sampled_from([s + "x" for s in allowed] + [s.replace("_", "-") + "!" for s in allowed]),
        st.integers(),
        st.floats(),
        OTHER_OBJECTS,
    ]
    if not none_ok:
        options.append(st.none())
    return st.one_of(options)


def bad_name(*, none_ok: bool = True) -> st.SearchStrategy[Any]:
    """Not a non-empty string."""
    options = [st.just(""), st.integers(), st.floats(), st.binary(min_size=1, max_size=3), OTHER_OBJECTS]
    if not none_ok:
        options.append(st.none())
    return st.one_of(options)


def bad_path() -> st.SearchStrategy[Any]:
    return st.one_of(st.just(""), st.none(), st.integers(), st.floats(), st.binary(max_size=3), OTHER_OBJECTS)


ACTIVATIONS = builders._activation_names()
BAD_ACTIVATION = bad_choice(ACTIVATIONS, case_sensitive=True)
BAD_ACTIVATION_OR_NONE = bad_choice(ACTIVATIONS, case_sensitive=True, none_ok=True)

BAD_REGULARIZERS = st.one_of(
    st.sampled_from(
        [
            "l2",
            [("l2", 1e-3)],
            {"hidden": "l2"},
            {"hidden": ("l3", 1e-3)},
            {"hidden": ("l2",)},
            {"hidden": ("l1_l2", 1e-3)},
            {"hidden": ("l2", 1e-3, 1e-3)},
            {"hidden": ("l2", "1e-3")},
            {"dense": ("l2", 1e-3)},  # neither a group nor a layer name
            {"conv_9": ("l2", 1e-3)},
            {3: ("l2", 1e-3)},
            {"output": 0.01},
        ]
    ),
    bad_float(low=0.0).map(lambda factor: {"hidden": ("l2", factor)}),
    bad_float(low=0.0).map(lambda factor: {"all": ("l1_l2", 1e-3, factor)}),
)


def list_with_one_bad(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]):
    """A list of zero to two good items with one bad item somewhere."""
    return st.tuples(st.lists(good, max_size=2), bad, st.integers(0, 2)).map(
        lambda t: t[0][: t[2]] + [t[1]] + t[0][t[2]:]
    )


# --------------------------------------------------------------------------- builders

MLP_VALID = {
    "input_shape": 2,
    "hidden": [4],
    "activation": "relu",
    "output_units": 1,
    "output_activation": None,
    "dropout": 0.0,
    "regularizers": None,
    "name": "mlp",
}
BAD_SHAPE = st.one_of(
    st.integers(max_value=0),
    st.just(()),
    st.just([]),
    st.lists(st.integers(max_value=0), min_size=1, max_size=3).map(tuple),
    st.tuples(st.integers(1, 8), st.integers(max_value=0)),
    st.tuples(st.integers(1, 8), st.floats()),
    st.floats(),
    st.text(max_size=3),
    st.none(),
    st.booleans(),
    st.just((True, 2)),
    st.just({"a": 2}),
)
MLP_BAD = {
    "input_shape": BAD_SHAPE,
    "hidden": st.one_of(
        st.integers(),
        st.none(),
        st.text(max_size=3),
        st.just({"a": 4}),
        list_with_one_bad(st.integers(1, 8), bad_int(low=1)),
    ),
    "activation": st.one_of(
        BAD_ACTIVATION,
        st.just([]),  # one hidden layer: one activation or a list of exactly one
        st.lists(st.sampled_from(["relu", "tanh"]), min_size=2, max_size=4),
        st.lists(BAD_ACTIVATION, min_size=1, max_size=1),
    ),
    "output_units": bad_int(low=1),
    "output_activation": BAD_ACTIVATION_OR_NONE,
    "dropout": st.one_of(
        bad_float(low=0.0, high=1.0, high_inclusive=False),
        st.lists(st.floats(0.0, 0.5), min_size=2, max_size=3),
        st.just([]),
        st.lists(bad_float(low=0.0, high=1.0, high_inclusive=False), min_size=1, max_size=1),
    ),
    "regularizers": BAD_REGULARIZERS,
    "name": bad_name(),
}


@settings(max_examples=45, **COMMON)
@given(case=corrupted(MLP_VALID, MLP_BAD))
def test_build_mlp_rejects_bad_arguments(case):
    expect_rejected("build_mlp", kt.build_mlp, case)


# Two 3x3 convs with a 2x2 pool between: an input needs at least 8x8 pixels.
CNN_VALID = {
    "input_shape": (8, 8, 1),
    "conv": [(2, 3), (2, 3)],
    "pool": None,
    "dense": [4],
    "output_units": 3,
    "output_activation": "softmax",
    "dropout": 0.0,
    "regularizers": None,
    "name": "cnn",
}
BAD_CONV_SPEC = st.one_of(
    st.sampled_from(
        [
            (0, 3),
            (2, 0),
            (2,),
            (2, 3, "relu", 1),
            (2, 3, "nope"),
            (2.5, 3),
            ("2", 3),
            (2, (3, 3, 3)),
            (2, (3, 0)),
            (True, 3),
            {"filters": 2},
            {"kernel_size": 3},
            {"filters": 2, "kernel_size": 3, "stride": 1},
            {"filters": 2, "kernel_size": 3, "padding": "full"},
            {"filters": 2, "kernel_size": 3, "strides": 0},
            None,
            "conv",
            3,
        ]
    ),
    st.tuples(bad_int(low=1), st.integers(1, 3)),
)
CNN_BAD = {
    "input_shape": st.one_of(
        BAD_SHAPE,
        st.lists(st.integers(1, 32), min_size=1, max_size=5).filter(lambda s: len(s) != 3).map(tuple),
        # Three dimensions, but too small for two 3x3 convs and a 2x2 pool.
        st.tuples(st.integers(1, 7), st.integers(1, 32), st.integers(1, 3)),
        st.tuples(st.integers(8, 32), st.integers(1, 7), st.integers(1, 3)),
    ),
    "conv": st.one_of(
        st.just([]),
        st.just(()),
        st.text(max_size=3),
        st.integers(),
        st.none(),
        st.just({"filters": 2, "kernel_size": 3}),
        list_with_one_bad(st.just((2, 3)), BAD_CONV_SPEC),
    ),
    "pool": st.one_of(
        st.just([]),  # one gap between two convs: exactly one entry
        st.lists(st.none(), min_size=2, max_size=4),
        st.sampled_from([[0], [(2,)], ["2"], [-1], [2.5], [(2, 0)], [True], 2, "2", {"a": 2}]),
        st.integers(3, 64).map(lambda size: [size]),  # larger than the 6x6 map after conv_1... or leaves too little
    ),
    "dense": st.one_of(
        st.text(min_size=1, max_size=3),
        st.integers(),
        st.just({"a": 4}),
        list_with_one_bad(
            st.integers(1, 8),
            st.sampled_from([0, -1, (4, "nope"), (4,), 2.5, "4", None, (0, "relu"), (4, "relu", 1)]),
        ),
    ),
    "output_units": bad_int(low=1),
    "output_activation": BAD_ACTIVATION_OR_NONE,
    "dropout": bad_float(low=0.0, high=1.0, high_inclusive=False),
    "regularizers": BAD_REGULARIZERS,
    "name": bad_name(),
}


@settings(max_examples=45, **COMMON)
@given(case=corrupted(CNN_VALID, CNN_BAD))
def test_build_cnn_rejects_bad_arguments(case):
    expect_rejected("build_cnn", kt.build_cnn, case)


# --------------------------------------------------------------------------- compile


@pytest.fixture(scope="module")
def tiny_model():
    """One 2-4-1 MLP for every compile and load_checkpoint example; never compiled by them."""
    return kt.build_mlp(2, [4])


def not_a_loss(value: Any) -> bool:
    try:
        keras.losses.get(value)
    except (ValueError, TypeError):
        return isinstance(value, str) and value.lower() not in ("crossentropy", "ce", "auto")
    return False


COMPILE_BAD = {
    "model": st.one_of(
        st.none(), st.text(max_size=3), st.integers(), st.just(keras.layers.Dense(1)), OTHER_OBJECTS
    ),
    "optimizer": bad_choice(list(optimization.OPTIMIZERS)),
    "learning_rate": bad_float(low=0.0, low_inclusive=False),
    "schedule": bad_choice(["inverse_time", "powersched", "exponential"], none_ok=True),
    "decay_steps": bad_float(low=0.0, low_inclusive=False),
    "decay_rate": bad_float(low=0.0),
    "staircase": bad_bool(),
    "steps_per_epoch": bad_int(low=1, none_ok=True),
    "momentum": bad_float(low=0.0, high=1.0, high_inclusive=False, none_ok=True),
    "loss": st.one_of(
        st.sampled_from(["mse_typo", "binary_crossentropyy", "categorical", "", "l2", "accuracy "]),
        st.text(min_size=1, max_size=8).filter(not_a_loss),
        st.integers(),
        st.floats(),
    ),
    "metrics": st.one_of(
        st.just("accuracy"),  # a string, not a list
        st.integers(),
        st.sampled_from([["nope"], ["accuracy", "precisionn"], [5], ["mae", 2.5]]),
    ),
    # Typos and fit() arguments passed to compile: names kerastools.compile
    # and keras.Model.compile do not take.
    **{
        typo: st.one_of(st.integers(), st.floats(), st.text(max_size=3))
        for typo in ("lerning_rate", "optimiser", "epochs", "batch_size", "moment", "decay")
    },
}


@settings(max_examples=45, **COMMON)
@given(data=st.data())
def test_compile_rejects_bad_arguments(tiny_model, data):
    valid = {
        "model": tiny_model,
        "optimizer": "adam",
        "learning_rate": 0.01,
        "schedule": None,
        "decay_steps": 1,
        "decay_rate": 1e-3,
        "staircase": False,
        "steps_per_epoch": None,
        "momentum": None,
        "loss": "auto",
        "metrics": None,
    }
    expect_rejected("compile", kt.compile, data.draw(corrupted(valid, COMPILE_BAD)))
    assert getattr(tiny_model, "optimizer", None) is None, "a rejected compile call compiled the model"


# --------------------------------------------------------------------------- callbacks

LR_LOGGER_VALID = {"per": "epoch", "key": "learning_rate", "verbose": 0}
LR_LOGGER_BAD = {
    "per": bad_choice(["epoch", "batch"]),
    "key": st.one_of(bad_name(none_ok=False), st.just("iterations")),
    "verbose": bad_int(low=0),
}


@settings(max_examples=20, **COMMON)
@given(case=corrupted(LR_LOGGER_VALID, LR_LOGGER_BAD))
def test_learning_rate_logger_rejects_bad_arguments(case):
    expect_rejected("LearningRateLogger", kt.callbacks.LearningRateLogger, case)


STOPPING_VALID = {
    "monitor": "val_accuracy",
    "threshold": 0.9,
    "min_delta": 0.0,
    "patience": 1,
    "mode": "auto",
    "divergence_threshold": None,
    "check_finite": True,
    "start_from_epoch": 0,
    "restore_best_weights": False,
    "verbose": 0,
}
STOPPING_BAD = {
    # A name whose direction cannot be inferred is an error with mode="auto".
    "monitor": st.one_of(
        bad_name(none_ok=False), st.sampled_from(["score", "val_thing", "loss_accuracy"])
    ),
    "threshold": bad_float(none_ok=True),
    "min_delta": bad_float(low=0.0),
    "patience": bad_int(low=0),
    "mode": bad_choice(["auto", "min", "max"]),
    # Maximising val_accuracy towards 0.9: a divergence bound at or above it is a contradiction.
    "divergence_threshold": st.one_of(bad_float(none_ok=True), st.floats(min_value=0.9, max_value=1e9)),
    "check_finite": bad_bool(),
    "start_from_epoch": bad_int(low=0),
    "restore_best_weights": bad_bool(),
    "verbose": bad_int(low=0),
}


@settings(max_examples=35, **COMMON)
@given(case=corrupted(STOPPING_VALID, STOPPING_BAD))
def test_threshold_early_stopping_rejects_bad_arguments(case):
    expect_rejected("ThresholdEarlyStopping", kt.callbacks.ThresholdEarlyStopping, case)


CHECKPOINT_BAD = {
    "directory": bad_path(),
    "every_epochs": st.one_of(bad_int(low=1, none_ok=True), st.none()),  # None without every_steps
    "every_steps": bad_int(low=1, none_ok=True),
    "keep_last": bad_int(low=1, none_ok=True),
    # Not a name whatever `mode` is (a name like "score" is valid with mode="min").
    "save_best": bad_name(none_ok=True),
    "mode": st.one_of(bad_choice(["auto", "min", "max"]), st.sampled_from(["min", "max"])),  # no save_best
    "include_optimizer": bad_bool(),
    "verbose": bad_int(low=0),
    "save_format": bad_choice(["weights", "keras"]),
}


@settings(max_examples=35, **COMMON)
@given(data=st.data())
def test_periodic_checkpoint_rejects_bad_arguments(tmp_path_factory, data):
    directory = tmp_path_factory.getbasetemp() / "never-created"
    valid = {
        "directory": directory,
        "every_epochs": 1,
        "every_steps": None,
        "keep_last": None,
        "save_best": None,
        "mode": "auto",
        "include_optimizer": True,
        "verbose": 0,
        "save_format": "weights",
    }
    expect_rejected("PeriodicCheckpoint", kt.callbacks.PeriodicCheckpoint, data.draw(corrupted(valid, CHECKPOINT_BAD)))
    assert not directory.exists(), "a rejected PeriodicCheckpoint created its directory"


LIVE_PLOT_VALID = {
    "metrics": None,
    "targets": None,
    "show_lr": True,
    "log_loss": False,
    "path": None,
    "mode": "off",
    "min_interval_s": 0.5,
    "figsize": (10, 3.5),
    "dpi": 80,
    "max_points": 2000,
    "per_batch": False,
}
LIVE_PLOT_BAD = {
    "metrics": st.one_of(
        st.text(max_size=5),
        st.integers(),
        st.sampled_from([[""], [3], ["accuracy", None], ["learning_rate"], {"accuracy": 1}]),
    ),
    "targets": st.one_of(
        st.sampled_from([[0.9], "loss", 0.9, {"": 1.0}, {3: 1.0}, {"loss": "low"}, {"loss": None}]),
        bad_float().map(lambda value: {"val_loss": value}),
    ),
    "show_lr": bad_bool(),
    "log_loss": bad_bool(),
    "path": st.one_of(st.just(""), st.integers(), st.floats(), st.binary(max_size=3), OTHER_OBJECTS),
    "mode": bad_choice(["auto", "notebook", "widget", "file", "off"]),
    "min_interval_s": bad_float(low=0.0),
    "figsize": st.one_of(
        st.sampled_from([(10,), (10, 3, 1), "10x3", 10, None, []]),
        st.tuples(bad_float(low=0.5, high=100.0), st.just(3.5)),
        st.tuples(st.just(10.0), bad_float(low=0.5, high=100.0)),
    ),
    "dpi": bad_int(low=10, high=1000),
    "max_points": bad_int(low=10),
    "per_batch": bad_bool(),
}


@settings(max_examples=45, **COMMON)
@given(case=corrupted(LIVE_PLOT_VALID, LIVE_PLOT_BAD))
def test_live_plot_rejects_bad_arguments(case):
    expect_rejected("LivePlot", kt.callbacks.LivePlot, case)


STANDARD_BAD = {
    "checkpoint_dir": bad_path().filter(lambda value: value is not None),  # None: no checkpoints
    "plot_mode": bad_choice(["auto", "notebook", "widget", "file", "off"]),
    "mode": bad_choice(["auto", "min", "max"]),
    "stop_at": st.one_of(
        st.sampled_from(
            [[("val_loss", 0.1)], "val_loss", 0.1, {}, {"val_loss": 0.1, "loss": 0.1}, {"": 0.1}, {3: 0.1}]
        ),
        bad_float().map(lambda target: {"val_loss": target}),
    ),
    "patience": bad_int(low=0),
    "restore_best_weights": bad_bool(),
    "keep_last": bad_int(low=1, none_ok=True),
    "plot": bad_bool(),
    "verbose": bad_int(low=0),
    "save_format": bad_choice(["weights", "keras"]),
}


@settings(max_examples=30, **COMMON)
@given(data=st.data())
def test_standard_callbacks_reject_bad_arguments(tmp_path_factory, data):
    directory = tmp_path_factory.getbasetemp() / "standard-never-created"
    valid = {
        # Every callback is created, so every argument is checked.
        "checkpoint_dir": directory,
        "stop_at": {"val_loss": 0.1},
        "patience": 1,
        "restore_best_weights": False,
        "keep_last": 3,
        "plot": True,
        "plot_mode": "off",
        "plot_path": None,
        "mode": "auto",
        "verbose": 0,
        "save_format": "weights",
    }
    expect_rejected("callbacks.standard", kt.callbacks.standard, data.draw(corrupted(valid, STANDARD_BAD)))
    assert not directory.exists()


# --------------------------------------------------------------------------- device


CONFIGURE_BAD = {
    "gpus": st.one_of(
        st.text(max_size=5).filter(lambda s: s.lower() not in ("all", "none")),
        st.integers(max_value=-1),
        st.floats(),
        st.booleans(),
        st.just([]),
        st.lists(st.integers(0, 3), min_size=1, max_size=3).map(lambda g: g + g[:1]),  # a GPU twice
        list_with_one_bad(st.integers(0, 3), st.one_of(st.integers(max_value=-1), st.floats(), st.text(max_size=2))),
        st.just({"gpu": 0}),
    ),
    "memory_growth": bad_bool(none_ok=True),
    "memory_limit_mb": bad_int(low=1, none_ok=True),
    "logical_cpus": bad_int(low=1, none_ok=True),
    "intra_op_threads": bad_int(low=0, none_ok=True),
    "inter_op_threads": bad_int(low=0, none_ok=True),
    "soft_placement": bad_bool(none_ok=True),
    "log_placement": bad_bool(none_ok=True),
    "mixed_precision": bad_choice(["mixed_float16", "mixed_bfloat16", "float32"], none_ok=True),
    "jit": bad_bool(none_ok=True),
}


@settings(max_examples=35, **COMMON)
@given(case=corrupted({}, CONFIGURE_BAD))
def test_device_configure_rejects_bad_arguments_before_touching_anything(case):
    def reached(*args, **kwargs):
        raise AssertionError("configure planned device changes for an invalid argument")

    policy = keras.config.dtype_policy().name
    with pytest.MonkeyPatch.context() as patch:
        # Picking the backend module is the first step that reads or changes
        # backend state: a bad argument must be refused before it happens.
        patch.setattr(kerastools.device.backend, "current", reached)
        expect_rejected("device.configure", kt.device.configure, case)
    assert keras.config.dtype_policy().name == policy


# --------------------------------------------------------------------------- datasets

SPLIT_N = 20
SPLIT_VALID = {
    "X": np.zeros((SPLIT_N, 2)),
    "y": np.zeros((SPLIT_N, 1)),
    "valid": None,
    "test": None,
    "seed": None,
    "shuffle": True,
}
SPLIT_BAD = {
    # X and y lengths never agree with each other when both are corrupted.
    "X": st.one_of(
        st.integers(), st.floats(), st.none(), st.text(max_size=3),
        st.just([[1.0, 2.0], [3.0]] + [[0.0, 0.0]] * (SPLIT_N - 2)),  # ragged rows
        st.integers(1, SPLIT_N - 1).map(lambda n: np.zeros((n, 2))),
        st.integers(SPLIT_N + 1, 2 * SPLIT_N).map(lambda n: np.zeros((n, 2))),
    ),
    "y": st.one_of(
        st.integers(), st.floats(), st.none(), st.just([]),
        st.integers(2 * SPLIT_N + 1, 3 * SPLIT_N).map(lambda n: list(range(n))),
    ),
    # A fraction in [0, 1) or a count in [0, n]; anything that leaves no training sample.
    "valid": st.one_of(
        bad_float(low=0.0, none_ok=True),
        st.floats(min_value=1.0, max_value=1e9),
        st.integers(SPLIT_N + 1, 10**6),
        st.integers(SPLIT_N - 1, SPLIT_N),  # with test's 10% (2 samples), nothing is left
        st.integers(max_value=-1),
    ),
    "test": st.one_of(
        bad_float(low=0.0, none_ok=True),
        st.floats(min_value=1.0, max_value=1e9),
        st.integers(SPLIT_N + 1, 10**6),
        st.floats(min_value=0.9, max_value=0.99),  # with valid's 10%, nothing is left
        st.integers(max_value=-1),
    ),
    "seed": bad_int(low=0, none_ok=True),
    "shuffle": bad_bool(),
}


@settings(max_examples=35, **COMMON)
@given(case=corrupted(SPLIT_VALID, SPLIT_BAD))
def test_datasets_split_rejects_bad_arguments(case):
    expect_rejected("datasets.split", kt.datasets.split, case)


# --------------------------------------------------------------------------- checkpoints


@pytest.fixture(scope="module")
def checkpoint_directory(tmp_path_factory):
    """A real checkpoint directory, so a validation gap would load instead of failing."""
    directory = tmp_path_factory.mktemp("bad-input-checkpoints")
    model = kt.compile(kt.build_mlp(2, [4]))
    x = np.zeros((8, 2), "float32")
    model.fit(x, x[:, :1], epochs=1, verbose=0, callbacks=[kt.callbacks.PeriodicCheckpoint(directory)])
    return directory


LOAD_BAD = {
    "model": st.one_of(
        st.none(), st.text(max_size=3), st.integers(), st.just(keras.layers.Dense(1)), OTHER_OBJECTS
    ),
    "directory": bad_path(),
    "which": st.one_of(
        st.text(max_size=8).filter(lambda s: s.lower() not in ("latest", "best")),
        st.integers(max_value=-1),
        st.floats(),
        st.booleans(),
        st.none(),
        st.sampled_from(
            [("avg", "loss"), ("min", ""), ("min",), ("min", "loss", 1), ["min", "loss"], ("min", 3), (1, "loss")]
        ),
    ),
    "include_optimizer": bad_bool(),
}


@settings(max_examples=30, **COMMON)
@given(data=st.data())
def test_load_checkpoint_rejects_bad_arguments(tiny_model, checkpoint_directory, data):
    valid = {
        "model": tiny_model,
        "directory": checkpoint_directory,
        "which": "latest",
        "include_optimizer": True,
    }
    before = [w.copy() for w in tiny_model.get_weights()]
    expect_rejected("load_checkpoint", kt.checkpoints.load_checkpoint, data.draw(corrupted(valid, LOAD_BAD)))
    for now, then in zip(tiny_model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(now, then)


def test_unbuilt_model_is_refused_by_load_checkpoint(checkpoint_directory):
    COUNTS["load_checkpoint", "tried"] += 1
    with pytest.raises(KerastoolsError, match="`model` must be built"):
        kt.checkpoints.load_checkpoint(keras.Sequential([keras.layers.Dense(1)]), checkpoint_directory)
    COUNTS["load_checkpoint", "passed"] += 1


# --------------------------------------------------------------------------- sweep


def never_build(units: int) -> keras.Model:
    raise AssertionError("sweep built a model for a call it should have refused")


SWEEP_X = np.zeros((16, 2), "float32")
SWEEP_Y = np.zeros((16, 1), "float32")
SWEEP_VALID = {
    "build": never_build,
    "grid": {"units": [2, 4]},
    "fit_kwargs": {"epochs": 1},
    "data": (SWEEP_X, SWEEP_Y),
    "mode": "grid",
    "n_trials": None,
    "seed": None,
    "callbacks": None,
    "verbose": 0,
}
SWEEP_BAD = {
    "build": st.one_of(
        st.none(), st.integers(), st.text(max_size=3),
        st.just(lambda width: None),  # does not take the grid key `units`
    ),
    "grid": st.one_of(
        st.sampled_from(
            [{}, [], None, "units", {"units": []}, {"units": "abc"}, {"units": 5}, {"units": {"a": 1}},
             {"2bad": [1]}, {"": [1]}, {3: [1]}, {"other": [1]}, {"units": [2], "extra": [1]}]
        ),
    ),
    "fit_kwargs": st.one_of(
        st.sampled_from(
            [[("epochs", 1)], "epochs=1", 5, {"x": SWEEP_X}, {"y": SWEEP_Y}, {"callbacks": []}]
        ),
        # Typos and arguments model.fit does not take.
        st.sampled_from(["epoch", "batchsize", "validation", "learning_rate", "lr"]).map(lambda k: {k: 1}),
    ),
    "data": st.one_of(
        st.sampled_from(
            [None, 5, 2.5, (SWEEP_X,), (SWEEP_X, SWEEP_Y, SWEEP_X), [SWEEP_X], "abc", b"abc", {"x": SWEEP_X}]
        ),
        # Inputs and targets of different lengths.
        st.integers(1, len(SWEEP_X) - 1).map(lambda n: (SWEEP_X[:n], SWEEP_Y)),
        st.integers(1, len(SWEEP_Y) - 1).map(lambda n: (SWEEP_X, SWEEP_Y[:n])),
    ),
    "mode": bad_choice(["grid", "random"]),
    "n_trials": st.one_of(st.integers(), st.floats(), st.text(max_size=2)),  # mode="grid" takes none
    "seed": bad_int(low=0, none_ok=True),
    "callbacks": st.sampled_from([5, "cb", [5], [keras.callbacks.History(), "cb"], {"cb": 1}]),
    "verbose": bad_int(low=0),
}


@settings(max_examples=35, **COMMON)
@given(case=corrupted(SWEEP_VALID, SWEEP_BAD))
def test_sweep_rejects_bad_arguments_before_building_a_model(case):
    expect_rejected("sweep", kt.sweep.sweep, case)


# --------------------------------------------------------------------------- found and fixed

# Inputs the generated tests found escaping as raw Keras or numpy errors (or
# accepted until `fit`), now fixed; kept as fixed cases so they stay fixed
# whatever hypothesis happens to draw.
FIXED_GAPS = [
    pytest.param("compile", lambda m: kt.compile(m, loss="mse_typo"), "loss", id="compile-unknown-loss"),
    pytest.param("compile", lambda m: kt.compile(m, loss=5), "loss", id="compile-loss-int"),
    pytest.param("compile", lambda m: kt.compile(m, metrics=["nope"]), "metrics", id="compile-unknown-metric"),
    pytest.param("compile", lambda m: kt.compile(m, lerning_rate=0.1), "lerning_rate", id="compile-typo"),
    pytest.param("compile", lambda m: kt.compile(m, epochs=5), "epochs", id="compile-fit-argument"),
    pytest.param(
        "build_cnn", lambda m: kt.build_cnn((4, 4, 1), [(2, 3), (2, 3)]), "input_shape", id="cnn-input-too-small"
    ),
    pytest.param(
        "build_cnn", lambda m: kt.build_cnn((8, 8, 1), [(2, 3), (2, 3)], pool=[9]), "pool", id="cnn-pool-too-big"
    ),
    pytest.param("datasets.split", lambda m: kt.datasets.split([[1, 2], [3]], [0, 1]), "X", id="split-ragged-X"),
    pytest.param("sweep", lambda m: kt.sweep.sweep(never_build, {"units": [2]}, data="abc"), "data", id="sweep-data-str"),
    pytest.param(
        "sweep", lambda m: kt.sweep.sweep(never_build, {"units": [2]}, data={"x": SWEEP_X}), "data", id="sweep-data-dict"
    ),
    pytest.param(
        "sweep",
        lambda m: kt.sweep.sweep(never_build, {"units": [2]}, data=(SWEEP_X[:10], SWEEP_Y)),
        "data",
        id="sweep-data-mismatched-lengths",
    ),
    pytest.param(
        "sweep",
        lambda m: kt.sweep.sweep(never_build, {"units": [2]}, data=(SWEEP_X, SWEEP_Y), fit_kwargs={"epoch": 1}),
        "fit_kwargs",
        id="sweep-fit-kwargs-typo",
    ),
    pytest.param(
        "PeriodicCheckpoint",
        lambda m: kt.callbacks.PeriodicCheckpoint("unused", save_best="score"),
        "save_best",
        id="checkpoint-save-best-ambiguous",
    ),
]


@pytest.mark.parametrize(("entry", "call", "argument"), FIXED_GAPS)
def test_gap_found_by_generation_stays_fixed(tiny_model, entry, call, argument):
    expect_rejected(entry, lambda: call(tiny_model), ({}, [argument]))
    assert getattr(tiny_model, "optimizer", None) is None


# --------------------------------------------------------------------------- standard() gaps

# Found by the generated tests: standard() named its inner callbacks' arguments
# (or accepted bad values for callbacks it did not create). Fixed; kept as
# regression cases.
STANDARD_GAPS = [
    pytest.param(
        "callbacks.standard",
        lambda: kt.callbacks.standard(plot_mode="inline"),
        "plot_mode",
        id="standard-plot-mode",
    ),
    pytest.param(
        "callbacks.standard",
        lambda: kt.callbacks.standard(plot_path=5),
        "plot_path",
        id="standard-plot-path",
    ),
    pytest.param(
        "callbacks.standard",
        lambda: kt.callbacks.standard(checkpoint_dir=""),
        "checkpoint_dir",
        id="standard-checkpoint-dir",
    ),
    pytest.param(
        "callbacks.standard",
        lambda: kt.callbacks.standard(stop_at={"score": 0.9}),
        "stop_at",
        id="standard-stop-at-ambiguous-metric",
    ),
    # Invalid values accepted silently because the callback they configure is not created.
    pytest.param(
        "callbacks.standard",
        lambda: kt.callbacks.standard(keep_last=0),
        "keep_last",
        id="standard-keep-last-without-checkpoints",
    ),
    pytest.param(
        "callbacks.standard",
        lambda: kt.callbacks.standard(patience=-1),
        "patience",
        id="standard-patience-without-stop-at",
    ),
    pytest.param(
        "callbacks.standard",
        lambda: kt.callbacks.standard(plot=False, plot_mode="inline"),
        "plot_mode",
        id="standard-plot-mode-without-plot",
    ),
]


@pytest.mark.parametrize(("entry", "call", "argument"), STANDARD_GAPS)
def test_standard_gap_stays_fixed(entry, call, argument):
    expect_rejected(entry, lambda: call(), ({}, [argument]))


# --------------------------------------------------------------------------- summary


def test_summary_of_generated_bad_input(capsys):
    """Print tried/passed per entry point; at least 200 invalid sets when the module ran whole."""
    entries = sorted({entry for entry, _ in COUNTS})
    tried = sum(COUNTS[entry, "tried"] for entry in entries)
    passed = sum(COUNTS[entry, "passed"] for entry in entries)
    detail = ", ".join(f"{entry} {COUNTS[entry, 'passed']}/{COUNTS[entry, 'tried']}" for entry in entries)
    line = f"bad input: {passed}/{tried} invalid argument sets rejected correctly ({detail})"
    with capsys.disabled():
        print("\n" + line)
    if not tried:
        pytest.skip("no generated test of this module ran before this one")
    ran_whole_module = len([e for e in entries if COUNTS[e, "tried"]]) >= 12
    if ran_whole_module:
        assert tried >= 200, line
