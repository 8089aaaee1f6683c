"""A live sweep's redraw time must not grow with the number of finished trials.

Feeds fake logs (loss, accuracy and their validation twins, 50 epochs a
trial) straight to the figure `sweep(..., live=...)` draws, no training, and
times three kinds of redraw at trial 2 (one trial finished) and at trial 50
(49 finished), on the same 50-trial figure:

- running: the redraw after an epoch of the running trial (what almost every
  redraw is): the cached background plus the running trial's lines;
- trial end: the redraw when a trial finishes and its lines join the
  background (once per trial);
- full: the whole figure, what a redraw costs when an axis limit moves (rare:
  limits grow in steps). This one does grow with the trials drawn.

The target (issue 16): the running and trial-end redraws at trial 50 within
20% of trial 2 (p95 ratio <= 1.2).

    .venv/bin/python benchmarks/live_compare.py            # 200 redraws per kind and size
    .venv/bin/python benchmarks/live_compare.py --quick    # smoke run
"""

from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np

os.environ.pop("KERASTOOLS_LIVEPLOT", None)

from kerastools.live.panels import PanelPlan  # noqa: E402
from kerastools.sweep.live_figure import SweepFigure  # noqa: E402

TARGET = 1.20
TRIALS = 50
EPOCHS = 50


def fake_logs(trial: int, epoch: int) -> dict[str, float]:
    # Every trial inside the same range, so limits settle after the first trial.
    scale = 0.2 + 0.8 * ((trial * 7) % TRIALS) / TRIALS
    decay = math.exp(-epoch / (10 * scale + 2))
    return {
        "loss": 0.05 + 0.9 * decay,
        "val_loss": 0.07 + 0.9 * decay,
        "accuracy": 0.95 - 0.5 * decay,
        "val_accuracy": 0.93 - 0.5 * decay,
    }


def new_figure() -> SweepFigure:
    labels = [f"units={2 ** (1 + trial % 5)}, lr={10.0 ** -(1 + trial // 5 % 4):g}, seed={trial}"
              for trial in range(TRIALS)]
    plan = PanelPlan(metrics=None, show_lr=False, log_loss=False, targets={})
    return SweepFigure(labels, plan, figsize=(10, 3.5), dpi=80, max_points=2000)


def run_trial(figure: SweepFigure, trial: int) -> None:
    figure.begin_trial(trial, planned_epochs=EPOCHS)
    for epoch in range(EPOCHS):
        figure.record_epoch(epoch, fake_logs(trial, epoch))


def sweep_at(trial: int) -> tuple[SweepFigure, list[float]]:
    """A figure whose trial `trial` (from 1) is running at its last epoch; the trial-end redraw times."""
    figure = new_figure()
    trial_end: list[float] = []
    for index in range(trial):
        run_trial(figure, index)
        start = time.perf_counter()
        figure.render()  # trial `index - 1` just finished: its lines join the background
        trial_end.append(time.perf_counter() - start)
    return figure, trial_end


def timed(figure: SweepFigure, full: bool) -> float:
    if full:
        figure.forget_background()
    start = time.perf_counter()
    figure.render()
    return time.perf_counter() - start


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def row(label: str, small: list[float], large: list[float], target: bool) -> None:
    ratio = p95(large) / p95(small)
    median_ratio = float(np.median(large) / np.median(small))
    goal = f"<= {TARGET:.2f}" if target else "-"
    print(f"{label:<14} {p95(small) * 1e3:>11.2f} {p95(large) * 1e3:>11.2f} {ratio:>7.2f} {goal:>8} {median_ratio:>13.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200, help="timed redraws per kind and size")
    parser.add_argument("--quick", action="store_true", help="smoke run: 10 redraws")
    args = parser.parse_args(argv)
    repeats = 10 if args.quick else args.repeats
    print(f"{TRIALS}-trial figure, {EPOCHS} epochs a trial, 4 panels; times in ms")
    print(f"{'redraw':<14} {'p95 @2':>11} {'p95 @50':>11} {'ratio':>7} {'target':>8} {'median ratio':>13}")
    small, _ = sweep_at(2)
    large, trial_end = sweep_at(TRIALS)
    for label, full in (("running", False), ("full", True)):
        times: dict[int, list[float]] = {2: [], 50: []}
        for _ in range(repeats):  # alternate, so load on the machine hits both alike
            times[2].append(timed(small, full))
            times[50].append(timed(large, full))
        row(label, times[2], times[50], target=not full)
        if not full:
            running = times
    # Trial-end redraws of one sweep: trials 2-11 against trials 41-50 (trial 1 lays the figure out).
    row("trial end", trial_end[1:11], trial_end[-10:], target=True)
    sizes = (len(large.figure.axes), sum(len(axes.get_lines()) for axes in large.figure.axes))
    print(f"trial 50: {sizes[0]} panels, {sizes[1]} lines; running-redraw median "
          f"{np.median(running[50]) * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
