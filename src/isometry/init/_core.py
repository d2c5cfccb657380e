"""Shared plumbing for the initializers: ensemble detection, per-member gains and generators, fans, Haar draws.

Every initializer in :mod:`isometry.init` is written as "fill E members, each from its own generator":

* a single weight is an ensemble of one (``E = 1``);
* member ``e`` draws *all* of its random numbers, in a fixed order, from ``generators[e]``;
* the draws are moved to the weight's device and stacked, and the deterministic part (QR, sign fix, scaling) runs
  batched over the ensemble dimension.

Because the batched linear algebra used here (``torch.linalg.qr``, elementwise products) acts on each batch member
independently, a stacked init with a list of E generators is bitwise equal to E single inits with the same
generators (this is unit-tested on CPU).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

#: dtype of the deterministic linear algebra (QR, block products). fp64 keeps fp32 weights orthogonal to ~1e-7.
COMPUTE_DTYPE = torch.float64


@dataclass(frozen=True)
class Members:
    """How a weight tensor splits into ensemble members."""

    ensemble: bool
    E: int
    shape: tuple[int, ...]  # one member's shape: (out, in, *kernel)
    generators: tuple[torch.Generator | None, ...]
    gains: torch.Tensor  # (E,) float64 on CPU

    @property
    def out(self) -> int:
        return self.shape[0]

    @property
    def inp(self) -> int:
        return self.shape[1]

    @property
    def kernel(self) -> tuple[int, ...]:
        return self.shape[2:]


def is_ensemble(w: torch.Tensor, ensemble: bool | None) -> bool:
    """``ensemble=None``: 2-D dense / 3-D dense ensemble / 4-D conv / 5-D conv ensemble; True/False overrides."""
    if ensemble is not None:
        return bool(ensemble)
    if w.ndim in (2, 4):
        return False
    if w.ndim in (3, 5):
        return True
    raise ValueError(
        f"cannot infer whether a {w.ndim}-D weight of shape {tuple(w.shape)} is an ensemble; "
        "expected 2-D (out, in), 3-D (E, out, in), 4-D (out, in, k, k) or 5-D (E, out, in, k, k), "
        "or pass ensemble=True/False"
    )


def fans(shape: Sequence[int]) -> tuple[int, int]:
    """(fan_in, fan_out) of one member: in * prod(kernel), out * prod(kernel)."""
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _generators(generator, E: int) -> tuple[torch.Generator | None, ...]:
    if generator is None or isinstance(generator, torch.Generator):
        return (generator,) * E
    gens = tuple(generator)
    if len(gens) != E:
        raise ValueError(f"got {len(gens)} generators for an ensemble of {E} members")
    for g in gens:
        if g is not None and not isinstance(g, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator, a sequence of them or None, got {type(g)!r}")
    return gens


def _gains(gain, E: int, what: str) -> torch.Tensor:
    if isinstance(gain, torch.Tensor):
        g = gain.detach().to(device="cpu", dtype=torch.float64).reshape(-1)
    elif isinstance(gain, (int, float)):
        g = torch.tensor([float(gain)], dtype=torch.float64)
    else:
        g = torch.tensor([float(x) for x in gain], dtype=torch.float64)
    if g.numel() == 1:
        g = g.expand(E).clone()
    if g.numel() != E:
        raise ValueError(f"{what} has {g.numel()} entries for an ensemble of {E} members")
    if not torch.isfinite(g).all():
        raise ValueError(f"{what} must be finite, got {g.tolist()}")
    return g


def members(w: torch.Tensor, gain, generator, ensemble: bool | None, what: str = "gain") -> Members:
    if not isinstance(w, torch.Tensor):
        raise TypeError(f"initializers fill a torch.Tensor in place, got {type(w).__name__}")
    if not w.is_floating_point():
        raise TypeError(f"initializers need a floating-point weight, got a tensor of dtype {w.dtype} "
                        f"(shape {tuple(w.shape)}); its values would be rounded to integers (mostly zeros). "
                        "Create it as e.g. torch.empty(..., dtype=torch.float32)")
    ens = is_ensemble(w, ensemble)
    E = w.shape[0] if ens else 1
    shape = tuple(w.shape[1:]) if ens else tuple(w.shape)
    if len(shape) < 2:
        raise ValueError(
            f"initializers need member weights with at least 2 dims (out, in, *kernel); got member shape {shape}"
        )
    if not ens and isinstance(gain, torch.Tensor) and gain.numel() != 1:
        raise ValueError(f"a single weight takes a scalar {what}, got {gain.numel()} values")
    return Members(ens, E, shape, _generators(generator, E), _gains(gain, E, what))


def draw_device(g: torch.Generator | None, w: torch.Tensor) -> torch.device:
    return g.device if g is not None else w.device


def randn(shape, g: torch.Generator | None, w: torch.Tensor, dtype=None) -> torch.Tensor:
    """Standard normals drawn with ``g`` (on the generator's device), returned on ``w``'s device."""
    dtype = dtype or COMPUTE_DTYPE
    return torch.randn(tuple(shape), generator=g, dtype=dtype, device=draw_device(g, w)).to(w.device)


def haar(gauss: torch.Tensor) -> torch.Tensor:
    """Haar-distributed orthonormal rows/columns from a batch of Gaussian matrices (..., r, c).

    QR of the tall orientation and the sign fix Q <- Q * sign(diag R) (Mezzadri 2007), so that the result is exactly
    Haar (uniform on the Stiefel manifold), not biased by LAPACK's sign convention. Returns (..., r, c) with
    orthonormal rows if r <= c, else orthonormal columns.
    """
    r, c = gauss.shape[-2:]
    a = gauss.transpose(-2, -1) if r < c else gauss
    q, rr = torch.linalg.qr(a, mode="reduced")
    d = torch.diagonal(rr, dim1=-2, dim2=-1)
    sign = torch.where(d < 0, -torch.ones_like(d), torch.ones_like(d))
    q = q * sign.unsqueeze(-2)
    return q.transpose(-2, -1) if r < c else q


def draw_orthogonal(rows: int, cols: int, gens, w: torch.Tensor) -> torch.Tensor:
    """(E, rows, cols) Haar matrices, member e drawn from gens[e]."""
    gauss = torch.stack([randn((rows, cols), g, w) for g in gens])
    return haar(gauss)


def write(w: torch.Tensor, m: Members, values: torch.Tensor) -> torch.Tensor:
    """Copy (E, *member_shape) values into w (in place, no autograd) and return w."""
    with torch.no_grad():
        w.copy_(values.reshape(w.shape).to(dtype=w.dtype, device=w.device))
    return w


def scale(values: torch.Tensor, gains: torch.Tensor) -> torch.Tensor:
    """Multiply member e of (E, ...) values by gains[e]."""
    g = gains.to(device=values.device, dtype=values.dtype)
    return values * g.reshape((-1,) + (1,) * (values.ndim - 1))
