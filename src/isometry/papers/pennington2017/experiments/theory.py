"""Theory jobs of pennington2017 (no data set): the phase diagram (PSG Fig. 1), Jacobian spectra at criticality
(PSG Fig. 2) and the largest singular value versus depth (PSG Fig. 3).

Theory = free probability, PSG eq. (12) S_{JJ^T} = S_{WW^T}^L S_{D^2}^L (``isometry.theory.spectra``); simulation =
exact SVD of the Jacobian of random networks (``common.simulate_prefix``). A point where the theory solver did not
converge is kept as NaN with ``theory_ok = False`` ("no theory here"): it is never turned into a zero density.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from isometry.io import write_csv
from isometry.pipeline import Theory, dense_memory

from ..common import case_params, critical_params, simulate_prefix


# ================================================================================================ Fig. 1
def exp_phase_diagram(params, inputs, output):
    """tanh phase diagram: chi_1 and q* on a (sigma_w^2, sigma_b^2) grid (SGGS eqs. 3, 5; PSG eq. 5), the critical
    line chi_1 = 1 with q* along it (meanfield.critical_sigma_w2), and the Fig. 4 tanh operating points."""
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


# ================================================================================================ Fig. 2
def _finite_trapz_log(lam, f):
    """Integral of f d(ln lambda) over the segments whose two ends are finite (NaN = no theory there)."""
    x = np.log(lam)
    seg = 0.5 * (f[1:] + f[:-1]) * np.diff(x)
    return float(np.nansum(np.where(np.isfinite(seg), seg, np.nan)))


def theory_grid(nl, weights, L, q_star, n_points, decades):
    """Continuous density on a log grid adapted to the support (NaN where the solver failed), the atoms, the
    edge and the continuous mass below the grid."""
    from isometry.theory import spectra

    edge = spectra.spectral_edge(nl, weights, L, q_star)
    atoms = spectra.jacobian_density(nl, weights, L, q_star, np.array([edge]))[1]
    cont = 1.0 - sum(m for _, m in atoms)
    if cont <= 1e-12:               # pure atoms (e.g. orthogonal linear): no continuous part
        return np.array([edge]), np.array([np.nan]), atoms, edge, 0.0
    coarse = np.geomspace(edge * 10.0 ** -decades, edge, 73)
    dens, _ = spectra.jacobian_density(nl, weights, L, q_star, coarse)
    f = coarse * dens                                   # density in ln(lambda)
    pos = f[np.isfinite(f) & (f > 0)]
    ref = float(np.median(pos)) if pos.size else 1.0    # robust: the density may diverge at an edge
    idx = np.flatnonzero(np.isfinite(f) & (f > 1e-4 * ref))
    lo = coarse[max(int(idx[0]) - 1, 0)] if idx.size else coarse[0]
    # log grid plus points clustered at the edge (square-root or arcsine-like edges are integrable), plus a grid
    # linear in s = sqrt(lambda) for the paper-style P(s) panels
    s_lin = np.linspace(0.0, math.sqrt(edge), 241)[1:] ** 2
    lam = np.union1d(np.geomspace(lo, edge, n_points), edge * (1.0 - np.geomspace(1e-9, 0.3, 60)))
    lam = np.union1d(lam, s_lin[s_lin >= lo])
    lam = lam[lam >= lo]
    dens, _ = spectra.jacobian_density(nl, weights, L, q_star, lam)
    inside = _finite_trapz_log(lam, lam * dens)
    return lam, dens, atoms, edge, max(cont - inside, 0.0)


def _bin_theory_mass(lam, dens, edges):
    """Theory (continuous) mass in each bin [edges[i], edges[i+1]] (trapezoid in ln lambda; NaN segments skipped)."""
    x = np.log(lam)
    f = lam * dens
    seg = 0.5 * (f[1:] + f[:-1]) * np.diff(x)
    cum = np.concatenate([[0.0], np.cumsum(np.where(np.isfinite(seg), seg, 0.0))])
    c = np.interp(np.log(edges), x, cum, left=0.0, right=cum[-1])
    return np.diff(c)


def spectrum_rows(lam_list, nl, weights, L, q, base, p):
    """All rows of one (case, depth): theory density (of log10 lambda and of s), log-lambda bins for the L1
    distance, linear s bins for the paper-style panels, atoms, below/above masses and a summary."""
    from isometry.theory import spectra

    lam_e = np.concatenate(lam_list)
    n = lam_e.size
    lam, dens, atoms, edge, below_t = theory_grid(nl, weights, L, q, int(p["theory_points"]), float(p["decades"]))
    ok = np.isfinite(dens)
    rows = [{**base, "kind": "theory", "lam": x, "density": y * x * math.log(10.0),
             "s": math.sqrt(x), "p_s": 2.0 * math.sqrt(x) * y, "theory_ok": bool(o)}
            for x, y, o in zip(lam, dens, ok)]
    atom_rows, rest, l1 = [], lam_e, 0.0
    for a, m in atoms:
        if a <= 0.0:
            continue
        hit = np.abs(rest - a) <= 1e-6 * a
        em = float(hit.sum()) / n
        rest = rest[~hit]
        l1 += abs(em - m)
        atom_rows.append({**base, "kind": "atom", "lam": a, "s": math.sqrt(a), "theory_mass": m, "emp_mass": em})
    zero_atom = sum(m for a, m in atoms if a <= 0.0)
    if zero_atom > 0:
        em0 = float((rest <= 1e-10 * edge).sum()) / n
        atom_rows.append({**base, "kind": "atom", "lam": 0.0, "s": 0.0, "theory_mass": zero_atom, "emp_mass": em0})
    # log-lambda bins over the theory support: the L1 distance
    edges = np.geomspace(lam[0] if lam.size > 1 else edge * 1e-3, edge * float(p["edge_margin"]), int(p["bins"]) + 1)
    cnt, _ = np.histogram(rest, bins=edges)
    tm = _bin_theory_mass(lam, dens, edges) if lam.size > 1 else np.zeros(len(edges) - 1)
    em_b = cnt / n
    below_e = float((rest < edges[0]).sum()) / n
    above_e = float((rest > edges[-1]).sum()) / n
    below_theory = below_t + zero_atom
    l1 += float(np.abs(em_b - tm).sum()) + abs(below_e - below_theory) + above_e
    rows += [{**base, "kind": "bin", "lam": a, "lam_hi": b, "emp_mass": e, "theory_mass": t}
             for a, b, e, t in zip(edges[:-1], edges[1:], em_b, tm)]
    rows.append({**base, "kind": "below", "lam": 0.0, "lam_hi": edges[0], "emp_mass": below_e,
                 "theory_mass": below_theory, "atom_zero": zero_atom})
    rows.append({**base, "kind": "above", "lam": edges[-1], "lam_hi": np.inf, "emp_mass": above_e,
                 "theory_mass": 0.0})
    # linear bins in s (PSG Fig. 2 draws P(s) on a linear s axis): empirical density of the continuous part
    s_e = np.sqrt(rest[rest > 1e-10 * edge])
    s_hi = max(math.sqrt(edge) * 1.15, float(s_e.max()) if s_e.size else 0.0)
    sedges = np.linspace(0.0, s_hi, int(p["s_bins"]) + 1)
    scnt, _ = np.histogram(s_e, bins=sedges)
    rows += [{**base, "kind": "s_bin", "s": a, "s_hi": b, "emp_density": c / n / (b - a)}
             for a, b, c in zip(sedges[:-1], sedges[1:], scnt)]
    mean_t, var_t = spectra.jacobian_moments(nl, weights, L, q)
    rows.append({**base, "kind": "summary", "edge": edge, "lam_max": float(lam_e.max()),
                 "lam_max_mean": float(np.mean([x.max() for x in lam_list])), "mean_theory": mean_t,
                 "mean_emp": float(lam_e.mean()), "var_theory": var_t, "var_emp": float(lam_e.var()), "l1": l1,
                 "n_lambda": n, "theory_nan": int((~ok).sum()), "theory_points": int(ok.size)})
    return rows + atom_rows


def exp_spectra(params, inputs, output):
    """PSG Fig. 2: theory density (PSG eq. 12) vs exact spectra of random critical networks (see spectrum_rows).
    Empirical lambdas pooled over ``samples`` networks of width N; the depth-L prefixes of one deep network."""
    p = params["spectra"]
    seed0 = int(params["seed"])
    depths = [int(d) for d in p["depths"]]
    frames = []
    for ci, case in enumerate(p["cases"]):
        nl, weights = case["nonlinearity"], case["weights"]
        sw, sb, q = case_params(nl, p["q_star"])
        emp = {L: [] for L in depths}
        for s in range(int(p["samples"])):
            sims = simulate_prefix(nl, weights, sw, sb, q, int(p["width"]), depths, seed0 + 1000 * ci + s)
            for L in depths:
                emp[L].append(sims[L])
        for L in depths:
            base = {"nonlinearity": nl, "weights": weights, "depth": L, "width": int(p["width"]), "q_star": q,
                    "sigma_w2": sw, "sigma_b2": sb, "samples": int(p["samples"])}
            frames.append(pd.DataFrame(spectrum_rows(emp[L], nl, weights, L, q, base, p)))
    write_csv(pd.concat(frames, ignore_index=True), output)


# ================================================================================================ Fig. 3
def finite_n_quantile(nl: str, weights: str, L: int, q_star: float, tail_mass: float) -> float:
    """The lambda above which the N = infinity theory puts mass ``tail_mass`` (atoms included): with
    tail_mass = 1/N it is the 'classical location' of the largest of N eigenvalues, the finite-N counterpart of the
    spectral edge (for a square-root edge it sits N^{-2/3} below it; for the heavy-tailed spectra of large q*,
    where a vanishing mass lives near the edge, far below it). NaN when the solver fails near that point."""
    from isometry.theory import spectra

    edge = spectra.spectral_edge(nl, weights, L, q_star)

    def tail_on(lam):
        dens, atoms = spectra.jacobian_density(nl, weights, L, q_star, lam)
        f = lam * dens
        seg = 0.5 * (f[1:] + f[:-1]) * np.diff(np.log(lam))
        bad = ~np.isfinite(seg)
        tail = np.concatenate([np.cumsum(np.where(bad, 0.0, seg)[::-1])[::-1], [0.0]])
        badtail = np.concatenate([np.cumsum(bad[::-1])[::-1] > 0, [False]])
        for a, m in atoms:
            if a > 0:
                tail = tail + m * (lam < a)
        return tail, badtail

    # coarse pass over 14 decades, then a fine pass from the bracketing point to the edge
    near = edge * (1.0 - np.geomspace(1e-10, 0.5, 60))
    lam = np.union1d(np.geomspace(edge * 1e-14, edge, 120), near)
    tail, _ = tail_on(lam)
    i = np.flatnonzero(tail >= tail_mass)
    if i.size == 0:
        return math.nan
    lo = lam[int(i[-1])]
    lam = np.union1d(np.geomspace(lo, edge, 300), near[near > lo])
    tail, badtail = tail_on(lam)
    i = np.flatnonzero(tail >= tail_mass)
    k = int(i[-1]) if i.size else 0
    if badtail[k]:              # the solver failed between that point and the edge: no theory there
        return math.nan
    if k + 1 < lam.size and tail[k] > tail[k + 1]:      # interpolate in log lambda between the grid points
        f = (tail[k] - tail_mass) / (tail[k] - tail[k + 1])
        return float(np.exp(np.log(lam[k]) + f * (np.log(lam[k + 1]) - np.log(lam[k]))))
    return float(lam[k])


def exp_smax_vs_depth(params, inputs, output):
    """PSG Fig. 3: largest lambda (theory: the spectral edge, PSG sec. 2.3, and its finite-N counterpart
    ``finite_n_quantile`` at tail mass 1/N) and the spectral variance (theory L (s_W + s_D)) vs depth, Gaussian vs
    orthogonal tanh at several q* on the critical line; simulation on the depth-L prefixes of ``samples`` networks."""
    from isometry.theory import spectra

    p = params["smax_vs_depth"]
    nl = p["nonlinearity"]
    N = int(p["width"])
    depths = [int(d) for d in p["depths"]]
    rows = []
    for qi, q in enumerate(p["q_stars"]):
        sw, sb = critical_params(nl, q)
        for wi, weights in enumerate(("gaussian", "orthogonal")):
            for s in range(int(p["samples"])):
                sims = simulate_prefix(nl, weights, sw, sb, q, N, depths,
                                       int(params["seed"]) + 7919 + 100 * qi + 10 * wi + s)
                for L in depths:
                    lam = sims[L]
                    rows.append({"kind": "simulation", "nonlinearity": nl, "weights": weights, "q_star": q,
                                 "sigma_w2": sw, "sigma_b2": sb, "depth": L, "width": N, "sample": s,
                                 "lam_max": float(lam.max()), "mean": float(lam.mean()), "var": float(lam.var())})
            grid = sorted(set(np.unique(np.round(np.geomspace(1, max(depths), 30)).astype(int)).tolist()) | set(depths))
            for L in grid:
                m, v = spectra.jacobian_moments(nl, weights, int(L), q)
                rows.append({"kind": "theory", "nonlinearity": nl, "weights": weights, "q_star": q, "sigma_w2": sw,
                             "sigma_b2": sb, "depth": int(L), "width": N, "sample": np.nan,
                             "lam_max": spectra.spectral_edge(nl, weights, int(L), q),
                             "lam_quantile": finite_n_quantile(nl, weights, int(L), q, 1.0 / N)
                             if int(L) in depths else np.nan, "mean": m,
                             "var": v})
    write_csv(pd.DataFrame(rows), output)


EXPERIMENTS = (
    Theory("phase_diagram", exp_phase_diagram, uses=("phase_diagram", "cifar10_learning.configs")),
    Theory("spectra", exp_spectra, uses=("seed", "spectra"), memory=dense_memory("spectra.width")),
    Theory("smax_vs_depth", exp_smax_vs_depth, uses=("seed", "smax_vs_depth"),
           memory=dense_memory("smax_vs_depth.width")),
)
