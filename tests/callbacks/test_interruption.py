"""Ctrl-C and SIGTERM during fit: one last checkpoint at the step reached, then the usual ending.

The guard itself in-process; the whole path in a subprocess
(tests/callbacks/interrupted_training_worker.py) that waits for the signal
mid-epoch, so the step it prints is the one the checkpoint must hold.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import kerastools as kt
from kerastools.callbacks import PeriodicCheckpoint
from kerastools.callbacks.interruption import InterruptionGuard

pytestmark = pytest.mark.skipif(not hasattr(signal, "pause"), reason="POSIX signals")

WORKER = Path(__file__).with_name("interrupted_training_worker.py")


@pytest.fixture
def handlers():
    """Python's default SIGINT/SIGTERM handlers during the test; the earlier ones after it."""
    before = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    yield {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}
    for signum, handler in before.items():
        signal.signal(signum, handler)


def test_the_guard_notes_the_first_signal_and_delivers_it_later(handlers):
    guard = InterruptionGuard()
    guard.install()
    os.kill(os.getpid(), signal.SIGINT)
    assert guard.received == signal.SIGINT and guard.received_name == "SIGINT"
    with pytest.raises(KeyboardInterrupt):
        guard.deliver()
    assert signal.getsignal(signal.SIGINT) is handlers[signal.SIGINT]
    assert guard.received is None and not guard.installed


def test_a_second_signal_acts_at_once(handlers):
    guard = InterruptionGuard()
    guard.install()
    os.kill(os.getpid(), signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is handlers[signal.SIGINT]


def test_an_ignored_signal_stays_ignored(handlers):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    guard = InterruptionGuard()
    guard.install()
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
    assert signal.getsignal(signal.SIGINT) != handlers[signal.SIGINT]
    guard.restore()
    assert signal.getsignal(signal.SIGINT) is handlers[signal.SIGINT]


def test_a_guard_left_behind_is_skipped_by_the_next_one(handlers):
    """A fit that failed never ran on_train_end: the next guard chains to the handler before it."""
    stale = InterruptionGuard()
    stale.install()
    guard = InterruptionGuard()
    guard.install()
    os.kill(os.getpid(), signal.SIGINT)
    assert stale.received is None and guard.received == signal.SIGINT
    with pytest.raises(KeyboardInterrupt):
        guard.deliver()
    assert signal.getsignal(signal.SIGINT) is handlers[signal.SIGINT]


class SendAt(keras.callbacks.Callback):
    """Listed before the checkpoint: sends `signum` to this process when batch `at` begins."""

    def __init__(self, at, signum):
        super().__init__()
        self.at, self.signum, self.seen = at, signum, []

    def on_train_batch_begin(self, batch, logs=None):
        self.seen.append({s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)})
        if batch == self.at:
            os.kill(os.getpid(), self.signum)


def small_fit(directory, callbacks, epochs=2):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(64, 2)).astype("float32")
    model = kt.compile(kt.build_mlp(2, [4]), optimizer="adam", learning_rate=0.01)
    checkpoint = PeriodicCheckpoint(directory, every_epochs=100)
    history = model.fit(
        x, x[:, :1], batch_size=16, epochs=epochs, verbose=0, callbacks=[*callbacks, checkpoint]
    )
    return history


def test_the_previous_handlers_are_back_after_fit(tmp_path, handlers):
    """During fit the checkpoint's handlers are in place; after it, the ones from before."""
    probe = SendAt(at=-1, signum=signal.SIGTERM)
    small_fit(tmp_path, [probe], epochs=1)
    during = probe.seen[0]
    assert during[signal.SIGINT] is not handlers[signal.SIGINT]
    assert during[signal.SIGTERM] is not handlers[signal.SIGTERM]
    assert signal.getsignal(signal.SIGINT) is handlers[signal.SIGINT]
    assert signal.getsignal(signal.SIGTERM) is handlers[signal.SIGTERM]


def test_a_handler_of_the_user_runs_after_the_save_and_fit_stops(tmp_path, handlers):
    """SIGTERM at the begin of batch 2: step 2 is saved, then the user's handler runs once."""
    calls = []
    signal.signal(signal.SIGTERM, lambda signum, frame: calls.append(signum))
    history = small_fit(tmp_path, [SendAt(at=2, signum=signal.SIGTERM)], epochs=3)
    assert calls == [signal.SIGTERM]
    assert [info.step for info in kt.checkpoints.list_checkpoints(tmp_path)] == [2]
    assert len(history.history["loss"]) == 1  # stop_training: the first epoch was the last
    assert signal.getsignal(signal.SIGTERM) is not handlers[signal.SIGTERM]  # still the user's


def run_interrupted(directory, signum, stop_at):
    """Start the worker, wait for its marker, send `signum`; (returncode, printed step, stderr)."""
    # The kerastools of this checkout, not an installed one (the script's folder is sys.path[0]).
    root = str(WORKER.parents[2])
    path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=path)
    process = subprocess.Popen(
        [sys.executable, str(WORKER), str(directory), str(stop_at)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("WAITING"), (line, process.stderr.read()[-3000:])
        process.send_signal(signum)
        out, err = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert "DONE" not in out
    return process.returncode, int(line.split()[1]), err


def check_last_checkpoint(directory, step):
    """The one record on disk is at `step` (the writer was flushed), and resume continues from it."""
    records = [json.loads(path.read_text()) for path in sorted(directory.glob("*.weights.h5.json"))]
    assert [(record["file"], record["step"]) for record in records] == [
        (f"step-{step:08d}.weights.h5", step)
    ]
    fresh = kt.compile(kt.build_mlp(2, [8]), optimizer="adam", learning_rate=0.01)
    assert kt.checkpoints.resume(fresh, directory) == step // 16  # 16 steps per epoch
    assert int(keras.ops.convert_to_numpy(fresh.optimizer.iterations)) == step


def test_sigterm_mid_epoch_leaves_a_checkpoint_of_the_last_batch(tmp_path):
    returncode, step, err = run_interrupted(tmp_path / "ckpt", signal.SIGTERM, stop_at=21)
    assert returncode == -signal.SIGTERM, err[-3000:]
    assert step == 21
    check_last_checkpoint(tmp_path / "ckpt", step)


def test_ctrl_c_mid_epoch_saves_then_raises_keyboard_interrupt(tmp_path):
    returncode, step, err = run_interrupted(tmp_path / "ckpt", signal.SIGINT, stop_at=5)
    # An uncaught KeyboardInterrupt ends Python by SIGINT (status 130 in a shell), as usual.
    assert returncode == -signal.SIGINT, err[-3000:]
    assert "KeyboardInterrupt" in err
    assert step == 5
    check_last_checkpoint(tmp_path / "ckpt", step)
