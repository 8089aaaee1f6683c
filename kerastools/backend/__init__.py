"""The one layer that speaks to TensorFlow, JAX or torch directly, one module per backend.

As Keras does in `keras/src/backend/{tensorflow,jax,torch}/`, each backend has a
module here with the same names (`tensorflow`, `jax`, `torch`, and `other` for
the backends kerastools has no module for): its device setup and summary for
`kerastools.device`, its distribution, and its gradient
(`value_and_gradient`, which Keras 3 has no backend-neutral call for; used by
`kerastools.plots.grad_cam` and `saliency`). `current()` picks the module of
the backend Keras runs on, once per call site; nothing else in kerastools
branches on the backend's name, and each backend package is imported inside
functions only, so the jax and torch backends never load TensorFlow.

Examples:
    >>> from kerastools import backend
    >>> backend.current().NAME == keras.backend.backend()
    True
"""

from kerastools.backend.dispatch import current, display_name, module

__all__ = ["current", "display_name", "module"]
