"""Checkpoints under the Keras idioms keras.io teaches: gradient accumulation, a model of built
sub-models, `steps_per_execution`, a `PyDataset` with workers. Each resumes exactly."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import kerastools as kt
from kerastools.learning_rates import schedule_step_counter

BACKEND = keras.backend.backend()


def _data(rows: int = 48) -> tuple[np.ndarray, np.ndarray]:
    x = np.random.default_rng(0).uniform(-1, 1, (rows, 2)).astype("float32")
    return x, x[:, :1] * x[:, 1:]


def _model(optimizer: keras.optimizers.Optimizer, **compile_args) -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4), keras.layers.Dense(1)])
    model.compile(optimizer=optimizer, loss="mse", **compile_args)
    return model


def _numbers(value) -> np.ndarray:
    return keras.ops.convert_to_numpy(value)


class _CrashAfter(keras.callbacks.Callback):
    """Raises once `batches` batches of this fit_resumable call have run."""

    def __init__(self, batches: int):
        super().__init__()
        self.batches, self.seen = batches, 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.batches:
            raise RuntimeError("crash")


def _assert_same_state(resumed: keras.Model, uninterrupted: keras.Model) -> None:
    for got, want in zip(resumed.weights, uninterrupted.weights, strict=True):
        assert np.array_equal(_numbers(got), _numbers(want)), got.path
    mine, theirs = resumed.optimizer, uninterrupted.optimizer
    assert int(_numbers(schedule_step_counter(mine))) == int(_numbers(schedule_step_counter(theirs)))
    assert int(_numbers(mine.iterations)) == int(_numbers(theirs.iterations))
    assert np.array_equal(_numbers(mine.learning_rate), _numbers(theirs.learning_rate))
    for got, want in zip(mine.variables, theirs.variables, strict=True):
        assert np.array_equal(_numbers(got), _numbers(want)), got.path


# -- gradient accumulation ------------------------------------------------------------


def _accumulating() -> keras.optimizers.Optimizer:
    schedule = keras.optimizers.schedules.ExponentialDecay(0.05, decay_steps=4, decay_rate=0.5)
    return keras.optimizers.Adam(schedule, gradient_accumulation_steps=2)


def test_gradient_accumulation_checkpoints_with_every_callback(tmp_path):
    x, y = _data()
    model = _model(_accumulating())
    callbacks = kt.callbacks.standard(checkpoint_dir=tmp_path / "bundle", plot=False)
    callbacks.append(kt.callbacks.PeriodicCheckpoint(tmp_path / "steps", every_steps=3))
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=callbacks)

    # A checkpoint's step counts batches under accumulation (the counter the schedule sees).
    assert history.history["iterations"] == [6, 12]
    assert [info.step for info in kt.checkpoints.list_checkpoints(tmp_path / "bundle")] == [6, 12]
    assert [info.step for info in kt.checkpoints.list_checkpoints(tmp_path / "steps")] == [3, 6, 9, 12]
    fresh = _model(_accumulating())
    assert kt.checkpoints.resume(fresh, tmp_path / "steps") == 2
    _assert_same_state(fresh, model)


def test_gradient_accumulation_resumes_exactly_in_the_middle_of_an_accumulation(tmp_path):
    x, y = _data()

    def train(directory, crash_after=None):
        model = _model(_accumulating())
        callbacks = [_CrashAfter(crash_after)] if crash_after else []
        history = kt.fit_resumable(model, x, y, batch_size=8, directory=directory, epochs=3, seed=0,
                                   every_steps=3, callbacks=callbacks, verbose=0)
        return model, history

    with pytest.raises(RuntimeError, match="crash"):
        train(tmp_path / "run", crash_after=10)  # the last save is at batch 9, one gradient accumulated
    assert kt.checkpoints.find_checkpoint(tmp_path / "run", "latest").step == 9
    resumed, history = train(tmp_path / "run")
    uninterrupted, full = train(tmp_path / "once")
    assert history.epoch == [1, 2] and full.epoch == [0, 1, 2]
    assert int(_numbers(resumed.optimizer.iterations)) == 9  # 18 batches, 9 updates
    _assert_same_state(resumed, uninterrupted)
    assert [info.step for info in kt.checkpoints.list_checkpoints(tmp_path / "run")] == \
        [info.step for info in kt.checkpoints.list_checkpoints(tmp_path / "once")]


# -- a model of built sub-models ---------------------------------------------------------


def test_a_model_of_built_sub_models_resumes_without_a_dummy_call(tmp_path):
    from tests.compat.custom_steps import build_vae, vae_data

    data = vae_data()
    keras.utils.set_random_seed(0)
    model = build_vae()
    model.fit(**data, epochs=2, verbose=0, callbacks=[kt.callbacks.PeriodicCheckpoint(tmp_path)])

    keras.utils.set_random_seed(1)
    fresh = build_vae()  # its encoder and decoder are built, the model itself never called
    assert kt.checkpoints.resume(fresh, tmp_path) == 2
    _assert_same_state(fresh, model)
    history = fresh.fit(**data, initial_epoch=2, epochs=3, verbose=0)
    assert sorted(history.history) == ["kl_loss", "loss", "reconstruction_loss"]
    again = build_vae()
    kt.checkpoints.load_checkpoint(again, tmp_path, include_optimizer=False)
    for got, want in zip(again.weights, model.weights, strict=True):
        assert np.array_equal(_numbers(got), _numbers(want))


# -- steps_per_execution ------------------------------------------------------------------

SPE_REFUSED = "`steps_per_execution` must be 1 with the PyTorch backend. Received: steps_per_execution=4"


def _executing(directory=None, crash_after=None, every_steps=6):
    """3 epochs of 10 batches, 4 batches an execution, through fit_resumable."""
    x, y = _data(80)
    model = _model(keras.optimizers.Adam(0.01), steps_per_execution=4)
    callbacks = [_CrashAfter(crash_after)] if crash_after else []
    history = kt.fit_resumable(model, x, y, batch_size=8, directory=directory, epochs=3, seed=0,
                               every_steps=every_steps, callbacks=callbacks, verbose=0)
    return model, history


@pytest.mark.skipif(BACKEND == "torch", reason="torch refuses steps_per_execution > 1 (tested below)")
def test_steps_per_execution_trains_the_steps_plain_fit_does_and_resumes_exactly(tmp_path):
    x, y = _data(80)
    plain = _model(keras.optimizers.Adam(0.01), steps_per_execution=4)
    saver = kt.callbacks.PeriodicCheckpoint(tmp_path / "plain", every_steps=6, every_epochs=None)
    plain.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0, callbacks=[saver])
    assert int(_numbers(plain.optimizer.iterations)) == 30
    # The first execution boundary at or after each multiple of 6 optimizer steps.
    assert [info.step for info in kt.checkpoints.list_checkpoints(tmp_path / "plain")] == [8, 14, 18, 24, 30]

    with pytest.raises(RuntimeError, match="crash"):
        _executing(tmp_path / "run", crash_after=5)  # at step 18, before the checkpoint saw it
    assert kt.checkpoints.find_checkpoint(tmp_path / "run", "latest").step == 14
    resumed, history = _executing(tmp_path / "run")
    uninterrupted, full = _executing(tmp_path / "once")
    assert int(_numbers(uninterrupted.optimizer.iterations)) == 30  # 36 when an execution ran past the epoch
    assert history.epoch == [1, 2] and full.epoch == [0, 1, 2]
    _assert_same_state(resumed, uninterrupted)
    steps = [info.step for info in kt.checkpoints.list_checkpoints(tmp_path / "once")]
    assert steps == [8, 14, 18, 24, 30]  # as plain fit saves
    assert [info.step for info in kt.checkpoints.list_checkpoints(tmp_path / "run")] == steps


@pytest.mark.skipif(BACKEND != "torch", reason="only torch refuses steps_per_execution > 1")
def test_torch_refuses_steps_per_execution_with_keras_own_error(tmp_path):
    x, y = _data(80)
    with pytest.raises(ValueError) as plain:
        _model(keras.optimizers.Adam(0.01), steps_per_execution=4).fit(x, y, verbose=0)
    with pytest.raises(ValueError) as ours:
        _executing(tmp_path)
    assert str(plain.value) == str(ours.value) == SPE_REFUSED


# -- a PyDataset with workers ---------------------------------------------------------------


class _Rows(keras.utils.PyDataset):
    """Six batches of 8 rows; batch i is a pure function of i."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def __len__(self):
        return 6

    def __getitem__(self, index):
        x = np.random.default_rng(index).uniform(-1, 1, (8, 2)).astype("float32")
        return x, x[:, :1] * x[:, 1:]


def test_a_py_dataset_with_workers_trains_every_batch_in_order_and_resumes_exactly(tmp_path):
    plain = _model(keras.optimizers.Adam(0.01))
    plain.fit(_Rows(), epochs=2, shuffle=False, verbose=0)

    def train(directory, crash_after=None, epochs=2):
        model = _model(keras.optimizers.Adam(0.01))
        callbacks = [_CrashAfter(crash_after)] if crash_after else []
        history = kt.fit_resumable(model, _Rows(workers=2), directory=directory, epochs=epochs, seed=0,
                                   shuffle=False, every_steps=2, callbacks=callbacks, verbose=0)
        return model, history

    same_order, _ = train(tmp_path / "order")
    _assert_same_state(same_order, plain)  # batch 0 first, not lost to Keras' build step

    with pytest.raises(RuntimeError, match="crash"):
        train(tmp_path / "run", crash_after=9, epochs=3)  # step 8 is saved
    resumed, history = train(tmp_path / "run", epochs=3)
    uninterrupted, _ = train(tmp_path / "once", epochs=3)
    assert history.epoch == [1, 2]
    _assert_same_state(resumed, uninterrupted)
