"""Rows of results/saxe2014/checks.csv: the paper's claims against the values this pipeline reproduced.

Targets and tolerances were fixed from the paper's text and the issue before the pipeline's results were looked at
(see the commit messages for the exceptions). Paper values come from the paper (verified.md section 4, and the
supplementary appendices C, F read from the same source, code id 66137045399), never from our theory. Training
claims fail where nothing trained: a search or a mode that never reaches its threshold is censored ("> budget"),
never counted as a win. A missing input is a failed row. Nothing here is tuned to pass.
"""

from __future__ import annotations

import math

import numpy as np

from isometry.checks import Check, missing_input, speedup, speedup_at_least
from isometry.papers.common import read_input, write_checks
from isometry.papers.saxe2014.analysis import best_curves, best_per_depth, lr_slope

PAPER = "saxe2014"
SRC = "verified.md s4"
SLOPE_MIN_LAYERS = 10          # Supp. B: alpha_opt ~ 1/(N_l s^2) "for large N_l"


def _optional(inputs, stem):
    return read_input(inputs, stem, required=False)


def _row(rows, scale, claim, figure, source, paper_value, value, tol, passed):
    rows.append(Check(claim, PAPER, figure, paper_value, value, tol, bool(passed), scale, kind="paper",
                      source=source))


def _missing(rows, scale, stem, claims):
    for claim, figure, source, pv in claims:
        rows.append(missing_input(claim, PAPER, figure, stem, source=source, paper_value=pv, scale=scale))


def _g(x) -> str:
    return ("nan" if math.isnan(x) else "inf") if not math.isfinite(x) else f"{x:.3g}"


# --------------------------------------------------------------------------------------------------- Fig. 2
FIG2 = [("Fig. 2: one mode's gradient flow keeps a^2 - b^2 constant and ends on ab = s", "vector_field",
         f"Fig. 2, eqs. 8-9, section 1.3 ({SRC}, VERIFIED-TEXT)", "a^2 - b^2 conserved; ab -> s")]


def _fig2(df, rows, scale):
    tr = df[df.kind == "trajectory"]
    drift = float(tr.drift.max()) if len(tr) else math.nan
    s = float(df.s.iloc[0]) if len(df) else math.nan
    last = tr.sort_values("t").groupby("traj").tail(1)
    basin = last[(tr.groupby("traj").head(1).set_index("traj").eval("a + b") > 0).reindex(last.traj).to_numpy()]
    end = float(((basin.a * basin.b - s).abs() / s).max()) if len(basin) else math.nan
    _row(rows, scale, *FIG2[0][:3], FIG2[0][3], f"max drift {_g(drift)}, max |ab - s|/s at the end {_g(end)}",
         "drift < 1e-6, |ab - s|/s < 0.01", drift < 1e-6 and end < 0.01)


# --------------------------------------------------------------------------------------------------- Fig. 3
FIG3 = [
    ("Fig. 3 left: the analytic curves (eq. 12) approximate simulated linear and tanh nets (median |relative "
     "delay of half-learning| over plotted modes and inits)", "mode_dynamics",
     f"Fig. 3 left ({SRC}, VERIFIED-TEXT: 'a reasonable approximation')", "reasonable approximation"),
    ("Fig. 3 left: stronger modes are learnt first (Spearman rank correlation of mode index and mean simulated "
     "half-learning time, linear net; every plotted mode learnt to >= 0.9 s)", "mode_dynamics",
     f"Fig. 3 left, eq. 11: t ~ (tau/s) ln(s/eps) ({SRC}, VERIFIED-TEXT)", "ordered by s (rho = 1)"),
    ("Fig. 3 right: competition delays learning in the linear net (mean relative delay over plotted modes and "
     "inits, minus 2 standard errors, > 0)", "mode_dynamics",
     f"Fig. 3 right caption ({SRC}, VERIFIED-TEXT: 'Delay in learning due to competitive dynamics')", "> 0"),
    ("Fig. 3 right: the sigmoidal nonlinearity adds delay (tanh minus linear relative delay, paired by init and "
     "mode, mean - 2 SE > 0)", "mode_dynamics",
     f"Fig. 3 right caption ({SRC}, VERIFIED-TEXT: '... and sigmoidal nonlinearities')", "tanh delay > linear"),
]


