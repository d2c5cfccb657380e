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
    plus ~400 MB for the interpreter, torch and a loaded dataset."""
    return 400.0 + 4.0 * (4 * n_params * members + activations) / 2**20
