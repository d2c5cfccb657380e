"""Rows of results/checks.csv for the extras pipeline (claim, paper value, reproduced value, tolerance, passed).

Nothing is tuned to pass: tolerances are set from the claims, failures are written as failures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from isometry.checks import Check
from isometry.papers.common import write_checks
from isometry.papers.extras import heatmap
from isometry.papers.extras.common import maybe_read, scale
from isometry.theory.meanfield import chi_1


def _c(params, claim, paper, figure, paper_value, value, tol, passed) -> Check:
    return Check(claim=claim, paper=paper, figure=figure, paper_value=paper_value, reproduced_value=value,
                 tolerance=tol, passed=bool(passed), scale=scale(params))


def shattered_checks(params, df: pd.DataFrame) -> list[Check]:
    c = params["checks"]
    out = []
    lin = df[df.kind == "linearity"]
    err = float(lin.value.max())
    out.append(_c(params, "Looks-Linear CReLU net equals its linear map at init (max |f - (a x + c)| / max |f|, "
                  "every depth)", "Balduzzi et al. 2017", "shattered_gradients", 0.0, err,
                  c["linearity_tol"], err <= c["linearity_tol"]))
    ac = df[(df.kind == "autocorr")]
    lag = ac.lag.min()
    for bn, label in ((True, "with batch norm (as BAL)"), (False, "without batch norm")):
        d = ac[(ac.arch == "plain") & (ac.batchnorm == bn) & (ac.lag == lag)].sort_values("depth")
        if d.empty:
            continue
        rho = d.value.to_numpy()
        r_s = float(stats.spearmanr(d.depth, rho).statistic) if len(d) > 2 else float("nan")
        ratio = float(rho[-1] / rho[0])
        out.append(_c(params, f"lag-{int(lag)} gradient autocorrelation of plain ReLU nets decays with depth, "
                      f"{label}: Spearman(depth, rho) and rho(L={int(d.depth.max())})/rho(L=1)",
                      "Balduzzi et al. 2017", "shattered_gradients", "Spearman < 0, ratio < 1",
                      f"Spearman {r_s:.3f}, ratio {ratio:.3f}", f"Spearman <= {c['decay_spearman']}, ratio < 1",
                      r_s <= c["decay_spearman"] and ratio < 1.0))
    d = ac[(ac.arch == "looks_linear") & (ac.lag == lag)]
    m = float(d.value.min())
    out.append(_c(params, f"lag-{int(lag)} gradient autocorrelation of Looks-Linear nets stays near 1 at every depth "
                  "(minimum)", "Balduzzi et al. 2017", "shattered_gradients", 1.0, m, c["ll_min_autocorr"],
                  m >= c["ll_min_autocorr"]))
    d = ac[(ac.arch == "plain") & (ac.batchnorm == False) & (ac.lag == lag)]  # noqa: E712
    if not d.empty:
        dev = float((d.value - d.theory).abs().max())
        out.append(_c(params, f"mean-field lag-{int(lag)} gradient correlation of plain ReLU nets (no BN) matches "
                      "simulation (max abs deviation over depths)", "Balduzzi et al. 2017 / SGGS mean field",
                      "shattered_gradients", 0.0, dev, c["theory_autocorr_tol"], dev <= c["theory_autocorr_tol"]))
    return out


def relu_init_checks(params, df: pd.DataFrame) -> list[Check]:
    c = params["checks"]
    out = []
    lay = df[(df.kind == "layer") & (~df.readout.astype(bool))]
    tr = df[df.kind == "train"]
    for init in ("xavier", "he"):
        d = lay[lay.init == init]
        if d.empty:
            continue
        s2 = float(tr[tr.init == init].sigma_w2.iloc[0])
        hidden = d[d.layer >= 2]                           # the input layer's fan-in differs (784)
        slope = float(np.polyfit(hidden.layer, np.log(hidden.q), 1)[0])
        pred = float(np.log(chi_1("relu", s2, 0.0)))
        out.append(_c(params, f"{init} init: forward signal per layer decays as chi_1 = sigma_w^2/2 (slope of ln q^l "
                      f"per layer; sigma_w^2 = {s2:g})", "mean-field theory (SGGS; He et al. 2015)",
                      "relu_init_comparison", round(pred, 4), slope, c["signal_slope_tol"],
                      abs(slope - pred) <= c["signal_slope_tol"]))
    return out


def rnn_checks(params, df: pd.DataFrame) -> list[Check]:
    c = params["checks"]
    out = []
    h = df[df.variant == "hard"]
    if not h.empty:
        err = float(h.orth_err.max())
        out.append(_c(params, "hard-orthogonal recurrent weights stay orthogonal through training (max over logged "
                      "steps of max|W W^T/sigma_w^2 - I|)", "Vorontsov et al. 2017", "orthogonality_regularization",
                      0.0, err, c["hard_orth_tol"], err <= c["hard_orth_tol"]))
    m = df[df.variant == "margin"]
    if not m.empty:
        mm = float(m.margin.iloc[0])
        viol = float(max((m.sv_max - (1 + mm)).max(), ((1 - mm) - m.sv_min).max(), 0.0))
        out.append(_c(params, f"singular values of W/sigma_w stay inside the margin [1-m, 1+m], m = {mm:g} (largest "
                      "violation over logged steps)", "Vorontsov et al. 2017", "orthogonality_regularization", 0.0,
                      viol, c["margin_tol"], viol <= c["margin_tol"]))
    return out


def heatmap_checks(params, df: pd.DataFrame) -> list[Check]:
    c = params["checks"]
    agree = heatmap.agreement(df)
    return [_c(params, "FC tanh trainability boundary tracks L = 6 xi_c (fraction of (sigma_w^2, depth) cells where "
               "'trained' == 'L <= 6 xi_c')", "Schoenholz et al. 2017", "trainability_heatmap_fc", ">= 0.8",
               agree, c["heatmap_agreement"], agree >= c["heatmap_agreement"])]


def CHECKS(params, inputs, output):
    rows = []
    for stem, fn in (("shattered_gradients", shattered_checks), ("relu_init_comparison", relu_init_checks),
                     ("orthogonality_regularization", rnn_checks), ("trainability_heatmap_fc", heatmap_checks)):
        df = maybe_read(inputs, stem)
        if df is not None:
            rows += fn(params, df)
    write_checks(rows, output)
