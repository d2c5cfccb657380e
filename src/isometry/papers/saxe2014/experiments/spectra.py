"""Figs. 6A (right), 6B, 6C and 7 of Saxe, McClelland & Ganguli 2014: random-matrix simulations, no training.

* ``product_spectra``   singular values (Fig. 6B) and eigenvalues in the complex plane (Fig. 6C) of products of
                        k independent N x N Gaussian matrices (entries N(0, 1/N)); the eigenvalues of one random
                        orthogonal matrix (Fig. 6A right).
* ``jacobian_spectra``  singular values of the end-to-end Jacobian (eq. 22) of one random orthogonal tanh network
                        x^{l+1} = g W^{(l+1,l)} tanh(x^l) (eq. 20) over a grid of gain g and input variance q1 (Fig. 7).
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd

from isometry.io import write_csv


def _log(msg: str) -> None:
    print(f"[saxe2014] {msg}", flush=True)


def decade_fraction(sv: np.ndarray) -> float:
    """Fraction of the singular values within one decade of the largest (sv >= max/10): the share of directions
    that a product propagates at a comparable, O(1)-relative scale (1 for an isometry)."""
    sv = np.asarray(sv, float)
    return float(np.mean(sv >= sv.max() / 10.0)) if sv.size else math.nan


def excess_kurtosis(v: np.ndarray) -> float:
    v = np.asarray(v, float)
    c = v - v.mean()
    m2 = float(np.mean(c ** 2))
    return float(np.mean(c ** 4) / m2 ** 2 - 3.0) if m2 > 0 else math.nan


def radial_origin_fraction(k: int, half_width: float) -> float:
    """Fraction of the eigenvalues of a product of k N x N Ginibre matrices (N -> infinity) in the square bin
    [-h, h]^2 around the origin: their moduli follow P(|z| < r) = r^(2/k) (uniform density of |z|^(2/k) on the unit
    disk), averaged over the square's boundary r(theta) = h / max(|cos|, |sin|)."""
    th = np.linspace(0.0, 2.0 * np.pi, 20001)[:-1]
    r = np.minimum(half_width / np.maximum(np.abs(np.cos(th)), np.abs(np.sin(th))), 1.0)
    return float(np.mean(r ** (2.0 / k)))


# ------------------------------------------------------------------------------------------- Fig. 6B / 6C
def product_spectra(params, inputs, output):
    """Products W_k ... W_1 of k independent N x N Gaussian matrices with entries N(0, 1/N) (SMG eq. 19, Fig. 6B/C),
    ``samples`` realizations per k, in float64.

    Rows ``kind``: sv_hist (k, linear bins of the singular values: bin_lo, bin_hi, count, density), ev_hist (k,
    x, y: centre of a ``ev_bin`` x ``ev_bin`` bin of the eigenvalues, bins centred on the origin as in Fig. 6C, count,
    fraction), summary (k, origin_fraction: eigenvalues in the bin at the origin, the N -> infinity value of the
    radial law, sv statistics: excess kurtosis, median, maximum, decade_fraction, top_sv2 and the Fuss-Catalan edge
    (k+1)^(k+1)/k^k), orth_eig (re, im of one ``orth_width`` x ``orth_width`` Haar orthogonal matrix, Fig. 6A right).
    Singular values below ~1e-15 x the largest are float64 round-off (the product is formed explicitly)."""
    import torch

    from isometry.init import orthogonal_

    p = params["product_spectra"]
    N, n_samp, seed, b = int(p["width"]), int(p["samples"]), int(params["seed"]), float(p["ev_bin"])
    rows = []
    for k in p["depths"]:
        k = int(k)
        t0 = time.perf_counter()
        svs, evs = [], []
        for r in range(n_samp):
            g = torch.Generator().manual_seed(seed * 1_000_003 + 1009 * k + r)
            prod = torch.randn(N, N, generator=g, dtype=torch.float64) / math.sqrt(N)
            for _ in range(k - 1):
                prod = (torch.randn(N, N, generator=g, dtype=torch.float64) / math.sqrt(N)) @ prod
            svs.append(torch.linalg.svdvals(prod).numpy())
            evs.append(torch.linalg.eigvals(prod).numpy())
        sv, ev = np.concatenate(svs), np.concatenate(evs)
        _log(f"product_spectra k = {k}: {n_samp} x N = {N} in {time.perf_counter() - t0:.1f} s")
        edges = np.linspace(0.0, sv.max() * (1 + 1e-9), int(p["sv_bins"]) + 1)
        cnt, _ = np.histogram(sv, bins=edges)
        dens = cnt / (len(sv) * np.diff(edges))
        rows += [{"kind": "sv_hist", "k": k, "bin_lo": lo, "bin_hi": hi, "count": int(c), "density": d}
                 for lo, hi, c, d in zip(edges[:-1], edges[1:], cnt, dens)]
        ix, iy = np.round(ev.real / b).astype(int), np.round(ev.imag / b).astype(int)
        cells, cc = np.unique(np.stack([ix, iy], 1), axis=0, return_counts=True)
        rows += [{"kind": "ev_hist", "k": k, "x": i * b, "y": j * b, "count": int(c), "fraction": c / len(ev)}
                 for (i, j), c in zip(cells, cc)]
        origin = float(np.mean((ix == 0) & (iy == 0)))
        rows.append({"kind": "summary", "k": k, "samples": n_samp, "n_sv": len(sv), "origin_fraction": origin,
                     "origin_fraction_theory": radial_origin_fraction(k, b / 2), "kurtosis": excess_kurtosis(sv),
                     "median_sv": float(np.median(sv)), "max_sv": float(sv.max()),
                     "decade_fraction": decade_fraction(sv), "top_sv2": float(np.mean([s.max() ** 2 for s in svs])),
                     "edge": (k + 1) ** (k + 1) / k ** k, "max_abs_ev": float(np.abs(ev).max())})
    q = orthogonal_(torch.empty(int(p["orth_width"]), int(p["orth_width"]), dtype=torch.float64), 1.0,
                    generator=torch.Generator().manual_seed(seed * 1_000_003 + 1))
    e = torch.linalg.eigvals(q).numpy()
    rows += [{"kind": "orth_eig", "re": float(z.real), "im": float(z.imag)} for z in e]
    df = pd.DataFrame(rows)
    df["width"], df["ev_bin"] = N, b
    write_csv(df, output)


