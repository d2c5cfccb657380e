"""Helpers shared by the experiments, figures and checks of the pennington2017 pipeline.

Every network here: h^l = W^l x^{l-1} + b^l, x^l = phi(h^l), W ~ N(0, sigma_w^2/N) or sigma_w * Haar orthogonal,
b ~ N(0, sigma_b^2) (PSG sec. 2.1). The input-output Jacobian is J = prod_l D^l W^l, D^l = diag(phi'(h^l))
(PSG eq. 2); its squared singular values are lambda = s^2.
"""

from __future__ import annotations

import math

import numpy as np

PAPER = "pennington2017"

NL_LABEL = {"linear": "linear", "relu": "ReLU", "hard_tanh": "hard-tanh", "tanh": "tanh", "erf": "erf"}
W_LABEL = {"gaussian": "Gaussian", "orthogonal": "orthogonal"}

#: PSG Fig. 2 legend and colours (verified.md sec. 2, VERIFIED-FIG): the three curves of the paper's figure.
FIG2_CASES = (("linear", "gaussian"), ("relu", "orthogonal"), ("hard_tanh", "orthogonal"))
FIG2_COLOURS = {("linear", "gaussian"): "tab:red", ("relu", "orthogonal"): "tab:purple",
                ("hard_tanh", "orthogonal"): "tab:blue"}
FIG2_LABELS = {("linear", "gaussian"): "Linear Gaussian", ("relu", "orthogonal"): "ReLU Orthogonal",
               ("hard_tanh", "orthogonal"): "HTanh Orthogonal"}


def scale_note(params) -> str:
    return f"Scale: {params.get('scale', 'quick')}."


def critical_params(nl: str, q_star: float) -> tuple[float, float]:
    """(sigma_w^2, sigma_b^2) on the critical line chi_1 = 1 with length fixed point q* (meanfield.critical_point);
    linear (1, 0) and ReLU (2, 0) for any q* (q* then only sets the input scale)."""
    from isometry.theory import meanfield

    sw, sb = meanfield.critical_point(nl, float(q_star))
    return float(sw), float(sb)


def case_params(nl: str, q_star: float) -> tuple[float, float, float]:
    """(sigma_w2, sigma_b2, q*) at criticality; q* = 1 (only the input scale) for linear/ReLU."""
    if nl in ("linear", "relu"):
        sw, sb = critical_params(nl, 1.0)
        return sw, sb, 1.0
    sw, sb = critical_params(nl, q_star)
    return sw, sb, float(q_star)


def predicted_spread(nl: str, weights: str, depth: int, sigma_w2: float, sigma_b2: float) -> tuple[float, float]:
    """(mean, variance) of lambda: mean = chi^L, sigma^2_{JJ^T} = chi^{2L} L (s_W + s_D) (PSG eqs. 15-16; s_W = 1
    Gaussian, 0 orthogonal; s_D = E[d^2]/E[d]^2 - 1, d = phi'(h)^2, h ~ N(0, q*)).

    ReLU with sigma_b^2 > 0 has no finite q*, but d is Bernoulli(1/2) whatever q*, so the bias is ignored there."""
    from isometry.theory import spectra

    sb = 0.0 if nl in ("relu", "linear") else float(sigma_b2)
    return spectra.jacobian_moments(nl, weights, int(depth), None, sigma_w2=float(sigma_w2), sigma_b2=sb)


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


def log_fit(x, y) -> tuple[float, float]:
    """Least-squares slope and intercept of log y against log x (finite, positive points only; NaN if < 2)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    if ok.sum() < 2:
        return math.nan, math.nan
    b, a = np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)
    return float(b), float(a)


def tight(fig) -> None:
    """Fit labels inside the figure so the caption that save_figure draws below it never overlaps them."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig.tight_layout()
