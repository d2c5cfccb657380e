"""Figures of the sussillo2014 pipeline, each drawn from its CSV only (captions state scale, data and deviations)."""

from __future__ import annotations

import numpy as np

from isometry.papers.sussillo2014.training import final_errors
from isometry.plotting import new_figure, save_figure
from isometry.papers.common import read_input as _read
from isometry.papers.common import scale_of as _scale

COLORS = {"linear": "C0", "relu": "C3", "tanh": "C2"}


# ----------------------------------------------------------------------------------------------------- Fig. 1
def fig_random_walks(params, inputs, output):
    df = _read(inputs, "random_walks")
    N, D = int(df["width"].iloc[0]), int(df["depth"].iloc[0])
    fig, ax = new_figure(1, 4, width=3.3, height=2.9)
    for j, nl in enumerate(("linear", "relu")):
        a = ax[0, j]
        d = df[(df.nonlinearity == nl) & (df.gain_label == "g*")]
        for _, s in d[d.stat == "sample"].groupby("walk"):
            a.plot(s.layer, s.value, color=COLORS[nl], lw=0.5, alpha=0.35)
        m = d[d.stat == "mean"].sort_values("layer")
        v = d[d.stat == "var"].sort_values("layer")
        a.plot(m.layer, m.value, color="k", lw=1.5, label="mean (simulation)")
        a.plot(m.layer, m.theory, color="k", ls=":", lw=1.2, label="mean (theory)")
        sd_th = np.sqrt(v.theory.to_numpy())
        a.plot(v.layer, m.theory.to_numpy() + sd_th, color="k", ls="--", lw=1, label=r"$\pm$1 s.d. (theory)")
        a.plot(v.layer, m.theory.to_numpy() - sd_th, color="k", ls="--", lw=1)
        g = d.gain.iloc[0]
        a.set_title(f"{nl}, g* = {g:.4f}, N = {N}")
        a.set_xlabel("layers back-propagated  D - d")
        a.set_ylabel(r"$\ln(|\delta_d|^2 / |\delta_D|^2)$")
        a.legend(fontsize=6, loc="lower left")
    a = ax[0, 2]
    for nl in ("linear", "relu"):
        v = df[(df.nonlinearity == nl) & (df.gain_label == "g*") & (df.stat == "var")].sort_values("layer")
        n = int(v.n_walks.iloc[0])
        a.plot(v.layer, v.value, color=COLORS[nl], label=f"{nl} simulation ({n} nets)")
        a.plot(v.layer, v.theory, color=COLORS[nl], ls=":", lw=1.5, label=f"{nl} exact k Var[ln z]")
        a.plot(v.layer, (2.0 if nl == "linear" else 5.0) * v.layer / N, color=COLORS[nl], ls="--", lw=0.8,
               label=f"{'2' if nl == 'linear' else '5'} k / N")
    a.set_title("variance grows like depth / width")
    a.set_xlabel("layers back-propagated  k")
    a.set_ylabel(r"Var $\ln(|\delta_{D-k}|^2/|\delta_D|^2)$")
    a.legend(fontsize=6)
    a = ax[0, 3]
    for nl in ("linear", "relu"):
        for lab, ls in (("g*", "-"), ("identity", "-"), ("He", "-")):
            m = df[(df.nonlinearity == nl) & (df.gain_label == lab) & (df.stat == "mean")].sort_values("layer")
            if m.empty:
                continue
            g = m.gain.iloc[0]
            mk = "o" if lab == "g*" else "s"
            a.plot(m.layer, m.value, color=COLORS[nl], ls="none", marker=mk, ms=2.5, markevery=max(D // 15, 1),
                   label=f"{nl}, {lab} g = {g:.3f}")
            a.plot(m.layer, m.theory, color=COLORS[nl], ls=":", lw=1.2)
    a.axhline(0, color="0.6", lw=0.6)
    a.set_title("mean: unbiased at g*, drift otherwise")
    a.set_xlabel("layers back-propagated  k")
    a.set_ylabel(r"mean $\ln(|\delta_{D-k}|^2/|\delta_D|^2)$")
    a.legend(fontsize=6, loc="lower left")
    n = int(df.n_walks.max())
    cap = (f"Sussillo & Abbott 2014, Fig. 1 (scale: {_scale(params)}). Random walk of the log squared norm of a random "
           f"output error back-propagated through random nets (N = {N}, D = {D}, Gaussian weights N(0, g^2/N), zero "
           f"biases, forward pass from a random input); {n} networks. Panels 1-2: sample walks at the exact unbiased "
           "gain g* (digamma / Binomial-mixture optimum), mean and +-1 s.d. band of the exact random-walk theory "
           "(dotted/dashed). Panel 3: variance versus depth (exact k Var[ln z] dotted; 2k/N and 5k/N dashed). "
           "Panel 4: mean at g* versus the biased identity (g = 1, linear) and He (g = sqrt 2, ReLU) gains, with "
           "the theory drift k E[ln z] dotted. No data set (random networks).")
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
    a.legend(fontsize=6, ncol=1)
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
            e = gs[(gs.nonlinearity == nl) & (gs.method == "exact")]
            g_mark = float(np.interp(np.log(N), np.log(e.width.to_numpy(float)), e.g.to_numpy()))
        elif not row.empty:
            g_mark = float(row.g.iloc[0])
        if g_mark is not None and np.isfinite(g_mark):
            a.annotate("", xy=(g_mark, 0), xytext=(g_mark, 0.06), arrowprops=dict(arrowstyle="->", color=c))
    a.axhline(0, color="0.5", lw=0.6)
    lo = np.nanmin(dr.drift)
    a.set_ylim(max(lo, -0.25), min(np.nanmax(dr.drift), 0.25) + 0.02)
    a.set_xlabel("gain g")
    a.set_ylabel(r"drift per layer  $\langle\ln(|\delta_0|^2/|\delta_D|^2)\rangle / D$")
    N = int(dr.width.iloc[0])
    D = int(dr.depth.dropna().iloc[0])
    a.set_title(f"walk drift versus g (N = {N}, D = {D})")
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
def _lr_label(r) -> str:
    return f"$\\lambda_{{in}}$={r.lr_in:g}, $\\lambda_{{out}}$={r.lr_out:g}"


def fig_mnist_gain_sweep(params, inputs, output):
    df = final_errors(_read(inputs, "mnist_gain_sweep"))
    nls = [n for n in ("tanh", "relu") if n in set(df.nonlinearity)]
    depths = sorted(df.depth.unique())
    fig, ax = new_figure(len(depths), len(nls), width=3.9, height=3.0)
    combos = df[["lr_in", "lr_out"]].drop_duplicates().sort_values(["lr_out", "lr_in"]).reset_index(drop=True)
    n_eval = params.get("recipe", {}).get("eval_examples") or params.get("recipe", {}).get("n_train", 1)
    floor = 0.5 / max(int(n_eval), 1)
    for i, D in enumerate(depths):
        for j, nl in enumerate(nls):
            a = ax[i, j]
            d = df[(df.depth == D) & (df.nonlinearity == nl)]
            if d.empty:
                a.set_visible(False)
                continue
            for k, r in combos.iterrows():
                s = d[(d.lr_in == r.lr_in) & (d.lr_out == r.lr_out)].groupby("gain").train_error.mean()
                a.plot(s.index, s.clip(lower=floor).fillna(1.0), marker="o", ms=2.5, lw=0.8, color=f"C{k % 10}",
                       alpha=0.8, label=_lr_label(r))
            best = d.groupby(["gain", "lr_in", "lr_out"]).train_error.mean().groupby("gain").min()
            a.plot(best.index, best.clip(lower=floor).fillna(1.0), color="k", lw=2, label="best over learning rates")
            g_star = float(d.g_star.iloc[0])
            a.axvline(g_star, color="k", ls="--", lw=1, label=f"predicted g* = {g_star:.3f} ({d.g_star_method.iloc[0]})")
            gb = float(best.idxmin())
            a.plot([gb], [max(best.min(), floor)], marker="*", ms=10, color="gold", mec="k", ls="none",
                   label=f"best g = {gb:.3f}")
            a.set_yscale("log")
            a.set_xlabel("gain g")
            a.set_ylabel("training error (classification)")
            a.set_title(f"{nl}, D = {D}, N = {int(d.width.iloc[0])}")
            a.legend(fontsize=5.5)
    r = params.get("recipe", {})
    p = params.get("gain_sweep", {})
    ds = df.dataset.iloc[0]
    cap = (f"Sussillo & Abbott 2014, Fig. 3 (scale: {_scale(params)}). Training classification error on {ds} "
           f"(first {r.get('n_train')} training images) after {r.get('epochs')} epochs of plain SGD (batch "
           f"{r.get('batch_size')}, lr decay {r.get('lr_decay')}/epoch, gradient clipping {r.get('grad_clip')}, zero "
           f"biases, depth-dependent exponential learning-rate schedule lambda_in -> lambda_out) versus the gain g of "
           f"N(0, g^2/N) weights, for deep tanh and ReLU nets with a fixed budget of {p.get('param_limit')} parameters "
           "(width from the budget). Thin lines: learning-rate pairs (mean over seeds); black: best pair; dashed: g* "
           "predicted by the random-walk theory at that width (exact for ReLU, Monte Carlo at that depth for tanh). "
           "Deviation: smaller budget, subset of MNIST and fewer epochs than the paper at quick scale; errors below "
           "1/(2 n) are drawn at that floor, diverged runs at 1.")
    save_figure(fig, output, cap)


# ----------------------------------------------------------------------------------------------------- Fig. 4
def fig_depth_sweep(params, inputs, output):
    raw = _read(inputs, "depth_sweep")
    tasks = raw[["task", "dataset"]].drop_duplicates().to_records(index=False)     # config order
    df = final_errors(raw)
    fig, ax = new_figure(1, len(tasks), width=3.8, height=3.0)
    combos = df[["lr_in", "lr_out"]].drop_duplicates().sort_values(["lr_out", "lr_in"]).reset_index(drop=True)
    for j, (task, ds) in enumerate(tasks):
        a = ax[0, j]
        d = df[(df.task == task) & (df.dataset == ds)]
        per = d.groupby(["depth", "lr_in", "lr_out"]).train_error.mean().reset_index()
        for k, r in combos.iterrows():
            s = per[(per.lr_in == r.lr_in) & (per.lr_out == r.lr_out)].set_index("depth").train_error
            if s.empty:
                continue
            a.plot(s.index, s, marker="o", ms=2.5, lw=0.8, color=f"C{k % 10}", alpha=0.8, label=_lr_label(r))
        best = per.groupby("depth").train_error.min()
        a.plot(best.index, best, color="k", lw=2, marker="s", ms=3.5, label="best over learning rates")
        a.set_xscale("log", base=2)
        if task != "autoencoder":
            a.set_yscale("log")
        a.set_xlabel("depth D (hidden layers)")
        if task == "autoencoder":
            a.set_ylabel("training reconstruction MSE")
            a.set_title(f"{ds}: auto-encoder")
        else:
            a.set_ylabel("training error (classification)")
            a.set_title(f"{ds}: classification")
        a.legend(fontsize=5.5)
    r, p = params.get("recipe", {}), params.get("depth_sweep", {})
    cap = (f"Sussillo & Abbott 2014, Fig. 4 (scale: {_scale(params)}). Training error versus depth for tanh nets at "
           f"g in {p.get('gains')} (averaged over g and seeds), each depth with the same parameter budget "
           f"({p.get('param_limit')} for classification, width from the budget; {p.get('ae_param_limit')} for the "
           f"auto-encoder whose tanh layers shrink linearly toward a linear code of {p.get('code')} units, MSE on "
           f"standardized pixels). Recipe: plain SGD, batch {r.get('batch_size')}, {r.get('epochs')} epochs on the "
           f"first {r.get('n_train')} training images, lr decay {r.get('lr_decay')}/epoch, gradient clipping "
           f"{r.get('grad_clip')}, zero biases, depth-dependent exponential learning-rate schedule (lines: "
           "(lambda_in, lambda_out) pairs). Deviation: TIMIT is licensed and cannot be fetched, so Fashion-MNIST "
           "(official) replaces it in the third panel; sizes and training length are reduced at quick scale.")
    save_figure(fig, output, cap)


FIGURES = {
    "random_walks": fig_random_walks,
    "optimal_gain": fig_optimal_gain,
    "mnist_gain_sweep": fig_mnist_gain_sweep,
    "depth_sweep": fig_depth_sweep,
}
