"""Figures of the saxe2014 pipeline, each drawn from its own CSV only (captions state scale, data and deviations)."""

from __future__ import annotations

import numpy as np

from isometry.plotting import new_figure, save_figure
from isometry.papers.common import read_input as _read
from isometry.papers.common import scale_of as _scale

INIT_COLORS = {"gaussian": "C3", "orthogonal": "C0", "pretrained": "C2"}
INIT_LABELS = {"gaussian": "scaled Gaussian", "orthogonal": "random orthogonal", "pretrained": "greedy pre-trained"}


# ---------------------------------------------------------------------------------------------- vector field
def fig_vector_field(params, inputs, output):
    df = _read(inputs, "vector_field")
    s = float(df.s.iloc[0])
    fig, ax = new_figure(1, 1, width=4.2, height=4.0)
    a = ax[0, 0]
    f = df[df.kind == "field"]
    norm = np.hypot(f.da, f.db)
    a.quiver(f.a, f.b, f.da / (norm + 1e-12), f.db / (norm + 1e-12), np.log10(norm + 1e-6), cmap="Greys",
             scale=30, width=0.004, alpha=0.8)
    for k, t in df[df.kind == "trajectory"].groupby("traj"):
        a.plot(t.a, t.b, color="C0", lw=1.1)
        a.plot(t.a.iloc[0], t.b.iloc[0], "o", color="C0", ms=2.5)
    for k, fx in df[df.kind == "fixed"].groupby("traj"):
        a.plot(fx.a, fx.b, color="C3", lw=2, label=f"fixed points a b = s" if k == 1 else None)
    bal = df[df.kind == "balanced"]
    a.plot(bal.a, bal.b, color="k", ls="--", lw=1, label="a = b (balanced manifold)")
    ext = float(f.a.abs().max())
    a.set_xlim(-ext, ext)
    a.set_ylim(-ext, ext)
    a.set_aspect("equal")
    a.set_xlabel("a (input-to-hidden mode strength)")
    a.set_ylabel("b (hidden-to-output mode strength)")
    a.set_title(f"one-mode gradient flow, s = {s:g}, tau = 1")
    a.legend(loc="upper left", fontsize=7, framealpha=0.9, frameon=True)
    drift = df[df.kind == "trajectory"].drift.max()
    fig.tight_layout()
    save_figure(fig, output,
                f"Saxe et al. 2014 Fig. 2 ({_scale(params)} scale; theory, no data). Gradient-flow field of one "
                f"input-output mode (tau da/dt = b(s - ab), tau db/dt = a(s - ab), arrows: direction, shade: log speed) "
                f"with {df[df.kind == 'trajectory'].traj.nunique()} integrated trajectories (blue; they lie on the "
                f"hyperbolas a^2 - b^2 = const, largest drift of a^2 - b^2 along them {drift:.1e}) ending on the "
                f"fixed-point hyperbola ab = s (red); dashed: the invariant balanced line a = b. "
                f"Computed with isometry.theory.linear_dynamics.")


