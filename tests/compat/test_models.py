"""Each model kind × kerastools' callbacks, on whatever KERAS_BACKEND is set: what a user would notice.

`standard()` with a checkpoint directory and a target; every callback with
options other than the defaults; and a resume in a fresh model. The kill in
the middle of training is in `test_kill_resume.py`.
"""

from __future__ import annotations

import sys

import keras
import numpy as np
import pytest

import kerastools as kt
from kerastools.callbacks import (
    EpochTimer,
    LearningRateLogger,
    LivePlot,
    PeriodicCheckpoint,
    StoppingReason,
    ThresholdEarlyStopping,
)
from kerastools.tensorboard_events import epoch_history
from tests.compat.kinds import (
    BACKEND,
    BATCH,
    REFIT_AT,
    STEPS_PER_EPOCH,
    Kind,
    kind_params,
    kinds,
    policy,
)

EPOCHS = 3
BOOKKEEPING = ("learning_rate", "iterations", "epoch_time_s")


def _bookkeeping(kind: Kind) -> tuple[str, ...]:
    """The keys the callbacks log: per optimizer for a model that keeps several as attributes."""
    if kind.optimizers == ("optimizer",):
        return BOOKKEEPING
    per_optimizer = [f"{key}_{name}" for name in kind.optimizers for key in ("learning_rate", "iterations")]
    return (*per_optimizer, "epoch_time_s")
KINDS = kind_params()


def _unreachable(monitor: str) -> float:
    return 1e9 if "accuracy" in monitor else -1e9


class _TrainedWeights(keras.callbacks.Callback):
    """The weights at the last epoch end: what the checkpoints hold, before Keras' EMA averaging."""

    def on_epoch_end(self, epoch, logs=None):
        self.values = [keras.ops.convert_to_numpy(v) for v in self.model.trainable_weights]

    def on_train_end(self, logs=None):
        for variable, value in zip(self.model.trainable_weights, self.values, strict=True):
            variable.assign(value)


def _fit(kind: Kind, callbacks, epochs: int = EPOCHS, **extra):
    """Train a new model of `kind`; a notebook re-fit kind in two `fit` calls with the same callbacks."""
    if kind.averaged:  # compared with checkpoints below: undo Keras' averaging at the end of fit
        callbacks = [*callbacks, _TrainedWeights()]
    with policy(kind):
        model = kind.build()
        if not kind.refit:
            history = model.fit(**kind.fit_args(), epochs=epochs, verbose=0,
                                callbacks=[*kind.keras_callbacks(), *callbacks], **extra)
            return model, history.history
        first = model.fit(**kind.fit_args(), epochs=REFIT_AT, verbose=0, callbacks=callbacks, **extra)
        second = model.fit(**kind.fit_args(), initial_epoch=REFIT_AT, epochs=epochs, verbose=0,
                           callbacks=callbacks, **extra)
    return model, {key: first.history.get(key, []) + second.history.get(key, []) for key in second.history}


def _fresh(kind: Kind) -> keras.Model:
    with policy(kind):
        model = kind.build()
        kind.prepare(model)
    return model


def _assert_same_weights(model, other) -> None:
    """Same values in the model's weights (an optimizer's variables)."""
    ours, restored = (getattr(m, "weights", None) or m.variables for m in (model, other))
    assert len(ours) == len(restored)
    for mine, theirs in zip(ours, restored, strict=True):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(theirs), keras.ops.convert_to_numpy(mine),
                                   err_msg=mine.path)


def _steps_per_epoch(kind: Kind) -> int:
    return kind.train_samples // BATCH


