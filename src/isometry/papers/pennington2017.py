"""Pennington, Schoenholz & Ganguli 2017, "Resurrecting the sigmoid in deep learning through dynamical isometry:
theory and practice" (NIPS 2017; tag PSG, papers.md section 1).

Experiments (each writes one tidy CSV; every figure is drawn from its CSV only):

``phase_diagram``     tanh order/chaos diagram over (sigma_w^2, sigma_b^2): chi_1 = sigma_w^2 E[phi'(sqrt(q*) z)^2]
                      (PSG eq. 7 / SGGS eq. 5), the critical line chi_1 = 1 and q* along it
                      (``isometry.theory.meanfield``).
``spectra``           density of the squared singular values lambda of the input-output Jacobian
                      J = prod_l D^l W^l at criticality: free-probability theory, PSG eq. (12)
                      S_{JJ^T} = S_{WW^T}^L S_{D^2}^L (``isometry.theory.spectra``), against the exact spectra of real
                      random networks (``isometry.measure``), for linear+Gaussian, ReLU+orthogonal,
                      hard-tanh+orthogonal, tanh+orthogonal and tanh+Gaussian at several depths L.
``smax_vs_depth``     the largest squared singular value (the spectral edge, PSG sec. 2.3) and the variance
                      sigma^2_{JJ^T} = L (s_W + s_D) (PSG eqs. 15-16 in relative-variance form; mean chi^L = 1 at
                      criticality) versus depth for Gaussian and orthogonal tanh networks at several q*.
``cifar10_learning``  PSG Fig. 4: CIFAR-10 (the JPEG copy here, ``dataset`` column), fully connected, test accuracy
                      versus step for tanh (1.05, 2.01e-5), tanh (2, 0.104) and ReLU (2, ~0), orthogonal vs Gaussian
                      weights, one panel per optimizer, learning rate tuned on a grid per configuration (batched
                      engine: members = config x init x lr x seed, one job per (depth, width, nonlinearity,
                      optimizer)).
``speed_sweep``       PSG Fig. 5: steps to reach a fixed test accuracy versus the predicted spread sigma^2_{JJ^T}, tanh
                      networks at several depths and q* on the critical line, orthogonal and Gaussian weights, lr grid;
                      and the best learning rate versus depth.

Every network here: h^l = W^l x^{l-1} + b^l, x^l = phi(h^l), W ~ N(0, sigma_w^2/N) or sigma_w * Haar orthogonal,
b ~ N(0, sigma_b^2). Training nets (models.EnsembleMLP) have ``depth`` hidden layers of width N plus a readout; their
spread is predicted for the L = depth hidden layers.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from isometry.checks import Check
from isometry.io import write_csv
from isometry.papers.common import write_checks
from isometry.pipeline import Figure, Pipeline, Sweep, Theory, run_functions
from isometry.papers.common import read_input as _read

PAPER = "pennington2017"

# the five spectrum cases of the figure: (nonlinearity, weights)
SPECTRUM_CASES = [("linear", "gaussian"), ("relu", "orthogonal"), ("hard_tanh", "orthogonal"),
                  ("tanh", "orthogonal"), ("tanh", "gaussian")]
_NL_LABEL = {"linear": "linear", "relu": "ReLU", "hard_tanh": "hard-tanh", "tanh": "tanh", "erf": "erf"}


# ================================================================================================ small helpers
def _scale_note(params: dict) -> str:
    return f"Scale: {params.get('scale', 'quick')}."


def _tight(fig) -> None:
    """Fit labels inside the figure so the caption that save_figure draws below it never overlaps them."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig.tight_layout()


def _maybe(inputs, name: str) -> pd.DataFrame | None:
    try:
        return _read(inputs, name)
    except FileNotFoundError:
        return None


def critical_params(nl: str, q_star: float) -> tuple[float, float]:
    """(sigma_w^2, sigma_b^2) on the critical line chi_1 = 1 with length fixed point q* (meanfield.critical_point);
    linear (1, 0) and ReLU (2, 0) for any q* (q* then only sets the input scale)."""
    from isometry.theory import meanfield

    sw, sb = meanfield.critical_point(nl, float(q_star))
    return float(sw), float(sb)


def predicted_spread(nl: str, weights: str, depth: int, sigma_w2: float, sigma_b2: float) -> tuple[float, float]:
    """(mean, variance) of lambda for the given parameters: mean = chi^L, sigma^2_{JJ^T} = chi^{2L} L (s_W + s_D)
    (PSG eqs. 15-16; s_W = 1 Gaussian, 0 orthogonal; s_D = E[d^2]/E[d]^2 - 1, d = phi'(h)^2, h ~ N(0, q*)).

    ReLU with sigma_b^2 > 0 has no finite q*, but d is Bernoulli(1/2) whatever q*, so the bias is ignored there."""
    from isometry.theory import spectra

    sb = 0.0 if nl in ("relu", "linear") else float(sigma_b2)
    return spectra.jacobian_moments(nl, weights, int(depth), None, sigma_w2=float(sigma_w2), sigma_b2=sb)


def steps_to_threshold(steps, acc, threshold: float) -> float:
    """First step at which test accuracy reaches ``threshold``, interpolated linearly in log(step) between the two
    logged steps around the crossing (step 0 counts as step 1 on the log axis). NaN if never reached."""
    s = np.asarray(steps, float)
    a = np.asarray(acc, float)
    order = np.argsort(s)
    s, a = s[order], a[order]
    ok = np.isfinite(a)
    s, a = s[ok], a[ok]
    hit = np.flatnonzero(a >= threshold)
    if hit.size == 0:
        return float("nan")
    i = int(hit[0])
    if i == 0:
        return float(max(s[0], 1.0))
    s0, s1 = max(s[i - 1], 1.0), max(s[i], 1.0)
    a0, a1 = a[i - 1], a[i]
    f = (threshold - a0) / (a1 - a0) if a1 > a0 else 1.0
    return float(np.exp(np.log(s0) + f * (np.log(s1) - np.log(s0))))


