"""`distribute` and `strategy`: training on several devices and processes, on each backend.

`strategy` checks its argument and the backend, then hands over to
`kerastools.backend.tensorflow.strategy`, which builds the `tf.distribute`
strategy for the devices in view, one machine or several (TensorFlow-only code
lives in the TensorFlow module). `distribute` asks the running backend's
module (`kerastools.backend`): TensorFlow's returns `strategy()`,
JAX's starts the processes and builds a `keras.distribution` object
(`kerastools.device.mesh`), torch's refuses.

Examples:
    >>> from kerastools.device.distribution import STRATEGY_KINDS
    >>> STRATEGY_KINDS
    ('auto', 'default', 'mirrored', 'multi_worker')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import keras

from kerastools import backend
from kerastools._validation import check_choice
from kerastools.backend import tensorflow
from kerastools.device import mesh
from kerastools.errors import DeviceError

__all__ = ["STRATEGY_KINDS", "StrategyKind", "distribute", "strategy"]

StrategyKind = Literal["auto", "default", "mirrored", "multi_worker"]
STRATEGY_KINDS = ("auto", "default", "mirrored", "multi_worker")


def strategy(kind: StrategyKind = "auto") -> Any:
    """The `tf.distribute` strategy for the devices in view; build the model in its scope.

    `"auto"` picks `MultiWorkerMirroredStrategy` when `TF_CONFIG` names a
    cluster, `MirroredStrategy` over the local devices when there are
    several (GPUs, or logical CPUs from `configure(logical_cpus=n)` when no
    GPU is visible), and the default strategy otherwise.

    Scaling out: start the same script on every machine, each with a
    `TF_CONFIG` naming all workers and its own place among them, e.g.
    `{"cluster": {"worker": ["10.0.0.1:12345", "10.0.0.2:12345"]},
    "task": {"type": "worker", "index": 0}}`. Worker 0 is the chief
    (`kerastools.checkpoints.is_chief`): kerastools callbacks write files
    only there. Create the strategy first thing, before any TensorFlow work:
    a multi-worker strategy cannot start once TensorFlow has initialised.
    The batch size given to `fit` is the global one, split across replicas.

    Examples:
        >>> chosen = kt.device.strategy()
        >>> chosen.num_replicas_in_sync
        1
        >>> with chosen.scope():                                   # doctest: +SKIP
        ...     model = kt.compile(kt.build_mlp(2, [16]))

    Args:
        kind: `"auto"`, `"default"`, `"mirrored"` (all local GPUs, else all
            logical CPUs) or `"multi_worker"`. Defaults to `"auto"`.

    Returns:
        A `tf.distribute.Strategy`. The multi-worker one is a subclass of
        `tf.distribute.MultiWorkerMirroredStrategy` that works around a
        Keras 3 bug in `fit`.

    Raises:
        ConfigError: an unknown kind, or a malformed `TF_CONFIG` (or one
            with parameter servers, which need `ParameterServerStrategy`).
        DeviceError: a backend other than TensorFlow (use
            `keras.distribution.DataParallel` on JAX, `torch.distributed`
            on torch), or a multi-worker
            strategy asked for after TensorFlow initialised.
    """
    chosen = check_choice("kind", kind, STRATEGY_KINDS)
    if not backend.current().TF_DISTRIBUTE:
        name = keras.backend.backend()
        # keras.distribution has no torch implementation (keras 3.15.1): torch users use DDP.
        instead = (
            "torch.distributed (DistributedDataParallel)"
            if name == "torch"
            else "keras.distribution (e.g. keras.distribution.set_distribution("
            "keras.distribution.DataParallel()); kerastools.device.distribute() builds one)"
        )
        raise DeviceError(
            f"kerastools.device.strategy builds tf.distribute strategies, which need the "
            f"tensorflow backend; the {name} backend distributes with {instead}. "
            f"Received: kind={chosen!r}"
        )
    return tensorflow.strategy(chosen)


def distribute(
    mesh_shape: Sequence[int] | None = None,
    axis_names: Sequence[str] | None = None,
    layout_map: Mapping[str, Sequence[str | None]] | None = None,
    *,
    coordinator_address: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    auto_shard_dataset: bool = True,
) -> Any:
    """Set up the processes and return what spreads training over the devices, on any backend.

    - **JAX**: with several processes (from the arguments, else from
      `KERAS_DISTRIBUTION_JOB_ADDRESSES` or `JAX_COORDINATOR_ADDRESS`,
      `KERAS_DISTRIBUTION_NUM_PROCESSES` and `KERAS_DISTRIBUTION_PROCESS_ID`),
      first calls `keras.distribution.initialize`, which must run before any
      JAX computation: call `distribute` first thing (after
      `kt.device.configure`). Returns `keras.distribution.DataParallel` over
      every device of the job; with `mesh_shape` a `DeviceMesh` over them
      (`DataParallel` on one axis, `ModelParallel` with `layout_map` or
      several axes). Process 0 is the chief (`kt.checkpoints.is_chief`): only
      it writes checkpoints and plots.
    - **TensorFlow**: `strategy()` (the cluster comes from `TF_CONFIG`).
    - **torch**: a `DeviceError`: Keras has no torch distribution; use
      `torch.distributed` (DistributedDataParallel, launched by `torchrun`).

    Build and train inside `with distribution.scope():` on either backend, or
    on JAX set it for the whole program with
    `keras.distribution.set_distribution(distribution)`. The batch size given
    to `fit` is the global one on TensorFlow; on JAX with several processes
    and `auto_shard_dataset=False`, each process passes its own share of the
    data and `batch_size` is per process.

    Examples:
        >>> chosen = kt.device.distribute()
        >>> with chosen.scope():                                   # doctest: +SKIP
        ...     model = kt.compile(kt.build_mlp(2, [16]))
        ...     model.fit(x, y, epochs=2)
        >>> kt.device.distribute(mesh_shape=(2, 2), axis_names=("batch", "model"),  # doctest: +SKIP
        ...                      layout_map={"dense.*kernel": (None, "model")})

    Args:
        mesh_shape: the device mesh (JAX), e.g. `(2, 2)`; its size must be the
            number of devices of the job. None: every device on one batch axis.
        axis_names: one name per mesh axis, the first the one the batch is
            split along. Defaults to `("batch",)` or `("batch", "model")`.
        layout_map: variable-path regex -> mesh axis per dimension (None: not
            split), e.g. `{"dense.*kernel": (None, "model")}`; Keras'
            `LayoutMap`. None: every variable copied to every device.
        coordinator_address: process 0's `host:port` (or every process's,
            comma-separated). Defaults to the environment.
        num_processes: how many processes take part. Defaults to the
            environment, else 1.
        process_id: this process's index, 0 the coordinator and chief.
            Defaults to the environment.
        auto_shard_dataset: Keras' `auto_shard_dataset`: split a `tf.data`
            dataset across processes; False when each process already
            passes its own share (needed for NumPy arrays with several
            processes). Defaults to True.

    Returns:
        A `keras.distribution.Distribution` on JAX, a `tf.distribute.Strategy`
        on TensorFlow.

    Raises:
        ConfigError: a malformed argument or environment variable, or a mesh
            that does not hold every device.
        DeviceError: the torch (or another) backend; on TensorFlow, any
            argument (TensorFlow takes its cluster from `TF_CONFIG`); on JAX,
            several processes asked for after JAX started.
    """
    request = mesh.validate(
        mesh_shape, axis_names, layout_map, coordinator_address=coordinator_address,
        num_processes=num_processes, process_id=process_id, auto_shard_dataset=auto_shard_dataset,
    )
    return backend.current().distribute(request)
