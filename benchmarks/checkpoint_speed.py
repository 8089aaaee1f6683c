"""Cost of `PeriodicCheckpoint`: per-save cost as records pile up, throughput, fit time.

0. Per-save time at save 10 against save 10,000 of a tiny model (the 2-16-16-1
   MLP) with `keep_last=None`, through `CheckpointStore` (what
   `PeriodicCheckpoint(every_steps=1)` calls), each save waited for. One
   directory gets 20 real saves, then is filled to 9,989 checkpoints: hard
   links to its last file, each with a copy of that file's record (10,000
   real saves would take minutes and ~250 MB); the store reopens it, and its
   saves 9,990-10,010 alternate with saves 10-30 of a second, new
   directory, so both see the same load. Target: median ratio <= 1.1. Also
   printed: the O(records) steps, `open()` and a fresh listing.
1. Throughput (MB/s of variable data) of the callback's save path, measured
   from the epoch-end hook until the file and its record are on disk
   (the host copy, the `.weights.h5` bytes, write, SHA-256 of the bytes,
   fsync, rename, record), against raw h5py writing the same numpy arrays to one file: once as a bare write, and once
   fsynced, which is the durability the checkpoint promises; and against
   Keras' own `model.save_weights`, bare and followed by the same fsync of
   the file (no directory fsync). Target: >= 0.9 of `save_weights`+fsync.
2. Fit-time ratio on the small regression workload: the "squares" regression on 2000
   points, a 2-16-16-1 relu MLP, Adam at 0.01, batch 32, 50 epochs, with
   `PeriodicCheckpoint(every_epochs=1)` against no callback, for the default
   (`background=True`: the write overlaps the next epoch; a kill can cost
   two periods) and for `background=False` (each save on disk before
   training goes on).
   Target: <= 1.03.

3. What a save blocks training for, on a model of about 120 MB of variables
   (Dense layers of about 10M parameters with Adam, after one train step so
   Adam's slots exist): (a) copying every variable to host memory
   (`keras_format.host_array` of each), (b) `keras_format.snapshot_weights` (the host copy, its
   layout learnt at a first save), (c) the old `write_snapshot` (Keras'
   `save_weights` into memory on the training thread), and (d) building the
   file's bytes from the copies (the writer thread's share of (b)). Target:
   (b) <= 2 x (a) + 20 ms. `--only blocking` runs this section alone.

Runs alternate (the order rotates every round) and each ratio is the median
over rounds of the ratio within a round.

    .venv/bin/python benchmarks/checkpoint_speed.py            # 50 epochs, 3 rounds, ~90 MB
    .venv/bin/python benchmarks/checkpoint_speed.py --quick    # a smoke run, ~20 s
    .venv/bin/python benchmarks/checkpoint_speed.py --only blocking --rounds 7
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import h5py
import keras
import numpy as np

import kerastools as kt
from kerastools.checkpoints.directory import read_index
from kerastools.checkpoints.keras_format import host_array, snapshot_weights, write_snapshot
from kerastools.checkpoints.record import encode_record, record_path
from kerastools.checkpoints.store import CheckpointStore


def squares_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The "squares" set: points in [-1, 1]^2, target x1^2 + x2^2."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=(n, 2)).astype("float32")
    return x, (x**2).sum(axis=1, keepdims=True).astype("float32")


# -- 0. per-save cost as the records pile up ------------------------------------


def tiny_model() -> keras.Model:
    x, y = squares_data(64)
    model = kt.compile(
        kt.build_mlp(2, [16, 16], activation="relu"), optimizer="adam", learning_rate=0.01
    )
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)  # builds the optimizer
    return model


def timed_saves(store: CheckpointStore, model: keras.Model, steps: range) -> list[float]:
    times = []
    for step in steps:
        start = time.perf_counter()
        store.save(model, [(f"step-{step:08d}.weights.h5", "step")], epoch=0, step=step,
                   logs={"loss": 0.5})
        times.append(time.perf_counter() - start)
    return times


def fill_records(directory: Path, upto: int) -> None:
    """Checkpoints up to step `upto`: hard links to the last real save's file, each with its
    record (the real record, renamed and renumbered)."""
    index = read_index(directory)
    template = index.checkpoints[-1]
    for step in range(len(index.checkpoints) + 1, upto + 1):
        info = dataclasses.replace(
            template, path=directory / f"step-{step:08d}.weights.h5", step=step,
            sequence=template.sequence + step,
        )
        os.link(template.path, info.path)
        record_path(info.path).write_bytes(encode_record(info))


def per_save(records: int) -> dict[str, float]:
    """Saves 10-30 of one directory alternate with saves around `records` of another."""
    model = tiny_model()
    work = Path(tempfile.mkdtemp(prefix="kt-ckpt-saves-", dir=os.environ.get("BENCH_DIR")))
    try:
        small, big = CheckpointStore(work / "small"), CheckpointStore(work / "big")
        small.open()
        big.open()
        timed_saves(small, model, range(1, 10))  # also warms up h5py and the file system
        timed_saves(big, model, range(1, 21))
        big.close()
        fill_records(work / "big", records - 11)
        big = CheckpointStore(work / "big")
        start = time.perf_counter()
        big.open()
        opened = time.perf_counter() - start
        early, late = [], []
        for offset in range(21):  # alternate: both see the same load on a shared machine
            early += timed_saves(small, model, range(10 + offset, 11 + offset))
            late += timed_saves(big, model, range(records - 10 + offset, records - 9 + offset))
        small.close()
        start = time.perf_counter()
        big.close()
        closed = time.perf_counter() - start
        start = time.perf_counter()
        listed = len(read_index(work / "big").checkpoints)  # what a reader of a new process does
        listing = time.perf_counter() - start
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"early": statistics.median(early), "late": statistics.median(late),
            "late_max": max(late), "open": opened, "close": closed, "listing": listing,
            "records": listed}


# -- 1. write throughput -----------------------------------------------------


def big_model(megabytes: float) -> keras.Model:
    """An MLP whose weights plus Adam's two slots take about `megabytes`."""
    width = 1024
    params = int(megabytes * 1e6 / 4 / 3)  # float32, weights + 2 slots
    depth = max(1, params // (width * width))
    model = kt.build_mlp(width, [width] * depth)
    return kt.compile(model, optimizer="adam", learning_rate=1e-3)  # builds the slots


def raw_h5py(arrays: list[np.ndarray], path: Path, fsync: bool) -> None:
    with h5py.File(path, "w") as handle:
        for index, array in enumerate(arrays):
            handle.create_dataset(f"{index:05d}", data=array)
    if fsync:
        with open(path, "rb+") as handle:
            os.fsync(handle.fileno())


def keras_save_weights(model: keras.Model, path: Path, fsync: bool) -> None:
    model.save_weights(path)
    if fsync:
        with open(path, "rb+") as handle:
            os.fsync(handle.fileno())


def checkpoint_save(model: keras.Model, directory: Path, epoch: int) -> None:
    """One epoch-end save through the callback, until it is on disk."""
    callback = kt.callbacks.PeriodicCheckpoint(directory)
    callback.set_model(model)
    callback.on_train_begin()
    callback.on_epoch_end(epoch, {"loss": 1.0})
    callback.on_train_end()


def throughput(megabytes: float, rounds: int) -> dict[str, list[float]]:
    model = big_model(megabytes)
    variables = model.weights + model.optimizer.variables
    arrays = [keras.ops.convert_to_numpy(v) for v in variables]
    nbytes = sum(array.nbytes for array in arrays)
    print(f"throughput: {len(arrays)} arrays, {nbytes / 1e6:.1f} MB per file")
    work = Path(tempfile.mkdtemp(prefix="kt-ckpt-bench-", dir=os.environ.get("BENCH_DIR")))
    variants: dict[str, Callable[[int], None]] = {
        "raw h5py": lambda i: raw_h5py(arrays, work / f"raw-{i}.h5", fsync=False),
        "raw h5py+fsync": lambda i: raw_h5py(arrays, work / f"sync-{i}.h5", fsync=True),
        "save_weights": lambda i: keras_save_weights(model, work / f"k-{i}.weights.h5", False),
        "save_weights+fsync": lambda i: keras_save_weights(
            model, work / f"ks-{i}.weights.h5", True
        ),
        "PeriodicCheckpoint": lambda i: checkpoint_save(model, work / "ckpt", i),
    }
    speeds: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    try:
        for name in names:  # warm up (h5py, file system)
            variants[name](0)
        for round_index in range(rounds):
            shift = round_index % len(names)
            for name in names[shift:] + names[:shift]:
                start = time.perf_counter()
                variants[name](round_index + 1)
                speeds[name].append(nbytes / 1e6 / (time.perf_counter() - start))
            # Deleting old files is keep_last's job, not writing: do it untimed.
            for leftover in [*work.glob("*.h5"), *work.glob("ckpt/*")]:
                leftover.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return speeds


# -- 2. fit time ---------------------------------------------------------------


def time_fit(model: keras.Model, x: np.ndarray, y: np.ndarray, epochs: int, callbacks: list) -> float:
    kt.reset_training(model)
    start = time.perf_counter()
    model.fit(x, y, batch_size=32, epochs=epochs, callbacks=callbacks, verbose=0)
    return time.perf_counter() - start


def fit_times(epochs: int, rounds: int) -> dict[str, list[float]]:
    keras.utils.set_random_seed(0)
    x, y = squares_data(2000)
    model = kt.compile(
        kt.build_mlp(2, [16, 16], activation="relu"), optimizer="adam", learning_rate=0.01
    )
    work = Path(tempfile.mkdtemp(prefix="kt-ckpt-fit-", dir=os.environ.get("BENCH_DIR")))
    counter = iter(range(10**6))
    variants: dict[str, Callable[[], list]] = {
        "no callback": lambda: [],
        "every_epochs=1": lambda: [
            kt.callbacks.PeriodicCheckpoint(work / f"run-{next(counter)}", every_epochs=1)
        ],
        "background=False": lambda: [
            kt.callbacks.PeriodicCheckpoint(
                work / f"run-{next(counter)}", every_epochs=1, background=False
            )
        ],
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    try:
        for factory in variants.values():  # trace the train function first
            time_fit(model, x, y, 1, factory())
        for round_index in range(rounds):
            shift = round_index % len(names)
            for name in names[shift:] + names[:shift]:
                times[name].append(time_fit(model, x, y, epochs, variants[name]()))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return times


# -- 3. what a save blocks -------------------------------------------------------


def blocking_times(megabytes: float, rounds: int) -> dict[str, list[float]]:
    """Seconds per save of each way, alternating; the model after one Adam step."""
    keras.utils.set_random_seed(0)
    model = big_model(megabytes)
    inputs = model.inputs[0].shape[1]
    model.train_on_batch(np.ones((8, inputs), "float32"), np.ones((8, 1), "float32"))
    variables = model.weights + model.optimizer.variables
    nbytes = sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in variables)
    params = sum(int(np.prod(v.shape)) for v in model.weights)
    print(f"\nblocking: {params / 1e6:.1f}M parameters, Adam, {len(variables)} variables, "
          f"{nbytes / 1e6:.1f} MB")
    target = Path("epoch-0001.weights.h5")  # named in errors only: nothing is written to disk
    built: list[Callable[[], bytes]] = []
    variants: dict[str, Callable[[], object]] = {
        "host copy": lambda: [host_array(v) for v in [*model.weights, *model.optimizer.variables]],
        "snapshot_weights": lambda: built.append(snapshot_weights(model, target, True)),
        "write_snapshot": lambda: write_snapshot(model, target, True),
    }
    times: dict[str, list[float]] = {name: [] for name in [*variants, "build bytes"]}
    names = list(variants)
    snapshot_weights(model, target, True)()  # the first save learns the layout
    for variant in variants.values():
        variant()
    built.clear()
    for round_index in range(rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            variants[name]()
            times[name].append(time.perf_counter() - start)
        start = time.perf_counter()
        built.pop()()  # on the writer thread, while training goes on
        times["build bytes"].append(time.perf_counter() - start)
    return times


def median_ratio(values: list[float], baseline: list[float]) -> float:
    return statistics.median(v / b for v, b in zip(values, baseline, strict=True))


SECTIONS = ("per-save", "throughput", "fit", "blocking")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 1,000 records, 8 MB, 5 epochs, 3 rounds"
    )
    parser.add_argument("--records", type=int, default=10_000, help="records for the late saves")
    parser.add_argument("--megabytes", type=float, default=90.0, help="checkpoint size")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (median)")
    parser.add_argument(
        "--blocking-megabytes", type=float, default=120.0, help="model size of the blocking section"
    )
    parser.add_argument("--only", choices=SECTIONS, help="run one section")
    args = parser.parse_args(argv)
    megabytes, epochs, rounds = (8.0, 5, 3) if args.quick else (args.megabytes, args.epochs, args.rounds)
    records = 1_000 if args.quick else args.records
    blocking_megabytes = 8.0 if args.quick else args.blocking_megabytes
    if rounds < 1 or epochs < 1 or megabytes <= 0 or blocking_megabytes <= 0 or records < 100:
        parser.error(
            "--rounds, --epochs, --megabytes and --blocking-megabytes must be positive, "
            "--records >= 100"
        )
    print(f"backend={keras.backend.backend()}  rounds={rounds}")
    sections = [args.only] if args.only else list(SECTIONS)
    if "per-save" in sections:
        print_per_save(records)
    if "throughput" in sections:
        print_throughput(megabytes, rounds)
    if "fit" in sections:
        print_fit(epochs, rounds)
    if "blocking" in sections:
        print_blocking(blocking_megabytes, rounds)


def print_per_save(records: int) -> None:

    cost = per_save(records)
    print(f"\nper save, tiny model, keep_last=None ({int(cost['records'])} records at the end)")
    print(f"  saves 10-30:           median {cost['early'] * 1e3:7.2f} ms")
    print(f"  saves {records - 10}-{records + 10}: median {cost['late'] * 1e3:7.2f} ms "
          f"(slowest {cost['late_max'] * 1e3:.2f} ms)")
    print(f"  ratio late/early: {cost['late'] / cost['early']:.3f}   target: <= 1.10")
    print(f"  open() listing {records - 11} records: {cost['open'] * 1e3:.1f} ms; "
          f"close(): {cost['close'] * 1e3:.1f} ms (once per fit)")
    print(f"  listing the {int(cost['records'])} records afresh (once per restart): "
          f"{cost['listing'] * 1e3:.1f} ms\n")


def print_throughput(megabytes: float, rounds: int) -> None:
    speeds = throughput(megabytes, rounds)
    print(f"{'writer':<20} {'median MB/s':>12} {'vs raw':>7} {'vs raw+fsync':>13} "
          f"{'vs save_weights+fsync':>22}")
    for name, values in speeds.items():
        print(
            f"{name:<20} {statistics.median(values):>12.0f} "
            f"{median_ratio(values, speeds['raw h5py']):>7.2f} "
            f"{median_ratio(values, speeds['raw h5py+fsync']):>13.2f} "
            f"{median_ratio(values, speeds['save_weights+fsync']):>22.2f}"
        )
    print("target: PeriodicCheckpoint >= 0.90 of Keras' save_weights with the same fsync")


def print_fit(epochs: int, rounds: int) -> None:
    times = fit_times(epochs, rounds)
    print(f"\nfit: squares regression, 2-16-16-1 relu, Adam 0.01, batch 32, {epochs} epochs")
    print(f"{'variant':<16} {'median s':>9} {'ratio':>7}")
    for name, values in times.items():
        ratio = median_ratio(values, times["no callback"])
        print(f"{name:<16} {statistics.median(values):>9.3f} {ratio:>7.3f}")
    print("every_epochs=1 is the default (the write overlaps training); background=False waits")
    print("target: every_epochs=1 <= 1.03")


def print_blocking(megabytes: float, rounds: int) -> None:
    times = blocking_times(megabytes, rounds)
    print(f"{'what':<40} {'median ms':>10} {'vs host copy':>13}")
    labels = {
        "host copy": "(a) host copy of every variable",
        "snapshot_weights": "(b) snapshot_weights: training waits",
        "write_snapshot": "(c) write_snapshot (old): training waits",
        "build bytes": "(d) building the bytes (writer thread)",
    }
    for name, label in labels.items():
        ratio = median_ratio(times[name], times["host copy"])
        print(f"{label:<40} {statistics.median(times[name]) * 1e3:>10.1f} {ratio:>13.2f}")
    copy, blocking = statistics.median(times["host copy"]), statistics.median(times["snapshot_weights"])
    verdict = "met" if blocking <= 2 * copy + 0.020 else "NOT met"
    print(f"target: (b) <= 2 x (a) + 20 ms = {(2 * copy + 0.020) * 1e3:.1f} ms: {verdict}; "
          f"(c)/(b) = {median_ratio(times['write_snapshot'], times['snapshot_weights']):.1f}")


if __name__ == "__main__":
    main()
