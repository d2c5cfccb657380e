"""The experiments of the saxe2014 pipeline: ``fn(params, inputs, output)`` writing one tidy CSV each.

Equation numbers refer to Saxe, McClelland & Ganguli 2014 (arXiv:1312.6120) as summarised in papers.md section 2.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd

from isometry.io import write_csv
from isometry.pipeline import Sweep, Theory
from isometry.spec import RUN_COLUMNS
from isometry.theory import linear_dynamics as ld

# torch and the data helpers are imported inside the experiments that need them, so that the figure and check jobs
# (which import this module through isometry.papers.saxe2014) start without loading torch.

PAPER = "saxe2014"


def _runtime(params):
    """The device ``auto`` | cpu | cuda (torch threads are set by the CLI from the global ``threads`` key)."""
    import torch

    dev = params.get("device", "auto")
    if dev == "auto":
        dev = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(dev)


def _log(msg: str) -> None:
    print(f"[saxe2014] {msg}", flush=True)


def lr_grid(spec) -> list[float]:
    """Log-spaced learning-rate grid ``{min, max, num}`` (or an explicit list)."""
    if isinstance(spec, (list, tuple)):
        return [float(v) for v in spec]
    return [float(v) for v in np.geomspace(spec["min"], spec["max"], spec["num"])]


# ------------------------------------------------------------------------------------------------- vector field
def vector_field(params, inputs, output):
    """One mode's gradient-flow field in the (a, b) plane (SMG eq. 4 for one mode, Fig. 2):
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
def decoupled_u0(c: np.ndarray, s: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Initial mode strengths of the decoupled solution closest to a small random init.

    ``c`` (E, modes, N2): c_alpha = (a0_alpha + b0_alpha)/2, the balanced part of mode alpha's hidden vectors (the
    part that grows, as e^{s t/tau}, while the antisymmetric part decays). The decoupled ansatz W21 = O A V^T,
    W32 = U B O^T (SMG eq. 3) needs mutually orthogonal hidden directions: once the stronger modes gamma are learned,
    the cross terms -(a_alpha . b_gamma) b_gamma of SMG eq. 4 remove mode alpha's component along their directions.
    So mode alpha starts effectively from u0 = |P_perp c_alpha|^2, P_perp the projection orthogonal to the
    directions of the modes learned before it (Gram-Schmidt in order of decreasing s). Returns (u0, |c_alpha|^2).
    """
    E, M, _ = c.shape
    bal = (c ** 2).sum(-1)
    u0 = np.empty((E, M))
    for e in range(E):
        order = np.arange(M)
        for _ in range(3):          # learning order = order of the predicted times ln(s/u0)/(2s) (SMG eq. 8)
            q = []
            for a in order:
                v = c[e, a].copy()
                for b in q:
                    v -= (v @ b) * b
                u0[e, a] = v @ v
                if v @ v > 0:
                    q.append(v / np.sqrt(v @ v))
            if s is None:
                break
            order = np.argsort(np.log(s / np.maximum(u0[e], 1e-300)) / (2 * s), kind="stable")
    return u0, bal


def mode_dynamics(params, inputs, output):
    """Mode strengths u_alpha(t) on hierarchical data: analytic (SMG eq. 7), simulated 3-layer linear and tanh nets.

    Data: 2**levels items (one-hot inputs, Sigma11 = I), targets from a binary-tree diffusion (``data.py``),
    Sigma31 = U S V^T. Networks y = W32 phi(W21 x) (no biases, N2 hidden units, phi = identity or tanh), trained by
    full-batch gradient descent on (1/2) sum_mu |y^mu - yhat^mu|^2 with learning rate lambda through the batched
    engine, i.e. an Euler discretisation of SMG eq. 2 with tau = 1/lambda (t = steps / tau). Mode strength of a
    network (also for tanh, as in the paper): u_alpha = u_alpha^T Sigma31_net v_alpha with
    Sigma31_net = sum_mu yhat^mu x^mu^T, the network's input-output correlation.

    Analytic curve: u(t) = s e^{2st/tau} / (e^{2st/tau} - 1 + s/u0) (SMG eq. 7) with each mode's effective initial
    strength u0 = |(a0 + b0)/2|^2, a0 = W21 v_alpha, b0 = W32^T u_alpha from the network's own small random init
    (the balanced part of the mode, which is what grows: the antisymmetric part a0 - b0 decays in the linear regime).
    """
    import torch

    from isometry.engine import train
    from isometry.models import EnsembleMLP
    from isometry.papers.saxe2014.data import hierarchical_dataset, hierarchical_task
    from isometry.spec import Member

    device = _runtime(params)
    p = params["mode_dynamics"]
    levels, n3, flip = int(p["levels"]), int(p["features"]), float(p["flip_prob"])
    y, _, U, S, V = hierarchical_task(levels, n3, flip, int(p["data_seed"]))
    P = y.shape[0]
    label = f"{levels}-level binary tree, flip {flip:g}, {n3} features"
    ds = hierarchical_dataset(y, label)
    targets = torch.tensor(y, dtype=torch.float32, device=device)
    Ut = torch.tensor(U, dtype=torch.float32, device=device)
    Vt = torch.tensor(V, dtype=torch.float32, device=device)
    eye = torch.eye(P, device=device)
    lr, steps = float(p["lr"]), int(p["steps"])
    record = sorted(set(np.unique(np.linspace(0, steps, int(p["n_points"])).round().astype(int)).tolist()))
    record_set = set(record)
    plotted = set(int(m) for m in p["modes"])

    def loss(out, idx):            # (E, B, K), (B,) -> (E,): (1/2) sum over the batch of the squared error
        return 0.5 * (out.float() - targets[idx]).pow(2).sum(dim=(1, 2))

    @torch.no_grad()
    def strengths(model) -> np.ndarray:
        out = model(eye)                                     # (E, P, N3): row mu = yhat^mu
        return torch.einsum("ka,epk,pa->ea", Ut, out.float(), Vt).cpu().numpy()   # (E, modes)

    rows = []
    seeds = [int(s) for s in p["seeds"]]
    u0_by_seed = {}
    for nl in p["nets"]:
        members = [Member(run_id=f"{nl}-seed{s}", init="gaussian", sigma_w2=float(p["init_sigma_w2"]), lr=lr, seed=s)
                   for s in seeds]
        model = EnsembleMLP(len(members), (P,), n3, depth=1, width=int(p["hidden"]), nonlinearity=nl, bias=False)
        traj: dict[int, np.ndarray] = {}

        def init_hook(m, _members):
            with torch.no_grad():
                w21, w32 = m.weights[0].float(), m.weights[1].float()           # (E, N2, P), (E, N3, N2)
                a0 = torch.einsum("ehp,pa->eah", w21, Vt)
                b0 = torch.einsum("ekh,ka->eah", w32, Ut)
                u0, u0_bal = decoupled_u0(((a0 + b0) / 2).double().cpu().numpy(), S)
            for i, s in enumerate(seeds):
                u0_by_seed.setdefault(s, (u0[i], u0_bal[i]))
            traj[0] = strengths(m)

        def callback(step, m, _opt):
            if step in record_set:
                traj[step] = strengths(m)

        t0 = time.perf_counter()
        df = train(model, members, ds, steps=steps, batch_size=P, loss=loss, log_at=[steps], eval_examples=None,
                   device=device, init_hook=init_hook, callback=callback, paper=PAPER, experiment="mode_dynamics",
                   progress=False, data_seed=0)
        _log(f"mode_dynamics {nl}: {steps} steps in {time.perf_counter() - t0:.1f} s, final loss "
             f"{df[df.step == steps].train_loss.tolist()}")
        for step in record:
            for i, s in enumerate(seeds):
                for a in range(len(S)):
                    rows.append({"source": nl, "seed": s, "mode": a + 1, "s": S[a], "step": step,
                                 "t_over_tau": step * lr, "u": float(traj[step][i, a]),
                                 "u0": float(u0_by_seed[s][0][a]), "u0_balanced": float(u0_by_seed[s][1][a]),
                                 "plotted": (a + 1) in plotted})
    for s in seeds:
        for a in range(len(S)):
            u0, u0_bal = u0_by_seed[s][0][a], u0_by_seed[s][1][a]
            u = ld.mode_strength(np.array(record) * lr, S[a], u0, tau=1.0)
            rows += [{"source": "analytic", "seed": s, "mode": a + 1, "s": S[a], "step": st, "t_over_tau": st * lr,
                      "u": float(v), "u0": float(u0), "u0_balanced": float(u0_bal), "plotted": (a + 1) in plotted}
                     for st, v in zip(record, u)]
    out = pd.DataFrame(rows)
    out["u_over_s"] = out["u"] / out["s"]
    out["dataset"] = ds.label
    out["lr"], out["hidden"], out["init_sigma_w2"] = lr, int(p["hidden"]), float(p["init_sigma_w2"])
    write_csv(out, output)


# --------------------------------------------------------------------------------------------- deep linear MNIST
def _pretrain_stack(x: torch.Tensor, n_layers: int, width: int, n_out: int, seeds: list[int], p: dict,
                    device) -> dict[int, list]:
    """Greedy layer-wise pre-training with linear auto-encoders (SMG section 3), batched over ``seeds``.

    Layer l's encoder W_l (width x fan-in) and decoder D_l start from small Gaussian weights (std
    ``init_std``/sqrt(fan-in), drawn
    from a generator seeded by the member's seed) and are trained by full-batch gradient descent on
    (1/2n) sum |h - D_l W_l h|^2 over the previous layer's representation h = W_{l-1} ... W_1 x; the encoders are the
    initial weights of the stack. The readout (n_out x width) is a random semi-orthogonal map on the span of the top
    code. Returns {seed: [W_1, ..., W_n_layers, readout]} (CPU tensors).
    """
    import torch

    from isometry.init import orthogonal_

    E, (n, d) = len(seeds), x.shape
    h = x.to(device).unsqueeze(0).expand(E, n, d).contiguous()
    out = {s: [] for s in seeds}
    lr, steps, std = float(p["lr"]), int(p["steps"]), float(p["init_std"])
    for layer in range(n_layers):
        ws, ds_ = [], []
        d = h.shape[-1]
        for s in seeds:
            g = torch.Generator().manual_seed(int(s) * 100_003 + 7919 * (layer + 1))
            ws.append(torch.randn(width, d, generator=g) * std / math.sqrt(d))
            ds_.append(torch.randn(d, width, generator=g) * std / math.sqrt(width))
        W, D = torch.stack(ws).to(device), torch.stack(ds_).to(device)
        cov = h.transpose(1, 2) @ h / n                           # (E, d, d): the layer's input correlation
        for _ in range(steps):                                    # exact GD on the AE loss (closed-form gradients)
            R = cov - D @ W @ cov                                 # Sigma - D W Sigma
            gW = -D.transpose(1, 2) @ R
            gD = -R @ W.transpose(1, 2)
            W, D = W - lr * gW, D - lr * gD
        h = h @ W.transpose(1, 2)
        for i, s in enumerate(seeds):
            out[s].append(W[i].cpu())
    # readout: a random semi-orthogonal map on the span of the top code (rank = input dimension <= width), so that
    # the pre-trained stack + readout starts as an isometry from the input space onto the outputs
    for i, s in enumerate(seeds):
        prod = torch.eye(x.shape[1])
        for W in out[s]:
            prod = W @ prod
        q, _ = torch.linalg.qr(prod.double())                    # (width, d): basis of the code's span
        g = torch.Generator().manual_seed(int(s) * 100_003 + 1)
        rot = orthogonal_(torch.empty(n_out, q.shape[1], dtype=torch.float64), 1.0, generator=g)
        out[s].append((rot @ q.T).float())
    return out


def plan_depth_runs(params):
    """Deep linear networks on PCA-whitened MNIST: depth x learning rate x init (SMG section 3, Figs. 5-6).

    One ensemble per depth (members = learning rates x inits x seeds, trained together by the batched engine):
    bias-free linear MLPs with ``depth`` weight matrices (hidden width ``width``), full-batch gradient descent on
    the engine's ``mse`` (squared error to one-hot targets). Inits: ``gaussian`` (W_ij ~ N(0, 1/N), "scaled
    random Gaussian"), ``orthogonal`` (Haar), ``pretrained`` (greedy layer-wise linear auto-encoders on the previous
    layer's representation, then fine-tuning of the whole stack; readout semi-orthogonal on the code's span). Output:
    the run CSV
    (RUN_COLUMNS + weight_layers, loss_opt (least-squares floor), loss_zero (zero predictor), inputs).
    """
    from isometry.cost import mlp_cost_s
    from isometry.pipeline import Shard
    from isometry.sweep import job_spec, make_jobs

    p = params["depth_sweep"]
    d = int(p["pca_dim"])
    inputs_label = f"first {p['n_train']} training images, PCA-{d} whitened"
    table = []
    for D in p["depths"]:
        for init in p["inits"]:
            for lr in lr_grid(p["lrs"]):
                for seed in p["seeds"]:
                    table.append({
                        "run_id": f"D{D}-{init}-lr{lr:.4g}-s{seed}", "paper": PAPER, "experiment": "depth_sweep",
                        "model": "mlp", "nonlinearity": "linear", "depth": int(D) - 1, "width": int(p["width"]),
                        "bias": False,
                        "steps": int(p["steps"]), "batch_size": int(p["n_train"]), "loss": "mse",
                        "init": "orthogonal" if init == "pretrained" else init, "init_method": init,
                        "sigma_w2": 1.0, "lr": lr, "optimizer": "sgd", "seed": int(seed),
                        "weight_layers": int(D), "loss_opt": None, "loss_zero": None,    # filled from the data
                        "inputs": inputs_label})
    shards = []
    data_keys = {k: p[k] for k in ("dataset", "n_train", "n_test", "pca_dim")}
    for job in make_jobs(table, max_ensemble=int(params["max_ensemble"])):
        D = job.group["depth"] + 1
        spec = {"job": job_spec(job), "data": data_keys, "width": int(p["width"]), "n_log": int(p["n_log"]),
                "pretrain": dict(p["pretrain"])}
        cost = mlp_cost_s(depth=D - 1, width=int(p["width"]), n_in=d, n_out=10, batch=int(p["n_train"]),
                          steps=int(p["steps"]), members=len(job.members))
        shards.append(Shard(key=f"D{D}", spec=spec, data=(p["dataset"],), cost_s=cost))
    return shards


def run_depth_shard(spec, ctx):
    """One depth of the sweep (one ensemble), with the pretrained members' greedy stacks computed first."""
    import torch

    from isometry.papers.saxe2014.data import least_squares_mse, pca_dataset
    from isometry.sweep import job_from_spec, run_job

    device = torch.device("cuda" if ctx.device == "auto" and torch.cuda.is_available() else
                          ("cpu" if ctx.device == "auto" else ctx.device))
    p = spec["data"]
    ds = pca_dataset(p["dataset"], ctx.data_dir, p["n_train"], p["n_test"], p["pca_dim"], whiten=True)
    loss_opt, loss_zero = least_squares_mse(ds)
    job = job_from_spec(spec["job"])
    for m in job.members:
        m.extra["loss_opt"], m.extra["loss_zero"] = loss_opt, loss_zero
    D = job.group["depth"] + 1
    pre_seeds = sorted({m.seed for m in job.members if m.extra["init_method"] == "pretrained"})
    stacks = _pretrain_stack(ds.train_x, D - 1, int(spec["width"]), ds.num_classes, pre_seeds, spec["pretrain"],
                             device) if pre_seeds else {}

    def hook(model, members, stacks=stacks):
        with torch.no_grad():
            for i, m in enumerate(members):
                if m.extra["init_method"] == "pretrained":
                    for l, w in enumerate(stacks[m.seed]):
                        model.weights[l][i].copy_(w.to(model.weights[l].device))

    t0 = time.perf_counter()
    df = run_job(job, ds, device=device, init_hook=hook, n_log=int(spec["n_log"]), eval_examples=None,
                 progress=False, data_seed=0)
    _log(f"depth {D}: {len(job.members)} members, {job.group['steps']} steps in {time.perf_counter() - t0:.1f} s")
    return df


