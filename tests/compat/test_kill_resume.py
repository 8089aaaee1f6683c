"""SIGKILL a training script once a checkpoint is on disk; the same script, run again, resumes and finishes.

Each case costs two fresh interpreters (about 10 s each on 2 cores), so the
default run kills two kinds (a Sequential model with a mid-epoch `every_steps`
checkpoint, a custom `train_step` with epoch checkpoints); `make test-slow`
kills every other kind. The fast suite interrupts every kind that `fit_resumable`
takes in-process instead (`test_models.py::test_fit_resumable_interrupted_mid_run_*`),
and a notebook re-fit's kernel restart is `tests/callbacks/test_state.py`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import kerastools as kt
from tests.compat.kinds import BATCH, kind_params

WORKER = Path(__file__).with_name("kill_resume_worker.py")
ROOT = Path(__file__).resolve().parents[2]
EPOCHS = 4
FAST = {"sequential", "custom_train_step"}


def _environment() -> dict[str, str]:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1", MPLBACKEND="Agg")
    env.pop("TF_CONFIG", None)
    return env


def _saved(directory: Path) -> list[tuple[int, int]]:
    try:
        return [(info.epoch, info.step) for info in kt.checkpoints.list_checkpoints(directory)]
    except Exception:  # noqa: BLE001 - the directory may not exist yet
        return []


def _has(saved: list[tuple[int, int]], wanted: tuple[int, int | None]) -> bool:
    """Whether `wanted` (epoch, step) is saved; a step of None matches any step of that epoch."""
    return any(epoch == wanted[0] and wanted[1] in (None, step) for epoch, step in saved)


def _kill_once_saved(command: list[str], directory: Path, wanted: tuple[int, int | None]) -> list[tuple[int, int]]:
    """Start `command`, SIGKILL it once `wanted` (epoch, step) has its record; the records then."""
    child = subprocess.Popen(command, cwd=ROOT, env=_environment(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    try:
        while not _has(_saved(directory), wanted):
            if child.poll() is not None:
                pytest.fail(f"the worker ended before its checkpoint {wanted}:\n{child.stderr.read()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"no checkpoint {wanted} after 240 s; saved: {_saved(directory)}")
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate()
    assert child.returncode == -signal.SIGKILL
    return _saved(directory)


def _run(command: list[str]) -> dict:
    result = subprocess.run(command, cwd=ROOT, env=_environment(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"resume failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


# kind -> (every_steps, the checkpoint (epoch, step) last written before the kill, resumed epoch, step).
# A step of None: the kind does not step the optimizer on every batch (mixed precision skips
# the steps whose loss-scaled gradients overflow), so only the epoch is known in advance.
def _plan(kind) -> tuple[int | None, tuple[int, int | None], int, int | None]:
    steps = kind.train_samples // BATCH
    if kind.name == "sequential":  # every 4 steps of 3 an epoch: the last save is in the middle of epoch 2
        return 4, (1, 4), 1, 4
    step = 2 * steps if kind.counts_every_step else None
    return None, (2, step), 2, step


def _marks(kind) -> list:
    return [] if kind.name in FAST else [pytest.mark.slow]


@pytest.mark.parametrize("kind", kind_params(_marks))
def test_killed_script_resumes_at_its_last_checkpoint_and_finishes(kind, tmp_path):
    every_steps, wanted, start, step = _plan(kind)
    directory = tmp_path / "ckpt"
    command = [sys.executable, str(WORKER), kind.name, str(directory), str(EPOCHS)]
    if every_steps:
        command += ["--every-steps", str(every_steps)]
    # The worker stalls in the epoch after the wanted checkpoint: nothing newer can be written.
    saved = _kill_once_saved([*command, "--stall-at", "2"], directory, wanted)
    assert _has(saved[-1:], wanted)
    step = saved[-1][1] if step is None else step  # the step the killed run had reached

    resumed = _run(command)
    steps_per_epoch = kind.train_samples // BATCH
    assert resumed["start"] == start
    assert resumed["restored_step"] == step
    assert resumed["history_epochs"] == list(range(start, EPOCHS))
    final = resumed["final_step"]
    if kind.counts_every_step:
        assert final == step + (EPOCHS - start) * steps_per_epoch
    else:  # some steps may be skipped, never more taken
        assert step < final <= step + (EPOCHS - start) * steps_per_epoch
    assert _saved(directory)[-1] == ((EPOCHS - 1, final - final % every_steps) if every_steps else (EPOCHS, final))
