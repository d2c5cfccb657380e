"""Engine: an ensemble equals separate ordinary PyTorch trainings; divergence masking; log steps; CSV columns; sweeps."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from isometry.data import Dataset
from isometry.engine import exponential_decay, log_steps, member_generators, train
from isometry.models import EnsembleMLP, EnsembleModel
from isometry.spec import RUN_COLUMNS, Member
from isometry.sweep import jobs_table, make_jobs, run_job

IN_SHAPE = (1, 4, 4)
N_TRAIN, N_TEST, K = 96, 40, 5



@pytest.fixture(scope="module")
def ds():
    g = torch.Generator().manual_seed(123)
    u8 = lambda n: torch.randint(0, 256, (n, *IN_SHAPE), dtype=torch.uint8, generator=g)  # noqa: E731
    return Dataset("mnist", "random", u8(N_TRAIN), torch.randint(0, K, (N_TRAIN,), generator=g),
                   u8(N_TEST), torch.randint(0, K, (N_TEST,), generator=g))


def reference_run(model_e, i, member, ds, *, steps, batch_size, optimizer, loss="cross_entropy", schedule=None,
                  clip=None, layer_lr=None):
    """Member i trained as an ordinary PyTorch network: nn.Sequential of nn.Linear + torch.optim.

    Returns the train-subset loss after every step (the engine's train_loss with eval_examples=None).
    """
    depth, nl = model_e.depth, model_e.nonlinearity
    act = {"tanh": nn.Tanh, "relu": nn.ReLU, "linear": nn.Identity}[nl]
    layers = []
    for l, w in enumerate(model_e.weights):
        lin = nn.Linear(w.shape[2], w.shape[1])
        with torch.no_grad():
            lin.weight.copy_(w[i])
            lin.bias.copy_(model_e.biases[l][i])
        layers += [lin] + ([act()] if l < depth else [])
    net = nn.Sequential(nn.Flatten(), *layers)
    groups = [{"params": list(net.parameters())}]
    if layer_lr is not None:      # {linear index: multiplier}
        lins = [m for m in net if isinstance(m, nn.Linear)]
        groups = [{"params": list(lin.parameters()), "lr": member.lr * layer_lr.get(j, 1.0)}
                  for j, lin in enumerate(lins)]
    opt = {"sgd": lambda: torch.optim.SGD(groups, lr=member.lr),
           "momentum": lambda: torch.optim.SGD(groups, lr=member.lr, momentum=member.momentum),
           "rmsprop": lambda: torch.optim.RMSprop(groups, lr=member.lr, alpha=member.beta2, eps=member.eps),
           "adam": lambda: torch.optim.Adam(groups, lr=member.lr, betas=(member.beta1, member.beta2),
                                            eps=member.eps)}[optimizer]()
    base = [g["lr"] for g in opt.param_groups]
    X, Y = ds.standardize(ds.train_x), ds.train_y
    lossf = (lambda o, y: F.cross_entropy(o, y)) if loss == "cross_entropy" else \
        (lambda o, y: F.mse_loss(o, F.one_hot(y, K).float()))
    data_gen = member_generators(member.seed)[1]
    per_epoch, k, epoch, perm = N_TRAIN // batch_size, N_TRAIN // batch_size, -1, None
    losses = [lossf(net(X), Y).item()]
    for step in range(steps):
        if k == per_epoch:
            perm, k, epoch = torch.randperm(N_TRAIN, generator=data_gen), 0, epoch + 1
        idx = perm[k * batch_size:(k + 1) * batch_size]
        k += 1
        if schedule is not None:
            for g, b in zip(opt.param_groups, base):
                g["lr"] = b * schedule(step, epoch)
        opt.zero_grad()
        lossf(net(X[idx]), Y[idx]).backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
        opt.step()
        with torch.no_grad():
            losses.append(lossf(net(X), Y).item())
    return np.array(losses)


def members_for(optimizer, n=3):
    lrs = {"sgd": [0.05, 0.1, 0.02], "momentum": [0.02, 0.05, 0.01], "rmsprop": [1e-3, 3e-3, 1e-4],
           "adam": [1e-3, 3e-3, 1e-4]}[optimizer]
    inits = ["gaussian", "orthogonal", "gaussian"]
    return [Member(f"{optimizer}{i}", init=inits[i], sigma_w2=[1.0, 1.5, 2.0][i], sigma_b2=[0.0, 0.05, 0.0][i],
                   lr=lrs[i], optimizer=optimizer, momentum=[0.9, 0.5, 0.8][i], beta2=[0.99, 0.999, 0.9][i],
                   seed=10 + i) for i in range(n)]


def engine_losses(df, run_id):
    return df[df.run_id == run_id].sort_values("step").train_loss.to_numpy()


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "rmsprop", "adam"])
def test_ensemble_equals_separate_pytorch_runs(ds, optimizer):
    steps, B = 12, 16
    members = members_for(optimizer)
    model = EnsembleMLP(3, IN_SHAPE, K, depth=3, width=12, nonlinearity="tanh")
    df = train(model, members, ds, steps=steps, batch_size=B, log_at=range(steps + 1), eval_examples=None,
               device="cpu", progress=False)
    ref_model = EnsembleMLP(3, IN_SHAPE, K, depth=3, width=12, nonlinearity="tanh")
    ref_model.reset_parameters(members, [member_generators(m.seed)[0] for m in members])
    for i, m in enumerate(members):
        ref = reference_run(ref_model, i, m, ds, steps=steps, batch_size=B, optimizer=optimizer)
        got = engine_losses(df, m.run_id)
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
        assert ref[-1] < ref[0]                        # it learned something


def test_mse_schedule_clip_layer_lr_equal_pytorch(ds):
    steps, B = 10, 16
    members = members_for("momentum", 2)
    sched = exponential_decay(0.8, per="epoch")
    model = EnsembleMLP(2, IN_SHAPE, K, depth=2, width=10, nonlinearity="relu")
    df = train(model, members, ds, steps=steps, batch_size=B, loss="mse", lr_schedule=sched, grad_clip=0.05,
               lr_multipliers={"weights.0": 2.0, "biases.0": 2.0}, log_at=range(steps + 1), eval_examples=None,
               device="cpu", progress=False)
    ref_model = EnsembleMLP(2, IN_SHAPE, K, depth=2, width=10, nonlinearity="relu")
    ref_model.reset_parameters(members, [member_generators(m.seed)[0] for m in members])
    for i, m in enumerate(members):
        ref = reference_run(ref_model, i, m, ds, steps=steps, batch_size=B, optimizer="momentum", loss="mse",
                            schedule=sched, clip=0.05, layer_lr={0: 2.0})
        np.testing.assert_allclose(engine_losses(df, m.run_id), ref, rtol=1e-5, atol=1e-6)


def test_member_init_independent_of_ensemble():
    members = members_for("sgd")
    gens = lambda ms: [member_generators(m.seed)[0] for m in ms]  # noqa: E731
    big = EnsembleMLP(3, IN_SHAPE, K, depth=2, width=8)
    big.reset_parameters(members, gens(members))
    alone = EnsembleMLP(1, IN_SHAPE, K, depth=2, width=8)
    alone.reset_parameters(members[2:], gens(members[2:]))
    for a, b in zip(alone.parameters(), big.parameters()):
        torch.testing.assert_close(a[0], b[2], rtol=0, atol=0)
    assert isinstance(big, EnsembleModel)


def test_diverged_member_frozen_others_unaffected(ds):
    steps, B = 10, 16
    members = members_for("sgd")
    bad = Member("bad", init="gaussian", sigma_w2=1.0, lr=1e30, optimizer="sgd", seed=99)
    mk = lambda E: EnsembleMLP(E, IN_SHAPE, K, depth=2, width=8, nonlinearity="relu")  # noqa: E731
    kw = dict(steps=steps, batch_size=B, log_at=range(steps + 1), device="cpu", progress=False)
    with_bad = train(mk(4), members[:2] + [bad] + members[2:], ds, **kw)
    without = train(mk(3), members, ds, **kw)
    for m in members:
        np.testing.assert_allclose(engine_losses(with_bad, m.run_id), engine_losses(without, m.run_id),
                                   rtol=1e-6, atol=1e-7)
        assert not with_bad[with_bad.run_id == m.run_id].diverged.any()
    rows = with_bad[with_bad.run_id == "bad"].sort_values("step")
    assert rows.diverged.iloc[-1] and not rows.diverged.iloc[0]
    first = rows.step[rows.diverged].min()
    assert rows[rows.step >= first].train_loss.isna().all()                  # NaN metrics from then on
    assert rows[rows.step >= first].diverged.all()
    assert np.isfinite(rows[rows.step < first].train_loss).all()


def test_log_steps_and_csv_columns(ds, tmp_path):
    s = log_steps(1000, 20)
    assert s[0] == 0 and s[-1] == 1000 and s == sorted(set(s))
    ratios = np.diff(np.log(s[2:]))
    assert ratios.max() < 3 * ratios.min() + 1e-9 or len(s) > 10            # roughly log-spaced
    assert 10 <= len(s) <= 22
    members = [Member(f"r{i}", seed=i, lr=0.01, extra={"gain": 1.0 + i}) for i in range(2)]
    df = train(EnsembleMLP(2, IN_SHAPE, K, depth=2, width=8), members, ds, steps=7, batch_size=32, n_log=4,
               paper="saxe2014", experiment="unit", device="cpu", progress=False)
    assert list(df.columns) == RUN_COLUMNS + ["gain"]
    assert set(df.step) >= {0, 7}
    assert len(df) == 2 * df.step.nunique()
    assert (df.dataset == "mnist (random)").all() and (df.paper == "saxe2014").all()
    assert (df.depth == 2).all() and (df.width == 8).all() and (df.nonlinearity == "tanh").all()
    from isometry.io import write_csv
    import pandas as pd
    assert list(pd.read_csv(write_csv(df, tmp_path / "run.csv")).columns) == RUN_COLUMNS + ["gain"]
    again = train(EnsembleMLP(2, IN_SHAPE, K, depth=2, width=8), members, ds, steps=7, batch_size=32, n_log=4,
                  paper="saxe2014", experiment="unit", device="cpu", progress=False)
    pd.testing.assert_frame_equal(df.drop(columns="wall_s"), again.drop(columns="wall_s"))  # reproducible


def test_shared_data_seed_and_init_hook(ds):
    members = members_for("sgd", 2)
    seen = {}

    def hook(model, ms):
        with torch.no_grad():
            model.weights[-1].zero_()                     # e.g. pre-trained / custom weights
            model.biases[-1].zero_()
        seen["n"] = len(ms)

    df = train(EnsembleMLP(2, IN_SHAPE, K, depth=2, width=8), members, ds, steps=3, batch_size=16, data_seed=5,
               init_hook=hook, device="cpu", progress=False)
    assert seen["n"] == 2
    assert np.allclose(df[df.step == 0].train_loss, math.log(K), rtol=1e-6)   # zero readout -> uniform logits


def test_sweep_grouping_deterministic(ds):
    rows = [dict(model="mlp", nonlinearity=nl, depth=d, width=8, optimizer="sgd", lr=lr, seed=s, init="gaussian",
                 gain_label=f"g{s}")
            for nl in ("tanh", "relu") for d in (2, 3) for lr in (0.01, 0.1) for s in range(3)]
    jobs = make_jobs(rows, max_ensemble=4)
    # 4 shape groups x 6 members -> chunks of 4 + 2
    assert len(jobs) == 8 and sorted(len(j.members) for j in jobs) == [2] * 4 + [4] * 4
    for j in jobs:
        assert len({(j.group["nonlinearity"], j.group["depth"])}) == 1
        assert all(m.extra == {"gain_label": f"g{m.seed}"} for m in j.members)
    again = make_jobs(list(reversed(rows))[::-1], max_ensemble=4)
    assert [j.job_id for j in jobs] == [j.job_id for j in again]
    assert len({j.job_id for j in jobs}) == len(jobs)
    assert jobs[0].job_id.startswith("mlp-")
    t = jobs_table(jobs)
    assert len(t) == len(rows) and t.run_id.is_unique
    # a job id depends only on its own content
    more = make_jobs(rows + [dict(model="mlp", nonlinearity="erf", depth=2, width=8, optimizer="sgd", lr=0.1,
                                  seed=0, init="gaussian")], max_ensemble=4)
    assert {j.job_id for j in jobs} <= {j.job_id for j in more}
    df = run_job(jobs[0], ds, steps=2, batch_size=16, device="cpu", progress=False)
    assert set(df.run_id) == set(jobs[0].run_ids) and "gain_label" in df.columns