def _fig3(df, rows, scale):
    h = df[(df.kind == "half") & df.plotted.astype(bool)].copy()
    h["delay"] = h.delay.astype(float)
    lin, tanh = h[h.source == "linear"], h[h.source == "tanh"]
    med = {s: float(np.median(np.abs(g.delay))) if len(g) else math.nan for s, g in (("linear", lin), ("tanh", tanh))}
    worst = max(med.values()) if all(math.isfinite(v) for v in med.values()) else math.nan
    _row(rows, scale, *FIG3[0][:3], FIG3[0][3], f"linear {_g(med['linear'])}, tanh {_g(med['tanh'])}", "<= 0.25",
         math.isfinite(worst) and worst <= 0.25)
    if len(lin):
        mt = lin.groupby("mode").t_half.mean()
        learnt = bool((lin.u_final_over_s.astype(float) >= 0.9).all()) and bool(np.isfinite(mt).all())
        from scipy.stats import spearmanr

        rho = float(spearmanr(mt.index, mt.values).correlation) if learnt and len(mt) > 2 else math.nan
    else:
        rho, learnt = math.nan, False
    _row(rows, scale, *FIG3[1][:3], FIG3[1][3], f"rho = {_g(rho)}" + ("" if learnt else " (not all modes learnt)"),
         ">= 0.9", learnt and math.isfinite(rho) and rho >= 0.9)

    def lower(v):
        v = np.asarray(v, float)
        if v.size < 2 or not np.isfinite(v).all():
            return math.nan, math.nan
        return float(v.mean()), float(v.mean() - 2 * v.std(ddof=1) / math.sqrt(v.size))

    m, lo = lower(lin.delay)
    _row(rows, scale, *FIG3[2][:3], FIG3[2][3], f"mean {_g(m)}, lower bound {_g(lo)} ({lin.seed.nunique()} inits)",
         "lower bound > 0", math.isfinite(lo) and lo > 0)
    pair = lin.set_index(["seed", "mode"]).delay.sub(tanh.set_index(["seed", "mode"]).delay).dropna()
    m, lo = lower(-pair.to_numpy()) if len(pair) else (math.nan, math.nan)
    _row(rows, scale, *FIG3[3][:3], FIG3[3][3], f"mean tanh - linear {_g(m)}, lower bound {_g(lo)}",
         "lower bound > 0", math.isfinite(lo) and lo > 0)


# --------------------------------------------------------------------------------------------------- Fig. 4
FIG4 = [
    ("Fig. 4 left: from decoupled initial conditions (u0 = 0.001) the learning time saturates with depth: "
     "t(deepest N_l) / t(N_l nearest half of it)", "depth_decoupled",
     f"Fig. 4 left and Supp. B.1 ({SRC}, VERIFIED-TEXT: 'learning times, which saturate')", "saturates (~1)"),
    ("Fig. 4 right: the optimal learning rate scales as 1/N_l (log-log slope over N_l >= 10)", "depth_decoupled",
     f"Fig. 4 right, Supp. B eq. 42 ({SRC}, VERIFIED-TEXT: 'scale like O(1/N_l)')", -1.0),
    ("Fig. 4: the optimal learning rate lies inside the paper's grid [1e-7, 1e-4] at every depth",
     "depth_decoupled", "Supp. C (VERIFIED-TEXT: 'the optimal learning rate always lay in the interior of the "
     "range for all depths')", "interior at all depths"),
]


def _fig4(df, rows, scale):
    b = best_per_depth(df)
    b = b[b.init == "decoupled"] if len(b) else b
    if len(b) >= 2:
        deep = int(b.layers.max())
        half = int(b.layers.iloc[int(np.argmin(np.abs(b.layers.to_numpy() - deep / 2)))])
        tb = b.set_index("layers")
        ok = bool(tb.loc[deep, "reached"]) and bool(tb.loc[half, "reached"]) and deep != half
        r = float(tb.loc[deep, "epochs"]) / float(tb.loc[half, "epochs"]) if ok else math.nan
        val = f"{_g(r)} (t({deep}) = {_g(float(tb.loc[deep, 'epochs']))}, t({half}) = {_g(float(tb.loc[half, 'epochs']))})"
        if not ok:
            val += " (censored: not reached)"
    else:
        r, ok, val = math.nan, False, "fewer than 2 depths"
    _row(rows, scale, *FIG4[0][:3], FIG4[0][3], val, "<= 1.25", ok and r <= 1.25)
    k, n = lr_slope(b, "decoupled", SLOPE_MIN_LAYERS) if len(b) else (math.nan, 0)
    _row(rows, scale, *FIG4[1][:3], FIG4[1][3], f"{_g(k)} ({n} depths)", "[-1.25, -0.75]",
         math.isfinite(k) and -1.25 <= k <= -0.75)
    inside = len(b) > 0 and bool(b.reached.all()) and not bool(b.edge.any())
    lo, hi = (float(b.lr_min.iloc[0]), float(b.lr_max.iloc[0])) if len(b) else (math.nan, math.nan)
    bad = b[~b.reached | b.edge] if len(b) else b
    _row(rows, scale, *FIG4[2][:3], FIG4[2][3],
         f"{len(b) - len(bad)}/{len(b)} depths interior of [{lo:.0e}, {hi:.0e}]" +
         (f"; not: N_l = {_fmt(bad.layers)}" if len(bad) else ""), "all depths", inside)


