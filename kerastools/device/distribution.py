"""`strategy`: the `tf.distribute` strategy for the devices in view, one machine or several.

`TF_CONFIG` is read by `kerastools.device.cluster.tf_config`, the one home
of the cluster rule; TensorFlow comes from `kerastools.device.tensorflow`.

Examples:
    >>> from kerastools.device.distribution import STRATEGY_KINDS
    >>> STRATEGY_KINDS
    ('auto', 'default', 'mirrored', 'multi_worker')
"""

from __future__ import annotations

from typing import Any, Literal

import keras

from kerastools._validation import check_choice
from kerastools.device import backend
from kerastools.device.cluster import tf_config
from kerastools.device.tensorflow import import_tensorflow
from kerastools.errors import ConfigError, DeviceError

__all__ = ["STRATEGY_KINDS", "StrategyKind", "strategy"]

StrategyKind = Literal["auto", "default", "mirrored", "multi_worker"]
STRATEGY_KINDS = ("auto", "default", "mirrored", "multi_worker")


def _multi_worker_class(tf: Any) -> Any:
    class MultiWorkerMirroredStrategy(tf.distribute.MultiWorkerMirroredStrategy):  # type: ignore[misc, name-defined]
        """`tf.distribute.MultiWorkerMirroredStrategy` that Keras 3's `fit` can use.

        Keras 3 (3.15, TF 2.21) asks the strategy to reduce a nested batch
        and scalar metrics along axis 0, which the collective implementation
        rejects (keras-team/keras#20585); reduce them one by one, scalars
        across replicas.
        """

        def reduce(self, reduce_op: Any, value: Any, axis: Any) -> Any:
            if isinstance(value, (tuple, list, dict)):
                return tf.nest.map_structure(lambda item: self.reduce(reduce_op, item, axis), value)
            if axis is not None:
                first = value.values[0] if isinstance(value, tf.distribute.DistributedValues) else value
                if getattr(getattr(first, "shape", None), "rank", None) == 0:
                    axis = None
            return super().reduce(reduce_op, value, axis)

    return MultiWorkerMirroredStrategy


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
            "keras.distribution.DataParallel()))"
        )
        raise DeviceError(
            f"kerastools.device.strategy builds tf.distribute strategies, which need the "
            f"tensorflow backend; the {name} backend distributes with {instead}. "
            f"Received: kind={chosen!r}"
        )
    tf = import_tensorflow()
    cluster = tf_config()
    if cluster is not None and "ps" in cluster["cluster"]:
        raise ConfigError(
            "TF_CONFIG names parameter servers ('ps'); that needs "
            "tf.distribute.ParameterServerStrategy and a coordinator, which kerastools does not "
            f"set up. Received: TF_CONFIG cluster jobs {sorted(cluster['cluster'])}"
        )
    # Decide on multi-worker before listing local devices: listing them starts
    # TensorFlow, after which a multi-worker strategy can no longer be created.
    if chosen == "multi_worker" or (chosen == "auto" and cluster is not None):
        try:
            return _multi_worker_class(tf)()
        except RuntimeError as error:
            raise DeviceError(
                "A multi-worker strategy must be created before TensorFlow initialises its "
                "devices: call kerastools.device.strategy() first thing, before building a "
                f"model or running an operation. (tensorflow said: {error})"
            ) from error
    if chosen == "default":
        return tf.distribute.get_strategy()
    gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
    local = gpus or [d.name for d in tf.config.list_logical_devices("CPU")]
    if chosen == "mirrored" or len(local) > 1:
        return tf.distribute.MirroredStrategy(devices=local)
    return tf.distribute.get_strategy()
