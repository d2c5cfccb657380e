"""Shattered gradients (Balduzzi et al. 2017, "The Shattered Gradients Problem: if resnets are the answer, then what
is the question?", ICML; papers.md tag BAL).

Setup (BAL Sec. 2, Fig. 1-2): a scalar input x on a grid of ``n_grid`` points in [-x_max, x_max] feeds a network of
width N with ``depth`` ReLU layers and a scalar output f(x); we look at the gradient g(x) = df/dx along the grid.

* input layer (all architectures): h^1 = w x + b, w_i ~ N(0, 1), b_i ~ N(0, input_sigma_b2) (the bias is what puts
  the ReLU kinks inside the grid: without it a bias-free ReLU net is positively homogeneous and g is piecewise
  constant with one jump at 0);
* ``plain``:        h^l = W^l relu(h^{l-1}) + b^l, W^l ~ N(0, 2/N) (He et al. 2015), l = 2..depth;
* ``resnet``:       x^l = x^{l-1} + alpha W^l relu(BN(x^{l-1})) + b^l (He-initialized one-layer branch);
* ``looks_linear``: h^l = W^l crelu(h^{l-1}) + b^l with W^l = [W0, -W0], W0 Haar orthogonal (BAL Sec. 5, the
  Looks-Linear initialization; ``isometry.init.looks_linear_``). At init crelu-then-[W0, -W0] is W0 itself, so the
  network is the affine map x -> a x + c and its gradient is exactly constant;
* readout f = v . relu(h^depth) (plain, resnet; v ~ N(0, 1/N)), f = [v0, -v0] . crelu(h^depth) (looks_linear).

Hidden biases b^l ~ N(0, sigma_b2) (default 0). The lag-k gradient autocorrelation over the grid and the ensemble of
``n_networks`` random nets is the uncentred

    rho(k) = sum_{e,i} g_e(x_i) g_e(x_{i+k}) / sqrt(sum g_e(x_i)^2 sum g_e(x_{i+k})^2),

(gradients have zero mean over the weights, BAL's covariance C(x, x')). BAL Thm. 1: for plain ReLU nets the
gradient correlation between distinct inputs decays exponentially with depth (like 2^-L); for resnets with batch
norm like 1/sqrt(L); Looks-Linear nets are linear at init, rho = 1. Batch norm (``batchnorm=True``, as in BAL's
figures) is frozen: each unit is standardized over the grid with statistics treated as constants.

Noise colour (BAL Fig. 1: 1-layer net ~ brown noise, deep feedforward net ~ white noise, deep resnet ~ brown noise):
the spectral exponent beta of P(f) ~ f^-beta (``spectral_exponent``) of the gradients, next to the same statistic of
white noise (beta = 0) and brown noise, its running sum (beta = 2), drawn on the same grid (``noise_references``).

Mean-field theory for ``plain`` (gradient independence; the arc-cosine kernel of Cho & Saul 2009):
    Sigma^l(x, x') = sigma_w^2 E[relu(u) relu(u')] + sigma_b^2,  E[relu relu] = sqrt(q q')/(2 pi) (sin t + (pi - t) cos t),
    E[g(x) g(x')] = E_{w,b}[w^2 1(w x + b > 0) 1(w x' + b > 0)] prod_{l=2}^{L} sigma_w^2 (pi - t_l)/(2 pi),
with cos t_l the correlation of (h^l(x), h^l(x')) from the forward recursion (SGGS's c-map for ReLU). The first factor
is a 2-D Gauss-Hermite quadrature over (w, b).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from isometry.init import crelu, gaussian_, looks_linear_
from isometry.io import write_csv
from isometry.papers.extras.common import PAPER
from isometry.theory.quadrature import hermite_nodes

ARCHS = ("plain", "resnet", "looks_linear")
LABELS = {"plain": "plain ReLU (He)", "resnet": "residual ReLU (He branch)", "looks_linear": "Looks-Linear CReLU"}
COLORS = {"plain": "C3", "resnet": "C0", "looks_linear": "C2"}
#: (architecture, frozen batch norm) pairs simulated; BAL's figures use batch norm, the no-BN plain net has the
#: mean-field theory curve.
VARIANTS = (("plain", True), ("resnet", True), ("looks_linear", False), ("plain", False))
#: the variant drawn in the top row for each architecture (Looks-Linear needs no normalization: it is affine at init)
DISPLAY = {"plain": True, "resnet": True, "looks_linear": False}


# --------------------------------------------------------------------------------------------------------- networks
def _gaussian(shape, std, gen):
    return torch.randn(*shape, generator=gen, dtype=torch.float64) * std


def net_gradients(arch: str, depth: int, width: int, x: torch.Tensor, n_networks: int, gen: torch.Generator, *,
                  input_sigma_b2: float = 1.0, sigma_b2: float = 0.0, residual_scale: float = 1.0,
                  batchnorm: bool = False, return_linear: bool = False):
    """g_e(x_i) = df_e/dx at the grid points for ``n_networks`` random nets (float64), shape (E, G).

    With ``return_linear`` (looks_linear only) also the outputs f (E, G) and the explicit affine map (a, c) (E,),
    computed by composing the W0 factors (what the network must equal at init).
    """
    if arch not in ARCHS:
        raise ValueError(f"arch must be one of {ARCHS}, got {arch!r}")
    E, N = int(n_networks), int(width)
    w_in = _gaussian((E, N, 1), 1.0, gen)
    b_in = _gaussian((E, N, 1), math.sqrt(input_sigma_b2), gen)
    xs = x.to(torch.float64).expand(E, 1, -1).clone().requires_grad_(True)      # (E, 1, G)
    h = w_in * xs + b_in                                                         # (E, N, G)
    slope, offset = w_in.clone(), b_in.clone()                                   # affine map of h (looks_linear)
    sb = math.sqrt(sigma_b2)
    def bn(h, slope=None, offset=None):
        """Frozen batch norm: standardize each unit over the grid with statistics treated as constants (so each
        f(x_i) stays a function of x_i alone and the Looks-Linear net stays affine). Not applied to the input layer
        (it would move every first-layer kink to the grid's mean)."""
        if not batchnorm:
            return h, slope, offset
        mu = h.detach().mean(dim=2, keepdim=True)
        sd = h.detach().std(dim=2, keepdim=True).clamp_min(1e-12)
        if slope is not None:
            slope, offset = slope / sd, (offset - mu) / sd
        return (h - mu) / sd, slope, offset

    for layer in range(1, depth):
        if arch == "looks_linear":
            h, slope, offset = bn(h, slope, offset)
            W = torch.empty(E, N, 2 * N, dtype=torch.float64)
            looks_linear_(W, 1.0, generator=gen)
            b = _gaussian((E, N, 1), sb, gen)
            h = torch.bmm(W, crelu(h, dim=1)) + b
            W0 = W[:, :, :N]
            slope, offset = torch.bmm(W0, slope), torch.bmm(W0, offset) + b
        else:
            W = torch.empty(E, N, N, dtype=torch.float64)
            gaussian_(W, math.sqrt(2.0), generator=gen)
            b = _gaussian((E, N, 1), sb, gen)
            branch = torch.bmm(W, torch.relu(bn(h)[0] if layer > 1 else h)) + b
            h = h + residual_scale * branch if arch == "resnet" else branch
    if depth > 1:
        h, slope, offset = bn(h, slope, offset) if arch == "looks_linear" else (bn(h)[0], None, None)
    if arch == "looks_linear":
        V = torch.empty(E, 1, 2 * N, dtype=torch.float64)
        looks_linear_(V, 1.0, generator=gen)
        f = torch.bmm(V, crelu(h, dim=1))                                        # (E, 1, G)
        a = torch.bmm(V[:, :, :N], slope).reshape(E)
        c = torch.bmm(V[:, :, :N], offset).reshape(E)
    else:
        v = _gaussian((E, 1, N), 1.0 / math.sqrt(N), gen)
        f = torch.bmm(v, torch.relu(h))
        a = c = None
    (g,) = torch.autograd.grad(f.sum(), xs)
    g = g.reshape(E, -1).detach()
    if return_linear:
        return g, f.detach().reshape(E, -1), a, c
    return g


def spectral_exponent(g: np.ndarray, f_max: float = 0.25) -> float:
    """beta of the power spectrum P(f) ~ f^-beta of signals g (E, G) along the grid: the mean periodogram of the
    per-signal mean-removed g over the E signals, fitted in log-log over the frequencies 1 .. f_max * G (in cycles
    per grid). White noise has beta = 0, brown noise (a random walk) beta = 2 (BAL Fig. 1's references)."""
    g = np.asarray(g, float)
    g = g - g.mean(axis=1, keepdims=True)
    P = (np.abs(np.fft.rfft(g, axis=1)) ** 2).mean(axis=0)
    f = np.arange(len(P))
    sel = (f >= 1) & (f <= max(2, int(f_max * g.shape[1])))
    if not np.all(P[sel] > 0):
        return float("nan")
    return float(-np.polyfit(np.log(f[sel]), np.log(P[sel]), 1)[0])


def noise_references(n: int, grid: int, gen: torch.Generator) -> dict[str, np.ndarray]:
    """BAL Fig. 1's references: ``n`` white-noise signals N(0, 1) on the grid and ``n`` brown-noise signals (their
    cumulative sums: random walks)."""
    white = torch.randn(n, grid, generator=gen, dtype=torch.float64).numpy()
    return {"white_noise": white, "brown_noise": np.cumsum(white, axis=1)}


def autocorrelation(g: np.ndarray, lag: int) -> float:
    """Uncentred lag-k autocorrelation of gradients g (E, G) over grid and networks (module docstring)."""
    g = np.asarray(g, float)
    a, b = g[:, :-lag], g[:, lag:]
    den = math.sqrt(float((a * a).sum()) * float((b * b).sum()))
    return float((a * b).sum() / den) if den > 0 else float("nan")


# ----------------------------------------------------------------------------------------------------------- theory
def theory_autocorrelation(x: np.ndarray, depths, lag: int, *, input_sigma_b2: float = 1.0,
                           sigma_w2: float = 2.0, sigma_b2: float = 0.0, n_quad: int = 101) -> np.ndarray:
    """Mean-field rho(lag) of a plain ReLU net without batch norm (module docstring) at each depth in ``depths``:
    the ratio of the grid-summed theoretical covariances E[g(x_i) g(x_{i+lag})]."""
    x = np.asarray(x, float)
    xa, xb = x[:-lag], x[lag:]
    qa, qb = xa * xa + input_sigma_b2, xb * xb + input_sigma_b2          # input layer: w ~ N(0,1), b ~ N(0, s_b^2)
    qab = xa * xb + input_sigma_b2
    z, wz = hermite_nodes(n_quad)                                        # E[w^2 1(wx+b>0) 1(wx'+b>0)] over (w, b)
    W, B = np.meshgrid(z, z * math.sqrt(input_sigma_b2), indexing="ij")
    Wf, Bf, wtf = W.ravel()[:, None], B.ravel()[:, None], (np.outer(wz, wz) * W * W).ravel()

    def first(u, v):
        return wtf @ (((Wf * u[None, :] + Bf) > 0) & ((Wf * v[None, :] + Bf) > 0)).astype(float)

    cov_g, var_a, var_b = first(xa, xb), first(xa, xa), first(xb, xb)
    want = set(int(d) for d in depths)
    out = {}
    for depth in range(1, max(want) + 1):
        if depth > 1:                                                    # layer h^{depth-1} -> h^depth
            t = np.arccos(np.clip(qab / np.sqrt(qa * qb), -1.0, 1.0))
            cov_g = cov_g * sigma_w2 * (math.pi - t) / (2 * math.pi)
            var_a, var_b = var_a * sigma_w2 / 2, var_b * sigma_w2 / 2
            qab = sigma_w2 * np.sqrt(qa * qb) / (2 * math.pi) * (np.sin(t) + (math.pi - t) * np.cos(t)) + sigma_b2
            qa, qb = sigma_w2 * qa / 2 + sigma_b2, sigma_w2 * qb / 2 + sigma_b2
        if depth in want:                                                # readout gate relu'(h^depth)
            t = np.arccos(np.clip(qab / np.sqrt(qa * qb), -1.0, 1.0))
            c = cov_g * (math.pi - t) / math.pi
            out[depth] = float(c.sum() / math.sqrt(var_a.sum() * var_b.sum()))
    return np.array([out[int(d)] for d in depths])


# ------------------------------------------------------------------------------------------------------- experiment
def experiment(params, inputs, output):
    """Gradients along the grid, their lag-k autocorrelations and spectral exponents versus depth for every
    architecture (simulation; mean-field theory for plain nets without batch norm), the white / brown noise
    references of BAL Fig. 1, and the Looks-Linear linearity error (a unit-tested property, drawn in the caption).

    Rows (``kind``): ``gradient`` (arch, batchnorm, depth, x, value = g(x) of network 0, drawn depths only; the
    noise references have arch white_noise / brown_noise and no depth); ``autocorr`` (arch, batchnorm, depth, lag,
    value = rho, theory); ``spectrum`` (arch, batchnorm, depth, value = beta); ``linearity`` (looks_linear, depth,
    value = max|f - (a x + c)| / max|f|).
    """
    p = params["shattered"]
    N, G, xmax = int(p["width"]), int(p["n_grid"]), float(p["x_max"])
    E = int(p["n_networks"])
    base_seed = int(params["seed"])
    x = torch.linspace(-xmax, xmax, G, dtype=torch.float64)
    kw = dict(input_sigma_b2=float(p["input_sigma_b2"]), sigma_b2=float(p["sigma_b2"]),
              residual_scale=float(p["residual_scale"]))
    depths = sorted({1, *map(int, p["depths"])})
    extra = {"resnet": sorted(set(map(int, p["resnet_depths"])) - set(depths))}
    show = {a: int(p["show_depths"][a]) for a in ARCHS}
    lags = sorted(map(int, p["lags"]))
    theory = {lag: dict(zip(depths, theory_autocorrelation(x.numpy(), depths, lag, input_sigma_b2=kw["input_sigma_b2"],
                                                           sigma_b2=kw["sigma_b2"]))) for lag in lags}
    rows = []

    def describe(arch, bn, depth, g, th=None):
        rows.append({"kind": "spectrum", "arch": arch, "batchnorm": bn, "depth": depth,
                     "value": spectral_exponent(g)})
        for lag in lags:
            rows.append({"kind": "autocorr", "arch": arch, "batchnorm": bn, "depth": depth, "lag": lag,
                         "value": autocorrelation(g, lag), "theory": th[lag][depth] if th else float("nan")})

    for j, (arch, bn) in enumerate(VARIANTS):
        shown = DISPLAY[arch] == bn
        todo = set(depths) | set(extra.get(arch, ())) | ({show[arch]} if shown else set())
        for depth in sorted(todo):
            gen = torch.Generator().manual_seed(base_seed * 1000 + 100 * j + depth)
            if arch == "looks_linear":
                g, f, a, c = net_gradients(arch, depth, N, x, E, gen, batchnorm=bn, return_linear=True, **kw)
                lin = a[:, None] * x[None, :] + c[:, None]
                err = float((f - lin).abs().max() / f.abs().max())
                rows.append({"kind": "linearity", "arch": arch, "batchnorm": bn, "depth": depth, "value": err})
            else:
                g = net_gradients(arch, depth, N, x, E, gen, batchnorm=bn, **kw)
            gn = g.numpy()
            if shown and (depth == show[arch] or depth == 1):
                rows += [{"kind": "gradient", "arch": arch, "batchnorm": bn, "depth": depth, "x": float(xi),
                          "value": float(v)} for xi, v in zip(x.numpy(), gn[0])]
            describe(arch, bn, depth, gn, theory if (arch == "plain" and not bn) else None)
    for name, g in noise_references(E, G, torch.Generator().manual_seed(base_seed * 1000 + 999)).items():
        rows += [{"kind": "gradient", "arch": name, "batchnorm": False, "x": float(xi), "value": float(v)}
                 for xi, v in zip(x.numpy(), g[0])]
        rows.append({"kind": "spectrum", "arch": name, "batchnorm": False, "value": spectral_exponent(g)})
        rows += [{"kind": "autocorr", "arch": name, "batchnorm": False, "lag": lag, "value": autocorrelation(g, lag)}
                 for lag in lags]
    df = pd.DataFrame(rows, columns=["kind", "arch", "batchnorm", "depth", "lag", "x", "value", "theory"])
    df.insert(0, "paper", PAPER)
    df["width"], df["n_networks"], df["n_grid"], df["x_max"] = N, E, G, xmax
    write_csv(df, output)
