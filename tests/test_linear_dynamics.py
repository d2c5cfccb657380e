"""Saxe et al. 2014 deep-linear learning dynamics (isometry.theory.linear_dynamics); papers.md section 2.4."""

import math
import time

import numpy as np
import pytest
import torch

from isometry.theory import linear_dynamics as ld


def test_smg_c1_c2_closed_form():
    assert ld.learning_time(1.0, 1e-3, 0.999) == pytest.approx(math.log(999), rel=1e-12)
    assert ld.learning_time(1.0, 1e-3, 0.999) == pytest.approx(6.9068, abs=1e-4)
    assert ld.learning_time(2.0, 1e-3, 0.999 * 2) == pytest.approx(3.6268, abs=1e-4)
    # vs the numerically integrated ODE: u(t_learn) = uf
    t = ld.learning_time(1.0, 1e-3, 0.999)
    assert ld.deep_mode_strength(t, 1.0, 1e-3, 1.0, depth=2) == pytest.approx(0.999, rel=1e-6)
    # tau scales time, and u(t) inverts learning_time
    assert ld.learning_time(1.0, 1e-3, 0.5, tau=7.0) == pytest.approx(7 * ld.learning_time(1.0, 1e-3, 0.5))
    assert ld.mode_strength(ld.learning_time(1.5, 1e-4, 0.9), 1.5, 1e-4) == pytest.approx(0.9, rel=1e-10)


def test_mode_strength_shape_and_limits():
    t = np.linspace(0, 50, 400)
    u = ld.mode_strength(t, 2.0, 1e-3)
    assert u[0] == pytest.approx(1e-3)
    assert np.all(np.diff(u) >= 0) and np.all(np.diff(u[:50]) > 0) and u[-1] == pytest.approx(2.0)
    assert np.isfinite(ld.mode_strength(1e6, 2.0, 1e-3))  # no overflow
    s = np.array([[3.0], [1.0]])
    assert ld.mode_strength(t, s, 1e-3).shape == (2, 400)
    assert np.allclose(ld.deep_mode_strength(t, 2.0, 1e-3, 1.0, 2), u, rtol=1e-7)


def test_smg_c4_deep_learning_time():
    depths = [2, 3, 5, 10, 20, 50, 100]  # weight matrices; N_l = depth + 1 in {3, 4, 6, 11, 21, 51, 101}
    scaled = np.array([d * ld.learning_time(1.0, 1e-3, 0.999, depth=d) for d in depths])
    assert np.all(np.diff(scaled) > 0)
    limit = 1 / 1e-3 - 1 / 0.999 + math.log(0.999 * 0.999 / (1e-3 * 1e-3))  # int du / (u^2 (1 - u))
    assert scaled[-1] < limit and scaled[-1] > 0.85 * limit
    assert 1e6 * ld.learning_time(1.0, 1e-3, 0.999, depth=10**6) == pytest.approx(limit, rel=1e-3)
    assert limit == pytest.approx(1000, rel=0.02)
    # quadrature vs the integrated ODE (independent method), 1e-3
    for d in (3, 10, 50):
        t = ld.learning_time(1.0, 1e-3, 0.999, depth=d)
        assert ld.deep_mode_strength(t, 1.0, 1e-3, 1.0, depth=d) == pytest.approx(0.999, rel=1e-3)
        t_half = ld.learning_time(1.0, 1e-3, 0.5, depth=d)
        assert ld.deep_mode_strength(t_half, 1.0, 1e-3, 1.0, depth=d) == pytest.approx(0.5, rel=1e-6)


def test_curves_are_fast():
    t = np.linspace(0, 2000, 500)
    t0 = time.perf_counter()
    ld.deep_mode_strength(t, 1.0, 1e-3, 1.0, depth=20)
    ld.learning_time(np.linspace(0.5, 3, 300), 1e-3, 0.4, depth=10)
    ld.mode_strength(t, 1.0, 1e-3)
    assert time.perf_counter() - t0 < 3.0  # < 1 s idle; shared test machines


def test_vector_field_and_hyperbolas():
    a, b = np.meshgrid(np.linspace(-2, 2, 9), np.linspace(-2, 2, 9))
    da, db = ld.vector_field(a, b, s=1.0)
    assert da.shape == a.shape
    assert np.allclose(ld.vector_field(2.0, 0.5, 1.0), (0.0, 0.0))  # a b = s is a line of fixed points
    # d/dt (a^2 - b^2) = 2 (a b (s-ab) - b a (s-ab)) = 0
    assert np.allclose(a * da - b * db, 0)
    t = np.linspace(0, 30, 300)
    for a0, b0 in [(0.1, 0.02), (0.5, -0.3), (0.01, 0.8)]:
        at, bt = ld.hyperbolic_trajectory(a0, b0, 1.0, 1.0, t)
        assert np.allclose(at**2 - bt**2, a0**2 - b0**2, atol=1e-8)
        assert at[-1] * bt[-1] == pytest.approx(1.0, abs=1e-6)
    # balanced start reproduces the sigmoidal u(t) (u = a b, a = b)
    at, bt = ld.hyperbolic_trajectory(math.sqrt(1e-3), math.sqrt(1e-3), 1.0, 1.0, t)
    assert np.allclose(at * bt, ld.mode_strength(t, 1.0, 1e-3), atol=1e-7)


def test_mode_strength_matches_gradient_descent_3layer():
    """SMG-C3: full-batch GD on a 3-layer linear net with whitened inputs, small (decoupled) init, small lr."""
    torch.manual_seed(0)
    n1, n2, n3 = 8, 8, 6
    s = torch.tensor([3.0, 2.0, 1.5, 1.0], dtype=torch.float64)
    k = len(s)
    U = torch.linalg.qr(torch.randn(n3, n3, dtype=torch.float64))[0][:, :k]
    V = torch.linalg.qr(torch.randn(n1, n1, dtype=torch.float64))[0][:, :k]
    O = torch.linalg.qr(torch.randn(n2, n2, dtype=torch.float64))[0][:, :k]
    P = 64
    X = torch.linalg.qr(torch.randn(P, n1, dtype=torch.float64))[0].T * math.sqrt(P)  # (1/P) X X^T = I
    Y = (U * s) @ V.T @ X  # (1/P) Y X^T = Sigma31 = U S V^T
    u0, lr, steps = 1e-3, 2e-3, 4000
    W21 = (math.sqrt(u0) * O @ V.T).clone().requires_grad_(True)
    W32 = (math.sqrt(u0) * U @ O.T).clone().requires_grad_(True)
    log_every = 50
    sim = []
    for step in range(steps + 1):
        if step % log_every == 0:
            with torch.no_grad():
                sim.append(torch.diagonal(U.T @ W32 @ W21 @ V).numpy().copy())
        loss = 0.5 * ((Y - W32 @ W21 @ X) ** 2).sum() / P
        g21, g32 = torch.autograd.grad(loss, (W21, W32))
        with torch.no_grad():
            W21 -= lr * g21
            W32 -= lr * g32
    sim = np.array(sim)
    t = np.arange(0, steps + 1, log_every)
    theory = ld.mode_strength(t[:, None], s.numpy()[None, :], u0, tau=1 / lr)
    dev = np.abs(sim - theory) / s.numpy()
    assert dev.max() < 0.05
    assert sim[-1] == pytest.approx(s.numpy(), rel=1e-3)  # all modes learned, strongest first
    t_half = [t[np.argmax(sim[:, i] > s[i].item() / 2)] for i in range(k)]
    assert t_half == sorted(t_half)
