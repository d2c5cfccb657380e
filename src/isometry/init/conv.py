"""Orthogonal initializers for convolution kernels (Xiao, Bahri, Sohl-Dickstein, Schoenholz & Pennington 2018).

Kernels use PyTorch's layout ``(out, in, *kernel)`` (stacked ensembles: ``(E, out, in, *kernel)``) and PyTorch's
convention that ``conv`` is a cross-correlation, ``y[o, p] = sum_{i, s} W[o, i, s] x[i, p + s]``. With circular
padding, such a convolution acts at spatial frequency ``z = exp(i omega)`` as the ``out x in`` matrix ("symbol")
``M(z) = sum_s W[:, :, s] z^s``; the map is norm-preserving (an isometry) iff ``M(z)^* M(z) = I`` on the unit
circle. Both constructions below give exactly that (times ``gain``), which needs out >= in.

Gain means sigma_w: the factor multiplying the norm of the (circularly padded) input, ``|conv(x)| = gain |x|``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from . import _core
from .dense import orthogonal_


def _check_conv(m: _core.Members, name: str) -> None:
    if m.out < m.inp:
        raise ValueError(
            f"{name} needs out_channels >= in_channels to be norm-preserving (Xiao et al. 2018), "
            f"got member shape (out, in, *kernel) = {m.shape}"
        )


def delta_orthogonal_(w: torch.Tensor, gain=1.0, *, generator=None, ensemble=None) -> torch.Tensor:
    """Delta-orthogonal kernel: Xiao et al. 2018, Algorithm 2 (TF ``ConvolutionDeltaOrthogonal``).

    All taps zero except the spatial centre ``((k_1 - 1) // 2, (k_2 - 1) // 2, ...)``, which is ``gain * H`` with
    ``H`` a Haar random ``(out, in)`` matrix with orthonormal columns. Requires out >= in (ValueError otherwise). The
    convolution is then a per-pixel isometry: ``|conv(x)| = gain |x|`` under circular padding, i.e. a deep CNN with
    this init behaves, at init, like the deep dense orthogonal networks of the mean-field theory.

    The centre tap is where TF's ``ConvolutionDeltaOrthogonal`` and JAX's ``delta_orthogonal`` put it, and for odd
    kernels the middle. For even kernels it is the tap that "same" padding (PyTorch ``padding="same"``, TF
    ``SAME``: ``(k - 1) // 2`` zeros before, the rest after) aligns with the output pixel, so the convolution is
    the identity map times ``gain H`` and norm-preserving under zero padding too; any other tap would shift the
    image by a pixel and lose the border (``k // 2`` did, for even k).

    A 2-D (dense) member gets plain :func:`orthogonal_` (any shape).
    """
    m = _core.members(w, gain, generator, ensemble)
    if not m.kernel:
        return orthogonal_(w, gain, generator=generator, ensemble=m.ensemble)
    _check_conv(m, "delta_orthogonal_")
    h = _core.scale(_core.draw_orthogonal(m.out, m.inp, m.generators, w), m.gains)
    k = torch.zeros((m.E,) + m.shape, dtype=h.dtype, device=h.device)
    centre = tuple((s - 1) // 2 for s in m.kernel)
    k[(slice(None), slice(None), slice(None)) + centre] = h
    return _core.write(w, m, k)


def _symmetric_projection(n: int, g, w: torch.Tensor) -> torch.Tensor:
    """Random orthogonal projection P = U diag(b) U^T, U Haar (n, n), b_i i.i.d. Bernoulli(1/2) (rank ~ n/2)."""
    u = _core.haar(_core.randn((n, n), g, w))
    bits = torch.randint(0, 2, (n,), generator=g, device=_core.draw_device(g, w)).to(w.device, u.dtype)
    return (u * bits) @ u.T


def _orthogonal_kernel(shape: tuple[int, ...], g, w: torch.Tensor) -> torch.Tensor:
    """One member of :func:`conv_orthogonal_` (gain 1), float64, shape (out, in, *kernel)."""
    out, inp, kernel = shape[0], shape[1], shape[2:]
    # H: (out, in) with orthonormal columns, drawn first (as TF's ConvolutionOrthogonal does).
    h = _core.haar(_core.randn((out, inp), g, w))
    # U(z) as polynomial coefficients: (out, out, *spatial), starting from the constant identity.
    u = torch.eye(out, dtype=h.dtype, device=h.device).reshape((out, out) + (1,) * len(kernel))
    for axis, k in enumerate(kernel):
        d = 2 + axis
        for _ in range(k - 1):
            p = _symmetric_projection(out, g, w)
            # U(z) <- U(z) (P + (I - P) z_axis): raise the degree in z_axis by one.
            up = torch.einsum("ab...,bc->ac...", u, p)
            uq = torch.einsum("ab...,bc->ac...", u, torch.eye(out, dtype=p.dtype, device=p.device) - p)
            keep, shift = [0, 0] * len(kernel), [0, 0] * len(kernel)
            j = 2 * (len(kernel) - 1 - axis)  # F.pad lists (low, high) pairs from the last dim backwards
            keep[j + 1] = 1  # U P: coefficient s stays at s (append a zero slot at the high end)
            shift[j] = 1  # U (I - P) z: coefficient s moves to s + 1 (prepend a zero slot)
            u = F.pad(up, keep) + F.pad(uq, shift)
        assert u.shape[d] == k
    # M(z) = U(z) H: coefficient s is U_s @ H.
    return torch.einsum("ab...,bc->ac...", u, h)


def conv_orthogonal_(w: torch.Tensor, gain=1.0, *, generator=None, ensemble=None) -> torch.Tensor:
    """Orthogonal convolution kernel: Xiao et al. 2018, Algorithm 1 (the block-orthogonal construction of TF's
    ``ConvolutionOrthogonal2D``), for any kernel size (odd or even) and any number of spatial dims.

    The kernel's symbol is built as ``M(z) = U(z) H``, with ``H`` a Haar ``(out, in)`` matrix with orthonormal
    columns, and ``U(z) = prod_j (P_j + (I - P_j) z_{a_j})``: a product of ``k_a - 1`` factors per spatial axis
    ``a``, each ``P_j`` an independent random symmetric projection (``U diag(Bernoulli(1/2)) U^T``). Each factor is
    unitary on ``|z| = 1`` (``(P + (I-P) z)^* (P + (I-P) z) = P + (I-P) = I``) and has degree one in ``z_a``, so
    ``M`` has exactly the kernel's size and the circular convolution is an exact isometry times ``gain``:
    ``|conv(x)| = gain |x|``, for any spatial size of ``x``. Unlike delta-orthogonal, the energy is spread over all
    taps (generically every tap is non-zero). Requires out >= in. A 2-D
    (dense) member gets plain :func:`orthogonal_`; a kernel of size 1 gives ``gain * H``.

    Member e is built from ``generator[e]`` alone (loop over members; the construction is a few small products).
    """
    m = _core.members(w, gain, generator, ensemble)
    if not m.kernel:
        return orthogonal_(w, gain, generator=generator, ensemble=m.ensemble)
    _check_conv(m, "conv_orthogonal_")
    k = torch.stack([_orthogonal_kernel(m.shape, g, w) for g in m.generators])
    return _core.write(w, m, _core.scale(k, m.gains))


__all__ = ["delta_orthogonal_", "conv_orthogonal_"]
