"""Keras callbacks: learning-rate logging, early stopping with a reason,
crash-safe checkpoints, live plotting, a run report and TensorBoard logs."""

from kerastools.callbacks.epoch_timer import EpochTimer
from kerastools.callbacks.learning_rate import LearningRateLogger
from kerastools.callbacks.live_plot import LivePlot
from kerastools.callbacks.monitor import MonitorCallback, infer_mode
from kerastools.callbacks.periodic_checkpoint import PeriodicCheckpoint
from kerastools.callbacks.progress_bar import ProgressBar
from kerastools.callbacks.run_report import RunReport
from kerastools.callbacks.run_report_schema import read_report
from kerastools.callbacks.standard import standard
from kerastools.callbacks.tensorboard_logger import TensorBoardLogger
from kerastools.callbacks.threshold_stopping import StoppingReason, ThresholdEarlyStopping

__all__ = [
    "EpochTimer",
    "LearningRateLogger",
    "LivePlot",
    "MonitorCallback",
    "PeriodicCheckpoint",
    "ProgressBar",
    "RunReport",
    "StoppingReason",
    "TensorBoardLogger",
    "ThresholdEarlyStopping",
    "infer_mode",
    "read_report",
    "standard",
]
