"""Figures of the saxe2014 pipeline, each drawn from its CSVs only, laid out as the paper draws them; captions name
the paper's figure and state what the CSV contains (sizes that actually ran), not the configured values. Every
figure draws an empty / all-NaN CSV without crashing and says so on the panel."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from isometry.papers.common import read_input as _read
from isometry.papers.common import scale_of as _scale
from isometry.papers.saxe2014.analysis import best_curves, best_per_depth, lr_slope
from isometry.plotting import new_figure, save_figure

INIT_COLORS = {"glorot": "C0", "pretrained": "C2", "orthogonal": "C3", "decoupled": "k", "gaussian": "k"}
INIT_LABELS = {"glorot": "Glorot (uniform)", "pretrained": "Pretrained", "orthogonal": "Orthogonal",
               "decoupled": "decoupled, u0 = 0.001", "gaussian": "random (Gaussian, std 0.01)"}


def _no_data(ax, what: str = "no data") -> None:
    ax.text(0.5, 0.5, what, transform=ax.transAxes, ha="center", va="center", fontsize=8, color="0.3")


def _finite(v) -> np.ndarray:
    v = pd.to_numeric(pd.Series(v), errors="coerce").to_numpy(float)
    return v[np.isfinite(v)]


def _fmt_list(v) -> str:
    return ", ".join(f"{int(x)}" for x in sorted(set(v)))


# ------------------------------------------------------------------- depth sweeps (Fig. 4 and Fig. 6A) share these
def _of_init(best: pd.DataFrame, init: str) -> pd.DataFrame:
    """The best-per-depth rows of one initialization (``best`` itself when it is empty)."""
    return best[best.init == init] if len(best) else best


def _finite_lr(b: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``b`` with a finite optimal learning rate (``b`` itself when it is empty)."""
    return b[np.isfinite(b.best_lr.astype(float))] if len(b) else b


def _censored(a, b: pd.DataFrame, **style) -> None:
    """Triangles at the depths whose search never reached the threshold (drawn at the budget)."""
    c = b[~b.reached]
    if len(c):
        a.plot(c.layers, c.epochs, "^", **style)


def _time_panel_frame(a, drawn: bool, xlabel: str, ylabel: str) -> None:
    """Finish a learning-time panel: time axis from 0 and the legend, or the empty-panel note; the axis labels."""
    if drawn:
        a.set_ylim(bottom=0)
        a.legend(fontsize=7, frameon=True)
    else:
        _no_data(a, "no search reached the threshold (or empty CSV)")
    a.set_xlabel(xlabel)
    a.set_ylabel(ylabel)


def _lr_panel_frame(a, drawn: bool, xlabel: str) -> None:
    """Finish an optimal-learning-rate panel: the empty-panel note where nothing was drawn; the axis labels."""
    if not drawn:
        _no_data(a, "no optimal learning rate")
    a.set_xlabel(xlabel)
    a.set_ylabel("optimal learning rate")


def _search_summary(runs: pd.DataFrame, network: list[str], depths: str = "{}", grid: str = "",
                    tail: str = "") -> str:
    """The caption's 'Data: ...' sentence of a learning-rate search CSV: dataset, width, depths (``depths`` with
    ``{}`` for their list), the learning-rate grid per network (one ``network`` group; ``grid`` follows 'per
    network'), threshold and budget, then ``tail``; 'empty CSV' where there are no runs."""
    if not len(runs):
        return "empty CSV"
    m = runs.iloc[0]
    return (f"{m.dataset}; hidden width {int(m.width)} (paper: 1000); depths {depths.format(_fmt_list(runs.layers))}; "
            f"{runs.groupby(network).lr.nunique().max()} learning rates log-spaced in [{m.lr_min:.0e}, "
            f"{m.lr_max:.0e}] per network{grid}; threshold E <= {m.threshold:.4g}; budget {int(m.max_steps)} "
            f"iterations{tail}")


