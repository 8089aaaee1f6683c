"""The TensorFlow backend: device setup, `tf.distribute` and gradients; the only module that imports TensorFlow.

TensorFlow fixes its device setup (visible GPUs, memory growth, memory caps,
logical CPUs, thread pools) the first time it runs anything; a setter called
later fails with a bare `RuntimeError`. TensorFlow is imported inside
functions only, so the jax and torch backends never load it.

The backend interface, the same in `jax.py`, `torch.py` and `other.py`
(`kerastools.backend.current()` picks one):

- `NAME`, `DISPLAY_NAME`: the Keras backend name and how prose calls it.
- `CHANGEABLE_LATER`: the `configure` arguments that may still change once
  the backend has initialised its devices.
- `TF_DISTRIBUTE`: whether `tf.distribute` strategies work on it.
- `initialized()`: whether the device setup is fixed already.
- `plan(request)`: the `Plan` of steps for a checked `configure` request;
  raises `DeviceError` for what the backend cannot do.
- `summary()`: the `DeviceSummary`, without initialising anything.
- `available(kind)`: names of the devices of `kind` work can be placed on.
- `process_index()`: this process's index in a multi-process run.
- `distribute(request)`: what `kerastools.device.distribute` returns for a
  checked `kerastools.device.mesh.DistributionRequest`; raises
  `DeviceError` where the backend cannot distribute so.
- `value_and_gradient(function, at)`: a function's auxiliary output and the
  gradient of the sum of its scores at `at`, as NumPy (Keras 3 has no
  backend-neutral gradient call; `kerastools.plots.grad_cam` uses it).

Beyond the interface, `strategy(kind)` builds the `tf.distribute` strategy that
`kerastools.device.strategy` returns once it has checked its argument: the
TensorFlow-only code of distribution lives here, not in the backend-neutral
`kerastools.device.distribution`.

Examples:
    >>> from kerastools.backend import tensorflow
    >>> tensorflow.DISPLAY_NAME
    'TensorFlow'
"""

from __future__ import annotations

import functools
from typing import Any

from kerastools.device.cluster import tf_config
from kerastools.device.mesh import DistributionRequest
from kerastools.device.report import (
    DeviceInfo,
    DeviceSummary,
    cpu_details,
    dtype_policy,
    no_gpu_notes,
)
from kerastools.device.request import (
    Plan,
    Request,
    Step,
    missing_gpu_error,
    needs_gpu_error,
    policy_step,
)
from kerastools.errors import ConfigError, DeviceError

__all__ = [
    "CHANGEABLE_LATER",
    "DISPLAY_NAME",
    "NAME",
    "TF_DISTRIBUTE",
    "available",
    "distribute",
    "import_tensorflow",
    "initialized",
    "plan",
    "process_index",
    "strategy",
    "summary",
    "value_and_gradient",
]

NAME = "tensorflow"
DISPLAY_NAME = "TensorFlow"
CHANGEABLE_LATER = ("soft_placement", "log_placement", "jit", "mixed_precision")
TF_DISTRIBUTE = True


def import_tensorflow() -> Any:
    """The `tensorflow` module (the only TensorFlow import in kerastools).

    Examples:
        >>> from kerastools.backend.tensorflow import import_tensorflow
        >>> import_tensorflow().__name__   # doctest: +SKIP
        'tensorflow'
    """
    import tensorflow as tf

    return tf


def initialized() -> bool:
    """Whether TensorFlow has created its runtime (and so fixed its device setup).

    TensorFlow has no public "initialised?" call, but its setters refuse with
    a RuntimeError once the runtime exists: move the inter-op thread count
    by one and put it back. Before initialisation both calls succeed and
    nothing changes; after it the first one raises and changes nothing.
    Checked on TensorFlow 2.21; `tests/device/test_tensorflow.py` fails if
    this stops telling the two states apart.

    Examples:
        >>> from kerastools.backend import tensorflow
        >>> tensorflow.initialized()   # doctest: +SKIP
        False
    """
    threading = import_tensorflow().config.threading
    current = threading.get_inter_op_parallelism_threads()
    try:
        threading.set_inter_op_parallelism_threads(current + 1)
    except RuntimeError:
        return True
    threading.set_inter_op_parallelism_threads(current)
    return False


