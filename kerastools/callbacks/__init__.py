"""Keras callbacks: learning-rate logging, early stopping with a reason,
crash-safe checkpoints and live plotting."""

from kerastools.callbacks.monitor import MonitorCallback, infer_mode

__all__ = ["MonitorCallback", "infer_mode"]
