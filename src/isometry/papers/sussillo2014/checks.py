"""Rows of results/sussillo2014/checks.csv: the paper's claims against the reproduced numbers (failures kept)."""

from __future__ import annotations

import math

from isometry.checks import Check
from isometry.papers.common import read_input, write_checks
from isometry.papers.sussillo2014.training import final_errors
from isometry.papers.sussillo2014.walks import optimal_gain_exact, optimal_gain_fit


def _optional(inputs, stem):
    return read_input(inputs, stem, required=False)


PAPER = "sussillo2014"


def CHECKS(params, inputs, output):
    scale = str(params.get("scale", "quick"))
    ck = params.get("checks", {})
    rows: list[Check] = []

    def add(claim, figure, paper_value, value, tol, passed):
        rows.append(Check(claim, PAPER, figure, paper_value, value, tol, bool(passed), scale))

    # -- fit formulas vs exact optimum (pure theory, SA eqs. 7-10) -------------------------------------------------
    widths = [n for n in range(10, 1001)]
    for nl in ("linear", "relu"):
        dev = max(abs(optimal_gain_fit(n, nl) / optimal_gain_exact(n, nl) - 1) for n in widths)
        add(f"paper fit formula for g*_{nl} matches the exact optimum for N >= 10 (max relative deviation, N=10..1000)",
            "optimal_gain", "< 0.5%", round(100 * dev, 4), "0.5 (%)", dev < 0.005)

    # -- random walks at D = N (SA Fig. 1) ---------------------------------------------------------------------
    rw = _optional(inputs, "random_walks")
    if rw is not None:
        D = int(rw.depth.iloc[0])
        N = int(rw.width.iloc[0])
        last = rw[(rw.layer == D) & (rw.walk == -1)]
        tol_mean = float(ck.get("unbiased_mean_over_sd", 0.2))
        for nl, c in (("linear", 2.0), ("relu", 5.0)):
            m = last[(last.nonlinearity == nl) & (last.gain_label == "g*")]
            mean = float(m[m.stat == "mean"].value.iloc[0])
            var = float(m[m.stat == "var"].value.iloc[0])
            n = int(m.n_walks.iloc[0])
            ratio = abs(mean) / math.sqrt(var)
            add(f"{nl}, g = g*: ln(|d0|^2/|dD|^2) is unbiased, |mean|/sd at D = {D}, N = {N} ({n} nets)",
                "random_walks", "~0", round(ratio, 4), f"< {tol_mean}", ratio < tol_mean)
            rel = var / (c * D / N) - 1
            add(f"{nl}, g = g*: Var ln(|d0|^2/|dD|^2) = {c:g} D/N (D = {D}, N = {N}); relative deviation",
                "random_walks", round(c * D / N, 4), round(var, 4), "25%", abs(rel) <= 0.25)
        he = last[(last.nonlinearity == "relu") & (last.gain_label == "He") & (last.stat == "mean")]
        drift = float(he.value.iloc[0]) / D
        target = -2.5 / N
        add(f"ReLU, He init g = sqrt2: drift of ln|delta|^2 per layer ~ -2.5/N (N = {N}, D = {D})",
            "random_walks", round(target, 5), round(drift, 5), "20%", abs(drift / target - 1) <= 0.2)

    # -- best g on MNIST (SA Fig. 3) -----------------------------------------------------------------------------
    gsw = _optional(inputs, "mnist_gain_sweep")
    if gsw is not None:
        band = float(ck.get("mnist_gain_band", 0.2))
        fe = final_errors(gsw)
        for (nl, D), d in fe.groupby(["nonlinearity", "depth"]):
            best = d.groupby(["gain", "lr_in", "lr_out"]).train_error.mean().groupby("gain").min()
            if best.isna().all():
                add(f"MNIST {nl} D={D}: best g within the band of predicted g*", "mnist_gain_sweep", "g*", float("nan"),
                    f"g*/(1+{band}) .. g*(1+{band})", False)
                continue
            gb = float(best.idxmin())
            gs = float(d.g_star.iloc[0])
            ok = gs / (1 + band) <= gb <= gs * (1 + band)
            add(f"MNIST {nl}, D = {D}, N = {int(d.width.iloc[0])}: gain with the lowest training error lies in "
                f"[g*/{1 + band:g}, g*x{1 + band:g}] around predicted g* = {gs:.3f} ({d.g_star_method.iloc[0]}); "
                f"best error {best.min():.4f}", "mnist_gain_sweep", round(gs, 4), round(gb, 4),
                f"factor {1 + band:g}", ok)

    write_checks(rows, output)
