"""Memory: the activation budget deep models size their checkpointing by, and the CPU peak-memory tracker.

``activation_budget(device)``: bytes a model may keep for backward. ``ISOMETRY_ACTIVATION_BUDGET_GB`` if set; else
half the free memory of a CUDA device, or a quarter of the host's available memory (``MemAvailable`` in
/proc/meminfo; 4 GB where that cannot be read): the CPU is usually shared by several jobs.

``MallocPeak``: peak host memory of a block of PyTorch work on the CPU (the CUDA counterpart is
torch.cuda.max_memory_allocated). On Linux it reads the kernel's resident-set high-water mark (``VmHWM``), reset
through ``/proc/self/clear_refs`` at entry after ``malloc_trim`` has returned free heap memory to the OS: no cost
per op, so it suits 10,000-layer steps. Elsewhere it falls back on glibc's ``mallinfo2`` sampled around every aten
op (exact malloc bytes, but each sample walks the heap's free lists: ~50 ms per op on a fragmented heap). Used by
the deep-CNN memory test and by ``bench/deep_cnn.py``. Raises ``OSError``/``AttributeError`` where neither works.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

from torch.utils._python_dispatch import TorchDispatchMode


def activation_budget(device=None) -> int:
    """Bytes of activations a model may store for backward on ``device`` (see the module docstring)."""
    env = os.environ.get("ISOMETRY_ACTIVATION_BUDGET_GB")
    if env:
        return int(float(env) * 1e9)
    import torch

    device = torch.device(device) if device is not None else torch.device("cpu")
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(0.5 * free)
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(0.25 * int(line.split()[1]) * 1024)
    except OSError:
        pass
    return 4 * 10**9


_FIELDS = ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in _FIELDS]


def _status_bytes(key: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    raise OSError(f"{key} not in /proc/self/status")


class _MallinfoMode(TorchDispatchMode):
    """Samples glibc's bytes in use (all arenas + mmapped blocks) before and after every aten op."""

    def __init__(self, lib):
        super().__init__()
        lib.mallinfo2.restype = _MallInfo2
        self._info = lib.mallinfo2
        self.base = self.peak = self.now()

    def now(self) -> int:
        i = self._info()
        return i.uordblks + i.hblkhd

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.peak = max(self.peak, self.now())
        out = func(*args, **(kwargs or {}))
        self.peak = max(self.peak, self.now())
        return out


class MallocPeak:
    """``with MallocPeak() as m: ...`` then ``m.peak - m.base`` = peak bytes above the level at entry."""

    def __init__(self):
        self._lib = ctypes.CDLL(ctypes.util.find_library("c"))
        self._mode = None
        self.base = self.peak = 0

    def __enter__(self):
        try:
            self._lib.malloc_trim(0)
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")                                  # reset VmHWM to the current RSS
            self.base = self.peak = _status_bytes("VmRSS:")
        except (OSError, AttributeError):
            self._mode = _MallinfoMode(self._lib)
            self._mode.__enter__()
            self.base = self.peak = self._mode.base
        return self

    def __exit__(self, *exc):
        if self._mode is not None:
            self._mode.__exit__(*exc)
            self.peak = self._mode.peak
        else:
            self.peak = max(self.base, _status_bytes("VmHWM:"))
        return False
