"""Exact learning dynamics of deep linear networks (Saxe, McClelland & Ganguli 2014, arXiv:1312.6120; papers.md
section 2).

Gradient flow with learning rate lambda = 1/tau on whitened inputs decouples into SVD modes of the input-output
correlation Sigma^{31} = U S V^T.  For one mode of strength s:

* 3-layer net (two weight matrices), balanced (a = b), u = a . b (SMG eqs. 5-7):
  tau du/dt = 2 u (s - u)  =>  u(t) = s e^{2st/tau} / (e^{2st/tau} - 1 + s/u0),
  learning time u0 -> uf:  t = tau/(2s) ln[uf (s - u0) / (u0 (s - uf))].
* unbalanced one-mode dynamics (SMG eq. 4 without cross-coupling): tau da/dt = b (s - a b), tau db/dt = a (s - a b);
  a^2 - b^2 is conserved (hyperbolic trajectories).
* deep net with D weight matrices, balanced, u = a^D (SMG eq. 13/section 3):
  tau du/dt = D u^{2 - 2/D} (s - u),  t = (tau/D) int_{u0}^{uf} du / [u^{2-2/D} (s - u)]  (D = 2 recovers the above).

``depth`` always counts weight matrices (depth = N_l - 1 for a net with N_l layers of units).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate

__all__ = ["mode_strength", "learning_time", "deep_mode_strength", "vector_field", "hyperbolic_trajectory"]


def mode_strength(t, s, u0, tau: float = 1.0):
    """u(t) = s e^{2st/tau} / (e^{2st/tau} - 1 + s/u0) (SMG eq. 7), written overflow-free as
    s / (1 + (s/u0 - 1) e^{-2st/tau}).  Broadcasts over t, s, u0."""
    t, s, u0 = (np.asarray(x, float) for x in (t, s, u0))
    out = s / (1.0 + (s / u0 - 1.0) * np.exp(-2.0 * s * t / tau))
    return out[()] if out.ndim == 0 else out


def _deep_integral(s: float, u0: float, uf: float, depth: int) -> float:
    """int_{u0}^{uf} du / (u^a (s - u)), a = 2 - 2/D.  The log singularity at u -> s is split off analytically:
    = s^{-a} ln((s-u0)/(s-uf)) + int (u^{-a} - s^{-a})/(s - u) du, the rest by quad in x = ln u."""
    a = 2.0 - 2.0 / depth
    head = s ** (-a) * math.log((s - u0) / (s - uf))

    def g(x):
        u = math.exp(x)
        if s - u == 0.0:
            return a * s ** (-a - 1.0) * u
        return (u ** (-a) - s ** (-a)) / (s - u) * u

    rest, _ = integrate.quad(g, math.log(u0), math.log(uf), epsabs=0.0, epsrel=1e-12, limit=500)
    return head + rest


def learning_time(s, u0, uf, tau: float = 1.0, depth: int = 2):
    """Time for a mode to grow from u0 to uf (0 < u0 < uf < s).

    depth = 2 (the paper's 3-layer net): closed form t = tau/(2s) ln[uf (s - u0) / (u0 (s - uf))] (SMG eq. 8).
    depth > 2: t = (tau/D) int_{u0}^{uf} du / [u^{2-2/D} (s - u)] by adaptive quadrature (scipy ``quad``; vectorized
    over array arguments by a loop).  As D -> infinity, D t / tau -> int du / (u^2 (s - u)) ~ 1/(s u0).
    """
    s, u0, uf = np.broadcast_arrays(*(np.asarray(x, float) for x in (s, u0, uf)))
    if np.any((u0 <= 0) | (uf <= u0) | (uf >= s)):
        raise ValueError("need 0 < u0 < uf < s")
    if depth < 1:
        raise ValueError("depth (number of weight matrices) must be >= 1")
    if depth == 2:
        out = tau / (2.0 * s) * np.log(uf * (s - u0) / (u0 * (s - uf)))
    elif depth == 1:  # tau du/dt = (s - u): plain linear regression
        out = tau * np.log((s - u0) / (s - uf))
    else:
        out = np.array([tau / depth * _deep_integral(a, b, c, depth) for a, b, c in zip(s.ravel(), u0.ravel(), uf.ravel())])
        out = out.reshape(s.shape)
    return out[()] if out.ndim == 0 else out


def deep_mode_strength(t, s: float, u0: float, tau: float = 1.0, depth: int = 2, rtol: float = 1e-10):
    """u(t) for the balanced deep-linear ODE tau du/dt = D u^{2-2/D} (s - u) (D = ``depth`` weight matrices).

    Integrated numerically (DOP853 in y = ln u, where the ODE is well scaled: tau dy/dt = D u^{1-2/D} (s - u)), with
    dense output evaluated at every requested t (any order/shape; t >= 0).  depth = 2 agrees with ``mode_strength``.
    """
    t = np.asarray(t, float)
    if np.any(t < 0):
        raise ValueError("t must be >= 0")
    if not 0 < u0 < s:
        raise ValueError("need 0 < u0 < s")
    D = float(depth)

    def rhs(_, y):
        u = math.exp(y[0])
        return [D * u ** (1.0 - 2.0 / D) * (s - u) / tau]

    tmax = float(t.max()) if t.size else 0.0
    if tmax == 0.0:
        return np.full(t.shape, float(u0))[()] if t.ndim == 0 else np.full(t.shape, float(u0))
    sol = integrate.solve_ivp(rhs, (0.0, tmax), [math.log(u0)], method="DOP853", rtol=rtol, atol=1e-12,
                              dense_output=True)
    out = np.minimum(np.exp(sol.sol(t.ravel())[0]), s).reshape(t.shape)
    return out[()] if out.ndim == 0 else out


def vector_field(a, b, s: float = 1.0, tau: float = 1.0):
    """One-mode gradient-flow field (SMG fig. 2): tau da/dt = b (s - a b), tau db/dt = a (s - a b).  Broadcasts."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    r = s - a * b
    return b * r / tau, a * r / tau


def hyperbolic_trajectory(a0: float, b0: float, s: float = 1.0, tau: float = 1.0, t=None):
    """Integrate the one-mode field from (a0, b0); returns (a(t), b(t)) at the times ``t`` (array, t >= 0).

    Trajectories lie on the hyperbolas a^2 - b^2 = const and end on a b = s (DOP853, rtol 1e-10)."""
    t = np.asarray(t if t is not None else np.linspace(0.0, 10.0, 201), float)

    def rhs(_, y):
        r = s - y[0] * y[1]
        return [y[1] * r / tau, y[0] * r / tau]

    tmax = float(t.max())
    sol = integrate.solve_ivp(rhs, (0.0, max(tmax, 1e-12)), [a0, b0], method="DOP853", rtol=1e-10, atol=1e-12,
                              dense_output=True)
    y = sol.sol(t.ravel())
    return y[0].reshape(t.shape), y[1].reshape(t.shape)
