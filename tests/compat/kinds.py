"""Small models of the kinds people train, each with its data, on whatever KERAS_BACKEND is set.

Every kind is a `Kind`: `build()` returns a compiled model, `fit_args()` the
data arguments of `fit` (arrays, a `PyDataset`, a generator, a `tf.data`
pipeline), `monitor` the metric its callbacks watch. `skip` says why a kind
cannot run on the current backend (None: it runs). Sizes are tiny: 64
samples, 4 steps an epoch, so an epoch takes milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import pytest

import kerastools as kt

BACKEND = keras.backend.backend()
SAMPLES = 64
BATCH = 16
STEPS_PER_EPOCH = SAMPLES // BATCH


@dataclass
class Kind:
    name: str
    build: Callable[[], keras.Model]
    fit_args: Callable[[], dict[str, Any]]
    monitor: str = "val_loss"
    skip: str | None = None
    # The optimizers whose state a checkpoint must carry (attribute names; "optimizer" by default).
    optimizers: tuple[str, ...] = ("optimizer",)
    # The keys History must hold after fit, besides kerastools' own.
    history_keys: tuple[str, ...] = ("loss", "val_loss")
    # Runs after build and before resume: a fully subclassed model needs its variables first.
    prepare: Callable[[keras.Model], None] = field(default=lambda model: None)
    # Whether `optimizer.iterations` counts every batch: not under dynamic loss scaling, which skips
    # the steps whose float16 gradients overflow, nor with optimizers kept as model attributes.
    counts_every_step: bool = True
    # Training samples an epoch (validation_split keeps a quarter out).
    train_samples: int = SAMPLES * 3 // 4
    # Keras' own callbacks the kind trains with, made afresh for each fit (SwapEMAWeights, ...).
    keras_callbacks: Callable[[], list[keras.callbacks.Callback]] = field(default=list)
    # A notebook re-fit: the same callbacks through fit(epochs=REFIT_AT), then fit(initial_epoch=REFIT_AT, ...).
    refit: bool = False
    # compile(steps_per_execution=...): callbacks run between executions only.
    steps_per_execution: int = 1
    # use_ema: Keras writes the weights' moving averages into the model when fit ends.
    averaged: bool = False


REFIT_AT = 2


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)


def _classes() -> tuple[np.ndarray, np.ndarray]:
    x = _rng().normal(size=(SAMPLES, 4)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int32") + (x[:, 2] > 1).astype("int32")
    return x, y


def _arrays() -> dict[str, Any]:
    x, y = _classes()
    return {"x": x, "y": y, "batch_size": BATCH, "validation_split": 0.25}


def _classifier(*, input_shape=(4,), hidden=(8,)) -> list[keras.layers.Layer]:
    return [keras.Input(input_shape), *[keras.layers.Dense(units, activation="relu") for units in hidden],
            keras.layers.Dense(3, activation="softmax")]


def sequential() -> keras.Model:
    return kt.compile(keras.Sequential(_classifier()), optimizer="adam", learning_rate=1e-2,
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])


def functional_multi_io() -> keras.Model:
    numbers, extra = keras.Input((4,), name="numbers"), keras.Input((2,), name="extra")
    hidden = keras.layers.Dense(8, activation="relu")(keras.layers.Concatenate()([numbers, extra]))
    flag = keras.layers.Dense(1, activation="sigmoid", name="flag")(hidden)
    group = keras.layers.Dense(3, activation="softmax", name="group")(hidden)
    model = keras.Model({"numbers": numbers, "extra": extra}, {"flag": flag, "group": group})
    return kt.compile(model, optimizer="sgd", momentum=0.9, learning_rate=1e-2,
                      loss={"flag": "binary_crossentropy", "group": "sparse_categorical_crossentropy"},
                      loss_weights={"flag": 1.0, "group": 0.5}, metrics={"group": ["accuracy"]})


def _multi_io_data() -> dict[str, Any]:
    x, y = _classes()
    extra = _rng().normal(size=(SAMPLES, 2)).astype("float32")
    weights = np.where(y == 0, 2.0, 1.0).astype("float32")
    inputs = {"numbers": x, "extra": extra}
    targets = {"flag": (y > 0).astype("float32")[:, None], "group": y}
    return {"x": inputs, "y": targets, "batch_size": BATCH, "validation_split": 0.25,
            "sample_weight": {"flag": weights, "group": weights}}


class TwoLayerNet(keras.Model):
    """A fully subclassed model: its layers exist only once it is called."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(8, activation="relu")
        self.out = keras.layers.Dense(3, activation="softmax")

    def call(self, inputs, training=False):
        return self.out(self.hidden(inputs))


