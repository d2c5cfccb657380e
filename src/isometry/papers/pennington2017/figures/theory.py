"""Figures of the theory jobs: phase diagram (PSG Fig. 1), spectra (Fig. 2 as the paper draws it, plus all our
cases on a log-lambda axis), s_max vs depth (Fig. 3). Drawn from the CSVs only."""

from __future__ import annotations

import math

import numpy as np

from isometry.papers.common import read_input as _read

from ..common import FIG2_CASES, FIG2_COLOURS, FIG2_LABELS, NL_LABEL, W_LABEL, scale_note, tight
from ..reference import FIG2_SMAX


# ================================================================================================ Fig. 1
def fig_phase_diagram(params, inputs, output):
    import matplotlib.colors as mcolors

    from isometry.plotting import new_figure, save_figure

    df = _read(inputs, "phase_diagram")
    grid = df[df.kind == "grid"]
    sw = np.sort(grid.sigma_w2.unique())
    sb = np.sort(grid.sigma_b2.unique())
    piv = grid.pivot(index="sigma_b2", columns="sigma_w2", values="chi_1").loc[sb, sw].to_numpy()
    qpiv = grid.pivot(index="sigma_b2", columns="sigma_w2", values="q_star").loc[sb, sw].to_numpy()
    fig, axs = new_figure(1, 1, width=6.0, height=4.0)
    ax = axs[0, 0]
    lc = np.log(piv)
    lo_, hi_ = float(np.nanmin(lc)), float(np.nanmax(lc))
    norm = mcolors.TwoSlopeNorm(0.0, min(lo_, -1e-3), max(hi_, 1e-3))
    im = ax.pcolormesh(sw, sb, lc, cmap="RdBu_r", norm=norm, shading="auto", rasterized=True)
    cb = fig.colorbar(im, ax=ax, pad=0.02)
    cb.set_label(r"$\ln \chi_1$  (<0 ordered, >0 chaotic)")
    cs = ax.contour(sw, sb, qpiv, levels=[0.05, 0.1, 0.25, 0.5, 1.0, 2.0], colors="0.35", linewidths=0.6)
    ax.clabel(cs, fmt=lambda v: f"q*={v:g}", fontsize=6)
    crit = df[df.kind == "critical"].sort_values("sigma_b2")
    ax.plot(crit.sigma_w2, crit.sigma_b2, color="k", lw=2.5, zorder=3)
    sc = ax.scatter(crit.sigma_w2, crit.sigma_b2, c=crit.q_star, cmap="viridis", s=6, zorder=4)
    cb2 = fig.colorbar(sc, ax=ax, pad=0.04)
    cb2.set_label(r"$q^*$ on the critical line $\chi_1=1$")
    for _, r in df[df.kind == "point"].iterrows():
        ax.plot(r.sigma_w2, r.sigma_b2, marker="*", ms=11, color="gold", mec="k", zorder=5)
        ax.annotate(f"({r.sigma_w2:g}, {r.sigma_b2:.3g})\nq*={r.q_star:.3f}", (r.sigma_w2, r.sigma_b2),
                    textcoords="offset points", xytext=(6, 4), fontsize=7)
    ax.text(0.05, 0.9, "ordered", transform=ax.transAxes, color="navy", fontsize=9)
    ax.text(0.8, 0.1, "chaotic", transform=ax.transAxes, color="darkred", fontsize=9)
    ax.set_xlabel(r"$\sigma_w^2$")
    ax.set_ylabel(r"$\sigma_b^2$")
    ax.set_xlim(sw.min(), sw.max())
    ax.set_ylim(sb.min(), sb.max())
    ax.set_title("tanh: order-to-chaos phase diagram (PSG Fig. 1)")
    tight(fig)
    save_figure(fig, output, (
        "Mean-field phase diagram of tanh networks (PSG Fig. 1 / SGGS): colour = ln chi_1 with chi_1 = sigma_w^2 "
        "E[phi'(sqrt(q*) z)^2]; black line = critical line chi_1 = 1, dots coloured by q* along it; grey contours = "
        "q*. Stars: the tanh operating points of PSG Fig. 4. Theory only (Gauss-Hermite quadrature), no data set. "
        + scale_note(params)))


# ================================================================================================ Fig. 2
_PAPER_XMAX = {2: 4.0, 8: 8.0, 32: 14.0, 128: 20.0}      # PSG Fig. 2 x ranges (verified.md sec. 2)


def _case(df, nl, w, L):
    return df[(df.nonlinearity == nl) & (df.weights == w) & (df.depth == L)]