def spearman(x, y) -> float:
    """Spearman rank correlation (average ranks for ties; +inf allowed and ranked last)."""
    from scipy.stats import rankdata

    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 3:
        return float("nan")
    rx, ry = rankdata(x), rankdata(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    den = math.sqrt(float((rx * rx).sum() * (ry * ry).sum()))
    return float((rx * ry).sum() / den) if den > 0 else float("nan")


# ================================================================================================ phase diagram
def exp_phase_diagram(params, inputs, output):
    """tanh phase diagram: chi_1 and q* on a (sigma_w^2, sigma_b^2) grid (SGGS eqs. 3, 5), the critical line
    chi_1 = 1 with q* along it (meanfield.critical_sigma_w2), and the Fig. 4 operating points."""
    from isometry.theory import meanfield

    p = params["phase_diagram"]
    sw = np.linspace(p["sigma_w2_min"], p["sigma_w2_max"], p["num_w"])
    sb = np.linspace(p["sigma_b2_min"], p["sigma_b2_max"], p["num_b"])
    g = meanfield.phase_grid("tanh", sw, sb)
    rows = pd.DataFrame({"kind": "grid", "sigma_w2": g.sigma_w2.ravel(), "sigma_b2": g.sigma_b2.ravel(),
                         "q_star": g.q_star.ravel(), "chi_1": g.chi_1.ravel()})
    sbl = np.linspace(0.0, p["sigma_b2_max"], 200)
    swl, ql = meanfield.critical_sigma_w2("tanh", sbl, return_q_star=True)
    crit = pd.DataFrame({"kind": "critical", "sigma_w2": swl, "sigma_b2": sbl, "q_star": ql, "chi_1": 1.0})
    pts = []
    for c in params["cifar10_learning"]["configs"]:
        if c["nonlinearity"] == "tanh":
            pts.append({"kind": "point", "sigma_w2": c["sigma_w2"], "sigma_b2": c["sigma_b2"],
                        "q_star": float(meanfield.q_star("tanh", c["sigma_w2"], c["sigma_b2"])),
                        "chi_1": float(meanfield.chi_1("tanh", c["sigma_w2"], c["sigma_b2"]))})
    write_csv(pd.concat([rows, crit, pd.DataFrame(pts)], ignore_index=True), output)


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
    ax.set_title("tanh: order-to-chaos phase diagram")
    _tight(fig)
    save_figure(fig, output, (
        "Mean-field phase diagram of tanh networks (PSG sec. 2 / SGGS): colour = ln chi_1 with chi_1 = sigma_w^2 "
        "E[phi'(sqrt(q*) z)^2]; black line = critical line chi_1 = 1, dots coloured by q* along it; grey contours = "
        "q*. Stars: the tanh operating points of PSG Fig. 4. Theory only (Gauss-Hermite quadrature), no data set. "
        + _scale_note(params)))


# ================================================================================================ spectra
def _case_params(nl: str, q_star: float) -> tuple[float, float, float]:
    """(sigma_w2, sigma_b2, q*) at criticality; q* = 1 (only the input scale) for linear/ReLU."""
    if nl in ("linear", "relu"):
        sw, sb = critical_params(nl, 1.0)
        return sw, sb, 1.0
    sw, sb = critical_params(nl, q_star)
    return sw, sb, float(q_star)


def simulate_prefix(nl: str, weights: str, sigma_w2: float, sigma_b2: float, q_star: float, width: int,
                    depths, seed: int) -> dict[int, np.ndarray]:
    """Exact squared singular values of J for the depth-L prefixes (L in ``depths``) of ONE random network of depth
    max(depths) (isometry.measure.random_mlp; h^0 ~ N(0, q*), measure.input_at_fixed_point). Each prefix is itself a
    random depth-L network; J^L = D^L W^L J^{L-1} is built incrementally (float64)."""
    import torch

    from isometry import measure
    from isometry.nonlinearities import torch_dphi

    g = torch.Generator().manual_seed(int(seed))
    depths = sorted({int(d) for d in depths})
    Ws, bs = measure.random_mlp(depths[-1], width, nl, weights, sigma_w2, sigma_b2, generator=g)
    x0 = measure.input_at_fixed_point(nl, width, q_star, generator=g)
    hs = measure.mlp_preactivations(Ws, bs, nl, x0)
    dphi = torch_dphi(nl)
    J = torch.eye(width, dtype=torch.float64)
    out = {}
    for l in range(depths[-1]):
        J = dphi(hs[l])[:, None] * (Ws[l] @ J)
        if l + 1 in depths:
            out[l + 1] = np.sort(torch.linalg.svdvals(J).numpy() ** 2)
    return out


def _theory_grid(nl, weights, L, q_star, n_points, decades):
    """Continuous density on a log grid adapted to the support, atoms, edge, and the continuous mass below the grid."""
    from isometry.theory import spectra

    edge = spectra.spectral_edge(nl, weights, L, q_star)
    coarse = np.geomspace(edge * 10.0 ** -decades, edge, 73)
    dens, atoms = spectra.jacobian_density(nl, weights, L, q_star, coarse)
    cont = 1.0 - sum(m for _, m in atoms)
    f = coarse * np.nan_to_num(dens)  # density in ln(lambda)
    # lower end: one coarse step below the first point where the density of ln(lambda) is visible
    pos = f[f > 0]
    ref = float(np.median(pos)) if pos.size else 1.0  # robust: the density may diverge at an edge (arcsine laws)
    idx = np.flatnonzero(f > 1e-4 * ref)
    lo = coarse[max(int(idx[0]) - 1, 0)] if idx.size else coarse[0]
    # log grid plus points clustered at the edge (square-root or arcsine-like edges are integrable)
    lam = np.union1d(np.geomspace(lo, edge, n_points), edge * (1.0 - np.geomspace(1e-9, 0.3, 60)))
    lam = lam[lam >= lo]
    dens, atoms = spectra.jacobian_density(nl, weights, L, q_star, lam)
    dens = np.nan_to_num(dens)
    f = lam * dens
    inside = float(np.sum(0.5 * (f[1:] + f[:-1]) * np.diff(np.log(lam))))
    return lam, dens, atoms, edge, max(cont - inside, 0.0)


def _bin_theory_mass(lam, dens, edges):
    """Theory (continuous) mass in each bin [edges[i], edges[i+1]] by trapezoid in ln lambda on the theory grid."""
    x = np.log(lam)
    f = lam * dens
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * np.diff(x))])
    c = np.interp(np.log(edges), x, cum, left=0.0, right=cum[-1])
    return np.diff(c)


