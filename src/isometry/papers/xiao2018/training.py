"""Training sweeps of the xiao2018 pipeline through the batched engine (``isometry.engine.train``).

A sweep table (one row per run: Member fields + ``depth`` + optional ``delta_mix``) is cut into same-shape jobs by
``isometry.sweep.make_jobs`` (group keys: depth, delta_mix, ...); each job is ONE EnsembleCNN whose members differ
in init scheme, sigma_w2, sigma_b2, learning rate and seed, trained together. Config keys (``train`` section):
optimizer, momentum, lr, lr_depth_scaling, lr_max, batch_size, n_train, n_test, eval_examples, n_log,
shared_data_order; ``model`` section: channels, n_down, padding, checkpoint, autocast_bf16, channels_last,
compile_blocks.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from isometry.engine import default_device, train
from isometry.cost import cnn_cost_s
from isometry.pipeline import Shard
from isometry.sweep import job_from_spec, job_spec, make_jobs

from .model import build_cnn, layer_lr

PAPER = "xiao2018"


def run_row(params: dict, *, init: str, depth: int, sigma_w2: float, sigma_b2: float, seed: int,
            delta_mix: float | None = None, **extra) -> dict:
    """One sweep-table row with the depth-scaled learning rate and the optimizer of the ``train`` section."""
    t = params["train"]
    row = dict(init=init, depth=int(depth), sigma_w2=float(sigma_w2), sigma_b2=float(sigma_b2), seed=int(seed),
               lr=layer_lr(t["lr"], depth, t["lr_depth_scaling"], t.get("lr_max")), optimizer=t["optimizer"],
               momentum=float(t.get("momentum", 0.9)), **extra)
    if delta_mix is not None:
        row["delta_mix"] = float(delta_mix)
    tag = "-".join(f"{k}{row[k]}" for k in ("init", "depth", "sigma_w2", "sigma_b2", "seed"))
    row["run_id"] = tag + (f"-mix{row['delta_mix']}" if delta_mix is not None else "") + \
        "".join(f"-{k}{v}" for k, v in sorted(extra.items()))
    return row


def hidden_map_shape(model) -> tuple[int, int]:
    h, w = model.input_shape[1:]
    for _ in range(model.n_down):
        h, w = (h + 1) // 2, (w + 1) // 2
    return h, w


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


def kernel_isometry(model, members, n_layers: int = 8) -> list[dict]:
    """Per member: min / max singular value / sigma_w of the circular conv operators of up to ``n_layers`` evenly
    spaced stride-1 kernels (all 1 for an exact isometry: delta-orthogonal = Alg. 2, conv_orthogonal = Alg. 1)."""
    shape = hidden_map_shape(model)
    L = model.depth
    layers = sorted({int(round(x)) for x in np.linspace(0, L - 1, min(n_layers, L))}) if L else []
    out = []
    for i, m in enumerate(members):
        sw = math.sqrt(m.sigma_w2) if m.sigma_w2 else 1.0
        svs = torch.cat([circulant_singular_values(model.hidden_weight[i, l], shape) for l in layers]) / sw \
            if layers else torch.ones(1, dtype=torch.float64)
        out.append({"kernel_sv_min": float(svs.min()), "kernel_sv_max": float(svs.max()),
                    "kernel_layers_checked": len(layers)})
    return out


def gaussian_stem_(model, members) -> None:
    """Re-draw the stride-2 stem convolutions of every member as fan-in Gaussians N(0, sigma_w2 / (C_in k^2)),
    from a generator seeded by (member seed, 7919) only. Why: a delta-orthogonal stride-2 kernel only subsamples
    (three of them keep 1 pixel in 64), so a delta-orthogonal stem would throw the image away before the deep
    stride-1 part whose initialization the paper studies; the init scheme of a run applies to the stride-1 layers
    and the readout."""
    with torch.no_grad():
        for i, m in enumerate(members):
            g = torch.Generator().manual_seed(int(m.seed) * 7919 + 7919)
            sw = math.sqrt(m.sigma_w2 if m.sigma_w2 else 1.0)
            for w in model.down_weights:
                fan_in = w[i].shape[1] * w[i].shape[2] * w[i].shape[3]
                z = torch.randn(w[i].shape, generator=g, dtype=torch.float32)
                w[i].copy_((z * (sw / math.sqrt(fan_in))).to(w.device, w.dtype))


def edge_lr_multipliers(params: dict, depth: int) -> dict:
    """Per-parameter lr factors: with ``train.depth_scaled = hidden`` the stem convs and the readout keep the
    unscaled rate (lr instead of lr / depth, capped at lr_max) and only the depth stride-1 layers, whose number is
    what the 1/L rule compensates, get lr / depth. ``all``: every parameter gets lr / depth (the H100 recipe)."""
    t = params["train"]
    if t.get("depth_scaled", "all") == "all" or t["lr_depth_scaling"] == "none":
        return {}
    f = layer_lr(t["lr"], 1, "none", t.get("lr_max")) / layer_lr(t["lr"], depth, t["lr_depth_scaling"], t.get("lr_max"))
    names = ["readout_weight", "readout_bias"]
    for i in range(int(params["model"]["n_down"])):
        names += [f"down_weights.{i}", f"down_biases.{i}"]
    return {n: float(f) for n in names}


def plan_shards(rows: list[dict], params: dict, *, dataset: str, steps: int, experiment: str,
                measure_kernels: bool = False) -> list[Shard]:
    """The shards of a sweep: one per same-shape job of ``make_jobs`` (one ensemble per depth / delta_mix).

    A shard's spec holds the job (members, group keys) and exactly the config it trains with (``train``, ``model``
    sections, the seed), so that its content-addressed id changes when, and only when, what it trains changes."""
    t, mcfg = params["train"], params["model"]
    jobs = make_jobs(rows, max_ensemble=int(params["max_ensemble"]))
    n_log = int(t["n_log"])
    hw = {"mnist": 28 * 28, "fashion_mnist": 28 * 28, "cifar10": 32 * 32}[dataset]
    for _ in range(int(mcfg["n_down"])):
        hw = max(hw // 4, 1)
    out = []
    for job in jobs:
        g = job.group
        key = f"{dataset}-d{g['depth']}" + (f"-mix{g['delta_mix']}" if g.get("delta_mix") is not None else "")
        spec = {"experiment": experiment, "dataset": dataset, "steps": int(steps), "train": dict(t),
                "model": dict(mcfg), "seed": int(params["seed"]), "measure_kernels": bool(measure_kernels),
                "job": job_spec(job)}
        cost = cnn_cost_s(depth=int(g["depth"]), channels=int(mcfg["channels"]), hw=hw, batch=int(t["batch_size"]),
                          steps=int(steps), members=len(job.members), eval_examples=int(t.get("eval_examples") or 0),
                          n_evals=n_log + 2)
        out.append(Shard(key=key, spec=spec, data=(dataset,), cost_s=cost, gpu=True))
    return out


def run_shard(spec: dict, ctx) -> pd.DataFrame:
    """Train one shard (one ensemble) and return its tidy run rows."""
    t, mcfg = spec["train"], spec["model"]
    job = job_from_spec(spec["job"])
    params = {"train": t, "model": mcfg, "seed": spec["seed"]}
    dataset = ctx.dataset(spec["dataset"]).subset(t.get("n_train"), t.get("n_test"))
    experiment = spec["experiment"]
    dev = default_device() if ctx.device == "auto" else torch.device(ctx.device)
    g = job.group
    model = build_cnn(len(job.members), dataset, g["depth"], mcfg, g.get("delta_mix"),
                      lr_mults=edge_lr_multipliers(params, g["depth"]))
    stats: list[dict] = []

    def hook(model, members, stats=stats):
        if mcfg.get("stem_init", "gaussian") == "gaussian":
            gaussian_stem_(model, members)
        if spec["measure_kernels"]:
            stats.extend(kernel_isometry(model, members, int(spec.get("kernel_layers_checked", 8))))

    df = train(model, job.members, dataset, steps=int(spec["steps"]), batch_size=int(t["batch_size"]),
               eval_examples=t.get("eval_examples"), n_log=int(t["n_log"]), device=dev,
               autocast_bf16=bool(mcfg.get("autocast_bf16", False)),
               data_seed=int(spec["seed"]) if t.get("shared_data_order", True) else None,
               init_hook=hook, paper=PAPER, experiment=experiment, desc=f"{experiment} {job.job_id}")
    if "delta_mix" in g:
        df["delta_mix"] = g["delta_mix"]
    df["channels"] = int(mcfg["channels"])
    if stats:
        st = pd.DataFrame(stats, index=[m.run_id for m in job.members])
        for c in st.columns:
            df[c] = df["run_id"].map(st[c])
    return df