def _fmt(v) -> str:
    return ", ".join(str(int(x)) for x in v)


# --------------------------------------------------------------------------------------------------- Fig. 5
FIG5_CONS = [("Fig. 5 centre: V Sigma11 V^T is approximately diagonal on MNIST (mean |off-diagonal correlation|; "
              "baseline: random orthonormal bases)", "pretraining_consistency",
              f"Fig. 5 left/centre, eq. 18 ({SRC}, VERIFIED-TEXT: 'approximately diagonal as required')",
              "approximately diagonal")]
FIG5_CURVES = [
    ("Fig. 5 right: the pre-trained 5-layer net reaches the error threshold before the random one (Gaussian std "
     "0.01) even counting the pre-training iterations", "pretraining_curves",
     f"Fig. 5 right, section 3 ({SRC}, VERIFIED-TEXT: 'learns faster ... even accounting for pretraining time')",
     "pretrained sooner"),
    ("Fig. 5 right: fine-tuning from pre-trained weights reaches the threshold >= 2x sooner than training from "
     "random (std 0.01) weights (pre-training not counted)", "pretraining_curves",
     f"Fig. 5 right ({SRC}, VERIFIED-TEXT: 'a pretrained deep linear neural network learns faster')", ">= 2x"),
]


def _fig5_cons(df, rows, scale):
    s = df[df.kind == "summary"].set_index("which").offdiag.astype(float)
    m, r, p = (float(s.get(k, math.nan)) for k in ("modes", "random", "pixels"))
    _row(rows, scale, *FIG5_CONS[0][:3], FIG5_CONS[0][3],
         f"{_g(m)} (random bases {_g(r)}, raw pixel block {_g(p)})", "< 0.1 and < random / 3",
         math.isfinite(m) and math.isfinite(r) and m < 0.1 and m < r / 3)


def _fig5_curves(df, rows, scale):
    b = best_curves(df)
    t = {}
    for init in ("gaussian", "pretrained"):
        g = b[b.init == init] if len(b) else b
        t[init] = (float(g.epochs.iloc[0]), float(g.offset.iloc[0]), float(g.step.max())) if len(g) else \
            (math.inf, 0.0, 0.0)
    (tg, _, last_g), (tp, off, _) = t["gaussian"], t["pretrained"]
    r, rel = speedup(tp + off, tg, last_g)
    _row(rows, scale, *FIG5_CURVES[0][:3], FIG5_CURVES[0][3],
         f"random {_g(tg)} vs pre-trained {_g(tp)} + {off:.0f} pre-training = {_g(tp + off)} iterations "
         f"(ratio {rel} {_g(r)})", "ratio > 1", speedup_at_least(tp + off, tg, last_g, 1.0 + 1e-9))
    r, rel = speedup(tp, tg, last_g)
    _row(rows, scale, *FIG5_CURVES[1][:3], FIG5_CURVES[1][3], f"{rel} {_g(r)} (random {_g(tg)}, pre-trained {_g(tp)})",
         ">= 2", speedup_at_least(tp, tg, last_g, 2.0))