# ---------------------------------------------------------------------------------------------- mode dynamics
def fig_mode_dynamics(params, inputs, output):
    df = _read(inputs, "mode_dynamics")
    seed = int(df.seed.min())
    df = df[(df.seed == seed) & df.plotted.astype(bool)]
    modes = sorted(df["mode"].unique())
    fig, ax = new_figure(1, 2, width=4.4, height=3.3)
    styles = {"analytic": dict(color="C3", lw=2.2, alpha=0.55), "linear": dict(color="C0", lw=1.0),
              "tanh": dict(color="C2", lw=1.0, ls="--")}
    labels = {"analytic": "analytic (SMG eq. 7)", "linear": "simulated linear net", "tanh": "simulated tanh net"}
    for src, st in styles.items():
        for i, m in enumerate(modes):
            d = df[(df.source == src) & (df["mode"] == m)].sort_values("step")
            if len(d):
                ax[0, 0].plot(d.t_over_tau, d.u, label=labels[src] if i == 0 else None, **st)
    for m in modes:
        d = df[(df.source == "analytic") & (df["mode"] == m)]
        ax[0, 0].text(d.t_over_tau.max() * 1.01, d.s.iloc[0], str(m), fontsize=6, va="center")
    ax[0, 0].set_xlabel("t / tau  (= steps x learning rate)")
    ax[0, 0].set_ylabel(r"mode strength $u_\alpha(t)$")
    ax[0, 0].set_title(f"modes {', '.join(map(str, modes))} (labels at right)", fontsize=8)
    ax[0, 0].legend(fontsize=7, loc="upper left", bbox_to_anchor=(0.0, 0.93), framealpha=0.9, frameon=True)
    an = df[df.source == "analytic"].set_index(["mode", "step"]).u
    for src in ("linear", "tanh"):
        d = df[df.source == src].set_index(["mode", "step"])
        dev = ((d.u - an.reindex(d.index)) / d.s).abs().groupby(level=0).max()
        ax[0, 1].plot(dev.index, dev.values, "o-", color=styles[src]["color"], label=f"{src} net vs analytic")
    ax[0, 1].axhline(0.05, color="k", ls=":", lw=1, label="check tolerance 0.05")
    ax[0, 1].set_yscale("log")
    ax[0, 1].set_xlabel(r"mode $\alpha$ (by decreasing $s_\alpha$)")
    ax[0, 1].set_ylabel(r"max over t of $|\Delta u| / s_\alpha$")
    ax[0, 1].legend(fontsize=7)
    ax[0, 1].set_title("deviation from the exact solution")
    r = df.iloc[0]
    fig.tight_layout()
    save_figure(fig, output,
                f"Saxe et al. 2014 Fig. 3 left ({_scale(params)} scale). Data: {r.dataset} (32 one-hot inputs, "
                f"targets from a hierarchical diffusion on a binary tree, scaled by 1/sqrt(features)). 3-layer nets "
                f"with {int(r.hidden)} hidden units, no biases, full-batch gradient descent through the batched engine "
                f"(lr {r.lr:g}, Gaussian init with sigma_w^2 = {r.init_sigma_w2:g}). Mode strength "
                f"u_a = u_a^T Sigma31_net v_a of the network's input-output correlation (also for tanh, as in the "
                f"paper). Analytic curves use each mode's initial strength from the network's own random init "
                f"(balanced part, projected orthogonal to the modes learned earlier). "
                + (f"Deviation from the paper: N2 = {int(r.hidden)} hidden units instead of 32 (with 32, nearly "
                   f"degenerate bottom-level modes compete for hidden directions and deviate from the decoupled "
                   f"solution by up to ~0.2 s)." if int(r.hidden) != 32 else "N2 = 32 as in the paper."))


# ---------------------------------------------------------------------------------------- learning time vs depth
def _depth_axis(a, depths):
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator, ScalarFormatter

    a.set_xscale("log")
    ticks = sorted(set(int(d) for d in depths))
    a.xaxis.set_major_locator(FixedLocator(ticks))
    a.xaxis.set_major_formatter(ScalarFormatter())
    a.xaxis.set_minor_locator(NullLocator())
    a.xaxis.set_minor_formatter(NullFormatter())
    a.set_xlabel("depth D (weight matrices)")


