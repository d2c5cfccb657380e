"""Figure ``orthogonality_regularization``: Vorontsov et al. 2017's margin study and seed 003's gain-adjusted soft
penalty on row-by-row sequential MNIST, from ``orthogonality_regularization.csv``.

Top: validation cost per epoch for every margin (VOR's learning curves), final cost versus margin, validation
accuracy of the soft penalties (seed 003 Fig. 8) and their singular values of W / sigma_w (seed 003 Fig. 7).
Bottom: the singular-value band of W / sigma_w over training, one panel per margin (VOR's spectrum panels).
"""

from __future__ import annotations

import math

import numpy as np

from isometry.papers.common import read_input, scale_of
from isometry.plotting import new_figure, save_figure

SOFT = {"none": ("no penalty", "k"), "single_soft": (r"single soft $\lambda\|WW^T-I\|^2$", "C1"),
        "gain_adjusted": (r"gain-adjusted $\lambda\|WW^T/\sigma_w^2-I\|^2$", "C2")}


def margin_label(m: float) -> str:
    return "no margin" if m == math.inf else f"m = {m:g}"


def draw(params, inputs, output):
    df = read_input(inputs, "orthogonality_regularization")
    fig, _ = new_figure(1, 1, width=14.0, height=6.0)
    fig.clf()
    gs = fig.add_gridspec(2, 12, height_ratios=[1.15, 1.0])
    top = [fig.add_subplot(gs[0, 3 * i:3 * i + 3]) for i in range(4)]
    m = df[df.variant == "margin"] if "variant" in df.columns else df.iloc[:0]
    margins = sorted(m.margin.unique()) if len(m) else []
    bottom = [fig.add_subplot(gs[1, 2 * i:2 * i + 2]) for i in range(max(1, min(len(margins), 6)))]
    import matplotlib

    cmap = matplotlib.colormaps["plasma"]
    cols = {mg: cmap(i / max(len(margins) - 1, 1) * 0.85) for i, mg in enumerate(margins)}
    a = top[0]
    for mg in margins:
        g = m[m.margin == mg].groupby("epoch").test_loss
        mu, se = g.mean(), g.sem().fillna(0)
        a.plot(mu.index, mu.values, "o-", ms=2.5, color=cols[mg], label=margin_label(mg))
        a.fill_between(mu.index, (mu - se).values, (mu + se).values, color=cols[mg], alpha=0.2, lw=0)
    a.set_xlabel("epoch")
    a.set_ylabel("validation cost (cross-entropy)")
    a.set_title("VOR: cost per epoch, margins", fontsize=8)
    if margins:
        a.legend(fontsize=6)
    a = top[1]
    if margins:
        last = m[m.epoch == m.epoch.max()]
        x = np.arange(len(margins))
        for i, mg in enumerate(margins):
            v = last[last.margin == mg].test_loss
            a.scatter(np.full(len(v), i), v, s=8, color=cols[mg], alpha=0.6)
            a.errorbar([i], [v.mean()], yerr=[v.sem() if len(v) > 1 else 0], fmt="o", color=cols[mg], capsize=3)
        a.set_xticks(x, [margin_label(mg).replace("m = ", "") for mg in margins], fontsize=7)
        a.set_xlabel("margin m")
    a.set_ylabel("final validation cost")
    a.set_title("looser margin, lower cost (VOR)", fontsize=8)
    s = df[df.variant.isin(list(SOFT))] if "variant" in df.columns else df.iloc[:0]
    for v, (lab, col) in SOFT.items():
        d = s[s.variant == v]
        if d.empty:
            continue
        g = d.groupby("epoch")
        acc = g.test_acc
        top[2].plot(acc.mean().index, acc.mean().values, "o-", ms=2.5, color=col, label=lab)
        top[2].fill_between(acc.mean().index, (acc.mean() - acc.sem().fillna(0)).values,
                            (acc.mean() + acc.sem().fillna(0)).values, color=col, alpha=0.2, lw=0)
        mu, sd = g.sv_mean.mean(), g.sv_std.mean()
        top[3].plot(mu.index, mu.values, color=col, label=lab)
        top[3].fill_between(mu.index, (mu - sd).values, (mu + sd).values, color=col, alpha=0.2, lw=0)
    top[2].set_xlabel("epoch")
    top[2].set_ylabel("validation accuracy")
    top[2].set_title("seed 003: soft penalties", fontsize=8)
    top[2].legend(fontsize=6)
    top[3].axhline(1.0, color="0.5", lw=0.6)
    if len(s):
        sw = float(s.sigma_w.iloc[0])
        top[3].axhline(1.0 / sw, color="C1", lw=0.6, ls="--")
    top[3].set_xlabel("epoch")
    top[3].set_ylabel(r"singular values of $W/\sigma_w$ (mean $\pm$ s.d.)")
    top[3].set_title("spectrum during training", fontsize=8)
    if margins:                     # one y range for all spectrum panels (as VOR), at least 0.9 .. 1.1
        lo = min(0.9, float(m.sv_min.min()) - 0.02)
        hi = max(1.1, float(m.sv_max.max()) + 0.02)
    for a, mg in zip(bottom, margins[:6]):
        a.set_ylim(lo, hi)
        g = m[m.margin == mg].groupby("epoch")
        a.fill_between(g.sv_min.min().index, g.sv_min.min().values, g.sv_max.max().values, color=cols[mg],
                       alpha=0.25, lw=0)
        for q in ("sv_q05", "sv_median", "sv_q95"):
            a.plot(g[q].mean().index, g[q].mean().values, color=cols[mg], lw=0.8 if q != "sv_median" else 1.3)
        if mg != math.inf:
            a.axhline(1 + mg, color="0.4", lw=0.5, ls=":")
            a.axhline(1 - mg, color="0.4", lw=0.5, ls=":")
        a.set_title(margin_label(mg), fontsize=8)
        a.set_xlabel("epoch")
        a.set_ylabel(r"singular values of $W/\sigma_w$", fontsize=7)
    if not margins:
        bottom[0].text(0.5, 0.5, "no margin runs in the CSV", ha="center", va="center",
                       transform=bottom[0].transAxes)
    fig.tight_layout()
    r = df.iloc[0] if len(df) else None
    n_seeds = int(df.seed.nunique()) if len(df) else 0
    n_div = int(df.groupby("run_id").diverged.max().sum()) if len(df) else 0
    soft_txt = ""
    if len(s):
        lam = float(s[s.variant != "none"].lam.max()) if (s.variant != "none").any() else 0.0
        soft_txt = (f" Soft penalties: free W initialized sigma_w Q (sigma_w = {float(s.sigma_w.iloc[0]):g}), lambda "
                    f"= {lam:g}; the dashed orange line 1/sigma_w is where the single soft penalty pulls the spectrum "
                    "of W / sigma_w (it removes the gain).")
    m_txt = ""
    if margins:
        m_txt = (f" Margins: W = sigma_w U diag(s) V^T (sigma_w = {float(m.sigma_w.iloc[0]):g}), U, V orthogonal "
                 "(matrix exponential of a skew-symmetric parameter), s = 1 + m (2 sigmoid(p) - 1); 'no margin': s = "
                 "1 + p free. Bottom: min-max band (shaded) and 5/50/95 % quantiles of the singular values of W / "
                 "sigma_w; dotted: the margin.")
    cap = (f"Orthogonality constraints and penalties for a tanh RNN on sequential MNIST read row by row (28 steps "
           f"of 28 pixels; VOR read pixels, 784 steps, too slow for the CPU budget) (scale: {scale_of(params)}; data: "
           f"{r.dataset if r is not None else '-'}, first {int(r.n_train) if r is not None else 0} training images; "
           f"validation = the first {int(r.eval_examples) if r is not None else 0} test images). Hidden size "
           f"{int(r.width) if r is not None else 0}, {r.optimizer if r is not None else '-'} (lr "
           f"{r.lr if r is not None else 0:g}), batch {int(r.batch_size) if r is not None else 0}, gradient clipping "
           f"{r.grad_clip if r is not None else 0:g}, {n_seeds} seed(s) (mean +- s.e.; dots: seeds), "
           f"{int(df.epoch.max()) if len(df) else 0} epochs; {n_div} run(s) diverged.{m_txt}{soft_txt} VOR train "
           "200 epochs on all of MNIST: our cost levels are higher and the spectra move less.")
    save_figure(fig, output, cap)
