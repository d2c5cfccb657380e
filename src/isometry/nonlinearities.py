"""The pointwise nonlinearities used throughout the papers, with their derivatives.

Each nonlinearity is available in two flavours with identical names:

* ``phi(name)`` / ``dphi(name)`` / ``d2phi(name)`` return NumPy ufunc-like callables (used by the theory code,
  evaluated on Gauss-Hermite nodes);
* ``torch_phi(name)`` / ``torch_dphi(name)`` return functions on ``torch.Tensor`` (used by models and measurements).

``erf`` means phi(h) = erf(sqrt(pi)/2 * h), scaled so that phi'(0) = 1 like tanh (Pennington et al. 2017).
``hard_tanh`` is clip(h, -1, 1).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy import special

NONLINEARITIES = ("linear", "relu", "tanh", "hard_tanh", "erf")

_SQRT_PI_2 = math.sqrt(math.pi) / 2.0


def check(name: str) -> str:
    if name not in NONLINEARITIES:
        raise ValueError(f"unknown nonlinearity {name!r}; known: {', '.join(NONLINEARITIES)}")
    return name


def phi(name: str):
    check(name)
    return {
        "linear": lambda h: np.asarray(h, dtype=float),
        "relu": lambda h: np.maximum(h, 0.0),
        "tanh": np.tanh,
        "hard_tanh": lambda h: np.clip(h, -1.0, 1.0),
        "erf": lambda h: special.erf(_SQRT_PI_2 * np.asarray(h)),
    }[name]


def dphi(name: str):
    check(name)
    return {
        "linear": lambda h: np.ones_like(np.asarray(h, dtype=float)),
        "relu": lambda h: (np.asarray(h) > 0).astype(float),
        "tanh": lambda h: 1.0 / np.cosh(h) ** 2,
        "hard_tanh": lambda h: (np.abs(h) < 1).astype(float),
        "erf": lambda h: np.exp(-math.pi * np.asarray(h) ** 2 / 4.0),
    }[name]


def d2phi(name: str):
    """Second derivative (zero almost everywhere for the piecewise-linear ones)."""
    check(name)
    return {
        "linear": lambda h: np.zeros_like(np.asarray(h, dtype=float)),
        "relu": lambda h: np.zeros_like(np.asarray(h, dtype=float)),
        "tanh": lambda h: -2.0 * np.tanh(h) / np.cosh(h) ** 2,
        "hard_tanh": lambda h: np.zeros_like(np.asarray(h, dtype=float)),
        "erf": lambda h: -math.pi / 2.0 * np.asarray(h) * np.exp(-math.pi * np.asarray(h) ** 2 / 4.0),
    }[name]


def torch_phi(name: str):
    check(name)
    return {
        "linear": lambda h: h,
        "relu": torch.relu,
        "tanh": torch.tanh,
        "hard_tanh": lambda h: torch.clamp(h, -1.0, 1.0),
        "erf": lambda h: torch.erf(_SQRT_PI_2 * h),
    }[name]


def torch_dphi(name: str):
    check(name)
    return {
        "linear": lambda h: torch.ones_like(h),
        "relu": lambda h: (h > 0).to(h.dtype),
        "tanh": lambda h: 1.0 - torch.tanh(h) ** 2,
        "hard_tanh": lambda h: (h.abs() < 1).to(h.dtype),
        "erf": lambda h: torch.exp(-math.pi * h * h / 4.0),
    }[name]
