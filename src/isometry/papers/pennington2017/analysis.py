"""Numbers read off the training CSVs, shared by the figures and the checks (so both say the same thing).

Steps-to-threshold uses ``isometry.checks.steps_to_threshold`` (interpolated in log step, ``inf`` = never reached
within the run, i.e. censored at its last logged step; diverged points never count).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from isometry.checks import steps_to_threshold

from .common import log_fit

#: PSG Fig. 4 colours (verified.md sec. 2: blue = tanh sigma_w^2 = 1.05, red = tanh 2, black = ReLU 2)
OPTIMIZER_ORDER = ("sgd", "momentum", "adam", "rmsprop")     # the paper's panel order (a)-(d)
OPTIMIZER_TITLE = {"sgd": "SGD", "momentum": "Momentum", "adam": "ADAM", "rmsprop": "RMSProp"}


def config_colour(cfg: dict) -> str:
    if cfg["nonlinearity"] == "relu":
        return "black"
    return "tab:blue" if float(cfg["sigma_w2"]) < 1.5 else "tab:red"


def mean_curve(g: pd.DataFrame, col: str = "test_acc") -> pd.Series:
    """Seed-mean of ``col`` per logged step (NaN where a seed diverged)."""
    return g.groupby("step")[col].mean().sort_index()


# ================================================================================================ Fig. 4
def fig4_table(df: pd.DataFrame, thresholds=(0.3, 0.4)) -> pd.DataFrame:
    """One row per (optimizer, config, init) of the MAIN runs: the selected lr, steps to each threshold (inf =
    censored), the best and final test accuracy, the last logged step, diverged runs."""
    main = df[df["stage"] == "main"] if "stage" in df.columns else df
    out = []
    for (opt, cfg, init), g in main.groupby(["optimizer", "config", "init"], sort=False):
        c = mean_curve(g)
        row = {"optimizer": opt, "config": cfg, "init": init, "lr": float(g.lr.iloc[0]),
               "nonlinearity": g.nonlinearity.iloc[0], "sigma_w2": float(g.sigma_w2.iloc[0]),
               "best_acc": float(np.nanmax(c.to_numpy())) if np.isfinite(c.to_numpy()).any() else math.nan,
               "final_acc": float(c.iloc[-1]), "last_step": float(g.step.max()),
               "diverged": int(g.groupby("run_id").diverged.max().sum())}
        for t in thresholds:
            row[f"t_{t:g}"] = steps_to_threshold(c.index, c.to_numpy(), float(t))
        out.append(row)
    return pd.DataFrame(out)


# ================================================================================================ Fig. 5(a)
def speed_table(df: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """One row per (depth, eta L): tau = steps to test accuracy ``threshold`` of the seed-mean curve (inf =
    censored or diverged), whether any seed diverged, the last step."""
    out = []
    for (L, eL), g in df.groupby(["depth", "eta_l"]):
        c = mean_curve(g)
        div = bool(g.diverged.any())
        tau = steps_to_threshold(c.index, c.to_numpy(), float(threshold))
        out.append({"depth": int(L), "eta_l": float(eL), "lr": float(g.lr.iloc[0]), "tau": tau, "diverged": div,
                    "last_step": float(g.step.max()), "best_acc": float(np.nanmax(c.to_numpy()))
                    if np.isfinite(c.to_numpy()).any() else math.nan})
    return pd.DataFrame(out).sort_values(["depth", "eta_l"]).reset_index(drop=True)


def optimum(tab: pd.DataFrame) -> pd.DataFrame:
    """Per depth, the optimal eta L: the grid point with the smallest tau, refined by the vertex of the parabola
    through it and its two neighbours in (log eta L, log tau) when both neighbours reached the threshold and the
    vertex lies between them. ``interior`` = the grid minimum is not at an end of the grid (else eta* is only
    bounded). tau* = the smallest tau on the grid (not the parabola's value). NaN when nothing reached."""
    out = []
    for L, g in tab.groupby("depth"):
        g = g.sort_values("eta_l").reset_index(drop=True)
        tau = g.tau.to_numpy(float)
        if not np.isfinite(tau).any():
            out.append({"depth": int(L), "eta_l_star": math.nan, "eta_star": math.nan, "tau_star": math.inf,
                        "interior": False, "refined": False})
            continue
        i = int(np.argmin(tau))
        x = np.log(g.eta_l.to_numpy(float))
        xs, refined = x[i], False
        if 0 < i < len(g) - 1 and np.isfinite(tau[i - 1]) and np.isfinite(tau[i + 1]):
            y = np.log(tau[i - 1:i + 2])
            a, b, _ = np.polyfit(x[i - 1:i + 2], y, 2)
            if a > 0:
                v = -b / (2 * a)
                if x[i - 1] <= v <= x[i + 1]:
                    xs, refined = v, True
        out.append({"depth": int(L), "eta_l_star": float(np.exp(xs)), "eta_star": float(np.exp(xs)) / int(L),
                    "tau_star": float(tau[i]), "interior": bool(0 < i < len(g) - 1), "refined": refined})
    return pd.DataFrame(out)


def exponents(opt: pd.DataFrame) -> tuple[float, float]:
    """Fitted exponents (eta* ~ L^a, tau* ~ L^b) over the depths with a finite optimum."""
    ok = np.isfinite(opt.tau_star) & np.isfinite(opt.eta_star)
    a, _ = log_fit(opt.depth[ok], opt.eta_star[ok])
    b, _ = log_fit(opt.depth[ok], opt.tau_star[ok])
    return a, b
