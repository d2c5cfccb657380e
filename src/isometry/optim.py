"""Batched optimizers over stacked ensemble parameters: SGD, momentum, RMSProp, Adam (PyTorch semantics).

Every parameter has the ensemble dimension E first.

Memory layout. ``BatchedOptimizer`` copies all parameters into ONE flat fp32 buffer ``flat`` and re-points each
parameter (``p.data``) at a view of it; parameter i is a contiguous (E, n_i) block (parameter-major), so every
parameter stays an ordinary dense tensor, autograd's fresh gradient is used where it lands (``p.grad``: no gather,
no copy), and the optimizer state (momentum, Adam moments) has the same layout. Consequences: create the optimizer
AFTER moving the model to its device, and change parameters only in place afterwards
(``with torch.no_grad(): p.copy_(...)``).

The update is PyTorch's own fused kernel (``torch._fused_sgd_`` / ``torch._fused_adam_``: one pass reads the gradient,
state and parameter and writes state and parameter), applied

* to all members at once when they share every hyper-parameter and none is frozen (one call per group of
  parameters with the same lr multiplier), or
* one member at a time otherwise (E calls over that member's rows, its own lr / momentum / betas / eps as
  arguments; a frozen member is skipped on the device through the kernel's ``found_inf`` flag, so there is no host
  sync; gradient clipping is the kernel's ``grad_scale``).

RMSProp has no fused kernel in PyTorch; it runs as a few element-wise kernels per parameter with per-member (E, 1)
columns. Update rules (t = step count, g = gradient, identical to ``torch.optim`` with default dampening/nesterov/
centered/amsgrad/maximize/weight_decay off, up to float rounding: the equivalence tests ask for 1e-5):

* ``sgd``       p -= lr * g
* ``momentum``  b = mu * b + g;  p -= lr * b                          (torch.optim.SGD(momentum=mu))
* ``rmsprop``   v = a * v + (1 - a) g^2;  p -= lr * g / (sqrt(v) + eps)   (torch.optim.RMSprop(alpha=a);
                with ``rms_momentum`` mu > 0: b = mu * b + g / (sqrt(v) + eps); p -= lr * b)
* ``adam``      m = lerp(m, g, 1 - b1); v = b2 v + (1 - b2) g^2;
                p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)

``freeze(mask)`` stops members for good: their parameters and state are no longer touched (NaN-free members are
never affected by a frozen one: members do not interact). ``grad_clip`` clips each member's gradient to that global
L2 norm (over all its parameters), like ``torch.nn.utils.clip_grad_norm_`` applied to each member separately (and,
like it, scales ``p.grad`` in place). ``lr_multipliers`` scales the learning rate of individual parameters (float or
per-member (E,) tensor), like per-layer param groups in torch.optim. A parameter whose ``grad`` is None is updated
as if its gradient were zero.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import torch
from torch import Tensor

from isometry.spec import OPTIMIZERS, Member

# Older layouts kept parameters as strided views; harmless if a user's model still triggers it.
warnings.filterwarnings("ignore", message=".*gradient layout contract.*")

_HP = ("momentum", "alpha", "beta1", "beta2", "eps", "rms_momentum")


class BatchedOptimizer:
    def __init__(self, params: Sequence[Tensor], kind: str, lr, *, momentum=0.9, alpha=0.99, beta1=0.9,
                 beta2=0.999, eps=1e-8, rms_momentum=0.0, lr_multipliers: dict | None = None,
                 grad_clip=None):
        if kind not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {kind!r}; known: {', '.join(OPTIMIZERS)}")
        self.params = [p for p in params]
        if not self.params:
            raise ValueError("no parameters")
        self.kind = kind
        p0 = self.params[0]
        self.E, self.device = p0.shape[0], p0.device
        E = self.E
        if any(p.shape[0] != E for p in self.params):
            raise ValueError("every parameter must have the ensemble size E as dim 0")

        # -- one flat fp32 buffer, parameter-major: parameter i is the contiguous (E, n_i) block [E*a_i, E*b_i) --
        self.sizes = [p[0].numel() for p in self.params]
        with torch.no_grad():
            self.flat = torch.cat([p.detach().reshape(-1).float() for p in self.params]).contiguous()
        self.blocks, off = [], 0
        for p, n in zip(self.params, self.sizes):
            p.data = self.flat[off:off + E * n].view(p.shape)
            p.grad = None
            self.blocks.append(slice(off, off + E * n))
            off += E * n

        # -- per-member hyper-parameters: host floats per member (fused kernels) and (E, 1) columns (RMSProp) --
        self.lr = self._column(lr)                       # (E, 1) on the device
        self._lr_list = self._floats(lr)                 # the same on the host (no device sync in step)
        for name, v in zip(_HP, (momentum, alpha, beta1, beta2, eps, rms_momentum)):
            vals = self._floats(v)
            setattr(self, f"_{name}_list", vals)
            setattr(self, name, vals[0] if len(set(vals)) == 1 else self._column(vals))
        self.grad_clip = None if grad_clip is None else self._coef(grad_clip)
        self.active = torch.ones(E, 1, dtype=torch.bool, device=self.device)
        self._any_frozen = False
        self.t = 0
        self._step_t = torch.zeros((), dtype=torch.float32, device=self.device)   # Adam's step, for the kernel

        # -- per-parameter learning-rate multipliers: a float or an (E,) tensor per parameter -------------------
        self.mult: list = [1.0] * len(self.params)
        if lr_multipliers:
            index = {id(p): i for i, p in enumerate(self.params)}
            for key, v in lr_multipliers.items():
                i = key if isinstance(key, int) else index[id(key)]
                if isinstance(v, (int, float)):
                    self.mult[i] = float(v)
                else:
                    t = torch.as_tensor(v, dtype=torch.float32).reshape(-1)
                    self.mult[i] = float(t[0]) if t.numel() == 1 else \
                        self._column(t).reshape(-1)
        self._member_mult = any(isinstance(m, Tensor) for m in self.mult)
        groups: dict = {}
        for i, m in enumerate(self.mult):                # parameters sharing one multiplier share a kernel call
            groups.setdefault(m if isinstance(m, float) else ("member", i), []).append(i)
        self._groups = list(groups.values())

        # -- state (same layout as ``flat``) --------------------------------------------------------------------
        z = lambda: torch.zeros_like(self.flat)  # noqa: E731
        self.buf = z() if kind == "momentum" or (kind == "rmsprop" and self._any(self.rms_momentum)) else None
        self.exp_avg = z() if kind == "adam" else None
        self.exp_avg_sq = z() if kind in ("rmsprop", "adam") else None
        self._views = {k: self._split(getattr(self, k)) for k in ("flat", "buf", "exp_avg", "exp_avg_sq")
                       if getattr(self, k) is not None}
        # member e's rows of every parameter / state block, made once (the per-member kernel calls use them)
        self._rows = {k: [v.unbind(0) for v in views] for k, views in self._views.items()}
        hp = [getattr(self, f"_{n}_list") for n in _HP]
        self._uniform = all(len(set(v)) == 1 for v in [self._lr_list, *hp]) and not self._member_mult

    # -- helpers ------------------------------------------------------------------------------------------------
    def _column(self, v) -> Tensor:
        t = torch.as_tensor(v, dtype=torch.float32).reshape(-1, 1)
        if t.shape[0] == 1:
            t = t.expand(self.E, 1)
        if t.shape[0] != self.E:
            raise ValueError(f"expected a scalar or {self.E} values, got {t.shape[0]}")
        return t.to(self.device).clone()

    def _floats(self, v) -> list[float]:
        t = torch.as_tensor(v, dtype=torch.float64).reshape(-1)
        if t.numel() == 1:
            return [float(t[0])] * self.E
        if t.numel() != self.E:
            raise ValueError(f"expected a scalar or {self.E} values, got {t.numel()}")
        return [float(x) for x in t.tolist()]

    def _coef(self, v):
        vals = self._floats(v)
        return vals[0] if len(set(vals)) == 1 else self._column(vals)

    @staticmethod
    def _any(v) -> bool:
        return bool((v != 0).any()) if isinstance(v, Tensor) else v != 0

    def _split(self, buf: Tensor) -> list[Tensor]:
        """The (E, n_i) block of every parameter in ``buf`` (a buffer laid out like ``flat``)."""
        return [buf[s].view(self.E, n) for s, n in zip(self.blocks, self.sizes)]

    def _grads(self) -> list[Tensor]:
        """Every parameter's gradient as (E, n_i) (zeros where ``grad`` is None)."""
        return [(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(self.E, n)
                for p, n in zip(self.params, self.sizes)]

    # -- API ------------------------------------------------------------------------------------------------------
    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def gather_grads(self) -> Tensor:
        """A copy of all gradients, member-major (E, P) (parameters concatenated in order; zeros for None)."""
        return torch.cat(self._grads(), dim=1)

    def freeze(self, mask: Tensor):
        """Stop the members where ``mask`` (E,) is True (cumulative, no host sync)."""
        mask = mask.reshape(self.E, 1).to(self.device)
        self.active &= ~mask
        # On the CPU a look at the mask costs nothing: keep the one-call path while no member is frozen.
        # On CUDA it would be a host sync per step, so there the per-member path (found_inf) always runs.
        if self.device.type != "cpu" or bool(mask.any()):
            self._any_frozen = True

    @property
    def frozen(self) -> Tensor:
        return ~self.active.reshape(-1)

    def member_grad_norms(self) -> Tensor:
        """Per-member L2 norm (E,) of the current gradients."""
        with torch.no_grad():
            return sum(g.float().pow(2).sum(1) for g in self._grads()).sqrt()

    @torch.no_grad()
    def step(self, lr_factor=1.0):
        """One update. ``lr_factor``: a schedule's multiplicative factor, float or per-member (E,) tensor."""
        self.t += 1
        self._step_t.fill_(float(self.t))
        grads = self._grads()
        scalar_factor = isinstance(lr_factor, (int, float))
        if self.kind == "rmsprop":
            return self._step_rmsprop(grads, lr_factor)
        if self._uniform and scalar_factor and not self._any_frozen and self.grad_clip is None:
            lr = self._lr_list[0] * float(lr_factor)
            for idx in self._groups:
                self._fused([self._views["flat"][i] for i in idx], [grads[i] for i in idx],
                            {k: [v[i] for i in idx] for k, v in self._views.items() if k != "flat"},
                            lr * self.mult[idx[0]], 0)
            return
        # per member: lr (E,) with the schedule and the multipliers, skip flags, clip scales (all on the device)
        lr = self.lr.reshape(-1)
        if not scalar_factor:
            lr = lr * torch.as_tensor(lr_factor, dtype=torch.float32, device=self.device).reshape(-1)
        elif lr_factor != 1.0:
            lr = lr * float(lr_factor)
        skip = (~self.active.reshape(-1)).to(torch.float32).unbind(0)
        inv_scale = None
        if self.grad_clip is not None:
            norm = sum(g.pow(2).sum(1, keepdim=True) for g in grads).sqrt()     # frozen rows: skipped anyway
            coef = torch.clamp(self.grad_clip / (norm + 1e-6), max=1.0)
            inv_scale = (1.0 / coef).reshape(-1).unbind(0)       # the kernel divides the gradient by it
        grad_rows = [g.unbind(0) for g in grads]
        for idx in self._groups:
            m = self.mult[idx[0]]
            lr_g = (lr * m).unbind(0) if isinstance(m, Tensor) or m != 1.0 else lr.unbind(0)
            for e in range(self.E):
                self._fused([self._rows["flat"][i][e] for i in idx], [grad_rows[i][e] for i in idx],
                            {k: [v[i][e] for i in idx] for k, v in self._rows.items() if k != "flat"},
                            lr_g[e], e, found_inf=skip[e], grad_scale=None if inv_scale is None else inv_scale[e])

    def _fused(self, params, grads, state, lr, e, found_inf=None, grad_scale=None):
        """PyTorch's fused kernel over one list of same-member-hyper-parameter tensors (member e's values)."""
        kw = dict(found_inf=found_inf, grad_scale=grad_scale)
        if self.kind in ("sgd", "momentum"):
            mu = self._momentum_list[e] if self.kind == "momentum" else 0.0
            torch._fused_sgd_(params, grads, state["buf"] if mu != 0.0 else [], weight_decay=0.0, momentum=mu, lr=lr,
                              dampening=0.0, nesterov=False, maximize=False, is_first_step=False, **kw)
        else:
            torch._fused_adam_(params, grads, state["exp_avg"], state["exp_avg_sq"], [], [self._step_t] * len(params),
                               lr=lr, beta1=self._beta1_list[e], beta2=self._beta2_list[e], weight_decay=0.0,
                               eps=self._eps_list[e], amsgrad=False, maximize=False, **kw)

    def _step_rmsprop(self, grads: list[Tensor], lr_factor):
        """RMSProp: per-parameter element-wise kernels with per-member (E, 1) columns."""
        lr = self.lr * self.active
        if isinstance(lr_factor, (int, float)):
            if lr_factor != 1.0:
                lr = lr * float(lr_factor)
        else:
            lr = lr * torch.as_tensor(lr_factor, dtype=torch.float32, device=self.device).reshape(-1, 1)
        if self._any_frozen:
            for g in grads:
                g.masked_fill_(~self.active, 0.0)        # frozen members: no gradient (it may be NaN) ...
        if self.grad_clip is not None:
            norm = sum(g.pow(2).sum(1, keepdim=True) for g in grads).sqrt()
            coef = torch.clamp(self.grad_clip / (norm + 1e-6), max=1.0)
            for g in grads:
                g.mul_(coef)
        a, mu, eps = self.alpha, self.rms_momentum, self.eps
        for i, (p, g, v) in enumerate(zip(self._views["flat"], grads, self._views["exp_avg_sq"])):
            m = self.mult[i]
            neg_lr = -(lr * m.reshape(-1, 1) if isinstance(m, Tensor) else lr * m)     # ... and no learning rate
            v.mul_(a)
            if isinstance(a, float):
                v.addcmul_(g, g, value=1.0 - a)
            else:
                v.addcmul_(g * g, 1.0 - a)
            avg = v.sqrt().add_(eps)
            if self.buf is not None:
                b = self._views["buf"][i]
                b.mul_(mu).addcdiv_(g, avg)
                p.addcmul_(b, neg_lr)
            else:
                p.addcmul_(torch.div(g, avg, out=avg), neg_lr)

    def state_dict(self) -> dict:
        """Step count, active mask and state buffers, member-major (E, P) like ``gather_grads``."""
        out = {"t": self.t, "active": self.active.clone()}
        for k in ("buf", "exp_avg", "exp_avg_sq"):
            if getattr(self, k) is not None:
                out[k] = torch.cat(self._views[k], dim=1)
        return out

    def load_state_dict(self, state: dict):
        self.t = int(state["t"])
        self.active.copy_(state["active"])
        self._any_frozen = not bool(self.active.all())
        for k in ("buf", "exp_avg", "exp_avg_sq"):
            if k in state:
                src = state[k].to(self.device).split(self.sizes, dim=1)
                for dst, s in zip(self._views[k], src):
                    dst.copy_(s)


def make_optimizer(params: Sequence[Tensor], members: Sequence[Member], *, lr_multipliers: dict | None = None,
                   grad_clip=None) -> BatchedOptimizer:
    """The batched optimizer for ``members`` (one optimizer kind per ensemble; sweep.py groups by it).

    Hyper-parameters come from the Member fields: ``lr``, ``momentum`` (momentum), ``beta2`` as RMSProp's alpha
    (spec.Member), ``beta1``/``beta2`` (Adam), ``eps``; RMSProp's momentum from ``member.extra["rms_momentum"]``
    (default 0, PyTorch's default).
    """
    kinds = {m.optimizer for m in members}
    if len(kinds) != 1:
        raise ValueError(f"one optimizer kind per ensemble, got {sorted(kinds)} (sweep.group_members splits by it)")
    col = lambda f: [f(m) for m in members]  # noqa: E731
    return BatchedOptimizer(params, kinds.pop(), col(lambda m: m.lr), momentum=col(lambda m: m.momentum),
                            alpha=col(lambda m: m.beta2), beta1=col(lambda m: m.beta1), beta2=col(lambda m: m.beta2),
                            eps=col(lambda m: m.eps), rms_momentum=col(lambda m: m.extra.get("rms_momentum", 0.0)),
                            lr_multipliers=lr_multipliers, grad_clip=grad_clip)
