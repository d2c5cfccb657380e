"""Free-probability Jacobian spectra (PSG eq. 12): closed forms, moments, atoms, closed vs numerical routes, speed."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest
from scipy import special

from isometry.theory import meanfield as _meanfield  # noqa: F401  (a broken module must fail, not skip)
from isometry.theory import spectra as S

warnings.filterwarnings("ignore", category=RuntimeWarning)


def _log_integrals(nl, weights, L, q, n=600, **kw):
    """(mass, mean, second moment) including atoms, on a log grid from 1e-12 edge to 1.001 edge (Gaussian weights
    put mass ~ lambda^{1/(L+1)} near 0, hence the small depths below for them)."""
    edge = S.spectral_edge(nl, weights, L, q, **kw)
    lam = np.unique(np.concatenate([np.geomspace(1e-12, 0.5, n // 2), np.linspace(0.5, 1.001, n)])) * edge
    d, atoms = S.jacobian_density(nl, weights, L, q, lam, **kw)
    assert not np.isnan(d).any()
    s = np.log(lam)
    mass = np.trapezoid(d * lam, s) + sum(m for _, m in atoms)
    m1 = np.trapezoid(d * lam**2, s) + sum(a * m for a, m in atoms)
    m2 = np.trapezoid(d * lam**3, s) + sum(a * a * m for a, m in atoms)
    return mass, m1, m2


@pytest.mark.parametrize("L", [1, 2, 8, 32, 128])
def test_linear_gaussian_edge_fuss_catalan(L):
    edge = S.spectral_edge("linear", "gaussian", L, sigma_w2=1.0, sigma_b2=0.0)
    assert edge == pytest.approx((L + 1) ** (L + 1) / L**L, rel=1e-9)


def test_moments_closed_forms():
    for L in (1, 8, 64):
        assert S.jacobian_moments("linear", "gaussian", L, 1.0) == pytest.approx((1.0, L))
        assert S.jacobian_moments("relu", "gaussian", L, 1.0) == pytest.approx((1.0, 2 * L))
        assert S.jacobian_moments("relu", "orthogonal", L, 1.0) == pytest.approx((1.0, L))
        for q in (1 / 64, 0.5, 2.0):
            p = special.erf(1 / np.sqrt(2 * q))
            assert S.jacobian_moments("hard_tanh", "gaussian", L, q) == pytest.approx((1.0, L / p), rel=1e-8)
            assert S.jacobian_moments("hard_tanh", "orthogonal", L, q) == pytest.approx((1.0, L * (1 - p) / p),
                                                                                         rel=1e-8, abs=1e-12)
        for nl in ("tanh", "erf"):
            mean, var = S.jacobian_moments(nl, "orthogonal", L, 0.5)
            assert mean == pytest.approx(1.0, rel=1e-10)  # chi = 1 on the critical line
            m1, m2 = S.d2_moments(nl, 0.5)
            assert var == pytest.approx(L * (m2 / m1**2 - 1), rel=1e-10)


@pytest.mark.parametrize("nl,weights,L,q", [
    ("linear", "gaussian", 1, 1.0),
    ("relu", "gaussian", 2, 1.0),
    ("hard_tanh", "orthogonal", 4, 0.5),  # atoms at 0 and at sigma_w^{2L}
    ("tanh", "gaussian", 2, 0.5),
    ("tanh", "orthogonal", 16, 0.5),
    ("erf", "orthogonal", 4, 1.0),
])
def test_density_normalisation_and_moments(nl, weights, L, q):
    mass, m1, m2 = _log_integrals(nl, weights, L, q)
    mean, var = S.jacobian_moments(nl, weights, L, q)
    # smooth phi: log(lambda) has a wide left tail (~1% of the mass below 1e-12 edge for orthogonal tanh at L=16)
    assert 0.985 < mass < 1.003
    assert m1 == pytest.approx(mean, rel=5e-3)
    assert m2 - m1**2 == pytest.approx(var, rel=2e-2)


def test_atoms():
    d, atoms = S.jacobian_density("linear", "orthogonal", 16, None, np.linspace(0.1, 3, 5), sigma_w2=1.1,
                                  sigma_b2=0.0)
    assert atoms == [(pytest.approx(1.1**16), pytest.approx(1.0))] and not d.any()
    _, atoms = S.jacobian_density("relu", "gaussian", 8, 1.0, [1.0])
    assert atoms == [(0.0, pytest.approx(0.5))]
    q = 0.5
    p = special.erf(1 / np.sqrt(2 * q))
    _, atoms = S.jacobian_density("hard_tanh", "orthogonal", 2, q, [1.0])
    assert atoms[0] == (0.0, pytest.approx(1 - p))
    assert atoms[1] == (pytest.approx(p**-2), pytest.approx(2 * p - 1))
    assert S.spectral_edge("hard_tanh", "orthogonal", 2, q) >= p**-2 * (1 - 1e-12)


@pytest.mark.parametrize("nl,q", [("linear", 1.0), ("relu", 1.0), ("hard_tanh", 0.5), ("hard_tanh", 2.0)])
@pytest.mark.parametrize("weights", ["gaussian", "orthogonal"])
def test_closed_form_matches_numerical_route(nl, q, weights):
    L = 8
    edge_c = S.spectral_edge(nl, weights, L, q, method="closed")
    edge_n = S.spectral_edge(nl, weights, L, q, method="numerical")
    assert edge_n == pytest.approx(edge_c, rel=2e-2)
    lam = np.geomspace(1e-3, 0.98, 60) * edge_c
    dc, ac = S.jacobian_density(nl, weights, L, q, lam, method="closed")
    dn, an = S.jacobian_density(nl, weights, L, q, lam, method="numerical")
    scale = max(np.max(dc * lam), 1e-12)
    assert np.max(np.abs(dc - dn) * lam) / scale < 0.05  # GH quadrature of the indicator: p to ~1e-2
    assert len(ac) == len(an)
    # S-transform itself
    z = np.array([-0.3 - 0.2j, 0.1 - 0.05j, -0.8 - 0.4j])
    sc = S.s_transform_d2(nl, q, z, method="closed")
    sn = S.s_transform_d2(nl, q, z, method="numerical")
    assert np.max(np.abs(sc - sn) / np.abs(sc)) < 2e-2


@pytest.mark.parametrize("weights", ["gaussian", "orthogonal"])
def test_tanh_numerical_route_converged(weights):
    """Segment discretisation of the law of d: 201 vs 801 segments; plain Gauss-Hermite atoms agree for L >= 2."""
    for L in (2, 32):
        edge = S.spectral_edge("tanh", weights, L, 0.5)
        lam = np.linspace(edge / 200, 0.99 * edge, 200)
        d, _ = S.jacobian_density("tanh", weights, L, 0.5, lam)
        d801, _ = S.jacobian_density("tanh", weights, L, 0.5, lam, n_quad=801)
        dgh, _ = S.jacobian_density("tanh", weights, L, 0.5, lam, method="quadrature")
        assert np.max(np.abs(d - d801)) / np.max(d) < 1e-3
        assert np.max(np.abs(d - dgh)) / np.max(d) < 1e-2


@pytest.mark.parametrize("nl,weights,L,q", [("linear", "gaussian", 8, 1.0), ("tanh", "gaussian", 32, 0.5),
                                            ("relu", "orthogonal", 8, 1.0), ("erf", "orthogonal", 8, 0.5)])
def test_density_vanishes_beyond_edge(nl, weights, L, q):
    edge = S.spectral_edge(nl, weights, L, q)
    d, _ = S.jacobian_density(nl, weights, L, q, edge * np.array([0.9, 1.02, 1.5, 3.0]))
    assert d[0] > 1e-4 / edge
    assert np.all(d[1:] < 1e-6 * d[0])


def test_critical_parameters_from_meanfield():
    from isometry.theory import meanfield

    sw2, sb2 = meanfield.critical_point("tanh", 0.5)
    a, _ = S.jacobian_density("tanh", "gaussian", 4, 0.5, [0.5, 1.0])
    b, _ = S.jacobian_density("tanh", "gaussian", 4, 0.5, [0.5, 1.0], sigma_w2=sw2, sigma_b2=sb2)
    np.testing.assert_allclose(a, b, rtol=1e-6)
    # off criticality: mean = chi^L
    mean, _ = S.jacobian_moments("tanh", "gaussian", 10, None, sigma_w2=1.2, sigma_b2=0.05)
    q = meanfield.q_star("tanh", 1.2, 0.05)
    m1, _ = S.d2_moments("tanh", q)
    assert mean == pytest.approx((1.2 * m1) ** 10, rel=1e-6)


def test_speed_tanh_depth_128():
    edge = S.spectral_edge("tanh", "gaussian", 128, 0.5)
    lam = np.linspace(edge / 500, edge, 500)
    S.jacobian_density("tanh", "gaussian", 128, 0.5, lam[:5])  # warm caches
    t = time.perf_counter()
    d, _ = S.jacobian_density("tanh", "gaussian", 128, 0.5, lam)
    dt = time.perf_counter() - t
    assert not np.isnan(d).any()
    assert dt < 3.0, f"500-point tanh L=128 density took {dt:.2f} s (target < 1 s on an idle CPU)"


# ------------------------------------------------------------------------------------------------ issue 20, 18-19
import math  # noqa: E402

from scipy import integrate  # noqa: E402

spectra = S


def _md_ref(w, q):
    """M_D(w) = E[d/(w - d)], d = sech^4(sqrt(q) z), by adaptive quadrature (w > 1)."""
    sq = math.sqrt(q)

    def f(z):
        d = 1.0 / math.cosh(sq * z) ** 4
        return d / (w - d) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi)

    pts = [x / sq for x in (0.01, 0.1, 0.5, 1, 2, 4, 8)]
    return 2 * integrate.quad(f, 0, 40 / sq + 10, points=pts, limit=500, epsabs=1e-15, epsrel=1e-13)[0]


def _edge_ref(q, L, weights, sw2):
    """The edge as PSG define it (min over real z > 0 of M^{-1}(z)), with M_D by adaptive quadrature."""
    from scipy import optimize

    def loglam(s):
        w = 1 + math.exp(s)
        z = _md_ref(w, q)
        lead = math.log1p(z) if weights == "gaussian" else -(L - 1) * math.log1p(z)
        return lead + (L - 1) * math.log(z) + L * math.log(sw2 * w)

    grid = np.linspace(-25, 40, 261)
    vals = [loglam(s) for s in grid]
    i = int(np.argmin(vals))
    res = optimize.minimize_scalar(loglam, bounds=(grid[max(i - 1, 0)], grid[min(i + 1, 260)]), method="bounded",
                                   options={"xatol": 1e-12})
    return math.exp(res.fun)


@pytest.mark.parametrize("q", [0.025, 4.0])
@pytest.mark.parametrize("L", [2, 128])
@pytest.mark.parametrize("weights", ["orthogonal", "gaussian"])
def test_tanh_spectral_edge_converged_at_default_resolution(q, L, weights):
    """Issue 20 item 18: the tanh edge was 1e-5 .. 2.8e-4 too low at the default resolution, growing with q*."""
    import warnings

    from isometry.theory import meanfield

    sw2, _ = meanfield.critical_point("tanh", q)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = _edge_ref(q, L, weights, float(sw2))
    assert spectra.spectral_edge("tanh", weights, L, q) == pytest.approx(ref, rel=1e-8)


@pytest.mark.parametrize("n", [401, 1001, 3201])
def test_hermite_nodes_stable_for_large_n(n):
    """Issue 20 item 19: hermite_nodes(n) returned all-NaN weights for n >~ 400 (spectral_edge(method='quadrature',
    n_quad=401) was NaN)."""
    from isometry.theory.quadrature import hermite_nodes

    z, w = hermite_nodes(n)
    assert np.isfinite(z).all() and np.isfinite(w).all() and (w >= 0).all()
    assert w.sum() == pytest.approx(1.0, abs=1e-13)
    for k in range(1, 7):                                          # E z^{2k} = (2k - 1)!!, exactly
        assert np.sum(w * z ** (2 * k)) == pytest.approx(math.prod(range(1, 2 * k, 2)), rel=1e-12)
    assert np.sum(w * np.cos(z)) == pytest.approx(math.exp(-0.5), abs=1e-13)
    assert np.sum(w * np.cos(3 * z)) == pytest.approx(math.exp(-4.5), abs=1e-13)
    assert np.sum(w * np.exp(z / 2)) == pytest.approx(math.exp(1 / 8), rel=1e-13)


def test_quadrature_route_with_many_nodes_is_finite():
    import warnings

    from isometry.theory import meanfield

    sw2, _ = meanfield.critical_point("tanh", 0.25)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = _edge_ref(0.25, 16, "orthogonal", float(sw2))
    e = spectra.spectral_edge("tanh", "orthogonal", 16, 0.25, method="quadrature", n_quad=401)
    assert math.isfinite(e) and e == pytest.approx(ref, rel=1e-6)
