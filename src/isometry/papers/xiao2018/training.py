"""Training sweeps of the xiao2018 pipeline through the batched engine (``isometry.engine.train``).

A sweep table (one row per run: Member fields + ``depth`` + optional ``delta_mix``) is cut into same-shape jobs by
``isometry.sweep.make_jobs`` (group keys: depth, delta_mix, ...); each job is ONE EnsembleCNN whose members differ
in init scheme, sigma_w2, sigma_b2, learning rate and seed, trained together. Config keys (``train`` section):
optimizer, momentum, lr, lr_depth_scaling, edge_lr, batch_size, n_train, n_test, eval_examples, n_log,
shared_data_order; ``model`` section: channels, n_down, readout, padding, edge_init, checkpoint, autocast_bf16,
channels_last, compile_blocks.

The recipe (measured; README section and the research log): momentum SGD (0.9) as in the authors' demo; the L
stride-1 layers at ``lr / L`` (depth-independent function-space steps), the stem and the readout at a fixed
``edge_lr``; Gaussian stem and readout; a dense readout on the flattened last feature map.
"""

from __future__ import annotations

import math

import pandas as pd
import torch

from isometry.engine import default_device, train
from isometry.cost import cnn_cost_s, dense_memory_mb
from isometry.pipeline import Shard
from isometry.sweep import job_from_spec, job_spec, make_jobs

from .model import build_cnn, hidden_map, layer_lr

PAPER = "xiao2018"


def run_row(params: dict, *, init: str, depth: int, sigma_w2: float, sigma_b2: float, seed: int,
            delta_mix: float | None = None, **extra) -> dict:
    """One sweep-table row: the stride-1 layers' learning rate (``layer_lr``: ``train.lr`` / L with
    ``lr_depth_scaling: inverse``) and the optimizer of the ``train`` section."""
    t = params["train"]
    row = dict(init=init, depth=int(depth), sigma_w2=float(sigma_w2), sigma_b2=float(sigma_b2), seed=int(seed),
               lr=layer_lr(t["lr"], depth, t["lr_depth_scaling"]), optimizer=t["optimizer"],
               momentum=float(t.get("momentum", 0.9)), **extra)
    if delta_mix is not None:
        row["delta_mix"] = float(delta_mix)
    tag = "-".join(f"{k}{row[k]}" for k in ("init", "depth", "sigma_w2", "sigma_b2", "seed"))
    row["run_id"] = tag + (f"-mix{row['delta_mix']}" if delta_mix is not None else "") + \
        "".join(f"-{k}{v}" for k, v in sorted(extra.items()))
    return row


