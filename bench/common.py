"""Shared by the benchmarks: the machine description, the matmul peak, interleaved timing, JSON output.

Timing rule (project convention): alternatives are measured in ONE process, interleaved (A, B, C, A, B, C, ...),
and summarized by medians and by the median of per-round ratios, so that a load change on a shared machine hits
every alternative alike. Both wall-clock and process CPU time are recorded (on a busy machine CPU time is the
fairer one-thread number; wall time is what a user waits).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

RESULTS = Path(__file__).resolve().parent / "results"


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine(device: torch.device) -> dict:
    """What the numbers were measured on."""
    out = {"host_cpu": cpu_name(), "cpu_count": os.cpu_count(), "torch": torch.__version__,
           "torch_threads": torch.get_num_threads(), "python": platform.python_version(),
           "platform": platform.platform(), "device": str(device)}
    if device.type == "cuda":
        out["gpu"] = torch.cuda.get_device_name(device)
    try:
        out["loadavg_at_start"] = os.getloadavg()
    except OSError:
        pass
    return out


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_peak(device: torch.device, sizes=(256, 512, 1024), reps: int = 10) -> float:
    """Best fp32 (TF32 off) matmul rate in FLOP/s over a few square sizes: the yardstick for "fraction of peak"."""
    best = 0.0
    tf32 = torch.backends.cuda.matmul.allow_tf32 if device.type == "cuda" else None
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        sizes = (2048, 4096, 8192)
    for n in sizes:
        a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
        c = torch.empty(n, n, device=device)
        for _ in range(3):
            torch.mm(a, b, out=c)
        for _ in range(reps):
            sync(device)
            t0 = time.perf_counter()
            torch.mm(a, b, out=c)
            sync(device)
            best = max(best, 2 * n ** 3 / (time.perf_counter() - t0))
    if tf32 is not None:
        torch.backends.cuda.matmul.allow_tf32 = tf32
    return best


def interleave(fns: dict, device: torch.device, rounds: int, warmup: int = 1) -> dict:
    """Run every callable ``warmup`` times, then ``rounds`` rounds of one call each, in turn. Returns
    {name: {"wall": [s, ...], "cpu": [s, ...]}}."""
    for _ in range(warmup):
        for f in fns.values():
            f()
    sync(device)
    times = {k: {"wall": [], "cpu": []} for k in fns}
    for _ in range(rounds):
        for k, f in fns.items():
            sync(device)
            w0, c0 = time.perf_counter(), time.process_time()
            f()
            sync(device)
            times[k]["wall"].append(time.perf_counter() - w0)
            times[k]["cpu"].append(time.process_time() - c0)
    return times


def median(xs) -> float:
    return statistics.median(xs)


def ratio(times: dict, num: str, den: str, clock: str = "cpu") -> float:
    """Median over rounds of time[num] / time[den] (> 1: ``den`` is faster)."""
    return statistics.median(a / b for a, b in zip(times[num][clock], times[den][clock]))


def write_json(path: Path, payload: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        payload.setdefault("machine", {})["loadavg_at_end"] = os.getloadavg()
    except OSError:
        pass
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n")
    tmp.replace(path)
    return path
