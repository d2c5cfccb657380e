"""Ensemble Elman (tanh) RNNs for sequential MNIST, with free, hard-orthogonal or singular-value-margin recurrence.

One member::

    h_0 = 0,   h_t = phi(U x_t + W h_{t-1} + b)   (t = 1..T),   logits = V h_T + c

For sequential MNIST a (B, 1, 28, 28) image is read one row of 28 pixels per step (T = 28, input size 28).
E members run together: every weight has a leading ensemble dimension and the products are ``bmm``.

The recurrent weight ``W`` (E, H, H) (property ``recurrent_weight``) comes in three flavours (``recurrent=``):

* ``"free"``: an ordinary parameter; regularize it with ``soft_orthogonality`` (lam * ||W W^T - I||_F^2, or the
  gain-adjusted lam * ||W W^T / sigma_w^2 - I||_F^2 with ``gain2=sigma_w^2``).
* ``"orthogonal"``: W = sigma_w * Q0 @ expm(A - A^T) with a trainable (E, H, H) parameter A (zero at init) and the
  initial orthogonal factor Q0 a buffer. The matrix exponential of a skew-symmetric matrix is orthogonal, so W
  stays on the (scaled) Stiefel manifold throughout training, to floating-point precision (like
  ``torch.nn.utils.parametrizations.orthogonal`` with the matrix_exp map, batched over E).
* ``"margin"``: W = sigma_w * U diag(s) V^T (Vorontsov et al. 2017), U = U0 expm(skew(A_u)), V = V0 expm(skew(A_v))
  orthogonal as above and s = 1 + m * (2 sigmoid(p) - 1): every singular value of W / sigma_w lies in [1-m, 1+m]
  exactly, for any parameter values.

``sigma_w`` is the square root of the member's effective sigma_w2 (as returned by its init scheme; DESIGN.md:
gain = sigma_w). For the constrained flavours the scheme's draw W0 is factored once: Q0 = polar factor of W0
("orthogonal"), or (U0, s0, V0) = svd(W0 / sigma_w) with s0 clipped into the margin ("margin").
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from isometry.ensemble import split_batch
from isometry.init import get_initializer
from isometry.nonlinearities import check as _check_nl
from isometry.nonlinearities import torch_phi
from isometry.spec import Member

RECURRENT = ("free", "orthogonal", "margin")


def skew(a: torch.Tensor) -> torch.Tensor:
    """A - A^T over the last two dimensions."""
    return a - a.transpose(-1, -2)


def soft_orthogonality(W: torch.Tensor, lam=1.0, gain2=1.0) -> torch.Tensor:
    """Soft orthogonality penalty per member: lam * ||W W^T / gain2 - I||_F^2 for W (E, n, m) -> (E,).

    ``gain2=1`` is the plain penalty (pulls W towards orthogonal, i.e. sigma_w = 1); ``gain2=sigma_w^2`` the
    gain-adjusted one (pulls W towards sigma_w times an orthogonal matrix). ``lam`` and ``gain2`` may be floats or
    per-member (E,) tensors.
    """
    if W.dim() == 2:
        W = W.unsqueeze(0)
    E, n = W.shape[0], W.shape[-2]
    g = torch.as_tensor(gain2, dtype=W.dtype, device=W.device).reshape(-1, 1, 1) if torch.is_tensor(gain2) \
        else float(gain2)
    G = torch.bmm(W, W.transpose(1, 2)) / g
    eye = torch.eye(n, dtype=W.dtype, device=W.device).expand(E, n, n)
    pen = (G - eye).pow(2).sum(dim=(1, 2))
    lam_t = torch.as_tensor(lam, dtype=W.dtype, device=W.device)
    return lam_t * pen


def _polar(w: torch.Tensor) -> torch.Tensor:
    """Orthogonal polar factor U V^T of a square matrix (batched), in float64."""
    u, _, vh = torch.linalg.svd(w.double())
    return u @ vh


class EnsembleRNN(nn.Module):
    """E Elman RNNs of one shape (``isometry.ensemble.EnsembleModel`` protocol): forward(x) -> logits (E, B, K)
    from the last hidden state. ``input_shape`` (1, T, I) (images, one row per step; sequential MNIST: (1, 28, 28))
    or (T, I). Parameters start at zero / identity: call ``reset_parameters(members, generators)``.

    recurrent: "free" | "orthogonal" | "margin" (see the module docstring); margin: m for "margin".
    init_input / init_readout: scheme names for U and V (default: the member's own scheme with layer="input" /
        "readout"; "gaussian" is the usual choice when the member's scheme is orthogonal).
    """

    def __init__(self, E: int, input_shape=(1, 28, 28), num_outputs: int = 10, *, hidden_size: int = 128,
                 nonlinearity: str = "tanh", recurrent: str = "free", margin: float = 0.1,
                 init_input: str | None = None, init_readout: str | None = None, lr_mults: dict | None = None,
                 device=None, dtype=torch.float32):
        super().__init__()
        if recurrent not in RECURRENT:
            raise ValueError(f"recurrent must be one of {RECURRENT}, got {recurrent!r}")
        if recurrent == "margin" and not 0.0 <= margin < 1.0:
            raise ValueError("margin m must lie in [0, 1)")
        self.E = E = int(E)
        self.input_shape = tuple(int(d) for d in input_shape)
        if len(self.input_shape) == 3 and self.input_shape[0] == 1:      # (1, T, I) images: one row per step
            self.seq_len, self.input_size = self.input_shape[1], self.input_shape[2]
        elif len(self.input_shape) == 2:                                 # (T, I) sequences
            self.seq_len, self.input_size = self.input_shape
        else:
            raise ValueError(f"input_shape must be (1, T, I) or (T, I), got {self.input_shape}")
        self.hidden_size = H = int(hidden_size)
        self.num_outputs = self.num_classes = int(num_outputs)
        self.nonlinearity = _check_nl(nonlinearity)
        self.phi = torch_phi(nonlinearity)
        self.recurrent, self.margin = recurrent, float(margin)
        self.init_input, self.init_readout = init_input, init_readout
        self._lr_mults = dict(lr_mults or {})
        fk = dict(device=device, dtype=dtype)
        self.input_weight = nn.Parameter(torch.zeros(E, H, self.input_size, **fk))
        self.bias = nn.Parameter(torch.zeros(E, H, **fk))
        self.readout_weight = nn.Parameter(torch.zeros(E, self.num_outputs, H, **fk))
        self.readout_bias = nn.Parameter(torch.zeros(E, self.num_outputs, **fk))
        self.register_buffer("sigma_w", torch.ones(E, **fk))
        eye = torch.eye(H, **fk).expand(E, H, H).clone()
        if recurrent == "free":
            self.weight_hh = nn.Parameter(torch.zeros(E, H, H, **fk))
        elif recurrent == "orthogonal":
            self.skew_param = nn.Parameter(torch.zeros(E, H, H, **fk))
            self.register_buffer("q0", eye)
        else:
            self.skew_u = nn.Parameter(torch.zeros(E, H, H, **fk))
            self.skew_v = nn.Parameter(torch.zeros(E, H, H, **fk))
            self.sv_param = nn.Parameter(torch.zeros(E, H, **fk))
            self.register_buffer("u0", eye)
            self.register_buffer("v0", eye.clone())

    # ---------------------------------------------------------------------------------------------------- init
    def reset_parameters(self, members: Sequence[Member], generators: Sequence[torch.Generator] | None = None
                         ) -> list[float]:
        """Initialize member i from ``generators[i]`` only (default: seeded with ``members[i].seed``); returns the
        effective sigma_w2 of the recurrent weight per member.

        Order: recurrent W (layer="hidden", the member's scheme), input U (layer="input"), readout V
        (layer="readout"), bias b ~ N(0, sigma_b2) (zero when sigma_b2 == 0); readout bias zero.
        """
        if len(members) != self.E:
            raise ValueError(f"got {len(members)} members for an ensemble of {self.E}")
        if generators is None:
            generators = [torch.Generator().manual_seed(int(m.seed)) for m in members]
        H, m_ = self.hidden_size, self.margin
        eff = []
        with torch.no_grad():
            for e, (m, g) in enumerate(zip(members, generators)):
                kw = dict(sigma_b2=m.sigma_b2, nonlinearity=self.nonlinearity, generator=g)
                w0 = torch.empty(H, H, dtype=torch.float64)
                s2 = get_initializer(m.init)(w0, sigma_w2=m.sigma_w2, layer="hidden", **kw)
                s2 = float(s2) if s2 is not None and math.isfinite(float(s2)) else float(m.sigma_w2 or 1.0)
                get_initializer(self.init_input or m.init)(self.input_weight[e], sigma_w2=m.sigma_w2,
                                                           layer="input", **kw)
                get_initializer(self.init_readout or m.init)(self.readout_weight[e], sigma_w2=m.sigma_w2,
                                                             layer="readout", **kw)
                if m.sigma_b2 > 0:
                    self.bias[e].copy_(torch.randn(H, generator=g, dtype=torch.float64) * math.sqrt(m.sigma_b2))
                else:
                    self.bias[e].zero_()
                self.readout_bias[e].zero_()
                gain = math.sqrt(s2)
                self.sigma_w[e] = gain
                if self.recurrent == "free":
                    self.weight_hh[e].copy_(w0)
                elif self.recurrent == "orthogonal":
                    self.q0[e].copy_(_polar(w0))
                    self.skew_param[e].zero_()
                else:
                    u, s, vh = torch.linalg.svd(w0 / gain)
                    # s = 1 + m (2 sigmoid(p) - 1)  =>  p = logit((s - 1) / (2m) + 1/2), clipped inside the margin
                    if m_ > 0:
                        r = ((s - 1.0) / (2.0 * m_) + 0.5).clamp(1e-4, 1.0 - 1e-4)
                        p = torch.log(r) - torch.log1p(-r)
                    else:
                        p = torch.zeros_like(s)
                    self.u0[e].copy_(u)
                    self.v0[e].copy_(vh.transpose(0, 1))
                    self.sv_param[e].copy_(p)
                    self.skew_u[e].zero_()
                    self.skew_v[e].zero_()
                eff.append(s2)
        return eff

    # ------------------------------------------------------------------------------------------------- weights
    def singular_values(self) -> torch.Tensor:
        """"margin" only: the (E, H) singular values of W / sigma_w, 1 + m (2 sigmoid(p) - 1)."""
        return 1.0 + self.margin * (2.0 * torch.sigmoid(self.sv_param) - 1.0)

    @property
    def recurrent_weight(self) -> torch.Tensor:
        """The effective recurrent weight W (E, H, H) (differentiable w.r.t. the underlying parameters)."""
        if self.recurrent == "free":
            return self.weight_hh
        g = self.sigma_w.view(-1, 1, 1)
        if self.recurrent == "orthogonal":
            return g * torch.bmm(self.q0, torch.linalg.matrix_exp(skew(self.skew_param)))
        U = torch.bmm(self.u0, torch.linalg.matrix_exp(skew(self.skew_u)))
        V = torch.bmm(self.v0, torch.linalg.matrix_exp(skew(self.skew_v)))
        return g * torch.bmm(U * self.singular_values().unsqueeze(1), V.transpose(1, 2))

    def layer_weights(self) -> list[torch.Tensor]:
        """[input U (E, H, I), recurrent W (E, H, H) (effective, differentiable), readout V (E, K, H)]."""
        return [self.input_weight, self.recurrent_weight, self.readout_weight]

    def lr_multipliers(self) -> dict:
        return dict(self._lr_mults)

    def describe(self) -> dict:
        return {"nonlinearity": self.nonlinearity, "depth": self.seq_len, "width": self.hidden_size}

    # ------------------------------------------------------------------------------------------------- forward
    def _sequence(self, x: torch.Tensor) -> torch.Tensor:
        """(B, *input_shape) shared -> (1, B, T, I); (E, B, *input_shape) per member -> (E, B, T, I)."""
        shared, x = split_batch(x, self.input_shape)
        if shared:
            return x.reshape(1, x.shape[0], self.seq_len, self.input_size)
        if x.shape[0] != self.E:
            raise ValueError(f"input has {x.shape[0]} members, model has {self.E}")
        return x.reshape(self.E, x.shape[1], self.seq_len, self.input_size)

    def forward(self, x: torch.Tensor, return_states: bool = False):
        """Logits (E, B, K) from the last hidden state; with ``return_states`` also all states (E, B, T, H)."""
        x = self._sequence(x)
        E, B, T = self.E, x.shape[1], x.shape[2]
        W = self.recurrent_weight
        # input drive for all steps at once: (E, B*T, I) @ (E, I, H) + b
        xin = x.expand(E, *x.shape[1:]).reshape(E, B * T, self.input_size)
        drive = torch.baddbmm(self.bias.unsqueeze(1), xin, self.input_weight.transpose(1, 2)).view(E, B, T, -1)
        Wt = W.transpose(1, 2)
        h = self.phi(drive[:, :, 0])
        states = [h]
        for t in range(1, T):
            h = self.phi(torch.baddbmm(drive[:, :, t], h, Wt))
            states.append(h)
        logits = torch.baddbmm(self.readout_bias.unsqueeze(1), h, self.readout_weight.transpose(1, 2))
        if return_states:
            return logits, torch.stack(states, dim=2)
        return logits
