"""Random walks of ln|delta|^2 under back-propagation (Sussillo & Abbott 2014, section 2; papers.md section 3).

Network (SA eq. 1): a_d = g W_d h_{d-1} + b_d, h_d = f(a_d), W_d entries N(0, 1/N), b_d = 0, d = 1..D.
Back-propagation (SA eq. 2): delta_{d-1} = f'(a_{d-1}) * (g W_d^T delta_d).  With z_d = |delta_{d-1}|^2/|delta_d|^2,

    ln |delta_0|^2 = ln |delta_D|^2 + sum_d ln z_d                                    (SA eqs. 4-5)

is a random walk.  Exact step statistics (SA eqs. 6-9, papers.md section 3.2):

* linear:  z = g^2 chi2_N / N,            E ln z = ln g^2 + ln(2/N) + psi(N/2),   Var ln z = psi'(N/2)
* ReLU:    z = g^2 chi2_M / N, M ~ Bin(N, 1/2) conditioned on M >= 1 (the paper removes all-dead layers),
           E ln z = ln g^2 + ln(2/N) + E_M psi(M/2),  Var ln z = E_M psi'(M/2) + Var_M psi(M/2).

The unbiased gain g* solves E ln z = 0.  The paper's fit formulas (SA eqs. 8 and 10):
g_lin = exp(1/(2N)),  g_relu = sqrt(2) exp(1.2 / (max(N, 6) - 2.4)).  tanh has no closed form (the paper reports
Monte Carlo; the core also offers a stationary mean-field value).  The exact statistics come from
:mod:`isometry.theory.random_walk`.

``simulate_walks`` is this pipeline's Monte Carlo (like the core ``simulate_log_norms``, but many gains share one
set of random networks -- common random numbers -- so curves over g are smooth and cheap): real Gaussian matrices, a
real forward pass from a random input (so the ReLU / tanh derivative masks are those of the network, not independent
coin flips), then back-propagation of a random output error.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from isometry.nonlinearities import torch_dphi, torch_phi
from isometry.theory import random_walk as _rw

EXACT_NONLINEARITIES = ("linear", "relu")


# ------------------------------------------------------------------------------------------------ exact statistics
# Thin names over the core theory (isometry.theory.random_walk), which implements SA eqs. 6-10.
def log_norm_increment_stats(width: int, nonlinearity: str, gain: float = 1.0) -> tuple[float, float]:
    """(E[ln z], Var[ln z]) of one random-walk step at gain g (SA eqs. 6-9; exact for linear / ReLU)."""
    return _rw.log_norm_increment_stats(int(width), nonlinearity, float(gain))


def optimal_gain_exact(width: int, nonlinearity: str) -> float:
    """g* with E[ln z] = 0 (SA eqs. 7, 9); for tanh the core's stationary mean-field value."""
    return float(_rw.optimal_gain(int(width), nonlinearity, method="exact"))


def optimal_gain_fit(width: int, nonlinearity: str) -> float:
    """The paper's closed forms: exp(1/(2N)) (linear, SA eq. 8), sqrt(2) exp(1.2/(max(N,6)-2.4)) (ReLU, SA eq. 10)."""
    return float(_rw.optimal_gain(int(width), nonlinearity, method="fit"))