def finish_depth_runs(df, params):
    pre = df["init_method"] == "pretrained"
    df.loc[pre, "init"] = "pretrained"
    df.loc[pre, "sigma_w2"] = np.nan
    df = df.drop(columns=["init_method"])
    return df[RUN_COLUMNS + [c for c in df.columns if c not in RUN_COLUMNS]]


def epochs_to_criterion(steps: np.ndarray, loss: np.ndarray, target: float) -> float:
    """First (log-linearly interpolated) step at which ``loss`` <= ``target``; NaN if never (or diverged)."""
    ok = np.isfinite(loss)
    steps, loss = steps[ok], loss[ok]
    hit = np.nonzero(loss <= target)[0]
    if len(hit) == 0:
        return float("nan")
    k = hit[0]
    if k == 0:
        return float(steps[0])
    s0, s1, l0, l1 = steps[k - 1], steps[k], loss[k - 1], loss[k]
    f = (l0 - target) / (l0 - l1) if l0 != l1 else 1.0
    if s0 <= 0:
        return float(s0 + f * (s1 - s0))
    return float(math.exp(math.log(s0) + f * (math.log(s1) - math.log(s0))))


def run_times(runs: pd.DataFrame, criterion: float) -> pd.DataFrame:
    """Epochs to criterion for every run: loss <= loss_opt + criterion * (loss_zero - loss_opt)."""
    rows = []
    for rid, g in runs.groupby("run_id", sort=False):
        g = g.sort_values("step")
        target = float(g.loss_opt.iloc[0] + criterion * (g.loss_zero.iloc[0] - g.loss_opt.iloc[0]))
        t = epochs_to_criterion(g.step.to_numpy(float), g.train_loss.to_numpy(float), target)
        rows.append({"run_id": rid, "init": g.init.iloc[0], "weight_layers": int(g.weight_layers.iloc[0]),
                     "lr": float(g.lr.iloc[0]), "seed": int(g.seed.iloc[0]), "epochs": t, "target_loss": target,
                     "diverged": bool(g.diverged.any()), "budget": int(g.step.max())})
    return pd.DataFrame(rows)