# -------------------------------------------------------------------------------------------------- Fig. 6A
FIG6A = [
    ("Fig. 6A: Glorot / orthogonal learning time at the deepest depth", "depth_inits",
     "Fig. 6A left (verified.md s4, VERIFIED-FIG: Glorot ~170 vs orthogonal ~2-3 epochs at depth 100)", 60.0),
    ("Fig. 6A: pre-trained / orthogonal learning time at every depth", "depth_inits",
     "Fig. 6A left (VERIFIED-TEXT: 'the red curve lies on top of the green curve')", 1.0),
    ("Fig. 6A: orthogonal init gives depth-independent learning times, t(deepest) / t(N_l = 10)", "depth_inits",
     "Fig. 6A left (VERIFIED-FIG: flat at ~2-3 epochs)", 1.0),
    ("Fig. 6A: Glorot learning time grows with depth, t(deepest) / t(N_l = 10)", "depth_inits",
     "Fig. 6A left (VERIFIED-FIG: ~15 epochs at depth 10 to ~170 at depth 100)", 11.0),
    ("Fig. 6A middle: optimal learning rate of orthogonal nets ~ 1/N_l (log-log slope over N_l >= 10)",
     "depth_inits", f"Fig. 6A middle, Fig. 4 right, Supp. B eq. 42 ({SRC}, VERIFIED-TEXT)", -1.0),
    ("Fig. 6A: orthogonal epochs to the threshold at the deepest depth (absolute)", "depth_inits",
     "Fig. 6A left (VERIFIED-FIG: ~2-3 epochs at all depths)", "2-3"),
]


def _at(b, init, layers):
    g = b[(b.init == init) & (b.layers == layers)]
    if g.empty:
        return math.inf, False
    return float(g.epochs.iloc[0]), bool(g.reached.iloc[0])


def _fig6a(df, rows, scale):
    b = best_per_depth(df)
    depths = sorted(b.layers.unique()) if len(b) else []
    deep = int(depths[-1]) if depths else -1
    ref = int(min(depths, key=lambda d: abs(d - 10))) if depths else -1
    budget = float(b.max_steps.max()) if len(b) else math.nan

    def t(init, nl):
        e, ok = _at(b, init, nl)
        return e if ok else math.inf

    to, tg = t("orthogonal", deep), t("glorot", deep)
    r, rel = speedup(to, tg, budget)
    _row(rows, scale, *FIG6A[0][:3], FIG6A[0][3], f"{rel} {_g(r)} at N_l = {deep} (Glorot {_g(tg)}, orthogonal {_g(to)})",
         ">= 10", speedup_at_least(to, tg, budget, 10.0))
    ratios = []
    for nl in depths:
        tp, tor = t("pretrained", nl), t("orthogonal", nl)
        ratios.append(tp / tor if math.isfinite(tp) and math.isfinite(tor) else math.inf)
    worst = max(ratios) if ratios else math.nan
    at = depths[int(np.argmax(ratios))] if ratios else -1
    _row(rows, scale, *FIG6A[1][:3], FIG6A[1][3], f"max {_g(worst)} (at N_l = {at}; {len(depths)} depths)", "<= 2",
         math.isfinite(worst) and worst <= 2.0)
    a, c = t("orthogonal", deep), t("orthogonal", ref)
    r = a / c if math.isfinite(a) and math.isfinite(c) and deep > ref else math.nan
    _row(rows, scale, *FIG6A[2][:3], FIG6A[2][3], f"{_g(r)} (N_l = {deep} vs {ref})" +
         ("" if deep > ref else ": no depth beyond the reference"), "<= 2", math.isfinite(r) and r <= 2.0)
    a, c = t("glorot", deep), t("glorot", ref)
    r, rel = speedup(c, a, budget)
    _row(rows, scale, *FIG6A[3][:3], FIG6A[3][3], f"{rel} {_g(r)} (N_l = {deep} vs {ref})", ">= 3",
         deep > ref and speedup_at_least(c, a, budget, 3.0))
    k, n = lr_slope(b, "orthogonal", SLOPE_MIN_LAYERS) if len(b) else (math.nan, 0)
    _row(rows, scale, *FIG6A[4][:3], FIG6A[4][3], f"{_g(k)} ({n} depths)", "[-1.25, -0.75]",
         math.isfinite(k) and -1.25 <= k <= -0.75)
    _row(rows, scale, *FIG6A[5][:3], FIG6A[5][3], f"{_g(to)} epochs (N_l = {deep})", "<= 9 (3x)",
         math.isfinite(to) and to <= 9.0)


# ------------------------------------------------------------------------------------------------ Fig. 6B/C
FIG6BC = [
    ("Fig. 6B: singular values of products of Gaussian matrices become highly kurtotic with depth (excess "
     "kurtosis increasing in the number of factors; median / max singular value at the deepest product)",
     "product_spectra", f"Fig. 6B and section 3 ({SRC}, VERIFIED-TEXT: 'develops a highly kurtotic nature as the "
     "depth increases. Most of the singular values become vanishingly small')", "kurtosis rises; median << max"),
    ("Fig. 6C: share of the eigenvalues in the origin bin, middle plot (product of 5 Gaussian matrices)",
     "product_spectra", "Fig. 6C caption (VERIFIED-TEXT: 32%); the depth 5 is INFERRED from the 32% and 94%", 0.32),
    ("Fig. 6C: share of the eigenvalues in the origin bin, right plot (product of 99 Gaussian matrices)",
     "product_spectra", "Fig. 6C caption (VERIFIED-TEXT: 94%); the depth 99 (N_l = 100) is INFERRED", 0.94),
]