# ------------------------------------------------------------------------------------------------ Monte Carlo
def simulate_walks(nonlinearity: str, width: int, depth: int, gains, n_samples: int, seed: int = 0,
                   dtype=torch.float32) -> np.ndarray:
    """Monte Carlo ln(|delta_{D-k}|^2 / |delta_D|^2), k = 0..D: array (G, S, D+1) for the G ``gains``.

    S = ``n_samples`` networks (each with its own W_1..W_D, input a_0 ~ N(0, I), output error u ~ N(0, I)); all
    gains use the same draws.  delta_D = f'(a_D) * u; each of the D backward steps applies g W_d^T and the mask
    f'(a_{d-1}), so every step is one z of SA eq. 5.  Walks through an all-dead ReLU layer give -inf from that step
    on (callers drop them, as the paper does).  For linear and ReLU the forward signal is renormalized per layer
    (exact: the masks are scale-invariant); tanh is propagated as is.  Layer weights are regenerated from per-layer
    seeds in the backward pass (no D x S x N x N storage).
    """
    N, D, S = int(width), int(depth), int(n_samples)
    g = torch.as_tensor(np.atleast_1d(np.asarray(gains, dtype=float)), dtype=dtype)
    G = len(g)
    gen = torch.Generator().manual_seed(int(seed))
    layer_seeds = torch.randint(0, 2**62, (D,), generator=gen).tolist()
    phi, dphi = torch_phi(nonlinearity), torch_dphi(nonlinearity)
    scale = 1.0 / math.sqrt(N)

    def weight(d: int) -> torch.Tensor:                       # W_d, d = 1..D: (S, N, N)
        return torch.randn(S, N, N, generator=torch.Generator().manual_seed(layer_seeds[d - 1]), dtype=dtype) * scale

    a0 = torch.randn(S, N, 1, generator=gen, dtype=dtype)
    u = torch.randn(S, N, 1, generator=gen, dtype=dtype)
    gg = g.view(1, 1, G)
    masks: list[torch.Tensor | None] = [None] * (D + 1)       # f'(a_d), (S, N, G); None = all ones (linear)
    if nonlinearity != "linear":
        a = a0.expand(S, N, G)
        masks[0] = dphi(a)
        h = phi(a)
        for d in range(1, D + 1):
            a = gg * torch.bmm(weight(d), h)
            masks[d] = dphi(a).to(torch.bool if nonlinearity == "relu" else dtype)
            h = phi(a)
            if nonlinearity == "relu":                        # positive homogeneity: masks do not see the scale
                h = h / h.norm(dim=1, keepdim=True).clamp_min(1e-30) * math.sqrt(N)
    out = torch.zeros(S, G, D + 1, dtype=torch.float64)
    delta = u.expand(S, N, G) if masks[D] is None else u * masks[D]
    n2 = (delta * delta).sum(1)
    delta = delta / n2.sqrt().clamp_min(1e-30).unsqueeze(1)
    for k, d in enumerate(range(D, 0, -1), start=1):
        v = gg * torch.bmm(weight(d).transpose(1, 2), delta)   # g W_d^T delta_d
        delta = v if masks[d - 1] is None else v * masks[d - 1]
        n2 = (delta * delta).sum(1)                            # (S, G)
        out[:, :, k] = out[:, :, k - 1] + torch.log(n2.double())
        delta = delta / n2.sqrt().clamp_min(1e-30).unsqueeze(1)
    out = out.permute(1, 0, 2)
    res = out.numpy()
    res[~np.isfinite(res)] = -np.inf
    # once a walk hits -inf it stays there
    dead = np.maximum.accumulate(np.isneginf(res), axis=2)
    res[dead] = -np.inf
    return res