def best_lr_table(times: pd.DataFrame) -> pd.DataFrame:
    """Per (init, depth): the learning rate with the fewest mean epochs to criterion (over seeds); censored at the
    step budget (``reached`` = False, ``epochs`` = budget, a lower bound) when no learning rate got there."""
    mean = times.groupby(["init", "weight_layers", "lr"], as_index=False).agg(
        epochs=("epochs", lambda v: float(np.mean(v)) if np.all(np.isfinite(v)) else float("nan")),
        budget=("budget", "max"), n_seeds=("seed", "nunique"))
    rows = []
    for (init, D), g in mean.groupby(["init", "weight_layers"]):
        ok = g[np.isfinite(g.epochs)]
        if len(ok):
            b = ok.loc[ok.epochs.idxmin()]
            rows.append({"init": init, "weight_layers": int(D), "best_lr": float(b.lr), "epochs": float(b.epochs),
                         "reached": True, "budget": int(b.budget), "n_lrs_reached": len(ok)})
        else:
            rows.append({"init": init, "weight_layers": int(D), "best_lr": float("nan"), "epochs": float(g.budget.max()),
                         "reached": False, "budget": int(g.budget.max()), "n_lrs_reached": 0})
    return pd.DataFrame(rows)


def learning_time_vs_depth(params, inputs, output):
    """Epochs to criterion at the best learning rate versus depth, the optimal learning rate, and the theory.

    Input: the depth-sweep run CSV. Rows ``kind`` = sim (init, weight_layers, best_lr, epochs, reached),
    ``theory``: the balanced deep-linear ODE (SMG section 3) t(D) = (tau/D) int_{u0}^{uf} du/[u^{2-2/D}(s-u)]
    with tau proportional to D (optimal lr ~ 1/D), i.e. t(D) ~ int du/[u^{2-2/D}(s-u)], in units of its D -> infinity
    limit (``theory_rel``), and ``slope``: the fitted log-log slope of best_lr versus D per init.
    """
    p = params["depth_sweep"]
    runs = pd.read_csv(inputs[0])
    times = run_times(runs, float(p["criterion"]))
    best = best_lr_table(times)
    best.insert(0, "kind", "sim")
    th = p["theory"]
    s, u0, uf = float(th["s"]), float(th["u0"]), float(th["uf"])
    Ds = np.unique(np.round(np.geomspace(2, max(p["depths"]) * 1.5, 40)).astype(int))
    t_inf = ld.learning_time(s, u0, uf, tau=1e6, depth=10**6)
    trows = [{"kind": "theory", "weight_layers": int(D),
              "theory_rel": float(ld.learning_time(s, u0, uf, tau=float(D), depth=int(D)) / t_inf)} for D in Ds]
    srows = []
    for init, g in best[best.reached].groupby("init"):
        g = g[g.weight_layers >= int(p["slope_min_depth"])]
        if len(g) >= 2:
            k, c = np.polyfit(np.log(g.weight_layers), np.log(g.best_lr), 1)
            srows.append({"kind": "slope", "init": init, "slope": float(k), "intercept": float(c),
                          "n_points": len(g), "min_depth": int(g.weight_layers.min())})
    out = pd.concat([best, pd.DataFrame(trows), pd.DataFrame(srows)], ignore_index=True)
    out["criterion"] = float(p["criterion"])
    out["dataset"] = runs.dataset.iloc[0]
    out["inputs"] = runs.inputs.iloc[0]
    write_csv(out, output)