def _build_on_sample(model: keras.Model) -> None:
    model(_classes()[0][:1])


def subclassed() -> keras.Model:
    model = TwoLayerNet()
    steps = keras.optimizers.schedules.PiecewiseConstantDecay([4], [1e-2, 5e-3])
    return kt.compile(model, optimizer="rmsprop", schedule=steps, loss="sparse_categorical_crossentropy")


def batchnorm_dropout() -> keras.Model:
    layers = [keras.Input((16, 1)), keras.layers.Conv1D(4, 3, padding="same"),
              keras.layers.BatchNormalization(), keras.layers.ReLU(), keras.layers.Dropout(0.3),
              keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(3, activation="softmax")]
    warmup = keras.optimizers.schedules.CosineDecay(0.0, 20, warmup_target=1e-2, warmup_steps=2)
    return kt.compile(keras.Sequential(layers), optimizer="adam", schedule=warmup,
                      loss="sparse_categorical_crossentropy")


def _series() -> dict[str, Any]:
    x = _rng().normal(size=(SAMPLES, 16, 1)).astype("float32")
    y = (x.mean(axis=(1, 2)) > 0).astype("int32")
    return {"x": x, "y": y, "batch_size": BATCH, "validation_split": 0.25}


def mixed_precision() -> keras.Model:
    # The callers set the mixed_float16 policy around build and fit (see `policy`).
    return kt.compile(keras.Sequential(_classifier(hidden=(4,))), optimizer="adam",
                      loss="sparse_categorical_crossentropy")


def gradient_accumulation() -> keras.Model:
    return kt.compile(keras.Sequential(_classifier()),
                      optimizer=keras.optimizers.Adam(1e-2, gradient_accumulation_steps=2),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])


def steps_per_execution() -> keras.Model:
    # 3 batches an epoch in executions of 2: the last one is short.
    return kt.compile(keras.Sequential(_classifier()), optimizer="adam", learning_rate=1e-2,
                      loss="sparse_categorical_crossentropy", steps_per_execution=2)


def ema() -> keras.Model:
    return kt.compile(keras.Sequential(_classifier()), optimizer=keras.optimizers.Adam(1e-2, use_ema=True),
                      loss="sparse_categorical_crossentropy")


def _swap_ema() -> list[keras.callbacks.Callback]:
    return [keras.callbacks.SwapEMAWeights()]  # validation with the EMA weights


def _reduce_on_plateau() -> list[keras.callbacks.Callback]:
    # Every epoch after the first is a plateau (min_delta): the rate halves each epoch.
    return [keras.callbacks.ReduceLROnPlateau("val_loss", factor=0.5, patience=0, min_delta=1e9, min_lr=1e-6)]


def class_weight_data() -> dict[str, Any]:
    return {**_arrays(), "class_weight": {0: 1.0, 1: 2.0, 2: 4.0}}


def validation_freq_data() -> dict[str, Any]:
    return {**_arrays(), "validation_freq": 2}


class Batches(keras.utils.PyDataset):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y = _classes()

    def __len__(self):
        return STEPS_PER_EPOCH

    def __getitem__(self, index):
        part = slice(index * BATCH, (index + 1) * BATCH)
        return self.x[part], self.y[part]


def py_dataset_data() -> dict[str, Any]:
    x, y = _classes()
    return {"x": Batches(), "validation_data": (x[:16], y[:16])}


def py_dataset_workers_data() -> dict[str, Any]:
    x, y = _classes()
    return {"x": Batches(workers=2), "validation_data": (x[:16], y[:16])}


def _endless_batches():
    x, y = _classes()
    while True:  # Keras cannot know its length: `steps_per_epoch` ends each epoch
        for start in range(0, SAMPLES, BATCH):
            yield x[start:start + BATCH], y[start:start + BATCH]


def generator_data() -> dict[str, Any]:
    x, y = _classes()
    return {"x": _endless_batches(), "steps_per_epoch": STEPS_PER_EPOCH, "shuffle": False,
            "validation_data": (x[:16], y[:16])}