def simulate_walks_conditional(nonlinearity: str, width: int, depth: int, gains, n_samples: int, seed: int = 0,
                               chunk: int = 256, dtype=torch.float32) -> np.ndarray:
    """Same law as ``simulate_walks`` -- forward from a random input through D Gaussian layers, back-propagation of a
    random output error -- in O(S D N) instead of O(S D N^2), by sampling each W_d only where the walk sees it.

    With h = h_{d-1}, hat h = h/|h| and W_d entries N(0, 1/N): W hat h ~ N(0, I/N) gives the forward pass
    a_d = g |h| (W hat h), and W (I - hat h hat h^T) is independent of it (orthogonal projections of Gaussian rows), so
    given the forward pass the backward step is

        g W^T delta = g [ hat h (a_d . delta) / (g |h|) + (I - hat h hat h^T) xi |delta| / sqrt(N) ],  xi ~ N(0, I_N)

    (delta_d depends on W_d only through the forward pass: f'(a_d) and the later layers).  This is exact, not an
    approximation; tests compare it with the dense simulation.  Gains share the random numbers (as in
    ``simulate_walks``; for positively homogeneous f the walks shift by exactly 2 k ln(g'/g)).  Returns (G, S, D+1).
    """
    N, D, S = int(width), int(depth), int(n_samples)
    g = torch.as_tensor(np.atleast_1d(np.asarray(gains, dtype=float)), dtype=dtype)
    G = len(g)
    gg = g.view(1, 1, G)
    gen_f = torch.Generator().manual_seed(int(seed))
    gen_b = torch.Generator().manual_seed(int(seed) + 7_919_993)
    phi, dphi = torch_phi(nonlinearity), torch_dphi(nonlinearity)
    linear = nonlinearity == "linear"
    out = np.zeros((G, S, D + 1))
    for c0 in range(0, S, int(chunk)):
        s = min(int(chunk), S - c0)
        a0 = torch.randn(s, N, 1, generator=gen_f, dtype=dtype)
        u = torch.randn(s, N, 1, generator=gen_f, dtype=dtype)
        masks: list[torch.Tensor | None] = [None] * (D + 1)       # f'(a_d), (s, N, G)
        hats: list[torch.Tensor | None] = [None] * (D + 1)        # hat h_{d-1} for layer d, (s, N, G)
        acts: list[torch.Tensor | None] = [None] * (D + 1)        # a_d / (g |h_{d-1}|) = W_d hat h_{d-1}, (s, N, 1)
        if not linear:
            a = a0.expand(s, N, G)
            masks[0] = dphi(a)
            h = phi(a)
            for d in range(1, D + 1):
                norm = h.norm(dim=1, keepdim=True).clamp_min(1e-30)
                hats[d] = h / norm
                w_hat = torch.randn(s, N, 1, generator=gen_f, dtype=dtype) / math.sqrt(N)    # W_d hat h_{d-1}
                acts[d] = w_hat
                a = gg * norm * w_hat
                masks[d] = dphi(a)
                h = phi(a)
        delta = u.expand(s, N, G) if masks[D] is None else u * masks[D]
        n2 = (delta * delta).sum(1)
        delta = delta / n2.sqrt().clamp_min(1e-30).unsqueeze(1)
        acc = torch.zeros(s, G, dtype=torch.float64)
        res = torch.zeros(s, G, D + 1, dtype=torch.float64)
        for k, d in enumerate(range(D, 0, -1), start=1):
            xi = torch.randn(s, N, 1, generator=gen_b, dtype=dtype) / math.sqrt(N)          # |delta| = 1 here
            if linear:
                v = gg * xi
            else:
                hat = hats[d]
                par = (acts[d] * delta).sum(1, keepdim=True)                               # (W hat h) . delta
                perp = xi - hat * (hat * xi).sum(1, keepdim=True)
                v = gg * (hat * par + perp)
            delta = v if masks[d - 1] is None else v * masks[d - 1]
            n2 = (delta * delta).sum(1)
            acc = acc + torch.log(n2.double())
            res[:, :, k] = acc
            delta = delta / n2.sqrt().clamp_min(1e-30).unsqueeze(1)
        out[:, c0:c0 + s, :] = res.permute(1, 0, 2).numpy()
    out[~np.isfinite(out)] = -np.inf
    dead = np.maximum.accumulate(np.isneginf(out), axis=2)
    out[dead] = -np.inf
    return out


def walk_drift(nonlinearity: str, width: int, depth: int, gains, n_samples: int, seed: int = 0) -> list[tuple[float, float, int]]:
    """Per gain: (mean per-layer drift <ln(|delta_0|^2/|delta_D|^2)>/D, its standard error, number of valid walks)."""
    walks = simulate_walks(nonlinearity, width, depth, gains, n_samples, seed)
    final = walks[:, :, -1]
    res = []
    for row in final:
        ok = row[np.isfinite(row)]
        n = len(ok)
        mean = float(ok.mean()) / depth if n else float("nan")
        se = float(ok.std(ddof=1)) / depth / math.sqrt(n) if n > 1 else float("nan")
        res.append((mean, se, n))
    return res


