"""Free-probability spectrum of J J^T for deep random networks (Pennington, Schoenholz & Ganguli 2017, "PSG").

The input-output Jacobian of an L-layer network h^l = W^l x^{l-1} + b^l, x^l = phi(h^l) is

    J = dx^L/dx^0 = prod_{l=L..1} D^l W^l,    D^l = diag(phi'(h^l)).

With every pre-activation at the fixed point q* (h ~ N(0, q*)) and N -> infinity, the D^l and W^l are asymptotically
free and PSG eq. (12) gives the S-transform of the squared singular values lambda = s^2 of J:

    S_{JJ^T}(z) = S_{WW^T}(z)^L  S_{D^2}(z)^L,                                   (PSG eq. 12)
    S_{WW^T}(z) = 1 / (sigma_w^2 (1 + z))   (Gaussian W_ij ~ N(0, sigma_w^2/N)),
    S_{WW^T}(z) = 1 / sigma_w^2             (W = sigma_w * Haar orthogonal).

Conventions (PSG section 2.2): for a spectral measure rho,
    G(zeta) = int rho(x) / (zeta - x) dx            (Stieltjes / Green's function; density = -Im G(x + i0) / pi)
    M(zeta) = zeta G(zeta) - 1 = int rho(x) x / (zeta - x) dx   (moment generating function)
    S(z)    = (1 + z) / (z M^{-1}(z))                (S-transform)
so the M-transform of JJ^T solves the functional equation  M^{-1}(z) = (1 + z) / (z S_{JJ^T}(z)).

D^2 (the law of d = phi'(h)^2, h ~ N(0, q*)) enters through its own M-transform M_D(w) = E[d / (w - d)]:
with w = M_D^{-1}(z) one has S_{D^2}(z) = (1 + z)/(z w), and the equation for JJ^T becomes, in log form,

    Gaussian:    log zeta = log(1+z) + (L-1) log z + L log(sigma_w^2 w),               z = M_D(w)
    orthogonal:  log zeta = -(L-1) log(1+z) + (L-1) log z + L log(sigma_w^2 w),         z = M_D(w)

Two routes are implemented for the law of D^2:

* ``"closed"`` (linear, relu, hard_tanh): d is Bernoulli(p) with p = 1 (linear), 1/2 (relu), erf(1/sqrt(2 q*))
  (hard-tanh), so M_D(w) = p/(w - 1), w = 1 + p/z, S_{D^2}(z) = (1+z)/(z+p), and the unknown is z itself;
* ``"numerical"`` (any nonlinearity; the only one for tanh and erf): the law of d is discretised by Gauss-Hermite
  quadrature (``isometry.theory.quadrature``), M_D(w) is the finite sum sum_i a_i d_i / (w - d_i) at complex w,
  and the equation is solved for w (i.e. M_D is inverted numerically inside the solve).

Solver. For every requested lambda, the equation is solved at zeta = lambda (1 + i t) by Newton's method in the log of
the unknown (u = log z or u = log w), continued from t ~ 10 * edge / lambda (where M ~ m1 / zeta is an excellent start)
geometrically down to t = 1e-10: a homotopy in the imaginary part that never leaves the physical sheet (z stays in
the lower half plane, w in the upper one; the logs use branch cuts on the opposite imaginary half-axes). All
lambdas are solved simultaneously (vectorised), so 500 points at L = 128 take well under a second. The continuous
density is -Im[G(zeta) - sum_atoms m_a/(zeta - a)] / pi with G = (1 + M)/zeta.

Atoms. JJ^T has an atom at 0 of mass P(d = 0) (relu: 1/2, hard-tanh: 1 - p). For orthogonal weights an atom of
d at v > 0 with mass m gives an atom of JJ^T at (sigma_w^2 v)^L of mass max(0, L m - (L - 1)) (free multiplicative
convolution of atoms, Bercovici-Voiculescu); e.g. orthogonal linear nets are exactly isometric (all mass at
sigma_w^{2L}) and orthogonal hard-tanh nets with p > 1 - 1/L keep a fraction of exactly-unit singular values.

Known limitations (see also ``jacobian_density``):
* the numerical route discretises the law of d; near lambdas whose subordinated w comes close to the real support
  of d (depth 1, orthogonal weights) the density shows the quadrature's discreteness. For L >= 2 w stays well inside
  the upper half plane and 201 nodes are plenty (tests compare with n = 801).
* densities at lambda <= 0 are returned as 0 (the continuous part lives on lambda > 0).
* the closed route (unknown z) loses precision as z -> -1 (lambda below ~1e-30 edge); such points come back NaN.
  The numerical route sums 1 + M_D directly and has no such floor.
* near a hard edge where the density diverges (orthogonal weights, depth 1-2) the segment law of d smooths the
  singularity over one segment (relative error ~1e-2 within 1% of the edge).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import special
from scipy.optimize import minimize_scalar

from isometry.nonlinearities import check as _check_nl
from isometry.nonlinearities import dphi
from isometry.theory.quadrature import hermite_nodes

WEIGHTS = ("gaussian", "orthogonal")
CLOSED_FORM = ("linear", "relu", "hard_tanh")

#: final relative imaginary part of zeta = lambda (1 + i t); the density is smoothed on a relative scale ~ this.
T_FINAL = 1e-10
#: Gauss-Hermite nodes used to discretise the law of d = phi'(h)^2 in the numerical route.
N_QUAD = 201


# ---------------------------------------------------------------------------------------------------------------
# parameters


def _meanfield():
    from isometry.theory import meanfield  # lazy: written concurrently

    return meanfield


def resolve_parameters(nl: str, q_star: float | None, sigma_w2: float | None = None,
                       sigma_b2: float | None = None) -> tuple[float, float, float]:
    """(sigma_w2, sigma_b2, q_star) for a spectrum request.

    * ``sigma_w2`` and ``sigma_b2`` given: used as is; ``q_star`` (if None) is their fixed point
      (``meanfield.q_star``). Linear nets have no finite fixed point away from (1, 0); there q_star only sets the
      input scale and does not enter the spectrum.
    * otherwise: the critical point of ``nl`` with fixed point ``q_star`` (``meanfield.critical_point``).
    """
    _check_nl(nl)
    if sigma_w2 is not None:
        sb2 = 0.0 if sigma_b2 is None else float(sigma_b2)
        if q_star is None:
            if nl in ("linear", "relu"):
                q_star = 1.0  # irrelevant for the spectrum: D^2 does not depend on q* for homogeneous phi
            else:
                q_star = float(_meanfield().q_star(nl, float(sigma_w2), sb2))
        return float(sigma_w2), sb2, float(q_star)
    if q_star is None:
        raise ValueError("give q_star (critical point) or sigma_w2 (and sigma_b2)")
    if sigma_b2 is not None:
        raise ValueError("sigma_b2 without sigma_w2: give both, or neither to sit at the critical point of q_star")
    sw2, sb2 = _meanfield().critical_point(nl, float(q_star))
    return float(sw2), float(sb2), float(q_star)


def bernoulli_p(nl: str, q_star: float) -> float:
    """P(phi'(h)^2 = 1) for the piecewise-linear nonlinearities (PSG: p(q*) = erf(1/sqrt(2 q*)) for hard-tanh)."""
    _check_nl(nl)
    if nl == "linear":
        return 1.0
    if nl == "relu":
        return 0.5
    if nl == "hard_tanh":
        return float(special.erf(1.0 / math.sqrt(2.0 * q_star))) if q_star > 0 else 1.0
    raise ValueError(f"{nl} has no Bernoulli D^2; use the numerical route")


@dataclass(frozen=True, eq=False)
class D2Law:
    """A law of d = phi'(h)^2 >= 0 as atoms plus uniform segments, with its M-transform at complex w.

    atoms: values ``av`` (> 0) with masses ``am``; ``mass0`` = P(d = 0); segments: d uniform on [lo, hi] with
    mass ``sm``. M_D(w) = E[d/(w - d)] = sum_atoms am av/(w - av) + sum_seg sm (-1 + (w/Delta) log((w-lo)/(w-hi))).
    Segments keep M_D continuous up to the real axis, so the solver can approach the support of d (small depth,
    orthogonal weights) without seeing the quadrature's discreteness.
    """

    av: np.ndarray
    am: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    sm: np.ndarray
    mass0: float = 0.0

    @property
    def m1(self) -> float:
        return float(np.sum(self.am * self.av) + np.sum(self.sm * 0.5 * (self.lo + self.hi)))

    @property
    def m2(self) -> float:
        seg = self.sm * (self.lo**2 + self.lo * self.hi + self.hi**2) / 3.0
        return float(np.sum(self.am * self.av**2) + np.sum(seg))

    @property
    def vmax(self) -> float:
        return float(max(self.av.max(initial=0.0), self.hi.max(initial=0.0)))

    def m_transform(self, w):
        """(M_D(w), 1 + M_D(w), dM_D/dw) for a 1-D complex array w (Im w >= 0 on the physical sheet).

        1 + M_D = E[w/(w - d)] is summed directly: no cancellation as w -> 0 (lambda -> 0, M -> -1).
        """
        w = np.asarray(w, dtype=complex)
        col = w[:, None]
        m = np.zeros(w.shape, complex)
        opm = np.full(w.shape, self.mass0, complex)
        dm = np.zeros(w.shape, complex)
        if self.av.size:
            inv = 1.0 / (col - self.av[None, :])
            t = (self.am * self.av)[None, :] * inv
            m += t.sum(1)
            opm += (col * self.am[None, :] * inv).sum(1)
            dm -= (t * inv).sum(1)
        if self.sm.size:
            delta = (self.hi - self.lo)[None, :]
            mid = (0.5 * (self.hi + self.lo))[None, :]
            a = col - mid
            x = 0.5 * delta / a
            x2 = x * x
            # I = int_lo^hi dx/(w - x) = 2 artanh(Delta/(2a)) = (Delta/a) r; r - 1 by its series where |x| is small
            rm1 = x2 * (1 / 3 + x2 * (1 / 5 + x2 * (1 / 7 + x2 / 9)))
            big = np.abs(x2) >= 1e-4
            if big.any():
                ib, jb = np.nonzero(big)
                wb = w[ib]
                with np.errstate(divide="ignore", invalid="ignore"):
                    rm1[ib, jb] = a[ib, jb] * (np.log(wb - self.lo[jb]) - np.log(wb - self.hi[jb])) / delta[0, jb] - 1.0
            sm = self.sm[None, :]
            # w I/Delta - 1 = (w (r - 1) + mid)/a ;  d/dw (w I/Delta) = ((r - 1) - r x^2 - mid/a) / (a (1 - x^2))
            m += (sm * (col * rm1 + mid) / a).sum(1)
            opm += (sm * col * (1.0 + rm1) / a).sum(1)
            dm += (sm * ((rm1 - (1.0 + rm1) * x2) - mid / a) / (a * (1.0 - x2))).sum(1)
        return m, opm, dm


_EMPTY = np.zeros(0)


def _bernoulli_law(p: float) -> D2Law:
    return D2Law(np.array([1.0]), np.array([p]), _EMPTY, _EMPTY, _EMPTY, mass0=1.0 - p)


@lru_cache(maxsize=64)
def _gh_law(nl: str, q_star: float, n: int) -> D2Law:
    z, a = hermite_nodes(n)
    d = dphi(nl)(math.sqrt(max(q_star, 0.0)) * z) ** 2
    # merge equal values (symmetric nodes for even phi'^2; the 0/1 plateaus of relu and hard-tanh)
    vals, inv = np.unique(np.round(d, 15), return_inverse=True)
    mass = np.bincount(inv, weights=a)
    zero = vals <= 0.0
    return D2Law(vals[~zero], mass[~zero], _EMPTY, _EMPTY, _EMPTY, mass0=float(mass[zero].sum()))


@lru_cache(maxsize=64)
def _binned_law(nl: str, q_star: float, n: int) -> D2Law:
    """Law of d for any phi by midpoint quadrature on n equal bins of z in [-10, 10] (exact normal masses), equal
    values merged into atoms: the kinks of relu (z = 0) and hard-tanh (|z| = 1/sqrt(q*)) cost at most one bin."""
    b = np.linspace(-10.0, 10.0, n + 1)
    cdf = special.ndtr(b)
    mass = np.diff(cdf)
    mass[0] += cdf[0]
    mass[-1] += 1.0 - cdf[-1]
    d = dphi(nl)(math.sqrt(max(q_star, 0.0)) * 0.5 * (b[1:] + b[:-1])) ** 2
    vals, inv = np.unique(np.round(d, 15), return_inverse=True)
    m = np.bincount(inv, weights=mass)
    zero = vals <= 0.0
    return D2Law(vals[~zero], m[~zero], _EMPTY, _EMPTY, _EMPTY, mass0=float(m[zero].sum()))


@lru_cache(maxsize=64)
def _segment_law(nl: str, q_star: float, n: int) -> D2Law:
    """Law of d for phi'^2 even and decreasing in |h| (tanh, erf): n segments between breakpoints b_k in |z|
    (half equal-mass quantiles of |z|, half uniform on [0, 8]), masses exact (erf differences)."""
    half = n // 2
    bq = math.sqrt(2.0) * special.erfinv(np.linspace(0.0, 1.0, half + 1)[:-1])
    bu = np.linspace(0.0, 8.0, n - half + 1)
    b = np.unique(np.concatenate([bq, bu]))
    b = b[b <= 8.0]
    cdf = special.erf(b / math.sqrt(2.0))
    mass = np.diff(np.append(cdf, 1.0))  # last segment also carries the tail |z| > 8 (mass 1e-15)
    d = dphi(nl)(math.sqrt(q_star) * b) ** 2
    hi = d
    lo = np.append(d[1:], dphi(nl)(math.sqrt(q_star) * 40.0) ** 2)
    # uniform-in-segment densities miss E[d] by O(1e-5); rescale so that chi = sigma_w^2 E[d] is exact (E[d] from the
    # mean-field quadrature, accurate at every q*; a fixed 201-node Gauss-Hermite rule was not at large q*)
    m1 = float(_meanfield()._X(nl, q_star))
    c = m1 / float(np.sum(mass * 0.5 * (lo + hi)))
    return D2Law(_EMPTY, _EMPTY, lo * c, hi * c, mass)


def d2_law(nl: str, q_star: float, method: str = "numerical", n: int = N_QUAD) -> D2Law:
    """The law of d = phi'(h)^2, h ~ N(0, q*).

    method "closed": exact Bernoulli(p) (linear, relu, hard_tanh). "numerical": tanh/erf as ``n`` uniform segments
    (exact masses; smooth M_D up to the real axis), linear/relu/hard_tanh by 20000-bin midpoint quadrature in h merged
    into atoms (p to ~1e-4: Gauss-Hermite puts a node on relu's kink). "quadrature": n-point Gauss-Hermite atoms for
    every nonlinearity (the plain discretisation; fine for smooth phi at depth >= 2, discrete-looking at depth 1).
    """
    _check_nl(nl)
    q = float(q_star)
    if method == "closed":
        return _bernoulli_law(bernoulli_p(nl, q))
    if method == "numerical" and nl in ("tanh", "erf"):
        if q <= 0:
            return _bernoulli_law(1.0)
        return _segment_law(nl, q, int(n))
    if method == "numerical":
        return _binned_law(nl, q, 20000)
    if method == "quadrature":
        return _gh_law(nl, q, int(n))
    raise ValueError(f"method must be 'closed', 'numerical' or 'quadrature', got {method!r}")


def d2_distribution(nl: str, q_star: float, n: int = N_QUAD) -> tuple[np.ndarray, np.ndarray]:
    """Discrete (Gauss-Hermite) law of d = phi'(h)^2, h ~ N(0, q*): sorted values and masses (summing to 1)."""
    law = _gh_law(nl, float(q_star), int(n))
    vals = np.concatenate([[0.0], law.av]) if law.mass0 > 0 else law.av.copy()
    mass = np.concatenate([[law.mass0], law.am]) if law.mass0 > 0 else law.am.copy()
    return vals, mass


def d2_moments(nl: str, q_star: float, n: int = N_QUAD) -> tuple[float, float]:
    """(E[d], E[d^2]) of d = phi'(h)^2 (exact for the piecewise-linear nonlinearities, Gauss-Hermite otherwise)."""
    if nl in CLOSED_FORM:
        p = bernoulli_p(nl, q_star)
        return p, p
    v, m = d2_distribution(nl, q_star, n)
    return float(np.sum(m * v)), float(np.sum(m * v * v))


def s_transform_d2(nl: str, q_star: float, z, method: str = "numerical", n: int = N_QUAD) -> np.ndarray:
    """S_{D^2}(z) = (1 + z)/(z M_D^{-1}(z)) at complex z (lower half plane or small |z|).

    closed (Bernoulli p): S(z) = (1 + z)/(z + p). Otherwise M_D(w) = z is solved for w by Newton's method,
    continued from z ~ 0 (w ~ m1/z + m2/m1) along the ray t z, t: 1e-3 -> 1.
    """
    z = np.asarray(z, dtype=complex)
    law = d2_law(nl, q_star, method, n)
    if method == "closed":
        p = bernoulli_p(nl, q_star)
        return (1 + z) / (z + p)
    m1, m2 = law.m1, law.m2
    zf = z.ravel()
    w = m1 / (1e-3 * zf) + m2 / m1
    for t in np.geomspace(1e-3, 1.0, 40):
        zt = t * zf
        for _ in range(50):
            f, _, df = law.m_transform(w)
            step = (f - zt) / df
            w = w - step
            if np.all(np.abs(step) <= 1e-13 * np.abs(w)):
                break
    w = w.reshape(z.shape)
    return (1 + z) / (z * w)


@dataclass(frozen=True)
class SpectrumModel:
    """Everything the solver needs: depth, weights, sigma_w^2 and the law of d."""

    nl: str
    weights: str
    depth: int
    sigma_w2: float
    sigma_b2: float
    q_star: float
    route: str  # "closed" (unknown z, Bernoulli p) | "numerical" (unknown w = M_D^{-1}(z))
    law: D2Law
    p: float = 1.0  # closed route

    @property
    def m1_d(self) -> float:
        return self.law.m1

    @property
    def m2_d(self) -> float:
        return self.law.m2

    @property
    def mass0(self) -> float:
        return self.law.mass0

    @property
    def chi(self) -> float:
        return self.sigma_w2 * self.m1_d


def make_model(nl: str, weights: str, depth: int, q_star: float | None = None, *, sigma_w2: float | None = None,
               sigma_b2: float | None = None, method: str | None = None, n_quad: int = N_QUAD) -> SpectrumModel:
    """Resolve parameters and the law of D^2. ``method``: None (closed where available, else numerical),
    "closed", "numerical" or "quadrature" (see ``d2_law``)."""
    _check_nl(nl)
    if weights not in WEIGHTS:
        raise ValueError(f"weights must be one of {WEIGHTS}, got {weights!r}")
    depth = int(depth)
    if depth < 1:
        raise ValueError("depth must be >= 1")
    sw2, sb2, q = resolve_parameters(nl, q_star, sigma_w2, sigma_b2)
    if method is None:
        method = "closed" if nl in CLOSED_FORM else "numerical"
    law = d2_law(nl, q, method, n_quad)
    if method == "closed":
        return SpectrumModel(nl, weights, depth, sw2, sb2, q, "closed", law, p=bernoulli_p(nl, q))
    return SpectrumModel(nl, weights, depth, sw2, sb2, q, "numerical", law)


# ---------------------------------------------------------------------------------------------------------------
# the functional equation


def _log_lower(x):
    """log with the branch cut on the positive imaginary axis (arg in (-3pi/2, pi/2]): for lower-half-plane values."""
    a = np.angle(x)
    a = np.where(a > 0.5 * np.pi, a - 2 * np.pi, a)
    return np.log(np.abs(x)) + 1j * a


def _equation(model: SpectrumModel, u):
    """Return (F(u) + log zeta, dF/du, z) for unknown u (log z closed route, log w numerical route)."""
    L = model.depth
    ls = math.log(model.sigma_w2)
    gauss = model.weights == "gaussian"
    if model.route == "closed":
        z = np.exp(u)
        p = model.p
        opz = 1 + z
        zp = z + p
        if gauss:
            f = _log_lower(opz) - u + L * (ls + _log_lower(zp))
            df = z / opz - 1 + L * z / zp
        else:
            f = -(L - 1) * _log_lower(opz) - u + L * (ls + _log_lower(zp))
            df = -(L - 1) * z / opz - 1 + L * z / zp
        return f, df, z
    w = np.exp(u)
    z, opz, dmz = model.law.m_transform(w)
    dz = w * dmz
    if gauss:
        f = _log_lower(opz) + (L - 1) * _log_lower(z) + L * (ls + u)
        df = dz * (1 / opz + (L - 1) / z) + L
    else:
        f = -(L - 1) * _log_lower(opz) + (L - 1) * _log_lower(z) + L * (ls + u)
        df = dz * ((L - 1) / z - (L - 1) / opz) + L
    return f, df, z


def _u_from_z(model: SpectrumModel, z):
    """Initial unknown from an approximate z = M_{JJ^T}(zeta)."""
    if model.route == "closed":
        return np.log(z)
    m1 = model.m1_d
    m2 = model.m2_d
    return np.log(m1 / z + m2 / m1)  # w = M_D^{-1}(z) ~ m1/z + m2/m1 for small z


def _clamp(model: SpectrumModel, u):
    im = u.imag
    im = np.clip(im, -np.pi, 0.0) if model.route == "closed" else np.clip(im, 0.0, np.pi)
    return u.real + 1j * im


def _newton(model: SpectrumModel, u, logzeta, *, tol=1e-11, maxit=30, max_step=1.0):
    """Damped Newton on F(u) = log zeta, vectorised; only unconverged entries are iterated.

    Returns (u, z, converged) with z = M_{JJ^T} at the returned u.
    """
    u = u.copy()
    z = np.empty(u.shape, complex)
    conv = np.zeros(u.shape, bool)
    scale = max(1.0, float(model.depth))
    active = np.arange(u.size)
    for it in range(maxit + 1):
        f, df, za = _equation(model, u[active])
        z[active] = za
        r = f - logzeta[active]
        done = np.abs(r) < tol * scale
        conv[active[done]] = True
        if it == maxit:
            conv[active[~done]] = np.abs(r[~done]) < 1e-8 * scale
            break
        active, r, df = active[~done], r[~done], df[~done]
        if active.size == 0:
            break
        step = r / df
        a = np.abs(step)
        step = step * np.minimum(1.0, max_step / np.maximum(a, 1e-300))
        u[active] = _clamp(model, u[active] - step)
    return u, z, conv


def _continuation(model: SpectrumModel, lam, scale: float, t_final: float, decades_per_stage: float):
    m1 = model.chi**model.depth
    t0 = 10.0 * np.maximum(scale, lam) / lam
    n_st = max(4, int(math.ceil(np.max(np.log10(t0 / t_final)) / decades_per_stage)))
    zeta = lam * (1 + 1j * t0)
    u = _clamp(model, _u_from_z(model, m1 / zeta + 0j))
    for k in range(n_st + 1):
        s = k / n_st
        zeta = lam * (1 + 1j * (t0 ** (1 - s) * t_final**s))
        u, z, conv = _newton(model, u, np.log(zeta))
    return zeta, z, conv


def solve_m_transform(model: SpectrumModel, lam, *, t_final: float = T_FINAL, decades_per_stage: float = 1.0):
    """M_{JJ^T}(zeta) at zeta = lam (1 + i t_final) for lam > 0 (1-D), by Newton continuation in t (module doc):
    one decade of t per stage; points that fail are redone with 1/10 of the step.

    Returns (zeta, z, converged).
    """
    lam = np.asarray(lam, dtype=float)
    scale = max(spectral_edge_model(model), model.chi**model.depth)
    zeta, z, conv = _continuation(model, lam, scale, t_final, decades_per_stage)
    bad = np.nonzero(~conv)[0]
    if bad.size:
        zb, mb, cb = _continuation(model, lam[bad], scale, t_final, decades_per_stage / 10)
        zeta[bad], z[bad], conv[bad] = zb, mb, cb
    return zeta, z, conv


def atoms_of(model: SpectrumModel) -> list[tuple[float, float]]:
    """Atoms (location, mass) of the spectral measure of JJ^T (see module doc)."""
    L = model.depth
    out = []
    if model.mass0 > 1e-15:
        out.append((0.0, float(model.mass0)))
    if model.weights == "orthogonal":
        cand = list(zip(model.law.av.tolist(), model.law.am.tolist()))
        for v, m in cand:
            mass = L * m - (L - 1)
            if mass > 1e-15:
                out.append((float((model.sigma_w2 * v) ** L), float(mass)))
    return out


def density_model(model: SpectrumModel, lam, **kw):
    lam = np.asarray(lam, dtype=float)
    dens = np.zeros(lam.shape)
    atoms = atoms_of(model)
    if sum(m for _, m in atoms) >= 1 - 1e-12:
        return dens, atoms
    pos = lam > 0
    if pos.any():
        lp = lam[pos].ravel()
        zeta, z, conv = solve_m_transform(model, lp, **kw)
        g = (1 + z) / zeta
        for a, m in atoms:
            g = g - m / (zeta - a)
        rho = np.maximum(-g.imag / np.pi, 0.0)
        rho[~conv] = np.nan
        dens[pos] = rho.reshape(lam[pos].shape)
    return dens, atoms


# ---------------------------------------------------------------------------------------------------------------
# edge and moments


def _lam_real(model: SpectrumModel, s):
    """log lambda on the real branch outside the support, parametrised by s = log z (closed) or
    s = log(w / max d - 1) (numerical)."""
    s = np.asarray(s, dtype=float)
    if model.route == "closed":
        u = s + 0j
    else:
        vmax = model.law.vmax
        u = np.log(vmax * (1 + np.exp(s))) + 0j
    f, _, _ = _equation(model, np.atleast_1d(u))
    return f.real


@lru_cache(maxsize=64)
def _md_rule(nl: str, q_star: float):
    """Nodes h > 0 and weights (N(0, q*) density folded in) for E_h[g(h)] of even g with a peak at h = 0 of any width
    and decay on scale 1 (g = d/(w - d), d = phi'(h)^2, w > max d): geometric panels toward 0, uniform beyond."""
    sq = math.sqrt(q_star)
    H = min(12.0, 10.0 * sq)
    width = min(0.5, 0.5 * sq)
    top = min(1.0, H)
    breaks = np.unique(np.concatenate([[0.0], top * 2.0 ** -np.arange(0, 48)[::-1],
                                       np.arange(top, H + 1e-12, width), [H]]))
    x, wgl = np.polynomial.legendre.leggauss(10)
    lo, hi = breaks[:-1, None], breaks[1:, None]
    h = (lo + 0.5 * (hi - lo) * (x + 1.0)).ravel()
    wh = (0.5 * (hi - lo) * wgl).ravel() * 2.0 * np.exp(-0.5 * h * h / q_star) / math.sqrt(2.0 * math.pi * q_star)
    return h, wh, dphi(nl)(h) ** 2


def _lam_real_exact(model: SpectrumModel, s):
    """``_lam_real`` for the smooth route (tanh, erf) with M_D(w) = E[d/(w - d)] integrated directly on the real axis
    (``_md_rule``) instead of from the segment law: the edge converges at the default resolution (the segment law's
    uniform-in-segment densities put it 1e-5 .. 3e-4 too low, growing with q*)."""
    s = np.atleast_1d(np.asarray(s, dtype=float))
    h, wh, d = _md_rule(model.nl, float(model.q_star))
    vmax = float(dphi(model.nl)(np.zeros(1))[0] ** 2)
    w = vmax * (1.0 + np.exp(s))
    z = (d[None, :] / (w[:, None] - d[None, :])) @ wh
    L, ls = model.depth, math.log(model.sigma_w2)
    if model.weights == "gaussian":
        f = np.log1p(z) + (L - 1) * np.log(z) + L * (ls + np.log(w))
    else:
        f = -(L - 1) * np.log1p(z) + (L - 1) * np.log(z) + L * (ls + np.log(w))
    return f


def spectral_edge_model(model: SpectrumModel) -> float:
    atoms = atoms_of(model)
    top_atom = max((a for a, _ in atoms), default=0.0)
    if sum(m for _, m in atoms) >= 1 - 1e-12:
        return top_atom
    lam_real = _lam_real
    if model.route == "numerical" and model.law.sm.size and model.nl in ("tanh", "erf") and model.q_star > 0:
        lam_real = _lam_real_exact
    grid = np.linspace(-40.0 if model.route == "closed" else -25.0, 40.0, 651)
    vals = lam_real(model, grid)
    i = int(np.argmin(vals))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    if hi > lo:
        res = minimize_scalar(lambda s: float(lam_real(model, s)[0]), bounds=(lo, hi), method="bounded",
                              options={"xatol": 1e-10})
        best = min(res.fun, vals[i])
    else:
        best = vals[i]
    return max(float(np.exp(best)), top_atom)


def jacobian_density(nl: str, weights: str, depth: int, q_star: float | None, lam, *,
                     sigma_w2: float | None = None, sigma_b2: float | None = None, method: str | None = None,
                     n_quad: int = N_QUAD):
    """Density of lambda = s^2 (squared singular values of J) on ``lam``, plus the atoms.

    PSG eq. (12) solved as described in the module docstring. Returns ``(density, atoms)``: ``density`` has the
    shape of ``lam`` and integrates to ``1 - sum(mass for _, mass in atoms)``; ``atoms`` is a list of
    ``(location, mass)``. At criticality give ``q_star`` only (sigma_w2, sigma_b2 from
    ``meanfield.critical_point``); or give ``sigma_w2`` and ``sigma_b2`` explicitly (q_star then defaults to their
    fixed point). ``method``: None (closed form for linear/relu/hard_tanh, numerical S-transform for tanh/erf),
    "closed" or "numerical". Points where Newton did not converge are NaN.
    """
    model = make_model(nl, weights, depth, q_star, sigma_w2=sigma_w2, sigma_b2=sigma_b2, method=method,
                       n_quad=n_quad)
    return density_model(model, lam)


def spectral_edge(nl: str, weights: str, depth: int, q_star: float | None = None, *, sigma_w2: float | None = None,
                  sigma_b2: float | None = None, method: str | None = None, n_quad: int = N_QUAD) -> float:
    """Largest lambda in the support of the spectrum of JJ^T (atoms included).

    Outside the support M is real and M^{-1}(z) = (1+z)/(z S(z)) is real for z > 0; the edge is its minimum over
    z > 0 (PSG section 2.3, "the maximal singular value"). Linear Gaussian: (L+1)^{L+1}/L^L.
    """
    model = make_model(nl, weights, depth, q_star, sigma_w2=sigma_w2, sigma_b2=sigma_b2, method=method,
                       n_quad=n_quad)
    return spectral_edge_model(model)


def jacobian_moments(nl: str, weights: str, depth: int, q_star: float | None = None, *,
                     sigma_w2: float | None = None, sigma_b2: float | None = None, method: str | None = None,
                     n_quad: int = N_QUAD) -> tuple[float, float]:
    """(mean, variance) of lambda from the S-transform expansion S(z) = (1/m1)(1 - (var/m1^2) z + O(z^2)).

    Relative variances add under free multiplication, so with chi = sigma_w^2 E[d]:
        mean     = chi^L
        variance = chi^{2L} L (s_W + s_D),   s_W = 1 (Gaussian), 0 (orthogonal),   s_D = E[d^2]/E[d]^2 - 1.
    At criticality (chi = 1): linear Gaussian L; hard-tanh Gaussian L/p; orthogonal Bernoulli(p) L (1-p)/p.
    """
    model = make_model(nl, weights, depth, q_star, sigma_w2=sigma_w2, sigma_b2=sigma_b2, method=method,
                       n_quad=n_quad)
    L = model.depth
    m1, m2 = d2_moments(nl, model.q_star) if model.route == "numerical" and nl not in CLOSED_FORM else (
        model.m1_d, model.m2_d)
    s_d = m2 / m1**2 - 1.0
    s_w = 1.0 if model.weights == "gaussian" else 0.0
    mean = (model.sigma_w2 * m1) ** L
    return float(mean), float(mean**2 * L * (s_w + s_d))


def bin_masses(nl: str, weights: str, depth: int, q_star: float | None, bin_edges, *, sigma_w2: float | None = None,
               sigma_b2: float | None = None, method: str | None = None, n_grid: int = 600) -> np.ndarray:
    """Theoretical probability of each bin [e_k, e_{k+1}) (atoms included), plus the under-flow [0, e_0) first and
    the over-flow [e_last, inf) last: an array of len(bin_edges) + 1 summing to 1. Bins must lie in lambda > 0;
    the continuous part is integrated on a log grid (trapezoid in log lambda, ``n_grid`` points)."""
    model = make_model(nl, weights, depth, q_star, sigma_w2=sigma_w2, sigma_b2=sigma_b2, method=method)
    edges = np.asarray(bin_edges, dtype=float)
    edge = spectral_edge_model(model)
    lo, hi = edges[0], max(edges[-1], edge * 1.0001)
    grid = np.geomspace(lo, hi, n_grid)
    dens, atoms = density_model(model, grid)
    dens = np.nan_to_num(dens)
    f = dens * grid
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * np.diff(np.log(grid)))])
    fe = np.interp(edges, grid, cum)
    cont = 1.0 - sum(m for _, m in atoms)
    out = np.concatenate([[cont - cum[-1]], np.diff(fe), [cum[-1] - fe[-1]]])
    for a, m in atoms:
        k = int(np.searchsorted(edges, a, side="right"))  # 0: under-flow, len(edges): over-flow
        out[k] += m
    return out


def histogram_l1(samples, nl: str, weights: str, depth: int, q_star: float | None = None, *,
                 sigma_w2: float | None = None, sigma_b2: float | None = None, method: str | None = None,
                 bins: int = 30, lo_rel: float = 1e-12) -> float:
    """L1 distance sum_k |p_emp(k) - p_theory(k)| (in [0, 2]) between empirical squared singular values and the
    theory, on ``bins`` log-spaced bins from lo_rel * edge to 1.2 * edge plus one under-flow bin [0, lo_rel * edge)
    (which takes exact zeros, atoms at 0 and eigenvalues below the SVD's resolution) and one over-flow bin."""
    edge = spectral_edge(nl, weights, depth, q_star, sigma_w2=sigma_w2, sigma_b2=sigma_b2, method=method)
    edges = np.geomspace(lo_rel * edge, 1.2 * edge, bins + 1)
    p_th = bin_masses(nl, weights, depth, q_star, edges, sigma_w2=sigma_w2, sigma_b2=sigma_b2, method=method)
    x = np.asarray(samples, dtype=float).ravel()
    k = np.searchsorted(edges, x, side="right")
    p_emp = np.bincount(k, minlength=len(edges) + 1) / x.size
    return float(np.abs(p_emp - p_th).sum())
