"""Figure ``shattered_gradients`` (Balduzzi et al. 2017, Figs. 1-3 analogue) from ``shattered_gradients.csv`` (the
Looks-Linear depth study on MNIST is its own figure, ``looks_linear_depth``).

Top row (BAL Fig. 1): df/dx of one random net along the input grid for a 1-layer net, a deep plain ReLU net (He, BN),
a deep residual net (BN), a Looks-Linear CReLU net, and the brown / white noise references. Bottom row: lag-1
autocorrelation versus depth (log-log, with the 2^-L and 1/sqrt(L) slopes of BAL's theorems drawn through the
data) and the spectral exponent beta versus depth (white noise 0, brown noise 2).
"""

from __future__ import annotations

import numpy as np

from isometry.papers.common import read_input, scale_of
from isometry.papers.extras.experiments.shattered import ARCHS, COLORS, DISPLAY, LABELS, VARIANTS
from isometry.papers.extras.figures._axes import empty_panel, set_log
from isometry.plotting import new_figure, save_figure

NOISE = {"brown_noise": ("brown noise (random walk)", "saddlebrown"), "white_noise": ("white noise", "0.45")}


def draw(params, inputs, output):
    df = read_input(inputs, "shattered_gradients")
    fig, axes = new_figure(2, 6, width=2.3, height=2.2)
    gs = axes[1, 0].get_gridspec()
    for a in axes[1]:
        a.remove()
    bottom = [fig.add_subplot(gs[1, 0:3]), fig.add_subplot(gs[1, 3:6])]
    gr = df[df.kind == "gradient"]
    panels = [("plain", 1)] + [(a, int(gr[gr.arch == a].depth.max()) if (gr.arch == a).any() else None)
                                for a in ARCHS] + [("brown_noise", None), ("white_noise", None)]
    spec = df[df.kind == "spectrum"]
    for k, (arch, depth) in enumerate(panels):
        a = axes[0, k]
        d = gr[gr.arch == arch]
        if depth is not None:
            d = d[d.depth == depth]
        d = d.sort_values("x")
        y = d.value.to_numpy(float)
        if not len(y) or not np.isfinite(y).any():
            empty_panel(a, f"{arch}: no finite gradient in the CSV")
            continue
        rms = float(np.sqrt(np.nanmean(y * y))) or 1.0
        label, col = NOISE.get(arch, (LABELS.get(arch, arch), COLORS.get(arch, "k")))
        a.plot(d.x, y / rms, color=col, lw=0.7)
        s = spec[(spec.arch == arch) & ((spec.depth == depth) if depth is not None else True)]
        if arch in DISPLAY:
            s = s[s.batchnorm == DISPLAY[arch]]
        beta = float(s.value.iloc[0]) if len(s) else float("nan")
        btxt = f"beta = {beta:.2f}" if np.isfinite(beta) else "constant (no spectrum)"
        a.set_title(f"{label}" + (f", L={depth}" if depth is not None else "") + f"\n{btxt}", fontsize=7)
        a.set_xlabel("input x")
        if k == 0:
            a.set_ylabel("df/dx (/ rms)")
        a.set_yticks([])
    # -- lag-1 autocorrelation vs depth, log-log, with BAL's slopes -------------------------------------------------
    ac = df[(df.kind == "autocorr") & df.depth.notna()]
    lag = ac.lag.min() if len(ac) else 1
    a = bottom[0]
    for arch, bn in VARIANTS:
        d = ac[(ac.arch == arch) & (ac.batchnorm == bn) & (ac.lag == lag)].sort_values("depth")
        main = DISPLAY[arch] == bn
        a.plot(d.depth, d.value.clip(lower=1e-3), "o-" if main else "s--", ms=2.5,
               color=COLORS[arch] if main else "0.5", label=LABELS[arch] + (", BN" if bn else ", no BN"))
        if arch == "plain" and not bn and d.theory.notna().any():
            a.plot(d.depth, d.theory, ":", color="k", lw=1.0, label="no BN: mean-field theory")
    L = np.geomspace(1, max(float(ac.depth.max()) if len(ac) else 2.0, 2.0), 100)
    a.plot(L, 2.0 ** -(L - 1), "--", color="C3", lw=0.8, alpha=0.6, label=r"$2^{-(L-1)}$ (BAL, feedforward)")
    a.plot(L, L ** -0.5, "--", color="C0", lw=0.8, alpha=0.6, label=r"$L^{-1/2}$ (BAL, resnet)")
    set_log(a, "x")
    set_log(a, "y")
    a.set_ylim(1e-2, 1.3)
    a.set_xlabel("depth L (ReLU layers)")
    a.set_ylabel(f"lag-{int(lag)} gradient autocorrelation")
    a.legend(fontsize=5, loc="lower left")
    # -- spectral exponent vs depth ---------------------------------------------------------------------------------
    a = bottom[1]
    sp = spec[spec.depth.notna()]
    for arch, bn in VARIANTS:
        d = sp[(sp.arch == arch) & (sp.batchnorm == bn)].sort_values("depth")
        main = DISPLAY[arch] == bn
        a.plot(d.depth, d.value, "o-" if main else "s--", ms=2.5, color=COLORS[arch] if main else "0.5",
               label=LABELS[arch] + (", BN" if bn else ", no BN"))
    for arch, (label, col) in NOISE.items():
        s = spec[spec.arch == arch]
        if len(s):
            a.axhline(float(s.value.iloc[0]), color=col, lw=0.8, ls=":", label=label)
    a.axhline(1.0, color="k", lw=0.5, alpha=0.4)
    set_log(a, "x")
    a.set_xlabel("depth L")
    a.set_ylabel(r"spectral exponent $\beta$ of df/dx ($P \propto f^{-\beta}$)")
    a.legend(fontsize=5, loc="lower left")
    N, E, G = int(df.width.iloc[0]), int(df.n_networks.iloc[0]), int(df.n_grid.iloc[0])
    xmax = float(df.x_max.iloc[0]) if "x_max" in df.columns else float(gr.x.abs().max())
    lin = df[df.kind == "linearity"]
    lin_txt = f"{lin.value.max():.1e}" if len(lin) else "n/a"
    cap = (f"Balduzzi et al. 2017 (shattered gradients), Figs. 1-3 analogue (scale: {scale_of(params)}). Top: gradient "
           f"df/dx of one random network along a {G}-point grid of a scalar input in [-{xmax:g}, {xmax:g}], width "
           f"{N}, normalized by its rms, with the spectral exponent beta over {E} networks (power spectrum ~ f^-beta "
           "over the lowest quarter of frequencies; white noise 0, brown noise 2): BAL report brown-noise gradients "
           "for a 1-layer net, white noise for a deep feedforward net and brown noise for a deep resnet. Plain and "
           "residual nets use frozen batch norm over the grid before every ReLU (as BAL); the residual block is x + "
           "W relu(BN(x)) (one layer per block); the Looks-Linear CReLU net (W = [W0, -W0], W0 orthogonal) is affine "
           f"at init (max relative deviation from its linear map {lin_txt}), so its gradient is constant. Bottom "
           f"left: lag-{int(lag)} uncentred gradient autocorrelation over the {E} nets versus depth (log-log; "
           "values below 1e-3 drawn at 1e-3), with BAL's rates 2^-(L-1) and L^-1/2 as dashed guides and the "
           "mean-field prediction for plain nets without batch norm (dotted). Bottom middle: beta versus depth. "
           "No data set (a grid of scalar inputs). The Looks-Linear depth study on MNIST is figure "
           "looks_linear_depth.")
    save_figure(fig, output, cap)