def exp_spectra(params, inputs, output):
    """Theory density (PSG eq. 12) vs exact spectra of random networks at criticality.

    Rows (``kind``): ``theory`` (lam, density = density of log10 lambda, i.e. lambda ln(10) rho(lambda)),
    ``bin`` (lam..lam_hi, emp_mass, theory_mass: log-spaced bins over the theory support), ``below``/``above`` (mass
    below the first bin, atom at 0 included / above the last bin), ``atom`` (a positive atom of the theory: location,
    theory_mass, emp_mass = fraction of lambdas within relative 1e-6 of it), ``summary`` (edge, lam_max, mean, var,
    L1 distance). Empirical lambdas pooled over ``samples`` networks of width N.
    """
    from isometry.theory import spectra

    p = params["spectra"]
    seed0 = int(params.get("seed", 0))
    depths = [int(d) for d in p["depths"]]
    frames = []
    for ci, case in enumerate(p["cases"]):
        nl, weights = case["nonlinearity"], case["weights"]
        sw, sb, q = _case_params(nl, p["q_star"])
        emp = {L: [] for L in depths}
        for s in range(int(p["samples"])):
            sims = simulate_prefix(nl, weights, sw, sb, q, int(p["width"]), depths, seed0 + 1000 * ci + s)
            for L in depths:
                emp[L].append(sims[L])
        for L in depths:
            lam_e = np.concatenate(emp[L])
            n = lam_e.size
            lam, dens, atoms, edge, below_t = _theory_grid(nl, weights, L, q, int(p["theory_points"]),
                                                           float(p["decades"]))
            base = {"nonlinearity": nl, "weights": weights, "depth": L, "width": int(p["width"]), "q_star": q,
                    "sigma_w2": sw, "sigma_b2": sb, "samples": int(p["samples"])}
            rows = [{**base, "kind": "theory", "lam": x, "density": y * x * math.log(10.0)}
                    for x, y in zip(lam, dens)]
            # empirical atoms (positive ones) removed from the histogram
            atom_rows, rest = [], lam_e
            l1 = 0.0
            for a, m in atoms:
                if a <= 0.0:
                    continue
                hit = np.abs(rest - a) <= 1e-6 * a
                em = float(hit.sum()) / n
                rest = rest[~hit]
                l1 += abs(em - m)
                atom_rows.append({**base, "kind": "atom", "lam": a, "theory_mass": m, "emp_mass": em})
            edges = np.geomspace(lam[0], edge * float(p["edge_margin"]), int(p["bins"]) + 1)
            cnt, _ = np.histogram(rest, bins=edges)
            tm = _bin_theory_mass(lam, dens, edges)
            # theory atoms at positive locations are removed from both sides above
            em_b = cnt / n
            below_e = float((rest < edges[0]).sum()) / n
            above_e = float((rest > edges[-1]).sum()) / n
            zero_atom = sum(m for a, m in atoms if a <= 0.0)
            below_theory = below_t + zero_atom
            l1 += float(np.abs(em_b - tm).sum()) + abs(below_e - below_theory) + above_e
            rows += [{**base, "kind": "bin", "lam": a, "lam_hi": b, "emp_mass": e, "theory_mass": t}
                     for a, b, e, t in zip(edges[:-1], edges[1:], em_b, tm)]
            rows.append({**base, "kind": "below", "lam": 0.0, "lam_hi": edges[0], "emp_mass": below_e,
                         "theory_mass": below_theory, "atom_zero": zero_atom})
            rows.append({**base, "kind": "above", "lam": edges[-1], "lam_hi": np.inf, "emp_mass": above_e,
                         "theory_mass": 0.0})
            mean_t, var_t = spectra.jacobian_moments(nl, weights, L, q)
            rows.append({**base, "kind": "summary", "edge": edge, "lam_max": float(lam_e.max()),
                         "mean_theory": mean_t, "mean_emp": float(lam_e.mean()), "var_theory": var_t,
                         "var_emp": float(lam_e.var()), "l1": l1, "n_lambda": n})
            frames.append(pd.DataFrame(rows + atom_rows))
    write_csv(pd.concat(frames, ignore_index=True), output)