# --------------------------------------------------------------------------------------------------- Fig. 2
def fig_vector_field(params, inputs, output):
    df = _read(inputs, "vector_field")
    fig, ax = new_figure(1, 1, width=4.2, height=4.0)
    a = ax[0, 0]
    f = df[df.kind == "field"] if "kind" in df else df.iloc[0:0]
    if f.empty or not np.isfinite(f.da.astype(float)).any():
        _no_data(a, "no field in the CSV")
        save_figure(fig, output, f"Saxe et al. 2014 Fig. 2 ({_scale(params)} scale): the CSV holds no field.")
        return
    s = float(df.s.iloc[0])
    norm = np.hypot(f.da, f.db)
    a.quiver(f.a, f.b, f.da / (norm + 1e-12), f.db / (norm + 1e-12), np.log10(norm + 1e-6), cmap="Blues",
             scale=30, width=0.004, alpha=0.8)
    for _, t in df[df.kind == "trajectory"].groupby("traj"):
        a.plot(t.a, t.b, color="C2", lw=1.1)
        a.plot(t.a.iloc[0], t.b.iloc[0], "o", color="C2", ms=2.5)
    for k, fx in df[df.kind == "fixed"].groupby("traj"):
        a.plot(fx.a, fx.b, color="C3", lw=2, label="stable manifold a b = s" if k == 1 else None)
    bal = df[df.kind == "balanced"]
    a.plot(bal.a, bal.b, color="k", ls="--", lw=1, label="a = b (balanced)")
    ext = float(f.a.abs().max())
    a.set_xlim(-ext, ext)
    a.set_ylim(-ext, ext)
    a.set_aspect("equal")
    a.set_xlabel("a")
    a.set_ylabel("b")
    a.set_title(f"tau = 1, s = {s:g}")
    a.legend(loc="upper left", fontsize=7, framealpha=0.9, frameon=True)
    drift = df[df.kind == "trajectory"].drift.max()
    save_figure(fig, output,
                f"Saxe et al. 2014 Fig. 2 ({_scale(params)} scale; theory, no data). Vector field (blue) of the "
                f"two-dimensional dynamics tau da/dt = b(s - ab), tau db/dt = a(s - ab) (SMG eq. 8), the stable "
                f"manifold ab = s (red) and {df[df.kind == 'trajectory'].traj.nunique()} solution trajectories "
                f"(green; hyperbolas a^2 - b^2 = const, largest drift of a^2 - b^2 {drift:.1e}).")


# --------------------------------------------------------------------------------------------------- Fig. 3
def fig_mode_dynamics(params, inputs, output):
    df = _read(inputs, "mode_dynamics")
    fig, ax = new_figure(1, 2, width=4.2, height=3.3)
    cur = df[(df.kind == "curve") & df.plotted.astype(bool)] if "kind" in df else df.iloc[0:0]
    styles = {"analytic": dict(color="C3", lw=2.2, alpha=0.6), "linear": dict(color="C0", lw=1.0),
              "tanh": dict(color="C2", lw=1.0)}
    labels = {"analytic": "analytic (eq. 12)", "linear": "simulated linear net", "tanh": "simulated tanh net"}
    modes = sorted(cur["mode"].unique()) if len(cur) else []
    drawn = False
    for src, st in styles.items():
        for i, m in enumerate(modes):
            d = cur[(cur.source == src) & (cur["mode"] == m)]
            if src != "analytic" and len(d):
                d = d[d.seed == d.seed.min()]
            d = d.sort_values("step")
            if len(d) and np.isfinite(d.u.astype(float)).any():
                ax[0, 0].plot(d.step, d.u, label=labels[src] if i == 0 else None, **st)
                drawn = True
    if drawn:
        an = cur[cur.source == "analytic"]
        for m in modes:
            d = an[an["mode"] == m]
            if len(d):
                ax[0, 0].text(d.step.max() * 1.01, d.s.iloc[0], str(m), fontsize=6, va="center")
        ax[0, 0].legend(fontsize=7, loc="upper left", framealpha=0.9, frameon=True)
    else:
        _no_data(ax[0, 0], "no finite mode strengths")
    ax[0, 0].set_xlabel("t (iterations)")
    ax[0, 0].set_ylabel("input-output mode strength")
    ax[0, 0].set_title(f"modes {', '.join(map(str, modes))}", fontsize=8)
    half = df[(df.kind == "half") & df.plotted.astype(bool)] if "kind" in df else df.iloc[0:0]
    n_init = {}
    if len(half) and np.isfinite(half.delay.astype(float)).any():
        for j, src in enumerate(("linear", "tanh")):
            h = half[half.source == src]
            if h.empty:
                continue
            n_init[src] = h.seed.nunique()
            g = h.groupby("mode").delay
            x = np.arange(len(g)) + (j - 0.5) * 0.38
            ax[0, 1].bar(x, g.mean().values, 0.36, yerr=g.std().values, color=styles[src]["color"],
                         label=f"{src} ({n_init[src]} inits)", capsize=2)
            ax[0, 1].set_xticks(np.arange(len(g)))
            ax[0, 1].set_xticklabels([str(m) for m in g.mean().index])
        ax[0, 1].axhline(0, color="k", lw=0.8)
        ax[0, 1].legend(fontsize=7, frameon=True)
    else:
        _no_data(ax[0, 1], "no finite half-learning times")
    ax[0, 1].set_xlabel("input-output mode")
    ax[0, 1].set_ylabel("(t_half sim - t_half analytic) / t_half analytic")
    ax[0, 1].set_title("delay of half-learning", fontsize=8)
    meta = df.iloc[0] if len(df) else None
    what = (f"{meta.dataset}; N2 = {int(meta.hidden)} hidden units, lambda = {meta.lr:g}, u0 = {meta.u0:g}, "
            f"{int(meta.steps)} iterations of batch gradient descent" if meta is not None else "empty CSV")
    save_figure(fig, output,
                f"Saxe et al. 2014 Fig. 3 ({_scale(params)} scale). Left: strength of the network's representation "
                f"of modes {', '.join(map(str, modes))} of Sigma31 over learning: analytic (red, SMG eq. 12 with the "
                f"paper's u0), simulated linear (blue) and tanh (green) three-layer nets from small random weights "
                f"(one initialization). Right: delay of half-learning, (simulated - analytic)/analytic time at which "
                f"a mode reaches half its strength, mean +- std over {n_init or 'no'} random initializations "
                f"(paper: 100). Data: {what}.")