def tf_data_data() -> dict[str, Any]:
    import tensorflow as tf

    x, y = _classes()
    # repeat() makes the cardinality infinite, filter() unknown: Keras needs steps_per_epoch.
    pipeline = tf.data.Dataset.from_tensor_slices((x, y)).filter(lambda a, b: True).repeat().batch(BATCH)
    return {"x": pipeline, "steps_per_epoch": STEPS_PER_EPOCH, "shuffle": False,
            "validation_data": tf.data.Dataset.from_tensor_slices((x[:16], y[:16])).batch(8)}


def _sequential_on(fit_args: Callable[[], dict[str, Any]], **options: Any) -> Kind:
    return Kind(fit_args=fit_args, build=sequential, **options)


def kinds() -> list[Kind]:
    """Every model kind, in the order the matrix lists them."""
    from tests.compat.custom_steps import (
        GAN_SKIP,
        build_custom_train_step,
        build_gan,
        build_vae,
        gan_data,
        vae_data,
    )

    not_tf = None if BACKEND == "tensorflow" else f"tf.data is TensorFlow's; Keras on {BACKEND} is fed NumPy"
    not_torch = ("Keras' torch trainer refuses steps_per_execution > 1 (tests/checkpoints/test_keras_idioms.py)"
                 if BACKEND == "torch" else None)
    return [
        _sequential_on(_arrays, name="sequential", history_keys=("loss", "val_loss", "accuracy")),
        Kind("functional_multi_io", functional_multi_io, _multi_io_data,
             history_keys=("loss", "flag_loss", "group_loss", "group_accuracy", "val_loss")),
        Kind("subclassed", subclassed, _arrays, prepare=_build_on_sample),
        Kind("custom_train_step", build_custom_train_step, _arrays, monitor="loss", history_keys=("loss",),
             prepare=_build_on_sample),
        Kind("two_optimizers", build_gan, gan_data, monitor="g_loss", skip=GAN_SKIP,
             optimizers=("d_optimizer", "g_optimizer"), history_keys=("d_loss", "g_loss"), counts_every_step=False,
             train_samples=SAMPLES),
        Kind("batchnorm_dropout", batchnorm_dropout, _series),
        Kind("mixed_precision", mixed_precision, _arrays, counts_every_step=False),
        _sequential_on(validation_freq_data, name="validation_freq"),
        _sequential_on(class_weight_data, name="class_weight"),
        _sequential_on(py_dataset_data, name="py_dataset", train_samples=SAMPLES),
        _sequential_on(generator_data, name="generator", train_samples=SAMPLES),
        _sequential_on(tf_data_data, name="tf_data", train_samples=SAMPLES, skip=not_tf),
        Kind("gradient_accumulation", gradient_accumulation, _arrays),
        Kind("steps_per_execution", steps_per_execution, _arrays, skip=not_torch, steps_per_execution=2),
        Kind("ema", ema, _arrays, keras_callbacks=_swap_ema, averaged=True),
        _sequential_on(_arrays, name="reduce_lr_on_plateau", keras_callbacks=_reduce_on_plateau),
        _sequential_on(py_dataset_workers_data, name="py_dataset_workers", train_samples=SAMPLES),
        Kind("vae", build_vae, vae_data, monitor="loss", history_keys=("loss", "reconstruction_loss", "kl_loss"),
             train_samples=SAMPLES),
        _sequential_on(_arrays, name="notebook_refit", refit=True),
    ]


def kind_params(marks_for: Callable[[Kind], list[Any]] = lambda kind: []) -> list[Any]:
    """One pytest param per kind, skipped with its reason where the backend cannot run it."""
    params = []
    for kind in kinds():
        marks = [pytest.mark.skip(reason=kind.skip)] if kind.skip else []
        params.append(pytest.param(kind, id=kind.name, marks=[*marks, *marks_for(kind)]))
    return params


def by_name(name: str) -> Kind:
    return next(kind for kind in kinds() if kind.name == name)


class policy:
    """The dtype policy a kind trains under, restored afterwards."""

    def __init__(self, kind: Kind):
        self.wanted = "mixed_float16" if kind.name == "mixed_precision" else None

    def __enter__(self):
        self.previous = keras.config.dtype_policy().name
        if self.wanted:
            keras.config.set_dtype_policy(self.wanted)

    def __exit__(self, *exc):
        keras.config.set_dtype_policy(self.previous)
