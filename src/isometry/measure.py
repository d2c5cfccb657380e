"""Empirical counterparts of the theory, measured on real random networks (torch; no training engine needed).

Network convention (PSG, SGGS): for l = 1..L

    h^l = W^l x^{l-1} + b^l,    x^l = phi(h^l),

weights ``Ws[l-1]`` of shape (N_out, N_in) and biases ``bs[l-1]`` of shape (N_out,). The input-output Jacobian is
J = dx^L/dx^0 = D^L W^L ... D^1 W^1 with D^l = diag(phi'(h^l)); "lambda" always means a squared singular value of J
(an eigenvalue of J J^T), the variable of ``isometry.theory.spectra``.

Starting input. The theory assumes every layer sits at the fixed point q*: h^l ~ N(0, q*). ``input_at_fixed_point``
draws h^0 ~ N(0, q* I_N) and returns x^0 = phi(h^0); then h^1 = W^1 x^0 + b^1 has variance
sigma_w^2 E[phi(h)^2] + sigma_b^2 = q* whenever q* is the fixed point of (sigma_w^2, sigma_b^2) (PSG's
"h^0 ~ N(0, q*)" protocol, papers.md section 9). For linear networks x^0 = h^0.

CNNs: kernels (C_out, C_in, k, k), stride 1, circular padding ("same" size), biases (C_out,), inputs (C, H, W).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from isometry.nonlinearities import check as _check_nl
from isometry.nonlinearities import torch_dphi, torch_phi

Tensor = torch.Tensor


# ---------------------------------------------------------------------------------------------------------------
# random networks


def haar_orthogonal(n: int, *, generator: torch.Generator | None = None, dtype=torch.float64) -> Tensor:
    """Haar-distributed n x n orthogonal matrix: QR of a Gaussian matrix with the sign fix Q <- Q diag(sign(R_ii))."""
    a = torch.randn(n, n, generator=generator, dtype=torch.float64)
    q, r = torch.linalg.qr(a)
    s = torch.sign(torch.diagonal(r))
    s[s == 0] = 1.0
    return (q * s).to(dtype)


def random_mlp(depth: int, width: int, nonlinearity: str = "linear", weights: str = "gaussian",
               sigma_w2: float = 1.0, sigma_b2: float = 0.0, generator: torch.Generator | None = None,
               dtype=torch.float64) -> tuple[list[Tensor], list[Tensor]]:
    """Random square MLP: W_ij ~ N(0, sigma_w2/N) ("gaussian") or W = sigma_w * Haar orthogonal ("orthogonal");
    b_i ~ N(0, sigma_b2). ``nonlinearity`` is only validated (the weights do not depend on it).

    Returns (Ws, bs), lists of length ``depth``. All draws come from ``generator`` in the order W^1, b^1, W^2, ...
    """
    _check_nl(nonlinearity)
    if weights not in ("gaussian", "orthogonal"):
        raise ValueError(f"weights must be 'gaussian' or 'orthogonal', got {weights!r}")
    sw = math.sqrt(sigma_w2)
    sb = math.sqrt(sigma_b2)
    Ws, bs = [], []
    for _ in range(depth):
        if weights == "gaussian":
            w = torch.randn(width, width, generator=generator, dtype=torch.float64) * (sw / math.sqrt(width))
        else:
            w = sw * haar_orthogonal(width, generator=generator)
        b = torch.randn(width, generator=generator, dtype=torch.float64) * sb
        Ws.append(w.to(dtype))
        bs.append(b.to(dtype))
    return Ws, bs


def input_at_fixed_point(nonlinearity: str, width: int, q_star: float, *, generator: torch.Generator | None = None,
                         dtype=torch.float64, channels: int | None = None, image: int | None = None) -> Tensor:
    """x^0 = phi(h^0), h^0 ~ N(0, q*) i.i.d.: first-layer pre-activations then have variance q* at the fixed point.

    Shape (width,), or (channels, image, image) when ``channels`` and ``image`` are given (``width`` ignored).
    """
    shape = (channels, image, image) if channels is not None else (width,)
    h = torch.randn(*shape, generator=generator, dtype=torch.float64) * math.sqrt(q_star)
    return torch_phi(nonlinearity)(h).to(dtype)


# ---------------------------------------------------------------------------------------------------------------
# MLP Jacobians


def mlp_forward(Ws: Sequence[Tensor], bs: Sequence[Tensor], nonlinearity: str, x0: Tensor) -> Tensor:
    f = torch_phi(nonlinearity)
    x = x0
    for w, b in zip(Ws, bs):
        x = f(x @ w.T + b)
    return x


def mlp_preactivations(Ws, bs, nonlinearity: str, x0: Tensor) -> list[Tensor]:
    """[h^1, ..., h^L] for input x0 (shape (N,) or (B, N))."""
    f = torch_phi(nonlinearity)
    hs = []
    x = x0
    for w, b in zip(Ws, bs):
        h = x @ w.T + b
        hs.append(h)
        x = f(h)
    return hs


def mlp_jacobian(Ws: Sequence[Tensor], bs: Sequence[Tensor], nonlinearity: str, x0: Tensor) -> Tensor:
    """Exact J = dx^L/dx^0 = D^L W^L ... D^1 W^1 (N_L x N_0), by explicit products."""
    df = torch_dphi(nonlinearity)
    hs = mlp_preactivations(Ws, bs, nonlinearity, x0)
    J = None
    for w, h in zip(Ws, hs):
        J = w if J is None else w @ J
        J = df(h)[:, None] * J
    return J


def jacobian_singular_values(Ws: Sequence[Tensor], bs: Sequence[Tensor], nonlinearity: str, x0: Tensor) -> np.ndarray:
    """Squared singular values lambda of J (ascending, float64 NumPy), from an SVD of the exact Jacobian."""
    J = mlp_jacobian(Ws, bs, nonlinearity, x0)
    s = torch.linalg.svdvals(J.to(torch.float64))
    return np.sort(s.cpu().numpy() ** 2)


def _power_iteration(f: Callable[[Tensor], Tensor], x0: Tensor, *, n_iter: int = 200, tol: float = 1e-10,
                     generator: torch.Generator | None = None) -> float:
    """Largest singular value of the Jacobian of f at x0 by power iteration on J^T J (jvp + vjp, no matrix)."""
    # torch.func.linearize returned NaN for circularly padded convolutions (torch 2.x); plain jvp is robust
    def jvp_fn(v):
        return torch.func.jvp(f, (x0,), (v,))[1]

    _, vjp_fn = torch.func.vjp(f, x0)
    v = torch.randn(x0.shape, generator=generator, dtype=torch.float64).to(dtype=x0.dtype, device=x0.device)
    v = v / v.norm()
    s_old = 0.0
    s = 0.0
    for _ in range(n_iter):
        u = jvp_fn(v)
        (g,) = vjp_fn(u)
        nrm = g.norm()
        s = math.sqrt(float(nrm))  # ||J^T J v|| -> s_max^2 as v converges
        if nrm == 0:
            return 0.0
        v = g / nrm
        if abs(s - s_old) <= tol * s:
            break
        s_old = s
    return s


def top_singular_value(Ws: Sequence[Tensor], bs: Sequence[Tensor], nonlinearity: str, x0: Tensor, *,
                       n_iter: int = 200, tol: float = 1e-10, generator: torch.Generator | None = None) -> float:
    """Largest singular value s_max of J (not squared) by power iteration with autograd jvp/vjp."""
    return _power_iteration(lambda x: mlp_forward(Ws, bs, nonlinearity, x), x0, n_iter=n_iter, tol=tol,
                            generator=generator)


# ---------------------------------------------------------------------------------------------------------------
# CNN Jacobians (circular padding, stride 1)


def random_cnn(depth: int, channels: int, kernel_size: int = 3, weights: str = "gaussian", sigma_w2: float = 1.0,
               sigma_b2: float = 0.0, generator: torch.Generator | None = None,
               dtype=torch.float64) -> tuple[list[Tensor], list[Tensor]]:
    """Random CNN: "gaussian" K ~ N(0, sigma_w2 / (C k^2)); "delta_orthogonal": zero kernel with sigma_w * Haar
    orthogonal at the spatial centre (Xiao et al. 2018, algorithm 2 with a plain orthogonal H)."""
    k = kernel_size
    sw, sb = math.sqrt(sigma_w2), math.sqrt(sigma_b2)
    Ks, bs = [], []
    for _ in range(depth):
        if weights == "gaussian":
            K = torch.randn(channels, channels, k, k, generator=generator, dtype=torch.float64)
            K = K * (sw / math.sqrt(channels * k * k))
        elif weights == "delta_orthogonal":
            K = torch.zeros(channels, channels, k, k, dtype=torch.float64)
            K[:, :, k // 2, k // 2] = sw * haar_orthogonal(channels, generator=generator)
        else:
            raise ValueError(f"weights must be 'gaussian' or 'delta_orthogonal', got {weights!r}")
        b = torch.randn(channels, generator=generator, dtype=torch.float64) * sb
        Ks.append(K.to(dtype))
        bs.append(b.to(dtype))
    return Ks, bs


def cnn_forward(kernels: Sequence[Tensor], biases: Sequence[Tensor], nonlinearity: str, x0: Tensor,
                padding: str = "circular") -> Tensor:
    """x^L for an input (C, H, W) or (B, C, H, W); odd kernels, stride 1, 'same' output size."""
    f = torch_phi(nonlinearity)
    single = x0.ndim == 3
    x = x0[None] if single else x0
    for K, b in zip(kernels, biases):
        kh, kw = K.shape[-2:]
        ph, pw = kh // 2, kw // 2
        if padding == "circular":
            xp = F.pad(x, (pw, pw, ph, ph), mode="circular")
            h = F.conv2d(xp, K, b)
        elif padding == "zeros":
            h = F.conv2d(x, K, b, padding=(ph, pw))
        else:
            raise ValueError(f"padding must be 'circular' or 'zeros', got {padding!r}")
        x = f(h)
    return x[0] if single else x


def cnn_jacobian(kernels, biases, nonlinearity: str, x0: Tensor, padding: str = "circular") -> Tensor:
    """Exact Jacobian of the flattened output w.r.t. the flattened input, (C H W) x (C H W), by torch.func.jacfwd."""
    n = x0.numel()

    def g(x):
        return cnn_forward(kernels, biases, nonlinearity, x.reshape(x0.shape), padding).reshape(-1)

    return torch.func.jacfwd(g)(x0.reshape(-1)).reshape(-1, n)


def cnn_jacobian_singular_values(kernels, biases, nonlinearity: str, x0: Tensor,
                                 padding: str = "circular") -> np.ndarray:
    """Squared singular values lambda of the exact CNN Jacobian (ascending), for small images/channels."""
    J = cnn_jacobian(kernels, biases, nonlinearity, x0, padding)
    s = torch.linalg.svdvals(J.to(torch.float64))
    return np.sort(s.cpu().numpy() ** 2)


def cnn_top_singular_value(kernels, biases, nonlinearity: str, x0: Tensor, padding: str = "circular", *,
                           n_iter: int = 200, tol: float = 1e-10, generator: torch.Generator | None = None) -> float:
    """Largest singular value s_max (not squared) of the CNN Jacobian by power iteration (jvp/vjp)."""
    return _power_iteration(lambda x: cnn_forward(kernels, biases, nonlinearity, x, padding), x0, n_iter=n_iter,
                            tol=tol, generator=generator)


# ---------------------------------------------------------------------------------------------------------------
# signal propagation and gradients


def forward_signal(Ws: Sequence[Tensor], bs: Sequence[Tensor], nonlinearity: str, x_a: Tensor,
                   x_b: Tensor | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-layer length q^l = mean_i (h_i^l)^2 of input a's pre-activations (l = 1..L, shape (L,)), and, if x_b
    is given, the correlation c^l = (h_a^l . h_b^l) / sqrt(|h_a^l|^2 |h_b^l|^2) (SGGS eq. for the c map); else None.

    Empirical counterpart of ``meanfield``'s q and c maps (PSG/SGGS section 1 of papers.md).
    """
    ha = mlp_preactivations(Ws, bs, nonlinearity, x_a)
    q = np.array([float((h * h).mean()) for h in ha])
    if x_b is None:
        return q, None
    hb = mlp_preactivations(Ws, bs, nonlinearity, x_b)
    c = np.array([float((a * b).sum() / torch.sqrt((a * a).sum() * (b * b).sum())) for a, b in zip(ha, hb)])
    return q, c


def backward_log_grad_norms(Ws: Sequence[Tensor], bs: Sequence[Tensor], nonlinearity: str, x0: Tensor,
                            generator: torch.Generator | None = None) -> np.ndarray:
    """ln |delta^l|^2 for l = 1..L (shape (L,)), delta^l = d(u . x^L)/dh^l with u a random unit vector.

    delta^L = D^L u, delta^l = D^l (W^{l+1})^T delta^{l+1}: the backward pass of a random output error (SA's
    random walk; the mean-field slope per layer is chi_1). ln|delta^L|^2 is the first step's value.
    """
    df = torch_dphi(nonlinearity)
    hs = mlp_preactivations(Ws, bs, nonlinearity, x0)
    n_out = Ws[-1].shape[0]
    u = torch.randn(n_out, generator=generator, dtype=torch.float64).to(hs[-1].dtype)
    u = u / u.norm()
    out = np.empty(len(Ws))
    delta = df(hs[-1]) * u
    out[-1] = math.log(float((delta * delta).sum()))
    for l in range(len(Ws) - 2, -1, -1):
        delta = df(hs[l]) * (delta @ Ws[l + 1])
        out[l] = math.log(float((delta * delta).sum())) if float((delta * delta).sum()) > 0 else -math.inf
    return out
