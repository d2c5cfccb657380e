"""Batch gradient descent on deep linear networks through the data's correlation matrices (Saxe et al. 2014).

SMG eq. (13) with the squared error E = 1/2 sum_mu |y^mu - W_tot x^mu|^2 summed over the P training examples:

    dE/dW_l = -(W_L ... W_{l+1})^T [Sigma31 - W_tot Sigma11] (W_{l-1} ... W_1)^T,   W_tot = W_L ... W_1,

with Sigma11 = sum_mu x x^T, Sigma31 = sum_mu y x^T. Supp. C: "Instead of forward propagating all 50,000 training
examples, we precompute Sigma31 and forward propagate only it". This module does the same: one step costs
O(L n^2 K) for K outputs (K = 10 for MNIST), whatever P, and is exactly full-batch gradient descent on all P
examples (``tests/test_saxe2014.py`` compares it with autograd on the examples).

Implementation: inputs are expressed in the eigenbasis Q of Sigma11 (Sigma11 = Q diag(lam) Q^T; directions with zero
variance are dropped: they carry no gradient and do not change the loss), so the first layer is W_1 Q. One step:
a backward chain A_l = W_L ... W_{l+1} (K x n_l), the error G = Sigma31 Q - W_tot diag(lam), then a forward chain
H_l = W_{l-1} ... W_1 G^T (n_{l-1} x K) that updates W_l += lr A_l^T H_l^T on the way (rank-K updates).
Members of an ensemble (different learning rates, same shapes) are trained together with batched matmuls.

Initial conditions (all drawn in the pixel basis, then rotated by Q):

* ``glorot``      U(-a, a), a = sqrt(6/(fan_in + fan_out)): "scaled i.i.d. uniform weights ... [13]" (Fig. 6A blue)
* ``orthogonal``  Haar (semi-)orthogonal, gain 1 (Fig. 6A red)
* ``gaussian``    i.i.d. N(0, std^2): "small random initial conditions ... standard deviation 0.01" (Fig. 5)
* ``decoupled``   W_l = R_{l+1} D_l R_l^T, D_l = a I (rectangular), R_1 = V (right singular vectors of Sigma31),
                  R_L+1 = U, hidden R_l Haar (QR of Gaussian matrices); a = u0^(1/L) so that every mode starts at
                  composite strength u0 (section 2, Fig. 4, Supp. C)
* ``pretrained``  greedy layer-wise linear auto-encoders (section 3, Supp. F), see :func:`pretrain_stack`; the
                  readout is Haar semi-orthogonal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

INITS = ("glorot", "orthogonal", "gaussian", "decoupled", "pretrained")


# --------------------------------------------------------------------------------------------------- the data
@dataclass
class Correlations:
    """Second-order statistics of a training set (sums over its P examples, SMG eq. 2)."""

    lam: torch.Tensor          # (d,) eigenvalues of Sigma11, descending (zero-variance directions dropped)
    Q: torch.Tensor            # (n_in, d) the matching eigenvectors
    s31: torch.Tensor          # (K, n_in) Sigma31
    s33: float                 # sum_mu |y^mu|^2
    n_examples: int
    label: str                 # e.g. "mnist (official), first 50000 training images, raw pixels / 255"

    @property
    def s31q(self) -> torch.Tensor:
        return self.s31 @ self.Q

    @property
    def n_in(self) -> int:
        return int(self.Q.shape[0])

    @property
    def n_out(self) -> int:
        return int(self.s31.shape[0])

    def loss_opt(self) -> float:
        """Least-squares floor of E for a bias-free linear map: 1/2 (s33 - sum_j |Sigma31 q_j|^2 / lam_j)."""
        return 0.5 * (self.s33 - float(((self.s31q ** 2).sum(0) / self.lam).sum()))

    def loss_zero(self) -> float:
        """E of the zero map: 1/2 sum |y|^2."""
        return 0.5 * self.s33


def correlations(x: torch.Tensor, y: torch.Tensor, label: str, rel_cut: float = 1e-9) -> Correlations:
    """Correlations of inputs ``x`` (P, n_in) and targets ``y`` (P, K), in float64."""
    x, y = x.double(), y.double()
    s11 = x.T @ x
    lam, q = torch.linalg.eigh(s11)
    lam, q = lam.flip(0), q.flip(1)
    keep = lam > rel_cut * lam[0]
    return Correlations(lam[keep].contiguous(), q[:, keep].contiguous(), y.T @ x, float((y * y).sum()),
                        int(x.shape[0]), label)


def mnist_correlations(name: str, data_dir, n_examples: int) -> Correlations:
    """The first ``n_examples`` training images as raw pixels / 255 (784-dim, not centred, not whitened) and one-hot
    targets: Supp. C's "784-dimensional input example ... 10-dimensional output vector containing a 1 in the index
    for the correct class, and zeros elsewhere ... on the 50,000 sample MNIST training dataset"."""
    from isometry.data import load_dataset

    ds = load_dataset(name, data_dir)
    n = int(n_examples)
    if n > len(ds.train_y):
        raise ValueError(f"n_examples = {n} exceeds the {len(ds.train_y)} training images of {ds.label}")
    x = ds.train_x[:n].double().flatten(1) / 255.0
    y = torch.nn.functional.one_hot(ds.train_y[:n], ds.num_classes).double()
    return correlations(x, y, f"{ds.label}, first {n} training images, raw pixels / 255")


