"""Empirical Jacobian spectra, signal propagation and gradient norms on real random networks, vs the theory."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from isometry import measure as M
from isometry.theory import spectra as S

warnings.filterwarnings("ignore", category=RuntimeWarning)
N = 400


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _critical_net(nl, weights, L, q, seed, width=N):
    from isometry.theory.meanfield import critical_point

    sw2, sb2 = critical_point(nl, q)
    g = _gen(seed)
    Ws, bs = M.random_mlp(L, width, nl, weights, sw2, sb2, generator=g)
    x0 = M.input_at_fixed_point(nl, width, q, generator=g)
    return Ws, bs, x0


def test_random_mlp_shapes_and_orthogonality():
    Ws, bs = M.random_mlp(3, 50, "tanh", "orthogonal", sigma_w2=2.0, sigma_b2=0.1, generator=_gen(0))
    assert len(Ws) == len(bs) == 3 and Ws[0].shape == (50, 50) and bs[0].shape == (50,)
    assert Ws[0].dtype == torch.float64
    torch.testing.assert_close(Ws[1] @ Ws[1].T, 2.0 * torch.eye(50, dtype=torch.float64))
    Wg, _ = M.random_mlp(1, 500, "relu", "gaussian", sigma_w2=2.0, generator=_gen(1))
    assert float(Wg[0].var()) * 500 == pytest.approx(2.0, rel=0.02)
    a, _ = M.random_mlp(2, 20, "relu", generator=_gen(3))
    b, _ = M.random_mlp(2, 20, "relu", generator=_gen(3))
    assert all(torch.equal(x, y) for x, y in zip(a, b))


def test_orthogonal_linear_products_are_isometries():
    Ws, bs = M.random_mlp(32, 200, "linear", "orthogonal", 1.0, 0.0, generator=_gen(0))
    x0 = torch.randn(200, dtype=torch.float64, generator=_gen(1))
    lam = M.jacobian_singular_values(Ws, bs, "linear", x0)
    np.testing.assert_allclose(np.sqrt(lam), 1.0, atol=1e-6)


def test_mlp_jacobian_matches_autograd_and_power_iteration():
    Ws, bs, x0 = _critical_net("tanh", "gaussian", 5, 0.5, seed=2, width=60)
    J = M.mlp_jacobian(Ws, bs, "tanh", x0)
    Jref = torch.func.jacrev(lambda x: M.mlp_forward(Ws, bs, "tanh", x))(x0)
    torch.testing.assert_close(J, Jref)
    s_top = M.top_singular_value(Ws, bs, "tanh", x0, generator=_gen(0))
    assert s_top == pytest.approx(float(torch.linalg.svdvals(J)[0]), rel=1e-6)


def test_cnn_jacobian_exact_and_power_iteration():
    # delta-orthogonal linear CNN with circular padding is an exact isometry (Xiao et al. 2018)
    Ks, bs = M.random_cnn(6, 4, 3, "delta_orthogonal", 1.0, 0.0, generator=_gen(0))
    x0 = torch.randn(4, 6, 6, dtype=torch.float64, generator=_gen(1))
    lam = M.cnn_jacobian_singular_values(Ks, bs, "linear", x0)
    assert lam.size == 4 * 36
    np.testing.assert_allclose(lam, 1.0, atol=1e-10)
    # Gaussian tanh CNN: the exact Jacobian matches a finite-difference directional derivative, power iteration
    # matches the SVD
    Ks, bs = M.random_cnn(2, 3, 3, "gaussian", 1.5, 0.05, generator=_gen(2))
    x0 = M.input_at_fixed_point("tanh", 0, 0.5, generator=_gen(3), channels=3, image=5)
    J = M.cnn_jacobian(Ks, bs, "tanh", x0)
    v = torch.randn(x0.shape, dtype=torch.float64, generator=_gen(4))
    eps = 1e-6
    fd = (M.cnn_forward(Ks, bs, "tanh", x0 + eps * v) - M.cnn_forward(Ks, bs, "tanh", x0 - eps * v)) / (2 * eps)
    torch.testing.assert_close(J @ v.reshape(-1), fd.reshape(-1), rtol=1e-6, atol=1e-8)
    lam = M.cnn_jacobian_singular_values(Ks, bs, "tanh", x0)
    s_top = M.cnn_top_singular_value(Ks, bs, "tanh", x0, n_iter=60, generator=_gen(5))
    assert lam[-1] * 0.97 < s_top**2 < lam[-1] * (1 + 1e-9)  # power iteration approaches s_max from below


# Theory vs empirical spectra: 2 networks of width 400 per case; L1 over 20 log bins + under/over-flow bins.
CASES = [
    ("linear", "gaussian", 8, 1.0),
    ("linear", "gaussian", 32, 1.0),
    ("relu", "gaussian", 2, 1.0),
    ("relu", "orthogonal", 32, 1.0),
    ("hard_tanh", "gaussian", 32, 0.5),
    ("hard_tanh", "orthogonal", 8, 0.5),
    ("tanh", "gaussian", 2, 0.5),
    ("tanh", "orthogonal", 8, 0.5),
    ("tanh", "gaussian", 32, 0.5),
]
L1_TOL = 0.1


@pytest.mark.parametrize("nl,weights,L,q", CASES)
def test_theory_density_matches_empirical_histogram(nl, weights, L, q):
    lams = []
    for seed in (0, 1):
        Ws, bs, x0 = _critical_net(nl, weights, L, q, seed)
        lams.append(M.jacobian_singular_values(Ws, bs, nl, x0))
    lam = np.concatenate(lams)
    l1 = S.histogram_l1(lam, nl, weights, L, q, bins=20)
    print(f"L1[{nl},{weights},L={L}] = {l1:.4f}")
    assert l1 < L1_TOL
    mean, var = S.jacobian_moments(nl, weights, L, q)
    if L <= 8:  # deeper: finite-N fluctuations of q^l compound over depth (seen: mean 1.4 at L = 32, N = 400)
        assert lam.mean() == pytest.approx(mean, rel=0.35)
        assert lam.max() == pytest.approx(S.spectral_edge(nl, weights, L, q), rel=0.1)


def test_forward_signal_tracks_mean_field_maps():
    from isometry.theory import meanfield

    nl, sw2, sb2, L = "tanh", 2.5, 0.05, 12
    g = _gen(7)
    Ws, bs = M.random_mlp(L, 1000, nl, "gaussian", sw2, sb2, generator=g)
    xa = torch.randn(1000, dtype=torch.float64, generator=g) * math.sqrt(1.5)
    xb = 0.6 * xa + 0.8 * torch.randn(1000, dtype=torch.float64, generator=g) * math.sqrt(1.5)
    q_emp, c_emp = M.forward_signal(Ws, bs, nl, xa, xb)
    assert q_emp.shape == c_emp.shape == (L,)
    qa = sw2 * float((xa * xa).mean()) + sb2
    qb = sw2 * float((xb * xb).mean()) + sb2
    c = (sw2 * float((xa * xb).mean()) + sb2) / math.sqrt(qa * qb)
    q = 0.5 * (qa + qb)
    for l in range(L):
        assert q_emp[l] == pytest.approx(q, rel=0.12)
        assert c_emp[l] == pytest.approx(c, abs=0.08)
        q_next = float(meanfield.q_map(nl, q, sw2, sb2))
        c = float(meanfield.c_map(nl, c, q, sw2, sb2))
        q = q_next
    assert q == pytest.approx(float(meanfield.q_star(nl, sw2, sb2)), rel=1e-3)
    q_only, none = M.forward_signal(Ws, bs, nl, xa)
    assert none is None and np.allclose(q_only, q_emp)


def test_backward_log_grad_norms():
    Ws, bs = M.random_mlp(10, 100, "linear", "orthogonal", 1.0, 0.0, generator=_gen(0))
    out = M.backward_log_grad_norms(Ws, bs, "linear", torch.zeros(100, dtype=torch.float64), generator=_gen(1))
    assert out.shape == (10,)
    np.testing.assert_allclose(out, 0.0, atol=1e-10)  # unit vector stays unit through orthogonal layers
    # Gaussian ReLU at sigma_w^2 = 2: mean per-layer increment of ln|delta|^2 ~ ln(chi_1) = 0 up to O(1/N) drift
    Ws, bs, x0 = _critical_net("relu", "gaussian", 30, 1.0, seed=3, width=800)
    out = M.backward_log_grad_norms(Ws, bs, "relu", x0, generator=_gen(2))
    assert abs(out[0] - out[-1]) / 29 < 0.05
