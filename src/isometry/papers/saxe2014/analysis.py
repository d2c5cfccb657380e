"""Reductions shared by the saxe2014 figures and checks (pure pandas/numpy, no torch)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

def crossing_time(steps, losses, threshold: float) -> float:
    """First iteration at which a recorded loss curve reaches ``threshold``, linearly interpolated between the
    recorded point before the crossing and the first at or below it (the rule of ``deep_linear.train``); inf when
    the curve never reaches it (censored). NaN losses (diverged) never count as reached. At least 1 iteration (as
    :func:`isometry.checks.steps_to_threshold`): a curve already below the threshold at iteration 0 needed no
    training, and learning-time ratios stay finite."""
    t = np.asarray(steps, float)
    v = np.asarray(losses, float)
    order = np.argsort(t)
    t, v = t[order], v[order]
    hit = np.flatnonzero(np.isfinite(v) & (v <= threshold))
    if not hit.size:
        return math.inf
    i = int(hit[0])
    if i == 0:
        return max(float(t[0]), 1.0)
    p, q = v[i - 1], v[i]
    frac = (p - threshold) / (p - q) if np.isfinite(p) and p > q else 1.0
    return max(float(t[i - 1] + frac * (t[i] - t[i - 1])), 1.0)


def searches(runs: pd.DataFrame) -> pd.DataFrame:
    """The learning-rate search rows of a Fig. 4 / 6A CSV (``kind`` = search), with ``epochs`` and ``reached``
    recomputed from the recorded loss curves (``kind`` = curve, ``train_loss`` per ``run_id``): every learning
    time in the figures and checks comes from a loss curve, so a curve that never falls to the threshold can never
    count as learnt. CSVs without a ``kind`` column are returned unchanged."""
    if runs.empty or "kind" not in runs:
        return runs
    s = runs[runs["kind"] == "search"].copy()
    c = runs[runs["kind"] == "curve"]
    if c.empty or s.empty or "run_id" not in s:
        return s
    t = {rid: crossing_time(g["step"], g["train_loss"], float(g["threshold"].iloc[0]))
         for rid, g in c.groupby("run_id")}
    have = s["run_id"].isin(list(t))
    s.loc[have, "epochs"] = s.loc[have, "run_id"].map(t).astype(float)
    s["reached"] = np.isfinite(s["epochs"].astype(float))
    return s


BEST_COLUMNS = ["init", "layers", "epochs", "reached", "best_lr", "edge", "n_seeds", "max_steps", "lr_min", "lr_max"]


def best_per_depth(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (init, layers): the learning-rate search's result, as in Supp. C ("picking the one that yielded the
    minimum learning time"): for each seed (one network) the fastest learning rate, then the mean over seeds of its
    epochs and the geometric mean of the rates. A search where no rate reached the threshold is censored: ``epochs``
    = its ``max_steps`` (a lower bound), ``reached`` False. ``edge``: the best rate is the grid's smallest or largest
    (the optimum may lie outside the grid)."""
    runs = searches(runs)
    if runs.empty or "epochs" not in runs:
        return pd.DataFrame(columns=BEST_COLUMNS)
    rows = []
    for (init, nl), g in runs.groupby(["init", "layers"], sort=True):
        per_seed = []
        for _, s in g.groupby("seed"):
            ep = s.epochs.to_numpy(float)
            ok = np.isfinite(ep)
            if ok.any():
                i = int(np.argmin(np.where(ok, ep, np.inf)))
                lr = float(s.lr.iloc[i])
                per_seed.append((float(ep[i]), True, lr, bool(np.isclose(lr, s.lr_min.iloc[0]) or
                                                           np.isclose(lr, s.lr_max.iloc[0]))))
            else:
                per_seed.append((float(s.max_steps.iloc[0]), False, math.nan, False))
        ep, ok, lr, edge = zip(*per_seed)
        lrs = [x for x in lr if np.isfinite(x)]
        rows.append({"init": init, "layers": int(nl), "epochs": float(np.mean(ep)), "reached": bool(all(ok)),
                     "best_lr": float(np.exp(np.mean(np.log(lrs)))) if lrs else math.nan, "edge": bool(any(edge)),
                     "n_seeds": len(per_seed), "max_steps": int(g.max_steps.max()),
                     "lr_min": float(g.lr_min.iloc[0]), "lr_max": float(g.lr_max.iloc[0])})
    return pd.DataFrame(rows, columns=BEST_COLUMNS)


def lr_slope(best: pd.DataFrame, init: str, min_layers: int) -> tuple[float, int]:
    """Log-log slope of the optimal learning rate against N_l over depths >= ``min_layers`` (searches that reached
    the threshold, optimum not at the grid's edge); (NaN, n) when fewer than 3 depths qualify."""
    b = best[(best.init == init) & best.reached & ~best.edge & (best.layers >= min_layers)]
    b = b[np.isfinite(b.best_lr)]
    if len(b) < 3:
        return math.nan, len(b)
    k, _ = np.polyfit(np.log(b.layers.astype(float)), np.log(b.best_lr.astype(float)), 1)
    return float(k), len(b)


def best_curves(curves: pd.DataFrame) -> pd.DataFrame:
    """Fig. 5 right: for each init, the curve of the learning rate that reached the threshold first (or, when none
    did, the one with the lowest final loss), with ``time`` = step + offset (pre-training iterations) and ``epochs``
    = the curve's own first crossing of the threshold (:func:`crossing_time`; inf if it never crosses)."""
    out = []
    for init, g in curves.groupby("init"):
        t = g[g.kind == "time"]
        c = g[g.kind == "curve"]
        if c.empty:
            continue
        ok = t[np.isfinite(t.epochs.astype(float))]
        if len(ok):
            lr = float(ok.loc[ok.epochs.astype(float).idxmin(), "lr"])
        else:
            last = c[c.step == c.step.max()]
            col = "train_loss" if "train_loss" in last else "loss"
            fin = last[np.isfinite(last[col].astype(float))]
            lr = float(fin.loc[fin[col].astype(float).idxmin(), "lr"]) if len(fin) else float(c.lr.iloc[0])
        sel = c[np.isclose(c.lr.astype(float), lr)].sort_values("step").copy()
        if sel.empty:
            continue
        sel["time"] = sel.step + sel.offset
        loss = sel["train_loss"] if "train_loss" in sel else sel["loss"]
        sel["epochs"] = crossing_time(sel.step, loss, float(sel.threshold.iloc[0])) if "threshold" in sel else \
            math.inf
        out.append(sel)
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()