def fig_learning_time_vs_depth(params, inputs, output):
    df = _read(inputs, "learning_time_vs_depth")
    sim = df[df.kind == "sim"]
    th = df[df.kind == "theory"].sort_values("weight_layers")
    slopes = df[df.kind == "slope"].set_index("init")
    fig, ax = new_figure(1, 2, width=4.0, height=3.2)
    a = ax[0, 0]
    for init, g in sim.groupby("init"):
        g = g.sort_values("weight_layers")
        c = INIT_COLORS.get(init, None)
        ok = g.reached.astype(bool)
        a.plot(g.weight_layers, g.epochs, "-", color=c, lw=1, alpha=0.5)
        a.plot(g.weight_layers[ok], g.epochs[ok], "o", color=c, label=INIT_LABELS.get(init, init))
        if (~ok).any():
            a.plot(g.weight_layers[~ok], g.epochs[~ok], "^", color=c, ms=8, mfc="none",
                   label="not reached within the budget (lower bound)")
    orth = sim[(sim.init == "orthogonal") & sim.reached.astype(bool)]
    if len(orth) and len(th):
        ref = orth.loc[orth.weight_layers.idxmax()]
        k = ref.epochs / np.interp(ref.weight_layers, th.weight_layers, th.theory_rel)
        a.plot(th.weight_layers, k * th.theory_rel, color="k", ls="--", lw=1,
               label="balanced deep-linear ODE, lr ~ 1/D (scaled)")
    _depth_axis(a, sim.weight_layers)
    a.set_yscale("log")
    a.set_ylim(top=float(sim.epochs.max()) * 30)       # room for the legend above the data
    a.set_ylabel("epochs to criterion (best lr)")
    a.legend(fontsize=6, loc="upper left", framealpha=0.9, frameon=True)
    a.set_title("learning time vs depth")
    a = ax[0, 1]
    for init, g in sim[sim.reached.astype(bool)].groupby("init"):
        g = g.sort_values("weight_layers")
        c = INIT_COLORS.get(init, None)
        lab = INIT_LABELS.get(init, init)
        if init in slopes.index:
            sl = slopes.loc[init]
            x = np.geomspace(sl.min_depth, g.weight_layers.max(), 20)
            a.plot(x, np.exp(sl.intercept) * x ** sl.slope, color=c, ls=":", lw=1)
            lab += f" (slope {sl.slope:.2f})"
        a.plot(g.weight_layers, g.best_lr, "o-", color=c, label=lab)
    d = np.geomspace(sim.weight_layers.min(), sim.weight_layers.max(), 20)
    a.plot(d, 3.0 / d * (sim.weight_layers.min()), color="grey", ls="--", lw=0.8, label="slope -1 (reference)")
    _depth_axis(a, sim.weight_layers)
    a.set_yscale("log")
    a.set_ylabel("optimal learning rate")
    a.legend(fontsize=6, loc="lower left")
    a.set_title("optimal learning rate ~ 1/D")
    crit = float(df.criterion.dropna().iloc[0])
    p = params.get("depth_sweep", {})
    fig.tight_layout()
    save_figure(fig, output,
                f"Saxe et al. 2014 Figs. 4-6 ({_scale(params)} scale). Data: {df.dataset.dropna().iloc[0]}, "
                f"{df.inputs.dropna().iloc[0]}. Deep bias-free linear nets, hidden width {p.get('width', '?')}, "
                f"full-batch gradient descent on squared error to one-hot targets, one ensemble per depth "
                f"(learning rates x inits x seeds) through the batched engine. Epochs to reach the loss "
                f"L* + {crit:g} (L0 - L*) (L* least-squares floor, L0 zero predictor) at the best learning rate "
                f"of a log grid; triangles: no learning rate reached it within the budget. Dashed: the balanced "
                f"deep-linear ODE (isometry.theory.linear_dynamics.learning_time with tau ~ D, "
                f"u0 = {p.get('theory', {}).get('u0', '?')}), scaled to the deepest orthogonal point. Right: the "
                f"optimal learning rate and log-log fits over D >= {p.get('slope_min_depth', '?')}. Deviations: "
                f"PCA-whitened MNIST subset, reduced width and depths; greedy pre-training gives rank-"
                f"{p.get('pca_dim', '?')} hidden layers (the input dimension), so pre-trained nets behave like "
                f"width-{p.get('pca_dim', '?')} nets: depth-independent but slower than the wider orthogonal nets.")