def fig_spectra(params, inputs, output):
    from isometry.plotting import new_figure, save_figure

    df = _read(inputs, "spectra")
    cases = list(dict.fromkeys(zip(df.nonlinearity, df.weights)))
    depths = sorted(df.depth.unique())
    fig, axs = new_figure(len(cases), len(depths), width=2.6, height=1.9)
    for i, (nl, w) in enumerate(cases):
        for j, L in enumerate(depths):
            ax = axs[i, j]
            d = df[(df.nonlinearity == nl) & (df.weights == w) & (df.depth == L)]
            b = d[d.kind == "bin"]
            lo, hi = np.log10(b.lam.to_numpy()), np.log10(b.lam_hi.to_numpy())
            ax.bar(lo, b.emp_mass / (hi - lo), width=hi - lo, align="edge", color="C0", alpha=0.45,
                   label="simulation")
            t = d[d.kind == "theory"]
            ax.plot(np.log10(t.lam), t.density, color="k", lw=1.2, label="theory")
            # robust y range: histogram bars and the bulk of the theory line (it may diverge at an edge; clipped)
            ymax = max(float(np.nanpercentile(t.density, 97)) if len(t) else 0.0,
                       float(np.nanmax(b.emp_mass / (hi - lo))) if len(b) else 0.0) * 1.15 or 1.0
            for _, a in d[d.kind == "atom"].iterrows():
                x = math.log10(a.lam)
                ax.vlines(x, 0, ymax * 0.9, color="C3", lw=2)
                ax.plot([x], [ymax * 0.9], marker="v", color="C3", ms=5)
                ax.text(x, ymax * 0.93, f"atom {a.theory_mass:.2f}\n(sim {a.emp_mass:.2f})", color="C3",
                        fontsize=5.5, ha="center", va="bottom")
            bl = d[d.kind == "below"].iloc[0]
            s = d[d.kind == "summary"].iloc[0]
            txt = f"$\\lambda<${bl.lam_hi:.1e}: th {bl.theory_mass:.2f} / sim {bl.emp_mass:.2f}"
            if bl.atom_zero > 0:
                txt += f"\n(atom at 0: {bl.atom_zero:.3g})"
            txt += f"\nL1 = {s.l1:.3f}"
            ax.text(0.02, 0.97, txt, transform=ax.transAxes, fontsize=5.5, va="top")
            ax.set_ylim(0, ymax * 1.35)
            if i == 0:
                ax.set_title(f"L = {L}")
            if j == 0:
                ax.set_ylabel(f"{_NL_LABEL[nl]}, {w}\n" + r"$p(\log_{10}\lambda)$", fontsize=7)
            if i == len(cases) - 1:
                ax.set_xlabel(r"$\log_{10}\lambda$  ($\lambda = s^2$)")
            ax.tick_params(labelsize=6)
    axs[0, 0].legend(fontsize=6, loc="center left")
    q = float(df[df.nonlinearity.isin(["tanh", "hard_tanh"])].q_star.iloc[0]) if (
        df.nonlinearity.isin(["tanh", "hard_tanh"]).any()) else float("nan")
    w0 = int(df.width.iloc[0])
    ns = int(df.samples.iloc[0])
    _tight(fig)
    save_figure(fig, output, (
        f"Density of the squared singular values lambda of the input-output Jacobian at criticality (chi = 1), as a "
        f"density of log10 lambda. Lines: free-probability theory, PSG eq. (12) S_JJT = S_WWT^L S_D2^L (numerical "
        f"S-transform for tanh). Bars: exact spectra of {ns} random network(s) of width N = {w0} (pooled). Atoms "
        f"(red stems) with their theory mass (and the simulated fraction); the atom at lambda = 0 is reported in the "
        f"text with all mass below the first bin. tanh and hard-tanh at q* = {q:g}; linear (sigma_w^2 = 1) and ReLU "
        f"(sigma_w^2 = 2), sigma_b^2 = 0. L1 = sum over bins (and atoms, below/above) of |simulated - theory| mass. "
        f"No data set. {_scale_note(params)}"
        + ("" if w0 >= 400 else f" Deviation: N = {w0} < 400 at this scale.")))


# ================================================================================================ smax vs depth
def exp_smax_vs_depth(params, inputs, output):
    """Largest lambda (theory: spectral edge, PSG sec. 2.3) and the spectral variance (theory: L (s_W + s_D)) vs
    depth, Gaussian vs orthogonal tanh at several q* on the critical line; simulation on the depth-L prefixes."""
    from isometry.theory import spectra

    p = params["smax_vs_depth"]
    nl = p["nonlinearity"]
    depths = [int(d) for d in p["depths"]]
    rows = []
    for qi, q in enumerate(p["q_stars"]):
        sw, sb = critical_params(nl, q)
        for wi, weights in enumerate(("gaussian", "orthogonal")):
            for s in range(int(p["samples"])):
                sims = simulate_prefix(nl, weights, sw, sb, q, int(p["width"]), depths,
                                       int(params.get("seed", 0)) + 7919 + 100 * qi + 10 * wi + s)
                for L in depths:
                    lam = sims[L]
                    rows.append({"kind": "simulation", "nonlinearity": nl, "weights": weights, "q_star": q,
                                 "sigma_w2": sw, "sigma_b2": sb, "depth": L, "width": int(p["width"]), "sample": s,
                                 "lam_max": float(lam.max()), "mean": float(lam.mean()), "var": float(lam.var())})
            for L in sorted(set(np.unique(np.round(np.geomspace(1, max(depths), 40)).astype(int))) | set(depths)):
                m, v = spectra.jacobian_moments(nl, weights, int(L), q)
                rows.append({"kind": "theory", "nonlinearity": nl, "weights": weights, "q_star": q, "sigma_w2": sw,
                             "sigma_b2": sb, "depth": int(L), "width": np.nan, "sample": np.nan,
                             "lam_max": spectra.spectral_edge(nl, weights, int(L), q), "mean": m, "var": v})
    write_csv(pd.DataFrame(rows), output)


