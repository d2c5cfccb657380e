"""Figs. 2 and 3 of Saxe, McClelland & Ganguli 2014: one mode's gradient-flow field, and mode strengths over learning
on hierarchical data (analytic eq. 12 vs simulated 3-layer linear and tanh nets), with the delay of half-learning.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd

from isometry.io import write_csv
from isometry.theory import linear_dynamics as ld

PAPER = "saxe2014"


def _log(msg: str) -> None:
    print(f"[saxe2014] {msg}", flush=True)


# ------------------------------------------------------------------------------------------------- vector field
def vector_field(params, inputs, output):
    """One mode's gradient-flow field in the (a, b) plane (SMG eq. 8, Fig. 2):
    tau da/dt = b (s - a b), tau db/dt = a (s - a b), with trajectories (a^2 - b^2 conserved) and the manifolds.

    Rows: ``kind`` = field (grid points with the field), trajectory (``traj``, time ``t``, and the drift of the
    conserved quantity a^2 - b^2 from its initial value), fixed (the hyperbola a b = s of fixed points),
    balanced (the invariant line a = b).
    """
    p = params["vector_field"]
    s, ext, n = float(p["s"]), float(p["extent"]), int(p["grid"])
    g = np.linspace(-ext, ext, n)
    A, B = np.meshgrid(g, g)
    dA, dB = ld.vector_field(A, B, s=s)
    rows = [{"kind": "field", "traj": -1, "t": np.nan, "a": a, "b": b, "da": da, "db": db, "conserved": a * a - b * b,
             "drift": np.nan} for a, b, da, db in zip(A.ravel(), B.ravel(), dA.ravel(), dB.ravel())]
    t = np.linspace(0.0, float(p["t_max"]), int(p["t_points"]))
    starts = []
    for r in p["start_radii"]:
        ang = (np.arange(p["n_traj"]) + 0.5) * 2 * np.pi / p["n_traj"]
        starts += [(r * math.cos(x), r * math.sin(x)) for x in ang]
    for k, (a0, b0) in enumerate(starts):
        a, b = ld.hyperbolic_trajectory(a0, b0, s=s, t=t)
        c0 = a0 * a0 - b0 * b0
        da, db = ld.vector_field(a, b, s=s)
        rows += [{"kind": "trajectory", "traj": k, "t": tt, "a": x, "b": y, "da": u, "db": v, "conserved": x * x - y * y,
                  "drift": abs(x * x - y * y - c0)} for tt, x, y, u, v in zip(t, a, b, da, db)]
    xs = np.geomspace(s / ext, ext, 200)
    for sign in (1.0, -1.0):
        rows += [{"kind": "fixed", "traj": int(sign), "t": np.nan, "a": sign * x, "b": sign * s / x, "da": 0.0,
                  "db": 0.0, "conserved": x * x - (s / x) ** 2, "drift": np.nan} for x in xs]
    rows += [{"kind": "balanced", "traj": -1, "t": np.nan, "a": x, "b": x, "da": np.nan, "db": np.nan,
              "conserved": 0.0, "drift": np.nan} for x in (-ext, ext)]
    df = pd.DataFrame(rows)
    df["s"] = s
    write_csv(df, output)


# ------------------------------------------------------------------------------------------------ mode dynamics
def analytic_half_time(s, u0: float, lr: float):
    """Iterations for a mode to reach half its strength from u0 (SMG eq. 11 with u_f = s/2, tau = 1/lr):
    t_1/2 = tau/(2s) ln((s - u0)/u0)."""
    s = np.asarray(s, float)
    return np.log((s - u0) / u0) / (2.0 * s * lr)


def half_time(steps: np.ndarray, u: np.ndarray, target: float) -> float:
    """First (linearly interpolated) iteration at which ``u`` reaches ``target``; inf if never."""
    hit = np.flatnonzero(u >= target)
    if hit.size == 0:
        return math.inf
    k = int(hit[0])
    if k == 0:
        return float(steps[0])
    f = (target - u[k - 1]) / (u[k] - u[k - 1]) if u[k] != u[k - 1] else 1.0
    return float(steps[k - 1] + f * (steps[k] - steps[k - 1]))


def plan_mode_dynamics(params):
    """Shards: one ensemble per network type (linear, tanh) and chunk of random initializations."""
    from isometry.pipeline import Shard

    p = params["mode_dynamics"]
    n_init, chunk = int(p["inits"]), max(1, int(params["max_ensemble"]))
    P, N2, N3, steps = 2 ** int(p["levels"]), int(p["hidden"]), int(p["features"]), int(p["steps"])
    task = {k: p[k] for k in ("levels", "features", "flip_prob", "data_seed", "hidden", "lr", "u0", "steps",
                              "n_points", "modes", "curve_inits")}
    shards = []
    for net in p["nets"]:
        for lo in range(0, n_init, chunk):
            seeds = list(range(lo, min(n_init, lo + chunk)))
            cost = len(seeds) * steps * 6.0 * 2 * P * (P * N2 + N2 * N3) / 2e10 + steps * 4e-4
            shards.append(Shard(key=f"{net}-inits{seeds[0]}-{seeds[-1]}", spec={**task, "net": net, "seeds": seeds},
                                cost_s=cost, mem_mb=400.0 + len(seeds) * N3 * N2 * 16 / 2**20, gpu=False))
    return shards


def run_mode_shard(spec, ctx):
    """Mode strengths u_alpha(t) of 3-layer nets y = W32 phi(W21 x) (no biases, N2 hidden units, phi = identity or
    tanh) trained on hierarchical data (SMG Fig. 3): 2**levels items with one-hot inputs (Sigma11 = I), +-1 targets
    from a binary-tree diffusion, Sigma31 = U S V^T; full-batch gradient descent on (1/2) sum_mu |y^mu - yhat^mu|^2
    with learning rate lambda through the batched engine (SMG eq. 1; time t in iterations, tau = 1/lambda).

    Initial weights: i.i.d. N(0, 2 u0 / N2) in both layers, so that a mode's balanced strength |(a+b)/2|^2 starts at
    u0 on average (the paper's "u0 = 1e-6"). Mode strength of a network (also for tanh, as in the paper's caption):
    the diagonal of U^T Sigma31_net V with Sigma31_net = sum_mu yhat^mu x^mu^T.

    Rows: ``kind`` = curve (the first ``curve_inits`` initializations: u_alpha at ``n_points`` iterations) and half
    (every initialization and mode: simulated and analytic half-learning iteration, relative delay)."""
    import torch

    from isometry.engine import train
    from isometry.models import EnsembleMLP
    from isometry.papers.saxe2014.data import hierarchical_dataset, hierarchical_task
    from isometry.spec import Member

    device = torch.device("cpu")
    levels, n3, flip = int(spec["levels"]), int(spec["features"]), float(spec["flip_prob"])
    y, _, U, S, V = hierarchical_task(levels, n3, flip, int(spec["data_seed"]), scale=1.0)
    P, N2 = y.shape[0], int(spec["hidden"])
    ds = hierarchical_dataset(y, f"{levels}-level binary tree, flip {flip:g}, {n3} +-1 features")
    targets = torch.tensor(y, dtype=torch.float32)
    Ut, Vt, eye = torch.tensor(U, dtype=torch.float32), torch.tensor(V, dtype=torch.float32), torch.eye(P)
    lr, steps, u0, net = float(spec["lr"]), int(spec["steps"]), float(spec["u0"]), spec["net"]
    seeds = [int(s) for s in spec["seeds"]]
    std = math.sqrt(2.0 * u0 / N2)

    def loss(out, idx):            # (E, B, K), (B,) -> (E,): (1/2) sum over the batch of the squared error
        return 0.5 * (out.float() - targets[idx]).pow(2).sum(dim=(1, 2))

    @torch.no_grad()
    def strengths(model) -> np.ndarray:
        out = model(eye)                                     # (E, P, N3): row mu = yhat^mu
        return torch.einsum("ka,epk,pa->ea", Ut, out.float(), Vt).numpy()   # (E, modes)

    traj = np.zeros((steps + 1, len(seeds), len(S)))

    def init_hook(m, _members):
        with torch.no_grad():
            for i, s in enumerate(seeds):
                g = torch.Generator().manual_seed(1_000_003 * s + 17)
                for w in m.weights:
                    w[i].copy_(torch.randn(w.shape[1:], generator=g, dtype=torch.float64) * std)
        traj[0] = strengths(m)

    def callback(step, m, _opt):
        traj[step] = strengths(m)

    members = [Member(run_id=f"{net}-init{s}", init="gaussian", sigma_w2=2.0 * u0, lr=lr, seed=s) for s in seeds]
    model = EnsembleMLP(len(members), (P,), n3, depth=1, width=N2, nonlinearity=net, bias=False)
    t0 = time.perf_counter()
    train(model, members, ds, steps=steps, batch_size=P, loss=loss, log_at=[steps], eval_examples=None,
          device=device, init_hook=init_hook, callback=callback, paper=PAPER, experiment="mode_dynamics",
          progress=False, data_seed=0)
    _log(f"mode_dynamics {net} inits {seeds[0]}-{seeds[-1]}: {steps} steps in {time.perf_counter() - t0:.1f} s")
    t = np.arange(steps + 1)
    t_an = analytic_half_time(S, u0, lr)
    plotted = {int(m) for m in spec["modes"]}
    rows = []
    for i, s in enumerate(seeds):
        for a in range(len(S)):
            th = half_time(t, traj[:, i, a], S[a] / 2.0)
            rows.append({"kind": "half", "source": net, "seed": s, "mode": a + 1, "s": S[a], "t_half": th,
                         "t_half_analytic": t_an[a], "delay": (th - t_an[a]) / t_an[a],
                         "u_final_over_s": traj[-1, i, a] / S[a], "plotted": (a + 1) in plotted})
    record = np.unique(np.linspace(0, steps, int(spec["n_points"])).round().astype(int))
    for i, s in enumerate(seeds):
        if s >= int(spec["curve_inits"]):
            continue
        for a in range(len(S)):
            rows += [{"kind": "curve", "source": net, "seed": s, "mode": a + 1, "s": S[a], "step": int(st),
                      "u": float(traj[st, i, a]), "plotted": (a + 1) in plotted} for st in record]
    out = pd.DataFrame(rows)
    out["dataset"], out["lr"], out["hidden"], out["u0"], out["steps"] = ds.label, lr, N2, u0, steps
    return out


def finish_mode_dynamics(df, params):
    """Add the analytic curves u(t) = s e^{2st/tau} / (e^{2st/tau} - 1 + s/u0) (SMG eq. 12, tau = 1/lambda)."""
    curves = df[df.kind == "curve"]
    if curves.empty:
        return df
    p = params["mode_dynamics"]
    lr, u0 = float(p["lr"]), float(p["u0"])
    steps = np.sort(curves.step.unique())
    modes = curves.drop_duplicates("mode")[["mode", "s", "plotted"]]
    rows = [{"kind": "curve", "source": "analytic", "seed": -1, "mode": int(m.mode), "s": m.s, "step": int(st),
             "u": float(v), "plotted": bool(m.plotted)}
            for m in modes.itertuples() for st, v in zip(steps, ld.mode_strength(steps * lr, m.s, u0, tau=1.0))]
    an = pd.DataFrame(rows)
    for c in ("dataset", "lr", "hidden", "u0", "steps"):
        an[c] = df[c].iloc[0]
    return pd.concat([df, an], ignore_index=True)
