"""Mean-field signal propagation in wide random networks (Poole et al. 2016; Schoenholz et al. 2017 [SGGS];
Pennington et al. 2017 [PSG]; Xiao et al. 2018 [XBSSP]).

Network: h^l = W^l phi(h^{l-1}) + b^l, W_ij ~ N(0, sigma_w2/N), b_i ~ N(0, sigma_b2).  All functions take the
*variances* ``sigma_w2`` and ``sigma_b2`` and broadcast over NumPy arrays of them.

Equations (papers.md section 1; numbers are those of SGGS 2017):

* length map (SGGS eq. 3):       q^l = sigma_w2 E_z[phi(sqrt(q^{l-1}) z)^2] + sigma_b2,  fixed point q*;
* correlation map (SGGS eq. 4):  c^l = (sigma_w2 E[phi(u1) phi(u2)] + sigma_b2) / q*,
  u1 = sqrt(q*) z1, u2 = sqrt(q*) (c z1 + sqrt(1 - c^2) z2); c* = 1 is always a fixed point;
* slopes (SGGS eqs. 5, 7):       chi_1 = sigma_w2 E[phi'(sqrt(q*) z)^2],  chi_c = sigma_w2 E[phi'(u1) phi'(u2)] at c*;
* depth scales (SGGS eqs. 8, 9): xi_q^{-1} = -ln[chi_1 + sigma_w2 E[phi'' phi]] (the slope of the q-map at q*),
  xi_c^{-1} = -ln chi_c.

Numerics
--------
Gaussian expectations for tanh use a quadrature that follows q (``_tanh_1d``, ``_tanh_2d``; accurate to ~1e-10
for every q >= 0, tested against adaptive quadrature): Gauss-Hermite in z while the Gaussian N(0, q) is narrower than
tanh's features (q <= 1), and a fixed composite Gauss-Legendre rule in h = sqrt(q) z on [0, 24] (where sech^2 has
decayed to 1e-20) weighted by the N(0, q) density once it is wider; a fixed Gauss-Hermite rule in z (the old 201 /
101 x 101 nodes) lost 1e-3 at q* ~ 8 and 0.9% of the critical sigma_w2 at q* = 16. Two-dimensional expectations use
u1 = a zeta + s xi1, u2 = a zeta + s xi2 (a^2 = q c, s^2 = q (1 - c), zeta, xi iid N(0,1), c >= 0), so that
E[f(u1) f(u2)] = E_zeta[J(a zeta)^2] with the 1-D smoothing J(m) = E_xi[f(m + s xi)]: two nested 1-D rules of the same
kind. Closed forms wherever they exist: linear and ReLU (arc-cosine kernel) completely, erf (phi(h) =
erf(sqrt(pi)/2 h)) completely, hard-tanh in 1-D (chi_1 = sigma_w2 erf(1/sqrt(2 q*))) and semi-analytically in 2-D
(inner Gaussian integral in closed form, outer by Gauss-Legendre split at the kinks).

q* is the fixed point reached by iterating the length map from q = 1.  For the bounded nonlinearities the map is
concave and increasing, so the iteration is accelerated by safeguarded Newton steps (taken only where the map's
slope is < 1, where Newton converges monotonically to the same fixed point); this gives the converged iterate in
~10 steps instead of ~1000 near criticality, and makes a 200 x 200 phase diagram take well under a second.

c* in the chaotic phase (chi_1 > 1) is the fixed point below 1 reached by iterating from c = 0.5.  The c-map is a
power series in c with non-negative coefficients (Hermite expansion), hence convex on [0, 1]; with F(c) = c-map(c) - c
we have F(0) >= 0, F(1) = 0 and F'(1) = chi_1 - 1 > 0, so there is exactly one root in [0, 1) and it attracts every
start in [0, 1).  We find it by Newton from c = 0 (monotone for convex F), with F written as
1 - c - sigma_w2 (E[phi phi](1) - E[phi phi](c)) / q* so that c = 1 is an exact root of the discretized map.
In the ordered phase and on the critical line c* = 1 and chi_c = chi_1.

Edge cases (documented rather than hidden):

* ReLU: q* = sigma_b2 / (1 - sigma_w2/2) for sigma_w2 < 2.  For sigma_w2 >= 2 and sigma_b2 > 0, or sigma_w2 > 2,
  the length diverges and ``q_star`` returns ``inf``.  At (2, 0) every q is a fixed point; starting from q = 1
  gives q* = 1.  ReLU and linear nets always have c* = 1 (c-map convex with slope chi_1 at 1), chi_c = chi_1.
* linear: q* = sigma_b2 / (1 - sigma_w2) for sigma_w2 < 1; inf for sigma_w2 > 1 (or = 1 with sigma_b2 > 0); 1 at
  (1, 0).
* Depth scales are ``inf`` wherever the relevant slope is >= 1 (exactly at chi_c = 1 on the critical line, and
  where the signal explodes).  Close to the critical line xi_c = -1/ln chi_c is ill-conditioned (chi_c - 1 is a
  difference of O(1) quadratures and c* - 1 is tiny); plot log xi_c or clip it.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy import special

from isometry.nonlinearities import check, d2phi, dphi, phi
from isometry.theory.quadrature import hermite_nodes

__all__ = [
    "q_map",
    "c_map",
    "q_star",
    "c_star",
    "chi_1",
    "chi_c",
    "xi_q",
    "xi_c",
    "critical_sigma_w2",
    "critical_point",
    "xi_c_fourier",
    "phase_grid",
    "PhaseGrid",
]

N_1D = 201  # Gauss-Hermite nodes for 1-D expectations of other smooth phi (tanh: see _tanh_1d)
N_2D = 101  # per axis for 2-D expectations of other smooth phi (tanh: see _tanh_2d)
N_GL = 64  # Gauss-Legendre nodes per sub-interval (hard-tanh 2-D)
_BOUNDED = ("tanh", "hard_tanh", "erf")
_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


# --------------------------------------------------------------------------------------------------------------------
# Gaussian expectations: V(q) = E[phi^2], dV(q) = d V / d q, X(q) = E[phi'^2], C(q, c) = E[phi phi], Cd = E[phi' phi']
# --------------------------------------------------------------------------------------------------------------------


def _half_nodes(n: int = N_1D):
    """Non-negative Gauss-Hermite nodes with weights folded, for even integrands."""
    z, w = hermite_nodes(n)
    m = n // 2
    zh = z[m:].copy()
    wh = w[m:].copy()
    if n % 2:
        wh[1:] *= 2.0
    else:  # pragma: no cover - we always use odd n
        wh *= 2.0
    return zh, wh


def _even_expect(f, q):
    """E_z[f(sqrt(q) z)] for even f, broadcasting over q."""
    zh, wh = _half_nodes()
    sq = np.sqrt(np.asarray(q, dtype=float))[..., None]
    return np.einsum("...i,i->...", f(sq * zh), wh)


def _std_normal_pdf(x):
    return _INV_SQRT_2PI * np.exp(-0.5 * x * x)


# --------------------------------------------------------------------------------------------------------------------
# tanh: quadrature that follows q
# --------------------------------------------------------------------------------------------------------------------
_GH_1D_TANH = 201  # Gauss-Hermite nodes in z for q <= 1 (1-D)
_GH_OUTER = 161  # Gauss-Hermite nodes (outer, 2-D) when the outer Gaussian is narrower than the integrand's scale
_GH_INNER = 96  # Gauss-Hermite nodes (inner, 2-D) when the conditional s.d. is <= _SIG_GH
_SIG_GH = 0.5
_PANEL_NODES = 10
#: panels on [0, 24] for functions of |u| that vary on scale 1 and decay like exp(-2|u|) (sech^2 and 1 - tanh)
_U_BREAKS = np.concatenate([np.arange(0.0, 12.0), np.arange(12.0, 24.0 + 1e-9, 2.0)])
_CHUNK = 4_000_000  # largest (points x outer x inner) block evaluated at once


def _u_rule():
    """Composite Gauss-Legendre nodes (u > 0) and weights on [0, 24] (``_U_BREAKS``)."""
    if not hasattr(_u_rule, "cache"):
        x, w = np.polynomial.legendre.leggauss(_PANEL_NODES)
        lo, hi = _U_BREAKS[:-1, None], _U_BREAKS[1:, None]
        u = (lo + 0.5 * (hi - lo) * (x + 1.0)).ravel()
        wu = (0.5 * (hi - lo) * w).ravel()
        _u_rule.cache = (u, wu)
    return _u_rule.cache


def _sech2(x):
    """sech^2 x without overflow: 4 e^{-2|x|} / (1 + e^{-2|x|})^2."""
    e = np.exp(-2.0 * np.abs(x))
    return 4.0 * e / (1.0 + e) ** 2


def _one_minus_tanh_abs(x):
    """1 - tanh|x| = 2 e^{-2|x|} / (1 + e^{-2|x|}) (no cancellation at large |x|)."""
    e = np.exp(-2.0 * np.abs(x))
    return 2.0 * e / (1.0 + e)


def _tanh_1d(q, need: str = "VXD"):
    """(V, X, dV) = (E[tanh^2 h], E[sech^4 h], E[phi'^2 + phi phi''] = E[s (s - 2 tanh^2)]), h ~ N(0, q), s = sech^2 h;
    broadcasts over q. For q <= 1 from tanh directly (no cancellation in V ~ q as q -> 0). ``need``: which of V, X,
    D(V) to compute (the others come back as None)."""
    q = np.asarray(q, dtype=float)
    flat = q.ravel()
    out = {k: np.empty(flat.shape) for k in need}
    small = flat <= 1.0
    if small.any():
        zh, wh = _half_nodes(_GH_1D_TANH)
        t2 = np.tanh(np.multiply.outer(np.sqrt(np.maximum(flat[small], 0.0)), zh))
        t2 *= t2
        if "V" in out:
            out["V"][small] = t2 @ wh
        if "X" in out or "D" in out:
            sv = 1.0 - t2
            x = (sv * sv) @ wh
            if "X" in out:
                out["X"][small] = x
            if "D" in out:
                out["D"][small] = x - 2.0 * ((sv * t2) @ wh)
    big = ~small
    if big.any():
        u, wu = _u_rule()
        sv = _sech2(u)
        qb = flat[big]
        g = np.exp(np.multiply.outer(-0.5 / qb, u * u))       # N(0, q) density on the nodes, up to the factor below
        norm = 2.0 / np.sqrt(2.0 * math.pi * qb)              # 2: folded (even integrands)
        es = (g @ (wu * sv)) * norm if ("V" in out or "D" in out) else None
        es2 = (g @ (wu * sv * sv)) * norm if ("X" in out or "D" in out) else None
        if "V" in out:
            out["V"][big] = 1.0 - es
        if "X" in out:
            out["X"][big] = es2
        if "D" in out:
            out["D"][big] = 3.0 * es2 - 2.0 * es
    return tuple(out[k].reshape(q.shape) if k in out else None for k in "VXD")


def _smooth_tanh(m, sig):
    """J_t = E[tanh(m + sig xi)] and J_s = E[sech^2(m + sig xi)], xi ~ N(0, 1); m (P, K), sig (P,)."""
    Jt, Js = np.empty(m.shape), np.empty(m.shape)
    small = sig <= _SIG_GH
    if small.any():
        xi, om = hermite_nodes(_GH_INNER)
        ms, ss = m[small], sig[small]
        step = max(1, _CHUNK // max(1, ms.shape[1] * xi.size))
        for i in range(0, ms.shape[0], step):
            t = np.tanh(ms[i:i + step, :, None] + ss[i:i + step, None, None] * xi)
            idx = np.flatnonzero(small)[i:i + step]
            Jt[idx] = t @ om
            Js[idx] = (1.0 - t * t) @ om
    big = ~small
    if big.any():
        u, wu = _u_rule()
        U = np.concatenate([-u[::-1], u])
        W = np.concatenate([wu[::-1], wu])
        sU, rU = _sech2(U), np.sign(U) * _one_minus_tanh_abs(U)
        mb, sb = m[big], sig[big]
        step = max(1, _CHUNK // max(1, mb.shape[1] * U.size))
        for i in range(0, mb.shape[0], step):
            mm, sg = mb[i:i + step, :, None], sb[i:i + step, None, None]
            kern = W * np.exp(-0.5 * ((U - mm) / sg) ** 2) / (sg * math.sqrt(2.0 * math.pi))
            idx = np.flatnonzero(big)[i:i + step]
            Js[idx] = kern @ sU
            Jt[idx] = special.erf(mb[i:i + step] / (sb[i:i + step, None] * _SQRT2)) - kern @ rU
    return Jt, Js


def _tanh_2d(q, c):
    """(C, Cd) = (E[tanh(u1) tanh(u2)], E[sech^2(u1) sech^2(u2)]), u1, u2 ~ N(0, q) with correlation c; broadcasts.

    For c >= 0: u_i = a zeta + s xi_i with a^2 = q c, s^2 = q (1 - c), so both are E_zeta[J(a zeta)^2] with
    J = ``_smooth_tanh``; for c < 0, C(q, c) = -C(q, -c) and Cd(q, c) = Cd(q, -c) (tanh odd, sech^2 even). The outer
    integrand varies on the scale l = max(1, s) and is even: Gauss-Hermite in zeta when a <= l, else the panel rule
    in m = l v (v on [0, 24]) weighted by the N(0, a^2) density, with C = 1 - E[1 - J_t^2] (1 - J_t^2 decays)."""
    q, c = np.broadcast_arrays(np.asarray(q, float), np.asarray(c, float))
    shape = q.shape
    qf, cf = q.ravel(), np.clip(c.ravel(), -1.0, 1.0)
    sign = np.where(cf < 0, -1.0, 1.0)
    ca = np.abs(cf)
    a = np.sqrt(qf * ca)
    sig = np.sqrt(np.maximum(qf * (1.0 - ca), 0.0))
    ell = np.maximum(1.0, sig)
    C, Cd = np.empty(qf.shape), np.empty(qf.shape)
    gh = a <= ell
    if gh.any():
        zh, wh = _half_nodes(_GH_OUTER)
        Jt, Js = _smooth_tanh(a[gh, None] * zh, sig[gh])
        C[gh], Cd[gh] = (Jt * Jt) @ wh, (Js * Js) @ wh
    pn = ~gh
    if pn.any():
        u, wu = _u_rule()
        ap, lp = a[pn, None], ell[pn, None]
        m = lp * u
        dens = 2.0 * lp * wu * np.exp(-0.5 * (m / ap) ** 2) / (ap * math.sqrt(2.0 * math.pi))
        Jt, Js = _smooth_tanh(m, sig[pn])
        C[pn] = 1.0 - np.sum(dens * (1.0 - Jt * Jt), axis=1)
        Cd[pn] = np.sum(dens * Js * Js, axis=1)
    return (sign * C).reshape(shape), Cd.reshape(shape)


def _ht_parts(q):
    """Hard-tanh helpers: P = P(|h| < 1) = erf(1/sqrt(2q)), r = 2 a pdf(a) with a = 1/sqrt(q) (0 at q = 0)."""
    q = np.asarray(q, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = 1.0 / np.sqrt(q)
        P = special.erf(a / _SQRT2)
        r = np.where(q > 0, 2.0 * a * _std_normal_pdf(np.where(q > 0, a, 0.0)), 0.0)
    return P, r


def _V(nl, q):
    q = np.asarray(q, dtype=float)
    if nl == "linear":
        return q.copy()
    if nl == "relu":
        return 0.5 * q
    if nl == "erf":
        return (2.0 / math.pi) * np.arcsin(math.pi * q / (2.0 + math.pi * q))
    if nl == "hard_tanh":
        P, r = _ht_parts(q)
        return np.where(q > 0, q * (P - r) + (1.0 - P), 0.0)
    if nl == "tanh":
        return _tanh_1d(q, "V")[0]
    return _even_expect(lambda h: phi(nl)(h) ** 2, q)


def _dV(nl, q):
    """d E[phi(sqrt(q) z)^2] / dq = E[phi'^2] + E[phi phi''] (Stein); the q-map slope is sigma_w2 * dV."""
    q = np.asarray(q, dtype=float)
    if nl == "linear":
        return np.ones_like(q)
    if nl == "relu":
        return np.full_like(q, 0.5)
    if nl == "erf":
        return 2.0 / ((2.0 + math.pi * q) * np.sqrt(1.0 + math.pi * q))
    if nl == "hard_tanh":
        # phi'' = delta(h + 1) - delta(h - 1), so E[phi phi''] = -2 p_q(1) = -2 a pdf(a)
        P, r = _ht_parts(q)
        return P - r
    if nl == "tanh":
        return _tanh_1d(q, "D")[2]
    f1, f2 = dphi(nl), d2phi(nl)
    f0 = phi(nl)
    return _even_expect(lambda h: f1(h) ** 2 + f0(h) * f2(h), q)


def _V_dV(nl, q, n=None):
    """(V, dV) together; for tanh one quadrature serves both (phi'^2 + phi phi'' = s^2 - 2 t^2 s = 3 s^2 - 2 s,
    s = sech^2). ``n``: a plain ``n``-node Gauss-Hermite rule instead (a cheap approximation, for a first guess)."""
    if nl != "tanh":
        return _V(nl, q), _dV(nl, q)
    if n is None:
        V, _, dV = _tanh_1d(q, "VD")
        return V, dV
    zh, wh = _half_nodes(n)
    t = np.tanh(np.sqrt(np.asarray(q, dtype=float))[..., None] * zh)
    t2 = t * t
    s = 1.0 - t2
    return np.einsum("...i,i->...", t2, wh), np.einsum("...i,i->...", s * (s - 2.0 * t2), wh)


def _X(nl, q):
    """E[phi'(sqrt(q) z)^2]."""
    q = np.asarray(q, dtype=float)
    if nl == "linear":
        return np.ones_like(q)
    if nl == "relu":
        return np.full_like(q, 0.5)
    if nl == "erf":
        return 1.0 / np.sqrt(1.0 + math.pi * q)
    if nl == "hard_tanh":
        return _ht_parts(q)[0]
    if nl == "tanh":
        return _tanh_1d(q, "X")[1]
    return _even_expect(lambda h: dphi(nl)(h) ** 2, q)


def _gl_interval(lo, hi, n=N_GL):
    """Gauss-Legendre nodes/weights on [lo, hi] (arrays broadcast; trailing node axis)."""
    x, w = np.polynomial.legendre.leggauss(n)
    lo = np.asarray(lo, float)[..., None]
    hi = np.asarray(hi, float)[..., None]
    half = 0.5 * (hi - lo)
    return lo + half * (x + 1.0), half * w


def _ht_C(q, c, deriv):
    """Hard-tanh E[phi(u1)phi(u2)] (deriv=False) or E[phi'(u1)phi'(u2)] (deriv=True) for |c| < 1.

    Inner z2-integral in closed form given z1 (u2 | z1 ~ N(m, s^2)); the outer integrand is even in z1, so
    2 * int_0^L over [0, a], [a, a/|c|], [a/|c|, L] (a = 1/sqrt(q) is the kink of phi(u1), a/|c| the near-kink of the
    inner integral as s -> 0) by Gauss-Legendre.
    """
    q, c = np.broadcast_arrays(np.asarray(q, float), np.asarray(c, float))
    L = 10.0
    sq = np.sqrt(q)
    a = np.minimum(1.0 / sq, L)
    with np.errstate(divide="ignore"):
        b = np.minimum(np.where(np.abs(c) > 0, a / np.abs(c), L), L)
    s = sq * np.sqrt(1.0 - c * c)
    total = np.zeros(q.shape)
    pieces = [(0.0 * a, a)] if deriv else [(0.0 * a, a), (a, b), (b, 0.0 * a + L)]
    for lo, hi in pieces:
        z1, wz = _gl_interval(lo, hi)
        m = (sq * c)[..., None] * z1
        ss = s[..., None]
        al = (-1.0 - m) / ss
        be = (1.0 - m) / ss
        Pin = special.ndtr(be) - special.ndtr(al)
        if deriv:
            g = Pin  # phi'(u1) = 1 on [0, a)
        else:
            # E[clip(X)], X ~ N(m, s^2): -P(X<-1) + P(X>1) + E[X; -1<X<1]
            ex_in = m * Pin - ss * (_std_normal_pdf(be) - _std_normal_pdf(al))
            g = -special.ndtr(al) + special.ndtr(-be) + ex_in
            g = np.clip(sq[..., None] * z1, -1.0, 1.0) * g
        total = total + 2.0 * np.sum(wz * g * _std_normal_pdf(z1), axis=-1)
    return total


def _C(nl, q, c):
    """E[phi(u1) phi(u2)], u1, u2 ~ N(0, q) with correlation c."""
    q, c = np.broadcast_arrays(np.asarray(q, float), np.asarray(c, float))
    if nl == "linear":
        return q * c
    if nl == "relu":
        cc = np.clip(c, -1.0, 1.0)
        return q / (2.0 * math.pi) * (np.sqrt(1.0 - cc * cc) + (math.pi - np.arccos(cc)) * cc)
    if nl == "erf":
        return (2.0 / math.pi) * np.arcsin(math.pi * q * c / (2.0 + math.pi * q))
    if nl == "hard_tanh":
        one = c >= 1.0
        cc = np.where(one, 0.0, c)
        return np.where(one, _V(nl, q), _ht_C(q, cc, deriv=False))
    return _tanh_2d(q, np.minimum(c, 1.0))[0]


def _Cd(nl, q, c):
    """E[phi'(u1) phi'(u2)]."""
    q, c = np.broadcast_arrays(np.asarray(q, float), np.asarray(c, float))
    if nl == "linear":
        return np.ones_like(q)
    if nl == "relu":
        return (math.pi - np.arccos(np.clip(c, -1.0, 1.0))) / (2.0 * math.pi)
    if nl == "erf":
        k = math.pi * q / 2.0
        return 1.0 / np.sqrt((1.0 + k) ** 2 - (k * c) ** 2)
    if nl == "hard_tanh":
        one = c >= 1.0
        cc = np.where(one, 0.0, c)
        return np.where(one, _X(nl, q), _ht_C(q, cc, deriv=True))
    return _tanh_2d(q, np.minimum(c, 1.0))[1]


# --------------------------------------------------------------------------------------------------------------------
# one-step maps
# --------------------------------------------------------------------------------------------------------------------


def q_map(nl: str, q, sigma_w2, sigma_b2):
    """One step of the length map, SGGS eq. (3): q^l = sigma_w2 E[phi(sqrt(q^{l-1}) z)^2] + sigma_b2."""
    check(nl)
    return sigma_w2 * _V(nl, q) + sigma_b2


def c_map(nl: str, c, q, sigma_w2, sigma_b2, q_next=None):
    """One step of the correlation map, SGGS eq. (4), for two inputs of equal length q^{l-1} = q.

    c^l = (sigma_w2 E[phi(u1) phi(u2)] + sigma_b2) / q^l with q^l = ``q_next`` (default: q_map(q)); at q = q* this
    is the usual map with denominator q*.  Use it to follow c^l layer by layer alongside ``q_map``.
    """
    check(nl)
    if q_next is None:
        q_next = q_map(nl, q, sigma_w2, sigma_b2)
    return (sigma_w2 * _C(nl, q, c) + sigma_b2) / q_next


# --------------------------------------------------------------------------------------------------------------------
# fixed points
# --------------------------------------------------------------------------------------------------------------------


def _qstar_bounded(nl, sw, sb, q0=1.0, tol=1e-13, max_iter=2000):
    shape = np.broadcast(sw, sb).shape
    sw = np.broadcast_to(np.asarray(sw, float), shape).ravel()
    sb = np.broadcast_to(np.asarray(sb, float), shape).ravel()
    q = np.full(sw.shape, float(q0))
    if nl == "tanh" and q.size > 64:
        # cheap pre-solve with a 61-node rule; the 201-node Newton below then needs ~2 steps (quadratic convergence)
        q = _qstar_iterate(nl, sw, sb, q, 1e-8, max_iter, 61)
    return _qstar_iterate(nl, sw, sb, q, tol, max_iter, None).reshape(shape)


def _qstar_iterate(nl, sw, sb, q, tol, max_iter, n):
    q = q.copy()
    active = np.arange(q.size)
    for _ in range(max_iter):
        if active.size == 0:
            break
        qa, swa, sba = q[active], sw[active], sb[active]
        V, dV = _V_dV(nl, qa, n)
        fp = swa * V + sba
        slope = swa * dV
        G = fp - qa
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = qa - G / (slope - 1.0)
        use_newton = (slope < 1.0) & np.isfinite(newton) & (newton >= 0.0)
        qn = np.where(use_newton, newton, fp)
        q[active] = qn
        done = np.abs(qn - qa) <= tol * np.maximum(qn, 1.0)
        active = active[~done]
    return q


def q_star(nl: str, sigma_w2, sigma_b2, q0: float = 1.0):
    """Fixed point q* of the length map (SGGS eq. 3), reached by iterating from q = ``q0`` (default 1).

    Closed forms for linear (sigma_b2 / (1 - sigma_w2)) and ReLU (sigma_b2 / (1 - sigma_w2/2)); ``inf`` where the
    length diverges (ReLU: sigma_w2 >= 2 with sigma_b2 > 0, or sigma_w2 > 2); ``q0`` at the marginal point (2, 0)
    (ReLU) / (1, 0) (linear), where every q is fixed.  Broadcasts over arrays.
    """
    check(nl)
    sw, sb = np.broadcast_arrays(np.asarray(sigma_w2, float), np.asarray(sigma_b2, float))
    if nl in ("linear", "relu"):
        crit = 1.0 if nl == "linear" else 2.0
        slope = sw / crit
        with np.errstate(divide="ignore", invalid="ignore"):
            q = sb / (1.0 - slope)
        q = np.where(slope < 1.0, q, np.inf)
        q = np.where((slope == 1.0) & (sb == 0.0), float(q0), q)
        q = np.where((slope < 1.0) & (sb == 0.0), 0.0, q)
        return q[()] if q.ndim == 0 else q
    q = _qstar_bounded(nl, sw, sb, q0=q0)
    return q[()] if q.ndim == 0 else q


def _cstar_given_q(nl, sw, sb, q, chi1, tol=1e-14, max_iter=200):
    shape = np.broadcast(sw, sb, q, chi1).shape
    sw, sb, q, chi1 = (np.broadcast_to(np.asarray(x, float), shape).ravel() for x in (sw, sb, q, chi1))
    c = np.ones(sw.shape)
    if nl in ("linear", "relu"):
        return c.reshape(shape)
    chaotic = np.flatnonzero((chi1 > 1.0) & np.isfinite(q) & (q > 0))
    if chaotic.size:
        swa, qa = sw[chaotic], q[chaotic]
        C1 = _C(nl, qa, 1.0)
        x = np.zeros(chaotic.size)
        act = np.arange(chaotic.size)
        for _ in range(max_iter):
            if act.size == 0:
                break
            xa = x[act]
            Cx, Cdx = _tanh_2d(qa[act], xa) if nl == "tanh" else (_C(nl, qa[act], xa), _Cd(nl, qa[act], xa))
            F = 1.0 - xa - swa[act] * (C1[act] - Cx) / qa[act]
            dF = swa[act] * Cdx - 1.0
            stuck = dF >= 0.0  # only possible at the root c = 0 (sigma_b2 = 0); stop there
            with np.errstate(divide="ignore", invalid="ignore"):
                xn = np.where(stuck, xa, np.clip(xa - F / dF, 0.0, 1.0))
            x[act] = xn
            done = stuck | (np.abs(xn - xa) <= tol)
            act = act[~done]
        c[chaotic] = x
    return c.reshape(shape)


def _unwrap(x):
    x = np.asarray(x)
    return x[()] if x.ndim == 0 else x


def c_star(nl: str, sigma_w2, sigma_b2):
    """Stable fixed point c* of the correlation map (SGGS eq. 4); 1 in the ordered phase and on the critical line.

    In the chaotic phase (chi_1 > 1) it is the unique root of c-map(c) = c in [0, 1), which iteration from c = 0.5
    converges to; computed by Newton from c = 0 (see module docstring).
    """
    check(nl)
    q = q_star(nl, sigma_w2, sigma_b2)
    return _unwrap(_cstar_given_q(nl, sigma_w2, sigma_b2, q, chi_1(nl, sigma_w2, sigma_b2)))


def chi_1(nl: str, sigma_w2, sigma_b2):
    """chi_1 = sigma_w2 E[phi'(sqrt(q*) z)^2] (SGGS eq. 5; PSG eq. 7): mean squared singular value of one layer's
    Jacobian.  Closed forms: linear sigma_w2, ReLU sigma_w2/2, hard-tanh sigma_w2 erf(1/sqrt(2 q*)),
    erf sigma_w2 / sqrt(1 + pi q*)."""
    check(nl)
    q = q_star(nl, sigma_w2, sigma_b2)
    return _unwrap(np.asarray(sigma_w2, float) * _X(nl, np.where(np.isfinite(q), q, 0.0)))


def chi_c(nl: str, sigma_w2, sigma_b2):
    """chi_c = sigma_w2 E[phi'(u1) phi'(u2)] at c = c* (SGGS eq. 7); equals chi_1 where c* = 1."""
    check(nl)
    sw = np.asarray(sigma_w2, float)
    q = q_star(nl, sigma_w2, sigma_b2)
    qf = np.where(np.isfinite(q), q, 0.0)
    x1 = sw * _X(nl, qf)
    c = _cstar_given_q(nl, sigma_w2, sigma_b2, q, x1)
    out = np.where(c >= 1.0, x1, sw * _Cd(nl, qf, np.minimum(c, 1.0)))
    return _unwrap(out)


def _depth(slope):
    slope = np.asarray(slope, float)
    with np.errstate(divide="ignore"):
        xi = np.where(slope >= 1.0, np.inf, np.where(slope <= 0.0, 0.0, -1.0 / np.log(np.clip(slope, 1e-300, 1.0))))
    return _unwrap(xi)


def xi_q(nl: str, sigma_w2, sigma_b2):
    """xi_q = -1/ln[chi_1 + sigma_w2 E[phi'' phi]] (SGGS eq. 8): -1/ln of the length map's slope at q*.

    ``inf`` where the slope is >= 1 (e.g. q* = 0 at sigma_b2 = 0 on the critical line, or a diverging length)."""
    check(nl)
    q = q_star(nl, sigma_w2, sigma_b2)
    slope = np.where(np.isfinite(q), np.asarray(sigma_w2, float) * _dV(nl, np.where(np.isfinite(q), q, 0.0)), np.inf)
    return _depth(slope)


def xi_c(nl: str, sigma_w2, sigma_b2):
    """xi_c = -1/ln chi_c (SGGS eq. 9): depth scale of correlation propagation.

    Returns ``inf`` wherever chi_c >= 1 -- exactly on the critical line (chi_c = 1) and where the signal explodes
    (ReLU/linear above criticality).  Near the critical line this is ill-conditioned; SGGS's trainability rule is
    L <~ 6 xi_c.
    """
    return _depth(chi_c(nl, sigma_w2, sigma_b2))


# --------------------------------------------------------------------------------------------------------------------
# critical line
# --------------------------------------------------------------------------------------------------------------------


def critical_point(nl: str, q_star):
    """The point (sigma_w2, sigma_b2) on the critical line chi_1 = 1 whose length fixed point is ``q_star``.

    From chi_1 = sigma_w2 E[phi'^2](q*) = 1 and q* = sigma_w2 E[phi^2](q*) + sigma_b2:
    sigma_w2 = 1 / E[phi'(sqrt(q*) z)^2], sigma_b2 = q* - sigma_w2 E[phi(sqrt(q*) z)^2]  (explicit; vectorized).

    Degenerate cases: ReLU has the single critical point (2, 0) and linear (1, 0), where *every* q is a fixed point;
    for them the function returns that point for any q* (broadcast to the shape of ``q_star``).
    """
    check(nl)
    q = np.asarray(q_star, float)
    if np.any(q < 0):
        raise ValueError("q_star must be non-negative")
    if nl in ("linear", "relu"):
        crit = 1.0 if nl == "linear" else 2.0
        return _unwrap(np.full(q.shape, crit)), _unwrap(np.zeros(q.shape))
    sw = 1.0 / _X(nl, q)
    sb = np.maximum(q - sw * _V(nl, q), 0.0)
    return _unwrap(sw), _unwrap(sb)


def _critical_b(nl, q):
    return q - _V(nl, q) / _X(nl, q)


def critical_sigma_w2(nl: str, sigma_b2, return_q_star: bool = False):
    """sigma_w2 on the critical line chi_1 = 1 at the given sigma_b2 (vectorized).

    Solved in the q* parametrization of ``critical_point``: sigma_b2(q) = q - E[phi^2]/E[phi'^2] is increasing from
    0, so q* is found by bisection (vectorized, 80 halvings) and sigma_w2 = 1/E[phi'^2](q*).

    ReLU: chi_1 = sigma_w2/2 does not depend on sigma_b2, so 2.0 is returned for every sigma_b2; but only (2, 0)
    has a finite q* (for sigma_b2 > 0 the length diverges, q* = inf).  Linear: 1.0 likewise.
    """
    check(nl)
    sb = np.asarray(sigma_b2, float)
    if np.any(sb < 0):
        raise ValueError("sigma_b2 must be non-negative")
    if nl in ("linear", "relu"):
        crit = 1.0 if nl == "linear" else 2.0
        sw = np.full(sb.shape, crit)
        q = np.where(sb == 0.0, 1.0, np.inf)
        return (_unwrap(sw), _unwrap(q)) if return_q_star else _unwrap(sw)
    flat = sb.ravel()
    lo = np.zeros(flat.shape)
    hi = np.ones(flat.shape)
    for _ in range(200):
        short = _critical_b(nl, hi) < flat
        if not short.any():
            break
        hi = np.where(short, 2.0 * hi, hi)
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        below = _critical_b(nl, mid) < flat
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    q = 0.5 * (lo + hi)
    q = np.where(flat == 0.0, 0.0, q)
    sw = (1.0 / _X(nl, q)).reshape(sb.shape)
    q = q.reshape(sb.shape)
    return (_unwrap(sw), _unwrap(q)) if return_q_star else _unwrap(sw)


# --------------------------------------------------------------------------------------------------------------------
# CNN Fourier modes (Xiao et al. 2018)
# --------------------------------------------------------------------------------------------------------------------


def xi_c_fourier(nl: str, sigma_w2, sigma_b2, variance_vector, n: int):
    """Per-Fourier-mode correlation depth scales in a CNN (Xiao et al. 2018, the spatial Fourier analysis of the
    linearized covariance map; equation numbers not verified against the PDF).

    Derivation.  For a CNN with spatial variance vector v (weight variance sigma_w2 * v_beta at filter offset beta,
    sum_beta v_beta = 1), the covariance of pre-activations at positions (alpha, alpha') obeys
    Sigma^{l+1}_{alpha,alpha'} = sigma_w2 sum_beta v_beta C(Sigma^l)_{alpha+beta, alpha'+beta} + sigma_b2.  Linearising
    around the translation-invariant fixed point (correlation c*), a perturbation eps of the correlations evolves as
    eps^{l+1}_{alpha,alpha'} = chi_c sum_beta v_beta eps^l_{alpha+beta, alpha'+beta}: a circular convolution with v
    along the diagonal direction.  Plane waves eps ~ exp(i k.alpha) f(alpha - alpha') are its eigenvectors with
    eigenvalue chi_c * conj(vhat_k), vhat = DFT of v placed on the circular n (or n x n) grid.  So mode k decays as
    (chi_c |vhat_k|)^l and xi_{c,k} = -1/ln(chi_c |vhat_k|).  Since |vhat_k| <= vhat_0 = 1, every k != 0 decays at
    least as fast as the k = 0 mode (xi_c).  A delta v gives |vhat_k| = 1 for every k (all modes share xi_c); a uniform
    v makes all k != 0 decay faster.

    Parameters: ``variance_vector`` a length-k (1-D) or k x k (2-D) non-negative array summing to 1 (k <= n);
    ``sigma_w2`` / ``sigma_b2`` scalars.  Returns an array of shape (n,) or (n, n) in ``numpy.fft`` order
    (index 0 = the zero mode).  ``inf`` where chi_c |vhat_k| >= 1, 0 where vhat_k = 0.
    """
    v = np.asarray(variance_vector, float)
    if v.ndim not in (1, 2):
        raise ValueError("variance_vector must be 1-D (k,) or 2-D (k, k)")
    if np.any(v < 0) or not np.isclose(v.sum(), 1.0, rtol=1e-9, atol=1e-12):
        raise ValueError("variance_vector must be non-negative and sum to 1")
    if any(s > n for s in v.shape):
        raise ValueError(f"filter of shape {v.shape} does not fit on a grid of size {n}")
    grid = np.zeros((n,) * v.ndim)
    grid[tuple(slice(0, s) for s in v.shape)] = v
    vhat = np.abs(np.fft.fftn(grid))
    chic = float(chi_c(nl, sigma_w2, sigma_b2))
    lam = chic * vhat
    with np.errstate(divide="ignore"):
        xi = np.where(lam >= 1.0 - 1e-15, np.inf, np.where(lam <= 0, 0.0, -1.0 / np.log(np.clip(lam, 1e-300, 1.0))))
    return xi


# --------------------------------------------------------------------------------------------------------------------
# phase diagram
# --------------------------------------------------------------------------------------------------------------------


class PhaseGrid(NamedTuple):
    sigma_w2: np.ndarray
    sigma_b2: np.ndarray
    q_star: np.ndarray
    chi_1: np.ndarray


def phase_grid(nl: str, sigma_w2_grid, sigma_b2_grid) -> PhaseGrid:
    """q* and chi_1 over a grid (vectorized; a 200 x 200 tanh grid takes ~0.3 s).

    1-D grids are combined as ``sigma_w2[None, :]`` x ``sigma_b2[:, None]``: outputs have shape
    (len(sigma_b2_grid), len(sigma_w2_grid)) -- rows are sigma_b2, ready for ``imshow``/``pcolormesh`` with
    sigma_w2 on the x axis.  Arrays of any other broadcastable shapes are used as given.
    """
    check(nl)
    sw = np.asarray(sigma_w2_grid, float)
    sb = np.asarray(sigma_b2_grid, float)
    if sw.ndim == 1 and sb.ndim == 1:
        sw, sb = sw[None, :], sb[:, None]
    sw, sb = np.broadcast_arrays(sw, sb)
    q = np.asarray(q_star(nl, sw, sb), float)
    x1 = sw * _X(nl, np.where(np.isfinite(q), q, 0.0))
    return PhaseGrid(sw, sb, q, x1)
