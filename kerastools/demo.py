"""The main job behind `make demo`: build, compile, train briefly, report.

Runs on data generated in-process, so it works offline on a fresh machine.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

__all__ = ["run_demo"]


def run_demo(
    output_dir: str | Path = "demo_output", *, epochs: int = 20, seed: int = 0
) -> dict[str, Any]:
    """Train a small MLP on the circles set and return a summary dict.

    Examples:
        >>> summary = run_demo(tmp_path, epochs=2)   # doctest: +SKIP
        >>> sorted(summary)                          # doctest: +SKIP
        ['final_metrics', 'model', 'optimizer', 'schedule', ...]
    """
    import keras

    import kerastools as kt

    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(seed)
    x, y = kt.datasets.make_circles(2400, noise=0.08, seed=seed)
    (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = kt.datasets.split(x, y, seed=seed)
    batch_size = 32
    model = _build_model(steps_per_epoch=math.ceil(len(x_train) / batch_size))
    lr_logger = kt.callbacks.LearningRateLogger()
    stopper = kt.callbacks.ThresholdEarlyStopping("val_accuracy", threshold=0.99, patience=2)
    live_plot = kt.callbacks.LivePlot(mode="file", path=output / "live_plot.png")
    callbacks: list[keras.callbacks.Callback] = [lr_logger, stopper, kt.callbacks.EpochTimer()]
    callbacks.append(  # crash-safe checkpoints; the summary names the best one
        kt.callbacks.PeriodicCheckpoint(
            output / "checkpoints", every_epochs=1, keep_last=2, save_best="val_loss"
        )
    )
    callbacks.append(live_plot)  # redrawn while training runs, replaced atomically
    start = time.perf_counter()
    history = model.fit(
        x_train,
        y_train,
        validation_data=(x_valid, y_valid),
        epochs=epochs,
        batch_size=batch_size,
        callbacks=callbacks,
        verbose=0,
    )
    elapsed = time.perf_counter() - start
    _, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    curves = kt.plots.training_curves(history, metrics=["accuracy", "learning_rate"])
    summary = _describe_model(model)
    summary.update(
        {
            "epochs": len(history.history["loss"]),
            "fit_seconds": round(elapsed, 2),
            "stop_reason": stopper.stopping_message
            or f"{stopper.stopping_reason.name} (ran all epochs)",
            "learning_rate_curve": f"{lr_logger.history[0]:.3g} -> {lr_logger.history[-1]:.3g} "
            f"over {len(lr_logger.history)} epochs"
            if lr_logger.history
            else "no epochs run",
            "final_metrics": {
                key: round(float(values[-1]), 4) for key, values in history.history.items()
            },
            "test_accuracy": round(float(test_accuracy), 4),
            "best_checkpoint": _describe_best_checkpoint(output / "checkpoints"),
            # atomic write: a reader never sees half an image
            "training_curves_png": kt.plots.save_figure(curves, output / "training_curves.png"),
            "live_plot_png": str(live_plot.output_path)
            if live_plot.output_path is not None
            else f"not written (LivePlot mode {live_plot.resolved_mode!r})",
            "output_dir": str(output),
        }
    )
    return summary


def _build_model(steps_per_epoch: int) -> Any:
    """The demo's MLP: two hidden layers with L2, Adam with momentum and a decaying rate."""
    import kerastools as kt

    model = kt.build_mlp(
        2,
        [16, 16],
        output_activation="sigmoid",
        regularizers={"hidden": ("l2", 1e-4)},
        name="circles_mlp",
    )
    return kt.compile(
        model,
        optimizer="adam",
        learning_rate=0.01,
        schedule="inverse_time",
        decay_steps=1,
        decay_rate=0.1,
        steps_per_epoch=steps_per_epoch,
        momentum=0.9,
        metrics=["accuracy"],
    )


def _describe_model(model: Any) -> dict[str, Any]:
    """The summary lines about the trained model, its optimizer and learning rate."""
    import kerastools as kt

    optimizer = kt.optimization.unwrap_optimizer(model)
    schedule = optimizer.get_config()["learning_rate"]
    return {
        "model": f"{model.name}: {[layer.name for layer in model.layers]} "
        f"({model.count_params()} parameters)",
        "optimizer": f"{type(optimizer).__name__} (beta_1={getattr(optimizer, 'beta_1', None)})",
        "schedule": f"{schedule['class_name']} {schedule['config']}"
        if isinstance(schedule, dict)
        else f"constant {schedule}",
        "learning_rate": f"{kt.current_learning_rate(model):.3g} after "
        f"{int(optimizer.iterations.numpy())} steps",
    }


def _describe_best_checkpoint(directory: Path) -> str:
    """Which checkpoint `load_checkpoint(model, directory, "best")` would load."""
    from kerastools.checkpoints import find_checkpoint

    best = find_checkpoint(directory, "best")
    value = best.metrics.get("val_loss")
    return (
        f"{best.path} (epoch {best.epoch}, val_loss={'n/a' if value is None else f'{value:.4g}'})"
    )
