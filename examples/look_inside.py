"""Look inside trained models: response surface, weights, activations, filters, feature maps, Grad-CAM.

Part 1 trains a good squares model (2-16-16-1, relu, adam) and draws
what it predicts over the input domain, a histogram of each layer's weights and
the activation profile of three inputs.
Part 2 trains a small CNN and draws its first-layer filters and the feature
maps one image produces. By default the images
are generated bars (horizontal vs vertical), so the script runs anywhere;
`--fashion` uses Fashion-MNIST from local files instead.

Part 3 shows where the CNN looks: Grad-CAM and SmoothGrad saliency over eight images.

Writes seven `look_inside_*.png` files to `--output-dir`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import keras
import numpy as np

import kerastools as kt

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--output-dir", default="examples_output")
parser.add_argument("--epochs", type=int, default=15, help="epochs of the squares MLP")
parser.add_argument("--fashion", action="store_true", help="CNN on Fashion-MNIST (local IDX files)")
args = parser.parse_args()
output = Path(args.output_dir)
output.mkdir(parents=True, exist_ok=True)
keras.utils.set_random_seed(0)


def save(figure, name: str) -> None:
    print("saved", kt.plots.save_figure(figure, output / f"look_inside_{name}.png"))


# Part 1: an MLP on the squares set.
X, y = kt.datasets.make_squares(1000, noise=0.01, seed=0)
mlp = kt.compile(kt.build_mlp(2, [16, 16]), optimizer="adam", learning_rate=0.01)
mlp.fit(X, y, epochs=args.epochs, batch_size=32, verbose=0)
save(kt.plots.model_response(mlp, X, y), "response")
save(kt.plots.weight_histograms(mlp), "weights")
# Three inputs from the left, the centre and the right of the domain.
probes = np.array([[-0.9, 0.0], [0.0, 0.0], [0.9, 0.0]], dtype="float32")
save(kt.plots.activation_profiles(mlp, probes), "activations")


# Part 2: a small CNN, its filters and feature maps.
def bars(n: int, size: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Images with one horizontal (class 0) or vertical (class 1) bar, plus noise."""
    rng = np.random.default_rng(0)
    images = rng.normal(0, 0.1, (n, size, size, 1)).astype("float32")
    labels = rng.integers(0, 2, n)
    where = rng.integers(2, size - 2, n)
    for image, label, position in zip(images, labels, where, strict=True):
        if label:
            image[:, position - 1 : position + 1, 0] += 1.0
        else:
            image[position - 1 : position + 1, :, 0] += 1.0
    return images, labels


if args.fashion:
    (x_train, y_train), _ = kt.datasets.load_fashion_mnist(normalize="scale")
    x_train, y_train, classes = x_train[:8192], y_train[:8192], 10
else:
    x_train, y_train = bars(1024)
    classes = 2
cnn = kt.build_cnn(x_train.shape[1:], [(8, 3), (16, 3)], dense=[32], output_units=classes)
kt.compile(cnn, optimizer="adam", learning_rate=3e-3, metrics=["accuracy"])
history = cnn.fit(x_train, y_train, epochs=3, batch_size=64, verbose=0)
print(f"CNN training accuracy: {history.history['accuracy'][-1]:.3f}")
save(kt.plots.filters(cnn, "conv_1"), "filters")
save(kt.plots.feature_maps(cnn, x_train[0], "conv_1"), "feature_maps")


# Part 3: where the CNN looks. Grad-CAM at the last conv layer (picked by default),
# and SmoothGrad saliency, for the first eight images of the training set.
sample = x_train[:8]
save(kt.plots.attribution_figure(cnn, sample), "grad_cam")
save(kt.plots.attribution_figure(cnn, sample, method="saliency", smooth_samples=16, seed=0),
     "saliency")
heatmaps = kt.plots.grad_cam(cnn, sample)
print(f"Grad-CAM heatmaps: {heatmaps.shape}, peak of the first at {np.unravel_index(heatmaps[0].argmax(), heatmaps[0].shape)}")
