"""Grad-CAM and saliency: kerastools against the same computation written directly in each backend.

Workload: a Fashion-MNIST-sized convnet (`kt.build_cnn((28, 28, 1), [(32, 3), (64, 3), (64, 3)],
dense=[64])`, 10 classes, untrained: the time does not depend on the weights) and 64 images.
Per backend (each in its own interpreter), two computations, each two ways:

- `grad_cam`: `kt.plots.grad_cam(model, images)` against the direct code a user of that
  backend writes: a two-output model (`tf.GradientTape` on TensorFlow, `torch.autograd.grad`
  on torch) or the model split at the layer with `jax.value_and_grad` on JAX; then the same
  NumPy pooling, weighting and resize;
- `saliency`: `kt.plots.saliency(model, images)` against `d score / d input` in the backend.

The two ways alternate, their order swapped every round, after one warm-up each; the table
shows the median milliseconds per image and the ratio kerastools / direct.

    .venv/bin/python benchmarks/attribution.py
    .venv/bin/python benchmarks/attribution.py --rounds 9 --backends jax
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np

BACKENDS = ("tensorflow", "jax", "torch")
IMAGES = 64


def _model() -> Any:
    import keras

    import kerastools as kt

    keras.utils.set_random_seed(0)
    return kt.build_cnn((28, 28, 1), [(32, 3), (64, 3), (64, 3)], dense=[64], output_units=10,
                        output_activation="softmax")


def _last_conv(model: Any) -> Any:
    return [layer for layer in model.layers if len(layer.output.shape) == 4][-1]


def _direct_activation_gradients(model: Any, batch: np.ndarray, one_hot: np.ndarray) -> tuple[Any, Any]:
    """(activation, d score / d activation) at the last 4-D layer, written for this backend."""
    import keras

    layer = _last_conv(model)
    backend = keras.backend.backend()
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        position = model.layers.index(layer)
        activation = keras.Sequential(model.layers[: position + 1])(batch)

        def score(a: Any) -> Any:
            for later in model.layers[position + 1:]:
                a = later(a)
            return jnp.sum(a * one_hot)

        return np.asarray(activation), np.asarray(jax.grad(score)(activation))
    grad_model = keras.Model(model.inputs, [layer.output, model.output])
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            activation, predictions = grad_model(batch)
            score = tf.reduce_sum(predictions * one_hot)
        return activation.numpy(), tape.gradient(score, activation).numpy()
    import torch

    activation, predictions = grad_model(batch)
    (gradient,) = torch.autograd.grad(torch.sum(predictions * torch.as_tensor(one_hot)), activation)
    return activation.detach().cpu().numpy(), gradient.detach().cpu().numpy()


def _direct_input_gradients(model: Any, batch: np.ndarray, one_hot: np.ndarray) -> np.ndarray:
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        return np.asarray(jax.grad(lambda x: jnp.sum(model(x) * one_hot))(jnp.asarray(batch)))
    if backend == "tensorflow":
        import tensorflow as tf

        x = tf.convert_to_tensor(batch)
        with tf.GradientTape() as tape:
            tape.watch(x)
            score = tf.reduce_sum(model(x) * one_hot)
        return tape.gradient(score, x).numpy()
    import torch

    x = torch.as_tensor(batch).requires_grad_(True)
    (gradient,) = torch.autograd.grad(torch.sum(model(x) * torch.as_tensor(one_hot)), x)
    return gradient.detach().cpu().numpy()


def _predicted_one_hot(model: Any, batch: np.ndarray) -> np.ndarray:
    import keras

    predictions = keras.ops.convert_to_numpy(model(batch, training=False))
    return np.eye(predictions.shape[1], dtype="float32")[predictions.argmax(axis=1)]


def _direct_grad_cam(model: Any, batch: np.ndarray) -> np.ndarray:
    from kerastools.plots.attribution import _normalised, _resize_bilinear

    one_hot = _predicted_one_hot(model, batch)
    activation, gradient = _direct_activation_gradients(model, batch, one_hot)
    cams = np.maximum(np.einsum("nhwc,nc->nhw", activation, gradient.mean(axis=(1, 2))), 0)
    return _resize_bilinear(_normalised(cams), batch.shape[1:3])


def _direct_saliency(model: Any, batch: np.ndarray) -> np.ndarray:
    from kerastools.plots.attribution import _normalised

    one_hot = _predicted_one_hot(model, batch)
    return _normalised(np.abs(_direct_input_gradients(model, batch, one_hot)).max(axis=-1))


def child(rounds: int) -> None:
    import keras

    import kerastools as kt

    model = _model()
    batch = np.random.default_rng(0).uniform(0, 1, size=(IMAGES, 28, 28, 1)).astype("float32")
    arms = {
        "grad_cam": {"kt": lambda: kt.plots.grad_cam(model, batch),
                     "direct": lambda: _direct_grad_cam(model, batch)},
        "saliency": {"kt": lambda: kt.plots.saliency(model, batch),
                     "direct": lambda: _direct_saliency(model, batch)},
    }
    results: dict[str, dict[str, list[float]]] = {}
    for name, ways in arms.items():
        same = np.allclose(ways["kt"](), ways["direct"](), atol=1e-4)  # warm-up, and a check
        times: dict[str, list[float]] = {"kt": [], "direct": []}
        for round_index in range(rounds):
            for way in (("kt", "direct") if round_index % 2 == 0 else ("direct", "kt")):
                start = time.perf_counter()
                ways[way]()
                times[way].append(time.perf_counter() - start)
        results[name] = {**times, "same": [float(same)]}
    print(json.dumps({"backend": keras.backend.backend(), "results": results}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.rounds)
        return
    print(f"{IMAGES} images 28x28x1, {args.rounds} rounds (medians); cpus: {os.cpu_count()}, "
          f"load: {os.getloadavg()[0]:.1f}")
    print(f"{'backend':<11} {'method':<9} {'kt ms/img':>9} {'direct ms/img':>13} {'kt/direct':>9} {'same maps':>9}")
    for backend in args.backends:
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
        run = subprocess.run([sys.executable, __file__, "--child", "--rounds", str(args.rounds)],
                             env=env, capture_output=True, text=True)
        if run.returncode != 0:
            print(f"{backend}: failed\n{run.stderr[-3000:]}", file=sys.stderr)
            sys.exit(1)
        data = json.loads(run.stdout.strip().splitlines()[-1])
        for method, times in data["results"].items():
            mine, direct = (statistics.median(times[way]) * 1000 / IMAGES for way in ("kt", "direct"))
            same = "yes" if times["same"][0] else "NO"
            print(f"{backend:<11} {method:<9} {mine:>9.2f} {direct:>13.2f} {mine / direct:>9.2f} {same:>9}")


if __name__ == "__main__":
    main()
