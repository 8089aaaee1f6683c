"""Long sessions: memory stays flat and redraws stay cheap over thousands of epochs and many trials.

Memory is the process's resident set size (RSS, from /proc/self/statm),
measured after the first 10% of the run and at its end; the end must be
within 10% of the early value (a leaked figure or model per epoch or trial
would break that long before 2000 epochs or 50 trials). Numbers are printed
(see them with `-s`).
"""

from __future__ import annotations

import gc
import math
import os
import statistics
import time
from pathlib import Path

import keras
import numpy as np
import pytest

import kerastools as kt
from kerastools.callbacks import LivePlot
from kerastools.callbacks.live_plot import ENV_VAR

pytestmark = pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs /proc/self/statm (Linux)")

EPOCHS = 2000
REDRAW_EVERY = 20  # fake seconds between redraws (one fake second per epoch)


def rss_mib() -> float:
    gc.collect()
    with open("/proc/self/statm") as handle:
        resident_pages = int(handle.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def report(capsys, line: str) -> None:
    with capsys.disabled():
        print("\n" + line)


def fake_logs(epoch: int, rng: np.random.Generator) -> dict[str, float]:
    """A run that learns, with noise; validation keys appear at epoch 50, the rate at 100."""
    progress = 1.0 - math.exp(-epoch / 300)
    logs = {
        "loss": 1.0 - 0.9 * progress + 0.02 * rng.standard_normal(),
        "accuracy": 0.5 + 0.45 * progress + 0.01 * rng.standard_normal(),
    }
    if epoch >= 50:
        logs["val_loss"] = logs["loss"] + 0.05 + 0.03 * rng.standard_normal()
        logs["val_accuracy"] = logs["accuracy"] - 0.02 + 0.01 * rng.standard_normal()
    if epoch >= 100:
        logs["learning_rate"] = 0.01 / (1 + epoch / 100)
    return logs


def structure(plot: LivePlot) -> tuple[int, int, int]:
    """(figures alive, axes, lines): what a leak per redraw would grow."""
    from matplotlib.figure import Figure

    figures = sum(isinstance(obj, Figure) for obj in gc.get_objects())
    lines = sum(len(axes.lines) for axes in plot.figure.axes)
    return figures, len(plot.figure.axes), lines


def test_live_plot_over_2000_epochs_keeps_memory_and_redraw_time_flat(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(ENV_VAR, "file")  # the test suite turns LivePlot off by default
    path = tmp_path / "live.png"
    plot = LivePlot(mode="file", path=path, targets={"val_accuracy": 0.95}, min_interval_s=REDRAW_EVERY)
    fake_now = [0.0]
    plot._clock = lambda: fake_now[0]  # the throttle sees one second per epoch
    render_png = plot.render_png
    renders: list[tuple[int, float]] = []  # (epoch, real seconds)
    epoch = 0

    def timed_render() -> bytes:
        start = time.perf_counter()
        png = render_png()
        renders.append((epoch, time.perf_counter() - start))
        return png

    plot.render_png = timed_render
    plot.set_params({"epochs": EPOCHS, "steps": 10, "verbose": 0})
    rng = np.random.default_rng(0)
    plot.on_train_begin()
    early = None
    for epoch in range(EPOCHS):
        fake_now[0] += 1.0
        plot.on_epoch_begin(epoch)
        plot.on_epoch_end(epoch, fake_logs(epoch, rng))
        if epoch + 1 == EPOCHS // 10:
            early = rss_mib(), structure(plot), path.stat().st_size
    plot.on_train_end()
    late = rss_mib(), structure(plot), path.stat().st_size

    tenth = EPOCHS // 10

    def median_ms(begin: int, end: int) -> float:
        return statistics.median(s for at, s in renders if begin <= at < end) * 1e3

    # The first tenth includes the redraws that lay out new panels and move the
    # axis limits often; the middle one is the steady state the end must match.
    first = median_ms(0, tenth)
    middle = median_ms((EPOCHS - tenth) // 2, (EPOCHS + tenth) // 2)
    last = median_ms(EPOCHS - tenth, EPOCHS)
    growth = late[0] / early[0] - 1
    report(
        capsys,
        f"LivePlot {EPOCHS} epochs: RSS {early[0]:.1f} MiB after {tenth} epochs -> {late[0]:.1f} MiB "
        f"at the end ({growth:+.2%}); {len(renders)} redraws, median redraw {first:.1f} ms (first "
        f"{tenth} epochs), {middle:.1f} ms (middle {tenth}), {last:.1f} ms (last {tenth}); "
        f"(figures, axes, lines) {early[1]} -> {late[1]}; PNG {early[2]} -> {late[2]} bytes",
    )
    assert len(plot.history["loss"]) == EPOCHS
    assert late[1] == early[1], "figures, axes or lines grew after every key had appeared"
    assert abs(growth) <= 0.10
    # Flat: the last redraws cost about what the earlier ones did (2.5x leaves room for a busy machine).
    assert last < 2.5 * first and last < 2.5 * middle
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


class RecordMemory(keras.callbacks.Callback):
    """After each trial's fit: resident memory."""

    def __init__(self, samples: list[float]):
        super().__init__()
        self.samples = samples

    def on_train_end(self, logs=None):
        self.samples.append(rss_mib())


def run_sweep(trials: int, capsys) -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(64, 2)).astype("float32")
    y = (x**2).sum(axis=1, keepdims=True)
    units = [2, 3, 4, 5, 6]
    rates = [float(r) for r in np.geomspace(1e-3, 1e-1, trials // len(units))]
    samples: list[float] = []
    results = kt.sweep.sweep(
        lambda units, learning_rate: kt.compile(kt.build_mlp(2, [units]), learning_rate=learning_rate),
        {"units": units, "learning_rate": rates},
        data=(x, y),
        fit_kwargs={"epochs": 1, "batch_size": 64},
        callbacks=lambda: [RecordMemory(samples)],
    )
    assert len(results) == trials == len(samples)
    tenth = max(trials // 10, 1)
    early, late = samples[tenth - 1], samples[-1]
    growth = late / early - 1
    fit_first = statistics.median(record.fit_seconds for record in results[:tenth])
    fit_last = statistics.median(record.fit_seconds for record in results[-tenth:])
    report(
        capsys,
        f"sweep {trials} trials: RSS {early:.1f} MiB after trial {tenth} -> {late:.1f} MiB after "
        f"trial {trials} ({growth:+.2%}, {(late - early) / (trials - tenth) * 1024:.0f} KiB/trial); "
        f"median fit {fit_first:.3f} s (first {tenth}) vs {fit_last:.3f} s (last {tenth})",
    )
    assert abs(growth) <= 0.10


def test_sweep_of_10_trials_keeps_memory_flat(capsys):
    run_sweep(10, capsys)


@pytest.mark.slow
def test_sweep_of_50_trials_keeps_memory_flat(capsys):
    run_sweep(50, capsys)
