"""TensorBoard log directories read back: per-epoch curves of a run, with TensorBoard's own reader.

A log directory in Keras' layout (what `keras.callbacks.TensorBoard` and
`kerastools.callbacks.TensorBoardLogger` write) holds `train/` and
`validation/`, each with `epoch_<metric>` scalars whose step is the epoch
index (from 0). `epoch_curves` reads them, through TensorBoard's
`EventAccumulator`, into `{metric: (epochs, values)}` with Keras' `logs`
names (`val_` for the validation run), so that `LivePlot(compare_to=...)`
and `kerastools.plots.training_curves` draw an earlier TensorBoard run like
an earlier `History`. A directory with event files straight in it (any
writer's run with `epoch_*` scalars) is read as the training run.

TensorBoard is an optional dependency (`pip install "kerastools[tensorboard]"`):
`require_tensorboard` raises a `ConfigError` naming the extra when it is
missing. TensorBoard's reader uses TensorFlow's record reader when
TensorFlow is installed and its own pure-Python one otherwise; the writer
(`kerastools.tensorboard_writer`) never touches TensorFlow.

Examples:
    >>> is_log_dir(tmp_path)
    False
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from kerastools.errors import ConfigError

__all__ = [
    "EXTRA_HINT",
    "RUNS",
    "epoch_curves",
    "epoch_history",
    "event_files",
    "is_log_dir",
    "require_tensorboard",
]

EXTRA_HINT = 'pip install "kerastools[tensorboard]"'
# The run sub-directories of Keras' layout and the prefix their keys get in `logs`.
RUNS = {"train": "", "validation": "val_"}
_EPOCH_PREFIX = "epoch_"


def require_tensorboard(what: str) -> None:
    """Import the parts of the `tensorboard` package kerastools uses, or raise a `ConfigError`.

    Examples:
        >>> require_tensorboard("TensorBoardLogger")

    Raises:
        ConfigError: `tensorboard` is not installed; the message names the
            extra that installs it.
    """
    try:
        for module in (
            "tensorboard.compat.proto.event_pb2",
            "tensorboard.summary.writer.record_writer",
            "tensorboard.util.tensor_util",
        ):
            importlib.import_module(module)
    except ImportError as error:
        raise ConfigError(
            f"{what} needs the `tensorboard` package (no TensorFlow needed), which is not "
            f"installed: {EXTRA_HINT}. Received: ImportError({error})"
        ) from None


def event_files(directory: str | os.PathLike[str]) -> list[Path]:
    """The TensorBoard event files straight inside `directory`, in the order TensorBoard reads them.

    Examples:
        >>> event_files(tmp_path)
        []
    """
    path = Path(directory)
    if not path.is_dir():
        return []
    return sorted(
        entry for entry in path.iterdir()
        if "tfevents" in entry.name and not entry.name.startswith(".") and entry.is_file()
    )


def is_log_dir(directory: str | os.PathLike[str]) -> bool:
    """Whether `directory` holds event files, itself or in `train/` or `validation/`.

    Examples:
        >>> (tmp_path / "logs" / "train").mkdir(parents=True)
        >>> is_log_dir(tmp_path / "logs")
        False
    """
    path = Path(directory)
    return any(event_files(folder) for folder in (path, *(path / run for run in RUNS)))


def _scalar_series(folder: Path) -> tuple[dict[str, dict[int, float]], list[str]]:
    """Every scalar tag of the run in `folder`: {tag: {step: value}} (a later step's record wins), and all tags."""
    from tensorboard.backend.event_processing import plugin_event_accumulator
    from tensorboard.util import tensor_util

    accumulator = plugin_event_accumulator.EventAccumulator(
        str(folder), size_guidance={plugin_event_accumulator.TENSORS: 0}
    )
    accumulator.Reload()
    tags = list(accumulator.Tags().get(plugin_event_accumulator.TENSORS, []))
    series: dict[str, dict[int, float]] = {}
    for tag in tags:
        if accumulator.SummaryMetadata(tag).plugin_data.plugin_name != "scalars":
            continue
        steps = series.setdefault(tag, {})
        for event in accumulator.Tensors(tag):
            steps[int(event.step)] = float(tensor_util.make_ndarray(event.tensor_proto))
    return series, tags


def epoch_curves(
    directory: str | os.PathLike[str], *, argument: str = "directory"
) -> dict[str, tuple[list[int], list[float]]]:
    """The `epoch_*` scalars of a TensorBoard log directory as `{key: (epochs, values)}`.

    Keys are named as in `logs` (`epoch_loss` of `validation/` is
    `val_loss`); epochs count from 1, as Keras prints them (the files'
    step is the epoch index, from 0). Errors name `argument`, the
    caller's argument that held the directory.

    Examples:
        >>> logger = kt.callbacks.TensorBoardLogger(tmp_path / "logs")
        >>> _ = model.fit(x, y, validation_split=0.25, epochs=2, verbose=0, callbacks=[logger])
        >>> curves = epoch_curves(tmp_path / "logs")
        >>> curves["loss"][0], curves["val_loss"][0]
        ([1, 2], [1, 2])

    Raises:
        ConfigError: `tensorboard` is not installed, the directory does not
            exist, or it holds no `epoch_*` scalars (the message lists the
            tags it found).
    """
    require_tensorboard("Reading a TensorBoard log directory")
    path = Path(directory)
    if not path.is_dir():
        raise ConfigError(
            f"Argument `{argument}` must be a TensorBoard log directory that exists. "
            f"Received: {argument}={directory!r}"
        )
    curves: dict[str, tuple[list[int], list[float]]] = {}
    found: list[str] = []
    for folder, prefix, label in ((path, "", ""), *((path / run, key, f"{run}/") for run, key in RUNS.items())):
        if not event_files(folder):
            continue
        series, tags = _scalar_series(folder)
        found += [label + tag for tag in tags]
        for tag, by_step in series.items():
            if tag.startswith(_EPOCH_PREFIX) and by_step:
                steps = sorted(by_step)
                curves[prefix + tag[len(_EPOCH_PREFIX):]] = ([step + 1 for step in steps], [by_step[s] for s in steps])
    if not curves:
        raise ConfigError(
            f"Argument `{argument}` names a TensorBoard log directory with no `epoch_*` scalars (as "
            f"keras.callbacks.TensorBoard and kerastools' TensorBoardLogger write under train/ and "
            f"validation/). Tags found: {sorted(found)}. Received: {argument}={directory!r}"
        )
    return curves


def epoch_history(directory: str | os.PathLike[str], *, argument: str = "directory") -> dict[str, list[float]]:
    """`epoch_curves` as a `History`-like dict: the values of each key in epoch order.

    Examples:
        >>> logger = kt.callbacks.TensorBoardLogger(tmp_path / "logs")
        >>> history = model.fit(x, y, epochs=2, verbose=0, callbacks=[logger])
        >>> np.float32(epoch_history(tmp_path / "logs")["loss"]).tolist() == np.float32(
        ...     history.history["loss"]).tolist()
        True

    Raises:
        ConfigError: as `epoch_curves`.
    """
    return {key: values for key, (_, values) in epoch_curves(directory, argument=argument).items()}
