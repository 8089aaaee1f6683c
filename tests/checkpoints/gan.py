"""A tiny GAN-like model with two optimizers (the pattern of Keras' GAN guide), for the tests.

A subclassed model without `call()`: `compile(d_optimizer=..., g_optimizer=..., loss_fn=...)`
stores the optimizers as attributes and calls `super().compile()`, and `train_step` updates
the discriminator with one and the generator with the other. `train_step` is backend-specific
(TensorFlow's GradientTape, torch's autograd); JAX needs the stateless form, not written here.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

LATENT = 3
GAN_BACKENDS = ("tensorflow", "torch")


def skip_unless_gan_backend():
    if keras.backend.backend() not in GAN_BACKENDS:
        pytest.skip(
            "the two-optimizer GAN test model has a train_step for TensorFlow and torch only; "
            "JAX needs a stateless train_step (not written)"
        )


def real_points(n=64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 2)).astype("float32")


class TinyGAN(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.generator = keras.Sequential(
            [keras.Input((LATENT,)), keras.layers.Dense(2)], name="generator"
        )
        self.discriminator = keras.Sequential(
            [keras.Input((2,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)],
            name="discriminator",
        )
        self.seed_generator = keras.random.SeedGenerator(1)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        if keras.backend.backend() == "torch":
            self.built = True  # torch's fit needs it; there is no call() to build with

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def _batch(self, real):
        batch = keras.ops.shape(real)[0]
        noise = keras.random.normal((batch, LATENT), seed=self.seed_generator)
        labels = keras.ops.concatenate(
            [keras.ops.ones((batch, 1)), keras.ops.zeros((batch, 1))], axis=0
        )
        return batch, noise, labels

    def train_step(self, real):
        if isinstance(real, tuple):
            real = real[0]
        if keras.backend.backend() == "torch":
            d_loss, g_loss = self._torch_step(real)
        else:
            d_loss, g_loss = self._tensorflow_step(real)
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}

    def _tensorflow_step(self, real):
        import tensorflow as tf

        batch, noise, labels = self._batch(real)
        with tf.GradientTape() as tape:
            fake = self.generator(noise)
            scores = self.discriminator(keras.ops.concatenate([fake, real], axis=0))
            d_loss = self.loss_fn(labels, scores)
        weights = self.discriminator.trainable_weights
        self.d_optimizer.apply_gradients(zip(tape.gradient(d_loss, weights), weights))
        with tf.GradientTape() as tape:
            g_loss = self.loss_fn(keras.ops.zeros((batch, 1)), self.discriminator(self.generator(noise)))
        weights = self.generator.trainable_weights
        self.g_optimizer.apply_gradients(zip(tape.gradient(g_loss, weights), weights))
        return d_loss, g_loss

    def _torch_step(self, real):
        import torch

        batch, noise, labels = self._batch(real)
        self.zero_grad()
        fake = self.generator(noise).detach()
        d_loss = self.loss_fn(labels, self.discriminator(keras.ops.concatenate([fake, real], axis=0)))
        d_loss.backward()
        weights = self.discriminator.trainable_weights
        with torch.no_grad():
            self.d_optimizer.apply([w.value.grad for w in weights], weights)
        self.zero_grad()
        g_loss = self.loss_fn(keras.ops.zeros((batch, 1)), self.discriminator(self.generator(noise)))
        g_loss.backward()
        weights = self.generator.trainable_weights
        with torch.no_grad():
            self.g_optimizer.apply([w.value.grad for w in weights], weights)
        return d_loss, g_loss


def make_gan(d_rate=0.01, g_rate=0.02):
    keras.utils.set_random_seed(0)
    model = TinyGAN(name="tiny_gan")
    model.compile(
        d_optimizer=keras.optimizers.Adam(d_rate),
        g_optimizer=keras.optimizers.Adam(
            keras.optimizers.schedules.ExponentialDecay(g_rate, 4, 0.5)
        ),
        loss_fn=keras.losses.BinaryCrossentropy(from_logits=True),
    )
    return model
