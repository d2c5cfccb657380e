"""Cost models of training jobs: estimated seconds on one CPU core and peak memory, for shard runtimes (SLURM time
limits, ``python -m isometry shards``) and for refusing absurd sizes before a job starts.

They are deliberately simple FLOP counts plus a per-operation overhead, with the constants measured on this
project's reference machine (one core of a 2-core x86-64 VM, torch 2.14, one thread); treat them as estimates
within a factor of ~2.
"""

from __future__ import annotations

CPU_FLOPS = 2.0e10          # sustained fp32 FLOP/s of one core on the batched engine's small matmuls / convs
OP_OVERHEAD_S = 4.0e-5      # seconds per layer operation (forward + backward + optimizer) of one ensemble
STARTUP_S = 3.0             # a job's fixed cost: interpreter, torch import, loading and standardising a dataset


def mlp_step_flops(depth: int, width: int, n_in: int, n_out: int, batch: int) -> float:
    """Forward + backward FLOPs of one training step of one MLP member (6 per multiply-add-weight-example)."""
    weights = n_in * width + max(depth - 1, 0) * width * width + width * n_out
    return 6.0 * batch * weights


def train_cost_s(step_flops: float, *, members: int, steps: int, layers: int, eval_flops: float = 0.0,
                 n_evals: int = 0) -> float:
    """Seconds on one core: members x steps x step FLOPs / CPU_FLOPS + per-layer op overhead + evaluation."""
    compute = members * (steps * step_flops + n_evals * eval_flops) / CPU_FLOPS
    overhead = steps * layers * OP_OVERHEAD_S
    return STARTUP_S + compute + overhead


def mlp_cost_s(*, depth: int, width: int, n_in: int, n_out: int, batch: int, steps: int, members: int,
               eval_examples: int = 0, n_evals: int = 0) -> float:
    step = mlp_step_flops(depth, width, n_in, n_out, batch)
    ev = step / (3.0 * batch) * 2 * eval_examples          # forward only, train + test subsets
    return train_cost_s(step, members=members, steps=steps, layers=depth + 1, eval_flops=ev, n_evals=n_evals)


def cnn_step_flops(depth: int, channels: int, hw: int, batch: int, kernel: int = 3) -> float:
    """Forward + backward FLOPs of one step of one CNN member's ``depth`` stride-1 layers on ``hw`` pixels."""
    return 6.0 * batch * depth * hw * channels * channels * kernel * kernel


def cnn_cost_s(*, depth: int, channels: int, hw: int, batch: int, steps: int, members: int,
               eval_examples: int = 0, n_evals: int = 0) -> float:
    step = cnn_step_flops(depth, channels, hw, batch)
    ev = step / (3.0 * batch) * 2 * eval_examples
    return train_cost_s(step, members=members, steps=steps, layers=depth + 4, eval_flops=ev, n_evals=n_evals)


def dense_memory_mb(n_params: int, members: int, activations: int = 0) -> float:
    """Parameters + gradients + two optimizer buffers (fp32) of an ensemble, plus activations (floats), in MB,
    plus the ``ASSUMED_BASE_MB`` allowance every shard estimate carries (see ``job_memory_mb``)."""
    return ASSUMED_BASE_MB + 4.0 * (4 * n_params * members + activations) / 2**20


# ---------------------------------------------------------------------------------------------- job memory request
# A shard's ``mem_mb`` (``pipeline.Shard``) is its experiment's estimate of what the job allocates, written with an
# allowance of ASSUMED_BASE_MB for the process. What a job really holds was measured on the default-scale run
# (Snakemake benchmark files, max RSS of all 99 shards, torch 2.14.1, allocator tuned): importing torch and isometry
# alone peaks at 853 MB, and the jobs keep a standardized float copy of their dataset. ``job_memory_mb`` (what
# Snakemake and SLURM are asked for, and what ``max_job_memory_gb`` is compared with) therefore replaces the
# allowance by the measured process base, adds the dataset, and keeps MEMORY_SLACK for heap fragmentation (the
# tuned allocator keeps freed blocks: +13 % peak RSS on a Xiao heat-map shard). Against that run: every shard's max
# RSS is below its request (tests/test_cost.py replays the recorded measurements).
ASSUMED_BASE_MB = 400.0
PROCESS_BASE_MB = 900.0
DATASET_MB = {"mnist": 220.0, "fashion_mnist": 220.0, "cifar10": 737.0}   # float32 images, train + test
MEMORY_SLACK = 1.25


def job_memory_mb(estimate_mb: float, data=()) -> float:
    """The memory a shard job requests, from its experiment's estimate and its datasets (see above)."""
    own = max(float(estimate_mb) - ASSUMED_BASE_MB, 0.0)
    return MEMORY_SLACK * (PROCESS_BASE_MB + sum(DATASET_MB.get(d, 0.0) for d in data) + own)
