"""Rows of results/pennington2017/checks.csv. ``paper`` rows compare with the paper's digitized numbers
(``reference.py``, verified.md sec. 2/7, cited in ``source``); ``theory`` rows compare our simulation with our theory.
A failed check is written as failed, with its numbers; a missing input CSV gives failed rows saying so. Targets and
tolerances come from the paper and the issue (config ``checks``), fixed before the results were looked at.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from isometry.checks import Check, missing_input, speedup, speedup_at_least
from isometry.papers.common import read_input, write_checks

from .analysis import OPTIMIZER_ORDER, OPTIMIZER_TITLE, exponents, fig4_table, optimum, speed_table
from .common import NL_LABEL, PAPER, W_LABEL
from .reference import (FIG2_SMAX, FIG4_BLUE_ORTH_PEAK, FIG4_T03, FIG4_T04, FIG5_ETA_EXPONENT, FIG5_ETA_L_OPT,
                        FIG5_TAU_EXPONENT, SRC_FIG2, SRC_FIG4, SRC_FIG4_ORDER, SRC_FIG5, fig4_value, mid)


def _fmt_t(t: float, last: float) -> str:
    return f"> {last:g} (never reached)" if not math.isfinite(t) else f"{t:.3g}"


class _Rows:
    def __init__(self, scale: str):
        self.scale, self.rows = scale, []

    def add(self, claim, figure, pv, rv, tol, ok, *, kind="theory", source=""):
        self.rows.append(Check(claim=claim, paper=PAPER, figure=figure, paper_value=pv, reproduced_value=rv,
                               tolerance=tol, passed=bool(ok), scale=self.scale, kind=kind, source=source))

    def missing(self, claim, figure, stem, *, kind="paper", source="-", pv=""):
        self.rows.append(missing_input(claim, PAPER, figure, stem, kind=kind, source=source, paper_value=pv,
                                       scale=self.scale))


# ================================================================================================ Fig. 1
def _phase_checks(R: _Rows):
    from isometry.theory import meanfield

    for sb, sw_ref in ((2.011e-5, 1.05), (0.1038, 2.00)):
        sw = float(meanfield.critical_sigma_w2("tanh", sb))
        R.add(f"tanh critical line passes sigma_w^2 = {sw_ref} at sigma_b^2 = {sb:g} (the Fig. 4 operating point "
              f"whose sigma_b^2 verified.md INFERRED from criticality)", "phase_diagram", sw_ref, round(sw, 4), 0.01,
              abs(sw - sw_ref) <= 0.01, source="verified.md sec. 2 Fig. 4, INFERRED bias variances")


# ================================================================================================ Fig. 2
def _spectra_checks(R: _Rows, sp: pd.DataFrame | None, c: dict):
    if sp is None:
        for case, vals in FIG2_SMAX.items():
            R.missing(f"PSG Fig. 2 s_max of {NL_LABEL[case[0]]} {case[1]}", "spectra", "spectra", source=SRC_FIG2)
        return
    s = sp[sp.kind == "summary"]
    # paper rows: the right edge of each of the paper's curves
    for case, vals in FIG2_SMAX.items():
        for L, v in vals.items():
            r = s[(s.nonlinearity == case[0]) & (s.weights == case[1]) & (s.depth == L)]
            claim = (f"PSG Fig. 2: largest singular value s_max of {NL_LABEL[case[0]]} + {case[1]} at L = {L} "
                     f"(our free-probability edge sqrt(lambda_edge); the paper's curve ends at ~{v:g})")
            if r.empty:
                R.add(claim, "spectra", v, "not computed (case/depth absent from spectra.csv)", "-", False,
                      kind="paper", source=SRC_FIG2)
                continue
            ours = math.sqrt(float(r.edge.iloc[0]))
            R.add(claim, "spectra", v, round(ours, 3), f"{c['fig2_edge_rtol']:g} relative",
                  abs(ours - v) / v <= c["fig2_edge_rtol"], kind="paper", source=SRC_FIG2)
    # theory rows: every computed case and depth
    for _, r in s.iterrows():
        tag = f"{NL_LABEL[r.nonlinearity]} + {r.weights}, L = {int(r.depth)}, N = {int(r.width)}, " \
              f"{int(r.samples)} network(s)"
        nan_note = (f"; {int(r.theory_nan)} of {int(r.theory_points)} theory points unsolved, masked"
                    if int(r.theory_nan) else "")
        R.add(f"spectrum: theory vs simulated histogram, L1 < {c['l1_max']} ({tag}{nan_note})", "spectra",
              f"< {c['l1_max']}", round(float(r.l1), 4), c["l1_max"], r.l1 < c["l1_max"])
        lm = float(r.get("lam_max_mean", r.lam_max))
        rel = abs(lm - r.edge) / r.edge
        R.add(f"spectral edge: theory lambda_edge = {r.edge:.4g} vs the largest simulated lambda (mean over "
              f"networks) ({tag})", "spectra", round(float(r.edge), 4), round(lm, 4), c["edge_rtol"],
              rel <= c["edge_rtol"])
        R.add(f"mean of lambda = chi^L = {r.mean_theory:.4g} at criticality ({tag})", "spectra",
              round(float(r.mean_theory), 4), round(float(r.mean_emp), 4), c["moment_rtol"],
              abs(r.mean_emp - r.mean_theory) / r.mean_theory <= c["moment_rtol"])
        if r.var_theory > 1e-12:
            relv = abs(r.var_emp - r.var_theory) / r.var_theory
            R.add(f"variance of lambda: sigma^2_JJT = L (s_W + s_D) = {r.var_theory:.4g} ({tag})", "spectra",
                  round(float(r.var_theory), 4), round(float(r.var_emp), 4), c["var_rtol"], relv <= c["var_rtol"])
        else:
            R.add(f"variance of lambda: sigma^2_JJT = 0 (exact isometry) ({tag})", "spectra", 0.0,
                  round(float(r.var_emp), 6), 1e-6, r.var_emp <= 1e-6)


# ================================================================================================ Fig. 3
def _smax_checks(R: _Rows, sm: pd.DataFrame | None, c: dict):
    if sm is None:
        R.missing("PSG Fig. 3: simulated s_max vs theory", "smax_vs_depth", "smax_vs_depth", kind="theory")
        return
    sim = sm[sm.kind == "simulation"].groupby(["weights", "q_star", "depth"])[["lam_max", "var"]].mean()
    th = sm[sm.kind == "theory"].set_index(["weights", "q_star", "depth"])
    tol = c["smax_rtol"]
    for (w, q, L), r in sim.iterrows():
        N = int(sm[sm.kind == "simulation"].width.iloc[0])
        if (w, q, L) not in th.index:
            R.add(f"s_max^2 theory missing for {w} q* = {q:g} L = {L}", "smax_vs_depth", "-", "no theory row", "-",
                  False)
            continue
        t = th.loc[(w, q, L)]
        edge, qn = float(t.lam_max), float(t.get("lam_quantile", math.nan))
        e_edge = (r.lam_max - edge) / edge
        e_q = (r.lam_max - qn) / qn if np.isfinite(qn) else math.nan
        ok = np.isfinite(e_q) and abs(e_q) <= tol
        R.add(f"largest lambda of tanh + {w}, q* = {q:g}, L = {int(L)}, N = {N}: simulation vs the finite-N theory "
              f"(lambda with N = inf tail mass 1/N: {qn:.4g}; the N = inf edge is {edge:.4g}, simulation "
              f"{e_edge:+.0%} from it)", "smax_vs_depth", round(qn, 4) if np.isfinite(qn) else "no theory here",
              round(float(r.lam_max), 4), tol, ok)


# ================================================================================================ Fig. 4
def _fig4_checks(R: _Rows, cl: pd.DataFrame | None, c: dict, configs: list[dict]):
    colour = {x["name"]: x["colour"] for x in configs}
    opts_cfg = list(OPTIMIZER_ORDER)
    if cl is None or cl.empty:
        for opt in opts_cfg:
            R.missing(f"PSG Fig. 4 ({OPTIMIZER_TITLE[opt]}): learning-speed ordering", "cifar10_learning",
                      "cifar10_learning", source=SRC_FIG4)
        return
    tab = fig4_table(cl)
    tab["colour"] = tab.config.map(colour)
    half = 10.0 ** float(c["fig4_ratio_decades"])
    for opt in [o for o in OPTIMIZER_ORDER if o in set(tab.optimizer)]:
        t = tab[tab.optimizer == opt].set_index(["colour", "init"])
        last = float(t.last_step.max())
        T = OPTIMIZER_TITLE[opt]

        def t03(k):
            return float(t.loc[k, "t_0.3"]) if k in t.index else math.inf

        bo = ("blue", "orthogonal")
        others = [k for k in t.index if k != bo]
        # 1. blue orthogonal first to 0.3 (strictly; censored = never)
        t_bo = t03(bo)
        t_oth = min((t03(k) for k in others), default=math.inf)
        ok = math.isfinite(t_bo) and t_bo < t_oth
        R.add(f"Fig. 4 ({T}): orthogonal tanh sigma_w^2 = 1.05 (blue solid) reaches test accuracy 0.3 first of the "
              f"{len(t)} curves (strictly sooner; a curve that never reaches it counts as > {last:g} steps)",
              "cifar10_learning", f"first (blue orth. ~{mid(fig4_value(FIG4_T03, opt, *bo)) or '-'} steps)",
              f"{_fmt_t(t_bo, last)} vs next {_fmt_t(t_oth, last)}", "strict", ok, kind="paper",
              source=SRC_FIG4_ORDER)
        # 2. ReLU last: both ReLU curves after both orthogonal tanh curves, which must reach 0.3
        relu = [k for k in t.index if k[0] == "black"]
        torth = [k for k in t.index if k[0] != "black" and k[1] == "orthogonal"]
        t_relu = min((t03(k) for k in relu), default=math.nan)
        t_torth = max((t03(k) for k in torth), default=math.inf)
        ok = bool(relu) and bool(torth) and math.isfinite(t_torth) and t_relu > t_torth
        R.add(f"Fig. 4 ({T}): ReLU (black) reaches 0.3 after both orthogonal tanh curves, or never within {last:g} "
              f"steps (censored); the orthogonal tanh curves must reach it", "cifar10_learning",
              "ReLU after orthogonal tanh (all four panels)",
              f"ReLU {_fmt_t(t_relu, last)} vs orth. tanh (slowest) {_fmt_t(t_torth, last)}", "strict", ok,
              kind="paper", source=SRC_FIG4_ORDER)
        # 3. blue orth vs blue Gaussian ratio of steps to 0.3 within half a decade of the paper's value
        pv_o, pv_g = fig4_value(FIG4_T03, opt, "blue", "orthogonal"), fig4_value(FIG4_T03, opt, "blue", "gaussian")
        if pv_o is not None and pv_g is not None:
            ref = mid(pv_g) / mid(pv_o)
            r, rel = speedup(t03(bo), t03(("blue", "gaussian")), last)
            ok = rel == "=" and ref / half <= r <= ref * half
            R.add(f"Fig. 4 ({T}): steps to 0.3, blue Gaussian / blue orthogonal, within {c['fig4_ratio_decades']:g} "
                  f"decade of the paper's ~{ref:.3g}x ({mid(pv_g):g} / {mid(pv_o):g} steps); censored ratios fail",
                  "cifar10_learning", round(ref, 2), f"{rel} {r:.3g}" if np.isfinite(r) else "neither reached",
                  f"x/{half:.3g} .. x{half:.3g}", ok, kind="paper", source=SRC_FIG4)
        # 3a. the same contrast, censoring-aware: blue orthogonal reaches 0.3 at least (paper ratio / half a decade)
        #     times sooner than blue Gaussian; a Gaussian run that never reaches 0.3 counts as > last step (a lower
        #     bound on the ratio), an orthogonal run that never reaches it fails the row
        if pv_o is not None and pv_g is not None:
            ref = mid(pv_g) / mid(pv_o)
            k = ref / half
            r, rel = speedup(t03(bo), t03(("blue", "gaussian")), last)
            ok = speedup_at_least(t03(bo), t03(("blue", "gaussian")), last, k)
            R.add(f"Fig. 4 ({T}): blue orthogonal reaches test accuracy 0.3 at least {k:.3g}x sooner than blue "
                  f"Gaussian (the paper's ~{ref:.3g}x less half a decade; two-sided: orthogonal must reach it, a "
                  f"Gaussian run that never does counts as > {last:g} steps, a lower bound)", "cifar10_learning",
                  round(ref, 2), f"{rel} {r:.3g}" if np.isfinite(r) else "neither reached", f">= {k:.3g}", ok,
                  kind="paper", source=SRC_FIG4)
        # 3b. the corrected 0.4 target (verified.md sec. 6a: ~6x, not >= 10x), where the paper digitized both
        pv_o4, pv_g4 = fig4_value(FIG4_T04, opt, "blue", "orthogonal"), fig4_value(FIG4_T04, opt, "blue", "gaussian")
        if pv_o4 is not None and pv_g4 is not None:
            ref = mid(pv_g4) / mid(pv_o4)
            to4 = float(t.loc[bo, "t_0.4"]) if bo in t.index else math.inf
            tg4 = float(t.loc[("blue", "gaussian"), "t_0.4"]) if ("blue", "gaussian") in t.index else math.inf
            r, rel = speedup(to4, tg4, last)
            ok = rel == "=" and ref / half <= r <= ref * half
            R.add(f"Fig. 4 ({T}): steps to 0.4, blue Gaussian / blue orthogonal, within {c['fig4_ratio_decades']:g} "
                  f"decade of the paper's ~{ref:.3g}x ({mid(pv_g4):g} / {mid(pv_o4):g} steps); censored ratios "
                  f"fail", "cifar10_learning", round(ref, 2),
                  f"{rel} {r:.3g}" if np.isfinite(r) else "neither reached", f"x/{half:.3g} .. x{half:.3g}", ok,
                  kind="paper", source=SRC_FIG4)
        # 4. blue orthogonal's best test accuracy
        best = float(t.loc[bo, "best_acc"]) if bo in t.index else math.nan
        peak = FIG4_BLUE_ORTH_PEAK.get(opt)
        R.add(f"Fig. 4 ({T}): best test accuracy of blue orthogonal >= {c['fig4_best_acc']:g} within {last:g} steps "
              f"(the paper's curve peaks at "
              f"{f'{peak[0]:g}-{peak[1]:g}' if peak else '~0.54-0.59'} after up to 10^5 steps)", "cifar10_learning",
              f">= {c['fig4_best_acc']:g}", round(best, 4) if np.isfinite(best) else "no finite accuracy",
              f">= {c['fig4_best_acc']:g}", np.isfinite(best) and best >= c["fig4_best_acc"], kind="paper",
              source=SRC_FIG4)


# ================================================================================================ Fig. 5(a)
def _fig5_checks(R: _Rows, ls: pd.DataFrame | None, c: dict, thr: float):
    claims = (f"Fig. 5(a): fitted exponent of eta* vs L", f"Fig. 5(a): fitted exponent of tau(eta*) vs L",
              f"Fig. 5(a): optimum eta* L")
    if ls is None or ls.empty:
        for cl in claims:
            R.missing(cl, "learning_speed", "learning_speed", source=SRC_FIG5)
        return
    tab = speed_table(ls, thr)
    opt = optimum(tab)
    a, b = exponents(opt)
    depths = ", ".join(str(int(d)) for d in opt.depth)
    n_int = int(opt.interior.sum())
    note = (f"depths {depths}; tau = steps to test accuracy {thr:g}; the optimum is inside the eta L grid at "
            f"{n_int} of {len(opt)} depths (all must be, else the exponent is not measured)")
    tol = float(c["fig5_exponent_tol"])
    all_int = n_int == len(opt) and len(opt) >= 2
    R.add(f"{claims[0]} = {FIG5_ETA_EXPONENT:g} +- {tol:g} ({note})", "learning_speed", FIG5_ETA_EXPONENT,
          round(a, 3) if np.isfinite(a) else "no optimum", tol,
          all_int and np.isfinite(a) and abs(a - FIG5_ETA_EXPONENT) <= tol, kind="paper", source=SRC_FIG5)
    R.add(f"{claims[1]} = {FIG5_TAU_EXPONENT:g} +- {tol:g} ({note})", "learning_speed", FIG5_TAU_EXPONENT,
          round(b, 3) if np.isfinite(b) else "no optimum", tol,
          all_int and np.isfinite(b) and abs(b - FIG5_TAU_EXPONENT) <= tol, kind="paper", source=SRC_FIG5)
    lo, hi = c["fig5_eta_l_band"]
    el = opt.eta_l_star.to_numpy(float)
    ok = all_int and np.isfinite(el).all() and bool(((el >= lo) & (el <= hi)).all())
    R.add(f"{claims[2]} in the paper's ~{FIG5_ETA_L_OPT[0]:g}-{FIG5_ETA_L_OPT[1]:g} at every depth (band widened "
          f"to {lo:g}-{hi:g} for digitization; {note})", "learning_speed",
          f"{FIG5_ETA_L_OPT[0]:g}-{FIG5_ETA_L_OPT[1]:g}",
          ", ".join(f"L={int(d)}: {x:.3g}" for d, x in zip(opt.depth, el)), f"{lo:g}-{hi:g}", ok, kind="paper",
          source=SRC_FIG5)


# ================================================================================================ entry point
def CHECKS(params, inputs, output):
    """All rows (see the module docstring)."""
    c = params["checks"]
    R = _Rows(str(params.get("scale", "quick")))
    _phase_checks(R)
    _spectra_checks(R, read_input(inputs, "spectra", required=False), c)
    _smax_checks(R, read_input(inputs, "smax_vs_depth", required=False), c)
    _fig4_checks(R, read_input(inputs, "cifar10_learning", required=False), c, params["cifar10_learning"]["configs"])
    _fig5_checks(R, read_input(inputs, "learning_speed", required=False), c,
                 float(params["analysis"]["speed_threshold"]))
    write_checks(R.rows, output)
