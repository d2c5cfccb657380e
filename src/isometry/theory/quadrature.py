"""Gaussian expectations by Gauss-Hermite quadrature (probabilists' Hermite polynomials).

``gaussian_expectation(f, n)`` approximates E_{z~N(0,1)}[f(z)]; ``gaussian_expectation_2d`` does the same for two
independent standard normals. Kinked nonlinearities (ReLU, hard-tanh) converge slowly in n; use >= 200 points or
closed forms there (papers.md section 9).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=16)
def hermite_nodes(n: int = 201) -> tuple[np.ndarray, np.ndarray]:
    """Nodes z_i and weights w_i (summing to 1) so that sum_i w_i f(z_i) ~ E[f(z)], z ~ N(0, 1).

    Computed by ``scipy.special.roots_hermitenorm`` (Golub-Welsch for n <= 150, the Townsend-Trogdon-Olver
    asymptotic method above): stable for any n (NumPy's ``hermegauss`` returns NaN weights from n ~ 400 on, where
    its normalised Hermite polynomials overflow). Weights of the outermost nodes underflow to 0 for large n (they are
    below 1e-300), never NaN.
    """
    from scipy.special import roots_hermitenorm

    n = int(n)
    if n < 1:
        raise ValueError(f"hermite_nodes needs n >= 1 nodes, got {n}")
    z, w = roots_hermitenorm(n)
    if not (np.all(np.isfinite(z)) and np.all(np.isfinite(w))):  # pragma: no cover - scipy is stable
        raise FloatingPointError(f"Gauss-Hermite rule with {n} nodes is not finite")
    w = w / w.sum()
    z.setflags(write=False)
    w.setflags(write=False)
    return z, w


def gaussian_expectation(f, n: int = 201) -> float:
    z, w = hermite_nodes(n)
    return float(np.sum(w * f(z)))


def gaussian_expectation_2d(f, n: int = 101) -> float:
    """E[f(z1, z2)] with z1, z2 independent standard normals (tensor-product rule)."""
    z, w = hermite_nodes(n)
    z1, z2 = np.meshgrid(z, z, indexing="ij")
    return float(np.sum(np.outer(w, w) * f(z1, z2)))
