"""Rows of results/extras/checks.csv: each secondary paper's headline claim against what this run reproduced.

Every figure's headline claim is a ``paper`` row, failures included; ``paper`` = ``extras`` and ``source`` names the
source paper, figure and how sure ``shared/reference/verified.md`` (section 5) is of it. Training claims are
two-sided or censoring-aware and fail where nothing trained. Properties that hold by construction (a Looks-Linear
net equals its linear map, a Stiefel-parametrized matrix is orthogonal, singular values inside a sigmoid margin)
are unit tests (tests/test_extras.py), not rows. Thresholds come from the ``checks`` config section.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from isometry.checks import Check, balanced_accuracy, kappa, missing_input, steps_to_threshold, trivial_baseline
from isometry.papers.common import read_input, scale_of, write_checks
from isometry.papers.extras.common import PAPER, paired_difference

LN10 = math.log(10.0)
BAL = "Balduzzi et al. 2017"
SRC_BAL = "verified.md section 5 (Balduzzi et al. 2017), SECONDARY (paper note)"
SRC_HE = "He et al. 2015 Fig. 3 (30-layer ReLU net), via seed 001 and issue 19; verified.md section 5: UNVERIFIED"
SRC_SGGS = "Schoenholz et al. 2017 heat map (verified.md section 5, VERIFIED-FIG)"
SGGS_TIP = 1.75        # verified.md section 5: "its tip is at sigma_w^2 ~ 1.75" (VERIFIED-FIG)
SRC_VOR = "Vorontsov et al. 2017 MNIST cost and singular-value figures (verified.md section 5, VERIFIED-FIG)"
SRC_SEED3 = "seed 003 (EsterHlav 2019, section IV, Figs. 7-8: gain-adjusted vs single-soft, row-by-row MNIST)"
SRC_BCW = ("Bansal et al. 2018 CIFAR-10 validation curves, epochs 190-200 (verified.md section 5, VERIFIED-FIG; "
           "deep residual net per a secondary caption)")


def _row(params, figure, claim, source, paper_value, value, tol, passed, kind="paper") -> Check:
    return Check(claim=claim, paper=PAPER, figure=figure, kind=kind, source=source, paper_value=paper_value,
                 reproduced_value=value, tolerance=tol, passed=bool(passed), scale=scale_of(params))


def _missing(params, figure, claim, source, stem, paper_value="", reason="") -> Check:
    return missing_input(claim, PAPER, figure, stem, source=source, paper_value=paper_value,
                         scale=scale_of(params), reason=reason)


def _fmt(x, nd=3) -> str:
    return "nan" if x is None or not np.isfinite(x) else f"{x:.{nd}f}"


# ------------------------------------------------------------------------------------------ shattered gradients
def shattered_claims() -> list[tuple[str, str]]:
    return [("noise_1", "a 1-layer ReLU net has brown-noise gradients"),
            ("noise_ffn", "a deep feedforward ReLU net (He, batch norm) has white-noise gradients"),
            ("noise_res", "a deep resnet (batch norm) has brown-noise gradients"),
            ("decay_ffn", "feedforward gradient correlations decay exponentially, like 2^-L"),
            ("decay_res", "resnet gradient correlations decay like a power law, 1/sqrt(L)")]


def shattered_checks(params, df: pd.DataFrame | None) -> list[Check]:
    c = params["checks"]
    fig = "shattered_gradients"
    claims = dict(shattered_claims())
    if df is None or df.empty:
        return [_missing(params, fig, claims[k], SRC_BAL, "shattered_gradients") for k in claims]
    out = []
    spec = df[df.kind == "spectrum"]
    ref = {a: float(spec[spec.arch == a].value.iloc[0]) if (spec.arch == a).any() else math.nan
           for a in ("white_noise", "brown_noise")}
    cut = float(c["beta_brown_white"])
    depths = c["noise_depths"]
    for key, arch, bn, depth, want in (("noise_1", "plain", True, 1, "brown"),
                                       ("noise_ffn", "plain", True, int(depths["plain"]), "white"),
                                       ("noise_res", "resnet", True, int(depths["resnet"]), "brown")):
        s = spec[(spec.arch == arch) & (spec.batchnorm == bn) & (spec.depth == depth)]
        beta = float(s.value.iloc[0]) if len(s) else math.nan
        ok = np.isfinite(beta) and ((beta >= cut) if want == "brown" else (beta < cut))
        out.append(_row(params, fig, f"{claims[key]} (depth {depth}): spectral exponent beta of df/dx "
                        f"(P ~ f^-beta; white noise {_fmt(ref['white_noise'], 2)}, brown noise "
                        f"{_fmt(ref['brown_noise'], 2)} on the same grid)", f"BAL Fig. 1; {SRC_BAL}",
                        f"{want} noise (beta {'2' if want == 'brown' else '0'})", beta,
                        f"beta {'>=' if want == 'brown' else '<'} {cut:g}", ok))
    ac = df[(df.kind == "autocorr") & (df.lag == df[df.kind == "autocorr"].lag.min())]
    # feedforward: per-layer factor of rho(L), fitted where rho is in the decaying range
    d = ac[(ac.arch == "plain") & (ac.batchnorm == True)].sort_values("depth")   # noqa: E712
    lo, hi = (float(v) for v in c["decay_fit_range"])
    sel = d[(d.value >= lo) & (d.value <= hi)]
    factor = float(np.exp(np.polyfit(sel.depth, np.log(sel.value), 1)[0])) if len(sel) >= 2 else math.nan
    flo, fhi = (float(v) for v in c["ffn_factor_range"])
    out.append(_row(params, fig, f"{claims['decay_ffn']}: per-layer factor of the lag-1 gradient autocorrelation of "
                    f"plain ReLU nets with batch norm, fitted (log-linear) over the {len(sel)} depths where it lies in "
                    f"[{lo:g}, {hi:g}]", f"BAL Thm. 1; {SRC_BAL}", 0.5, factor, f"in [{flo:g}, {fhi:g}]",
                    np.isfinite(factor) and flo <= factor <= fhi))
    # resnet: power-law exponent over a depth range, and better than an exponential fit
    d = ac[(ac.arch == "resnet") & (ac.batchnorm == True)].sort_values("depth")   # noqa: E712
    dmin, dmax = (float(v) for v in c["resnet_fit_depths"])
    sel = d[(d.depth >= dmin) & (d.depth <= dmax) & (d.value > 0)]
    alo, ahi = (float(v) for v in c["resnet_exponent_range"])
    if len(sel) >= 3:
        x, y = np.log(sel.depth.to_numpy(float)), np.log(sel.value.to_numpy(float))
        a = -float(np.polyfit(x, y, 1)[0])
        r2_pow = float(stats.pearsonr(x, y).statistic ** 2)
        r2_exp = float(stats.pearsonr(sel.depth.to_numpy(float), y).statistic ** 2)
    else:
        a = r2_pow = r2_exp = math.nan
    out.append(_row(params, fig, f"{claims['decay_res']}: exponent a of rho ~ L^-a for the lag-1 gradient "
                    f"autocorrelation of resnets with batch norm, L in [{dmin:g}, {dmax:g}] ({len(sel)} depths); the "
                    f"power law must fit better than an exponential (R^2 {_fmt(r2_pow)} vs {_fmt(r2_exp)})",
                    f"BAL Thm. 3; {SRC_BAL}", 0.5, a, f"in [{alo:g}, {ahi:g}] and R^2 power > R^2 exp",
                    np.isfinite(a) and alo <= a <= ahi and r2_pow > r2_exp))
    d = ac[(ac.arch == "plain") & (ac.batchnorm == False) & ac.theory.notna()]  # noqa: E712
    if len(d):
        dev = float((d.value - d.theory).abs().max())
        tol = float(c["theory_autocorr_tol"])
        out.append(_row(params, fig, "mean-field lag-1 gradient correlation of plain ReLU nets without batch norm "
                        "matches the simulation (max abs deviation over depths)", "our mean-field theory (arc-cosine "
                        "kernel, gradient independence)", 0.0, dev, tol, dev <= tol, kind="theory"))
    return out


# ------------------------------------------------------------------------------------------------ ReLU inits
def _final(tr: pd.DataFrame) -> pd.DataFrame:
    return tr[tr.step == tr.groupby("run_id").step.transform("max")]


def relu_checks(params, df: pd.DataFrame | None) -> list[Check]:
    c = params["checks"]
    fig = "relu_init_comparison"
    L0 = int(c["he_xavier_depth"])
    claim_hx = (f"a {L0}-layer ReLU MLP trains with He init and stalls with Xavier init: steps until the training "
                f"loss leaves the ln 10 plateau (< {float(c['plateau_fraction']):g} ln 10)")
    others = [("orthogonal", "orthogonal x sqrt 2 (Saxe et al. 2014 at the ReLU critical point; PSG)"),
              ("random_walk", "the random-walk gain (Sussillo & Abbott 2014)"),
              ("looks_linear", "Looks-Linear CReLU (Balduzzi et al. 2017)")]
    if df is None or "group" not in df.columns or df[df.kind == "train"].empty:
        return [_missing(params, fig, claim_hx, SRC_HE, "relu_init_comparison")] + [
            _missing(params, fig, f"a {L0}-layer ReLU MLP trains with {lab}", SRC_HE, "relu_init_comparison")
            for _, lab in others]
    tr = df[(df.kind == "train") & (df.depth == L0) & (df.group == c["he_xavier_group"])]
    chance = float(c["chance"])
    acc_min = float(c["trained_acc"])
    out = []
    thr = float(c["plateau_fraction"]) * LN10
    last = float(tr.step.max()) if len(tr) else math.nan
    t = {}
    for init in ("he", "xavier"):
        d = tr[tr.init == init]
        t[init] = [steps_to_threshold(g.step, g.train_loss, thr, above=False) for _, g in d.groupby("run_id")]
    fin = _final(tr)
    he_acc = float(fin[fin.init == "he"].test_acc.fillna(chance).mean()) if (fin.init == "he").any() else math.nan
    k = float(c["he_xavier_speedup"])
    if t["he"] and t["xavier"]:
        th, tx = float(np.median(t["he"])), float(np.median(t["xavier"]))
        ratio = (tx if math.isfinite(tx) else last) / th if math.isfinite(th) else math.nan
        rel = ">=" if not math.isfinite(tx) else "="
        ok = math.isfinite(th) and math.isfinite(ratio) and ratio >= k and he_acc >= acc_min
        val = (f"median steps: He {_fmt(th, 0)}, Xavier {'> ' + _fmt(last, 0) if not math.isfinite(tx) else _fmt(tx, 0)}"
               f" (ratio {rel} {_fmt(ratio, 1)}); He final test acc {_fmt(he_acc)}")
    else:
        ok, val = False, "He or Xavier runs missing at this depth"
    out.append(_row(params, fig, claim_hx, SRC_HE, "He trains, Xavier stalls",
                    val, f"Xavier/He >= {k:g} (never = > last step) and He test acc >= {acc_min:g}", ok))
    for init, lab in others:
        d = fin[fin.init == init]
        acc = float(d.test_acc.fillna(chance).mean()) if len(d) else math.nan
        out.append(_row(params, fig, f"a {L0}-layer ReLU MLP trains with {lab}: final test accuracy (mean over "
                        f"{len(d)} seeds; diverged = chance)", SRC_HE.replace("He et al. 2015 Fig. 3", lab),
                        f">= {acc_min:g} (trains)", acc, f">= {acc_min:g}", np.isfinite(acc) and acc >= acc_min))
    return out


def looks_linear_checks(params, df: pd.DataFrame | None) -> list[Check]:
    """BAL: Looks-Linear init keeps deep plain nets trainable where He / orthogonal ReLU nets degrade."""
    c = params["checks"]
    fig = "looks_linear_depth"
    Ld = int(c["ll_depth"])
    claim = (f"Looks-Linear (CReLU) trains a {Ld}-layer plain MLP that He-initialized ReLU does not: final test "
             f"accuracy, paired by seed")
    src = f"BAL Sec. 5 (Looks-Linear init trains deep nets without skip connections); {SRC_BAL}"
    if df is None or "group" not in df.columns:
        return [_missing(params, fig, claim, src, "relu_init_comparison")]
    fin = _final(df[(df.kind == "train") & (df.depth == Ld) & (df.group == c["ll_group"])])
    chance = float(c["chance"])
    acc_min = float(c["trained_acc"])
    ll = fin[fin.init == "looks_linear"].set_index("seed").test_acc.fillna(chance)
    he = fin[fin.init == "he"].set_index("seed").test_acc.fillna(chance)
    common = ll.index.intersection(he.index)
    if not len(common):
        return [_missing(params, fig, claim, src, "relu_init_comparison", reason=f"no He / LL pair at depth {Ld}")]
    ll, he = ll.loc[common], he.loc[common]
    ok = float(ll.mean()) >= acc_min and float(he.mean()) < acc_min and bool((ll > he).all())
    return [_row(params, fig, claim, src, "LL trains, He does not",
                 f"LL {_fmt(float(ll.mean()))}, He {_fmt(float(he.mean()))} (n = {len(common)})",
                 f"LL >= {acc_min:g} > He, LL > He in every seed", ok)]


def signal_checks(params, df: pd.DataFrame | None) -> list[Check]:
    """Theory rows: the forward signal per layer at init decays as chi_1 = sigma_w^2 / 2 (Xavier, He)."""
    from isometry.theory.meanfield import chi_1

    c = params["checks"]
    if df is None or "group" not in df.columns:
        return []
    L0 = int(c["he_xavier_depth"])
    sel = (df.depth == L0) & (df.group == c["he_xavier_group"])
    lay = df[(df.kind == "layer") & sel & (df.readout.astype(str).str.lower() == "false")]
    tr = df[(df.kind == "train") & sel]
    out = []
    for init in ("xavier", "he"):
        d = lay[lay.init == init]
        if d.empty or (tr.init == init).sum() == 0:
            continue
        s2 = float(tr[tr.init == init].sigma_w2.iloc[0])
        hidden = d[d.layer >= 2]
        slope = float(np.polyfit(hidden.layer, np.log(hidden.q), 1)[0])
        pred = float(np.log(chi_1("relu", s2, 0.0)))
        tol = float(c["signal_slope_tol"])
        out.append(_row(params, "relu_init_comparison", f"{init} init: forward signal per layer decays as chi_1 = "
                        f"sigma_w^2/2 (slope of ln q^l per layer; sigma_w^2 = {s2:g})", "our mean-field theory",
                        round(pred, 4), slope, tol, abs(slope - pred) <= tol, kind="theory"))
    return out


# ------------------------------------------------------------------------------------------------ heat map
def heatmap_cells(df: pd.DataFrame, acc_min: float) -> pd.DataFrame:
    """Mean final training accuracy per (sigma_w2, depth), with xi_c and the trained flag (diverged = 0)."""
    tr = df[df.kind == "train"]
    fin = _final(tr).copy()
    fin["train_acc"] = fin["train_acc"].fillna(0.0)
    cells = fin.groupby(["sigma_w2", "depth"], as_index=False).agg(train_acc=("train_acc", "mean"),
                                                                   xi_c=("xi_c", "first"))
    cells["trained"] = cells.train_acc >= acc_min
    return cells


def heatmap_checks(params, df: pd.DataFrame | None) -> list[Check]:
    c = params["checks"]
    fig = "trainability_heatmap_fc"
    kin, kout = float(c["heatmap_inside_xi"]), float(c["heatmap_outside_xi"])
    acc_min = float(c["heatmap_trained_acc"])
    fmin = float(c["heatmap_min_fraction"])
    claim = (f"trainable iff L <~ 6 xi_c: cells well inside (L <= {kin:g} xi_c) train (final training accuracy >= "
             f"{acc_min:g}) and cells well outside (L >= {kout:g} xi_c) do not")
    claim_tip = "the trainable region's tip sits at the critical sigma_w^2 (~1.75 at sigma_b^2 = 0.05)"
    if df is None or "kind" not in df.columns or df[df.kind == "train"].empty:
        return [_missing(params, fig, claim, SRC_SGGS, "trainability_heatmap_fc"),
                _missing(params, fig, claim_tip, SRC_SGGS, "trainability_heatmap_fc")]
    cells = heatmap_cells(df, acc_min)
    inside = cells[cells.depth <= kin * cells.xi_c]
    outside = cells[cells.depth >= kout * cells.xi_c]
    f_in = float(inside.trained.mean()) if len(inside) else math.nan
    f_out = float((~outside.trained).mean()) if len(outside) else math.nan
    both = pd.concat([inside, outside])
    pred = both.depth <= kin * both.xi_c
    bal = balanced_accuracy(pred, both.trained) if len(both) else math.nan
    kap = kappa(pred, both.trained) if len(both) else math.nan
    base = trivial_baseline(both.trained) if len(both) else math.nan
    out = [_row(params, fig, claim, SRC_SGGS, "trainable region bounded by ~6 xi_c",
                f"inside trained {_fmt(f_in, 2)} of {len(inside)}; outside untrained {_fmt(f_out, 2)} of "
                f"{len(outside)}; balanced accuracy {_fmt(bal, 2)}, kappa {_fmt(kap, 2)} (trivial baseline "
                f"{_fmt(base, 2)})", f"both fractions >= {fmin:g}",
                np.isfinite(f_in) and np.isfinite(f_out) and f_in >= fmin and f_out >= fmin)]
    crit = float(df.critical_sigma_w2.dropna().iloc[0]) if "critical_sigma_w2" in df.columns else math.nan
    deepest = cells[cells.depth == cells.depth.max()]
    w = deepest.train_acc.clip(lower=0) - float(c["chance"])
    w = w.clip(lower=0)
    tip = float((deepest.sigma_w2 * w).sum() / w.sum()) if w.sum() > 0 and deepest.trained.any() else math.nan
    tol = float(c["heatmap_tip_tol"])
    out.append(_row(params, fig, f"{claim_tip}: accuracy-weighted mean sigma_w^2 (accuracy above chance) at the "
                    f"deepest depth L = {int(deepest.depth.max())}, which must have a trained cell (mean-field "
                    f"critical sigma_w^2 here: {_fmt(crit)})", SRC_SGGS, SGGS_TIP, tip, f"+- {tol:g}",
                    np.isfinite(tip) and abs(tip - SGGS_TIP) <= tol))
    return out


# ------------------------------------------------------------------------------------------------ Vorontsov
def _final_epoch(df):
    return df[df.epoch == df.epoch.max()]


def vorontsov_checks(params, df: pd.DataFrame | None) -> list[Check]:
    c = params["checks"]
    fig = "orthogonality_regularization"
    nse = float(c["n_se"])
    claims = {
        "order": "validation cost falls as the singular-value margin loosens (m = 0, 0.001, 0.01, 0.1, 1, no margin)",
        "hard": "the hard constraint m = 0 learns worse than the loose settings (m = 1, no margin)",
        "bands": "singular-value bands widen with the margin; without a margin they leave 1 +- 0.1",
        "gain": "gain-adjusted soft orthogonality outperforms the single soft penalty",
    }
    if df is None or "variant" not in df.columns:
        return [_missing(params, fig, v, SRC_SEED3 if k == "gain" else SRC_VOR, "orthogonality_regularization")
                for k, v in claims.items()]
    out = []
    m = df[df.variant == "margin"].copy()
    if m.empty:
        out += [_missing(params, fig, claims[k], SRC_VOR, "orthogonality_regularization", reason="no margin runs")
                for k in ("order", "hard", "bands")]
    else:
        fin = _final_epoch(m).copy()
        fin["cost"] = fin.test_loss.fillna(np.inf)
        per = fin.groupby("margin").cost.mean().sort_index()
        cmax = float(c["trained_cost_fraction"]) * LN10          # something must have learned: a cost below this
        learned = bool(np.isfinite(per.min()) and per.min() < cmax)
        note = "" if learned else f" [nothing learned: best cost {per.min():.3f} >= {cmax:.3f}]"
        rho = float(stats.spearmanr(per.index.to_numpy(float), per.to_numpy(float)).statistic) \
            if len(per) > 2 and per.nunique() > 1 else math.nan
        want = float(c["margin_spearman_max"])
        out.append(_row(params, fig, claims["order"] + ": Spearman correlation of the margin (no margin = inf) with "
                        "the final validation cost (mean over seeds)", SRC_VOR,
                        "m=0 0.85, 0.001 0.8, 0.01 0.55, 0.1/1/none 0.25 (Spearman ~ -0.93)",
                        f"Spearman {_fmt(rho, 2)}; costs " + ", ".join(f"{k:g}: {v:.3f}" for k, v in per.items())
                        + note, f"<= {want:g}, best cost < {cmax:.2f}", learned and np.isfinite(rho) and rho <= want))
        piv = fin.pivot_table(index="seed", columns="margin", values="cost")
        res, ok = [], True
        for loose in (1.0, math.inf):
            if 0.0 in piv.columns and loose in piv.columns:
                mu, se, n = paired_difference(piv[0.0], piv[loose])
                res.append(f"m=0 minus {'no margin' if loose == math.inf else 'm=1'}: {_fmt(mu)} +- {_fmt(se)} "
                           f"(n={n})")
                ok = ok and np.isfinite(mu) and np.isfinite(se) and mu > nse * se and mu > 0
            else:
                res.append(f"{loose:g} missing")
                ok = False
        out.append(_row(params, fig, claims["hard"] + ": final validation cost difference, paired by seed", SRC_VOR,
                        "m=0 0.85 vs 0.25 (+0.6)", "; ".join(res) + note,
                        f"difference > {nse:g} s.e. (and > 0), best cost < {cmax:.2f}", ok and learned))
        sp = fin.assign(spread=fin.sv_max - fin.sv_min).groupby("margin").spread.mean().sort_index()
        mono = bool(np.all(np.diff(sp.to_numpy(float)) >= -1e-6))
        free = float(sp.get(math.inf, math.nan))
        fmin = float(c["no_margin_spread_min"])
        out.append(_row(params, fig, claims["bands"] + ": spread s_max - s_min of W's singular values after the last "
                        "epoch (mean over seeds), non-decreasing in m, and >= the threshold without a margin", SRC_VOR,
                        "~0 (m<=0.01), 0.12 (0.1), 0.15 (1), 0.26 (no margin)",
                        ", ".join(f"{k:g}: {v:.3f}" for k, v in sp.items()) + note,
                        f"non-decreasing; no margin >= {fmin:g}; best cost < {cmax:.2f}",
                        learned and mono and np.isfinite(free) and free >= fmin))
    s = df[df.variant.isin(["single_soft", "gain_adjusted"])]
    if s.empty or s.variant.nunique() < 2:
        out.append(_missing(params, fig, claims["gain"], SRC_SEED3, "orthogonality_regularization",
                            reason="no single_soft / gain_adjusted runs"))
    else:
        fin = _final_epoch(s).copy()
        fin["acc"] = fin.test_acc.fillna(float(c["chance"]))
        piv = fin.pivot_table(index="seed", columns="variant", values="acc")
        mu, se, n = paired_difference(piv["gain_adjusted"], piv["single_soft"])
        floor = float(c["chance"]) + float(c["trained_margin"])
        ok = np.isfinite(mu) and np.isfinite(se) and mu > 0 and mu > nse * se and piv["gain_adjusted"].mean() > floor
        out.append(_row(params, fig, claims["gain"] + ": final validation accuracy, gain-adjusted minus single soft, "
                        "paired by seed", SRC_SEED3, "gain-adjusted higher",
                        f"{_fmt(mu)} +- {_fmt(se)} (n={n}; gain-adjusted {_fmt(float(piv['gain_adjusted'].mean()))}, "
                        f"single soft {_fmt(float(piv['single_soft'].mean()))})",
                        f"> {nse:g} s.e. and > 0; gain-adjusted acc > {floor:g}", ok))
    return out


# ------------------------------------------------------------------------------------------------ Bansal
def bansal_checks(params, df: pd.DataFrame | None) -> list[Check]:
    c = params["checks"]
    fig = "orthogonality_regularizers_cnn"
    nse = float(c["n_se"])
    pairs = (("SRIP", 0.934 - 0.928), ("SO", 0.932 - 0.928))
    if df is None or "regularizer" not in df.columns:
        return [_missing(params, fig, f"{k} raises CIFAR-10 test accuracy over no regularization", SRC_BCW,
                         "orthogonality_regularizers_cnn") for k, _ in pairs]
    fin = _final_epoch(df).copy()
    fin["acc"] = fin.test_acc.fillna(float(c["chance"]))
    base = fin[fin.regularizer == "none"].groupby("seed").acc.mean()
    out = []
    for kind, paper_diff in pairs:
        d = fin[fin.regularizer == kind]
        label = d.label.iloc[0] if len(d) else kind
        claim = (f"{label} raises CIFAR-10 test accuracy over no regularization (deep plain CNN): final test accuracy "
                 "difference, paired by seed")
        if d.empty or base.empty:
            out.append(_missing(params, fig, claim, SRC_BCW, "orthogonality_regularizers_cnn",
                                reason=f"no {kind} or none runs"))
            continue
        a = d.groupby("seed").acc.mean()
        common = a.index.intersection(base.index)
        mu, se, n = paired_difference(a.loc[common], base.loc[common])
        floor = float(c["chance"]) + float(c["trained_margin"])
        if not (np.isfinite(mu) and np.isfinite(se)):
            verdict = "not enough seeds"
        elif max(float(a.mean()), float(base.mean())) <= floor:
            verdict = f"nothing trained (accuracies <= {floor:g})"
        elif mu > nse * se and mu > 0:
            verdict = "higher"
        elif mu < -nse * se:
            verdict = "lower"
        else:
            verdict = "inconclusive"
        out.append(_row(params, fig, claim, SRC_BCW, f"+{paper_diff:.3f} (0.928 -> {0.928 + paper_diff:.3f})",
                        f"{_fmt(mu)} +- {_fmt(se)} (n={n}): {verdict}", f"difference > {nse:g} s.e. and > 0",
                        verdict == "higher"))
    return out


# ------------------------------------------------------------------------------------------------ all rows
def CHECKS(params, inputs, output):
    get = {s: read_input(inputs, s, required=False) for s in (
        "shattered_gradients", "relu_init_comparison", "trainability_heatmap_fc", "orthogonality_regularization",
        "orthogonality_regularizers_cnn")}
    rows = shattered_checks(params, get["shattered_gradients"])
    rows += looks_linear_checks(params, get["relu_init_comparison"])
    rows += relu_checks(params, get["relu_init_comparison"])
    rows += signal_checks(params, get["relu_init_comparison"])
    rows += heatmap_checks(params, get["trainability_heatmap_fc"])
    rows += vorontsov_checks(params, get["orthogonality_regularization"])
    rows += bansal_checks(params, get["orthogonality_regularizers_cnn"])
    write_checks(rows, output)