# ------------------------------------------------------------------------------------------------ initial weights
def layer_dims(n_in: int, width: int, n_out: int, weight_layers: int) -> list[int]:
    """Unit counts of a net with ``weight_layers`` = N_l - 1 weight matrices and hidden layers of ``width``."""
    if weight_layers < 1:
        raise ValueError("a network needs at least one weight matrix (N_l >= 2)")
    return [n_in] + [width] * (weight_layers - 1) + [n_out]


def _haar(E: int, o: int, i: int, g: torch.Generator) -> torch.Tensor:
    from isometry.init._core import haar

    return haar(torch.randn(E, o, i, generator=g, dtype=torch.float64))


def initial_weights(kind: str, corr: Correlations, width: int, weight_layers: int, E: int, g: torch.Generator, *,
                    u0: float = 1e-3, std: float = 0.01, stack: list[torch.Tensor] | None = None
                    ) -> list[torch.Tensor]:
    """``E`` identical-shape copies of one initial network, float64, the first layer in the eigenbasis of Sigma11.

    All members of an ensemble share ONE draw (they differ only in their learning rate), so that the learning-rate
    search compares rates on the same network, as in the paper's per-depth search."""
    from isometry.init import orthogonal_, xavier_uniform_

    dims = layer_dims(corr.n_in, width, corr.n_out, weight_layers)
    L = weight_layers
    ws: list[torch.Tensor] = []
    if kind == "decoupled":
        a = float(u0) ** (1.0 / L)
        u, _, vt = torch.linalg.svd(corr.s31, full_matrices=True)     # R_1 = V (n_in x n_in), R_{L+1} = U (K x K)
        r_in = vt.T
        for l in range(L):
            o, i = dims[l + 1], dims[l]
            r_out = u if l == L - 1 else _haar(1, o, o, g)[0]
            d = torch.zeros(o, i, dtype=torch.float64)
            k = min(o, i)
            d[range(k), range(k)] = a
            ws.append(r_out @ d @ r_in.T)
            r_in = r_out
    else:
        for l in range(L):
            o, i = dims[l + 1], dims[l]
            w = torch.empty(o, i, dtype=torch.float64)
            if kind == "glorot":
                xavier_uniform_(w, generator=g)
            elif kind == "orthogonal" or (kind == "pretrained" and l == L - 1):
                orthogonal_(w, 1.0, generator=g)
            elif kind == "gaussian":
                w = torch.randn(o, i, generator=g, dtype=torch.float64) * float(std)
            elif kind == "pretrained":
                if stack is None or len(stack) < L - 1:
                    raise ValueError(f"pretrained init of {L} weight matrices needs a stack of >= {L - 1} layers")
                w = stack[l].double().clone()
                if w.shape != (o, i):
                    raise ValueError(f"pretrained layer {l} has shape {tuple(w.shape)}, expected {(o, i)}")
            else:
                raise ValueError(f"unknown init {kind!r}; known: {', '.join(INITS)}")
            ws.append(w)
    ws[0] = ws[0] @ corr.Q
    return [w.unsqueeze(0).expand(E, -1, -1).clone() for w in ws]


