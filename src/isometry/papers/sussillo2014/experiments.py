"""The four experiments of the sussillo2014 pipeline: ``fn(params, inputs, output)`` writing one tidy CSV each."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from isometry.io import write_csv
from isometry.pipeline import Sweep, Theory
from isometry.theory import random_walk as _rw
from isometry.papers.sussillo2014 import training as T
from isometry.papers.sussillo2014.walks import (
    log_norm_increment_stats,
    mc_optimal_gain,
    optimal_gain_exact,
    optimal_gain_fit,
    simulate_walks,
    simulate_walks_conditional,
    walk_drift,
)

#: below this width the core's stationary tanh g* has no root in a useful range (it returns ~1e4 at N = 8)
TANH_THEORY_MIN_WIDTH = 16

#: the biased comparison gains of SA's discussion: identity for linear nets, He's sqrt(2) for ReLU nets
OTHER_GAIN = {"linear": ("identity", 1.0), "relu": ("He", math.sqrt(2.0))}


def _seed(params) -> int:
    return int(params.get("seed", 0))


# ----------------------------------------------------------------------------------------------------- random walks
def random_walks(params, inputs, output):
    """ln(|delta_{D-k}|^2/|delta_D|^2) over k = 0..D for S random nets at several widths N (SA section 2, eqs. 4-10;
    the abstract's claim: the walk's variance grows linearly with depth and is inversely proportional to width).

    For every nonlinearity and width: one simulation (``simulate_walks``) at the unbiased gain g*(N) (exact for
    linear / ReLU, the stationary mean-field value for tanh) and, for linear / ReLU, at the biased gain of SA's
    discussion (identity 1, He sqrt 2) on the same random numbers.  Rows: ``stat`` = mean / var over the valid walks
    (``walk`` = -1) with ``theory`` = k E[ln z], k Var[ln z] (exact for linear / ReLU, stationary for tanh); and
    ``stat`` = sample for the first ``n_show`` walks at ``show_width`` (``walk`` = 0..).
    """
    p = params["walks"]
    D, S, n_show, show = p["depth"], p["n_walks"], p["n_show"], p["show_width"]
    if "tanh" in p["nonlinearities"] and min(p["widths"]) < TANH_THEORY_MIN_WIDTH:
        raise ValueError(f"config key 'sussillo2014.walks.widths': tanh walks need widths >= {TANH_THEORY_MIN_WIDTH} "
                         f"(the stationary tanh g* has no root below), got {p['widths']}")
    if show not in p["widths"]:
        raise ValueError(f"config key 'sussillo2014.walks.show_width': {show} is not one of walks.widths {p['widths']}")
    rows = []
    k = np.arange(D + 1)
    for j, nl in enumerate(p["nonlinearities"]):
        for i, N in enumerate(p["widths"]):
            gains = [("g*", optimal_gain_exact(N, nl))] + ([OTHER_GAIN[nl]] if nl in OTHER_GAIN else [])
            walks = simulate_walks_conditional(nl, N, D, [g for _, g in gains], S, seed=_seed(params) + 1000 * j + 37 * i)
            for (lab, g), w in zip(gains, walks):
                ok = w[np.isfinite(w[:, -1])]
                m, v = log_norm_increment_stats(N, nl, g)
                base = {"nonlinearity": nl, "gain_label": lab, "gain": g, "width": N, "depth": D, "n_walks": len(ok)}
                for stat, vals, th in (("mean", ok.mean(0), k * m), ("var", ok.var(0, ddof=1), k * v)):
                    rows += [{**base, "walk": -1, "layer": int(a), "stat": stat, "value": float(b), "theory": float(t)}
                             for a, b, t in zip(k, vals, th)]
                if N == show and lab == "g*":
                    for s_ in range(min(n_show, len(ok))):
                        rows += [{**base, "walk": s_, "layer": int(a), "stat": "sample", "value": float(b),
                                  "theory": np.nan} for a, b in zip(k, ok[s_])]
    write_csv(pd.DataFrame(rows), output)


def random_walks_memory(params) -> tuple[float, str]:
    """Peak memory (MB) of ``random_walks``: the conditional sampler keeps f'(a_d) and hat h_d, (chunk, N, G) each,
    and W_d hat h_{d-1}, (chunk, N, 1), for every layer of a chunk of <= 256 walks (float32), at the widest width;
    x 1.5 for temporaries. The workflow refuses the job when this exceeds ``max_job_memory_gb`` (issue 20 item 12)."""
    p = params["walks"]
    n, d, s, g = max(p["widths"]), p["depth"], min(256, p["n_walks"]), 2
    return 1.5 * 4.0 * (d + 1) * s * n * (2 * g + 1) / 1e6, "walks.widths"


# ----------------------------------------------------------------------------------------------------- optimal gain
def optimal_gain(params, inputs, output):
    """g*(N) three ways and the per-layer drift versus g (SA Fig. 2, eqs. 7-10).

    ``kind`` = g_star: ``method`` monte_carlo (zero of the simulated drift over a gain grid, ``g_se`` its standard
    error), exact (linear/relu, dense width grid), fit (the paper's formulas) and, for tanh, stationary (the core's
    mean-field value: forward variance at its fixed point q*, no input transient).  ``kind`` = drift: mean
    ln(|delta_0|^2/|delta_D|^2)/D versus g at ``stat_width`` (monte_carlo with ``se``; exact / stationary theory).
    """
    p = params["optimal_gain"]
    seed = _seed(params)
    D = p["depth"]
    rows = []
    for nl in p["nonlinearities"]:
        for i, N in enumerate(p["widths"]):
            S = max(8, math.ceil(p["samples_per_width"] / D))
            g, se = mc_optimal_gain(nl, N, D, S, seed=seed + 17 * i, lo=0.9, hi=2.0, num=12, refine=1)
            rows.append({"kind": "g_star", "nonlinearity": nl, "width": N, "method": "monte_carlo", "g": g,
                         "g_se": se, "depth": D, "n_walks": S})
        tw = p["theory_widths"]
        for N in np.unique(np.round(np.geomspace(tw["min"], tw["max"], tw["num"])).astype(int)):
            if nl in ("linear", "relu"):
                rows.append({"kind": "g_star", "nonlinearity": nl, "width": int(N), "method": "exact",
                             "g": optimal_gain_exact(int(N), nl)})
                rows.append({"kind": "g_star", "nonlinearity": nl, "width": int(N), "method": "fit",
                             "g": optimal_gain_fit(int(N), nl)})
            elif nl == "tanh" and N >= TANH_THEORY_MIN_WIDTH:
                rows.append({"kind": "g_star", "nonlinearity": nl, "width": int(N), "method": "stationary",
                             "g": optimal_gain_exact(int(N), nl)})
        sg = p["stat_gains"]
        gains = np.geomspace(sg["min"], sg["max"], sg["num"])
        Nw = p["stat_width"]
        for g, (m, se, n) in zip(gains, walk_drift(nl, Nw, D, gains, p["stat_walks"], seed=seed + 99)):
            rows.append({"kind": "drift", "nonlinearity": nl, "width": Nw, "method": "monte_carlo", "gain": g,
                         "drift": m, "se": se, "depth": D, "n_walks": n})
        for g in np.geomspace(sg["min"], sg["max"], 200):
            if nl in ("linear", "relu"):
                rows.append({"kind": "drift", "nonlinearity": nl, "width": Nw, "method": "exact", "gain": g,
                             "drift": log_norm_increment_stats(Nw, nl, g)[0]})
            elif nl == "tanh" and Nw >= TANH_THEORY_MIN_WIDTH:   # mean only (the variance quadrature is slow)
                rows.append({"kind": "drift", "nonlinearity": nl, "width": Nw, "method": "stationary", "gain": g,
                             "drift": _rw.log_norm_increment_stats(Nw, "tanh", float(g), _need_var=False)[0]})
    write_csv(pd.DataFrame(rows), output)


# ----------------------------------------------------------------------------------------------------- training
def predicted_gain(nonlinearity: str, width: int, depth: int, params: dict) -> tuple[float, str]:
    """g* for a trained net: exact (linear/relu, SA eqs. 7/9) or Monte Carlo at that width and depth (tanh)."""
    if nonlinearity in ("linear", "relu"):
        return optimal_gain_exact(width, nonlinearity), "exact"
    p = params["optimal_gain"]
    S = max(8, math.ceil(p["samples_per_width"] / depth))
    g, _ = mc_optimal_gain(nonlinearity, width, depth, S, seed=_seed(params) + 7, lo=0.9, hi=2.0, num=12, refine=1)
    return g, "monte_carlo"


def plan_mnist_gain_sweep(params):
    """Training error versus g on MNIST for deep tanh / ReLU nets over the (lr_in, lr_out) grid (SA Fig. 3)."""
    p, r = params["gain_sweep"], params["recipe"]
    table = T.sweep_table(experiment="mnist_gain_sweep", task="classification", dataset=p["dataset"],
                          nonlinearities=p["nonlinearities"], depths=p["depths"], gains=p["gains"],
                          lr_pairs=p["lr_pairs"], seeds=p["seeds"], param_limit=p["param_limit"])
    return T.plan_sweep(table, params, r, p["epochs"])


def finish_mnist_gain_sweep(df, params):
    """The random-walk prediction g* of every trained shape."""
    for (nl, N, D), idx in df.groupby(["nonlinearity", "width", "depth"]).groups.items():
        g, how = predicted_gain(nl, int(N), int(D), params)
        df.loc[idx, "g_star"] = g
        df.loc[idx, "g_star_method"] = how
    return df


def plan_depth_sweep(params):
    """Training error versus depth at fixed g (SA Fig. 4): MNIST classification, MNIST auto-encoder (linear code
    layer, MSE), and Fashion-MNIST classification in place of TIMIT."""
    p, r = params["depth_sweep"], params["recipe"]
    shards = []
    for t in p["tasks"]:
        ae = t["task"] == "autoencoder"
        table = T.sweep_table(experiment="depth_sweep", task=t["task"], dataset=t["dataset"],
                              nonlinearities=[p["nonlinearity"]], depths=p["depths"], gains=p["gains"],
                              lr_pairs=p["lr_pairs_autoencoder"] if ae else p["lr_pairs"], seeds=p["seeds"],
                              param_limit=p["ae_param_limit"] if ae else p["param_limit"], code=p["code"])
        shards += T.plan_sweep(table, params, r, p["epochs"])
    return shards


EXPERIMENTS = (
    Theory("random_walks", random_walks, uses=("seed", "walks"), memory=random_walks_memory),
    Theory("optimal_gain", optimal_gain, uses=("seed", "optimal_gain")),
    Sweep("mnist_gain_sweep", plan_mnist_gain_sweep, T.run_shard, uses=("gain_sweep", "recipe"),
          finish=finish_mnist_gain_sweep, finish_uses=("seed", "optimal_gain")),
    Sweep("depth_sweep", plan_depth_sweep, T.run_shard, uses=("depth_sweep", "recipe")),
)
