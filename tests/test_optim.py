"""Batched optimizers == torch.optim applied to each member separately (per-member hyper-parameters)."""

from __future__ import annotations

import pytest
import torch

from isometry.optim import BatchedOptimizer, make_optimizer
from isometry.spec import Member

E = 3
SHAPES = [(E, 4, 5), (E, 4), (E, 2, 4)]



def make_params(seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.nn.Parameter(torch.randn(s, generator=g)) for s in SHAPES]


def grads(t, seed=1):
    g = torch.Generator().manual_seed(seed * 1000 + t)
    return [torch.randn(s, generator=g) for s in SHAPES]


def torch_opt(kind, params, i, lr, hp):
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if kind == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=hp["momentum"][i])
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=hp["alpha"][i], eps=hp["eps"][i])
    return torch.optim.Adam(params, lr=lr, betas=(hp["beta1"][i], hp["beta2"][i]), eps=hp["eps"][i])


HP = {"momentum": [0.9, 0.5, 0.0], "alpha": [0.99, 0.9, 0.5], "beta1": [0.9, 0.8, 0.0],
      "beta2": [0.999, 0.99, 0.9], "eps": [1e-8, 1e-6, 1e-3]}
LR = [0.1, 0.01, 0.003]


@pytest.mark.parametrize("kind", ["sgd", "momentum", "rmsprop", "adam"])
@pytest.mark.parametrize("shared_hp", [False, True])
def test_matches_torch_optim(kind, shared_hp):
    hp = {k: ([v[0]] * E if shared_hp else v) for k, v in HP.items()}
    params = make_params()
    refs = [[torch.nn.Parameter(p[i].detach().clone()) for p in params] for i in range(E)]
    opt = BatchedOptimizer(params, kind, LR, **hp)
    ref_opts = [torch_opt(kind, refs[i], i, LR[i], hp) for i in range(E)]
    for t in range(6):
        g = grads(t)
        opt.zero_grad()
        for p, gi in zip(params, g):
            p.grad = gi.clone()
        opt.step()
        for i in range(E):
            for r, gi in zip(refs[i], g):
                r.grad = gi[i].clone()
            ref_opts[i].step()
    for i in range(E):
        for p, r in zip(params, refs[i]):
            torch.testing.assert_close(p[i], r.detach(), rtol=1e-5, atol=1e-6)


def test_freeze_clip_multipliers_and_flat_views():
    params = make_params()
    before = [p.detach().clone() for p in params]
    opt = BatchedOptimizer(params, "sgd", 0.1, grad_clip=1.0, lr_multipliers={0: 2.0, params[2]: [1.0, 0.0, 3.0]})
    assert all(p.data_ptr() >= opt.flat.data_ptr() for p in params)
    opt.freeze(torch.tensor([False, True, False]))
    g = grads(0)
    g[0][1] = float("nan")                                    # a frozen member's NaN must not matter
    for p, gi in zip(params, g):
        p.grad = gi.clone()
    norms = torch.sqrt(sum((gi[[0, 2]].reshape(2, -1) ** 2).sum(1) for gi in g))
    opt.step()
    assert torch.equal(params[0][1], before[0][1])              # frozen: untouched
    for i, k in ((0, 0), (2, 1)):
        scale = min(1.0, 1.0 / (norms[k].item() + 1e-6))
        mult = [2.0, 1.0, [1.0, 0.0, 3.0][i]]
        for j, p in enumerate(params):
            torch.testing.assert_close(p[i], before[j][i] - 0.1 * mult[j] * scale * g[j][i], rtol=1e-5, atol=1e-6)
    assert opt.frozen.tolist() == [False, True, False]


def test_make_optimizer_from_members_and_errors():
    params = make_params()
    ms = [Member(f"r{i}", lr=LR[i], optimizer="adam", seed=i) for i in range(E)]
    opt = make_optimizer(params, ms)
    assert opt.kind == "adam" and opt.lr.view(-1).tolist() == pytest.approx(LR)
    with pytest.raises(ValueError):
        make_optimizer(make_params(), ms[:2] + [Member("x", optimizer="sgd")])
    with pytest.raises(ValueError):
        BatchedOptimizer(make_params(), "lbfgs", 0.1)


@pytest.mark.parametrize("kind", ["sgd", "momentum", "rmsprop", "adam"])
def test_per_member_path_clip_freeze_schedule_multipliers(kind):
    """The per-member kernel path (member-specific lr factor, a frozen member with NaN gradients, clipping, per-
    parameter and per-member lr multipliers) equals torch.optim + clip_grad_norm_ run on each member separately."""
    params = make_params()
    refs = [[torch.nn.Parameter(p[i].detach().clone()) for p in params] for i in range(E)]
    mult = [2.0, 1.0, torch.tensor([1.0, 0.5, 3.0])]
    opt = BatchedOptimizer(params, kind, LR, **HP, grad_clip=0.3, lr_multipliers={0: mult[0], 2: mult[2]})
    ref_opts = []
    for i in range(E):
        groups = [{"params": [r], "lr": LR[i] * float(m[i] if torch.is_tensor(m) else m)} for r, m in zip(refs[i], mult)]
        ref_opts.append(torch_opt(kind, groups, i, LR[i], HP))
    base = [[g["lr"] for g in o.param_groups] for o in ref_opts]
    for t in range(5):
        factor = torch.tensor([0.9 ** t, 1.0, 0.5])
        g = grads(t)
        if t >= 2:
            g[1][1] = float("nan")                            # member 1 diverges at step 3 ...
        opt.zero_grad()
        for p, gi in zip(params, g):
            p.grad = gi.clone()
        if t == 2:
            opt.freeze(torch.tensor([False, True, False]))     # ... and is frozen before its update
        opt.step(factor)
        for i in range(E):
            if i == 1 and t >= 2:
                continue
            for r, gi in zip(refs[i], g):
                r.grad = gi[i].clone()
            torch.nn.utils.clip_grad_norm_(refs[i], 0.3)
            for grp, b in zip(ref_opts[i].param_groups, base[i]):
                grp["lr"] = b * float(factor[i])
            ref_opts[i].step()
    for i in range(E):
        for p, r in zip(params, refs[i]):
            assert torch.isfinite(p[i]).all()
            torch.testing.assert_close(p[i], r.detach(), rtol=1e-5, atol=1e-6)
    state = opt.state_dict()
    again = BatchedOptimizer(make_params(), kind, LR, **HP, grad_clip=0.3, lr_multipliers={0: mult[0], 2: mult[2]})
    again.load_state_dict(state)
    for k, v in again.state_dict().items():
        assert torch.equal(v, state[k]) if torch.is_tensor(v) else v == state[k]