def plan(request: Request) -> Plan:
    """The steps that apply `request` on TensorFlow.

    Examples:
        >>> from kerastools.backend import tensorflow
        >>> from kerastools.device import request
        >>> tensorflow.plan(request.validate({})).steps   # doctest: +SKIP
        []

    Raises:
        DeviceError: a GPU that is not there, or a GPU setting without a GPU.
    """
    tf = import_tensorflow()
    started = initialized()
    note = (
        ""
        if tf.test.is_built_with_cuda()
        else " This TensorFlow is a CPU-only build (e.g. tensorflow-cpu); GPUs need "
        "`pip install tensorflow[and-cuda]`."
    )
    selected = _selected_gpus(tf, request, started, note)
    for name in ("memory_growth", "memory_limit_mb"):
        if getattr(request, name) is not None and not selected:
            raise needs_gpu_error(NAME, name, getattr(request, name), note)
    steps = [
        *_visibility_steps(tf, selected),
        *_gpu_memory_steps(tf, request, selected),
        *_cpu_split_steps(tf, request.logical_cpus),
        *_setting_steps(tf, request),
        *policy_step(request),
    ]
    return Plan(steps, started, bool(selected))


def _selected_gpus(tf: Any, request: Request, started: bool, note: str) -> list[Any]:
    physical_gpus = tf.config.list_physical_devices("GPU")
    if isinstance(request.gpus, tuple):
        indices = request.gpus
        if max(indices) >= len(physical_gpus):
            raise missing_gpu_error(NAME, indices, [g.name for g in physical_gpus], note)
        return [physical_gpus[index] for index in indices]
    if request.gpus == "none":
        return []
    if started:  # once TensorFlow has started, the default leaves the selection as it is
        return [g for g in tf.config.get_visible_devices() if g.device_type == "GPU"]
    return list(physical_gpus)


def _visibility_steps(tf: Any, selected: list[Any]) -> list[Step]:
    wanted = [d for d in tf.config.list_physical_devices() if d.device_type != "GPU"] + selected
    if {d.name for d in wanted} == {d.name for d in tf.config.get_visible_devices()}:
        return []
    return [Step("gpus", True, functools.partial(tf.config.set_visible_devices, wanted))]


def _gpu_memory_steps(tf: Any, request: Request, selected: list[Any]) -> list[Step]:
    steps: list[Step] = []
    growth = request.memory_growth
    if growth is not None:
        to_grow = [g for g in selected if tf.config.experimental.get_memory_growth(g) != growth]
        if to_grow:

            def set_growth() -> None:
                for gpu in to_grow:
                    tf.config.experimental.set_memory_growth(gpu, growth)

            steps.append(Step("memory_growth", True, set_growth))
    limit = request.memory_limit_mb
    if limit is not None:
        to_cap = [
            g
            for g in selected
            if [c.memory_limit for c in tf.config.get_logical_device_configuration(g) or []]
            != [limit]
        ]
        if to_cap:

            def set_cap() -> None:
                for gpu in to_cap:
                    config = [tf.config.LogicalDeviceConfiguration(memory_limit=limit)]
                    tf.config.set_logical_device_configuration(gpu, config)

            steps.append(Step("memory_limit_mb", True, set_cap))
    return steps