# --------------------------------------------------------------------------------------------------- Fig. 4
def fig_depth_decoupled(params, inputs, output):
    runs = _read(inputs, "depth_decoupled")
    best = best_per_depth(runs)
    fig, ax = new_figure(1, 2, width=3.6, height=3.0)
    b = _of_init(best, "decoupled")
    drawn = bool(len(b) and np.isfinite(b.epochs.astype(float)).any())
    if drawn:
        r = b[b.reached]
        ax[0, 0].plot(r.layers, r.epochs, "o-", color="k", ms=3.5, label="reached the threshold")
        _censored(ax[0, 0], b, color="C1", ms=5, label="censored (>= budget)")
    _time_panel_frame(ax[0, 0], drawn, "N_l (number of layers)", "learning time (iterations)")
    k, n = lr_slope(best, "decoupled", 10) if len(best) else (math.nan, 0)
    bb = _finite_lr(b)
    if len(bb):
        ax[0, 1].loglog(bb.layers, bb.best_lr, "o-", color="k", ms=3.5, label="optimal learning rate")
        e = bb[bb.edge]
        if len(e):
            ax[0, 1].loglog(e.layers, e.best_lr, "s", mfc="none", color="C1", ms=7, label="at the grid's edge")
        x = np.array([bb.layers.min(), bb.layers.max()], float)
        ref = bb[bb.layers == bb.layers.max()].best_lr.iloc[0]
        ax[0, 1].loglog(x, ref * x.max() / x, ":", color="0.4", label="1 / N_l")
        ax[0, 1].axhspan(float(bb.lr_min.iloc[0]), float(bb.lr_max.iloc[0]), color="0.93", zorder=0)
        ax[0, 1].legend(fontsize=7, frameon=True, title=f"slope (N_l >= 10): {k:.2f}", title_fontsize=7)
    _lr_panel_frame(ax[0, 1], len(bb) > 0, "N_l")
    what = _search_summary(runs, ["layers", "seed"], depths="N_l = {} (paper: 15 depths 3-100)", grid=" (shaded)")
    save_figure(fig, output,
                f"Saxe et al. 2014 Fig. 4 ({_scale(params)} scale). Deep linear networks on MNIST trained by batch "
                f"gradient descent (SMG eq. 13 on the correlation matrices) from decoupled initial conditions with "
                f"initial mode strength u0 = 0.001. Left: iterations until the training error "
                f"E = 1/2 sum |y - yhat|^2 falls below the paper's threshold, at the best learning rate of each "
                f"depth. Right: that learning rate (dotted: 1/N_l). Data: {what}.")