def fig_smax_vs_depth(params, inputs, output):
    from isometry.plotting import new_figure, save_figure

    df = _read(inputs, "smax_vs_depth")
    fig, axs = new_figure(1, 2, width=3.6, height=3.0)
    qs = sorted(df.q_star.unique())
    for k, q in enumerate(qs):
        c = f"C{k}"
        for weights, ls, mk in (("orthogonal", "-", "o"), ("gaussian", "--", "s")):
            t = df[(df.kind == "theory") & (df.q_star == q) & (df.weights == weights)].sort_values("depth")
            s = df[(df.kind == "simulation") & (df.q_star == q) & (df.weights == weights)]
            s = s.groupby("depth")[["lam_max", "var"]].mean().reset_index()
            axs[0, 0].plot(t.depth, np.sqrt(t.lam_max), ls, color=c)
            axs[0, 0].plot(s.depth, np.sqrt(s.lam_max), mk, color=c, mfc="none" if weights == "gaussian" else c,
                           ms=4)
            axs[0, 1].plot(t.depth, t["var"], ls, color=c)
            axs[0, 1].plot(s.depth, s["var"], mk, color=c, mfc="none" if weights == "gaussian" else c, ms=4)
        axs[0, 0].plot([], [], "-", color=c, label=f"q* = {q:.3g}")
    axs[0, 0].plot([], [], "k-", label="orthogonal (theory)")
    axs[0, 0].plot([], [], "k--", label="Gaussian (theory)")
    axs[0, 0].plot([], [], "ko", ms=4, label="orth. (sim.)")
    axs[0, 0].plot([], [], "ks", mfc="none", ms=4, label="Gauss. (sim.)")
    axs[0, 0].set(xscale="log", yscale="log", xlabel="depth L", ylabel=r"largest singular value $s_{max}$",
                  title=r"$s_{max}$ of $J$")
    axs[0, 1].set(xscale="log", yscale="log", xlabel="depth L", ylabel=r"$\sigma^2_{JJ^T}$ (variance of $\lambda$)",
                  title=r"spread of the spectrum")
    axs[0, 0].legend(fontsize=6)
    nl = df.nonlinearity.iloc[0]
    w0 = int(df[df.kind == "simulation"].width.iloc[0])
    ns = int(df[df.kind == "simulation"]["sample"].max()) + 1
    _tight(fig)
    save_figure(fig, output, (
        f"{_NL_LABEL[nl]} networks at criticality (chi = 1) for several q*: left, the largest singular value of J "
        f"(theory: square root of the spectral edge of PSG eq. 12; simulation: exact SVD), right, the variance of "
        f"lambda = s^2 (theory: sigma^2_JJT = L (s_W + s_D), s_W = 1 Gaussian, 0 orthogonal). Solid / filled: "
        f"orthogonal; dashed / open: Gaussian. Simulation: the depth-L prefixes of {ns} network(s) of width N = "
        f"{w0} per curve (mean). No data set. {_scale_note(params)}"))


# ================================================================================================ training
def _plan_rows(rows: list[dict], params: dict, recipe: dict):
    """Shards of a training sweep: jobs = same (depth, width, nonlinearity, optimizer) groups of at most
    ``max_ensemble`` members (isometry.sweep), each with the recipe it trains with (CIFAR-10 subset, logging)."""
    from isometry import sweep
    from isometry.cost import mlp_cost_s
    from isometry.pipeline import Shard

    out = []
    for job in sweep.make_jobs(rows, max_ensemble=int(params["max_ensemble"])):
        g = job.group
        spec = {"job": sweep.job_spec(job), "n_train": int(recipe["n_train"]), "n_test": int(recipe["n_test"]),
                "n_log": int(recipe["n_log"]), "bf16": bool(recipe.get("bf16", False)), "seed": int(params["seed"])}
        cost = mlp_cost_s(depth=int(g["depth"]), width=int(g["width"]), n_in=3072, n_out=10,
                          batch=int(g["batch_size"]), steps=int(g["steps"]), members=len(job.members),
                          eval_examples=int(recipe["n_test"]), n_evals=int(recipe["n_log"]) + 2)
        key = f"{g['nonlinearity']}-d{g['depth']}-w{g['width']}-{g['optimizer']}"
        out.append(Shard(key=key, spec=spec, data=("cifar10",), cost_s=cost))
    return out


def run_training_shard(spec: dict, ctx) -> pd.DataFrame:
    """Train one shard with the batched engine on the CIFAR-10 subset of its recipe."""
    import torch

    from isometry import sweep

    ds = ctx.dataset("cifar10").subset(int(spec["n_train"]), int(spec["n_test"]))
    device = None if ctx.device == "auto" else ctx.device
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("device: cuda requested but CUDA is not available")
    job = sweep.job_from_spec(spec["job"])
    return sweep.run_job(job, ds, n_log=int(spec["n_log"]), eval_examples=int(spec["n_test"]),
                         data_seed=int(spec["seed"]), device=device, autocast_bf16=bool(spec["bf16"]),
                         progress=False, desc=job.job_id)


def plan_cifar10_learning(params):
    """PSG Fig. 4: members = config x init x optimizer x lr x seed on CIFAR-10, depth L, width N (batched engine)."""
    p = params["cifar10_learning"]
    rows = []
    for c in p["configs"]:
        for init in p["inits"]:
            for opt, lrs in p["optimizers"].items():
                for lr in lrs:
                    for seed in p["seeds"]:
                        _, var = predicted_spread(c["nonlinearity"], init, p["depth"], c["sigma_w2"], c["sigma_b2"])
                        rows.append({
                            "paper": PAPER, "experiment": "cifar10_learning", "model": "mlp",
                            "nonlinearity": c["nonlinearity"], "depth": int(p["depth"]), "width": int(p["width"]),
                            "steps": int(p["steps"]), "batch_size": int(p["batch_size"]), "optimizer": opt,
                            "run_id": f"{c['name']}-{init}-{opt}-lr{lr:g}-s{seed}", "init": init,
                            "sigma_w2": float(c["sigma_w2"]), "sigma_b2": float(c["sigma_b2"]), "lr": float(lr),
                            "seed": int(seed), "config": c["name"], "sigma2_jj": var})
    return _plan_rows(rows, params, p)


