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
import os, sys, time
os.environ["ISOMETRY_GPU_COUNT"] = sys.argv[2]
from isometry import devices
print(devices.lease_gpu(sys.argv[1]), flush=True)
time.sleep(float(sys.argv[3]))
"""


def _start(tmp_path, n, hold):
    return subprocess.Popen([sys.executable, "-c", LEASE, str(tmp_path), str(n), str(hold)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_concurrent_jobs_get_distinct_gpus(tmp_path):
    procs = [_start(tmp_path, 3, 3.0) for _ in range(3)]
    got = sorted(int(p.stdout.readline()) for p in procs)
    assert got == [0, 1, 2]
    # a fourth job while all three are held: clear error
    extra = _start(tmp_path, 3, 0)
    _, err = extra.communicate(timeout=60)
    assert extra.returncode != 0 and "all 3 GPUs are leased" in err
    for p in procs:
        p.wait(timeout=60)


def test_lease_is_released_when_a_job_is_killed(tmp_path):
    p = _start(tmp_path, 1, 60)
    assert p.stdout.readline().strip() == "0"
    p.kill()  # SIGKILL: the kernel drops the flock
    p.wait()
    q = _start(tmp_path, 1, 0)
    out, _ = q.communicate(timeout=60)
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
