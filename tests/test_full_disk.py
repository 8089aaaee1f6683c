"""A real tmpfs that fills up *during* a write: each write path fails cleanly, nothing is lost.

A callback placed before the writer fills the disk at the end of epoch 2,
leaving less room than the next file needs, so the write starts and runs out
part-way. Before kerastools built its HDF5 files in memory, h5py segfaulted
in `File.close` there (the process died with SIGSEGV and left a temporary
file), so each case runs in a child process and the test reads its exit
status first. Paths: an epoch file, `best.weights.h5`, a file's record, a
live plot's PNG and the run report. The checkpoint's write runs on its
writer thread; its error is raised at the end of `fit`. Needs root (mount)
on Linux; skipped elsewhere.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.test_crash_safety import tiny_tmpfs

ROOT = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent(
    r'''
    import json, logging, os, sys, warnings
    import numpy as np, keras
    import kerastools as kt
    from kerastools.errors import CheckpointError
    from tests.test_crash_safety import fill

    disk, case = sys.argv[1], sys.argv[2]
    directory = os.path.join(disk, "checkpoints")
    filler = os.path.join(disk, "filler")
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (256, 8)).astype("float32")
    y = x.sum(axis=1, keepdims=True)


    def make_model():
        # About 70k weights and Adam's two slots: a file of about 850 KB.
        return kt.compile(kt.build_mlp(8, [256, 256]), optimizer="adam", learning_rate=1e-3)


    def fill_leaving(free):
        """Fill the disk, then give `free` bytes back: the next write runs out part-way."""
        fill(filler)
        os.truncate(filler, max(os.path.getsize(filler) - free, 0))


    class FillAfterFirstEpoch(keras.callbacks.Callback):
        def __init__(self, free):
            super().__init__()
            self.free, self.weights = free, {}

        def on_epoch_end(self, epoch, logs=None):
            self.weights[epoch + 1] = [np.array(w) for w in self.model.get_weights()]
            if epoch == 1 and self.free is not None:
                fill_leaving(self.free)


    def leftovers():
        return sorted(n for n in os.listdir(disk) + os.listdir(directory) if n.endswith(".tmp"))


    def newest_loadable():
        fresh = make_model()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no "skipping damaged checkpoint"
            info = kt.checkpoints.load_checkpoint(fresh, directory)
        return info.epoch, info.path.name, [np.array(w) for w in fresh.get_weights()]


    result = {}
    model = make_model()
    if case in ("live_plot", "report"):
        records = []
        logging.getLogger("kerastools").addHandler(logging.Handler())
        logging.getLogger("kerastools").handlers[-1].emit = records.append
        os.makedirs(directory)
        if case == "live_plot":
            writer = kt.callbacks.LivePlot(path=os.path.join(disk, "plot.png"), mode="file",
                                           min_interval_s=0)
            written = os.path.join(disk, "plot.png")
        else:
            writer = kt.callbacks.RunReport(os.path.join(disk, "report"), html_every_seconds=0)
            written = os.path.join(disk, "report", "report.json")
        filling = FillAfterFirstEpoch(0)
        history = model.fit(x, y, epochs=4, batch_size=64, verbose=0, callbacks=[filling, writer])
        with open(written, "rb") as handle:
            content = handle.read()
        whole = (content[:8] == b"\x89PNG\r\n\x1a\n" if case == "live_plot"
                 else json.loads(content)["epochs_run"] >= 1)
        result.update(epochs=len(history.history["loss"]), whole=whole,
                      warnings=[r.getMessage() for r in records if r.levelno >= logging.WARNING],
                      leftovers=leftovers() + sorted(
                          n for n in os.listdir(os.path.dirname(written)) if n.endswith(".tmp")))
        print(json.dumps(result))
        sys.exit(0)

    best_only = case == "best"
    checkpoint = kt.callbacks.PeriodicCheckpoint(
        directory, every_epochs=1000 if best_only else 1, save_best="loss" if best_only else None)
    # Measure the file first: a probe fit of one epoch on a scratch copy of the model.
    sizing = FillAfterFirstEpoch(None)
    model.fit(x, y, epochs=1, batch_size=64, verbose=0, callbacks=[sizing, checkpoint])
    size = max(os.path.getsize(os.path.join(directory, n)) for n in os.listdir(directory)
               if n.endswith(".weights.h5"))
    # Half a file: the weights run out part-way. For the record: the disk fills once the
    # weights file is on disk, just before its record is written (two files of one model
    # can differ in size by a page, so no room can be left for exactly the weights).
    filling = FillAfterFirstEpoch(size // 2 if case in ("periodic", "best") else None)
    filling.weights = dict(sizing.weights)
    if case == "record":
        from kerastools.checkpoints import store

        write_record = store.write_record

        def fill_then_write_record(info, **kwargs):
            if info.epoch == 2:
                fill_leaving(0)
            write_record(info, **kwargs)

        store.write_record = fill_then_write_record
    try:
        model.fit(x, y, initial_epoch=1, epochs=2, batch_size=64, verbose=0,
                  callbacks=[filling, checkpoint])
        result["error"] = None
    except CheckpointError as error:
        result["error"] = str(error)
    result["leftovers"] = leftovers()
    epoch, name, weights = newest_loadable()
    result.update(loaded_epoch=epoch, loaded_file=name, exact=all(
        np.array_equal(a, b) for a, b in zip(weights, filling.weights[epoch], strict=True)))
    os.unlink(filler)  # space again: the same callback saves the next epoch
    model.fit(x, y, initial_epoch=2, epochs=3, batch_size=64, verbose=0,
              callbacks=[filling, checkpoint])
    epoch, name, weights = newest_loadable()
    result.update(recovered_epoch=epoch, recovered_exact=all(
        np.array_equal(a, b) for a, b in zip(weights, filling.weights[epoch], strict=True)))
    print(json.dumps(result))
    '''
)


def run_child(disk, case):
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3", MPLBACKEND="Agg",
               PYTHONPATH=str(ROOT))
    env.pop("KERASTOOLS_LIVEPLOT", None)  # the suite turns live plots off for itself
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(disk), case],
        capture_output=True, text=True, timeout=240,
        env=env,
    )
    # A crash inside HDF5 shows here as -11 (SIGSEGV): the write must fail as an exception.
    assert result.returncode == 0, f"exit {result.returncode}:\n{result.stderr[-3000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case", ["periodic", "best"])
def test_a_weights_file_that_runs_out_of_space_part_way(tmp_path, case):
    with tiny_tmpfs(tmp_path / "mnt", size="4m") as disk:
        result = run_child(disk, case)
    name = "epoch-0002.weights.h5" if case == "periodic" else "best.weights.h5"
    assert result["error"] is not None, "a file that did not fit was reported as saved"
    assert name in result["error"] and "No space left on device" in result["error"]
    assert result["leftovers"] == []
    # The previous checkpoint is intact: the newest loadable one is epoch 1, exactly.
    assert (result["loaded_epoch"], result["loaded_file"], result["exact"]) == (
        1, "epoch-0001.weights.h5" if case == "periodic" else "best.weights.h5", True)
    assert (result["recovered_epoch"], result["recovered_exact"]) == (3, True)


def test_a_record_that_runs_out_of_space(tmp_path):
    with tiny_tmpfs(tmp_path / "mnt", size="4m") as disk:
        result = run_child(disk, "record")
    # The weights file fitted; its record (the commit) did not: the save fails naming
    # the record, and epoch 1 is still the newest checkpoint, exactly.
    assert result["error"] is not None, "a checkpoint whose record did not fit was reported as saved"
    assert "epoch-0002.weights.h5.json" in result["error"]
    assert "No space left on device" in result["error"]
    assert (result["loaded_epoch"], result["loaded_file"]) == (1, "epoch-0001.weights.h5")
    assert result["exact"] and result["leftovers"] == []
    assert (result["recovered_epoch"], result["recovered_exact"]) == (3, True)


@pytest.mark.parametrize("case", ["live_plot", "report"])
def test_a_plot_or_report_on_a_full_disk_warns_once_and_training_goes_on(tmp_path, case):
    with tiny_tmpfs(tmp_path / "mnt", size="4m") as disk:
        result = run_child(disk, case)
    assert result["epochs"] == 4  # fit ran to the end
    assert result["whole"]  # the last PNG or report.json that fitted is still whole
    assert len(result["warnings"]) == 1 and "No space left on device" in result["warnings"][0]
    assert result["leftovers"] == []