def _fig6bc(df, rows, scale):
    s = df[df.kind == "summary"].sort_values("k")
    kurt = s["kurtosis"].astype(float).to_numpy()
    rising = len(kurt) >= 2 and bool(np.all(np.diff(kurt) > 0))
    deep = s.iloc[-1] if len(s) else None
    ratio = float(deep.median_sv / deep.max_sv) if deep is not None else math.nan
    _row(rows, scale, *FIG6BC[0][:3], FIG6BC[0][3],
         f"kurtosis {', '.join(_g(x) for x in kurt)} (k = {_fmt(s.k)}); median/max {_g(ratio)} (k = "
         f"{int(deep.k) if deep is not None else '-'})", "increasing; median/max < 1e-3",
         rising and math.isfinite(ratio) and ratio < 1e-3)
    for (claim, fig, src, pv), k in zip(FIG6BC[1:], (5, 99)):
        g = s[s.k == k]
        v = float(g.origin_fraction.iloc[0]) if len(g) else math.nan
        _row(rows, scale, claim, fig, src, pv, v if len(g) else f"no product of {k} matrices in the CSV",
             "+-0.03", math.isfinite(v) and abs(v - pv) <= 0.03)


def _fig6bc_theory(df, rows, scale):
    s = df[df.kind == "summary"]
    dev = (s.origin_fraction - s.origin_fraction_theory).abs()
    rows.append(Check("origin-bin share of the eigenvalues vs the radial law P(|z| < r) = r^(2/k) of Ginibre products",
                      PAPER, "product_spectra", "radial law", f"max |diff| {_g(float(dev.max()))}" if len(s) else "none",
                      "0.02", len(s) > 0 and float(dev.max()) <= 0.02, scale, kind="theory", source="-"))
    sm = s[s.k <= 5]
    rel = ((sm.top_sv2 - sm.edge).abs() / sm.edge)
    rows.append(Check("top squared singular value of Gaussian products vs the Fuss-Catalan edge (k+1)^(k+1)/k^k, k <= 5",
                      PAPER, "product_spectra", "edge", f"max rel. dev. {_g(float(rel.max()))}" if len(sm) else "none",
                      "0.10", len(sm) > 0 and float(rel.max()) < 0.10, scale, kind="theory", source="-"))


# --------------------------------------------------------------------------------------------------- Fig. 7
FIG7 = [
    ("Fig. 7: below the edge of chaos (g < 1) the Jacobian's singular values are tiny: median singular value at "
     "the smallest g / at g = 1, worst over q1", "jacobian_spectra",
     f"Fig. 7, section 4 ({SRC}, VERIFIED-TEXT: 'g < 1 ... extremely small singular values')", "<< 1"),
    ("Fig. 7: at g = 1 an O(1) fraction of the singular values stays within an O(1) range even for q1 >> 1 "
     "(share within 10x of the largest, and the largest, worst over q1)", "jacobian_spectra",
     f"Fig. 7, section 4 ({SRC}, VERIFIED-TEXT: 'approximate dynamical isometry ... even as q1 is increased far "
     "beyond 1')", "O(1) fraction"),
    ("Fig. 7: the anisotropy at g = 1.1 is mild compared with Gaussian linear nets (share within 10x of the "
     "largest singular value: g = 1.1, worst over q1, vs the product of 99 Gaussian matrices of Fig. 6B)",
     "jacobian_spectra", f"Fig. 7 bottom row vs Fig. 6B right ({SRC}, VERIFIED-TEXT: 'relatively mild')",
     "g = 1.1 > Gaussian"),
    ("Fig. 7: the spectrum is more robust to increasing g from 1 than to decreasing it (|log median ratio| at "
     "g = 1 + d vs g = 1 - d, every q1)", "jacobian_spectra",
     f"Fig. 7, section 4 ({SRC}, VERIFIED-TEXT: 'more robust to perturbations that increase g')", "increase milder"),
]