def fig_spectra(params, inputs, output):
    """PSG Fig. 2 as the paper draws it: P(s), the density of the singular values s of J, on a log y axis, one
    panel per depth, the paper's three curves (theory solid, simulation dashed); atoms as labelled vertical lines."""
    from isometry.plotting import new_figure, save_figure

    df = _read(inputs, "spectra")
    depths = sorted(int(d) for d in df.depth.unique())
    cases = [c for c in FIG2_CASES if ((df.nonlinearity == c[0]) & (df.weights == c[1])).any()]
    fig, axs = new_figure(1, len(depths), width=3.0, height=2.8)
    notes = []
    for j, L in enumerate(depths):
        ax = axs[0, j]
        xmax = _PAPER_XMAX.get(L)
        smaxes = []
        zero_txt = []
        for c in cases:
            d = _case(df, c[0], c[1], L)
            if d.empty:
                continue
            col = FIG2_COLOURS[c]
            t = d[d.kind == "theory"].sort_values("s")
            ps = t.p_s.where(t.theory_ok.astype(bool))          # NaN (no theory) drawn as a gap
            ax.plot(t.s, ps, "-", color=col, lw=1.4, label=FIG2_LABELS[c] if j == 0 else None)
            h = d[d.kind == "s_bin"]
            if len(h):
                x = np.r_[h.s.to_numpy(), h.s_hi.to_numpy()[-1]]
                y = np.r_[h.emp_density.to_numpy(), h.emp_density.to_numpy()[-1]]
                ax.step(x, np.where(y > 0, y, np.nan), where="post", ls="--", color=col, lw=0.9, alpha=0.9)
            s = d[d.kind == "summary"].iloc[0]
            smaxes.append(math.sqrt(max(float(s.edge), float(s.lam_max))))
            if int(s.theory_nan) > 0:
                notes.append(f"{FIG2_LABELS[c]} L={L}: {int(s.theory_nan)} of {int(s.theory_points)} theory points "
                             "not solved (gaps)")
            for _, a in d[d.kind == "atom"].iterrows():
                if a.s <= 0:
                    zero_txt.append(f"{FIG2_LABELS[c].split()[0]} {a.theory_mass:.2f} (sim {a.emp_mass:.2f})")
                    continue
                ax.axvline(a.s, color=col, ls=":", lw=1.4)
                ax.text(a.s, 2.0, f" atom {a.theory_mass:.2f}\n (sim {a.emp_mass:.2f})", color=col, fontsize=6,
                        va="top", ha="left")
        if xmax is None or (smaxes and max(smaxes) > xmax):
            xmax = 1.08 * max(smaxes) if smaxes else 1.0
        ax.set(yscale="log", xlim=(0, xmax), ylim=(1e-4, 1e1), xlabel="s (singular value of J)",
               title=f"L = {L}")
        if zero_txt:
            ax.text(0.98, 0.97, "atom at s = 0:\n" + "\n".join(zero_txt), transform=ax.transAxes, fontsize=5.5,
                    ha="right", va="top")
        if j == 0:
            ax.set_ylabel("P(s)")
    axs[0, 0].plot([], [], "k-", label="theory (PSG eq. 12)")
    axs[0, 0].plot([], [], "k--", label="simulation")
    axs[0, 0].legend(fontsize=6, loc="lower left")
    # the paper's digitized right edges, as ticks on the x axis
    for j, L in enumerate(depths):
        for c in cases:
            v = FIG2_SMAX.get(c, {}).get(L)
            if v is not None:
                axs[0, j].plot([v], [1.3e-4], marker="^", color=FIG2_COLOURS[c], ms=6, mec="k", mew=0.4,
                               clip_on=False)
    s0 = df[df.kind == "summary"]
    q = float(df[df.nonlinearity == "hard_tanh"].q_star.iloc[0]) if (df.nonlinearity == "hard_tanh").any() \
        else float("nan")
    tight(fig)
    save_figure(fig, output, (
        f"PSG Fig. 2 as the paper draws it: density P(s) of the singular values s of the input-output Jacobian at "
        f"criticality, log y axis, depths L = {', '.join(map(str, depths))}. Red: linear network, Gaussian weights "
        f"(sigma_w^2 = 1); purple: ReLU, orthogonal (sigma_w^2 = 2); blue: hard-tanh, orthogonal, q* = {q:g} "
        f"(sigma_w^2 = 1/erf(1/sqrt(2 q*))), sigma_b^2 = 0 for linear/ReLU. Solid: free-probability theory (PSG "
        f"eq. 12); dashed: exact SVD of {int(s0.samples.iloc[0])} random network(s) of width N = "
        f"{int(s0.width.iloc[0])} (pooled). Dotted vertical lines: atoms of the spectrum with their mass (theory, "
        f"simulated fraction); the atom at s = 0 (ReLU 1/2, hard-tanh 1 - p) is given in the panel text. Triangles "
        f"on the x axis: the paper's right edges read off its figure (verified.md PSG-F2). No data set. "
        + scale_note(params) + (" " + "; ".join(notes) + "." if notes else "")))