# ------------------------------------------------------------------------------------------------- pre-training
def pretrain_stack(corr: Correlations, width: int, n_layers: int, *, steps: int, lr_scale: float, init_std: float,
                   rank: int, generator: torch.Generator, dtype=torch.float32):
    """Greedy layer-wise pre-training with linear auto-encoders (SMG section 3; Supp. F: "each layer was trained to
    reconstruct the output of the next lower layer").

    Layer l (encoder W_l: n_{l-1} -> width, decoder D_l: width -> n_{l-1}, both i.i.d. N(0, init_std^2)) is trained
    by ``steps`` iterations of batch gradient descent on the reconstruction error 1/2 sum_mu |h^mu - D_l W_l h^mu|^2
    of the previous layer's outputs h = W_{l-1} ... W_1 x (x = the raw inputs), written with a square-root factor X of
    Sigma_hh = X X^T; the learning rate is ``lr_scale`` / lambda_max(Sigma_hh). The data are the input's top ``rank``
    principal directions (X = W_{l-1}...W_1 Q_r diag(sqrt(lam_r))), the rest of the input variance is left out of
    pre-training (it is not learnt in ``steps`` iterations at this learning rate anyway). Returns (encoders in the
    pixel basis, per-layer relative reconstruction error, iterations per layer).
    """
    r = min(int(rank), int(corr.lam.numel()))
    X = (corr.Q[:, :r] * corr.lam[:r].sqrt()).double()           # (n_in, r), pixel basis
    out, errs = [], []
    for _ in range(int(n_layers)):
        i = X.shape[0]
        W = (torch.randn(width, i, generator=generator, dtype=torch.float64) * init_std).to(dtype)
        D = (torch.randn(i, width, generator=generator, dtype=torch.float64) * init_std).to(dtype)
        Xd = X.to(dtype)
        lr = float(lr_scale) / float(torch.linalg.svdvals(X)[0] ** 2)
        for _ in range(int(steps)):
            WX = W @ Xd
            R = Xd - D @ WX                                     # residual (I - D W) X
            gD = R @ WX.T                                       # -dE/dD
            gW = D.T @ R @ Xd.T                                 # -dE/dW
            D += lr * gD
            W += lr * gW
        W = W.double()
        D = D.double()
        errs.append(float(((X - D @ (W @ X)) ** 2).sum() / (X ** 2).sum()))
        out.append(W)
        X = W @ X
    return out, errs, int(steps)


# ---------------------------------------------------------------------------------------------------- training
@dataclass
class Result:
    t_hit: np.ndarray          # (E,) first (linearly interpolated) iteration with E <= threshold; inf if never
    diverged: np.ndarray       # (E,) bool
    final_loss: np.ndarray     # (E,) loss at the last evaluated iteration (NaN if diverged)
    steps_run: int             # iterations performed
    curve: np.ndarray | None   # (steps_run + 1, E) losses (NaN after divergence) when ``record``