def mnist_training_curves(params, inputs, output):
    """Training loss / error versus epochs for the three inits at one depth, each at its best learning rate
    (SMG Figs. 5-6). Input: the depth-sweep run CSV. Depth: ``curves_depth`` (nearest swept depth)."""
    p = params["depth_sweep"]
    runs = pd.read_csv(inputs[0])
    depths = sorted(runs.weight_layers.unique())
    D = min(depths, key=lambda x: abs(x - int(p["curves_depth"])))
    times = run_times(runs[runs.weight_layers == D], float(p["criterion"]))
    best = best_lr_table(times)
    rows = []
    for _, b in best.iterrows():
        sel = runs[(runs.weight_layers == D) & (runs.init == b.init)]
        if b.reached:
            lr = b.best_lr
        else:   # nobody reached the criterion: the lr with the lowest final loss
            last = sel[sel.step == sel.step.max()]
            lr = float(last.loc[last.train_loss.idxmin(), "lr"]) if last.train_loss.notna().any() else float(sel.lr.min())
        sel = sel[np.isclose(sel.lr, lr)]
        rows.append(sel.assign(best_lr=lr, reached=bool(b.reached), epochs_to_criterion=b.epochs,
                               target_loss=float(times.target_loss.iloc[0])))
    out = pd.concat(rows, ignore_index=True)
    out["train_error"] = 1.0 - out["train_acc"]
    write_csv(out, output)