def _step_saves(kind: Kind, epochs: int, every: int) -> list[int]:
    """The batches `every_steps` saves at: the first execution boundary at or after each multiple."""
    per_epoch, spe = _steps_per_epoch(kind), kind.steps_per_execution
    boundaries = [epoch * per_epoch + min(end, per_epoch)
                  for epoch in range(epochs) for end in range(spe, per_epoch + spe, spe)]
    return [now for before, now in zip([0, *boundaries], boundaries) if now // every > before // every]


@pytest.mark.parametrize("kind", KINDS)
def test_standard_bundle_logs_checkpoints_and_plots(kind, tmp_path, monkeypatch):
    callbacks = kt.callbacks.standard(checkpoint_dir=tmp_path / "ckpt", stop_at={kind.monitor: _unreachable(kind.monitor)},
                                      plot_mode="file", plot_path=tmp_path / "plot.png",
                                      tensorboard=tmp_path / "tensorboard")
    model, history = _fit(kind, callbacks)
    if BACKEND != "tensorflow" and "tensorflow" not in sys.modules:
        monkeypatch.setitem(sys.modules, "tensorflow", None)  # TensorBoard's reader without it, as users have
    logged = epoch_history(tmp_path / "tensorboard")
    for key, values in history.items():
        if all(np.ndim(value) == 0 for value in values):  # per-class metrics are left out
            assert np.float32(logged[key]).tolist() == np.float32(values).tolist(), key

    for key in (*kind.history_keys, *_bookkeeping(kind)):
        assert key in history, f"{key!r} missing from History: {sorted(history)}"
    assert len(history["epoch_time_s"]) == EPOCHS
    if "samples_per_s" in history:  # never the loss tracker's batch count
        for rate, seconds in zip(history["samples_per_s"], history["epoch_time_s"], strict=True):
            assert rate * seconds >= kind.train_samples * 0.99
    if kind.counts_every_step:
        assert history["iterations"] == [float(_steps_per_epoch(kind) * (e + 1)) for e in range(EPOCHS)]
    stopper = next(c for c in callbacks if isinstance(c, ThresholdEarlyStopping))
    assert stopper.stopping_reason is StoppingReason.NOT_STOPPED

    saved = kt.checkpoints.list_checkpoints(tmp_path / "ckpt")
    assert [info.epoch for info in saved] == [1, 2, 3]
    assert (tmp_path / "plot.png").stat().st_size > 0
    fresh = _fresh(kind)
    info = kt.checkpoints.load_checkpoint(fresh, tmp_path / "ckpt", include_optimizer=False)
    assert info.epoch == EPOCHS
    _assert_same_weights(model, fresh)


# The kinds added last whose every callback also runs in an in-process test that compares
# with an exact reference: the RESUMABLE kinds below in
# test_fit_resumable_interrupted_mid_run_ends_as_the_uninterrupted_run (the same callbacks,
# step saves every 2 steps, bit for bit equal to an uninterrupted run), and a notebook re-fit in
# tests/callbacks/test_state.py::test_a_notebook_refit_continues_every_callback_and_its_checkpoints.
# Their test of every option here runs in `make test-slow` (2 s each a backend, 36 s in all).
OPTIONS_SLOW = ("gradient_accumulation", "steps_per_execution", "ema", "py_dataset_workers", "vae",
                "notebook_refit")


@pytest.mark.parametrize("kind", kind_params(lambda kind: [pytest.mark.slow] if kind.name in OPTIONS_SLOW else []))
def test_each_callback_with_options_other_than_the_defaults(kind, tmp_path):
    rates = LearningRateLogger(per="batch")
    stopper = ThresholdEarlyStopping(kind.monitor, threshold=-_unreachable(kind.monitor), min_delta=1e9,
                                     patience=2, start_from_epoch=1)
    saver = PeriodicCheckpoint(tmp_path / "ckpt", every_steps=2, keep_last=2, save_best=kind.monitor)
    plot = LivePlot(mode="file", path=tmp_path / "plot.png", min_interval_s=0.0)
    timer = EpochTimer()
    # Under validation_freq=2 only every other epoch has the value to check.
    epochs = 8 if "validation_freq" in kind.fit_args() else 6
    model, history = _fit(kind, [rates, timer, stopper, saver, plot], epochs=epochs)

    # Epoch 0 is not checked; the target is reached at once; two epochs that count as a plateau then stop.
    assert stopper.stopping_reason is StoppingReason.THRESHOLD_REACHED, stopper.stopping_message
    done = len(history["epoch_time_s"])
    assert stopper.stopped_epoch == done < epochs
    assert stopper.best_epoch >= 2

    steps = _steps_per_epoch(kind) * done
    if kind.refit:  # the per-batch rates start again at each fit; the per-epoch ones continue
        assert len(rates.history) == done and plot.epochs == list(range(1, done + 1))
        assert len(rates.batch_history) == steps - _steps_per_epoch(kind) * REFIT_AT
    elif kind.counts_every_step:
        assert len(rates.batch_history) == steps
    if kind.optimizers == ("optimizer",):
        assert rates.batch_history and all(np.isfinite(rate) for _, rate in rates.batch_history)
    else:  # one history per optimizer, each with one finite rate per step
        for name in kind.optimizers:
            track = rates.batch_histories[f"learning_rate_{name}"]
            assert track and all(np.isfinite(rate) for _, rate in track)
    saved = kt.checkpoints.list_checkpoints(tmp_path / "ckpt")
    assert len(saved) == 2 and all(info.kind == "step" for info in saved)
    # The period counts batches; the file names and `step` are the optimizer's own counter,
    # which lags behind under a loss scale that skips steps.
    per_epoch = _steps_per_epoch(kind)
    batches = [per_epoch * info.epoch + info.training_state["batches"] for info in saved]
    assert batches == _step_saves(kind, done, every=2)[-2:]
    assert all(info.path.name == f"step-{info.step:08d}.weights.h5" for info in saved)
    if kind.counts_every_step:
        assert [info.step for info in saved] == batches
    else:
        assert all(info.step <= batch for info, batch in zip(saved, batches, strict=True))
    # "best" is the best recorded value; step checkpoints record the running training metrics too.
    best = kt.checkpoints.find_checkpoint(tmp_path / "ckpt", "best")
    recorded = [info.metrics[kind.monitor] for info in kt.checkpoints.list_checkpoints(tmp_path / "ckpt",
                include_best=True) if info.metrics.get(kind.monitor) is not None]
    assert best.metrics[kind.monitor] == (max if "accuracy" in kind.monitor else min)(recorded)
    assert (tmp_path / "ckpt" / kt.checkpoints.BEST_NAME).exists()
    assert (tmp_path / "plot.png").stat().st_size > 0
    fresh = _fresh(kind)
    kt.checkpoints.load_checkpoint(fresh, tmp_path / "ckpt", include_optimizer=False)
    _assert_same_weights(model, fresh)


@pytest.mark.parametrize("kind", KINDS)
def test_resume_in_a_fresh_model_continues_weights_optimizers_and_epochs(kind, tmp_path):
    model, _ = _fit(kind, [PeriodicCheckpoint(tmp_path / "ckpt")], epochs=2)

    fresh = _fresh(kind)
    assert kt.checkpoints.resume(fresh, tmp_path / "ckpt") == 2
    _assert_same_weights(model, fresh)
    for name in kind.optimizers:
        mine, theirs = getattr(model, name), getattr(fresh, name)
        assert int(keras.ops.convert_to_numpy(theirs.iterations)) == int(
            keras.ops.convert_to_numpy(mine.iterations)) > 0, name
        _assert_same_weights(mine, theirs)
    with policy(kind):
        history = fresh.fit(**kind.fit_args(), initial_epoch=2, epochs=EPOCHS, verbose=0,
                            callbacks=[*kind.keras_callbacks(), PeriodicCheckpoint(tmp_path / "ckpt")])
    assert len(next(iter(history.history.values()))) == EPOCHS - 2
    assert [info.epoch for info in kt.checkpoints.list_checkpoints(tmp_path / "ckpt")] == [1, 2, 3]


def test_the_suite_covers_every_kind_the_issue_names():
    names = {kind.name for kind in kinds()}
    assert names == {"sequential", "functional_multi_io", "subclassed", "custom_train_step", "two_optimizers",
                     "batchnorm_dropout", "mixed_precision", "validation_freq", "class_weight", "py_dataset",
                     "generator", "tf_data", "gradient_accumulation", "steps_per_execution", "ema",
                     "reduce_lr_on_plateau", "py_dataset_workers", "vae", "notebook_refit"}
    assert STEPS_PER_EPOCH == 4 and BACKEND == keras.backend.backend()


# The kinds fit_resumable takes (arrays or a PyDataset of known length, no tf.data), interrupted
# in-process; test_kill_resume.py SIGKILLs a subprocess (the new kinds there under `slow`).
# Keras' ReduceLROnPlateau is left out: it has no state to record, so its plateau count starts
# afresh at each fit, and a resumed run lowers the rate at other epochs.
RESUMABLE = ("gradient_accumulation", "steps_per_execution", "ema", "py_dataset_workers", "vae")


def _resumable_args(kind: Kind) -> dict:
    """The kind's data as fit_resumable takes it: validation_split becomes validation_data."""
    args = dict(kind.fit_args())
    if args.pop("validation_split", None):
        keep = len(args["y"]) * 3 // 4  # Keras' validation_split takes the last quarter
        x, y = args.pop("x"), args.pop("y")
        args.update(x=x[:keep], y=y[:keep], validation_data=(x[keep:], y[keep:]))
    return args


class _CrashAfter(keras.callbacks.Callback):
    def __init__(self, calls: int):
        super().__init__()
        self.calls = calls

    def on_train_batch_end(self, batch, logs=None):
        self.calls -= 1
        if self.calls == 0:
            raise RuntimeError("crash")


def _numbers(value) -> np.ndarray:
    return keras.ops.convert_to_numpy(value)


@pytest.mark.parametrize("kind", [param for param in KINDS if param.id in RESUMABLE])
def test_fit_resumable_interrupted_mid_run_ends_as_the_uninterrupted_run(kind, tmp_path):
    def train(directory, crash_after=None):
        callbacks = [LearningRateLogger(), EpochTimer(), LivePlot(mode="off"),
                     ThresholdEarlyStopping(kind.monitor, threshold=_unreachable(kind.monitor)),
                     *kind.keras_callbacks(), *([_CrashAfter(crash_after)] if crash_after else [])]
        with policy(kind):
            keras.utils.set_random_seed(0)  # the same initial weights in every run
            model = kind.build()
            kt.fit_resumable(model, **_resumable_args(kind), directory=directory, epochs=EPOCHS, seed=0,
                             every_steps=2, callbacks=callbacks, verbose=0)
        return model, callbacks[2]

    with pytest.raises(RuntimeError, match="crash"):
        train(tmp_path / "run", crash_after=4)  # in epoch 2, after a step save
    resumed, plot = train(tmp_path / "run")
    uninterrupted, _ = train(tmp_path / "once")
    assert plot.epochs == [1, 2, 3]
    for got, want in zip(resumed.weights, uninterrupted.weights, strict=True):
        assert np.array_equal(_numbers(got), _numbers(want)), got.path
    mine, theirs = resumed.optimizer, uninterrupted.optimizer
    assert int(_numbers(mine.iterations)) == int(_numbers(theirs.iterations)) > 0
    assert np.array_equal(_numbers(mine.learning_rate), _numbers(theirs.learning_rate))
    for got, want in zip(mine.variables, theirs.variables, strict=True):  # the EMA and accumulators too
        assert np.array_equal(_numbers(got), _numbers(want)), got.path