def best_runs(df: pd.DataFrame, keys: list[str], threshold: float) -> pd.DataFrame:
    """Per group (``keys``), the learning rate with the fewest steps to ``threshold`` (seed-mean accuracy curve);
    ties / never-reached broken by the best final accuracy. Columns: keys, lr, steps_to_threshold, final_acc."""
    out = []
    for k, g in df.groupby(keys, dropna=False):
        cand = []
        for lr, gl in g.groupby("lr"):
            curve = gl.groupby("step").test_acc.mean()
            n_div = int(gl.groupby("run_id").diverged.max().sum())
            tau = steps_to_threshold(curve.index, curve.to_numpy(), threshold)
            final = float(curve.iloc[-1]) if np.isfinite(curve.iloc[-1]) else float("nan")
            cand.append((tau if np.isfinite(tau) else np.inf, -np.nan_to_num(final, nan=-1.0), lr, tau, final,
                         n_div))
        cand.sort(key=lambda t: (t[0], t[1]))
        _, _, lr, tau, final, n_div = cand[0]
        row = dict(zip(keys, k if isinstance(k, tuple) else (k,)))
        row.update(lr=lr, steps_to_threshold=tau, final_acc=final, n_lrs=len(cand),
                   max_steps=float(g.step.max()), diverged_runs=n_div)
        out.append(row)
    return pd.DataFrame(out)


def fig_cifar10_learning(params, inputs, output):
    from isometry.plotting import new_figure, save_figure

    df = _read(inputs, "cifar10_learning")
    p = params["cifar10_learning"]
    thr = float(p["threshold"])
    opts = list(dict.fromkeys(df.optimizer))
    best = best_runs(df, ["optimizer", "config", "init"], thr)
    cfgs = [c["name"] for c in p["configs"] if c["name"] in set(df.config)]
    fig, axs = new_figure(1, len(opts), width=3.3 if len(opts) > 1 else 4.6, height=3.1, sharey=True)
    for j, opt in enumerate(opts):
        ax = axs[0, j]
        for k, cfg in enumerate(cfgs):
            for init, ls in (("orthogonal", "-"), ("gaussian", "--")):
                b = best[(best.optimizer == opt) & (best.config == cfg) & (best.init == init)]
                if b.empty:
                    continue
                lr = float(b.lr.iloc[0])
                g = df[(df.optimizer == opt) & (df.config == cfg) & (df.init == init) & (df.lr == lr)]
                curve = g[g.step > 0].groupby("step").test_acc.mean()
                ax.plot(curve.index.to_numpy(), curve.to_numpy(), ls, color=f"C{k}",
                        label=f"{cfg}, {init[:5]}. (lr {lr:g})")
        ax.axhline(thr, color="0.6", lw=0.8, ls=":")
        ax.set(xscale="log", xlabel="training step", title=opt)
        if j == 0:
            ax.set_ylabel("test accuracy")
        ax.legend(fontsize=5, loc="upper left")
    d0 = df.iloc[0]
    _tight(fig)
    save_figure(fig, output, (
        f"PSG Fig. 4 reproduction on {d0.dataset} (the lossy JPEG copy of CIFAR-10 when the variant says jpeg): fully "
        f"connected networks, depth L = {int(d0.depth)}, width N = {int(d0.width)}, test accuracy (first "
        f"{int(p['n_test'])} test images) versus step (log axis; step 0 omitted), batch {int(p['batch_size'])}, "
        f"{int(p['n_train'])} training images. Solid: orthogonal, dashed: Gaussian weights; each curve is the best "
        f"learning rate of its grid (fewest steps to test accuracy {thr:g}; legend). {_scale_note(params)} "
        f"Deviations from the paper (L = 200, N = 400, full data, long training, all four optimizers) at this scale: "
        f"sizes and steps as stated, optimizers {', '.join(opts)}."))


def plan_speed_sweep(params):
    """PSG Fig. 5: tanh at q* on the critical line (meanfield.critical_point), depths x q* x init x lr (x seed)."""
    p = params["speed_sweep"]
    rows = []
    for L in p["depths"]:
        for q in p["q_stars"]:
            sw, sb = critical_params("tanh", q)
            for init in p["inits"]:
                _, var = predicted_spread("tanh", init, L, sw, sb)
                for lr in p["lrs"]:
                    for seed in p["seeds"]:
                        rows.append({
                            "paper": PAPER, "experiment": "speed_sweep", "model": "mlp", "nonlinearity": "tanh",
                            "depth": int(L), "width": int(p["width"]), "steps": int(p["steps"]),
                            "batch_size": int(p["batch_size"]), "optimizer": p["optimizer"],
                            "run_id": f"L{L}-q{q:g}-{init}-lr{lr:g}-s{seed}", "init": init, "sigma_w2": sw,
                            "sigma_b2": sb, "lr": float(lr), "seed": int(seed), "q_star": float(q),
                            "sigma2_jj": var})
    return _plan_rows(rows, params, p)