def _fig7(df, ps, rows, scale):
    s = df[df.kind == "summary"].copy()
    s["g"], s["q1"] = s.g.astype(float), s.q1.astype(float)
    qs = sorted(s.q1.unique())

    def cell(g, q):
        c = s[np.isclose(s.g, g) & np.isclose(s.q1, q)]
        return c.iloc[0] if len(c) else None

    gmin = float(s.g.min()) if len(s) else math.nan
    vals = []
    for q in qs:
        lo, one = cell(gmin, q), cell(1.0, q)
        vals.append(float(lo.median_sv / one.median_sv) if lo is not None and one is not None and gmin < 1 else math.nan)
    worst = max(vals) if vals else math.nan
    _row(rows, scale, *FIG7[0][:3], FIG7[0][3], f"{_g(worst)} (g = {gmin:g})", "<= 1e-2",
         bool(vals) and all(math.isfinite(v) for v in vals) and worst <= 1e-2)
    ones = [cell(1.0, q) for q in qs]
    if ones and all(c is not None for c in ones):
        f = min(float(c.decade_fraction) for c in ones)
        mx = min(float(c.max_sv) for c in ones)
        _row(rows, scale, *FIG7[1][:3], FIG7[1][3], f"share {_g(f)}, largest {_g(mx)} (q1 up to {max(qs):g})",
             "share >= 0.1 and largest >= 0.01", f >= 0.1 and mx >= 0.01 and max(qs) > 1)
    else:
        _row(rows, scale, *FIG7[1][:3], FIG7[1][3], "no g = 1 cells", "share >= 0.1", False)
    hi = [cell(1.1, q) for q in qs]
    ref = ps[(ps.kind == "summary") & (ps.k == 99)] if ps is not None else None
    if hi and all(c is not None for c in hi) and ref is not None and len(ref):
        f = min(float(c.decade_fraction) for c in hi)
        fr = float(ref.decade_fraction.iloc[0])
        _row(rows, scale, *FIG7[2][:3], FIG7[2][3], f"{_g(f)} vs Gaussian {_g(fr)}", "g = 1.1 larger", f > fr)
    else:
        _row(rows, scale, *FIG7[2][:3], FIG7[2][3], "missing g = 1.1 cells or product_spectra k = 99",
             "g = 1.1 larger", False)
    gs = sorted(s.g.unique())
    ds = [round(g - 1.0, 6) for g in gs if g > 1 and any(np.isclose(2 - g, x) for x in gs)]
    ok, txt = bool(ds), []
    for d in ds:
        for q in qs:
            up, dn, one = cell(1 + d, q), cell(1 - d, q), cell(1.0, q)
            if up is None or dn is None or one is None:
                ok = False
                continue
            a, b = abs(math.log(up.median_sv / one.median_sv)), abs(math.log(dn.median_sv / one.median_sv))
            ok &= a < b
            txt.append(f"{a:.2g}<{b:.2g}")
    _row(rows, scale, *FIG7[3][:3], FIG7[3][3], "; ".join(txt) if txt else "no g = 1 +- d pairs",
         "increase < decrease at every q1", ok)


# ---------------------------------------------------------------------------------------------------- all
def CHECKS(params, inputs, output):
    scale = str(params.get("scale", "quick"))
    rows: list[Check] = []
    for stem, claims, fn in (("vector_field", FIG2, _fig2), ("mode_dynamics", FIG3, _fig3),
                             ("depth_decoupled", FIG4, _fig4), ("pretraining_consistency", FIG5_CONS, _fig5_cons),
                             ("pretraining_curves", FIG5_CURVES, _fig5_curves), ("depth_inits", FIG6A, _fig6a),
                             ("product_spectra", FIG6BC, _fig6bc)):
        df = _optional(inputs, stem)
        if df is None or df.empty or "kind" not in df and stem not in ("depth_decoupled", "depth_inits"):
            _missing(rows, scale, stem, claims)
            continue
        fn(df, rows, scale)
    ps = _optional(inputs, "product_spectra")
    if ps is not None and not ps.empty and "kind" in ps:
        _fig6bc_theory(ps, rows, scale)
    js = _optional(inputs, "jacobian_spectra")
    if js is None or js.empty:
        _missing(rows, scale, "jacobian_spectra", FIG7)
    else:
        _fig7(js, ps if ps is not None and "kind" in ps else None, rows, scale)
    write_checks(rows, output)


CHECK_INPUTS = ("vector_field", "mode_dynamics", "depth_decoupled", "pretraining_consistency", "pretraining_curves",
                "depth_inits", "product_spectra", "jacobian_spectra")
