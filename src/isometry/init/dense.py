"""Gaussian and orthogonal initializers (dense or conv weights, single or stacked ensembles).

Conventions (shared by every function in :mod:`isometry.init`):

* in place, trailing underscore, returns ``w`` (like :mod:`torch.nn.init`); runs under ``torch.no_grad()``;
* ``w`` is one weight ``(out, in, *kernel)`` or a stacked ensemble ``(E, out, in, *kernel)``; ``ensemble=None``
  infers it from ``w.ndim`` (2 and 4: single, 3 and 5: ensemble), ``ensemble=True/False`` overrides;
* ``gain`` / ``sigma_w`` is a float, or for an ensemble a length-E tensor/sequence (one per member);
* ``generator`` is None (global RNG), one ``torch.Generator`` (members drawn one after the other from it), or a list
  of E generators (member e uses only ``generator[e]``; the stacked init then equals E single inits bitwise);
* random numbers are drawn in float64 on the generator's device, so one seed gives the same weights (up to the final
  rounding) whatever the weight's dtype;
* **gain means sigma_w**, the factor that multiplies the norm of a unit input vector: ``orthogonal_(w, gain=g)`` has
  all singular values equal to ``g`` (so ``|W x| = g |x|`` exactly when out >= in), and ``gaussian_(w, sigma_w=g)``
  has ``E|W x|^2 = g^2 |x|^2`` for a square weight (entry variance ``g^2 / fan_in``). In the mean-field papers'
  notation this is ``sigma_w`` with ``sigma_w^2 = g^2`` (Saxe et al.'s and Sussillo & Abbott's ``g``). Note that
  some published code (e.g. TF's ``Orthogonal(gain)``) agrees, while others fold sqrt(2) or fan ratios in.
"""

from __future__ import annotations

import math

import torch

from . import _core
from ._core import fans


def gaussian_(w: torch.Tensor, sigma_w=1.0, *, generator=None, ensemble=None) -> torch.Tensor:
    """Fill ``w`` with i.i.d. N(0, sigma_w^2 / fan_in), fan_in = in * prod(kernel).

    The mean-field initialization of Poole et al. 2016 / Schoenholz et al. 2017 / Pennington et al. 2017 (eq.
    "W_ij ~ N(0, sigma_w^2/N)"); Saxe et al. 2014's "scaled random Gaussian" is ``sigma_w = 1``.
    """
    m = _core.members(w, sigma_w, generator, ensemble, what="sigma_w")
    fan_in, _ = fans(m.shape)
    z = torch.stack([_core.randn(m.shape, g, w) for g in m.generators])
    return _core.write(w, m, _core.scale(z, m.gains / math.sqrt(fan_in)))


def lecun_(w: torch.Tensor, *, generator=None, ensemble=None) -> torch.Tensor:
    """LeCun normal: N(0, 1/fan_in) (LeCun et al. 1998), i.e. ``gaussian_`` with sigma_w = 1."""
    return gaussian_(w, 1.0, generator=generator, ensemble=ensemble)


def he_(w: torch.Tensor, *, generator=None, ensemble=None) -> torch.Tensor:
    """He / Kaiming normal: N(0, 2/fan_in) (He et al. 2015), i.e. ``gaussian_`` with sigma_w = sqrt(2): the ReLU
    critical point (sigma_w^2, sigma_b^2) = (2, 0)."""
    return gaussian_(w, math.sqrt(2.0), generator=generator, ensemble=ensemble)


def xavier_(w: torch.Tensor, gain=1.0, *, generator=None, ensemble=None) -> torch.Tensor:
    """Glorot / Xavier normal (Glorot & Bengio 2010): N(0, gain^2 * 2 / (fan_in + fan_out)).

    Equivalent to ``gaussian_`` with sigma_w^2 = gain^2 * 2 fan_in / (fan_in + fan_out) (= gain^2 when square).
    """
    m = _core.members(w, gain, generator, ensemble)
    fan_in, fan_out = fans(m.shape)
    return gaussian_(
        w, m.gains * math.sqrt(2.0 * fan_in / (fan_in + fan_out)), generator=generator, ensemble=m.ensemble
    )


def orthogonal_(w: torch.Tensor, gain=1.0, *, generator=None, ensemble=None) -> torch.Tensor:
    """Fill ``w`` with ``gain`` times a Haar-random orthogonal matrix (Saxe, McClelland & Ganguli 2014).

    The member is flattened to ``(out, in * prod(kernel))`` like :func:`torch.nn.init.orthogonal_`. It gets
    orthonormal rows if out <= in*prod(kernel), orthonormal columns otherwise. The matrix comes from the QR
    decomposition of a Gaussian matrix with the sign fix ``Q * sign(diag R)`` (Mezzadri 2007), which makes it
    exactly Haar distributed. All singular values equal ``gain`` = sigma_w: ``|W x| = gain |x|`` for every ``x``
    when out >= in (square or tall). Ensembles are drawn member by member and orthogonalized in one batched QR.
    """
    m = _core.members(w, gain, generator, ensemble)
    rows, cols = m.out, math.prod(m.shape[1:])
    q = _core.draw_orthogonal(rows, cols, m.generators, w)
    return _core.write(w, m, _core.scale(q, m.gains))