def fig_speed_vs_spread(params, inputs, output):
    from isometry.plotting import new_figure, save_figure

    df = _read(inputs, "speed_sweep")
    p = params["speed_sweep"]
    thr = float(p["threshold"])
    best = best_runs(df, ["depth", "q_star", "init", "sigma2_jj"], thr)
    fig, axs = new_figure(1, 3, width=3.6, height=3.0)
    depths = sorted(best.depth.unique())
    qs = sorted(best.q_star.unique())
    markers = "osD^v<>ph"
    cap = float(best.max_steps.max())
    for _, r in best.iterrows():
        c = f"C{qs.index(r.q_star)}"
        mk = markers[depths.index(r.depth) % len(markers)]
        reached = np.isfinite(r.steps_to_threshold)
        y = r.steps_to_threshold if reached else cap * 1.3
        axs[0, 0].plot(r.sigma2_jj, y, mk, color=c, mfc=c if r.init == "orthogonal" else "none", ms=5)
        axs[0, 1].plot(r.depth, y, mk, color=c, mfc=c if r.init == "orthogonal" else "none", ms=5)
    rho = spearman(best.sigma2_jj, best.steps_to_threshold.fillna(np.inf))
    axs[0, 0].axhline(cap, color="0.6", lw=0.8, ls=":")
    axs[0, 0].text(0.02, 0.97, f"Spearman = {rho:.2f}\n(above the dotted line:\nnot reached in {cap:g} steps)",
                   transform=axs[0, 0].transAxes, fontsize=6, va="top")
    axs[0, 0].set(xscale="log", yscale="log", xlabel=r"predicted $\sigma^2_{JJ^T}$ (theory)",
                  ylabel=f"steps to test acc. {thr:g}", title="learning speed vs spread")
    axs[0, 1].set(xscale="log", yscale="log", xlabel="depth L", ylabel=f"steps to test acc. {thr:g}",
                  title="learning speed vs depth")
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    for k, q in enumerate(qs):
        for init, ls in (("orthogonal", "-"), ("gaussian", "--")):
            b = best[(best.q_star == q) & (best.init == init)].sort_values("depth")
            axs[0, 2].plot(b.depth, b.lr, ls + "o", color=f"C{k}", ms=4, mfc=f"C{k}" if init == "orthogonal" else
                           "none")
        axs[0, 1].plot([], [], "o", color=f"C{k}", label=f"q* = {q:.3g}")
    for i, L in enumerate(depths):
        axs[0, 1].plot([], [], markers[i % len(markers)], color="k", mfc="none", label=f"L = {L}")
    axs[0, 1].plot([], [], "ko", label="orthogonal")
    axs[0, 1].plot([], [], "ko", mfc="none", label="Gaussian")
    axs[0, 1].legend(fontsize=5.5, loc="upper left")
    lrs = sorted(df.lr.unique())
    axs[0, 2].set(xscale="log", yscale="log", xlabel="depth L", ylabel="best learning rate (grid)",
                  title="optimal learning rate")
    axs[0, 2].set_yticks(lrs)
    for ax in (axs[0, 1], axs[0, 2]):
        ax.set_xticks(depths)
        ax.set_xlim(min(depths) / 1.5, max(depths) * 1.5)
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
    axs[0, 2].yaxis.set_major_formatter(ScalarFormatter())
    axs[0, 2].yaxis.set_minor_formatter(NullFormatter())
    axs[0, 2].set_ylim(min(lrs) / 1.5, max(lrs) * 1.5)
    d0 = df.iloc[0]
    _tight(fig)
    save_figure(fig, output, (
        f"PSG Fig. 5 reproduction on {d0.dataset}: tanh networks on the critical line at several q*, depths "
        f"{', '.join(str(int(d)) for d in depths)}, width N = {int(d0.width)}, {d0.optimizer}, learning rate grid "
        f"{', '.join(f'{x:g}' for x in lrs)} (best per point). Left: steps to reach test accuracy {thr:g} versus the "
        f"predicted spread sigma^2_JJT = L (s_W + s_D) of the Jacobian spectrum (filled: orthogonal, open: "
        f"Gaussian); middle: the same versus depth; right: the best learning rate of the grid versus depth. "
        f"{_scale_note(params)} Deviation: sizes, steps and grid reduced at this scale as stated."))


