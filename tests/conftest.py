import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# The local data mirror of this work area (shared/data beside the checkout); tests needing it skip without it.
SHARED_DATA = Path(os.environ.get("ISOMETRY_DATA_MIRROR", REPO.parent / "shared" / "data"))


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tests use tiny tensors: one intra-op thread is faster, and immune to OpenMP spin-waiting when the cores are
    shared (Snakemake subprocesses started by the workflow tests get threads from their config instead)."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="session")
def repo():
    return REPO


@pytest.fixture(scope="session")
def shared_data():
    if not (SHARED_DATA / "mnist").is_dir():
        pytest.skip(f"no local data mirror at {SHARED_DATA} (set ISOMETRY_DATA_MIRROR)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def workflow_dir(shared_data, tmp_path_factory):
    """A working directory for end-to-end Snakemake runs at the tiny test scale: ``tiny.yaml`` (mirror = shared
    data, no download) and the three datasets already converted (once per session)."""
    import yaml

    from isometry.data import prepare_dataset

    work = tmp_path_factory.mktemp("workflow")
    cfg = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    cfg["data"]["mirrors"] = [str(shared_data)]
    (work / "tiny.yaml").write_text(yaml.safe_dump(cfg))
    for name in ("mnist", "fashion_mnist", "cifar10"):
        prepare_dataset(name, work / "data", [shared_data], download=False)
    return work


def run_snakemake(work, *targets, extra=(), timeout=900):
    """Run the real workflow on ``targets`` in ``work`` with its tiny config; fail the test with the log tail."""
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "snakemake", *targets, "-s", str(REPO / "Snakefile"), "--cores", "2",
           "--configfile", str(work / "tiny.yaml"), "--directory", str(work), *extra]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        logs = "\n".join(f"--- {p}\n{p.read_text()[-2000:]}" for p in sorted((work / "logs").rglob("*.log")))
        pytest.fail(f"snakemake failed ({r.returncode}):\n{r.stderr[-4000:]}\n{logs[-6000:]}")
    return r
