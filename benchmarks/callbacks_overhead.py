"""Overhead of kerastools callbacks on a small, fast training loop.

Workload: the "squares" regression y = x1^2 + x2^2 on 2000 training
points, a 2-16-16-1 relu MLP, Adam at 0.01, batch 32, 50 epochs. Such a loop
is dominated by per-step framework overhead, so it shows any cost a callback
adds per batch or per epoch.

Each variant is a named factory in `VARIANTS` returning fresh callbacks. One
model is trained in this process; before each timed `fit` its weights and
optimizer state are reset (`kerastools.reset_training`), so every run does the
same work with an already traced train function. Runs alternate between
variants, rotating the order every round; each variant's ratio is the median
over rounds of (variant time / bare time in the same round).

    .venv/bin/python benchmarks/callbacks_overhead.py            # full: 50 epochs, 3 rounds
    .venv/bin/python benchmarks/callbacks_overhead.py --quick    # smoke run, a few seconds
    .venv/bin/python benchmarks/callbacks_overhead.py --schedule inverse_time   # scheduled rate
    # issue 22's bundle (LR logger, live plot to file, checkpoint every epoch keeping 2, stop rule):
    KERAS_BACKEND=jax .venv/bin/python benchmarks/callbacks_overhead.py --only bundle checkpoint \
        --samples 2500 --epochs 20 --rounds 7

To compare another callback, add an entry to `VARIANTS`, e.g.
`"live_plot": lambda: [kt.callbacks.LivePlot(...)]`.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

import keras
import numpy as np

import kerastools as kt

# Targets from issue 3: fit time with the callbacks / bare fit time.
TARGETS = {"lr_epoch+stop": 1.02, "lr_batch+stop": 1.05}


def _stopper() -> keras.callbacks.Callback:
    # A loss cannot fall below 0, so the rule runs every epoch but never stops
    # the run: all variants train the same number of epochs.
    return kt.callbacks.ThresholdEarlyStopping("loss", threshold=-1.0)


VARIANTS: dict[str, Callable[[], list[keras.callbacks.Callback]]] = {
    "bare": lambda: [],
    "lr_epoch+stop": lambda: [kt.callbacks.LearningRateLogger(per="epoch"), _stopper()],
    "lr_batch+stop": lambda: [kt.callbacks.LearningRateLogger(per="batch"), _stopper()],
}
BASELINE = "bare"

# Issue 7: LivePlot writing its PNG (file mode, what a script or CI gets)
# against livelossplot's PlotLossesKeras, the anchor (about 2x in the issue).
# Agg, so livelossplot's pyplot never opens a window; no KERASTOOLS_LIVEPLOT
# override, so mode="file" is what runs.
os.environ["MPLBACKEND"] = "Agg"
os.environ.pop("KERASTOOLS_LIVEPLOT", None)
TARGETS["live_plot_file"] = 1.03
_LIVE_PLOT_DIR = tempfile.mkdtemp(prefix="kerastools-live-plot-")
atexit.register(shutil.rmtree, _LIVE_PLOT_DIR, True)


class _Quiet(keras.callbacks.Callback):
    """Sends livelossplot's per-epoch text to /dev/null, to keep this report readable."""

    def on_train_begin(self, logs=None):
        self._stdout, sys.stdout = sys.stdout, open(os.devnull, "w")  # noqa: SIM115

    def on_train_end(self, logs=None):
        sys.stdout.close()
        sys.stdout = self._stdout


def _livelossplot() -> list[keras.callbacks.Callback]:
    from livelossplot import PlotLossesKeras

    return [_Quiet(), PlotLossesKeras()]


VARIANTS["live_plot_file"] = lambda: [
    kt.callbacks.LivePlot(mode="file", path=os.path.join(_LIVE_PLOT_DIR, "live_plot.png"))
]
VARIANTS["livelossplot"] = _livelossplot

# Issue 22: the four-callback bundle, the checkpoint saving every epoch (the default, background
# writer) and keeping two files.
TARGETS["bundle"] = TARGETS["checkpoint"] = 1.03
_CHECKPOINTS = iter(range(10**6))


