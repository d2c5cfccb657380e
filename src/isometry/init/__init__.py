"""Initializers in :mod:`torch.nn.init` style, plus the registry of named schemes used in configs.

Functions (in place, trailing underscore, return the tensor, accept ``generator=`` and stacked ensembles)::

    gaussian_(w, sigma_w=1.0, *, generator=None, ensemble=None)    N(0, sigma_w^2 / fan_in)
    lecun_(w, ...), he_(w, ...), xavier_(w, gain=1.0, ...)          named Gaussian special cases
    orthogonal_(w, gain=1.0, ...)                                   Haar orthogonal (Saxe et al. 2014)
    delta_orthogonal_(w, gain=1.0, ...)                             Xiao et al. 2018, Algorithm 2
    conv_orthogonal_(w, gain=1.0, ...)                              Xiao et al. 2018, Algorithm 1
    looks_linear_(w, gain=1.0, ...)  + CReLU(dim=1), crelu(x, dim)  Balduzzi et al. 2017
    random_walk_gain(width, nonlinearity, method="fit")             Sussillo & Abbott 2014

Gain means sigma_w: the factor that multiplies the norm of a unit input vector (see :mod:`isometry.init.dense`).

Schemes (uniform signature ``scheme(w, *, sigma_w2=None, sigma_b2=0.0, nonlinearity="linear", layer="hidden",
generator=None) -> effective sigma_w2``): ``SCHEMES``, ``register_scheme``, ``known_schemes``, ``get_initializer``
(also resolves ``"module.path:function"``), ``user_scheme_from_function``; see :mod:`isometry.init.schemes`.
"""

from .conv import conv_orthogonal_, delta_orthogonal_
from .dense import gaussian_, he_, lecun_, orthogonal_, xavier_
from .looks_linear import CReLU, crelu, looks_linear_
from .schemes import (
    LAYERS,
    SCHEMES,
    get_initializer,
    known_schemes,
    random_walk_gain,
    register_scheme,
    user_scheme_from_function,
)

__all__ = [
    "gaussian_",
    "lecun_",
    "he_",
    "xavier_",
    "orthogonal_",
    "delta_orthogonal_",
    "conv_orthogonal_",
    "looks_linear_",
    "CReLU",
    "crelu",
    "random_walk_gain",
    "LAYERS",
    "SCHEMES",
    "register_scheme",
    "known_schemes",
    "get_initializer",
    "user_scheme_from_function",
]
