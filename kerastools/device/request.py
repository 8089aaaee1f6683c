"""What a `configure` call asks for: argument checks, planned steps and the errors it raises.

Every argument is checked here before any backend is asked anything, so a
bad one changes nothing. A backend module turns the checked `Request` into
a `Plan` of `Step`s; the error builders word the refusals the same way on
every backend.

Examples:
    >>> from kerastools.device.request import validate
    >>> validate({"gpus": "none", "intra_op_threads": 2}).given()
    {'gpus': 'none', 'intra_op_threads': 2}
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import keras

from kerastools._validation import check_bool, check_choice, check_int
from kerastools.device.report import dtype_policy
from kerastools.errors import ConfigError, ConfigTypeError, DeviceError

__all__ = [
    "ARGUMENTS",
    "MIXED_PRECISION",
    "Plan",
    "Request",
    "Step",
    "check_gpus",
    "check_supported",
    "missing_gpu_error",
    "needs_gpu_error",
    "policy_step",
    "too_late_error",
    "validate",
    "warn_float16_on_cpu",
]

MIXED_PRECISION = ("mixed_float16", "mixed_bfloat16", "float32")
ARGUMENTS = (
    "gpus",
    "memory_growth",
    "memory_limit_mb",
    "logical_cpus",
    "intra_op_threads",
    "inter_op_threads",
    "soft_placement",
    "log_placement",
    "mixed_precision",
    "jit",
)


@dataclass
class Request:
    """The validated arguments of one `configure` call (None: leave as is).

    Examples:
        >>> from kerastools.device.request import validate
        >>> validate({"jit": True}).given()
        {'jit': True}
    """

    gpus: Literal["all", "none"] | tuple[int, ...]
    memory_growth: bool | None
    memory_limit_mb: int | None
    logical_cpus: int | None
    intra_op_threads: int | None
    inter_op_threads: int | None
    soft_placement: bool | None
    log_placement: bool | None
    mixed_precision: str | None
    jit: bool | None

    def given(self) -> dict[str, Any]:
        """The arguments that ask for something (gpus="all" is the default: left out)."""
        values = {
            name: getattr(self, name)
            for name in ARGUMENTS[1:]
            if getattr(self, name) is not None
        }
        if self.gpus != "all":
            values = {"gpus": self.gpus, **values}
        return values


def check_gpus(value: Any) -> Literal["all", "none"] | tuple[int, ...]:
    """`configure`'s `gpus`, checked: "all", "none" or a tuple of distinct indices.

    Examples:
        >>> from kerastools.device.request import check_gpus
        >>> check_gpus("ALL"), check_gpus(1), check_gpus([0, 2])
        ('all', (1,), (0, 2))

    Raises:
        ConfigError: an unknown word, a negative index, an empty list or a repeated index.
        ConfigTypeError: something that is neither a word nor integers.
    """
    allowed = "'all', 'none', a GPU index or a list of GPU indices"
    if isinstance(value, str):
        if value.lower() == "all":
            return "all"
        if value.lower() == "none":
            return "none"
        raise ConfigError(f"Argument `gpus` must be {allowed}. Received: gpus={value!r}")
    indices = [value] if not isinstance(value, (list, tuple)) else list(value)
    for index in indices:
        if isinstance(index, bool) or not isinstance(index, int):
            raise ConfigTypeError(f"Argument `gpus` must be {allowed}. Received: gpus={value!r}")
        if index < 0:
            raise ConfigError(f"Argument `gpus` must hold indices >= 0. Received: gpus={value!r}")
    if not indices:
        raise ConfigError(
            f"Argument `gpus` is an empty list; pass gpus='none' to run on the CPU only. "
            f"Received: gpus={value!r}"
        )
    if len(set(indices)) != len(indices):
        raise ConfigError(f"Argument `gpus` names a GPU twice. Received: gpus={value!r}")
    return tuple(indices)


def _optional(check: Callable[..., Any], name: str, value: Any, **bounds: Any) -> Any:
    return None if value is None else check(name, value, **bounds)


def validate(arguments: Mapping[str, Any]) -> Request:
    """Check `configure`'s arguments (absent ones: left as they are) into a `Request`.

    Examples:
        >>> from kerastools.device.request import validate
        >>> validate({"logical_cpus": 2}).logical_cpus
        2

    Raises:
        ConfigError: a bad value or a contradictory pair.
        ConfigTypeError: a value of the wrong type.
    """
    request = Request(
        gpus=check_gpus(arguments.get("gpus", "all")),
        memory_growth=_optional(check_bool, "memory_growth", arguments.get("memory_growth")),
        memory_limit_mb=_optional(check_int, "memory_limit_mb", arguments.get("memory_limit_mb"), low=1),
        logical_cpus=_optional(check_int, "logical_cpus", arguments.get("logical_cpus"), low=1),
        intra_op_threads=_optional(
            check_int, "intra_op_threads", arguments.get("intra_op_threads"), low=0
        ),
        inter_op_threads=_optional(
            check_int, "inter_op_threads", arguments.get("inter_op_threads"), low=0
        ),
        soft_placement=_optional(check_bool, "soft_placement", arguments.get("soft_placement")),
        log_placement=_optional(check_bool, "log_placement", arguments.get("log_placement")),
        mixed_precision=_optional(
            check_choice, "mixed_precision", arguments.get("mixed_precision"), allowed=MIXED_PRECISION
        ),
        jit=_optional(check_bool, "jit", arguments.get("jit")),
    )
    if request.memory_growth is not None and request.memory_limit_mb is not None:
        raise ConfigError(
            "Arguments `memory_growth` and `memory_limit_mb` cannot be combined: a capped GPU "
            "takes its memory as it needs it up to the cap. Pass one of them. Received: "
            f"memory_growth={request.memory_growth}, memory_limit_mb={request.memory_limit_mb}"
        )
    if request.gpus == "none":
        for name in ("memory_growth", "memory_limit_mb"):
            if getattr(request, name) is not None:
                raise ConfigError(
                    f"Argument `{name}` configures GPUs, but gpus='none' hides them all. "
                    f"Received: gpus='none', {name}={getattr(request, name)!r}"
                )
    return request


def missing_gpu_error(
    backend: str, indices: Sequence[int], found: Sequence[str], note: str = ""
) -> DeviceError:
    """The error for `gpus` indices beyond the GPUs `found`; it lists what is there.

    Examples:
        >>> from kerastools.device.request import missing_gpu_error
        >>> "it sees no GPU" in str(missing_gpu_error("jax", [0], []))
        True
    """
    missing = [index for index in indices if index >= len(found)]
    if found:
        there = f"it sees {len(found)} GPU(s): " + ", ".join(
            f"{i}: {name}" for i, name in enumerate(found)
        )
    else:
        there = (
            "it sees no GPU. A CPU-only machine is normal: pass gpus='none' (or leave gpus='all') "
            "to run on the CPU"
        )
    return DeviceError(
        f"Argument `gpus` asks for GPU {', '.join(map(str, missing))}, but the {backend} backend "
        f"cannot use it: {there}.{note} Received: gpus={list(indices)!r}"
    )


def needs_gpu_error(backend: str, name: str, value: Any, note: str = "") -> DeviceError:
    """The error for a GPU setting (`name`) on a backend that sees no GPU.

    Examples:
        >>> from kerastools.device.request import needs_gpu_error
        >>> str(needs_gpu_error("jax", "memory_growth", True)).startswith("Argument `memory_growth`")
        True
    """
    return DeviceError(
        f"Argument `{name}` configures GPUs, but the {backend} backend sees no GPU. A CPU-only "
        f"machine is normal: leave `{name}` unset there.{note} Received: {name}={value!r}"
    )


def check_supported(
    backend: str,
    reasons: Mapping[str, str],
    request: Request,
    harmless: Mapping[str, Any] | None = None,
    also: Sequence[str] = (),
) -> None:
    """Refuse, before anything is applied, the arguments `backend` cannot apply.

    Args:
        backend: the backend's name, e.g. "jax".
        reasons: why each unsupported argument is, and what to do instead.
        request: the checked arguments.
        harmless: values of unsupported arguments that ask for nothing new
            (jit=True on jax, gpus="all" on torch). Defaults to None.
        also: extra entries for the "configure supports" list.

    Raises:
        DeviceError: naming every unsupported argument, why, and what the
            backend does support.

    Examples:
        >>> from kerastools.device.request import check_supported, validate
        >>> check_supported("jax", {"jit": "no"}, validate({"jit": True}), harmless={"jit": True})
    """
    harmless = harmless or {}
    names = [
        name
        for name in reasons
        if getattr(request, name) is not None
        and not (name in harmless and getattr(request, name) == harmless[name])
    ]
    if not names:
        return
    lines = "; ".join(f"`{name}`: {reasons[name]}" for name in names)
    received = ", ".join(f"{name}={getattr(request, name)!r}" for name in names)
    supported = [name for name in ARGUMENTS if name not in reasons] + list(also)
    raise DeviceError(
        f"The {backend} backend cannot apply {', '.join(f'`{n}`' for n in names)} ({lines}). "
        f"On {backend}, configure supports: {', '.join(supported)}. Nothing was applied. "
        f"Received: {received}"
    )


def too_late_error(
    backend: str,
    changeable: Sequence[str],
    names: Sequence[str],
    request: Request,
    applied: Sequence[str] = (),
) -> DeviceError:
    """The error for settings asked for after `backend` fixed them.

    Examples:
        >>> from kerastools.device.request import too_late_error, validate
        >>> error = too_late_error("jax", ["jit"], ["logical_cpus"], validate({"logical_cpus": 3}))
        >>> "Still allowed now: jit." in str(error)
        True
    """
    received = ", ".join(f"{name}={getattr(request, name)!r}" for name in names)
    outcome = (
        f"Applied before this failed: {', '.join(applied)}." if applied else "Nothing was applied."
    )
    return DeviceError(
        f"The {backend} backend has already initialised its devices (something ran an "
        f"operation, built a model or listed its devices), so "
        f"{', '.join(f'`{n}`' for n in names)} can no longer change. Call "
        f"kerastools.device.configure(...) first thing in the program, right after the imports "
        f"(in Jupyter: restart the kernel). Still allowed now: "
        f"{', '.join(changeable)}. {outcome} "
        f"Received: {received}"
    )


@dataclass
class Step:
    """One change `configure` will make.

    Examples:
        >>> from kerastools.device.request import Step
        >>> Step("jit", False, lambda: None).fixed_at_start
        False

    Args:
        argument: the `configure` argument it applies.
        fixed_at_start: whether the backend refuses it once initialised.
        apply: makes the change.
    """

    argument: str
    fixed_at_start: bool
    apply: Callable[[], None]


def warn_float16_on_cpu() -> None:
    """Warn that mixed_float16 without a GPU usually trains slower than float32.

    Examples:
        >>> from kerastools.device.request import warn_float16_on_cpu
        >>> warn_float16_on_cpu()   # doctest: +SKIP
    """
    warnings.warn(
        "mixed_precision='mixed_float16' on a machine with no visible GPU: CPUs have no fast "
        "float16 arithmetic, so training is usually slower than in float32. Use it on a GPU, "
        "or 'mixed_bfloat16' on CPUs with bfloat16 support.",
        UserWarning,
        stacklevel=3,
    )


def policy_step(request: Request) -> list[Step]:
    """The step that sets Keras' dtype policy, if the request changes it (every backend has it).

    Examples:
        >>> from kerastools.device.request import policy_step, validate
        >>> policy_step(validate({"mixed_precision": "float32"}))  # already float32
        []
    """
    if request.mixed_precision is None or request.mixed_precision == dtype_policy():
        return []
    policy = request.mixed_precision
    return [Step("mixed_precision", False, lambda: keras.config.set_dtype_policy(policy))]


@dataclass
class Plan:
    """What a backend will change, and what it found while planning.

    Examples:
        >>> from kerastools.device.request import Plan
        >>> Plan([], initialized=False, gpu_visible=False).steps
        []

    Args:
        steps: the changes, in order.
        initialized: whether the backend had already fixed its device setup.
        gpu_visible: whether work will be able to use a GPU.
    """

    steps: list[Step]
    initialized: bool
    gpu_visible: bool