# ================================================================================================ checks
def CHECKS(params, inputs, output):
    """Rows of results/checks.csv for PSG (see module docstring); failures are written as failed, with numbers."""
    from isometry.theory import meanfield

    c = params["checks"]
    scale = params.get("scale", "quick")
    rows: list[Check] = []

    def add(claim, fig, pv, rv, tol, ok):
        rows.append(Check(claim=claim, paper=PAPER, figure=fig, paper_value=pv, reproduced_value=rv, tolerance=tol,
                          passed=bool(ok), scale=scale))

    # critical line (papers.md section 1 table, [V-num])
    for sb, sw_ref in ((2.011e-5, 1.05), (0.1038, 2.00)):
        sw = float(meanfield.critical_sigma_w2("tanh", sb))
        add(f"tanh critical line passes sigma_w^2 = {sw_ref} at sigma_b^2 = {sb:g} (PSG Fig. 4 operating point)",
            "phase_diagram", sw_ref, round(sw, 4), 0.01, abs(sw - sw_ref) <= 0.01)

    sp = _maybe(inputs, "spectra")
    if sp is not None:
        s = sp[sp.kind == "summary"]
        lmax = int(c["l1_max_depth"])
        for _, r in s.iterrows():
            tag = f"{_NL_LABEL[r.nonlinearity]}+{r.weights}, L={int(r.depth)}, N={int(r.width)}"
            if r.depth <= lmax:
                add(f"spectrum theory vs histogram L1 < {c['l1_max']} ({tag})", "spectra", f"< {c['l1_max']}",
                    round(float(r.l1), 4), c["l1_max"], r.l1 < c["l1_max"])
            rel = abs(r.lam_max - r.edge) / r.edge
            if r.depth <= lmax:
                add(f"spectral edge: theory {r.edge:.4g} vs largest empirical lambda ({tag})", "spectra",
                    round(float(r.edge), 4), round(float(r.lam_max), 4), c["edge_rtol"], rel <= c["edge_rtol"])
                add(f"mean lambda = 1 at criticality ({tag})", "spectra", 1.0, round(float(r.mean_emp), 4),
                    c["moment_rtol"], abs(r.mean_emp - 1.0) <= c["moment_rtol"])
                relv = abs(r.var_emp - r.var_theory) / max(r.var_theory, 1e-12)
                add(f"variance of lambda matches sigma^2_JJT = L(s_W + s_D) = {r.var_theory:.4g} ({tag})", "spectra",
                    round(float(r.var_theory), 4), round(float(r.var_emp), 4), c["var_rtol"], relv <= c["var_rtol"])

    sm = _maybe(inputs, "smax_vs_depth")
    if sm is not None:
        sim = sm[sm.kind == "simulation"].groupby(["weights", "q_star", "depth"])[["lam_max", "var"]].mean()
        th = sm[sm.kind == "theory"].set_index(["weights", "q_star", "depth"])
        dmax = int(c["l1_max_depth"])
        for weights in ("orthogonal", "gaussian"):
            errs = [abs(r.lam_max - th.loc[k].lam_max) / th.loc[k].lam_max for k, r in sim.iterrows()
                    if k[0] == weights and k[2] <= dmax and k in th.index]
            if errs:
                e = float(np.max(errs))
                add(f"s_max^2 ({weights}): theory spectral edge vs largest simulated lambda, worst relative error "
                    f"over q* x L <= {dmax}", "smax_vs_depth", "within 10%", round(e, 4), c["edge_rtol"],
                    e <= c["edge_rtol"])
        sim_depths = sorted(sm[sm.kind == "simulation"].depth.unique())
        lmax_d = int(max([d for d in sim_depths if d <= dmax] or sim_depths[:1]))
        for q in sorted(sm.q_star.unique()):
            g = sim.loc[("gaussian", q, lmax_d)].lam_max
            o = sim.loc[("orthogonal", q, lmax_d)].lam_max
            add(f"orthogonal weights give a smaller s_max than Gaussian (tanh, q*={q:g}, L={lmax_d})",
                "smax_vs_depth", "orthogonal < Gaussian", f"{math.sqrt(o):.3g} vs {math.sqrt(g):.3g}", "-", o < g)

    cl = _maybe(inputs, "cifar10_learning")
    if cl is not None:
        thr = float(params["cifar10_learning"]["threshold"])
        best = best_runs(cl, ["optimizer", "config", "init"], thr)
        ref = params["cifar10_learning"]["configs"][0]["name"]  # small-q* tanh
        relu = [x["name"] for x in params["cifar10_learning"]["configs"] if x["nonlinearity"] == "relu"]
        for opt in dict.fromkeys(best.optimizer):
            b = best[best.optimizer == opt].set_index(["config", "init"])
            if (ref, "orthogonal") not in b.index:
                continue
            t0 = b.loc[(ref, "orthogonal")].steps_to_threshold
            comps = [(f"Gaussian {ref}", [(ref, "gaussian")])]
            if relu:
                comps.append((f"{relu[0]} (best of orthogonal/Gaussian)", [(relu[0], "orthogonal"),
                                                                          (relu[0], "gaussian")]))
            for label, keys in comps:
                ts = [b.loc[k].steps_to_threshold for k in keys if k in b.index]
                if not ts:
                    continue
                other = float(np.nanmin(ts)) if np.isfinite(ts).any() else float("nan")
                if not np.isfinite(t0):
                    rv, ok = "orthogonal tanh never reached the threshold", False
                elif not np.isfinite(other):
                    lb = float(b.max_steps.max()) / t0
                    rv, ok = f">= {lb:.3g} (other never reached)", lb >= c["speedup"]
                else:
                    rv, ok = round(other / t0, 3), other / t0 >= c["speedup"]
                add(f"orthogonal {ref} reaches test acc {thr:g} >= {c['speedup']}x faster than {label} ({opt}, "
                    f"steps-to-threshold ratio)", "cifar10_learning", f">= {c['speedup']}", rv, c["speedup"], ok)

    ss = _maybe(inputs, "speed_sweep")
    if ss is not None:
        thr = float(params["speed_sweep"]["threshold"])
        best = best_runs(ss, ["depth", "q_star", "init", "sigma2_jj"], thr)
        rho = spearman(best.sigma2_jj, best.steps_to_threshold.fillna(np.inf))
        n_ok = int(np.isfinite(best.steps_to_threshold).sum())
        add(f"Spearman correlation of steps-to-threshold (test acc {thr:g}) with predicted sigma^2_JJT > "
            f"{c['spearman_min']} ({len(best)} points, {n_ok} reached the threshold)", "speed_vs_spread",
            f"> {c['spearman_min']}", round(rho, 4) if np.isfinite(rho) else rho, c["spearman_min"],
            np.isfinite(rho) and rho > c["spearman_min"])
    write_checks(rows, output)


EXPERIMENT_LIST = (
    Theory("phase_diagram", exp_phase_diagram, uses=("phase_diagram", "cifar10_learning.configs")),
    Theory("spectra", exp_spectra, uses=("seed", "spectra")),
    Theory("smax_vs_depth", exp_smax_vs_depth, uses=("seed", "smax_vs_depth")),
    Sweep("cifar10_learning", plan_cifar10_learning, run_training_shard, uses=("seed", "cifar10_learning")),
    Sweep("speed_sweep", plan_speed_sweep, run_training_shard, uses=("seed", "speed_sweep")),
)
FIGURES = {
    "phase_diagram": fig_phase_diagram,
    "spectra": fig_spectra,
    "smax_vs_depth": fig_smax_vs_depth,
    "cifar10_learning": fig_cifar10_learning,
    "speed_vs_spread": fig_speed_vs_spread,
}

_FIGURE_INPUTS = {"speed_vs_spread": "speed_sweep"}
_FIGURE_USES = {"cifar10_learning": ("cifar10_learning",), "speed_vs_spread": ("speed_sweep",)}
PIPELINE = Pipeline(
    paper=PAPER,
    experiments=EXPERIMENT_LIST,
    figures=tuple(Figure(name, (_FIGURE_INPUTS.get(name, name),), fn, uses=_FIGURE_USES.get(name, ()))
                  for name, fn in FIGURES.items()),
    checks=CHECKS,
    checks_inputs=tuple(e.name for e in EXPERIMENT_LIST),
    checks_uses=("checks", "cifar10_learning", "speed_sweep"),
)
EXPERIMENTS = run_functions(PIPELINE)     # {name: fn(params, inputs, output)} for library use