def train(weights: list[torch.Tensor], corr: Correlations, lrs, *, steps: int, threshold: float,
          stop: str = "first", record: bool = False, dtype=torch.float32, blowup: float = 1e4) -> Result:
    """Batch gradient descent (SMG eq. 1/13) of an ensemble: ``weights`` = list of (E, n_out, n_in) tensors (the
    first layer in the eigenbasis of Sigma11), ``lrs`` one learning rate per member.

    ``stop``: ``first`` ends when any member reaches E <= ``threshold`` (the learning-rate search: no later
    crossing can be faster), ``all`` when every member has reached it or diverged, ``none`` after ``steps``.
    A member diverges when its loss is not finite or exceeds ``blowup`` x max(initial loss, loss of the zero map);
    diverged members are dropped from the ensemble (the others go on)."""
    if stop not in ("first", "all", "none"):
        raise ValueError(f"stop must be first | all | none, not {stop!r}")
    Ws = [w.to(dtype).contiguous() for w in weights]
    E, L = Ws[0].shape[0], len(Ws)
    lam = corr.lam.to(dtype)
    s31q = corr.s31q.to(dtype)
    lam64, s31q64 = corr.lam, corr.s31q
    lr = torch.as_tensor(np.asarray(lrs, float), dtype=dtype).view(E, 1, 1)
    idx = torch.arange(E)
    t_hit = np.full(E, math.inf)
    diverged = np.zeros(E, bool)
    final = np.full(E, math.nan)
    prev = np.full(E, math.nan)
    limit = None
    curve = []
    t = 0
    while True:
        # backward chain A_l = W_L ... W_{l+1}; W_tot = A_0
        A: list[torch.Tensor | None] = [None] * L
        cur = Ws[L - 1]
        for l in range(L - 2, -1, -1):
            A[l] = cur
            cur = torch.bmm(cur, Ws[l])
        wt = cur.double()
        loss_t = 0.5 * ((wt * wt * lam64).sum((1, 2)) - 2.0 * (wt * s31q64).sum((1, 2)) + corr.s33)
        loss = loss_t.numpy()
        if limit is None:
            limit = blowup * max(float(np.nanmax(np.where(np.isfinite(loss), loss, -np.inf))), corr.loss_zero())
        members = idx.numpy()
        if record:
            row = np.full(E, math.nan)
            row[members] = loss
            curve.append(row)
        bad = ~np.isfinite(loss) | (loss > limit)
        diverged[members[bad]] = True
        final[members] = np.where(bad, math.nan, loss)
        hit = ~bad & (loss <= threshold) & ~np.isfinite(t_hit[members])
        if hit.any():
            p = prev[members[hit]]
            frac = np.where(np.isfinite(p) & (p > loss[hit]), (p - threshold) / (p - loss[hit]), 1.0)
            t_hit[members[hit]] = t - 1 + frac if t > 0 else 0.0
        prev[members] = loss
        alive = ~bad
        done = (stop == "first" and np.isfinite(t_hit).any()) or t >= steps or not alive.any() or (
            stop == "all" and np.isfinite(t_hit[members[alive]]).all())
        if done:
            break
        if not alive.all():
            keep = torch.as_tensor(alive)
            Ws = [w[keep].contiguous() for w in Ws]
            A = [a[keep] if a is not None else None for a in A]
            cur = cur[keep]
            lr = lr[keep]
            idx = idx[keep]
        G = s31q - cur * lam                                   # (E, K, d): Sigma31 - W_tot Sigma11 (eigenbasis)
        H = G.transpose(1, 2)                                  # (E, d, K)
        for l in range(L):
            Hn = torch.bmm(Ws[l], H) if l < L - 1 else None     # with the old W_l
            if l < L - 1:
                Ws[l].baddbmm_(A[l].transpose(1, 2) * lr, H.transpose(1, 2))
            else:
                Ws[l].add_(H.transpose(1, 2) * lr)
            H = Hn
        t += 1
    return Result(t_hit, diverged, final, t, np.array(curve) if record else None)


def lr_grid(spec) -> list[float]:
    """Log-spaced learning rates ``{min, max, num}`` (or an explicit list)."""
    if isinstance(spec, (list, tuple)):
        return [float(v) for v in spec]
    return [float(v) for v in np.geomspace(float(spec["min"]), float(spec["max"]), int(spec["num"]))]


def step_flops(width: int, n_in: int, n_out: int, weight_layers: int) -> float:
    """FLOPs of one iteration of one member: three rank-K passes over every weight (2 FLOPs per multiply-add)."""
    weights = n_in * width + max(weight_layers - 2, 0) * width * width + width * n_out
    return 6.0 * n_out * weights if weight_layers > 1 else 6.0 * n_out * n_in * n_out
