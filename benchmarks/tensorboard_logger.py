"""Cost of TensorBoardLogger as a ratio of the `standard()` bundle's fit time.

Workload: the "squares" regression y = x1^2 + x2^2 on 2000 training points
with a validation split of 0.2, a 2-16-16-1 relu MLP, Adam at 0.01, batch 32
(50 steps an epoch), 20 epochs. Such a loop is dominated by per-step
framework overhead, so it shows any cost the logger adds per batch or per
epoch.

Arms, each a fresh callback list per run:

- `bundle`: `kt.callbacks.standard(plot=False)` (LearningRateLogger,
  EpochTimer, ProgressBar), the baseline;
- `tb_epoch`: `standard(plot=False, tensorboard=dir)`, the logger at
  `update_freq="epoch"` (target <= 1.01x the bundle);
- `tb_batch`: the bundle plus `TensorBoardLogger(dir, update_freq="batch")`;
- `keras_tb` (TensorFlow backend only): the bundle plus Keras' own
  `keras.callbacks.TensorBoard(dir)`, for reference.

Two kinds of figures per arm: the wall-clock ratio, which on a shared
machine moves by more than the logger costs, and the time spent inside the
TensorBoardLogger's own hooks (each hook it overrides is timed): `ms/epoch`
(its per-epoch work: the epoch's records, and with `update_freq="batch"` the
batch records), `ms/fit` (once a fit: reading the optimizer step, the run's
facts, opening the files) and `own ratio` = 1 + per-epoch time / bundle fit
time, the figure the 1.01 target is about. With `update_freq="batch"` the
wall ratio also holds what a batch hook makes Keras do (call the callbacks
after every batch, with the logs as numbers).

One model is trained in this process; before each timed `fit` its weights
and optimizer state are reset (`kerastools.reset_training`), so every run does
the same work with an already traced train function. Runs alternate between
arms, rotating the order every round; each arm's ratio is the median over
rounds of (arm time / bundle time in the same round). Every run logs into a
new directory.

    .venv/bin/python benchmarks/tensorboard_logger.py            # 20 epochs, 5 rounds
    .venv/bin/python benchmarks/tensorboard_logger.py --quick    # smoke run
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

import kerastools as kt

TARGETS = {"tb_epoch": 1.01}
BASELINE = "bundle"
_PER_FIT = ("on_train_begin", "on_train_end")  # and the first on_epoch_begin (facts, opening files)
hook_seconds: dict[tuple[str, str], float] = {}


def timed(name: str, callbacks: list[keras.callbacks.Callback]) -> list[keras.callbacks.Callback]:
    """`callbacks` with the hooks of their TensorBoardLogger adding their time to `hook_seconds`,
    under (arm, "fit") for the once-a-fit work and (arm, "epoch") for the rest."""
    for callback in callbacks:
        if not isinstance(callback, kt.callbacks.TensorBoardLogger):
            continue
        first_epoch = [True]
        hooks = (*_PER_FIT, "on_epoch_begin", "on_epoch_end")
        if callback.update_freq != "epoch":  # only hooks it overrides: another would change Keras' dispatch
            hooks += ("on_train_batch_end",)
        for hook in hooks:
            setattr(callback, hook, _clocked(name, hook, getattr(callback, hook), first_epoch))
    return callbacks


def _clocked(name: str, hook: str, method: Callable, first_epoch: list[bool]) -> Callable:
    def run(*args, **kwargs):
        phase = "fit" if hook in _PER_FIT or (hook == "on_epoch_begin" and first_epoch[0]) else "epoch"
        if hook == "on_train_begin":
            first_epoch[0] = True
        elif hook == "on_epoch_begin":
            first_epoch[0] = False
        start = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            key = (name, phase)
            hook_seconds[key] = hook_seconds.get(key, 0.0) + time.perf_counter() - start

    return run


def arms(log_root: Path) -> dict[str, Callable[[], list[keras.callbacks.Callback]]]:
    counter = iter(range(10**9))

    def fresh() -> Path:
        return log_root / f"run-{next(counter)}"

    found: dict[str, Callable[[], list[keras.callbacks.Callback]]] = {
        "bundle": lambda: kt.callbacks.standard(plot=False),
        "tb_epoch": lambda: kt.callbacks.standard(plot=False, tensorboard=fresh()),
        "tb_batch": lambda: [*kt.callbacks.standard(plot=False),
                             kt.callbacks.TensorBoardLogger(fresh(), update_freq="batch")],
    }
    if keras.backend.backend() == "tensorflow":
        found["keras_tb"] = lambda: [*kt.callbacks.standard(plot=False),
                                     keras.callbacks.TensorBoard(fresh())]
    return found


def squares_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=(n, 2)).astype("float32")
    return x, (x**2).sum(axis=1, keepdims=True).astype("float32")


def time_fit(model: keras.Model, x: np.ndarray, y: np.ndarray, epochs: int, callbacks: list) -> float:
    kt.reset_training(model)
    start = time.perf_counter()
    model.fit(x, y, batch_size=32, validation_split=0.2, epochs=epochs, callbacks=callbacks, verbose=0)
    return time.perf_counter() - start


def run(epochs: int, rounds: int, log_root: Path) -> dict[str, list[float]]:
    keras.utils.set_random_seed(0)
    x, y = squares_data(2000)
    model = kt.compile(kt.build_mlp(2, [16, 16], activation="relu"), optimizer="adam", learning_rate=0.01)
    variants = arms(log_root)
    for factory in variants.values():  # trace the train function, import what each arm imports
        time_fit(model, x, y, 1, factory())
    names = list(variants)
    times: dict[str, list[float]] = {name: [] for name in names}
    hook_seconds.clear()
    for round_index in range(rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(time_fit(model, x, y, epochs, timed(name, variants[name]())))
    return times


def report(times: dict[str, list[float]], epochs: int) -> None:
    baseline = times[BASELINE]
    print(f"backend={keras.backend.backend()}  rounds={len(baseline)}  epochs={epochs}")
    print(f"{'arm':<10} {'median s':>9} {'ratio':>7} {'range':>13} {'min/min':>8} "
          f"{'ms/epoch':>9} {'ms/fit':>7} {'own ratio':>10} {'target':>8}")
    for name, seconds in times.items():
        ratios = [t / b for t, b in zip(seconds, baseline, strict=True)]
        per_epoch = hook_seconds.get((name, "epoch"), 0.0) / len(seconds) / epochs
        per_fit = hook_seconds.get((name, "fit"), 0.0) / len(seconds)
        own = 1 + per_epoch * epochs / statistics.median(baseline)
        target = TARGETS.get(name)
        print(
            f"{name:<10} {statistics.median(seconds):>9.3f} {statistics.median(ratios):>7.3f} "
            f"{f'{min(ratios):.3f}-{max(ratios):.3f}':>13} {min(seconds) / min(baseline):>8.3f} "
            f"{per_epoch * 1e3:>9.3f} {per_fit * 1e3:>7.2f} {own:>10.4f} "
            f"{'' if target is None else f'<= {target:.2f}':>8}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 epochs, 1 round")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5, help="timed runs per arm (median)")
    args = parser.parse_args(argv)
    epochs, rounds = (3, 1) if args.quick else (args.epochs, args.rounds)
    if rounds < 1 or epochs < 1:
        parser.error("--epochs and --rounds must be >= 1")
    log_root = Path(tempfile.mkdtemp(prefix="kerastools-tensorboard-bench-"))
    try:
        report(run(epochs, rounds, log_root), epochs)
    finally:
        shutil.rmtree(log_root, ignore_errors=True)


if __name__ == "__main__":
    main()
