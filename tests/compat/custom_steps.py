"""Models with their own `train_step`, in the form each backend needs.

TensorFlow differentiates with `tf.GradientTape`, torch with `backward()`,
JAX with a stateless `train_step(self, state, data)`. Both models keep their
own loss tracker that counts batches, as Keras' guides do.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

import kerastools as kt
from tests.compat.kinds import BACKEND, BATCH, SAMPLES, TwoLayerNet

GAN_SKIP = (
    None if BACKEND in ("tensorflow", "torch") else
    "a two-optimizer train_step on JAX must thread both optimizers' variables through its stateless "
    "state by hand; Keras' `state` carries only `model.optimizer`'s"
)


def _gradients(loss, variables, tape=None):
    """The gradients of `loss` with respect to `variables`, on TensorFlow or torch."""
    if tape is not None:
        return tape.gradient(loss, variables)
    loss.backward()
    return [variable.value.grad for variable in variables]


def _tape():
    """A GradientTape on TensorFlow; on torch a context that clears old gradients."""
    if BACKEND == "tensorflow":
        import tensorflow as tf

        return tf.GradientTape()
    import contextlib

    return contextlib.nullcontext()


def _apply(optimizer, gradients, variables):
    if BACKEND == "torch":
        import torch

        with torch.no_grad():
            optimizer.apply(gradients, variables)
    else:
        optimizer.apply(gradients, variables)


def _zero_grad(module):
    if BACKEND == "torch":
        module.zero_grad()


class TrackedNet(TwoLayerNet):
    """A subclassed classifier with the guides' `train_step` and a batch-counting loss tracker."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")

    @property
    def metrics(self):
        return [self.loss_tracker]

    if BACKEND == "jax":

        def _loss_and_updates(self, trainable, non_trainable, x, y):
            y_pred, non_trainable = self.stateless_call(trainable, non_trainable, x, training=True)
            return self.compute_loss(x=x, y=y, y_pred=y_pred), non_trainable

        def train_step(self, state, data):
            import jax

            trainable, non_trainable, optimizer_vars, metric_vars = state
            x, y = data
            value_and_grad = jax.value_and_grad(self._loss_and_updates, has_aux=True)
            (loss, non_trainable), grads = value_and_grad(trainable, non_trainable, x, y)
            trainable, optimizer_vars = self.optimizer.stateless_apply(optimizer_vars, grads, trainable)
            metric_vars = self.loss_tracker.stateless_update_state(metric_vars, loss)
            logs = {"loss": self.loss_tracker.stateless_result(metric_vars)}
            return logs, (trainable, non_trainable, optimizer_vars, metric_vars)

    else:

        def train_step(self, data):
            x, y = data
            _zero_grad(self)
            with _tape() as tape:
                loss = self.compute_loss(x=x, y=y, y_pred=self(x, training=True))
            variables = self.trainable_weights
            grads = _gradients(loss, variables, tape if BACKEND == "tensorflow" else None)
            _apply(self.optimizer, grads, variables)
            self.loss_tracker.update_state(loss)
            return {"loss": self.loss_tracker.result()}


def build_custom_train_step() -> keras.Model:
    return kt.compile(TrackedNet(), optimizer="adam", learning_rate=1e-2,
                      loss="sparse_categorical_crossentropy")


class TinyGAN(keras.Model):
    """Two networks, two optimizers, no `call()`: the GAN pattern of Keras' guides."""

    def __init__(self, latent: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.latent = latent
        self.generator = keras.Sequential([keras.Input((latent,)), keras.layers.Dense(4, activation="relu"),
                                           keras.layers.Dense(2)], name="generator")
        self.discriminator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4, activation="relu"),
                                               keras.layers.Dense(1, activation="sigmoid")], name="discriminator")
        self.seeds = keras.random.SeedGenerator(0)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.built = True  # both networks are built from their Input; there is no call() to trace

    def compile(self, d_optimizer, g_optimizer, **kwargs: Any):
        super().compile(**kwargs)
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
        self.loss_fn = keras.losses.BinaryCrossentropy()

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def _step(self, network, optimizer, make_loss):
        _zero_grad(network)
        with _tape() as tape:
            loss = make_loss()
        variables = network.trainable_weights
        _apply(optimizer, _gradients(loss, variables, tape if BACKEND == "tensorflow" else None), variables)
        return loss

    def train_step(self, real):
        size = ops.shape(real)[0]
        fake = self.generator(keras.random.normal((size, self.latent), seed=self.seeds))
        both = ops.concatenate([ops.stop_gradient(fake), real])
        labels = ops.concatenate([ops.ones((size, 1)), ops.zeros((size, 1))])
        d_loss = self._step(self.discriminator, self.d_optimizer,
                            lambda: self.loss_fn(labels, self.discriminator(both)))
        noise = keras.random.normal((size, self.latent), seed=self.seeds)
        g_loss = self._step(self.generator, self.g_optimizer,
                            lambda: self.loss_fn(ops.zeros((size, 1)), self.discriminator(self.generator(noise))))
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}


def build_gan() -> keras.Model:
    model = TinyGAN()
    model.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(2e-3))
    return model


def gan_data() -> dict[str, Any]:
    real = np.random.default_rng(0).normal(loc=2.0, size=(SAMPLES, 2)).astype("float32")
    return {"x": real, "batch_size": BATCH}