def circulant_singular_values(kernel: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """All singular values of the circular (stride 1, 'same') convolution with ``kernel`` (C_out, C_in, k, k) on an
    H x W torus: the union over the H*W spatial frequencies of the singular values of the kernel's symbol
    M(omega) = sum_s W[:, :, s] exp(i omega . s) (the operator is block-diagonal in Fourier space)."""
    H, W = shape
    k1, k2 = kernel.shape[-2:]
    if k1 > H or k2 > W:
        raise ValueError(f"kernel {k1}x{k2} larger than the {H}x{W} torus")
    pad = torch.zeros(*kernel.shape[:2], H, W, dtype=torch.float64)
    pad[..., :k1, :k2] = kernel.detach().to("cpu", torch.float64)
    sym = torch.fft.fft2(pad).permute(2, 3, 0, 1)                      # (H, W, C_out, C_in)
    return torch.linalg.svdvals(sym).reshape(-1)


def gaussian_edges_(model, members) -> None:
    """Re-draw the stride-2 stem convolutions and the readout of every member as fan-in Gaussians
    N(0, sigma_w2 / fan_in) (biases stay N(0, sigma_b2)), from a generator seeded by the member's seed only, as the
    authors' demo does (Gaussian stem and readout, delta-orthogonal stride-1 stack). Why: a delta-orthogonal
    stride-2 kernel only subsamples (three of them keep 1 pixel in 64), and an orthogonal readout would differ
    between the runs compared; the init scheme of a run applies to the stride-1 layers, the ones the paper
    studies."""
    with torch.no_grad():
        for i, m in enumerate(members):
            g = torch.Generator().manual_seed(int(m.seed) * 7919 + 7919)
            sw = math.sqrt(m.sigma_w2 if m.sigma_w2 else 1.0)
            for w in [*model.down_weights, model.readout_weight]:
                fan_in = math.prod(w[i].shape[1:])
                z = torch.randn(w[i].shape, generator=g, dtype=torch.float32)
                w[i].copy_((z * (sw / math.sqrt(fan_in))).to(w.device, w.dtype))


def edge_lr_multipliers(params: dict, depth: int) -> dict:
    """Per-parameter lr factors: the stem convolutions and the readout train at ``train.edge_lr`` (absolute, the
    same at every depth) while the ``depth`` stride-1 layers train at ``train.lr`` / depth; ``edge_lr: null``
    gives every parameter the stride-1 rate. Why: the 1/L rule compensates the number of stride-1 layers; the stem
    and the readout are three and one layers at every depth, and scaling their rate by 1/L would only slow the deep
    networks down (measured: the edges carry most of the early learning)."""
    t = params["train"]
    if t.get("edge_lr") is None:
        return {}
    f = float(t["edge_lr"]) / layer_lr(t["lr"], depth, t["lr_depth_scaling"])
    names = ["readout_weight", "readout_bias"]
    for i in range(int(params["model"]["n_down"])):
        names += [f"down_weights.{i}", f"down_biases.{i}"]
    return {n: float(f) for n in names}


def plan_shards(rows: list[dict], params: dict, *, dataset: str, steps: int, experiment: str,
                log_at: list[int] | None = None, key_suffix: str = "") -> list[Shard]:
    """The shards of a sweep: one per same-shape job of ``make_jobs`` (one ensemble per depth / delta_mix).

    A shard's spec holds the job (members, group keys) and exactly the config it trains with (``train``, ``model``
    sections, the seed, the logged steps), so that its content-addressed id changes when, and only when, what it
    trains changes."""
    t, mcfg = params["train"], params["model"]
    jobs = make_jobs(rows, max_ensemble=int(params["max_ensemble"]))
    n_log = int(t["n_log"])
    h0, w0 = {"mnist": (28, 28), "fashion_mnist": (28, 28), "cifar10": (32, 32)}[dataset]
    h, w = hidden_map((h0, w0), mcfg["n_down"])
    out = []
    for job in jobs:
        g = job.group
        key = f"{dataset}-d{g['depth']}" + (f"-mix{g['delta_mix']}" if g.get("delta_mix") is not None else "") \
            + key_suffix
        spec = {"experiment": experiment, "dataset": dataset, "steps": int(steps), "train": dict(t),
                "model": dict(mcfg), "seed": int(params["seed"]), "job": job_spec(job)}
        if log_at is not None:
            spec["log_at"] = sorted({int(s) for s in log_at if 0 <= int(s) <= int(steps)})
        n_evals = len(spec["log_at"]) if log_at is not None else n_log + 2
        cost = cnn_cost_s(depth=int(g["depth"]), channels=int(mcfg["channels"]), hw=h * w,
                          batch=int(t["batch_size"]), steps=int(steps), members=len(job.members),
                          eval_examples=int(t.get("eval_examples") or 0), n_evals=n_evals)
        out.append(Shard(key=key, spec=spec, data=(dataset,), cost_s=cost, gpu=True,
                         mem_mb=cnn_memory_mb(members=len(job.members), depth=int(g["depth"]),
                                              channels=int(mcfg["channels"]), in_hw=h0 * w0, hidden_hw=h * w,
                                              batch=int(t["batch_size"]),
                                              eval_batch=min(int(t.get("eval_examples") or 1000), 1000))))
    return out


def cnn_memory_mb(*, members: int, depth: int, channels: int, in_hw: int, hidden_hw: int, batch: int,
                  eval_batch: int) -> float:
    """Memory estimate of one CNN shard (``cost.dense_memory_mb`` convention): parameters and optimizer state of the
    stride-1 stack, its training activations (two per layer), and evaluation, which runs ``eval_batch`` examples
    (the engine's evaluation batch, 1000) of every member through the stem: about four tensors at half the input
    resolution alive at once. Evaluation dominates at small depth (measured: 2.0 GB max RSS for 16 members at
    depth 10 on MNIST, default scale)."""
    eval_floats = members * eval_batch * channels * in_hw            # 4 tensors x (in_hw / 4) pixels
    train_floats = 2 * members * depth * batch * channels * hidden_hw
    return dense_memory_mb(depth * channels * channels * 9, members, eval_floats + train_floats)


def run_shard(spec: dict, ctx) -> pd.DataFrame:
    """Train one shard (one ensemble) and return its tidy run rows (plus ``channels``, ``readout``,
    ``delta_mix``)."""
    t, mcfg = spec["train"], spec["model"]
    job = job_from_spec(spec["job"])
    params = {"train": t, "model": mcfg, "seed": spec["seed"]}
    dataset = ctx.dataset(spec["dataset"]).subset(t.get("n_train"), t.get("n_test"))
    experiment = spec["experiment"]
    dev = default_device() if ctx.device == "auto" else torch.device(ctx.device)
    g = job.group
    model = build_cnn(len(job.members), dataset, g["depth"], mcfg, g.get("delta_mix"),
                      lr_mults=edge_lr_multipliers(params, g["depth"]))

    def hook(model, members):
        if mcfg.get("edge_init", "gaussian") == "gaussian":
            gaussian_edges_(model, members)

    df = train(model, job.members, dataset, steps=int(spec["steps"]), batch_size=int(t["batch_size"]),
               eval_examples=t.get("eval_examples"), n_log=int(t["n_log"]), log_at=spec.get("log_at"), device=dev,
               autocast_bf16=bool(mcfg.get("autocast_bf16", False)),
               data_seed=int(spec["seed"]) if t.get("shared_data_order", True) else None,
               init_hook=hook, paper=PAPER, experiment=experiment, desc=f"{experiment} {job.job_id}")
    if "delta_mix" in g:
        df["delta_mix"] = g["delta_mix"]
    # what actually ran (figures and captions read these, never the config)
    df["channels"] = int(mcfg["channels"])
    df["n_down"] = int(mcfg["n_down"])
    df["readout"] = model.readout
    df["edge_init"] = mcfg.get("edge_init", "gaussian")
    df["edge_lr"] = t.get("edge_lr")
    df["momentum"] = float(t.get("momentum", 0.9)) if t["optimizer"] == "momentum" else float("nan")
    df["batch_size"] = int(t["batch_size"])
    df["n_train"] = len(dataset.train_y)
    df["n_eval"] = min(int(t.get("eval_examples") or 10**9), len(dataset.test_y))
    return df
