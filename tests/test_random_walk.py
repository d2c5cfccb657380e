"""Sussillo & Abbott 2014 random-walk initialization (isometry.theory.random_walk); papers.md section 3."""

import math

import numpy as np
import pytest
import torch
from scipy import special

from isometry.theory import random_walk as rw

FIT_TABLE = [  # N, exp(1/2N), sqrt2 exp(1.2/(max(N,6)-2.4))
    (10, 1.051271, 1.65610),
    (20, 1.025315, 1.51400),
    (50, 1.010050, 1.45032),
    (100, 1.005013, 1.43171),
    (200, 1.002503, 1.42283),
    (1000, 1.000500, 1.41592),
]


@pytest.mark.parametrize("n, g_lin, g_relu", FIT_TABLE)
def test_fit_table_and_exact_agreement(n, g_lin, g_relu):
    assert rw.optimal_gain(n, "linear", "fit") == pytest.approx(g_lin, abs=1e-6)
    assert rw.optimal_gain(n, "relu", "fit") == pytest.approx(g_relu, abs=1e-5)
    for nl in ("linear", "relu"):
        exact = rw.optimal_gain(n, nl, "exact")
        assert exact == pytest.approx(rw.optimal_gain(n, nl, "fit"), rel=5e-3)
        assert abs(rw.log_norm_increment_stats(n, nl, exact)[0]) < 1e-12


def test_tanh_has_no_fit():
    with pytest.raises(ValueError, match="exact"):
        rw.optimal_gain(100, "tanh", "fit")


def test_linear_and_relu_moments():
    for n in (100, 1000):
        m, v = rw.log_norm_increment_stats(n, "linear", 1.0)
        assert m == pytest.approx(-1.0 / n, rel=0.02)  # identity gain drifts by -1/N
        assert v == pytest.approx(2.0 / n, rel=0.02)
        m, v = rw.log_norm_increment_stats(n, "relu", math.sqrt(2))
        assert m == pytest.approx(-2.5 / n, rel=0.2)  # He drift
        assert v == pytest.approx(5.0 / n, rel=0.1)
    # the small-N ReLU mixture, by brute force over M (conditioned on M >= 1)
    n = 4
    m = np.arange(1, n + 1)
    p = special.comb(n, m) / (2**n - 1)
    mean = np.sum(p * (np.log(2 / n) + special.digamma(m / 2)))
    assert rw.log_norm_increment_stats(n, "relu", 1.0)[0] == pytest.approx(mean, rel=1e-12)


def test_laplace_route_reproduces_chi_square():
    for n in (3, 30, 300):
        mean, var = rw._laplace_log_moments(n, np.array([1.0]), np.array([1.0]))
        assert mean == pytest.approx(math.log(2 / n) + special.digamma(n / 2), abs=1e-10)
        assert var == pytest.approx(special.polygamma(1, n / 2), rel=1e-8)
    # tanh with vanishing forward variance is linear
    a = rw.log_norm_increment_stats(50, "tanh", 1.3, q=0.0)
    b = rw.log_norm_increment_stats(50, "linear", 1.3)
    assert a == pytest.approx(b, rel=1e-8)


def test_tanh_optimal_gain():
    g = rw.optimal_gain(100, "tanh")
    assert g > rw.optimal_gain(100, "linear")  # SA: g_tanh > g_linear
    assert abs(rw.log_norm_increment_stats(100, "tanh", g)[0]) < 1e-9
    m, v = rw.log_norm_increment_stats(100, "tanh", g)
    assert 2.0 / 100 < v < 5.0 / 100


N, D = 100, 100


def _final(nl, gain, seed, n_networks=250, depth=D, **kw):
    traj = rw.simulate_log_norms(N, depth, nl, gain, n_networks, torch.Generator().manual_seed(seed), **kw)
    assert traj.shape == (n_networks, depth + 1) and np.all(traj[:, depth] == 0)
    return traj[:, 0]


@pytest.mark.slow
def test_simulation_linear_unbiased_and_variance():
    x = _final("linear", rw.optimal_gain(N, "linear"), 1)
    assert abs(x.mean()) < 0.25 * x.std()
    assert x.var() == pytest.approx(2 * D / N, rel=0.25)


@pytest.mark.slow
def test_simulation_relu():
    he = _final("relu", math.sqrt(2), 3, n_networks=200)
    assert he.mean() / D == pytest.approx(-2.5 / N, rel=0.2)  # He init drifts by ~ -2.5/N per layer
    assert he.var() == pytest.approx(5 * D / N, rel=0.25)
    # ReLU nets without biases are positively homogeneous: changing g only shifts every step by ln(g^2/2)
    at_opt = he + D * math.log(rw.optimal_gain(N, "relu") ** 2 / 2)
    assert abs(at_opt.mean()) < 0.25 * at_opt.std()


@pytest.mark.slow
def test_simulation_tanh_matches_numerical_theory():
    g = rw.optimal_gain(N, "tanh")
    m, v = rw.log_norm_increment_stats(N, "tanh", g)
    depth = 50
    traj = rw.simulate_log_norms(N, depth, "tanh", g, 200, torch.Generator().manual_seed(4), stationary=True)
    steps = -np.diff(traj, axis=1)  # ln z_d, one column per layer
    assert abs(steps.mean()) < 0.1 * math.sqrt(v)  # unbiased at the exact optimal gain
    assert steps.var(axis=0).mean() == pytest.approx(v, rel=0.15)  # single-step variance
    # in real tanh nets successive steps are positively correlated (finite-N fluctuations of the forward length
    # persist over layers), so the walk spreads faster than depth * Var[ln z]; documented in simulate_log_norms
    x = traj[:, 0]
    assert abs(x.mean()) < 0.25 * x.std()
    assert v * depth * 0.8 < x.var() < v * depth * 3


def test_tanh_small_width_has_no_unbiased_gain():
    """At N = 8 the tanh walk's mean drift stays negative for every g: a clear error, not a runaway root."""
    import warnings

    from isometry.theory.random_walk import optimal_gain

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="no gain makes the tanh random walk unbiased"):
            optimal_gain(8, "tanh")
        assert 1.0 < optimal_gain(16, "tanh") < 1.6
