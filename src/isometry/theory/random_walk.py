"""Random-walk initialization (Sussillo & Abbott 2014, arXiv:1412.6558; papers.md section 3).

Network: a_d = g W_d h_{d-1} + b_d, h_d = f(a_d), W_d entries N(0, 1/N), d = 1..D (``gain`` g is sigma_w).
Back-propagation: delta_{d-1} = g W_d^T (f'(a_d) * delta_d).  With z_d = |delta_d|^2 / |delta_{d+1}|^2,
ln|delta_0|^2 = ln|delta_D|^2 + sum_d ln z_d is a random walk (SA eq. 5-7).  Treating the back-propagated direction
as independent of the (fresh) matrix W_d -- SA's assumption -- the step is z = g^2 (1/N) sum_i f'(a_i)^2 xi_i^2 with
xi_i i.i.d. N(0, 1):

* linear: z = g^2 chi2_N / N (SA eq. 9), so E ln z = ln g^2 + ln(2/N) + psi(N/2), Var ln z = psi'(N/2) ~ 2/N;
* ReLU: only the M ~ Binomial(N, 1/2) active units pass the error: z = g^2 chi2_M / N (SA eq. 12), a doubly
  stochastic variable; like SA we drop the all-dead case (condition on M >= 1), so
  E ln z = ln g^2 + ln(2/N) + E_M[psi(M/2)], Var ln z = E_M[psi'(M/2)] + Var_M[psi(M/2)] ~ 5/N;
* tanh: no closed form (SA report numerical results).  We compute the same two moments *deterministically* from the
  Laplace transform of S = (1/N) sum_i w_i xi_i^2, w = f'(a)^2 with a ~ N(0, q) and q the stationary forward variance
  q*(g^2, sigma_b2) of mean-field theory (``isometry.theory.meanfield``):
  L(t) = E e^{-tS} = (E_a[(1 + 2 t w(a)/N)^{-1/2}])^N (Gauss-Hermite over a), and
  E ln S = int_0^inf (e^{-t} - L(t)) dt/t,  Var ln S = int int (L(t+u) - L(t) L(u)) dt du/(t u)
  (Frullani's integral ln s = int (e^{-t} - e^{-st}) dt/t and its covariance), evaluated by the trapezoidal rule in
  log t (spectrally accurate for these analytic integrands).  For w = 1 this reproduces the digamma/trigamma values
  of the linear case to ~1e-10 (tested).  ``simulate_log_norms`` is the Monte-Carlo check through real networks.

Optimal gains: the root of E ln z = 0 in g ("exact"), or SA's fits ("fit"): g_lin = exp(1/(2N)),
g_ReLU = sqrt(2) exp(1.2 / (max(N, 6) - 2.4)) (from the authors' public code).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy import optimize, special, stats

from isometry.nonlinearities import check, torch_dphi, torch_phi
from isometry.theory.quadrature import hermite_nodes

__all__ = ["log_norm_increment_stats", "optimal_gain", "simulate_log_norms"]


def _relu_mixture(n: int):
    m = np.arange(1, n + 1)
    p = stats.binom.pmf(m, n, 0.5)
    p = p / p.sum()  # conditioned on M >= 1
    psi = special.digamma(m / 2.0)
    mean_psi = float(np.sum(p * psi))
    var_total = float(np.sum(p * special.polygamma(1, m / 2.0)) + np.sum(p * (psi - mean_psi) ** 2))
    return mean_psi, var_total


def _laplace_log_moments(n: int, w_nodes: np.ndarray, w_weights: np.ndarray, h: float = 0.25, need_var=True):
    """(E ln S, Var ln S) for S = (1/n) sum_i w_i xi_i^2, w_i i.i.d. from the discrete law (w_nodes, w_weights)."""
    x = np.arange(-30.0, 42.0 + h / 2, h)
    t = np.exp(x)

    def log_L(tt):
        s = np.asarray(tt)[..., None] * (2.0 / n)
        phi = np.einsum("...i,i->...", 1.0 / np.sqrt(1.0 + s * w_nodes), w_weights)
        return n * np.log(phi)

    L = np.exp(log_L(t))
    mean = h * np.sum(np.exp(-t) - L)
    if not need_var:
        return float(mean), float("nan")
    iu = np.triu_indices(t.size)
    LL = np.zeros((t.size, t.size))
    LL[iu] = np.exp(log_L(t[iu[0]] + t[iu[1]]))
    LL = LL + np.triu(LL, 1).T
    var = h * h * np.sum(LL - L[:, None] * L[None, :])
    return float(mean), float(var)


def _tanh_weights(q: float):
    z, wz = hermite_nodes(201)
    z, wz = z[100:], np.concatenate([wz[100:101], 2.0 * wz[101:]])  # w(a) is even: fold the nodes
    a = math.sqrt(max(q, 0.0)) * z
    e = np.exp(-2.0 * np.abs(a))
    sech2 = 4.0 * e / (1.0 + e) ** 2  # sech(a)^2 without overflow at large |a|
    return sech2 ** 2, wz


def log_norm_increment_stats(
    width: int, nonlinearity: str, gain: float, sigma_b2: float = 0.0, q: float | None = None, _need_var: bool = True
):
    """Mean and variance of ln z = ln(|delta_d|^2 / |delta_{d+1}|^2) for one layer (SA eqs. 9-13).

    Exact for ``linear`` (digamma/trigamma of chi-square_N) and ``relu`` (Binomial(N, 1/2) mixture of chi-square_M
    over the number M of active units, conditioned on M >= 1).  For ``tanh`` the moments are computed numerically
    but deterministically by the Laplace-transform quadrature described in the module docstring, with pre-activations
    a ~ N(0, q); q defaults to the stationary mean-field variance q*(gain^2, sigma_b2).  ``sigma_b2`` and ``q`` only
    matter for tanh.
    """
    check(nonlinearity)
    n = int(width)
    if n < 1:
        raise ValueError("width must be >= 1")
    lg2 = 2.0 * math.log(gain)
    if nonlinearity == "linear":
        return lg2 + math.log(2.0 / n) + float(special.digamma(n / 2.0)), float(special.polygamma(1, n / 2.0))
    if nonlinearity == "relu":
        mean_psi, var = _relu_mixture(n)
        return lg2 + math.log(2.0 / n) + mean_psi, var
    if nonlinearity == "tanh":
        if q is None:
            from isometry.theory.meanfield import q_star

            q = float(q_star("tanh", gain**2, sigma_b2))
        w, wz = _tanh_weights(q)
        mean, var = _laplace_log_moments(n, w, wz, need_var=_need_var)
        return lg2 + mean, var
    raise NotImplementedError(f"log_norm_increment_stats: {nonlinearity!r} not supported (linear, relu, tanh)")


def optimal_gain(width: int, nonlinearity: str, method: str = "exact", sigma_b2: float = 0.0) -> float:
    """Gain g making the log-norm random walk unbiased, E ln z = 0 (SA eqs. 10, 14).

    ``method="exact"``: linear g* = exp(-[ln(2/N) + psi(N/2)]/2); ReLU g* = exp(-[ln(2/N) + E_M psi(M/2)]/2);
    tanh: root in g of the numerical mean (``brentq``; forward regime q*(g^2, sigma_b2)).
    ``method="fit"``: SA's formulas g_lin = exp(1/(2N)), g_ReLU = sqrt(2) exp(1.2/(max(N, 6) - 2.4)); there is no fit
    for tanh and a ValueError is raised (use method="exact").
    """
    check(nonlinearity)
    n = int(width)
    if method == "fit":
        if nonlinearity == "linear":
            return math.exp(1.0 / (2.0 * n))
        if nonlinearity == "relu":
            return math.sqrt(2.0) * math.exp(1.2 / (max(n, 6) - 2.4))
        raise ValueError(f"Sussillo & Abbott give no fit formula for {nonlinearity!r}; use method='exact'")
    if method != "exact":
        raise ValueError("method must be 'exact' or 'fit'")
    if nonlinearity == "linear":
        return math.exp(-0.5 * (math.log(2.0 / n) + float(special.digamma(n / 2.0))))
    if nonlinearity == "relu":
        return math.exp(-0.5 * (math.log(2.0 / n) + _relu_mixture(n)[0]))
    if nonlinearity == "tanh":
        f = lambda g: log_norm_increment_stats(n, "tanh", g, sigma_b2, _need_var=False)[0]  # noqa: E731
        # The mean rises with g, peaks (saturation of tanh then shrinks phi') and falls again: take the first
        # crossing of zero on a bounded grid. At small widths (N <~ 9) the peak stays below zero: no gain makes the
        # walk unbiased, and we say so instead of returning a meaningless root.
        grid = np.linspace(0.5, 10.0, 96)
        vals = np.array([f(g) for g in grid])
        up = np.nonzero((vals[:-1] < 0) & (vals[1:] >= 0))[0]
        if len(up) == 0:
            k = int(np.argmax(vals))
            raise ValueError(f"optimal_gain: no gain makes the tanh random walk unbiased at width {n}: the mean "
                             f"of ln z peaks at {vals[k]:.4g} (g = {grid[k]:.3g}) < 0")
        return float(optimize.brentq(f, grid[up[0]], grid[up[0] + 1], xtol=1e-12))
    raise NotImplementedError(f"optimal_gain: {nonlinearity!r} not supported (linear, relu, tanh)")


@torch.no_grad()
def simulate_log_norms(
    width: int,
    depth: int,
    nonlinearity: str,
    gain: float,
    n_networks: int,
    generator: torch.Generator | None = None,
    sigma_b2: float = 0.0,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
    stationary: bool = False,
) -> np.ndarray:
    """Monte-Carlo log-norm trajectories through ``n_networks`` random networks (batched with ``bmm``).

    Each network gets fresh W_d (N(0, 1/N) entries, times ``gain``) and b_d ~ N(0, sigma_b2); an input with i.i.d.
    N(0, 1) entries (SA's input normalization) -- or, with ``stationary=True``, h_0 = f(a_0), a_0 ~ N(0, q*) so every
    layer sits at the mean-field fixed point q*(gain^2, sigma_b2) from the start (no input transient; this is the
    regime ``log_norm_increment_stats`` describes for tanh) -- is propagated forward, then a random unit vector delta_D is
    back-propagated with delta_{d-1} = g W_d^T (f'(a_d) * delta_d), using the *same* W_d as the forward pass (weights
    are regenerated from per-layer seeds drawn from ``generator``, so memory stays O(n_networks N^2)).

    Returns a float64 array of shape (n_networks, depth + 1): column d is ln|delta_d|^2, d = 0 (input) .. D (output,
    = 0 since delta_D has unit norm).  Log-norms are accumulated with per-layer renormalization, so any depth works.
    Deterministic for a seeded generator on CPU.

    Observation (tested): for linear and bias-free ReLU nets the steps are (nearly) independent, so the variance of
    ln|delta_0|^2 is ~ D Var[ln z].  For tanh the single-step moments match ``log_norm_increment_stats`` but successive
    steps are positively correlated -- the finite-N fluctuation of each network's forward length |h_d|^2/N persists
    over ~xi_q layers and scales all its f'(a) together -- so the walk spreads faster (about 1.8 x D Var[ln z] at
    N = 100, D = 50, g = g*).
    """
    check(nonlinearity)
    n, e = int(width), int(n_networks)
    if generator is None:
        generator = torch.Generator().manual_seed(0)
    f, df = torch_phi(nonlinearity), torch_dphi(nonlinearity)
    seeds = torch.randint(0, 2**62, (depth,), generator=generator).tolist()
    sb = math.sqrt(sigma_b2)

    def layer(d):
        g = torch.Generator(device=device).manual_seed(int(seeds[d]))
        w = torch.randn(e, n, n, generator=g, dtype=dtype, device=device) / math.sqrt(n)
        b = torch.randn(e, n, 1, generator=g, dtype=dtype, device=device) * sb
        return w, b

    h = torch.randn(e, n, 1, generator=generator, dtype=dtype).to(device)
    if stationary and nonlinearity not in ("linear", "relu"):  # linear/ReLU masks do not depend on the scale
        from isometry.theory.meanfield import q_star

        q = float(q_star(nonlinearity, gain**2, sigma_b2))
        h = f(h * math.sqrt(q))
    masks = []
    for d in range(depth if nonlinearity != "linear" else 0):  # linear: f' = 1, no forward pass needed
        w, b = layer(d)
        a = gain * torch.bmm(w, h) + b
        masks.append(df(a))
        h = f(a)
    delta = torch.randn(e, n, 1, generator=generator, dtype=dtype).to(device)
    delta = delta / delta.norm(dim=1, keepdim=True)
    out = np.zeros((e, depth + 1))
    acc = torch.zeros(e, dtype=torch.float64, device=device)
    for d in reversed(range(depth)):
        w, _ = layer(d)
        delta = gain * torch.bmm(w.transpose(1, 2), masks[d] * delta if masks else delta)
        nrm = delta.norm(dim=1, keepdim=True)
        acc = acc + 2.0 * torch.log(nrm.squeeze(-1).squeeze(-1).double())
        delta = delta / nrm
        out[:, d] = acc.cpu().numpy()
    return out
