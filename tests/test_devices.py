"""GPU leases: each concurrently running job gets its own device index (faked device counts)."""

import subprocess
import sys

import pytest

from isometry import devices


def test_cpu_when_no_gpu(monkeypatch, tmp_path):
    monkeypatch.setenv("ISOMETRY_GPU_COUNT", "0")
    monkeypatch.delenv("ISOMETRY_LEASED_GPU", raising=False)
    assert devices.resolve_device("auto", tmp_path) == "cpu"
    assert devices.resolve_device("cpu", tmp_path) == "cpu"
    with pytest.raises(RuntimeError, match="no CUDA device"):
        devices.resolve_device("cuda", tmp_path)


LEASE = """
import os, sys
os.environ["ISOMETRY_GPU_COUNT"] = sys.argv[2]
from isometry import devices
print(devices.lease_gpu(sys.argv[1]), flush=True)
if sys.argv[3] == "hold":
    sys.stdin.read()          # hold the lease until the test closes stdin (no sleeps: imports are slow under load)
"""


def _start(tmp_path, n, hold):
    return subprocess.Popen([sys.executable, "-c", LEASE, str(tmp_path), str(n), "hold" if hold else "go"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_concurrent_jobs_get_distinct_gpus(tmp_path):
    procs = [_start(tmp_path, 3, True) for _ in range(3)]
    got = sorted(int(p.stdout.readline()) for p in procs)
    assert got == [0, 1, 2]
    # a fourth job while all three are held: clear error
    extra = _start(tmp_path, 3, False)
    _, err = extra.communicate(timeout=120)
    assert extra.returncode != 0 and "all 3 GPUs are leased" in err
    for p in procs:
        p.stdin.close()
        p.wait(timeout=60)


def test_lease_is_released_when_a_job_is_killed(tmp_path):
    p = _start(tmp_path, 1, True)
    assert p.stdout.readline().strip() == "0"
    p.kill()  # SIGKILL: the kernel drops the flock
    p.wait()
    q = _start(tmp_path, 1, False)
    out, _ = q.communicate(timeout=120)
    assert out.strip() == "0"


def test_resolve_device_narrows_visible_devices(monkeypatch, tmp_path):
    monkeypatch.setenv("ISOMETRY_GPU_COUNT", "2")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,7")
    monkeypatch.delenv("ISOMETRY_LEASED_GPU", raising=False)
    try:
        assert devices.resolve_device("auto", tmp_path) == "cuda"
        import os

        assert os.environ["CUDA_VISIBLE_DEVICES"] == "4"
    finally:
        devices.release_all()


NO_EARLY_CUDA = """
import os, sys, json
os.environ["ISOMETRY_GPU_COUNT"] = "2"
os.environ["ISOMETRY_LOCK_DIR"] = sys.argv[1]
os.environ.pop("CUDA_VISIBLE_DEVICES", None)
os.environ.pop("ISOMETRY_LEASED_GPU", None)
import torch
seen = []
for name in ("is_available", "device_count", "init", "current_device"):
    orig = getattr(torch.cuda, name)
    def spy(*a, _orig=orig, _name=name, **k):
        seen.append((_name, os.environ.get("CUDA_VISIBLE_DEVICES")))
        return False if _name == "is_available" else 0
    setattr(torch.cuda, name, spy)
from isometry import cli
params = {"device": "auto", "threads": 1}
cli._setup_runtime(params, needs_device=True)
print(json.dumps({"device": params["device"], "visible": os.environ.get("CUDA_VISIBLE_DEVICES"), "seen": seen,
                  "initialized": torch.cuda.is_initialized()}))
"""


def test_the_lease_narrows_before_anything_touches_cuda(tmp_path):
    """Issue 13: counting devices must not initialise CUDA; after the lease, the job sees only its GPU. Any
    torch.cuda query made while resolving the device must already see the narrowed CUDA_VISIBLE_DEVICES."""
    import json

    outs = []
    holders = []
    for _ in range(2):     # each holds its lease until we close its stdin (no sleeps: slow imports under load)
        p = subprocess.Popen([sys.executable, "-c", NO_EARLY_CUDA + "\nsys.stdin.read()", str(tmp_path)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = p.stdout.readline()
        assert line, p.stderr.read()
        outs.append(json.loads(line))
        holders.append(p)
    for p in holders:
        p.stdin.close()
        p.wait(timeout=60)
    assert sorted(o["visible"] for o in outs) == ["0", "1"]           # two jobs, two different GPUs
    for o in outs:
        assert o["device"] == "cuda" and o["initialized"] is False
        assert all(v == o["visible"] for _, v in o["seen"]), o["seen"]


def test_gpu_count_does_not_import_torch():
    code = ("import os, sys; os.environ.pop('ISOMETRY_GPU_COUNT', None); from isometry import devices; "
            "n = devices.gpu_count(); print(n, 'torch' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    n, imported = r.stdout.split()
    assert int(n) >= 0 and imported == "False"


def test_set_threads_applies_and_warns_on_oversubscription(monkeypatch):
    import warnings

    import torch
    before = torch.get_num_threads()
    try:
        monkeypatch.delenv("ISOMETRY_CONCURRENT_JOBS", raising=False)
        with warnings.catch_warnings():
            warnings.simplefilter("error")                            # no warning: 1 thread x 2 jobs on 2 cores
            assert devices.set_threads(None, jobs=2, cores=2) == 1 == torch.get_num_threads()
        with pytest.warns(RuntimeWarning, match=r"2 torch thread\(s\) x 2 concurrent job\(s\) > 2 core"):
            assert devices.set_threads(2, jobs=2, cores=2) == 2
        monkeypatch.setenv("ISOMETRY_CONCURRENT_JOBS", "3")
        with pytest.warns(RuntimeWarning, match="x 3 concurrent"):
            devices.set_threads(1, cores=2)
        with pytest.raises(ValueError):
            devices.set_threads(-1)
    finally:
        torch.set_num_threads(before)


def test_cli_threads_option(monkeypatch):
    """``--threads`` overrides the config's ``threads`` (default 1) before the experiment runs."""
    from isometry import cli
    seen = {}
    monkeypatch.setattr(devices, "set_threads", lambda t, jobs=None: seen.update(threads=t, jobs=jobs) or 1)
    cli._setup_runtime({"threads": 0}, needs_device=False)
    assert seen == {"threads": 0, "jobs": None}
    cli._setup_runtime({}, needs_device=False, threads=3, jobs=2)
    assert seen == {"threads": 3, "jobs": 2}
    cli._setup_runtime({}, needs_device=False)
    assert seen["threads"] == 1


_ALLOC_PROBE = r"""
import ctypes, sys
import torch
from isometry import devices

class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
tuned = devices.tune_allocator() if sys.argv[1] == "tuned" else False
big = torch.ones(16 * 2**20)                 # 64 MB: above glibc's largest default mmap threshold (32 MB)
info = libc.mallinfo2()
print(int(tuned), info.hblkhd, info.arena)
"""


def _glibc_mallinfo2() -> bool:
    import ctypes
    try:
        return hasattr(ctypes.CDLL("libc.so.6"), "mallinfo2")
    except OSError:
        return False


@pytest.mark.skipif(not _glibc_mallinfo2(), reason="glibc >= 2.33 (mallinfo2) only")
def test_tune_allocator_serves_large_blocks_from_the_heap(monkeypatch):
    """Tuned, a 64 MB tensor lives in the heap (reused after free); by default glibc mmaps it (page faults every
    time it is allocated again). Both sides are checked, each in a fresh process (mallopt is process-wide)."""
    monkeypatch.delenv("ISOMETRY_ALLOCATOR", raising=False)
    out = {}
    for mode in ("tuned", "default"):
        r = subprocess.run([sys.executable, "-c", _ALLOC_PROBE, mode], capture_output=True, text=True, check=True)
        out[mode] = [int(x) for x in r.stdout.split()]
    tuned, mmapped, heap = out["tuned"]
    assert tuned == 1 and mmapped < 2**25 and heap >= 2**26
    _, mmapped, heap = out["default"]
    assert mmapped >= 2**26


def test_tune_allocator_opt_out(monkeypatch):
    monkeypatch.setenv("ISOMETRY_ALLOCATOR", "default")
    assert devices.tune_allocator() is False
    assert devices.tune_allocator(False) is False
