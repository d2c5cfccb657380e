"""Looks-Linear initialization and its partner nonlinearity CReLU (Balduzzi et al. 2017).

Built on both :mod:`isometry.init.dense` (dense weights: :func:`orthogonal_`) and :mod:`isometry.init.conv` (conv
weights: :func:`delta_orthogonal_`), so it lives above both; dense and conv do not import each other's module for it.
"""

from __future__ import annotations

import torch
from torch import nn

from . import _core
from .conv import delta_orthogonal_
from .dense import orthogonal_


def looks_linear_(w: torch.Tensor, gain=1.0, *, generator=None, ensemble=None) -> torch.Tensor:
    """Looks-Linear initialization (Balduzzi et al. 2017, "The Shattered Gradients Problem", Sec. 5).

    ``w`` has shape ``(out, 2m)`` (dense) or ``(out, 2m, *kernel)`` (conv) and is set to ``[W0, -W0]`` along the
    input dimension, with ``W0 = gain * orthogonal (out, m)`` for dense weights and ``W0 = gain * delta-orthogonal``
    for conv weights (which needs out >= m). The layer's input must come from :class:`CReLU`,
    ``x -> [relu(x), relu(-x)]``. Then ``W @ CReLU(h) = W0 relu(h) - W0 relu(-h) = W0 h``: at init the whole
    CReLU network is the linear map given by the product of its ``W0``'s, so it is dynamically isometric like a
    deep orthogonal linear network. ``gain`` is the sigma_w of ``W0``.
    """
    m = _core.members(w, gain, generator, ensemble)
    if m.inp % 2:
        raise ValueError(f"looks_linear_ needs an even input dimension (out, 2m, ...), got member shape {m.shape}")
    half = m.inp // 2
    w0 = torch.empty((m.E, m.out, half) + m.kernel, dtype=_core.COMPUTE_DTYPE, device=w.device)
    if m.kernel:
        delta_orthogonal_(w0, m.gains, generator=list(m.generators), ensemble=True)
    else:
        orthogonal_(w0, m.gains, generator=list(m.generators), ensemble=True)
    return _core.write(w, m, torch.cat([w0, -w0], dim=2))


def crelu(x: torch.Tensor, dim: int = 1) -> torch.Tensor:
    """Concatenated ReLU (Shang et al. 2016): ``cat(relu(x), relu(-x))`` along ``dim`` (doubles that dim)."""
    return torch.cat([torch.relu(x), torch.relu(-x)], dim=dim)


class CReLU(nn.Module):
    """Concatenated ReLU module, ``x -> cat(relu(x), relu(-x), dim)``; the partner of :func:`looks_linear_`.

    ``dim=1`` suits (batch, features) and (batch, channels, H, W); use ``dim=-1`` for stacked-ensemble dense
    activations (E, batch, features).
    """

    def __init__(self, dim: int = 1):
        super().__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return crelu(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