def _cpu_split_steps(tf: Any, count: int | None) -> list[Step]:
    if count is None:
        return []
    cpu = tf.config.list_physical_devices("CPU")[0]
    if len(tf.config.get_logical_device_configuration(cpu) or [None]) == count:
        return []

    def split_cpu() -> None:
        config = [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
        tf.config.set_logical_device_configuration(cpu, config)

    return [Step("logical_cpus", True, split_cpu)]


def _setting_steps(tf: Any, request: Request) -> list[Step]:
    """Thread pools (fixed at start), placement and XLA (changeable later)."""
    threading = tf.config.threading
    settings = (
        ("intra_op_threads", True, threading.get_intra_op_parallelism_threads,
         threading.set_intra_op_parallelism_threads),
        ("inter_op_threads", True, threading.get_inter_op_parallelism_threads,
         threading.set_inter_op_parallelism_threads),
        ("soft_placement", False, tf.config.get_soft_device_placement,
         tf.config.set_soft_device_placement),
        ("log_placement", False, tf.debugging.get_log_device_placement,
         tf.debugging.set_log_device_placement),
        ("jit", False, lambda: bool(tf.config.optimizer.get_jit()), tf.config.optimizer.set_jit),
    )
    steps = []
    for name, fixed, read, write in settings:
        value = getattr(request, name)
        if value is None:
            continue
        # Thread counts compare as numbers (0: automatic), switches as booleans.
        current = read() if fixed else bool(read())
        if value != current:
            steps.append(Step(name, fixed, functools.partial(write, value)))
    return steps


def summary() -> DeviceSummary:
    """The device summary on TensorFlow; never initialises TensorFlow.

    Examples:
        >>> from kerastools.backend import tensorflow
        >>> tensorflow.summary().backend   # doctest: +SKIP
        'tensorflow'
    """
    tf = import_tensorflow()
    physical = tf.config.list_physical_devices()
    visible_names = {d.name for d in tf.config.get_visible_devices()}
    physical_info = [_physical_info(tf, d, d.name in visible_names) for d in physical]
    planned = _planned_logical(tf, [d for d in physical if d.name in visible_names])
    created = initialized()
    logical = planned
    if created:
        limits = {d.name: d.memory_limit_mb for d in planned}
        logical = [
            DeviceInfo(d.device_type, d.name, memory_limit_mb=limits.get(d.name))
            for d in tf.config.list_logical_devices()
        ]
    notes = []
    if not tf.test.is_built_with_cuda():
        notes.append(
            "This TensorFlow is a CPU-only build: it never sees a GPU "
            "(GPUs need `pip install tensorflow[and-cuda]`)."
        )
    notes += no_gpu_notes(physical_info)
    if not created:
        notes.append(
            "TensorFlow has not initialised its devices yet: configure(...) can still change "
            "every setting."
        )
    jit = tf.config.optimizer.get_jit()
    return DeviceSummary(
        backend=NAME,
        backend_version=tf.__version__,
        physical_devices=tuple(physical_info),
        logical_devices=tuple(logical),
        logical_devices_created=created,
        intra_op_threads=tf.config.threading.get_intra_op_parallelism_threads(),
        inter_op_threads=tf.config.threading.get_inter_op_parallelism_threads(),
        dtype_policy=dtype_policy(),
        soft_placement=bool(tf.config.get_soft_device_placement()),
        log_placement=bool(tf.debugging.get_log_device_placement()),
        jit=str(jit) if jit else "off",
        notes=tuple(notes),
    )


def _physical_info(tf: Any, device: Any, visible: bool) -> DeviceInfo:
    details = ""
    if device.device_type == "GPU":
        described = tf.config.experimental.get_device_details(device)
        capability = described.get("compute_capability")
        details = str(described.get("device_name", ""))
        if capability:
            details += f" (compute capability {capability[0]}.{capability[1]})"
    elif device.device_type == "CPU":
        details = cpu_details()
    return DeviceInfo(device.device_type, device.name, visible=visible, details=details)


def _planned_logical(tf: Any, visible: list[Any]) -> list[DeviceInfo]:
    """Logical devices as TensorFlow will number them: per type, in order."""
    planned: list[DeviceInfo] = []
    counters: dict[str, int] = {}
    for device in visible:
        for config in tf.config.get_logical_device_configuration(device) or [None]:
            index = counters.get(device.device_type, 0)
            counters[device.device_type] = index + 1
            limit = getattr(config, "memory_limit", None)
            name = f"/device:{device.device_type}:{index}"
            planned.append(DeviceInfo(device.device_type, name, memory_limit_mb=limit))
    return planned


def available(kind: str) -> list[str]:
    """Names of the logical devices of `kind` ("cpu", "gpu", "tpu"); lists start TensorFlow.

    Examples:
        >>> from kerastools.backend import tensorflow
        >>> tensorflow.available("cpu")   # doctest: +SKIP
        ['/device:CPU:0']
    """
    tf = import_tensorflow()
    return [d.name for d in tf.config.list_logical_devices(kind.upper())]


def process_index() -> int:
    """0: on TensorFlow, `TF_CONFIG` says who is who (`kerastools.device.cluster`).

    Examples:
        >>> from kerastools.backend import tensorflow
        >>> tensorflow.process_index()
        0
    """
    return 0


def strategy(kind: str) -> Any:
    """The `tf.distribute` strategy of a checked `kind`, read with `TF_CONFIG`.

    `kerastools.device.strategy` checks `kind` and the backend, then calls
    this; `distribute` below calls it with `"auto"`.

    Examples:
        >>> from kerastools.backend import tensorflow
        >>> tensorflow.strategy("default").num_replicas_in_sync   # doctest: +SKIP
        1

    Raises:
        ConfigError: a malformed `TF_CONFIG`, or one with parameter servers.
        DeviceError: a multi-worker strategy asked for after TensorFlow initialised.
    """
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
    if kind == "multi_worker" or (kind == "auto" and cluster is not None):
        try:
            return _multi_worker_class(tf)()
        except RuntimeError as error:
            raise DeviceError(
                "A multi-worker strategy must be created before TensorFlow initialises its "
                "devices: call kerastools.device.strategy() first thing, before building a "
                f"model or running an operation. (tensorflow said: {error})"
            ) from error
    if kind == "default":
        return tf.distribute.get_strategy()
    gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
    local = gpus or [d.name for d in tf.config.list_logical_devices("CPU")]
    if kind == "mirrored" or len(local) > 1:
        return tf.distribute.MirroredStrategy(devices=local)
    return tf.distribute.get_strategy()


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


def distribute(request: DistributionRequest) -> Any:
    """`kerastools.device.strategy()`: TensorFlow reads its cluster from `TF_CONFIG`, not arguments.

    Examples:
        >>> from kerastools.backend import tensorflow
        >>> from kerastools.device import mesh
        >>> tensorflow.distribute(mesh.validate()).num_replicas_in_sync   # doctest: +SKIP
        1

    Raises:
        DeviceError: any argument: a mesh, a layout map or processes are
            `keras.distribution` settings, which Keras implements on JAX only.
    """
    if not request.default:
        raise DeviceError(
            "On the tensorflow backend kerastools.device.distribute returns a tf.distribute "
            "strategy and takes no arguments: device meshes and layout maps are "
            "keras.distribution settings (JAX only), and the processes of a multi-worker job come "
            "from TF_CONFIG (see kerastools.device.strategy). Received: " + request.arguments()
        )
    return strategy("auto")


def value_and_gradient(function: Any, at: Any) -> tuple[Any, Any]:
    """`function(at)`'s second output, and the gradient of the sum of its first at `at`.

    `function` maps a tensor to `(scores, aux)`; the gradient is taken of
    `sum(scores)`, so per-sample scores give per-sample gradients. Both
    results come back as NumPy arrays (`aux` may be a tensor or a nested
    structure of them). `kerastools.plots.grad_cam` and `saliency` use it.

    Examples:
        >>> from kerastools import backend
        >>> aux, grad = backend.current().value_and_gradient(
        ...     lambda t: (keras.ops.square(t), keras.ops.sum(t)), np.array([1.0, 2.0], "float32"))
        >>> float(aux), grad.tolist()
        (3.0, [2.0, 4.0])
    """
    import keras

    tf = import_tensorflow()
    point = tf.convert_to_tensor(at)
    with tf.GradientTape() as tape:
        tape.watch(point)
        scores, aux = function(point)
        total = tf.reduce_sum(scores)
    gradient = tape.gradient(total, point)
    if gradient is None:  # the scores do not depend on `at`
        gradient = tf.zeros_like(point)
    return keras.tree.map_structure(keras.ops.convert_to_numpy, aux), gradient.numpy()