def mc_optimal_gain(nonlinearity: str, width: int, depth: int, n_samples: int, seed: int = 0,
                    lo: float = 0.9, hi: float = 2.2, num: int = 14, refine: int = 1) -> tuple[float, float]:
    """Monte-Carlo g*: the zero of the simulated per-layer drift over a gain grid (common random numbers, linear
    interpolation in ln g), refined ``refine`` times on a finer grid around the crossing; the grid is moved up (at
    most 3 times) when the drift is negative on all of it.  NaN when no crossing is found.  Returns (g*, standard
    error propagated from the drift's standard error at the crossing)."""
    grid = np.geomspace(lo, hi, num)
    it, widened = 0, 0
    while it <= refine:
        stats_ = walk_drift(nonlinearity, width, depth, grid, n_samples, seed)
        m = np.array([s[0] for s in stats_])
        se = np.array([s[1] for s in stats_])
        sign = np.sign(m)
        idx = np.where((sign[:-1] < 0) & (sign[1:] >= 0))[0]
        if len(idx) == 0:
            if it == 0 and widened < 3 and np.all(m[np.isfinite(m)] < 0):   # narrow tanh nets: g* > hi
                lo, hi, widened = hi / 1.1, hi * 2.0, widened + 1
                grid = np.geomspace(lo, hi, num)
                continue
            return float("nan"), float("nan")
        i = int(idx[0])
        x0, x1 = math.log(grid[i]), math.log(grid[i + 1])
        slope = (m[i + 1] - m[i]) / (x1 - x0)
        x = x0 - m[i] / slope
        g_star = math.exp(x)
        err = g_star * float(0.5 * (se[i] + se[i + 1])) / slope if slope > 0 else float("nan")
        if it < refine:
            grid = np.geomspace(grid[max(i - 1, 0)], grid[min(i + 2, num - 1)], num)
        it += 1
    return g_star, abs(err)



# ------------------------------------------------------------------------------------------------ variance law
def variance_law(df, nonlinearity: str, fractions=(0.25, 0.5, 0.75, 1.0)) -> dict:
    """Log-log slopes of the walk variance of ``random_walks`` rows (gain g*): Var[ln(|delta_{D-k}|^2/|delta_D|^2)]
    ~ k^a N^b, the abstract's claim being a = 1, b = -1.

    ``slope_width``: least-squares slope of ln Var at k = D against ln N over the widths; ``slope_depth``: the mean
    over widths of the slope of ln Var against ln k at k = fractions x D; ``coef``: median of Var N / k over those
    points (the c of Var = c D/N).  NaN where fewer than 2 usable points.
    """
    d = df[(df["nonlinearity"] == nonlinearity) & (df["gain_label"] == "g*") & (df["stat"] == "var")]
    out = {"slope_width": float("nan"), "slope_depth": float("nan"), "coef": float("nan"), "widths": []}
    if d.empty:
        return out
    D = int(d["depth"].max())
    ks = sorted({max(1, int(round(f * D))) for f in fractions})
    last = d[d["layer"] == D]
    last = last[np.isfinite(last["value"]) & (last["value"] > 0)]
    out["widths"] = sorted(int(n) for n in last["width"])
    if len(last) >= 2:
        out["slope_width"] = float(np.polyfit(np.log(last["width"]), np.log(last["value"]), 1)[0])
    slopes, coefs = [], []
    for N, w in d[d["layer"].isin(ks)].groupby("width"):
        w = w[np.isfinite(w["value"]) & (w["value"] > 0)]
        if len(w) >= 2:
            slopes.append(float(np.polyfit(np.log(w["layer"]), np.log(w["value"]), 1)[0]))
        coefs += list(w["value"] * N / w["layer"])
    if slopes:
        out["slope_depth"] = float(np.mean(slopes))
    if coefs:
        out["coef"] = float(np.median(coefs))
    return out
