"""The cost model's requests against what the default-scale run measured (bench/results/default_run_cpu.json,
written by bench/default_run.py from the run's Snakemake benchmark files): every shard's memory request covers its
measured max RSS, and its measured CPU time fits its SLURM time limit. The shards are planned with today's code and
config, so lowering an estimate below what was measured fails here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from isometry import pipeline as P
from isometry.config import load_config
from isometry.cost import DATASET_MB, MEMORY_SLACK, PROCESS_BASE_MB, job_memory_mb

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "bench" / "results" / "default_run_cpu.json"


@pytest.fixture(scope="module")
def planned():
    config = load_config(ROOT / "config" / "config.yaml")
    out = {}
    for paper in P.PAPERS:
        for exp in P.load_pipeline(paper).experiments:
            if isinstance(exp, P.Sweep):
                out.update({(exp.name, s.id): s for s in P.plan_sweep(config, paper, exp)})
    return out


def test_requests_cover_the_measured_default_run(planned):
    rows = json.loads(RECORD.read_text())["rows"]
    matched = [(r, planned[(r["experiment"], r["shard"])]) for r in rows if (r["experiment"], r["shard"]) in planned]
    # a config edit changes shard ids; most of the record must still apply, else re-record (bench/default_run.py)
    assert len(matched) >= len(rows) / 2, "the recorded run is for another config: rerun bench/default_run.py"
    short_mem = [(r["shard"], r["max_rss_mb"], s.mem_request_mb()) for r, s in matched
                 if r["max_rss_mb"] > s.mem_request_mb()]
    short_time = [(r["shard"], r["cpu_s"], 60 * s.runtime_min()) for r, s in matched if r["cpu_s"] > 60 * s.runtime_min()]
    assert not short_mem, f"memory request below the measured max RSS: {short_mem}"
    assert not short_time, f"SLURM time limit below the measured CPU time: {short_time}"


def test_job_memory_mb():
    # the experiment's estimate carries a 400 MB process allowance; the request swaps it for the measured base
    assert job_memory_mb(400.0) == pytest.approx(MEMORY_SLACK * PROCESS_BASE_MB)
    assert job_memory_mb(1400.0, ("cifar10",)) == pytest.approx(
        MEMORY_SLACK * (PROCESS_BASE_MB + DATASET_MB["cifar10"] + 1000.0))
    assert job_memory_mb(0.0) == job_memory_mb(400.0)          # never below the process itself