# --------------------------------------------------------------------------------------------------- Fig. 5
def fig_pretraining(params, inputs, output):
    cons = _read(inputs, "pretraining_consistency")
    curves = _read(inputs, "pretraining_curves")
    fig, ax = new_figure(1, 3, width=3.1, height=3.0)
    for j, which in enumerate(("pixels", "modes")):
        m = cons[(cons.kind == "matrix") & (cons.which == which)] if "kind" in cons else cons.iloc[0:0]
        if m.empty or not np.isfinite(m["corr"].astype(float)).any():
            _no_data(ax[0, j])
            continue
        n = int(m.i.max()) + 1
        mat = np.full((n, n), np.nan)
        mat[m.i.astype(int), m.j.astype(int)] = m["corr"].astype(float)
        im = ax[0, j].imshow(mat, cmap="RdBu_r", vmin=-1, vmax=1)
        s = cons[(cons.kind == "summary") & (cons.which == which)]
        off = float(s.offdiag.iloc[0]) if len(s) else math.nan
        ax[0, j].set_title(("raw Sigma11 (pixels)" if which == "pixels" else "V Sigma11 V^T (modes)") +
                           f"\nmean |off-diag corr| {off:.2f}", fontsize=8)
        fig.colorbar(im, ax=ax[0, j], fraction=0.046, pad=0.04)
    b = best_curves(curves) if "kind" in curves else pd.DataFrame()
    a = ax[0, 2]
    times = {}
    if len(b) and np.isfinite(b.train_loss.astype(float)).any():
        for init, g in b.groupby("init"):
            g = g[np.isfinite(g.train_loss.astype(float))]
            a.plot(g.time, g.train_loss, color="C3" if init == "pretrained" else "k", lw=1.3,
                   label=f"{'pretrained' if init == 'pretrained' else 'random'} (lr {g.lr.iloc[0]:.2g})")
            times[init] = (float(g.epochs.iloc[0]), float(g.offset.iloc[0]))
        thr = float(b.threshold.iloc[0])
        a.axhline(thr, color="0.4", ls=":", lw=1, label=f"threshold {thr:.3g}")
        a.set_xscale("symlog", linthresh=10)
        a.legend(fontsize=7, frameon=True)
    else:
        _no_data(a, "no finite learning curve")
    a.set_xlabel("t (iterations, incl. pre-training)")
    a.set_ylabel("training error E")
    c0 = curves.iloc[0] if len(curves) else None
    what = (f"{c0.dataset}; {int(c0.layers)}-layer linear net, {int(c0.width)} hidden units; each curve at the "
            f"learning rate (of {curves[curves.kind == 'time'].lr.nunique()}) that reached the threshold first"
            if c0 is not None else "empty CSV")
    tt = "; ".join(f"{k}: threshold at {v[0] + v[1]:.0f} iterations ({v[1]:.0f} of them pre-training)"
                   for k, v in times.items())
    cs = cons.iloc[0] if len(cons) else None
    save_figure(fig, output,
                f"Saxe et al. 2014 Fig. 5 ({_scale(params)} scale). Left: correlation-normalised submatrix of the "
                f"raw MNIST input correlation Sigma11 ({'pixels ' + str(int(cs.pixel_col)) + '.. of row ' + str(int(cs.pixel_row)) if cs is not None else ''}). "
                f"Centre: the same for V Sigma11 V^T, V = right singular vectors of Sigma31 (approximately diagonal: "
                f"the consistency condition of greedy pre-training, eq. 18). Right: learning curves of a deep linear "
                f"net from small random (black, i.i.d. Gaussian std 0.01) and greedy pre-trained (red) initial "
                f"conditions; the pre-trained curve starts after its pre-training iterations. {tt}. Data: {what}.")