# ----------------------------------------------------------------------------------------------- product spectra
def product_spectra(params, inputs, output):
    """Squared singular values of products of L random N x N matrices: Gaussian (W_ij ~ N(0, 1/N)) versus Haar
    orthogonal (SMG section 4; the Gaussian law is Fuss-Catalan with top edge (L+1)^{L+1}/L^L, the free product
    S-transform of isometry.theory.spectra, linear + gaussian; orthogonal products are exactly orthogonal).

    Rows ``kind`` = hist (log-spaced bins: bin_lo, bin_hi, density per unit lambda, count), theory (lam, density),
    summary (top / min singular value^2, mean over samples, the asymptotic edge, max |sv - 1|)."""
    import torch

    from isometry.init import gaussian_, orthogonal_
    from isometry.theory.spectra import jacobian_density, spectral_edge

    _runtime(params)
    p = params["product_spectra"]
    N, n_samp, seed = int(p["width"]), int(p["samples"]), int(params.get("seed", 0))
    rows = []
    for L in p["depths"]:
        edge = float(spectral_edge("linear", "gaussian", int(L), sigma_w2=1.0, sigma_b2=0.0))
        bins = np.geomspace(float(p["lam_min"]), edge * 1.5, int(p["bins"]) + 1)
        for init in ("gaussian", "orthogonal"):
            lams, tops, mins, devs = [], [], [], []
            for k in range(n_samp):
                g = torch.Generator().manual_seed(seed + 1000 * int(L) + k + (0 if init == "gaussian" else 500))
                prod = torch.eye(N, dtype=torch.float64)
                for _ in range(int(L)):
                    w = torch.empty(N, N, dtype=torch.float64)
                    (gaussian_ if init == "gaussian" else orthogonal_)(w, 1.0, generator=g)
                    prod = w @ prod
                sv = torch.linalg.svdvals(prod).numpy()
                lam = sv ** 2
                lams.append(lam)
                tops.append(lam.max())
                mins.append(lam.min())
                devs.append(np.abs(sv - 1.0).max())
            lam = np.concatenate(lams)
            cnt, _ = np.histogram(lam, bins=bins)          # values below lam_min are left out (count in summary)
            dens = cnt / (len(lam) * np.diff(bins))
            rows += [{"kind": "hist", "init": init, "L": int(L), "bin_lo": lo, "bin_hi": hi, "density": de,
                      "count": int(c)} for lo, hi, de, c in zip(bins[:-1], bins[1:], dens, cnt)]
            rows.append({"kind": "summary", "init": init, "L": int(L), "top_sv2": float(np.mean(tops)),
                         "top_sv2_sd": float(np.std(tops)), "min_sv2": float(np.min(mins)), "edge": edge,
                         "max_abs_sv_minus_1": float(np.max(devs)), "width": N, "samples": n_samp,
                         "frac_below_lam_min": float(np.mean(lam < bins[0]))})
        lam_t = np.geomspace(float(p["lam_min"]), edge, 400)
        dens_t, _ = jacobian_density("linear", "gaussian", int(L), None, lam_t, sigma_w2=1.0, sigma_b2=0.0)
        rows += [{"kind": "theory", "init": "gaussian", "L": int(L), "lam": x, "density": float(v), "edge": edge}
                 for x, v in zip(lam_t, dens_t)]
    df = pd.DataFrame(rows)
    df["width"] = N
    write_csv(df, output)


