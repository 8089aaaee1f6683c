"""GPU checks of kerastools.device, run by hand on a machine with an NVIDIA GPU.

    python tests/gpu/check_gpu_paths.py            # all checks, prints a report
    python tests/gpu/check_gpu_paths.py --quick    # shorter mixed-precision timing

Not collected by pytest (the name does not start with `test_`, and nothing
runs on import). Device settings are process-wide and fixed when the backend
starts, so every check runs in a fresh subprocess with its own
`KERAS_BACKEND`; each prints one JSON line, and this script prints them all
plus a summary. It needs keras, jax with CUDA, and optionally torch;
TensorFlow with CUDA is used when it is installed (its checks are skipped
otherwise, and the report says so).

Checks:
- summary: `summary()` before the backend starts (GPUs from the driver) and after.
- pin: `gpus=[n]` for a GPU that is not there (refused, lists the GPUs) then `gpus=[0]`.
- cpu_only: `gpus="none"` hides the GPU; mixed_float16 then warns.
- memory_default / memory_growth / memory_limit: what the process holds on
  the GPU (nvidia-smi) and the allocator's limit, and that the cap is enforced.
- mixed_precision: epoch time of a conv net in float32, mixed_float16 and
  mixed_bfloat16 (alternating, median of 3 each, after a warm-up).
- torch: the torch backend's GPU, threads and refusals.
- tensorflow: memory growth, memory cap, pinning (only with TensorFlow + CUDA).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _process_gpu_memory_mb() -> float | None:
    """MiB this process holds on the GPU, from nvidia-smi."""
    try:
        result = subprocess.run(
            ["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    for line in result.stdout.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 2 and parts[0] == str(os.getpid()):
            return float(parts[1])
    return None


def _memory_stats(device: Any) -> dict[str, float]:
    stats = device.memory_stats() or {}
    return {k: round(v / 2**20, 1) for k, v in stats.items() if k in ("bytes_limit", "bytes_in_use", "pool_bytes", "bytes_reserved")}


# --------------------------------------------------------------------------- checks (child side)


def check_summary() -> dict[str, Any]:
    import kerastools as kt

    before = kt.device.summary()
    import jax

    jax.numpy.ones(4).block_until_ready()
    after = kt.device.summary()
    return {
        "before_created": before.logical_devices_created,
        "before_gpus": [d.details for d in before.physical_devices if d.kind == "GPU"],
        "after_logical": [(d.name, d.memory_limit_mb) for d in after.logical_devices],
        "text_before": str(before),
        "text_after": str(after),
    }


def check_pin() -> dict[str, Any]:
    import kerastools as kt
    from kerastools.errors import DeviceError

    present = len([d for d in kt.device.summary().physical_devices if d.kind == "GPU"])
    try:
        kt.device.configure(gpus=[present])
        refused = None
    except DeviceError as error:
        refused = str(error)
    kt.device.configure(gpus=[0])
    import jax

    with kt.device.use("gpu:0") as name:
        array = jax.numpy.ones(4)
    try:
        with kt.device.use(f"gpu:{present}"):
            pass
        use_refused = None
    except DeviceError as error:
        use_refused = str(error)
    return {
        "gpus_found": present,
        "refused": refused,
        "devices": [str(d) for d in jax.devices()],
        "used": name,
        "array_on": str(next(iter(array.devices()))),
        "use_refused": use_refused,
    }


def check_cpu_only() -> dict[str, Any]:
    import kerastools as kt

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = kt.device.configure(gpus="none", mixed_precision="mixed_float16")
    import jax

    return {
        "devices": [str(d) for d in jax.devices()],
        "gpu_count": summary.gpu_count,
        "warned": [str(w.message)[:90] for w in caught],
    }


def _allocate(megabytes: int) -> str:
    import jax

    try:
        jax.numpy.ones((megabytes, 2**18), dtype="float32").block_until_ready()  # 1 MiB per row
        return "ok"
    except Exception as error:  # XlaRuntimeError: RESOURCE_EXHAUSTED
        return f"{type(error).__name__}: {str(error).splitlines()[0][:120]}"


def check_memory(mode: str) -> dict[str, Any]:
    import kerastools as kt

    if mode == "growth":
        kt.device.configure(memory_growth=True)
    elif mode == "limit":
        kt.device.configure(memory_limit_mb=4096)
    import jax

    device = jax.devices()[0]
    result: dict[str, Any] = {
        "allocate_64_mib": _allocate(64),
        "environment": {k: v for k, v in os.environ.items() if k.startswith("XLA_PYTHON_CLIENT")},
        "after_64_mib": {"process_mb": _process_gpu_memory_mb(), **_memory_stats(device)},
        "summary_logical": [(d.name, d.memory_limit_mb) for d in kt.device.summary().logical_devices],
    }
    if mode == "limit":
        result["allocate_2048_mib"] = _allocate(2048)
        result["allocate_6144_mib"] = _allocate(6144)
    elif mode == "growth":
        result["allocate_2048_mib"] = _allocate(2048)
        result["after_2048_mib"] = {"process_mb": _process_gpu_memory_mb(), **_memory_stats(device)}
    return result


def check_mixed_precision(quick: bool) -> dict[str, Any]:
    import jax
    import numpy as np

    import kerastools as kt

    batch, steps = 256, (10 if quick else 25)
    rng = np.random.default_rng(0)
    # One batch kept on the GPU, so the timing is the model's, not host-to-device copies.
    x = jax.device_put(rng.normal(size=(batch, 64, 64, 3)).astype("float32"))
    y = jax.device_put(rng.integers(0, 10, size=(batch,)).astype("int32"))

    def batches():
        while True:
            yield x, y

    conv = [
        {"filters": f, "kernel_size": 3, "padding": "same"} for f in (128, 256, 256, 512)
    ]
    models = {}
    for policy in ("float32", "mixed_float16", "mixed_bfloat16"):
        kt.device.configure(mixed_precision=policy)  # layers read the policy when created
        model = kt.build_cnn((64, 64, 3), conv, dense=[256], output_units=10, name=policy)
        kt.compile(model, optimizer="adam", learning_rate=1e-4)
        model.fit(batches(), steps_per_epoch=steps, epochs=1, verbose=0)  # compile + warm up
        models[policy] = model
    kt.device.configure(mixed_precision="float32")
    times: dict[str, list[float]] = {policy: [] for policy in models}
    for _ in range(3):
        for policy, model in models.items():  # alternate, so drift hits all alike
            timer = kt.callbacks.EpochTimer()
            history = model.fit(batches(), steps_per_epoch=steps, epochs=1, verbose=0, callbacks=[timer])
            times[policy].append(history.history["epoch_time_s"][-1])
    median = {policy: statistics.median(values) for policy, values in times.items()}
    return {
        "device": str(jax.devices()[0].device_kind),
        "model": f"build_cnn 64x64x3, conv {[c['filters'] for c in conv]}, dense 256, batch {batch}",
        "steps_per_epoch": steps,
        "epoch_seconds": {p: [round(t, 4) for t in v] for p, v in times.items()},
        "median_epoch_seconds": {p: round(t, 4) for p, t in median.items()},
        "speedup_vs_float32": {p: round(median["float32"] / t, 2) for p, t in median.items()},
        "images_per_second": {p: round(batch * steps / t) for p, t in median.items()},
        "loss_scale_optimizer": type(models["mixed_float16"].optimizer).__name__,
    }


def check_torch() -> dict[str, Any]:
    import kerastools as kt
    from kerastools.errors import DeviceError

    result: dict[str, Any] = {}
    try:
        kt.device.configure(memory_growth=True)
    except DeviceError as error:
        result["memory_growth_refused"] = str(error)[:200]
    try:
        kt.device.configure(gpus=[0])
    except DeviceError as error:
        result["gpus_refused"] = str(error)[:300]
    summary = kt.device.configure(intra_op_threads=4, inter_op_threads=2, mixed_precision="mixed_float16")
    result["threads"] = [summary.intra_op_threads, summary.inter_op_threads]
    result["dtype_policy"] = summary.dtype_policy
    import numpy as np

    model = kt.compile(kt.build_mlp(8, [32]), optimizer="adam")
    x = np.random.default_rng(0).normal(size=(256, 8)).astype("float32")
    model.fit(x, x[:, :1], epochs=1, verbose=0)
    after = kt.device.summary()
    result["physical_after"] = [(d.kind, d.name, d.memory_limit_mb, d.details) for d in after.physical_devices]
    result["variable_device"] = str(model.weights[0].value.device)
    result["text_after"] = str(after)
    return result


def check_tensorflow() -> dict[str, Any]:
    import kerastools as kt

    summary = kt.device.configure(gpus=[0], memory_limit_mb=4096)
    import tensorflow as tf

    tf.constant(1.0)
    return {
        "logical": [(d.name, d.memory_limit_mb) for d in kt.device.summary().logical_devices],
        "configured": str(summary),
        "visible": [d.name for d in tf.config.get_visible_devices()],
    }


CHECKS = {
    "summary": ("jax", check_summary),
    "pin": ("jax", check_pin),
    "cpu_only": ("jax", check_cpu_only),
    "memory_default": ("jax", lambda: check_memory("default")),
    "memory_growth": ("jax", lambda: check_memory("growth")),
    "memory_limit": ("jax", lambda: check_memory("limit")),
    "mixed_precision": ("jax", None),  # needs --quick: dispatched below
    "torch": ("torch", check_torch),
    "tensorflow": ("tensorflow", check_tensorflow),
}


# --------------------------------------------------------------------------- parent side


def _run_child(name: str, backend: str, quick: bool) -> dict[str, Any]:
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    command = [sys.executable, __file__, "--check", name] + (["--quick"] if quick else [])
    start = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=400)
    seconds = round(time.perf_counter() - start, 1)
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        return {"failed": result.returncode, "seconds": seconds, "stderr": result.stderr[-2500:]}
    return {"seconds": seconds, **json.loads(lines[-1])}


def _available(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", choices=sorted(CHECKS))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="*", help="run only these checks")
    parser.add_argument("--out", help="also write the JSON report to this directory")
    args = parser.parse_args()

    if args.check:  # child: one check, one JSON line
        if args.check == "mixed_precision":
            payload = check_mixed_precision(args.quick)
        else:
            payload = CHECKS[args.check][1]()  # type: ignore[misc]
        print(json.dumps(payload))
        return 0

    report: dict[str, Any] = {}
    for name, (backend, _) in CHECKS.items():
        if args.only and name not in args.only:
            continue
        if not _available(backend):
            report[name] = {"skipped": f"{backend} is not installed here"}
        elif backend == "tensorflow" and not _tensorflow_has_cuda():
            report[name] = {"skipped": "TensorFlow here has no CUDA support"}
        else:
            report[name] = _run_child(name, backend, args.quick)
        print(f"=== {name} ({backend})", flush=True)
        for key, value in report[name].items():
            if isinstance(value, str) and "\n" in value:
                print(f"{key}:\n{value}")
            else:
                print(f"{key}: {json.dumps(value)}")
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "gpu_report.json").write_text(json.dumps(report, indent=2))
    return 0


def _tensorflow_has_cuda() -> bool:
    result = subprocess.run(
        [sys.executable, "-c", "import tensorflow as tf; print(tf.test.is_built_with_cuda())"],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
    )
    return result.stdout.strip().endswith("True")


if __name__ == "__main__":
    sys.exit(main())