# ----------------------------------------------------------------------------------------------------- Fig. 7
def jacobian_spectra(params, inputs, output):
    """Singular values of the end-to-end Jacobian J = dx^{N_l}/dx^1 = prod_l g W^{(l+1,l)} diag(tanh'(x^l)) (SMG eqs.
    20, 22) of ONE random orthogonal network (``layers`` = N_l layers of ``width`` units, N_l - 1 Haar orthogonal
    matrices shared by all cells), for every gain g and input variance q1 (x^1 ~ N(0, q1), rescaled to population
    variance exactly q1, eq. 21), in float64 (the explicit product resolves singular values down to ~1e-13 x the
    largest; ``below_floor`` counts those under that).

    Rows ``kind``: hist (g, q1, log10-spaced bins, count, fraction), summary (g, q1, median / min / max singular
    value, decade_fraction: share within one decade of the largest, q_out: population variance of the last layer,
    below_floor)."""
    import torch

    from isometry.init import orthogonal_

    p = params["jacobian_spectra"]
    N, nl, seed = int(p["width"]), int(p["layers"]), int(params["seed"])
    floor = float(p["floor"])
    g = torch.Generator().manual_seed(seed * 1_000_003 + 7)
    t0 = time.perf_counter()
    Ws = [orthogonal_(torch.empty(N, N, dtype=torch.float64), 1.0, generator=g) for _ in range(nl - 1)]
    x1 = torch.randn(N, generator=g, dtype=torch.float64)
    _log(f"jacobian_spectra: {nl - 1} orthogonal {N} x {N} matrices in {time.perf_counter() - t0:.1f} s")
    lo, hi = float(p["log10_min"]), float(p["log10_max"])
    edges = np.linspace(lo, hi, int(p["bins"]) + 1)
    rows = []
    for gain in p["gains"]:
        for q1 in p["q1"]:
            t0 = time.perf_counter()
            x = x1 * math.sqrt(float(q1) * N) / x1.norm()
            J = torch.eye(N, dtype=torch.float64)
            for W in Ws:
                d = 1.0 - torch.tanh(x) ** 2
                J = float(gain) * (W @ (d[:, None] * J))
                x = float(gain) * (W @ torch.tanh(x))
            sv = torch.linalg.svdvals(J).numpy()
            lsv = np.log10(np.maximum(sv, 1e-300))
            cnt, _ = np.histogram(np.clip(lsv, lo, hi - 1e-9), bins=edges)
            rows += [{"kind": "hist", "g": float(gain), "q1": float(q1), "bin_lo": a, "bin_hi": b, "count": int(c),
                      "fraction": c / len(sv)} for a, b, c in zip(edges[:-1], edges[1:], cnt)]
            rows.append({"kind": "summary", "g": float(gain), "q1": float(q1), "median_sv": float(np.median(sv)),
                         "min_sv": float(sv.min()), "max_sv": float(sv.max()), "decade_fraction": decade_fraction(sv),
                         "q_out": float((x ** 2).mean()), "below_floor": float(np.mean(sv < floor * sv.max()))})
            _log(f"g = {gain}, q1 = {q1}: median sv {np.median(sv):.3g}, {time.perf_counter() - t0:.1f} s")
    df = pd.DataFrame(rows)
    df["width"], df["layers"] = N, nl
    write_csv(df, output)
