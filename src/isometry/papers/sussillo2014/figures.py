"""Figures of the sussillo2014 pipeline, each drawn from its CSV only (captions state scale, data and deviations)."""

from __future__ import annotations

import numpy as np

from isometry.papers.sussillo2014.training import final_errors
from isometry.papers.sussillo2014.walks import optimal_gain_fit, variance_law
from isometry.plotting import new_figure, save_figure
from isometry.papers.common import read_input as _read
from isometry.papers.common import scale_of as _scale

COLORS = {"linear": "C0", "relu": "C3", "tanh": "C2"}


# ----------------------------------------------------------------------------------------------------- Fig. 1
def _empty(a, text):
    a.text(0.5, 0.5, text, ha="center", va="center", transform=a.transAxes, fontsize=7, color="0.3")


def fig_random_walks(params, inputs, output):
    """SA's random-walk figure: sample walks at g* per nonlinearity; mean (unbiased at g*, drifting at the identity
    / He gains); variance versus depth k; variance at depth D versus width N (the abstract's Var ~ D/N)."""
    df = _read(inputs, "random_walks")
    nls = [n for n in ("linear", "relu", "tanh") if n in set(df.nonlinearity)]
    D = int(df["depth"].max())
    samp = df[df.stat == "sample"]
    show = int(samp.width.iloc[0]) if len(samp) else int(sorted(df.width.unique())[len(df.width.unique()) // 2])
    fig, ax = new_figure(2, 3, width=3.4, height=2.8)
    for j, nl in enumerate(("linear", "relu", "tanh")):
        a = ax[0, j]
        d = df[(df.nonlinearity == nl) & (df.gain_label == "g*") & (df.width == show)]
        if d.empty or not np.isfinite(d.value).any():
            _empty(a, f"{nl}: no finite walks in the CSV")
            a.set_title(f"{nl}")
            continue
        for _, s in d[d.stat == "sample"].groupby("walk"):
            a.plot(s.layer, s.value, color=COLORS[nl], lw=0.5, alpha=0.35)
        m = d[d.stat == "mean"].sort_values("layer")
        v = d[d.stat == "var"].sort_values("layer")
        sd = np.sqrt(v.value.to_numpy())
        a.plot(m.layer, m.value, color="k", lw=1.5, label="mean (simulation)")
        a.plot(m.layer, m.value.to_numpy() + sd, color="k", lw=0.8, label=r"$\pm$1 s.d. (simulation)")
        a.plot(m.layer, m.value.to_numpy() - sd, color="k", lw=0.8)
        if nl != "tanh":
            sd_th = np.sqrt(v.theory.to_numpy())
            a.plot(v.layer, m.theory.to_numpy() + sd_th, color="k", ls=":", lw=1.2, label=r"$\pm$1 s.d. (exact theory)")
            a.plot(v.layer, m.theory.to_numpy() - sd_th, color="k", ls=":", lw=1.2)
        a.set_title(f"{nl}, g* = {d.gain.iloc[0]:.4f}, N = {show}")
        a.set_xlabel("layers back-propagated  k")
        a.set_ylabel(r"$\ln(|\delta_{D-k}|^2 / |\delta_D|^2)$")
        a.legend(fontsize=6, loc="lower left")
    # mean: unbiased at g*, drift at the identity / He gains
    a = ax[1, 0]
    for nl in nls:
        for lab in ("g*", "identity", "He"):
            m = df[(df.nonlinearity == nl) & (df.gain_label == lab) & (df.stat == "mean") & (df.width == show)]
            m = m.sort_values("layer")
            if m.empty:
                continue
            mk = "o" if lab == "g*" else "s"
            a.plot(m.layer, m.value, color=COLORS[nl], ls="none", marker=mk, ms=2.5, markevery=max(D // 15, 1),
                   label=f"{nl}, {lab} g = {m.gain.iloc[0]:.3f}")
            if nl != "tanh":
                a.plot(m.layer, m.theory, color=COLORS[nl], ls=":", lw=1.2)
    a.axhline(0, color="0.6", lw=0.6)
    a.set_title(f"mean (N = {show}): unbiased at g* only")
    a.set_xlabel("layers back-propagated  k")
    a.set_ylabel(r"mean $\ln(|\delta_{D-k}|^2/|\delta_D|^2)$")
    if a.lines:
        a.legend(fontsize=5.5, loc="lower left")
    else:
        _empty(a, "no finite means in the CSV")
    # variance x N versus k: collapse onto c k (Var ~ D/N)
    a = ax[1, 1]
    widths = sorted(df.width.unique())
    styles = ["-", "--", "-.", ":", (0, (1, 3)), (0, (5, 1))]
    for nl in nls:
        for i, N in enumerate(widths):
            v = df[(df.nonlinearity == nl) & (df.gain_label == "g*") & (df.stat == "var") & (df.width == N)]
            v = v.sort_values("layer")
            if v.empty or not np.isfinite(v.value).any():
                continue
            a.plot(v.layer, v.value * N, color=COLORS[nl], ls=styles[i % len(styles)], lw=1,
                   label=f"N = {N}" if nl == nls[0] else None)
    a.set_title("N x variance versus depth")
    a.set_xlabel("layers back-propagated  k")
    a.set_ylabel(r"N $\cdot$ Var $\ln(|\delta_{D-k}|^2/|\delta_D|^2)$")
    if a.lines:
        a.legend(fontsize=6, title="line style (colour = nonlinearity)", title_fontsize=5.5)
    else:
        _empty(a, "no finite variances in the CSV")
    # variance at depth D versus width (log-log)
    a = ax[1, 2]
    for nl in nls:
        v = df[(df.nonlinearity == nl) & (df.gain_label == "g*") & (df.stat == "var") & (df.layer == D)]
        v = v[np.isfinite(v.value) & (v.value > 0)].sort_values("width")
        if v.empty:
            continue
        law = variance_law(df, nl)
        a.plot(v.width, v.value, color=COLORS[nl], marker="o", ms=3.5, lw=1,
               label=f"{nl}: slope {law['slope_width']:.2f}")
        if nl != "tanh":
            a.plot(v.width, v.theory, color=COLORS[nl], ls=":", lw=1.2)
        ref = v.value.iloc[0] * v.width.iloc[0] / v.width
        a.plot(v.width, ref, color="0.6", ls="--", lw=0.7)
    a.set_xscale("log")
    a.set_yscale("log")
    a.set_xticks([int(w) for w in widths], [str(int(w)) for w in widths])
    a.minorticks_off()
    a.set_title(f"Var at depth D = {D} versus width")
    a.set_xlabel("width N")
    a.set_ylabel(r"Var $\ln(|\delta_0|^2/|\delta_D|^2)$")
    if a.lines:
        a.legend(fontsize=6)
    else:
        _empty(a, "no finite variances in the CSV")
    n = int(df.n_walks.max()) if len(df) else 0
    cap = (f"Sussillo & Abbott 2014, random-walk figure (their Fig. 1 in the project's numbering; SA's figures are not "
           f"verified, verified.md sec. 3) (scale: {_scale(params)}). Random walk of the log squared norm of a random "
           f"output error back-propagated through random nets of depth D = {D} and widths N = "
           f"{', '.join(str(int(w)) for w in widths)} (Gaussian weights N(0, g^2/N), zero biases, forward pass from a "
           f"random unit-variance input; up to {n} networks per point, sampled exactly but only where the walk sees "
           "the weights). g* = the unbiased gain: exact digamma / Binomial-mixture optimum for linear / ReLU (the "
           "paper's fits exp(1/2N), sqrt2 exp(1.2/(max(N,6)-2.4)) agree to < 0.5%), the stationary mean-field value "
           "for tanh (ours; the paper has no tanh formula, so the tanh walk keeps a small drift). Top: sample walks at "
           f"N = {show} with the simulated mean and +-1 s.d. (dotted: exact theory). Bottom left: mean at g* versus "
           "the identity (g = 1, linear) and He (g = sqrt 2, ReLU) gains (dotted: theory drift k E[ln z]). Bottom "
           "middle: N x variance versus k, which collapses onto one line per nonlinearity if Var ~ k/N. Bottom right: "
           "variance at depth D versus N, log-log with the fitted slope (grey dashed: slope -1; dotted: exact theory). "
           "The tanh variance is above the stationary theory (not drawn), which ignores the forward-pass fluctuations, and "
           "its last layers (k near D) show the input transient (a unit-variance input against a small stationary "
           "variance), which the paper handles by tuning the input scaling. "
           "No data set (random networks).")
    save_figure(fig, output, cap)


# ----------------------------------------------------------------------------------------------------- Fig. 2
def fig_optimal_gain(params, inputs, output):
    df = _read(inputs, "optimal_gain")
    gs = df[df.kind == "g_star"]
    dr = df[df.kind == "drift"]
    fig, ax = new_figure(1, 2, width=3.8, height=3.0)
    a = ax[0, 0]
    for nl in ("linear", "relu", "tanh"):
        c = COLORS[nl]
        ex = gs[(gs.nonlinearity == nl) & (gs.method == "exact")].sort_values("width")
        fit = gs[(gs.nonlinearity == nl) & (gs.method == "fit")].sort_values("width")
        mc = gs[(gs.nonlinearity == nl) & (gs.method == "monte_carlo")].sort_values("width")
        st = gs[(gs.nonlinearity == nl) & (gs.method == "stationary")].sort_values("width")
        if not ex.empty:
            a.plot(ex.width, ex.g, color=c, lw=1.2, label=f"{nl} exact")
            a.plot(fit.width, fit.g, color=c, ls="--", lw=1.2, label=f"{nl} paper fit")
        if not st.empty:
            a.plot(st.width, st.g, color=c, ls="-.", lw=1.2, label=f"{nl} stationary theory")
        if not mc.empty:
            a.errorbar(mc.width, mc.g, yerr=mc.g_se, color=c, marker="o", ms=3.5, ls="none" if not ex.empty else ":",
                       capsize=2, label=f"{nl} Monte Carlo")
    a.set_xscale("log")
    a.set_xlabel("width N")
    a.set_ylabel("unbiased gain g*")
    a.set_title("g* versus width")
    if np.isfinite(gs.g).any():
        a.legend(fontsize=6, ncol=1)
    else:
        _empty(a, "no finite g* in the CSV")
    a = ax[0, 1]
    for nl in ("linear", "relu", "tanh"):
        c = COLORS[nl]
        mc = dr[(dr.nonlinearity == nl) & (dr.method == "monte_carlo")].sort_values("gain")
        ex = dr[(dr.nonlinearity == nl) & dr.method.isin(["exact", "stationary"])].sort_values("gain")
        if mc.empty:
            continue
        a.errorbar(mc.gain, mc.drift, yerr=mc.se, color=c, marker="o", ms=3, ls="none", capsize=1.5,
                   label=f"{nl} simulation")
        if not ex.empty:
            how = "exact" if nl != "tanh" else "stationary"
            a.plot(ex.gain, ex.drift, color=c, lw=1, ls="-" if nl != "tanh" else "-.", label=f"{nl} {how} E[ln z]")
        sel = gs[(gs.nonlinearity == nl) & (gs.method == "monte_carlo")]
        N = int(mc.width.iloc[0])
        row = sel[sel.width == N]
        g_mark = None
        if nl in ("linear", "relu"):
            e = gs[(gs.nonlinearity == nl) & (gs.method == "exact") & np.isfinite(gs.g)]
            g_mark = None if e.empty else float(np.interp(np.log(N), np.log(e.width.to_numpy(float)), e.g.to_numpy()))
        elif not row.empty:
            g_mark = float(row.g.iloc[0])
        if g_mark is not None and np.isfinite(g_mark):
            a.annotate("", xy=(g_mark, 0), xytext=(g_mark, 0.06), arrowprops=dict(arrowstyle="->", color=c))
    a.axhline(0, color="0.5", lw=0.6)
    finite = dr.drift[np.isfinite(dr.drift)]
    if len(finite):
        a.set_ylim(max(float(finite.min()), -0.25), min(float(finite.max()), 0.25) + 0.02)
    else:
        _empty(a, "no finite drift in the CSV")
    a.set_xlabel("gain g")
    a.set_ylabel(r"drift per layer  $\langle\ln(|\delta_0|^2/|\delta_D|^2)\rangle / D$")
    N = int(dr.width.iloc[0]) if len(dr) else 0
    D = int(df.depth.dropna().iloc[0]) if df.depth.notna().any() else 0
    a.set_title(f"walk drift versus g (N = {N}, D = {D})")
    if a.lines:
        a.legend(fontsize=6)
    cap = (f"Sussillo & Abbott 2014, Fig. 2 (scale: {_scale(params)}). Left: unbiased gain g* versus width: Monte "
           f"Carlo zero of the simulated drift (forward + backward through random depth-{D} nets, error bars = "
           "standard error), the exact optimum (digamma for linear, Binomial mixture conditioned on >= 1 active unit "
           "for ReLU) and the paper's fits exp(1/2N), sqrt2 exp(1.2/(max(N,6)-2.4)). tanh has no closed form: the paper "
           "reports Monte Carlo (a unit-variance input, so it includes the forward transient and depends on depth); "
           "dash-dotted = the stationary mean-field value (forward variance at its fixed point q*, N >= 16), an "
           "addition of ours. Right: per-layer drift versus g with exact (linear/ReLU) and stationary (tanh) "
           "curves; arrows mark g* (exact, or Monte Carlo for tanh). No data set.")
    save_figure(fig, output, cap)


# ----------------------------------------------------------------------------------------------------- Fig. 3
def _lr_label(li, lo) -> str:
    return f"$\\lambda_{{in}}$={li:g}, $\\lambda_{{out}}$={lo:g}"


def _recipe_text(df) -> str:
    """What the CSV says ran: steps, epochs, images, batch, decay, clipping (from its columns, not the config)."""
    def vals(c):
        return ", ".join(f"{v:g}" for v in sorted(df[c].dropna().unique())) if c in df else "?"
    return (f"plain SGD, {vals('steps')} steps ({vals('epochs')} epochs of the first {vals('n_train')} training "
            f"images, batch {vals('batch_size')}), lr decay {vals('lr_decay')}/epoch, per-network gradient-norm clip "
            f"{vals('grad_clip')}, zero biases, per-layer rates lambda_in (first layer of the deepest net) -> "
            "lambda_out (readout), exponential in the layer index")


def fig_mnist_gain_sweep(params, inputs, output):
    """Training error versus g per depth (SA Fig. 3): tanh and ReLU, best learning-rate pair bold."""
    raw = _read(inputs, "mnist_gain_sweep")
    df = final_errors(raw)
    depths = sorted(df.depth.unique())
    nls = [n for n in ("tanh", "relu", "linear") if n in set(df.nonlinearity)]
    fig, ax = new_figure(1, max(len(depths), 1), width=4.0, height=3.1)
    n_eval = int(raw.n_train.max()) if "n_train" in raw and raw.n_train.notna().any() else 1000
    floor = 0.5 / n_eval
    for i, D in enumerate(depths):
        a = ax[0, i]
        dd = df[df.depth == D]
        if not np.isfinite(dd.train_error).any():
            _empty(a, "every run diverged (no finite error in the CSV)")
        a.axvspan(1.1, 1.3, color=COLORS["tanh"], alpha=0.08, lw=0, label="paper: tanh g in 1.1-1.3")
        for nl in nls:
            d = dd[dd.nonlinearity == nl]
            if d.empty:
                continue
            pairs = d[["lr_in", "lr_out"]].drop_duplicates().sort_values(["lr_out", "lr_in"]).values
            for k, (li, lo) in enumerate(pairs):
                s_ = d[(d.lr_in == li) & (d.lr_out == lo)].groupby("gain").train_error.mean()
                a.plot(s_.index, s_.fillna(1.0).clip(lower=floor), color=COLORS[nl], lw=0.7, alpha=0.6,
                       ls=["--", ":", "-."][k % 3], label=f"{nl} {_lr_label(li, lo)}")
            best = d.groupby(["gain", "lr_in", "lr_out"]).train_error.mean().fillna(1.0).groupby("gain").min()
            N = int(d.width.iloc[0])
            a.plot(best.index, best.clip(lower=floor), color=COLORS[nl], lw=2, marker="o", ms=3,
                   label=f"{nl} (N = {N}), best pair")
            if nl != "tanh":
                gp = optimal_gain_fit(N, nl)
                a.axvline(gp, color=COLORS[nl], ls="--", lw=1, label=f"paper g_{nl}(N = {N}) = {gp:.3f}")
        a.set_yscale("log")
        a.set_xlabel("gain g")
        a.set_ylabel("training error (classification)")
        a.set_title(f"MNIST, depth D = {D}")
        a.legend(fontsize=5.5)
    ds = raw.dataset.iloc[0] if len(raw) else "?"
    plim = ", ".join(str(int(v)) for v in sorted(raw.param_limit.unique())) if "param_limit" in raw else "?"
    cap = (f"Sussillo & Abbott 2014, Fig. 3 (the project's numbering; SA's figures are not verified, verified.md sec. 3) "
           f"(scale: {_scale(params)}). Training classification error on {ds} versus the gain g of N(0, g^2/fan_in) "
           f"weights, for deep tanh and ReLU nets with a fixed budget of {plim} parameters (the width follows from "
           f"the depth). Recipe: {_recipe_text(raw)}. Thin lines: the (lambda_in, lambda_out) pairs; bold: the best "
           "pair at each g. Shaded: the paper's good tanh gains 1.1-1.3; dashed: the paper's g_ReLU(N) = sqrt2 "
           f"exp(1.2/(max(N,6)-2.4)). Errors below 1/(2 n) are drawn at that floor, diverged runs at 1. Deviation: a "
           "subset of MNIST and a short training budget (the paper's sizes are not known).")
    save_figure(fig, output, cap)


# ----------------------------------------------------------------------------------------------------- Fig. 4
def fig_depth_sweep(params, inputs, output):
    """Training error versus depth at the random-walk gain (SA Fig. 4): one panel per task."""
    raw = _read(inputs, "depth_sweep")
    tasks = raw[["task", "dataset"]].drop_duplicates().to_records(index=False)     # config order
    df = final_errors(raw)
    fig, ax = new_figure(1, max(len(tasks), 1), width=3.8, height=3.1)
    widths = []
    for j, (task, ds) in enumerate(tasks):
        a = ax[0, j]
        d = df[(df.task == task) & (df.dataset == ds)]
        per = d.groupby(["depth", "lr_in", "lr_out"]).train_error.mean().reset_index()
        pairs = per[["lr_in", "lr_out"]].drop_duplicates().sort_values(["lr_out", "lr_in"]).values
        for k, (li, lo) in enumerate(pairs):
            s_ = per[(per.lr_in == li) & (per.lr_out == lo)].set_index("depth").train_error
            a.plot(s_.index, s_, marker="o", ms=2.5, lw=0.8, color=f"C{k % 10}", alpha=0.8, label=_lr_label(li, lo))
        best = per.groupby("depth").train_error.min()
        if np.isfinite(best).any():
            a.plot(best.index, best, color="k", lw=2, marker="s", ms=3.5, label="best pair")
            if task != "autoencoder":
                a.axhline(float(best.iloc[0]) + 0.02, color="0.5", ls="--", lw=0.8,
                          label=f"shallowest + 0.02")
        else:
            _empty(a, "every run diverged (no finite error in the CSV)")
        a.set_xscale("log", base=2)
        a.set_xlabel("depth D (hidden layers)")
        if task == "autoencoder":
            a.set_ylabel("training reconstruction MSE")
            a.set_title(f"{ds}: auto-encoder")
        else:
            a.set_ylim(0, max(0.1, float(np.nanmax(best.values)) * 1.1) if np.isfinite(best).any() else 1)
            a.set_ylabel("training error (classification)")
            a.set_title(f"{ds}: classification")
        a.legend(fontsize=5.5)
        widths.append(f"{ds} {task}: " + ", ".join(f"D={int(D)}: {int(w)}" for D, w in
                                                     d.groupby("depth").width.first().items()))
    gains = ", ".join(f"{g:g}" for g in sorted(raw.gain.unique())) if len(raw) else "?"
    nl = ", ".join(sorted(raw.nonlinearity.dropna().unique())) if len(raw) else "?"
    plim = ", ".join(str(int(v)) for v in sorted(raw.param_limit.unique())) if "param_limit" in raw else "?"
    cap = (f"Sussillo & Abbott 2014, Fig. 4 (the project's numbering; SA's figures are not verified, verified.md sec. 3) "
           f"(scale: {_scale(params)}). Final training error versus depth for {nl} nets at g = {gains}, every depth "
           f"with the same parameter budget ({plim}; classification width, or the auto-encoder's widest layer, per "
           f"depth: {'; '.join(widths)}). The auto-encoder's tanh layers shrink linearly toward a linear code layer "
           f"(MSE on standardized pixels). Recipe: {_recipe_text(raw)}. Lines: the (lambda_in, lambda_out) pairs; "
           "black: the best pair per depth; dashed: the shallowest net's error + 0.02 (the check's margin). "
           "Deviation: TIMIT is licensed and cannot be fetched, so Fashion-MNIST (official) replaces it; a subset of "
           "the training images and a fixed step budget (the paper's are not known).")
    save_figure(fig, output, cap)


FIGURES = {
    "random_walks": fig_random_walks,
    "optimal_gain": fig_optimal_gain,
    "mnist_gain_sweep": fig_mnist_gain_sweep,
    "depth_sweep": fig_depth_sweep,
}