def fig_mnist_training_curves(params, inputs, output):
    df = _read(inputs, "mnist_training_curves")
    D = int(df.weight_layers.iloc[0])
    fig, ax = new_figure(1, 2, width=3.8, height=3.0)
    for init, g in df.groupby("init"):
        g = g[g.step > 0].groupby("step", as_index=False).agg(train_loss=("train_loss", "mean"),
                                                               train_error=("train_error", "mean"))
        lr = df[df.init == init].best_lr.iloc[0]
        lab = f"{INIT_LABELS.get(init, init)} (lr {lr:.3g})"
        ax[0, 0].plot(g.step, g.train_loss, color=INIT_COLORS.get(init), label=lab)
        ax[0, 1].plot(g.step, g.train_error, color=INIT_COLORS.get(init), label=lab)
    ax[0, 0].axhline(float(df.target_loss.iloc[0]), color="k", ls=":", lw=1, label="criterion")
    ax[0, 0].axhline(float(df.loss_opt.iloc[0]), color="grey", ls="--", lw=1, label="least-squares floor")
    for a, yl in ((ax[0, 0], "training loss (squared error)"), (ax[0, 1], "training error")):
        a.set_xscale("log")
        a.set_xlabel("epochs")
        a.set_ylabel(yl)
        a.legend(fontsize=6)
    ax[0, 0].set_yscale("log")
    ax[0, 0].set_title(f"deep linear net, D = {D}")
    fig.tight_layout()
    save_figure(fig, output,
                f"Saxe et al. 2014 Figs. 5-6 ({_scale(params)} scale). Data: {df.dataset.iloc[0]}, "
                f"{df.inputs.iloc[0]}. Training loss and error versus epochs (full-batch gradient descent, one step "
                f"per epoch) of a deep linear net with D = {D} weight matrices for the three inits, each at its best "
                f"learning rate from the depth sweep. Deviations: reduced data, width and depth; squared error on "
                f"one-hot targets.")


# ---------------------------------------------------------------------------------------------- product spectra
def fig_product_spectra(params, inputs, output):
    df = _read(inputs, "product_spectra")
    Ls = sorted(df.L.dropna().unique())
    fig, ax = new_figure(1, len(Ls), width=2.8, height=2.8)
    summ = df[df.kind == "summary"].set_index(["init", "L"])
    for j, L in enumerate(Ls):
        a = ax[0, j]
        for init, c in (("gaussian", "C3"), ("orthogonal", "C0")):
            h = df[(df.kind == "hist") & (df.init == init) & (df.L == L)]
            mid = np.sqrt(h.bin_lo * h.bin_hi)
            # density per decade of lambda: lambda ln(10) p(lambda)
            a.step(mid, mid * np.log(10) * h.density, where="mid", color=c,
                   label=f"{init} product" if j == 0 else None)
        t = df[(df.kind == "theory") & (df.L == L)]
        a.plot(t.lam, t.lam * np.log(10) * t.density, "k--", lw=1, label="Fuss-Catalan (theory)" if j == 0 else None)
        edge = float(summ.loc[("gaussian", L), "edge"])
        top = float(summ.loc[("gaussian", L), "top_sv2"])
        a.axvline(edge, color="k", ls=":", lw=0.8)
        a.set_xscale("log")
        a.set_yscale("log")
        a.set_ylim(1e-3, None)
        a.set_xlabel(r"$\lambda = \sigma^2$")
        a.set_title(f"L = {int(L)}: top {top:.2f} vs edge {edge:.2f}", fontsize=8)
        if j == 0:
            a.set_ylabel(r"density per decade, $\lambda \ln 10\, p(\lambda)$")
            a.legend(fontsize=6, loc="lower left")
    N = int(df.width.iloc[0])
    dev = float(df[(df.kind == "summary") & (df.init == "orthogonal")].max_abs_sv_minus_1.max())
    below = float(df[(df.kind == "summary") & (df.init == "gaussian")].frac_below_lam_min.max())
    fig.tight_layout()
    save_figure(fig, output,
                f"Saxe et al. 2014 section 4 ({_scale(params)} scale; random matrices, no data). Squared singular "
                f"values of products of L random {N}x{N} matrices: scaled Gaussian (entries N(0, 1/N), red) versus "
                f"Haar orthogonal (blue: a single spike at 1; largest |sigma - 1| = {dev:.1e}), histograms on "
                f"log-spaced bins as density per decade. Dashed: the free-probability (Fuss-Catalan) density from "
                f"isometry.theory.spectra (linear, Gaussian); dotted: its top edge (L+1)^(L+1)/L^L. Titles: the "
                f"empirical largest sigma^2 (mean over samples) against the edge. At most {100 * below:.1f}% of the "
                f"Gaussian lambdas lie below the plotted range (left out of the histograms).")