def _checkpoint() -> keras.callbacks.Callback:
    directory = os.path.join(_LIVE_PLOT_DIR, f"checkpoints-{next(_CHECKPOINTS)}")
    return kt.callbacks.PeriodicCheckpoint(directory, every_epochs=1, keep_last=2)


VARIANTS["checkpoint"] = lambda: [_checkpoint()]
VARIANTS["bundle"] = lambda: [
    kt.callbacks.LearningRateLogger(per="epoch"),
    _stopper(),
    kt.callbacks.LivePlot(mode="file", path=os.path.join(_LIVE_PLOT_DIR, "bundle.png")),
    _checkpoint(),
]


def squares_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The "squares" set: points in [-1, 1]^2, target x1^2 + x2^2."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=(n, 2)).astype("float32")
    return x, (x**2).sum(axis=1, keepdims=True).astype("float32")


def time_fit(
    model: keras.Model, x: np.ndarray, y: np.ndarray, epochs: int, callbacks: list
) -> float:
    """Seconds for one `fit` from the recorded initial state."""
    kt.reset_training(model)
    start = time.perf_counter()
    model.fit(x, y, batch_size=32, epochs=epochs, callbacks=callbacks, verbose=0)
    return time.perf_counter() - start


def run(
    epochs: int, rounds: int, samples: int = 2000, schedule: str | None = None
) -> dict[str, list[float]]:
    """Time every variant `rounds` times, alternating; returns seconds per variant."""
    keras.utils.set_random_seed(0)
    x, y = squares_data(samples)
    model = kt.compile(
        kt.build_mlp(2, [16, 16], activation="relu"),
        optimizer="adam",
        learning_rate=0.01,
        schedule=schedule,  # None: a constant rate
        decay_rate=0.1,
        steps_per_epoch=-(-samples // 32),
    )
    # Trace the train function (and any eager schedule evaluation) before timing.
    for factory in VARIANTS.values():
        time_fit(model, x, y, 1, factory())
    names = list(VARIANTS)
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(time_fit(model, x, y, epochs, VARIANTS[name]()))
    return times


def report(times: dict[str, list[float]], schedule: str | None = None) -> None:
    """Print, per variant: median seconds, the median of per-round ratios to the
    baseline (the headline figure), the range of those ratios, and the ratio of
    the fastest runs (least disturbed by other load on a shared machine)."""
    baseline = times[BASELINE]
    print(f"backend={keras.backend.backend()}  rounds={len(baseline)}  schedule={schedule}")
    print(
        f"{'variant':<16} {'median s':>9} {'ratio':>7} {'range':>13} {'min/min':>8} {'target':>8}"
    )
    for name, seconds in times.items():
        ratios = [t / b for t, b in zip(seconds, baseline, strict=True)]
        target = TARGETS.get(name)
        print(
            f"{name:<16} {statistics.median(seconds):>9.3f} {statistics.median(ratios):>7.3f} "
            f"{f'{min(ratios):.3f}-{max(ratios):.3f}':>13} {min(seconds) / min(baseline):>8.3f} "
            f"{'' if target is None else f'<= {target:.2f}':>8}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 epochs, 1 round")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3, help="timed runs per variant (median)")
    parser.add_argument("--samples", type=int, default=2000, help="training points")
    parser.add_argument("--only", nargs="+", choices=list(VARIANTS), help="these variants and bare")
    parser.add_argument(
        "--schedule",
        choices=["inverse_time", "exponential"],
        help="train with this learning-rate schedule instead of a constant rate",
    )
    args = parser.parse_args(argv)
    epochs, rounds = (3, 1) if args.quick else (args.epochs, args.rounds)
    if rounds < 1 or epochs < 1:
        parser.error("--epochs and --rounds must be >= 1")
    if args.only:
        for name in [name for name in VARIANTS if name not in (BASELINE, *args.only)]:
            del VARIANTS[name]
    report(run(epochs, rounds, samples=args.samples, schedule=args.schedule), args.schedule)


if __name__ == "__main__":
    main()
