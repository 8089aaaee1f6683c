"""The main job behind `make demo`: build, compile, train briefly, report.

Runs on data generated in-process, so it works offline on a fresh machine.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["run_demo"]


def _circles(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    # Two noisy concentric rings (seed 000/001's binary classification set).
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, 2 * math.pi, n)
    label = rng.integers(0, 2, n)
    radius = np.where(label == 1, 0.5, 1.0) + rng.normal(0, 0.08, n)
    x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return x.astype("float32"), label.astype("float32")


def run_demo(output_dir: str | Path = "demo_output", *, epochs: int = 20, seed: int = 0) -> dict[str, Any]:
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
    x, y = _circles(2400, seed)
    x_train, y_train, x_valid, y_valid = x[:2000], y[:2000], x[2000:], y[2000:]
    batch_size = 32
    steps_per_epoch = math.ceil(len(x_train) / batch_size)

    model = kt.build_mlp(
        2, [16, 16], output_activation="sigmoid", regularizers={"hidden": ("l2", 1e-4)}, name="circles_mlp"
    )
    kt.compile(
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
    callbacks: list[keras.callbacks.Callback] = []
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
        "epochs": len(history.history["loss"]),
        "fit_seconds": round(elapsed, 2),
        "final_metrics": {key: round(float(values[-1]), 4) for key, values in history.history.items()},
        "output_dir": str(output),
    }
