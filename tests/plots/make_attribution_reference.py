"""Write `attribution_reference.npz`: Grad-CAM and saliency computed directly with TensorFlow.

An implementation independent of kerastools': keras.io's Grad-CAM recipe
(a two-output model, `tf.GradientTape`, one image at a time) and plain input
gradients. `tests/plots/test_attribution.py` compares kerastools' maps on
every backend with these. Run from the repository root:

    KERAS_BACKEND=tensorflow python tests/plots/make_attribution_reference.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ["KERAS_BACKEND"] = "tensorflow"
sys.path.insert(0, str(Path(__file__).parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from attribution_models import REFERENCE, functional_model, images  # noqa: E402


def keras_io_grad_cam(model: keras.Model, image: np.ndarray, layer: str, index: int) -> np.ndarray:
    """keras.io's `make_gradcam_heatmap`, then `tf.image.resize` to the image size."""
    grad_model = keras.Model(model.inputs, [model.get_layer(layer).output, model.output])
    with tf.GradientTape() as tape:
        conv_output, predictions = grad_model(image[None])
        class_channel = predictions[:, index]
    grads = tape.gradient(class_channel, conv_output)
    pooled = tf.reduce_mean(grads, axis=(0, 1, 2))
    heatmap = tf.squeeze(conv_output[0] @ pooled[..., tf.newaxis])
    heatmap = tf.maximum(heatmap, 0) / tf.math.reduce_max(heatmap)
    resized = tf.image.resize(heatmap[..., None], image.shape[:2], method="bilinear")
    # Where no map weighs positively the recipe divides 0 by 0; kerastools returns zeros there.
    return np.nan_to_num(resized[..., 0].numpy(), nan=0.0)


def input_gradient_map(model: keras.Model, image: np.ndarray, index: int) -> np.ndarray:
    """Simonyan et al.'s saliency: max over channels of |d score / d pixel|, scaled to [0, 1]."""
    x = tf.convert_to_tensor(image[None])
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = model(x)[:, index]
    grad = tf.reduce_max(tf.abs(tape.gradient(score, x)), axis=-1)[0].numpy()
    return grad / grad.max()


def main() -> None:
    model = functional_model()
    batch = images()
    predicted = model.predict(batch, verbose=0).argmax(axis=1)
    arrays = {
        "predicted": predicted,
        "grad_cam_conv_b": np.stack([keras_io_grad_cam(model, im, "conv_b", int(i))
                                     for im, i in zip(batch, predicted, strict=True)]),
        "grad_cam_conv_a_class_2": np.stack([keras_io_grad_cam(model, im, "conv_a", 2)
                                             for im in batch]),
        "saliency": np.stack([input_gradient_map(model, im, int(i))
                              for im, i in zip(batch, predicted, strict=True)]),
    }
    np.savez(Path(__file__).parent / REFERENCE, **arrays)


if __name__ == "__main__":
    main()