# -------------------------------------------------------------------------------------------- nonlinear gain
def plan_nonlinear_gain(params):
    """Deep tanh networks on MNIST: training speed versus gain g for orthogonal versus Gaussian init (SMG section 4,
    "edge of chaos": orthogonal weights with g slightly above 1 train fastest).

    One ensemble (members = gains x inits x seeds; sigma_w^2 = g^2 on every layer, biases 0), mini-batch SGD with
    one learning rate, cross-entropy. Output: the run CSV (RUN_COLUMNS + gain).
    """
    from isometry.cost import mlp_cost_s
    from isometry.pipeline import Shard
    from isometry.sweep import job_spec, make_jobs

    p = params["nonlinear_gain"]
    table = [{"run_id": f"{init}-g{g:.4g}-s{seed}", "paper": PAPER, "experiment": "nonlinear_gain", "model": "mlp",
              "nonlinearity": "tanh", "depth": int(p["depth"]), "width": int(p["width"]), "bias": True,
              "steps": int(p["steps"]), "batch_size": int(p["batch_size"]), "loss": "cross_entropy",
              "init": init, "sigma_w2": float(g) ** 2, "sigma_b2": 0.0, "lr": float(p["lr"]), "optimizer": "sgd",
              "seed": int(seed), "gain": float(g),
              "inputs": f"first {p['n_train']} training images, PCA-{p['pca_dim']} whitened"}
             for init in p["inits"] for g in p["gains"] for seed in p["seeds"]]
    data_keys = {k: p[k] for k in ("dataset", "n_train", "n_test", "pca_dim")}
    out = []
    for job in make_jobs(table, max_ensemble=int(params["max_ensemble"])):
        spec = {"job": job_spec(job), "data": data_keys, "n_log": int(p["n_log"]),
                "eval_examples": int(p["eval_examples"])}
        cost = mlp_cost_s(depth=int(p["depth"]), width=int(p["width"]), n_in=int(p["pca_dim"]), n_out=10,
                          batch=int(p["batch_size"]), steps=int(p["steps"]), members=len(job.members),
                          eval_examples=int(p["eval_examples"]), n_evals=int(p["n_log"]) + 2)
        out.append(Shard(key=f"tanh-d{p['depth']}-w{p['width']}", spec=spec, data=(p["dataset"],), cost_s=cost))
    return out


