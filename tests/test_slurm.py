"""The SLURM profile, for real: a one-node SLURM cluster on this machine (Debian's slurm-wlm + munge, started by
tests/slurm/start_cluster.sh), the tiny config run through `snakemake --profile profiles/slurm`, and the outputs
compared with a local run. Skipped, with the reason, only where SLURM cannot be installed or started."""

import filecmp
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import REPO, run_snakemake

pytestmark = pytest.mark.workflow

# What the cluster run builds (tiny scale): a Monte-Carlo job and a batched MNIST training sweep whose shards (one
# ensemble each) are separate SLURM jobs; the aggregate and the figure run locally (localrules).
TARGETS = ["results/sussillo2014/random_walks.csv", "results/sussillo2014/mnist_gain_sweep.csv",
           "figures/sussillo2014/mnist_gain_sweep.png"]
SWEEP = ("sussillo2014", "mnist_gain_sweep")


@pytest.fixture(scope="module")
def cluster():
    missing = [c for c in ("munged", "slurmctld", "slurmd", "sbatch", "squeue") if not shutil.which(c)]
    # In CI (CI=true, as root, where .ci/run installs SLURM) a cluster that cannot start is a failure, not a skip.
    unavailable = pytest.fail if os.environ.get("CI", "").lower() == "true" and os.geteuid() == 0 else pytest.skip
    if missing:
        unavailable(f"SLURM not installed (missing {', '.join(missing)}); .ci/run installs slurm-wlm and munge")
    if os.geteuid() != 0:
        pytest.skip("starting a SLURM cluster needs root")
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        unavailable("snakemake-executor-plugin-slurm not installed (pip install -e '.[cluster]')")
    r = subprocess.run(["bash", str(REPO / "tests/slurm/start_cluster.sh")], capture_output=True, text=True,
                       timeout=120)
    if r.returncode != 0:
        unavailable(f"could not start a one-node SLURM cluster: {r.stderr[-1500:]}")
    return True


class _SqueueWatcher(threading.Thread):
    """Polls squeue while the run goes on: the comments (rule + wildcards) of every job seen, and the largest
    number of shard jobs RUNNING at the same time."""

    def __init__(self, rule: str):
        super().__init__(daemon=True)
        self.rule, self.seen, self.max_running, self.stop = rule, set(), 0, threading.Event()

    def run(self):
        while not self.stop.is_set():
            r = subprocess.run(["squeue", "-h", "-o", "%i|%T|%k"], capture_output=True, text=True)
            running = 0
            for line in r.stdout.splitlines():
                jid, state, comment = (line.split("|", 2) + ["", ""])[:3]
                if self.rule in comment:
                    self.seen.add((jid, comment))
                    running += state == "RUNNING"
            self.max_running = max(self.max_running, running)
            time.sleep(0.3)


def _copy_workdir(src: Path, dst: Path) -> Path:
    dst.mkdir()
    shutil.copy(src / "tiny.yaml", dst / "tiny.yaml")
    (dst / "data").symlink_to(src / "data")  # converted datasets (read-only use)
    return dst


def test_slurm_runs_shards_as_jobs_and_equals_local_run(cluster, workflow_dir, tmp_path):
    """Issue 13: the sweep's shards are separate SLURM jobs (at least two running at once on the 2-CPU node),
    and the aggregated CSV equals a local run's apart from wall-clock columns."""
    from isometry import pipeline as P
    from isometry.config import load_config

    shards = P.plan_workflow(load_config(workflow_dir / "tiny.yaml"))[SWEEP[0]].shards[SWEEP[1]]
    assert len(shards) >= 2, "the tiny config must give this sweep several shards"
    local = _copy_workdir(workflow_dir, tmp_path / "local")
    slurm = _copy_workdir(workflow_dir, tmp_path / "slurm")
    run_snakemake(local, *TARGETS)
    slurm_args = ("--profile", str(REPO / "profiles/slurm"), "--slurm-logdir", str(tmp_path / "slurm-logs"),
                  "--jobs", "4", "--slurm-init-seconds-before-status-checks", "1",
                  "--seconds-between-status-checks", "2", "--default-resources", "mem_mb=2000", "runtime=30",
                  "cpus_per_task=1")
    # First the sweep alone, so that its shards are the only jobs on the 2-CPU node (a Monte-Carlo job submitted
    # with them would hold one CPU and serialise them), then everything else.
    watch = _SqueueWatcher(f"rule_{SWEEP[0]}_shard")
    watch.start()
    r = run_snakemake(slurm, f"results/{SWEEP[0]}/{SWEEP[1]}.csv", extra=slurm_args)
    watch.stop.set()
    watch.join(timeout=10)
    assert "slurm" in (r.stdout + r.stderr).lower()
    run_snakemake(slurm, *TARGETS, extra=slurm_args)
    shard_jobs = {jid for jid, _ in watch.seen}
    assert len(shard_jobs) >= len(shards), (watch.seen, [s.id for s in shards])
    assert all(any(s.id in c for _, c in watch.seen) for s in shards), watch.seen
    assert watch.max_running >= 2, f"shard jobs never ran concurrently (max running {watch.max_running})"
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
    clock = [c for c in ("wall_s",) if c in da.columns]
    if not clock:
        return False
    return da.drop(columns=clock).equals(db.drop(columns=clock))
