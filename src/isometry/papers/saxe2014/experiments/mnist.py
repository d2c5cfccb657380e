"""Figs. 4, 5 and 6A of Saxe, McClelland & Ganguli 2014: deep linear networks trained on MNIST by batch gradient
descent through the correlation matrices (SMG eq. 13; Supp. C and F), see :mod:`..deep_linear`.

* ``depth_decoupled``          Fig. 4: decoupled initial conditions (u0 = 0.001), learning time and optimal
                               learning rate versus depth, learning rate searched per depth.
* ``depth_inits``              Fig. 6A: Glorot uniform vs greedy pre-training vs random orthogonal, same protocol.
* ``pretraining_curves``       Fig. 5 right: learning curves of a 5-layer net from small Gaussian (std 0.01) vs
                               greedy pre-trained initial conditions (the pre-trained curve delayed by the
                               pre-training iterations).
* ``pretraining_consistency``  Fig. 5 left/centre: a submatrix of the raw MNIST Sigma11 and V Sigma11 V^T.

Time is counted in iterations of batch gradient descent on all ``n_examples`` training images (= epochs). The error
threshold is the paper's 1.3e4 for 50,000 examples (Supp. C), i.e. ``threshold_per_example`` = 0.26 of the error
E = 1/2 sum_mu |y^mu - yhat^mu|^2 (the least-squares floor is 0.197 per example and the zero map 0.5).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from isometry.io import write_csv

PAPER = "saxe2014"


def _log(msg: str) -> None:
    print(f"[saxe2014] {msg}", flush=True)


def _threshold(mnist: dict) -> float:
    return float(mnist["threshold_per_example"]) * int(mnist["n_examples"])


# Iterations a learning-rate search typically runs before its first crossing (it stops there), measured at width
# 256 on MNIST (50,000 images; /work/scratch/saxe research runs): orthogonal 23-84, pre-trained ~20 (+ the greedy
# pre-training), decoupled u0 = 1e-3 49-266, Glorot 144-621 (about half of its rates diverge early and are dropped).
EXPECTED_ITERATIONS = {"orthogonal": 60, "pretrained": 40, "decoupled": 200, "glorot": 300, "gaussian": 300}


def _cost_s(members: int, width: int, weight_layers: int, steps: int, init: str = "glorot") -> float:
    """Estimated seconds on one core: every member for min(budget, EXPECTED_ITERATIONS[init]) iterations (the
    search stops at the first crossing; a search that runs to its budget ``steps`` costs more). The iterations are
    memory-bound: ~4 passes over every member's weights (float32) at ~4 GB/s (measured: Glorot N_l = 54, 585
    iterations, 20 rates of which 10 diverged: 61.5 s CPU; this model: 0.26 ms per 256 x 256 layer and member)."""
    from isometry.cost import CPU_FLOPS
    from isometry.papers.saxe2014.deep_linear import step_flops

    it = min(int(steps), EXPECTED_ITERATIONS.get(init, 300))
    mem = 4 * 4.0 * (784 * width + max(weight_layers - 2, 0) * width * width + 10 * width) / 4e9
    return members * it * max(step_flops(width, 706, 10, weight_layers) / CPU_FLOPS, mem) + 5.0


def _mem_mb(members: int, width: int, weight_layers: int) -> float:
    return 600.0 + 3 * 4.0 * members * (784 * width + weight_layers * width * width) / 2**20


def _search(corr, kind, width, weight_layers, lrs, seed, spec, stack=None):
    """One learning-rate search: ``lrs`` members on one initial network, stopped at the first crossing. Rows:
    ``kind`` = search (one per rate: ``epochs`` of its crossing as trained, inf if not reached) and curve (each
    rate's ``train_loss`` at :func:`logged_steps`; :func:`..analysis.searches` recomputes ``epochs`` from them)."""
    import torch

    from isometry.papers.saxe2014 import deep_linear as DL

    g = torch.Generator().manual_seed(int(seed) * 1_000_003 + 7919 * int(weight_layers) + 1)
    ws = DL.initial_weights(kind, corr, width, weight_layers, len(lrs), g, u0=float(spec.get("u0", 1e-3)),
                            stack=stack)
    t0 = time.perf_counter()
    res = DL.train(ws, corr, lrs, steps=int(spec["max_steps"]), threshold=float(spec["threshold"]), stop="first",
                   record=True)
    _log(f"{kind} N_l = {weight_layers + 1}: {res.steps_run} iterations, {int(res.diverged.sum())}/{len(lrs)} "
         f"diverged, {time.perf_counter() - t0:.1f} s")
    rid = [f"{kind}-L{weight_layers + 1}-s{int(seed)}-lr{e}" for e in range(len(lrs))]
    search = pd.DataFrame({
        "kind": "search", "run_id": rid, "lr": lrs, "epochs": res.t_hit, "reached": np.isfinite(res.t_hit),
        "diverged": res.diverged, "final_loss": res.final_loss})
    curves = pd.DataFrame([{"kind": "curve", "run_id": rid[e], "lr": lrs[e], "step": int(s),
                            "train_loss": float(res.curve[s, e])}
                           for e in range(len(lrs)) for s in logged_steps(res.steps_run, N_LOG, res.t_hit[e])])
    out = pd.concat([search, curves], ignore_index=True)
    for col in ("train_acc", "test_acc", "test_loss"):
        out[col] = np.nan                     # (no accuracies: the paper's measure is the training error E)
    meta = {"init": kind, "layers": weight_layers + 1, "weight_layers": weight_layers, "width": width,
            "seed": int(seed), "steps_run": res.steps_run, "max_steps": int(spec["max_steps"]),
            "threshold": float(spec["threshold"]), "loss_opt": corr.loss_opt(), "loss_zero": corr.loss_zero(),
            "dataset": corr.label, "n_examples": corr.n_examples, "lr_min": min(lrs), "lr_max": max(lrs)}
    for k, v in meta.items():
        out[k] = v
    return out


N_LOG = 40     # log-spaced points of each search member's loss curve (plus the two around its crossing)


def logged_steps(steps_run: int, n_log: int, t_hit: float = float("inf")) -> np.ndarray:
    """Iterations at which a loss curve is written: 0, ~``n_log`` log-spaced ones up to ``steps_run``, and the two
    that bracket the (interpolated) crossing ``t_hit``, so that :func:`..analysis.crossing_time` recovers it from the
    CSV exactly."""
    pts = [np.array([0, steps_run]), np.geomspace(1, max(steps_run, 1), n_log).round()]
    if np.isfinite(t_hit):
        c = int(np.ceil(t_hit))
        pts.append(np.array([c - 1, c, int(np.floor(t_hit))]))
    s = np.unique(np.concatenate(pts).astype(int))
    return s[(s >= 0) & (s <= steps_run)]


def _corr(spec, ctx):
    from isometry.papers.saxe2014.deep_linear import mnist_correlations

    return mnist_correlations(spec["dataset"], ctx.data_dir, int(spec["n_examples"]))


# --------------------------------------------------------------------------------------------------- Fig. 4
def plan_depth_decoupled(params):
    """One shard per (depth, seed): the members are the learning rates (one shared initial network)."""
    from isometry.papers.saxe2014.deep_linear import lr_grid
    from isometry.pipeline import Shard

    m, p = params["mnist"], params["depth_decoupled"]
    lrs = lr_grid(p["lrs"])
    base = {"dataset": m["dataset"], "n_examples": int(m["n_examples"]), "threshold": _threshold(m),
            "width": int(p["width"]), "u0": float(p["u0"]), "lrs": lrs, "max_steps": int(p["max_steps"])}
    out = []
    for nl in p["depths"]:
        for seed in p["seeds"]:
            spec = {**base, "layers": int(nl), "seed": int(seed),
                    "members": _members("decoupled", int(nl), int(seed), lrs)}
            out.append(Shard(key=f"decoupled-L{nl}-s{seed}", spec=spec, data=(m["dataset"],),
                             cost_s=_cost_s(len(lrs), int(p["width"]), int(nl) - 1, int(p["max_steps"]),
                                            "decoupled"),
                             mem_mb=_mem_mb(len(lrs), int(p["width"]), int(nl) - 1)))
    return out


def run_depth_decoupled(spec, ctx):
    """Decoupled initial conditions with composite mode strength u0 (SMG section 2, Fig. 4, Supp. C)."""
    corr = _corr(spec, ctx)
    return _search(corr, "decoupled", int(spec["width"]), int(spec["layers"]) - 1, spec["lrs"], spec["seed"], spec)


# -------------------------------------------------------------------------------------------------- Fig. 6A
def plan_depth_inits(params):
    """One shard per (init, depth, seed): the members are the learning rates (one shared initial network). A
    pre-trained shard trains its own greedy stack of N_l - 2 layers (the stack is drawn layer by layer from one
    generator, so a shallower net's stack is the prefix of a deeper one's, and adding a depth adds a shard without
    renaming the others). Each init has its own learning-rate grid (``lrs.<init>``), placed like the paper's range
    "selected via preliminary experiments to ensure that the optimal learning rate always lay in the interior"."""
    from isometry.papers.saxe2014.deep_linear import lr_grid
    from isometry.pipeline import Shard

    m, p = params["mnist"], params["depth_inits"]
    width, steps = int(p["width"]), int(p["max_steps"])
    out = []
    for init in p["inits"]:
        if init not in p["lrs"]:
            raise ValueError(f"config key 'saxe2014.depth_inits.lrs' has no grid for init {init!r}")
        lrs = lr_grid(p["lrs"][init])
        base = {"dataset": m["dataset"], "n_examples": int(m["n_examples"]), "threshold": _threshold(m),
                "width": width, "lrs": lrs, "max_steps": steps}
        for seed in p["seeds"]:
            for nl in p["depths"]:
                spec = {**base, "init": init, "layers": int(nl), "seed": int(seed),
                        "members": _members(init, int(nl), int(seed), lrs)}
                cost = _cost_s(len(lrs), width, int(nl) - 1, steps, init)
                if init == "pretrained":
                    spec["pretrain"] = dict(p["pretrain"])
                    cost += max(int(nl) - 2, 0) * int(p["pretrain"]["steps"]) * 5.0 * width * width * \
                        int(p["pretrain"]["rank"]) * 2 / 6e10      # measured: 28 layers (256, rank 64) in 17.6 s
                out.append(Shard(key=f"{init}-L{nl}-s{seed}", spec=spec, data=(m["dataset"],), cost_s=cost,
                                 mem_mb=_mem_mb(len(lrs), width, int(nl) - 1)))
    return out


def _members(init: str, layers: int, seed: int, lrs) -> list[dict]:
    """The members of a search shard (one per learning rate), with the ``run_id`` of their rows in the CSV."""
    return [{"run_id": f"{init}-L{layers}-s{seed}-lr{e}", "lr": lr} for e, lr in enumerate(lrs)]


def run_depth_inits(spec, ctx):
    import torch

    from isometry.papers.saxe2014.deep_linear import pretrain_stack

    corr = _corr(spec, ctx)
    width, nl = int(spec["width"]), int(spec["layers"])
    if spec["init"] != "pretrained":
        return _search(corr, spec["init"], width, nl - 1, spec["lrs"], spec["seed"], spec)
    pt = spec["pretrain"]
    g = torch.Generator().manual_seed(int(spec["seed"]) * 1_000_003 + 99)
    t0 = time.perf_counter()
    stack, errs, iters = pretrain_stack(corr, width, max(nl - 2, 0), steps=int(pt["steps"]),
                                        lr_scale=float(pt["lr_scale"]), init_std=float(pt["init_std"]),
                                        rank=int(pt["rank"]), generator=g)
    if errs:
        _log(f"pretrained {len(stack)} layers x {iters} iterations in {time.perf_counter() - t0:.1f} s; "
             f"reconstruction errors {errs[0]:.3g} (layer 1) ... {errs[-1]:.3g}")
    df = _search(corr, "pretrained", width, nl - 1, spec["lrs"], spec["seed"], spec, stack=stack)
    df["pretrain_iterations"] = iters * max(nl - 2, 0)
    df["pretrain_error_first"] = errs[0] if errs else np.nan
    df["pretrain_error_mean"] = float(np.mean(errs)) if errs else np.nan
    return df


# -------------------------------------------------------------------------------------------- Fig. 5 right
def plan_pretraining_curves(params):
    from isometry.papers.saxe2014.deep_linear import lr_grid
    from isometry.pipeline import Shard

    m, p = params["mnist"], params["pretraining"]
    lrs = lr_grid(p["lrs"])
    spec = {"dataset": m["dataset"], "n_examples": int(m["n_examples"]), "threshold": _threshold(m),
            "width": int(p["width"]), "layers": int(p["layers"]), "lrs": lrs, "steps": int(p["steps"]),
            "n_log": int(p["n_log"]), "init_std": float(p["init_std"]), "pretrain": dict(p["pretrain"]),
            "seed": int(p["seed"])}
    # the search, then the fastest rate rerun for ``steps`` iterations (one member)
    w, n, st = int(p["width"]), int(p["layers"]) - 1, int(p["steps"])
    cost = _cost_s(len(lrs), w, n, st) + (_cost_s(1, w, n, st) - 5.0) * st / EXPECTED_ITERATIONS["gaussian"]
    return [Shard(key=f"{init}-L{p['layers']}", data=(m["dataset"],), cost_s=cost,
                  spec={**spec, "init": init, "members": [{"run_id": f"{init}-lr{e}", "lr": lr}
                                                          for e, lr in enumerate(lrs)]},
                  mem_mb=_mem_mb(len(lrs), int(p["width"]), int(p["layers"]) - 1))
            for init in ("gaussian", "pretrained")]


def run_pretraining_curves(spec, ctx):
    """Learning curve of one initial network (Fig. 5 right, Supp. F): ``gaussian`` (i.i.d. N(0, init_std^2)) or
    ``pretrained`` (greedy auto-encoders, then a Haar readout). First the learning-rate search (stopped at the first
    crossing of the threshold, as in Figs. 4 and 6A), then the fastest rate is rerun for ``steps`` iterations to
    draw its curve. The pre-trained rows carry ``offset`` = the pre-training iterations (summed over the pre-trained
    layers), by which the paper's curve is delayed. Rows: ``kind`` = time (every rate: ``epochs`` of the first
    crossing, inf if not reached in the search) and curve (the fastest rate: ``train_loss`` at log-spaced iterations
    and around its crossing; the checks and the figure take its learning time from this curve)."""
    import torch

    from isometry.papers.saxe2014 import deep_linear as DL

    corr = _corr(spec, ctx)
    width, L, lrs = int(spec["width"]), int(spec["layers"]) - 1, spec["lrs"]
    g = torch.Generator().manual_seed(int(spec["seed"]) * 1_000_003 + 5)
    stack, offset, errs = None, 0, []
    if spec["init"] == "pretrained":
        pt = spec["pretrain"]
        stack, errs, iters = DL.pretrain_stack(corr, width, L - 1, steps=int(pt["steps"]),
                                               lr_scale=float(pt["lr_scale"]), init_std=float(pt["init_std"]),
                                               rank=int(pt["rank"]), generator=g)
        offset = iters * (L - 1)
    ws = DL.initial_weights(spec["init"], corr, width, L, len(lrs), g, std=float(spec["init_std"]), stack=stack)
    t0 = time.perf_counter()
    steps, thr = int(spec["steps"]), float(spec["threshold"])
    search = DL.train([w.clone() for w in ws], corr, lrs, steps=steps, threshold=thr, stop="first")
    ok = np.isfinite(search.t_hit)
    best = int(np.argmin(np.where(ok, search.t_hit, np.inf))) if ok.any() else int(np.nanargmin(
        np.where(np.isfinite(search.final_loss), search.final_loss, np.inf)))
    run = DL.train([w[best:best + 1].clone() for w in ws], corr, [lrs[best]], steps=steps, threshold=thr,
                   stop="none", record=True)
    _log(f"Fig. 5 {spec['init']}: search {search.steps_run} iterations, best lr {lrs[best]:.3g}, curve "
         f"{run.steps_run} iterations in {time.perf_counter() - t0:.1f} s")
    logged = np.union1d(np.arange(0, min(run.steps_run, 50) + 1),
                        logged_steps(run.steps_run, int(spec["n_log"]), float(run.t_hit[0])))
    rows = [{"kind": "time", "lr": lr, "epochs": float(search.t_hit[e]), "reached": bool(ok[e]),
             "diverged": bool(search.diverged[e])} for e, lr in enumerate(lrs)]
    rows += [{"kind": "curve", "run_id": f"{spec['init']}-lr{best}", "lr": lrs[best], "step": int(s),
              "train_loss": float(run.curve[s, 0])} for s in logged]
    out = pd.DataFrame(rows)
    for col in ("train_acc", "test_acc", "test_loss"):
        out[col] = np.nan                     # (no accuracies: the paper's measure is the training error E)
    out["init"], out["offset"], out["layers"], out["width"] = spec["init"], offset, L + 1, width
    out["threshold"], out["loss_opt"], out["loss_zero"] = thr, corr.loss_opt(), corr.loss_zero()
    out["dataset"], out["steps"] = corr.label, steps
    out["pretrain_error_first"] = errs[0] if errs else np.nan
    return out


# ------------------------------------------------------------------------------------ Fig. 5 left / centre
def pretraining_consistency(params, inputs, output):
    """The consistency condition of greedy pre-training (SMG eq. 18, Fig. 5 left/centre): V^T Sigma11 V (rows of V^T
    = the right singular vectors of Sigma31 with nonzero singular value) is approximately diagonal on MNIST,
    compared with a submatrix of the raw Sigma11 (``pixels``: a run of consecutive pixels of one image row) and with
    the same projection on random orthonormal bases (the trivial baseline).

    Rows: ``kind`` = matrix (which = pixels | modes, i, j, value, corr = value/sqrt(M_ii M_jj)) and summary (which =
    pixels | modes | random, offdiag = mean |corr| over i != j)."""
    import torch

    from isometry.papers.saxe2014.deep_linear import mnist_correlations

    m, p = params["mnist"], params["pretraining_consistency"]
    corr = mnist_correlations(m["dataset"], params["data_dir"], int(m["n_examples"]))
    s11 = (corr.Q * corr.lam) @ corr.Q.T
    k = int(p["modes"])
    _, s, vt = torch.linalg.svd(corr.s31, full_matrices=False)
    k = min(k, int((s > 1e-9 * s[0]).sum()))
    pix = int(p["pixels"]["row"]) * 28 + int(p["pixels"]["col"]) + np.arange(int(p["pixels"]["size"]))

    def norm_offdiag(mat):
        d = torch.sqrt(torch.clamp(torch.diagonal(mat), min=1e-300))
        c = mat / d[:, None] / d[None, :]
        off = ~torch.eye(mat.shape[0], dtype=torch.bool)
        return c, float(c[off].abs().mean()) if mat.shape[0] > 1 else float("nan")

    rows = []
    mats = {"pixels": s11[pix][:, pix], "modes": vt[:k] @ s11 @ vt[:k].T}
    summary = {}
    for which, mat in mats.items():
        c, off = norm_offdiag(mat)
        summary[which] = off
        rows += [{"kind": "matrix", "which": which, "i": i, "j": j, "value": float(mat[i, j]), "corr": float(c[i, j])}
                 for i in range(mat.shape[0]) for j in range(mat.shape[1])]
    g = torch.Generator().manual_seed(int(p["seed"]))
    rnd = []
    for _ in range(int(p["random_bases"])):
        q, _ = torch.linalg.qr(torch.randn(s11.shape[0], k, generator=g, dtype=torch.float64))
        rnd.append(norm_offdiag(q.T @ s11 @ q)[1])
    summary["random"] = float(np.mean(rnd))
    rows += [{"kind": "summary", "which": w, "offdiag": v, "size": k if w != "pixels" else len(pix)}
             for w, v in summary.items()]
    df = pd.DataFrame(rows)
    df["dataset"], df["random_bases"] = corr.label, int(p["random_bases"])
    df["pixel_row"], df["pixel_col"] = int(p["pixels"]["row"]), int(p["pixels"]["col"])
    write_csv(df, output)