def run_gain_shard(spec, ctx):
    import torch

    from isometry.papers.saxe2014.data import pca_dataset
    from isometry.sweep import job_from_spec, run_job

    device = torch.device("cuda" if ctx.device == "auto" and torch.cuda.is_available() else
                          ("cpu" if ctx.device == "auto" else ctx.device))
    p = spec["data"]
    ds = pca_dataset(p["dataset"], ctx.data_dir, p["n_train"], p["n_test"], p["pca_dim"], whiten=True)
    job = job_from_spec(spec["job"])
    t0 = time.perf_counter()
    df = run_job(job, ds, device=device, n_log=int(spec["n_log"]), eval_examples=int(spec["eval_examples"]),
                 progress=False)
    _log(f"nonlinear_gain: {len(job.members)} members in {time.perf_counter() - t0:.1f} s")
    return df


EXPERIMENTS = (
    Theory("vector_field", vector_field, uses=("vector_field",)),
    Theory("mode_dynamics", mode_dynamics, uses=("mode_dynamics",)),
    Sweep("depth_runs", plan_depth_runs, run_depth_shard, uses=("depth_sweep",), finish=finish_depth_runs),
    Theory("learning_time_vs_depth", learning_time_vs_depth, uses=("depth_sweep",), inputs=("depth_runs",)),
    Theory("mnist_training_curves", mnist_training_curves, uses=("depth_sweep",), inputs=("depth_runs",)),
    Theory("product_spectra", product_spectra, uses=("seed", "product_spectra")),
    Sweep("nonlinear_gain", plan_nonlinear_gain, run_gain_shard, uses=("nonlinear_gain",)),
)