def fig_spectra_all(params, inputs, output):
    """Every computed case (the paper's three and the tanh extras): density of log10 lambda, log y axis."""
    from isometry.plotting import new_figure, save_figure

    df = _read(inputs, "spectra")
    cases = list(dict.fromkeys(zip(df.nonlinearity, df.weights)))
    depths = sorted(int(d) for d in df.depth.unique())
    fig, axs = new_figure(len(cases), len(depths), width=2.6, height=1.9)
    for i, (nl, w) in enumerate(cases):
        for j, L in enumerate(depths):
            ax = axs[i, j]
            d = _case(df, nl, w, L)
            if d.empty:
                ax.set_visible(False)
                continue
            b = d[d.kind == "bin"]
            lo, hi = np.log10(b.lam.to_numpy()), np.log10(b.lam_hi.to_numpy())
            dens = b.emp_mass.to_numpy() / (hi - lo)
            ax.bar(lo, np.where(dens > 0, dens, np.nan), width=hi - lo, align="edge", color="C0", alpha=0.45,
                   label="simulation")
            t = d[d.kind == "theory"]
            ax.plot(np.log10(t.lam), t.density.where(t.theory_ok.astype(bool)), color="k", lw=1.2, label="theory")
            for _, a in d[(d.kind == "atom") & (d.lam > 0)].iterrows():
                x = math.log10(a.lam)
                ax.axvline(x, color="C3", ls=":", lw=1.4)
                ax.text(x, 3.0, f" atom {a.theory_mass:.2f}\n (sim {a.emp_mass:.2f})", color="C3", fontsize=5.5,
                        va="top")
            bl = d[d.kind == "below"].iloc[0]
            s = d[d.kind == "summary"].iloc[0]
            txt = f"$\\lambda<${bl.lam_hi:.1e}: th {bl.theory_mass:.2f} / sim {bl.emp_mass:.2f}"
            if bl.atom_zero > 0:
                txt += f"\n(atom at 0: {bl.atom_zero:.3g})"
            txt += f"\nL1 = {s.l1:.3f}"
            if int(s.theory_nan) > 0:
                txt += f"\n{int(s.theory_nan)} theory pts unsolved"
            ax.text(0.02, 0.97, txt, transform=ax.transAxes, fontsize=5.5, va="top")
            ax.set_yscale("log")
            ax.set_ylim(1e-3, 5.0)
            if i == 0:
                ax.set_title(f"L = {L}")
            if j == 0:
                ax.set_ylabel(f"{NL_LABEL[nl]}, {W_LABEL[w]}\n" + r"$p(\log_{10}\lambda)$", fontsize=7)
            if i == len(cases) - 1:
                ax.set_xlabel(r"$\log_{10}\lambda$  ($\lambda = s^2$)")
            ax.tick_params(labelsize=6)
    axs[0, 0].legend(fontsize=6, loc="center left")
    q = float(df[df.nonlinearity.isin(["tanh", "hard_tanh"])].q_star.iloc[0]) if (
        df.nonlinearity.isin(["tanh", "hard_tanh"]).any()) else float("nan")
    tight(fig)
    save_figure(fig, output, (
        f"All computed spectra (the paper's three cases of Fig. 2 and our tanh extras): density of log10 lambda, "
        f"lambda = s^2, log y axis. Lines: free-probability theory, PSG eq. (12) (numerical S-transform for tanh; "
        f"gaps = points where the solver did not converge, never drawn as zero). Bars: exact spectra of "
        f"{int(df.samples.iloc[0])} random network(s) of width N = {int(df.width.iloc[0])} (pooled). Dotted lines: "
        f"atoms with their theory mass (and simulated fraction); the atom at 0 is in the text with all mass below "
        f"the first bin. tanh and hard-tanh at q* = {q:g}. L1 = sum over bins (atoms, below/above) of |simulated - "
        f"theory| mass. No data set. " + scale_note(params)))


