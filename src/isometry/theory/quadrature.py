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
    """Nodes z_i and weights w_i (summing to 1) so that sum_i w_i f(z_i) ~ E[f(z)], z ~ N(0, 1)."""
    z, w = np.polynomial.hermite_e.hermegauss(n)
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