# -------------------------------------------------------------------------------------------------- Fig. 6A
def fig_depth_inits(params, inputs, output):
    runs = _read(inputs, "depth_inits")
    spec = _read(inputs, "product_spectra")
    best = best_per_depth(runs)
    fig, ax = new_figure(1, 3, width=3.3, height=3.0)
    drawn = False
    for init in ("glorot", "pretrained", "orthogonal"):
        b = _of_init(best, init)
        if b.empty or not np.isfinite(b.epochs.astype(float)).any():
            continue
        ax[0, 0].plot(b.layers, b.epochs, "-", color=INIT_COLORS[init], label=INIT_LABELS[init], lw=1.5)
        _censored(ax[0, 0], b, color=INIT_COLORS[init], ms=6)
        bb = _finite_lr(b)
        ax[0, 1].semilogy(bb.layers, bb.best_lr, "o-", color=INIT_COLORS[init], ms=3, label=INIT_LABELS[init])
        drawn = True
    if drawn:
        ax[0, 0].set_xlim(0, 100 if best.layers.max() <= 100 else None)
        ax[0, 1].legend(fontsize=7, frameon=True)
    _time_panel_frame(ax[0, 0], drawn, "Depth", "Epochs to reach error threshold")
    _lr_panel_frame(ax[0, 1], drawn, "Depth")
    e = spec[spec.kind == "orth_eig"] if "kind" in spec else spec.iloc[0:0]
    if len(e):
        ax[0, 2].plot(e.re, e.im, ".", color="C3", ms=3)
        ax[0, 2].set_aspect("equal")
        ax[0, 2].set_title(f"eigenvalues of a {len(e)} x {len(e)} random "   # an n x n matrix has n eigenvalues
                           f"orthogonal matrix", fontsize=8)
    else:
        _no_data(ax[0, 2])
    ax[0, 2].set_xlabel("Re")
    ax[0, 2].set_ylabel("Im")
    pre = runs[runs.init == "pretrained"] if len(runs) else runs
    pre_txt = (f"; pre-training: {int(pre.pretrain_iterations.max() / max(pre.layers.max() - 2, 1))} iterations of "
               f"batch gradient descent per auto-encoder (not counted here)" if len(pre) else "")
    what = _search_summary(runs, ["init", "layers", "seed"], tail=f" (triangles: censored){pre_txt}")
    save_figure(fig, output,
                f"Saxe et al. 2014 Fig. 6A ({_scale(params)} scale). Left: epochs (= iterations of batch gradient "
                f"descent) until the MNIST training error falls below the threshold, at the best learning rate of "
                f"each depth, for scaled i.i.d. uniform (Glorot, blue), greedy layer-wise pre-trained (green) and "
                f"random orthogonal (red) initial weights. Middle: the optimal learning rates. Right: eigenvalues of "
                f"a random orthogonal matrix (on the unit circle). Data: {what}.")


# ------------------------------------------------------------------------------------------------ Fig. 6B/C
def fig_product_spectra(params, inputs, output):
    df = _read(inputs, "product_spectra")
    summ = df[df.kind == "summary"] if "kind" in df else df.iloc[0:0]
    ks = sorted(summ.k.astype(int).unique()) if len(summ) else []
    n = max(len(ks), 1)
    fig, ax = new_figure(2, n, width=2.9, height=2.7)
    if not ks:
        _no_data(ax[0, 0])
        _no_data(ax[1, 0])
    for j, k in enumerate(ks):
        h = df[(df.kind == "sv_hist") & (df.k == k)]
        if len(h) and np.isfinite(h.density.astype(float)).any():
            ax[0, j].bar(h.bin_lo, h["count"] / h["count"].sum(), width=h.bin_hi - h.bin_lo, align="edge", color="C0")
        else:
            _no_data(ax[0, j])
        ax[0, j].set_title(f"N_l - 1 = {k}", fontsize=9)
        ax[0, j].set_xlabel("singular value")
        e = df[(df.kind == "ev_hist") & (df.k == k)]
        s = summ[summ.k == k].iloc[0]
        b = float(df.ev_bin.iloc[0])
        if len(e):
            e = e[~(np.isclose(e.x, 0) & np.isclose(e.y, 0))]
            lim = max(1.1, float(np.abs(e[["x", "y"]].to_numpy(float)).max()) + b) if len(e) else 1.1
            edges = np.arange(-lim - b / 2, lim + b, b)
            H, xe, ye = np.histogram2d(e.x, e.y, bins=[edges, edges], weights=e["count"])
            ax[1, j].pcolormesh(xe, ye, H.T, cmap="viridis")
            ax[1, j].set_aspect("equal")
        else:
            _no_data(ax[1, j])
        ax[1, j].set_title(f"origin bin removed: {100 * s.origin_fraction:.0f}% of eigenvalues", fontsize=8)
        ax[1, j].set_xlabel("Re")
        ax[1, j].set_ylabel("Im")
    ax[0, 0].set_ylabel("fraction")
    w = int(df.width.iloc[0]) if len(df) else 0
    samples = int(summ.samples.max()) if len(summ) else 0
    save_figure(fig, output,
                f"Saxe et al. 2014 Fig. 6B/C ({_scale(params)} scale; random matrices, no data). B: histograms of "
                f"the singular values of products of N_l - 1 = {', '.join(map(str, ks))} independent {w} x {w} "
                f"Gaussian matrices (entries N(0, 1/N)); C: their eigenvalues in the complex plane, bins "
                f"{float(df.ev_bin.iloc[0]) if len(df) else 0:g} x {float(df.ev_bin.iloc[0]) if len(df) else 0:g} "
                f"centred on the origin, the origin bin removed (its share in the titles; paper: 32% and 94% in the "
                f"middle and right plots). {samples} realizations per depth (paper: 500, N = 1000). The depths "
                f"1, 5, 99 are inferred from the paper's 32% / 94%.")