# ---------------------------------------------------------------------------------------------- nonlinear gain
def fig_nonlinear_gain(params, inputs, output):
    df = _read(inputs, "nonlinear_gain")
    last = df[df.step == df.step.max()]
    fig, ax = new_figure(1, 2, width=3.8, height=3.0)
    for init, g in last.groupby("init"):
        m = g.groupby("gain").train_loss.agg(["mean", "min", "max"]).reset_index()
        c = INIT_COLORS.get(init)
        ax[0, 0].plot(m.gain, m["mean"], "o-", color=c, label=INIT_LABELS.get(init, init))
        ax[0, 0].fill_between(m.gain, m["min"], m["max"], color=c, alpha=0.2)
    ax[0, 0].axvline(1.0, color="k", ls=":", lw=1)
    ax[0, 0].set_yscale("log")
    ax[0, 0].set_xlabel("gain g (sigma_w)")
    ax[0, 0].set_ylabel(f"training loss after {int(df.step.max())} steps")
    ax[0, 0].legend(fontsize=7)
    ax[0, 0].set_title("deep tanh nets: loss vs gain")
    best = {init: g.groupby("gain").train_loss.mean().idxmin() for init, g in last.groupby("init")}
    for init, gbest in best.items():
        d = df[(df.init == init) & np.isclose(df.gain, gbest) & (df.step > 0)]
        d = d.groupby("step", as_index=False).train_loss.mean()
        ax[0, 1].plot(d.step, d.train_loss, color=INIT_COLORS.get(init),
                      label=f"{INIT_LABELS.get(init, init)}, best g = {gbest:g}")
    ax[0, 1].set_xscale("log")
    ax[0, 1].set_yscale("log")
    ax[0, 1].set_xlabel("steps")
    ax[0, 1].set_ylabel("training loss")
    ax[0, 1].legend(fontsize=7)
    ax[0, 1].set_title("training curves at the best gain")
    r = df.iloc[0]
    fig.tight_layout()
    save_figure(fig, output,
                f"Saxe et al. 2014 section 4 ({_scale(params)} scale). Data: {r.dataset}, {r.inputs}. tanh nets with "
                f"{int(r.depth)} hidden layers of width {int(r.width)}, weights g x (Haar orthogonal) or Gaussian "
                f"N(0, g^2/fan_in) on every layer, zero biases, mini-batch SGD (lr {r.lr:g}), cross-entropy; mean "
                f"(line) and range (band) over {df.seed.nunique()} seed(s), one batched ensemble. Deviations: reduced "
                f"data, width and depth; training loss after a fixed budget as the speed measure.")


FIGURES = {
    "vector_field": fig_vector_field,
    "mode_dynamics": fig_mode_dynamics,
    "learning_time_vs_depth": fig_learning_time_vs_depth,
    "mnist_training_curves": fig_mnist_training_curves,
    "product_spectra": fig_product_spectra,
    "nonlinear_gain": fig_nonlinear_gain,
}
