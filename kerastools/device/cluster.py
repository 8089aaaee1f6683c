"""Who is who in a multi-process run: `TF_CONFIG`, the process index, the chief.

One rule decides which process may write files (checkpoints, plots, reports),
so every writer in kerastools agrees on it. TensorFlow is never imported here:
`TF_CONFIG` is read from the environment, and the JAX process index is asked of
JAX only when JAX is already the running backend.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from typing import Any

import keras

from kerastools.errors import ConfigError

__all__ = ["is_chief", "process_index", "tf_config", "writing_alone"]

_EXAMPLE = (
    '{"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type": "worker", "index": 0}}'
)


def tf_config() -> dict[str, Any] | None:
    """`TF_CONFIG`, checked; None when it is unset or names no cluster.

    Examples:
        >>> from kerastools.device.cluster import tf_config
        >>> tf_config() is None  # no cluster in this process's environment
        True

    Raises:
        ConfigError: `TF_CONFIG` is not JSON, not an object, or names a task
            that is not in its cluster.
    """
    raw = os.environ.get("TF_CONFIG", "").strip()
    if not raw:
        return None
    try:
        config = json.loads(raw)
    except (json.JSONDecodeError, RecursionError) as error:
        raise ConfigError(
            f"Environment variable TF_CONFIG is not valid JSON ({error}); TF_CONFIG must be JSON "
            f"like {_EXAMPLE}. Received: TF_CONFIG={raw!r}"
        ) from error
    if not isinstance(config, dict):
        raise ConfigError(
            f"Environment variable TF_CONFIG must be a JSON object like {_EXAMPLE}. "
            f"Received: TF_CONFIG={raw!r}"
        )
    cluster = config.get("cluster") or {}
    if not cluster:
        return None
    task = config.get("task")
    if not isinstance(cluster, dict) or not isinstance(task, dict) or not _task_in_cluster(
        task, cluster
    ):
        raise ConfigError(
            "Environment variable TF_CONFIG must name a cluster and this process's task in it, "
            f"e.g. {_EXAMPLE}. Received: TF_CONFIG={raw!r}"
        )
    return config


def _task_in_cluster(task: dict[str, Any], cluster: dict[str, Any]) -> bool:
    index = task.get("index", 0)
    if not isinstance(index, int) or isinstance(index, bool):
        return False
    # TensorFlow's evaluator runs beside the cluster, so it is not listed in it.
    if task.get("type") == "evaluator":
        return index == 0
    task_type = task.get("type")
    members = cluster.get(task_type) if isinstance(task_type, str) else None
    return isinstance(members, list) and 0 <= index < len(members)


def process_index() -> int:
    """This process's index in a multi-process JAX run; 0 otherwise.

    Examples:
        >>> from kerastools.device.cluster import process_index
        >>> process_index()
        0
    """
    # The running backend's module answers: only the JAX one asks JAX, so a
    # TensorFlow or torch program never imports it.
    from kerastools import backend

    return int(backend.current().process_index())


def is_chief() -> bool:
    """Whether this process is the one that writes files.

    Under `MultiWorkerMirroredStrategy` every worker runs the same script;
    only the chief may write, or they would overwrite each other. The chief
    is the task of type `"chief"` in `TF_CONFIG`, or worker 0 when the
    cluster has no chief; `"ps"` and `"evaluator"` tasks never are. Without
    `TF_CONFIG`, a multi-process JAX run's chief is process 0; a single
    process is always the chief. TensorFlow is not imported.

    Examples:
        >>> import kerastools as kt
        >>> kt.checkpoints.is_chief()
        True

    Raises:
        ConfigError: `TF_CONFIG` is set but is not the JSON TensorFlow expects.
    """
    config = tf_config()
    if config is None:
        return process_index() == 0
    task_type, index = config["task"]["type"], config["task"]["index"]
    if task_type == "chief":
        return True
    if task_type == "worker":
        return index == 0 and not config["cluster"].get("chief")
    return False


@contextlib.contextmanager
def writing_alone() -> Iterator[None]:
    """Let the chief save a model while the other processes train on: no distribution meanwhile.

    Under a `keras.distribution` spanning several processes, every new Keras
    variable is placed across all of them, which is a collective: each
    process must create it at the same time. Keras' `save_weights` creates
    some (a reference `Optimizer`, each call, keras 3.15.1), so a save on
    the chief alone would wait for processes that never join it. Inside this
    block no distribution is in force, so those variables stay on this
    process; reading replicated weights needs no other process. (Variables
    split across processes by `ModelParallel` cannot be read by one process
    alone: every process would have to save.)

    Examples:
        >>> from kerastools.device.cluster import writing_alone
        >>> with writing_alone():
        ...     keras.distribution.distribution() is None
        True
    """
    current = keras.distribution.distribution()
    if current is None:
        yield
        return
    keras.distribution.set_distribution(None)
    try:
        yield
    finally:
        keras.distribution.set_distribution(current)