# ================================================================================================ Fig. 3
def fig_smax_vs_depth(params, inputs, output):
    from isometry.plotting import new_figure, save_figure

    df = _read(inputs, "smax_vs_depth")
    fig, axs = new_figure(1, 3, width=3.5, height=3.0)
    qs = sorted(df.q_star.unique())
    sim_all = df[df.kind == "simulation"]
    N = int(sim_all.width.iloc[0]) if len(sim_all) else 0
    for k, q in enumerate(qs):
        c = f"C{k}"
        for weights, ls, mk in (("orthogonal", "-", "o"), ("gaussian", "--", "s")):
            t = df[(df.kind == "theory") & (df.q_star == q) & (df.weights == weights)].sort_values("depth")
            s = sim_all[(sim_all.q_star == q) & (sim_all.weights == weights)]
            s = s.groupby("depth")[["lam_max", "var"]].mean().reset_index()
            mfc = "none" if weights == "gaussian" else c
            axs[0, 0].plot(t.depth, np.sqrt(t.lam_max), ls, color=c, lw=1.0)
            if "lam_quantile" in t:
                axs[0, 0].plot(t.depth, np.sqrt(t.lam_quantile), ls, color=c, lw=2.2, alpha=0.35)
            axs[0, 0].plot(s.depth, np.sqrt(s.lam_max), mk, color=c, mfc=mfc, ms=4)
            axs[0, 1].plot(t.depth, t["var"], ls, color=c)
            axs[0, 1].plot(s.depth, s["var"], mk, color=c, mfc=mfc, ms=4)
            tt = t.set_index("depth")
            ss = s.set_index("depth")
            common = [L for L in ss.index if L in tt.index]
            if common:
                axs[0, 2].plot(common, [ss.lam_max[L] / tt.lam_max[L] for L in common], mk + ls, color=c, mfc=mfc,
                               ms=4, lw=0.8)
                if "lam_quantile" in tt:
                    axs[0, 2].plot(common, [ss.lam_max[L] / tt.lam_quantile[L] for L in common], mk + ":",
                                   color=c, mfc=mfc, ms=3, lw=0.8, alpha=0.6)
        axs[0, 0].plot([], [], "-", color=c, label=f"q* = {q:.3g}")
    axs[0, 0].plot([], [], "k-", lw=1.0, label="orthogonal: edge (N=inf)")
    axs[0, 0].plot([], [], "k--", lw=1.0, label="Gaussian: edge (N=inf)")
    axs[0, 0].plot([], [], "k-", lw=2.2, alpha=0.35, label=f"finite-N theory (tail mass 1/N, N={N})")
    axs[0, 0].plot([], [], "ko", ms=4, label="orth. (sim.)")
    axs[0, 0].plot([], [], "ks", mfc="none", ms=4, label="Gauss. (sim.)")
    axs[0, 0].set(xscale="log", yscale="log", xlabel="depth L", ylabel=r"largest singular value $s_{max}$",
                  title=r"$s_{max}$ of $J$ (PSG Fig. 3)")
    axs[0, 1].set(xscale="log", yscale="log", xlabel="depth L", ylabel=r"$\sigma^2_{JJ^T}$ (variance of $\lambda$)",
                  title="spread of the spectrum")
    axs[0, 2].axhspan(0.9, 1.1, color="0.9")
    axs[0, 2].axhline(1.0, color="0.5", lw=0.8)
    axs[0, 2].set(xscale="log", yscale="log", xlabel="depth L", ylabel=r"simulated $\lambda_{max}$ / theory",
                  title="simulation / theory")
    axs[0, 2].plot([], [], "k-", label="/ edge (N = inf)")
    axs[0, 2].plot([], [], "k:", label="/ finite-N theory")
    axs[0, 2].legend(fontsize=6)
    axs[0, 0].legend(fontsize=5.5)
    nl = df.nonlinearity.iloc[0]
    ns = int(sim_all["sample"].max()) + 1 if len(sim_all) else 0
    tight(fig)
    save_figure(fig, output, (
        f"{NL_LABEL[nl]} networks at criticality (chi = 1) for several q*: left, the largest singular value of J; "
        f"thin lines: the N = infinity spectral edge of PSG eq. (12); thick pale lines: the finite-N theory, the "
        f"lambda above which the N = infinity density puts mass 1/N (where the largest of N eigenvalues sits; for "
        f"heavy-tailed spectra, large q* and L, it lies far below the edge because almost no mass lives near the "
        f"edge); markers: exact SVD (mean over {ns} network(s) of width N = {N}, the depth-L prefixes). Middle: the "
        f"variance of lambda = s^2 (theory sigma^2_JJT = L (s_W + s_D), s_W = 1 Gaussian, 0 orthogonal). Right: "
        f"simulated largest lambda over the theory (solid/dashed: over the edge; dotted: over the finite-N value; "
        f"grey band +-10 %). Solid / filled: orthogonal; dashed / open: Gaussian. No data set. "
        + scale_note(params)))
