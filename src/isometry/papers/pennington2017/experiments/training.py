"""Training sweeps of pennington2017 on CIFAR-10 (fully connected networks, batched engine).

``cifar10_learning``  PSG Fig. 4: test accuracy vs step for depth-L networks, tanh (sigma_w^2 = 1.05, blue),
                      tanh (2, red), ReLU (2, black), orthogonal vs Gaussian weights, four optimizers. One shard per
                      (optimizer, configuration): a short **pilot** trains every (init, learning rate) of the grid for
                      ``pilot_steps`` steps; each init's rate is the one with the lowest training loss (mean over the
                      pilot's logged steps in its second half; diverged = worst; ties -> the smaller rate); the **main**
                      run then trains those networks from scratch (same seeds) for ``steps`` steps. Rows of both
                      stages are kept (``stage`` = pilot / main), so the selection can be audited.
``learning_speed``    PSG Fig. 5(a): orthogonal tanh at a fixed q* on the critical line, several depths L, SGD with
                      learning rates eta = (eta L) / L over a grid of eta L; tau = steps to a test-accuracy threshold
                      (computed by the figure and the checks from the curves). One shard per depth.

The paper's learning rates, batch size and preprocessing are not known (verified.md sec. 2, UNVERIFIED): ours are
stated in the config and in every caption.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from isometry.pipeline import Shard, Sweep

from ..common import PAPER, critical_params, predicted_spread


def log_points(steps: int, n: int) -> list[int]:
    """0, ``steps`` and about ``n`` log-spaced steps in [1, steps]."""
    pts = np.unique(np.round(np.geomspace(1, max(steps, 1), max(n, 2))).astype(int)).tolist()
    return sorted({0, int(steps), *pts})


def _row(experiment, *, nl, depth, width, steps, batch, optimizer, init, sigma_w2, sigma_b2, lr, seed, run_id,
         **extra) -> dict:
    return {"paper": PAPER, "experiment": experiment, "model": "mlp", "nonlinearity": nl, "depth": int(depth),
            "width": int(width), "steps": int(steps), "batch_size": int(batch), "optimizer": optimizer,
            "run_id": run_id, "init": init, "sigma_w2": float(sigma_w2), "sigma_b2": float(sigma_b2),
            "lr": float(lr), "seed": int(seed), **extra}


def _cost(depth, width, batch, steps, members, n_test, n_evals) -> float:
    from isometry.cost import mlp_cost_s

    return mlp_cost_s(depth=int(depth), width=int(width), n_in=3072, n_out=10, batch=int(batch), steps=int(steps),
                      members=int(members), eval_examples=int(n_test), n_evals=int(n_evals))


def _train_rows(rows: list[dict], spec: dict, ctx, log_at: list[int]) -> pd.DataFrame:
    """Train ``rows`` (one ensemble per same-shape group) on the shard's CIFAR-10 subset."""
    import torch

    from isometry import sweep

    ds = ctx.dataset("cifar10").subset(int(spec["n_train"]), int(spec["n_test"]))
    device = None if ctx.device == "auto" else ctx.device
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("device: cuda requested but CUDA is not available")
    frames = []
    for job in sweep.make_jobs(rows, max_ensemble=10_000):
        frames.append(sweep.run_job(job, ds, log_at=log_at, eval_examples=int(spec["n_test"]),
                                    data_seed=int(spec["seed"]), device=device, progress=False, desc=job.job_id))
    out = pd.concat(frames, ignore_index=True)
    out["n_train"], out["n_test"] = len(ds.train_y), len(ds.test_y)     # what actually ran (for the captions)
    return out


# ================================================================================================ Fig. 4
def pilot_score(df: pd.DataFrame, pilot_steps: int) -> float:
    """The pilot's selection criterion for one (init, lr): mean training loss (seed-mean) over the logged steps in
    the second half of the pilot; +inf if any seed diverged or no finite loss was logged."""
    late = df[df.step >= pilot_steps / 2]
    if late.empty or bool(df.diverged.any()):
        return float("inf")
    v = late.groupby("step").train_loss.mean()
    return float(v.mean()) if np.isfinite(v).all() else float("inf")


def select_lr(pilot: pd.DataFrame, pilot_steps: int) -> dict[str, float]:
    """init -> the pilot's learning rate with the lowest ``pilot_score`` (ties -> the smaller rate)."""
    out = {}
    for init, g in pilot.groupby("init"):
        scores = sorted((pilot_score(gl, pilot_steps), lr) for lr, gl in g.groupby("lr"))
        out[init] = float(scores[0][1])
    return out


