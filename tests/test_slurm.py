"""The SLURM profile, for real: a one-node SLURM cluster on this machine (Debian's slurm-wlm + munge, started by
tests/slurm/start_cluster.sh), the tiny config run through `snakemake --profile profiles/slurm`, and the outputs
compared with a local run. Skipped, with the reason, only where SLURM cannot be installed or started."""

import filecmp
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, run_snakemake

pytestmark = pytest.mark.workflow

# What the cluster run builds (tiny scale): a Monte-Carlo job and a batched MNIST training sweep, each submitted as
# a SLURM job, and the figure drawn locally from the training CSV (a localrule).
TARGETS = ["results/sussillo2014/random_walks.csv", "results/sussillo2014/mnist_gain_sweep.csv",
           "figures/sussillo2014/mnist_gain_sweep.png"]


@pytest.fixture(scope="module")
def cluster():
    missing = [c for c in ("munged", "slurmctld", "slurmd", "sbatch", "squeue") if not shutil.which(c)]
    if missing:
        pytest.skip(f"SLURM not installed (missing {', '.join(missing)}); .ci/run installs slurm-wlm and munge")
    if os.geteuid() != 0:
        pytest.skip("starting a SLURM cluster needs root")
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        pytest.skip("snakemake-executor-plugin-slurm not installed (pip install -e '.[cluster]')")
    r = subprocess.run(["bash", str(REPO / "tests/slurm/start_cluster.sh")], capture_output=True, text=True,
                       timeout=120)
    if r.returncode != 0:
        pytest.skip(f"could not start a one-node SLURM cluster: {r.stderr[-1500:]}")
    return True


def _copy_workdir(src: Path, dst: Path) -> Path:
    dst.mkdir()
    shutil.copy(src / "tiny.yaml", dst / "tiny.yaml")
    (dst / "data").symlink_to(src / "data")  # converted datasets (read-only use)
    return dst


def test_slurm_run_equals_local_run(cluster, workflow_dir, tmp_path):
    local = _copy_workdir(workflow_dir, tmp_path / "local")
    slurm = _copy_workdir(workflow_dir, tmp_path / "slurm")
    run_snakemake(local, *TARGETS)
    r = run_snakemake(slurm, *TARGETS, extra=("--profile", str(REPO / "profiles/slurm"),
                                               "--slurm-logdir", str(tmp_path / "slurm-logs"), "--jobs", "4",
                                               "--slurm-init-seconds-before-status-checks", "1",
                                               "--seconds-between-status-checks", "2",
                                               "--default-resources", "mem_mb=2000", "runtime=30",
                                               "cpus_per_task=1"))
    assert "slurm" in (r.stdout + r.stderr).lower()
    produced = sorted(p.relative_to(local) for p in (local / "results").rglob("*.csv"))
    assert produced, "the local run produced no CSVs"
    for rel in produced:
        assert (slurm / rel).is_file(), f"{rel} missing from the SLURM run"
        assert _same_csv(local / rel, slurm / rel), f"{rel} differs between SLURM and local runs"


def _same_csv(a: Path, b: Path) -> bool:
    """Byte-identical, or identical after dropping the wall-clock column (time measurements cannot repeat)."""
    if filecmp.cmp(a, b, shallow=False):
        return True
    import pandas as pd

    da, db = pd.read_csv(a), pd.read_csv(b)
    if "wall_s" not in da.columns:
        return False
    return da.drop(columns="wall_s").equals(db.drop(columns="wall_s"))
