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


def _features(data):
    """The inputs of a batch of inputs only: `x`, `(x,)` or `(x, None)`."""
    return data[0] if isinstance(data, (tuple, list)) else data


def vae_losses(x, reconstruction, z_mean, z_log_var):
    """Total, reconstruction and KL loss of a batch, as in Keras' VAE guide."""
    reconstruction_loss = ops.mean(ops.sum(ops.square(x - reconstruction), axis=1))
    kl_loss = ops.mean(-0.5 * ops.sum(1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=1))
    return reconstruction_loss + kl_loss, reconstruction_loss, kl_loss


class TinyVAE(keras.Model):
    """Keras' VAE guide in small: a built encoder and decoder, a custom `train_step`, three trackers.

    The outer model is never built by a call before `fit` (the pattern `resume` must load into).
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.encoder = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4, activation="relu"),
                                         keras.layers.Dense(4)], name="encoder")  # z mean and log-variance
        self.decoder = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4, activation="relu"),
                                         keras.layers.Dense(4)], name="decoder")
        self.seeds = keras.random.SeedGenerator(0)
        self.total_loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def call(self, x, training=False):
        statistics = self.encoder(x)
        z_mean, z_log_var = statistics[:, :2], statistics[:, 2:]
        z = z_mean + ops.exp(0.5 * z_log_var) * keras.random.normal(ops.shape(z_mean), seed=self.seeds)
        return self.decoder(z), z_mean, z_log_var

    if BACKEND == "jax":

        def train_step(self, state, data):
            import jax

            trainable, non_trainable, optimizer_vars, metric_vars = state
            x = _features(data)

            def loss(trainable, non_trainable):
                outputs, non_trainable = self.stateless_call(trainable, non_trainable, x, training=True)
                total, reconstruction, kl = vae_losses(x, *outputs)
                return total, (reconstruction, kl, non_trainable)

            (total, (reconstruction, kl, non_trainable)), grads = jax.value_and_grad(loss, has_aux=True)(
                trainable, non_trainable)
            trainable, optimizer_vars = self.optimizer.stateless_apply(optimizer_vars, grads, trainable)
            updated, logs, start = [], {}, 0
            for tracker, value in zip(self.metrics, (total, reconstruction, kl), strict=True):
                own = metric_vars[start:start + len(tracker.variables)]
                start += len(own)
                own = tracker.stateless_update_state(own, value)
                logs[tracker.name] = tracker.stateless_result(own)
                updated += list(own)
            return logs, (trainable, non_trainable, optimizer_vars, updated)

    else:

        def train_step(self, data):
            x = _features(data)
            _zero_grad(self)
            with _tape() as tape:
                total, reconstruction, kl = vae_losses(x, *self(x, training=True))
            variables = self.trainable_weights
            _apply(self.optimizer, _gradients(total, variables, tape if BACKEND == "tensorflow" else None), variables)
            for tracker, value in zip(self.metrics, (total, reconstruction, kl), strict=True):
                tracker.update_state(value)
            return {tracker.name: tracker.result() for tracker in self.metrics}


def build_vae() -> keras.Model:
    model = TinyVAE()
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    return model


def vae_data() -> dict[str, Any]:
    return {"x": np.random.default_rng(0).normal(size=(SAMPLES, 4)).astype("float32"), "batch_size": BATCH}