def plan_cifar10_learning(params):
    """PSG Fig. 4: one shard per (optimizer, configuration) (pilot + main, see the module docstring)."""
    p = params["cifar10_learning"]
    shards = []
    for opt, lrs in p["optimizers"].items():
        for c in p["configs"]:
            spec = {"experiment": "cifar10_learning", "optimizer": opt, "config": dict(c), "inits": list(p["inits"]),
                    "lrs": [float(x) for x in lrs], "depth": int(p["depth"]), "width": int(p["width"]),
                    "pilot_steps": int(p["pilot_steps"]), "steps": int(p["steps"]),
                    "batch_size": int(p["batch_size"]), "n_train": int(p["n_train"]), "n_test": int(p["n_test"]),
                    "n_log": int(p["n_log"]), "seeds": [int(s) for s in p["seeds"]], "seed": int(params["seed"])}
            n_pilot = len(p["inits"]) * len(lrs) * len(p["seeds"])
            n_main = len(p["inits"]) * len(p["seeds"])
            cost = (_cost(p["depth"], p["width"], p["batch_size"], p["pilot_steps"], n_pilot, p["n_test"], 6)
                    + _cost(p["depth"], p["width"], p["batch_size"], p["steps"], n_main, p["n_test"], p["n_log"] + 2))
            key = f"{opt}-" + re.sub(r"[^A-Za-z0-9_.-]+", "_", c["name"]).strip("_")
            shards.append(Shard(key=key, spec=spec, data=("cifar10",), cost_s=cost))
    return shards


def _fig4_rows(spec, steps, lrs_by_init, stage) -> list[dict]:
    c = spec["config"]
    rows = []
    for init in spec["inits"]:
        for lr in lrs_by_init[init]:
            for seed in spec["seeds"]:
                _, var = predicted_spread(c["nonlinearity"], init, spec["depth"], c["sigma_w2"], c["sigma_b2"])
                rows.append(_row("cifar10_learning", nl=c["nonlinearity"], depth=spec["depth"], width=spec["width"],
                                 steps=steps, batch=spec["batch_size"], optimizer=spec["optimizer"], init=init,
                                 sigma_w2=c["sigma_w2"], sigma_b2=c["sigma_b2"], lr=lr, seed=seed,
                                 run_id=f"{stage}-{c['name']}-{init}-{spec['optimizer']}-lr{lr:g}-s{seed}",
                                 config=c["name"], stage=stage, sigma2_jj=var))
    return rows


def run_cifar10_learning(spec: dict, ctx) -> pd.DataFrame:
    """One (optimizer, configuration): the pilot over the learning-rate grid, then the main run at each init's
    selected rate (``select_lr``)."""
    P = int(spec["pilot_steps"])
    pilot_log = sorted({0, *[int(round(P * f)) for f in (0.1, 0.25, 0.5, 0.625, 0.75, 0.875, 1.0)]})
    pilot = _train_rows(_fig4_rows(spec, P, {i: spec["lrs"] for i in spec["inits"]}, "pilot"), spec, ctx, pilot_log)
    chosen = select_lr(pilot, P)
    main = _train_rows(_fig4_rows(spec, int(spec["steps"]), {i: [chosen[i]] for i in spec["inits"]}, "main"), spec,
                       ctx, log_points(int(spec["steps"]), int(spec["n_log"])))
    main["lr_grid"] = ",".join(f"{x:g}" for x in spec["lrs"])
    pilot["lr_grid"] = main["lr_grid"].iloc[0]
    return pd.concat([pilot, main], ignore_index=True)


# ================================================================================================ Fig. 5(a)
def plan_learning_speed(params):
    """PSG Fig. 5(a): orthogonal tanh at q* (critical line), one shard per depth, members = eta L grid x seeds."""
    p = params["learning_speed"]
    sw, sb = critical_params("tanh", float(p["q_star"]))
    shards = []
    for L in p["depths"]:
        _, var = predicted_spread("tanh", "orthogonal", int(L), sw, sb)
        rows = [_row("learning_speed", nl="tanh", depth=L, width=p["width"], steps=p["steps"], batch=p["batch_size"],
                     optimizer=p["optimizer"], init="orthogonal", sigma_w2=sw, sigma_b2=sb, lr=float(eL) / int(L),
                     seed=int(params["seed"]) + int(s), run_id=f"L{L}-etaL{eL:g}-s{s}", eta_l=float(eL),
                     q_star=float(p["q_star"]), sigma2_jj=var)
                for eL in p["eta_l"] for s in p["seeds"]]
        spec = {"rows": rows, "n_train": int(p["n_train"]), "n_test": int(p["n_test"]), "n_log": int(p["n_log"]),
                "steps": int(p["steps"]), "seed": int(params["seed"])}
        cost = _cost(L, p["width"], p["batch_size"], p["steps"], len(rows), p["n_test"], p["n_log"] + 2)
        shards.append(Shard(key=f"d{int(L)}", spec=spec, data=("cifar10",), cost_s=cost))
    return shards


def run_learning_speed(spec: dict, ctx) -> pd.DataFrame:
    return _train_rows(spec["rows"], spec, ctx, log_points(int(spec["steps"]), int(spec["n_log"])))


EXPERIMENTS = (
    Sweep("cifar10_learning", plan_cifar10_learning, run_cifar10_learning, uses=("seed", "cifar10_learning")),
    Sweep("learning_speed", plan_learning_speed, run_learning_speed, uses=("seed", "learning_speed")),
)
