"""Batched optimizers over stacked ensemble parameters: SGD, momentum, RMSProp, Adam (PyTorch semantics).

Every parameter has the ensemble dimension E first. ``BatchedOptimizer`` copies all parameters into ONE flat fp32
buffer of shape (E, P) and re-points each parameter (``p.data``) at a view of it; ``step()`` gathers the gradients
(the fresh tensors autograd leaves in ``p.grad``; ``zero_grad`` sets them to None) into one flat (E, P) gradient
buffer with a single ``torch.cat``. One optimizer step is thus a handful of element-wise kernels over (E, P),
whatever the number of layers; per-member
learning rates and hyper-parameters are (E, 1) columns broadcast over the row (Python floats when all members
agree). Consequences: create the optimizer AFTER moving the model to its device, and change parameters only in
place afterwards (``with torch.no_grad(): p.copy_(...)``).

Update rules (t = step count, g = gradient, identical to ``torch.optim`` with default dampening/nesterov/centered/
amsgrad/maximize/weight_decay off):

* ``sgd``       p -= lr * g
* ``momentum``  b = mu * b + g;  p -= lr * b                          (torch.optim.SGD(momentum=mu))
* ``rmsprop``   v = a * v + (1 - a) g^2;  p -= lr * g / (sqrt(v) + eps)   (torch.optim.RMSprop(alpha=a);
                with ``rms_momentum`` mu > 0: b = mu * b + g / (sqrt(v) + eps); p -= lr * b)
* ``adam``      m = lerp(m, g, 1 - b1); v = b2 v + (1 - b2) g^2;
                p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)

``freeze(mask)`` stops members for good: their gradients are zeroed and their learning rate is 0, so their
parameters keep the values they had (NaN-free members are never touched by a frozen one: members do not interact).
``grad_clip`` clips each member's gradient to that global L2 norm (over all its parameters), like
``torch.nn.utils.clip_grad_norm_`` applied to each member separately. ``lr_multipliers`` scales the learning rate
of individual parameters (float or per-member (E,) tensor), like per-layer param groups in torch.optim.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import torch
from torch import Tensor

from isometry.spec import OPTIMIZERS, Member

# Parameters are (E, ...) views into the flat buffer, not dense tensors of their own: autograd warns (harmlessly)
# that grad and param "do not obey the gradient layout contract".
warnings.filterwarnings("ignore", message=".*gradient layout contract.*")


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
        if any(p.shape[0] != self.E for p in self.params):
            raise ValueError("every parameter must have the ensemble size E as dim 0")

        # -- one flat (E, P) fp32 buffer for the parameters and one for their gradients -------------------------
        sizes = [p[0].numel() for p in self.params]
        with torch.no_grad():
            self.flat = torch.cat([p.detach().reshape(self.E, -1).float() for p in self.params], 1).contiguous()
        self.flat_grad = torch.zeros_like(self.flat)
        self.slices, off = [], 0
        for p, n in zip(self.params, sizes):
            p.data = self.flat[:, off:off + n].view(p.shape)
            p.grad = None
            self.slices.append(slice(off, off + n))
            off += n

        # -- per-member hyper-parameters: float if all members agree, else an (E, 1) column ---------------------
        self.lr = self._column(lr)                       # always a column: the frozen mask multiplies it
        self.momentum, self.alpha, self.eps = self._coef(momentum), self._coef(alpha), self._coef(eps)
        self.beta1, self.beta2, self.rms_momentum = self._coef(beta1), self._coef(beta2), self._coef(rms_momentum)
        self.grad_clip = None if grad_clip is None else self._coef(grad_clip)
        self.active = torch.ones(self.E, 1, dtype=torch.bool, device=self.device)
        self._any_frozen = False
        self.t = 0

        # per-parameter learning-rate multipliers -> one (1 or E, P) tensor, or None when all are 1
        self.mult = None
        if lr_multipliers:
            index = {id(p): i for i, p in enumerate(self.params)}
            rows = self.E if any(isinstance(v, Tensor) or isinstance(v, (list, tuple))
                                 for v in lr_multipliers.values()) else 1
            self.mult = torch.ones(rows, self.flat.shape[1], device=self.device)
            for key, v in lr_multipliers.items():
                i = key if isinstance(key, int) else index[id(key)]
                v = torch.as_tensor(v, dtype=torch.float32, device=self.device).reshape(-1, 1)
                self.mult[:, self.slices[i]] = v

        # -- state ------------------------------------------------------------------------------------------------
        z = lambda: torch.zeros_like(self.flat)  # noqa: E731
        self.buf = z() if kind == "momentum" or (kind == "rmsprop" and self._any(self.rms_momentum)) else None
        self.exp_avg = z() if kind == "adam" else None
        self.exp_avg_sq = z() if kind in ("rmsprop", "adam") else None

    # -- helpers ------------------------------------------------------------------------------------------------
    def _column(self, v) -> Tensor:
        t = torch.as_tensor(v, dtype=torch.float32).reshape(-1, 1)
        if t.shape[0] == 1:
            t = t.expand(self.E, 1)
        if t.shape[0] != self.E:
            raise ValueError(f"expected a scalar or {self.E} values, got {t.shape[0]}")
        return t.to(self.device).clone()

    def _coef(self, v):
        if isinstance(v, (int, float)):
            return float(v)
        t = torch.as_tensor(v, dtype=torch.float64).reshape(-1)
        if t.numel() == 1 or bool((t == t[0]).all()):
            return float(t[0])
        return self._column(t)

    @staticmethod
    def _any(v) -> bool:
        return bool((v != 0).any()) if isinstance(v, Tensor) else v != 0

    # -- API ------------------------------------------------------------------------------------------------------
    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def gather_grads(self) -> Tensor:
        """Copy the parameters' gradients into ``flat_grad`` (E, P) (zeros where a gradient is None)."""
        grads = [(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(self.E, -1) for p in self.params]
        return torch.cat(grads, dim=1, out=self.flat_grad)

    def freeze(self, mask: Tensor):
        """Stop the members where ``mask`` (E,) is True (cumulative, no host sync)."""
        mask = mask.reshape(self.E, 1).to(self.device)
        self.active &= ~mask
        # On the CPU a look at the mask costs nothing: skip step()'s gradient masking while no member is frozen.
        # On CUDA it would be a host sync per step, so there the masking always runs.
        if self.device.type != "cpu" or bool(mask.any()):
            self._any_frozen = True

    @property
    def frozen(self) -> Tensor:
        return ~self.active.reshape(-1)

    def member_grad_norms(self) -> Tensor:
        """Per-member L2 norm (E,) of the current gradients."""
        return torch.linalg.vector_norm(self.gather_grads(), dim=1)

    @torch.no_grad()
    def step(self, lr_factor=1.0):
        """One update. ``lr_factor``: a schedule's multiplicative factor, float or per-member (E,) tensor."""
        self.t += 1
        g, p = self.gather_grads(), self.flat
        if self._any_frozen:
            g.masked_fill_(~self.active, 0.0)            # frozen members: no gradient ...
        lr = self.lr * self.active                        # ... and no learning rate
        if isinstance(lr_factor, (int, float)):
            if lr_factor != 1.0:
                lr = lr * float(lr_factor)
        else:
            lr = lr * torch.as_tensor(lr_factor, dtype=torch.float32, device=self.device).reshape(-1, 1)
        if self.grad_clip is not None:
            norm = torch.linalg.vector_norm(g, dim=1, keepdim=True)
            g.mul_(torch.clamp(self.grad_clip / (norm + 1e-6), max=1.0))
        neg_lr = -lr if self.mult is None else -(lr * self.mult)

        kind = self.kind
        if kind == "sgd":
            p.addcmul_(g, neg_lr)
        elif kind == "momentum":
            self.buf.mul_(self.momentum).add_(g)
            p.addcmul_(self.buf, neg_lr)
        elif kind == "rmsprop":
            v, a = self.exp_avg_sq, self.alpha
            v.mul_(a)
            if isinstance(a, float):
                v.addcmul_(g, g, value=1.0 - a)
            else:
                v.addcmul_(g * g, 1.0 - a)
            avg = v.sqrt().add_(self.eps)
            if self.buf is not None:
                self.buf.mul_(self.rms_momentum).addcdiv_(g, avg)
                p.addcmul_(self.buf, neg_lr)
            else:
                p.addcmul_(g.div_(avg), neg_lr)        # flat_grad is refilled by the next step
        elif kind == "adam":
            m, v, b1, b2 = self.exp_avg, self.exp_avg_sq, self.beta1, self.beta2
            m.lerp_(g, 1.0 - b1)
            v.mul_(b2)
            if isinstance(b2, float):
                v.addcmul_(g, g, value=1.0 - b2)
            else:
                v.addcmul_(g * g, 1.0 - b2)
            bc1 = 1.0 - b1 ** self.t
            bc2_sqrt = (1.0 - b2 ** self.t) ** 0.5
            denom = (v.sqrt() / bc2_sqrt).add_(self.eps)
            p.addcmul_(torch.div(m, denom, out=denom), neg_lr / bc1)

    def state_dict(self) -> dict:
        return {"t": self.t, "active": self.active.clone(),
                **{k: getattr(self, k).clone() for k in ("buf", "exp_avg", "exp_avg_sq") if getattr(self, k) is not None}}

    def load_state_dict(self, state: dict):
        self.t = int(state["t"])
        self.active.copy_(state["active"])
        self._any_frozen = not bool(self.active.all())
        for k in ("buf", "exp_avg", "exp_avg_sq"):
            if k in state:
                getattr(self, k).copy_(state[k])


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
