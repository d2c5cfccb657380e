"""Trainability heat map of fully connected tanh networks (Schoenholz, Gilmer, Ganguli & Sohl-Dickstein 2017, "Deep
Information Propagation", ICLR; tag SGGS).

Grid: weight variance sigma_w^2 x depth L (log-spaced) at bias variance sigma_b^2 = 0.05 (SGGS), Gaussian weights
W_ij ~ N(0, sigma_w^2/N), b_i ~ N(0, sigma_b^2), tanh, MNIST. Every cell is trained for the same budget with the
batched engine (a sweep: one shard per depth, members = the sigma_w^2 values x seeds) and coloured by its training
accuracy. Overlaid (``finish``): xi_c, 2 xi_c, 4 xi_c and 6 xi_c with xi_c = -1/ln chi_c (SGGS eq. 9,
``isometry.theory.meanfield.xi_c``); SGGS find the trainable region bounded by about 6 xi_c, with its tip at the
critical sigma_w^2 (1.76 at sigma_b^2 = 0.05).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from isometry.cost import mlp_cost_s
from isometry.engine import train
from isometry.models import EnsembleMLP
from isometry.papers.extras.common import PAPER, chunks, device, load, members_from_spec, members_to_spec
from isometry.pipeline import Shard
from isometry.spec import Member
from isometry.theory.meanfield import critical_sigma_w2, xi_c

EXPERIMENT = "trainability_heatmap_fc"
XI_MULTIPLES = (1, 2, 4, 6)


def sigma_w2_grid(p) -> np.ndarray:
    g = p["sigma_w2"]
    return np.round(np.linspace(float(g["min"]), float(g["max"]), int(g["num"])), 6)


def depth_grid(p) -> list[int]:
    """Log-spaced depths from ``depths.min`` to ``depths.max`` (``num`` values, rounded, unique)."""
    d = p["depths"]
    return sorted({int(round(v)) for v in np.geomspace(int(d["min"]), int(d["max"]), int(d["num"]))})


def plan(params) -> list[Shard]:
    p = params["heatmap"]
    sb2 = float(p["sigma_b2"])
    steps = int(p["steps"])
    log_at = sorted({int(round(steps * f)) for f in p["log_fractions"]} | {steps})
    shards = []
    for L in depth_grid(p):
        members = [Member(run_id=f"L{L}-sw{s:g}-s{seed}", init="gaussian", sigma_w2=float(s), sigma_b2=sb2,
                          lr=float(p["lr"]), optimizer=p["optimizer"], seed=int(seed))
                   for s in sigma_w2_grid(p) for seed in p["seeds"]]
        for k, chunk in enumerate(chunks(members, int(params["max_ensemble"]))):
            spec = {"dataset": p["dataset"], "n_train": int(p["n_train"]), "n_test": int(p["n_test"]),
                    "depth": L, "width": int(p["width"]), "steps": steps, "batch_size": int(p["batch_size"]),
                    "eval_examples": int(p["eval_examples"]), "log_at": log_at, "members": members_to_spec(chunk)}
            cost = mlp_cost_s(depth=L, width=int(p["width"]), n_in=784, n_out=10, batch=int(p["batch_size"]),
                              steps=steps, members=len(chunk), eval_examples=int(p["eval_examples"]),
                              n_evals=len(log_at) + 1)
            shards.append(Shard(key=f"L{L}-{k}", spec=spec, data=(p["dataset"],), cost_s=cost,
                                mem_mb=600.0 + 0.02 * L * len(chunk)))
    return shards


def run(spec: dict, ctx) -> pd.DataFrame:
    data = load(ctx, spec)
    members = members_from_spec(spec["members"])
    L = int(spec["depth"])
    model = EnsembleMLP(len(members), data.input_shape, data.num_classes, depth=L, width=int(spec["width"]),
                        nonlinearity="tanh")
    df = train(model, members, data, steps=int(spec["steps"]), batch_size=int(spec["batch_size"]),
               log_at=spec["log_at"], eval_examples=int(spec["eval_examples"]), device=device(ctx), paper=PAPER,
               experiment=EXPERIMENT, progress=False, desc=f"{EXPERIMENT}-L{L}")
    df["kind"] = "train"
    df["batch_size"], df["eval_examples"] = int(spec["batch_size"]), int(spec["eval_examples"])
    return df


def finish(df: pd.DataFrame, params) -> pd.DataFrame:
    """Theory columns on every training row (xi_c and its multiples at the row's sigma_w^2) and theory rows on a
    fine sigma_w^2 grid (``kind`` = theory), plus the critical sigma_w^2."""
    p = params["heatmap"]
    sb2 = float(p["sigma_b2"])
    out = df.copy()
    if len(out):
        out["xi_c"] = np.asarray(xi_c("tanh", out.sigma_w2.to_numpy(float), sb2), float)
    g = p["sigma_w2"]
    fine = np.linspace(float(g["min"]), float(g["max"]), 401)
    th = pd.DataFrame({"kind": "theory", "sigma_w2": fine, "sigma_b2": sb2,
                       "xi_c": np.asarray(xi_c("tanh", fine, sb2), float)})
    out = pd.concat([out, th], ignore_index=True)
    out["critical_sigma_w2"] = float(critical_sigma_w2("tanh", sb2))
    return out
