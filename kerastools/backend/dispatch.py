"""Which module speaks for the running Keras backend: the one place kerastools branches on it.

Following Keras' own `backend/{tensorflow,jax,torch}/` layout, each backend
has a module here with the same names (see `kerastools.backend.tensorflow`):
`NAME`, `DISPLAY_NAME`, `CHANGEABLE_LATER`, `TF_DISTRIBUTE`, `initialized()`,
`plan(request)`, `summary()`, `available(kind)`, `process_index()`,
`distribute(request)` and `value_and_gradient(function, at)` (the one
gradient call Keras 3 lacks, for `kerastools.plots.grad_cam` and `saliency`).
`current()` picks one from `keras.backend.backend()`; a backend kerastools
does not know (numpy, openvino) gets `kerastools.backend.other`.

Examples:
    >>> from kerastools.backend import dispatch
    >>> dispatch.module("jax").NAME
    'jax'
"""

from __future__ import annotations

import importlib
from types import ModuleType

import keras

__all__ = ["current", "display_name", "module"]

# Keras backend name -> the kerastools.backend module that implements it.
_MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
_FALLBACK = "other"


def module(name: str) -> ModuleType:
    """The kerastools module for the Keras backend called `name` (imports no backend package).

    Examples:
        >>> from kerastools import backend
        >>> backend.module("torch").DISPLAY_NAME
        'PyTorch'
    """
    return importlib.import_module(f"kerastools.backend.{_MODULES.get(name, _FALLBACK)}")


def current() -> ModuleType:
    """The kerastools module for the backend Keras runs on.

    Examples:
        >>> from kerastools import backend
        >>> backend.current().NAME in ("tensorflow", "jax", "torch")
        True
    """
    return module(keras.backend.backend())


def display_name(name: str) -> str:
    """How a backend is called in prose: "TensorFlow", "JAX", "PyTorch", else `name` itself.

    Examples:
        >>> from kerastools import backend
        >>> backend.display_name("jax"), backend.display_name("numpy")
        ('JAX', 'numpy')
    """
    return module(name).DISPLAY_NAME or name
