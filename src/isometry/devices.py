"""Which device a job trains on, a lease on one GPU per job when several jobs share a multi-GPU machine, the job's
CPU thread count, and its memory allocator.

Threads: ``set_threads(threads, jobs=...)`` applies the job's torch thread count (default ONE: Snakemake runs one job
per declared core, and on a shared CPU two threads per job make thousands of tiny ops far slower: a 1,000-layer CNN
step went from ~1 s to ~6 s with two threads on a busy 2-core machine) and warns when threads x concurrent jobs
exceeds the usable cores. The CLI calls it with ``--threads`` / the config's ``threads`` and ``--jobs`` /
``ISOMETRY_CONCURRENT_JOBS``.

Snakemake caps concurrent GPU jobs with ``--resources gpu=N`` but does not tell a job *which* GPU is its own. Each
job therefore leases one: it takes an exclusive ``fcntl`` lock on ``<lock_dir>/gpu<i>.lock`` for the first free
index ``i`` and sets ``CUDA_VISIBLE_DEVICES=i`` for itself. The lock is released when the process exits (also on
``kill -9``: the kernel drops ``flock`` locks with the file descriptor), so a crashed job never strands a GPU.

**CUDA must not start before the lease.** Once the CUDA driver is initialised in a process (``cuInit``, which
``torch.cuda.is_available()`` and ``torch.cuda.device_count()`` trigger), ``CUDA_VISIBLE_DEVICES`` is read and later
changes are ignored, so every job would land on GPU 0. ``gpu_count`` therefore counts devices without CUDA (NVML
through ``ctypes``, else ``nvidia-smi -L``), the lease narrows ``CUDA_VISIBLE_DEVICES``, and only then does torch
touch CUDA (``cli._setup_runtime`` resolves the device before any training code runs).

``ISOMETRY_GPU_COUNT`` overrides the detected device count (used by the tests to fake several GPUs).

Allocator: ``tune_allocator()`` keeps freed CPU memory in the process (glibc ``mallopt``). PyTorch's CPU allocator is
plain ``malloc``; glibc serves blocks above its mmap threshold (dynamic, at most 32 MB) with a fresh ``mmap`` and
returns them with ``munmap`` on free, so a training step that allocates the same large gradient every step (an
ensemble's 784 x 400 layer: 40 MB at E = 32) pays ~10,000 page faults each time: measured 16 ms to allocate and
touch 40 MB against 1.2 ms tuned, and 14-24 % of a whole width-400 step (``bench/sweep_throughput.py --allocator``).
Tuned, such blocks come from the heap and are reused; the price is that the process keeps its peak memory until it
exits, which a job does anyway. Numerics are untouched.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import warnings
from pathlib import Path

_held: list = []  # open lock files of this process (kept open for the process's lifetime)


def gpu_count() -> int:
    """Number of NVIDIA GPUs, counted WITHOUT initialising CUDA in this process (NVML, else ``nvidia-smi -L``)."""
    fake = os.environ.get("ISOMETRY_GPU_COUNT")
    if fake is not None:
        return int(fake)
    n = _nvml_count()
    return n if n is not None else _nvidia_smi_count()


def _nvml_count() -> int | None:
    import ctypes

    try:
        lib = ctypes.CDLL("libnvidia-ml.so.1")
    except OSError:
        return None
    try:
        if lib.nvmlInit_v2() != 0:
            return None
        count = ctypes.c_uint(0)
        ok = lib.nvmlDeviceGetCount_v2(ctypes.byref(count)) == 0
        lib.nvmlShutdown()
        return int(count.value) if ok else None
    except AttributeError:  # pragma: no cover - an NVML without the _v2 symbols
        return None


def _nvidia_smi_count() -> int:
    import shutil
    import subprocess

    exe = shutil.which("nvidia-smi")
    if exe is None:
        return 0
    try:
        out = subprocess.run([exe, "-L"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(1 for line in out.splitlines() if line.startswith("GPU "))


def lease_gpu(lock_dir: str | Path | None = None, count: int | None = None) -> int | None:
    """Take the first free GPU index (exclusive lock file) and return it; ``None`` if there is no GPU.

    Raises ``RuntimeError`` if every GPU is already leased (more GPU jobs than ``--resources gpu=N`` allows).
    """
    n = gpu_count() if count is None else count
    if n <= 0:
        return None
    lock_dir = Path(lock_dir or os.environ.get("ISOMETRY_LOCK_DIR", Path(tempfile.gettempdir()) / "isometry-gpu"))
    lock_dir.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        fh = open(lock_dir / f"gpu{i}.lock", "a+")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            continue
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        _held.append(fh)
        return i
    raise RuntimeError(f"all {n} GPUs are leased by other jobs (lock files in {lock_dir}); "
                       "run snakemake with --resources gpu=N where N is the number of GPUs")


def release_all() -> None:
    while _held:
        _held.pop().close()


def resolve_device(device: str = "auto", lock_dir: str | Path | None = None) -> str:
    """``auto`` -> a leased CUDA device when one exists, else ``cpu``; ``cuda`` requires one; ``cpu`` is cpu.

    When a GPU is leased, ``CUDA_VISIBLE_DEVICES`` is narrowed to it *before* CUDA initializes, so the job sees
    exactly one device, ``cuda:0``.
    """
    if device == "cpu":
        return "cpu"
    if os.environ.get("ISOMETRY_LEASED_GPU") is not None:  # already leased in this process tree
        return "cuda"
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    ids = [v for v in visible.split(",") if v.strip()] if visible else None
    idx = lease_gpu(lock_dir, count=len(ids) if ids is not None else None)
    if idx is None:
        if device == "cuda":
            raise RuntimeError("config device: cuda, but no CUDA device is available")
        return "cpu"
    os.environ["CUDA_VISIBLE_DEVICES"] = ids[idx] if ids is not None else str(idx)
    os.environ["ISOMETRY_LEASED_GPU"] = str(idx)
    return "cuda"


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3          # glibc <malloc.h>
ALLOCATOR_MMAP_THRESHOLD = 1 << 30                  # blocks below 1 GiB come from (and return to) the heap
ALLOCATOR_TRIM_THRESHOLD = (1 << 31) - 1            # never give freed heap memory back to the OS mid-job


def tune_allocator(enable: bool | None = None) -> bool:
    """Make glibc keep and reuse freed large blocks (see the module docstring). Returns True when it took effect.

    ``enable`` None reads ``$ISOMETRY_ALLOCATOR`` ("default" turns it off; anything else, or unset, on). A no-op
    (False) where the C library is not glibc (macOS, musl) or refuses the setting."""
    if enable is None:
        enable = os.environ.get("ISOMETRY_ALLOCATOR", "tuned").strip().lower() != "default"
    if not enable:
        return False
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, ALLOCATOR_MMAP_THRESHOLD)) and \
        bool(mallopt(M_TRIM_THRESHOLD, ALLOCATOR_TRIM_THRESHOLD))


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask; os.cpu_count() where that is unknown)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def set_threads(threads: int | None = 1, *, jobs: int | None = None, cores: int | None = None) -> int:
    """Set torch's CPU threads for this job and return the number in effect.

    threads  n >= 1 threads; None -> 1 (the default: one thread per job); 0 -> PyTorch's own default (all cores)
    jobs     jobs that may run at once on this machine (Snakemake: cores // the rule's ``threads``); default
             ``$ISOMETRY_CONCURRENT_JOBS`` or 1
    cores    usable cores (default ``usable_cores()``)

    Warns (``RuntimeWarning``) when threads x jobs > cores: the jobs then oversubscribe the CPU.
    """
    import torch

    threads = 1 if threads is None else int(threads)
    if threads < 0:
        raise ValueError(f"threads must be >= 0, got {threads}")
    if threads > 0:
        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(threads)
        except RuntimeError:           # only possible before the first inter-op parallel work; harmless otherwise
            pass
    n = torch.get_num_threads()
    jobs = int(jobs if jobs is not None else os.environ.get("ISOMETRY_CONCURRENT_JOBS", 1) or 1)
    cores = int(cores if cores is not None else usable_cores())
    if n * jobs > cores:
        warnings.warn(f"{n} torch thread(s) x {jobs} concurrent job(s) > {cores} core(s): the CPU is oversubscribed "
                      "and many small ops get several times slower; run each job with threads: 1 (rule "
                      "`threads:`, config `threads`, `--threads`) or fewer jobs at once", RuntimeWarning,
                      stacklevel=2)
    return n