# --------------------------------------------------------------------------------------------------- Fig. 7
def fig_jacobian_spectra(params, inputs, output):
    df = _read(inputs, "jacobian_spectra")
    summ = df[df.kind == "summary"] if "kind" in df else df.iloc[0:0]
    gs = sorted(summ.g.unique()) if len(summ) else []
    qs = sorted(summ.q1.unique()) if len(summ) else []
    fig, ax = new_figure(max(len(gs), 1), max(len(qs), 1), width=2.2, height=1.5, sharex=True)
    if not gs:
        _no_data(ax[0, 0])
    for i, g in enumerate(gs):
        for j, q in enumerate(qs):
            a = ax[i, j]
            h = df[(df.kind == "hist") & np.isclose(df.g, g) & np.isclose(df.q1, q)]
            s = summ[np.isclose(summ.g, g) & np.isclose(summ.q1, q)]
            if len(h) and h["count"].sum() > 0:
                a.bar(h.bin_lo, h.fraction, width=h.bin_hi - h.bin_lo, align="edge", color="C0")
                a.text(0.03, 0.9, f"{100 * float(s.decade_fraction.iloc[0]):.0f}% within 10x of max",
                       transform=a.transAxes, fontsize=6, va="top")
            else:
                _no_data(a)
            if i == 0:
                a.set_title(f"q = {q:g}", fontsize=8)
            if j == 0:
                a.set_ylabel(f"g = {g:g}", fontsize=8)
            if i == len(gs) - 1:
                a.set_xlabel("log10 singular value", fontsize=7)
            a.tick_params(labelsize=6)
    w, nl = (int(df.width.iloc[0]), int(df.layers.iloc[0])) if len(df) else (0, 0)
    save_figure(fig, output,
                f"Saxe et al. 2014 Fig. 7 ({_scale(params)} scale; random matrices, no data). Histograms of the "
                f"singular values (log10) of the end-to-end Jacobian dx^N_l/dx^1 (SMG eq. 22) of one random "
                f"orthogonal tanh network x^(l+1) = g W tanh(x^l) with N_l = {nl} layers of N = {w} units, for gains "
                f"g = {', '.join(f'{x:g}' for x in gs)} (rows) and input variances q = q^1 = "
                f"{', '.join(f'{x:g}' for x in qs)} (columns); the text gives the share of singular values within a "
                f"factor 10 of the largest. Values below ~1e-13 x the largest are float64 round-off of the explicit "
                f"product.")


FIGURES = {
    "vector_field": (fig_vector_field, ("vector_field",)),
    "mode_dynamics": (fig_mode_dynamics, ("mode_dynamics",)),
    "depth_decoupled": (fig_depth_decoupled, ("depth_decoupled",)),
    "pretraining": (fig_pretraining, ("pretraining_consistency", "pretraining_curves")),
    "depth_inits": (fig_depth_inits, ("depth_inits", "product_spectra")),
    "product_spectra": (fig_product_spectra, ("product_spectra",)),
    "jacobian_spectra": (fig_jacobian_spectra, ("jacobian_spectra",)),
}
